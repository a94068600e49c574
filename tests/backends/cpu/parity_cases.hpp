#pragma once
// The backend × solver parity tests, defined once and invoked on groups of backends by
// test_backend_parity_host.cpp (std::vector, Eigen) and test_backend_parity_xtensor.cpp (xtensor), so the
// two halves compile in parallel.
//
// For every solver, parameterization, order and step mode (backend_cases.hpp), each state type reproduces
// the trajectory of std::vector with the same element type, step by step: with the default counter_noise
// (seed 0), and, for the stochastic solvers, with other seeds on a larger state (the same seed gives the
// same path on every backend). The tolerance is 1e-6 for float states and 1e-12 for double
// states. Every CPU backend runs the same host loops and the same normal generator over its storage, so
// the results are in fact bit for bit the same: every CPU backend fuses the normals into the step
// (linear_map_normal: std::vector, Eigen, xtensor); the buffered path (fill the normals, then the map) is
// checked bit for bit against the fused one in tests/test_fused_noise.cpp.

#include <doctest/doctest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "backend_cases.hpp"

namespace backend_test {

struct trajectory {
    std::vector<std::vector<double>> states;  // after each step, storage order
    int nfe = 0;
};

/// Runs the problem with state type S (built with the problem's image shape) and records every step.
template <class S, class Method>
trajectory run_on(const problem& p, const Method& method, const mrsolve::sample_options& options,
                  mrsolve::counter_noise noise = mrsolve::counter_noise{}) {
    S x = from_doubles<S>(p.x_T, p.shape);
    const S mu = from_doubles<S>(p.mu, p.shape);
    trajectory out;
    const auto observer = [&out](const mrsolve::step_info<double, S>& info) {
        out.states.push_back(to_doubles(info.x));
    };
    mrsolve::sampler<Method, table_t, S> sampler(method, p.family, x, options);
    out.nfe = sampler.run(std::span<const double>(p.grid), p.oracle.model(options.fit), x, mu, noise, observer).nfe;
    REQUIRE(out.states.size() == p.grid.size() - 1);
    CHECK(out.states.back() == to_doubles(x));
    return out;
}

/// Checks a trajectory against the std::vector reference: the tolerance, and bit for bit.
template <class T>
void check_reproduces(const trajectory& got, const trajectory& reference, std::size_t elements) {
    CHECK(got.nfe == reference.nfe);
    REQUIRE(got.states.size() == reference.states.size());
    const deviation d = compare(got.states, reference.states);
    CHECK(d.compared == elements * reference.states.size());
    CHECK(d.max_abs <= tolerance<T>);  // the cross-backend tolerance
    CHECK(d.differing == 0);           // the same host loops and generator: bit for bit
}

}  // namespace backend_test

TEST_CASE_TEMPLATE_DEFINE("every backend reproduces the std::vector trajectory of every solver", S, backend_parity) {
    using namespace backend_test;
    using T = value_t<S>;
    CAPTURE(backend_case<S>::name);
    const problem p(image_shape);
    const std::vector<double> start = to_doubles(from_doubles<reference_t<S>>(p.x_T, p.shape));
    int cases = 0;
    for_each_solver([&](std::string_view label, const auto& method, const mrsolve::sample_options& options) {
        CAPTURE(label);
        ++cases;
        const trajectory reference = run_on<reference_t<S>>(p, method, options);
        check_reproduces<T>(run_on<S>(p, method, options), reference, p.shape.size());
        CHECK(reference.states.back() != start);  // the run moved the state
    });
    CHECK(cases == 25);

    // run() without a noise argument uses counter_noise with seed 0.
    const mrsolve::mr_sde<mrsolve::data_prediction> sde{2};
    S x = from_doubles<S>(p.x_T, p.shape);
    const S mu = from_doubles<S>(p.mu, p.shape);
    mrsolve::sampler<mrsolve::mr_sde<mrsolve::data_prediction>, table_t, S> sampler(sde, p.family, x);
    sampler.run(std::span<const double>(p.grid), p.oracle.model(mrsolve::fit_target::noise), x, mu);
    CHECK(to_doubles(x) == run_on<reference_t<S>>(p, sde, {}, mrsolve::counter_noise{0}).states.back());
}

TEST_CASE_TEMPLATE_DEFINE("an SDE run with the same seed draws the same trajectory on every backend", S,
                          backend_same_seed) {
    using namespace backend_test;
    using T = value_t<S>;
    CAPTURE(backend_case<S>::name);
    const problem p(large_image_shape);
    int cases = 0;
    for_each_stochastic_solver([&](std::string_view label, const auto& method, const mrsolve::sample_options& options) {
        CAPTURE(label);
        ++cases;
        for (const std::uint64_t seed : {std::uint64_t{1}, std::uint64_t{0x9e3779b97f4a7c15}}) {
            CAPTURE(seed);
            const trajectory got = run_on<S>(p, method, options, mrsolve::counter_noise{seed});
            check_reproduces<T>(got, run_on<reference_t<S>>(p, method, options, mrsolve::counter_noise{seed}),
                                p.shape.size());
            // Deterministic: the same seed again gives the same path.
            CHECK(run_on<S>(p, method, options, mrsolve::counter_noise{seed}).states == got.states);
            // The noise matters: another seed moves (almost) every element elsewhere.
            const deviation other = compare(run_on<S>(p, method, options, mrsolve::counter_noise{seed + 1}).states,
                                            got.states);
            CHECK(other.differing * 10 >= other.compared * 9);
        }
    });
    CHECK(cases == 9);
}

