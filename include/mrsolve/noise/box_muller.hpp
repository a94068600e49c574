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
/// changes results by an ulp or so; within one build every call still gives the same bits.)

#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../detail/host_device.hpp"

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

/// @brief Horner evaluation c₀ + z·(c₁ + z·(… + z·c_{N−1})), innermost first (coefficients passed
/// by value, so the function needs no constant arrays and runs on a GPU as well).
/// @tparam T float or double
/// @param z the variable @param c0 the constant coefficient @param rest the higher coefficients
/// @return the polynomial's value
template <std::floating_point T, std::same_as<T>... C>
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr T horner(T z, T c0, C... rest) noexcept {
    if constexpr (sizeof...(rest) == 0) {
        (void)z;
        return c0;
    } else {
        return horner(z, rest...) * z + c0;
    }
}

/// @brief Constants of the elementary functions below, for float and double.
///
/// Polynomial coefficients are Taylor coefficients correctly rounded to T (computed in 200-bit
/// arithmetic): the intervals are small enough that the truncation error is far below half an ulp
/// (float: < 2⁻²⁸ relative; double: < 2⁻⁵⁸ relative).
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
    /// log1p(f) = 2 atanh(s), s = f/(2 + f), = 2s + s·z·P(z) with z = s² and
    /// P(z) = Σ_{j≥1} 2 z^{j−1}/(2j + 1) (4 terms).
    /// @param z s² @return P(z)
    [[nodiscard]] MRSOLVE_HOST_DEVICE static constexpr float log_series(float z) noexcept {
        return horner(z, 0x1.555556p-1f, 0x1.99999ap-2f, 0x1.24924ap-2f, 0x1.c71c72p-3f);
    }
    /// 2π = two_pi_hi + two_pi_lo (two_pi_hi is 2π rounded to float).
    static constexpr float two_pi_hi = 0x1.921fb6p+2f;
    static constexpr float two_pi_lo = -0x1.777a5cp-23f;
    /// sin(2πr) = r·(2π + z·S(z)) with z = r², S(z) = Σ_{j≥1} (−1)^j (2π)^{2j+1} z^{j−1}/(2j + 1)!,
    /// for |r| ≤ 1/8 (4 terms).
    /// @param z r² @return S(z)
    [[nodiscard]] MRSOLVE_HOST_DEVICE static constexpr float sin_series(float z) noexcept {
        return horner(z, -0x1.4abbcep+5f, 0x1.466bc6p+6f, -0x1.32d2ccp+6f, 0x1.507834p+5f);
    }
    /// (2π)²/2, the second Taylor coefficient of cos 2πr (negated).
    static constexpr float half_two_pi_sq = 0x1.3bd3ccp+4f;
    /// cos(2πr) = 1 − half_two_pi_sq·z + z²·C(z) with z = r², C(z) = Σ_{j≥2} (−1)^j (2π)^{2j} z^{j−2}/(2j)!,
    /// for |r| ≤ 1/8 (4 terms).
    /// @param z r² @return C(z)
    [[nodiscard]] MRSOLVE_HOST_DEVICE static constexpr float cos_series(float z) noexcept {
        return horner(z, 0x1.03c1f0p+6f, -0x1.55d3c8p+6f, 0x1.e1f506p+5f, -0x1.a6d1f2p+4f);
    }
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
    /// log1p(f) = 2s + s·z·P(z), z = s², P(z) = Σ_{j≥1} 2 z^{j−1}/(2j + 1) (11 terms).
    /// @param z s² @return P(z)
    [[nodiscard]] MRSOLVE_HOST_DEVICE static constexpr double log_series(double z) noexcept {
        return horner(z, 0x1.5555555555555p-1, 0x1.999999999999ap-2, 0x1.2492492492492p-2,
                      0x1.c71c71c71c71cp-3, 0x1.745d1745d1746p-3, 0x1.3b13b13b13b14p-3, 0x1.1111111111111p-3,
                      0x1.e1e1e1e1e1e1ep-4, 0x1.af286bca1af28p-4, 0x1.8618618618618p-4, 0x1.642c8590b2164p-4);
    }
    /// 2π = two_pi_hi + two_pi_lo (two_pi_hi is 2π rounded to double).
    static constexpr double two_pi_hi = 0x1.921fb54442d18p+2;
    static constexpr double two_pi_lo = 0x1.1a62633145c07p-52;
    /// sin(2πr) = r·(2π + z·S(z)) for |r| ≤ 1/8 (S: 8 terms; see the float version).
    /// @param z r² @return S(z)
    [[nodiscard]] MRSOLVE_HOST_DEVICE static constexpr double sin_series(double z) noexcept {
        return horner(z, -0x1.4abbce625be53p+5, 0x1.466bc6775aae2p+6, -0x1.32d2cce62bd86p+6,
                      0x1.50783487ee782p+5, -0x1.e3074fde8871fp+3, 0x1.e8f434d018d63p+1, -0x1.6fadb9f155744p-1,
                      0x1.aaec32af93359p-4);
    }
    /// (2π)²/2, the second Taylor coefficient of cos 2πr (negated).
    static constexpr double half_two_pi_sq = 0x1.3bd3cc9be45dep+4;
    /// cos(2πr) = 1 − half_two_pi_sq·z + z²·C(z) for |r| ≤ 1/8 (C: 7 terms; see the float version).
    /// @param z r² @return C(z)
    [[nodiscard]] MRSOLVE_HOST_DEVICE static constexpr double cos_series(double z) noexcept {
        return horner(z, 0x1.03c1f081b5ac4p+6, -0x1.55d3c7e3cbffap+6, 0x1.e1f506891babbp+5, -0x1.a6d1f2a204a8cp+4,
                      0x1.f9d38a3763cc3p+2, -0x1.b6e24f44b128fp+0, 0x1.20c62c2f2d7f5p-2);
    }
};

