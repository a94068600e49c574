// Bad input: every invalid argument or configuration gets an mrsolve::invalid_argument whose message names
// the offending value, and a NaN/Inf produced during sampling an mrsolve::non_finite_error that names the
// step (docs/reliability.md §1).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <mrsolve/mrsolve.hpp>

#include "support/toy_models.hpp"
#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_inputs {

namespace {

using mrsolve::data_prediction;
using mrsolve::noise_prediction;
using mrsolve::schedule_kind;
using mrsolve::step_mode;
using vec = std::vector<double>;
using grid_t = std::vector<double>;
using table_t = mrsolve::irsde_table<double>;
using continuous_t = mrsolve::ir_sde<double>;

constexpr double NaN_ = std::numeric_limits<double>::quiet_NaN();
constexpr double Inf_ = std::numeric_limits<double>::infinity();

const mrsolve::irsde_parameters& defaults = mrsolve_test::cosine_parameters;

const table_t& table() {
    return mrsolve_test::cosine_table();
}
const continuous_t& continuous() {
    static const continuous_t c(defaults);
    return c;
}

/// doctest's substring matcher for a std::string.
doctest::Contains has(const std::string& text) { return doctest::Contains(text.c_str()); }

/// A value as the library's messages print it (17 significant digits).
std::string fmt(double v) {
    std::ostringstream out;
    out.precision(17);
    out << v;
    return out.str();
}

template <class Family>
mrsolve_test::gaussian_toy<Family> toy(const Family& family, mrsolve::fit_target fit = mrsolve::fit_target::noise) {
    return {&family, {0.3, -0.2, 0.1, 0.5}, {0.2, 0.3, 0.25, 0.1}, fit, static_cast<double>(family.stationary_std())};
}

const vec mu4{0.1, -0.4, 0.2, 0.0};
const vec x4{0.5, -0.1, 0.3, 0.2};
const grid_t grid10{100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0};

/// Samples once with the given method on the given family (default: the tables, 10 linspace steps).
template <class Method, class Family = table_t, class Model = mrsolve_test::gaussian_toy<Family>>
mrsolve::sample_result run(const Method& method, const grid_t& grid = grid10, mrsolve::sample_options options = {},
                           const Family& family = table(), Model model = toy(table()), vec x = x4,
                           const vec& mu = mu4) {
    return mrsolve::sample(method, family, std::span<const double>(grid), model, x, mu, options);
}

/// A network that writes `value` into element 1 of its output at the `bad_call`-th call (1-based).
template <class Family>
struct faulty_model {
    mrsolve_test::gaussian_toy<Family> inner;
    int bad_call;
    double value;
    int calls = 0;
    void operator()(const vec& x, const vec& mu, double t, vec& out) {
        inner(x, mu, t, out);
        if (++calls == bad_call) out[1] = value;
    }
};

/// A network that returns an output of the wrong size.
struct resizing_model {
    std::size_t size;
    void operator()(const vec&, const vec&, double, vec& out) const { out.assign(size, 0.25); }
};

/// Checks that a run with a faulty model throws non_finite_error naming `step`, with step() == step.
template <class Method>
void check_non_finite(const Method& method, int bad_call, double value, int step, mrsolve::sample_options options = {},
                      const grid_t& grid = grid10) {
    CAPTURE(method.name());
    CAPTURE(bad_call);
    CAPTURE(value);
    const faulty_model<table_t> model{toy(table(), options.fit), bad_call, value};
    const std::string expected = "step " + std::to_string(step) + " ";
    CHECK_THROWS_WITH_AS(run(method, grid, options, table(), model), has(expected),
                         mrsolve::non_finite_error);
    try {
        run(method, grid, options, table(), model);
        FAIL("no exception");
    } catch (const mrsolve::non_finite_error& e) {
        CHECK(e.step() == step);
        CHECK(std::isfinite(e.time()));
        CHECK(e.time() >= 0.0);
        CHECK(e.time() <= 100.0);
    }
}

/// A coefficient family without a stationary standard deviation (otherwise the continuous cosine IR-SDE).
struct no_stationary_family {
    using real_type = double;
    continuous_t inner{defaults};
    double alpha(double t) const { return inner.alpha(t); }
    double sigma(double t) const { return inner.sigma(t); }
    double lambda(double t) const { return inner.lambda(t); }
    double t_of_lambda(double l) const { return inner.t_of_lambda(l); }
    double drift_rate(double t) const { return inner.drift_rate(t); }
    double diffusion_sq(double t) const { return inner.diffusion_sq(t); }
    double t_min() const { return inner.t_min(); }
    double t_max() const { return inner.t_max(); }
};
static_assert(mrsolve::CoefficientFamily<no_stationary_family>);
static_assert(!mrsolve::StationaryFamily<no_stationary_family>);

mrsolve::sample_options thresholded(double ratio, double max_value, std::size_t items) {
    mrsolve::sample_options o;
    o.fit = mrsolve::fit_target::data;
    o.thresholding = mrsolve::dynamic_thresholding{ratio, max_value, items};
    return o;
}

/// The orders of a singlestep run over grid10 (10 steps).
const std::vector<int> orders10{2, 2, 2, 2, 2, 3, 3, 1, 2, 1};

/// Builds a singlestep_sampler and runs grid10 once.
template <class P = data_prediction, class Family = table_t, class Model = mrsolve_test::gaussian_toy<Family>>
mrsolve::singlestep_result run_singlestep(mrsolve::singlestep_options options = {}, vec x = x4, const vec& mu = mu4,
                                          const Family& family = table(), Model model = toy(table()),
                                          const grid_t& grid = grid10) {
    mrsolve::singlestep_sampler<P, Family, vec> s(family, x, options);
    return s.run(std::span<const double>(grid), std::span<const int>(orders10), model, x, mu);
}

/// Builds an adaptive_sampler and runs it once from t = 100 to t = 10.
template <class P = data_prediction, class Family = table_t, class Model = mrsolve_test::gaussian_toy<Family>>
mrsolve::adaptive_result run_adaptive(mrsolve::adaptive_options options = {}, vec x = x4, const vec& mu = mu4,
                                      const Family& family = table(), Model model = toy(table())) {
    mrsolve::adaptive_sampler<P, Family, vec> s(family, x, options);
    return s.run(100.0, 10.0, model, x, mu);
}

}  // namespace

