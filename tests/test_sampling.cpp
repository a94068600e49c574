// The sampling loop against hand computations: model-call counts, the order each step uses under each
// order policy (detected by recomputing every step with the docs/theory.md §4 formulas for each order), the
// observer, denoise_last, dynamic thresholding, the §5 baselines (variable and published fixed steps),
// sampler reuse, state types, noise determinism and injection, and the fused contiguous backend.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <mrsolve/backend/eigen.hpp>
#include <mrsolve/mrsolve.hpp>

#include "support/order_checks.hpp"
#include "support/toy_models.hpp"
#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_sampling {

namespace {

using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::order_policy;
using mrsolve::sample_options;
using mrsolve::schedule_kind;
using mrsolve::step_mode;
using mrsolve_test::ld;
using vec = std::vector<double>;
using grid_t = std::vector<double>;
using table_t = mrsolve::irsde_table<double>;
using continuous_t = mrsolve::ir_sde<double>;

const mrsolve::irsde_parameters& defaults = mrsolve_test::cosine_parameters;

const table_t& table() {
    return mrsolve_test::cosine_table();
}
const continuous_t& continuous() {
    static const continuous_t c(defaults);
    return c;
}
const mrsolve_test::reference_tables& ref() {
    return mrsolve_test::cosine_reference_tables();
}

const vec mu6{0.1, -0.4, 0.2, 0.0, 0.3, -0.1};
const vec xT6{0.5, -0.1, 0.3, 0.2, -0.25, 0.05};

template <class Family>
mrsolve_test::gaussian_toy<Family> toy(const Family& family, fit_target fit = fit_target::noise) {
    return {&family, {0.3, -0.2, 0.1, 0.5, -0.6, 0.05}, {0.2, 0.3, 0.25, 0.1, 0.15, 0.4}, fit,
            static_cast<double>(family.stationary_std())};
}

/// The standard normal draws the tests inject: a fixed function of (step, element).
double z_value(int step, std::size_t element) { return 1.7 * std::sin(1.3 * step + 0.7 * double(element) + 0.2); }

/// A noise source that fills z_value and records the step indices it was asked for.
auto recording_noise(std::vector<int>& steps) {
    return mrsolve::injected_noise([&steps](auto& z, int step) {
        steps.push_back(step);
        auto* p = std::data(z);
        for (std::size_t e = 0; e < static_cast<std::size_t>(std::size(z)); ++e)
            p[e] = static_cast<std::remove_reference_t<decltype(p[e])>>(z_value(step, e));
    });
}

// ---- a traced run ----------------------------------------------------------------------------

struct observed_step {
    int step, steps;
    double t, lambda;
    vec x, model_output;
};

struct trace {
    mrsolve::sample_result result;
    std::vector<mrsolve_test::model_call> calls;
    std::vector<observed_step> observed;
    std::vector<int> noise_steps;
    vec x;
};

/// Samples once with a recording model, the injected noise and a recording observer.
template <class Method, class Family, class Model>
trace trace_run_with(const Method& method, const Family& family, const grid_t& grid, const sample_options& options,
                     Model inner, const vec& x0 = xT6) {
    trace tr;
    mrsolve_test::recording_model<Model> model{inner, {}};
    auto noise = recording_noise(tr.noise_steps);
    auto observer = [&tr](const auto& info) {
        tr.observed.push_back({info.step, info.steps, static_cast<double>(info.t), static_cast<double>(info.lambda),
                               info.x, info.model_output});
    };
    tr.x = x0;
    tr.result = mrsolve::sample(method, family, std::span<const double>(grid), model, tr.x, mu6, options, noise, observer);
    tr.calls = std::move(model.calls);
    return tr;
}

template <class Method, class Family>
trace trace_run(const Method& method, const Family& family, const grid_t& grid, const sample_options& options = {}) {
    return trace_run_with(method, family, grid, options, toy(family, options.fit));
}

/// The λ a run with these options steps in (sample_options::lambda): the family's own, or ln(α/σ) of its
/// α and σ (the default; equal to the family's at t = 0, where σ may vanish).
template <class Family>
double run_lambda(const Family& fam, double t, const sample_options& options) {
    if (options.lambda == mrsolve::step_lambda::family || t <= 0) return fam.lambda(t);
    return std::log(fam.alpha(t) / fam.sigma(t));
}

/// The observer was called once per step with the step index, M, t_i, λ(t_i) and the raw output of the
/// step's (first) evaluation; its state is the final result after the last step.
template <class Family>
void check_observer(const trace& tr, const Family& family, const grid_t& grid, const sample_options& options,
                    bool check_model_output = true) {
    const int M = static_cast<int>(grid.size()) - 1;
    REQUIRE(tr.observed.size() == static_cast<std::size_t>(M));
    for (int i = 1; i <= M; ++i) {
        CAPTURE(i);
        const auto& o = tr.observed[static_cast<std::size_t>(i) - 1];
        CHECK(o.step == i);
        CHECK(o.steps == M);
        CHECK(o.t == grid[static_cast<std::size_t>(i)]);
        CHECK(o.lambda == doctest::Approx(run_lambda(family, grid[static_cast<std::size_t>(i)], options)).epsilon(1e-15));
        if (check_model_output) CHECK(o.model_output == tr.calls[static_cast<std::size_t>(i) - 1].out);
    }
    CHECK(tr.observed.back().x == tr.x);
}

// ---- docs/theory.md §4: the MR Sampler step, recomputed ---------------------------------------------

struct history_entry {
    std::vector<ld> q;
    ld lambda;
};

enum class mr_kind { ode_data, ode_noise, sde_data, sde_noise };

bool is_data(mr_kind k) { return k == mr_kind::ode_data || k == mr_kind::sde_data; }
bool is_sde(mr_kind k) { return k == mr_kind::sde_data || k == mr_kind::sde_noise; }

/// One MR Sampler step of the given order from s to t (docs/theory.md §4); hist[0] is q₀ (at s), hist[1] q₁, …
template <class Family>
std::vector<ld> reference_mr_step(mr_kind kind, int order, const Family& fam, double s, double t, const vec& xs,
                                  const std::deque<history_entry>& hist, int step, mrsolve::order3_rule rule,
                                  const sample_options& options) {
    // DESIGN §4 weighs D2 by φ₃ (the published rule); mrsolve's default taylor rule by 2 φ₃.
    const ld d2_weight = rule == mrsolve::order3_rule::published ? 1 : 2;
    const ld as = fam.alpha(s), at = fam.alpha(t), ss = fam.sigma(s), st = fam.sigma(t);
    const ld h = ld(run_lambda(fam, t, options)) - ld(run_lambda(fam, s, options));
    const ld r0 = order >= 2 ? (hist[0].lambda - hist[1].lambda) / h : 0;
    const ld r1 = order >= 3 ? (hist[1].lambda - hist[2].lambda) / h : 0;
    std::vector<ld> out(xs.size());
    for (std::size_t e = 0; e < xs.size(); ++e) {
        const ld x = xs[e], mu = mu6[e], q0 = hist[0].q[e];
        ld d1 = 0, d2 = 0;
        if (order == 2) d1 = (q0 - hist[1].q[e]) / r0;
        if (order == 3) {
            const ld d1_0 = (q0 - hist[1].q[e]) / r0, d1_1 = (hist[1].q[e] - hist[2].q[e]) / r1;
            d1 = d1_0 + (d1_0 - d1_1) * r0 / (r0 + r1);
            d2 = (d1_0 - d1_1) / (r0 + r1);
        }
        const ld z = is_sde(kind) ? ld(z_value(step, e)) : 0;
        switch (kind) {
            case mr_kind::ode_data: {
                const ld phi1 = std::expm1(-h), phi2 = phi1 / h + 1, phi3 = phi2 / h - ld(0.5);
                const ld D = phi1 * q0 - phi2 * d1 + d2_weight * phi3 * d2;
                const ld ratio = st / ss;
                out[e] = ratio * x - at * D + mu * (1 - ratio + ratio * as - at);
                break;
            }
            case mr_kind::ode_noise: {
                const ld phi1 = std::expm1(h), phi2 = phi1 / h - 1, phi3 = phi2 / h - ld(0.5);
                const ld D = phi1 * q0 + phi2 * d1 + d2_weight * phi3 * d2;
                out[e] = (at / as) * x - st * D + mu * (1 - at / as);
                break;
            }
            case mr_kind::sde_data: {
                const ld phi1 = -std::expm1(-2 * h), phi2 = 1 - phi1 / (2 * h);
                out[e] = (st / ss) * std::exp(-h) * x + at * phi1 * q0 + at * phi2 * d1 + st * std::sqrt(phi1) * z +
                         mu * (1 - (at / as) * std::exp(-2 * h) - at * phi1);
                break;
            }
            case mr_kind::sde_noise: {
                const ld phi1 = std::expm1(h), phi2 = phi1 / h - 1;
                out[e] = (at / as) * x - 2 * st * phi1 * q0 - 2 * st * phi2 * d1 + st * std::sqrt(std::expm1(2 * h)) * z +
                         mu * (1 - at / as);
                break;
            }
        }
    }
    return out;
}

double max_rel_dev(const std::vector<ld>& expected, const vec& actual) {
    ld worst = 0;
    for (std::size_t e = 0; e < actual.size(); ++e)
        worst = std::max(worst, std::abs(ld(actual[e]) - expected[e]) / (1 + std::abs(expected[e])));
    return static_cast<double>(worst);
}

/// The converted (and, if asked, thresholded) output of one recorded model call (docs/theory.md §2, §4).
template <class Family>
std::vector<ld> converted(const mrsolve_test::model_call& call, const Family& fam, const sample_options& options,
                          fit_target to) {
    std::vector<ld> q(call.x.size());
    const ld a = fam.alpha(call.t), s = fam.sigma(call.t), ls = fam.stationary_std();
    for (std::size_t e = 0; e < q.size(); ++e)
        q[e] = mrsolve_test::reference_convert(options.fit, to, a, s, ls, call.x[e], mu6[e], call.out[e]);
    if (options.thresholding)
        q = mrsolve_test::reference_threshold(q, options.thresholding->batch_items, options.thresholding->ratio,
                                              options.thresholding->max_value);
    return q;
}

constexpr int denoised = -2;   // the step was replaced by the data prediction (denoise_last)
constexpr int no_match = -1;   // no order's formula reproduces the step
constexpr int ambiguous = 0;   // several orders reproduce it (never happens with the toy network)

/// For every step, the order whose DESIGN §4 update reproduces the observed state (from the recorded
/// model inputs and outputs, so errors do not accumulate).
template <class Family>
std::vector<int> detect_orders(const trace& tr, mr_kind kind, int max_order, const Family& fam, const grid_t& grid,
                               const sample_options& options,
                               mrsolve::order3_rule rule = mrsolve::order3_rule::taylor) {
    const int M = static_cast<int>(grid.size()) - 1;
    REQUIRE(tr.calls.size() == static_cast<std::size_t>(M));
    REQUIRE(tr.observed.size() == static_cast<std::size_t>(M));
    std::deque<history_entry> hist;
    std::vector<int> orders;
    for (int i = 1; i <= M; ++i) {
        const auto& call = tr.calls[static_cast<std::size_t>(i) - 1];
        const double s = grid[static_cast<std::size_t>(i) - 1], t = grid[static_cast<std::size_t>(i)];
        REQUIRE(call.t == s);
        if (i > 1) REQUIRE(call.x == tr.observed[static_cast<std::size_t>(i) - 2].x);
        hist.push_front({converted(call, fam, options, is_data(kind) ? fit_target::data : fit_target::noise),
                         ld(run_lambda(fam, s, options))});
        const vec& observed = tr.observed[static_cast<std::size_t>(i) - 1].x;
        if (options.denoise_last && i == M) {
            orders.push_back(max_rel_dev(converted(call, fam, options, fit_target::data), observed) < 1e-12 ? denoised
                                                                                                           : no_match);
            continue;
        }
        std::vector<int> matches;
        double closest_miss = std::numeric_limits<double>::infinity();
        for (int k = 1; k <= std::min(max_order, i); ++k) {
            const double dev = max_rel_dev(reference_mr_step(kind, k, fam, s, t, call.x, hist, i, rule, options), observed);
            if (dev < 1e-11) matches.push_back(k);
            else closest_miss = std::min(closest_miss, dev);
        }
        // Orders must be told apart by far more than the round-off.
        if (matches.size() == 1 && closest_miss > 1e-7) orders.push_back(matches[0]);
        else orders.push_back(matches.empty() ? no_match : ambiguous);
    }
    return orders;
}

/// The order of each step, derived from docs/theory.md §4 and the order_policy documentation.
std::vector<int> expected_orders(order_policy policy, int order, int M, bool denoise_last = false) {
    std::vector<int> orders;
    for (int i = 1; i <= M; ++i) {
        int o = order;
        if (i < order) {
            o = i;  // warm-up: only i outputs exist
        } else if (policy == order_policy::published) {
            o = (i == M || M >= 10) ? order : std::min(order, M - i);
        } else if (policy == order_policy::lower_order_final) {
            o = M >= 10 ? order : std::min(order, M - i + 1);
        }
        orders.push_back(denoise_last && i == M ? denoised : o);
    }
    return orders;
}

/// "1 2 3 D" (D: denoised, ?: no order matches, *: several match).
std::string sequence(const std::vector<int>& orders) {
    std::string out;
    for (const int o : orders) {
        if (!out.empty()) out += ' ';
        out += o == denoised ? "D" : o == no_match ? "?" : o == ambiguous ? "*" : std::to_string(o);
    }
    return out;
}

std::string policy_name(order_policy p) {
    switch (p) {
        case order_policy::published: return "published";
        case order_policy::lower_order_final: return "lower_order_final";
        case order_policy::constant: return "constant";
    }
    return "?";
}

sample_options with_policy(order_policy p, fit_target fit = fit_target::noise, bool denoise_last = false) {
    sample_options o;
    o.orders = p;
    o.fit = fit;
    o.denoise_last = denoise_last;
    return o;
}

/// Runs the MR method of `kind` and `order` and checks its detected per-step orders, NFE and observer.
template <class Family>
void check_mr_orders(mr_kind kind, int order, const Family& fam, const grid_t& grid, const sample_options& options,
                     mrsolve::order3_rule rule = mrsolve::order3_rule::taylor) {
    const int M = static_cast<int>(grid.size()) - 1;
    CAPTURE(order);
    CAPTURE(M);
    CAPTURE(policy_name(options.orders));
    CAPTURE(mrsolve::to_string(options.fit));
    CAPTURE(options.denoise_last);
    trace tr;
    int max_order = 3;
    switch (kind) {
        case mr_kind::ode_data: tr = trace_run(mrsolve::mr_ode<data_prediction>{order, rule}, fam, grid, options); break;
        case mr_kind::ode_noise:
            tr = trace_run(mrsolve::mr_ode<noise_prediction>{order, rule}, fam, grid, options);
            break;
        case mr_kind::sde_data:
            tr = trace_run(mrsolve::mr_sde<data_prediction>{order}, fam, grid, options);
            max_order = 2;
            break;
        case mr_kind::sde_noise:
            tr = trace_run(mrsolve::mr_sde<noise_prediction>{order}, fam, grid, options);
            max_order = 2;
            break;
    }
    CHECK(tr.result.nfe == M);
    CHECK(tr.result.steps == M);
    CHECK(tr.calls.size() == static_cast<std::size_t>(M));
    check_observer(tr, fam, grid, options);
    const auto detected = detect_orders(tr, kind, max_order, fam, grid, options, rule);
    const auto expected = expected_orders(options.orders, order, M, options.denoise_last);
    CAPTURE(sequence(detected));
    CAPTURE(sequence(expected));
    CHECK(detected == expected);
}

const std::array<order_policy, 3> policies{order_policy::published, order_policy::lower_order_final,
                                           order_policy::constant};

struct mr_config {
    mr_kind kind;
    int max_order;
    std::string name;
};
const std::array<mr_config, 4> mr_configs{{{mr_kind::ode_data, 3, "ode_data"},
                                           {mr_kind::ode_noise, 3, "ode_noise"},
                                           {mr_kind::sde_data, 2, "sde_data"},
                                           {mr_kind::sde_noise, 2, "sde_noise"}}};

}  // namespace

