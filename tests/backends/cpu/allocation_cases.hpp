#pragma once
// Included once by each allocation test binary (test_backend_allocation_host.cpp for std::vector and
// Eigen, test_backend_allocation_xtensor.cpp for xtensor): it replaces the global operator new.
//
// No heap allocation inside a sampling loop, on every CPU backend: the sampler allocates its workspace
// once (make_like), and run() must not allocate, whatever the state type, for every solver and the loop
// options with their own code paths (thresholding, denoise_last).
//
// Two counters, because the backends allocate through two routes:
// - std::vector and xtensor (std::allocator) call the global operator new, replaced below;
// - Eigen calls std::malloc directly (its aligned_malloc), which operator new never sees. Eigen's own
//   check, EIGEN_RUNTIME_NO_MALLOC, is used for it: while set_is_malloc_allowed(false) is in force, every
//   Eigen heap allocation fails an eigen_assert, which this binary routes to a counter.
// A test case in each binary shows the counters catching an allocation (the test can fail).

// Before any Eigen header: Eigen's allocation check, reported through our eigen_assert.
#define EIGEN_RUNTIME_NO_MALLOC
namespace backend_test {
void eigen_check(bool ok, const char* condition) noexcept;
}
#define eigen_assert(x) ::backend_test::eigen_check(static_cast<bool>(x), #x)

#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>
#include <string_view>
#include <vector>

#include "backend_cases.hpp"

namespace backend_test {
inline std::atomic<long> operator_new_calls{0};  ///< calls of the global operator new
inline std::atomic<long> eigen_mallocs{0};       ///< Eigen heap allocations while forbidden
}  // namespace backend_test

void backend_test::eigen_check(bool ok, const char* condition) noexcept {
    if (ok) return;
    if (std::strstr(condition, "heap allocation is forbidden") != nullptr) {
        backend_test::eigen_mallocs.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    std::fprintf(stderr, "Eigen assertion failed: %s\n", condition);
    std::abort();
}

// The replacement pair below is matched (malloc/free); GCC cannot see that through operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
    backend_test::operator_new_calls.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace backend_test {

/// Heap allocations seen by either counter while f runs; Eigen allocations are forbidden meanwhile.
template <class F>
long allocations_during(F&& f) {
    const long new_before = operator_new_calls.load();
    const long eigen_before = eigen_mallocs.load();
    Eigen::internal::set_is_malloc_allowed(false);
    f();
    Eigen::internal::set_is_malloc_allowed(true);
    return (operator_new_calls.load() - new_before) + (eigen_mallocs.load() - eigen_before);
}

/// Sets a sampler up (allocating), then counts the allocations of one run with an observer.
template <class S, class Method>
long allocations_during_run(const problem& p, const Method& method, const mrsolve::sample_options& options) {
    S x = from_doubles<S>(p.x_T, p.shape);
    const S mu = from_doubles<S>(p.mu, p.shape);
    mrsolve::sampler<Method, table_t, S> sampler(method, p.family, x, options);
    const auto model = p.oracle.model(options.fit);
    const mrsolve::counter_noise noise(5);
    int steps_seen = 0;
    const auto observer = [&steps_seen](const mrsolve::step_info<double, S>&) { ++steps_seen; };
    mrsolve::sample_result result;
    const long count = allocations_during(
        [&] { result = sampler.run(std::span<const double>(p.grid), model, x, mu, noise, observer); });
    CHECK(result.steps == static_cast<int>(p.grid.size()) - 1);
    CHECK(steps_seen == result.steps);
    CHECK(mrsolve::backend_traits<S>::all_finite(x));
    return count;
}

}  // namespace backend_test

TEST_CASE_TEMPLATE_DEFINE("sampler::run allocates nothing on any CPU backend", S, backend_allocation) {
    using namespace backend_test;
    CAPTURE(backend_case<S>::name);
    const problem p(image_shape);
    int cases = 0;
    for_each_solver([&](std::string_view label, const auto& method, const mrsolve::sample_options& options) {
        CAPTURE(label);
        ++cases;
        CHECK(allocations_during_run<S>(p, method, options) == 0);
    });
    CHECK(cases == 25);
}