TEST_CASE("NFE <= 0 is rejected by make_grid, naming the value") {
    for (const int nfe : {0, -1, -7}) {
        CAPTURE(nfe);
        CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::linspace, nfe),
                             has("got " + std::to_string(nfe)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS((void)make_grid(continuous(), schedule_kind::karras_n, nfe),
                             has("got " + std::to_string(nfe)), mrsolve::invalid_argument);
    }
    // A schedule that degenerates (leading with more steps than table entries) names the schedule and NFE.
    CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::leading, 150), has("NFE 150"),
                         mrsolve::invalid_argument);
}

TEST_CASE("NFE too small for a multistep order") {
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{3}, grid_t{100, 50, 0}), has("NFE 2"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<noise_prediction>{3}, grid_t{100, 50, 0}), has("order 3"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid_t{100, 0}), has("NFE 1"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_sde<data_prediction>{2}, grid_t{100, 0}), has("NFE 1"),
                         mrsolve::invalid_argument);
    // Exactly enough steps is fine.
    CHECK_NOTHROW(run(mrsolve::mr_ode<data_prediction>{3}, grid_t{100, 60, 30, 0}));
}

TEST_CASE("unsupported orders are rejected, naming the order") {
    const auto check_order = [](const auto& method, const std::string& expected) {
        CAPTURE(method.name());
        CHECK_THROWS_WITH_AS(run(method), has(expected), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method), has("order"), mrsolve::invalid_argument);
    };
    check_order(mrsolve::mr_ode<data_prediction>{0}, "got order 0");
    check_order(mrsolve::mr_ode<noise_prediction>{0}, "got order 0");
    check_order(mrsolve::mr_ode<data_prediction>{4}, "got order 4");
    check_order(mrsolve::mr_ode<noise_prediction>{-1}, "got order -1");
    check_order(mrsolve::mr_sde<data_prediction>{3}, "got order 3");
    check_order(mrsolve::mr_sde<noise_prediction>{0}, "got order 0");
    check_order(mrsolve::euler_maruyama{2, step_mode::variable}, "got order 2");
    check_order(mrsolve::euler_ode{2, step_mode::variable}, "got order 2");
    check_order(mrsolve::posterior_sampling{2, step_mode::variable}, "got order 2");
    check_order(mrsolve::heun_ode{1, step_mode::variable}, "got 1");
    check_order(mrsolve::heun_ode{3, step_mode::variable}, "got 3");
}

