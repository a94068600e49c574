// Singlestep exponential integrators (include/mrsolve/singlestep.hpp): NFE accounting, agreement with the
// multistep order-1 update, input validation, and convergence orders on closed-form oracles.
//
// Set-up as in test_convergence.cpp: the continuous cosine IR-SDE (T = 100, max_sigma = 50, eps = 0.005)
// on [t_min = 1, T], where λ = ln(α/σ) exactly, so the oracles' closed forms are the true reference; a
// per-element Gaussian oracle on a 128-element state; grids uniform in λ (linear-lambda). Ladders run
// every step at the same order k (orders = [k, …, k]), label each rung with its NFE = k · steps, and fit
// the order by least squares over the asymptotic rungs above the round-off floor (tests/support).
//
// Order 3 is measured over λ(T) … 1.5 (the "middle" span of test_convergence.cpp, where the multistep
// order-3 error of Gaussian data has a near-vanishing leading term over the full range) and over the full
// range; the singlestep method shows order 3 on both (it has no such cancellation).

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <new>
#include <cstddef>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <mrsolve/adaptive.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/oracle/gaussian_mixture.hpp>
#include <mrsolve/singlestep.hpp>

#include "support/convergence.hpp"
#include "support/order_checks.hpp"
#include "support/mixture_items.hpp"
#include "support/problems.hpp"

#include "support/counting_new.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_singlestep {

using mrsolve_test::allocations;

namespace {

using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::schedule_kind;
using mrsolve_test::ladder;
using family_type = mrsolve::ir_sde<double>;
using state = std::vector<double>;


[[nodiscard]] family_type make_family() {
    return mrsolve_test::cosine_continuous(1.0);
}

template <class P>
[[nodiscard]] constexpr fit_target natural_fit() {
    return std::is_same_v<P, data_prediction> ? fit_target::data : fit_target::noise;
}

/// The shared per-element Gaussian problem (tests/support/problems.hpp) on the continuous family, 128
/// elements, built once.
using gaussian_problem = mrsolve_test::gaussian_problem<family_type>;
const gaussian_problem& shared_problem() {
    static const gaussian_problem p(make_family(), 128);
    return p;
}

/// A uniform-λ grid of `steps` steps from T to λ = l_end (full span: to t_min).
[[nodiscard]] std::vector<double> lambda_grid(const family_type& family, int steps, double l_end) {
    const double l0 = family.lambda(family.t_max());
    std::vector<double> grid(static_cast<std::size_t>(steps) + 1);
    for (int i = 0; i <= steps; ++i) grid[static_cast<std::size_t>(i)] = family.t_of_lambda(l0 + (l_end - l0) * i / steps);
    grid.front() = family.t_max();
    return grid;
}

constexpr double middle_lambda_end = 1.5;

template <class P, class Model>
[[nodiscard]] state run_singlestep(const family_type& family, const std::vector<double>& grid,
                                   const std::vector<int>& orders, const Model& model, const state& x_T,
                                   const state& mu, fit_target fit) {
    mrsolve::singlestep_sampler<P, family_type, state> s(family, x_T, {fit});
    state x = x_T;
    s.run(grid, orders, model, x, mu);
    return x;
}

/// Errors of constant-order-k runs over `steps` uniform-λ steps ending at λ = l_end.
template <class P>
[[nodiscard]] ladder gaussian_ladder(int k, const std::vector<int>& steps, double l_end) {
    const auto& g = shared_problem();
    const auto model = g.oracle.model(natural_fit<P>());
    ladder out;
    for (const int m : steps) {
        const auto grid = lambda_grid(g.family, m, l_end);
        const state end = g.exact(grid.back());
        const std::vector<int> orders(static_cast<std::size_t>(m), k);
        out.push_back({k * m, mrsolve_test::max_abs_diff(
                                  run_singlestep<P>(g.family, grid, orders, model, g.x_T, g.mu, natural_fit<P>()), end)});
    }
    return out;
}

using mrsolve_test::check_order;

using mrsolve_test::counting_model;

template <class P>
[[nodiscard]] std::string pname() {
    return std::string(P::name);
}

}  // namespace

TEST_SUITE_BEGIN("singlestep");