/// @brief −2 ln u, for a normal (not subnormal) u in (0, 1]; branch-free.
///
/// u = 2^k·m with m ∈ [√2/2, √2) (integer operations on the bits), f = m − 1 (exact),
/// s = f/(2 + f), ln m = log1p(f) = f − f²/2 + s·(f²/2 + R) with R = s²·P(s²) (the series P of
/// box_muller_constants::log_series), and ln u = k·ln2_hi + (ln m + k·ln2_lo), summed small terms first.
/// @tparam T float or double
/// @param u the argument, in [smallest normal, 1]
/// @return −2 ln u ≥ 0 (exactly 0 for u = 1)
template <std::floating_point T>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline T neg2_log(T u) noexcept {
    using K = box_muller_constants<T>;
    using B = float_bits_t<T>;
    // Adding (one − √2/2) to the bits carries into the exponent exactly when the mantissa of u is at
    // least that of √2/2: the exponent field then holds k + bias, and the mantissa bits plus those of
    // √2/2 rebuild m = u / 2^k in [√2/2, √2).
    const B shifted = bits_of(u) + (K::one_bits - K::half_sqrt2_bits);
    const B exponent = shifted >> K::mantissa_bits;  // k + bias, with k ≤ 0
    // k as a T without an integer conversion: bits(2^p) | (k + bias) is exactly 2^p + k + bias.
    const T k = from_bits<T>(K::int_magic_bits | exponent) - (K::int_magic + static_cast<T>(K::exponent_bias));
    const T m = from_bits<T>((shifted & K::mantissa_mask) + K::half_sqrt2_bits);
    const T f = m - T(1);
    const T s = f / (T(2) + f);
    const T z = s * s;
    const T r = z * K::log_series(z);
    const T half_f2 = T(0.5) * f * f;
    // ln u = k·ln2_hi + (f − (f²/2 − (s·(f²/2 + R) + k·ln2_lo))): the large terms are added last.
    const T log_u = k * K::ln2_hi - ((half_f2 - (s * (half_f2 + r) + k * K::ln2_lo)) - f);
    return T(-2) * log_u;
}

/// @brief The pair (cos 2πu, sin 2πu).
/// @tparam T float or double
template <std::floating_point T>
struct cos_sin {
    T cos;  ///< cos 2πu
    T sin;  ///< sin 2πu
};

/// @brief cos 2πu and sin 2πu for u in [0, 1) (a fraction of a turn); branch-free.
///
/// The reduction is exact: q = nearest integer to 4u, r = u − q/4 (exact, |r| ≤ 1/8), then
/// sin 2πr and cos 2πr by their Taylor polynomials in r (box_muller_constants) and the quadrant q
/// mod 4 swaps and negates them. Unlike cos(fl(2π·u)), no rounding of the angle is involved.
/// @tparam T float or double
/// @param u the fraction of a turn, in [0, 1)
/// @return (cos 2πu, sin 2πu)
template <std::floating_point T>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline cos_sin<T> sincos_turns(T u) noexcept {
    using K = box_muller_constants<T>;
    const T q = (T(4) * u + K::round_magic) - K::round_magic;  // 0, 1, 2, 3 or 4
    const T r = u - T(0.25) * q;
    const T z = r * r;
    // r·2π_hi carries the one large rounding; the rest is a small correction.
    const T s = r * K::two_pi_hi + r * (K::two_pi_lo + z * K::sin_series(z));
    // 1 − h rounds; (1 − w) − h recovers that rounding error exactly (h ≤ 0.31), so the sum is
    // rounded essentially once.
    const T h = K::half_two_pi_sq * z;
    const T w = T(1) - h;
    const T c = w + (((T(1) - w) - h) + z * (z * K::cos_series(z)));
    // Quadrant q: (cos, sin) = (c, s), (−s, c), (−c, −s), (s, −c); q = 4 is quadrant 0.
    const bool swap = (q == T(1)) | (q == T(3));
    const bool neg_cos = (q == T(1)) | (q == T(2));
    const bool neg_sin = (q == T(2)) | (q == T(3));
    const T cos_part = swap ? s : c;
    const T sin_part = swap ? c : s;
    return {neg_cos ? -cos_part : cos_part, neg_sin ? -sin_part : sin_part};
}

}  // namespace mrsolve::detail
