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
struct eigen_backend : detail::host_storage_backend<S> {
    static_assert(EigenDenseState<S>, "eigen_backend: S must be a plain Eigen object of float or double");

    /// @brief The element scalar.
    using value_type = typename S::Scalar;

    /// @brief A zero object of the same shape. @param s model @return the new state
    [[nodiscard]] static S make_like(const S& s) { return S::Zero(s.rows(), s.cols()); }
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