TEST_CASE("singlestep_orders spends exactly the NFE, and runs report exactly the model calls") {
    CHECK(mrsolve::singlestep_orders(9, 3) == std::vector<int>{3, 3, 2, 1});
    CHECK(mrsolve::singlestep_orders(10, 3) == std::vector<int>{3, 3, 3, 1});
    CHECK(mrsolve::singlestep_orders(11, 3) == std::vector<int>{3, 3, 3, 2});
    CHECK(mrsolve::singlestep_orders(3, 3) == std::vector<int>{2, 1});
    CHECK(mrsolve::singlestep_orders(1, 3) == std::vector<int>{1});
    CHECK(mrsolve::singlestep_orders(7, 2) == std::vector<int>{2, 2, 2, 1});
    CHECK(mrsolve::singlestep_orders(4, 1) == std::vector<int>{1, 1, 1, 1});
    const auto& g = shared_problem();
    int calls = 0;
    const counting_model<decltype(g.oracle.model(fit_target::noise))> model{g.oracle.model(fit_target::noise), &calls};
    mrsolve::singlestep_sampler<noise_prediction, family_type, state> s(g.family, g.x_T);
    int cases = 0;
    for (int order = 1; order <= 3; ++order) {
        for (int nfe = 1; nfe <= 30; ++nfe) {
            const auto orders = mrsolve::singlestep_orders(nfe, order);
            int sum = 0;
            for (const int o : orders) {
                CHECK(o >= 1);
                CHECK(o <= order);
                sum += o;
            }
            CHECK(sum == nfe);
            const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, static_cast<int>(orders.size()));
            state x = g.x_T;
            calls = 0;
            const auto r = s.run(grid, orders, model, x, g.mu);
            CHECK(r.nfe == nfe);
            CHECK(calls == nfe);
            CHECK(r.steps == static_cast<int>(orders.size()));
            bool finite = true;
            for (const double v : x) finite = finite && std::isfinite(v);
            CHECK(finite);
            ++cases;
        }
    }
    MESSAGE("singlestep_orders: checked NFE 1..30 x orders 1..3 (", cases, " runs): sum == NFE == counted model calls");
}

TEST_CASE("singlestep_orders and the sampler reject bad arguments, naming the value") {
    CHECK_THROWS_WITH_AS((void)mrsolve::singlestep_orders(0, 2), doctest::Contains("got 0"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::singlestep_orders(5, 4), doctest::Contains("got 4"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::singlestep_orders(5, 0), doctest::Contains("got 0"), mrsolve::invalid_argument);
    const auto& g = shared_problem();
    const auto model = g.oracle.model(fit_target::noise);
    mrsolve::singlestep_sampler<noise_prediction, family_type, state> s(g.family, g.x_T);
    const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, 3);
    state x = g.x_T;
    const std::vector<int> two{2, 2};
    CHECK_THROWS_WITH_AS(s.run(grid, two, model, x, g.mu), doctest::Contains("4 times but there are 2"),
                         mrsolve::invalid_argument);
    const std::vector<int> bad{2, 4, 1};
    CHECK_THROWS_WITH_AS(s.run(grid, bad, model, x, g.mu), doctest::Contains("orders[1] = 4"), mrsolve::invalid_argument);
    const std::vector<double> rising{10.0, 20.0, 30.0, 40.0};
    const std::vector<int> ok{1, 1, 1};
    CHECK_THROWS_AS(s.run(rising, ok, model, x, g.mu), mrsolve::invalid_argument);
    state nan_x = g.x_T;
    nan_x[3] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_AS(s.run(grid, ok, model, nan_x, g.mu), mrsolve::invalid_argument);
    state short_mu(5, 0.0);
    CHECK_THROWS_AS(s.run(grid, ok, model, x, short_mu), mrsolve::invalid_argument);
    // Velocity needs σ_∞: the IR-SDE has it; a NaN model output is reported with its step and time.
    auto nan_at_second = [&, calls = 0](const state& xx, const state& mu, double t, state& out) mutable {
        model(xx, mu, t, out);
        if (++calls == 5) out[7] = std::numeric_limits<double>::quiet_NaN();
    };
    const std::vector<int> threes{3, 3, 3};
    x = g.x_T;
    try {
        (void)s.run(grid, threes, nan_at_second, x, g.mu);
        FAIL("expected non_finite_error");
    } catch (const mrsolve::non_finite_error& e) {
        MESSAGE("non-finite report: ", std::string(e.what()));
        CHECK(e.step() == 2);
        CHECK(std::string(e.what()).find("model output at step 2") != std::string::npos);
        CHECK(std::isfinite(e.time()));
    }
}

TEST_CASE("singlestep order 1 equals mr_ode order 1 (continuous family)") {
    const auto& g = shared_problem();
    const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, 17);
    const std::vector<int> ones(17, 1);
    const auto compare = [&](auto p, fit_target fit) {
        using P = decltype(p);
        const auto model = g.oracle.model(fit);
        const state a = run_singlestep<P>(g.family, grid, ones, model, g.x_T, g.mu, fit);
        state b = g.x_T;
        mrsolve::sample_options options;
        options.fit = fit;
        mrsolve::sample(mrsolve::mr_ode<P>{1}, g.family, std::span<const double>(grid), model, b, g.mu, options);
        const double d = mrsolve_test::max_abs_diff(a, b);
        MESSAGE("singlestep order 1 vs mr_ode order 1, ", pname<P>(), " prediction, fit ", mrsolve::to_string(fit),
                ": max |diff| = ", d);
        CHECK(d <= 1e-13 * std::max(1.0, mrsolve_test::max_abs(b)));
    };
    for (const fit_target fit : {fit_target::noise, fit_target::data, fit_target::velocity}) {
        compare(noise_prediction{}, fit);
        compare(data_prediction{}, fit);
    }
}

