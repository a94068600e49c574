#pragma once
/// @file problem_suite.hpp
/// @brief A suite of non-Gaussian test problems with converged reference answers, split by construction
/// into a selection set (to choose a default on) and a held-out set (to prove it on); docs/nongaussian.md.
///
/// Every problem is per-element data: element j of x₀ is an independent one-dimensional Gaussian mixture
/// Σ_k w_jk N(m_jk, s_jk²) (narrow well-separated modes, many-component fits of a Laplace and of a
/// log-normal distribution, a skewed two-component law), on one coefficient family (the discrete tables
/// with cosine, linear or constant θ, T = 100 or 1000, max_sigma 10, 50 or 100, eps 0.001, 0.005 or 0.02,
/// or the continuous ir_sde). The exact model outputs come from elementwise_mixture_oracle (the formulas of
/// gaussian_mixture.hpp in one dimension, docs/theory.md §9); the start x_T is a draw of the exact marginal
/// at T; the reference final state is reference_solve at a tight tolerance, checked against a second solve
/// at a tenth of it. Not in the umbrella header.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../noise/normal.hpp"
#include "../sde/ir_sde.hpp"
#include "../sde/irsde_table.hpp"
#include "gaussian.hpp"
#include "reference_solve.hpp"

namespace mrsolve {

/// @brief Exact score and model outputs for per-element one-dimensional Gaussian-mixture data: element j
/// of x₀ is Σ_k w_jk N(m_jk, s_jk²), independently of the others, with K components per element.
///
/// Per element, with mean_k = μ + α_t (m_k − μ), C_k = α_t² s_k² + σ_t² and responsibilities r_k (a
/// log-sum-exp over ln w_k + ln N(x; mean_k, C_k)): ε* = σ_t Σ_k r_k (x − mean_k)/C_k,
/// x̂₀* = Σ_k r_k (m_k + α_t s_k² (x − mean_k)/C_k), v* = α_t σ_∞ ε* − (σ_t/σ_∞)(x̂₀* − μ) (docs/theory.md §9).
/// A call costs O(n K) and allocates nothing; calls are const and thread-safe.
/// @tparam Family the coefficient family
template <CoefficientFamily Family>
class elementwise_mixture_oracle {
public:
    /// @brief The coefficient family type.
    using family_type = Family;
    /// @brief Whether the velocity fit target is available (the family has `stationary_std()`).
    static constexpr bool has_velocity = StationaryFamily<Family>;
    /// @brief The oracle's name, used in error messages.
    static constexpr std::string_view name = "elementwise_mixture_oracle";

    /// @brief Creates the oracle.
    /// @param family the coefficient family
    /// @param components K, the components per element (≥ 1)
    /// @param weights n·K weights, element-major (w_jk at j·K + k), finite and > 0; normalised per element
    /// @param means n·K component means, finite
    /// @param stds n·K component standard deviations, finite and > 0
    /// @throws mrsolve::invalid_argument naming the element, component and offending value
    elementwise_mixture_oracle(Family family, std::size_t components, std::vector<double> weights,
                               std::vector<double> means, std::vector<double> stds)
        : family_(std::move(family)), k_(components), means_(std::move(means)), stds_(std::move(stds)) {
        if (k_ == 0) detail::throw_invalid(name, ": need at least one component per element, got 0");
        if (weights.empty() || weights.size() % k_ != 0)
            detail::throw_invalid(name, ": ", weights.size(), " weights is not a positive multiple of ", k_,
                                  " components per element");
        if (means_.size() != weights.size() || stds_.size() != weights.size())
            detail::throw_invalid(name, ": got ", weights.size(), " weights, ", means_.size(), " means and ",
                                  stds_.size(), " standard deviations; need the same count");
        n_ = weights.size() / k_;
        log_weights_.resize(weights.size());
        for (std::size_t j = 0; j < n_; ++j) {
            double total = 0;
            for (std::size_t k = 0; k < k_; ++k) {
                const std::size_t i = j * k_ + k;
                if (!(std::isfinite(weights[i]) && weights[i] > 0))
                    detail::throw_invalid(name, ": element ", j, " component ", k, " has weight ", weights[i],
                                          "; need a finite weight > 0");
                if (!std::isfinite(means_[i]))
                    detail::throw_invalid(name, ": element ", j, " component ", k, " has mean ", means_[i],
                                          "; need a finite mean");
                if (!(std::isfinite(stds_[i]) && stds_[i] > 0))
                    detail::throw_invalid(name, ": element ", j, " component ", k, " has standard deviation ",
                                          stds_[i], "; need a finite value > 0");
                total += weights[i];
            }
            if (!std::isfinite(total))
                detail::throw_invalid(name, ": the weights of element ", j, " sum to ", total, ", not finite");
            for (std::size_t k = 0; k < k_; ++k) log_weights_[j * k_ + k] = std::log(weights[j * k_ + k] / total);
        }
    }

