#pragma once
/// @file state.hpp
/// @brief What a state is: the backend customisation point `backend_traits<State>` (the few fused
/// element-wise primitives a state type supplies) and the State concepts built on it.
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
/// counter-based normals of a step, computed where the state lives; enables counter_noise),
/// `static std::span<value_type> host_span(State&)` (host access: enables dynamic thresholding, which then
/// runs detail::dynamic_threshold on the span), `static void dynamic_threshold(State& q, std::size_t items,
/// double ratio, double max_value, std::vector<value_type>& scratch)` (dynamic thresholding computed where
/// the state lives, for backends without host access: for each of `items` equal row-major chunks of q,
/// s = the `ratio` quantile of |q| (linear interpolation between order statistics, in double), clamped to
/// [1, max_value] and rounded to the element type, then q ← clamp(q, −s, s)/s; `scratch` holds one chunk
/// and may be used or not; a backend with both uses this one),
/// `static std::string_view execution_path(const State& x, const State& mu)` (a name, a string literal,
/// for the code the updates of a run on x conditioned on mu take, e.g. "host/avx2"; the samplers report
/// it in their results), and
/// the fused stochastic step
/// `template <std::size_t NOut, std::size_t NIn> static bool linear_map_normal(const std::array<State*, NOut>&,
///    const std::array<std::array<value_type, NIn>, NOut>&, const std::array<const State*, NIn − 1>&,
///    const philox_normal&, std::uint64_t step)`: linear_map whose last input (coefficient column NIn − 1)
///    is the vector z[e] = generator.normal<value_type>(step, e), generated inside the pass and never
///    stored. Its results must be bitwise those of fill_normal into a state followed by linear_map with
///    that state as the last input. With it, a stochastic step driven by counter_noise is one pass
///    (one kernel) instead of two and moves no noise vector through memory.
///
/// A state type of a library mrsolve has a backend for (Eigen, xtensor, Thrust, LibTorch) used without that
/// backend's header fails to compile with a message naming the header to include.

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

namespace mrsolve {

class philox_normal;  // noise/normal.hpp

namespace detail {

/// The libraries whose state types mrsolve recognises by name, to say which backend header is missing.
enum class named_backend { none, eigen, xtensor, thrust, libtorch };

/// The name of T as the compiler spells it ("Eigen::Matrix<double, -1, 1>", "at::Tensor"); empty where
/// the compiler does not say.
template <class T>
consteval std::string_view type_name() {
#if defined(__clang__) || defined(__GNUC__)
    const std::string_view f = __PRETTY_FUNCTION__;  // "… [with T = NAME; …]" (GCC), "… [T = NAME]" (Clang)
    const auto at = f.find("T = ");
    if (at == std::string_view::npos) return {};
    const auto end = f.find_first_of(";]", at + 4);
    return f.substr(at + 4, end == std::string_view::npos ? std::string_view::npos : end - (at + 4));
#elif defined(_MSC_VER)
    std::string_view f = __FUNCSIG__;  // "… type_name<class NAME>(void)"
    const auto at = f.find("type_name<");
    if (at == std::string_view::npos) return {};
    f.remove_prefix(at + 10);
    for (const std::string_view tag : {"class ", "struct "})
        if (f.starts_with(tag)) f.remove_prefix(tag.size());
    return f;
#else
    return {};
#endif
}

/// The library a type belongs to, by its namespace (only the start of the name is used).
template <class T>
consteval named_backend backend_named_by() {
    const std::string_view name = type_name<std::remove_cvref_t<T>>();
    if (name.starts_with("Eigen::")) return named_backend::eigen;
    if (name.starts_with("xt::")) return named_backend::xtensor;
    if (name.starts_with("thrust::")) return named_backend::thrust;
    if (name == "at::Tensor") return named_backend::libtorch;  // torch::Tensor is at::Tensor
    return named_backend::none;
}

/// True once a backend's header is included: backend/eigen.hpp, backend/xtensor.hpp and backend/thrust.hpp
/// specialise it. A template on the state, so that it is read where a state is used, after the includes.
/// (LibTorch's adapter specialises backend_traits<at::Tensor> itself, so that type never reaches the
/// primary template once the adapter is included.)
template <named_backend Backend, class S>
inline constexpr bool backend_header_included = false;

/// The library whose backend header S needs but which is not included (none: no such header is missing).
template <class S>
inline constexpr named_backend missing_backend_header =
    backend_header_included<backend_named_by<S>(), S> ? named_backend::none : backend_named_by<S>();

}  // namespace detail

/// @brief Primary template: no backend. Specialise it (see concepts/state.hpp) to make a type a state.
///
/// Empty, so that `State<S>` is false; for a type of a library mrsolve has a backend for, whose header is
/// not included, it fails to compile with a message naming the header instead.
/// @tparam State the state type
template <class State>
struct backend_traits {
    static_assert(detail::missing_backend_header<State> != detail::named_backend::eigen,
                  "mrsolve: this state is an Eigen type, but <mrsolve/backend/eigen.hpp> is not included; "
                  "include it to sample Eigen matrices and arrays (CMake: link mrsolve::eigen)");
    static_assert(detail::missing_backend_header<State> != detail::named_backend::xtensor,
                  "mrsolve: this state is an xtensor type, but <mrsolve/backend/xtensor.hpp> is not included; "
                  "include it to sample xt::xtensor and xt::xarray (CMake: link mrsolve::xtensor)");
    static_assert(detail::missing_backend_header<State> != detail::named_backend::thrust,
                  "mrsolve: this state is a Thrust type, but <mrsolve/backend/thrust.hpp> is not included; "
                  "include it to sample thrust::device_vector (CMake: link mrsolve::thrust)");
    static_assert(detail::missing_backend_header<State> != detail::named_backend::libtorch,
                  "mrsolve: this state is a torch::Tensor, but <mrsolve/adapters/libtorch.hpp> is not included; "
                  "include it to sample tensors (CMake: link mrsolve::libtorch)");
};

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

/// @brief A state whose backend applies dynamic thresholding itself (`dynamic_threshold`, see the protocol
/// above), where the state lives (the LibTorch adapter: tensor operations on the tensor's device).
template <class S>
concept ThresholdableState = State<S> && requires(S& s, std::vector<typename backend_traits<S>::value_type>& scratch) {
    backend_traits<S>::dynamic_threshold(s, std::size_t{1}, 0.5, 1.5, scratch);
};

/// @brief A state whose backend names the code its updates run on (`execution_path`, see the protocol above).
template <class S>
concept PathNamingState = State<S> && requires(const S& s) {
    { backend_traits<S>::execution_path(s, s) } -> std::convertible_to<std::string_view>;
};

/// @brief The code the state updates of a run on x conditioned on mu take: the backend's `execution_path`
/// name (e.g. "host/avx2", "torch host_dense/sse2", "torch tensor_ops", "thrust cuda"), or "unnamed" for
/// a backend that does not name it. Sampler results carry it, so that a slow path is visible where it is
/// taken.
/// @param x the state @param mu the condition @return a name with static storage duration
template <State S>
[[nodiscard]] std::string_view execution_path(const S& x, const S& mu) noexcept {
    if constexpr (PathNamingState<S>) {
        return backend_traits<S>::execution_path(x, mu);
    } else {
        return "unnamed";
    }
}

}  // namespace mrsolve