TEST_CASE("dynamic thresholding: singlestep order 1 equals mr_ode order 1 with thresholding, and it clips") {
    // Means of ±1.6 put x̂₀ beyond 1, so the 0.995-quantile scale s lies in (1, 1.5] or is clamped to 1.5:
    // the thresholding acts. On the continuous family singlestep order 1 is mr_ode order 1 step for step
    // (test above), and both threshold the converted output of every evaluation.
    const family_type family = make_family();
    const std::size_t n = 30, items = 3;
    std::vector<double> m(n), s(n, 0.2);
    for (std::size_t j = 0; j < n; ++j) m[j] = 1.6 * std::sin(0.9 * static_cast<double>(j) + 0.2);
    const mrsolve::gaussian_diagonal_oracle<family_type> oracle(family, m, s);
    state mu(n, 0.1), x_T(n), z(n);
    mrsolve::counter_noise{5}.fill(z, 0);
    oracle.marginal_sample(mu, family.t_max(), z, x_T);
    const auto grid = mrsolve::make_grid(family, schedule_kind::linear_lambda, 12);
    const mrsolve::dynamic_thresholding th{0.995, 1.5, items};
    for (const fit_target fit : {fit_target::noise, fit_target::data}) {
        const auto model = oracle.model(fit);
        mrsolve::singlestep_options so{fit};
        so.thresholding = th;
        mrsolve::singlestep_sampler<data_prediction, family_type, state> single(family, x_T, so);
        state a = x_T;
        single.run(std::span<const double>(grid), std::vector<int>(12, 1), model, a, mu);
        state b = x_T;
        mrsolve::sample_options options;
        options.fit = fit;
        options.thresholding = th;
        mrsolve::sample(mrsolve::mr_ode<data_prediction>{1}, family, std::span<const double>(grid), model, b, mu, options);
        const state plain = run_singlestep<data_prediction>(family, grid, std::vector<int>(12, 1), model, x_T, mu, fit);
        const double d = mrsolve_test::max_abs_diff(a, b), effect = mrsolve_test::max_abs_diff(a, plain);
        MESSAGE("thresholded singlestep order 1 vs mr_ode order 1, fit ", mrsolve::to_string(fit), ": max |diff| = ", d,
                "; thresholding changed the result by ", effect);
        CHECK(d <= 1e-13);
        CHECK(effect > 1e-2);
    }
}