TEST_CASE("bad grids passed to sample are rejected, naming the offending time") {
    const mrsolve::mr_ode<data_prediction> method{2};
    CHECK_THROWS_WITH_AS(run(method, grid_t{100, NaN_, 0}), has("nan"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(method, grid_t{Inf_, 50, 0}), has("inf"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(method, grid_t{100, 50, -Inf_}), has("-inf"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(method, grid_t{100, 50, 50, 0}), has("t[2] = 50"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(method, grid_t{100, 40, 60, 0}), has("t[2] = 60"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(method, grid_t{150, 50, 0}), has("150"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(method, grid_t{100, 50, -2.5}), has("-2.5"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{1}, grid_t{100}), has("got 1"),
                         mrsolve::invalid_argument);
    // Continuous family: below t_min.
    CHECK_THROWS_WITH_AS(run(method, grid_t{100, 50, 0.01}, {}, continuous(), toy(continuous())),
                         has("0.01"), mrsolve::invalid_argument);
}

TEST_CASE("IR-SDE parameters: eps outside (0, 1), max_sigma <= 0, T < 1, t_min outside (0, T)") {
    for (const double eps : {0.0, 1.0, -0.1, 1.5, NaN_}) {
        CAPTURE(eps);
        CHECK_THROWS_WITH_AS(table_t({mrsolve::theta_schedule::cosine, 100, 50, eps}), has(fmt(eps)),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(continuous_t({mrsolve::theta_schedule::linear, 100, 50, eps}), has(fmt(eps)),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(table_t({mrsolve::theta_schedule::cosine, 100, 50, eps}), has("eps"),
                             mrsolve::invalid_argument);
    }
    for (const double max_sigma : {0.0, -3.0, -0.5, NaN_, Inf_}) {
        CAPTURE(max_sigma);
        CHECK_THROWS_WITH_AS(table_t({mrsolve::theta_schedule::cosine, 100, max_sigma, 0.005}),
                             has(fmt(max_sigma)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(continuous_t({mrsolve::theta_schedule::constant, 100, max_sigma, 0.005}),
                             has(fmt(max_sigma)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS((void)mrsolve::stationary_std_from_max_sigma(max_sigma),
                             has(fmt(max_sigma)), mrsolve::invalid_argument);
    }
    for (const int T : {0, -1, -100}) {
        CAPTURE(T);
        CHECK_THROWS_WITH_AS(table_t({mrsolve::theta_schedule::cosine, T, 50, 0.005}),
                             has("got " + std::to_string(T)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(continuous_t({mrsolve::theta_schedule::cosine, T, 50, 0.005}),
                             has("got " + std::to_string(T)), mrsolve::invalid_argument);
    }
    for (const double t_min : {0.0, 100.0, 150.0, NaN_}) {
        CAPTURE(t_min);
        CHECK_THROWS_WITH_AS(continuous_t(defaults, t_min), has(fmt(t_min)), mrsolve::invalid_argument);
    }
}

TEST_CASE("size mismatches between x, mu and the model output") {
    const mrsolve::mr_ode<data_prediction> method{2};
    // x and μ differ.
    CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), toy(table()), x4, vec{0.1, 0.2, 0.3}),
                         has("size 3"), mrsolve::invalid_argument);
    // The sampler is set up for size 4, then run with size 5.
    mrsolve::sampler<mrsolve::mr_ode<data_prediction>, table_t, vec> s(method, table(), x4);
    vec x5{0.1, 0.2, 0.3, 0.4, 0.5}, mu5 = x5;
    CHECK_THROWS_WITH_AS(s.run(std::span<const double>(grid10), toy(table()), x5, mu5), has("size 5"),
                         mrsolve::invalid_argument);
    // A model that resizes its output.
    CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), resizing_model{7}), has("size 7"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::heun_ode{}, grid10, {}, table(), resizing_model{2}), has("size 2"),
                         mrsolve::invalid_argument);
    // An empty state.
    CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), toy(table()), vec{}, vec{}), has("size 0"),
                         mrsolve::invalid_argument);
}

TEST_CASE("out-of-range enumerators in sample_options are rejected, naming the value") {
    const mrsolve::mr_ode<data_prediction> method{2};
    const auto rejects = [&](mrsolve::sample_options options, const std::string& field) {
        CAPTURE(field);
        CHECK_THROWS_WITH_AS((mrsolve::sampler<mrsolve::mr_ode<data_prediction>, table_t, vec>(method, table(), x4, options)),
                             has("sample_options::" + field + " is not a"), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, grid10, options, table(), toy(table())), has(": 7"), mrsolve::invalid_argument);
    };
    mrsolve::sample_options o;
    o.fit = static_cast<mrsolve::fit_target>(7);
    rejects(o, "fit");
    o = {};
    o.orders = static_cast<mrsolve::order_policy>(7);
    rejects(o, "orders");
    o = {};
    o.on_fault = static_cast<mrsolve::fault_policy>(7);
    rejects(o, "on_fault");
    o = {};
    o.lambda = static_cast<mrsolve::step_lambda>(7);
    rejects(o, "lambda");
    o = {};
    o.on_fault = static_cast<mrsolve::fault_policy>(-1);
    CHECK_THROWS_WITH_AS(run(method, grid10, o, table(), toy(table())), has("on_fault is not a fault_policy: -1"),
                         mrsolve::invalid_argument);
    // The published loop steps in the family's λ; mrsolve's default in ln(α/σ).
    CHECK(mrsolve::sample_options::published().lambda == mrsolve::step_lambda::family);
    CHECK(mrsolve::sample_options{}.lambda == mrsolve::step_lambda::alpha_sigma);
}

TEST_CASE("NaN or Inf in x_T or mu is rejected before sampling") {
    const mrsolve::mr_ode<data_prediction> method{2};
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        CAPTURE(bad);
        vec x = x4, mu = mu4;
        x[2] = bad;
        mu[3] = bad;
        CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), toy(table()), x, mu4), has("start state x"),
                             mrsolve::invalid_argument);
        // The message names the element and its value.
        const std::string value = mrsolve::detail::message(bad);
        CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), toy(table()), x, mu4), has("element 2 = " + value),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), toy(table()), x4, mu), has("mu"),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, grid10, {}, table(), toy(table()), x4, mu), has("element 3 = " + value),
                             mrsolve::invalid_argument);
    }
}

