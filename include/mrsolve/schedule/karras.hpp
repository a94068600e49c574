#pragma once
/// @file karras.hpp
/// @brief Karras et al. (2022) ρ-schedules: `karras-n` on ς = σ/α and `karras-t` on time.

#include <cmath>
#include <vector>

#include "../concepts/coefficients.hpp"

namespace mrsolve {

/// @brief `karras-n`: ς_i = (ς_max^{1/ρ} + (i/M)(ς_min^{1/ρ} − ς_max^{1/ρ}))^ρ on ς = σ/α, from t_max to
/// t_min, mapped to t by interpolation of the ς table (discrete tables, extrapolating, as published) or
/// by the exact t(λ = −ln ς) (continuous families).
/// @tparam Family the coefficient family; one with `t_of_sigma_over_alpha` (irsde_table) is mapped through it
/// @param family the family
/// @param steps M, the number of steps
/// @param t_max the start time (after clipping)
/// @param rho ρ (make_grid's default is 7)
/// @return M + 1 times from t_max down to family.t_min()
/// @pre steps ≥ 1, ρ > 0 and t_min < t_max ≤ family.t_max(); the grid is not validated here (make_grid
/// validates it)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> karras_n_grid(const Family& family, int steps,
                                                                    typename Family::real_type t_max,
                                                                    typename Family::real_type rho) {
    using Real = typename Family::real_type;
    const auto varsigma = [&](Real t) { return family.sigma(t) / family.alpha(t); };
    const Real a = std::pow(varsigma(t_max), 1 / rho), b = std::pow(varsigma(family.t_min()), 1 / rho);
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) {
        const Real v = std::pow(a + (b - a) * Real(i) / Real(steps), rho);
        if constexpr (requires { family.t_of_sigma_over_alpha(v); }) {
            grid[static_cast<std::size_t>(i)] = family.t_of_sigma_over_alpha(v);
        } else {
            grid[static_cast<std::size_t>(i)] = family.t_of_lambda(-std::log(v));
        }
    }
    grid.front() = t_max;
    grid.back() = family.t_min();
    return grid;
}

/// @brief `karras-t`: t_i = (t_max^{1/ρ} + (i/M)(t_end^{1/ρ} − t_max^{1/ρ}))^ρ with t_end = 1 for the
/// tables (as published: it stops one table step short of 0) and t_min for continuous families.
/// @tparam Family the coefficient family; a discrete-table family (with `steps()` and `theta_table()`) ends at
/// t_min + 1
/// @param family the family
/// @param steps M, the number of steps
/// @param t_max the start time (after clipping)
/// @param rho ρ (make_grid's default is 7)
/// @return M + 1 times from t_max down to t_end
/// @pre steps ≥ 1, ρ > 0 and t_min < t_max ≤ family.t_max(); the grid is not validated here (make_grid
/// validates it)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> karras_t_grid(const Family& family, int steps,
                                                                    typename Family::real_type t_max,
                                                                    typename Family::real_type rho) {
    using Real = typename Family::real_type;
    Real t_end = family.t_min();
    if constexpr (requires { family.steps(); family.theta_table(); }) t_end = family.t_min() + 1;
    const Real a = std::pow(t_max, 1 / rho), b = std::pow(t_end, 1 / rho);
    std::vector<Real> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) grid[static_cast<std::size_t>(i)] = std::pow(a + (b - a) * Real(i) / Real(steps), rho);
    grid.front() = t_max;
    grid.back() = t_end;
    return grid;
}

}  // namespace mrsolve