TEST_CASE("dynamic thresholding: orders 2 and 3 and the adaptive sampler read every thresholded stage") {
    // With |x̂₀| < 1 everywhere the scale s clamps to 1 and thresholding is the identity, so a run with it
    // (each stage converted and thresholded in its own pass, read back through the identity) must equal
    // the run without it (the conversion fused into the passes) to round-off. Narrow data (|mean| ≤ 0.4,
    // std 0.1) keep |x̂₀| < 1; the model records the largest |x̂₀| and the test asserts it.
    struct narrow_problem {
        family_type family = make_family();
        mrsolve::gaussian_diagonal_oracle<family_type> oracle;
        state mu, x_T;
        narrow_problem() : oracle(family, means(), std::vector<double>(64, 0.1)), mu(64), x_T(64) {
            for (std::size_t j = 0; j < 64; ++j) mu[j] = 0.5 * std::cos(1.3 * static_cast<double>(j));
            state z(64);
            mrsolve::counter_noise{11}.fill(z, 0);
            oracle.marginal_sample(mu, family.t_max(), z, x_T);
        }
        static std::vector<double> means() {
            std::vector<double> m(64);
            for (std::size_t j = 0; j < 64; ++j) m[j] = 0.4 * std::sin(0.7 * static_cast<double>(j));
            return m;
        }
    };
    const narrow_problem g;
    double largest = 0;
    const auto data_model = g.oracle.model(fit_target::data);
    state x0_hat(64);
    for (const fit_target fit : {fit_target::noise, fit_target::data}) {
        // The model returns `fit`; it also records the largest |x̂₀| at the same (x, t).
        const auto fit_model = g.oracle.model(fit);
        const auto model = [&](const state& x, const state& mu, double t, state& out) {
            fit_model(x, mu, t, out);
            data_model(x, mu, t, x0_hat);
            for (const double v : x0_hat) largest = std::max(largest, std::abs(v));
        };
        const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, 8);
        for (const int order : {2, 3}) {
            const state plain = run_singlestep<data_prediction>(g.family, grid, std::vector<int>(8, order), model,
                                                                g.x_T, g.mu, fit);
            mrsolve::singlestep_options so{fit};
            so.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 4};
            mrsolve::singlestep_sampler<data_prediction, family_type, state> single(g.family, g.x_T, so);
            state x = g.x_T;
            single.run(std::span<const double>(grid), std::vector<int>(8, order), model, x, g.mu);
            const double d = mrsolve_test::max_abs_diff(x, plain);
            MESSAGE("singlestep order ", order, ", fit ", mrsolve::to_string(fit),
                    ", identity thresholding vs none: max |diff| = ", d);
            CHECK(d <= 1e-13);
        }
        for (const auto scope : {mrsolve::tolerance_scope::per_step, mrsolve::tolerance_scope::global}) {
            mrsolve::adaptive_options o;
            o.rtol = o.atol = 1e-4;
            o.fit = fit;
            o.scope = scope;
            state plain = g.x_T, x = g.x_T;
            const auto r0 = mrsolve::sample_adaptive<data_prediction>(g.family, g.family.t_max(), g.family.t_min(),
                                                                      model, plain, g.mu, o);
            o.thresholding = mrsolve::dynamic_thresholding{};
            const auto r1 = mrsolve::sample_adaptive<data_prediction>(g.family, g.family.t_max(), g.family.t_min(),
                                                                      model, x, g.mu, o);
            const double d = mrsolve_test::max_abs_diff(x, plain);
            MESSAGE("adaptive (", std::string(scope == mrsolve::tolerance_scope::global ? "global" : "per-step"),
                    "), fit ", mrsolve::to_string(fit), ", identity thresholding vs none: max |diff| = ", d, ", nfe ",
                    r1.nfe, " vs ", r0.nfe);
            CHECK(r1.nfe == r0.nfe);
            CHECK(d <= 1e-12);
        }
    }
    MESSAGE("largest |x0-hat| at the evaluated points: ", largest);
    CHECK(largest < 1);
}

