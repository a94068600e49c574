#pragma once
/// @file noise_source.hpp
/// @brief What stochastic solvers ask for standard normals: the NoiseSource concept and standard sources.

#include <array>
#include <concepts>
#include <cstdint>
#include <functional>
#include <utility>

#include "../concepts/state.hpp"
#include "normal.hpp"

namespace mrsolve {

/// @brief A source of standard normal vectors, queried once per stochastic step.
///
/// `noise.fill(z, step)` writes i.i.d. N(0, 1) values into z for the 1-based step index; the same
/// (source, step) must give the same values whenever asked (tests rebuild paths from this).
template <class N, class S>
concept NoiseSource = State<S> && requires(N& noise, S& z, int step) { noise.fill(z, step); };

/// @brief The default: counter-based Philox4x32-10 normals keyed by (seed, step, element index).
///
/// Identical on every backend, batch size and thread count; see mrsolve::philox_normal.
class counter_noise {
public:
    /// @brief Keys the generator. @param seed the 64-bit seed
    explicit counter_noise(std::uint64_t seed = 0) noexcept : generator_(seed) {}
    /// @brief Fills z with the normals of this step, where z lives (the backend's fill_normal).
    /// @tparam S a state whose backend supplies fill_normal @param z output @param step 1-based step
    template <NormalFillable S>
    void fill(S& z, int step) const noexcept {
        backend_traits<S>::fill_normal(z, generator_, static_cast<std::uint64_t>(step));
    }
    /// @brief The underlying generator. @return the generator
    [[nodiscard]] const philox_normal& generator() const noexcept { return generator_; }

private:
    philox_normal generator_;
};

/// @brief No noise: z = 0 at every step (turns a stochastic update into its deterministic part).
struct zero_noise {
    /// @brief Writes zeros. @tparam S state @param z output @param step unused
    template <State S>
    void fill(S& z, int step) const noexcept {
        (void)step;
        using T = state_value_t<S>;
        backend_traits<S>::template linear_map<1, 1>(std::array<S*, 1>{&z}, {{{T(0)}}},
                                                     std::array<const S*, 1>{&z});
    }
};

/// @brief Noise supplied by the caller: a callable `f(S& z, int step)` that fills z.
/// @tparam F the callable type
template <class F>
class injected_noise {
public:
    /// @brief Wraps the callable. @param fill_fn called as fill_fn(z, step)
    explicit injected_noise(F fill_fn) : fill_(std::move(fill_fn)) {}
    /// @brief Forwards to the callable. @tparam S state @param z output @param step 1-based step
    template <class S>
    void fill(S& z, int step) {
        std::invoke(fill_, z, step);
    }

private:
    F fill_;
};

}  // namespace mrsolve
