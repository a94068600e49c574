#pragma once
/// @file gaussian_mixture.hpp
/// @brief Closed-form score and model outputs for Gaussian-mixture data under any member of the MR SDE
/// family (docs/theory.md §9).
///
/// For p₀ = Σ_k w_k N(m_k, S_k), every marginal is a mixture with the same weights:
///
///     p_t = Σ_k w_k N(mean_{k,t}, C_{k,t}),   mean_{k,t} = μ + α_t (m_k − μ),   C_{k,t} = α_t² S_k + σ_t² I.
///
/// With responsibilities r_k(x) = w_k N_k(x) / p_t(x), computed by a log-sum-exp over
/// ln w_k + ln N_k(x) (log-determinants from the eigenvalues), so they stay exact far in the tails where
/// every N_k(x) underflows:
///
///     score      ∇log p_t(x) = Σ_k r_k (−C_{k,t}⁻¹ (x − mean_{k,t}))
///     noise      ε*          = −σ_t ∇log p_t(x)
///     data       x̂₀*         = Σ_k r_k (m_k + α_t S_k C_{k,t}⁻¹ (x − mean_{k,t}))  = E[x₀ | x_t = x]
///     velocity   v*          = α_t σ_∞ ε* − (σ_t/σ_∞)(x̂₀* − μ)
///
/// The data prediction equals Tweedie's formula μ + (y + σ_t² ∇log p_t)/α_t (y = x − μ); it is evaluated
/// per component because that form has no division by α_t and no cancellation when α_t is small.
/// There is no closed-form flow map: compare solvers against a tight high-order reference solve.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "gaussian.hpp"

namespace mrsolve {

/// @brief One component of a Gaussian mixture: weight · N(mean, covariance).
struct gaussian_mixture_component {
    double weight = 1.0;             ///< the mixture weight (> 0; weights are normalised to sum to one)
    std::vector<double> mean;        ///< the component mean m_k (n entries)
    std::vector<double> covariance;  ///< the component covariance S_k, row-major n×n, symmetric positive definite
};

/// @brief Exact score and model outputs for Gaussian-mixture data p₀ = Σ_k w_k N(m_k, S_k).
///
/// Each covariance is eigen-decomposed once at construction; a call costs O(K n²) for K components and
/// uses the per-thread workspace (K·n + n + K doubles), so it never allocates after the first call on a
/// thread and is safe to make concurrently. Inputs are any contiguous float/double states; the output
/// may alias an input.
/// @tparam Family the coefficient family (velocity needs `stationary_std()`)
template <CoefficientFamily Family>
class gaussian_mixture_oracle {
public:
    /// @brief The coefficient family type.
    using family_type = Family;
    /// @brief Whether the velocity fit target is available (the family has `stationary_std()`).
    static constexpr bool has_velocity = StationaryFamily<Family>;
    /// @brief The oracle's name, used in error messages.
    static constexpr std::string_view name = "gaussian_mixture_oracle";

    /// @brief Creates the oracle.
    /// @param family the coefficient family
    /// @param components the mixture components (weights are normalised to sum to one)
    /// @pre at least one component; every weight finite and > 0; every mean non-empty, finite and of the
    /// same dimension n; every covariance n×n, finite, symmetric and positive definite
    /// @throws mrsolve::invalid_argument naming the component and the offending value
    gaussian_mixture_oracle(Family family, const std::vector<gaussian_mixture_component>& components)
        : family_(std::move(family)) {
        if (components.empty()) detail::throw_invalid(name, ": the mixture needs at least one component, got 0");
        const std::size_t n = components.front().mean.size();
        double total = 0.0;
        for (std::size_t k = 0; k < components.size(); ++k) {
            const double w = components[k].weight;
            if (!(std::isfinite(w) && w > 0.0))
                detail::throw_invalid(name, ": component ", k, " has weight ", w, "; need a finite weight > 0");
            if (components[k].mean.size() != n)
                detail::throw_invalid(name, ": component ", k, " has a mean of dimension ", components[k].mean.size(),
                                      " but component 0 has dimension ", n);
            total += w;
        }
        if (!std::isfinite(total)) detail::throw_invalid(name, ": the weights sum to ", total, ", not finite");
        weights_.reserve(components.size());
        log_weights_.reserve(components.size());
        components_.reserve(components.size());
        for (std::size_t k = 0; k < components.size(); ++k) {
            const std::string context = detail::message(name, ": component ", k);
            components_.push_back(
                detail::make_full_gaussian_spectrum(components[k].mean, components[k].covariance, context));
            weights_.push_back(components[k].weight / total);
            log_weights_.push_back(std::log(components[k].weight) - std::log(total));
        }
        (void)detail::oracle_workspace(workspace_size());
    }

