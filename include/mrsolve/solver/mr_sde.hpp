#pragma once
/// @file mr_sde.hpp
/// @brief MR Sampler for the reverse-time SDE: multistep stochastic exponential integrators, orders 1–2.

#include <cmath>
#include <string>
#include <type_traits>

#include "../detail/phi.hpp"
#include "../error.hpp"
#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief MR Sampler, reverse SDE, multistep, order 1 or 2 (docs/theory.md §4).
///
/// Data prediction, φ₁ = 1 − e^{−2h}, φ₂ = 1 − φ₁/(2h):
/// x_t = (σ_t/σ_s) e^{−h} x_s + α_t φ₁ q₀ [+ α_t φ₂ D1] + σ_t √φ₁ z + μ (1 − (α_t/α_s) e^{−2h} − α_t φ₁).
/// Noise prediction, φ₁ = e^h − 1, φ₂ = φ₁/h − 1:
/// x_t = (α_t/α_s) x_s − 2 σ_t φ₁ q₀ [− 2 σ_t φ₂ D1] + σ_t √(e^{2h} − 1) z + μ (1 − α_t/α_s).
/// One model evaluation and one standard normal vector per step.
/// @tparam P noise_prediction or data_prediction
template <Parameterization P>
struct mr_sde {
    /// @brief The parameterization integrated.
    using parameterization = P;
    /// @brief Stochastic: one normal vector per step.
    static constexpr bool stochastic = true;
    /// @brief Highest order offered.
    static constexpr int max_order = 2;

    /// @brief The order: 1 or 2.
    int order = 2;

    /// @brief A short name such as "sde_data_2".
    /// @return the name
    [[nodiscard]] std::string name() const { return "sde_" + std::string(P::name) + "_" + std::to_string(order); }

    /// @brief Checks the order (called once by the sampling loop before a run).
    /// @throws mrsolve::invalid_argument if the order is not 1 or 2
    void validate() const {
        if (order < 1 || order > max_order)
            detail::throw_invalid("mr_sde supports orders 1 and 2, got order ", order);
    }

    /// @brief The update coefficients of one step.
    /// @tparam Family coefficient family (unused)
    /// @tparam Real scalar type
    /// @param g the step geometry
    /// @return x_t as a combination of x_s, μ, the history and z
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> coefficients(const Family&, const step_geometry<Real>& g) const {
        const auto diff = detail::differences(g);
        step_coefficients<Real> c;
        if constexpr (std::is_same_v<P, data_prediction>) {
            const Real phi1 = -std::expm1(-2 * g.h);                   // 1 − e^{−2h}
            const Real phi2 = 2 * g.h * detail::phi(2, -2 * g.h);      // 1 − φ₁/(2h)
            const Real e2h = std::exp(-2 * g.h);
            c.x = g.sigma_t / g.sigma_s * std::exp(-g.h);
            c.mu = 1 - g.alpha_t / g.alpha_s * e2h - g.alpha_t * phi1;
            c.q[0] = g.alpha_t * phi1;
            if (g.order >= 2) detail::add_history(c, g.alpha_t * phi2, diff.d1);
            c.z = g.sigma_t * std::sqrt(phi1);
        } else {
            const Real phi1 = std::expm1(g.h);
            const Real phi2 = g.h * detail::phi(2, g.h);
            const Real ratio = g.alpha_t / g.alpha_s;
            c.x = ratio;
            c.mu = 1 - ratio;
            c.q[0] = -2 * g.sigma_t * phi1;
            if (g.order >= 2) detail::add_history(c, -2 * g.sigma_t * phi2, diff.d1);
            c.z = g.sigma_t * std::sqrt(std::expm1(2 * g.h));
        }
        return c;
    }
};

}  // namespace mrsolve
