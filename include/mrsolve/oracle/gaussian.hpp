#pragma once
/// @file gaussian.hpp
/// @brief Closed-form oracles for Gaussian data x₀ ~ N(m, S) under any member of the MR SDE family
/// (docs/theory.md §9): exact model outputs, probability-flow map, marginals and reverse-SDE transition.
///
/// With y = x − μ, every marginal is Gaussian: x_t ~ N(mean_t, C_t) with
///
///     mean_t = μ + α_t (m − μ),    C_t = α_t² S + σ_t² I.
///
/// All the matrices below are functions of S, so they commute and are diagonal in the eigenbasis of S:
///
///     score      ∇log p_t(x) = −C_t⁻¹ (x − mean_t)
///     noise      ε*(x, t)    = σ_t C_t⁻¹ (x − mean_t)               (= −σ_t ∇log p_t, the MMSE noise)
///     data       x̂₀*(x, t)   = m + α_t S C_t⁻¹ (x − mean_t)         (= E[x₀ | x_t = x], Tweedie)
///     velocity   v*(x, t)    = α_t σ_∞ ε* − (σ_t/σ_∞)(x̂₀* − μ)      (docs/theory.md §2; needs σ_∞)
///     flow       x_t = mean_t + C_t^{1/2} C_s^{−1/2} (x_s − mean_s)  (probability-flow ODE, any s, t)
///
/// **Reverse-SDE transition.** The reverse-time SDE run from s down to t ≤ s has the path law of the
/// forward process (Anderson, 1982), so its transition from x_s is the forward conditional law of x_t
/// given x_s. Forward, y_s = a y_t + ξ with a = α_s/α_t and ξ ~ N(0, v I) independent of y_t, where
/// v = σ_s² − a² σ_t² = σ_s² (1 − e^{−2h}), h = λ_t − λ_s ≥ 0, e^{−h} = α_s σ_t / (α_t σ_s). Hence
/// Cov(x_t, x_s) = a C_t and, with K = a C_t C_s⁻¹,
///
///     x_t | x_s  ~  N( mean_t + K (x_s − mean_s),  C_t − K C_s Kᵀ ),   C_t − K C_s Kᵀ = v C_t C_s⁻¹.
///
/// (The last identity uses C_s − a² C_t = v I.) Equivalently it is the posterior step of docs/theory.md §5
/// averaged over x₀ | x_s: its mean is the §5 mean at x̂₀ = x̂₀*(x_s, s) and its covariance adds
/// (α_t v/σ_s²)² Cov(x₀ | x_s) to the §5 variance.
///
/// **States.** Every operation takes any contiguous state (std::vector<float|double>, Eigen::VectorXf|Xd,
/// std::span, …) read through `std::data` and `std::size`, computes in double and writes a caller-owned
/// output of the same size. The output may alias an input. Calls never allocate after the first call on
/// a thread (see detail::oracle_workspace) and are safe to make concurrently from several threads.
///
/// **Members of gaussian_diagonal_oracle and gaussian_full_oracle.** Both share these public members
/// (defined once in an internal base class, so they are listed here). x, μ, z and out are states of the
/// oracle's dimension; t and s are times in the family's units; every member checks the sizes and α, σ
/// and throws mrsolve::invalid_argument naming the offending value.
///
/// | member | returns or writes |
/// |---|---|
/// | `size()` | the dimension n |
/// | `family()`, `data_mean()` | the coefficient family; the data mean m |
/// | `score(x, mu, t, out)` | ∇log p_t(x) = −C_t⁻¹ (x − mean_t) |
/// | `noise(x, mu, t, out)` | ε*(x, t) = σ_t C_t⁻¹ (x − mean_t) |
/// | `data(x, mu, t, out)` | x̂₀*(x, t) = m + α_t S C_t⁻¹ (x − mean_t) |
/// | `velocity(x, mu, t, out)` | v*(x, t) (only when the family has `stationary_std()`) |
/// | `predict(target, x, mu, t, out)` | the output for a fit_target |
/// | `model(target)` | an oracle_model: a callable `f(x, mu, t, out)` to pass to mrsolve::sample |
/// | `log_density(x, mu, t)` | ln p_t(x) |
/// | `flow(x_s, mu, s, t, out)` | the exact probability-flow map x_s ↦ x_t (either direction) |
/// | `marginal_mean(mu, t, out)`, `marginal_variance(t, out)` | mean_t; the diagonal of C_t |
/// | `marginal_covariance(t)` | C_t, dense row-major n×n (allocates) |
/// | `marginal_sample(mu, t, z, out)` | mean_t + C_t^{1/2} z |
/// | `reverse_transition_mean(x_s, mu, s, t, out)` | E[x_t \| x_s] of the reverse SDE, t ≤ s |
/// | `reverse_transition_variance(s, t, out)`, `reverse_transition_covariance(s, t)` | its (co)variance |
/// | `reverse_transition_sample(x_s, mu, s, t, z, out)` | a draw of x_t \| x_s given normals z |
/// | `has_velocity`, `family_type` | whether velocity is offered; the family type |

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <numbers>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../concepts/coefficients.hpp"
#include "../detail/symmetric_eigen.hpp"
#include "../error.hpp"
#include "../prediction/fit_target.hpp"

