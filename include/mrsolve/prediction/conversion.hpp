#pragma once
/// @file conversion.hpp
/// @brief Conversions between fit targets at (x, t) as affine maps q = a x + b μ + c·out (docs/theory.md §2).

#include <cmath>
#include <limits>

#include "../error.hpp"
#include "fit_target.hpp"

namespace mrsolve {

/// @brief Coefficients of an affine map q = x_coef·x + mu_coef·μ + out_coef·out, applied element-wise.
/// @tparam Real scalar type of the coefficients
template <class Real>
struct affine_map {
    Real x_coef;    ///< weight of the state x
    Real mu_coef;   ///< weight of the condition μ
    Real out_coef;  ///< weight of the model output
};

/// @brief The affine map that turns a model output of fit target `from` into fit target `to` at (x, t).
///
/// With y = x − μ and σ̂ = σ/σ_∞: x̂₀ = μ + (y − σ ε̂)/α; ε̂ = (y − α (x̂₀ − μ))/σ;
/// x̂₀ = μ + α y − σ̂ v̂; ε̂ = (α v̂ + σ̂ y)/σ_∞; and the inverses for velocity.
/// @tparam Real scalar type
/// @param from what the network returns
/// @param to what the solver integrates (noise or data)
/// @param alpha α(t)
/// @param sigma σ(t)
/// @param lambda_s stationary standard deviation σ_∞ (needed only when velocity is involved; NaN otherwise)
/// @return the affine map
/// @throws mrsolve::invalid_argument if velocity is involved and σ_∞ is not finite and positive
template <class Real>
[[nodiscard]] affine_map<Real> conversion(fit_target from, fit_target to, Real alpha, Real sigma,
                                          Real lambda_s = std::numeric_limits<Real>::quiet_NaN()) {
    if (from == to) return {0, 0, 1};
    if ((from == fit_target::velocity || to == fit_target::velocity) && !(lambda_s > 0 && std::isfinite(lambda_s)))
        detail::throw_invalid("the velocity fit target needs a family with a stationary standard deviation "
                              "lambda_s > 0, got ", lambda_s);
    const Real s_hat = sigma / lambda_s;
    switch (to) {
        case fit_target::data:
            if (from == fit_target::noise) return {1 / alpha, 1 - 1 / alpha, -sigma / alpha};
            return {alpha, 1 - alpha, -s_hat};  // from velocity
        case fit_target::noise:
            if (from == fit_target::data) return {1 / sigma, (alpha - 1) / sigma, -alpha / sigma};
            return {s_hat / lambda_s, -s_hat / lambda_s, alpha / lambda_s};  // from velocity
        case fit_target::velocity:
            // v = α σ_∞ ε − σ̂ (x₀ − μ) expressed through whichever of ε̂, x̂₀ the model gives.
            if (from == fit_target::noise) {
                // x₀ − μ = (y − σ ε)/α ⇒ v = (α σ_∞ + σ̂ σ/α) ε − (σ̂/α) y
                return {-s_hat / alpha, s_hat / alpha, alpha * lambda_s + s_hat * sigma / alpha};
            }
            // from data: ε = (y − α (x₀ − μ))/σ ⇒ v = (α σ_∞/σ) y − (α² σ_∞/σ + σ̂)(x₀ − μ)
            {
                const Real k = alpha * lambda_s / sigma;
                const Real m = alpha * alpha * lambda_s / sigma + s_hat;
                return {k, -k + m, -m};
            }
    }
    return {0, 0, 1};
}

}  // namespace mrsolve
