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
#include <string_view>
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