namespace mrsolve {
namespace detail {

/// @brief The element type of a state as seen through `std::data` (const-qualified for const states).
/// @tparam S the state type
template <class S>
using oracle_element_t = std::remove_pointer_t<decltype(std::data(std::declval<S&>()))>;

/// @brief A state the oracles can read: contiguous float/double storage via `std::data` and `std::size`.
/// @tparam S the state type
template <class S>
concept oracle_input = requires(const S& s) {
    std::data(s);
    std::size(s);
} && std::is_pointer_v<decltype(std::data(std::declval<const S&>()))> &&
                       std::floating_point<std::remove_cv_t<oracle_element_t<const S>>>;

/// @brief A state the oracles can write (a forwarding-reference type is allowed): mutable contiguous
/// float/double storage via `std::data` and `std::size`.
/// @tparam T the state type, possibly a reference
template <class T>
concept oracle_output = requires(std::remove_reference_t<T>& s) {
    std::data(s);
    std::size(s);
} && std::is_pointer_v<decltype(std::data(std::declval<std::remove_reference_t<T>&>()))> &&
                        std::floating_point<oracle_element_t<std::remove_reference_t<T>>> &&
                        !std::is_const_v<oracle_element_t<std::remove_reference_t<T>>>;

/// @brief The number of elements of a state.
/// @tparam S the state type
/// @param s the state
/// @return std::size(s) as std::size_t
template <class S>
[[nodiscard]] std::size_t oracle_size(const S& s) {
    return static_cast<std::size_t>(std::size(s));
}

/// @brief Throws unless a state has the oracle's dimension.
/// @param oracle the oracle's name, for the message
/// @param what the argument's name, for the message
/// @param got the argument's size
/// @param expected the oracle's dimension
/// @throws mrsolve::invalid_argument naming both sizes if they differ
inline void check_oracle_size(std::string_view oracle, std::string_view what, std::size_t got, std::size_t expected) {
    if (got != expected)
        throw_invalid(oracle, ": ", what, " has ", got, " elements but the oracle's dimension is ", expected);
}

/// @brief A per-thread buffer of doubles for the oracles' projections onto eigenbases.
///
/// It grows on demand and never shrinks, so a thread allocates only the first time it needs a given
/// size; oracles warm the constructing thread's buffer. Keeping it per thread (instead of a mutable
/// member) lets const oracle calls run concurrently. Each public oracle call requests it exactly once,
/// so pointers into it stay valid for the whole call.
/// @param count the number of doubles needed
/// @return a pointer to at least `count` doubles, valid until the next call on this thread
[[nodiscard]] inline double* oracle_workspace(std::size_t count) {
    thread_local std::vector<double> buffer;
    if (buffer.size() < count) buffer = std::vector<double>(count);  // contents need not survive
    return buffer.data();
}

/// @brief α(t) and σ(t) of a family, in double.
struct oracle_coefficients {
    double alpha;  ///< α(t)
    double sigma;  ///< σ(t)
};

/// @brief Evaluates and checks α(t), σ(t).
/// @tparam Family the coefficient family
/// @param family the family
/// @param t the time, in the family's units
/// @param oracle the oracle's name, for the message
/// @return α(t), σ(t) in double
/// @throws mrsolve::invalid_argument unless α(t) is finite and > 0 and σ(t) finite and ≥ 0
template <CoefficientFamily Family>
[[nodiscard]] oracle_coefficients oracle_coefficients_at(const Family& family, double t, std::string_view oracle) {
    using real = typename Family::real_type;
    const double alpha = static_cast<double>(family.alpha(static_cast<real>(t)));
    const double sigma = static_cast<double>(family.sigma(static_cast<real>(t)));
    if (!(std::isfinite(alpha) && alpha > 0.0))
        throw_invalid(oracle, ": alpha(t) = ", alpha, " at t = ", t, "; need a finite alpha > 0");
    if (!(std::isfinite(sigma) && sigma >= 0.0))
        throw_invalid(oracle, ": sigma(t) = ", sigma, " at t = ", t, "; need a finite sigma >= 0");
    return {alpha, sigma};
}

/// @brief Evaluates and checks the stationary standard deviation σ_∞ of a family.
/// @tparam Family a family with `stationary_std()`
/// @param family the family
/// @param oracle the oracle's name, for the message
/// @return σ_∞ in double
/// @throws mrsolve::invalid_argument unless σ_∞ is finite and > 0
template <StationaryFamily Family>
[[nodiscard]] double oracle_stationary_std(const Family& family, std::string_view oracle) {
    const double lambda_s = static_cast<double>(family.stationary_std());
    if (!(std::isfinite(lambda_s) && lambda_s > 0.0))
        throw_invalid(oracle, ": the velocity fit target needs stationary_std() > 0, got ", lambda_s);
    return lambda_s;
}

/// @brief Throws unless a fit target is one of the enumerators and, for velocity, the family has σ_∞.
/// @tparam Family the coefficient family
/// @param target the fit target
/// @param oracle the oracle's name, for the message
/// @throws mrsolve::invalid_argument for an invalid value or velocity without `stationary_std()`
template <CoefficientFamily Family>
void check_oracle_target(fit_target target, std::string_view oracle) {
    if (target != fit_target::noise && target != fit_target::data && target != fit_target::velocity)
        throw_invalid(oracle, ": invalid fit_target value ", static_cast<int>(target));
    if (target == fit_target::velocity && !StationaryFamily<Family>)
        throw_invalid(oracle, ": the velocity fit target needs a family with stationary_std() (lambda_s)");
}

/// @brief Marker for "no noise term" in gaussian_spectrum::affine_map.
struct oracle_no_noise {};

/// @brief The scalar parts of the affine maps the Gaussian oracles evaluate.
///
/// out = q μ + p (m − μ) + B diag(coef(d)) Bᵀ (y − center (m − μ)) [+ B diag(zcoef(d)) Bᵀ z], y = x − μ.
struct oracle_affine_parts {
    double center;  ///< α of the time at which x is centred: x − mean = y − center·(m − μ)
    double p;       ///< weight of m − μ in the output
    double q;       ///< weight of μ in the output
};

/// @brief One Gaussian N(m, S) stored in the eigenbasis of S: S = B diag(d) Bᵀ.
///
/// An empty basis means B = I (a diagonal S, handled element-wise with no workspace).
class gaussian_spectrum {
public:
    /// @brief An empty spectrum (dimension 0).
    gaussian_spectrum() = default;

