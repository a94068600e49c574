#pragma once
/// @file irsde_table.hpp
/// @brief The discrete IR-SDE coefficient tables that trained IR-SDE / DA-CLIP models use (docs/theory.md
/// §1, "The discrete tables").

#include <algorithm>
#include <cmath>
#include <concepts>
#include <numbers>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "../detail/interpolation.hpp"
#include "../error.hpp"

namespace mrsolve {

/// @brief The shape of θ(t) in an IR-SDE.
enum class theta_schedule {
    constant,  ///< θ = 1
    linear,    ///< θ rising linearly (discrete: linspace(0.1/(T+1), 20/(T+1), T+1))
    cosine     ///< θ = 1 − cos²(…)/cos²(…) of the improved-DDPM cosine schedule (offset 0.008)
};

/// @brief Parses "constant", "linear" or "cosine".
/// @param name the schedule name
/// @return the θ schedule
/// @throws mrsolve::invalid_argument for any other name
[[nodiscard]] inline theta_schedule parse_theta_schedule(std::string_view name) {
    if (name == "constant") return theta_schedule::constant;
    if (name == "linear") return theta_schedule::linear;
    if (name == "cosine") return theta_schedule::cosine;
    detail::throw_invalid("unknown theta schedule '", name, "' (expected constant, linear or cosine)");
}

/// @brief Stationary standard deviation σ_∞ from the published `max_sigma` argument.
///
/// Values ≥ 1 are in 8-bit pixel units (σ_∞ = max_sigma/255); smaller values are taken as they are.
/// Mind the jump at 1: 0.99 gives σ_∞ = 0.99, 1 gives σ_∞ ≈ 0.0039. irsde_parameters::stationary_std
/// gives σ_∞ without this convention.
/// @param max_sigma the published argument
/// @return σ_∞
/// @throws mrsolve::invalid_argument if max_sigma is not finite and positive
[[nodiscard]] inline double stationary_std_from_max_sigma(double max_sigma) {
    if (!(std::isfinite(max_sigma) && max_sigma > 0))
        detail::throw_invalid("max_sigma must be finite and > 0 (lambda_s = max_sigma/255 or max_sigma), got ",
                              max_sigma);
    return max_sigma >= 1 ? max_sigma / 255.0 : max_sigma;
}

/// @brief Construction parameters of an IR-SDE, continuous or tabulated.
///
/// The noise level is σ_∞, the stationary standard deviation (σ(t) → σ_∞ as α(t) → 0), given one of two ways:
/// - `stationary_std`: σ_∞ itself, in the units of the state; prefer it, e.g.
///   `irsde_parameters{.schedule = theta_schedule::cosine, .steps = 100, .eps = 0.005, .stationary_std = 0.2}`.
/// - `max_sigma`, the published argument, used when stationary_std is unset. The trap: values ≥ 1 are in
///   8-bit pixel units (σ_∞ = max_sigma/255), smaller ones are σ_∞ itself, so max_sigma = 0.99 and
///   max_sigma = 1 differ by a factor of about 250 (stationary_std_from_max_sigma).
struct irsde_parameters {
    theta_schedule schedule = theta_schedule::cosine;  ///< shape of θ
    int steps = 100;                                   ///< T: table steps (time runs over [0, T])
    double max_sigma = 50;                             ///< published: σ_∞ = max_sigma/255 if ≥ 1, else max_sigma
    double eps = 0.005;                                ///< α(T) = eps; must lie in (0, 1)
    std::optional<double> stationary_std = std::nullopt;  ///< σ_∞ itself; when set, max_sigma is not used
};

/// @brief The stationary standard deviation σ_∞ that parameters give: stationary_std when set, otherwise
/// the published convention applied to max_sigma.
/// @param parameters the IR-SDE parameters
/// @return σ_∞
/// @throws mrsolve::invalid_argument if stationary_std is set and not finite and positive, or if it is unset
///         and max_sigma is not finite and positive
// GCC 12 reports the engaged-only read below as "may be used uninitialized" when the parameters are a
// temporary with an empty optional (a known false positive of its std::optional analysis at -O1/-O2).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
[[nodiscard]] inline double stationary_std_of(const irsde_parameters& parameters) {
    if (!parameters.stationary_std) return stationary_std_from_max_sigma(parameters.max_sigma);
    const double lambda_s = *parameters.stationary_std;
    if (!(std::isfinite(lambda_s) && lambda_s > 0))
        detail::throw_invalid("IR-SDE stationary_std (lambda_s) must be finite and > 0, got ", lambda_s);
    return lambda_s;
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace detail {
inline void validate(const irsde_parameters& p) {
    if (p.steps < 1) throw_invalid("IR-SDE steps T must be >= 1, got ", p.steps);
    (void)stationary_std_of(p);
    if (!(p.eps > 0 && p.eps < 1)) throw_invalid("IR-SDE eps must lie in (0, 1), got ", p.eps);
}

/// The noise level as the parameters give it, for messages: "stationary_std = …" or "max_sigma = …".
inline std::string noise_level_text(const irsde_parameters& p) {
    return p.stationary_std ? message("stationary_std = ", *p.stationary_std) : message("max_sigma = ", p.max_sigma);
}
}  // namespace detail

/// @brief The discrete IR-SDE tables with linear interpolation at fractional table times.
///
/// θ_j, j = 0…T, with θ̄_j = θ₀ + … + θ_j, dt = −ln(eps)/θ̄_T, α_j = exp(−θ̄_j dt),
/// σ_j = σ_∞ √(1 − exp(−2 θ̄_j dt)), λ_j = ln α_j − ln σ_j. At a fractional t, α, σ and λ are each
/// interpolated linearly from their own table (extrapolated beyond the ends), exactly as the published
/// code does; so λ(t) ≠ ln(α(t)/σ(t)) between table points. Time is in table steps, t ∈ [0, T]; the
/// network is called with this t.
/// @tparam Real the scalar type of every coefficient
template <std::floating_point Real = double>
class irsde_table {
public:
    /// @brief Scalar type of the coefficients.
    using real_type = Real;

    /// @brief Builds the tables.
    /// @param parameters θ shape, T, the noise level (stationary_std, or max_sigma) and eps
    /// @throws mrsolve::invalid_argument if T < 1, σ_∞ ≤ 0 or eps ∉ (0, 1), or if the tables leave
    ///         the range of Real (α underflowing to 0, σ/α overflowing, σ₀ underflowing: extreme eps or
    ///         σ_∞), or λ is not strictly decreasing in Real (eps so close to 1 that α rounds to 1)
    explicit irsde_table(const irsde_parameters& parameters = {}) : parameters_(parameters) {
        detail::validate(parameters);
        const int T = parameters.steps;
        lambda_s_ = static_cast<Real>(stationary_std_of(parameters));
        theta_.resize(static_cast<std::size_t>(T) + 1);
        switch (parameters.schedule) {
            case theta_schedule::constant:
                for (auto& th : theta_) th = 1;
                break;
            case theta_schedule::linear: {
                const Real lo = Real(0.1) / Real(T + 1), hi = Real(20) / Real(T + 1);
                for (int j = 0; j <= T; ++j) theta_[j] = lo + (hi - lo) * Real(j) / Real(T);
                break;
            }
            case theta_schedule::cosine: {
                const int n = T + 2;
                const auto c = [n](int k) {
                    const Real u = ((Real(k) / Real(n)) + Real(0.008)) / Real(1.008) * std::numbers::pi_v<Real> / 2;
                    const Real cu = std::cos(u);
                    return cu * cu;
                };
                const Real c0 = c(0);
                for (int j = 0; j <= T; ++j) theta_[j] = 1 - c(j + 1) / c0;
                break;
            }
        }
        theta_bar_.resize(theta_.size());
        Real sum = 0;
        for (std::size_t j = 0; j < theta_.size(); ++j) theta_bar_[j] = (sum += theta_[j]);
        dt_ = -std::log(static_cast<Real>(parameters.eps)) / theta_bar_.back();
        alpha_.resize(theta_.size());
        sigma_.resize(theta_.size());
        lambda_.resize(theta_.size());
        sigma_over_alpha_.resize(theta_.size());
        for (std::size_t j = 0; j < theta_.size(); ++j) {
            alpha_[j] = std::exp(-theta_bar_[j] * dt_);
            sigma_[j] = lambda_s_ * std::sqrt(-std::expm1(-2 * theta_bar_[j] * dt_));
            lambda_[j] = std::log(alpha_[j]) - std::log(sigma_[j]);
            sigma_over_alpha_[j] = sigma_[j] / alpha_[j];
        }
        times_.resize(theta_.size());
        for (std::size_t j = 0; j < times_.size(); ++j) times_[j] = static_cast<Real>(j);
        check_tables();
    }

    /// @brief α(t) = exp(−θ̄(t) dt), linearly interpolated. @param t table time @return α(t)
    [[nodiscard]] Real alpha(Real t) const noexcept { return detail::interpolate_unit_grid<Real>(alpha_, t); }
    /// @brief σ(t), linearly interpolated. @param t table time @return σ(t)
    [[nodiscard]] Real sigma(Real t) const noexcept { return detail::interpolate_unit_grid<Real>(sigma_, t); }
    /// @brief λ(t), linearly interpolated from the λ table. @param t table time @return λ(t)
    [[nodiscard]] Real lambda(Real t) const noexcept { return detail::interpolate_unit_grid<Real>(lambda_, t); }
    /// @brief The piecewise-linear inverse of the λ table (extrapolating). @param l half log-SNR @return t(λ)
    [[nodiscard]] Real t_of_lambda(Real l) const noexcept {
        return detail::interpolate_decreasing<Real>(lambda_, table_times(), l);
    }
    /// @brief t of a noise-to-signal ratio ς = σ/α by linear interpolation of the ς table (extrapolating);
    /// what the published `karras-n` schedule uses. @param varsigma σ/α @return t
    [[nodiscard]] Real t_of_sigma_over_alpha(Real varsigma) const noexcept {
        return detail::interpolate_increasing<Real>(sigma_over_alpha_, table_times(), varsigma);
    }
    /// @brief Drift rate f(t) = −d ln α(t)/dt of the interpolated α: the rate under which the forward SDE
    /// has exactly this family's α(t) (so Euler-type baselines with variable steps converge to the flow
    /// the exponential integrators and the oracles use). On t ∈ (j − 1, j] it is (α_{j−1} − α_j)/α(t); at
    /// a node j that is the segment a step from j towards 0 crosses. Beyond the ends the outer segments
    /// extend. Not θ(t)·dt: the tables' α_j = exp(−θ̄_j dt) makes θ·dt integrate to an α(T) about 5 %
    /// off (published_drift_rate keeps θ·dt for the published fixed-step baselines).
    /// @param t table time @return f(t)
    [[nodiscard]] Real drift_rate(Real t) const noexcept {
        const std::size_t j = left_segment_end(t);
        return (alpha_[j - 1] - alpha_[j]) / alpha(t);
    }
    /// @brief g(t)² = d σ(t)²/dt + 2 f(t) σ(t)² of the interpolated σ and α: the diffusion under which the
    /// forward SDE has exactly this family's marginal standard deviation σ(t).
    /// @param t table time @return g(t)²
    [[nodiscard]] Real diffusion_sq(Real t) const noexcept {
        const std::size_t j = left_segment_end(t);
        const Real s = sigma(t);
        return 2 * s * (sigma_[j] - sigma_[j - 1]) + 2 * drift_rate(t) * s * s;
    }
    /// @brief The published drift rate θ(t)·dt (θ interpolated): what the published fixed-step baselines
    /// use at their integer table times. @param t table time @return θ(t)·dt
    [[nodiscard]] Real published_drift_rate(Real t) const noexcept {
        return detail::interpolate_unit_grid<Real>(theta_, t) * dt_;
    }
    /// @brief The published g(t)² = 2 σ_∞² θ(t)·dt. @param t table time @return g(t)²
    [[nodiscard]] Real published_diffusion_sq(Real t) const noexcept {
        return 2 * lambda_s_ * lambda_s_ * published_drift_rate(t);
    }
    /// @brief Start of the time range (data side). @return 0
    [[nodiscard]] Real t_min() const noexcept { return 0; }
    /// @brief End of the time range (noise side). @return T
    [[nodiscard]] Real t_max() const noexcept { return static_cast<Real>(parameters_.steps); }
    /// @brief Stationary standard deviation σ_∞. @return σ_∞
    [[nodiscard]] Real stationary_std() const noexcept { return lambda_s_; }

    /// @brief Number of table steps T. @return T
    [[nodiscard]] int steps() const noexcept { return parameters_.steps; }
    /// @brief The time scale dt = −ln(eps)/θ̄_T (the published "dt"). @return dt
    [[nodiscard]] Real dt() const noexcept { return dt_; }
    /// @brief The construction parameters. @return the parameters
    [[nodiscard]] const irsde_parameters& parameters() const noexcept { return parameters_; }
    /// @brief θ_j, j = 0…T. @return the table
    [[nodiscard]] std::span<const Real> theta_table() const noexcept { return theta_; }
    /// @brief θ̄_j = θ₀ + … + θ_j. @return the table
    [[nodiscard]] std::span<const Real> theta_bar_table() const noexcept { return theta_bar_; }
    /// @brief α_j. @return the table
    [[nodiscard]] std::span<const Real> alpha_table() const noexcept { return alpha_; }
    /// @brief σ_j. @return the table
    [[nodiscard]] std::span<const Real> sigma_table() const noexcept { return sigma_; }
    /// @brief λ_j (strictly decreasing). @return the table
    [[nodiscard]] std::span<const Real> lambda_table() const noexcept { return lambda_; }

private:
    std::span<const Real> table_times() const noexcept { return times_; }

    // j with t ∈ (j − 1, j], clamped to [1, T] (the segment that ends at j; NaN gives 1).
    std::size_t left_segment_end(Real t) const noexcept {
        const Real last = static_cast<Real>(alpha_.size() - 1);
        const Real j = std::ceil(t);
        return j >= 1 ? static_cast<std::size_t>(std::min(j, last)) : std::size_t{1};
    }

    // Parameters inside the documented ranges can still leave Real's range at the extremes (an eps near
    // the smallest denormal makes α_T underflow and σ/α overflow; a huge max_sigma with a tiny eps
    // overflows σ/α; a denormal max_sigma makes σ₀ underflow to 0): such tables would turn into NaN
    // schedules or NaN states far from the cause, so they are rejected here, naming the parameters.
    void check_tables() const {
        const auto fail = [&](const char* what, std::size_t j, Real value) {
            detail::throw_invalid("IR-SDE tables with T = ", parameters_.steps, ", ", detail::noise_level_text(parameters_),
                                  ", eps = ", parameters_.eps, " leave the range of the scalar type: ", what, "_", j,
                                  " = ", value);
        };
        // The entries, and the interpolated values at the nodes (what a sampler sees: y₀ + w (y₁ − y₀) at
        // w = 1 loses y₁ when the neighbours differ by hundreds of orders of magnitude).
        for (std::size_t j = 0; j < alpha_.size(); ++j) {
            const Real t = static_cast<Real>(j);
            if (!(alpha_[j] > 0 && alpha_[j] <= 1 && alpha(t) > 0)) fail("alpha", j, std::min(alpha_[j], alpha(t)));
            if (!(sigma_[j] > 0 && std::isfinite(sigma_[j]) && sigma(t) > 0)) fail("sigma", j, std::min(sigma_[j], sigma(t)));
            if (!std::isfinite(sigma_over_alpha_[j])) fail("sigma/alpha", j, sigma_over_alpha_[j]);
            if (!std::isfinite(sigma(t) / alpha(t))) fail("sigma/alpha (interpolated)", j, sigma(t) / alpha(t));
            if (!(std::isfinite(lambda_[j]) && std::isfinite(lambda(t)))) fail("lambda", j, lambda_[j]);
            if (j > 0 && !(lambda_[j] < lambda_[j - 1])) fail("lambda (not strictly decreasing)", j, lambda_[j]);
            if (!std::isfinite(diffusion_sq(t))) fail("g^2 (Euler baselines)", j, diffusion_sq(t));
        }
    }

    irsde_parameters parameters_;
    Real lambda_s_{};
    Real dt_{};
    std::vector<Real> theta_, theta_bar_, alpha_, sigma_, lambda_, sigma_over_alpha_;
    std::vector<Real> times_;  // 0, 1, …, T: the abscissae of the inverse interpolations
};

}  // namespace mrsolve