// ================================================================================================

TEST_CASE("per-step order under each order policy, detected from the DESIGN §4 update of each order") {
    for (const auto& cfg : mr_configs) {
        CAPTURE(cfg.name);
        for (int order = 1; order <= cfg.max_order; ++order) {
            for (const auto policy : policies) {
                for (int M = order; M <= 12; ++M) {
                    // published with order 3 and M = 3 is checked by its own test case below.
                    if (policy == order_policy::published && order == 3 && M == 3) continue;
                    for (const auto rule : {mrsolve::order3_rule::taylor, mrsolve::order3_rule::published}) {
                        if (rule == mrsolve::order3_rule::published && order != 3) continue;
                        check_mr_orders(cfg.kind, order, table(), make_grid(table(), schedule_kind::linspace, M),
                                        with_policy(policy), rule);
                        check_mr_orders(cfg.kind, order, continuous(),
                                        make_grid(continuous(), schedule_kind::linear_lambda, M), with_policy(policy),
                                        rule);
                    }
                }
            }
        }
    }
}

TEST_CASE("published order policy, order 3, NFE 3: the warm-up step 2 uses order 2 (DESIGN §4)") {
    // DESIGN §4: "Steps i = 1 … order−1 use order i (warm-up). Steps i = order … M−1 use the full order,
    // except that when M < 10 they use min(order, M − i). The last step i = M uses the full order again."
    // So with order 3 and M = 3 the orders are 1, 2, 3.
    for (const auto& cfg : {mr_configs[0], mr_configs[1]}) {
        CAPTURE(cfg.name);
        check_mr_orders(cfg.kind, 3, table(), make_grid(table(), schedule_kind::linspace, 3),
                        with_policy(order_policy::published));
    }
}