    /// @brief Stores a checked decomposition.
    /// @param mean m (n entries)
    /// @param variances d, the eigenvalues of S (n entries, all > 0)
    /// @param basis B, row-major n×n orthogonal, column k the eigenvector of d_k; empty for B = I
    /// @pre the sizes agree and the values are valid (the oracles' constructors check them)
    gaussian_spectrum(std::vector<double> mean, std::vector<double> variances, std::vector<double> basis)
        : mean_(std::move(mean)), variances_(std::move(variances)), basis_(std::move(basis)) {}

    /// @brief The dimension n. @return n
    [[nodiscard]] std::size_t size() const noexcept { return mean_.size(); }
    /// @brief Whether B = I (S diagonal, stored without a basis). @return true if so
    [[nodiscard]] bool is_diagonal() const noexcept { return basis_.empty(); }
    /// @brief The mean m. @return m
    [[nodiscard]] const std::vector<double>& mean() const noexcept { return mean_; }
    /// @brief The eigenvalues d of S (the variances when S is diagonal). @return d
    [[nodiscard]] const std::vector<double>& variances() const noexcept { return variances_; }
    /// @brief The eigenbasis B, row-major n×n (empty for B = I). @return B
    [[nodiscard]] const std::vector<double>& basis() const noexcept { return basis_; }

    /// @brief w = Bᵀ (y − center (m − μ)) with y = x − μ.
    /// @tparam T element type of x @tparam U element type of μ
    /// @param x the state (n elements) @param mu the condition (n elements)
    /// @param center the α at which x is centred @param w output, n doubles
    template <class T, class U>
    void project(const T* x, const U* mu, double center, double* w) const noexcept {
        const std::size_t n = size();
        if (basis_.empty()) {
            for (std::size_t j = 0; j < n; ++j) {
                const double muj = static_cast<double>(mu[j]);
                w[j] = (static_cast<double>(x[j]) - muj) - center * (mean_[j] - muj);
            }
            return;
        }
        std::fill_n(w, n, 0.0);
        for (std::size_t j = 0; j < n; ++j) {
            const double muj = static_cast<double>(mu[j]);
            const double r = (static_cast<double>(x[j]) - muj) - center * (mean_[j] - muj);
            const double* row = basis_.data() + j * n;
            for (std::size_t k = 0; k < n; ++k) w[k] += row[k] * r;
        }
    }

    /// @brief w = Bᵀ z.
    /// @tparam T element type of z
    /// @param z the vector (n elements) @param w output, n doubles
    template <class T>
    void project_plain(const T* z, double* w) const noexcept {
        const std::size_t n = size();
        if (basis_.empty()) {
            for (std::size_t j = 0; j < n; ++j) w[j] = static_cast<double>(z[j]);
            return;
        }
        std::fill_n(w, n, 0.0);
        for (std::size_t j = 0; j < n; ++j) {
            const double zj = static_cast<double>(z[j]);
            const double* row = basis_.data() + j * n;
            for (std::size_t k = 0; k < n; ++k) w[k] += row[k] * zj;
        }
    }

    /// @brief acc += B w.
    /// @param w coordinates in the eigenbasis (n doubles) @param acc the accumulator (n doubles)
    void back_project_add(const double* w, double* acc) const noexcept {
        const std::size_t n = size();
        if (basis_.empty()) {
            for (std::size_t i = 0; i < n; ++i) acc[i] += w[i];
            return;
        }
        for (std::size_t i = 0; i < n; ++i) {
            const double* row = basis_.data() + i * n;
            double sum = 0.0;
            for (std::size_t k = 0; k < n; ++k) sum += row[k] * w[k];
            acc[i] += sum;
        }
    }

    /// @brief Evaluates out = q μ + p (m − μ) + B diag(coef(d)) Bᵀ (y − center (m − μ)) [+ B diag(zcoef(d)) Bᵀ z].
    ///
    /// x and μ are read completely before `out` is written, except μ_i just before out_i, so `out` may
    /// alias x, μ or z.
    /// @tparam X, M, Out, Z state types @tparam Coef, ZCoef callables double(double d)
    /// @param x the state @param mu the condition @param parts the scalar parts
    /// @param coef the gain on the centred state in the eigenbasis, as a function of the eigenvalue d
    /// @param out the output @param z an optional second input (noise), or oracle_no_noise
    /// @param zcoef the gain on z in the eigenbasis, as a function of d
    /// @pre every state has size() elements
    template <class X, class M, class Out, class Coef, class Z = oracle_no_noise, class ZCoef = oracle_no_noise>
    void affine_map(const X& x, const M& mu, oracle_affine_parts parts, const Coef& coef, Out& out, const Z& z = {},
                    const ZCoef& zcoef = {}) const {
        constexpr bool with_noise = !std::is_same_v<Z, oracle_no_noise>;
        const std::size_t n = size();
        const auto* xp = std::data(x);
        const auto* mp = std::data(mu);
        auto* op = std::data(out);
        using out_type = std::remove_pointer_t<decltype(op)>;
        if (basis_.empty()) {
            for (std::size_t j = 0; j < n; ++j) {
                const double muj = static_cast<double>(mp[j]);
                const double dm = mean_[j] - muj;
                const double r = (static_cast<double>(xp[j]) - muj) - parts.center * dm;
                double value = parts.q * muj + parts.p * dm + coef(variances_[j]) * r;
                if constexpr (with_noise) value += zcoef(variances_[j]) * static_cast<double>(std::data(z)[j]);
                op[j] = static_cast<out_type>(value);
            }
            return;
        }
        double* w = oracle_workspace(with_noise ? 2 * n : n);
        project(xp, mp, parts.center, w);
        for (std::size_t k = 0; k < n; ++k) w[k] *= coef(variances_[k]);
        if constexpr (with_noise) {
            double* wz = w + n;
            project_plain(std::data(z), wz);
            for (std::size_t k = 0; k < n; ++k) w[k] += zcoef(variances_[k]) * wz[k];
        }
        for (std::size_t i = 0; i < n; ++i) {
            const double mui = static_cast<double>(mp[i]);
            double value = parts.q * mui + parts.p * (mean_[i] - mui);
            const double* row = basis_.data() + i * n;
            for (std::size_t k = 0; k < n; ++k) value += row[k] * w[k];
            op[i] = static_cast<out_type>(value);
        }
    }

