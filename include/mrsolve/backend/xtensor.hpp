#pragma once
/// @file xtensor.hpp
/// @brief xtensor backend: `xt::xtensor<T, N>` (any rank, e.g. images `[B, C, H, W]`), `xt::xarray<T>` and
/// `xt::xtensor_fixed<T, xt::xshape<…>>` of float or double as sampler states. Link mrsolve::xtensor.
///
/// **Storage, not indices.** Every primitive works on the container's flat storage (`.data()`, `.size()`),
/// which an xtensor container owns and keeps contiguous: a step is the host loop of the std::vector
/// backend (detail::linear_map_host, or detail::linear_map_normal_host for a stochastic step with its
/// normals fused in; OpenMP across elements when enabled, see contiguous.hpp) over that storage, and
/// counter_noise keys element e of the storage (`.data()[e]`). A row-major tensor therefore runs bit for
/// bit like a std::vector holding its elements in row-major order (the image `[B, C, H, W]` of a PyTorch
/// tensor, element by element).
///
/// **Layouts.** Linear maps and normals are element-wise, so any storage order works as long as every
/// state involved (x, μ, the model's output, the sampler's workspace) stores its elements in the same
/// order. That holds by type for the static layouts: xtensor refuses to give a `row_major` or
/// `column_major` container other strides (resize/reshape with another layout or custom strides throw;
/// only the constructor that adopts a storage together with explicit strides does not check, so do not
/// hand it strides of another order), and make_like keeps the shape and layout. So both static layouts
/// are supported:
///
/// - `xt::layout_type::row_major` (the default): element e of the storage is the row-major element e;
/// - `xt::layout_type::column_major`: storage order is column-major; the normals of counter_noise then
///   land on the column-major flat index (like the Eigen backend, whose default order is column-major),
///   and `dynamic_thresholding::batch_items` splits the storage, so put the batch axis last.
///
/// `xt::layout_type::dynamic` containers are rejected at compile time (they are not a `State`): each
/// object chooses its strides at run time, so x and μ could pair different logical elements, and the
/// sampler (which checks element counts only) could not tell. Copy such data into a static-layout
/// container first. Adaptors and views (xt::adapt, xt::view, …) are not states either: a state must own
/// its storage so that make_like can create workspace of the same type.
///
/// As for every backend, the sampler checks element counts, not shapes: pass x and μ of the same shape.

#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>
#include <utility>

#include "../noise/normal.hpp"
#include "contiguous.hpp"
#include "../concepts/state.hpp"

namespace mrsolve {

namespace detail {

/// @brief Whether S is an xtensor container that owns its storage (primary: no).
/// @tparam S the type
template <class S>
struct is_xtensor_container : std::false_type {};

/// @brief `xt::xtensor_container` (xt::xtensor<T, N, L>): an owning container of static rank.
/// @tparam EC storage @tparam N rank @tparam L layout @tparam Tag expression tag
template <class EC, std::size_t N, xt::layout_type L, class Tag>
struct is_xtensor_container<xt::xtensor_container<EC, N, L, Tag>> : std::true_type {};

/// @brief `xt::xarray_container` (xt::xarray<T, L>): an owning container of dynamic rank.
/// @tparam EC storage @tparam L layout @tparam SC shape container @tparam Tag expression tag
template <class EC, xt::layout_type L, class SC, class Tag>
struct is_xtensor_container<xt::xarray_container<EC, L, SC, Tag>> : std::true_type {};

/// @brief `xt::xfixed_container` (xt::xtensor_fixed<T, xt::xshape<…>, L>): an owning container of
/// compile-time shape (include <xtensor/xfixed.hpp> to use it).
/// @tparam ET element type @tparam S fixed shape @tparam L layout @tparam SH sharable @tparam Tag expression tag
template <class ET, class S, xt::layout_type L, bool SH, class Tag>
struct is_xtensor_container<xt::xfixed_container<ET, S, L, SH, Tag>> : std::true_type {};

}  // namespace detail

/// @brief An xtensor container that owns its storage: xt::xtensor, xt::xarray or xt::xtensor_fixed, any
/// element type, rank and layout (not an adaptor, a view or an expression).
/// @tparam S the type
template <class S>
concept XtensorContainer = detail::is_xtensor_container<S>::value;

namespace detail {

/// @brief Whether a type is an xtensor container that is a supported state (primary: not an xtensor
/// container, so no).
/// @tparam S the type
template <class S, bool = is_xtensor_container<S>::value>
struct is_xtensor_state : std::false_type {};

/// @brief For xtensor containers: float or double elements in contiguous storage reached through
/// `.data()`, and a static row-major or column-major layout.
///
/// A plain trait, not a concept, because it selects the backend: the selection then never goes through
/// the compiler's constraint-satisfaction cache (GCC 12.2 was seen to select the unconstrained primary
/// backend_traits for a type that satisfies the constraint of a constrained partial specialization, in a
/// large translation unit; see tests/backends/cpu).
/// @tparam S an xtensor container type
template <class S>
struct is_xtensor_state<S, true>
    : std::bool_constant<std::is_floating_point_v<typename S::value_type> &&
                         std::is_same_v<decltype(std::declval<S&>().data()), typename S::value_type*> &&
                         std::is_same_v<decltype(std::declval<const S&>().data()), const typename S::value_type*> &&
                         (S::static_layout == xt::layout_type::row_major ||
                          S::static_layout == xt::layout_type::column_major)> {};

}  // namespace detail

/// @brief An xtensor container usable as a sampler state: float or double elements in contiguous storage
/// reached through `.data()`, and a static layout (row-major or column-major; see the file comment for
/// why `xt::layout_type::dynamic` is rejected).
/// @tparam S the type
template <class S>
concept XtensorState = XtensorContainer<S> && detail::is_xtensor_state<S>::value;

/// @brief Backend of the xtensor containers that are not states (a dynamic layout, or elements that are
/// not float/double): empty, so `mrsolve::State<S>` is false and the sampler's constraint names the type.
/// Its specialization also keeps the generic contiguous backend from claiming such a type (xt::xarray is
/// constructible from a scalar, so it looks like a resizable contiguous container).
struct xtensor_not_a_state {};

/// @brief Backend implementation for xtensor states: the fused host loop over their storage.
/// @tparam S an xtensor container satisfying XtensorState
template <class S>
struct xtensor_backend : detail::host_storage_backend<S> {
    static_assert(XtensorState<S>, "xtensor_backend: S must be an xtensor container of float or double with a "
                                   "row-major or column-major layout");

