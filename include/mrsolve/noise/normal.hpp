#pragma once
/// @file normal.hpp
/// @brief Counter-based standard normal noise: Philox4x32-10 bits → open-interval uniforms → Box–Muller.
///
/// Every normal is a pure function of (seed, step, element): no state advances, so the noise does not
/// depend on how many values are drawn, in which order, by how many threads, or in what batch size
/// (docs/theory.md §10). The exact mapping is a compatibility contract and is spelled out on
/// mrsolve::philox_normal.

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "../detail/host_device.hpp"
#include "../detail/simd_kernels.hpp"
#include "box_muller.hpp"
#include "philox.hpp"

// x86 hosts take the square roots of the normal generator in SIMD registers (detail::sqrt_in_place).
// Not under a CUDA compiler (whose device code has its own square root, and whose host pass need not
// see the intrinsics).
#if !defined(__CUDACC__) && (defined(__x86_64__) || defined(_M_X64)) && defined(__SSE2__)
#include <immintrin.h>
#define MRSOLVE_DETAIL_X86_SQRT 1
#endif

namespace mrsolve {

namespace detail {

/// @brief Maps 64 random bits, given as two 32-bit words, to a double in the open interval (0, 1):
/// uniform_open_double_word (noise/box_muller_lanes.inc) of w = hi·2³² + lo.
/// @param lo the low 32 bits of w
/// @param hi the high 32 bits of w
/// @return the uniform in (0, 1)
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr double uniform_open_double(std::uint32_t lo,
                                                                      std::uint32_t hi) noexcept {
    return uniform_open_double_word((std::uint64_t{hi} << 32) | lo);
}

/// @brief The two independent standard normals produced by one Box–Muller transform.
/// @tparam T float or double
template <std::floating_point T>
struct box_muller_pair {
    T z_cos;  ///< R · cos θ
    T z_sin;  ///< R · sin θ
};

/// @brief The Box–Muller transform: R = √(−2 ln u_radius), θ = 2π·u_angle, returns (R cos θ, R sin θ).
///
/// Evaluated in T with mrsolve's own branch-free −2 ln u and (cos 2πu, sin 2πu) (noise/box_muller.hpp:
/// detail::neg2_log, detail::sincos_turns), not the math library's, so that a loop of transforms
/// vectorises and gives the same bits as a single call. The angle is never formed: the reduction to
/// an eighth of a turn is exact in u.
/// @tparam T float or double
/// @param u_radius a uniform in (0, 1] (normal floating-point numbers only); with the open-interval
///        helpers above R ≤ 5.77 (float) or R ≤ 8.58 (double), always finite
/// @param u_angle a uniform in [0, 1)
/// @return the pair of standard normals
template <std::floating_point T>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline box_muller_pair<T> box_muller(T u_radius, T u_angle) noexcept {
    const T radius = std::sqrt(neg2_log(u_radius));
    const cos_sin<T> angle = sincos_turns(u_angle);
    return {radius * angle.cos, radius * angle.sin};
}

/// @brief The precision in which the normals for element type T are generated: float for float,
/// double for every other floating-point type (long double gets the double value, converted).
/// @tparam T the requested element type
template <std::floating_point T>
using normal_compute_t = std::conditional_t<std::is_same_v<std::remove_cv_t<T>, float>, float, double>;

/// @brief How many consecutive elements one Philox4x32-10 call serves: 4 for float, 2 for double.
/// @tparam C float or double (see normal_compute_t)
template <std::floating_point C>
inline constexpr std::uint64_t normal_group_size = std::is_same_v<C, float> ? 4 : 2;

/// @brief One Box–Muller pair of a group, from the group's Philox output.
///
/// float: pair p ∈ {0, 1} uses words (r[2p], r[2p+1]) as (radius, angle) uniforms.
/// double: the single pair (p = 0) uses (r[0], r[1]) for the radius and (r[2], r[3]) for the angle,
/// each as (lo, hi) of a 64-bit word.
/// @tparam C float or double
/// @param r the four Philox output words of the group
/// @param pair the pair index within the group (0 or 1 for float, 0 for double)
/// @return the pair of normals for elements 2·pair and 2·pair + 1 of the group
template <std::floating_point C>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline box_muller_pair<C> philox_normal_pair(const philox4x32_counter& r,
                                                                               std::size_t pair) noexcept {
    if constexpr (std::is_same_v<C, float>) {
        return box_muller(uniform_open_float(r[2 * pair]), uniform_open_float(r[2 * pair + 1]));
    } else {
        return box_muller(uniform_open_double(r[0], r[1]), uniform_open_double(r[2], r[3]));
    }
}

/// @brief All normals of one group, from the group's Philox output.
/// @tparam C float or double
/// @param r the four Philox output words of the group
/// @return the normals for elements 0 … G−1 of the group (G = normal_group_size<C>)
template <std::floating_point C>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline std::array<C, normal_group_size<C>> philox_normal_group(
    const philox4x32_counter& r) noexcept {
    std::array<C, normal_group_size<C>> z{};
    for (std::size_t p = 0; p < normal_group_size<C> / 2; ++p) {
        const box_muller_pair<C> pair = philox_normal_pair<C>(r, p);
        z[2 * p] = pair.z_cos;
        z[2 * p + 1] = pair.z_sin;
    }
    return z;
}

/// @brief The Philox counter of a (group, step): (group lo, group hi, step lo, step hi).
/// @param group the element group index
/// @param step the step index
/// @return the counter
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr philox4x32_counter philox_normal_counter(
    std::uint64_t group, std::uint64_t step) noexcept {
    return {static_cast<std::uint32_t>(group), static_cast<std::uint32_t>(group >> 32),
            static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32)};
}

/// @brief w[p] ← √w[p] for p < n, correctly rounded (the same bits as std::sqrt).
///
/// A loop of std::sqrt vectorises only under -fno-math-errno: std::sqrt may set errno (for a negative
/// argument), so GCC and Clang otherwise keep a scalar call path in the loop, which made the square
/// roots about half of the normal generator's time with -O3 -march=native. The library cannot ask its
/// users for that flag; on x86 hosts the square roots are taken with the SSE2/AVX/AVX-512 instructions
/// instead, which are IEEE-754 correctly rounded like std::sqrt, so the values are unchanged. The
/// arguments here are never negative (−2 ln u ≥ 0).
/// @tparam C float or double
/// @param w the values, overwritten by their square roots
/// @param n how many
template <std::floating_point C>
MRSOLVE_HOST_DEVICE inline void sqrt_in_place(C* w, std::size_t n) noexcept {
    std::size_t p = 0;
#if defined(MRSOLVE_DETAIL_X86_SQRT)
    if constexpr (std::is_same_v<C, float>) {
#if defined(__AVX512F__)
        // The masked forms with every lane selected: GCC 12 warns (-Wmaybe-uninitialized) inside the
        // unmasked _mm512_sqrt_ps/_pd, whose pass-through operand is deliberately undefined.
        for (; p + 16 <= n; p += 16) _mm512_storeu_ps(w + p, _mm512_maskz_sqrt_ps(0xffff, _mm512_loadu_ps(w + p)));
#elif defined(__AVX__)
        for (; p + 8 <= n; p += 8) _mm256_storeu_ps(w + p, _mm256_sqrt_ps(_mm256_loadu_ps(w + p)));
#else
        for (; p + 4 <= n; p += 4) _mm_storeu_ps(w + p, _mm_sqrt_ps(_mm_loadu_ps(w + p)));
#endif
    } else {
#if defined(__AVX512F__)
        for (; p + 8 <= n; p += 8) _mm512_storeu_pd(w + p, _mm512_maskz_sqrt_pd(0xff, _mm512_loadu_pd(w + p)));
#elif defined(__AVX__)
        for (; p + 4 <= n; p += 4) _mm256_storeu_pd(w + p, _mm256_sqrt_pd(_mm256_loadu_pd(w + p)));
#else
        for (; p + 2 <= n; p += 2) _mm_storeu_pd(w + p, _mm_sqrt_pd(_mm_loadu_pd(w + p)));
#endif
    }
#endif
    for (; p < n; ++p) w[p] = std::sqrt(w[p]);
}

/// @brief The largest number of element groups philox_normal_block handles in one call.
inline constexpr std::size_t normal_block_groups = 64;

/// @brief The normals of `groups` consecutive element groups, written contiguously to out
/// (groups · normal_group_size<C> values): the bulk path of philox_normal::fill.
///
/// Two branch-free loops over the groups, which the compiler vectorises across groups: the Philox
/// words into four word arrays (structure of arrays), then the uniforms and Box–Muller transforms.
/// Every value is computed by the same expressions as philox_normal::normal, so the results are the
/// same bits.
/// @tparam C float or double
/// @param out the destination (groups · normal_group_size<C> values)
/// @param groups number of groups, at most normal_block_groups
/// @param first_group the index of the first group (indices wrap like element indices)
/// @param step the step index
/// @param key the Philox key
template <std::floating_point C>
MRSOLVE_HOST_DEVICE inline void philox_normal_block_portable(C* out, std::size_t groups, std::uint64_t first_group,
                                                             std::uint64_t step, philox4x32_key key) noexcept {
    constexpr std::uint64_t group_mask = ~std::uint64_t{0} / normal_group_size<C>;
    std::uint32_t w0[normal_block_groups], w1[normal_block_groups], w2[normal_block_groups],
        w3[normal_block_groups];
    for (std::size_t b = 0; b < groups; ++b) {
        const std::uint64_t group = (first_group + b) & group_mask;
#if defined(__AVX512F__) && !defined(__CUDA_ARCH__)
        // Same words, in the formulation GCC vectorises best with AVX-512 (about 3× faster there,
        // slightly slower with SSE2/AVX2).
        std::uint64_t x0 = group & 0xffffffffu, x1 = group >> 32, x2 = step & 0xffffffffu, x3 = step >> 32;
        philox4x32_10_lanes64(x0, x1, x2, x3, key);
        w0[b] = static_cast<std::uint32_t>(x0);
        w1[b] = static_cast<std::uint32_t>(x1);
        w2[b] = static_cast<std::uint32_t>(x2);
        w3[b] = static_cast<std::uint32_t>(x3);
#else
        const philox4x32_counter r = philox4x32_10(philox_normal_counter(group, step), key);
        w0[b] = r[0];
        w1[b] = r[1];
        w2[b] = r[2];
        w3[b] = r[3];
#endif
    }
    // −2 ln u and the angle's (cos, sin) for every pair: branch-free, vectorised.
    constexpr std::size_t pairs_per_group = normal_group_size<C> / 2;
    C w[normal_block_groups * pairs_per_group], c[normal_block_groups * pairs_per_group],
        s[normal_block_groups * pairs_per_group];
    for (std::size_t b = 0; b < groups; ++b) {
        if constexpr (std::is_same_v<C, float>) {
            w[2 * b] = neg2_log(uniform_open_float(w0[b]));
            w[2 * b + 1] = neg2_log(uniform_open_float(w2[b]));
            const cos_sin<float> a0 = sincos_turns(uniform_open_float(w1[b]));
            const cos_sin<float> a1 = sincos_turns(uniform_open_float(w3[b]));
            c[2 * b] = a0.cos;
            s[2 * b] = a0.sin;
            c[2 * b + 1] = a1.cos;
            s[2 * b + 1] = a1.sin;
        } else {
            w[b] = neg2_log(uniform_open_double(w0[b], w1[b]));
            const cos_sin<double> a = sincos_turns(uniform_open_double(w2[b], w3[b]));
            c[b] = a.cos;
            s[b] = a.sin;
        }
    }
    // R = √w (sqrt_in_place: in SIMD registers whatever the errno setting), then the products.
    sqrt_in_place(w, groups * pairs_per_group);
    for (std::size_t p = 0; p < groups * pairs_per_group; ++p) {
        out[2 * p] = w[p] * c[p];
        out[2 * p + 1] = w[p] * s[p];
    }
}

/// @brief The normals of `groups` consecutive element groups (see philox_normal_block_portable): on
/// x86-64 hosts by the SIMD kernel of the instruction set chosen at run time (mrsolve/simd.hpp), which
/// gives the same bits; elsewhere by the portable loops.
template <std::floating_point C>
MRSOLVE_HOST_DEVICE inline void philox_normal_block(C* out, std::size_t groups, std::uint64_t first_group,
                                                    std::uint64_t step, philox4x32_key key) noexcept {
#if defined(MRSOLVE_DETAIL_SIMD_DISPATCH)
    switch (active_simd_isa()) {
        case simd_isa::avx512: return simd_avx512::philox_normal_block(out, groups, first_group, step, key);
        case simd_isa::avx2: return simd_avx2::philox_normal_block(out, groups, first_group, step, key);
        case simd_isa::sse2: return simd_sse2::philox_normal_block(out, groups, first_group, step, key);
        default: break;
    }
#endif
    philox_normal_block_portable(out, groups, first_group, step, key);
}

}  // namespace detail

