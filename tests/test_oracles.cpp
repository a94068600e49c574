// Tests of the closed-form oracles (include/mrsolve/oracle) and of the Jacobi eigen-solver behind them.
//
// The oracles are checked against independent references: Eigen (LLT, SelfAdjointEigenSolver) for
// the closed forms, finite differences of the exact log density for the score, finite differences in t
// for the probability-flow ODE, and an RK4 integration of the reverse SDE's moment equations for the
// reverse transition. A tiny local coefficient family keeps these tests independent of sde/.

#include <doctest/doctest.h>

#include <Eigen/Dense>
#include <mrsolve/detail/symmetric_eigen.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/oracle/gaussian_mixture.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

// ---- allocation counter: proves that oracle calls do not allocate after warm-up -----------------------
#include "support/counting_new.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_oracles {

namespace {

using vec = std::vector<double>;
using mrsolve::fit_target;

// ---- a local coefficient family: IR-SDE with linear θ(t) = θ₀ + θ₁ t -------------------------------
// α = exp(−θ̄), θ̄ = θ₀ t + θ₁ t²/2, σ = σ_∞ √(1 − α²), λ = ln(α/σ); f = θ, g² = 2 σ_∞² θ.
struct linear_theta_family {
    using real_type = double;
    double theta0 = 0.4;
    double theta1 = 1.6;
    double lambda_s = 0.7;

    [[nodiscard]] double theta_bar(double t) const { return theta0 * t + 0.5 * theta1 * t * t; }
    [[nodiscard]] double alpha(double t) const { return std::exp(-theta_bar(t)); }
    [[nodiscard]] double sigma(double t) const { return lambda_s * std::sqrt(-std::expm1(-2.0 * theta_bar(t))); }
    [[nodiscard]] double lambda(double t) const { return std::log(alpha(t) / sigma(t)); }
    [[nodiscard]] double t_of_lambda(double l) const {
        const double tb = 0.5 * std::log1p(std::exp(-2.0 * l) / (lambda_s * lambda_s));
        return 2.0 * tb / (theta0 + std::sqrt(theta0 * theta0 + 2.0 * theta1 * tb));
    }
    [[nodiscard]] double drift_rate(double t) const { return theta0 + theta1 * t; }
    [[nodiscard]] double diffusion_sq(double t) const { return 2.0 * lambda_s * lambda_s * drift_rate(t); }
    [[nodiscard]] double t_min() const { return 0.0; }
    [[nodiscard]] double t_max() const { return 1.0; }
    [[nodiscard]] double stationary_std() const { return lambda_s; }
};

// The same family without stationary_std(): the velocity fit target must be refused.
struct plain_family {
    using real_type = double;
    linear_theta_family base;
    [[nodiscard]] double alpha(double t) const { return base.alpha(t); }
    [[nodiscard]] double sigma(double t) const { return base.sigma(t); }
    [[nodiscard]] double lambda(double t) const { return base.lambda(t); }
    [[nodiscard]] double t_of_lambda(double l) const { return base.t_of_lambda(l); }
    [[nodiscard]] double drift_rate(double t) const { return base.drift_rate(t); }
    [[nodiscard]] double diffusion_sq(double t) const { return base.diffusion_sq(t); }
    [[nodiscard]] double t_min() const { return 0.0; }
    [[nodiscard]] double t_max() const { return 1.0; }
};

static_assert(mrsolve::StationaryFamily<linear_theta_family>);
static_assert(mrsolve::CoefficientFamily<plain_family> && !mrsolve::StationaryFamily<plain_family>);

// ---- helpers ------------------------------------------------------------------------------------------
double max_abs_diff(const vec& a, const vec& b) {
    REQUIRE(a.size() == b.size());
    double m = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}
double max_abs(const vec& a) {
    double m = 0.0;
    for (double v : a) m = std::max(m, std::abs(v));
    return m;
}
Eigen::VectorXd to_eigen(const vec& v) { return Eigen::Map<const Eigen::VectorXd>(v.data(), static_cast<Eigen::Index>(v.size())); }
vec to_vec(const Eigen::VectorXd& v) { return vec(v.data(), v.data() + v.size()); }
Eigen::MatrixXd to_matrix(const vec& row_major, std::size_t n) {
    Eigen::MatrixXd m(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j)
            m(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j)) = row_major[i * n + j];
    return m;
}
vec to_row_major(const Eigen::MatrixXd& m) {
    vec out(static_cast<std::size_t>(m.size()));
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        for (Eigen::Index j = 0; j < m.cols(); ++j) out[static_cast<std::size_t>(i * m.cols() + j)] = m(i, j);
    return out;
}

// Runs fn, which must throw mrsolve::invalid_argument whose message contains `text`.
template <class Fn>
void check_invalid(Fn&& fn, const std::string& text) {
    bool thrown = false;
    try {
        fn();
    } catch (const mrsolve::invalid_argument& e) {
        thrown = true;
        const std::string what = e.what();
        CHECK_MESSAGE(what.find(text) != std::string::npos, "message '", what, "' does not contain '", text, "'");
    }
    CHECK_MESSAGE(thrown, "expected mrsolve::invalid_argument containing '", text, "'");
}

// A deterministic SPD matrix A Aᵀ + shift I with A ~ N(0, 1/n).
vec random_spd(std::size_t n, double shift, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, 1.0 / std::sqrt(static_cast<double>(n)));
    Eigen::MatrixXd a(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (Eigen::Index i = 0; i < a.rows(); ++i)
        for (Eigen::Index j = 0; j < a.cols(); ++j) a(i, j) = normal(rng);
    const Eigen::MatrixXd s =
        a * a.transpose() + shift * Eigen::MatrixXd::Identity(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    return to_row_major(s);
}

vec random_vector(std::size_t n, double scale, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::normal_distribution<double> normal(0.0, scale);
    vec v(n);
    for (double& e : v) e = normal(rng);
    return v;
}

// ---- independent Eigen reference for Gaussian data -----------------------------------------------------
struct gaussian_reference {
    linear_theta_family family;
    Eigen::VectorXd m;
    Eigen::MatrixXd S;

    [[nodiscard]] Eigen::Index n() const { return m.size(); }
    [[nodiscard]] Eigen::MatrixXd C(double t) const {
        const double a = family.alpha(t);
        const double s = family.sigma(t);
        return a * a * S + s * s * Eigen::MatrixXd::Identity(n(), n());
    }
    [[nodiscard]] Eigen::VectorXd mean(const Eigen::VectorXd& mu, double t) const { return mu + family.alpha(t) * (m - mu); }
    [[nodiscard]] Eigen::VectorXd score(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double t) const {
        return -C(t).llt().solve(x - mean(mu, t));
    }
    [[nodiscard]] Eigen::VectorXd noise(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double t) const {
        return -family.sigma(t) * score(x, mu, t);
    }
    [[nodiscard]] Eigen::VectorXd data(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double t) const {
        return m + family.alpha(t) * S * C(t).llt().solve(x - mean(mu, t));
    }
    [[nodiscard]] Eigen::VectorXd velocity(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double t) const {
        const double ls = family.lambda_s;
        return family.alpha(t) * ls * noise(x, mu, t) - (family.sigma(t) / ls) * (data(x, mu, t) - mu);
    }
    [[nodiscard]] double log_density(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double t) const {
        const Eigen::LLT<Eigen::MatrixXd> llt(C(t));
        const Eigen::VectorXd r = x - mean(mu, t);
        const Eigen::MatrixXd l = llt.matrixL();
        const double log_det = 2.0 * l.diagonal().array().log().sum();
        return -0.5 * (r.dot(llt.solve(r)) + log_det + static_cast<double>(n()) * std::log(2.0 * std::numbers::pi));
    }
    [[nodiscard]] Eigen::VectorXd flow(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double s, double t) const {
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(C(s));
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> et(C(t));
        return mean(mu, t) + et.operatorSqrt() * (es.operatorInverseSqrt() * (x - mean(mu, s)));
    }
};

// The shared test problem: n = 4, a full SPD covariance, a condition μ.
constexpr std::size_t dim = 4;
const vec data_mean{0.5, -1.0, 2.0, 0.3};
const vec condition{0.2, 0.1, -0.4, 1.0};
const vec covariance = [] {
    vec s = random_spd(dim, 0.05, 7u);
    for (double& v : s) v *= 1.5;
    return s;
}();

gaussian_reference make_reference(const vec& m, const vec& s) {
    return {linear_theta_family{}, to_eigen(m), to_matrix(s, m.size())};
}

// Evaluates oracle.predict(target, …) into a fresh vector.
template <class Oracle>
vec predict(const Oracle& oracle, fit_target target, const vec& x, const vec& mu, double t) {
    vec out(x.size());
    oracle.predict(target, x, mu, t, out);
    return out;
}

}  // namespace