    /// @brief The number of elements n. @return n
    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    /// @brief Components per element K. @return K
    [[nodiscard]] std::size_t component_count() const noexcept { return k_; }
    /// @brief The coefficient family. @return the family
    [[nodiscard]] const Family& family() const noexcept { return family_; }
    /// @brief Normalised weight w_jk. @param j element @param k component @return w_jk
    [[nodiscard]] double weight(std::size_t j, std::size_t k) const { return std::exp(log_weights_.at(j * k_ + k)); }
    /// @brief Component mean m_jk. @param j element @param k component @return m_jk
    [[nodiscard]] double mean(std::size_t j, std::size_t k) const { return means_.at(j * k_ + k); }
    /// @brief Component standard deviation s_jk. @param j element @param k component @return s_jk
    [[nodiscard]] double std_dev(std::size_t j, std::size_t k) const { return stds_.at(j * k_ + k); }

    /// @brief The exact noise prediction ε* = −σ_t ∇log p_t(x).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void noise(const X& x, const M& mu, double t, Out&& out) const {
        evaluate(x, mu, t, out, fit_target::noise);
    }
    /// @brief The exact data prediction x̂₀* = E[x₀ | x_t = x].
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void data(const X& x, const M& mu, double t, Out&& out) const {
        evaluate(x, mu, t, out, fit_target::data);
    }
    /// @brief The exact velocity v* = α_t σ_∞ ε* − (σ_t/σ_∞)(x̂₀* − μ) (docs/theory.md §2).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @throws mrsolve::invalid_argument on a size mismatch, invalid α(t), σ(t) or σ_∞ ≤ 0
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
        requires StationaryFamily<Family>
    void velocity(const X& x, const M& mu, double t, Out&& out) const {
        evaluate(x, mu, t, out, fit_target::velocity);
    }
    /// @brief The exact score ∇log p_t(x).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void score(const X& x, const M& mu, double t, Out&& out) const {
        evaluate(x, mu, t, out, std::nullopt);
    }

    /// @brief The exact output for a fit target.
    /// @tparam X, M, Out state types
    /// @param target the fit target @param x the state @param mu the condition @param t the time
    /// @param out the output
    /// @throws mrsolve::invalid_argument on a size mismatch, invalid coefficients, an invalid target or
    /// velocity without `stationary_std()`
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void predict(fit_target target, const X& x, const M& mu, double t, Out&& out) const {
        detail::check_oracle_target<Family>(target, name);
        evaluate(x, mu, t, out, target);
    }

    /// @brief A callable `f(x, mu, t, out)` returning the exact output for a fit target.
    /// @param target the fit target
    /// @return the callable; it refers to this oracle, which must outlive it
    /// @throws mrsolve::invalid_argument for an invalid target or velocity without `stationary_std()`
    [[nodiscard]] oracle_model<elementwise_mixture_oracle> model(fit_target target) const& {
        return oracle_model<elementwise_mixture_oracle>(*this, target);
    }
    /// @brief Deleted: the model would refer to a temporary oracle.
    oracle_model<elementwise_mixture_oracle> model(fit_target target) const&& = delete;

    /// @brief A draw of the exact marginal p_t: per element, component k with probability w_k (chosen by
    /// the uniform u_j), then mean_k + √C_k z_j.
    /// @param mu the condition (n) @param t the time @param u uniforms in [0, 1) (n) @param z normals (n)
    /// @param out the draw (n)
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    void marginal_sample(const std::vector<double>& mu, double t, const std::vector<double>& u,
                         const std::vector<double>& z, std::vector<double>& out) const {
        detail::check_oracle_size(name, "mu", mu.size(), n_);
        detail::check_oracle_size(name, "u", u.size(), n_);
        detail::check_oracle_size(name, "z", z.size(), n_);
        detail::check_oracle_size(name, "out", out.size(), n_);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        for (std::size_t j = 0; j < n_; ++j) {
            std::size_t k = 0;
            double cumulative = std::exp(log_weights_[j * k_]);
            while (k + 1 < k_ && u[j] >= cumulative) cumulative += std::exp(log_weights_[j * k_ + ++k]);
            const std::size_t i = j * k_ + k;
            const double variance = c.alpha * c.alpha * stds_[i] * stds_[i] + c.sigma * c.sigma;
            out[j] = mu[j] + c.alpha * (means_[i] - mu[j]) + std::sqrt(variance) * z[j];
        }
    }

