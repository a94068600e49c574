#pragma once
/// @file mr_eta.hpp
/// @brief The η-continuum between the probability-flow ODE (η = 0) and the reverse SDE (η = 1), data
/// prediction, multistep orders 1–3, with the exact MR transition variance.

#include <array>
#include <cmath>
#include <string>
#include <type_traits>

#include "../detail/exponential_quadrature.hpp"
#include "../error.hpp"
#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief MR Sampler on the η-continuum of reverse processes that share the marginals of the forward SDE,
/// data prediction, multistep order 1, 2 or 3.
///
/// In y = x − μ the step from s to t (h = λ_t − λ_s, κ = 1 + η) is
///   y_t = (σ_t/σ_s) e^{−ηh} y_s + α_t κ ∫₀ʰ e^{−κ(h−u)} (x̂₀(u) − μ) du + σ_t √(1 − e^{−2ηh}) z,
/// with the integral taken exactly over the polynomial through the last `order` outputs. η = 0 is the
/// probability-flow ODE (mr_ode<data_prediction>, taylor rule), η = 1 the reverse SDE (mr_sde<data_prediction>).
/// For every η the first-order step maps N(μ + α_s (x₀ − μ), σ_s²) exactly onto N(μ + α_t (x₀ − μ), σ_t²)
/// when x̂₀ = x₀: the noise variance σ_t²(1 − e^{−2ηh}) is the exact remainder of the MR marginal.
/// (Noise prediction has no such variance-exact form with a frozen ε̂; it is not offered.)
/// @tparam P data_prediction
template <Parameterization P>
struct mr_eta {
    static_assert(std::is_same_v<P, data_prediction>,
                  "mr_eta integrates the data prediction: the exact MR transition variance needs x̂₀");
    /// @brief The parameterization integrated.
    using parameterization = P;
    /// @brief Stochastic: one normal vector per step (its weight is 0 when η = 0).
    static constexpr bool stochastic = true;
    /// @brief Highest order offered.
    static constexpr int max_order = 3;
    /// @brief Steps in λ̃ = ln(α/σ) of the family's α, σ (the family's λ on continuous families; on the
    /// interpolated tables the λ in which this y-form update is consistent, see sampler).
    static constexpr bool steps_in_alpha_sigma_lambda = true;

    /// @brief The order: 1, 2 or 3.
    int order = 2;
    /// @brief η ∈ [0, 1]: 0 is the probability-flow ODE, 1 the reverse SDE.
    double eta = 1;

    /// @brief A short name such as "eta0.5_data_2". @return the name
    [[nodiscard]] std::string name() const {
        std::string e = std::to_string(eta);
        e.erase(e.find_last_not_of('0') + 1);
        if (!e.empty() && e.back() == '.') e.pop_back();
        return "eta" + e + "_" + std::string(P::name) + "_" + std::to_string(order);
    }

    /// @brief Checks the order and η (called once by the sampling loop).
    /// @throws mrsolve::invalid_argument if the order is not 1, 2 or 3, or η ∉ [0, 1]
    void validate() const {
        if (order < 1 || order > max_order) detail::throw_invalid("mr_eta supports orders 1, 2 and 3, got order ", order);
        if (!(eta >= 0 && eta <= 1)) detail::throw_invalid("mr_eta needs eta in [0, 1], got eta = ", eta);
    }

    /// @brief The update coefficients of one step.
    /// @tparam Family coefficient family (unused) @tparam Real scalar type
    /// @param g the step geometry
    /// @return x_t as a combination of x_s, μ, the history and z
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> coefficients(const Family&, const step_geometry<Real>& g) const {
        const Real e = static_cast<Real>(eta), kappa = 1 + e;
        const auto w = detail::exponential_quadrature<Real, 3>(g.h, kappa, g.history_nodes(), g.order);
        step_coefficients<Real> c;
        c.x = g.sigma_t / g.sigma_s * std::exp(-e * g.h);
        Real weight_sum = 0;
        for (std::size_t k = 0; k < 3; ++k) {
            c.q[k] = g.alpha_t * kappa * w[k];
            weight_sum += c.q[k];
        }
        c.mu = 1 - c.x - weight_sum;
        c.z = g.sigma_t * std::sqrt(-std::expm1(-2 * e * g.h));
        return c;
    }
};

}  // namespace mrsolve
