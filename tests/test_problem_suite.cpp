// Tests of the non-Gaussian problem suite (include/mrsolve/oracle/problem_suite.hpp, docs/nongaussian.md):
//
// - the per-element mixture oracle against an independent implementation (gaussian_mixture_oracle with
//   one-dimensional components, one oracle per element) for every fit target and the score;
// - the split: selection and held-out sets disjoint in seeds and names, with parameter ranges that do not
//   overlap for the same data shape, and data shapes and family variants found only in the held-out set;
// (the references' convergence check is test_suite_references.cpp, label slow);
// - no NaN/Inf: the published default and mrsolve's recommended default at every NFE from 2 to 50 on every
//   problem (the sampler throws on a non-finite state; the result must also be finite);
// - bad inputs: each throws mrsolve::invalid_argument naming the value.

#include <doctest/doctest.h>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian_mixture.hpp>
#include <mrsolve/oracle/problem_suite.hpp>
#include <mrsolve/recommended.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <set>
#include <span>
#include <string>
#include <vector>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_problem_suite {

namespace {

using vec = std::vector<double>;
using mrsolve::fit_target;
using mrsolve::suite_data;
using mrsolve::suite_problem;

// The oracle of one problem against gaussian_mixture_oracle, element by element, at several times and
// at states spread over the modes and far into the tails.
template <class Instance>
void check_against_full_mixture(const Instance& in) {
    using Family = typename std::remove_cvref_t<decltype(in.family)>;
    const auto& o = in.oracle;
    const std::size_t n = o.size();
    const std::size_t K = o.component_count();
    double worst = 0;
    for (std::size_t j = 0; j < n; j += 7) {
        std::vector<mrsolve::gaussian_mixture_component> components;
        for (std::size_t k = 0; k < K; ++k)
            components.push_back({o.weight(j, k), {o.mean(j, k)}, {o.std_dev(j, k) * o.std_dev(j, k)}});
        const mrsolve::gaussian_mixture_oracle<Family> full(in.family, components);
        const double T = in.family.t_max(), t0 = in.family.t_min();
        for (const double t : {t0, t0 + 0.01 * (T - t0), 0.3 * T, 0.8 * T, T}) {
            for (const double offset : {-3.0, -0.4, 0.0, 0.05, 0.7, 6.0}) {
                // the state x at element j, the other elements at x_T (they must not matter)
                vec x = in.x_T;
                x[j] = in.mu[j] + offset;
                const vec xj{x[j]}, muj{in.mu[j]};
                for (const fit_target target : {fit_target::noise, fit_target::data, fit_target::velocity}) {
                    vec got(n), want(1);
                    o.predict(target, x, in.mu, t, got);
                    full.predict(target, xj, muj, t, want);
                    const double err = std::abs(got[j] - want[0]) / (1 + std::abs(want[0]));
                    worst = std::max(worst, err);
                }
                vec got(n), want(1);
                o.score(x, in.mu, t, got);
                full.score(xj, muj, t, want);
                worst = std::max(worst, std::abs(got[j] - want[0]) / (1 + std::abs(want[0])));
            }
        }
    }
    INFO(in.problem.name);
    CHECK(worst < 1e-11);
}

}  // namespace

TEST_CASE("suite: elementwise_mixture_oracle agrees with gaussian_mixture_oracle on every suite problem") {
    for (const suite_problem& p : mrsolve::suite_problems())
        mrsolve::visit_suite_problem(p, [](const auto& in) { check_against_full_mixture(in); });
}

