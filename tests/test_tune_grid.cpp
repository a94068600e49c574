// Tests of grid tuning (include/mrsolve/tune/tune_grid.hpp) and grid files (tune/grid_file.hpp):
//
// - on Gaussian data, whose exact flow is known in closed form: with one interior time on integer table
//   nodes, tune_grid finds the optimum of a brute-force scan of all 99 nodes (errors against the exact
//   flow, not the tuner's reference); at NFE 4 it cuts the start grid's error, and the error it reports
//   is the error of the grid it returns; the mean and max objectives over two calibration pairs;
// - on a non-Gaussian suite problem (S2-laplace-linear, problem_suite.hpp): the same, against a reference
//   computed here;
// - determinism for a seed, the budget (never exceeded; below one evaluation of the objective refused);
// - a tuned grid saved and loaded back bit for bit; bad files and bad inputs throw naming the value.

#include <doctest/doctest.h>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/problem_suite.hpp>
#include <mrsolve/tune/grid_file.hpp>
#include <mrsolve/tune/tune_grid.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_tune_grid {

namespace {

using vec = std::vector<double>;
using table = mrsolve::irsde_table<double>;
using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::mr_ode;
using mrsolve::schedule_kind;
using mrsolve::tune_grid_options;

double max_abs_diff(const vec& a, const vec& b) {
    double e = 0;
    for (std::size_t j = 0; j < a.size(); ++j) e = std::max(e, std::abs(a[j] - b[j]));
    return e;
}

// Runs a grid directly (not through tune_grid) and returns the result.
template <class Method, class Family, class Model>
vec solve(const Method& method, const Family& family, const std::vector<double>& grid, Model model, const vec& x_T,
          const vec& mu) {
    vec x = x_T;
    mrsolve::sample(method, family, std::span<const double>(grid), model, x, mu);
    return x;
}

std::string temp_path(const std::string& name) {
    return (std::filesystem::temp_directory_path() / ("mrsolve_test_tune_grid_" + name)).string();
}

void write_file(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

using gaussian = mrsolve_test::gaussian_problem<table>;

}  // namespace

TEST_CASE("tune_grid: one interior integer time reaches the optimum of a brute-force scan (Gaussian, exact flow)") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 16);
    const auto model = g.oracle.model(fit_target::noise);
    const vec exact = g.flow_end();
    const mr_ode<data_prediction> method{1};
    double best_error = std::numeric_limits<double>::infinity();
    int best_t = -1;
    for (int t = 1; t < 100; ++t) {
        const double e = max_abs_diff(solve(method, g.family, {100.0, double(t), 0.0}, model, g.x_T, g.mu), exact);
        if (e < best_error) best_error = e, best_t = t;
    }
    tune_grid_options o;
    o.integer_times = true;
    o.start = schedule_kind::karras_t;  // t_1 = 15 on integers, the optimum is near 49
    o.budget = 400;
    const auto r = mrsolve::tune_grid(method, g.family, model, std::vector<vec>{g.mu}, std::vector<vec>{g.x_T}, 2, {}, o);
    // The start is far from the optimum, so the search has to move.
    REQUIRE(r.start_times.size() == 3);
    CHECK(std::abs(r.start_times[1] - best_t) >= 10);
    CHECK(r.times == vec{100.0, double(best_t), 0.0});
    // The tuner measures against reference_solve, within 1e-8 of the exact flow.
    CHECK(std::abs(r.final_error - best_error) < 1e-7);
    CHECK(r.final_error < 0.9 * r.start_error);
    CHECK(r.reference_check < 1e-8);
    CHECK(r.calls <= 400);
}

