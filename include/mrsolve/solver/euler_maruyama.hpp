#pragma once
/// @file euler_maruyama.hpp
/// @brief Baseline: Euler–Maruyama on the reverse-time SDE (docs/theory.md §5).

#include <cmath>
#include <span>
#include <string>

#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief Euler–Maruyama on dx = [f (μ − x) − g² ∇log p] dt + g dw̄ with ∇log p = −ε̂/σ.
///
/// From s to t < s with Δ = s − t (variable) or Δ = one table step (published_fixed):
/// x_t = x_s − [f(s)(μ − x_s) + g²(s) ε̂/σ_s] Δ + g(s) √Δ z. One model evaluation per step.
struct euler_maruyama {
    /// @brief Integrates the noise estimate ε̂ (the score).
    using parameterization = noise_prediction;
    /// @brief Stochastic.
    static constexpr bool stochastic = true;
    /// @brief A one-step method.
    static constexpr int max_order = 1;
    /// @brief Order 1 (weak).
    int order = 1;
    /// @brief Variable (correct) or published fixed table steps.
    step_mode mode = step_mode::variable;

    /// @brief "euler_maruyama" or "euler_maruyama_published". @return the name
    [[nodiscard]] std::string name() const {
        return mode == step_mode::variable ? "euler_maruyama" : "euler_maruyama_published";
    }
    /// @brief Checks the order. @throws mrsolve::invalid_argument unless order is 1
    void validate() const {
        if (order != 1) detail::throw_invalid("euler_maruyama supports order 1 only, got order ", order);
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
        if (mode == step_mode::published_fixed) detail::validate_fixed_step_grid(family, grid, "euler_maruyama");
    }
    /// @brief The update coefficients of one step.
    /// @tparam Family coefficient family (provides f and g²)
    /// @tparam Real scalar type
    /// @param family the family (f, g² at s)
    /// @param g the step geometry
    /// @return x_t as a combination of x_s, μ, ε̂(x_s, s) and z
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> coefficients(const Family& family, const step_geometry<Real>& g) const {
        const Real delta = mode == step_mode::variable ? g.s - g.t : Real(1);
        const Real f = detail::baseline_drift_rate(family, mode, g.s);
        const Real g2 = detail::baseline_diffusion_sq(family, mode, g.s);
        step_coefficients<Real> c;
        c.x = 1 + f * delta;
        c.mu = -f * delta;
        c.q[0] = -g2 * delta / g.sigma_s;
        c.z = std::sqrt(g2 * delta);
        return c;
    }
};

}  // namespace mrsolve