    /// @brief The dimension n of the data. @return n
    [[nodiscard]] std::size_t size() const noexcept { return components_.front().size(); }
    /// @brief The number of components K. @return K
    [[nodiscard]] std::size_t component_count() const noexcept { return components_.size(); }
    /// @brief The normalised weights w_k (sum one). @return the weights
    [[nodiscard]] const std::vector<double>& weights() const noexcept { return weights_; }
    /// @brief The coefficient family. @return the family
    [[nodiscard]] const Family& family() const noexcept { return family_; }
    /// @brief The mean m_k of component k.
    /// @param k the component index (< K)
    /// @return m_k
    /// @throws std::out_of_range if k ≥ K
    [[nodiscard]] const std::vector<double>& component_mean(std::size_t k) const { return components_.at(k).mean(); }

    /// @brief The exact score ∇log p_t(x) = Σ_k r_k (−C_{k,t}⁻¹ (x − mean_{k,t})).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void score(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        const double a2 = c.alpha * c.alpha;
        const double s2 = c.sigma * c.sigma;
        combine(x, mu, c, {c.alpha, 0.0, 0.0}, [=](double d) { return -1.0 / (a2 * d + s2); }, out);
    }

    /// @brief The exact noise prediction ε* = −σ_t ∇log p_t(x).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void noise(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        const double a2 = c.alpha * c.alpha;
        const double sigma = c.sigma;
        combine(x, mu, c, {c.alpha, 0.0, 0.0}, [=](double d) { return sigma / (a2 * d + sigma * sigma); }, out);
    }

    /// @brief The exact data prediction x̂₀* = E[x₀ | x_t = x] (Tweedie's formula, evaluated per component).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void data(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        const double alpha = c.alpha;
        const double s2 = c.sigma * c.sigma;
        combine(x, mu, c, {alpha, 1.0, 1.0}, [=](double d) { return alpha * d / (alpha * alpha * d + s2); }, out);
    }

    /// @brief The exact velocity v* = α_t σ_∞ ε* − (σ_t/σ_∞)(x̂₀* − μ) (docs/theory.md §2).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements; the family has `stationary_std()`
    /// @throws mrsolve::invalid_argument on a size mismatch, invalid α(t), σ(t) or σ_∞ ≤ 0
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
        requires StationaryFamily<Family>
    void velocity(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        const double ls = detail::oracle_stationary_std(family_, name);
        const double alpha = c.alpha;
        const double sigma = c.sigma;
        combine(x, mu, c, {alpha, -sigma / ls, 0.0},
                [=](double d) { return alpha * sigma * (ls * ls - d) / (ls * (alpha * alpha * d + sigma * sigma)); },
                out);
    }

    /// @brief The exact output for a fit target (noise, data or velocity).
    /// @tparam X, M, Out state types
    /// @param target the fit target @param x the state @param mu the condition @param t the time
    /// @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch, invalid coefficients, an invalid target or
    /// velocity without `stationary_std()`
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void predict(fit_target target, const X& x, const M& mu, double t, Out&& out) const {
        switch (target) {
            case fit_target::noise: noise(x, mu, t, out); return;
            case fit_target::data: data(x, mu, t, out); return;
            case fit_target::velocity:
                if constexpr (has_velocity) {
                    velocity(x, mu, t, out);
                    return;
                }
                break;
        }
        detail::check_oracle_target<Family>(target, name);
    }

    /// @brief A callable `f(x, mu, t, out)` returning the exact output for a fit target.
    /// @param target the fit target
    /// @return the callable; it refers to this oracle, which must outlive it
    /// @throws mrsolve::invalid_argument for an invalid target or velocity without `stationary_std()`
    [[nodiscard]] oracle_model<gaussian_mixture_oracle> model(fit_target target) const& {
        return oracle_model<gaussian_mixture_oracle>(*this, target);
    }
    /// @brief Deleted: the model would refer to a temporary oracle.
    oracle_model<gaussian_mixture_oracle> model(fit_target target) const&& = delete;

    /// @brief The exact log density ln p_t(x), by a log-sum-exp over the components.
    /// @tparam X, M state types
    /// @param x the state @param mu the condition @param t the time
    /// @return ln p_t(x) (finite wherever x is finite)
    /// @pre x, mu have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M>
    [[nodiscard]] double log_density(const X& x, const M& mu, double t) const {
        check_input_sizes(x, mu);
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        double* work = detail::oracle_workspace(workspace_size());
        return responsibilities_into(x, mu, c, work, work + component_count() * size() + size());
    }

    /// @brief The responsibilities r_k(x) = w_k N_k(x) / p_t(x) of the components at (x, t).
    /// @tparam X, M state types
    /// @param x the state @param mu the condition @param t the time
    /// @param out the responsibilities (component_count() entries; they sum to one)
    /// @pre x, mu have size() elements; out has component_count() entries
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input X, detail::oracle_input M>
    void responsibilities(const X& x, const M& mu, double t, std::span<double> out) const {
        check_input_sizes(x, mu);
        if (out.size() != component_count())
            detail::throw_invalid(name, ": the responsibilities output has ", out.size(), " entries but the mixture has ",
                                  component_count(), " components");
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        double* work = detail::oracle_workspace(workspace_size());
        double* r = work + component_count() * size() + size();
        (void)responsibilities_into(x, mu, c, work, r);
        std::copy_n(r, component_count(), out.data());
    }

    /// @brief The exact marginal mean E[x_t] = μ + α_t (Σ_k w_k m_k − μ).
    /// @tparam M, Out state types
    /// @param mu the condition @param t the time @param out the output
    /// @pre mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <detail::oracle_input M, detail::oracle_output Out>
    void marginal_mean(const M& mu, double t, Out&& out) const {
        detail::check_oracle_size(name, "mu", detail::oracle_size(mu), size());
        detail::check_oracle_size(name, "out", detail::oracle_size(out), size());
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        const auto* mp = std::data(mu);
        auto* op = std::data(out);
        using out_type = std::remove_pointer_t<decltype(op)>;
        for (std::size_t i = 0; i < size(); ++i) {
            const double mui = static_cast<double>(mp[i]);
            double mean = 0.0;
            for (std::size_t k = 0; k < component_count(); ++k) mean += weights_[k] * (components_[k].mean()[i] - mui);
            op[i] = static_cast<out_type>(mui + c.alpha * mean);
        }
    }

    /// @brief The exact marginal covariance Cov(x_t) = Σ_k w_k (C_{k,t} + α_t² (m_k − m̄)(m_k − m̄)ᵀ),
    /// m̄ = Σ_k w_k m_k, as a dense row-major n×n matrix.
    /// @param t the time
    /// @return the covariance (allocates; meant for checks)
    /// @throws mrsolve::invalid_argument on invalid α(t), σ(t)
    [[nodiscard]] std::vector<double> marginal_covariance(double t) const {
        const detail::oracle_coefficients c = detail::oracle_coefficients_at(family_, t, name);
        const std::size_t n = size();
        const double a2 = c.alpha * c.alpha;
        const double s2 = c.sigma * c.sigma;
        std::vector<double> mean_bar(n, 0.0);
        for (std::size_t k = 0; k < component_count(); ++k)
            for (std::size_t i = 0; i < n; ++i) mean_bar[i] += weights_[k] * components_[k].mean()[i];
        std::vector<double> result(n * n, 0.0);
        for (std::size_t k = 0; k < component_count(); ++k) {
            const std::vector<double> ck = components_[k].dense([=](double d) { return a2 * d + s2; });
            const std::vector<double>& mk = components_[k].mean();
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j < n; ++j)
                    result[i * n + j] +=
                        weights_[k] * (ck[i * n + j] + a2 * (mk[i] - mean_bar[i]) * (mk[j] - mean_bar[j]));
        }
        return result;
    }