private:
    template <class X, class M, class Out>
    void evaluate(const X& x, const M& mu, double t, Out& out, std::optional<fit_target> target) const {
        detail::check_oracle_size(name, "x", detail::oracle_size(x), n_);
        detail::check_oracle_size(name, "mu", detail::oracle_size(mu), n_);
        detail::check_oracle_size(name, "out", detail::oracle_size(out), n_);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        double ls = 0;
        if constexpr (has_velocity)
            if (target == fit_target::velocity) ls = detail::oracle_stationary_std(family_, name);
        const double a = c.alpha, s = c.sigma, a2 = a * a, s2 = s * s;
        const auto* xp = std::data(x);
        const auto* mp = std::data(mu);
        auto* op = std::data(out);
        using out_type = std::remove_pointer_t<decltype(op)>;
        for (std::size_t j = 0; j < n_; ++j) {
            const double xj = static_cast<double>(xp[j]);
            const double muj = static_cast<double>(mp[j]);
            // Pass 1: the largest log term; pass 2: the weighted sums (no per-element buffer).
            double largest = -std::numeric_limits<double>::infinity();
            for (std::size_t k = 0; k < k_; ++k) {
                const std::size_t i = j * k_ + k;
                const double var = a2 * stds_[i] * stds_[i] + s2;
                const double d = xj - muj - a * (means_[i] - muj);
                largest = std::max(largest, log_weights_[i] - 0.5 * std::log(var) - 0.5 * d * d / var);
            }
            double total = 0, eps_sum = 0, x0_sum = 0;
            for (std::size_t k = 0; k < k_; ++k) {
                const std::size_t i = j * k_ + k;
                const double d2 = stds_[i] * stds_[i];
                const double var = a2 * d2 + s2;
                const double d = xj - muj - a * (means_[i] - muj);
                const double r = std::exp(log_weights_[i] - 0.5 * std::log(var) - 0.5 * d * d / var - largest);
                total += r;
                eps_sum += r * d / var;
                x0_sum += r * (means_[i] + a * d2 * d / var);
            }
            const double score = -eps_sum / total;  // ∇log p_t
            const double x0 = x0_sum / total;
            double value = score;
            if (target == fit_target::noise) value = -s * score;
            else if (target == fit_target::data) value = x0;
            else if (target == fit_target::velocity) value = a * ls * (-s * score) - (s / ls) * (x0 - muj);
            op[j] = static_cast<out_type>(value);
        }
    }

    Family family_;
    std::size_t k_ = 0;
    std::size_t n_ = 0;
    std::vector<double> log_weights_;
    std::vector<double> means_;
    std::vector<double> stds_;
};

/// @brief Which set of the suite a problem belongs to.
enum class suite_set {
    selection,  ///< used to choose a configuration
    held_out    ///< used only to report on the chosen configuration
};

/// @brief The shape of the per-element data distribution of a suite problem.
enum class suite_data {
    bimodal_narrow,   ///< two narrow modes, well separated (spread ≪ separation)
    trimodal_narrow,  ///< three narrow modes, unequal gaps and weights (held-out only)
    laplace,          ///< a 12-component Gaussian scale mixture fitting a Laplace law (heavy tails)
    lognormal,        ///< a 12-component mixture fitting a shifted log-normal law (skewed, heavy right tail; held-out only)
    skewed            ///< a skewed two-component law: a narrow main mode and a wide, shifted minor one
};

/// @brief The name of a data shape ("bimodal-narrow", "trimodal-narrow", "laplace", "lognormal", "skewed").
/// @param d the shape @return the name
[[nodiscard]] inline std::string_view to_string(suite_data d) noexcept {
    switch (d) {
        case suite_data::bimodal_narrow: return "bimodal-narrow";
        case suite_data::trimodal_narrow: return "trimodal-narrow";
        case suite_data::laplace: return "laplace";
        case suite_data::lognormal: return "lognormal";
        case suite_data::skewed: return "skewed";
    }
    return "?";
}

