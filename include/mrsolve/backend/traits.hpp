#pragma once
/// @file traits.hpp
/// @brief The backend customisation point: the few fused element-wise primitives a state type supplies.
///
/// Solvers never iterate over elements. Every step is one call of `linear_map`, a fused multi-output
/// linear combination outᵢ[e] = Σ_k cᵢₖ inₖ[e] over all elements e, done in one pass over memory.
/// A backend specialises `mrsolve::backend_traits<State>` (the primary template is empty) with:
///
/// - `using value_type`: the element scalar (float or double);
/// - `static std::size_t size(const State&)`;
/// - `static State make_like(const State&)`: a zero state of the same shape (set-up only; may allocate);
/// - `template <std::size_t NOut, std::size_t NIn> static bool linear_map(const std::array<State*, NOut>&,
///    const std::array<std::array<value_type, NIn>, NOut>&, const std::array<const State*, NIn>&)`:
///    every input element of index e is read before any output element of index e is written, so an
///    output may be the same object as an input; returns false if any output element is NaN or ±∞;
/// - `static bool all_finite(const State&)`.
///
/// Optional: `static void fill_normal(State&, const philox_normal&, std::uint64_t step)` (the
/// counter-based normals of a step, computed where the state lives; enables counter_noise), and
/// `static std::span<value_type> host_span(State&)` (host access: enables dynamic thresholding), and
/// the fused stochastic step
/// `template <std::size_t NOut, std::size_t NIn> static bool linear_map_normal(const std::array<State*, NOut>&,
///    const std::array<std::array<value_type, NIn>, NOut>&, const std::array<const State*, NIn − 1>&,
///    const philox_normal&, std::uint64_t step)`: linear_map whose last input (coefficient column NIn − 1)
///    is the vector z[e] = generator.normal<value_type>(step, e), generated inside the pass and never
///    stored. Its results must be bitwise those of fill_normal into a state followed by linear_map with
///    that state as the last input. With it, a stochastic step driven by counter_noise is one pass
///    (one kernel) instead of two and moves no noise vector through memory.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace mrsolve {

class philox_normal;  // noise/normal.hpp

/// @brief Primary template: no backend. Specialise it (see traits.hpp) to make a type a state.
/// @tparam State the state type
template <class State>
struct backend_traits {};

/// @brief A type that a backend makes usable as a sampler state.
template <class S>
concept State = requires(const S& cs, S& s) {
    typename backend_traits<S>::value_type;
    requires std::floating_point<typename backend_traits<S>::value_type>;
    { backend_traits<S>::size(cs) } -> std::convertible_to<std::size_t>;
    { backend_traits<S>::make_like(cs) } -> std::same_as<S>;
    { backend_traits<S>::all_finite(cs) } -> std::same_as<bool>;
    {
        backend_traits<S>::template linear_map<1, 1>(
            std::array<S*, 1>{&s}, std::array<std::array<typename backend_traits<S>::value_type, 1>, 1>{},
            std::array<const S*, 1>{&cs})
    } -> std::same_as<bool>;
};

/// @brief The element scalar of a state type.
template <State S>
using state_value_t = typename backend_traits<S>::value_type;

/// @brief A state whose backend generates counter-based normals in place (see noise/normal.hpp).
template <class S>
concept NormalFillable = State<S> && requires(S& s, const philox_normal& generator) {
    backend_traits<S>::fill_normal(s, generator, std::uint64_t{1});
};

/// @brief A state whose backend fuses the counter-based normals into the step's linear map
/// (`linear_map_normal`, see the protocol above); samplers use it when the noise is counter_noise.
template <class S>
concept FusedNormalState = NormalFillable<S> && requires(S& s, const S& cs, const philox_normal& generator) {
    {
        backend_traits<S>::template linear_map_normal<1, 2>(
            std::array<S*, 1>{&s}, std::array<std::array<typename backend_traits<S>::value_type, 2>, 1>{},
            std::array<const S*, 1>{&cs}, generator, std::uint64_t{1})
    } -> std::same_as<bool>;
};

/// @brief A state whose elements the host can read and write directly.
template <class S>
concept HostState = State<S> && requires(S& s) {
    { backend_traits<S>::host_span(s) };
};

}  // namespace mrsolve