TEST_CASE("dynamic thresholding: every stage of orders 2 and 3 is thresholded (constant network, one step)") {
    // A network returning the same x̂₀ = c at every call: with every stage thresholded, all nodes hold
    // q = threshold(c), the interpolant is constant, and any order gives the exponential-Euler step
    // y_t = (σ_t/σ_s) y_s + α_t (1 − e^{−h}) (q − μ). A stage left unthresholded (c instead of q) would
    // make the interpolant non-constant and the result differ (checked by skipping the ½ stage's
    // thresholding: order 2 then misses by 1.0). Order 3's ⅓ stage only moves the state at which the ⅔
    // stage is evaluated, which a constant network ignores; its own thresholding is the same code.
    const family_type family = make_family();
    const std::vector<double> c{0.2, -0.9, 0.5, 0.95, -0.1, 0.0, 0.3, -0.7, 0.6, 0.85,  //
                                1.1, -1.25, 0.4, 1.3, -0.2, 1.05, -1.4, 0.9, -0.6, 0.1,  //
                                2.5, -3.0, 0.1, 1.7, -1.6, 0.2, 2.0, -0.4, 1.2, 0.8};
    // The primitive itself is checked against a hand-computed quantile in test_sampling.
    std::vector<double> q = c, scratch(10);
    mrsolve::detail::dynamic_threshold(std::span<double>(q), 3, 0.995, 1.5, scratch);
    const auto model = [&](const state&, const state&, double, state& out) { out = c; };
    const state mu(30, 0.05), x_s(30, 0.3);
    const double s = 60, t = 40;
    const double as = family.alpha(s), at = family.alpha(t), ss = family.sigma(s), st = family.sigma(t);
    const double decay = (as * st) / (ss * at);  // e^{−h}, h = λ_t − λ_s
    for (const int order : {1, 2, 3}) {
        mrsolve::singlestep_options so{fit_target::data};
        so.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 3};
        mrsolve::singlestep_sampler<data_prediction, family_type, state> single(family, x_s, so);
        state x = x_s;
        const std::vector<double> grid{s, t};
        single.run(std::span<const double>(grid), std::vector<int>{order}, model, x, mu);
        double worst = 0;
        for (std::size_t e = 0; e < x.size(); ++e) {
            const double want = mu[e] + (st / ss) * (x_s[e] - mu[e]) + at * (1 - decay) * (q[e] - mu[e]);
            worst = std::max(worst, std::abs(x[e] - want));
        }
        MESSAGE("constant network, order ", order, ": max |x - exponential Euler with threshold(c)| = ", worst);
        CHECK(worst <= 1e-13);
    }
}

TEST_CASE("dynamic thresholding: bad configurations and non-finite outputs are reported") {
    const auto& g = shared_problem();
    mrsolve::singlestep_options so{fit_target::data};
    so.thresholding = mrsolve::dynamic_thresholding{};
    CHECK_THROWS_WITH_AS((mrsolve::singlestep_sampler<noise_prediction, family_type, state>(g.family, g.x_T, so)),
                         doctest::Contains("dynamic thresholding applies to the data prediction"),
                         mrsolve::invalid_argument);
    so.thresholding->ratio = 2;
    CHECK_THROWS_WITH_AS((mrsolve::singlestep_sampler<data_prediction, family_type, state>(g.family, g.x_T, so)),
                         doctest::Contains("thresholding ratio must lie in (0, 1], got 2"), mrsolve::invalid_argument);
    so.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 3};
    CHECK_THROWS_WITH_AS((mrsolve::singlestep_sampler<data_prediction, family_type, state>(g.family, g.x_T, so)),
                         doctest::Contains("thresholding batch_items = 3 must divide the state size 128"),
                         mrsolve::invalid_argument);
    mrsolve::adaptive_options o;
    o.thresholding = mrsolve::dynamic_thresholding{0.995, 0.5, 1};
    CHECK_THROWS_WITH_AS((mrsolve::adaptive_sampler<data_prediction, family_type, state>(g.family, g.x_T, o)),
                         doctest::Contains("thresholding max_value must be finite and >= 1, got 0.5"),
                         mrsolve::invalid_argument);
    // A NaN model output is caught in the conversion pass, before the quantile sees it.
    const auto oracle_model = g.oracle.model(fit_target::data);
    auto poisoned = [&, calls = 0](const state& x, const state& mu, double t, state& out) mutable {
        oracle_model(x, mu, t, out);
        if (++calls == 5) out[7] = std::numeric_limits<double>::quiet_NaN();
    };
    so.thresholding = mrsolve::dynamic_thresholding{};
    mrsolve::singlestep_sampler<data_prediction, family_type, state> single(g.family, g.x_T, so);
    const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, 4);
    state x = g.x_T;
    try {
        single.run(std::span<const double>(grid), std::vector<int>(4, 2), poisoned, x, g.mu);
        FAIL("expected non_finite_error");
    } catch (const mrsolve::non_finite_error& e) {
        MESSAGE("thresholded singlestep non-finite report: ", std::string(e.what()));
        CHECK(e.step() == 3);  // call 5 is stage 1 of step 3 (2 calls per step)
        CHECK(std::string(e.what()).find("model output at step 3 (stage 1") != std::string::npos);
    }
}

