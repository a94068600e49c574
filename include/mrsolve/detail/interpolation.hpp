#pragma once
/// @file interpolation.hpp
/// @brief Piecewise-linear interpolation on tables, extrapolating from the outermost segments.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>

namespace mrsolve::detail {

/// Linear interpolation of the table (xs, ys) at x, where xs is strictly increasing and has at least two
/// entries. Beyond the ends the outermost segment is extended (the published IR-SDE code does the same).
template <class Real>
[[nodiscard]] Real interpolate_increasing(std::span<const Real> xs, std::span<const Real> ys, Real x) noexcept {
    if (!(x == x)) return x;  // NaN in, NaN out (every comparison below is false for NaN: no valid segment)
    const std::size_t n = xs.size();
    std::size_t segment;
    if (x <= xs[0]) {
        segment = 0;
    } else if (x >= xs[n - 1]) {
        segment = n - 2;
    } else {
        // First entry greater than x, minus one; clamped, since a table holding NaN is not sorted and the
        // search may then return the end.
        segment = std::min(static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin()) - 1, n - 2);
    }
    const Real x0 = xs[segment], x1 = xs[segment + 1];
    const Real w = (x - x0) / (x1 - x0);
    return ys[segment] + w * (ys[segment + 1] - ys[segment]);
}

/// Linear interpolation of the table (xs, ys) at x where xs is strictly decreasing; extrapolating.
template <class Real>
[[nodiscard]] Real interpolate_decreasing(std::span<const Real> xs, std::span<const Real> ys, Real x) noexcept {
    if (!(x == x)) return x;  // NaN in, NaN out (every comparison below is false for NaN: no valid segment)
    const std::size_t n = xs.size();
    std::size_t segment;
    if (x >= xs[0]) {
        segment = 0;
    } else if (x <= xs[n - 1]) {
        segment = n - 2;
    } else {
        segment = std::min(static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), x,
                                                                     [](Real a, Real b) { return a > b; }) -
                                                    xs.begin()) -
                               1,
                           n - 2);  // clamped as above
    }
    const Real x0 = xs[segment], x1 = xs[segment + 1];
    const Real w = (x - x0) / (x1 - x0);
    return ys[segment] + w * (ys[segment + 1] - ys[segment]);
}

/// Interpolation on a uniform grid xs = 0, 1, …, n−1 (table steps): the common case of the IR-SDE tables.
template <class Real>
[[nodiscard]] Real interpolate_unit_grid(std::span<const Real> ys, Real t) noexcept {
    if (!(t == t)) return t;  // NaN in, NaN out (never an out-of-range index)
    const std::size_t n = ys.size();
    const Real last = static_cast<Real>(n - 2);
    const Real base = std::clamp(std::floor(t), Real(0), last);
    const auto segment = static_cast<std::size_t>(base);
    const Real w = t - base;
    return ys[segment] + w * (ys[segment + 1] - ys[segment]);
}

}  // namespace mrsolve::detail