TEST_CASE("a model that returns NaN or Inf at step k: non_finite_error naming step k") {
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        for (const int k : {1, 3, 10}) {
            CAPTURE(k);
            check_non_finite(mrsolve::mr_ode<data_prediction>{2}, k, bad, k);
            check_non_finite(mrsolve::mr_ode<noise_prediction>{3}, k, bad, k);
            check_non_finite(mrsolve::mr_ode<data_prediction>{3}, k, bad, k, mrsolve::sample_options::published());
            check_non_finite(mrsolve::mr_sde<data_prediction>{2}, k, bad, k);
            check_non_finite(mrsolve::mr_sde<noise_prediction>{1}, k, bad, k);
            check_non_finite(mrsolve::euler_maruyama{}, k, bad, k);
            check_non_finite(mrsolve::euler_ode{}, k, bad, k);
            check_non_finite(mrsolve::posterior_sampling{}, k, bad, k);
            check_non_finite(mrsolve::posterior_sampling{1, step_mode::published_fixed}, k, bad, k);
            // denoise_last (the last step is a plain conversion) and thresholding (a separate code path).
            check_non_finite(mrsolve::mr_ode<data_prediction>{2}, k, bad, k,
                             mrsolve::sample_options::published(mrsolve::fit_target::noise, true));
            check_non_finite(mrsolve::mr_ode<data_prediction>{2}, k, bad, k, thresholded(0.995, 1.5, 1));
            auto both = thresholded(0.995, 1.5, 2);
            both.denoise_last = true;
            check_non_finite(mrsolve::mr_ode<data_prediction>{2}, k, bad, k, both);
            // Heun evaluates twice per step: both evaluations of step k are attributed to step k.
            check_non_finite(mrsolve::heun_ode{}, 2 * k - 1, bad, k);
            check_non_finite(mrsolve::heun_ode{}, 2 * k, bad, k);
        }
    }
    // A finite output that overflows when converted is reported too: a noise output converts to the data
    // prediction with the weight −σ/α, and σ/α > 1 at the noisy end of the table (t ≥ 80 here).
    const double huge = std::numeric_limits<double>::max();
    REQUIRE(table().sigma(80.0) > table().alpha(80.0));
    for (const int k : {1, 2, 3}) {
        check_non_finite(mrsolve::mr_ode<data_prediction>{2}, k, huge, k);
        check_non_finite(mrsolve::mr_sde<data_prediction>{2}, k, huge, k);
        check_non_finite(mrsolve::posterior_sampling{}, k, huge, k);
    }
    // The message names the time of the evaluation.
    const faulty_model<table_t> model{toy(table()), 3, NaN_};
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid10, {}, table(), model),
                         has("t = 80"), mrsolve::non_finite_error);
}