TEST_CASE("per-step orders with other fit targets, denoise_last and karras-n grids") {
    for (const auto& cfg : mr_configs) {
        CAPTURE(cfg.name);
        for (const auto fit : {fit_target::noise, fit_target::data, fit_target::velocity}) {
            for (const auto policy : policies) {
                for (const int M : {4, 7, 10}) {
                    for (const bool denoise_last : {false, true}) {
                        const grid_t grid = make_grid(table(), schedule_kind::karras_n, M);
                        check_mr_orders(cfg.kind, cfg.max_order, table(), grid, with_policy(policy, fit, denoise_last));
                    }
                }
            }
        }
    }
}

TEST_CASE("exact NFE for every solver and option") {
    // NFEs that divide T = 100, so that linspace times are integers (published fixed steps need them).
    for (const int M : {4, 5, 10, 20}) {
        CAPTURE(M);
        const grid_t grid = make_grid(table(), schedule_kind::linspace, M);
        const auto count = [&](const auto& method, const sample_options& options, int expected) {
            CAPTURE(method.name());
            CAPTURE(policy_name(options.orders));
            CAPTURE(options.denoise_last);
            int calls = 0;
            const mrsolve_test::counting_model<mrsolve_test::gaussian_toy<table_t>> model{toy(table(), options.fit), &calls};
            vec x = xT6;
            const auto result = mrsolve::sample(method, table(), std::span<const double>(grid), model, x, mu6, options);
            CHECK(calls == expected);
            CHECK(result.nfe == expected);
            CHECK(result.steps == M);
        };
        for (const auto policy : policies) {
            for (const bool denoise_last : {false, true}) {
                const auto o = with_policy(policy, fit_target::noise, denoise_last);
                for (int order = 1; order <= 3; ++order) {
                    count(mrsolve::mr_ode<data_prediction>{order}, o, M);
                    count(mrsolve::mr_ode<noise_prediction>{order}, o, M);
                }
                for (int order = 1; order <= 2; ++order) {
                    count(mrsolve::mr_sde<data_prediction>{order}, o, M);
                    count(mrsolve::mr_sde<noise_prediction>{order}, o, M);
                }
                for (const auto mode : {step_mode::variable, step_mode::published_fixed}) {
                    count(mrsolve::euler_maruyama{1, mode}, o, M);
                    count(mrsolve::euler_ode{1, mode}, o, M);
                    count(mrsolve::posterior_sampling{1, mode}, o, M);
                }
            }
            for (const auto mode : {step_mode::variable, step_mode::published_fixed})
                count(mrsolve::heun_ode{2, mode}, with_policy(policy), 2 * M);
        }
        // Thresholding does not change the count.
        sample_options th = with_policy(order_policy::published);
        th.thresholding = mrsolve::dynamic_thresholding{};
        count(mrsolve::mr_ode<data_prediction>{3}, th, M);
        th.denoise_last = true;
        count(mrsolve::mr_sde<data_prediction>{2}, th, M);
    }
}

