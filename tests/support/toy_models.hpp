#pragma once
// Test support: independent reference computations (the discrete IR-SDE tables of docs/theory.md §1,
// "The discrete tables", in long double; table interpolation) and small toy networks (a per-element Gaussian oracle, counting and
// recording wrappers) shared by the test executables. Nothing here calls into the code under test except
// the coefficient family a toy network is evaluated with.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <iterator>
#include <numbers>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <mrsolve/prediction/fit_target.hpp>

namespace mrsolve_test {

using ld = long double;

/// The discrete IR-SDE tables of docs/theory.md §1 ("The discrete tables"), recomputed in long double.
struct reference_tables {
    std::vector<ld> theta, theta_bar, alpha, sigma, lambda, varsigma;  // varsigma = σ/α
    ld dt = 0;
    ld lambda_s = 0;
};

/// θ shape names as in docs/theory.md §1 ("The discrete tables"): "cosine", "linear", "constant".
inline reference_tables make_reference_tables(const std::string& shape, int T, double max_sigma, double eps) {
    reference_tables r;
    r.lambda_s = max_sigma >= 1 ? ld(max_sigma) / 255 : ld(max_sigma);
    const auto size = static_cast<std::size_t>(T) + 1;
    r.theta.resize(size);
    if (shape == "cosine") {
        const int n = T + 2;
        std::vector<ld> c(static_cast<std::size_t>(n) + 1);
        for (int k = 0; k <= n; ++k) {
            const ld u = ((ld(k) / ld(n)) + ld(0.008L)) / ld(1.008L) * std::numbers::pi_v<ld> / 2;
            c[static_cast<std::size_t>(k)] = std::cos(u) * std::cos(u);
        }
        const ld c0 = c[0];
        for (auto& v : c) v /= c0;
        for (std::size_t j = 0; j < size; ++j) r.theta[j] = 1 - c[j + 1];
    } else if (shape == "linear") {
        // numpy.linspace(0.1/(T+1), 20/(T+1), T+1)
        const ld lo = ld(0.1L) / ld(T + 1), hi = ld(20) / ld(T + 1);
        for (std::size_t j = 0; j < size; ++j) r.theta[j] = lo + (hi - lo) * ld(j) / ld(T);
    } else {
        for (auto& v : r.theta) v = 1;
    }
    r.theta_bar.resize(size);
    ld sum = 0;
    for (std::size_t j = 0; j < size; ++j) r.theta_bar[j] = (sum += r.theta[j]);
    r.dt = -std::log(ld(eps)) / r.theta_bar.back();
    for (std::size_t j = 0; j < size; ++j) {
        const ld a = std::exp(-r.theta_bar[j] * r.dt);
        const ld s = r.lambda_s * std::sqrt(1 - std::exp(-2 * r.theta_bar[j] * r.dt));
        r.alpha.push_back(a);
        r.sigma.push_back(s);
        r.lambda.push_back(std::log(a) - std::log(s));
        r.varsigma.push_back(s / a);
    }
    return r;
}

/// Linear interpolation of a table given at t = 0, 1, …, n−1, extrapolating from the outermost segments.
inline ld interpolate_at(const std::vector<ld>& table, ld t) {
    const auto n = static_cast<long>(table.size());
    long j = static_cast<long>(std::floor(t));
    if (j < 0) j = 0;
    if (j > n - 2) j = n - 2;
    const ld w = t - ld(j);
    return table[static_cast<std::size_t>(j)] +
           w * (table[static_cast<std::size_t>(j) + 1] - table[static_cast<std::size_t>(j)]);
}

/// The variable-step baselines' rates on the tables at time t: f = −d ln α/dt and g² = dσ²/dt + 2 f σ² of
/// the interpolated α and σ, with the slopes of the segment (j − 1, j] that contains t (at a node j: the
/// segment below it), j clamped to [1, n − 1].
struct table_rates {
    ld f, g2;
};
template <class Tables>
table_rates variable_step_rates(const Tables& r, ld t) {
    const auto n = static_cast<long>(r.alpha.size());
    long j = static_cast<long>(std::ceil(t));
    if (j < 1) j = 1;
    if (j > n - 1) j = n - 1;
    const auto k = static_cast<std::size_t>(j);
    const ld a = interpolate_at(r.alpha, t), s = interpolate_at(r.sigma, t);
    const ld f = (r.alpha[k - 1] - r.alpha[k]) / a;
    return {f, 2 * s * (r.sigma[k] - r.sigma[k - 1]) + 2 * f * s * s};
}

/// The abscissa t where the piecewise-linear curve (j, ys[j]) takes the value y; ys monotone (either
/// direction); extrapolating from the outermost segments.
inline ld inverse_interpolate(const std::vector<ld>& ys, ld y) {
    const std::size_t n = ys.size();
    const bool increasing = ys[1] > ys[0];
    std::size_t j = 0;
    // The segment [ys[j], ys[j+1]] containing y, or an outermost one.
    while (j + 2 < n && (increasing ? y > ys[j + 1] : y < ys[j + 1])) ++j;
    return ld(j) + (y - ys[j]) / (ys[j + 1] - ys[j]);
}

/// docs/theory.md §2 for one element: converts a model output `out` of fit target `from` at (x, t) into fit target
/// `to`, for any (even inconsistent) output value; α = α(t), σ = σ(t), ls = σ_∞ (velocity only).
/// The pairs §2 does not list are composed through x̂₀ − μ and ε̂.
inline ld reference_convert(mrsolve::fit_target from, mrsolve::fit_target to, ld a, ld s, ld ls, ld x, ld mu, ld out) {
    using mrsolve::fit_target;
    const ld s_hat = s / ls, y = x - mu;
    ld d = 0, e = 0;  // x̂₀ − μ and ε̂
    switch (from) {
        case fit_target::noise: e = out, d = (y - s * out) / a; break;
        case fit_target::data: d = out - mu, e = (y - a * (out - mu)) / s; break;
        case fit_target::velocity: d = a * y - s_hat * out, e = (a * out + s_hat * y) / ls; break;
    }
    switch (to) {
        case fit_target::noise: return e;
        case fit_target::data: return mu + d;
        case fit_target::velocity: return a * ls * e - s_hat * d;
    }
    return 0;
}

/// docs/theory.md §4 dynamic thresholding, per batch item of q: s = the `ratio` quantile of |q| with linear
/// interpolation between order statistics (numpy's default), clamped to [1, max_value]; q ← clamp(q, −s, s)/s.
template <class T>
std::vector<T> reference_threshold(std::vector<T> q, std::size_t items, double ratio, double max_value) {
    const std::size_t chunk = q.size() / items;
    for (std::size_t item = 0; item < items; ++item) {
        std::vector<ld> sorted;
        for (std::size_t e = 0; e < chunk; ++e) sorted.push_back(std::abs(ld(q[item * chunk + e])));
        std::sort(sorted.begin(), sorted.end());
        const ld position = ld(ratio) * ld(chunk - 1);
        const auto lower = static_cast<std::size_t>(std::floor(position));
        const ld fraction = position - ld(lower);
        ld quantile = sorted[lower];
        if (lower + 1 < chunk) quantile += fraction * (sorted[lower + 1] - sorted[lower]);
        const ld s = std::min(std::max(quantile, ld(1)), ld(max_value));
        for (std::size_t e = 0; e < chunk; ++e) {
            const ld v = q[item * chunk + e];
            q[item * chunk + e] = static_cast<T>(std::min(std::max(v, -s), s) / s);
        }
    }
    return q;
}

/// A per-element Gaussian toy problem (x₀ element e ~ N(m_e, s_e²)) whose exact prediction is computed from
/// the family's α(t), σ(t) (docs/theory.md §9): ε* = σ (x − mean_t)/C, x̂₀* = m + α s² (x − mean_t)/C with
/// mean_t = μ + α (m − μ), C = α² s² + σ²; the velocity is α σ_∞ ε* − (σ/σ_∞)(x̂₀* − μ).
/// Works with any contiguous container (std::vector, Eigen vectors) of float or double.
template <class Family>
struct gaussian_toy {
    const Family* family;
    std::vector<double> mean, std_dev;
    mrsolve::fit_target fit = mrsolve::fit_target::noise;
    double lambda_s = 0;  // needed for the velocity target only

