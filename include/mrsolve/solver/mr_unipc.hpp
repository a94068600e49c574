#pragma once
/// @file mr_unipc.hpp
/// @brief MR predictor–corrector (UniPC-style) for the probability-flow ODE: a corrector at no extra NFE.

#include <array>
#include <functional>
#include <string>
#include <type_traits>

#include "../detail/exponential_quadrature.hpp"
#include "../detail/phi.hpp"
#include "../error.hpp"
#include "../prediction/parameterization.hpp"
#include "step.hpp"

namespace mrsolve {

/// @brief The B(h) of a UniPC update that has a single divided difference D (the only case where it
/// matters: with two or more, the order conditions are solved exactly and B(h) cancels).
enum class unipc_variant {
    bh1,  ///< B(h) = h (in the integrand's sign convention): the D-weight is h/2
    bh2   ///< B(h) = e^h − 1: the D-weight is h φ₁(∓h)/2 (UniPC's recommendation for guided/low NFE sampling)
};

/// @brief MR predictor–corrector for the probability-flow ODE, multistep, predictor order 1, 2 or 3.
///
/// Step i runs the predictor of order p from x_{t_{i−1}} with the model outputs at t_{i−1}, t_{i−2}, …
/// (exponential integrator of docs/theory.md §3 applied to the polynomial through them). The output at t_i,
/// which step i + 1 evaluates anyway, then corrects x_{t_i}: the step is redone with the polynomial
/// through p + 1 outputs including the new one, which raises the order to p + 1 at no extra NFE. The
/// output at t_i stays the one evaluated at the predicted state (as UniPC does), and the correction is
/// an increment fused into step i + 1's single pass. The last step has no later evaluation, so it is
/// never corrected. With one divided difference (predictor order 2, corrector after an order-1 step) the
/// weight of D is B(h)/2 (unipc_variant); otherwise the weights are those of the exact integral.
/// The update is the y-form of docs/theory.md §3 (x_t − μ = c_x (x_s − μ) + Σ w_j (q_j − μ) for data).
/// @tparam P noise_prediction or data_prediction
template <Parameterization P>
struct mr_unipc {
    /// @brief The parameterization integrated.
    using parameterization = P;
    /// @brief Deterministic: no noise is drawn.
    static constexpr bool stochastic = false;
    /// @brief Highest predictor order offered.
    static constexpr int max_order = 3;
    /// @brief The sampling loop applies correction() with the next step's evaluation.
    static constexpr bool corrects = true;
    /// @brief Steps in λ̃ = ln(α/σ) of the family's α, σ (the family's λ on continuous families; on the
    /// interpolated tables the λ in which this y-form update is consistent, see sampler).
    static constexpr bool steps_in_alpha_sigma_lambda = true;

    /// @brief The predictor order p: 1, 2 or 3 (corrected steps have order p + 1).
    int order = 2;
    /// @brief B(h) of single-difference updates.
    unipc_variant variant = unipc_variant::bh2;
    /// @brief Whether to correct the result of step i of M (called as use_corrector(i, M) for i < M);
    /// empty: correct every step that has a later evaluation.
    std::function<bool(int step, int steps)> use_corrector{};

    /// @brief A short name such as "unipc_data_2_bh2". @return the name
    [[nodiscard]] std::string name() const {
        return "unipc_" + std::string(P::name) + "_" + std::to_string(order) +
               (variant == unipc_variant::bh1 ? "_bh1" : "_bh2");
    }

    /// @brief Checks the order (called once by the sampling loop).
    /// @throws mrsolve::invalid_argument if the order is not 1, 2 or 3
    void validate() const {
        if (order < 1 || order > max_order)
            detail::throw_invalid("mr_unipc supports predictor orders 1, 2 and 3, got order ", order);
    }

    /// @brief Whether the result of step `step` is corrected. @param step i (1-based) @param steps M
    /// @return false for the last step, else use_corrector(step, steps) (true when it is empty)
    [[nodiscard]] bool corrects_step(int step, int steps) const {
        return step < steps && (!use_corrector || use_corrector(step, steps));
    }

