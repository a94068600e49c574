#pragma once
/// @file box_muller.hpp
/// @brief The Box–Muller transform with mrsolve's own branch-free logarithm and sine/cosine of a
/// fraction of a turn, so that a loop of transforms vectorises (GCC and Clang do not vectorise calls
/// to the C math library's log, sin and cos without -ffast-math).
///
/// The functions are plain arithmetic (integer bit manipulation, +, −, ×, ÷, √ and comparisons) with
/// fixed evaluation order, so a scalar call and a vectorised loop give the same bits, and the values
/// do not depend on the math library. Accuracy (measured over every float input, and over 10⁷ random
/// double inputs, against a higher-precision reference; tests/test_noise.cpp asserts the bounds):
///  - neg2_log(u) = −2 ln u: float ≤ 1 ulp, double ≤ 1 ulp;
///  - sincos_turns(u) = (cos 2πu, sin 2πu): float ≤ 1 ulp, double ≤ 1 ulp;
///  - box_muller: float ≤ 2 ulp, double ≤ 2 ulp, of each output of R·cos θ and R·sin θ.
/// (Floating-point contraction, e.g. FMA under -march=native with GCC's default -ffp-contract=fast,
/// changes results by an ulp or so; the SIMD kernels of detail/simd_kernels.hpp, which compute the
/// normals on x86-64 hosts, are compiled without it, so there every build gives the same bits.)

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../detail/host_device.hpp"

// Vector lanes (GCC/Clang vector extensions) for the SIMD kernels of x86 hosts (detail/simd.hpp); not
// under a CUDA compiler, whose host pass need not know them.
#if !defined(MRSOLVE_DETAIL_VECTOR_LANES)
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__)
/// 1 where GCC/Clang vector extensions are available to mrsolve's lane functions (internal).
#define MRSOLVE_DETAIL_VECTOR_LANES 1
#else
/// 0: scalar lanes only (internal).
#define MRSOLVE_DETAIL_VECTOR_LANES 0
#endif
#endif
// A bit cast of vector lanes: the builtin, because std::bit_cast would be a function compiled without
// the instruction set of the vectors it is called with (a different calling convention).
#if MRSOLVE_DETAIL_VECTOR_LANES
/// The bits of `value` as a `To` (internal; the builtin, for vector lanes).
#define MRSOLVE_DETAIL_LANES_BIT_CAST(To, value) __builtin_bit_cast(To, value)
#else
/// The bits of `value` as a `To` (internal).
#define MRSOLVE_DETAIL_LANES_BIT_CAST(To, value) std::bit_cast<To>(value)
#endif

namespace mrsolve::detail {

/// @brief The unsigned integer of the same width as the floating-point type T.
/// @tparam T float or double
template <std::floating_point T>
using float_bits_t = std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>;

/// @brief The bit pattern of a float or double.
/// @tparam T float or double @param v the value @return its IEEE-754 bits
template <std::floating_point T>
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr float_bits_t<T> bits_of(T v) noexcept {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double");
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(T) == 4) return static_cast<std::uint32_t>(__float_as_uint(v));
    else return static_cast<std::uint64_t>(__double_as_longlong(v));
#else
    return std::bit_cast<float_bits_t<T>>(v);
#endif
}

/// @brief The float or double with the given bit pattern.
/// @tparam T float or double @param b IEEE-754 bits @return the value
template <std::floating_point T>
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr T from_bits(float_bits_t<T> b) noexcept {
    static_assert(sizeof(T) == 4 || sizeof(T) == 8, "float or double");
#if defined(__CUDA_ARCH__)
    if constexpr (sizeof(T) == 4) return __uint_as_float(static_cast<unsigned>(b));
    else return __longlong_as_double(static_cast<long long>(b));
#else
    return std::bit_cast<T>(b);
#endif
}

/// @brief Constants of the elementary functions below, for float and double.
///
/// The polynomial coefficients (log_series, sin_series, cos_series in box_muller_lanes.inc) are Taylor
/// coefficients correctly rounded to T (computed in 200-bit arithmetic): the intervals are small
/// enough that the truncation error is far below half an ulp (float: < 2⁻²⁸ relative; double: < 2⁻⁵⁸).
/// @tparam T float or double
template <std::floating_point T>
struct box_muller_constants;

/// @brief float constants (see box_muller_constants).
template <>
struct box_muller_constants<float> {
    /// Bits of √2/2 rounded to float: the lower end of the reduced mantissa range [√2/2, √2).
    static constexpr std::uint32_t half_sqrt2_bits = 0x3f3504f3u;
    static constexpr std::uint32_t one_bits = 0x3f800000u;  ///< bits of 1.0f
    static constexpr int mantissa_bits = 23;                 ///< explicit mantissa bits
    static constexpr std::uint32_t mantissa_mask = 0x007fffffu;
    static constexpr std::uint32_t exponent_bias = 127;
    /// 2^23 as a float whose low mantissa bits take a small integer: bits(2^23) | k is 2^23 + k.
    static constexpr std::uint32_t int_magic_bits = 0x4b000000u;
    static constexpr float int_magic = 0x1p23f;
    /// Adding and subtracting 1.5·2^23 rounds a float of magnitude < 2^22 to the nearest integer.
    static constexpr float round_magic = 0x1.8p23f;
    /// ln 2 = ln2_hi + ln2_lo; ln2_hi has 16 significant bits, so k·ln2_hi is exact for |k| < 2^8.
    static constexpr float ln2_hi = 0x1.62e4p-1f;
    static constexpr float ln2_lo = 0x1.7f7d1cp-20f;
    /// 2π = two_pi_hi + two_pi_lo (two_pi_hi is 2π rounded to float).
    static constexpr float two_pi_hi = 0x1.921fb6p+2f;
    static constexpr float two_pi_lo = -0x1.777a5cp-23f;
    /// (2π)²/2, the second Taylor coefficient of cos 2πr (negated).
    static constexpr float half_two_pi_sq = 0x1.3bd3ccp+4f;
};

