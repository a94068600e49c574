// Faults from the network: a model that returns NaN/Inf at step k, throws, or writes an output of
// the wrong size. Each gets the documented behaviour (sample.hpp, docs/reliability.md section 6), for an
// ODE, an SDE, baseline solvers and the singlestep and adaptive samplers on std::vector states: the step
// index k (the stage for singlestep steps), the time, what the caller's x
// holds afterwards, and the alternative policy sample_options::on_fault = fault_policy::stop (return a
// status with the last finite state). This binary also counts allocations: the stop policy's run() must
// not allocate either.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <mrsolve/mrsolve.hpp>

#include "support/toy_models.hpp"
#include "support/problems.hpp"

#include "support/counting_new.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_faults {

using mrsolve_test::allocations;

namespace {

using mrsolve::data_prediction;
using mrsolve::fault_policy;
using mrsolve::noise_prediction;
using mrsolve::sample_status;
using vec = std::vector<double>;
using grid_t = std::vector<double>;
using table_t = mrsolve::irsde_table<double>;
using toy_t = mrsolve_test::gaussian_toy<table_t>;

constexpr double NaN_ = std::numeric_limits<double>::quiet_NaN();
constexpr double Inf_ = std::numeric_limits<double>::infinity();

const table_t& table() {
    return mrsolve_test::cosine_table();
}

toy_t toy(mrsolve::fit_target fit = mrsolve::fit_target::noise) {
    return {&table(), {0.3, -0.2, 0.1, 0.5}, {0.2, 0.3, 0.25, 0.1}, fit, table().stationary_std()};
}

const vec mu4{0.1, -0.4, 0.2, 0.0};
const vec x4{0.5, -0.1, 0.3, 0.2};
const grid_t grid10{100, 90, 80, 70, 60, 50, 40, 30, 20, 10, 0};

bool all_finite(const vec& v) {
    for (const double e : v)
        if (!std::isfinite(e)) return false;
    return true;
}

/// The kinds of fault a network can commit at its `bad_call`-th call (1-based).
enum class fault { none, value, exception, size };

struct network_failure : std::runtime_error {
    int call;
    explicit network_failure(int c) : std::runtime_error("network failure"), call(c) {}
};

/// The toy network, faulty at one call: writes `value` into element 1, throws, or resizes its output.
struct faulty_model {
    toy_t inner;
    fault kind = fault::none;
    int bad_call = 0;
    double value = NaN_;
    std::size_t size = 7;
    int calls = 0;
    void operator()(const vec& x, const vec& mu, double t, vec& out) {
        ++calls;
        if (calls == bad_call && kind == fault::exception) throw network_failure(calls);
        if (calls == bad_call && kind == fault::size) {
            out.assign(size, 0.25);
            return;
        }
        inner(x, mu, t, out);
        if (calls == bad_call && kind == fault::value) out[1] = value;
    }
};

/// Records x_{t_0}, x_{t_1}, … as the observer sees them (states[i] = x after step i).
struct recorder {
    std::vector<vec>* states;
    template <class Info>
    void operator()(const Info& info) const {
        states->push_back(info.x);
    }
};

/// The model evaluations per step of a method.
template <class Method>
constexpr int evaluations_per_step() {
    return mrsolve::TwoStageMethod<Method> ? 2 : 1;
}

/// One run on the std::vector backend with a sampler of its own; states[0] is the start state.
template <class Method>
struct fault_run {
    Method method;
    mrsolve::sample_options options{};
    std::vector<vec> states{};
    vec x = x4;

