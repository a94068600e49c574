#pragma once
/// @file uniform.hpp
/// @brief Grids uniform in time: linspace, time-quadratic, leading and trailing.

#include <cmath>
#include <vector>

#include "../concepts/coefficients.hpp"
#include "../solver/step.hpp"

namespace mrsolve {

/// @brief `linspace`: M + 1 times uniform from t_max down to t_min (0 for the tables).
/// @param family the family @param steps M @param t_max start (after clipping) @return the grid
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
/// @param family the family @param steps M @param t_max start (after clipping) @return the grid
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
/// @param family the family @param steps M @param t_max start (after clipping) @param offset the published offset
/// @return the grid
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
/// @param family the family @param steps M @param t_max start (after clipping) @return the grid
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> trailing_grid(const Family& family, int steps,
                                                                    typename Family::real_type t_max) {
    using Real = typename Family::real_type;
    const Real spacing = (family.t_max() - family.t_min()) / Real(steps + 1);
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) grid[static_cast<std::size_t>(i)] = t_max - Real(i) * spacing;
    return grid;
}

}  // namespace mrsolve