    /// @brief ln N(x; μ + α (m − μ), α² S + σ² I).
    /// @tparam X, M state types
    /// @param x the state @param mu the condition @param alpha α(t) @param sigma σ(t)
    /// @return the log density
    template <class X, class M>
    [[nodiscard]] double log_density(const X& x, const M& mu, double alpha, double sigma) const {
        const std::size_t n = size();
        if (basis_.empty()) {  // element-wise, no workspace
            const auto* xp = std::data(x);
            const auto* mp = std::data(mu);
            const double a2 = alpha * alpha;
            const double s2 = sigma * sigma;
            double quad = 0.0;
            double log_det = 0.0;
            for (std::size_t j = 0; j < n; ++j) {
                const double muj = static_cast<double>(mp[j]);
                const double r = (static_cast<double>(xp[j]) - muj) - alpha * (mean_[j] - muj);
                const double c = a2 * variances_[j] + s2;
                quad += r * r / c;
                log_det += std::log(c);
            }
            return -0.5 * (quad + log_det + static_cast<double>(n) * std::log(2.0 * std::numbers::pi));
        }
        double* w = oracle_workspace(n);
        project(std::data(x), std::data(mu), alpha, w);
        return log_density_projected(w, alpha, sigma);
    }

    /// @brief ln N for an already projected, centred state w = Bᵀ (x − mean_t).
    /// @param w the projection (n doubles) @param alpha α(t) @param sigma σ(t)
    /// @return −½ Σ w_k²/c_k − ½ Σ ln c_k − (n/2) ln 2π with c_k = α² d_k + σ²
    [[nodiscard]] double log_density_projected(const double* w, double alpha, double sigma) const noexcept {
        const std::size_t n = size();
        const double a2 = alpha * alpha;
        const double s2 = sigma * sigma;
        double quad = 0.0;
        double log_det = 0.0;
        for (std::size_t k = 0; k < n; ++k) {
            const double c = a2 * variances_[k] + s2;
            quad += w[k] * w[k] / c;
            log_det += std::log(c);
        }
        return -0.5 * (quad + log_det + static_cast<double>(n) * std::log(2.0 * std::numbers::pi));
    }

    /// @brief The dense matrix B diag(f(d)) Bᵀ, row-major n×n.
    /// @tparam F callable double(double d) @param f the spectral function @return the matrix
    template <class F>
    [[nodiscard]] std::vector<double> dense(const F& f) const {
        const std::size_t n = size();
        std::vector<double> result(n * n, 0.0);
        std::vector<double> fd(n);
        for (std::size_t k = 0; k < n; ++k) fd[k] = f(variances_[k]);
        if (basis_.empty()) {
            for (std::size_t i = 0; i < n; ++i) result[i * n + i] = fd[i];
            return result;
        }
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = i; j < n; ++j) {
                double sum = 0.0;
                for (std::size_t k = 0; k < n; ++k) sum += basis_[i * n + k] * fd[k] * basis_[j * n + k];
                result[i * n + j] = result[j * n + i] = sum;
            }
        return result;
    }

    /// @brief The diagonal of B diag(f(d)) Bᵀ, written into a state.
    /// @tparam F callable double(double d) @tparam Out state type
    /// @param f the spectral function @param out the output (n elements)
    template <class F, class Out>
    void dense_diagonal(const F& f, Out& out) const {
        const std::size_t n = size();
        auto* op = std::data(out);
        using out_type = std::remove_pointer_t<decltype(op)>;
        if (basis_.empty()) {
            for (std::size_t i = 0; i < n; ++i) op[i] = static_cast<out_type>(f(variances_[i]));
            return;
        }
        double* fd = oracle_workspace(n);
        for (std::size_t k = 0; k < n; ++k) fd[k] = f(variances_[k]);
        for (std::size_t i = 0; i < n; ++i) {
            double sum = 0.0;
            for (std::size_t k = 0; k < n; ++k) sum += basis_[i * n + k] * basis_[i * n + k] * fd[k];
            op[i] = static_cast<out_type>(sum);
        }
    }

private:
    std::vector<double> mean_;
    std::vector<double> variances_;
    std::vector<double> basis_;
};

/// @brief Checks a mean vector: non-empty and finite.
/// @param mean the mean @param context prefix of the message
/// @throws mrsolve::invalid_argument naming the offending entry
inline void check_oracle_mean(const std::vector<double>& mean, std::string_view context) {
    if (mean.empty()) throw_invalid(context, ": the mean is empty; the dimension must be positive");
    for (std::size_t j = 0; j < mean.size(); ++j)
        if (!std::isfinite(mean[j])) throw_invalid(context, ": mean[", j, "] = ", mean[j], " is not finite");
}

/// @brief Checks and eigen-decomposes a full covariance, returning the spectrum of N(mean, covariance).
///
/// The covariance must be finite, symmetric to 1e-10 of its largest entry (it is then symmetrised) and
/// numerically positive definite: smallest eigenvalue > n·ε·(largest eigenvalue), the level below which
/// the sign of an eigenvalue of a rounded matrix is not determined.
/// @param mean m (n entries) @param covariance S, row-major n×n @param context prefix of the message
/// @return the spectrum
/// @throws mrsolve::invalid_argument naming the offending value (size, entry, or eigenvalues)
[[nodiscard]] inline gaussian_spectrum make_full_gaussian_spectrum(std::vector<double> mean,
                                                                   const std::vector<double>& covariance,
                                                                   std::string_view context) {
    check_oracle_mean(mean, context);
    const std::size_t n = mean.size();
    if (covariance.size() != n * n)
        throw_invalid(context, ": the covariance has ", covariance.size(), " entries; a ", n, "x", n,
                      " row-major matrix (dimension of the mean) needs ", n * n);
    double largest = 0.0;
    for (std::size_t e = 0; e < n * n; ++e) {
        if (!std::isfinite(covariance[e]))
            throw_invalid(context, ": covariance(", e / n, ", ", e % n, ") = ", covariance[e], " is not finite");
        largest = std::max(largest, std::abs(covariance[e]));
    }
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = i + 1; j < n; ++j) {
            const double upper = covariance[i * n + j];
            const double lower = covariance[j * n + i];
            if (std::abs(upper - lower) > 1e-10 * largest)
                throw_invalid(context, ": the covariance is not symmetric: (", i, ", ", j, ") = ", upper, " but (", j,
                              ", ", i, ") = ", lower);
        }
    symmetric_eigen_result eig = symmetric_eigen(covariance, n);
    if (!eig.converged) throw_invalid(context, ": the eigen-decomposition of the covariance did not converge");
    const double smallest = eig.values.front();
    const double biggest = eig.values.back();
    if (!(smallest > static_cast<double>(n) * 2.220446049250313e-16 * biggest) || !(smallest > 0.0))
        throw_invalid(context, ": the covariance is not positive definite: smallest eigenvalue ", smallest,
                      ", largest ", biggest);
    return gaussian_spectrum(std::move(mean), std::move(eig.values), std::move(eig.vectors));
}

}  // namespace detail