    mrsolve::sample_result operator()(faulty_model& model) {
        states.assign(1, x4);
        x = x4;
        mrsolve::sampler<Method, table_t, vec> s(method, table(), x, options);
        return s.run(std::span<const double>(grid10), model, x, mu4, mrsolve::counter_noise{7}, recorder{&states});
    }
};

/// The fault-free result of a method (the reference for "the sampler is still usable").
template <class Method>
vec clean_result(const Method& method, mrsolve::sample_options options = {}) {
    vec x = x4;
    faulty_model model{toy(options.fit)};
    mrsolve::sampler<Method, table_t, vec> s(method, table(), x, options);
    s.run(std::span<const double>(grid10), model, x, mu4, mrsolve::counter_noise{7});
    return x;
}

/// fault_policy::throw_error (the default) for a NaN/Inf model output at step k.
template <class Method>
void check_throw_policy(const Method& method, int k, int call_in_step, double value,
                        mrsolve::sample_options options = {}) {
    CAPTURE(method.name());
    CAPTURE(k);
    CAPTURE(call_in_step);
    CAPTURE(value);
    const int call = evaluations_per_step<Method>() * (k - 1) + call_in_step;
    fault_run<Method> run{method, options};
    faulty_model model{toy(options.fit), fault::value, call, value};
    try {
        run(model);
        FAIL("no exception");
    } catch (const mrsolve::non_finite_error& e) {
        CHECK(e.step() == k);
        CHECK(std::string(e.what()).find("model output at step " + std::to_string(k) + " ") != std::string::npos);
        if (call_in_step == 1) {
            CHECK(e.time() == grid10[static_cast<std::size_t>(k) - 1]);
        } else {  // Heun's second evaluation, at s − Δ inside the step
            CHECK(e.time() < grid10[static_cast<std::size_t>(k) - 1]);
            CHECK(e.time() >= grid10[static_cast<std::size_t>(k)]);
        }
    }
    CHECK(model.calls == call);  // the run stopped at the faulty evaluation
    REQUIRE(run.states.size() == static_cast<std::size_t>(k));  // the observer saw steps 1 … k − 1
    // x: the failed step's non-finite result, except where the fault is caught before x is written
    // (Heun's predictor, thresholding's conversion pass): then x_{t_{k−1}}, bitwise.
    const bool caught_before_write = (mrsolve::TwoStageMethod<Method> && call_in_step == 1) || options.thresholding;
    if (caught_before_write) {
        CHECK(run.x == run.states.back());
    } else {
        CHECK_FALSE(all_finite(run.x));
    }
}

/// fault_policy::stop for a NaN/Inf model output at step k: status, step, time, NFE, x = x_{t_{k−1}}.
template <class Method>
void check_stop_policy(const Method& method, int k, int call_in_step, double value,
                       mrsolve::sample_options options = {}) {
    CAPTURE(method.name());
    CAPTURE(k);
    CAPTURE(call_in_step);
    CAPTURE(value);
    options.on_fault = fault_policy::stop;
    const int call = evaluations_per_step<Method>() * (k - 1) + call_in_step;
    fault_run<Method> run{method, options};
    faulty_model model{toy(options.fit), fault::value, call, value};
    mrsolve::sample_result result;
    REQUIRE_NOTHROW(result = run(model));
    CHECK_FALSE(result.completed());
    CHECK(result.status == sample_status::non_finite_model_output);
    CHECK(result.fault_step == k);
    CHECK(result.steps == k - 1);
    CHECK(result.nfe == call);
    CHECK(model.calls == call);
    if (call_in_step == 1) {
        CHECK(result.fault_time == grid10[static_cast<std::size_t>(k) - 1]);
    } else {
        CHECK(result.fault_time < grid10[static_cast<std::size_t>(k) - 1]);
        CHECK(result.fault_time >= grid10[static_cast<std::size_t>(k)]);
    }
    REQUIRE(run.states.size() == static_cast<std::size_t>(k));
    CHECK(all_finite(run.x));
    CHECK(run.x == run.states.back());  // the last finite state x_{t_{k−1}} (x_{t_0} when k = 1), bitwise
}

}  // namespace

TEST_CASE("fault policy throw_error: a NaN/Inf model output at step k throws non_finite_error with k and its time") {
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        for (const int k : {1, 4, 10}) {
            check_throw_policy(mrsolve::mr_ode<data_prediction>{2}, k, 1, bad);
            check_throw_policy(mrsolve::mr_ode<noise_prediction>{3}, k, 1, bad);
            check_throw_policy(mrsolve::mr_sde<data_prediction>{2}, k, 1, bad);
            check_throw_policy(mrsolve::mr_sde<noise_prediction>{1}, k, 1, bad);
            check_throw_policy(mrsolve::mr_unipc<data_prediction>{3}, k, 1, bad);
            check_throw_policy(mrsolve::mr_eta<data_prediction>{2, 0.5}, k, 1, bad);
            check_throw_policy(mrsolve::euler_maruyama{}, k, 1, bad);
            check_throw_policy(mrsolve::posterior_sampling{}, k, 1, bad);
            check_throw_policy(mrsolve::heun_ode{}, k, 1, bad);
            check_throw_policy(mrsolve::heun_ode{}, k, 2, bad);
            mrsolve::sample_options thresholded;
            thresholded.fit = mrsolve::fit_target::data;
            thresholded.thresholding = mrsolve::dynamic_thresholding{};
            check_throw_policy(mrsolve::mr_ode<data_prediction>{2}, k, 1, bad, thresholded);
        }
    }
}

