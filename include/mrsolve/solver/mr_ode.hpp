#pragma once
/// @file mr_ode.hpp
/// @brief MR Sampler for the probability-flow ODE: multistep exponential integrators of orders 1–3.

#include <string>
#include <type_traits>

#include "../detail/phi.hpp"
#include "../error.hpp"
#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief How a third-order step weighs the second divided difference D2.
///
/// D2 = (D1₀ − D1₁)/(r₀ + r₁) approximates h² q''/2, while the Taylor term q'' u²/2 of the model output
/// integrates to h³ φ₃(∓h) q'' (standard φ₃); so the published weight φ₃ D2 (docs/theory.md §4, the
/// DPM-Solver++(3M) formula) integrates only half the curvature term and the method is second order.
enum class order3_rule {
    taylor,    ///< weight 2 φ₃ on D2: the exact integral of the quadratic through q₀, q₁, q₂; third order
    published  ///< weight φ₃ on D2, as the published sampler (and its golden recordings); second order
};

/// @brief MR Sampler, probability-flow ODE, multistep, order 1, 2 or 3 (docs/theory.md §4).
///
/// Data prediction: x_t = (σ_t/σ_s) x_s − α_t D + μ (1 − σ_t/σ_s + (σ_t/σ_s) α_s − α_t) with
/// φ₁ = e^{−h} − 1, φ₂ = φ₁/h + 1, φ₃ = φ₂/h − ½ and D = φ₁ q₀ − φ₂ D1 + w φ₃ D2.
/// Noise prediction: x_t = (α_t/α_s) x_s − σ_t D + μ (1 − α_t/α_s) with φ₁ = e^h − 1,
/// φ₂ = φ₁/h − 1, φ₃ = φ₂/h − ½ and D = φ₁ q₀ + φ₂ D1 + w φ₃ D2, where w = 2 (order3_rule::taylor,
/// the default: a true third-order method) or w = 1 (order3_rule::published). One model evaluation per step.
/// @tparam P noise_prediction or data_prediction
template <Parameterization P>
struct mr_ode {
    /// @brief The parameterization integrated.
    using parameterization = P;
    /// @brief Deterministic: no noise is drawn.
    static constexpr bool stochastic = false;
    /// @brief Highest order offered.
    static constexpr int max_order = 3;

    /// @brief The order: 1, 2 or 3.
    int order = 2;
    /// @brief The weight of D2 in order-3 steps (mrsolve's third-order rule, or the published one).
    order3_rule rule3 = order3_rule::taylor;

    /// @brief A short name such as "ode_data_2", or "ode_noise_3_published" for the published order-3 rule.
    /// @return the name
    [[nodiscard]] std::string name() const {
        return "ode_" + std::string(P::name) + "_" + std::to_string(order) +
               (order == 3 && rule3 == order3_rule::published ? "_published" : "");
    }

    /// @brief Checks the order (called once by the sampling loop before a run).
    /// @throws mrsolve::invalid_argument if the order is not 1, 2 or 3
    void validate() const {
        if (order < 1 || order > max_order)
            detail::throw_invalid("mr_ode supports orders 1, 2 and 3, got order ", order);
    }

    /// @brief The update coefficients of one step.
    /// @tparam Family coefficient family (unused: the geometry carries α, σ, λ)
    /// @tparam Real scalar type
    /// @param g the step geometry (its order is ≤ this solver's order)
    /// @return x_t as a combination of x_s, μ and the history
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> coefficients(const Family&, const step_geometry<Real>& g) const {
        const auto diff = detail::differences(g);
        const Real d2_weight = rule3 == order3_rule::published ? Real(1) : Real(2);
        step_coefficients<Real> c;
        if constexpr (std::is_same_v<P, data_prediction>) {
            // φ₁ = −h φ₁(−h), φ₂ = h φ₂(−h), φ₃ = −h φ₃(−h) in terms of the standard φ_k.
            const Real phi1 = -g.h * detail::phi(1, -g.h);
            const Real phi2 = g.h * detail::phi(2, -g.h);
            const Real phi3 = -g.h * detail::phi(3, -g.h);
            const Real ratio = g.sigma_t / g.sigma_s;
            c.x = ratio;
            c.mu = 1 - ratio + ratio * g.alpha_s - g.alpha_t;
            c.q[0] = -g.alpha_t * phi1;
            if (g.order >= 2) detail::add_history(c, g.alpha_t * phi2, diff.d1);
            if (g.order >= 3) detail::add_history(c, -d2_weight * g.alpha_t * phi3, diff.d2);
        } else {
            const Real phi1 = g.h * detail::phi(1, g.h);
            const Real phi2 = g.h * detail::phi(2, g.h);
            const Real phi3 = g.h * detail::phi(3, g.h);
            const Real ratio = g.alpha_t / g.alpha_s;
            c.x = ratio;
            c.mu = 1 - ratio;
            c.q[0] = -g.sigma_t * phi1;
            if (g.order >= 2) detail::add_history(c, -g.sigma_t * phi2, diff.d1);
            if (g.order >= 3) detail::add_history(c, -d2_weight * g.sigma_t * phi3, diff.d2);
        }
        return c;
    }
};

}  // namespace mrsolve