/// @brief A lightweight callable that evaluates one fit target of an oracle: `f(x, mu, t, out)`.
///
/// It holds a pointer to its oracle (which must outlive it) and the target, so it is cheap to copy and
/// can be passed wherever a model is expected. Calls are const and thread-safe like the oracle's.
/// @tparam Oracle an oracle class with `predict(fit_target, x, mu, t, out)` and `has_velocity`
template <class Oracle>
class oracle_model {
public:
    /// @brief Binds an oracle and a fit target.
    /// @param oracle the oracle (must outlive the model)
    /// @param target the fit target to return
    /// @throws mrsolve::invalid_argument for an invalid target, or velocity when the oracle's family has no
    /// `stationary_std()`
    oracle_model(const Oracle& oracle, fit_target target) : oracle_(&oracle), target_(target) {
        detail::check_oracle_target<typename Oracle::family_type>(target, Oracle::name);
    }

    /// @brief Evaluates the bound fit target.
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output (same size)
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid coefficients at t
    template <detail::oracle_input X, detail::oracle_input M, detail::oracle_output Out>
    void operator()(const X& x, const M& mu, double t, Out&& out) const {
        oracle_->predict(target_, x, mu, t, out);
    }

    /// @brief The bound fit target. @return the target
    [[nodiscard]] fit_target target() const noexcept { return target_; }
    /// @brief The bound oracle. @return the oracle
    [[nodiscard]] const Oracle& oracle() const noexcept { return *oracle_; }

private:
    const Oracle* oracle_;
    fit_target target_;
};

namespace detail {

/// @brief The operations shared by the diagonal and full Gaussian oracles (see gaussian.hpp for the math).
/// @tparam Family the coefficient family
template <CoefficientFamily Family>
class gaussian_oracle_base {
public:
    /// @brief The coefficient family type.
    using family_type = Family;
    /// @brief Whether the velocity fit target is available (the family has `stationary_std()`).
    static constexpr bool has_velocity = StationaryFamily<Family>;

    /// @brief The dimension n of the data. @return n
    [[nodiscard]] std::size_t size() const noexcept { return spectrum_.size(); }
    /// @brief The coefficient family. @return the family
    [[nodiscard]] const Family& family() const noexcept { return family_; }
    /// @brief The data mean m. @return m
    [[nodiscard]] const std::vector<double>& data_mean() const noexcept { return spectrum_.mean(); }

    /// @brief The exact score ∇log p_t(x) = −C_t⁻¹ (x − mean_t).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_input X, oracle_input M, oracle_output Out>
    void score(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const oracle_coefficients c = oracle_coefficients_at(family_, t, name_);
        const double alpha = c.alpha;
        const double sigma = c.sigma;
        spectrum_.affine_map(x, mu, {alpha, 0.0, 0.0},
                             [=](double d) { return -1.0 / (alpha * alpha * d + sigma * sigma); }, out);
    }

    /// @brief The exact noise prediction ε*(x, t) = σ_t C_t⁻¹ (x − mean_t) = −σ_t ∇log p_t(x).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_input X, oracle_input M, oracle_output Out>
    void noise(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const oracle_coefficients c = oracle_coefficients_at(family_, t, name_);
        const double alpha = c.alpha;
        const double sigma = c.sigma;
        spectrum_.affine_map(x, mu, {alpha, 0.0, 0.0},
                             [=](double d) { return sigma / (alpha * alpha * d + sigma * sigma); }, out);
    }

    /// @brief The exact data prediction x̂₀*(x, t) = m + α_t S C_t⁻¹ (x − mean_t) = E[x₀ | x_t = x].
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_input X, oracle_input M, oracle_output Out>
    void data(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const oracle_coefficients c = oracle_coefficients_at(family_, t, name_);
        const double alpha = c.alpha;
        const double sigma = c.sigma;
        spectrum_.affine_map(x, mu, {alpha, 1.0, 1.0},
                             [=](double d) { return alpha * d / (alpha * alpha * d + sigma * sigma); }, out);
    }

