// Inversion (clean → noisy along the probability-flow ODE), partial restoration from an intermediate time,
// and the per-step corrector switch of mr_unipc. References: the exact Gaussian flow (docs/theory.md §9) on the
// continuous cosine IR-SDE (T = 100, max_sigma = 50, eps = 0.005, t_min = 1), where λ = ln(α/σ) exactly.

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

#include "support/convergence.hpp"
#include "support/order_checks.hpp"
#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_inversion {

namespace {

using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::schedule_kind;
using family_type = mrsolve::ir_sde<double>;
using state = std::vector<double>;

struct problem {
    family_type family = mrsolve_test::cosine_continuous(1.0);
    std::vector<double> means, stds;
    mrsolve::gaussian_diagonal_oracle<family_type> oracle;
    state mu, x_clean;

    problem() : means(make(0.8, 0.7)), stds(make_stds()), oracle(family, means, stds), mu(64), x_clean(64) {
        for (std::size_t j = 0; j < mu.size(); ++j) mu[j] = 0.5 * std::cos(1.3 * static_cast<double>(j));
        // A state at t_min drawn from the exact marginal there.
        state z(mu.size());
        mrsolve::counter_noise{11}.fill(z, 0);
        oracle.marginal_sample(mu, family.t_min(), z, x_clean);
    }
    static std::vector<double> make(double a, double w) {
        std::vector<double> v(64);
        for (std::size_t j = 0; j < v.size(); ++j) v[j] = a * std::sin(w * static_cast<double>(j) + 0.3);
        return v;
    }
    static std::vector<double> make_stds() {
        std::vector<double> v(64);
        for (std::size_t j = 0; j < v.size(); ++j) v[j] = 0.05 + 0.55 * static_cast<double>((j * 7) % 16) / 15.0;
        return v;
    }
};

const problem& shared() {
    static const problem p;
    return p;
}

// An increasing grid: the reverse of make_grid's.
std::vector<double> inversion_grid(const family_type& family, schedule_kind kind, int steps) {
    auto grid = mrsolve::make_grid(family, kind, steps);
    std::reverse(grid.begin(), grid.end());
    return grid;
}

template <class Method>
state invert(const Method& method, fit_target fit, const std::vector<double>& grid) {
    const auto& p = shared();
    mrsolve::sample_options options;
    options.fit = fit;
    options.orders = mrsolve::order_policy::constant;
    mrsolve::sampler<Method, family_type, state> s(method, p.family, p.x_clean, options);
    state x = p.x_clean;
    const auto result = s.invert(std::span<const double>(grid), p.oracle.model(fit), x, p.mu);
    CHECK(result.nfe == static_cast<int>(grid.size()) - 1);
    return x;
}

template <class Method>
mrsolve_test::ladder inversion_ladder(const Method& method, fit_target fit) {
    const auto& p = shared();
    state exact(p.mu.size());
    p.oracle.flow(p.x_clean, p.mu, p.family.t_min(), p.family.t_max(), exact);
    return mrsolve_test::measure_ladder(mrsolve_test::doubling(8, 256), [&](int nfe) {
        return mrsolve_test::max_abs_diff(invert(method, fit, inversion_grid(p.family, schedule_kind::linear_lambda, nfe)),
                                          exact);
    });
}

// Order k of an inversion ladder, fitted from NFE 32: k − 0.15 ≤ observed ≤ k + 1 (as test_convergence).
void check_order(const std::string& name, const mrsolve_test::ladder& l, int k) {
    mrsolve_test::check_order(name, l, 32, k - 0.15, k + 1.0);
}

}  // namespace

TEST_CASE("inversion converges to the exact flow from t_min to T at the solver's order") {
    check_order("inversion mr_ode noise 1", inversion_ladder(mrsolve::mr_ode<noise_prediction>{1}, fit_target::noise), 1);
    check_order("inversion mr_ode data 2", inversion_ladder(mrsolve::mr_ode<data_prediction>{2}, fit_target::data), 2);
    check_order("inversion mr_ode noise 2", inversion_ladder(mrsolve::mr_ode<noise_prediction>{2}, fit_target::noise), 2);
    check_order("inversion mr_unipc data 2 (corrected: 3)",
                inversion_ladder(mrsolve::mr_unipc<data_prediction>{2}, fit_target::data), 3);
    check_order("inversion euler_ode", inversion_ladder(mrsolve::euler_ode{}, fit_target::noise), 1);
}