TEST_CASE("fault policy stop: a NaN/Inf model output at step k returns its status with x = the last finite state") {
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        for (const int k : {1, 4, 10}) {
            check_stop_policy(mrsolve::mr_ode<data_prediction>{2}, k, 1, bad);
            check_stop_policy(mrsolve::mr_ode<noise_prediction>{3}, k, 1, bad);
            check_stop_policy(mrsolve::mr_ode<data_prediction>{3}, k, 1, bad, mrsolve::sample_options::published());
            check_stop_policy(mrsolve::mr_sde<data_prediction>{2}, k, 1, bad);
            check_stop_policy(mrsolve::mr_sde<noise_prediction>{1}, k, 1, bad);
            check_stop_policy(mrsolve::mr_unipc<noise_prediction>{2}, k, 1, bad);
            check_stop_policy(mrsolve::mr_unipc<data_prediction>{3}, k, 1, bad);
            check_stop_policy(mrsolve::mr_eta<data_prediction>{3, 0.3}, k, 1, bad);
            check_stop_policy(mrsolve::euler_maruyama{}, k, 1, bad);
            check_stop_policy(mrsolve::euler_ode{}, k, 1, bad);
            check_stop_policy(mrsolve::posterior_sampling{}, k, 1, bad);
            check_stop_policy(mrsolve::posterior_sampling{1, mrsolve::step_mode::published_fixed}, k, 1, bad);
            check_stop_policy(mrsolve::heun_ode{}, k, 1, bad);
            check_stop_policy(mrsolve::heun_ode{}, k, 2, bad);
            // denoise_last (the last step is a conversion) and thresholding (two passes per step).
            check_stop_policy(mrsolve::mr_ode<data_prediction>{2}, k, 1, bad,
                              mrsolve::sample_options::published(mrsolve::fit_target::noise, true));
            mrsolve::sample_options thresholded;
            thresholded.fit = mrsolve::fit_target::data;
            thresholded.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 2};
            check_stop_policy(mrsolve::mr_ode<data_prediction>{2}, k, 1, bad, thresholded);
            thresholded.denoise_last = true;
            check_stop_policy(mrsolve::mr_ode<data_prediction>{2}, k, 1, bad, thresholded);
        }
    }
}

TEST_CASE("fault policy stop: a finite output whose update overflows stops with non_finite_state at the step's end time") {
    // A noise output converts to the data prediction with the weight −σ/α, and σ/α > 1 at t ≥ 80 here.
    const double huge = std::numeric_limits<double>::max();
    REQUIRE(table().sigma(80.0) > table().alpha(80.0));
    const auto check = [&](const auto& method, int k) {
        CAPTURE(method.name());
        CAPTURE(k);
        using Method = std::remove_cvref_t<decltype(method)>;
        fault_run<Method> run{method, {}};
        run.options.on_fault = fault_policy::stop;
        faulty_model model{toy(), fault::value, k, huge};
        const auto result = run(model);
        CHECK(result.status == sample_status::non_finite_state);
        CHECK(result.fault_step == k);
        CHECK(result.fault_time == grid10[static_cast<std::size_t>(k)]);
        CHECK(result.steps == k - 1);
        CHECK(run.x == run.states.back());
        // The default policy reports the same step, as "the state became NaN or Inf".
        fault_run<Method> thrower{method, {}};
        faulty_model again{toy(), fault::value, k, huge};
        CHECK_THROWS_WITH_AS(thrower(again), doctest::Contains(("state became NaN or Inf at step " + std::to_string(k)).c_str()),
                             mrsolve::non_finite_error);
    };
    for (const int k : {1, 2, 3}) {
        check(mrsolve::mr_ode<data_prediction>{2}, k);
        check(mrsolve::mr_sde<data_prediction>{2}, k);
        check(mrsolve::posterior_sampling{}, k);
    }
}

TEST_CASE("fault policy stop: without a fault the run is the throw_error run, bit for bit") {
    const auto check = [](const auto& method, mrsolve::sample_options options = {}) {
        CAPTURE(method.name());
        const vec reference = clean_result(method, options);
        options.on_fault = fault_policy::stop;
        using Method = std::remove_cvref_t<decltype(method)>;
        fault_run<Method> run{method, options};
        faulty_model model{toy(options.fit)};
        const auto result = run(model);
        CHECK(result.completed());
        CHECK(result.fault_step == 0);
        CHECK(std::isnan(result.fault_time));
        CHECK(result.steps == 10);
        CHECK(result.nfe == 10 * evaluations_per_step<Method>());
        CHECK(run.x == reference);
    };
    check(mrsolve::mr_ode<data_prediction>{3});
    check(mrsolve::mr_sde<noise_prediction>{2});
    check(mrsolve::euler_maruyama{});
    check(mrsolve::heun_ode{});
    check(mrsolve::mr_ode<data_prediction>{2}, mrsolve::sample_options::published(mrsolve::fit_target::noise, true));
}

