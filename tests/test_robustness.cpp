// Numerical robustness (issue 6): what every solver does at the smallest NFE, how accurate the φ-function
// combinations of the update coefficients are, and whether extreme IR-SDE tables sample without NaN.
//
// 1. Low NFE. Every solver, in float and double, at NFE 1 … 5 on the Gaussian oracle (discrete cosine
//    tables T = 100, max_sigma = 50, eps = 0.005; 2048 independent elements with data N(0.5, 0.1²),
//    μ = 0.2, x_T = μ + σ_∞ z) either returns finite values or refuses with mrsolve::invalid_argument —
//    and which one is asserted: a multistep method of order k refuses NFE < k ("too small for order"),
//    a published fixed-step baseline refuses a grid with non-integer table times ("integer table times");
//    nothing else refuses. The output spread (standard deviation over the elements, exact answer 0.1;
//    σ_∞ = 50/255 ≈ 0.196 is deliberately far from it, so that returning x_T is not mistaken for
//    success) and mean (exact 0.5) are printed for each case; docs/reliability.md tabulates them.
//    Measured (double, linspace): the noise-prediction SDE solvers are over-dispersed at low NFE. The
//    published SDE-2 noise sampler at NFE 5 has spread 25.7 (×257 the exact 0.1: "two orders of
//    magnitude"), finite but useless; its data-prediction twin gives 0.175 (×1.75). Asserted below.
// 2. φ-functions. The coefficients of every MR update (ODE orders 1–3 in both parameterizations and
//    both order-3 rules, SDE orders 1–2) match a long-double evaluation of docs/theory.md §4 with long-double
//    φ_k (series for |z| < 2) to 1e-12 relative (of the sum of the magnitudes of each coefficient's
//    terms) for h from 1e-8 to 20.
// 3. Extreme tables. T = 1000, eps = 1e-4, max_sigma 1, 10, 50, 100, θ cosine, linear and constant:
//    every solver at NFE 10, 50 and 1000 (linspace, linear-lambda, karras-n) returns finite values, in
//    float and double (or, for the published fixed-step baselines, refuses a grid with non-integer times).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

#include "support/phi_reference.hpp"
#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_robustness {

namespace {

using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::sample_options;
using mrsolve::schedule_kind;
using mrsolve::step_mode;
using table_t = mrsolve::irsde_table<double>;
using ld = long double;

// ---- a solver list ---------------------------------------------------------------------------

/// What a solver needs of its grid before it runs: at least `min_steps` steps (a multistep method of
/// order k needs k); integer table times (the published fixed-step baselines).
struct solver_needs {
    int min_steps = 1;
    bool integer_times = false;
};

/// Calls f(method, needs) for every solver and mode mrsolve offers.
template <class F>
void for_each_solver(F&& f) {
    for (const int order : {1, 2, 3}) {
        f(mrsolve::mr_ode<data_prediction>{order}, solver_needs{order});
        f(mrsolve::mr_ode<noise_prediction>{order}, solver_needs{order});
    }
    f(mrsolve::mr_ode<data_prediction>{3, mrsolve::order3_rule::published}, solver_needs{3});
    f(mrsolve::mr_ode<noise_prediction>{3, mrsolve::order3_rule::published}, solver_needs{3});
    for (const int order : {1, 2}) {
        f(mrsolve::mr_sde<data_prediction>{order}, solver_needs{order});
        f(mrsolve::mr_sde<noise_prediction>{order}, solver_needs{order});
    }
    for (const int order : {1, 2, 3}) {
        for (const auto variant : {mrsolve::unipc_variant::bh1, mrsolve::unipc_variant::bh2}) {
            f(mrsolve::mr_unipc<data_prediction>{order, variant}, solver_needs{order});
            f(mrsolve::mr_unipc<noise_prediction>{order, variant}, solver_needs{order});
        }
        for (const double eta : {0.0, 0.5, 1.0}) f(mrsolve::mr_eta<data_prediction>{order, eta}, solver_needs{order});
    }
    for (const auto mode : {step_mode::variable, step_mode::published_fixed}) {
        const solver_needs needs{1, mode == step_mode::published_fixed};
        f(mrsolve::euler_maruyama{1, mode}, needs);
        f(mrsolve::euler_ode{1, mode}, needs);
        f(mrsolve::heun_ode{2, mode}, needs);
        f(mrsolve::posterior_sampling{1, mode}, needs);
    }
}

bool integer_times(const std::vector<double>& grid) {
    for (std::size_t i = 0; i + 1 < grid.size(); ++i)
        if (grid[i] != std::round(grid[i]) || grid[i] < 1) return false;
    return true;
}

// ---- one run on the Gaussian problem ---------------------------------------------------------------

struct outcome {
    bool refused = false;
    std::string message;  // the refusal
    bool finite = true;
    double mean = 0, spread = 0, max_abs = 0;
};

constexpr double data_mean = 0.5, data_std = 0.1, condition = 0.2;

/// Samples `n` independent elements of the per-element Gaussian problem and summarises the result.
template <class T, class Method>
outcome sample_gaussian(const Method& method, const table_t& family, schedule_kind kind, int nfe,
                        const sample_options& options, std::size_t n) {
    const mrsolve::gaussian_diagonal_oracle<table_t> oracle(family, std::vector<double>(n, data_mean),
                                                            std::vector<double>(n, data_std));
    std::vector<T> mu(n, static_cast<T>(condition)), x(n);
    mrsolve::stationary_start(family, mu, x, 7);
    outcome out;
    try {
        const auto grid = make_grid(family, kind, nfe);
        mrsolve::sample(method, family, std::span<const double>(grid), oracle.model(options.fit), x, mu, options,
                        mrsolve::counter_noise{11});
    } catch (const mrsolve::invalid_argument& e) {
        out.refused = true;
        out.message = e.what();
        return out;
    }
    double sum = 0, sum_sq = 0;
    for (const T v : x) {
        out.finite = out.finite && std::isfinite(v);
        sum += double(v);
        sum_sq += double(v) * double(v);
        out.max_abs = std::max(out.max_abs, std::abs(double(v)));
    }
    out.mean = sum / double(n);
    out.spread = std::sqrt(std::max(0.0, sum_sq / double(n) - out.mean * out.mean));
    return out;
}

const table_t& cosine_table() { return mrsolve_test::cosine_table(); }

std::string options_name(const sample_options& o) {
    return o.orders == mrsolve::order_policy::published ? "published" : "default";
}

}  // namespace

