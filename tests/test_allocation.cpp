// No heap allocation inside a sampling loop after set-up: the sampler allocates its workspace once, and
// run() must not allocate (this binary counts every global operator new).
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <mrsolve/mrsolve.hpp>
#include <new>
#include <span>
#include <vector>

#include "support/counting_new.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_allocation {

using mrsolve_test::allocations;

namespace {

template <class T>
struct linear_model {  // ε̂ = 0.3 (x − μ): allocation-free
    void operator()(const std::vector<T>& x, const std::vector<T>& mu, double, std::vector<T>& out) const {
        for (std::size_t i = 0; i < x.size(); ++i) out[i] = T(0.3) * (x[i] - mu[i]);
    }
};

template <class Method, class T>
long allocations_during_run(const Method& method, mrsolve::sample_options options = {}) {
    const mrsolve::irsde_table<double> family;
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 20);
    std::vector<T> mu(3 * 32 * 32, T(0.5)), x(mu.size());
    mrsolve::stationary_start(family, mu, x, 3);
    mrsolve::sampler<Method, mrsolve::irsde_table<double>, std::vector<T>> s(method, family, x, options);
    const mrsolve::counter_noise noise(5);
    long steps_seen = 0;
    const auto observer = [&steps_seen](const auto&) { ++steps_seen; };
    const long before = allocations.load();
    const auto result = s.run(std::span<const double>(grid), linear_model<T>{}, x, mu, noise, observer);
    const long after = allocations.load();
    CHECK(result.steps == 20);
    CHECK(steps_seen == 20);
    return after - before;
}

}  // namespace

TEST_CASE_TEMPLATE("sampler::run allocates nothing", T, float, double) {
    using namespace mrsolve;
    CHECK(allocations_during_run<mr_ode<data_prediction>, T>({2}) == 0);
    CHECK(allocations_during_run<mr_ode<noise_prediction>, T>({3}) == 0);
    CHECK(allocations_during_run<mr_sde<data_prediction>, T>({2}) == 0);
    CHECK(allocations_during_run<mr_sde<noise_prediction>, T>({1}) == 0);
    CHECK(allocations_during_run<mr_unipc<data_prediction>, T>({3}) == 0);
    CHECK(allocations_during_run<mr_unipc<noise_prediction>, T>({2}) == 0);
    CHECK(allocations_during_run<mr_eta<data_prediction>, T>({3, 0.5}) == 0);
    CHECK(allocations_during_run<euler_maruyama, T>({}) == 0);
    CHECK(allocations_during_run<heun_ode, T>({}) == 0);
    CHECK(allocations_during_run<posterior_sampling, T>({}) == 0);
    sample_options thresholded = sample_options::published(fit_target::noise, true);
    thresholded.thresholding = dynamic_thresholding{0.995, 1.5, 3};
    CHECK(allocations_during_run<mr_ode<data_prediction>, T>({2}, thresholded) == 0);
    CHECK(allocations_during_run<mr_unipc<data_prediction>, T>({3}, thresholded) == 0);
}

namespace {

/// The allocations of two runs of one singlestep_sampler (the first run included: the workspace is
/// allocated by the constructor).
template <class P, class T>
std::array<long, 2> singlestep_allocations(mrsolve::singlestep_options options, int order) {
    const mrsolve::irsde_table<double> family;
    const std::vector<int> orders = mrsolve::singlestep_orders(20, order);
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, static_cast<int>(orders.size()));
    std::vector<T> mu(3 * 32 * 32, T(0.5)), x(mu.size());
    mrsolve::singlestep_sampler<P, mrsolve::irsde_table<double>, std::vector<T>> s(family, x, options);
    std::array<long, 2> counts{};
    for (long& count : counts) {
        mrsolve::stationary_start(family, mu, x, 3);
        const long before = allocations.load();
        const auto result = s.run(std::span<const double>(grid), std::span<const int>(orders), linear_model<T>{}, x, mu);
        count = allocations.load() - before;
        CHECK(result.nfe == 20);
    }
    return counts;
}

/// The same for adaptive_sampler, over a whole run (every pass of the global scope).
template <class P, class T>
std::array<long, 2> adaptive_allocations(mrsolve::adaptive_options options) {
    const mrsolve::irsde_table<double> family;
    std::vector<T> mu(3 * 32 * 32, T(0.5)), x(mu.size());
    mrsolve::adaptive_sampler<P, mrsolve::irsde_table<double>, std::vector<T>> s(family, x, options);
    std::array<long, 2> counts{};
    for (long& count : counts) {
        mrsolve::stationary_start(family, mu, x, 3);
        const long before = allocations.load();
        const auto result = s.run(100.0, 1.0, linear_model<T>{}, x, mu);
        count = allocations.load() - before;
        CHECK(result.nfe > 0);
        CHECK(result.accepted > 0);
    }
    return counts;
}

}  // namespace

TEST_CASE_TEMPLATE("singlestep_sampler::run and adaptive_sampler::run allocate nothing", T, float, double) {
    using namespace mrsolve;
    using none = std::array<long, 2>;
    CHECK(singlestep_allocations<data_prediction, T>({}, 3) == none{});
    CHECK(singlestep_allocations<noise_prediction, T>({}, 2) == none{});
    CHECK(singlestep_allocations<data_prediction, T>({}, 1) == none{});
    singlestep_options thresholded;
    thresholded.thresholding = dynamic_thresholding{0.995, 1.5, 3};
    CHECK(singlestep_allocations<data_prediction, T>(thresholded, 3) == none{});
    adaptive_options global;
    CHECK(adaptive_allocations<data_prediction, T>(global) == none{});
    adaptive_options per_step;
    per_step.scope = tolerance_scope::per_step;
    per_step.order = 2;
    CHECK(adaptive_allocations<noise_prediction, T>(per_step) == none{});
    adaptive_options adaptive_thresholded;
    adaptive_thresholded.thresholding = dynamic_thresholding{0.995, 1.5, 3};
    adaptive_thresholded.batch_items = 3;
    CHECK(adaptive_allocations<data_prediction, T>(adaptive_thresholded) == none{});
}

TEST_CASE("the counter sees allocations (the test can fail)") {
    const long before = allocations.load();
    std::vector<double> v(100);
    volatile double* keep = v.data();  // the allocation is observable, so it cannot be elided
    (void)keep;
    CHECK(allocations.load() - before >= 1);
}

}  // namespace test_allocation