TEST_CASE("a model that throws at step k: the exception propagates unchanged, x holds x_{t_{k-1}}, the sampler is reusable") {
    const auto check = [](const auto& method, int k, int call_in_step, fault_policy policy) {
        CAPTURE(method.name());
        CAPTURE(k);
        CAPTURE(call_in_step);
        using Method = std::remove_cvref_t<decltype(method)>;
        mrsolve::sample_options options;
        options.on_fault = policy;  // the policy is for NaN/Inf only: a throw propagates under both
        const int call = evaluations_per_step<Method>() * (k - 1) + call_in_step;
        fault_run<Method> run{method, options};
        faulty_model model{toy(), fault::exception, call};
        try {
            run(model);
            FAIL("no exception");
        } catch (const network_failure& e) {
            CHECK(e.call == call);  // the model's own exception, unchanged
        }
        REQUIRE(run.states.size() == static_cast<std::size_t>(k));
        CHECK(run.x == run.states.back());  // the model reads x and never writes it
        // The same sampler, reused with a working model, gives the fault-free result.
        mrsolve::sampler<Method, table_t, vec> s(method, table(), x4, options);
        vec x = x4;
        faulty_model failing{toy(), fault::exception, call};
        CHECK_THROWS_AS(s.run(std::span<const double>(grid10), failing, x, mu4, mrsolve::counter_noise{7}),
                        network_failure);
        x = x4;
        faulty_model working{toy()};
        s.run(std::span<const double>(grid10), working, x, mu4, mrsolve::counter_noise{7});
        CHECK(x == clean_result(method));
    };
    for (const auto policy : {fault_policy::throw_error, fault_policy::stop}) {
        for (const int k : {1, 5, 10}) {
            check(mrsolve::mr_ode<data_prediction>{3}, k, 1, policy);
            check(mrsolve::mr_sde<data_prediction>{2}, k, 1, policy);
            check(mrsolve::euler_maruyama{}, k, 1, policy);
            check(mrsolve::heun_ode{}, k, 1, policy);
            check(mrsolve::heun_ode{}, k, 2, policy);
        }
    }
}

TEST_CASE("a model output of the wrong size at step k: invalid_argument naming k and both sizes, x holds x_{t_{k-1}}, the sampler is reusable") {
    const auto check = [](const auto& method, int k, int call_in_step, std::size_t size, fault_policy policy) {
        CAPTURE(method.name());
        CAPTURE(k);
        CAPTURE(call_in_step);
        CAPTURE(size);
        using Method = std::remove_cvref_t<decltype(method)>;
        mrsolve::sample_options options;
        options.on_fault = policy;  // a wrong size is a programming error: it throws under both policies
        const int call = evaluations_per_step<Method>() * (k - 1) + call_in_step;
        const std::string expected = "the model output at step " + std::to_string(k) + " (t = ";
        const std::string sizes = "has size " + std::to_string(size) + ", expected 4";
        fault_run<Method> run{method, options};
        faulty_model model{toy(), fault::size, call, NaN_, size};
        try {
            run(model);
            FAIL("no exception");
        } catch (const mrsolve::invalid_argument& e) {
            CHECK(std::string(e.what()).find(expected) != std::string::npos);
            CHECK(std::string(e.what()).find(sizes) != std::string::npos);
        }
        REQUIRE(run.states.size() == static_cast<std::size_t>(k));
        CHECK(run.x == run.states.back());
        // The sampler gives its workspace its shape back: a model that writes in place (without resizing)
        // works on the same sampler afterwards and gives the fault-free result.
        mrsolve::sampler<Method, table_t, vec> s(method, table(), x4, options);
        vec x = x4;
        faulty_model resizing{toy(), fault::size, call, NaN_, size};
        CHECK_THROWS_AS(s.run(std::span<const double>(grid10), resizing, x, mu4, mrsolve::counter_noise{7}),
                        mrsolve::invalid_argument);
        x = x4;
        faulty_model working{toy()};
        s.run(std::span<const double>(grid10), working, x, mu4, mrsolve::counter_noise{7});
        CHECK(x == clean_result(method));
    };
    for (const auto policy : {fault_policy::throw_error, fault_policy::stop}) {
        for (const std::size_t size : {std::size_t{0}, std::size_t{2}, std::size_t{7}}) {
            for (const int k : {1, 6, 10}) {
                check(mrsolve::mr_ode<noise_prediction>{2}, k, 1, size, policy);
                check(mrsolve::mr_sde<data_prediction>{1}, k, 1, size, policy);
                check(mrsolve::posterior_sampling{}, k, 1, size, policy);
                check(mrsolve::heun_ode{}, k, 1, size, policy);
                check(mrsolve::heun_ode{}, k, 2, size, policy);
            }
        }
    }
}