TEST_CASE_TEMPLATE("NFE 1 to 5: every solver returns finite values or refuses with a clear error", T, double, float) {
    const table_t& family = cosine_table();
    const std::string type = sizeof(T) == 4 ? "float" : "double";
    int runs = 0, refusals = 0;
    for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda}) {
        for (const auto& options : {sample_options{}, sample_options::published()}) {
            for_each_solver([&](const auto& method, solver_needs needs) {
                for (int nfe = 1; nfe <= 5; ++nfe) {
                    CAPTURE(method.name());
                    CAPTURE(nfe);
                    CAPTURE(mrsolve::to_string(kind));
                    const outcome o = sample_gaussian<T>(method, family, kind, nfe, options, 2048);
                    ++runs;
                    const bool too_few_steps = nfe < needs.min_steps;
                    const bool non_integer = needs.integer_times && !integer_times(make_grid(family, kind, nfe));
                    if (o.refused) {
                        ++refusals;
                        CHECK((too_few_steps || non_integer));
                        if (too_few_steps) CHECK(o.message.find("too small for order") != std::string::npos);
                        else CHECK(o.message.find("integer table times") != std::string::npos);
                        MESSAGE(type, " ", mrsolve::to_string(kind), " ", options_name(options), " ", method.name(),
                                " NFE ", nfe, ": refused: ", o.message);
                    } else {
                        CHECK(!too_few_steps);
                        CHECK(!non_integer);
                        CHECK(o.finite);
                        char line[200];
                        std::snprintf(line, sizeof line, "spread %.4g (x%.3g of exact %.1f), mean %.4g, max |x| %.4g",
                                      o.spread, o.spread / data_std, data_std, o.mean, o.max_abs);
                        MESSAGE(type, " ", mrsolve::to_string(kind), " ", options_name(options), " ", method.name(),
                                " NFE ", nfe, ": ", line);
                    }
                }
            });
        }
    }
    MESSAGE(type, ": ", runs, " runs, ", refusals, " refused as expected, the others finite");
}

