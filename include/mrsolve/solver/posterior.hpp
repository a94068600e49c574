#pragma once
/// @file posterior.hpp
/// @brief Baseline: IR-SDE posterior sampling ("optimum reverse" step), docs/theory.md §5.

#include <algorithm>
#include <cmath>
#include <span>
#include <string>

#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief Draws x_t ~ q(x_t | x_s, x̂₀) from the noisier s to the cleaner t.
///
/// Variable step: with a = α_s/α_t and v = σ_s² − a² σ_t², mean_y = (a σ_t²/σ_s²) y_s +
/// α_t (v/σ_s²)(x̂₀ − μ) and var = σ_t² v/σ_s². Published fixed step at table index j = s:
/// A = e^{−θ_j dt}, B = e^{−θ̄_j dt}, C = e^{−θ̄_{j−1} dt}, mean_y = A(1−C²)/(1−B²) y +
/// C(1−A²)/(1−B²)(x̂₀ − μ), var = σ_∞² (1−A²)(1−C²)/(1−B²), whatever the grid spacing.
struct posterior_sampling {
    /// @brief Integrates the data estimate x̂₀.
    using parameterization = data_prediction;
    /// @brief Stochastic.
    static constexpr bool stochastic = true;
    /// @brief A one-step method.
    static constexpr int max_order = 1;
    /// @brief Order 1.
    int order = 1;
    /// @brief Variable (correct) or published fixed table steps.
    step_mode mode = step_mode::variable;

    /// @brief "posterior_exact" or "posterior_published". @return the name
    [[nodiscard]] std::string name() const {
        return mode == step_mode::variable ? "posterior_exact" : "posterior_published";
    }
    /// @brief Checks the order. @throws mrsolve::invalid_argument unless order is 1
    void validate() const {
        if (order != 1) detail::throw_invalid("posterior_sampling supports order 1 only, got order ", order);
    }
    /// @brief Checks the grid for the published mode (called once by the sampling loop before a run).
    /// @tparam Family the coefficient family
    /// @tparam Real scalar type of the times
    /// @param family the family
    /// @param grid the times
    /// @throws mrsolve::invalid_argument if published_fixed is used without the discrete tables
    /// (irsde_table) or with a time that is not an integer table step ≥ 1 at an evaluation
    template <class Family, class Real>
    void validate_grid(const Family& family, std::span<const Real> grid) const {
        if (mode == step_mode::published_fixed) detail::validate_fixed_step_grid(family, grid, "posterior_sampling");
    }
    /// @brief The update coefficients of one step.
    /// @tparam Family coefficient family (the published mode reads its θ, θ̄ tables, dt and σ_∞)
    /// @tparam Real scalar type
    /// @param family the family
    /// @param g the step geometry
    /// @return x_t as a combination of x_s, μ, x̂₀(x_s, s) and z
    /// @pre in published_fixed mode the family is a DiscreteTableFamily and g.s an integer table step ≥ 1
    /// (validate_grid checks both)
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> coefficients(const Family& family, const step_geometry<Real>& g) const {
        Real keep, toward_data, variance;  // mean_y = keep·y + toward_data·(x̂₀ − μ)
        if (mode == step_mode::variable) {
            const Real a = g.alpha_s / g.alpha_t;
            const Real s2 = g.sigma_s * g.sigma_s, t2 = g.sigma_t * g.sigma_t;
            const Real v = std::max<Real>(s2 - a * a * t2, 0);
            keep = a * t2 / s2;
            toward_data = g.alpha_t * v / s2;
            variance = t2 * v / s2;
        } else {
            if constexpr (DiscreteTableFamily<Family>) {
                const auto j = static_cast<std::size_t>(std::lround(g.s));
                const Real dt = family.dt();
                const Real A = std::exp(-family.theta_table()[j] * dt);
                const Real B = std::exp(-family.theta_bar_table()[j] * dt);
                const Real C = std::exp(-family.theta_bar_table()[j - 1] * dt);
                const Real ls = family.stationary_std();
                keep = A * (1 - C * C) / (1 - B * B);
                toward_data = C * (1 - A * A) / (1 - B * B);
                variance = ls * ls * (1 - A * A) * (1 - C * C) / (1 - B * B);
            } else {
                keep = toward_data = variance = 0;  // unreachable: validate_grid rejects this case
            }
        }
        step_coefficients<Real> c;
        c.x = keep;
        c.q[0] = toward_data;
        c.mu = 1 - keep - toward_data;
        c.z = std::sqrt(variance);
        return c;
    }
};

}  // namespace mrsolve