TEST_CASE("fault policy stop: run() allocates nothing, with or without a fault") {
    const auto allocations_in = [](auto method, int bad_call) {
        CAPTURE(method.name());
        CAPTURE(bad_call);
        mrsolve::sample_options options;
        options.on_fault = fault_policy::stop;
        vec x = x4;
        mrsolve::sampler<decltype(method), table_t, vec> s(method, table(), x, options);
        faulty_model model{toy(), bad_call == 0 ? fault::none : fault::value, bad_call};
        const mrsolve::counter_noise noise(3);
        const long before = allocations.load();
        const auto result = s.run(std::span<const double>(grid10), model, x, mu4, noise);
        const long after = allocations.load();
        CHECK(result.completed() == (bad_call == 0));
        return after - before;
    };
    for (const int bad_call : {0, 1, 5}) {
        CHECK(allocations_in(mrsolve::mr_ode<data_prediction>{3}, bad_call) == 0);
        CHECK(allocations_in(mrsolve::mr_sde<data_prediction>{2}, bad_call) == 0);
        CHECK(allocations_in(mrsolve::euler_maruyama{}, bad_call) == 0);
        CHECK(allocations_in(mrsolve::heun_ode{}, bad_call) == 0);
    }
    // The counter sees allocations.
    const long before = allocations.load();
    auto* p = new vec(16);
    CHECK(p->size() == 16);
    delete p;
    CHECK(allocations.load() - before >= 1);
}


namespace {

/// The step orders of the singlestep runs over grid10: 20 model calls, every order at several positions.
const std::vector<int> ss_orders{3, 2, 1, 3, 2, 1, 2, 3, 1, 2};

/// The model calls made before step k (1-based) of a singlestep run with ss_orders.
int calls_before(int k) {
    int calls = 0;
    for (int i = 0; i + 1 < k; ++i) calls += ss_orders[static_cast<std::size_t>(i)];
    return calls;
}

/// Runs the first `steps` steps of grid10 with a singlestep_sampler (all of them by default).
template <class P = data_prediction>
mrsolve::singlestep_result run_singlestep(mrsolve::singlestep_sampler<P, table_t, vec>& s, faulty_model& model, vec& x,
                                          int steps = 10) {
    return s.run(std::span<const double>(grid10.data(), static_cast<std::size_t>(steps) + 1),
                 std::span<const int>(ss_orders.data(), static_cast<std::size_t>(steps)), model, x, mu4);
}

/// x_{t_steps} of the fault-free singlestep run (x4 for steps = 0).
template <class P = data_prediction>
vec singlestep_state_after(int steps, mrsolve::singlestep_options options = {}) {
    vec x = x4;
    if (steps == 0) return x;
    mrsolve::singlestep_sampler<P, table_t, vec> s(table(), x, options);
    faulty_model model{toy(options.fit)};
    run_singlestep(s, model, x, steps);
    return x;
}

/// throw_error for a NaN/Inf model output at stage `stage` of singlestep step k: step, stage and time named.
template <class P>
void check_singlestep_throw(int k, int stage, double value, mrsolve::singlestep_options options = {}) {
    CAPTURE(k);
    CAPTURE(stage);
    CAPTURE(value);
    CAPTURE(options.thresholding.has_value());
    const int call = calls_before(k) + stage;
    vec x = x4;
    mrsolve::singlestep_sampler<P, table_t, vec> s(table(), x, options);
    faulty_model model{toy(options.fit), fault::value, call, value};
    try {
        run_singlestep(s, model, x);
        FAIL("no exception");
    } catch (const mrsolve::non_finite_error& e) {
        CHECK(e.step() == k);
        const std::string expected = "model output at step " + std::to_string(k) + " (stage " + std::to_string(stage);
        CHECK(std::string(e.what()).find(expected) != std::string::npos);
        if (stage == 1) {
            CHECK(e.time() == grid10[static_cast<std::size_t>(k) - 1]);
        } else {  // an inner stage, strictly inside the step
            CHECK(e.time() < grid10[static_cast<std::size_t>(k) - 1]);
            CHECK(e.time() > grid10[static_cast<std::size_t>(k)]);
        }
    }
    CHECK(model.calls == call);  // the run stopped at the faulty evaluation
}

}  // namespace

TEST_CASE("singlestep_sampler: a NaN/Inf model output at any stage of step k throws non_finite_error naming k, the stage and its time") {
    mrsolve::singlestep_options thresholded;
    thresholded.fit = mrsolve::fit_target::data;
    thresholded.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 2};
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        for (const int k : {1, 2, 3, 4, 10}) {
            for (int stage = 1; stage <= ss_orders[static_cast<std::size_t>(k) - 1]; ++stage) {
                check_singlestep_throw<data_prediction>(k, stage, bad);
                check_singlestep_throw<noise_prediction>(k, stage, bad);
                check_singlestep_throw<data_prediction>(k, stage, bad, thresholded);
            }
        }
    }
}