TEST_CASE("suite: split by construction") {
    const auto selection = mrsolve::selection_problems();
    const auto held_out = mrsolve::held_out_problems();
    REQUIRE(selection.size() == 8);
    REQUIRE(held_out.size() == 10);
    std::set<std::string> names;
    std::set<std::uint64_t> selection_seeds;
    std::set<suite_data> selection_data, held_out_data;
    std::set<std::string> selection_families, held_out_families;
    for (const auto& p : selection) {
        CHECK(p.set == mrsolve::suite_set::selection);
        names.insert(p.name);
        selection_seeds.insert(p.seed);
        selection_data.insert(p.data);
        selection_families.insert(mrsolve::family_description(p));
    }
    for (const auto& p : held_out) {
        CHECK(p.set == mrsolve::suite_set::held_out);
        names.insert(p.name);
        CHECK(selection_seeds.count(p.seed) == 0);
        held_out_data.insert(p.data);
        held_out_families.insert(mrsolve::family_description(p));
        // the same data shape in the selection set has a width range that does not overlap this one's
        for (const auto& s : selection)
            if (s.data == p.data) {
                INFO(p.name << " against " << s.name);
                CHECK((p.scale_hi < s.scale_lo || p.scale_lo > s.scale_hi));
            }
    }
    CHECK(names.size() == selection.size() + held_out.size());
    // data shapes only in the held-out set: trimodal-narrow and lognormal
    CHECK(selection_data.count(suite_data::trimodal_narrow) == 0);
    CHECK(selection_data.count(suite_data::lognormal) == 0);
    CHECK(held_out_data.count(suite_data::trimodal_narrow) == 1);
    CHECK(held_out_data.count(suite_data::lognormal) == 1);
    // family variants only in the held-out set (eps = 0.001; continuous linear θ)
    std::size_t only_held_out = 0;
    for (const auto& f : held_out_families) only_held_out += selection_families.count(f) == 0 ? 1 : 0;
    CHECK(only_held_out >= 2);
    // every θ shape, T 100 and 1000, max_sigma 10/50/100, eps 0.001/0.005/0.02, tables and continuous
    std::set<mrsolve::theta_schedule> thetas;
    std::set<int> steps;
    std::set<double> sigmas, epss;
    std::set<bool> continuous;
    for (const auto& p : mrsolve::suite_problems()) {
        thetas.insert(p.parameters.schedule);
        steps.insert(p.parameters.steps);
        sigmas.insert(p.parameters.max_sigma);
        epss.insert(p.parameters.eps);
        continuous.insert(p.continuous);
    }
    CHECK(thetas.size() == 3);
    CHECK(steps == std::set<int>{100, 1000});
    CHECK(sigmas == std::set<double>{10, 50, 100});
    CHECK(epss == std::set<double>{0.001, 0.005, 0.02});
    CHECK(continuous.size() == 2);
}

TEST_CASE("suite: no NaN/Inf at any NFE from 2 to 50 for the published and the recommended default") {
    for (const suite_problem& p : mrsolve::suite_problems()) {
        mrsolve::visit_suite_problem(p, [&](const auto& in) {
            int bad = 0;
            for (int nfe = 2; nfe <= 50; ++nfe) {
                vec published = in.x_T, recommended = in.x_T;
                auto m = in.model();
                const auto grid = mrsolve::make_grid(in.family, mrsolve::schedule_kind::linspace, nfe);
                CHECK_NOTHROW(mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, in.family,
                                              std::span<const double>(grid), m, published, in.mu,
                                              mrsolve::sample_options::published()));
                CHECK_NOTHROW(mrsolve::sample_recommended(in.family, nfe, m, recommended, in.mu));
                for (std::size_t j = 0; j < p.elements; ++j)
                    bad += (std::isfinite(published[j]) ? 0 : 1) + (std::isfinite(recommended[j]) ? 0 : 1);
            }
            INFO(p.name);
            CHECK(bad == 0);
        });
    }
}