private:
    [[nodiscard]] std::size_t workspace_size() const noexcept {
        return component_count() * size() + size() + component_count();
    }

    template <class X, class M>
    void check_input_sizes(const X& x, const M& mu) const {
        detail::check_oracle_size(name, "x", detail::oracle_size(x), size());
        detail::check_oracle_size(name, "mu", detail::oracle_size(mu), size());
    }

    template <class X, class M, class Out>
    void check_sizes(const X& x, const M& mu, const Out& out) const {
        check_input_sizes(x, mu);
        detail::check_oracle_size(name, "out", detail::oracle_size(out), size());
    }

    /// Projects x onto every component's eigenbasis (w, K·n doubles), writes the responsibilities into r
    /// (K doubles) and returns ln p_t(x). Stable: the log-sum-exp subtracts the largest term.
    template <class X, class M>
    double responsibilities_into(const X& x, const M& mu, detail::oracle_coefficients c, double* w, double* r) const {
        const std::size_t n = size();
        const std::size_t count = component_count();
        double largest = -std::numeric_limits<double>::infinity();
        for (std::size_t k = 0; k < count; ++k) {
            double* wk = w + k * n;
            components_[k].project(std::data(x), std::data(mu), c.alpha, wk);
            r[k] = log_weights_[k] + components_[k].log_density_projected(wk, c.alpha, c.sigma);
            largest = std::max(largest, r[k]);
        }
        double sum = 0.0;
        for (std::size_t k = 0; k < count; ++k) {
            r[k] = std::exp(r[k] - largest);
            sum += r[k];
        }
        for (std::size_t k = 0; k < count; ++k) r[k] /= sum;
        return largest + std::log(sum);
    }

    /// out = q μ + Σ_k r_k (p (m_k − μ) + B_k diag(coef(d)) B_kᵀ (x − mean_{k,t})).
    template <class X, class M, class Out, class Coef>
    void combine(const X& x, const M& mu, detail::oracle_coefficients c, detail::oracle_affine_parts parts,
                 const Coef& coef, Out& out) const {
        const std::size_t n = size();
        const std::size_t count = component_count();
        double* w = detail::oracle_workspace(workspace_size());
        double* acc = w + count * n;
        double* r = acc + n;
        (void)responsibilities_into(x, mu, c, w, r);
        std::fill_n(acc, n, 0.0);
        const auto* mp = std::data(mu);
        for (std::size_t k = 0; k < count; ++k) {
            if (r[k] == 0.0) continue;  // underflowed: contributes nothing
            double* wk = w + k * n;
            const std::vector<double>& d = components_[k].variances();
            for (std::size_t i = 0; i < n; ++i) wk[i] *= r[k] * coef(d[i]);
            components_[k].back_project_add(wk, acc);
            if (parts.p != 0.0) {
                const std::vector<double>& mk = components_[k].mean();
                for (std::size_t i = 0; i < n; ++i) acc[i] += r[k] * parts.p * (mk[i] - static_cast<double>(mp[i]));
            }
        }
        auto* op = std::data(out);
        using out_type = std::remove_pointer_t<decltype(op)>;
        for (std::size_t i = 0; i < n; ++i) op[i] = static_cast<out_type>(parts.q * static_cast<double>(mp[i]) + acc[i]);
    }

    Family family_;
    std::vector<double> weights_;
    std::vector<double> log_weights_;
    std::vector<detail::gaussian_spectrum> components_;
};

}  // namespace mrsolve