    /// @brief The exact velocity v*(x, t) = α_t σ_∞ ε* − (σ_t/σ_∞)(x̂₀* − μ) (docs/theory.md §2).
    /// @tparam X, M, Out state types
    /// @param x the state @param mu the condition @param t the time @param out the output
    /// @pre x, mu, out have size() elements; the family has `stationary_std()`
    /// @throws mrsolve::invalid_argument on a size mismatch, invalid α(t), σ(t) or σ_∞ ≤ 0
    template <oracle_input X, oracle_input M, oracle_output Out>
        requires StationaryFamily<Family>
    void velocity(const X& x, const M& mu, double t, Out&& out) const {
        check_sizes(x, mu, out);
        const oracle_coefficients c = oracle_coefficients_at(family_, t, name_);
        const double alpha = c.alpha;
        const double sigma = c.sigma;
        const double ls = oracle_stationary_std(family_, name_);
        // Per eigen-direction: α σ_∞ σ/c − (σ/σ_∞) α d/c = α σ (σ_∞² − d)/(σ_∞ c); the mean part −(σ/σ_∞)(m − μ).
        spectrum_.affine_map(
            x, mu, {alpha, -sigma / ls, 0.0},
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
    template <oracle_input X, oracle_input M, oracle_output Out>
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
        check_oracle_target<Family>(target, name_);
    }

    /// @brief The exact log density ln p_t(x) of the marginal N(mean_t, C_t).
    /// @tparam X, M state types
    /// @param x the state @param mu the condition @param t the time
    /// @return the log density
    /// @pre x, mu have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_input X, oracle_input M>
    [[nodiscard]] double log_density(const X& x, const M& mu, double t) const {
        check_oracle_size(name_, "x", oracle_size(x), size());
        check_oracle_size(name_, "mu", oracle_size(mu), size());
        const oracle_coefficients c = oracle_coefficients_at(family_, t, name_);
        return spectrum_.log_density(x, mu, c.alpha, c.sigma);
    }

    /// @brief The exact probability-flow map from time s to time t (either direction):
    /// x_t = mean_t + C_t^{1/2} C_s^{−1/2} (x_s − mean_s).
    /// @tparam X, M, Out state types
    /// @param x_s the state at s @param mu the condition @param s the start time @param t the end time
    /// @param out x_t
    /// @pre x_s, mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α, σ at s or t
    template <oracle_input X, oracle_input M, oracle_output Out>
    void flow(const X& x_s, const M& mu, double s, double t, Out&& out) const {
        check_sizes(x_s, mu, out);
        const auto cs = oracle_coefficients_at(family_, s, name_);
        const auto ct = oracle_coefficients_at(family_, t, name_);
        spectrum_.affine_map(x_s, mu, {cs.alpha, ct.alpha, 1.0},
                             [=](double d) { return std::sqrt(covariance_at(ct, d) / covariance_at(cs, d)); }, out);
    }

    /// @brief The exact marginal mean mean_t = μ + α_t (m − μ).
    /// @tparam M, Out state types
    /// @param mu the condition @param t the time @param out the output
    /// @pre mu, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_input M, oracle_output Out>
    void marginal_mean(const M& mu, double t, Out&& out) const {
        check_oracle_size(name_, "mu", oracle_size(mu), size());
        check_oracle_size(name_, "out", oracle_size(out), size());
        const oracle_coefficients c = oracle_coefficients_at(family_, t, name_);
        spectrum_.affine_map(mu, mu, {0.0, c.alpha, 1.0}, [](double) { return 0.0; }, out);
    }

    /// @brief The exact marginal variances: the diagonal of C_t = α_t² S + σ_t² I.
    /// @tparam Out state type
    /// @param t the time @param out the output (size() elements)
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_output Out>
    void marginal_variance(double t, Out&& out) const {
        check_oracle_size(name_, "out", oracle_size(out), size());
        const auto ct = oracle_coefficients_at(family_, t, name_);
        spectrum_.dense_diagonal([=](double d) { return covariance_at(ct, d); }, out);
    }

    /// @brief The exact marginal covariance C_t = α_t² S + σ_t² I as a dense row-major n×n matrix.
    /// @param t the time
    /// @return C_t (allocates; meant for checks, not hot loops)
    /// @throws mrsolve::invalid_argument on invalid α(t), σ(t)
    [[nodiscard]] std::vector<double> marginal_covariance(double t) const {
        const auto ct = oracle_coefficients_at(family_, t, name_);
        return spectrum_.dense([=](double d) { return covariance_at(ct, d); });
    }

    /// @brief A draw from the exact marginal p_t: mean_t + C_t^{1/2} z (symmetric square root).
    /// @tparam M, Z, Out state types
    /// @param mu the condition @param t the time @param z standard normals @param out the sample
    /// @pre mu, z, out have size() elements
    /// @throws mrsolve::invalid_argument on a size mismatch or invalid α(t), σ(t)
    template <oracle_input M, oracle_input Z, oracle_output Out>
    void marginal_sample(const M& mu, double t, const Z& z, Out&& out) const {
        check_oracle_size(name_, "mu", oracle_size(mu), size());
        check_oracle_size(name_, "z", oracle_size(z), size());
        check_oracle_size(name_, "out", oracle_size(out), size());
        const auto ct = oracle_coefficients_at(family_, t, name_);
        spectrum_.affine_map(mu, mu, {0.0, ct.alpha, 1.0}, [](double) { return 0.0; }, out, z,
                             [=](double d) { return std::sqrt(covariance_at(ct, d)); });
    }

    /// @brief The mean of the exact reverse-SDE transition from s to t ≤ s:
    /// E[x_t | x_s] = mean_t + K (x_s − mean_s), K = (α_s/α_t) C_t C_s⁻¹.
    /// @tparam X, M, Out state types
    /// @param x_s the state at s @param mu the condition @param s the start (noisier) time
    /// @param t the end time, t ≤ s @param out the mean
    /// @pre x_s, mu, out have size() elements; t ≤ s; σ(s) > 0 if t < s
    /// @throws mrsolve::invalid_argument if a precondition fails or α, σ are invalid
    template <oracle_input X, oracle_input M, oracle_output Out>
    void reverse_transition_mean(const X& x_s, const M& mu, double s, double t, Out&& out) const {
        check_sizes(x_s, mu, out);
        const auto g = reverse_gains(s, t);
        spectrum_.affine_map(x_s, mu, {g.cs.alpha, g.ct.alpha, 1.0}, [=](double d) { return g.gain(d); }, out);
    }

    /// @brief The variances of the exact reverse-SDE transition from s to t ≤ s: the diagonal of
    /// C_t − K C_s Kᵀ = σ_s² (1 − e^{−2h}) C_t C_s⁻¹.
    /// @tparam Out state type
    /// @param s the start time @param t the end time, t ≤ s @param out the variances (size() elements)
    /// @pre t ≤ s; σ(s) > 0 if t < s
    /// @throws mrsolve::invalid_argument if a precondition fails or α, σ are invalid
    template <oracle_output Out>
    void reverse_transition_variance(double s, double t, Out&& out) const {
        check_oracle_size(name_, "out", oracle_size(out), size());
        const auto g = reverse_gains(s, t);
        spectrum_.dense_diagonal([=](double d) { return g.variance(d); }, out);
    }

    /// @brief The covariance of the exact reverse-SDE transition from s to t ≤ s, dense row-major n×n.
    /// @param s the start time @param t the end time, t ≤ s
    /// @return σ_s² (1 − e^{−2h}) C_t C_s⁻¹ (allocates; meant for checks)
    /// @pre t ≤ s; σ(s) > 0 if t < s
    /// @throws mrsolve::invalid_argument if a precondition fails or α, σ are invalid
    [[nodiscard]] std::vector<double> reverse_transition_covariance(double s, double t) const {
        const auto g = reverse_gains(s, t);
        return spectrum_.dense([=](double d) { return g.variance(d); });
    }

    /// @brief A draw of the exact reverse-SDE transition from s to t ≤ s given standard normals z:
    /// x_t = E[x_t | x_s] + (C_t − K C_s Kᵀ)^{1/2} z (symmetric square root).
    /// @tparam X, M, Z, Out state types
    /// @param x_s the state at s @param mu the condition @param s the start time @param t the end time
    /// @param z standard normals @param out x_t
    /// @pre x_s, mu, z, out have size() elements; t ≤ s; σ(s) > 0 if t < s
    /// @throws mrsolve::invalid_argument if a precondition fails or α, σ are invalid
    template <oracle_input X, oracle_input M, oracle_input Z, oracle_output Out>
    void reverse_transition_sample(const X& x_s, const M& mu, double s, double t, const Z& z, Out&& out) const {
        check_sizes(x_s, mu, out);
        check_oracle_size(name_, "z", oracle_size(z), size());
        const auto g = reverse_gains(s, t);
        spectrum_.affine_map(
            x_s, mu, {g.cs.alpha, g.ct.alpha, 1.0}, [=](double d) { return g.gain(d); }, out, z,
            [=](double d) { return std::sqrt(g.variance(d)); });
    }

protected:
    /// @brief Stores the family and the checked spectrum, and warms this thread's workspace (the full
    /// oracle's calls use it; the diagonal oracle's are element-wise and need none).
    /// @param family the family @param spectrum N(m, S) in the eigenbasis of S @param name the oracle's name
    gaussian_oracle_base(Family family, gaussian_spectrum spectrum, std::string_view name)
        : family_(std::move(family)), spectrum_(std::move(spectrum)), name_(name) {
        if (!spectrum_.is_diagonal()) (void)oracle_workspace(2 * spectrum_.size());
    }

    /// @brief The stored spectrum. @return N(m, S) in the eigenbasis of S
    [[nodiscard]] const gaussian_spectrum& spectrum() const noexcept { return spectrum_; }

private:
    /// c = α² d + σ², the eigenvalue of C at the given coefficients.
    [[nodiscard]] static double covariance_at(oracle_coefficients c, double d) noexcept {
        return c.alpha * c.alpha * d + c.sigma * c.sigma;
    }

    /// The scalars of the reverse transition s → t: gain a c_t/c_s and variance (1 − r²) σ_s² c_t/c_s.
    struct reverse_transition_scalars {
        oracle_coefficients cs;  // α, σ at s
        oracle_coefficients ct;  // α, σ at t
        double a;                // α_s/α_t
        double v;                // σ_s² (1 − e^{−2h}), the forward transition variance from t to s
        bool identity;           // t == s

        [[nodiscard]] double gain(double d) const noexcept {
            return identity ? 1.0 : a * covariance_at(ct, d) / covariance_at(cs, d);
        }
        [[nodiscard]] double variance(double d) const noexcept {
            return identity ? 0.0 : v * covariance_at(ct, d) / covariance_at(cs, d);
        }
    };

    [[nodiscard]] reverse_transition_scalars reverse_gains(double s, double t) const {
        if (!(t <= s))
            throw_invalid(name_, ": the reverse transition runs from s to t <= s, got s = ", s, ", t = ", t);
        reverse_transition_scalars g{oracle_coefficients_at(family_, s, name_), oracle_coefficients_at(family_, t, name_),
                                     1.0, 0.0, t == s};
        if (g.identity) return g;
        if (!(g.cs.sigma > 0.0))
            throw_invalid(name_, ": the reverse transition from s = ", s, " needs sigma(s) > 0, got ", g.cs.sigma);
        g.a = g.cs.alpha / g.ct.alpha;
        const double r = (g.cs.alpha * g.ct.sigma) / (g.ct.alpha * g.cs.sigma);  // e^{−h}
        g.v = g.cs.sigma * g.cs.sigma * std::max(0.0, (1.0 - r) * (1.0 + r));
        return g;
    }

    template <class X, class M, class Out>
    void check_sizes(const X& x, const M& mu, const Out& out) const {
        check_oracle_size(name_, "x", oracle_size(x), size());
        check_oracle_size(name_, "mu", oracle_size(mu), size());
        check_oracle_size(name_, "out", oracle_size(out), size());
    }

    Family family_;
    gaussian_spectrum spectrum_;
    std::string_view name_;
};

}  // namespace detail

/// @brief Exact oracle for per-element Gaussian data: element j of x₀ ~ N(m_j, s_j²), independently.
///
/// Every operation is element-wise (O(n), no workspace). See gaussian.hpp for the formulas and the table
/// of the members it shares with gaussian_full_oracle: score, noise, data, velocity, predict, log_density,
/// flow, marginal_mean, marginal_variance, marginal_covariance, marginal_sample and the
/// reverse_transition_* family.
/// @tparam Family the coefficient family (velocity needs `stationary_std()`)
template <CoefficientFamily Family>
class gaussian_diagonal_oracle : public detail::gaussian_oracle_base<Family> {
public:
    /// @brief The oracle's name, used in error messages.
    static constexpr std::string_view name = "gaussian_diagonal_oracle";