TEST_CASE("the published noise-prediction SDE-2 sampler at NFE 5 is finite but over-dispersed by two orders of magnitude") {
    const table_t& family = cosine_table();
    const auto published = sample_options::published();
    const outcome noise = sample_gaussian<double>(mrsolve::mr_sde<noise_prediction>{2}, family, schedule_kind::linspace,
                                                  5, published, 2048);
    const outcome data = sample_gaussian<double>(mrsolve::mr_sde<data_prediction>{2}, family, schedule_kind::linspace,
                                                 5, published, 2048);
    const outcome ode = sample_gaussian<double>(mrsolve::mr_ode<data_prediction>{2}, family, schedule_kind::linspace,
                                                5, published, 2048);
    MESSAGE("NFE 5, linspace, published loop: sde_noise_2 spread ", noise.spread, " (x", noise.spread / data_std,
            ", mean ", noise.mean, "), sde_data_2 ", data.spread, " (x", data.spread / data_std, ", mean ", data.mean,
            "), ode_data_2 ", ode.spread, " (x", ode.spread / data_std, ", mean ", ode.mean, "); exact ", data_std,
            ", mean ", data_mean);
    REQUIRE(!noise.refused);
    CHECK(noise.finite);
    // Measured x257 (spread 25.7 against 0.1): the explosion the issue reports.
    CHECK(noise.spread / data_std > 30);
    CHECK(noise.spread / data_std < 1000);
    // Its data-prediction twin (measured x1.75) and the ODE (x1.34) stay within a factor 2.5.
    CHECK(data.spread / data_std > 0.4);
    CHECK(data.spread / data_std < 2.5);
    CHECK(ode.spread / data_std > 0.4);
    CHECK(ode.spread / data_std < 2.5);
    // The means of the two stable samplers stay close to the data mean 0.5 (measured 0.498 and 0.503);
    // the noise sampler's mean is off by its own noise only.
    CHECK(std::abs(data.mean - data_mean) < 0.05);
    CHECK(std::abs(ode.mean - data_mean) < 0.05);
    CHECK(std::abs(noise.mean - data_mean) < 3 * noise.spread / std::sqrt(2048.0) + 0.05);
}

// ================================================================================================
// φ-functions: the update coefficients against docs/theory.md §4 in long double