TEST_CASE("denoise_last returns the data prediction at t_{M-1} with the same NFE") {
    for (const auto fit : {fit_target::noise, fit_target::data, fit_target::velocity}) {
        CAPTURE(mrsolve::to_string(fit));
        const grid_t grid = make_grid(table(), schedule_kind::linspace, 6);
        const auto options = with_policy(order_policy::published, fit, true);
        const trace tr = trace_run(mrsolve::mr_ode<data_prediction>{2}, table(), grid, options);
        CHECK(tr.result.nfe == 6);
        const auto& last = tr.calls.back();
        CHECK(last.t == grid[5]);
        CHECK(max_rel_dev(converted(last, table(), options, fit_target::data), tr.x) < 1e-13);
        // The same for a noise-prediction SDE solver: no noise is drawn for the replaced step.
        const trace sde = trace_run(mrsolve::mr_sde<noise_prediction>{2}, table(), grid, options);
        CHECK(max_rel_dev(converted(sde.calls.back(), table(), options, fit_target::data), sde.x) < 1e-13);
        CHECK(sde.noise_steps == std::vector<int>{1, 2, 3, 4, 5});
    }
}

// ---- dynamic thresholding ------------------------------------------------------------------------

namespace {

/// A network returning a fixed vector whatever its input.
struct fixed_output_model {
    vec value;
    void operator()(const vec&, const vec&, double, vec& out) const { out = value; }
};

/// Three batch items of 10 elements: |values| < 1 (s clamps up to 1), a 0.995-quantile between 1 and 1.5
/// (s is the quantile), and one above 1.5 (s clamps down to 1.5).
const vec threshold_input{0.2, -0.9,  0.5, 0.95, -0.1, 0.0,  0.3,  -0.7, 0.6,  0.85,  //
                          1.1, -1.25, 0.4, 1.3,  -0.2, 1.05, -1.4, 0.9,  -0.6, 0.1,   //
                          2.5, -3.0,  0.1, 1.7,  -1.6, 0.2,  2.0,  -0.4, 1.2,  0.8};

}  // namespace

TEST_CASE("dynamic threshold primitive against a hand-computed quantile") {
    // Item 1 by hand: |x| sorted = 0.1 0.2 0.4 0.6 0.9 1.05 1.1 1.25 1.3 1.4; position 0.995·9 = 8.955
    // → 1.3 + 0.955·(1.4 − 1.3) = 1.3955.
    const auto expected = mrsolve_test::reference_threshold(threshold_input, 3, 0.995, 1.5);
    CHECK(expected[16] == doctest::Approx(-1.0));           // −1.4 clamped to −1.3955, divided by 1.3955
    CHECK(expected[13] == doctest::Approx(1.3 / 1.3955));
    CHECK(expected[21] == doctest::Approx(-1.0));           // item 2: s = 1.5
    CHECK(expected[23] == doctest::Approx(1.5 / 1.5));
    CHECK(expected[26] == doctest::Approx(1.0));
    CHECK(expected[28] == doctest::Approx(1.2 / 1.5));
    CHECK(expected[1] == doctest::Approx(-0.9));            // item 0: s = 1
    for (const double ratio : {0.995, 0.5, 1.0, 0.01, 0.9}) {
        for (const double max_value : {1.5, 1.0, 10.0}) {
            for (const std::size_t items : {std::size_t{1}, std::size_t{3}, std::size_t{5}, std::size_t{30}}) {
                CAPTURE(ratio);
                CAPTURE(max_value);
                CAPTURE(items);
                vec q = threshold_input;
                std::vector<double> scratch(q.size() / items);
                mrsolve::detail::dynamic_threshold(std::span<double>(q), items, ratio, max_value, scratch);
                const auto want = mrsolve_test::reference_threshold(threshold_input, items, ratio, max_value);
                for (std::size_t e = 0; e < q.size(); ++e) CHECK(q[e] == doctest::Approx(want[e]).epsilon(1e-14));
            }
        }
    }
}

TEST_CASE("dynamic thresholding in the sampler: applied to the converted output of every model call") {
    sample_options o;
    o.fit = fit_target::data;
    o.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 3};
    const auto expected = mrsolve_test::reference_threshold(threshold_input, 3, 0.995, 1.5);
    vec mu(30, 0.05);
    // One step with denoise_last: the result is the thresholded data prediction itself.
    {
        sample_options d = o;
        d.denoise_last = true;
        vec x(30, 0.3);
        const grid_t grid{100, 0};
        mrsolve::sample(mrsolve::mr_ode<data_prediction>{1}, table(), std::span<const double>(grid),
                        fixed_output_model{threshold_input}, x, mu, d);
        for (std::size_t e = 0; e < x.size(); ++e) CHECK(x[e] == doctest::Approx(expected[e]).epsilon(1e-14));
    }
    // One first-order ODE step (DESIGN §4, data prediction) with q₀ the thresholded output.
    {
        vec x(30, 0.3);
        const grid_t grid{60, 40};
        mrsolve::sample(mrsolve::mr_ode<data_prediction>{1}, table(), std::span<const double>(grid),
                        fixed_output_model{threshold_input}, x, mu, o);
        const auto& r = ref();
        const ld as = r.alpha[60], at = r.alpha[40], ss = r.sigma[60], st = r.sigma[40];
        const ld h = r.lambda[40] - r.lambda[60], phi1 = std::expm1(-h), ratio = st / ss;
        for (std::size_t e = 0; e < x.size(); ++e) {
            const ld want = ratio * 0.3L - at * phi1 * expected[e] + ld(mu[e]) * (1 - ratio + ratio * as - at);
            CHECK(x[e] == doctest::Approx(static_cast<double>(want)).epsilon(1e-12));
        }
    }
    // Multistep runs: the history holds thresholded values (checked step by step by the order detector).
    const mrsolve_test::gaussian_toy<table_t> big{&table(), {1.3, -1.2, 0.4, 2.0, -0.3, 1.1}, {0.5, 0.3, 0.2, 0.6, 0.1, 0.4},
                                                  fit_target::noise, 0};
    for (const int M : {5, 12}) {
        for (const auto& cfg : {mr_configs[0], mr_configs[2]}) {
            CAPTURE(cfg.name);
            sample_options m = with_policy(order_policy::published);
            m.thresholding = mrsolve::dynamic_thresholding{0.9, 1.5, 2};
            const grid_t grid = make_grid(table(), schedule_kind::linspace, M);
            const trace tr = cfg.kind == mr_kind::ode_data
                                 ? trace_run_with(mrsolve::mr_ode<data_prediction>{3}, table(), grid, m, big)
                                 : trace_run_with(mrsolve::mr_sde<data_prediction>{2}, table(), grid, m, big);
            CHECK(detect_orders(tr, cfg.kind, cfg.max_order, table(), grid, m) ==
                  expected_orders(order_policy::published, cfg.max_order, M));
            // The thresholding was active (some |x̂₀| above 1) at least once.
            bool active = false;
            for (const auto& call : tr.calls)
                for (const ld v : converted(call, table(), with_policy(order_policy::published), fit_target::data))
                    active = active || std::abs(v) > 1;
            CHECK(active);
        }
    }
}

// ---- baselines (docs/theory.md §5) ---------------------------------------------------------------------