/// @brief The name of a set ("selection" or "held-out"). @param s the set @return the name
[[nodiscard]] inline std::string_view to_string(suite_set s) noexcept {
    return s == suite_set::selection ? "selection" : "held-out";
}

/// @brief One problem of the suite: a coefficient family and a per-element data distribution.
struct suite_problem {
    std::string name;                          ///< unique name, e.g. "S1-bimodal-cos100"
    suite_set set = suite_set::selection;      ///< selection or held-out
    bool continuous = false;                   ///< ir_sde (true) or irsde_table (false)
    irsde_parameters parameters{};             ///< θ shape, T, max_sigma, eps
    double t_min = -1;                         ///< ir_sde only: where sampling ends (−1: T/1000)
    suite_data data = suite_data::bimodal_narrow;  ///< the data shape
    std::uint64_t seed = 0;                    ///< the seed of every random draw of the problem
    std::size_t elements = 48;                 ///< n
    double scale_lo = 0.01;                    ///< range of the per-element width parameter (see make_suite_data)
    double scale_hi = 0.03;                    ///< (upper end)
    double separation_lo = 0.6;                ///< range of the mode separation (narrow modes only)
    double separation_hi = 1.0;                ///< (upper end)
    double reference_tolerance = 1e-8;         ///< reference_solve's tolerance
};

/// @brief The family description of a problem, e.g. "table cosine T=100 max_sigma=50 eps=0.005".
/// @param p the problem @return the description
[[nodiscard]] inline std::string family_description(const suite_problem& p) {
    const char* theta = p.parameters.schedule == theta_schedule::cosine   ? "cosine"
                        : p.parameters.schedule == theta_schedule::linear ? "linear"
                                                                          : "constant";
    return detail::message(p.continuous ? "continuous " : "table ", theta, " T=", p.parameters.steps,
                           " max_sigma=", p.parameters.max_sigma, " eps=", p.parameters.eps,
                           p.continuous ? detail::message(" t_min=", p.t_min) : std::string());
}

/// @brief The per-element mixture of a problem (weights, means, standard deviations, element-major) and
/// the condition μ.
struct suite_mixture {
    std::size_t components = 0;     ///< K per element
    std::vector<double> weights;    ///< n·K
    std::vector<double> means;      ///< n·K
    std::vector<double> stds;       ///< n·K
    std::vector<double> mu;         ///< n: the condition
};

namespace detail {
inline void validate_suite_problem(const suite_problem& p) {
    if (p.elements == 0) throw_invalid("suite problem ", p.name, ": elements must be >= 1, got 0");
    if (!(std::isfinite(p.scale_lo) && p.scale_lo > 0 && p.scale_hi >= p.scale_lo && std::isfinite(p.scale_hi)))
        throw_invalid("suite problem ", p.name, ": need 0 < scale_lo <= scale_hi (finite), got ", p.scale_lo, " and ",
                      p.scale_hi);
    if (!(std::isfinite(p.separation_lo) && p.separation_lo > 0 && p.separation_hi >= p.separation_lo &&
          std::isfinite(p.separation_hi)))
        throw_invalid("suite problem ", p.name, ": need 0 < separation_lo <= separation_hi (finite), got ",
                      p.separation_lo, " and ", p.separation_hi);
    if (!(std::isfinite(p.reference_tolerance) && p.reference_tolerance > 0))
        throw_invalid("suite problem ", p.name, ": reference_tolerance must be finite and > 0, got ",
                      p.reference_tolerance);
    if (static_cast<int>(p.data) < 0 || p.data > suite_data::skewed)
        throw_invalid("suite problem ", p.name, ": data is not a suite_data: ", static_cast<int>(p.data));
}
}  // namespace detail

