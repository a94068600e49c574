#pragma once
/// @file uniform.hpp
/// @brief Grids uniform in time: linspace, time-quadratic, leading and trailing.

#include <cmath>
#include <limits>
#include <vector>

#include "../concepts/coefficients.hpp"

namespace mrsolve {

/// @brief `linspace`: M + 1 times uniform from t_max down to t_min (0 for the tables).
/// @tparam Family the coefficient family
/// @param family the family
/// @param steps M, the number of steps
/// @param t_max the start time (after clipping)
/// @return M + 1 times from t_max down to family.t_min()
/// @pre steps ≥ 1 and t_min < t_max ≤ family.t_max(); the grid is not validated here (make_grid
/// validates it)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> linspace_grid(const Family& family, int steps,
                                                                    typename Family::real_type t_max) {
    using Real = typename Family::real_type;
    const Real t_min = family.t_min();
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) grid[static_cast<std::size_t>(i)] = t_max + (t_min - t_max) * Real(i) / Real(steps);
    grid.back() = t_min;
    return grid;
}

/// @brief `time-quadratic`: uniform in √t from t_max to t_min (denser near the data).
/// @tparam Family the coefficient family
/// @param family the family
/// @param steps M, the number of steps
/// @param t_max the start time (after clipping)
/// @return M + 1 times from t_max down to family.t_min()
/// @pre steps ≥ 1, t_min ≥ 0 and t_min < t_max ≤ family.t_max(); the grid is not validated here (make_grid
/// validates it)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> time_quadratic_grid(const Family& family, int steps,
                                                                          typename Family::real_type t_max) {
    using Real = typename Family::real_type;
    const Real a = std::sqrt(t_max), b = std::sqrt(family.t_min());
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) {
        const Real r = a + (b - a) * Real(i) / Real(steps);
        grid[static_cast<std::size_t>(i)] = r * r;
    }
    grid.front() = t_max;
    grid.back() = family.t_min();
    return grid;
}

/// @brief `leading`: k = ⌊(t_max − t_min)/(M + 1)⌋ (real division for continuous families),
/// t_i = t_min + (M − i)·k + offset.
/// @tparam Family the coefficient family; for a DiscreteTableFamily k is rounded down to whole table steps
/// @param family the family
/// @param steps M, the number of steps
/// @param t_max the start time (after clipping)
/// @param offset the published offset
/// @return M + 1 times; t_M = t_min + offset, so the grid may stop short of t_min
/// @pre steps ≥ 1; the grid is not validated here (make_grid validates it: with more steps than table
/// entries k is 0 and the grid is rejected)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> leading_grid(const Family& family, int steps,
                                                                   typename Family::real_type t_max,
                                                                   typename Family::real_type offset) {
    using Real = typename Family::real_type;
    Real k = (t_max - family.t_min()) / Real(steps + 1);
    if constexpr (DiscreteTableFamily<Family>) k = std::floor(k);
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) grid[static_cast<std::size_t>(i)] = family.t_min() + Real(steps - i) * k + offset;
    return grid;
}

/// @brief `trailing`: t_max, t_max − T/(M+1), … (M + 1 values; it does not reach t_min), where T is the
/// family's whole range.
/// @tparam Family the coefficient family
/// @param family the family
/// @param steps M, the number of steps
/// @param t_max the start time (after clipping)
/// @param span the length divided into M + 1 steps: the family's range (published), or t_start − t_min
///        for a partial start (a NaN span selects the family's range)
/// @return M + 1 times from t_max in equal steps of span/(M + 1)
/// @pre steps ≥ 1 and t_min < t_max ≤ family.t_max(); the grid is not validated here (make_grid
/// validates it)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> trailing_grid(
    const Family& family, int steps, typename Family::real_type t_max,
    typename Family::real_type span = std::numeric_limits<typename Family::real_type>::quiet_NaN()) {
    using Real = typename Family::real_type;
    if (std::isnan(span)) span = family.t_max() - family.t_min();
    const Real spacing = span / Real(steps + 1);
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) grid[static_cast<std::size_t>(i)] = t_max - Real(i) * spacing;
    return grid;
}

}  // namespace mrsolve