TEST_CASE("singlestep_sampler: a model that throws or returns the wrong size at step k leaves x = x_{t_{k-1}}, the sampler reusable") {
    const vec clean = singlestep_state_after(10);
    for (const int k : {1, 4, 8, 10}) {
        for (int stage = 1; stage <= ss_orders[static_cast<std::size_t>(k) - 1]; ++stage) {
            CAPTURE(k);
            CAPTURE(stage);
            const int call = calls_before(k) + stage;
            const vec before = singlestep_state_after(k - 1);
            vec x = x4;
            mrsolve::singlestep_sampler<data_prediction, table_t, vec> s(table(), x);
            faulty_model throwing{toy(), fault::exception, call};
            try {
                run_singlestep(s, throwing, x);
                FAIL("no exception");
            } catch (const network_failure& e) {
                CHECK(e.call == call);  // the model's own exception, unchanged
            }
            CHECK(x == before);  // the stages write the workspace; x is written by the step's last pass only
            faulty_model resizing{toy(), fault::size, call, NaN_, 7};
            x = x4;
            try {
                run_singlestep(s, resizing, x);
                FAIL("no exception");
            } catch (const mrsolve::invalid_argument& e) {
                const std::string what = e.what();
                CHECK(what.find("the model output at step " + std::to_string(k) + " (t = ") != std::string::npos);
                CHECK(what.find("has size 7, expected 4") != std::string::npos);
            }
            CHECK(x == before);
            // The same sampler with a working model gives the fault-free result.
            faulty_model working{toy()};
            x = x4;
            run_singlestep(s, working, x);
            CHECK(x == clean);
        }
    }
}

TEST_CASE("adaptive_sampler: NaN/Inf, a throwing model and a wrong size at trial k; x stays finite and the sampler reusable") {
    const auto clean = [] {
        vec x = x4;
        mrsolve::adaptive_sampler<data_prediction, table_t, vec> s(table(), x);
        faulty_model model{toy()};
        s.run(100.0, 10.0, model, x, mu4);
        return x;
    }();
    REQUIRE(all_finite(clean));
    for (const int call : {1, 2, 3, 5, 9}) {
        CAPTURE(call);
        const int trial = (call - 1) / 3 + 1;  // order 3: three calls per trial
        vec x = x4;
        mrsolve::adaptive_sampler<data_prediction, table_t, vec> s(table(), x);
        for (const double bad : {NaN_, Inf_, -Inf_}) {
            CAPTURE(bad);
            x = x4;
            faulty_model model{toy(), fault::value, call, bad};
            try {
                s.run(100.0, 10.0, model, x, mu4);
                FAIL("no exception");
            } catch (const mrsolve::non_finite_error& e) {
                CHECK(e.step() == trial);
                const std::string expected = "model output at step " + std::to_string(trial) + " (stage " +
                                             std::to_string((call - 1) % 3 + 1);
                CHECK(std::string(e.what()).find(expected) != std::string::npos);
            }
            CHECK(model.calls == call);
            CHECK(all_finite(x));  // the last accepted state
        }
        x = x4;
        faulty_model throwing{toy(), fault::exception, call};
        CHECK_THROWS_AS(s.run(100.0, 10.0, throwing, x, mu4), network_failure);
        CHECK(all_finite(x));
        x = x4;
        faulty_model resizing{toy(), fault::size, call, NaN_, 2};
        CHECK_THROWS_WITH_AS(s.run(100.0, 10.0, resizing, x, mu4),
                             doctest::Contains(("the model output at step " + std::to_string(trial) + " (t = ").c_str()),
                             mrsolve::invalid_argument);
        CHECK(all_finite(x));
        x = x4;
        faulty_model working{toy()};
        s.run(100.0, 10.0, working, x, mu4);
        CHECK(x == clean);
    }
}

namespace {

/// A singlestep run over grid10 with a recording observer: states[0] = x4, states[i] = x after step i.
template <class P = data_prediction>
struct singlestep_fault_run {
    mrsolve::singlestep_options options{};
    std::vector<vec> states{};
    vec x = x4;