TEST_CASE("thresholding: only with data prediction, and with valid ratio, max_value and batch_items") {
    mrsolve::sample_options o = thresholded(0.995, 1.5, 1);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<noise_prediction>{2}, grid10, o), has("noise prediction"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_sde<noise_prediction>{2}, grid10, o), has("noise prediction"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::euler_maruyama{}, grid10, o), has("noise prediction"),
                         mrsolve::invalid_argument);
    CHECK_NOTHROW(run(mrsolve::mr_ode<data_prediction>{2}, grid10, o));
    CHECK_NOTHROW(run(mrsolve::posterior_sampling{}, grid10, o));

    const mrsolve::mr_ode<data_prediction> method{2};
    for (const double ratio : {0.0, -0.2, 1.5, NaN_}) {
        CAPTURE(ratio);
        CHECK_THROWS_WITH_AS(run(method, grid10, thresholded(ratio, 1.5, 1)), has(fmt(ratio)),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, grid10, thresholded(ratio, 1.5, 1)), has("ratio"),
                             mrsolve::invalid_argument);
    }
    for (const double max_value : {0.5, 0.0, -1.0, Inf_, NaN_}) {
        CAPTURE(max_value);
        CHECK_THROWS_WITH_AS(run(method, grid10, thresholded(0.995, max_value, 1)), has(fmt(max_value)),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, grid10, thresholded(0.995, max_value, 1)), has("max_value"),
                             mrsolve::invalid_argument);
    }
    for (const std::size_t items : {std::size_t{0}, std::size_t{3}, std::size_t{5}, std::size_t{8}}) {
        CAPTURE(items);
        CHECK_THROWS_WITH_AS(run(method, grid10, thresholded(0.995, 1.5, items)),
                             has("batch_items = " + std::to_string(items)), mrsolve::invalid_argument);
    }
    CHECK_NOTHROW(run(method, grid10, thresholded(1.0, 1.0, 4)));
}

TEST_CASE("velocity needs a family with a stationary standard deviation") {
    const no_stationary_family family;
    mrsolve::sample_options o;
    o.fit = mrsolve::fit_target::velocity;
    const grid_t grid{100, 50, 10, 0.1};
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid, o, family, toy(continuous())),
                         has("velocity"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid, o, family, toy(continuous())),
                         has("stationary"), mrsolve::invalid_argument);
    // The same family works with the noise and data targets.
    CHECK_NOTHROW(run(mrsolve::mr_ode<data_prediction>{2}, grid, {}, family, toy(continuous())));
    // The conversion itself names a bad σ_∞.
    for (const double ls : {0.0, -1.0, NaN_, Inf_}) {
        CAPTURE(ls);
        CHECK_THROWS_WITH_AS((void)mrsolve::conversion<double>(mrsolve::fit_target::velocity, mrsolve::fit_target::data,
                                                               0.5, 0.1, ls),
                             has(fmt(ls)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS((void)mrsolve::conversion<double>(mrsolve::fit_target::noise, mrsolve::fit_target::velocity,
                                                               0.5, 0.1, ls),
                             has(fmt(ls)), mrsolve::invalid_argument);
    }
    CHECK_THROWS_AS((void)mrsolve::conversion<double>(mrsolve::fit_target::velocity, mrsolve::fit_target::noise, 0.5, 0.1),
                    mrsolve::invalid_argument);
}

TEST_CASE("published fixed-step baselines: tables only, integer table times only") {
    const grid_t cgrid{100, 50, 10, 0.1};
    const auto on_continuous = [&](const auto& method) {
        CAPTURE(method.name());
        CHECK_THROWS_WITH_AS(run(method, cgrid, {}, continuous(), toy(continuous())), has("irsde_table"),
                             mrsolve::invalid_argument);
    };
    on_continuous(mrsolve::euler_maruyama{1, step_mode::published_fixed});
    on_continuous(mrsolve::euler_ode{1, step_mode::published_fixed});
    on_continuous(mrsolve::posterior_sampling{1, step_mode::published_fixed});
    on_continuous(mrsolve::heun_ode{2, step_mode::published_fixed});
    const auto non_integer = [&](const auto& method) {
        CAPTURE(method.name());
        CHECK_THROWS_WITH_AS(run(method, grid_t{100, 55.5, 0}), has("55.5"), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, grid_t{100, 50, 0.5, 0}), has("0.5"), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(method, make_grid(table(), schedule_kind::karras_n, 10)),
                             has("integer"), mrsolve::invalid_argument);
        CHECK_NOTHROW(run(method, grid10));
    };
    non_integer(mrsolve::euler_maruyama{1, step_mode::published_fixed});
    non_integer(mrsolve::euler_ode{1, step_mode::published_fixed});
    non_integer(mrsolve::posterior_sampling{1, step_mode::published_fixed});
    non_integer(mrsolve::heun_ode{2, step_mode::published_fixed});
    // The variable-step versions accept any grid on any family.
    CHECK_NOTHROW(run(mrsolve::posterior_sampling{}, cgrid, {}, continuous(), toy(continuous())));
    CHECK_NOTHROW(run(mrsolve::euler_maruyama{}, grid_t{100, 55.5, 0}));
}