TEST_CASE("suite: bad inputs throw and name the value") {
    const mrsolve::irsde_table<double> table(mrsolve::irsde_parameters{});
    using oracle = mrsolve::elementwise_mixture_oracle<mrsolve::irsde_table<double>>;
    CHECK_THROWS_WITH_AS(oracle(table, 0, {1.0}, {0.0}, {1.0}), doctest::Contains("got 0"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(oracle(table, 2, {1.0, 1.0, 1.0}, {0, 0, 0}, {1, 1, 1}),
                         doctest::Contains("3 weights is not a positive multiple of 2"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(oracle(table, 1, {1.0, 1.0}, {0.0}, {1.0, 1.0}), doctest::Contains("got 2 weights, 1 means"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(oracle(table, 2, {1.0, -0.5}, {0, 0}, {1, 1}),
                         doctest::Contains("element 0 component 1 has weight -0.5"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(oracle(table, 1, {1.0, 1.0}, {0.0, NAN}, {1, 1}),
                         doctest::Contains("element 1 component 0 has mean nan"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(oracle(table, 1, {1.0}, {0.0}, {0.0}),
                         doctest::Contains("has standard deviation 0"), mrsolve::invalid_argument);
    const oracle good(table, 1, {1.0, 2.0}, {0.0, 0.1}, {0.1, 0.2});
    vec x(3), out(2), two(2);
    CHECK_THROWS_WITH_AS(good.noise(x, two, 50.0, out), doctest::Contains("x has 3 elements but the oracle's dimension is 2"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(good.predict(static_cast<fit_target>(7), two, two, 50.0, out),
                         doctest::Contains("invalid fit_target value 7"), mrsolve::invalid_argument);
    vec u(2, 0.5), z(2, 0.0), short_out(1);
    CHECK_THROWS_WITH_AS(good.marginal_sample(two, 50.0, u, z, short_out), doctest::Contains("out has 1 elements"),
                         mrsolve::invalid_argument);

    suite_problem p = mrsolve::selection_problems().front();
    p.scale_lo = -0.1;
    CHECK_THROWS_WITH_AS((void)mrsolve::make_suite_data(p), doctest::Contains("need 0 < scale_lo <= scale_hi (finite), got -0.1"), mrsolve::invalid_argument);
    p = mrsolve::selection_problems().front();
    p.elements = 0;
    CHECK_THROWS_WITH_AS((void)mrsolve::make_suite_data(p), doctest::Contains("elements must be >= 1, got 0"),
                         mrsolve::invalid_argument);
    p = mrsolve::selection_problems().front();
    p.separation_hi = 0.1;
    CHECK_THROWS_WITH_AS((void)mrsolve::make_suite_data(p), doctest::Contains("need 0 < separation_lo <= separation_hi (finite), got 0.5"), mrsolve::invalid_argument);
    p = mrsolve::selection_problems().front();
    p.reference_tolerance = 0;
    CHECK_THROWS_WITH_AS((void)mrsolve::make_suite_data(p), doctest::Contains("reference_tolerance must be finite and > 0, got 0"),
                         mrsolve::invalid_argument);
    p = mrsolve::selection_problems().front();
    p.data = static_cast<suite_data>(9);
    CHECK_THROWS_WITH_AS((void)mrsolve::make_suite_data(p), doctest::Contains("data is not a suite_data: 9"),
                         mrsolve::invalid_argument);
}

TEST_CASE("suite: the marginal draw follows the mixture: per-element sample mean over many draws") {
    // One element, two components; the draw's mean at T is μ + α_T (Σ w m − μ), its variance
    // α_T² (Σ w (s² + m²) − (Σ w m)²) + σ_T². 20000 draws: the mean within 4 standard errors.
    const mrsolve::irsde_table<double> table(mrsolve::irsde_parameters{});
    const std::size_t n = 20000;
    vec w, m, s;
    for (std::size_t j = 0; j < n; ++j) {
        w.insert(w.end(), {0.3, 0.7});
        m.insert(m.end(), {-2.0, 1.0});
        s.insert(s.end(), {0.1, 0.2});
    }
    const mrsolve::elementwise_mixture_oracle<mrsolve::irsde_table<double>> o(table, 2, w, m, s);
    // t where α is large enough for the components to matter: t = 20
    const double t = 20, a = table.alpha(t), sg = table.sigma(t);
    const mrsolve::philox_normal draw(5);
    vec mu(n, 0.0), u(n), z(n), out(n);
    for (std::size_t j = 0; j < n; ++j) {
        u[j] = 0.5 * std::erfc(-draw.normal<double>(0, j) / std::numbers::sqrt2);
        z[j] = draw.normal<double>(1, j);
    }
    o.marginal_sample(mu, t, u, z, out);
    double mean = 0, var = 0;
    for (const double v : out) mean += v / static_cast<double>(n);
    for (const double v : out) var += (v - mean) * (v - mean) / static_cast<double>(n - 1);
    const double m1 = 0.3 * -2.0 + 0.7 * 1.0, m2 = 0.3 * (0.01 + 4.0) + 0.7 * (0.04 + 1.0);
    const double want_mean = a * m1, want_var = a * a * (m2 - m1 * m1) + sg * sg;
    CHECK(std::abs(mean - want_mean) < 4 * std::sqrt(want_var / static_cast<double>(n)));
    CHECK(std::abs(var - want_var) < 0.05 * want_var);
}

}  // namespace test_problem_suite