namespace {

ld phi_ld(int k, ld z) { return mrsolve_test::reference_phi(k, z); }

/// A coefficient as a sum of terms: its value and the sum of the terms' magnitudes (the scale of its
/// rounding error).
struct term_sum {
    ld value = 0, magnitude = 0;
    void add(ld t) {
        value += t;
        magnitude += std::abs(t);
    }
};

struct reference_coefficients {
    term_sum x, mu, z;
    std::array<term_sum, 3> q;
};

/// Weights of D1 and D2 on (q₀, q₁, q₂) for a step of the given order (docs/theory.md §4).
struct difference_weights {
    std::array<ld, 3> d1{}, d2{};
};
difference_weights differences_ld(int order, ld r0, ld r1) {
    difference_weights w;
    if (order == 2) {
        w.d1 = {1 / r0, -1 / r0, 0};
    } else if (order == 3) {
        const std::array<ld, 3> d10{1 / r0, -1 / r0, 0}, d11{0, 1 / r1, -1 / r1};
        for (int k = 0; k < 3; ++k) {
            w.d1[k] = d10[k] + r0 / (r0 + r1) * (d10[k] - d11[k]);
            w.d2[k] = (d10[k] - d11[k]) / (r0 + r1);
        }
    }
    return w;
}

struct geometry_ld {
    int order;
    ld h, r0, r1, as, at, ss, st;
};

/// x_t = x·x_s + mu·μ + Σ q_k·q_k + z·z per docs/theory.md §4, in long double.
reference_coefficients reference_ode(bool data, ld d2_weight, const geometry_ld& g) {
    reference_coefficients c;
    const auto w = differences_ld(g.order, g.r0, g.r1);
    if (data) {
        const ld phi1 = -g.h * phi_ld(1, -g.h), phi2 = g.h * phi_ld(2, -g.h), phi3 = -g.h * phi_ld(3, -g.h);
        const ld ratio = g.st / g.ss;
        c.x.add(ratio);
        c.mu.add(1);
        c.mu.add(-ratio);
        c.mu.add(ratio * g.as);
        c.mu.add(-g.at);
        c.q[0].add(-g.at * phi1);
        for (int k = 0; k < 3 && g.order >= 2; ++k) c.q[k].add(g.at * phi2 * w.d1[k]);
        for (int k = 0; k < 3 && g.order >= 3; ++k) c.q[k].add(-d2_weight * g.at * phi3 * w.d2[k]);
    } else {
        const ld phi1 = g.h * phi_ld(1, g.h), phi2 = g.h * phi_ld(2, g.h), phi3 = g.h * phi_ld(3, g.h);
        const ld ratio = g.at / g.as;
        c.x.add(ratio);
        c.mu.add(1);
        c.mu.add(-ratio);
        c.q[0].add(-g.st * phi1);
        for (int k = 0; k < 3 && g.order >= 2; ++k) c.q[k].add(-g.st * phi2 * w.d1[k]);
        for (int k = 0; k < 3 && g.order >= 3; ++k) c.q[k].add(-d2_weight * g.st * phi3 * w.d2[k]);
    }
    return c;
}

reference_coefficients reference_sde(bool data, const geometry_ld& g) {
    reference_coefficients c;
    const auto w = differences_ld(g.order, g.r0, g.r1);
    if (data) {
        const ld phi1 = -std::expm1(-2 * g.h), phi2 = 2 * g.h * phi_ld(2, -2 * g.h);
        c.x.add(g.st / g.ss * std::exp(-g.h));
        c.mu.add(1);
        c.mu.add(-g.at / g.as * std::exp(-2 * g.h));
        c.mu.add(-g.at * phi1);
        c.q[0].add(g.at * phi1);
        for (int k = 0; k < 3 && g.order >= 2; ++k) c.q[k].add(g.at * phi2 * w.d1[k]);
        c.z.add(g.st * std::sqrt(phi1));
    } else {
        const ld phi1 = std::expm1(g.h), phi2 = g.h * phi_ld(2, g.h);
        const ld ratio = g.at / g.as;
        c.x.add(ratio);
        c.mu.add(1);
        c.mu.add(-ratio);
        c.q[0].add(-2 * g.st * phi1);
        for (int k = 0; k < 3 && g.order >= 2; ++k) c.q[k].add(-2 * g.st * phi2 * w.d1[k]);
        c.z.add(g.st * std::sqrt(std::expm1(2 * g.h)));
    }
    return c;
}

/// The worst |c − reference| / magnitude over the coefficients of one step.
double worst_relative_error(const mrsolve::step_coefficients<double>& c, const reference_coefficients& r) {
    const auto rel = [](double got, const term_sum& ref) {
        if (ref.magnitude == 0) return static_cast<double>(std::abs(ld(got)));
        return static_cast<double>(std::abs(ld(got) - ref.value) / ref.magnitude);
    };
    double worst = std::max({rel(c.x, r.x), rel(c.mu, r.mu), rel(c.z, r.z)});
    for (int k = 0; k < 3; ++k) worst = std::max(worst, rel(c.q[static_cast<std::size_t>(k)], r.q[static_cast<std::size_t>(k)]));
    return worst;
}

/// h from 1e-8 to 20, log-spaced, plus the points where the φ evaluation switches branch (|z| = 2 for
/// h and for 2h) and their neighbours.
std::vector<double> h_values() {
    std::vector<double> hs;
    for (int i = 0; i <= 400; ++i) hs.push_back(1e-8 * std::pow(20 / 1e-8, i / 400.0));
    for (const double edge : {1.0, 2.0})
        for (const double d : {-1e-9, -1e-15, 0.0, 1e-15, 1e-9}) hs.push_back(edge + d);
    hs.push_back(20);
    return hs;
}

}  // namespace

