#pragma once
/// @file contiguous.hpp
/// @brief The default backend: any resizable contiguous container of float or double in host memory
/// (std::vector<float>, std::vector<double>, …). Also the host loops other host backends reuse.

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <type_traits>

#include "../noise/normal.hpp"
#include "traits.hpp"

namespace mrsolve {

/// @brief Eigen dense objects (they carry RowsAtCompileTime); they have their own backend,
/// <mrsolve/backend/eigen.hpp>, because a matrix must keep its shape.
template <class S>
concept EigenLike = requires { S::RowsAtCompileTime; };

/// @brief N-dimensional arrays (they have `shape()`: xt::xtensor, xt::xarray, …). Like Eigen objects they
/// must keep their shape, and `S(n)` need not make n elements (xt::xarray<double>(6.0) is one element), so
/// they never use this backend.
template <class S>
concept ShapedArray = requires(const S& s) { s.shape(); };

/// @brief A container with contiguous, mutable float/double storage (`std::data`, `std::size`) that can be
/// constructed with a size (std::vector<float>, std::vector<double>, …).
template <class S>
concept ContiguousContainer = requires(S& s, const S& cs) {
    { std::data(s) };
    { std::size(cs) } -> std::convertible_to<std::size_t>;
    requires std::is_pointer_v<decltype(std::data(s))>;
    requires std::floating_point<std::remove_pointer_t<decltype(std::data(s))>>;
    requires !std::is_const_v<std::remove_pointer_t<decltype(std::data(s))>>;
} && std::constructible_from<S, std::size_t> && !EigenLike<S> && !ShapedArray<S>;

namespace detail {

/// outᵢ[e] = Σ_k cᵢₖ inₖ[e] for e < n, one pass; returns whether every output is finite.
template <std::size_t NOut, std::size_t NIn, std::floating_point T>
bool linear_map_host(std::size_t n, const std::array<T*, NOut>& out, const std::array<std::array<T, NIn>, NOut>& c,
                     const std::array<const T*, NIn>& in) noexcept {
    // Outputs may alias inputs at the same index only; there is no dependence between iterations,
    // which the pragma tells the vectoriser. The finiteness test is an integer OR-reduction of
    // (v − v ≠ 0), true exactly for NaN and ±∞, so the loop stays vectorisable.
    unsigned bad = 0;
#if defined(__clang__)
#pragma clang diagnostic push
// At -O1/-Os the vectoriser does not run and clang reports the unmet hint; that is harmless.
#pragma clang diagnostic ignored "-Wpass-failed"
#pragma clang loop vectorize(assume_safety)
#elif defined(__GNUC__)
#pragma GCC ivdep
#endif
    for (std::size_t e = 0; e < n; ++e) {
        T v[NIn];
        for (std::size_t k = 0; k < NIn; ++k) v[k] = in[k][e];
        for (std::size_t i = 0; i < NOut; ++i) {
            T acc = c[i][0] * v[0];
            for (std::size_t k = 1; k < NIn; ++k) acc += c[i][k] * v[k];
            out[i][e] = acc;
            const T d = acc - acc;
            bad |= static_cast<unsigned>(d != T(0));
        }
    }
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    return bad == 0;
}

}  // namespace detail

/// @brief Backend for contiguous host containers: plain loops the compiler vectorises.
/// @tparam S the container type
template <ContiguousContainer S>
struct backend_traits<S> {
    /// @brief The element scalar.
    using value_type = std::remove_pointer_t<decltype(std::data(std::declval<S&>()))>;

    /// @brief Number of elements. @param s state @return its size
    [[nodiscard]] static std::size_t size(const S& s) noexcept { return static_cast<std::size_t>(std::size(s)); }

    /// @brief A zero state of the same size. @param s model @return the new state
    [[nodiscard]] static S make_like(const S& s) {
        S out(size(s));
        std::fill_n(std::data(out), size(s), value_type(0));
        return out;
    }

    /// @brief The fused multi-output linear combination (see traits.hpp).
    /// @tparam NOut number of outputs @tparam NIn number of inputs
    /// @param out outputs @param coef coefficient matrix @param in inputs
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<S*, NOut>& out, const std::array<std::array<value_type, NIn>, NOut>& coef,
                           const std::array<const S*, NIn>& in) noexcept {
        std::array<value_type*, NOut> o{};
        std::array<const value_type*, NIn> i{};
        for (std::size_t k = 0; k < NOut; ++k) o[k] = std::data(*out[k]);
        for (std::size_t k = 0; k < NIn; ++k) i[k] = std::data(*in[k]);
        return detail::linear_map_host<NOut, NIn>(size(*in[0]), o, coef, i);
    }

    /// @brief Whether every element is finite. @param s state @return true if no NaN or ±∞
    [[nodiscard]] static bool all_finite(const S& s) noexcept {
        const value_type* p = std::data(s);
        return std::all_of(p, p + size(s), [](value_type v) { return std::isfinite(v); });
    }

    /// @brief Fills s with the counter-based normals of a step. @param s output @param generator the
    /// generator @param step the step index
    static void fill_normal(S& s, const philox_normal& generator, std::uint64_t step) noexcept {
        generator.fill(std::span<value_type>(std::data(s), size(s)), step);
    }

    /// @brief Direct host access. @param s state @return a span over its elements
    [[nodiscard]] static std::span<value_type> host_span(S& s) noexcept { return {std::data(s), size(s)}; }
    /// @brief Direct host access (read-only). @param s state @return a span over its elements
    [[nodiscard]] static std::span<const value_type> host_span(const S& s) noexcept {
        return {std::data(s), size(s)};
    }
};

}  // namespace mrsolve
