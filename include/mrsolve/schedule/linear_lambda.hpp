#pragma once
/// @file linear_lambda.hpp
/// @brief `linear-lambda`: uniform steps in λ (the natural grid of the exponential integrators).

#include <algorithm>
#include <vector>

#include "../concepts/coefficients.hpp"

namespace mrsolve {

/// @brief λ from max(λ(t_max), λ_min) to λ(t_min) in M equal steps, mapped to t by the family's
/// t(λ) (piecewise-linear interpolation of the table for the discrete tables, exact otherwise).
/// @tparam Family the coefficient family
/// @param family the family
/// @param steps M, the number of steps
/// @param lambda_min the clipping bound (−∞: none)
/// @return M + 1 times from t(max(λ(t_max), λ_min)) down to family.t_min()
/// @pre steps ≥ 1 and λ_min < λ(t_min); the grid is not validated here (make_grid validates it)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> linear_lambda_grid(const Family& family, int steps,
                                                                         typename Family::real_type lambda_min) {
    using Real = typename Family::real_type;
    const Real lo = std::max(family.lambda(family.t_max()), lambda_min);
    const Real hi = family.lambda(family.t_min());
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i)
        grid[static_cast<std::size_t>(i)] = family.t_of_lambda(lo + (hi - lo) * Real(i) / Real(steps));
    grid.back() = family.t_min();
    if (!(lambda_min > family.lambda(family.t_max()))) grid.front() = family.t_max();
    return grid;
}

}  // namespace mrsolve