TEST_CASE("inversion followed by sampling returns to the start, closer as NFE grows") {
    const auto& p = shared();
    const mrsolve::mr_unipc<data_prediction> method{3};
    mrsolve::sample_options options;
    options.fit = fit_target::data;
    double previous = 1e300;
    for (const int nfe : {10, 20, 40}) {
        const auto down = mrsolve::make_grid(p.family, schedule_kind::linear_lambda, nfe);
        std::vector<double> up(down.rbegin(), down.rend());
        mrsolve::sampler<mrsolve::mr_unipc<data_prediction>, family_type, state> s(method, p.family, p.x_clean, options);
        state x = p.x_clean;
        const auto model = p.oracle.model(fit_target::data);
        s.invert(std::span<const double>(up), model, x, p.mu);
        s.run(std::span<const double>(down), model, x, p.mu);
        const double error = mrsolve_test::max_abs_diff(x, p.x_clean);
        MESSAGE("round trip unipc_data_3, NFE ", nfe, " each way: max |x - x_clean| = ", error);
        CHECK(error < previous);
        previous = error;
    }
    CHECK(previous < 1e-3);
}

TEST_CASE("inversion rejects decreasing grids, denoise_last and thresholding, naming the problem") {
    const auto& p = shared();
    const auto model = p.oracle.model(fit_target::data);
    state x = p.x_clean;
    const auto down = mrsolve::make_grid(p.family, schedule_kind::linspace, 5);
    mrsolve::sampler<mrsolve::mr_ode<data_prediction>, family_type, state> plain({2}, p.family, x, {fit_target::data});
    CHECK_THROWS_WITH_AS(plain.invert(std::span<const double>(down), model, x, p.mu),
                         doctest::Contains("strictly increasing: t[0] = 100"), mrsolve::invalid_argument);
    const std::vector<double> outside{0.5, 50.0};
    CHECK_THROWS_WITH_AS(plain.invert(std::span<const double>(outside), model, x, p.mu),
                         doctest::Contains("t[0] = 0.5 lies outside"), mrsolve::invalid_argument);
    const std::vector<double> up(down.rbegin(), down.rend());
    mrsolve::sample_options last;
    last.fit = fit_target::data;
    last.denoise_last = true;
    mrsolve::sampler<mrsolve::mr_ode<data_prediction>, family_type, state> denoising({2}, p.family, x, last);
    CHECK_THROWS_WITH_AS(denoising.invert(std::span<const double>(up), model, x, p.mu),
                         doctest::Contains("does not take denoise_last"), mrsolve::invalid_argument);
    CHECK(x == p.x_clean);  // nothing ran
}

TEST_CASE("make_grid with t_start runs every schedule from the intermediate time") {
    const auto& p = shared();
    const mrsolve::irsde_table<double>& table = mrsolve_test::cosine_table();
    for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::karras_n,
                            schedule_kind::karras_t, schedule_kind::time_quadratic, schedule_kind::trailing}) {
        CAPTURE(mrsolve::to_string(kind));
        mrsolve::schedule_options options;
        options.t_start = 40;
        const auto grid = mrsolve::make_grid(p.family, kind, 8, options);
        CHECK(grid.front() == doctest::Approx(40).epsilon(1e-12));
        CHECK(grid.size() == 9);
        const auto table_grid = mrsolve::make_grid(table, kind, 8, options);
        CHECK(table_grid.front() == doctest::Approx(40).epsilon(1e-12));
    }
    mrsolve::schedule_options bad;
    bad.t_start = 150;
    CHECK_THROWS_WITH_AS((void)mrsolve::make_grid(p.family, schedule_kind::linspace, 8, bad),
                         doctest::Contains("t_start = 150"), mrsolve::invalid_argument);
    bad.t_start = 1.0;  // = t_min: nothing to sample
    CHECK_THROWS_WITH_AS((void)mrsolve::make_grid(p.family, schedule_kind::linspace, 8, bad),
                         doctest::Contains("t_start = 1"), mrsolve::invalid_argument);
}