TEST_CASE("denoise_last with heun_ode is rejected") {
    mrsolve::sample_options o;
    o.denoise_last = true;
    CHECK_THROWS_WITH_AS(run(mrsolve::heun_ode{}, grid10, o), has("denoise_last"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::heun_ode{}, grid10, o), has("heun_ode"), mrsolve::invalid_argument);
}

TEST_CASE("bad lambda_min, rho and leading offset") {
    const auto opts = [](double lambda_min, double rho, double offset) {
        mrsolve::schedule_options o;
        o.lambda_min = lambda_min;
        o.rho = rho;
        o.offset = offset;
        return o;
    };
    for (const double lambda_min : {NaN_, Inf_}) {
        CAPTURE(lambda_min);
        CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::linspace, 10, opts(lambda_min, 7, 0)),
                             has(fmt(lambda_min)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS((void)make_grid(continuous(), schedule_kind::linear_lambda, 10, opts(lambda_min, 7, 0)),
                             has(fmt(lambda_min)), mrsolve::invalid_argument);
    }
    // At or above λ(t_min): nothing left to sample.
    for (const double lambda_min : {100.0, table().lambda(0.0), table().lambda(0.0) + 0.25}) {
        CAPTURE(lambda_min);
        CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::linspace, 10, opts(lambda_min, 7, 0)),
                             has(fmt(lambda_min)), mrsolve::invalid_argument);
    }
    const double above = continuous().lambda(continuous().t_min()) + 1;
    CHECK_THROWS_WITH_AS((void)make_grid(continuous(), schedule_kind::karras_n, 10, opts(above, 7, 0)),
                         has(fmt(above)), mrsolve::invalid_argument);
    for (const double rho : {0.0, -2.0, NaN_, Inf_}) {
        CAPTURE(rho);
        CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::karras_n, 10, opts(-Inf_, rho, 0)),
                             has(fmt(rho)), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::karras_t, 10, opts(-Inf_, rho, 0)),
                             has("rho"), mrsolve::invalid_argument);
    }
    for (const double offset : {NaN_, Inf_}) {
        CAPTURE(offset);
        CHECK_THROWS_WITH_AS((void)make_grid(table(), schedule_kind::leading, 10, opts(-Inf_, 7, offset)),
                             has(fmt(offset)), mrsolve::invalid_argument);
    }
}