/// @brief Builds the per-element mixture and the condition of a problem from its seed and ranges.
///
/// Element j gets a centre c_j = 0.5 sin(…)+ draw, a width b_j uniform in [scale_lo, scale_hi] and (narrow
/// modes) a separation d_j uniform in [separation_lo, separation_hi]; μ_j = c_j + 0.3 z_j:
/// - bimodal-narrow: modes c ∓ d/2, weights w and 1 − w (w ∈ [0.3, 0.7]), both of std b;
/// - trimodal-narrow: modes c − d, c, c + 1.5 d, weights ∝ 1 + u_k, stds b, b/2, 1.5 b;
/// - laplace: Laplace(c, b) as Σ_k N(c, V_k)/12 with V_k = −2 b² ln(1 − (k − ½)/12), the midpoint quantiles of
///   the exponential mixing law of the variance;
/// - lognormal: c + b (e^{0.6 z} − 1) with z on 12 nodes −2.75 … 2.75 (step 0.5), weights ∝ φ(z_k), std
///   0.6 · 0.5 · b e^{0.6 z_k};
/// - skewed: 0.75 N(c, b²) + 0.25 N(c + 4 b, (3 b)²).
/// @param p the problem
/// @return the mixture and μ
/// @throws mrsolve::invalid_argument for an invalid problem (the message names the value)
[[nodiscard]] inline suite_mixture make_suite_data(const suite_problem& p) {
    detail::validate_suite_problem(p);
    const philox_normal draw(p.seed);
    const auto uniform = [&](std::uint64_t stream, std::size_t j) {
        return 0.5 * std::erfc(-draw.normal<double>(stream, j) / std::numbers::sqrt2);
    };
    suite_mixture m;
    const std::size_t n = p.elements;
    m.components = p.data == suite_data::bimodal_narrow    ? 2
                   : p.data == suite_data::trimodal_narrow ? 3
                   : p.data == suite_data::skewed          ? 2
                                                           : 12;
    const std::size_t K = m.components;
    m.weights.resize(n * K);
    m.means.resize(n * K);
    m.stds.resize(n * K);
    m.mu.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
        const double c = 0.4 * std::sin(0.9 * static_cast<double>(j) + 0.2) + 0.2 * draw.normal<double>(1, j);
        const double b = p.scale_lo + (p.scale_hi - p.scale_lo) * uniform(2, j);
        const double d = p.separation_lo + (p.separation_hi - p.separation_lo) * uniform(3, j);
        m.mu[j] = c + 0.3 * draw.normal<double>(4, j);
        double* w = m.weights.data() + j * K;
        double* mean = m.means.data() + j * K;
        double* sd = m.stds.data() + j * K;
        switch (p.data) {
            case suite_data::bimodal_narrow: {
                const double w0 = 0.3 + 0.4 * uniform(5, j);
                w[0] = w0, w[1] = 1 - w0;
                mean[0] = c - d / 2, mean[1] = c + d / 2;
                sd[0] = sd[1] = b;
                break;
            }
            case suite_data::trimodal_narrow: {
                for (std::size_t k = 0; k < 3; ++k) w[k] = 1 + uniform(5 + k, j);
                mean[0] = c - d, mean[1] = c, mean[2] = c + 1.5 * d;
                sd[0] = b, sd[1] = b / 2, sd[2] = 1.5 * b;
                break;
            }
            case suite_data::laplace:
                for (std::size_t k = 0; k < K; ++k) {
                    const double q = (static_cast<double>(k) + 0.5) / static_cast<double>(K);
                    w[k] = 1;
                    mean[k] = c;
                    sd[k] = std::sqrt(-2 * b * b * std::log(1 - q));
                }
                break;
            case suite_data::lognormal:
                for (std::size_t k = 0; k < K; ++k) {
                    const double z = -2.75 + 0.5 * static_cast<double>(k);
                    w[k] = std::exp(-0.5 * z * z);
                    mean[k] = c + b * (std::exp(0.6 * z) - 1);
                    sd[k] = 0.6 * 0.5 * b * std::exp(0.6 * z);
                }
                break;
            case suite_data::skewed:
                w[0] = 0.75, w[1] = 0.25;
                mean[0] = c, mean[1] = c + 4 * b;
                sd[0] = b, sd[1] = 3 * b;
                break;
        }
    }
    return m;
}

namespace detail {
inline suite_problem suite_entry(std::string name, suite_set set, suite_data data, std::uint64_t seed,
                                 theta_schedule theta, int steps, double max_sigma, double eps, bool continuous,
                                 double scale_lo, double scale_hi, double sep_lo, double sep_hi) {
    suite_problem p;
    p.name = std::move(name);
    p.set = set;
    p.data = data;
    p.seed = seed;
    p.parameters = irsde_parameters{theta, steps, max_sigma, eps};
    p.continuous = continuous;
    p.t_min = continuous ? 0.1 * steps / 100.0 : -1;
    p.scale_lo = scale_lo, p.scale_hi = scale_hi;
    p.separation_lo = sep_lo, p.separation_hi = sep_hi;
    return p;
}
}  // namespace detail