TEST_CASE("tune_grid: cuts the error of a Gaussian NFE-4 grid, and reports the error of the grid it returns") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 16);
    const auto model = g.oracle.model(fit_target::noise);
    const mr_ode<data_prediction> method{2};
    tune_grid_options o;
    o.start = schedule_kind::linspace;
    o.budget = 1000;
    const auto r = mrsolve::tune_grid(method, g.family, model, std::vector<vec>{g.mu}, std::vector<vec>{g.x_T}, 4, {}, o);
    CHECK(r.start_times == mrsolve::make_grid(g.family, schedule_kind::linspace, 4));  // it ends at t_min = 0
    REQUIRE(r.times.size() == 5);
    CHECK(r.times.front() == 100.0);
    CHECK(r.times.back() == 0.0);
    CHECK_NOTHROW(mrsolve::validate_grid<table>(g.family, r.times));
    const double start = max_abs_diff(solve(method, g.family, r.start_times, model, g.x_T, g.mu), g.flow_end());
    const double tuned = max_abs_diff(solve(method, g.family, r.times, model, g.x_T, g.mu), g.flow_end());
    CHECK(std::abs(r.start_error - start) < 1e-7);
    CHECK(std::abs(r.final_error - tuned) < 1e-7);
    CHECK(tuned < 0.2 * start);  // measured: 2.2e-2 against 1.67e-1 at budget 472
    CHECK(r.calls <= o.budget);
    CHECK(r.calls == 4LL * r.evaluations);
    CHECK(r.iterations >= 1);
}

TEST_CASE("tune_grid: the mean and max objectives over two calibration pairs") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 16);
    const auto model = g.oracle.model(fit_target::noise);
    vec z(16), x2(16);
    mrsolve::counter_noise{77}.fill(z, 0);
    g.oracle.marginal_sample(g.mu, g.family.t_max(), z, x2);
    vec end2(16);
    g.oracle.flow(x2, g.mu, g.family.t_max(), g.family.t_min(), end2);
    const std::vector<vec> mus{g.mu, g.mu}, starts{g.x_T, x2};
    const mr_ode<data_prediction> method{2};
    for (const auto objective : {mrsolve::tune_objective::mean, mrsolve::tune_objective::max}) {
        tune_grid_options o;
        o.objective = objective;
        o.budget = 400;
        o.check_reference = false;
        const auto r = mrsolve::tune_grid(method, g.family, model, mus, starts, 3, {}, o);
        CHECK(std::isnan(r.reference_check));
        const double e1 = max_abs_diff(solve(method, g.family, r.times, model, g.x_T, g.mu), g.flow_end());
        const double e2 = max_abs_diff(solve(method, g.family, r.times, model, x2, g.mu), end2);
        const double expected = objective == mrsolve::tune_objective::max ? std::max(e1, e2) : (e1 + e2) / 2;
        CHECK(std::abs(r.final_error - expected) < 1e-7);
        CHECK(r.final_error < r.start_error);
        CHECK(r.calls == 2 * 3LL * r.evaluations);
    }
}

TEST_CASE("tune_grid: a non-Gaussian suite problem (S2-laplace-linear) against a reference computed here") {
    const auto problems = mrsolve::selection_problems();
    const auto it = std::find_if(problems.begin(), problems.end(), [](const auto& p) { return p.name == "S2-laplace-linear"; });
    REQUIRE(it != problems.end());
    const mrsolve::suite_instance<table> in(*it, table(it->parameters));
    vec reference;
    in.reference(1e-8, reference);
    const mrsolve::mr_unipc<mrsolve::noise_prediction> method{1, mrsolve::unipc_variant::bh1, {}};
    tune_grid_options o;
    o.start = schedule_kind::karras_n;
    o.budget = 1500;
    o.check_reference = false;
    const auto r = mrsolve::tune_grid(method, in.family, in.model(), std::vector<vec>{in.mu}, std::vector<vec>{in.x_T}, 5,
                                      {}, o);
    const double start = max_abs_diff(solve(method, in.family, r.start_times, in.model(), in.x_T, in.mu), reference);
    const double tuned = max_abs_diff(solve(method, in.family, r.times, in.model(), in.x_T, in.mu), reference);
    CHECK(std::abs(r.start_error - start) < 1e-7);
    CHECK(std::abs(r.final_error - tuned) < 1e-7);
    CHECK(tuned < 0.25 * start);  // measured: 3.4e-3 against 2.3e-2 at budget 2000
    CHECK(r.calls <= o.budget);
}