// =========================================================================================================
TEST_SUITE("symmetric_eigen") {
    using mrsolve::detail::symmetric_eigen;

    // ‖A V − V Λ‖_max and ‖Vᵀ V − I‖_max.
    void check_decomposition(const vec& a, std::size_t n, double tolerance) {
        const auto r = symmetric_eigen(a, n);
        REQUIRE(r.converged);
        REQUIRE(r.values.size() == n);
        const Eigen::MatrixXd A = to_matrix(a, n);
        const Eigen::MatrixXd V = to_matrix(r.vectors, n);
        const Eigen::VectorXd L = to_eigen(r.values);
        const double scale = std::max(1.0, A.cwiseAbs().maxCoeff());
        CHECK((A * V - V * L.asDiagonal()).cwiseAbs().maxCoeff() <= tolerance * scale);
        CHECK((V.transpose() * V - Eigen::MatrixXd::Identity(V.rows(), V.cols())).cwiseAbs().maxCoeff() <= tolerance);
        for (std::size_t k = 1; k < n; ++k) CHECK(r.values[k - 1] <= r.values[k]);
        // Eigen's own solver as an independent reference for the eigenvalues.
        const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(A);
        const double norm = std::max(1.0, L.cwiseAbs().maxCoeff());  // ‖A‖₂
        CHECK((es.eigenvalues() - L).cwiseAbs().maxCoeff() <= 1e-14 * norm);
    }

    TEST_CASE("2x2 with known eigenpairs") {
        const auto r = symmetric_eigen(vec{2.0, 1.0, 1.0, 2.0}, 2);
        REQUIRE(r.converged);
        CHECK(r.values[0] == doctest::Approx(1.0).epsilon(1e-15));
        CHECK(r.values[1] == doctest::Approx(3.0).epsilon(1e-15));
        const double h = std::sqrt(0.5);
        // Columns: (1, −1)/√2 for 1 and (1, 1)/√2 for 3, largest entry positive.
        CHECK(std::abs(std::abs(r.vectors[0]) - h) < 1e-15);
        CHECK(std::abs(r.vectors[0] + r.vectors[2]) < 1e-15);
        CHECK(std::abs(r.vectors[1] - h) < 1e-15);
        CHECK(std::abs(r.vectors[3] - h) < 1e-15);
    }

    TEST_CASE("1x1, diagonal (unsorted) and zero matrices") {
        const auto one = symmetric_eigen(vec{-3.5}, 1);
        CHECK(one.values == vec{-3.5});
        CHECK(one.vectors == vec{1.0});
        const auto diag = symmetric_eigen(vec{3.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 2.0}, 3);
        CHECK(diag.converged);
        CHECK(diag.sweeps == 0);
        CHECK(diag.values == vec{-1.0, 2.0, 3.0});
        CHECK(diag.vectors == vec{0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0});
        const auto zero = symmetric_eigen(vec(16, 0.0), 4);
        CHECK(zero.converged);
        CHECK(max_abs(zero.values) == 0.0);
    }

    TEST_CASE("tridiagonal Toeplitz: eigenvalues 2 − 2 cos(kπ/(n+1)) and sine eigenvectors") {
        const std::size_t n = 40;
        vec a(n * n, 0.0);
        for (std::size_t i = 0; i < n; ++i) {
            a[i * n + i] = 2.0;
            if (i + 1 < n) a[i * n + i + 1] = a[(i + 1) * n + i] = -1.0;
        }
        const auto r = symmetric_eigen(a, n);
        REQUIRE(r.converged);
        const double pi = std::numbers::pi;
        for (std::size_t k = 1; k <= n; ++k) {
            const double exact = 2.0 - 2.0 * std::cos(static_cast<double>(k) * pi / static_cast<double>(n + 1));
            CHECK(std::abs(r.values[k - 1] - exact) < 2e-15 * 4.0);
            // Eigenvector k: sin(i k π/(n+1)) normalised, up to sign.
            double norm = 0.0, dot = 0.0;
            for (std::size_t i = 1; i <= n; ++i) {
                const double v = std::sin(static_cast<double>(i * k) * pi / static_cast<double>(n + 1));
                norm += v * v;
                dot += v * r.vectors[(i - 1) * n + (k - 1)];
            }
            CHECK(std::abs(std::abs(dot) / std::sqrt(norm) - 1.0) < 1e-13);
        }
        check_decomposition(a, n, 1e-14);
    }

    TEST_CASE("random symmetric matrices up to n = 100 are decomposed to ~1e-14") {
        for (const std::size_t n : {3u, 10u, 37u, 100u}) {
            CAPTURE(n);
            std::mt19937_64 rng(n);
            std::normal_distribution<double> normal(0.0, 1.0);
            vec a(n * n);
            for (std::size_t i = 0; i < n; ++i)
                for (std::size_t j = 0; j <= i; ++j) a[i * n + j] = a[j * n + i] = normal(rng);
            check_decomposition(a, n, 1e-14 * std::sqrt(static_cast<double>(n)));
            check_decomposition(random_spd(n, 1e-3, static_cast<unsigned>(n)), n, 1e-14);
        }
    }

    TEST_CASE("repeated eigenvalues and an ill-conditioned (Hilbert) matrix") {
        // I + u uᵀ: eigenvalue 1 with multiplicity n − 1 and 1 + |u|².
        const std::size_t n = 6;
        const vec u{1.0, -2.0, 0.5, 3.0, 0.0, 1.0};
        vec a(n * n);
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < n; ++j) a[i * n + j] = (i == j ? 1.0 : 0.0) + u[i] * u[j];
        const auto r = symmetric_eigen(a, n);
        REQUIRE(r.converged);
        for (std::size_t k = 0; k + 1 < n; ++k) CHECK(std::abs(r.values[k] - 1.0) < 1e-14);
        CHECK(std::abs(r.values[n - 1] - 16.25) < 1e-13);
        check_decomposition(a, n, 1e-14);

        const std::size_t h = 8;
        vec hilbert(h * h);
        for (std::size_t i = 0; i < h; ++i)
            for (std::size_t j = 0; j < h; ++j) hilbert[i * h + j] = 1.0 / static_cast<double>(i + j + 1);
        check_decomposition(hilbert, h, 1e-15);
    }

    TEST_CASE("invalid input is rejected with the offending value") {
        check_invalid([] { (void)symmetric_eigen(vec(5, 1.0), 2); }, "got 5");
        check_invalid([] { (void)symmetric_eigen(vec{}, 0); }, "got 0");
        check_invalid([] { (void)symmetric_eigen(vec{1.0, NAN, NAN, 1.0}, 2); }, "nan");
        check_invalid([] { (void)symmetric_eigen(vec{1.0}, 1, 0); }, "got 0");
    }
}