    mrsolve::singlestep_result operator()(faulty_model& model) {
        states.assign(1, x4);
        x = x4;
        mrsolve::singlestep_sampler<P, table_t, vec> s(table(), x, options);
        return s.run(std::span<const double>(grid10), std::span<const int>(ss_orders), model, x, mu4, recorder{&states});
    }
};

/// fault_policy::stop for a NaN/Inf model output at stage `stage` of singlestep step k.
template <class P>
void check_singlestep_stop(int k, int stage, double value, mrsolve::singlestep_options options = {}) {
    CAPTURE(k);
    CAPTURE(stage);
    CAPTURE(value);
    CAPTURE(options.thresholding.has_value());
    options.on_fault = fault_policy::stop;
    const int call = calls_before(k) + stage;
    singlestep_fault_run<P> run{options};
    faulty_model model{toy(options.fit), fault::value, call, value};
    mrsolve::singlestep_result result;
    REQUIRE_NOTHROW(result = run(model));
    CHECK_FALSE(result.completed());
    CHECK(result.status == sample_status::non_finite_model_output);
    CHECK(result.fault_step == k);
    CHECK(result.steps == k - 1);
    CHECK(result.nfe == call);
    CHECK(model.calls == call);
    if (stage == 1) {
        CHECK(result.fault_time == grid10[static_cast<std::size_t>(k) - 1]);
    } else {
        CHECK(result.fault_time < grid10[static_cast<std::size_t>(k) - 1]);
        CHECK(result.fault_time > grid10[static_cast<std::size_t>(k)]);
    }
    REQUIRE(run.states.size() == static_cast<std::size_t>(k));  // the observer saw steps 1 … k − 1
    CHECK(all_finite(run.x));
    CHECK(run.x == run.states.back());  // x_{t_{k−1}}, bitwise
    options.on_fault = fault_policy::throw_error;
    CHECK(run.x == singlestep_state_after<P>(k - 1, options));
}

}  // namespace

TEST_CASE("singlestep_sampler, fault policy stop: a NaN/Inf model output at step k returns its status with x = x_{t_{k-1}}") {
    mrsolve::singlestep_options thresholded;
    thresholded.fit = mrsolve::fit_target::data;
    thresholded.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 2};
    for (const double bad : {NaN_, Inf_, -Inf_}) {
        for (const int k : {1, 2, 3, 4, 10}) {
            for (int stage = 1; stage <= ss_orders[static_cast<std::size_t>(k) - 1]; ++stage) {
                check_singlestep_stop<data_prediction>(k, stage, bad);
                check_singlestep_stop<noise_prediction>(k, stage, bad);
                check_singlestep_stop<data_prediction>(k, stage, bad, thresholded);
            }
        }
    }
}

TEST_CASE("singlestep_sampler, fault policy stop: a state that overflows stops with non_finite_state; no fault: the throw_error run, bit for bit") {
    // A huge finite output need not overflow a singlestep pass (its weight can be below one; the multistep
    // loop stores q₀ on its own). A huge start element does: noise prediction scales x by α_t/α_s > 1.
    REQUIRE(table().alpha(grid10[1]) > table().alpha(grid10[0]));
    vec start = x4;
    start[1] = std::numeric_limits<double>::max();
    const auto zero_model = [](const vec&, const vec&, double, vec& out) { std::fill(out.begin(), out.end(), 0.0); };
    for (const auto policy : {fault_policy::stop, fault_policy::throw_error}) {
        mrsolve::singlestep_options options;
        options.on_fault = policy;
        vec x = start;
        mrsolve::singlestep_sampler<noise_prediction, table_t, vec> s(table(), x, options);
        if (policy == fault_policy::throw_error) {
            CHECK_THROWS_WITH_AS(s.run(std::span<const double>(grid10), std::span<const int>(ss_orders), zero_model, x, mu4),
                                 doctest::Contains("the state became NaN or Inf at step 1 (t = "), mrsolve::non_finite_error);
            continue;
        }
        const auto result = s.run(std::span<const double>(grid10), std::span<const int>(ss_orders), zero_model, x, mu4);
        CHECK(result.status == sample_status::non_finite_state);
        CHECK(result.fault_step == 1);
        CHECK(result.steps == 0);
        CHECK(result.nfe == 1);  // the first stage state overflowed before the second evaluation
        CHECK(result.fault_time < grid10[0]);  // that stage state's time, inside the step
        CHECK(result.fault_time > grid10[1]);
        CHECK(x == start);  // x_{t_0}, bitwise
    }
    for (const auto policy : {fault_policy::throw_error, fault_policy::stop}) {
        singlestep_fault_run<noise_prediction> run;
        run.options.on_fault = policy;
        faulty_model model{toy()};
        const auto result = run(model);
        CHECK(result.completed());
        CHECK(result.fault_step == 0);
        CHECK(std::isnan(result.fault_time));
        CHECK(result.steps == 10);
        CHECK(result.nfe == 20);
        CHECK(run.x == singlestep_state_after<noise_prediction>(10));
        // The observer saw every step: x_{t_i} of the first i steps run alone.
        REQUIRE(run.states.size() == 11);
        for (int i = 0; i <= 10; ++i) CHECK(run.states[static_cast<std::size_t>(i)] == singlestep_state_after<noise_prediction>(i));
    }
}

