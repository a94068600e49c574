#pragma once
/// @file heun_ode.hpp
/// @brief Baseline: Heun's method (explicit trapezoidal rule) on the probability-flow ODE (docs/theory.md §5).

#include <span>
#include <string>

#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief Heun on dx/dt = d(x, t) = f (μ − x) + ½ g² ε̂/σ: x' = x_s − Δ d(x_s, s),
/// x_t = x_s − ½ Δ (d(x_s, s) + d(x', s − Δ)). Two model evaluations per step.
///
/// Δ = s − t (variable) or one table step (published_fixed, with the second evaluation at s − 1).
struct heun_ode {
    /// @brief Integrates the noise estimate ε̂.
    using parameterization = noise_prediction;
    /// @brief Deterministic.
    static constexpr bool stochastic = false;
    /// @brief A one-step, two-stage method.
    static constexpr int max_order = 2;
    /// @brief Model evaluations per step.
    static constexpr int stages = 2;
    /// @brief Order 2 (the only one offered).
    int order = 2;
    /// @brief Variable (correct) or published fixed table steps.
    step_mode mode = step_mode::variable;

    /// @brief "heun_ode" or "heun_ode_published". @return the name
    [[nodiscard]] std::string name() const { return mode == step_mode::variable ? "heun_ode" : "heun_ode_published"; }
    /// @brief Checks the order. @throws mrsolve::invalid_argument unless order is 2
    void validate() const {
        if (order != 2) detail::throw_invalid("heun_ode is a second-order method; order must be 2, got ", order);
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
        if (mode == step_mode::published_fixed) detail::validate_fixed_step_grid(family, grid, "heun_ode");
    }
    /// @brief The step size Δ of step (s → t).
    /// @tparam Real scalar type
    /// @param s the start (noisier) time
    /// @param t the end time
    /// @return s − t (variable) or 1, one table step (published_fixed)
    template <class Real>
    [[nodiscard]] Real delta(Real s, Real t) const noexcept {
        return mode == step_mode::variable ? s - t : Real(1);
    }
};

}  // namespace mrsolve
