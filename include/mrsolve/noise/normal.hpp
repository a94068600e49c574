#pragma once
/// @file normal.hpp
/// @brief Counter-based standard normal noise: Philox4x32-10 bits → open-interval uniforms → Box–Muller.
///
/// Every normal is a pure function of (seed, step, element): no state advances, so the noise does not
/// depend on how many values are drawn, in which order, by how many threads, or in what batch size
/// (DESIGN.md §8). The exact mapping is a compatibility contract and is spelled out on
/// mrsolve::philox_normal.

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <type_traits>

#include "../detail/host_device.hpp"
#include "philox.hpp"

namespace mrsolve {

namespace detail {

/// @brief Maps 32 random bits to a float in the open interval (0, 1).
///
/// The top 23 bits k give u = (k + ½)·2⁻²³ = (2k + 1)·2⁻²⁴: an odd multiple of 2⁻²⁴, exactly
/// representable (24 significant bits), computed without rounding, in [2⁻²⁴, 1 − 2⁻²⁴], and symmetric:
/// the complement of the bits gives 1 − u. It is never 0 and never 1.
/// @param bits 32 random bits
/// @return the uniform in (0, 1)
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr float uniform_open_float(std::uint32_t bits) noexcept {
    return static_cast<float>(bits >> 9) * 0x1p-23f + 0x1p-24f;
}

/// @brief Maps 64 random bits, given as two 32-bit words, to a double in the open interval (0, 1).
///
/// With w = hi·2³² + lo, the top 52 bits k = w >> 12 give u = (k + ½)·2⁻⁵² = (2k + 1)·2⁻⁵³: a 53-bit
/// fixed-point number whose lowest bit is always set, exactly representable (53 significant bits),
/// computed without rounding, in [2⁻⁵³, 1 − 2⁻⁵³], and symmetric (complemented bits give 1 − u).
/// It is never 0 and never 1.
/// @param lo the low 32 bits of w
/// @param hi the high 32 bits of w
/// @return the uniform in (0, 1)
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr double uniform_open_double(std::uint32_t lo,
                                                                      std::uint32_t hi) noexcept {
    const std::uint64_t w = (std::uint64_t{hi} << 32) | lo;
    return static_cast<double>(w >> 12) * 0x1p-52 + 0x1p-53;
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
/// Evaluated in T: 2π is rounded to T, θ = (2π)·u_angle is rounded once, and no expression has the
/// form a·b + c, so floating-point contraction cannot change the result.
/// @tparam T float or double
/// @param u_radius a uniform in (0, 1]; with the open-interval helpers above R ≤ 5.77 (float) or
///        R ≤ 8.58 (double), always finite
/// @param u_angle a uniform in [0, 1)
/// @return the pair of standard normals
template <std::floating_point T>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline box_muller_pair<T> box_muller(T u_radius, T u_angle) noexcept {
    constexpr T two_pi = T{2} * std::numbers::pi_v<T>;
    const T radius = std::sqrt(T{-2} * std::log(u_radius));
    const T theta = two_pi * u_angle;
    return {radius * std::cos(theta), radius * std::sin(theta)};
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
///  - with R(u) = √(−2 ln u) and θ(u) = (2π)·u, all evaluated in the element type:
///    - float: uₖ = ((rₖ >> 9) + ½)·2⁻²³ for k = 0 … 3, and elements G·g + j for j = 0, 1, 2, 3 are
///      R(u₀) cos θ(u₁), R(u₀) sin θ(u₁), R(u₂) cos θ(u₃), R(u₂) sin θ(u₃);
///    - double: a = (((r₁·2³² + r₀) >> 12) + ½)·2⁻⁵², b = (((r₃·2³² + r₂) >> 12) + ½)·2⁻⁵², and
///      elements G·g + j for j = 0, 1 are R(a) cos θ(b), R(a) sin θ(b);
///    - long double: the double value, converted.
///
/// The float and double streams of one seed are therefore different (but each is reproducible).
/// Element indices are taken modulo 2⁶⁴. The Philox words and the uniforms are bit-identical on every
/// platform; the normals additionally depend on the math library's log, sin and cos (sqrt is correctly
/// rounded), so a CPU and a GPU build agree to a few ulp, and agree exactly where those functions do.
/// Bit-identity between fill() and normal() within one build assumes the compiler does not replace
/// log/sin/cos with vector approximations (as -ffast-math with libmvec may do).
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
        const detail::philox4x32_counter r =
            detail::philox4x32_10(detail::philox_normal_counter(element / group_size, step), key_);
        const auto j = static_cast<std::size_t>(element % group_size);
        const detail::box_muller_pair<C> pair = detail::philox_normal_pair<C>(r, j / 2);
        return static_cast<T>(j % 2 == 0 ? pair.z_cos : pair.z_sin);
    }

    /// @brief Writes normal<T>(step, first_element + i) into out[i] for every i.
    ///
    /// One Philox call per group of elements_per_group<T> elements. Whole groups are processed in
    /// blocks: first the Philox words of a block (branch-free integer code the compiler may
    /// vectorise), then the uniform conversion and Box–Muller transforms, written contiguously.
    /// Partial groups at either end are computed whole and the needed elements copied.
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

        constexpr std::size_t block_groups = 64;
        std::array<detail::philox4x32_counter, block_groups> words;
        while (n - i >= g) {
            const std::size_t full = (n - i) / g;
            const std::size_t groups = full < block_groups ? full : block_groups;
            for (std::size_t b = 0; b < groups; ++b) {
                const std::uint64_t block_group = (group + b) & group_mask;
                words[b] = detail::philox4x32_10(detail::philox_normal_counter(block_group, step), key_);
            }
            T* dst = out.data() + i;
            for (std::size_t b = 0; b < groups; ++b) {
                const auto z = detail::philox_normal_group<C>(words[b]);
                for (std::size_t j = 0; j < g; ++j) dst[b * g + j] = static_cast<T>(z[j]);
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
    /// @brief All normals of one element group at one step (used for partial groups in fill()).
    template <std::floating_point C>
    [[nodiscard]] MRSOLVE_HOST_DEVICE std::array<C, detail::normal_group_size<C>> group_normals(
        std::uint64_t group, std::uint64_t step) const noexcept {
        const detail::philox4x32_counter r =
            detail::philox4x32_10(detail::philox_normal_counter(group, step), key_);
        return detail::philox_normal_group<C>(r);
    }

    std::uint64_t seed_;
    detail::philox4x32_key key_;
};

}  // namespace mrsolve
