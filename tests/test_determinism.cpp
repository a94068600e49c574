// Determinism: the same seed gives a bitwise-identical result across repeated runs, on each CPU state
// type (std::vector<float|double>, Eigen vectors, matrices and arrays), whether the sampler is fresh or
// reused and whatever ran in between; the contiguous containers and the Eigen objects of one scalar type
// give the same bits as each other. Thread counts: see test_concurrency.cpp (threads sharing the work
// or running side by side give the single-threaded bits).
//
// Limits (documented in docs/reliability.md): the bits are those of one build. The element loops run in
// mrsolve's SIMD kernels, compiled without contraction whatever the flags; scalar code compiled with the
// program's flags (the step coefficients) may change its last bits under -march=native with GCC's FMA
// contraction, and -ffast-math voids every guarantee; float and double draw different streams (the keying
// contract of philox_normal). Each run prints an FNV-1a hash of its results so that builds can be compared
// (scripts/sanitize.sh's RelWithDebInfo build, the Release build and clang).
#include <doctest/doctest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <mrsolve/backend/eigen.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_determinism {

namespace {

using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::schedule_kind;
using table_t = mrsolve::irsde_table<double>;

constexpr std::size_t rows = 8, cols = 5, dim = rows * cols;

const table_t& table() {
    static const table_t t;
    return t;
}
const mrsolve::gaussian_diagonal_oracle<table_t>& oracle() {
    static const auto o = [] {
        std::vector<double> m(dim), s(dim);
        for (std::size_t j = 0; j < dim; ++j) {
            m[j] = 0.5 * std::sin(1.1 * double(j));
            s[j] = 0.1 + 0.05 * double(j % 7);
        }
        return mrsolve::gaussian_diagonal_oracle<table_t>(table(), m, s);
    }();
    return o;
}

template <class S>
S make_state() {
    if constexpr (requires { S::ColsAtCompileTime; }) {
        if constexpr (S::ColsAtCompileTime == 1) return S(static_cast<Eigen::Index>(dim));
        else return S(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    } else {
        return S(dim);
    }
}

/// The condition μ_j = 0.2 cos j.
template <class S>
S condition() {
    S mu = make_state<S>();
    auto* p = std::data(mu);
    for (std::size_t j = 0; j < dim; ++j) p[j] = static_cast<std::remove_cvref_t<decltype(p[0])>>(0.2 * std::cos(double(j)));
    return mu;
}

/// The elements of a state as raw bits (float → uint32, double → uint64, widened to uint64).
template <class S>
std::vector<std::uint64_t> bits(const S& s) {
    const auto* p = std::data(s);
    std::vector<std::uint64_t> out(static_cast<std::size_t>(std::size(s)));
    for (std::size_t j = 0; j < out.size(); ++j) {
        if constexpr (sizeof(p[0]) == 4) out[j] = std::bit_cast<std::uint32_t>(p[j]);
        else out[j] = std::bit_cast<std::uint64_t>(p[j]);
    }
    return out;
}

std::uint64_t fnv1a(const std::vector<std::uint64_t>& v, std::uint64_t h = 1469598103934665603ull) {
    for (const std::uint64_t w : v)
        for (int b = 0; b < 8; ++b) {
            h ^= (w >> (8 * b)) & 0xff;
            h *= 1099511628211ull;
        }
    return h;
}

/// One run from x_T = μ + σ_∞ z (seed 3) with counter_noise(seed), on a fresh sampler.
template <class S, class Method>
std::vector<std::uint64_t> run_fresh(const Method& method, std::uint64_t seed, schedule_kind kind = schedule_kind::linspace) {
    const S mu = condition<S>();
    S x = make_state<S>();
    mrsolve::stationary_start(table(), mu, x, 3);
    const auto grid = make_grid(table(), kind, 12);
    mrsolve::sample(method, table(), std::span<const double>(grid), oracle().model(fit_target::noise), x, mu, {},
                    mrsolve::counter_noise{seed});
    return bits(x);
}

template <class S, class Method>
void check_repeatable(const Method& method, std::uint64_t& hash) {
    CAPTURE(method.name());
    const auto first = run_fresh<S>(method, 42);
    // Fresh samplers, with other work (another seed, another solver, another schedule) in between.
    for (int repeat = 0; repeat < 3; ++repeat) {
        (void)run_fresh<S>(method, 43 + std::uint64_t(repeat));
        (void)run_fresh<S>(mrsolve::mr_sde<noise_prediction>{1}, 7, schedule_kind::karras_n);
        CHECK(run_fresh<S>(method, 42) == first);
    }
    // One sampler reused for several runs, interleaved with runs of another seed.
    const S mu = condition<S>();
    S x = make_state<S>();
    const auto grid = make_grid(table(), schedule_kind::linspace, 12);
    mrsolve::sampler<Method, table_t, S> sampler(method, table(), mu);
    for (const std::uint64_t seed : {42, 99, 42, 5, 42}) {
        mrsolve::stationary_start(table(), mu, x, 3);
        sampler.run(std::span<const double>(grid), oracle().model(fit_target::noise), x, mu, mrsolve::counter_noise{seed});
        if (seed == 42) CHECK(bits(x) == first);
        else if constexpr (Method::stochastic) CHECK(bits(x) != first);
    }
    hash = fnv1a(first, hash);
}

template <class S>
std::uint64_t check_all_solvers() {
    std::uint64_t hash = 1469598103934665603ull;
    check_repeatable<S>(mrsolve::mr_sde<data_prediction>{2}, hash);
    check_repeatable<S>(mrsolve::mr_sde<noise_prediction>{2}, hash);
    check_repeatable<S>(mrsolve::mr_sde<data_prediction>{1}, hash);
    check_repeatable<S>(mrsolve::euler_maruyama{}, hash);
    check_repeatable<S>(mrsolve::posterior_sampling{}, hash);
    check_repeatable<S>(mrsolve::mr_ode<data_prediction>{3}, hash);
    check_repeatable<S>(mrsolve::heun_ode{}, hash);
    return hash;
}

/// One singlestep or adaptive run from x_T = μ + σ_∞ z (seed 3). `run(sampler, x, mu)` runs a sampler that
/// `make(mu)` builds. Deterministic drivers: no seed, so the checks are fresh against reused samplers and
/// runs with other work in between.
template <class S, class Make, class Run>
void check_driver_repeatable(const char* name, const Make& make, const Run& run, std::uint64_t& hash) {
    CAPTURE(name);
    const S mu = condition<S>();
    const auto fresh = [&] {
        S x = make_state<S>();
        mrsolve::stationary_start(table(), mu, x, 3);
        auto sampler = make(mu);
        run(sampler, x, mu);
        return bits(x);
    };
    const auto first = fresh();
    for (int repeat = 0; repeat < 3; ++repeat) {
        (void)run_fresh<S>(mrsolve::mr_sde<noise_prediction>{1}, 7, schedule_kind::karras_n);
        CHECK(fresh() == first);
    }
    // One sampler reused, with another start state in between.
    auto sampler = make(mu);
    S x = make_state<S>();
    for (const std::uint64_t start_seed : {3, 11, 3}) {
        mrsolve::stationary_start(table(), mu, x, start_seed);
        run(sampler, x, mu);
        if (start_seed == 3) CHECK(bits(x) == first);
        else CHECK(bits(x) != first);
    }
    hash = fnv1a(first, hash);
}

template <class S>
std::uint64_t check_singlestep_and_adaptive() {
    std::uint64_t hash = 1469598103934665603ull;
    const auto singlestep = [&](auto parameterization, int order, mrsolve::singlestep_options options, const char* name) {
        using P = decltype(parameterization);
        const std::vector<int> orders = mrsolve::singlestep_orders(12, order);
        const auto grid = make_grid(table(), schedule_kind::linspace, static_cast<int>(orders.size()));
        check_driver_repeatable<S>(
            name, [&](const S& mu) { return mrsolve::singlestep_sampler<P, table_t, S>(table(), mu, options); },
            [&](auto& sampler, S& x, const S& mu) {
                CHECK(sampler.run(std::span<const double>(grid), std::span<const int>(orders),
                                  oracle().model(options.fit), x, mu).nfe == 12);
            },
            hash);
    };
    const auto adaptive = [&](auto parameterization, mrsolve::adaptive_options options, const char* name) {
        using P = decltype(parameterization);
        check_driver_repeatable<S>(
            name, [&](const S& mu) { return mrsolve::adaptive_sampler<P, table_t, S>(table(), mu, options); },
            [&](auto& sampler, S& x, const S& mu) { CHECK(sampler.run(100.0, 1.0, oracle().model(options.fit), x, mu).nfe > 0); },
            hash);
    };
    singlestep(data_prediction{}, 3, {}, "singlestep data 3");
    singlestep(noise_prediction{}, 2, {}, "singlestep noise 2");
    mrsolve::singlestep_options thresholded;
    thresholded.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 2};
    singlestep(data_prediction{}, 3, thresholded, "singlestep data 3 thresholding");
    adaptive(data_prediction{}, {}, "adaptive data 3 global");
    mrsolve::adaptive_options per_step;
    per_step.scope = mrsolve::tolerance_scope::per_step;
    per_step.order = 2;
    adaptive(noise_prediction{}, per_step, "adaptive noise 2 per_step");
    return hash;
}

}  // namespace