    /// @brief The predictor of one step.
    /// @tparam Family coefficient family (unused) @tparam Real scalar type
    /// @param g the step geometry (its order ≤ this solver's order)
    /// @return x_t as a combination of x_s, μ and q₀ … q_{order−1}
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> coefficients(const Family&, const step_geometry<Real>& g) const {
        const auto nodes = g.history_nodes();
        std::array<Real, 4> r{nodes[0], nodes[1], nodes[2], Real(0)};
        return assemble(g, weights(g, r, g.order));
    }

    /// @brief The correction of step i's result x̃_{t_i}, as an increment: x_{t_i} = x̃_{t_i} + c.mu μ +
    /// Σ_k c.q[k] q_k, with q₀ the output evaluated at (x̃_{t_i}, t_i) and q₁, q₂, q₃ the outputs step i read.
    /// @tparam Family coefficient family @tparam Real scalar type
    /// @param family the coefficient family (passed on to coefficients())
    /// @param g step i's geometry, as its predictor saw it
    /// @return the increment (c.x = 0)
    template <class Family, class Real>
    [[nodiscard]] step_coefficients<Real> correction(const Family& family, const step_geometry<Real>& g) const {
        // Nodes of the corrector, in step i's h units from its start: the new output at 1, then step i's own.
        const auto nodes = g.history_nodes();
        const std::array<Real, 4> r{Real(1), nodes[0], nodes[1], nodes[2]};
        const auto corrected = assemble(g, weights(g, r, g.order + 1));
        const auto predicted = coefficients(family, g);
        step_coefficients<Real> c;
        c.mu = corrected.mu - predicted.mu;
        c.q[0] = corrected.q[0];
        for (int k = 1; k < 4; ++k) c.q[static_cast<std::size_t>(k)] = corrected.q[static_cast<std::size_t>(k)] - predicted.q[static_cast<std::size_t>(k) - 1];
        return c;
    }

private:
    static constexpr bool data = std::is_same_v<P, data_prediction>;

    // Integral weights ∫₀ʰ e^{−κ(h−u)} P(u) du = Σ w_j q_j over the first `count` nodes (κ = 1 data, −1 noise).
    template <class Real>
    [[nodiscard]] std::array<Real, 4> weights(const step_geometry<Real>& g, const std::array<Real, 4>& r,
                                              int count) const {
        const Real kappa = data ? Real(1) : Real(-1);
        const Real h_phi1 = g.h * detail::phi(1, -kappa * g.h);
        if (count == 2) {
            // One divided difference D = (q_b − q_a)/(r_b − r_a): weight B(h)/2 instead of h φ₂(−κh).
            const Real d_weight = variant == unipc_variant::bh1 ? g.h / 2 : h_phi1 / 2;
            // Nodes: {0, −r₀} for the predictor, {1, 0} for the corrector; the constant part sits at r = 0.
            const std::size_t at_zero = r[0] == Real(0) ? 0 : 1, other = 1 - at_zero;
            const Real d_scale = d_weight / r[other];
            std::array<Real, 4> w{};
            w[at_zero] = h_phi1 - d_scale;
            w[other] = d_scale;
            return w;
        }
        return detail::exponential_quadrature<Real, 4>(g.h, kappa, r, count);
    }

    // x_t = c_x x_s + c_mu μ + Σ c_j q_j from the integral weights (y-form of docs/theory.md §3).
    template <class Real>
    [[nodiscard]] static step_coefficients<Real> assemble(const step_geometry<Real>& g, const std::array<Real, 4>& w) {
        step_coefficients<Real> c;
        Real weight_sum = 0;
        if constexpr (data) {
            c.x = g.sigma_t / g.sigma_s;
            for (std::size_t k = 0; k < 4; ++k) {
                c.q[k] = g.alpha_t * w[k];
                weight_sum += c.q[k];
            }
            c.mu = 1 - c.x - weight_sum;
        } else {
            c.x = g.alpha_t / g.alpha_s;
            for (std::size_t k = 0; k < 4; ++k) c.q[k] = -g.sigma_t * w[k];
            c.mu = 1 - c.x;
        }
        return c;
    }
};

}  // namespace mrsolve