    template <class S, class Real>
    void operator()(const S& x, const S& mu, Real t, S& out) const {
        const double a = static_cast<double>(family->alpha(t));
        const double s = static_cast<double>(family->sigma(t));
        const auto* px = std::data(x);
        const auto* pm = std::data(mu);
        auto* po = std::data(out);
        const auto n = static_cast<std::size_t>(std::size(x));
        for (std::size_t e = 0; e < n; ++e) {
            const double m = mean[e % mean.size()], sd = std_dev[e % std_dev.size()];
            const double mean_t = pm[e] + a * (m - pm[e]);
            const double c = a * a * sd * sd + s * s;
            const double dev = static_cast<double>(px[e]) - mean_t;
            const double eps = s * dev / c;
            const double x0 = m + a * sd * sd * dev / c;
            double v = eps;
            if (fit == mrsolve::fit_target::data) v = x0;
            if (fit == mrsolve::fit_target::velocity) v = a * lambda_s * eps - (s / lambda_s) * (x0 - pm[e]);
            po[e] = static_cast<std::remove_reference_t<decltype(po[e])>>(v);
        }
    }
};


/// One recorded model evaluation: the input state, the time and the raw output (as doubles).
struct model_call {
    std::vector<double> x;
    double t;
    std::vector<double> out;
};

template <class S>
std::vector<double> to_doubles(const S& v) {
    const auto* p = std::data(v);
    return std::vector<double>(p, p + static_cast<std::size_t>(std::size(v)));
}

/// Records every call of the wrapped network.
template <class Model>
struct recording_model {
    Model inner;
    std::vector<model_call> calls;
    template <class S, class Real>
    void operator()(const S& x, const S& mu, Real t, S& out) {
        inner(x, mu, t, out);
        calls.push_back({to_doubles(x), static_cast<double>(t), to_doubles(out)});
    }
};

}  // namespace mrsolve_test
