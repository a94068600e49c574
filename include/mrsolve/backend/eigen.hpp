#pragma once
/// @file eigen.hpp
/// @brief Eigen backend: dense Eigen vectors, matrices and arrays (Matrix, Array; any shape, float or
/// double) as sampler states. Link mrsolve::eigen.

#include <Eigen/Core>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "../noise/normal.hpp"
#include "contiguous.hpp"
#include "../concepts/state.hpp"

namespace mrsolve {

/// @brief A plain (storage-owning) Eigen dense object of float or double: Eigen::VectorXf,
/// Eigen::MatrixXd, Eigen::ArrayXXf, fixed-size ones, …
template <class S>
concept EigenDenseState = std::derived_from<S, Eigen::PlainObjectBase<S>> &&
                          std::floating_point<typename S::Scalar>;

/// @brief Backend implementation for Eigen dense objects: the fused host loop over their contiguous
/// storage (inner strides are 1 for plain objects), so a step is one pass whatever the storage order.
/// @tparam S the Eigen type (an EigenDenseState)
template <class S>
struct eigen_backend {
    static_assert(EigenDenseState<S>, "eigen_backend: S must be a plain Eigen object of float or double");

    /// @brief The element scalar.
    using value_type = typename S::Scalar;

    /// @brief Number of elements. @param s state @return rows × cols
    [[nodiscard]] static std::size_t size(const S& s) noexcept { return static_cast<std::size_t>(s.size()); }

    /// @brief The code the updates run on (see concepts/state.hpp): "host/" and the kernels' instruction set.
    /// @return e.g. "host/avx2", whatever the states
    [[nodiscard]] static std::string_view execution_path(const S&, const S&) noexcept {
        return detail::host_kernel_path(detail::active_simd_isa());
    }

    /// @brief A zero object of the same shape. @param s model @return the new state
    [[nodiscard]] static S make_like(const S& s) { return S::Zero(s.rows(), s.cols()); }

    /// @brief The fused multi-output linear combination (see concepts/state.hpp).
    /// @tparam NOut number of outputs @tparam NIn number of inputs
    /// @param out outputs @param coef coefficient matrix @param in inputs
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<S*, NOut>& out, const std::array<std::array<value_type, NIn>, NOut>& coef,
                           const std::array<const S*, NIn>& in) noexcept {
        return detail::linear_map_storage<NOut, NIn>(size(*in[0]), out, coef, in);
    }

    /// @brief The fused stochastic step (see concepts/state.hpp): linear_map with the counter-based normals of
    /// the step as the last input, generated block by block inside the pass (element order = storage
    /// order), so the noise never travels through memory; the same bits as fill_normal followed by
    /// linear_map.
    /// @tparam NOut number of outputs @tparam NIn number of inputs, the normals included
    /// @param out outputs @param coef coefficient matrix (last column: the normals')
    /// @param in the other inputs @param generator the generator @param step the step index
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map_normal(const std::array<S*, NOut>& out,
                                  const std::array<std::array<value_type, NIn>, NOut>& coef,
                                  const std::array<const S*, NIn - 1>& in, const philox_normal& generator,
                                  std::uint64_t step) noexcept {
        return detail::linear_map_normal_storage<NOut, NIn>(size(*out[0]), out, coef, in, generator, step);
    }

    /// @brief Whether every element is finite: the contiguous backends' vectorised check over the
    /// storage (Eigen's allFinite() was measured 6× slower on 196608 floats).
    /// @param s state @return true if no NaN or ±∞
    [[nodiscard]] static bool all_finite(const S& s) noexcept { return detail::all_finite_host(s.data(), size(s)); }

    /// @brief Fills s with the counter-based normals of a step (element order = storage order).
    /// @param s output @param generator the generator @param step the step index
    static void fill_normal(S& s, const philox_normal& generator, std::uint64_t step) noexcept {
        generator.fill(std::span<value_type>(s.data(), size(s)), step);
    }

    /// @brief Direct host access. @param s state @return a span over its storage
    [[nodiscard]] static std::span<value_type> host_span(S& s) noexcept { return {s.data(), size(s)}; }
    /// @brief Direct host access (read-only). @param s state @return a span over its storage
    [[nodiscard]] static std::span<const value_type> host_span(const S& s) noexcept { return {s.data(), size(s)}; }
};

/// @brief Backend of Eigen objects that are not states (integer or complex elements): empty.
struct eigen_not_a_state {};

/// @brief Backend for Eigen::Matrix of float or double (any shape and storage order).
///
/// Selected by the type pattern rather than a constrained partial specialization: GCC 12.2 was seen to
/// select the primary backend_traits for Eigen::ArrayXXd in a large translation unit although the
/// constraint held.
/// @tparam Scalar element type @tparam R rows @tparam C columns @tparam O options
/// @tparam MR max rows @tparam MC max columns
template <class Scalar, int R, int C, int O, int MR, int MC>
struct backend_traits<Eigen::Matrix<Scalar, R, C, O, MR, MC>>
    : std::conditional_t<std::is_floating_point_v<Scalar>, eigen_backend<Eigen::Matrix<Scalar, R, C, O, MR, MC>>,
                         eigen_not_a_state> {};

/// @brief Backend for Eigen::Array of float or double (any shape and storage order).
/// @tparam Scalar element type @tparam R rows @tparam C columns @tparam O options
/// @tparam MR max rows @tparam MC max columns
template <class Scalar, int R, int C, int O, int MR, int MC>
struct backend_traits<Eigen::Array<Scalar, R, C, O, MR, MC>>
    : std::conditional_t<std::is_floating_point_v<Scalar>, eigen_backend<Eigen::Array<Scalar, R, C, O, MR, MC>>,
                         eigen_not_a_state> {};

namespace detail {
/// This header is included: an Eigen type that is not a state here is simply not one (see concepts/state.hpp).
template <class S>
inline constexpr bool backend_header_included<named_backend::eigen, S> = true;
}  // namespace detail

}  // namespace mrsolve