namespace {

enum class baseline { euler_maruyama, euler_ode, posterior };

/// One baseline step from s to t on the cosine tables, from the long-double reference tables.
std::vector<ld> reference_baseline_step(baseline b, step_mode mode, double s, double t, const mrsolve_test::model_call& call,
                                        fit_target fit, int step) {
    const auto& r = ref();
    using mrsolve_test::interpolate_at;
    const ld as = interpolate_at(r.alpha, s), ss = interpolate_at(r.sigma, s);
    const ld at = interpolate_at(r.alpha, t), st = interpolate_at(r.sigma, t);
    const ld ls = r.lambda_s;
    const bool fixed = mode == step_mode::published_fixed;
    std::vector<ld> out(call.x.size());
    for (std::size_t e = 0; e < out.size(); ++e) {
        const ld x = call.x[e], mu = mu6[e], z = b == baseline::euler_ode ? 0 : z_value(step, e);
        const ld eps = mrsolve_test::reference_convert(fit, fit_target::noise, as, ss, ls, x, mu, call.out[e]);
        const ld x0 = mrsolve_test::reference_convert(fit, fit_target::data, as, ss, ls, x, mu, call.out[e]);
        if (b == baseline::posterior) {
            ld keep, toward, var;
            if (!fixed) {
                const ld a = as / at, v = ss * ss - a * a * st * st;
                keep = a * st * st / (ss * ss);
                toward = at * v / (ss * ss);
                var = st * st * v / (ss * ss);
            } else {
                const auto j = static_cast<std::size_t>(std::lround(s));
                const ld A = std::exp(-r.theta[j] * r.dt), B = std::exp(-r.theta_bar[j] * r.dt),
                         C = std::exp(-r.theta_bar[j - 1] * r.dt);
                keep = A * (1 - C * C) / (1 - B * B);
                toward = C * (1 - A * A) / (1 - B * B);
                var = ls * ls * (1 - A * A) * (1 - C * C) / (1 - B * B);
            }
            out[e] = mu + keep * (x - mu) + toward * (x0 - mu) + std::sqrt(var) * z;
        } else {
            const ld delta = fixed ? 1 : ld(s) - ld(t);
            // Published: θ(s)·dt and 2 σ_∞² θ(s)·dt; variable: the rates of the interpolated α and σ.
            const ld f = fixed ? interpolate_at(r.theta, s) * r.dt : mrsolve_test::variable_step_rates(r, s).f;
            const ld g2 = fixed ? 2 * ls * ls * f : mrsolve_test::variable_step_rates(r, s).g2;
            const ld score_weight = b == baseline::euler_maruyama ? g2 : g2 / 2;
            out[e] = x - (f * (mu - x) + score_weight * eps / ss) * delta + std::sqrt(g2 * delta) * z;
        }
    }
    return out;
}

/// Runs a baseline and compares every step with the reference (from the recorded inputs).
template <class Method>
void check_baseline(const Method& method, baseline b, const grid_t& grid, fit_target fit) {
    CAPTURE(method.name());
    CAPTURE(mrsolve::to_string(fit));
    const int M = static_cast<int>(grid.size()) - 1;
    CAPTURE(M);
    sample_options o;
    o.fit = fit;
    const trace tr = trace_run(method, table(), grid, o);
    check_observer(tr, table(), grid, o);
    REQUIRE(tr.calls.size() == static_cast<std::size_t>(M));
    for (int i = 1; i <= M; ++i) {
        CAPTURE(i);
        const auto& call = tr.calls[static_cast<std::size_t>(i) - 1];
        CHECK(call.t == grid[static_cast<std::size_t>(i) - 1]);
        const auto want = reference_baseline_step(b, method.mode, grid[static_cast<std::size_t>(i) - 1],
                                                  grid[static_cast<std::size_t>(i)], call, fit, i);
        CHECK(max_rel_dev(want, tr.observed[static_cast<std::size_t>(i) - 1].x) < 1e-11);
    }
    if (b == baseline::euler_ode) {
        CHECK(tr.noise_steps.empty());
    } else {
        std::vector<int> steps;
        for (int i = 1; i <= M; ++i) steps.push_back(i);
        CHECK(tr.noise_steps == steps);
    }
}

}  // namespace

TEST_CASE("published fixed-step posterior and Euler-Maruyama: one step against DESIGN §5 by hand") {
    // From t = 60 to 40 on the tables: the published forms use the one-table-step transition at j = 60.
    const grid_t grid{60, 40};
    const auto& r = ref();
    vec x{0.5, -0.1, 0.3, 0.2, -0.25, 0.05};
    const auto model = toy(table());
    vec eps(6);
    model(x, mu6, 60.0, eps);
    // Posterior, published: A = e^{−θ₆₀ dt}, B = e^{−θ̄₆₀ dt}, C = e^{−θ̄₅₉ dt}.
    {
        std::vector<int> steps;
        vec y = x;
        mrsolve::sample(mrsolve::posterior_sampling{1, step_mode::published_fixed}, table(), std::span<const double>(grid),
                        model, y, mu6, {}, recording_noise(steps));
        const ld A = std::exp(-r.theta[60] * r.dt), B = std::exp(-r.theta_bar[60] * r.dt),
                 C = std::exp(-r.theta_bar[59] * r.dt);
        for (std::size_t e = 0; e < 6; ++e) {
            const ld x0 = mu6[e] + (ld(x[e]) - mu6[e] - r.sigma[60] * eps[e]) / r.alpha[60];
            const ld mean = A * (1 - C * C) / (1 - B * B) * (x[e] - mu6[e]) + C * (1 - A * A) / (1 - B * B) * (x0 - mu6[e]);
            const ld sd = r.lambda_s * std::sqrt((1 - A * A) * (1 - C * C) / (1 - B * B));
            CHECK(y[e] == doctest::Approx(static_cast<double>(mu6[e] + mean + sd * z_value(1, e))).epsilon(1e-12));
        }
        CHECK(steps == std::vector<int>{1});
    }
    // Euler–Maruyama, published: Δ = one table step; f = θ₆₀ dt, g² = 2 σ_∞² f.
    {
        vec y = x;
        std::vector<int> steps;
        mrsolve::sample(mrsolve::euler_maruyama{1, step_mode::published_fixed}, table(), std::span<const double>(grid),
                        model, y, mu6, {}, recording_noise(steps));
        const ld f = r.theta[60] * r.dt, g2 = 2 * r.lambda_s * r.lambda_s * f;
        for (std::size_t e = 0; e < 6; ++e) {
            const ld want = x[e] - (f * (mu6[e] - x[e]) + g2 * eps[e] / r.sigma[60]) + std::sqrt(g2) * z_value(1, e);
            CHECK(y[e] == doctest::Approx(static_cast<double>(want)).epsilon(1e-12));
        }
    }
    // Euler–Maruyama, variable: Δ = 20; f = (α₅₉ − α₆₀)/α₆₀, g² = 2σ₆₀(σ₆₀ − σ₅₉) + 2fσ₆₀² (theory.md §5).
    {
        vec y = x;
        std::vector<int> steps;
        mrsolve::sample(mrsolve::euler_maruyama{}, table(), std::span<const double>(grid), model, y, mu6, {},
                        recording_noise(steps));
        const ld f = (r.alpha[59] - r.alpha[60]) / r.alpha[60];
        const ld g2 = 2 * r.sigma[60] * (r.sigma[60] - r.sigma[59]) + 2 * f * r.sigma[60] * r.sigma[60];
        for (std::size_t e = 0; e < 6; ++e) {
            const ld want =
                x[e] - (f * (mu6[e] - x[e]) + g2 * eps[e] / r.sigma[60]) * 20 + std::sqrt(g2 * 20) * z_value(1, e);
            CHECK(y[e] == doctest::Approx(static_cast<double>(want)).epsilon(1e-12));
        }
    }
    // Posterior, variable: a = α₆₀/α₄₀, v = σ₆₀² − a² σ₄₀².
    {
        vec y = x;
        std::vector<int> steps;
        mrsolve::sample(mrsolve::posterior_sampling{}, table(), std::span<const double>(grid), model, y, mu6, {},
                        recording_noise(steps));
        const ld a = r.alpha[60] / r.alpha[40], s2 = r.sigma[60] * r.sigma[60], t2 = r.sigma[40] * r.sigma[40];
        const ld v = s2 - a * a * t2;
        for (std::size_t e = 0; e < 6; ++e) {
            const ld x0 = mu6[e] + (ld(x[e]) - mu6[e] - r.sigma[60] * eps[e]) / r.alpha[60];
            const ld want = mu6[e] + a * t2 / s2 * (x[e] - mu6[e]) + r.alpha[40] * v / s2 * (x0 - mu6[e]) +
                            std::sqrt(t2 * v / s2) * z_value(1, e);
            CHECK(y[e] == doctest::Approx(static_cast<double>(want)).epsilon(1e-12));
        }
    }
}