TEST_CASE("same seed, same bits: repeated runs on std::vector and Eigen states, float and double") {
    const std::uint64_t vd = check_all_solvers<std::vector<double>>();
    const std::uint64_t vf = check_all_solvers<std::vector<float>>();
    const std::uint64_t ed = check_all_solvers<Eigen::VectorXd>();
    const std::uint64_t ef = check_all_solvers<Eigen::VectorXf>();
    const std::uint64_t md = check_all_solvers<Eigen::MatrixXd>();
    const std::uint64_t af = check_all_solvers<Eigen::ArrayXXf>();
    // The contiguous containers and the Eigen objects share the host loops and the noise fill: the same bits.
    CHECK(vd == ed);
    CHECK(vd == md);
    CHECK(vf == ef);
    CHECK(vf == af);
    CHECK(vd != vf);
    MESSAGE("result hashes (compare across builds): double ", vd, ", float ", vf);
}

TEST_CASE("singlestep and adaptive samplers: same input, same bits, on std::vector and Eigen states, float and double") {
    const std::uint64_t vd = check_singlestep_and_adaptive<std::vector<double>>();
    const std::uint64_t vf = check_singlestep_and_adaptive<std::vector<float>>();
    const std::uint64_t ed = check_singlestep_and_adaptive<Eigen::VectorXd>();
    const std::uint64_t md = check_singlestep_and_adaptive<Eigen::MatrixXd>();
    const std::uint64_t af = check_singlestep_and_adaptive<Eigen::ArrayXXf>();
    CHECK(vd == ed);
    CHECK(vd == md);
    CHECK(vf == af);
    CHECK(vd != vf);
    MESSAGE("singlestep/adaptive result hashes (compare across builds): double ", vd, ", float ", vf);
}

}  // namespace test_determinism