TEST_CASE("phi combinations of every MR update match a long-double reference to 1e-12 for h in [1e-8, 20]") {
    // A realistic geometry (α grows and σ shrinks from s to t) with unequal step ratios.
    const ld as = 0.3L, at = 0.6L, ss = 0.18L, st = 0.05L, r0 = 0.8L, r1 = 1.3L;
    double worst = 0;
    int checked = 0;
    for (const double h : h_values()) {
        for (int order = 1; order <= 3; ++order) {
            mrsolve::step_geometry<double> g{};
            g.step = 5;
            g.steps = 10;
            g.order = order;
            g.h = h;
            g.alpha_s = double(as);
            g.alpha_t = double(at);
            g.sigma_s = double(ss);
            g.sigma_t = double(st);
            g.r0 = double(r0);
            g.r1 = double(r1);
            const geometry_ld gl{order, ld(h), r0, r1, as, at, ss, st};
            const auto check = [&](const auto& method, const reference_coefficients& ref) {
                CAPTURE(method.name());
                CAPTURE(order);
                CAPTURE(h);
                const double e = worst_relative_error(method.coefficients(cosine_table(), g), ref);
                CHECK(e <= 1e-12);
                worst = std::max(worst, e);
                ++checked;
            };
            check(mrsolve::mr_ode<data_prediction>{order}, reference_ode(true, 2, gl));
            check(mrsolve::mr_ode<noise_prediction>{order}, reference_ode(false, 2, gl));
            check(mrsolve::mr_ode<data_prediction>{order, mrsolve::order3_rule::published}, reference_ode(true, 1, gl));
            check(mrsolve::mr_ode<noise_prediction>{order, mrsolve::order3_rule::published},
                  reference_ode(false, 1, gl));
            if (order <= 2) {
                check(mrsolve::mr_sde<data_prediction>{order}, reference_sde(true, gl));
                check(mrsolve::mr_sde<noise_prediction>{order}, reference_sde(false, gl));
            }
        }
    }
    MESSAGE(checked, " steps checked, h in [1e-8, 20]: worst relative coefficient error ", worst);
}

TEST_CASE("phi(k, z), k = 1..3, along the solvers' arguments z = -h, h, -2h for h in [1e-8, 20]: 1e-12 relative") {
    double worst = 0;
    for (const double h : h_values())
        for (const double z : {-h, h, -2 * h})
            for (int k = 1; k <= 3; ++k) {
                const ld ref = phi_ld(k, z);
                const double e = static_cast<double>(std::abs(ld(mrsolve::detail::phi(k, z)) - ref) / std::abs(ref));
                CAPTURE(k);
                CAPTURE(z);
                CHECK(e <= 1e-12);
                worst = std::max(worst, e);
            }
    MESSAGE("worst relative error of phi_k(z): ", worst);
}

// ================================================================================================
// Extreme tables

TEST_CASE_TEMPLATE("extreme tables (T = 1000, eps = 1e-4, max_sigma 1..100) sample without NaN with every solver", T,
                   double, float) {
    const std::string type = sizeof(T) == 4 ? "float" : "double";
    int runs = 0, refusals = 0;
    double largest = 0;
    std::string largest_case;
    for (const auto shape : {mrsolve::theta_schedule::cosine, mrsolve::theta_schedule::linear,
                             mrsolve::theta_schedule::constant}) {
        for (const double max_sigma : {1.0, 10.0, 50.0, 100.0}) {
            const table_t family(mrsolve::irsde_parameters{shape, 1000, max_sigma, 1e-4});
            for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::karras_n}) {
                for (const int nfe : {10, 50, 1000}) {
                    const auto grid = make_grid(family, kind, nfe);
                    REQUIRE(grid.size() == static_cast<std::size_t>(nfe) + 1);
                    for_each_solver([&](const auto& method, solver_needs needs) {
                        CAPTURE(method.name());
                        CAPTURE(max_sigma);
                        CAPTURE(nfe);
                        CAPTURE(mrsolve::to_string(kind));
                        const outcome o = sample_gaussian<T>(method, family, kind, nfe, {}, 16);
                        ++runs;
                        if (o.refused) {
                            ++refusals;
                            CHECK(needs.integer_times);
                            CHECK(!integer_times(grid));
                            CHECK(o.message.find("integer table times") != std::string::npos);
                            return;
                        }
                        CHECK(o.finite);
                        if (o.max_abs > largest) {
                            largest = o.max_abs;
                            largest_case = method.name() + " max_sigma " + std::to_string(max_sigma) + " " +
                                           std::string(mrsolve::to_string(kind)) + " NFE " + std::to_string(nfe);
                        }
                    });
                }
            }
        }
    }
    MESSAGE(type, ": ", runs, " runs on extreme tables, all finite except ", refusals,
            " refusals of non-integer grids by the published fixed-step baselines; largest |x| ", largest, " (",
            largest_case, ")");
}

// ================================================================================================
// Parameters at the edge of double's range (found by tests/fuzz/fuzz_family.cpp and fuzz_schedule.cpp)

namespace {

std::string full(double v) { return mrsolve::detail::message(v); }

}  // namespace