TEST_CASE("baselines step by step: Euler-Maruyama, Euler ODE and posterior, variable and published steps") {
    for (const auto fit : {fit_target::noise, fit_target::data, fit_target::velocity}) {
        for (const int M : {1, 5, 10}) {
            const grid_t lin = make_grid(table(), schedule_kind::linspace, M);
            const grid_t kn = make_grid(table(), schedule_kind::karras_n, M + 2);
            for (const auto mode : {step_mode::variable, step_mode::published_fixed}) {
                check_baseline(mrsolve::euler_maruyama{1, mode}, baseline::euler_maruyama, lin, fit);
                check_baseline(mrsolve::euler_ode{1, mode}, baseline::euler_ode, lin, fit);
                check_baseline(mrsolve::posterior_sampling{1, mode}, baseline::posterior, lin, fit);
            }
            check_baseline(mrsolve::euler_maruyama{}, baseline::euler_maruyama, kn, fit);
            check_baseline(mrsolve::euler_ode{}, baseline::euler_ode, kn, fit);
            check_baseline(mrsolve::posterior_sampling{}, baseline::posterior, kn, fit);
        }
    }
}

TEST_CASE("Heun: two evaluations per step, predictor and trapezoidal corrector (DESIGN §5)") {
    for (const auto mode : {step_mode::variable, step_mode::published_fixed}) {
        for (const auto fit : {fit_target::noise, fit_target::data}) {
            CAPTURE(static_cast<int>(mode));
            const grid_t grid = make_grid(table(), schedule_kind::linspace, 5);
            sample_options o;
            o.fit = fit;
            const trace tr = trace_run(mrsolve::heun_ode{2, mode}, table(), grid, o);
            CHECK(tr.result.nfe == 10);
            REQUIRE(tr.calls.size() == 10);
            check_observer(tr, table(), grid, o, false);  // model_output: see the next test case
            CHECK(tr.noise_steps.empty());
            const auto& r = ref();
            const auto derivative = [&](const mrsolve_test::model_call& call) {
                using mrsolve_test::interpolate_at;
                const ld a = interpolate_at(r.alpha, call.t), s = interpolate_at(r.sigma, call.t);
                // Published: θ(t)·dt and 2 σ_∞² θ(t)·dt; variable: the rates of the interpolated α and σ.
                const bool fixed = mode == step_mode::published_fixed;
                const ld f = fixed ? interpolate_at(r.theta, call.t) * r.dt : mrsolve_test::variable_step_rates(r, call.t).f;
                const ld g2 = fixed ? 2 * r.lambda_s * r.lambda_s * f : mrsolve_test::variable_step_rates(r, call.t).g2;
                std::vector<ld> d(call.x.size());
                for (std::size_t e = 0; e < d.size(); ++e) {
                    const ld eps =
                        mrsolve_test::reference_convert(fit, fit_target::noise, a, s, r.lambda_s, call.x[e], mu6[e], call.out[e]);
                    d[e] = f * (mu6[e] - call.x[e]) + g2 * eps / (2 * s);
                }
                return d;
            };
            for (int i = 1; i <= 5; ++i) {
                CAPTURE(i);
                const double s = grid[static_cast<std::size_t>(i) - 1], t = grid[static_cast<std::size_t>(i)];
                const ld delta = mode == step_mode::variable ? ld(s - t) : 1;
                const auto& first = tr.calls[2 * static_cast<std::size_t>(i) - 2];
                const auto& second = tr.calls[2 * static_cast<std::size_t>(i) - 1];
                CHECK(first.t == s);
                CHECK(second.t == doctest::Approx(static_cast<double>(s - delta)).epsilon(1e-15));
                const auto d1 = derivative(first);
                std::vector<ld> predictor(6);
                for (std::size_t e = 0; e < 6; ++e) predictor[e] = first.x[e] - delta * d1[e];
                CHECK(max_rel_dev(predictor, second.x) < 1e-12);
                const auto d2 = derivative(second);
                std::vector<ld> corrected(6);
                for (std::size_t e = 0; e < 6; ++e) corrected[e] = first.x[e] - delta / 2 * (d1[e] + d2[e]);
                CHECK(max_rel_dev(corrected, tr.observed[static_cast<std::size_t>(i) - 1].x) < 1e-11);
            }
        }
    }
}

TEST_CASE("Heun: the observer's model_output is the step's first evaluation (as step_info documents)") {
    // sample.hpp documents step_info::model_output as "the raw model output of this step's (first)
    // evaluation"; Heun evaluates at (x_s, s) first and at the predictor second.
    const grid_t grid = make_grid(table(), schedule_kind::linspace, 4);
    const trace tr = trace_run(mrsolve::heun_ode{}, table(), grid);
    REQUIRE(tr.observed.size() == 4);
    for (std::size_t i = 0; i < 4; ++i) {
        CAPTURE(i);
        CHECK(tr.observed[i].model_output == tr.calls[2 * i].out);
    }
}

// ---- reuse, state types, noise ------------------------------------------------------------------

TEST_CASE("a sampler reused for several runs gives identical results") {
    const grid_t grid = make_grid(table(), schedule_kind::linspace, 10);
    const grid_t other = make_grid(table(), schedule_kind::karras_n, 7);
    const auto model = toy(table());
    const auto check_reuse = [&](const auto& method) {
        CAPTURE(method.name());
        using Method = std::decay_t<decltype(method)>;
        mrsolve::sampler<Method, table_t, vec> s(method, table(), xT6);
        vec a = xT6, b = xT6, c = xT6, d = xT6;
        s.run(std::span<const double>(grid), model, a, mu6, mrsolve::counter_noise{5});
        s.run(std::span<const double>(other), model, b, mu6, mrsolve::counter_noise{6});
        s.run(std::span<const double>(grid), model, c, mu6, mrsolve::counter_noise{5});
        CHECK(a == c);
        // A fresh one-shot sample agrees bit for bit.
        mrsolve::sample(method, table(), std::span<const double>(grid), model, d, mu6, {}, mrsolve::counter_noise{5});
        CHECK(a == d);
        CHECK(a != xT6);
    };
    check_reuse(mrsolve::mr_ode<noise_prediction>{3});
    check_reuse(mrsolve::mr_ode<data_prediction>{2});
    check_reuse(mrsolve::mr_sde<data_prediction>{2});
    check_reuse(mrsolve::heun_ode{});
    check_reuse(mrsolve::posterior_sampling{});
}

