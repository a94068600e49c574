#pragma once
/// @file coefficients.hpp
/// @brief The concept every coefficient family (a member of the MR SDE family, docs/theory.md §1) satisfies.

#include <cmath>
#include <concepts>

namespace mrsolve {

/// @brief A member of the MR SDE family dx = f(t)(μ − x) dt + g(t) dw, described by its marginal coefficients.
///
/// Time runs over [t_min(), t_max()] with data at t_min() side; α decreases, σ increases and
/// λ = ln(α/σ) strictly decreases in t. `t_of_lambda` inverts λ. `drift_rate` is f(t) and
/// `diffusion_sq` is g(t)², needed only by the Euler-type baselines.
/// @tparam F the family type: it names its scalar type `real_type` (a floating-point type) and provides,
/// all const and taking/returning `real_type`: `alpha(t)`, `sigma(t)`, `lambda(t)`, `t_of_lambda(l)`,
/// `drift_rate(t)`, `diffusion_sq(t)`, `t_min()` and `t_max()`
template <class F>
concept CoefficientFamily = std::floating_point<typename F::real_type> &&
    requires(const F& family, typename F::real_type t) {
        { family.alpha(t) } -> std::convertible_to<typename F::real_type>;
        { family.sigma(t) } -> std::convertible_to<typename F::real_type>;
        { family.lambda(t) } -> std::convertible_to<typename F::real_type>;
        { family.t_of_lambda(t) } -> std::convertible_to<typename F::real_type>;
        { family.drift_rate(t) } -> std::convertible_to<typename F::real_type>;
        { family.diffusion_sq(t) } -> std::convertible_to<typename F::real_type>;
        { family.t_min() } -> std::convertible_to<typename F::real_type>;
        { family.t_max() } -> std::convertible_to<typename F::real_type>;
    };

/// @brief A family with a stationary standard deviation σ_∞ (the IR-SDE members): σ = σ_∞ √(1 − α²).
///
/// Needed for the velocity fit target and for drawing the start state x_T = μ + σ_∞ z.
/// @tparam F a CoefficientFamily that also provides `stationary_std()` (σ_∞)
template <class F>
concept StationaryFamily = CoefficientFamily<F> && requires(const F& family) {
    { family.stationary_std() } -> std::convertible_to<typename F::real_type>;
};

namespace detail {
/// @brief λ̃(t) = ln(α(t)/σ(t)) of a family's own α and σ: the λ the solvers step in (docs/theory.md §7).
/// It equals family.lambda(t) on continuous families; on interpolated tables it is the variable in which
/// a step solves the ODE of the interpolated α, σ.
template <CoefficientFamily F>
[[nodiscard]] typename F::real_type alpha_sigma_lambda(const F& family, typename F::real_type t) {
    return std::log(family.alpha(t) / family.sigma(t));
}
}  // namespace detail

/// @brief A family built from discrete IR-SDE tables (what the published fixed-step baselines need).
/// @tparam F the family type: it provides `theta_table()`, `theta_bar_table()`, `dt()`, `steps()` and
/// `stationary_std()` (irsde_table does)
template <class F>
concept DiscreteTableFamily = requires(const F& f) {
    { f.theta_table() };
    { f.theta_bar_table() };
    { f.dt() };
    { f.steps() } -> std::convertible_to<int>;
    { f.stationary_std() };
};

}  // namespace mrsolve