    /// @brief Creates the oracle for x₀ ~ N(mean, diag(std_dev²)).
    /// @param family the coefficient family
    /// @param mean the per-element data means m_j
    /// @param std_dev the per-element data standard deviations s_j
    /// @pre mean non-empty and finite; std_dev of the same size, finite and > 0
    /// @throws mrsolve::invalid_argument naming the offending size or entry
    gaussian_diagonal_oracle(Family family, std::vector<double> mean, const std::vector<double>& std_dev)
        : detail::gaussian_oracle_base<Family>(std::move(family), make_spectrum(std::move(mean), std_dev), name) {}

    /// @brief The per-element data standard deviations s_j.
    /// @return a copy of s (computed from the stored variances)
    [[nodiscard]] std::vector<double> data_std() const {
        std::vector<double> s(this->spectrum().variances());
        for (double& v : s) v = std::sqrt(v);
        return s;
    }

    /// @brief The per-element data variances s_j². @return s²
    [[nodiscard]] const std::vector<double>& data_variance() const noexcept { return this->spectrum().variances(); }

    /// @brief A callable `f(x, mu, t, out)` returning the exact output for a fit target.
    /// @param target the fit target
    /// @return the callable; it refers to this oracle, which must outlive it
    /// @throws mrsolve::invalid_argument for an invalid target or velocity without `stationary_std()`
    [[nodiscard]] oracle_model<gaussian_diagonal_oracle> model(fit_target target) const& {
        return oracle_model<gaussian_diagonal_oracle>(*this, target);
    }
    /// @brief Deleted: the model would refer to a temporary oracle.
    oracle_model<gaussian_diagonal_oracle> model(fit_target target) const&& = delete;

private:
    static detail::gaussian_spectrum make_spectrum(std::vector<double> mean, const std::vector<double>& std_dev) {
        detail::check_oracle_mean(mean, name);
        if (std_dev.size() != mean.size())
            detail::throw_invalid(name, ": std_dev has ", std_dev.size(), " entries but mean has ", mean.size());
        std::vector<double> variances(std_dev.size());
        for (std::size_t j = 0; j < std_dev.size(); ++j) {
            if (!(std::isfinite(std_dev[j]) && std_dev[j] > 0.0))
                detail::throw_invalid(name, ": std_dev[", j, "] = ", std_dev[j], "; need a finite value > 0");
            variances[j] = std_dev[j] * std_dev[j];
        }
        return detail::gaussian_spectrum(std::move(mean), std::move(variances), {});
    }
};

/// @brief Exact oracle for Gaussian data with a full covariance: x₀ ~ N(m, S), S symmetric positive
/// definite, eigen-decomposed once at construction (S = B diag(d) Bᵀ).
///
/// Each call costs O(n²) (two products with B) and uses the per-thread workspace. See gaussian.hpp for
/// the formulas and the table of the members it shares with gaussian_diagonal_oracle.
/// @tparam Family the coefficient family (velocity needs `stationary_std()`)
template <CoefficientFamily Family>
class gaussian_full_oracle : public detail::gaussian_oracle_base<Family> {
public:
    /// @brief The oracle's name, used in error messages.
    static constexpr std::string_view name = "gaussian_full_oracle";