TEST_CASE("a sampler reused after a run that threw non_finite_error starts afresh") {
    // The failed run leaves model outputs in the multistep history; the next run must not use them.
    const grid_t grid = make_grid(table(), schedule_kind::linspace, 10);
    const auto model = toy(table());
    struct nan_at_step_5 {
        mrsolve_test::gaussian_toy<table_t> inner;
        int calls = 0;
        void operator()(const vec& x, const vec& mu, double t, vec& out) {
            inner(x, mu, t, out);
            if (++calls == 5) out[0] = std::numeric_limits<double>::quiet_NaN();
        }
    };
    mrsolve::sampler<mrsolve::mr_ode<data_prediction>, table_t, vec> s(mrsolve::mr_ode<data_prediction>{3}, table(), xT6);
    vec failed = xT6;
    CHECK_THROWS_AS(s.run(std::span<const double>(grid), nan_at_step_5{model}, failed, mu6), mrsolve::non_finite_error);
    vec again = xT6, fresh = xT6;
    CHECK_NOTHROW(s.run(std::span<const double>(grid), model, again, mu6));
    mrsolve::sample(mrsolve::mr_ode<data_prediction>{3}, table(), std::span<const double>(grid), model, fresh, mu6);
    CHECK(again == fresh);
    // The same when the network itself throws (here the stale history is finite: a silently wrong result).
    struct throws_at_step_5 {
        mrsolve_test::gaussian_toy<table_t> inner;
        int calls = 0;
        void operator()(const vec& x, const vec& mu, double t, vec& out) {
            if (++calls == 5) throw std::runtime_error("network failure");
            inner(x, mu, t, out);
        }
    };
    mrsolve::sampler<mrsolve::mr_ode<data_prediction>, table_t, vec> s2(mrsolve::mr_ode<data_prediction>{3}, table(), xT6);
    vec interrupted = xT6, after = xT6;
    CHECK_THROWS_AS(s2.run(std::span<const double>(grid), throws_at_step_5{model}, interrupted, mu6), std::runtime_error);
    CHECK_NOTHROW(s2.run(std::span<const double>(grid), model, after, mu6));
    CHECK(after == fresh);
}

namespace {

template <class S>
S make_state(const vec& v) {
    S s(v.size());
    for (std::size_t e = 0; e < v.size(); ++e) std::data(s)[e] = static_cast<std::remove_reference_t<decltype(std::data(s)[e])>>(v[e]);
    return s;
}

template <class S, class Method>
vec run_as(const Method& method, const grid_t& grid) {
    S x = make_state<S>(xT6), mu = make_state<S>(mu6);
    std::vector<int> steps;
    int calls = 0;
    const mrsolve_test::counting_model<mrsolve_test::gaussian_toy<table_t>> model{toy(table()), &calls};
    const auto result = mrsolve::sample(method, table(), std::span<const double>(grid), model, x, mu,
                                        with_policy(order_policy::published), recording_noise(steps));
    CHECK(result.nfe == calls);
    CHECK(result.steps == static_cast<int>(grid.size()) - 1);
    return mrsolve_test::to_doubles(x);
}

template <class Method>
void check_state_types(const Method& method) {
    CAPTURE(method.name());
    const grid_t grid = make_grid(table(), schedule_kind::karras_n, 10);
    const vec vd = run_as<std::vector<double>>(method, grid);
    const vec ed = run_as<Eigen::VectorXd>(method, grid);
    const vec vf = run_as<std::vector<float>>(method, grid);
    const vec ef = run_as<Eigen::VectorXf>(method, grid);
    CHECK(vd == ed);  // same backend code, same element type: bit for bit
    CHECK(vf == ef);
    for (std::size_t e = 0; e < vd.size(); ++e) CHECK(vf[e] == doctest::Approx(vd[e]).epsilon(1e-4).scale(1));
    CHECK(vd != xT6);
}

}  // namespace

TEST_CASE("std::vector<float>, std::vector<double>, Eigen::VectorXf and Eigen::VectorXd states agree") {
    check_state_types(mrsolve::mr_ode<data_prediction>{3});
    check_state_types(mrsolve::mr_ode<noise_prediction>{2});
    check_state_types(mrsolve::mr_sde<data_prediction>{2});
    check_state_types(mrsolve::mr_sde<noise_prediction>{1});
    check_state_types(mrsolve::posterior_sampling{});
    check_state_types(mrsolve::euler_maruyama{});
    check_state_types(mrsolve::heun_ode{});
}

TEST_CASE("counter_noise: same seed gives the bitwise same SDE result, another seed a different one") {
    const grid_t grid = make_grid(table(), schedule_kind::linspace, 10);
    const auto run = [&](const auto& method, auto noise) {
        vec x = xT6;
        mrsolve::sample(method, table(), std::span<const double>(grid), toy(table()), x, mu6, {}, noise);
        return x;
    };
    const auto check_seeds = [&](const auto& method) {
        CAPTURE(method.name());
        const vec a = run(method, mrsolve::counter_noise{42});
        const vec b = run(method, mrsolve::counter_noise{42});
        const vec c = run(method, mrsolve::counter_noise{43});
        CHECK(a == b);
        for (std::size_t e = 0; e < a.size(); ++e) CHECK(a[e] != c[e]);
        // The default noise is counter_noise with seed 0.
        vec d = xT6;
        mrsolve::sample(method, table(), std::span<const double>(grid), toy(table()), d, mu6);
        CHECK(d == run(method, mrsolve::counter_noise{0}));
    };
    check_seeds(mrsolve::mr_sde<data_prediction>{2});
    check_seeds(mrsolve::mr_sde<noise_prediction>{1});
    check_seeds(mrsolve::euler_maruyama{});
    check_seeds(mrsolve::posterior_sampling{1, step_mode::published_fixed});
    // Deterministic solvers ignore the seed.
    CHECK(run(mrsolve::mr_ode<data_prediction>{2}, mrsolve::counter_noise{1}) ==
          run(mrsolve::mr_ode<data_prediction>{2}, mrsolve::counter_noise{2}));
}

TEST_CASE("injected_noise is asked once per stochastic step with the step index") {
    for (const int M : {1, 4, 10}) {
        CAPTURE(M);
        const grid_t grid = make_grid(table(), schedule_kind::linspace, M);
        std::vector<int> all;
        for (int i = 1; i <= M; ++i) all.push_back(i);
        const auto steps_of = [&](const auto& method) { return trace_run(method, table(), grid).noise_steps; };
        CHECK(steps_of(mrsolve::mr_sde<data_prediction>{1}) == all);
        CHECK(steps_of(mrsolve::mr_sde<noise_prediction>{std::min(M, 2)}) == all);
        CHECK(steps_of(mrsolve::euler_maruyama{}) == all);
        CHECK(steps_of(mrsolve::euler_maruyama{1, step_mode::published_fixed}) == all);
        CHECK(steps_of(mrsolve::posterior_sampling{}) == all);
        CHECK(steps_of(mrsolve::posterior_sampling{1, step_mode::published_fixed}) == all);
        CHECK(steps_of(mrsolve::mr_ode<data_prediction>{1}).empty());
        CHECK(steps_of(mrsolve::euler_ode{}).empty());
        if (M >= 2) CHECK(steps_of(mrsolve::heun_ode{}).empty());  // M = 1: see the next test case
    }
}