TEST_CASE("singlestep_sampler observer: step, steps, time, lambda and the first stage's model output") {
    vec x = x4;
    mrsolve::singlestep_sampler<data_prediction, table_t, vec> s(table(), x);
    std::vector<int> steps_seen;
    int calls = 0;
    auto model = [&calls](const vec& xs, const vec& mu, double t, vec& out) {
        ++calls;
        toy()(xs, mu, t, out);
        out[0] = t;  // marks which evaluation wrote the output
    };
    const auto observer = [&](const mrsolve::step_info<double, vec>& info) {
        steps_seen.push_back(info.step);
        CHECK(info.steps == 10);
        CHECK(info.t == grid10[static_cast<std::size_t>(info.step)]);
        CHECK(info.lambda == mrsolve::detail::alpha_sigma_lambda(table(), info.t));  // the λ̃ it steps in
        CHECK(&info.x == &x);
        CHECK(info.model_output[0] == grid10[static_cast<std::size_t>(info.step) - 1]);  // stage 1, at t_{i−1}
    };
    const auto result = s.run(std::span<const double>(grid10), std::span<const int>(ss_orders), model, x, mu4, observer);
    CHECK(result.completed());
    CHECK(calls == 20);
    CHECK(steps_seen == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("adaptive_sampler, fault policy stop: status, trial and time; x as after an NFE cap; no fault: the throw_error run") {
    const auto make = [](mrsolve::tolerance_scope scope, fault_policy policy) {
        mrsolve::adaptive_options o;
        o.scope = scope;
        o.on_fault = policy;
        return o;
    };
    for (const auto scope : {mrsolve::tolerance_scope::per_step, mrsolve::tolerance_scope::global}) {
        CAPTURE(static_cast<int>(scope));
        // The fault-free run, with its accepted states as the observer sees them.
        vec clean = x4;
        std::vector<vec> clean_states{x4};
        mrsolve::adaptive_sampler<data_prediction, table_t, vec> reference(table(), clean, make(scope, fault_policy::throw_error));
        faulty_model working{toy()};
        const auto clean_result = reference.run(100.0, 10.0, working, clean, mu4, recorder{&clean_states});
        REQUIRE(clean_result.completed());
        CHECK(static_cast<int>(clean_states.size()) == clean_result.accepted + 1);
        CHECK(clean_states.back() == clean);
        vec x = x4;
        mrsolve::adaptive_sampler<data_prediction, table_t, vec> s(table(), x, make(scope, fault_policy::stop));
        faulty_model fine{toy()};
        const auto same = s.run(100.0, 10.0, fine, x, mu4);
        CHECK(same.completed());
        CHECK(same.fault_step == 0);
        CHECK(same.nfe == clean_result.nfe);
        CHECK(x == clean);
        for (const int call : {1, 5, 9, clean_result.nfe - 1}) {
            CAPTURE(call);
            const int trial = (call - 1) / 3 + 1;
            x = x4;
            std::vector<vec> states{x4};
            faulty_model model{toy(), fault::value, call, NaN_};
            const auto r = s.run(100.0, 10.0, model, x, mu4, recorder{&states});
            CHECK(r.status == mrsolve::adaptive_status::non_finite_model_output);
            CHECK_FALSE(r.completed());
            CHECK(r.fault_step == trial);
            CHECK(r.nfe == call);
            CHECK(std::isfinite(r.fault_time));
            CHECK(all_finite(x));
            // x: the last accepted state of the first pass, or the finest completed pass's solution.
            if (r.passes == 0 || scope == mrsolve::tolerance_scope::per_step) {
                CHECK(x == states.back());
            } else {
                CHECK(r.t_final == 10.0);
            }
        }
    }
}

TEST_CASE("singlestep_sampler and adaptive_sampler, fault policy stop: run() allocates nothing, with or without a fault") {
    for (const int bad_call : {0, 1, 5}) {
        CAPTURE(bad_call);
        vec x = x4;
        mrsolve::singlestep_options so;
        so.on_fault = fault_policy::stop;
        mrsolve::singlestep_sampler<data_prediction, table_t, vec> single(table(), x, so);
        mrsolve::adaptive_options ao;
        ao.on_fault = fault_policy::stop;
        mrsolve::adaptive_sampler<data_prediction, table_t, vec> adaptive(table(), x, ao);
        faulty_model model{toy(), bad_call == 0 ? fault::none : fault::value, bad_call};
        long before = allocations.load();
        const auto r1 = single.run(std::span<const double>(grid10), std::span<const int>(ss_orders), model, x, mu4);
        CHECK(allocations.load() - before == 0);
        CHECK(r1.completed() == (bad_call == 0));
        x = x4;
        faulty_model again{toy(), bad_call == 0 ? fault::none : fault::value, bad_call};
        before = allocations.load();
        const auto r2 = adaptive.run(100.0, 10.0, again, x, mu4);
        CHECK(allocations.load() - before == 0);
        CHECK(r2.completed() == (bad_call == 0));
    }
}

}  // namespace test_faults