TEST_CASE("unknown names in the parse functions are named in the message") {
    CHECK_THROWS_WITH_AS((void)mrsolve::parse_schedule_kind("karras"), has("'karras'"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::parse_schedule_kind("Linspace"), has("'Linspace'"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::parse_schedule_kind(""), has("''"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::parse_fit_target("epsilon"), has("'epsilon'"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)mrsolve::parse_theta_schedule("quadratic"), has("'quadratic'"),
                         mrsolve::invalid_argument);
}

TEST_CASE("seed_history rejects a non-finite model output") {
    mrsolve::sampler<mrsolve::mr_ode<data_prediction>, table_t, vec> s(mrsolve::mr_ode<data_prediction>{3}, table(),
                                                                        x4);
    faulty_model<table_t> model{toy(table()), 1, NaN_};
    CHECK_THROWS_WITH_AS(s.seed_history(model, x4, mu4, 100.0), has("seed_history"),
                         mrsolve::invalid_argument);
}


TEST_CASE("every driver rejects an out-of-range enumerator in its options, naming the field and the value") {
    const auto check = [](auto&& call, const std::string& expected) {
        CAPTURE(expected);
        CHECK_THROWS_WITH_AS(call(), has(expected), mrsolve::invalid_argument);
    };
    for (const int bad : {7, -1, 3}) {
        CAPTURE(bad);
        const std::string value = std::to_string(bad);
        mrsolve::sample_options so;
        so.fit = static_cast<mrsolve::fit_target>(bad);
        check([&] { return run(mrsolve::mr_ode<data_prediction>{2}, grid10, so); }, "sample_options::fit is not a fit_target: " + value);
        so = {};
        so.on_fault = static_cast<mrsolve::fault_policy>(bad);
        check([&] { return run(mrsolve::mr_ode<data_prediction>{2}, grid10, so); },
              "sample_options::on_fault is not a fault_policy: " + value);
        mrsolve::singlestep_options ss;
        ss.fit = static_cast<mrsolve::fit_target>(bad);
        check([&] { return run_singlestep(ss); }, "singlestep_options::fit is not a fit_target: " + value);
        check([&] { return run_singlestep<noise_prediction>(ss); }, "singlestep_options::fit is not a fit_target: " + value);
        ss = {};
        ss.on_fault = static_cast<mrsolve::fault_policy>(bad);
        check([&] { return run_singlestep(ss); }, "singlestep_options::on_fault is not a fault_policy: " + value);
        mrsolve::adaptive_options ad;
        ad.fit = static_cast<mrsolve::fit_target>(bad);
        check([&] { return run_adaptive(ad); }, "adaptive_options::fit is not a fit_target: " + value);
        ad = {};
        ad.controller = static_cast<mrsolve::step_controller>(bad);
        check([&] { return run_adaptive(ad); }, "adaptive_options::controller is not a step_controller: " + value);
        ad = {};
        ad.scope = static_cast<mrsolve::tolerance_scope>(bad);
        check([&] { return run_adaptive(ad); }, "adaptive_options::scope is not a tolerance_scope: " + value);
        ad = {};
        ad.on_fault = static_cast<mrsolve::fault_policy>(bad);
        check([&] { return run_adaptive(ad); }, "adaptive_options::on_fault is not a fault_policy: " + value);
    }
    // The last enumerator of each is accepted (the range check is not off by one).
    mrsolve::adaptive_options last;
    last.controller = mrsolve::step_controller::proportional_integral;
    last.scope = mrsolve::tolerance_scope::per_step;
    last.fit = mrsolve::fit_target::velocity;
    last.on_fault = mrsolve::fault_policy::stop;
    CHECK_NOTHROW(run_adaptive(last, x4, mu4, table(), toy(table(), mrsolve::fit_target::velocity)));
    mrsolve::singlestep_options velocity;
    velocity.fit = mrsolve::fit_target::velocity;
    velocity.on_fault = mrsolve::fault_policy::stop;
    CHECK_NOTHROW(run_singlestep(velocity, x4, mu4, table(), toy(table(), mrsolve::fit_target::velocity)));
}

TEST_CASE("every driver names the element and the value of a non-finite x_T or mu") {
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        CAPTURE(bad);
        const std::string value = mrsolve::detail::message(bad);
        vec x = x4, mu = mu4;
        x[2] = bad;
        mu[3] = bad;
        const std::string in_x = "the start state x is not finite: element 2 = " + value;
        const std::string in_mu = "the condition mu is not finite: element 3 = " + value;
        CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid10, {}, table(), toy(table()), x), has(in_x),
                             mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid10, {}, table(), toy(table()), x4, mu),
                             has(in_mu), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run_singlestep({}, x), has(in_x), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run_singlestep({}, x4, mu), has(in_mu), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run_adaptive({}, x), has(in_x), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run_adaptive({}, x4, mu), has(in_mu), mrsolve::invalid_argument);
    }
}

