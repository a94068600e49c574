#pragma once
/// @file step.hpp
/// @brief What a solver sees of one step (its geometry) and what it returns (the update coefficients).

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <span>

#include "../concepts/coefficients.hpp"
#include "../error.hpp"

namespace mrsolve {

/// @brief The geometry of step i, from the noisier time s = t_{i−1} to the cleaner time t = t_i.
/// @tparam Real scalar type of the coefficients
template <class Real>
struct step_geometry {
    int step;                 ///< i, 1-based
    int steps;                ///< M, the number of steps in the grid
    int order;                ///< the order this step uses (after warm-up and final-step rules)
    Real s, t;                ///< start and end time (s > t)
    Real alpha_s, alpha_t;    ///< α(s), α(t)
    Real sigma_s, sigma_t;    ///< σ(s), σ(t)
    Real lambda_s, lambda_t;  ///< λ(s), λ(t)
    Real h;                   ///< λ(t) − λ(s) > 0
    Real r0;                  ///< h_{i−1}/h (orders ≥ 2): previous λ-step over this one
    Real r1;                  ///< h_{i−2}/h (order 3)

    /// @brief The λ-positions, in units of h from s, of the model outputs a step of this order reads:
    /// q₀ at 0, q₁ at −r₀, q₂ at −(r₀ + r₁). @return the nodes (entries beyond the order are 0)
    [[nodiscard]] std::array<Real, 3> history_nodes() const noexcept {
        return {Real(0), order >= 2 ? -r0 : Real(0), order >= 3 ? -(r0 + r1) : Real(0)};
    }
};

/// @var step_geometry::s
/// @brief s = t_{i−1}, the start (noisier) time of the step.
/// @var step_geometry::t
/// @brief t = t_i, the end (cleaner) time of the step; t < s.
/// @var step_geometry::alpha_s
/// @brief α(s).
/// @var step_geometry::alpha_t
/// @brief α(t).
/// @var step_geometry::sigma_s
/// @brief σ(s).
/// @var step_geometry::sigma_t
/// @brief σ(t).
/// @var step_geometry::lambda_s
/// @brief λ(s), the half log-SNR at the start (not the stationary standard deviation σ_∞ of an IR-SDE).
/// @var step_geometry::lambda_t
/// @brief λ(t), the half log-SNR at the end.

/// @brief An update x_t = x·x_s + mu·μ + Σ_k q[k]·q_k + z·z as coefficients, where q₀ is the newest
/// converted model output (at s), q₁, q₂, q₃ older ones and z a standard normal vector. (A corrector's
/// increment uses the same layout: q₀ is then the output at the corrected step's end.)
/// @tparam Real scalar type of the coefficients
template <class Real>
struct step_coefficients {
    Real x = 0;                   ///< weight of the current state
    Real mu = 0;                  ///< weight of the condition μ
    std::array<Real, 4> q{};      ///< weights of q₀, q₁, q₂, q₃ (q₃: correctors only)
    Real z = 0;                   ///< weight of the standard normal draw (stochastic solvers)
};

namespace detail {

/// A linear combination of the history (q₀, q₁, q₂), used to build D1 and D2 of docs/theory.md §4.
template <class Real>
struct history_combination {
    std::array<Real, 3> w{};
    friend history_combination operator+(history_combination a, const history_combination& b) {
        for (int k = 0; k < 3; ++k) a.w[k] += b.w[k];
        return a;
    }
    friend history_combination operator-(history_combination a, const history_combination& b) {
        for (int k = 0; k < 3; ++k) a.w[k] -= b.w[k];
        return a;
    }
    friend history_combination operator*(Real s, history_combination a) {
        for (auto& v : a.w) v *= s;
        return a;
    }
};

/// The divided differences of docs/theory.md §4 for a step of the given order: D1 (orders 2, 3) and D2 (order 3).
template <class Real>
struct divided_differences {
    history_combination<Real> d1, d2;
};

template <class Real>
[[nodiscard]] divided_differences<Real> differences(const step_geometry<Real>& g) {
    const history_combination<Real> q0{{1, 0, 0}}, q1{{0, 1, 0}}, q2{{0, 0, 1}};
    divided_differences<Real> out;
    if (g.order == 2) {
        out.d1 = (1 / g.r0) * (q0 - q1);
    } else if (g.order == 3) {
        const auto d1_0 = (1 / g.r0) * (q0 - q1);
        const auto d1_1 = (1 / g.r1) * (q1 - q2);
        out.d1 = d1_0 + (g.r0 / (g.r0 + g.r1)) * (d1_0 - d1_1);
        out.d2 = (1 / (g.r0 + g.r1)) * (d1_0 - d1_1);
    }
    return out;
}

/// Adds weight·combination to the history weights of an update.
template <class Real>
void add_history(step_coefficients<Real>& c, Real weight, const history_combination<Real>& comb) {
    for (int k = 0; k < 3; ++k) c.q[k] += weight * comb.w[k];
}

}  // namespace detail
}  // namespace mrsolve

namespace mrsolve {

/// @brief How a baseline sizes its steps.
enum class step_mode {
    variable,        ///< the correct form: each step spans the grid interval [t_i, t_{i−1}]
    published_fixed  ///< the published IR-SDE form: every step is one training-table step, whatever the grid
};


namespace detail {

/// The published fixed-step baselines run on integer table times only.
template <class Family, class Real>
void validate_fixed_step_grid(const Family& family, std::span<const Real> grid, const char* solver) {
    if constexpr (!DiscreteTableFamily<Family>) {
        (void)family;
        (void)grid;
        throw_invalid(solver, ": the published fixed-step mode needs the discrete IR-SDE tables (irsde_table)");
    } else {
        for (std::size_t i = 0; i + 1 < grid.size(); ++i) {
            const Real t = grid[i];
            if (std::abs(t - std::round(t)) > Real(1e-9) * std::max<Real>(1, std::abs(t)) || std::round(t) < 1)
                throw_invalid(solver, ": the published fixed-step mode needs integer table times >= 1 at every "
                              "evaluation, got t[", i, "] = ", t);
        }
    }
}

/// The drift rate a baseline uses at time t: the family's f(t), or in the published fixed-step mode
/// the published θ(t)·dt where the family distinguishes the two (irsde_table).
template <class Family, class Real>
[[nodiscard]] Real baseline_drift_rate(const Family& family, step_mode mode, Real t) noexcept {
    if constexpr (requires { family.published_drift_rate(t); }) {
        if (mode == step_mode::published_fixed) return family.published_drift_rate(t);
    }
    return family.drift_rate(t);
}

/// The g(t)² a baseline uses at time t (as baseline_drift_rate).
template <class Family, class Real>
[[nodiscard]] Real baseline_diffusion_sq(const Family& family, step_mode mode, Real t) noexcept {
    if constexpr (requires { family.published_diffusion_sq(t); }) {
        if (mode == step_mode::published_fixed) return family.published_diffusion_sq(t);
    }
    return family.diffusion_sq(t);
}

}  // namespace detail
}  // namespace mrsolve