TEST_CASE("partial restoration: start_at_time draws the forward marginal, and sampling from t_start follows the exact flow") {
    const auto& p = shared();
    const double t_start = 40;
    // start_at_time writes μ + α(t)(x_init − μ) + σ(t) z with the normals of (seed, step 0).
    state x_init = p.x_clean, x(p.mu.size()), z(p.mu.size());
    mrsolve::start_at_time(p.family, t_start, x_init, p.mu, x, 9);
    mrsolve::counter_noise{9}.fill(z, 0);
    const double a = p.family.alpha(t_start), s = p.family.sigma(t_start);
    double worst = 0;
    for (std::size_t j = 0; j < x.size(); ++j)
        worst = std::max(worst, std::abs(x[j] - (p.mu[j] + a * (x_init[j] - p.mu[j]) + s * z[j])));
    CHECK(worst <= 1e-15);
    state in_place = x_init;
    mrsolve::start_at_time(p.family, t_start, in_place, p.mu, in_place, 9);
    CHECK(mrsolve_test::max_abs_diff(in_place, x) <= 1e-15);
    CHECK_THROWS_WITH_AS(mrsolve::start_at_time(p.family, 120.0, x_init, p.mu, x, 9), doctest::Contains("t = 120"),
                         mrsolve::invalid_argument);

    // From a state at t_start, NFE 10 of the grid from t_start reaches the exact flow to t_min.
    state start_state(p.mu.size()), exact(p.mu.size());
    p.oracle.flow(p.x_clean, p.mu, p.family.t_min(), t_start, start_state);  // a point on a flow line
    mrsolve::schedule_options options;
    options.t_start = t_start;
    mrsolve::sample_options fit;
    fit.fit = fit_target::data;
    double previous = 1e300;
    for (const int nfe : {5, 10, 20}) {
        const auto grid = mrsolve::make_grid(p.family, schedule_kind::linear_lambda, nfe, options);
        state y = start_state;
        const auto result = mrsolve::sample(mrsolve::mr_unipc<data_prediction>{2}, p.family, std::span<const double>(grid),
                                            p.oracle.model(fit_target::data), y, p.mu, fit);
        CHECK(result.nfe == nfe);
        const double error = mrsolve_test::max_abs_diff(y, p.x_clean);
        MESSAGE("partial restoration from t = 40, unipc_data_2, NFE ", nfe, ": max error ", error);
        CHECK(error < previous);
        previous = error;
    }
    CHECK(previous < 1e-3);
}

TEST_CASE("mr_unipc's corrector switch is asked for steps 1 … M−1 and changes exactly the steps it names") {
    const auto& p = shared();
    const auto grid = mrsolve::make_grid(p.family, schedule_kind::linear_lambda, 10);
    const auto model = p.oracle.model(fit_target::noise);
    std::set<std::pair<int, int>> asked;
    mrsolve::mr_unipc<noise_prediction> recording{2};
    recording.use_corrector = [&asked](int step, int steps) {
        asked.insert({step, steps});
        return true;
    };
    state all_on = p.x_clean, recorded = p.x_clean;
    // A noisy start: sample from x_T ≈ the flow of x_clean to T.
    p.oracle.flow(p.x_clean, p.mu, p.family.t_min(), p.family.t_max(), all_on);
    recorded = all_on;
    const state start = all_on;
    mrsolve::sample(mrsolve::mr_unipc<noise_prediction>{2}, p.family, std::span<const double>(grid), model, all_on, p.mu);
    mrsolve::sample(recording, p.family, std::span<const double>(grid), model, recorded, p.mu);
    CHECK(recorded == all_on);
    std::set<std::pair<int, int>> expected;
    for (int i = 1; i < 10; ++i) expected.insert({i, 10});
    CHECK(asked == expected);

    // Switching the corrector off at step 9 only: a different result, and the observer sees the same
    // first 9 states (a step's correction is applied inside the next step's pass).
    mrsolve::mr_unipc<noise_prediction> off_at_9{2};
    off_at_9.use_corrector = [](int step, int) { return step != 9; };
    std::vector<state> seen_on, seen_off;
    state a = start, b = start;
    mrsolve::sample(mrsolve::mr_unipc<noise_prediction>{2}, p.family, std::span<const double>(grid), model, a, p.mu, {},
                    mrsolve::zero_noise{}, [&](const auto& info) { seen_on.push_back(info.x); });
    mrsolve::sample(off_at_9, p.family, std::span<const double>(grid), model, b, p.mu, {}, mrsolve::zero_noise{},
                    [&](const auto& info) { seen_off.push_back(info.x); });
    REQUIRE(seen_on.size() == 10);
    for (std::size_t k = 0; k < 9; ++k) CHECK(seen_on[k] == seen_off[k]);
    CHECK(a != b);
}

}  // namespace test_inversion