TEST_CASE("every driver rejects bad thresholding the same way, naming the value") {
    const auto singlestep = [](double ratio, double max_value, std::size_t items) {
        mrsolve::singlestep_options o;
        o.fit = mrsolve::fit_target::data;
        o.thresholding = mrsolve::dynamic_thresholding{ratio, max_value, items};
        return o;
    };
    const auto adaptive = [](double ratio, double max_value, std::size_t items) {
        mrsolve::adaptive_options o;
        o.fit = mrsolve::fit_target::data;
        o.thresholding = mrsolve::dynamic_thresholding{ratio, max_value, items};
        return o;
    };
    const auto rejects = [&](double ratio, double max_value, std::size_t items, const std::string& expected) {
        CAPTURE(expected);
        CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid10, thresholded(ratio, max_value, items)),
                             has(expected), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run_singlestep(singlestep(ratio, max_value, items), x4, mu4, table(),
                                            toy(table(), mrsolve::fit_target::data)),
                             has(expected), mrsolve::invalid_argument);
        CHECK_THROWS_WITH_AS(run_adaptive(adaptive(ratio, max_value, items), x4, mu4, table(),
                                          toy(table(), mrsolve::fit_target::data)),
                             has(expected), mrsolve::invalid_argument);
    };
    for (const double ratio : {0.0, -0.2, 1.5, NaN_}) rejects(ratio, 1.5, 1, "thresholding ratio must lie in (0, 1], got " + fmt(ratio));
    for (const double max_value : {0.5, -1.0, Inf_, NaN_})
        rejects(0.995, max_value, 1, "thresholding max_value must be finite and >= 1, got " + fmt(max_value));
    for (const std::size_t items : {std::size_t{0}, std::size_t{3}})
        rejects(0.995, 1.5, items, "thresholding batch_items = " + std::to_string(items) + " must divide the state size 4");
    // Thresholding acts on the data prediction: each driver integrating the noise prediction rejects it.
    const std::string noise = "dynamic thresholding applies to the data prediction; this solver integrates the noise prediction";
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<noise_prediction>{2}, grid10, thresholded(0.995, 1.5, 1)), has(noise),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run_singlestep<noise_prediction>(singlestep(0.995, 1.5, 1)), has("singlestep_sampler: " + noise),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run_adaptive<noise_prediction>(adaptive(0.995, 1.5, 1)), has("adaptive_sampler: " + noise),
                         mrsolve::invalid_argument);
    // Valid options are accepted by each.
    CHECK_NOTHROW(run(mrsolve::mr_ode<data_prediction>{2}, grid10, thresholded(1.0, 1.0, 4)));
    CHECK_NOTHROW(run_singlestep(singlestep(1.0, 1.0, 4), x4, mu4, table(), toy(table(), mrsolve::fit_target::data)));
    CHECK_NOTHROW(run_adaptive(adaptive(1.0, 1.0, 4), x4, mu4, table(), toy(table(), mrsolve::fit_target::data)));
}

TEST_CASE("every driver rejects velocity on a family without a stationary standard deviation, and an empty state") {
    const no_stationary_family family;
    const std::string expected = "fit target velocity needs a family with a stationary standard deviation";
    mrsolve::sample_options so;
    so.fit = mrsolve::fit_target::velocity;
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid_t{100, 50, 10, 0.1}, so, family, toy(continuous())),
                         has(expected), mrsolve::invalid_argument);
    mrsolve::singlestep_options ss;
    ss.fit = mrsolve::fit_target::velocity;
    CHECK_THROWS_WITH_AS(run_singlestep(ss, x4, mu4, family, toy(continuous())), has("singlestep_sampler: " + expected),
                         mrsolve::invalid_argument);
    mrsolve::adaptive_options ad;
    ad.fit = mrsolve::fit_target::velocity;
    CHECK_THROWS_WITH_AS(run_adaptive(ad, x4, mu4, family, toy(continuous())), has("adaptive_sampler: " + expected),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run(mrsolve::mr_ode<data_prediction>{2}, grid10, {}, table(), toy(table()), vec{}, vec{}),
                         has("the state is empty (size 0)"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run_singlestep({}, vec{}, vec{}), has("singlestep_sampler: the state is empty (size 0)"),
                         mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS(run_adaptive({}, vec{}, vec{}), has("adaptive_sampler: the state is empty (size 0)"),
                         mrsolve::invalid_argument);
    // Sizes: x and mu of another size than the sampler's, the same message from each.
    const vec x5{0.1, 0.2, 0.3, 0.4, 0.5};
    mrsolve::singlestep_sampler<data_prediction, table_t, vec> single(table(), x4);
    vec x = x5;
    CHECK_THROWS_WITH_AS(single.run(std::span<const double>(grid10), std::span<const int>(orders10), toy(table()), x, x5),
                         has("state x has size 5 but the sampler was set up for size 4"), mrsolve::invalid_argument);
    mrsolve::adaptive_sampler<data_prediction, table_t, vec> adaptive(table(), x4);
    x = x4;
    CHECK_THROWS_WITH_AS(adaptive.run(100.0, 10.0, toy(table()), x, x5), has("condition mu has size 5 but the state has size 4"),
                         mrsolve::invalid_argument);
}

}  // namespace test_inputs