TEST_CASE("tune_grid: deterministic for a seed; the budget is never exceeded") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 16);
    const auto model = g.oracle.model(fit_target::noise);
    const std::vector<vec> mus{g.mu}, starts{g.x_T};
    const mr_ode<data_prediction> method{2};
    tune_grid_options o;
    o.seed = 7;
    o.budget = 300;
    o.check_reference = false;
    const auto a = mrsolve::tune_grid(method, g.family, model, mus, starts, 5, {}, o);
    const auto b = mrsolve::tune_grid(method, g.family, model, mus, starts, 5, {}, o);
    REQUIRE(a.times.size() == b.times.size());
    CHECK(std::memcmp(a.times.data(), b.times.data(), a.times.size() * sizeof(double)) == 0);
    CHECK(a.calls == b.calls);
    CHECK(a.evaluations == b.evaluations);
    CHECK(a.final_error == b.final_error);

    for (const long long budget : {5LL, 9LL, 23LL, 300LL}) {
        o.budget = budget;
        const auto r = mrsolve::tune_grid(method, g.family, model, mus, starts, 5, {}, o);
        CHECK(r.calls <= budget);
        CHECK(r.calls == 5LL * r.evaluations);
        // The small budgets run out before the search ends: every affordable evaluation is made.
        if (budget < 300) CHECK(r.evaluations == budget / 5);
    }
    // A budget of one evaluation evaluates the start grid alone.
    o.budget = 5;
    const auto once = mrsolve::tune_grid(method, g.family, model, mus, starts, 5, {}, o);
    CHECK(once.evaluations == 1);
    CHECK(once.times == once.start_times);
    CHECK(once.final_error == once.start_error);
    o.budget = 4;
    CHECK_THROWS_WITH_AS(mrsolve::tune_grid(method, g.family, model, mus, starts, 5, {}, o),
                         doctest::Contains("budget 4 model calls is below one evaluation of the objective (1 pairs x 5 calls = 5)"),
                         mrsolve::invalid_argument);
    // Heun: two calls per step.
    o.budget = 9;
    CHECK_THROWS_WITH_AS(mrsolve::tune_grid(mrsolve::heun_ode{}, g.family, model, mus, starts, 5, {}, o),
                         doctest::Contains("budget 9 model calls is below one evaluation of the objective (1 pairs x 10 calls"),
                         mrsolve::invalid_argument);
}

TEST_CASE("tune_grid: references computed once (make_calibration) serve several NFEs, the same as computed inside") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 16);
    const auto model = g.oracle.model(fit_target::noise);
    tune_grid_options o;
    o.budget = 200;
    const auto calibration = mrsolve::make_calibration(g.family, model, std::vector<vec>{g.mu}, std::vector<vec>{g.x_T},
                                                       fit_target::noise, o);
    CHECK(max_abs_diff(calibration.reference.at(0), g.flow_end()) < 1e-8);
    CHECK(calibration.check < 1e-8);
    CHECK(calibration.calls > 0);
    const mr_ode<data_prediction> method{2};
    for (const int nfe : {3, 4}) {
        const auto a = mrsolve::tune_grid(method, g.family, model, calibration, nfe, {}, o);
        const auto b = mrsolve::tune_grid(method, g.family, model, std::vector<vec>{g.mu}, std::vector<vec>{g.x_T}, nfe, {}, o);
        CHECK(a.times == b.times);
        CHECK(a.final_error == b.final_error);
        CHECK(a.reference_calls == calibration.calls);
    }
    mrsolve::sample_options data;
    data.fit = fit_target::data;
    CHECK_THROWS_WITH_AS(mrsolve::tune_grid(method, g.family, model, calibration, 3, data, o),
                         doctest::Contains("references were computed with fit target 0 and the solve uses 1"),
                         mrsolve::invalid_argument);
    auto missing = calibration;
    missing.reference.clear();
    CHECK_THROWS_WITH_AS(mrsolve::tune_grid(method, g.family, model, missing, 3, {}, o),
                         doctest::Contains("1 pairs and 0 references"), mrsolve::invalid_argument);
}