TEST_CASE("heun_ode runs a one-step grid (a one-step, two-stage method: 2 NFE)") {
    // Heun needs no history; a single step is a valid run. The sampler's "NFE too small for the order"
    // check (meant for multistep methods) must not apply to it.
    const grid_t grid{100, 0};
    int calls = 0;
    const mrsolve_test::counting_model<mrsolve_test::gaussian_toy<table_t>> model{toy(table()), &calls};
    vec x = xT6;
    mrsolve::sample_result result;
    CHECK_NOTHROW(result = mrsolve::sample(mrsolve::heun_ode{}, table(), std::span<const double>(grid), model, x, mu6));
    CHECK(result.nfe == 2);
    CHECK(calls == 2);
}

// ---- the fused contiguous backend ---------------------------------------------------------------

namespace {

template <class T>
using traits = mrsolve::backend_traits<std::vector<T>>;

template <class T>
std::vector<T> ramp(std::size_t n, double a, double b) {
    std::vector<T> v(n);
    for (std::size_t e = 0; e < n; ++e) v[e] = static_cast<T>(a + b * std::sin(0.37 * double(e) + a));
    return v;
}

}  // namespace

TEST_CASE("backend linear_map: outputs may alias inputs") {
    for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{17}, std::size_t{1000}}) {
        CAPTURE(n);
        const auto a0 = ramp<double>(n, 0.3, 1.1), b0 = ramp<double>(n, -0.2, 0.7), c0 = ramp<double>(n, 0.9, 0.4);
        // a ← 2a + 3b (output = first input).
        {
            auto a = a0;
            const auto b = b0;
            CHECK(traits<double>::linear_map<1, 2>({&a}, {{{2.0, 3.0}}}, {&a, &b}));
            for (std::size_t e = 0; e < n; ++e) CHECK(a[e] == 2 * a0[e] + 3 * b0[e]);
        }
        // b ← a − ½ b (output = second input).
        {
            const auto a = a0;
            auto b = b0;
            CHECK(traits<double>::linear_map<1, 2>({&b}, {{{1.0, -0.5}}}, {&a, &b}));
            for (std::size_t e = 0; e < n; ++e) CHECK(b[e] == a0[e] - 0.5 * b0[e]);
        }
        // Two outputs: q ← a + b + c (a fresh vector) and a ← a − b + 0.25 c (aliasing): both see the old a.
        {
            auto a = a0;
            const auto b = b0, c = c0;
            std::vector<double> q(n);
            CHECK(traits<double>::linear_map<2, 3>({&q, &a}, {{{1.0, 1.0, 1.0}, {1.0, -1.0, 0.25}}}, {&a, &b, &c}));
            for (std::size_t e = 0; e < n; ++e) {
                CHECK(q[e] == a0[e] + b0[e] + c0[e]);
                CHECK(a[e] == a0[e] - b0[e] + 0.25 * c0[e]);
            }
        }
        // Both outputs alias both inputs (a, b) ← (a + b, a − b).
        {
            auto a = a0, b = b0;
            CHECK(traits<double>::linear_map<2, 2>({&a, &b}, {{{1.0, 1.0}, {1.0, -1.0}}}, {&a, &b}));
            for (std::size_t e = 0; e < n; ++e) {
                CHECK(a[e] == a0[e] + b0[e]);
                CHECK(b[e] == a0[e] - b0[e]);
            }
        }
        // float, five inputs, output aliasing the last.
        {
            auto v = ramp<float>(n, 0.1, 1.0);
            const auto w0 = v;
            const auto p = ramp<float>(n, 0.2, 1.0), q = ramp<float>(n, 0.3, 1.0), r = ramp<float>(n, 0.4, 1.0),
                       s = ramp<float>(n, 0.5, 1.0);
            CHECK(traits<float>::linear_map<1, 5>({&v}, {{{1.f, 2.f, -1.f, 0.5f, 3.f}}}, {&p, &q, &r, &s, &v}));
            for (std::size_t e = 0; e < n; ++e)
                CHECK(v[e] == doctest::Approx(p[e] + 2.f * q[e] - r[e] + 0.5f * s[e] + 3.f * w0[e]).epsilon(1e-6));
        }
    }
}

namespace {

/// linear_map with two outputs out0 = c0·(a, b), out1 = c1·(a, b), where a = b = 1 except a[p] = b[p] = big.
template <class T>
bool flag_for(std::size_t n, std::size_t p, T big, std::array<T, 2> c0, std::array<T, 2> c1, bool alias) {
    std::vector<T> a(n, T(1)), b(n, T(1)), o0(n), o1(n);
    a[p] = big;
    b[p] = big;
    std::vector<T>* first = alias ? &a : &o0;
    return traits<T>::template linear_map<2, 2>({first, &o1}, {{c0, c1}}, {&a, &b});
}

template <class T>
void check_flags() {
    const T big = std::numeric_limits<T>::max() / 4;  // 10·big overflows; 1·big does not
    const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
    const std::array<T, 2> tame{T(1e-3), T(1e-3)}, plus_inf{T(10), T(0)}, minus_inf{T(-10), T(0)},
        make_nan{T(10), T(-10)}, fine{T(1), T(0.5)};
    for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{5}, std::size_t{8}, std::size_t{13},
                                std::size_t{33}, std::size_t{257}}) {
        for (std::size_t p = 0; p < n; p += (n > 40 ? 7 : 1)) {
            CAPTURE(n);
            CAPTURE(p);
            for (const bool alias : {false, true}) {
                CAPTURE(alias);
                // Finite everywhere (even with values near the maximum): true.
                CHECK(flag_for<T>(n, p, big, tame, tame, alias));
                CHECK(flag_for<T>(n, p, big, fine, fine, alias));
                CHECK(flag_for<T>(n, p, std::numeric_limits<T>::max(), {T(1), T(0)}, {T(0), T(1)}, alias));
                // +Inf, −Inf or NaN in either output: false.
                for (const auto& bad : {plus_inf, minus_inf, make_nan}) {
                    CHECK_FALSE(flag_for<T>(n, p, big, bad, tame, alias));
                    CHECK_FALSE(flag_for<T>(n, p, big, tame, bad, alias));
                }
                // NaN or Inf already in an input: false.
                CHECK_FALSE(flag_for<T>(n, p, nan, fine, fine, alias));
                CHECK_FALSE(flag_for<T>(n, p, inf, tame, tame, alias));
                CHECK_FALSE(flag_for<T>(n, p, -inf, tame, tame, alias));
            }
        }
    }
}

}  // namespace

TEST_CASE("backend linear_map flags NaN and +-Inf in any output element, and only then") {
    check_flags<double>();
    check_flags<float>();
}

}  // namespace test_sampling