    /// @brief The element scalar.
    using value_type = typename S::value_type;

    /// @brief A zero container of the same shape (and, the layout being static, the same strides).
    /// Set-up only: it allocates (except for xt::xtensor_fixed).
    /// @param s the model state
    /// @return the new state, all elements 0
    /// @throws std::bad_alloc if the storage cannot be allocated
    [[nodiscard]] static S make_like(const S& s) { return S(s.shape(), value_type(0)); }
};

namespace detail {

/// @brief The backend of an xtensor container: xtensor_backend if it is a state, else empty.
/// @tparam S an xtensor container type
template <class S>
using xtensor_backend_of = std::conditional_t<is_xtensor_state<S>::value, xtensor_backend<S>, xtensor_not_a_state>;

}  // namespace detail

/// @brief Backend for `xt::xtensor<T, N, L>` (xtensor_backend when XtensorState holds, else empty).
/// @tparam EC storage @tparam N rank @tparam L layout @tparam Tag expression tag
template <class EC, std::size_t N, xt::layout_type L, class Tag>
struct backend_traits<xt::xtensor_container<EC, N, L, Tag>>
    : detail::xtensor_backend_of<xt::xtensor_container<EC, N, L, Tag>> {};

/// @brief Backend for `xt::xarray<T, L>` (xtensor_backend when XtensorState holds, else empty).
/// @tparam EC storage @tparam L layout @tparam SC shape container @tparam Tag expression tag
template <class EC, xt::layout_type L, class SC, class Tag>
struct backend_traits<xt::xarray_container<EC, L, SC, Tag>>
    : detail::xtensor_backend_of<xt::xarray_container<EC, L, SC, Tag>> {};

/// @brief Backend for `xt::xtensor_fixed<T, xt::xshape<…>, L>` (xtensor_backend when XtensorState holds,
/// else empty; include <xtensor/xfixed.hpp> to use it).
/// @tparam ET element type @tparam FS fixed shape @tparam L layout @tparam SH sharable @tparam Tag expression tag
template <class ET, class FS, xt::layout_type L, bool SH, class Tag>
struct backend_traits<xt::xfixed_container<ET, FS, L, SH, Tag>>
    : detail::xtensor_backend_of<xt::xfixed_container<ET, FS, L, SH, Tag>> {};

namespace detail {
/// This header is included: an xtensor type that is not a state here is simply not one (see concepts/state.hpp).
template <class S>
inline constexpr bool backend_header_included<named_backend::xtensor, S> = true;
}  // namespace detail

}  // namespace mrsolve