TEST_CASE("grid files: a tuned grid is saved and loaded back bit for bit") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 16);
    const auto model = g.oracle.model(fit_target::noise);
    tune_grid_options o;
    o.budget = 200;
    o.check_reference = false;
    const auto r = mrsolve::tune_grid(mr_ode<data_prediction>{2}, g.family, model, std::vector<vec>{g.mu},
                                      std::vector<vec>{g.x_T}, 4, {}, o);
    const std::string path = temp_path("roundtrip.txt");
    mrsolve::save_grid(path, g.family, std::span<const double>(r.times), "ode_data_2");
    mrsolve::grid_file_info info;
    const vec back = mrsolve::load_grid(path, g.family, 4, &info);
    REQUIRE(back.size() == r.times.size());
    CHECK(std::memcmp(back.data(), r.times.data(), back.size() * sizeof(double)) == 0);
    CHECK(info.family == "table theta=cosine T=100 max_sigma=50 eps=0.005");
    CHECK(info.solver == "ode_data_2");
    CHECK(info.nfe == 4);
    CHECK(mrsolve::load_grid(path, g.family) == back);  // 0: any NFE
    // Another family is refused, naming both.
    const table linear({mrsolve::theta_schedule::linear, 100, 50, 0.005});
    CHECK_THROWS_WITH_AS((void)mrsolve::load_grid(path, linear),
                         doctest::Contains("line 2: the grid is for family 'table theta=cosine T=100 max_sigma=50 eps=0.005', not 'table theta=linear"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::load_grid(path, g.family, 5), doctest::Contains("line 4: the grid has nfe 4, expected 5"),
                         mrsolve::invalid_argument);
    CHECK(mrsolve::grid_family_identity(mrsolve::ir_sde<double>(mrsolve_test::cosine_parameters, 0.1)) ==
          "continuous theta=cosine T=100 max_sigma=50 eps=0.005 t_min=0.1");
    std::filesystem::remove(path);
}

TEST_CASE("grid files: bad files throw naming the line and the value") {
    const table& family = mrsolve_test::cosine_table();
    const std::string head = "mrsolve-grid 1\nfamily table theta=cosine T=100 max_sigma=50 eps=0.005\nsolver x\nnfe 2\n";
    const std::string path = temp_path("bad.txt");
    const auto check = [&](const std::string& text, const std::string& expected) {
        CAPTURE(text);
        write_file(path, text);
        CHECK_THROWS_WITH_AS((void)mrsolve::load_grid(path, family), doctest::Contains(expected.c_str()), mrsolve::invalid_argument);
    };
    check(head + "t 100\nt 50\nt 0\nend\n" + "t 1\n", "line 9: 't 1' after end");
    check("mrsolve-grid 2\n", "line 1: format version '2' is not supported");
    check("grid 1\n", "line 1: expected 'mrsolve-grid', got 'grid 1'");
    check(head + "t 100\nt 60\nt 70\nend\n", "line 7: time 70 does not decrease (the time before is 60)");
    check(head + "t 100\nt nan\nt 0\nend\n", "line 6: time nan is not finite");
    check(head + "t 100\nt inf\nt 0\nend\n", "line 6: time inf is not finite");
    check(head + "t 100\nt 5x\nt 0\nend\n", "line 6: time '5x' is not a number");
    check(head + "t 100\nt 150\nt 0\nend\n", "line 6: time 150 lies outside [0, 100]");
    check(head + "t 100\nt -1\nend\n", "line 6: time -1 lies outside [0, 100]");
    check(head + "t 100\nt 50\nend\n", "line 7: the grid has 2 times; nfe 2 needs 3");
    check(head + "t 100\nt 50\nt 20\nt 0\nend\n", "line 8: more than nfe + 1 = 3 times");
    check(head + "t 100\nt 50\nt 0\n", "line 7: the file ends without 'end'");
    check(head.substr(0, head.find("nfe")), "line 3: the file ends before the 'nfe' line");
    check("mrsolve-grid 1\nfamily table theta=cosine T=100 max_sigma=50 eps=0.005\nsolver x\nnfe 0\n",
          "line 4: nfe '0' is not an integer >= 1");
    check(head + "x 100\n", "line 5: expected 't TIME' or 'end', got 'x 100'");
    // Comments and blank lines are skipped (and counted).
    write_file(path, "# tuned\n\n" + head + "t 100\nt 50\nt 0\nend\n");
    CHECK(mrsolve::load_grid(path, family) == vec{100, 50, 0});
    std::filesystem::remove(path);
    CHECK_THROWS_WITH_AS((void)mrsolve::load_grid(path, family), doctest::Contains(("cannot open '" + path + "'").c_str()),
                         mrsolve::invalid_argument);
    const vec rising{0, 50, 100};
    CHECK_THROWS_WITH_AS(mrsolve::save_grid(path, family, std::span<const double>(rising)),
                         doctest::Contains("strictly decreasing"), mrsolve::invalid_argument);
}

