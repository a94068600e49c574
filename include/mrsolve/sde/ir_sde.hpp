#pragma once
/// @file ir_sde.hpp
/// @brief Continuous-time IR-SDE families with constant, linear and cosine θ(t); λ = ln(α/σ) exactly.

#include <cmath>
#include <concepts>
#include <limits>
#include <numbers>

#include "../error.hpp"
#include "irsde_table.hpp"

namespace mrsolve {

/// @brief The continuous IR-SDE: f = κ θ(t), g² = 2 σ_∞² κ θ(t) on t ∈ [t_min, T].
///
/// With Θ(t) = ∫₀ᵗ θ, α(t) = exp(−κ Θ(t)) and σ(t) = σ_∞ √(1 − α²); κ = −ln(eps)/Θ(T) so that
/// α(T) = eps as in the tables. θ shapes: constant θ = 1; linear θ = θ₀ + (θ₁ − θ₀) t/T with
/// θ₁/θ₀ = 200 (the table's ratio); cosine θ = 1 − cos²(u(t))/cos²(u(0)) with
/// u(t) = (t/T + 0.008)/1.008 · π/2. Every coefficient, its inverse t(λ) and Θ are closed forms
/// evaluated without cancellation. Since σ(0) = 0 (λ = +∞ at t = 0), sampling ends at t_min > 0.
/// @tparam Real the scalar type of every coefficient
template <std::floating_point Real = double>
class ir_sde {
public:
    /// @brief Scalar type of the coefficients.
    using real_type = Real;

    /// @brief Builds the family.
    /// @param parameters θ shape, T, the noise level (stationary_std = σ_∞, or the published max_sigma: σ_∞ =
    ///        max_sigma/255 if ≥ 1, see irsde_parameters) and eps = α(T)
    /// @param t_min where sampling ends (data side); a negative value selects the default T/1000
    /// @throws mrsolve::invalid_argument if T < 1, σ_∞ ≤ 0, eps ∉ (0, 1) or t_min ∉ (0, T), or if the
    ///         coefficients leave the range of Real at t_min or T (extreme eps, σ_∞ or t_min)
    explicit ir_sde(const irsde_parameters& parameters = {}, Real t_min = -1) : parameters_(parameters) {
        detail::validate(parameters);
        T_ = static_cast<Real>(parameters.steps);
        t_min_ = t_min < 0 ? T_ / 1000 : t_min;
        if (!(t_min_ > 0 && t_min_ < T_))
            detail::throw_invalid("ir_sde t_min must lie in (0, T = ", T_, "), got ", t_min_);
        lambda_s_ = static_cast<Real>(stationary_std_of(parameters));
        const Real s = Real(0.008);
        u0_ = s / (1 + s) * std::numbers::pi_v<Real> / 2;
        a_ = std::numbers::pi_v<Real> / (2 * T_ * (1 + s));
        kappa_ = -std::log(static_cast<Real>(parameters.eps)) / theta_integral(T_);
        check_range();
    }

    /// @brief θ(t) before the scaling κ. @param t time @return θ(t)
    [[nodiscard]] Real theta(Real t) const noexcept {
        switch (parameters_.schedule) {
            case theta_schedule::constant: return 1;
            case theta_schedule::linear: return theta0 + (theta1 - theta0) * t / T_;
            case theta_schedule::cosine: {
                // 1 − cos²u/cos²u₀ = sin(u − u₀) sin(u + u₀)/cos²u₀, free of cancellation near t = 0.
                const Real d = a_ * t;
                const Real c0 = std::cos(u0_);
                return std::sin(d) * std::sin(2 * u0_ + d) / (c0 * c0);
            }
        }
        return 0;
    }

    /// @brief Θ(t) = ∫₀ᵗ θ. @param t time @return Θ(t)
    [[nodiscard]] Real theta_integral(Real t) const noexcept {
        switch (parameters_.schedule) {
            case theta_schedule::constant: return t;
            case theta_schedule::linear: return theta0 * t + (theta1 - theta0) * t * t / (2 * T_);
            case theta_schedule::cosine: {
                // cos²u₀ Θ = [cos2u₀ (δ − ½ sin2δ) + sin2u₀ sin²δ]/(2a) with δ = a t.
                const Real d = a_ * t;
                const Real x = 2 * d;
                Real half_x_minus_sin;  // (x − sin x)/2 = δ − ½ sin 2δ
                if (std::abs(x) < Real(0.1)) {
                    const Real x2 = x * x;
                    half_x_minus_sin = x * x2 / 12 * (1 - x2 / 20 * (1 - x2 / 42 * (1 - x2 / 72)));
                } else {
                    half_x_minus_sin = (x - std::sin(x)) / 2;
                }
                const Real sd = std::sin(d);
                const Real c0 = std::cos(u0_);
                return (std::cos(2 * u0_) * half_x_minus_sin + std::sin(2 * u0_) * sd * sd) / (2 * a_ * c0 * c0);
            }
        }
        return 0;
    }