/// @brief A stateless generator of standard normal noise indexed by (step, element), keyed by a seed.
///
/// The same (seed, step, element) always gives the same value, whatever else is drawn, in whatever
/// order, batch size or thread count; fill() and normal() agree bit for bit.
///
/// **Keying contract** (stable: changing anything here changes every sampled path). Let G = 4 for
/// float and G = 2 for double and long double, g = ⌊element / G⌋ and j = element mod G. Then
///  - key = (seed mod 2³², ⌊seed / 2³²⌋);
///  - counter = (g mod 2³², ⌊g / 2³²⌋, step mod 2³², ⌊step / 2³²⌋);
///  - (r₀, r₁, r₂, r₃) = Philox4x32-10(counter, key);
///  - with R(u) = √(ℓ(u)) and (C(u), S(u)) = sincos_turns(u), where ℓ = detail::neg2_log approximates
///    −2 ln u and detail::sincos_turns approximates (cos 2πu, sin 2πu) (noise/box_muller.hpp: mrsolve's
///    own branch-free polynomials, whose coefficients and operation order are part of this contract),
///    √ is the correctly rounded square root, and everything is evaluated in the compute type:
///    - float: uₖ = ((rₖ >> 9) + ½)·2⁻²³ for k = 0 … 3, and elements G·g + j for j = 0, 1, 2, 3 are
///      R(u₀)·C(u₁), R(u₀)·S(u₁), R(u₂)·C(u₃), R(u₂)·S(u₃);
///    - double: a = (((r₁·2³² + r₀) >> 12) + ½)·2⁻⁵², b = (((r₃·2³² + r₂) >> 12) + ½)·2⁻⁵², and
///      elements G·g + j for j = 0, 1 are R(a)·C(b), R(a)·S(b);
///    - long double: the double value, converted.
///
/// The float and double streams of one seed are therefore different (but each is reproducible).
/// Element indices are taken modulo 2⁶⁴. The Philox words and the uniforms are bit-identical on every
/// platform. The normals use no math-library function but √ (correctly rounded everywhere), so they
/// are bit-identical across platforms and compilers that evaluate the same operations without
/// contraction. On x86-64 hosts they are computed by the SIMD kernels of detail/simd_kernels.hpp,
/// compiled without contraction whatever the program's flags, so every build and every instruction set
/// gives the same bits (tests/test_simd.cpp); the portable loops (other architectures, and device code)
/// follow the compiler's contraction setting, e.g. nvcc's default --fmad=true changes them by an ulp or
/// so. They are within about 3 ulp of the exact √(−2 ln u)·cos 2πu (tests/test_noise.cpp measures it).
/// fill(), normal() and the fused stochastic step (linear_map_normal) give the same bits (tested);
/// -ffast-math (reassociation) voids every such statement.
///
/// An earlier revision of this generator used the math library (`std::log`, `std::cos(2π·u)`,
/// `std::sin`): that loop could not vectorise, and rounding θ = 2π·u cost accuracy near the zeros of
/// cos and sin. The Philox words, the uniforms, the pairing and the keying are unchanged; the normals
/// differ from that revision's by a few ulp (absolute differences up to about 10⁻⁶ for float).
///
/// To give each sample of a batch its own noise, index elements as sample · dimension + i.
class philox_normal {
public:
    /// @brief Creates the generator for one seed.
    /// @param seed the 64-bit seed; it becomes the Philox key
    MRSOLVE_HOST_DEVICE constexpr explicit philox_normal(std::uint64_t seed) noexcept
        : seed_(seed), key_{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)} {}

    /// @brief The seed this generator was created with.
    /// @return the seed
    [[nodiscard]] MRSOLVE_HOST_DEVICE constexpr std::uint64_t seed() const noexcept { return seed_; }

    /// @brief How many consecutive elements share one Philox call (4 for float, 2 for double and
    /// long double); fill() is most efficient when first_element is a multiple of it.
    /// @tparam T the element type
    template <std::floating_point T>
    static constexpr std::uint64_t elements_per_group =
        detail::normal_group_size<detail::normal_compute_t<T>>;

    /// @brief The standard normal for one (step, element), as defined by the keying contract.
    /// @tparam T the element type (float, double or long double)
    /// @param step the step index (for example the solver step at which the noise is injected)
    /// @param element the element index (for example sample · dimension + component)
    /// @return a standard normal value; always finite
    template <std::floating_point T>
    [[nodiscard]] MRSOLVE_HOST_DEVICE T normal(std::uint64_t step, std::uint64_t element) const noexcept {
        using C = detail::normal_compute_t<T>;
        constexpr std::uint64_t group_size = detail::normal_group_size<C>;
        const auto j = static_cast<std::size_t>(element % group_size);
#if defined(__CUDA_ARCH__)
        const detail::philox4x32_counter r =
            detail::philox4x32_10(detail::philox_normal_counter(element / group_size, step), key_);
        const detail::box_muller_pair<C> pair = detail::philox_normal_pair<C>(r, j / 2);
        return static_cast<T>(j % 2 == 0 ? pair.z_cos : pair.z_sin);
#else
        // On the host, through the same code as fill(): under floating-point contraction (FMA) the
        // compiler may contract differently shaped code differently, and then the bits could differ.
        return static_cast<T>(group_normals<C>(element / group_size, step)[j]);
#endif
    }

    /// @brief Writes normal<T>(step, first_element + i) into out[i] for every i.
    ///
    /// One Philox call per group of elements_per_group<T> elements. Whole groups are processed in
    /// blocks of detail::normal_block_groups by detail::philox_normal_block: the SIMD kernel of the
    /// instruction set chosen at run time on x86-64 hosts (one group per 32-bit lane), elsewhere
    /// branch-free loops the compiler vectorises across groups. Partial groups at either end are
    /// computed whole and the needed elements copied.
    /// @tparam T the element type (float, double or long double); call as `fill(std::span{v}, step)`
    ///         or `fill<float>(v, step)` when passing a container
    /// @param out where to write; its size is the number of elements
    /// @param step the step index
    /// @param first_element the element index of out[0] (indices wrap modulo 2⁶⁴)
    template <std::floating_point T>
    MRSOLVE_HOST_DEVICE void fill(std::span<T> out, std::uint64_t step,
                                  std::uint64_t first_element = 0) const noexcept {
        using C = detail::normal_compute_t<T>;
        constexpr std::uint64_t group_size = detail::normal_group_size<C>;
        constexpr std::uint64_t group_mask = ~std::uint64_t{0} / group_size;  // groups wrap with the elements
        constexpr std::size_t g = static_cast<std::size_t>(group_size);
        const std::size_t n = out.size();
        std::size_t i = 0;
        std::uint64_t group = first_element / group_size;

        if (const auto offset = static_cast<std::size_t>(first_element % group_size); offset != 0 && n != 0) {
            const auto z = group_normals<C>(group, step);
            for (std::size_t j = offset; j < g && i < n; ++j, ++i) out[i] = static_cast<T>(z[j]);
            group = (group + 1) & group_mask;
        }

        while (n - i >= g) {
            const std::size_t full = (n - i) / g;
            const std::size_t groups = full < detail::normal_block_groups ? full : detail::normal_block_groups;
            if constexpr (std::is_same_v<T, C>) {
                detail::philox_normal_block<C>(out.data() + i, groups, group, step, key_);
            } else {
                C buffer[detail::normal_block_groups * g];
                detail::philox_normal_block<C>(buffer, groups, group, step, key_);
                for (std::size_t j = 0; j < groups * g; ++j) out[i + j] = static_cast<T>(buffer[j]);
            }
            i += groups * g;
            group = (group + groups) & group_mask;
        }

        if (i < n) {
            const auto z = group_normals<C>(group, step);
            for (std::size_t j = 0; i < n; ++j, ++i) out[i] = static_cast<T>(z[j]);
        }
    }

private:
    /// @brief All normals of one element group at one step (normal(), and partial groups in fill()):
    /// on the host through detail::philox_normal_block, the code of fill()'s bulk path.
    template <std::floating_point C>
    [[nodiscard]] MRSOLVE_HOST_DEVICE std::array<C, detail::normal_group_size<C>> group_normals(
        std::uint64_t group, std::uint64_t step) const noexcept {
#if defined(__CUDA_ARCH__)
        const detail::philox4x32_counter r =
            detail::philox4x32_10(detail::philox_normal_counter(group, step), key_);
        return detail::philox_normal_group<C>(r);
#else
        std::array<C, detail::normal_group_size<C>> z{};
        detail::philox_normal_block<C>(z.data(), 1, group, step, key_);
        return z;
#endif
    }

    std::uint64_t seed_;
    detail::philox4x32_key key_;
};

}  // namespace mrsolve