TEST_CASE("tune_grid: bad calibration inputs and options throw naming the value") {
    const gaussian g(table(mrsolve_test::cosine_parameters), 4);
    const auto model = g.oracle.model(fit_target::noise);
    const mr_ode<data_prediction> method{2};
    const auto tune = [&](const std::vector<vec>& mus, const std::vector<vec>& starts, int nfe = 4,
                          tune_grid_options o = {}) {
        return mrsolve::tune_grid(method, g.family, model, mus, starts, nfe, {}, o);
    };
    using mrsolve::invalid_argument;
    CHECK_THROWS_WITH_AS(tune({}, {}), doctest::Contains("the calibration set is empty"), invalid_argument);
    CHECK_THROWS_WITH_AS(tune({g.mu, g.mu}, {g.x_T}), doctest::Contains("2 conditions mu and 1 starts x_T"), invalid_argument);
    CHECK_THROWS_WITH_AS(tune({g.mu}, {vec{1, 2, 3}}), doctest::Contains("pair 0 has mu of size 4 and x_T of size 3"),
                         invalid_argument);
    CHECK_THROWS_WITH_AS(tune({g.mu, vec{1, 2}}, {g.x_T, vec{1, 2}}),
                         doctest::Contains("pair 1 has size 2 and pair 0 has size 4"), invalid_argument);
    CHECK_THROWS_WITH_AS(tune({vec{}}, {vec{}}), doctest::Contains("pair 0 has an empty mu"), invalid_argument);
    vec bad = g.mu;
    bad[2] = std::numeric_limits<double>::quiet_NaN();
    CHECK_THROWS_WITH_AS(tune({g.mu, bad}, {g.x_T, g.x_T}), doctest::Contains("pair 1: mu[2] = nan is not finite"),
                         invalid_argument);
    bad = g.x_T;
    bad[3] = -std::numeric_limits<double>::infinity();
    CHECK_THROWS_WITH_AS(tune({g.mu}, {bad}), doctest::Contains("pair 0: x_T[3] = -inf is not finite"), invalid_argument);
    CHECK_THROWS_WITH_AS(tune({g.mu}, {g.x_T}, 0), doctest::Contains("NFE must be >= 1, got 0"), invalid_argument);
    tune_grid_options o;
    o.min_step = 0;
    CHECK_THROWS_WITH_AS(tune({g.mu}, {g.x_T}, 4, o), doctest::Contains("min_step must be finite, > 0"), invalid_argument);
    o = {};
    o.integer_times = true;
    CHECK_THROWS_WITH_AS(tune({g.mu}, {g.x_T}, 101, o), doctest::Contains("NFE 101 needs more than the 100 integer steps"),
                         invalid_argument);
    o.reference_tolerance = -1;
    CHECK_THROWS_WITH_AS(tune({g.mu}, {g.x_T}, 4, o), doctest::Contains("tolerance must be finite and > 0, got -1"),
                         invalid_argument);
    // A stochastic solver has no single answer to tune to.
    CHECK_THROWS_WITH_AS(mrsolve::tune_grid(mrsolve::mr_sde<data_prediction>{1}, g.family, model, std::vector<vec>{g.mu},
                                            std::vector<vec>{g.x_T}, 4),
                         doctest::Contains("is stochastic"), invalid_argument);
    // Integer times on a family whose ends are not integers.
    const mrsolve::ir_sde<double> continuous(mrsolve_test::cosine_parameters, 0.1);
    const mrsolve::gaussian_diagonal_oracle<mrsolve::ir_sde<double>> oracle(continuous, mrsolve_test::gaussian_means(4),
                                                                            mrsolve_test::gaussian_stds(4));
    o = {};
    o.integer_times = true;
    CHECK_THROWS_WITH_AS(mrsolve::tune_grid(method, continuous, oracle.model(fit_target::noise), std::vector<vec>{g.mu},
                                            std::vector<vec>{g.x_T}, 4, {}, o),
                         doctest::Contains("integer_times needs integer t_min and t_max, got t_min = 0.1"), invalid_argument);
}

}  // namespace test_tune_grid