TEST_CASE("fit targets are converted: every fit target gives the same singlestep result") {
    const auto& g = shared_problem();
    const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, 4);
    const std::vector<int> orders{3, 3, 2, 1};
    const auto spread = [&](auto p) {
        using P = decltype(p);
        const state ref = run_singlestep<P>(g.family, grid, orders, g.oracle.model(natural_fit<P>()), g.x_T, g.mu,
                                            natural_fit<P>());
        double worst = 0;
        for (const fit_target fit : {fit_target::noise, fit_target::data, fit_target::velocity})
            worst = std::max(worst, mrsolve_test::max_abs_diff(
                                        run_singlestep<P>(g.family, grid, orders, g.oracle.model(fit), g.x_T, g.mu, fit), ref));
        MESSAGE("fit-target spread, ", pname<P>(), " prediction, orders 3,3,2,1: ", worst);
        CHECK(worst <= 1e-11);
    };
    spread(noise_prediction{});
    spread(data_prediction{});
}

TEST_CASE("singlestep orders 1, 2, 3 on the Gaussian oracle") {
    const auto& g = shared_problem();
    const double l_full = g.family.lambda(g.family.t_min());
    const auto steps = mrsolve_test::doubling(4, 1024);
    // Orders 1 and 2 over the full λ range; order 3 over the middle span (see the file comment).
    for (int k = 1; k <= 2; ++k) {
        check_order("gaussian singlestep noise order " + std::to_string(k) + " (full span)",
                    gaussian_ladder<noise_prediction>(k, steps, l_full), 16 * k, k - 0.15, k + 0.6);
        check_order("gaussian singlestep data order " + std::to_string(k) + " (full span)",
                    gaussian_ladder<data_prediction>(k, steps, l_full), 16 * k, k - 0.15, k + 0.6);
    }
    check_order("gaussian singlestep noise order 3 (middle span)",
                gaussian_ladder<noise_prediction>(3, steps, middle_lambda_end), 48, 3 - 0.15, 3 + 0.6);
    check_order("gaussian singlestep data order 3 (middle span)",
                gaussian_ladder<data_prediction>(3, steps, middle_lambda_end), 48, 3 - 0.15, 3 + 0.6);
    // Order 3 over the full span too (asymptotic from NFE 192: data prediction's local orders are
    // 2.3, 2.7, 2.8, 2.9, 3.0, 3.0 from NFE 48 on).
    check_order("gaussian singlestep noise order 3 (full span)", gaussian_ladder<noise_prediction>(3, steps, l_full), 192,
                3 - 0.15, 3 + 0.6);
    check_order("gaussian singlestep data order 3 (full span)", gaussian_ladder<data_prediction>(3, steps, l_full), 192,
                3 - 0.15, 3 + 0.6);
}

TEST_CASE("singlestep orders 1, 2, 3 on the Gaussian-mixture oracle") {
    // 2-d, 3-component mixture on 64 items (128 elements); reference: singlestep order 3, data
    // prediction, 16384 uniform-λ steps (whose nodes contain every ladder node); its error is estimated
    // by the difference from 8192 steps (an overestimate: the solve converges at order 3), and ladders
    // are fitted only above 100x that estimate.
    const family_type family = make_family();
    const mrsolve_test::mixture_items<family_type> problem(family);
    const state& mu = problem.mu;
    const state& x_T = problem.x_T;
    const auto model = [&](fit_target fit) { return problem.model(fit); };
    const double l_end = family.lambda(family.t_min());
    const auto solve = [&](auto p, int k, int steps) {
        using P = decltype(p);
        const auto grid = lambda_grid(family, steps, l_end);
        return run_singlestep<P>(family, grid, std::vector<int>(static_cast<std::size_t>(steps), k),
                                 model(natural_fit<P>()), x_T, mu, natural_fit<P>());
    };
    const state reference = solve(data_prediction{}, 3, 16384);
    const double reference_error = mrsolve_test::max_abs_diff(reference, solve(data_prediction{}, 3, 8192));
    const double floor = 100 * std::max(reference_error, 1e-14);
    MESSAGE("mixture reference (singlestep data order 3, 16384 steps): |ref(16384) - ref(8192)| = ", reference_error);
    CHECK(reference_error < 1e-9);
    const auto steps = mrsolve_test::doubling(4, 1024);
    const auto ladder_of = [&](auto p, int k) {
        ladder l;
        for (const int m : steps) l.push_back({k * m, mrsolve_test::max_abs_diff(solve(p, k, m), reference)});
        return l;
    };
    for (int k = 1; k <= 3; ++k) {
        const int min_nfe = 64 * k;
        check_order("mixture singlestep noise order " + std::to_string(k), ladder_of(noise_prediction{}, k), min_nfe,
                    k - 0.15, k + 0.6, floor);
        check_order("mixture singlestep data order " + std::to_string(k), ladder_of(data_prediction{}, k), min_nfe,
                    k - 0.15, k + 0.6, floor);
    }
}