    /// @brief Creates the oracle for x₀ ~ N(mean, covariance).
    /// @param family the coefficient family
    /// @param mean the data mean m (n entries)
    /// @param covariance the data covariance S, row-major n×n
    /// @pre mean non-empty and finite; covariance n×n, finite, symmetric (to 1e-10 of its largest entry)
    /// and positive definite (smallest eigenvalue > n·ε·largest)
    /// @throws mrsolve::invalid_argument naming the offending size, entry or eigenvalues
    gaussian_full_oracle(Family family, std::vector<double> mean, const std::vector<double>& covariance)
        : detail::gaussian_oracle_base<Family>(
              std::move(family), detail::make_full_gaussian_spectrum(std::move(mean), covariance, name), name) {}

    /// @brief The eigenvalues d of S, ascending. @return d
    [[nodiscard]] const std::vector<double>& eigenvalues() const noexcept { return this->spectrum().variances(); }
    /// @brief The eigenvectors of S: row-major n×n, column k for eigenvalue k. @return B
    [[nodiscard]] const std::vector<double>& eigenvectors() const noexcept { return this->spectrum().basis(); }

    /// @brief A callable `f(x, mu, t, out)` returning the exact output for a fit target.
    /// @param target the fit target
    /// @return the callable; it refers to this oracle, which must outlive it
    /// @throws mrsolve::invalid_argument for an invalid target or velocity without `stationary_std()`
    [[nodiscard]] oracle_model<gaussian_full_oracle> model(fit_target target) const& {
        return oracle_model<gaussian_full_oracle>(*this, target);
    }
    /// @brief Deleted: the model would refer to a temporary oracle.
    oracle_model<gaussian_full_oracle> model(fit_target target) const&& = delete;
};

}  // namespace mrsolve