/// @brief The selection set: 8 problems, seeds 101–108. Data: bimodal-narrow (spread 0.01–0.03,
/// separation 0.6–1.0), laplace (b 0.05–0.15), skewed (b 0.02–0.06). Families: tables with cosine θ
/// (max_sigma 50, 10, 100; eps 0.005, 0.02; T 100, 1000), linear and constant θ, and the continuous
/// cosine IR-SDE.
/// @return the problems
[[nodiscard]] inline std::vector<suite_problem> selection_problems() {
    using enum theta_schedule;
    using detail::suite_entry;
    const auto S = suite_set::selection;
    return {
        suite_entry("S1-bimodal-cos100", S, suite_data::bimodal_narrow, 101, cosine, 100, 50, 0.005, false, 0.01, 0.03, 0.6, 1.0),
        suite_entry("S2-laplace-linear", S, suite_data::laplace, 102, linear, 100, 50, 0.005, false, 0.05, 0.15, 0.6, 1.0),
        suite_entry("S3-skewed-sigma100", S, suite_data::skewed, 103, cosine, 100, 100, 0.005, false, 0.02, 0.06, 0.6, 1.0),
        suite_entry("S4-bimodal-eps0.02", S, suite_data::bimodal_narrow, 104, cosine, 100, 50, 0.02, false, 0.01, 0.03, 0.6, 1.0),
        suite_entry("S5-laplace-continuous", S, suite_data::laplace, 105, cosine, 100, 50, 0.005, true, 0.05, 0.15, 0.6, 1.0),
        suite_entry("S6-skewed-constant", S, suite_data::skewed, 106, constant, 100, 50, 0.005, false, 0.02, 0.06, 0.6, 1.0),
        suite_entry("S7-bimodal-T1000", S, suite_data::bimodal_narrow, 107, cosine, 1000, 50, 0.005, false, 0.01, 0.03, 0.6, 1.0),
        suite_entry("S8-laplace-sigma10", S, suite_data::laplace, 108, cosine, 100, 10, 0.005, false, 0.05, 0.15, 0.6, 1.0),
    };
}

/// @brief The held-out set: 10 problems, seeds 201–210, other parameter ranges (narrow modes: spread
/// 0.004–0.009 and 0.035–0.05, separation 1.0–1.6 and 0.3–0.5; laplace b 0.2–0.35; skewed b 0.08–0.12),
/// two data shapes found only here (trimodal-narrow, lognormal), and two family variants found only here
/// (tables with eps = 0.001; the continuous IR-SDE with linear θ). It includes the per-element bimodal
/// mixture on the published cosine tables (T = 100).
/// @return the problems
[[nodiscard]] inline std::vector<suite_problem> held_out_problems() {
    using enum theta_schedule;
    using detail::suite_entry;
    const auto H = suite_set::held_out;
    return {
        suite_entry("H1-bimodal-cos100", H, suite_data::bimodal_narrow, 201, cosine, 100, 50, 0.005, false, 0.004, 0.009, 1.0, 1.6),
        suite_entry("H2-trimodal-cos100", H, suite_data::trimodal_narrow, 202, cosine, 100, 50, 0.005, false, 0.035, 0.05, 0.3, 0.5),
        suite_entry("H3-lognormal-cos100", H, suite_data::lognormal, 203, cosine, 100, 50, 0.005, false, 0.2, 0.35, 1.0, 1.6),
        suite_entry("H4-laplace-constant", H, suite_data::laplace, 204, constant, 100, 50, 0.005, false, 0.2, 0.35, 1.0, 1.6),
        suite_entry("H5-skewed-linear", H, suite_data::skewed, 205, linear, 100, 50, 0.005, false, 0.08, 0.12, 1.0, 1.6),
        suite_entry("H6-bimodal-sigma10", H, suite_data::bimodal_narrow, 206, cosine, 100, 10, 0.005, false, 0.004, 0.009, 1.0, 1.6),
        suite_entry("H7-lognormal-eps0.001", H, suite_data::lognormal, 207, cosine, 100, 50, 0.001, false, 0.2, 0.35, 1.0, 1.6),
        suite_entry("H8-trimodal-T1000", H, suite_data::trimodal_narrow, 208, cosine, 1000, 100, 0.005, false, 0.035, 0.05, 0.3, 0.5),
        suite_entry("H9-laplace-continuous-linear", H, suite_data::laplace, 209, linear, 100, 50, 0.005, true, 0.2, 0.35, 1.0, 1.6),
        suite_entry("H10-skewed-eps0.02", H, suite_data::skewed, 210, cosine, 100, 100, 0.02, false, 0.08, 0.12, 1.0, 1.6),
    };
}