TEST_CASE("singlestep orders 2 and 3 on the discrete IR-SDE table family (Gaussian oracle, exact flow)") {
    // The table interpolates α, σ, λ separately; the solvers step in ln(α/σ) of the interpolated α, σ,
    // for which the oracle's flow is exact, so it is the reference (t ∈ [0, 100], full range).
    using table_type = mrsolve::irsde_table<double>;
    const table_type& table = mrsolve_test::cosine_table();
    const auto& g = shared_problem();
    const mrsolve::gaussian_diagonal_oracle<table_type> oracle(table, mrsolve_test::gaussian_means(128),
                                                               mrsolve_test::gaussian_stds(128));
    state end(g.x_T.size());
    oracle.flow(g.x_T, g.mu, table.t_max(), table.t_min(), end);
    const auto ladder_of = [&](auto p, int k) {
        using P = decltype(p);
        mrsolve::singlestep_sampler<P, table_type, state> s(table, g.x_T, {natural_fit<P>()});
        ladder l;
        for (const int m : mrsolve_test::doubling(8, 1024)) {
            const auto grid = mrsolve::make_grid(table, schedule_kind::linear_lambda, m);
            state x = g.x_T;
            s.run(grid, std::vector<int>(static_cast<std::size_t>(m), k), oracle.model(natural_fit<P>()), x, g.mu);
            l.push_back({k * m, mrsolve_test::max_abs_diff(x, end)});
        }
        return l;
    };
    for (int k = 2; k <= 3; ++k) {
        check_order("table singlestep noise order " + std::to_string(k), ladder_of(noise_prediction{}, k), 64 * k,
                    k - 0.15, k + 0.6);
        check_order("table singlestep data order " + std::to_string(k), ladder_of(data_prediction{}, k), 64 * k,
                    k - 0.15, k + 0.6);
    }
}

TEST_CASE("singlestep and adaptive runs do not allocate; float states agree with double states") {
    const auto& g = shared_problem();
    const auto model = g.oracle.model(fit_target::noise);  // the diagonal oracle is allocation-free
    const auto orders = mrsolve::singlestep_orders(20, 3);
    const auto grid = mrsolve::make_grid(g.family, schedule_kind::linear_lambda, static_cast<int>(orders.size()));
    mrsolve::singlestep_sampler<data_prediction, family_type, state> s(g.family, g.x_T, {fit_target::noise});
    mrsolve::adaptive_options o;
    o.rtol = o.atol = 1e-4;
    o.fit = fit_target::noise;
    mrsolve::adaptive_sampler<data_prediction, family_type, state> a(g.family, g.x_T, o);
    mrsolve::singlestep_options thresholded{fit_target::noise};
    thresholded.thresholding = mrsolve::dynamic_thresholding{};
    mrsolve::singlestep_sampler<data_prediction, family_type, state> st(g.family, g.x_T, thresholded);
    state x = g.x_T, y = g.x_T, w = g.x_T;
    const long before = allocations.load();
    s.run(grid, orders, model, x, g.mu);
    const auto r = a.run(g.family.t_max(), g.family.t_min(), model, y, g.mu);
    st.run(grid, orders, model, w, g.mu);
    const long during = allocations.load() - before;
    MESSAGE("allocations during a singlestep run (NFE 20), an adaptive run (NFE ", r.nfe,
            ") and a thresholded singlestep run (NFE 20): ", during);
    CHECK(during == 0);

    std::vector<float> xf(g.x_T.begin(), g.x_T.end());
    const std::vector<float> muf(g.mu.begin(), g.mu.end());
    mrsolve::singlestep_sampler<data_prediction, family_type, std::vector<float>> sf(g.family, xf, {fit_target::noise});
    sf.run(grid, orders, model, xf, muf);
    const double rel = mrsolve_test::max_abs_diff(xf, x) / mrsolve_test::max_abs(x);
    MESSAGE("float vs double state, singlestep data order 3, NFE 20: relative difference ", rel);
    CHECK(rel < 1e-5);
}

TEST_SUITE_END();

}  // namespace test_singlestep