/// @brief double constants (see box_muller_constants).
template <>
struct box_muller_constants<double> {
    /// Bits of √2/2 rounded to double: the lower end of the reduced mantissa range [√2/2, √2).
    static constexpr std::uint64_t half_sqrt2_bits = 0x3fe6a09e667f3bcdull;
    static constexpr std::uint64_t one_bits = 0x3ff0000000000000ull;  ///< bits of 1.0
    static constexpr int mantissa_bits = 52;                           ///< explicit mantissa bits
    static constexpr std::uint64_t mantissa_mask = 0x000fffffffffffffull;
    static constexpr std::uint64_t exponent_bias = 1023;
    /// 2^52 as a double whose low mantissa bits take a small integer: bits(2^52) | k is 2^52 + k.
    static constexpr std::uint64_t int_magic_bits = 0x4330000000000000ull;
    static constexpr double int_magic = 0x1p52;
    /// Adding and subtracting 1.5·2^52 rounds a double of magnitude < 2^51 to the nearest integer.
    static constexpr double round_magic = 0x1.8p52;
    /// ln 2 = ln2_hi + ln2_lo; ln2_hi has 42 significant bits, so k·ln2_hi is exact for |k| < 2^11.
    static constexpr double ln2_hi = 0x1.62e42fefa38p-1;
    static constexpr double ln2_lo = 0x1.ef35793c7673p-45;
    /// 2π = two_pi_hi + two_pi_lo (two_pi_hi is 2π rounded to double).
    static constexpr double two_pi_hi = 0x1.921fb54442d18p+2;
    static constexpr double two_pi_lo = 0x1.1a62633145c07p-52;
    /// (2π)²/2, the second Taylor coefficient of cos 2πr (negated).
    static constexpr double half_two_pi_sq = 0x1.3bd3cc9be45dep+4;
};

/// @brief The lane type of V: V itself for a float or double, the element type of a vector.
/// @tparam V a scalar or a GCC/Clang vector type
template <class V>
struct lane_of {
    using type = V;  ///< the scalar
};
/// @brief The lane type of a vector (see lane_of).
template <class V>
    requires(!std::is_arithmetic_v<V>)
struct lane_of<V> {
    using type = std::remove_cvref_t<decltype(std::declval<V&>()[0])>;  ///< the vector's element type
};
/// @brief The lane type of V (see lane_of).
template <class V>
using lane_t = typename lane_of<V>::type;

/// @brief Scalars of `Width` bytes: (unsigned integer, signed integer, floating-point).
template <std::size_t Width>
struct lane_kinds;
/// @brief 32-bit lanes.
template <>
struct lane_kinds<4> {
    using uint = std::uint32_t;  ///< unsigned
    using sint = std::int32_t;   ///< signed
    using real = float;          ///< floating-point
};
/// @brief 64-bit lanes.
template <>
struct lane_kinds<8> {
    using uint = std::uint64_t;  ///< unsigned
    using sint = std::int64_t;   ///< signed
    using real = double;         ///< floating-point
};

#if MRSOLVE_DETAIL_VECTOR_LANES
/// @brief The GCC/Clang vector of `Bytes` bytes with lanes of type L.
template <class L, std::size_t Bytes>
struct lane_vector {
    typedef L type __attribute__((vector_size(Bytes)));  ///< the vector type
};
#endif

/// @brief The same shape as V with lanes of kind K (K = uint, sint or real of V's lane width).
template <class V, template <class> class Kind>
struct relane {
    using type = Kind<lane_kinds<sizeof(V)>>;  ///< the scalar
};
#if MRSOLVE_DETAIL_VECTOR_LANES
/// @brief The vector of the same size as V with lanes of the chosen kind.
template <class V, template <class> class Kind>
    requires(!std::is_arithmetic_v<V>)
struct relane<V, Kind> {
    using type = typename lane_vector<Kind<lane_kinds<sizeof(lane_t<V>)>>, sizeof(V)>::type;  ///< the vector
};
#endif
/// @brief Selects the unsigned lane kind.
template <class K>
using uint_kind = typename K::uint;
/// @brief Selects the signed lane kind.
template <class K>
using sint_kind = typename K::sint;
/// @brief Selects the floating-point lane kind.
template <class K>
using real_kind = typename K::real;
/// @brief V with unsigned integer lanes of the same width.
template <class V>
using lanes_uint_t = typename relane<V, uint_kind>::type;
/// @brief V with signed integer lanes of the same width.
template <class V>
using lanes_int_t = typename relane<V, sint_kind>::type;
/// @brief V with floating-point lanes of the same width.
template <class V>
using lanes_float_t = typename relane<V, real_kind>::type;

#include "box_muller_lanes.inc"

}  // namespace mrsolve::detail
