// Coefficient families against independent computations (docs/theory.md §1, §2): the discrete IR-SDE tables
// recomputed in long double, the continuous IR-SDE families against long-double Gauss–Legendre quadrature
// of θ, the φ-functions against long-double references, and the fit-target conversions against the
// formulas of §2.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include <mrsolve/detail/phi.hpp>
#include <mrsolve/prediction/conversion.hpp>
#include <mrsolve/sde/ir_sde.hpp>
#include <mrsolve/sde/irsde_table.hpp>

#include "support/phi_reference.hpp"
#include "support/toy_models.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_families {

namespace {

using mrsolve_test::ld;
using mrsolve::theta_schedule;

/// |actual − expected| ≤ rel·|expected| + abs.
bool close(ld actual, ld expected, ld rel, ld abs = 0) {
    return std::abs(actual - expected) <= rel * std::abs(expected) + abs;
}

#define CHECK_CLOSE(actual, expected, rel, abs)                                          \
    do {                                                                                  \
        const ld a_ = static_cast<ld>(actual), e_ = static_cast<ld>(expected);            \
        INFO("actual = ", static_cast<double>(a_), ", expected = ", static_cast<double>(e_), \
             ", diff = ", static_cast<double>(a_ - e_));                                  \
        CHECK(close(a_, e_, rel, abs));                                                   \
    } while (0)

std::string shape_name(theta_schedule s) {
    switch (s) {
        case theta_schedule::constant: return "constant";
        case theta_schedule::linear: return "linear";
        case theta_schedule::cosine: return "cosine";
    }
    return "?";
}

struct table_case {
    theta_schedule shape;
    int T;
    double max_sigma;
    double eps;
};

std::vector<table_case> table_cases() {
    std::vector<table_case> cases;
    for (const auto shape : {theta_schedule::cosine, theta_schedule::linear, theta_schedule::constant}) {
        cases.push_back({shape, 100, 50, 0.005});   // the published default (σ_∞ = 50/255)
        cases.push_back({shape, 7, 0.5, 0.01});     // max_sigma < 1: taken as it is
        cases.push_back({shape, 1000, 1, 0.05});    // max_sigma = 1 is in pixel units: σ_∞ = 1/255
        cases.push_back({shape, 1, 0.999, 0.3});    // the smallest table
    }
    return cases;
}

// ------------------------------------------------------------------------------------------------
// Long-double references for the continuous family.

/// θ(t) before the scale κ (docs/theory.md §1, "The discrete tables"): constant 1; linear 0.1 → 20; cosine
/// 1 − cos²u/cos²u₀ with u = (t/T + 0.008)/1.008·π/2, evaluated as (cos u₀ − cos u)(cos u₀ + cos u)/cos²u₀
/// and cos u₀ − cos u = 2 sin((u + u₀)/2) sin((u − u₀)/2), u − u₀ computed directly.
ld reference_theta(theta_schedule shape, ld T, ld t) {
    switch (shape) {
        case theta_schedule::constant: return 1;
        case theta_schedule::linear: return ld(0.1L) + (ld(20) - ld(0.1L)) * t / T;
        case theta_schedule::cosine: {
            const ld half_pi = std::numbers::pi_v<ld> / 2;
            const ld u0 = ld(0.008L) / ld(1.008L) * half_pi;
            const ld du = (t / T) / ld(1.008L) * half_pi;
            const ld u = u0 + du;
            const ld diff = 2 * std::sin((u + u0) / 2) * std::sin(du / 2);
            const ld c0 = std::cos(u0);
            return diff * (c0 + std::cos(u)) / (c0 * c0);
        }
    }
    return 0;
}

/// Gauss–Legendre nodes and weights on [−1, 1] in long double (Newton on P_n).
struct gauss_legendre {
    std::vector<ld> nodes, weights;
    explicit gauss_legendre(int n) {
        for (int i = 1; i <= n; ++i) {
            ld x = std::cos(std::numbers::pi_v<ld> * (ld(i) - ld(0.25L)) / (ld(n) + ld(0.5L)));
            ld dp = 0;
            for (int iter = 0; iter < 100; ++iter) {
                ld p0 = 1, p1 = x;
                for (int k = 2; k <= n; ++k) {
                    const ld p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n * (x * p1 - p0) / (x * x - 1);
                const ld dx = p1 / dp;
                x -= dx;
                if (std::abs(dx) < 1e-21L) break;
            }
            nodes.push_back(x);
            weights.push_back(2 / ((1 - x * x) * dp * dp));
        }
    }
};

/// Θ(t) = ∫₀ᵗ θ by composite 24-point Gauss–Legendre on 16 panels, in long double.
ld reference_theta_integral(theta_schedule shape, ld T, ld t) {
    static const gauss_legendre gl(24);
    const int panels = 16;
    const ld width = t / panels;
    ld sum = 0;
    for (int p = 0; p < panels; ++p) {
        const ld a = p * width;
        for (std::size_t k = 0; k < gl.nodes.size(); ++k)
            sum += gl.weights[k] * reference_theta(shape, T, a + width * (gl.nodes[k] + 1) / 2);
    }
    return sum * width / 2;
}

struct continuous_reference {
    theta_schedule shape;
    ld T, kappa, lambda_s;
    ld big_theta(ld t) const { return reference_theta_integral(shape, T, t); }
    ld alpha(ld t) const { return std::exp(-kappa * big_theta(t)); }
    ld sigma(ld t) const { return lambda_s * std::sqrt(-std::expm1(-2 * kappa * big_theta(t))); }
    ld lambda(ld t) const {
        const ld u = kappa * big_theta(t);
        return -u - std::log(lambda_s) - std::log(-std::expm1(-2 * u)) / 2;
    }
};

continuous_reference make_continuous_reference(theta_schedule shape, int T, double max_sigma, double eps) {
    continuous_reference r{shape, ld(T), 0, max_sigma >= 1 ? ld(max_sigma) / 255 : ld(max_sigma)};
    r.kappa = -std::log(ld(eps)) / reference_theta_integral(shape, ld(T), ld(T));
    return r;
}

/// Fourth-order central difference of f at t with step d.
template <class F>
ld derivative(F f, ld t, ld d) {
    return (-f(t + 2 * d) + 8 * f(t + d) - 8 * f(t - d) + f(t - 2 * d)) / (12 * d);
}

/// Times from 1e-8·T to 1.2·T (and the defaults t_min = T/1000 and T).
std::vector<double> probe_times(double T) {
    std::vector<double> ts;
    for (const double r : {1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.25, 0.37, 0.5, 0.66, 0.8, 0.95, 1.0, 1.1, 1.2})
        ts.push_back(r * T);
    return ts;
}

}  // namespace

// ================================================================================================
// Discrete tables

TEST_CASE("discrete IR-SDE tables match DESIGN §6 recomputed in long double") {
    for (const auto& c : table_cases()) {
        CAPTURE(shape_name(c.shape));
        CAPTURE(c.T);
        CAPTURE(c.max_sigma);
        CAPTURE(c.eps);
        const mrsolve::irsde_table<double> table({c.shape, c.T, c.max_sigma, c.eps});
        const auto ref = mrsolve_test::make_reference_tables(shape_name(c.shape), c.T, c.max_sigma, c.eps);

        REQUIRE(table.theta_table().size() == static_cast<std::size_t>(c.T) + 1);
        REQUIRE(table.alpha_table().size() == static_cast<std::size_t>(c.T) + 1);
        CHECK(table.steps() == c.T);
        CHECK(table.t_min() == 0.0);
        CHECK(table.t_max() == double(c.T));
        CHECK_CLOSE(table.stationary_std(), ref.lambda_s, 1e-15L, 0);
        CHECK_CLOSE(table.dt(), ref.dt, 1e-13L, 0);
        for (std::size_t j = 0; j <= static_cast<std::size_t>(c.T); ++j) {
            CAPTURE(j);
            // θ_j of the cosine table is 1 − (a ratio close to 1), so a double carries an absolute error of
            // about one ulp of 1 in each θ_j; θ̄_j accumulates j + 1 of them, and σ_j, λ_j inherit the
            // relative error of θ̄_j (halved) where θ̄_j dt is small.
            const ld tb_err = 2.5e-16L * ld(j + 1);
            const ld tb_rel = tb_err / ref.theta_bar[j];
            CHECK_CLOSE(table.theta_table()[j], ref.theta[j], 1e-15L, 2.5e-16L);
            CHECK_CLOSE(table.theta_bar_table()[j], ref.theta_bar[j], 1e-15L, tb_err);
            CHECK_CLOSE(table.alpha_table()[j], ref.alpha[j], 1e-13L, 0);
            CHECK_CLOSE(table.sigma_table()[j], ref.sigma[j], 1e-13L + tb_rel, 0);
            CHECK_CLOSE(table.lambda_table()[j], ref.lambda[j], 1e-13L, tb_rel);
            if (j > 0) CHECK(table.lambda_table()[j] < table.lambda_table()[j - 1]);
            // α² + (σ/σ_∞)² = 1 at every table point.
            const ld a = table.alpha_table()[j], s = ld(table.sigma_table()[j]) / ld(table.stationary_std());
            CHECK_CLOSE(a * a + s * s, 1.0L, 1e-14L, 0);
            // The family functions at integer times are the table values.
            CHECK(table.alpha(double(j)) == doctest::Approx(table.alpha_table()[j]).epsilon(1e-15));
            CHECK(table.lambda(double(j)) == doctest::Approx(table.lambda_table()[j]).epsilon(1e-15));
        }
        // α(T) = eps.
        CHECK_CLOSE(table.alpha_table().back(), c.eps, 1e-14L, 0);
        CHECK_CLOSE(table.alpha(double(c.T)), c.eps, 1e-14L, 0);
    }
}

TEST_CASE("max_sigma >= 1 is in pixel units (/255), below 1 it is taken as it is") {
    CHECK(mrsolve::stationary_std_from_max_sigma(50) == doctest::Approx(50.0 / 255).epsilon(1e-16));
    CHECK(mrsolve::stationary_std_from_max_sigma(1) == doctest::Approx(1.0 / 255).epsilon(1e-16));
    CHECK(mrsolve::stationary_std_from_max_sigma(0.999) == 0.999);
    CHECK(mrsolve::stationary_std_from_max_sigma(0.05) == 0.05);
    const mrsolve::irsde_table<double> a({theta_schedule::cosine, 10, 1, 0.005});
    const mrsolve::irsde_table<double> b({theta_schedule::cosine, 10, 0.5, 0.005});
    CHECK(a.stationary_std() == doctest::Approx(1.0 / 255));
    CHECK(b.stationary_std() == 0.5);
    const mrsolve::ir_sde<double> c({theta_schedule::cosine, 10, 255, 0.005});
    CHECK(c.stationary_std() == doctest::Approx(1.0));
}

TEST_CASE("stationary_std gives lambda_s itself and builds what the published max_sigma builds for that lambda_s") {
    using mrsolve::irsde_parameters;
    struct same_level {
        double max_sigma, lambda_s;
    };
    // Pixel units (50/255, 255/255) and values below 1 (taken as they are, up to just below the jump).
    for (const same_level c : {same_level{50, 50.0 / 255}, same_level{255, 1.0}, same_level{0.5, 0.5},
                               same_level{0.99, 0.99}}) {
        for (const auto shape : {theta_schedule::constant, theta_schedule::linear, theta_schedule::cosine}) {
            CAPTURE(c.max_sigma);
            CAPTURE(shape_name(shape));
            const irsde_parameters published{shape, 100, c.max_sigma, 0.005};
            const irsde_parameters explicit_std{.schedule = shape, .steps = 100, .eps = 0.005, .stationary_std = c.lambda_s};
            CHECK(mrsolve::stationary_std_of(published) == c.lambda_s);
            CHECK(mrsolve::stationary_std_of(explicit_std) == c.lambda_s);
            const mrsolve::irsde_table<double> a(published), b(explicit_std);
            CHECK(a.stationary_std() == b.stationary_std());
            CHECK(std::ranges::equal(a.alpha_table(), b.alpha_table()));
            CHECK(std::ranges::equal(a.sigma_table(), b.sigma_table()));
            CHECK(std::ranges::equal(a.lambda_table(), b.lambda_table()));
            const mrsolve::ir_sde<double> c_published(published), c_explicit(explicit_std);
            CHECK(c_published.stationary_std() == c_explicit.stationary_std());
            for (const double t : {0.1, 1.0, 37.5, 100.0}) CHECK(c_published.sigma(t) == c_explicit.sigma(t));
        }
    }
    // The trap the explicit form avoids: at 1 the published argument switches to pixel units.
    CHECK(mrsolve::irsde_table<double>(irsde_parameters{.max_sigma = 1}).stationary_std() == doctest::Approx(1.0 / 255));
    CHECK(mrsolve::irsde_table<double>(irsde_parameters{.stationary_std = 1.0}).stationary_std() == 1.0);
    CHECK(mrsolve::ir_sde<double>(irsde_parameters{.stationary_std = 1.0}).stationary_std() == 1.0);
    // When set, stationary_std is what counts: max_sigma is not used (not even checked).
    CHECK(mrsolve::irsde_table<double>(irsde_parameters{.max_sigma = 50, .stationary_std = 0.3}).stationary_std() == 0.3);
    CHECK(mrsolve::irsde_table<double>(irsde_parameters{.max_sigma = -1, .stationary_std = 0.3}).stationary_std() == 0.3);
}

TEST_CASE("stationary_std that is not finite and positive throws, naming the value") {
    using mrsolve::irsde_parameters;
    struct bad_value {
        double value;
        const char* text;
    };
    const double inf = std::numeric_limits<double>::infinity();
    for (const bad_value c : {bad_value{0.0, "got 0"}, bad_value{-0.25, "got -0.25"}, bad_value{-inf, "got -inf"},
                              bad_value{inf, "got inf"}, bad_value{std::numeric_limits<double>::quiet_NaN(), "got nan"}}) {
        CAPTURE(c.text);
        const irsde_parameters p{.stationary_std = c.value};
        const std::string expected = std::string("stationary_std (lambda_s) must be finite and > 0, ") + c.text;
        CHECK_THROWS_WITH_AS((void)mrsolve::stationary_std_of(p), doctest::Contains(expected.c_str()),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(mrsolve::irsde_table<double>{p}, doctest::Contains(expected.c_str()), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(mrsolve::ir_sde<double>{p}, doctest::Contains(expected.c_str()), mrsolve::invalid_argument);
    }
}

TEST_CASE("tables: linear interpolation at fractional t and extrapolation beyond the ends") {
    for (const auto& c : table_cases()) {
        CAPTURE(shape_name(c.shape));
        CAPTURE(c.T);
        const mrsolve::irsde_table<double> table({c.shape, c.T, c.max_sigma, c.eps});
        const auto ref = mrsolve_test::make_reference_tables(shape_name(c.shape), c.T, c.max_sigma, c.eps);
        const double T = c.T;
        const std::vector<double> ts{-1.75, -0.5, -1e-3, 0.0,     0.3,      0.5 * T, 0.5 * T + 0.25, T - 0.9,
                                     T - 1e-9, T,   T + 1e-3, T + 0.4, T + 2.25};
        for (const double t : ts) {
            CAPTURE(t);
            using mrsolve_test::interpolate_at;
            // Tolerances as in the table test (θ carries an absolute error of about one ulp of 1).
            CHECK_CLOSE(table.alpha(t), interpolate_at(ref.alpha, t), 1e-13L, 1e-15L);
            CHECK_CLOSE(table.sigma(t), interpolate_at(ref.sigma, t), 1e-11L, 1e-15L);
            CHECK_CLOSE(table.lambda(t), interpolate_at(ref.lambda, t), 1e-13L, 1e-11L);
            // The published fixed-step baselines' rates: θ(t)·dt and 2 σ_∞² θ(t)·dt.
            const ld f = interpolate_at(ref.theta, t) * ref.dt;
            CHECK_CLOSE(table.published_drift_rate(t), f, 1e-13L, 1e-15L * ref.dt);
            CHECK_CLOSE(table.published_diffusion_sq(t), 2 * ref.lambda_s * ref.lambda_s * f, 1e-13L, 1e-15L * ref.dt);
        }
        // The SDE rates are those of the interpolated α and σ: f = −d ln α/dt, g² = dσ²/dt + 2 f σ², checked
        // by central differences inside segments (the interpolants have kinks at the nodes).
        for (const double t : {0.3, 0.5 * T + 0.25, T - 0.4, T + 0.3}) {
            CAPTURE(t);
            const double d = 1e-5;  // f is smooth inside a segment: truncation ≈ (f d)², rounding ≈ 1e-16/d
            const ld f = -(std::log(ld(table.alpha(t + d))) - std::log(ld(table.alpha(t - d)))) / (2 * d);
            const ld s2p = ld(table.sigma(t + d)) * table.sigma(t + d), s2m = ld(table.sigma(t - d)) * table.sigma(t - d);
            const ld g2 = (s2p - s2m) / (2 * d) + 2 * f * ld(table.sigma(t)) * table.sigma(t);
            CHECK_CLOSE(table.drift_rate(t), f, 1e-7L, 1e-10L);
            CHECK_CLOSE(table.diffusion_sq(t), g2, 1e-7L, 1e-10L);
        }
        // At a node j, the rates are those of the segment (j − 1, j] (the one a step towards 0 crosses).
        if (c.T >= 3) {
            const double j = 2;
            CHECK(table.drift_rate(j) == doctest::Approx(table.drift_rate(j - 0.5) * table.alpha(j - 0.5) / table.alpha(j)).epsilon(1e-14));
        }
        // Consistency over the whole range: exp(−∫₀ᵀ f dt) = α(T)/α(0), with ∫ by Simpson's rule on each
        // segment (f is smooth inside a segment). θ·dt would miss this by about 5 % on the cosine tables.
        {
            ld log_ratio = 0;
            const int n = 512;  // Simpson intervals per segment (even): α may change 3-fold within one (T = 1)
            for (int j = 1; j <= c.T; ++j) {
                ld sum = 0;
                for (int k = 0; k <= n; ++k) {
                    const double t = (j - 1) + double(k) / n;
                    const ld w = (k == 0 || k == n) ? 1 : (k % 2 == 1 ? 4 : 2);
                    // Inside the segment: at its left end use the limit from the right.
                    sum += w * ld(k == 0 ? table.drift_rate(t + 1e-12) : table.drift_rate(t));
                }
                log_ratio += sum / (3 * n);
            }
            CHECK_CLOSE(std::exp(-log_ratio), ld(table.alpha(T)) / table.alpha(0.0), 1e-9L, 0);
        }
        // Between table points λ(t) is not ln(α(t)/σ(t)) (each is interpolated on its own), as published.
        if (c.T >= 7) {
            const double t = 0.5;
            CHECK(std::abs(table.lambda(t) - std::log(table.alpha(t) / table.sigma(t))) > 1e-6);
        }
    }
}

TEST_CASE("tables: t_of_lambda inverts the piecewise-linear λ table, t_of_sigma_over_alpha the σ/α table") {
    for (const auto& c : table_cases()) {
        CAPTURE(shape_name(c.shape));
        CAPTURE(c.T);
        const mrsolve::irsde_table<double> table({c.shape, c.T, c.max_sigma, c.eps});
        const auto ref = mrsolve_test::make_reference_tables(shape_name(c.shape), c.T, c.max_sigma, c.eps);
        const double T = c.T;
        // At the table points.
        for (int j = 0; j <= c.T; ++j) {
            CAPTURE(j);
            CHECK(table.t_of_lambda(table.lambda_table()[static_cast<std::size_t>(j)]) ==
                  doctest::Approx(j).epsilon(1e-12).scale(1));
            const double varsigma = table.sigma_table()[static_cast<std::size_t>(j)] / table.alpha_table()[static_cast<std::size_t>(j)];
            CHECK(table.t_of_sigma_over_alpha(varsigma) == doctest::Approx(j).epsilon(1e-12).scale(1));
        }
        // t_of_lambda(lambda(t)) = t at fractional times, inside and beyond the table.
        for (const double t : {-0.8, -0.1, 0.25, 0.5 * T + 0.125, T - 0.3, T + 0.6, T + 3.0}) {
            CAPTURE(t);
            CHECK(table.t_of_lambda(table.lambda(t)) == doctest::Approx(t).epsilon(1e-10).scale(1));
        }
        // Arbitrary λ and ς values against an independent inverse interpolation of the long-double tables.
        const ld lmax = ref.lambda.front(), lmin = ref.lambda.back();
        const ld vmin = ref.varsigma.front(), vmax = ref.varsigma.back();
        for (int k = -3; k <= 23; ++k) {
            const ld w = ld(k) / 20;  // −0.15 … 1.15: both extrapolation sides
            const ld l = lmin + w * (lmax - lmin);
            const ld v = vmin + w * (vmax - vmin);
            CAPTURE(k);
            CHECK_CLOSE(table.t_of_lambda(static_cast<double>(l)), mrsolve_test::inverse_interpolate(ref.lambda, l),
                        1e-11L, 1e-11L);
            CHECK_CLOSE(table.t_of_sigma_over_alpha(static_cast<double>(v)),
                        mrsolve_test::inverse_interpolate(ref.varsigma, v), 1e-11L, 1e-11L);
        }
    }
}

// ================================================================================================
// Continuous families

TEST_CASE("continuous IR-SDE: θ, Θ, κ, α, σ, λ against long-double quadrature") {
    struct param {
        int T;
        double max_sigma, eps;
    };
    for (const auto shape : {theta_schedule::constant, theta_schedule::linear, theta_schedule::cosine}) {
        for (const param p : {param{100, 50, 0.005}, param{1000, 0.3, 0.02}, param{3, 10, 0.5}}) {
            CAPTURE(shape_name(shape));
            CAPTURE(p.T);
            const mrsolve::ir_sde<double> family({shape, p.T, p.max_sigma, p.eps});
            const auto ref = make_continuous_reference(shape, p.T, p.max_sigma, p.eps);
            CHECK_CLOSE(family.kappa(), ref.kappa, 1e-13L, 0);
            CHECK(family.t_min() == doctest::Approx(p.T / 1000.0).epsilon(1e-15));
            CHECK(family.t_max() == double(p.T));
            CHECK_CLOSE(family.stationary_std(), ref.lambda_s, 1e-15L, 0);
            // α(T) = eps, exactly as for the tables.
            CHECK_CLOSE(family.alpha(family.t_max()), p.eps, 1e-14L, 0);
            for (const double t : probe_times(p.T)) {
                CAPTURE(t);
                CHECK_CLOSE(family.theta(t), reference_theta(shape, ld(p.T), t), 1e-13L, 0);
                // Θ is accurate to full relative precision even for t = 1e-8·T (no cancellation).
                CHECK_CLOSE(family.theta_integral(t), ref.big_theta(t), 1e-13L, 0);
                CHECK_CLOSE(family.alpha(t), ref.alpha(t), 1e-13L, 0);
                CHECK_CLOSE(family.sigma(t), ref.sigma(t), 1e-13L, 0);
                CHECK_CLOSE(family.lambda(t), ref.lambda(t), 1e-13L, 1e-13L);
                // λ = ln(α/σ) exactly for the continuous family.
                CHECK_CLOSE(family.lambda(t), std::log(ld(family.alpha(t))) - std::log(ld(family.sigma(t))), 1e-14L,
                            1e-14L);
                // α² + (σ/σ_∞)² = 1.
                const ld a = family.alpha(t), s = ld(family.sigma(t)) / ld(family.stationary_std());
                CHECK_CLOSE(a * a + s * s, 1.0L, 0, 1e-15L);
            }
        }
    }
}

TEST_CASE("continuous IR-SDE: t_of_lambda(lambda(t)) = t over [t_min, T] and beyond") {
    for (const auto shape : {theta_schedule::constant, theta_schedule::linear, theta_schedule::cosine}) {
        for (const int T : {1, 100, 1000}) {
            CAPTURE(shape_name(shape));
            CAPTURE(T);
            const mrsolve::ir_sde<double> family({shape, T, 50, 0.005});
            // Log-spaced from t_min/100 to 1.5·T.
            const double lo = family.t_min() / 100, hi = 1.5 * T;
            for (int k = 0; k <= 200; ++k) {
                const double t = lo * std::pow(hi / lo, k / 200.0);
                CAPTURE(t);
                const double back = family.t_of_lambda(family.lambda(t));
                CHECK(std::abs(back - t) <= 1e-12 * t);
            }
            CHECK(std::abs(family.t_of_lambda(family.lambda(family.t_min())) - family.t_min()) <= 1e-12 * family.t_min());
            CHECK(std::abs(family.t_of_lambda(family.lambda(family.t_max())) - T) <= 1e-12 * T);
        }
    }
}

TEST_CASE("continuous IR-SDE: dΘ/dt = θ, f = −d ln α/dt, g² = dσ²/dt + 2 f σ² (finite differences)") {
    for (const auto shape : {theta_schedule::constant, theta_schedule::linear, theta_schedule::cosine}) {
        CAPTURE(shape_name(shape));
        const mrsolve::ir_sde<double> family({shape, 100, 50, 0.005});
        for (const double t : probe_times(100)) {
            CAPTURE(t);
            const double d = 1e-3 * t;
            const ld dTheta = derivative([&](ld u) { return ld(family.theta_integral(double(u))); }, t, d);
            CHECK_CLOSE(dTheta, family.theta(t), 1e-8L, 0);
            // ln α(t) of a double α near 1 carries an absolute error of ~1e-16; the difference quotient
            // divides it by d.
            const ld f = -derivative([&](ld u) { return std::log(ld(family.alpha(double(u)))); }, t, d);
            CHECK_CLOSE(f, family.drift_rate(t), 1e-7L, 5e-16L / d);
            CHECK_CLOSE(family.drift_rate(t), family.kappa() * family.theta(t), 1e-15L, 0);
            const ld sigma2_dot = derivative(
                [&](ld u) {
                    const ld s = family.sigma(double(u));
                    return s * s;
                },
                t, d);
            const ld s = family.sigma(t);
            CHECK_CLOSE(family.diffusion_sq(t), sigma2_dot + 2 * ld(family.drift_rate(t)) * s * s, 1e-7L, 0);
        }
    }
}

// ================================================================================================
// φ-functions

namespace {

using mrsolve_test::reference_phi;

}  // namespace

TEST_CASE("phi(k, z) for k = 0..3 and z from ±1e-8 to ±20 matches long-double references to 1e-12") {
    // The two branches of the reference agree where they meet.
    for (int k = 1; k <= 3; ++k)
        for (const ld z : {-2.0L, -0.5L, 0.5L, 2.0L}) CHECK_CLOSE(reference_phi(k, z, true), reference_phi(k, z), 1e-16L, 0);
    std::vector<double> magnitudes{1e-8, 1e-6, 1e-4, 1e-3, 1e-2, 0.1, 0.3, 0.5, 0.9, 1, 1.5, 1.99, 1.999999,
                                   2,    2.000001, 2.5, 3,  5,    7.5, 10, 15, 20};
    for (int k = 0; k <= 3; ++k) {
        for (const double m : magnitudes) {
            for (const double z : {m, -m}) {
                CAPTURE(k);
                CAPTURE(z);
                CHECK_CLOSE(mrsolve::detail::phi(k, z), reference_phi(k, z), 1e-12L, 0);
            }
        }
        CHECK_CLOSE(mrsolve::detail::phi(k, 0.0), reference_phi(k, 0), 1e-15L, 0);
    }
    // float works too (to float precision).
    for (const double z : {-3.0, -0.01, 0.01, 3.0})
        CHECK_CLOSE(mrsolve::detail::phi(2, static_cast<float>(z)), reference_phi(2, static_cast<float>(z)), 1e-6L, 0);
}

// ================================================================================================
// Fit-target conversions

namespace {

using mrsolve::fit_target;

struct point {
    double alpha, sigma, lambda_s;
};

/// Applies q = a x + b μ + c out.
double apply(const mrsolve::affine_map<double>& m, double x, double mu, double out) {
    return m.x_coef * x + m.mu_coef * mu + m.out_coef * out;
}

std::vector<point> conversion_points() {
    std::vector<point> pts;
    const double ls = 50.0 / 255;
    for (const double a : {0.999999, 0.9, 0.6, 0.2, 0.005}) pts.push_back({a, ls * std::sqrt(1 - a * a), ls});
    pts.push_back({0.6, 0.8 * 0.7, 0.7});
    return pts;
}

}  // namespace

TEST_CASE("fit-target conversions agree with DESIGN §2 and invert each other") {
    const std::array<fit_target, 3> targets{fit_target::noise, fit_target::data, fit_target::velocity};
    for (const auto& p : conversion_points()) {
        CAPTURE(p.alpha);
        // A consistent triple (x₀, ε, v) at (x, t): x = μ + α (x₀ − μ) + σ ε, v = α σ_∞ ε − σ̂ (x₀ − μ).
        const double mu = -0.3, x0 = 0.7, eps = 1.3;
        const double x = mu + p.alpha * (x0 - mu) + p.sigma * eps;
        const double v = p.alpha * p.lambda_s * eps - (p.sigma / p.lambda_s) * (x0 - mu);
        const auto truth = [&](fit_target f) { return f == fit_target::noise ? eps : f == fit_target::data ? x0 : v; };
        for (const auto from : targets) {
            for (const auto to : targets) {
                CAPTURE(mrsolve::to_string(from));
                CAPTURE(mrsolve::to_string(to));
                const auto m = mrsolve::conversion<double>(from, to, p.alpha, p.sigma, p.lambda_s);
                const ld scale = 1 + std::abs(ld(truth(to)));
                // The true target from the true output.
                CHECK_CLOSE(apply(m, x, mu, truth(from)), truth(to), 0, 1e-12L * scale / p.alpha);
                // The §2 formulas for arbitrary (inconsistent) outputs.
                for (const double out : {-2.0, 0.0, 0.37, 5.0}) {
                    const ld expected = mrsolve_test::reference_convert(from, to, p.alpha, p.sigma, p.lambda_s, x, mu, out);
                    CHECK_CLOSE(apply(m, x, mu, out), expected, 1e-12L, 1e-12L / (p.alpha * p.sigma));
                }
                // Round trip: from → to → from is the identity.
                const auto back = mrsolve::conversion<double>(to, from, p.alpha, p.sigma, p.lambda_s);
                for (const double out : {-2.0, 0.37, 5.0}) {
                    const double q = apply(m, x, mu, out);
                    CHECK_CLOSE(apply(back, x, mu, q), out, 1e-10L, 1e-10L);
                }
            }
        }
        // Noise ↔ data needs no σ_∞.
        const auto nd = mrsolve::conversion<double>(fit_target::noise, fit_target::data, p.alpha, p.sigma);
        CHECK_CLOSE(apply(nd, x, mu, eps), x0, 0, 1e-12L / p.alpha);
        // Identity maps.
        for (const auto f : targets) {
            const auto id = mrsolve::conversion<double>(f, f, p.alpha, p.sigma, p.lambda_s);
            CHECK(id.x_coef == 0.0);
            CHECK(id.mu_coef == 0.0);
            CHECK(id.out_coef == 1.0);
        }
    }
}

}  // namespace test_families