TEST_CASE("IR-SDE parameters whose coefficients leave double's range are rejected, naming the parameters") {
    struct case_t {
        mrsolve::theta_schedule shape;
        int T;
        double max_sigma, eps;
        const char* what;  // the first coefficient that leaves the range
    };
    for (const case_t c : {case_t{mrsolve::theta_schedule::cosine, 100, 1e300, 1e-16, "g^2"},
                           case_t{mrsolve::theta_schedule::cosine, 100, 1e200, 0.005, "g^2"},
                           case_t{mrsolve::theta_schedule::linear, 1630, 1, 1e-323, "sigma/alpha"},
                           case_t{mrsolve::theta_schedule::linear, 26, 5e-324, 1e-12, "sigma"}}) {
        CAPTURE(c.max_sigma);
        CAPTURE(c.eps);
        const mrsolve::irsde_parameters p{c.shape, c.T, c.max_sigma, c.eps};
        for (const std::string& part : {std::string("max_sigma = ") + full(c.max_sigma), "eps = " + full(c.eps),
                                        std::string(c.what), std::string("range of the scalar type")}) {
            CHECK_THROWS_WITH_AS(table_t{p}, doctest::Contains(part.c_str()), mrsolve::invalid_argument);
            CHECK_THROWS_WITH_AS(mrsolve::ir_sde<double>{p}, doctest::Contains(part.c_str()), mrsolve::invalid_argument);
        }
    }
    // α underflowing to 0 at the end of the table (eps at double's smallest normal).
    CHECK_THROWS_WITH_AS(table_t(mrsolve::irsde_parameters{mrsolve::theta_schedule::cosine, 23, 2.2250738585072014e-308,
                                                          2.2250738585072014e-308}),
                         doctest::Contains("alpha_23 = 0"), mrsolve::invalid_argument);
}

TEST_CASE("extreme but representable IR-SDE parameters build families that sample without NaN") {
    struct case_t {
        int T;
        double max_sigma, eps;
    };
    for (const case_t c : {case_t{100, 50, 1e-300}, case_t{100, 255, 1e-12}, case_t{100, 1e-150, 0.005},
                           case_t{100, 50, 0.9999999999999999}, case_t{1000, 100, 1e-4}, case_t{1, 50, 0.005}}) {
        CAPTURE(c.T);
        CAPTURE(c.max_sigma);
        CAPTURE(c.eps);
        const mrsolve::irsde_parameters p{mrsolve::theta_schedule::cosine, c.T, c.max_sigma, c.eps};
        const table_t table(p);
        const mrsolve::ir_sde<double> continuous(p);
        for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::karras_n}) {
            CAPTURE(mrsolve::to_string(kind));
            const outcome ode = sample_gaussian<double>(mrsolve::mr_ode<data_prediction>{2}, table, kind, 10, {}, 8);
            const outcome sde = sample_gaussian<double>(mrsolve::mr_sde<data_prediction>{2}, table, kind, 10, {}, 8);
            CHECK(!ode.refused);
            CHECK(ode.finite);
            CHECK(!sde.refused);
            CHECK(sde.finite);
            const auto grid = make_grid(continuous, kind, 10);
            CHECK(grid.size() == 11);
        }
    }
}

TEST_CASE("the table inverses return NaN for a NaN argument (they read past the table end before)") {
    const table_t& t = cosine_table();
    const double nan = std::numeric_limits<double>::quiet_NaN();
    CHECK(std::isnan(t.t_of_lambda(nan)));
    CHECK(std::isnan(t.t_of_sigma_over_alpha(nan)));
    CHECK(std::isnan(t.alpha(nan)));
    CHECK(std::isnan(t.lambda(nan)));
    // Arguments beyond the ends extrapolate from the outermost segment, as before.
    CHECK(std::isfinite(t.t_of_lambda(1e3)));
    CHECK(std::isfinite(t.t_of_lambda(-1e3)));
    CHECK(std::isfinite(t.t_of_sigma_over_alpha(1e6)));
}

// ================================================================================================
// An input check that had no test (found while tabulating the checks in docs/reliability.md)

TEST_CASE("stationary_start rejects x and mu of different sizes, naming both") {
    std::vector<double> mu(4, 0.1), x(3);
    CHECK_THROWS_WITH_AS(mrsolve::stationary_start(cosine_table(), mu, x, 1), doctest::Contains("x has size 3 but mu has size 4"),
                         mrsolve::invalid_argument);
    x.resize(4);
    CHECK_NOTHROW(mrsolve::stationary_start(cosine_table(), mu, x, 1));
    for (const double v : x) CHECK(std::isfinite(v));
}

}  // namespace test_robustness