// =========================================================================================================
TEST_SUITE("gaussian oracle") {
    TEST_CASE("the full oracle matches an independent Eigen evaluation of the closed forms") {
        const mrsolve::gaussian_full_oracle oracle(linear_theta_family{}, data_mean, covariance);
        const auto ref = make_reference(data_mean, covariance);
        const Eigen::VectorXd mu = to_eigen(condition);
        for (const double t : {0.0, 0.01, 0.3, 0.7, 1.0}) {
            for (const unsigned seed : {1u, 2u}) {
                CAPTURE(t);
                const vec x = random_vector(dim, 1.5, seed);
                const Eigen::VectorXd xe = to_eigen(x);
                vec out(dim);
                oracle.noise(x, condition, t, out);
                CHECK(max_abs_diff(out, to_vec(ref.noise(xe, mu, t))) < 1e-13);
                oracle.data(x, condition, t, out);
                CHECK(max_abs_diff(out, to_vec(ref.data(xe, mu, t))) < 1e-13);
                oracle.velocity(x, condition, t, out);
                CHECK(max_abs_diff(out, to_vec(ref.velocity(xe, mu, t))) < 1e-13);
                if (t > 0.0) {  // at t = 0 the score is −S⁻¹(x − m): fine, but compare only where C is benign
                    oracle.score(x, condition, t, out);
                    CHECK(max_abs_diff(out, to_vec(ref.score(xe, mu, t))) < 1e-12 * max_abs(out));
                }
                CHECK(oracle.log_density(x, condition, t) == doctest::Approx(ref.log_density(xe, mu, t)).epsilon(1e-13));
                oracle.marginal_mean(condition, t, out);
                CHECK(max_abs_diff(out, to_vec(ref.mean(mu, t))) < 1e-15);
                CHECK(max_abs_diff(oracle.marginal_covariance(t), to_row_major(ref.C(t))) < 1e-14);
                oracle.marginal_variance(t, out);
                CHECK(max_abs_diff(out, to_vec(ref.C(t).diagonal())) < 1e-14);
                for (const double s : {0.05, 0.5, 0.9}) {
                    oracle.flow(x, condition, s, t, out);
                    CHECK(max_abs_diff(out, to_vec(ref.flow(xe, mu, s, t))) < 1e-13);
                }
            }
        }
    }

    TEST_CASE("the diagonal oracle and the full oracle agree when S is diagonal") {
        const vec sd{0.5, 1.5, 0.8, 2.0};
        vec s(dim * dim, 0.0);
        for (std::size_t j = 0; j < dim; ++j) s[j * dim + j] = sd[j] * sd[j];
        const mrsolve::gaussian_diagonal_oracle diagonal(linear_theta_family{}, data_mean, sd);
        const mrsolve::gaussian_full_oracle full(linear_theta_family{}, data_mean, s);
        CHECK(max_abs_diff(diagonal.data_std(), sd) < 1e-15);
        const vec z = random_vector(dim, 1.0, 11u);
        for (const double t : {0.0, 0.2, 0.6, 1.0}) {
            CAPTURE(t);
            const vec x = random_vector(dim, 2.0, 5u);
            for (const auto target : {fit_target::noise, fit_target::data, fit_target::velocity})
                CHECK(max_abs_diff(predict(diagonal, target, x, condition, t), predict(full, target, x, condition, t)) <
                      1e-14);
            vec a(dim), b(dim);
            diagonal.score(x, condition, t, a);
            full.score(x, condition, t, b);
            CHECK(max_abs_diff(a, b) < 1e-14 * max_abs(a));
            CHECK(diagonal.log_density(x, condition, t) == doctest::Approx(full.log_density(x, condition, t)).epsilon(1e-14));
            diagonal.flow(x, condition, 0.95, t, a);
            full.flow(x, condition, 0.95, t, b);
            CHECK(max_abs_diff(a, b) < 1e-14);
            diagonal.marginal_sample(condition, t, z, a);
            full.marginal_sample(condition, t, z, b);
            CHECK(max_abs_diff(a, b) < 1e-14);
            CHECK(max_abs_diff(diagonal.marginal_covariance(t), full.marginal_covariance(t)) < 1e-14);
            diagonal.reverse_transition_mean(x, condition, 1.0, t, a);
            full.reverse_transition_mean(x, condition, 1.0, t, b);
            CHECK(max_abs_diff(a, b) < 1e-14);
            diagonal.reverse_transition_sample(x, condition, 1.0, t, z, a);
            full.reverse_transition_sample(x, condition, 1.0, t, z, b);
            CHECK(max_abs_diff(a, b) < 1e-14);
            CHECK(max_abs_diff(diagonal.reverse_transition_covariance(1.0, t), full.reverse_transition_covariance(1.0, t)) <
                  1e-14);
        }
    }

    TEST_CASE("noise = −σ ∇log p_t by central differences of the exact log density") {
        const mrsolve::gaussian_full_oracle full(linear_theta_family{}, data_mean, covariance);
        const mrsolve::gaussian_diagonal_oracle diagonal(linear_theta_family{}, data_mean, vec{0.5, 1.5, 0.8, 2.0});
        const linear_theta_family family;
        auto check = [&](const auto& oracle) {
            for (const double t : {0.05, 0.4, 1.0}) {
                CAPTURE(t);
                const vec x = random_vector(dim, 1.0, 3u);
                vec eps(dim);
                oracle.noise(x, condition, t, eps);
                const double h = 1e-5;
                for (std::size_t j = 0; j < dim; ++j) {
                    vec xp = x, xm = x;
                    xp[j] += h;
                    xm[j] -= h;
                    const double derivative =
                        (oracle.log_density(xp, condition, t) - oracle.log_density(xm, condition, t)) / (2.0 * h);
                    CHECK(eps[j] == doctest::Approx(-family.sigma(t) * derivative).epsilon(1e-7));
                }
            }
        };
        check(full);
        check(diagonal);
    }

    TEST_CASE("noise, data and velocity are related by the conversions of docs/theory.md §2") {
        const mrsolve::gaussian_full_oracle oracle(linear_theta_family{}, data_mean, covariance);
        const linear_theta_family family;
        const double ls = family.lambda_s;
        for (const double t : {0.02, 0.3, 0.8, 1.0}) {
            CAPTURE(t);
            const double alpha = family.alpha(t), sigma = family.sigma(t), s_hat = sigma / ls;
            const vec x = random_vector(dim, 1.0, 9u);
            const vec eps = predict(oracle, fit_target::noise, x, condition, t);
            const vec x0 = predict(oracle, fit_target::data, x, condition, t);
            const vec v = predict(oracle, fit_target::velocity, x, condition, t);
            vec score(dim);
            oracle.score(x, condition, t, score);
            for (std::size_t j = 0; j < dim; ++j) {
                const double y = x[j] - condition[j];
                CHECK(x0[j] == doctest::Approx(condition[j] + (y - sigma * eps[j]) / alpha).epsilon(1e-12));
                CHECK(eps[j] == doctest::Approx((y - alpha * (x0[j] - condition[j])) / sigma).epsilon(1e-12));
                CHECK(x0[j] == doctest::Approx(condition[j] + alpha * y - s_hat * v[j]).epsilon(1e-12));
                CHECK(eps[j] == doctest::Approx((alpha * v[j] + s_hat * y) / ls).epsilon(1e-12));
                CHECK(v[j] == doctest::Approx(alpha * ls * eps[j] - s_hat * (x0[j] - condition[j])).epsilon(1e-12));
                // Tweedie: x̂₀ = μ + (y + σ² ∇log p)/α.
                CHECK(x0[j] == doctest::Approx(condition[j] + (y + sigma * sigma * score[j]) / alpha).epsilon(1e-12));
            }
        }
    }

    TEST_CASE("the flow map solves the probability-flow ODE dx/dt = f (μ − x) − ½ g² ∇log p_t") {
        const linear_theta_family family;
        // f = −d ln α/dt and g² = dσ²/dt − 2 (d ln α/dt) σ², by central differences; they must match the
        // family's analytic f = θ and g² = 2 σ_∞² θ.
        const double dt = 1e-5;
        auto f_of = [&](double t) {
            return -(std::log(family.alpha(t + dt)) - std::log(family.alpha(t - dt))) / (2.0 * dt);
        };
        auto g2_of = [&](double t) {
            const double dsigma2 =
                (family.sigma(t + dt) * family.sigma(t + dt) - family.sigma(t - dt) * family.sigma(t - dt)) / (2.0 * dt);
            return dsigma2 + 2.0 * f_of(t) * family.sigma(t) * family.sigma(t);
        };
        for (const double t : {0.1, 0.5, 0.9}) {
            CHECK(f_of(t) == doctest::Approx(family.drift_rate(t)).epsilon(1e-8));
            CHECK(g2_of(t) == doctest::Approx(family.diffusion_sq(t)).epsilon(1e-8));
        }
        const mrsolve::gaussian_full_oracle oracle(family, data_mean, covariance);
        const vec x_s = random_vector(dim, 1.0, 21u);
        const double s = 0.85;
        for (const double t : {0.1, 0.4, 0.85}) {
            CAPTURE(t);
            vec x_t(dim), plus(dim), minus(dim), score(dim);
            oracle.flow(x_s, condition, s, t, x_t);
            oracle.flow(x_s, condition, s, t + dt, plus);
            oracle.flow(x_s, condition, s, t - dt, minus);
            oracle.score(x_t, condition, t, score);
            for (std::size_t j = 0; j < dim; ++j) {
                const double lhs = (plus[j] - minus[j]) / (2.0 * dt);
                const double rhs = f_of(t) * (condition[j] - x_t[j]) - 0.5 * g2_of(t) * score[j];
                CHECK(lhs == doctest::Approx(rhs).epsilon(1e-7).scale(1.0));
            }
        }
    }

    TEST_CASE("flow maps compose, are the identity at s = t and carry C_s to C_t") {
        const mrsolve::gaussian_full_oracle oracle(linear_theta_family{}, data_mean, covariance);
        const vec x = random_vector(dim, 1.0, 4u);
        const double s = 0.9, t = 0.35, u = 0.02;
        vec xt(dim), xu(dim), direct(dim), same(dim), back(dim);
        oracle.flow(x, condition, s, t, xt);
        oracle.flow(xt, condition, t, u, xu);
        oracle.flow(x, condition, s, u, direct);
        CHECK(max_abs_diff(xu, direct) < 1e-13);
        oracle.flow(x, condition, s, s, same);
        CHECK(max_abs_diff(same, x) < 1e-15);
        oracle.flow(direct, condition, u, s, back);  // forward in time: the inverse map
        CHECK(max_abs_diff(back, x) < 1e-13);
        // Jacobian J (flow is affine): J C_s Jᵀ = C_t.
        Eigen::MatrixXd J(dim, dim);
        vec base(dim), e(dim), col(dim);
        const vec zero(dim, 0.0);
        oracle.flow(zero, condition, s, t, base);
        for (std::size_t k = 0; k < dim; ++k) {
            e.assign(dim, 0.0);
            e[k] = 1.0;
            oracle.flow(e, condition, s, t, col);
            for (std::size_t i = 0; i < dim; ++i) J(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = col[i] - base[i];
        }
        const Eigen::MatrixXd Cs = to_matrix(oracle.marginal_covariance(s), dim);
        const Eigen::MatrixXd Ct = to_matrix(oracle.marginal_covariance(t), dim);
        CHECK((J * Cs * J.transpose() - Ct).cwiseAbs().maxCoeff() < 1e-13);
    }

    TEST_CASE("reverse transition = §5 posterior step averaged over x₀ | x_s (total mean and variance)") {
        // E[x_t | x_s] = posterior mean at x̂₀ = E[x₀ | x_s]; Var = posterior var + b² Var(x₀ | x_s),
        // b = α_t v/σ_s², Var(x₀ | x_s) = S − α_s² S C_s⁻¹ S.
        const linear_theta_family family;
        const mrsolve::gaussian_full_oracle oracle(family, data_mean, covariance);
        const auto ref = make_reference(data_mean, covariance);
        const vec x_s = random_vector(dim, 1.0, 31u);
        const double s = 0.8;
        for (const double t : {0.0, 0.1, 0.5, 0.79}) {
            CAPTURE(t);
            const double a = family.alpha(s) / family.alpha(t);
            const double v = family.sigma(s) * family.sigma(s) - a * a * family.sigma(t) * family.sigma(t);
            const double ss2 = family.sigma(s) * family.sigma(s);
            vec x0(dim), mean(dim);
            oracle.data(x_s, condition, s, x0);
            oracle.reverse_transition_mean(x_s, condition, s, t, mean);
            for (std::size_t j = 0; j < dim; ++j) {
                const double y = x_s[j] - condition[j];
                const double expected = condition[j] + (a * family.sigma(t) * family.sigma(t) / ss2) * y +
                                        family.alpha(t) * (v / ss2) * (x0[j] - condition[j]);
                CHECK(mean[j] == doctest::Approx(expected).epsilon(1e-12).scale(1.0));
            }
            const double b = family.alpha(t) * v / ss2;
            const double as = family.alpha(s);
            const Eigen::MatrixXd posterior_x0 = ref.S - as * as * ref.S * ref.C(s).llt().solve(ref.S);
            const Eigen::MatrixXd expected =
                (family.sigma(t) * family.sigma(t) * v / ss2) * Eigen::MatrixXd::Identity(dim, dim) + b * b * posterior_x0;
            CHECK((to_matrix(oracle.reverse_transition_covariance(s, t), dim) - expected).cwiseAbs().maxCoeff() < 1e-13);
        }
    }

    TEST_CASE("reverse transition = RK4 solution of the reverse SDE's moment equations") {
        // Reverse SDE dx = [f(μ − x) − g² ∇log p_t] dt + g dw̄ with ∇log p_t = −C_t⁻¹(x − mean_t): drift A x + c,
        // A = −f I + g² C_t⁻¹, c = f μ − g² C_t⁻¹ mean_t. Backwards from s (M = x_s, P = 0):
        // dM/dt = A M + c, dP/dt = A P + P Aᵀ − g² I.
        const linear_theta_family family;
        const mrsolve::gaussian_full_oracle oracle(family, data_mean, covariance);
        const auto ref = make_reference(data_mean, covariance);
        const Eigen::VectorXd mu = to_eigen(condition);
        const vec x_s = random_vector(dim, 1.0, 41u);
        const double s = 0.9, t = 0.15;
        const int steps = 400;
        const double h = (t - s) / steps;
        const Eigen::MatrixXd I = Eigen::MatrixXd::Identity(dim, dim);
        auto rhs = [&](double time, const Eigen::VectorXd& M, const Eigen::MatrixXd& P, Eigen::VectorXd& dM, Eigen::MatrixXd& dP) {
            const Eigen::MatrixXd Cinv = ref.C(time).inverse();
            const double f = family.drift_rate(time), g2 = family.diffusion_sq(time);
            const Eigen::MatrixXd A = -f * I + g2 * Cinv;
            dM = A * M + f * mu - g2 * Cinv * ref.mean(mu, time);
            dP = A * P + P * A.transpose() - g2 * I;
        };
        Eigen::VectorXd M = to_eigen(x_s);
        Eigen::MatrixXd P = Eigen::MatrixXd::Zero(dim, dim);
        for (int i = 0; i < steps; ++i) {
            const double time = s + i * h;
            Eigen::VectorXd k1, k2, k3, k4;
            Eigen::MatrixXd l1, l2, l3, l4;
            rhs(time, M, P, k1, l1);
            rhs(time + 0.5 * h, M + 0.5 * h * k1, P + 0.5 * h * l1, k2, l2);
            rhs(time + 0.5 * h, M + 0.5 * h * k2, P + 0.5 * h * l2, k3, l3);
            rhs(time + h, M + h * k3, P + h * l3, k4, l4);
            M += h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
            P += h / 6.0 * (l1 + 2.0 * l2 + 2.0 * l3 + l4);
        }
        vec mean(dim);
        oracle.reverse_transition_mean(x_s, condition, s, t, mean);
        CHECK(max_abs_diff(mean, to_vec(M)) < 1e-11);
        CHECK((to_matrix(oracle.reverse_transition_covariance(s, t), dim) - P).cwiseAbs().maxCoeff() < 1e-11);
    }

    TEST_CASE("reverse transitions compose (Chapman–Kolmogorov), keep the marginals and sample correctly") {
        const mrsolve::gaussian_full_oracle oracle(linear_theta_family{}, data_mean, covariance);
        const double s = 0.95, t = 0.5, u = 0.1;
        // Gains: the transition mean is affine in x_s, read its linear part from basis vectors.
        auto gain = [&](double from, double to) {
            Eigen::MatrixXd K(dim, dim);
            vec base(dim), col(dim), e(dim);
            oracle.reverse_transition_mean(vec(dim, 0.0), condition, from, to, base);
            for (std::size_t k = 0; k < dim; ++k) {
                e.assign(dim, 0.0);
                e[k] = 1.0;
                oracle.reverse_transition_mean(e, condition, from, to, col);
                for (std::size_t i = 0; i < dim; ++i) K(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = col[i] - base[i];
            }
            return K;
        };
        const Eigen::MatrixXd Kst = gain(s, t), Ktu = gain(t, u), Ksu = gain(s, u);
        const Eigen::MatrixXd Pst = to_matrix(oracle.reverse_transition_covariance(s, t), dim);
        const Eigen::MatrixXd Ptu = to_matrix(oracle.reverse_transition_covariance(t, u), dim);
        const Eigen::MatrixXd Psu = to_matrix(oracle.reverse_transition_covariance(s, u), dim);
        CHECK((Ktu * Kst - Ksu).cwiseAbs().maxCoeff() < 1e-13);
        CHECK((Ktu * Pst * Ktu.transpose() + Ptu - Psu).cwiseAbs().maxCoeff() < 1e-13);
        // Means compose too.
        const vec x = random_vector(dim, 1.0, 51u);
        vec m_t(dim), m_u(dim), direct(dim);
        oracle.reverse_transition_mean(x, condition, s, t, m_t);
        oracle.reverse_transition_mean(m_t, condition, t, u, m_u);
        oracle.reverse_transition_mean(x, condition, s, u, direct);
        CHECK(max_abs_diff(m_u, direct) < 1e-13);
        // Started from p_s, the transition lands on p_t: K C_s Kᵀ + P = C_t.
        const Eigen::MatrixXd Cs = to_matrix(oracle.marginal_covariance(s), dim);
        const Eigen::MatrixXd Ct = to_matrix(oracle.marginal_covariance(t), dim);
        CHECK((Kst * Cs * Kst.transpose() + Pst - Ct).cwiseAbs().maxCoeff() < 1e-13);
        // The sampler adds the symmetric square root L of P: L symmetric and L Lᵀ = P.
        Eigen::MatrixXd L(dim, dim);
        vec mean(dim), sample(dim), z(dim);
        oracle.reverse_transition_mean(x, condition, s, t, mean);
        for (std::size_t k = 0; k < dim; ++k) {
            z.assign(dim, 0.0);
            z[k] = 1.0;
            oracle.reverse_transition_sample(x, condition, s, t, z, sample);
            for (std::size_t i = 0; i < dim; ++i) L(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = sample[i] - mean[i];
        }
        CHECK((L - L.transpose()).cwiseAbs().maxCoeff() < 1e-14);
        CHECK((L * L.transpose() - Pst).cwiseAbs().maxCoeff() < 1e-14);
        // s = t: identity with zero covariance.
        vec same(dim);
        oracle.reverse_transition_sample(x, condition, t, t, random_vector(dim, 1.0, 3u), same);
        CHECK(max_abs_diff(same, x) < 1e-15);
        CHECK(max_abs(oracle.reverse_transition_covariance(t, t)) == 0.0);
        // The marginal sampler: mean_t + C_t^{1/2} z.
        vec ms(dim), mm(dim);
        oracle.marginal_mean(condition, t, mm);
        Eigen::MatrixXd R(dim, dim);
        for (std::size_t k = 0; k < dim; ++k) {
            z.assign(dim, 0.0);
            z[k] = 1.0;
            oracle.marginal_sample(condition, t, z, ms);
            for (std::size_t i = 0; i < dim; ++i) R(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = ms[i] - mm[i];
        }
        CHECK((R * R.transpose() - Ct).cwiseAbs().maxCoeff() < 1e-14);
    }

    TEST_CASE("model(fit_target) is a callable f(x, mu, t, out) equal to the direct calls") {
        const mrsolve::gaussian_full_oracle oracle(linear_theta_family{}, data_mean, covariance);
        const vec x = random_vector(dim, 1.0, 61u);
        for (const auto target : {fit_target::noise, fit_target::data, fit_target::velocity}) {
            const auto model = oracle.model(target);
            static_assert(sizeof(model) <= 2 * sizeof(void*));
            CHECK(model.target() == target);
            CHECK(&model.oracle() == &oracle);
            vec out(dim);
            model(x, condition, 0.4, out);
            CHECK(out == predict(oracle, target, x, condition, 0.4));
            // A span as a temporary output and an Eigen input.
            vec out2(dim);
            model(to_eigen(x), condition, 0.4, std::span<double>(out2));
            CHECK(out2 == out);
        }
        // The output may alias the input.
        vec alias = x, separate(dim);
        oracle.noise(x, condition, 0.3, separate);
        oracle.noise(alias, condition, 0.3, alias);
        CHECK(alias == separate);
    }

    TEST_CASE("oracle calls do not allocate after the first call on a thread") {
        const mrsolve::gaussian_full_oracle full(linear_theta_family{}, data_mean, covariance);
        const mrsolve::gaussian_diagonal_oracle diagonal(linear_theta_family{}, data_mean, vec{0.5, 1.5, 0.8, 2.0});
        const mrsolve::gaussian_mixture_oracle mixture(
            linear_theta_family{}, {{1.0, data_mean, covariance}, {2.0, condition, random_spd(dim, 0.1, 3u)}});
        const vec x = random_vector(dim, 1.0, 71u);
        const vec z = random_vector(dim, 1.0, 72u);
        vec out(dim);
        const auto model = mixture.model(fit_target::data);
        const long before = mrsolve_test::allocations.load();
        for (int i = 0; i < 3; ++i) {
            full.noise(x, condition, 0.3, out);
            full.velocity(x, condition, 0.3, out);
            full.flow(x, condition, 0.9, 0.3, out);
            full.reverse_transition_sample(x, condition, 0.9, 0.3, z, out);
            (void)full.log_density(x, condition, 0.3);
            diagonal.data(x, condition, 0.3, out);
            diagonal.reverse_transition_sample(x, condition, 0.9, 0.3, z, out);
            mixture.score(x, condition, 0.3, out);
            mixture.velocity(x, condition, 0.3, out);
            model(x, condition, 0.3, out);
        }
        CHECK(mrsolve_test::allocations.load() == before);
    }

    TEST_CASE("bad inputs throw mrsolve::invalid_argument naming the value") {
        const linear_theta_family family;
        check_invalid([&] { mrsolve::gaussian_diagonal_oracle o(family, vec{1.0, 2.0}, vec{1.0, -0.5}); }, "-0.5");
        check_invalid([&] { mrsolve::gaussian_diagonal_oracle o(family, vec{1.0, 2.0}, vec{1.0, 2.0, 3.0}); }, "has 3");
        check_invalid([&] { mrsolve::gaussian_diagonal_oracle o(family, vec{1.0, NAN}, vec{1.0, 2.0}); }, "nan");
        check_invalid([&] { mrsolve::gaussian_diagonal_oracle o(family, vec{}, vec{}); }, "empty");
        check_invalid([&] { mrsolve::gaussian_full_oracle o(family, vec{1.0, 2.0}, vec{1.0, 0.0, 1.0}); }, "has 3");
        check_invalid([&] { mrsolve::gaussian_full_oracle o(family, vec{1.0, 2.0}, vec{2.0, 0.5, 0.25, 1.0}); }, "0.25");
        check_invalid([&] { mrsolve::gaussian_full_oracle o(family, vec{1.0, 2.0}, vec{1.0, 2.0, 2.0, 1.0}); }, "-1");
        check_invalid([&] { mrsolve::gaussian_full_oracle o(family, vec{1.0, 2.0}, vec{1.0, 0.0, 0.0, INFINITY}); },
                      "inf");
        check_invalid([&] { mrsolve::gaussian_full_oracle o(family, vec{1.0, 2.0}, vec{1.0, 1.0, 1.0, 1.0}); },
                      "not positive definite");

        const mrsolve::gaussian_full_oracle oracle(family, vec{1.0, 2.0}, vec{2.0, 0.5, 0.5, 1.0});
        vec out2(2), out3(3);
        check_invalid([&] { oracle.noise(vec{1.0, 2.0, 3.0}, vec{0.0, 0.0}, 0.5, out2); }, "x has 3");
        check_invalid([&] { oracle.data(vec{1.0, 2.0}, vec{0.0, 0.0}, 0.5, out3); }, "out has 3");
        check_invalid([&] { oracle.reverse_transition_mean(vec{1.0, 2.0}, vec{0.0, 0.0}, 0.25, 0.75, out2); }, "0.75");
        check_invalid([&] { (void)oracle.reverse_transition_covariance(0.0, -0.5); }, "sigma(s) > 0");
        check_invalid([&] { oracle.noise(vec{1.0, 2.0}, vec{0.0, 0.0}, NAN, out2); }, "nan");
        check_invalid([&] { (void)oracle.model(static_cast<fit_target>(7)); }, "7");

        const mrsolve::gaussian_diagonal_oracle plain(plain_family{}, vec{1.0}, vec{1.0});
        static_assert(!decltype(plain)::has_velocity);
        check_invalid([&] { (void)plain.model(fit_target::velocity); }, "velocity");
        vec one(1);
        check_invalid([&] { plain.predict(fit_target::velocity, vec{1.0}, vec{0.0}, 0.5, one); }, "velocity");
        plain.predict(fit_target::noise, vec{1.0}, vec{0.0}, 0.5, one);  // the others work
        CHECK(std::isfinite(one[0]));
    }
}

// =========================================================================================================
namespace {

// Independent reference for a mixture: Eigen densities, log-sum-exp in long double.
struct mixture_reference {
    linear_theta_family family;
    std::vector<mrsolve::gaussian_mixture_component> components;

    [[nodiscard]] Eigen::VectorXd score(const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double t, double* log_p = nullptr) const {
        std::vector<long double> log_terms;
        std::vector<Eigen::VectorXd> scores;
        double total_weight = 0.0;
        for (const auto& c : components) total_weight += c.weight;
        for (const auto& c : components) {
            const auto ref = make_reference(c.mean, c.covariance);
            log_terms.push_back(std::log(static_cast<long double>(c.weight / total_weight)) + ref.log_density(x, mu, t));
            scores.push_back(ref.score(x, mu, t));
        }
        const long double top = *std::max_element(log_terms.begin(), log_terms.end());
        long double sum = 0.0L;
        for (const long double l : log_terms) sum += std::exp(l - top);
        Eigen::VectorXd s = Eigen::VectorXd::Zero(x.size());
        for (std::size_t k = 0; k < scores.size(); ++k)
            s += static_cast<double>(std::exp(log_terms[k] - top) / sum) * scores[k];
        if (log_p != nullptr) *log_p = static_cast<double>(top + std::log(sum));
        return s;
    }
};

std::vector<mrsolve::gaussian_mixture_component> three_components() {
    return {{0.2, vec{0.5, -1.0, 2.0, 0.3}, covariance},
            {0.5, vec{-1.0, 0.5, 0.0, 1.0}, random_spd(dim, 0.2, 101u)},
            {0.3, vec{2.0, 2.0, -1.0, -0.5}, random_spd(dim, 0.02, 102u)}};
}

}  // namespace

TEST_SUITE("gaussian mixture oracle") {
    TEST_CASE("one component equals the Gaussian oracle") {
        const mrsolve::gaussian_full_oracle gaussian(linear_theta_family{}, data_mean, covariance);
        const mrsolve::gaussian_mixture_oracle mixture(linear_theta_family{}, {{3.0, data_mean, covariance}});
        CHECK(mixture.weights() == vec{1.0});
        for (const double t : {0.0, 0.3, 1.0}) {
            CAPTURE(t);
            const vec x = random_vector(dim, 1.0, 81u);
            for (const auto target : {fit_target::noise, fit_target::data, fit_target::velocity})
                CHECK(max_abs_diff(predict(mixture, target, x, condition, t), predict(gaussian, target, x, condition, t)) <
                      1e-14);
            vec a(dim), b(dim);
            mixture.score(x, condition, t, a);
            gaussian.score(x, condition, t, b);
            CHECK(max_abs_diff(a, b) < 1e-14 * max_abs(a));
            CHECK(mixture.log_density(x, condition, t) == doctest::Approx(gaussian.log_density(x, condition, t)).epsilon(1e-14));
            mixture.marginal_mean(condition, t, a);
            gaussian.marginal_mean(condition, t, b);
            CHECK(max_abs_diff(a, b) < 1e-15);
            CHECK(max_abs_diff(mixture.marginal_covariance(t), gaussian.marginal_covariance(t)) < 1e-14);
        }
    }

    TEST_CASE("score matches an independent reference and finite differences of the log density") {
        const linear_theta_family family;
        const mixture_reference ref{family, three_components()};
        const mrsolve::gaussian_mixture_oracle oracle(family, three_components());
        const Eigen::VectorXd mu = to_eigen(condition);
        double weight_sum = 0.0;
        for (double w : oracle.weights()) weight_sum += w;
        CHECK(weight_sum == doctest::Approx(1.0).epsilon(1e-15));
        for (const double t : {0.05, 0.3, 0.8}) {
            for (const unsigned seed : {91u, 92u, 93u}) {
                CAPTURE(t);
                const vec x = random_vector(dim, 1.5, seed);
                vec score(dim), eps(dim);
                oracle.score(x, condition, t, score);
                oracle.noise(x, condition, t, eps);
                double log_p = 0.0;
                const Eigen::VectorXd expected = ref.score(to_eigen(x), mu, t, &log_p);
                CHECK(max_abs_diff(score, to_vec(expected)) < 1e-11 * std::max(1.0, max_abs(score)));
                CHECK(oracle.log_density(x, condition, t) == doctest::Approx(log_p).epsilon(1e-13));
                std::vector<double> r(3);
                oracle.responsibilities(x, condition, t, r);
                CHECK(r[0] + r[1] + r[2] == doctest::Approx(1.0).epsilon(1e-15));
                const double h = 1e-5;
                for (std::size_t j = 0; j < dim; ++j) {
                    vec xp = x, xm = x;
                    xp[j] += h;
                    xm[j] -= h;
                    const double derivative =
                        (oracle.log_density(xp, condition, t) - oracle.log_density(xm, condition, t)) / (2.0 * h);
                    CHECK(score[j] == doctest::Approx(derivative).epsilon(1e-6).scale(1.0));
                    CHECK(eps[j] == doctest::Approx(-family.sigma(t) * score[j]).epsilon(1e-14));
                }
            }
        }
    }

    TEST_CASE("data is Tweedie's formula and velocity follows docs/theory.md §2") {
        const linear_theta_family family;
        const mrsolve::gaussian_mixture_oracle oracle(family, three_components());
        const double ls = family.lambda_s;
        for (const double t : {0.02, 0.4, 1.0}) {
            CAPTURE(t);
            const double alpha = family.alpha(t), sigma = family.sigma(t), s_hat = sigma / ls;
            const vec x = random_vector(dim, 1.0, 95u);
            const vec eps = predict(oracle, fit_target::noise, x, condition, t);
            const vec x0 = predict(oracle, fit_target::data, x, condition, t);
            const vec v = predict(oracle, fit_target::velocity, x, condition, t);
            vec score(dim);
            oracle.score(x, condition, t, score);
            for (std::size_t j = 0; j < dim; ++j) {
                const double y = x[j] - condition[j];
                CHECK(x0[j] == doctest::Approx(condition[j] + (y + sigma * sigma * score[j]) / alpha).epsilon(1e-11));
                CHECK(x0[j] == doctest::Approx(condition[j] + (y - sigma * eps[j]) / alpha).epsilon(1e-11));
                CHECK(x0[j] == doctest::Approx(condition[j] + alpha * y - s_hat * v[j]).epsilon(1e-11));
                CHECK(eps[j] == doctest::Approx((alpha * v[j] + s_hat * y) / ls).epsilon(1e-11));
            }
        }
    }

    TEST_CASE("the score stays finite and exact far in the tails (|x| ~ 1e3)") {
        const linear_theta_family family;
        const double t = 0.5;
        // 1-D: two components with equal variance and close means. Every N_k(x) underflows to 0 at
        // x = 1e3 (ln N ≈ −5e5), but the responsibilities are moderate: ln(N₁/N₂) is exact in closed form.
        const mrsolve::gaussian_mixture_oracle close(family, {{0.5, vec{0.0}, vec{1.0}}, {0.5, vec{0.01}, vec{1.0}}});
        const double a = family.alpha(t), s = family.sigma(t);
        const double c = a * a + s * s;
        for (const double x : {1e3, -1e3, 3e3}) {
            CAPTURE(x);
            vec score(1), eps(1), x0(1), r(2);
            close.score(vec{x}, vec{0.0}, t, score);
            close.noise(vec{x}, vec{0.0}, t, eps);
            close.data(vec{x}, vec{0.0}, t, x0);
            close.responsibilities(vec{x}, vec{0.0}, t, r);
            REQUIRE(std::isfinite(score[0]));
            REQUIRE(std::isfinite(eps[0]));
            REQUIRE(std::isfinite(x0[0]));
            REQUIRE(std::isfinite(close.log_density(vec{x}, vec{0.0}, t)));
            // ln N₂ − ln N₁ = ((x − m₁)² − (x − m₂)²)/(2c) with m_k,t = α m_k.
            const double m1 = 0.0, m2 = a * 0.01;
            const double diff = ((x - m1) * (x - m1) - (x - m2) * (x - m2)) / (2.0 * c);
            const double r1 = 1.0 / (1.0 + std::exp(diff));
            const double r2 = 1.0 - r1;
            CHECK(r[0] == doctest::Approx(r1).epsilon(1e-9));
            const double expected = -(r1 * (x - m1) + r2 * (x - m2)) / c;
            CHECK(score[0] == doctest::Approx(expected).epsilon(1e-13));
        }
        // Different variances: one component dominates completely; the score is its own.
        const mrsolve::gaussian_mixture_oracle wide(family, {{0.9, vec{0.0, 0.0}, vec{1.0, 0.0, 0.0, 1.0}},
                                                             {0.1, vec{1.0, -1.0}, vec{4.0, 1.0, 1.0, 3.0}}});
        const vec x{1e3, -2e3};
        vec score(2);
        wide.score(x, vec{0.0, 0.0}, t, score);
        const auto ref = make_reference(vec{1.0, -1.0}, vec{4.0, 1.0, 1.0, 3.0});
        const Eigen::VectorXd expected = ref.score(to_eigen(x), Eigen::VectorXd::Zero(2), t);
        CHECK(max_abs_diff(score, to_vec(expected)) < 1e-13 * max_abs(score));
        // Finite differences of the stable log density agree too.
        const double h = 1e-4;
        const double derivative =
            (wide.log_density(vec{x[0] + h, x[1]}, vec{0.0, 0.0}, t) - wide.log_density(vec{x[0] - h, x[1]}, vec{0.0, 0.0}, t)) /
            (2.0 * h);
        CHECK(score[0] == doctest::Approx(derivative).epsilon(1e-6));
    }

    TEST_CASE("marginal mean and covariance of the mixture") {
        const linear_theta_family family;
        const auto comps = three_components();
        const mrsolve::gaussian_mixture_oracle oracle(family, comps);
        const double t = 0.4, a = family.alpha(t);
        Eigen::VectorXd mbar = Eigen::VectorXd::Zero(dim);
        for (const auto& c : comps) mbar += c.weight * to_eigen(c.mean);
        const Eigen::VectorXd mu = to_eigen(condition);
        vec mean(dim);
        oracle.marginal_mean(condition, t, mean);
        CHECK(max_abs_diff(mean, to_vec(mu + a * (mbar - mu))) < 1e-14);
        // Cov = E[C_k + m_k,t m_k,tᵀ] − mean meanᵀ.
        Eigen::MatrixXd second = Eigen::MatrixXd::Zero(dim, dim);
        for (const auto& c : comps) {
            const auto ref = make_reference(c.mean, c.covariance);
            const Eigen::VectorXd mk = ref.mean(mu, t);
            second += c.weight * (ref.C(t) + mk * mk.transpose());
        }
        const Eigen::VectorXd m = to_eigen(mean);
        CHECK((to_matrix(oracle.marginal_covariance(t), dim) - (second - m * m.transpose())).cwiseAbs().maxCoeff() < 1e-13);
    }

    TEST_CASE("bad inputs throw mrsolve::invalid_argument naming the value") {
        const linear_theta_family family;
        using comps = std::vector<mrsolve::gaussian_mixture_component>;
        check_invalid([&] { mrsolve::gaussian_mixture_oracle o(family, comps{}); }, "got 0");
        check_invalid([&] { mrsolve::gaussian_mixture_oracle o(family, comps{{1.0, {0.0}, {1.0}}, {0.0, {0.0}, {1.0}}}); },
                      "weight 0");
        check_invalid([&] { mrsolve::gaussian_mixture_oracle o(family, comps{{-2.5, {0.0}, {1.0}}}); }, "-2.5");
        check_invalid([&] { mrsolve::gaussian_mixture_oracle o(family, comps{{NAN, {0.0}, {1.0}}}); }, "nan");
        check_invalid([&] { mrsolve::gaussian_mixture_oracle o(family, comps{{1.0, {0.0}, {1.0}}, {1.0, {0.0, 1.0, 2.0}, {1.0}}}); },
                      "dimension 3");
        check_invalid(
            [&] {
                mrsolve::gaussian_mixture_oracle o(family, comps{{1.0, {0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}},
                                                                 {1.0, {0.0, 0.0}, {1.0, 3.0, 3.0, 1.0}}});
            },
            "component 1");
        const mrsolve::gaussian_mixture_oracle oracle(family, comps{{1.0, {0.0, 0.0}, {1.0, 0.0, 0.0, 1.0}}});
        vec out(2);
        check_invalid([&] { oracle.score(vec{1.0}, vec{0.0, 0.0}, 0.5, out); }, "x has 1");
        std::vector<double> r(2);
        check_invalid([&] { oracle.responsibilities(vec{1.0, 1.0}, vec{0.0, 0.0}, 0.5, r); }, "has 2 entries");
        const mrsolve::gaussian_mixture_oracle plain(plain_family{}, comps{{1.0, {0.0}, {1.0}}});
        check_invalid([&] { (void)plain.model(fit_target::velocity); }, "velocity");
    }
}

// =========================================================================================================
TEST_CASE_TEMPLATE("oracles accept float and double states, std::vector and Eigen", S, std::vector<float>,
                   std::vector<double>, Eigen::VectorXf, Eigen::VectorXd) {
    using T = std::remove_cvref_t<decltype(*std::data(std::declval<S&>()))>;
    constexpr bool is_float = std::is_same_v<T, float>;
    auto make = [](const vec& v) {
        S s;
        s.resize(static_cast<decltype(std::size(s))>(v.size()));
        for (std::size_t i = 0; i < v.size(); ++i) std::data(s)[i] = static_cast<T>(v[i]);
        return s;
    };
    // The double reference is evaluated at the inputs as rounded to T.
    auto rounded = [](const vec& v) {
        vec r(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) r[i] = static_cast<double>(static_cast<T>(v[i]));
        return r;
    };
    auto as_vec = [](const S& s) {
        vec r(static_cast<std::size_t>(std::size(s)));
        for (std::size_t i = 0; i < r.size(); ++i) r[i] = static_cast<double>(std::data(s)[i]);
        return r;
    };
    const double tolerance = is_float ? 4e-6 : 0.0;  // double states take the very same code path: bit-equal

    const mrsolve::gaussian_diagonal_oracle diagonal(linear_theta_family{}, data_mean, vec{0.5, 1.5, 0.8, 2.0});
    const mrsolve::gaussian_full_oracle full(linear_theta_family{}, data_mean, covariance);
    const mrsolve::gaussian_mixture_oracle mixture(linear_theta_family{}, three_components());
    const vec x = random_vector(dim, 1.0, 201u);
    const vec z = random_vector(dim, 1.0, 202u);
    const S xs = make(x), mus = make(condition), zs = make(z);
    const vec xr = rounded(x), mur = rounded(condition), zr = rounded(z);

    auto check_all = [&](const auto& oracle) {
        for (const auto target : {fit_target::noise, fit_target::data, fit_target::velocity}) {
            S out = make(vec(dim, 0.0));
            oracle.predict(target, xs, mus, 0.45, out);
            const vec expected = predict(oracle, target, xr, mur, 0.45);
            CHECK(max_abs_diff(as_vec(out), expected) <= tolerance * std::max(1.0, max_abs(expected)));
            // Through the model adaptor, mixing the state type with std::vector<double> for μ.
            S out2 = make(vec(dim, 0.0));
            oracle.model(target)(xs, mur, 0.45, out2);
            CHECK(max_abs_diff(as_vec(out2), expected) <= tolerance * std::max(1.0, max_abs(expected)));
        }
        S out = make(vec(dim, 0.0));
        vec expected(dim);
        oracle.score(xs, mus, 0.45, out);
        oracle.score(xr, mur, 0.45, expected);
        CHECK(max_abs_diff(as_vec(out), expected) <= tolerance * std::max(1.0, max_abs(expected)));
        oracle.marginal_mean(mus, 0.45, out);
        oracle.marginal_mean(mur, 0.45, expected);
        CHECK(max_abs_diff(as_vec(out), expected) <= tolerance * std::max(1.0, max_abs(expected)));
    };
    check_all(diagonal);
    check_all(full);
    check_all(mixture);

    auto check_gaussian = [&](const auto& oracle) {
        S out = make(vec(dim, 0.0));
        vec expected(dim);
        oracle.flow(xs, mus, 0.9, 0.2, out);
        oracle.flow(xr, mur, 0.9, 0.2, expected);
        CHECK(max_abs_diff(as_vec(out), expected) <= tolerance * std::max(1.0, max_abs(expected)));
        oracle.reverse_transition_sample(xs, mus, 0.9, 0.2, zs, out);
        oracle.reverse_transition_sample(xr, mur, 0.9, 0.2, zr, expected);
        CHECK(max_abs_diff(as_vec(out), expected) <= tolerance * std::max(1.0, max_abs(expected)));
        oracle.marginal_variance(0.2, out);
        oracle.marginal_variance(0.2, expected);
        CHECK(max_abs_diff(as_vec(out), expected) <= tolerance * std::max(1.0, max_abs(expected)));
        CHECK(oracle.log_density(xs, mus, 0.3) == doctest::Approx(oracle.log_density(xr, mur, 0.3)).epsilon(1e-15));
    };
    check_gaussian(diagonal);
    check_gaussian(full);
}

}  // namespace test_oracles