/// @brief Every problem of the suite: the selection set, then the held-out set. @return the problems
[[nodiscard]] inline std::vector<suite_problem> suite_problems() {
    std::vector<suite_problem> all = selection_problems();
    for (auto& p : held_out_problems()) all.push_back(std::move(p));
    return all;
}

/// @brief A problem instantiated on its family: the oracle, μ, x_T and (once computed) the reference.
/// Neither copied nor moved: models refer to its oracle.
/// @tparam Family irsde_table<double> or ir_sde<double>
template <CoefficientFamily Family>
struct suite_instance {
    suite_problem problem;                     ///< the description
    Family family;                             ///< the coefficients
    elementwise_mixture_oracle<Family> oracle; ///< the exact model outputs
    std::vector<double> mu;                    ///< the condition
    std::vector<double> x_T;                   ///< the start: a draw of the exact marginal at T (seed's stream 9, 10)

    /// @brief Builds the instance. @param p the problem @param f its family
    /// @throws mrsolve::invalid_argument for an invalid problem
    suite_instance(suite_problem p, Family f) : suite_instance(std::move(p), std::move(f), 0) {}
    suite_instance(const suite_instance&) = delete;
    suite_instance& operator=(const suite_instance&) = delete;

    /// @brief The exact noise-prediction model. @return the model (refers to this instance)
    [[nodiscard]] oracle_model<elementwise_mixture_oracle<Family>> model() const {
        return oracle.model(fit_target::noise);
    }

    /// @brief The reference final state at family.t_min(): reference_solve at the given tolerance.
    /// @param tolerance reference_solve's tolerance
    /// @param out the reference
    /// @return what reference_solve reached
    /// @throws mrsolve::invalid_argument if it does not converge
    reference_solve_result reference(double tolerance, std::vector<double>& out) const {
        reference_solve_options o;
        o.tolerance = tolerance;
        o.first_steps = 64;
        o.max_steps = 1 << 16;
        return reference_solve(family, model(), x_T, mu, o, out);
    }

private:
    suite_instance(suite_problem p, Family f, int)
        : problem(std::move(p)), family(std::move(f)), oracle(make(problem, family)), mu(make_suite_data(problem).mu),
          x_T(problem.elements) {
        const philox_normal draw(problem.seed);
        std::vector<double> u(problem.elements), z(problem.elements);
        for (std::size_t j = 0; j < problem.elements; ++j) {
            u[j] = 0.5 * std::erfc(-draw.normal<double>(9, j) / std::numbers::sqrt2);
            z[j] = draw.normal<double>(10, j);
        }
        oracle.marginal_sample(mu, static_cast<double>(family.t_max()), u, z, x_T);
    }
    static elementwise_mixture_oracle<Family> make(const suite_problem& p, const Family& f) {
        suite_mixture m = make_suite_data(p);
        return elementwise_mixture_oracle<Family>(f, m.components, std::move(m.weights), std::move(m.means),
                                                  std::move(m.stds));
    }
};

/// @brief Builds a problem on its family and calls f(instance) with a `const suite_instance<Family>&`
/// (Family = ir_sde<double> or irsde_table<double>).
/// @param p the problem @param f the callable
/// @return what f returns
/// @throws mrsolve::invalid_argument for an invalid problem or family parameters
template <class F>
decltype(auto) visit_suite_problem(const suite_problem& p, F&& f) {
    if (p.continuous) {
        const suite_instance<ir_sde<double>> instance(p, ir_sde<double>(p.parameters, p.t_min));
        return std::forward<F>(f)(instance);
    }
    const suite_instance<irsde_table<double>> instance(p, irsde_table<double>(p.parameters));
    return std::forward<F>(f)(instance);
}

}  // namespace mrsolve