namespace backend_test {

/// The result of one singlestep or adaptive run: the final state in storage order and the driver's counts.
struct driver_run {
    std::vector<double> x;
    std::vector<int> counts;  // nfe, steps (singlestep); nfe, accepted, rejected, passes (adaptive)
};

/// Calls f(label, run) for the singlestep and adaptive configurations, where run<S>(p) samples the problem
/// with state type S: every order, both parameterizations, the other fit targets and thresholding (the
/// per-stage conversion pass), and both tolerance scopes.
template <class F>
void for_each_driver(F&& f) {
    using namespace mrsolve;
    const auto singlestep = [](auto parameterization, int nfe, int order, singlestep_options options) {
        using P = decltype(parameterization);
        return [=]<class S>(const problem& p, std::type_identity<S>) {
            const std::vector<int> orders = singlestep_orders(nfe, order);
            const std::vector<double> grid = make_grid(p.family, schedule_kind::linspace, static_cast<int>(orders.size()));
            S x = from_doubles<S>(p.x_T, p.shape);
            const S mu = from_doubles<S>(p.mu, p.shape);
            singlestep_sampler<P, table_t, S> sampler(p.family, x, options);
            const auto r = sampler.run(std::span<const double>(grid), std::span<const int>(orders),
                                       p.oracle.model(options.fit), x, mu);
            return driver_run{to_doubles(x), {r.nfe, r.steps}};
        };
    };
    const auto adaptive = [](auto parameterization, adaptive_options options) {
        using P = decltype(parameterization);
        return [=]<class S>(const problem& p, std::type_identity<S>) {
            S x = from_doubles<S>(p.x_T, p.shape);
            const S mu = from_doubles<S>(p.mu, p.shape);
            adaptive_sampler<P, table_t, S> sampler(p.family, x, options);
            const auto r = sampler.run(100.0, 1.0, p.oracle.model(options.fit), x, mu);
            return driver_run{to_doubles(x), {r.nfe, r.accepted, r.rejected, r.passes}};
        };
    };
    singlestep_options plain{};
    singlestep_options data_fit{};
    data_fit.fit = fit_target::data;
    singlestep_options velocity_fit{};
    velocity_fit.fit = fit_target::velocity;
    singlestep_options thresholding{};
    thresholding.thresholding = dynamic_thresholding{0.995, 1.5, 2};
    for (int order = 1; order <= 3; ++order) {
        f("singlestep data order " + std::to_string(order), singlestep(data_prediction{}, 10, order, plain));
        f("singlestep noise order " + std::to_string(order), singlestep(noise_prediction{}, 10, order, plain));
    }
    f("singlestep data order 3 fit=data", singlestep(data_prediction{}, 11, 3, data_fit));
    f("singlestep noise order 2 fit=velocity", singlestep(noise_prediction{}, 9, 2, velocity_fit));
    f("singlestep data order 3 thresholding", singlestep(data_prediction{}, 12, 3, thresholding));
    adaptive_options per_step{};
    per_step.scope = tolerance_scope::per_step;
    per_step.rtol = per_step.atol = 1e-3;
    adaptive_options global{};
    global.order = 2;
    global.batch_items = 2;
    adaptive_options thresholded_global{};
    thresholded_global.thresholding = dynamic_thresholding{0.995, 1.5, 2};
    f("adaptive data order 3 per_step", adaptive(data_prediction{}, per_step));
    f("adaptive noise order 3 per_step", adaptive(noise_prediction{}, per_step));
    f("adaptive data order 2 global", adaptive(data_prediction{}, global));
    f("adaptive data order 3 global thresholding", adaptive(data_prediction{}, thresholded_global));
}

}  // namespace backend_test

TEST_CASE_TEMPLATE_DEFINE("every backend reproduces the std::vector result of the singlestep and adaptive samplers", S,
                          backend_driver_parity) {
    using namespace backend_test;
    using T = value_t<S>;
    CAPTURE(backend_case<S>::name);
    const problem p(image_shape);
    const std::vector<double> start = to_doubles(from_doubles<reference_t<S>>(p.x_T, p.shape));
    int cases = 0;
    for_each_driver([&](const std::string& label, const auto& run) {
        CAPTURE(label);
        ++cases;
        const driver_run reference = run(p, std::type_identity<reference_t<S>>{});
        const driver_run got = run(p, std::type_identity<S>{});
        CHECK(got.counts == reference.counts);
        const deviation d = compare({got.x}, {reference.x});
        CHECK(d.compared == p.shape.size());
        CHECK(d.max_abs <= tolerance<T>);
        CHECK(d.differing == 0);  // the same host loops: bit for bit
        CHECK(reference.x != start);
    });
    CHECK(cases == 13);
}