    /// @brief α(t) = exp(−κ Θ(t)). @param t time @return α(t)
    [[nodiscard]] Real alpha(Real t) const noexcept { return std::exp(-kappa_ * theta_integral(t)); }
    /// @brief σ(t) = σ_∞ √(1 − α²). @param t time @return σ(t)
    [[nodiscard]] Real sigma(Real t) const noexcept {
        return lambda_s_ * std::sqrt(-std::expm1(-2 * kappa_ * theta_integral(t)));
    }
    /// @brief λ(t) = ln(α/σ), exactly. @param t time @return λ(t)
    [[nodiscard]] Real lambda(Real t) const noexcept {
        const Real u = kappa_ * theta_integral(t);
        return -u - std::log(lambda_s_) - std::log(-std::expm1(-2 * u)) / 2;
    }
    /// @brief The exact inverse of λ(t). @param l half log-SNR @return t with λ(t) = l
    [[nodiscard]] Real t_of_lambda(Real l) const noexcept {
        // κΘ = ½ ln(1 + e^{−2λ}/σ_∞²), written to neither overflow nor cancel.
        const Real w = -2 * l - 2 * std::log(lambda_s_);
        const Real u = w > 30 ? (w + std::log1p(std::exp(-w))) / 2 : std::log1p(std::exp(w)) / 2;
        return inverse_theta_integral(u / kappa_);
    }
    /// @brief f(t) = κ θ(t). @param t time @return f(t)
    [[nodiscard]] Real drift_rate(Real t) const noexcept { return kappa_ * theta(t); }
    /// @brief g(t)² = 2 σ_∞² κ θ(t). @param t time @return g(t)²
    [[nodiscard]] Real diffusion_sq(Real t) const noexcept { return 2 * lambda_s_ * lambda_s_ * drift_rate(t); }
    /// @brief Where sampling ends. @return t_min
    [[nodiscard]] Real t_min() const noexcept { return t_min_; }
    /// @brief Where sampling starts. @return T
    [[nodiscard]] Real t_max() const noexcept { return T_; }
    /// @brief Stationary standard deviation σ_∞. @return σ_∞
    [[nodiscard]] Real stationary_std() const noexcept { return lambda_s_; }
    /// @brief The scale κ = −ln(eps)/Θ(T). @return κ
    [[nodiscard]] Real kappa() const noexcept { return kappa_; }
    /// @brief The construction parameters. @return the parameters
    [[nodiscard]] const irsde_parameters& parameters() const noexcept { return parameters_; }

private:
    static constexpr Real theta0 = Real(0.1);
    static constexpr Real theta1 = Real(20);

    // As irsde_table::check_tables: parameters inside the documented ranges can still leave Real's range
    // at the extremes (α(T) = eps denormal, σ/α overflowing, σ(t_min) underflowing); reject them here.
    // α, σ/α and λ are monotone, so the two ends of [t_min, T] decide.
    void check_range() const {
        const auto fail = [&](const char* what, Real t, Real value) {
            detail::throw_invalid("ir_sde with T = ", parameters_.steps, ", ", detail::noise_level_text(parameters_),
                                  ", eps = ", parameters_.eps, ", t_min = ", t_min_,
                                  " leaves the range of the scalar type: ", what, "(", t, ") = ", value);
        };
        if (!(kappa_ > 0 && std::isfinite(kappa_))) fail("kappa", T_, kappa_);
        for (const Real t : {t_min_, T_}) {
            if (!(alpha(t) > 0 && alpha(t) <= 1)) fail("alpha", t, alpha(t));
            if (!(sigma(t) > 0 && std::isfinite(sigma(t)))) fail("sigma", t, sigma(t));
            if (!std::isfinite(sigma(t) / alpha(t))) fail("sigma/alpha", t, sigma(t) / alpha(t));
            if (!std::isfinite(lambda(t))) fail("lambda", t, lambda(t));
            if (!(std::isfinite(drift_rate(t)) && std::isfinite(diffusion_sq(t)))) fail("g^2", t, diffusion_sq(t));
        }
        if (!(lambda(t_min_) > lambda(T_))) fail("lambda (not decreasing: lambda(T) >= lambda(t_min))", t_min_, lambda(t_min_));
    }

    Real inverse_theta_integral(Real target) const noexcept {
        if (!(target > 0)) return target == 0 ? Real(0) : std::numeric_limits<Real>::quiet_NaN();
        switch (parameters_.schedule) {
            case theta_schedule::constant: return target;
            case theta_schedule::linear: {
                const Real b = (theta1 - theta0) / (2 * T_);
                return 2 * target / (theta0 + std::sqrt(theta0 * theta0 + 4 * b * target));
            }
            case theta_schedule::cosine: break;
        }
        // Θ is increasing on [0, 2T·(1+0.008)); bracket, then Newton safeguarded by bisection.
        Real lo = 0, hi = T_;
        for (int k = 0; k < 60 && theta_integral(hi) < target; ++k) hi *= 2;
        Real t = (lo + hi) / 2;
        for (int k = 0; k < 200; ++k) {
            const Real f = theta_integral(t) - target;
            if (f == 0) return t;
            (f > 0 ? hi : lo) = t;
            const Real slope = theta(t);
            Real next = slope > 0 ? t - f / slope : (lo + hi) / 2;
            if (!(next > lo && next < hi)) next = (lo + hi) / 2;
            if (std::abs(next - t) <= 4 * std::numeric_limits<Real>::epsilon() * t) return next;
            t = next;
        }
        return t;
    }

    irsde_parameters parameters_;
    Real T_{}, t_min_{}, lambda_s_{}, kappa_{}, u0_{}, a_{};
};

}  // namespace mrsolve
