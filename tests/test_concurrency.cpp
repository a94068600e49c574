// Concurrency: several std::threads sample at once, each with its own mrsolve::sampler, while sharing one
// coefficient family (irsde_table and ir_sde), one grid vector, one Gaussian oracle (its models) and one
// noise source. Every thread's result must equal the single-threaded result bit for bit. Built and run
// under ThreadSanitizer by scripts/sanitize.sh (build-tsan), which turns any data race into a failure.
//
// Also: the result does not depend on how many threads share the work. A state split into slices, each
// slice sampled by its own thread with the noise of its element indices (philox_normal::fill with an
// offset), concatenates to the bitwise result of one thread sampling the whole state: every backend map
// is element-wise, the diagonal oracle is element-wise and the noise is keyed by element.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <Eigen/Core>
#include <mrsolve/backend/eigen.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_concurrency {

namespace {

using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::schedule_kind;
using table_t = mrsolve::irsde_table<double>;
using continuous_t = mrsolve::ir_sde<double>;

constexpr std::size_t dim = 24;
constexpr int nfe = 12;
constexpr std::uint64_t seed = 20240607;
constexpr int threads = 4;

std::vector<double> data_mean() {
    std::vector<double> m(dim);
    for (std::size_t j = 0; j < dim; ++j) m[j] = 0.6 * std::sin(0.9 * double(j) + 0.3);
    return m;
}
std::vector<double> data_std() {
    std::vector<double> s(dim);
    for (std::size_t j = 0; j < dim; ++j) s[j] = 0.15 + 0.1 * std::abs(std::cos(1.7 * double(j)));
    return s;
}
/// A symmetric positive definite covariance with correlations (for the full oracle).
std::vector<double> data_covariance() {
    const auto s = data_std();
    std::vector<double> c(dim * dim);
    for (std::size_t i = 0; i < dim; ++i)
        for (std::size_t j = 0; j < dim; ++j)
            c[i * dim + j] = s[i] * s[j] * std::pow(0.5, std::abs(double(i) - double(j)));
    return c;
}
std::vector<double> condition() {
    std::vector<double> mu(dim);
    for (std::size_t j = 0; j < dim; ++j) mu[j] = 0.4 * std::cos(0.5 * double(j));
    return mu;
}

/// Everything the threads share, built once before any thread starts and only read afterwards.
struct shared_problem {
    table_t table{mrsolve_test::cosine_parameters};
    continuous_t continuous{mrsolve::irsde_parameters{mrsolve::theta_schedule::linear, 100, 50, 0.005}};
    std::vector<double> table_grid = make_grid(table, schedule_kind::linear_lambda, nfe);
    std::vector<double> continuous_grid = make_grid(continuous, schedule_kind::karras_n, nfe);
    mrsolve::gaussian_diagonal_oracle<table_t> table_oracle{table, data_mean(), data_std()};
    mrsolve::gaussian_full_oracle<continuous_t> continuous_oracle{continuous, data_mean(), data_covariance()};
    std::vector<double> mu = condition();
    std::vector<double> table_start = start(table);
    std::vector<double> continuous_start = start(continuous);
    const mrsolve::counter_noise noise{seed};

    template <class Family>
    std::vector<double> start(const Family& family) const {
        std::vector<double> x(dim);
        mrsolve::stationary_start(family, mu, x, seed);
        return x;
    }
};

const shared_problem& problem() {
    static const shared_problem p;
    return p;
}

template <class S>
S to_state(const std::vector<double>& v) {
    S s(static_cast<std::ptrdiff_t>(v.size()));
    for (std::size_t j = 0; j < v.size(); ++j) s[static_cast<std::ptrdiff_t>(j)] = static_cast<std::remove_cvref_t<decltype(s[0])>>(v[j]);
    return s;
}

/// The result as doubles (float → double is exact, so bitwise equality is preserved).
template <class S>
std::vector<double> to_doubles(const S& s) {
    std::vector<double> out(static_cast<std::size_t>(s.size()));
    for (std::size_t j = 0; j < out.size(); ++j) out[j] = static_cast<double>(s[static_cast<std::ptrdiff_t>(j)]);
    return out;
}

bool bitwise_equal(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t j = 0; j < a.size(); ++j)
        if (std::bit_cast<std::uint64_t>(a[j]) != std::bit_cast<std::uint64_t>(b[j])) return false;
    return true;
}

/// One sampling job: a name and a function that runs it from scratch (own sampler, own state).
struct job {
    std::string name;
    std::function<std::vector<double>()> run;
};

/// Samples with a sampler built here (so owned by the calling thread), run twice to also exercise reuse;
/// both runs must agree, and the second result is returned.
template <class S, class Method, class Family, class Oracle>
std::vector<double> run_on(const Method& method, const Family& family, const std::vector<double>& grid,
                           const Oracle& oracle, const std::vector<double>& start, mrsolve::sample_options options) {
    const shared_problem& p = problem();
    const S mu = to_state<S>(p.mu);
    const auto model = oracle.model(options.fit);
    mrsolve::sampler<Method, Family, S> sampler(method, family, mu, options);
    S x = to_state<S>(start);
    sampler.run(std::span<const double>(grid), model, x, mu, p.noise);
    const std::vector<double> first = to_doubles(x);
    x = to_state<S>(start);
    sampler.run(std::span<const double>(grid), model, x, mu, p.noise);
    std::vector<double> second = to_doubles(x);
    if (!bitwise_equal(first, second)) return {};  // reuse changed the result: flagged as empty
    return second;
}

template <class S, class Method>
void add_jobs(std::vector<job>& jobs, const Method& method, const std::string& state_name,
              mrsolve::sample_options options = {}, const std::string& option_name = "") {
    const std::string name = method.name() + option_name + " on " + state_name;
    jobs.push_back({name + " / irsde_table, diagonal oracle", [method, options] {
                        const shared_problem& p = problem();
                        return run_on<S>(method, p.table, p.table_grid, p.table_oracle, p.table_start, options);
                    }});
    jobs.push_back({name + " / ir_sde, full oracle", [method, options] {
                        const shared_problem& p = problem();
                        return run_on<S>(method, p.continuous, p.continuous_grid, p.continuous_oracle,
                                         p.continuous_start, options);
                    }});
}

template <class S>
void add_all_solvers(std::vector<job>& jobs, const std::string& state_name) {
    for (const int order : {1, 2, 3}) {
        add_jobs<S>(jobs, mrsolve::mr_ode<data_prediction>{order}, state_name);
        add_jobs<S>(jobs, mrsolve::mr_ode<noise_prediction>{order}, state_name);
    }
    for (const int order : {1, 2}) {
        add_jobs<S>(jobs, mrsolve::mr_sde<data_prediction>{order}, state_name);
        add_jobs<S>(jobs, mrsolve::mr_sde<noise_prediction>{order}, state_name);
    }
    add_jobs<S>(jobs, mrsolve::euler_maruyama{}, state_name);
    add_jobs<S>(jobs, mrsolve::euler_ode{}, state_name);
    add_jobs<S>(jobs, mrsolve::heun_ode{}, state_name);
    add_jobs<S>(jobs, mrsolve::posterior_sampling{}, state_name);
    // Options with their own code paths: other fit targets, the published loop, thresholding (its
    // per-sampler scratch buffer), denoise_last.
    mrsolve::sample_options data_fit;
    data_fit.fit = fit_target::data;
    add_jobs<S>(jobs, mrsolve::mr_ode<data_prediction>{2}, state_name, data_fit, " (fit data)");
    mrsolve::sample_options velocity_fit;
    velocity_fit.fit = fit_target::velocity;
    add_jobs<S>(jobs, mrsolve::mr_sde<data_prediction>{2}, state_name, velocity_fit, " (fit velocity)");
    add_jobs<S>(jobs, mrsolve::mr_ode<noise_prediction>{3}, state_name,
                mrsolve::sample_options::published(fit_target::noise, true), " (published, denoise_last)");
    mrsolve::sample_options thresholded;
    thresholded.thresholding = mrsolve::dynamic_thresholding{0.9, 1.5, 2};
    add_jobs<S>(jobs, mrsolve::mr_sde<data_prediction>{2}, state_name, thresholded, " (thresholding)");
}

std::vector<job> all_jobs() {
    std::vector<job> jobs;
    add_all_solvers<std::vector<double>>(jobs, "std::vector<double>");
    add_all_solvers<std::vector<float>>(jobs, "std::vector<float>");
    add_all_solvers<Eigen::VectorXd>(jobs, "Eigen::VectorXd");
    add_all_solvers<Eigen::VectorXf>(jobs, "Eigen::VectorXf");
    return jobs;
}

}  // namespace

TEST_CASE("threads sampling at once with shared families, grids, oracles and noise match the single-threaded results bitwise") {
    const shared_problem& p = problem();  // built before any thread starts
    (void)p;
    const std::vector<job> jobs = all_jobs();
    REQUIRE(jobs.size() == 4 * 2 * 18);

    // Single-threaded references.
    std::vector<std::vector<double>> reference(jobs.size());
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        CAPTURE(jobs[j].name);
        reference[j] = jobs[j].run();
        REQUIRE(reference[j].size() == dim);  // empty: a reused sampler gave a different result
        for (const double v : reference[j]) REQUIRE(std::isfinite(v));
    }

    // Every thread runs every job, each starting at a different job, so that different solvers, state
    // types and families run at the same moment on the shared objects.
    std::vector<std::vector<std::vector<double>>> results(threads, std::vector<std::vector<double>>(jobs.size()));
    std::atomic<int> ready{0};
    {
        std::vector<std::thread> pool;
        for (int w = 0; w < threads; ++w) {
            pool.emplace_back([&, w] {
                ready.fetch_add(1);
                while (ready.load() < threads) std::this_thread::yield();  // start together
                for (std::size_t k = 0; k < jobs.size(); ++k) {
                    const std::size_t j = (k + static_cast<std::size_t>(w) * jobs.size() / threads) % jobs.size();
                    results[static_cast<std::size_t>(w)][j] = jobs[j].run();
                }
            });
        }
        for (auto& t : pool) t.join();
    }

    int mismatches = 0;
    for (int w = 0; w < threads; ++w)
        for (std::size_t j = 0; j < jobs.size(); ++j)
            if (!bitwise_equal(results[static_cast<std::size_t>(w)][j], reference[j])) {
                ++mismatches;
                MESSAGE("thread ", w, ": ", jobs[j].name, " differs from the single-threaded result");
            }
    CHECK(mismatches == 0);
    MESSAGE(jobs.size(), " jobs x ", threads, " threads, all bitwise equal to the single-threaded results");
}

namespace {

/// A singlestep or adaptive job on the tables (diagonal oracle) and on ir_sde (full oracle): a sampler
/// built by the calling thread, run twice (reuse must not change the result).
template <class S, class Make, class Run>
std::vector<double> run_driver(const Make& make, const Run& run, bool on_table) {
    const shared_problem& p = problem();
    const S mu = to_state<S>(p.mu);
    auto sampler = make(mu, on_table);
    S x = to_state<S>(on_table ? p.table_start : p.continuous_start);
    run(sampler, x, mu, on_table);
    const std::vector<double> first = to_doubles(x);
    x = to_state<S>(on_table ? p.table_start : p.continuous_start);
    run(sampler, x, mu, on_table);
    std::vector<double> second = to_doubles(x);
    if (!bitwise_equal(first, second)) return {};
    return second;
}

template <class S, class P>
void add_driver_jobs(std::vector<job>& jobs, const std::string& state_name, const std::string& p_name) {
    for (const bool on_table : {true, false}) {
        const std::string family = on_table ? " / irsde_table, diagonal oracle" : " / ir_sde, full oracle";
        for (const int order : {1, 2, 3}) {
            jobs.push_back({"singlestep " + p_name + " order " + std::to_string(order) + " on " + state_name + family,
                            [order, on_table] {
                                const shared_problem& pr = problem();
                                const std::vector<int> orders = mrsolve::singlestep_orders(nfe, order);
                                std::vector<double> out;
                                if (on_table) {
                                    const auto grid = make_grid(pr.table, schedule_kind::linear_lambda,
                                                                static_cast<int>(orders.size()));
                                    out = run_driver<S>(
                                        [&](const S& mu, bool) {
                                            return mrsolve::singlestep_sampler<P, table_t, S>(pr.table, mu);
                                        },
                                        [&](auto& sampler, S& x, const S& mu, bool) {
                                            sampler.run(std::span<const double>(grid), std::span<const int>(orders),
                                                        pr.table_oracle.model(fit_target::noise), x, mu);
                                        },
                                        true);
                                } else {
                                    const auto grid = make_grid(pr.continuous, schedule_kind::karras_n,
                                                                static_cast<int>(orders.size()));
                                    out = run_driver<S>(
                                        [&](const S& mu, bool) {
                                            return mrsolve::singlestep_sampler<P, continuous_t, S>(pr.continuous, mu);
                                        },
                                        [&](auto& sampler, S& x, const S& mu, bool) {
                                            sampler.run(std::span<const double>(grid), std::span<const int>(orders),
                                                        pr.continuous_oracle.model(fit_target::noise), x, mu);
                                        },
                                        false);
                                }
                                return out;
                            }});
        }
        for (const auto scope : {mrsolve::tolerance_scope::global, mrsolve::tolerance_scope::per_step}) {
            const std::string scope_name = scope == mrsolve::tolerance_scope::global ? "global" : "per_step";
            jobs.push_back({"adaptive " + p_name + " " + scope_name + " on " + state_name + family, [scope, on_table] {
                                const shared_problem& pr = problem();
                                mrsolve::adaptive_options options;
                                options.scope = scope;
                                if (on_table) {
                                    return run_driver<S>(
                                        [&](const S& mu, bool) {
                                            return mrsolve::adaptive_sampler<P, table_t, S>(pr.table, mu, options);
                                        },
                                        [&](auto& sampler, S& x, const S& mu, bool) {
                                            sampler.run(100.0, 1.0, pr.table_oracle.model(fit_target::noise), x, mu);
                                        },
                                        true);
                                }
                                return run_driver<S>(
                                    [&](const S& mu, bool) {
                                        return mrsolve::adaptive_sampler<P, continuous_t, S>(pr.continuous, mu, options);
                                    },
                                    [&](auto& sampler, S& x, const S& mu, bool) {
                                        sampler.run(100.0, 1.0, pr.continuous_oracle.model(fit_target::noise), x, mu);
                                    },
                                    false);
                            }});
        }
    }
}

std::vector<job> driver_jobs() {
    std::vector<job> jobs;
    add_driver_jobs<std::vector<double>, data_prediction>(jobs, "std::vector<double>", "data");
    add_driver_jobs<std::vector<float>, noise_prediction>(jobs, "std::vector<float>", "noise");
    add_driver_jobs<Eigen::VectorXd, noise_prediction>(jobs, "Eigen::VectorXd", "noise");
    add_driver_jobs<Eigen::VectorXf, data_prediction>(jobs, "Eigen::VectorXf", "data");
    return jobs;
}

}  // namespace

TEST_CASE("threads running singlestep and adaptive samplers at once match the single-threaded results bitwise") {
    const shared_problem& p = problem();  // built before any thread starts
    (void)p;
    const std::vector<job> jobs = driver_jobs();
    REQUIRE(jobs.size() == 4 * 2 * 5);
    std::vector<std::vector<double>> reference(jobs.size());
    for (std::size_t j = 0; j < jobs.size(); ++j) {
        CAPTURE(jobs[j].name);
        reference[j] = jobs[j].run();
        REQUIRE(reference[j].size() == dim);  // empty: a reused sampler gave a different result
        for (const double v : reference[j]) REQUIRE(std::isfinite(v));
    }
    std::vector<std::vector<std::vector<double>>> results(threads, std::vector<std::vector<double>>(jobs.size()));
    std::atomic<int> ready{0};
    {
        std::vector<std::thread> pool;
        for (int w = 0; w < threads; ++w) {
            pool.emplace_back([&, w] {
                ready.fetch_add(1);
                while (ready.load() < threads) std::this_thread::yield();
                for (std::size_t k = 0; k < jobs.size(); ++k) {
                    const std::size_t j = (k + static_cast<std::size_t>(w) * jobs.size() / threads) % jobs.size();
                    results[static_cast<std::size_t>(w)][j] = jobs[j].run();
                }
            });
        }
        for (auto& t : pool) t.join();
    }
    int mismatches = 0;
    for (int w = 0; w < threads; ++w)
        for (std::size_t j = 0; j < jobs.size(); ++j)
            if (!bitwise_equal(results[static_cast<std::size_t>(w)][j], reference[j])) {
                ++mismatches;
                MESSAGE("thread ", w, ": ", jobs[j].name, " differs from the single-threaded result");
            }
    CHECK(mismatches == 0);
}

namespace {

/// Samples elements [first, first + count) of the diagonal problem on the tables, as an independent
/// problem: its own oracle over those elements, and the noise of those element indices.
template <class T, class Method>
std::vector<double> sample_slice(const Method& method, std::size_t first, std::size_t count,
                                 bool default_noise = false) {
    const shared_problem& p = problem();
    const auto mean = data_mean(), sd = data_std();
    const mrsolve::gaussian_diagonal_oracle<table_t> oracle(
        p.table, std::vector<double>(mean.begin() + first, mean.begin() + first + count),
        std::vector<double>(sd.begin() + first, sd.begin() + first + count));
    std::vector<T> x(count), mu(count);
    for (std::size_t j = 0; j < count; ++j) {
        x[j] = static_cast<T>(p.table_start[first + j]);
        mu[j] = static_cast<T>(p.mu[first + j]);
    }
    const mrsolve::philox_normal generator(seed);
    auto noise = mrsolve::injected_noise([&generator, first](std::vector<T>& z, int step) {
        generator.fill(std::span<T>(z), static_cast<std::uint64_t>(step), first);
    });
    if (default_noise) {  // the sampler's own counter_noise: element indices 0 … count − 1
        mrsolve::sample(method, p.table, std::span<const double>(p.table_grid), oracle.model(fit_target::noise), x,
                        mu, {}, mrsolve::counter_noise{seed});
    } else {
        mrsolve::sample(method, p.table, std::span<const double>(p.table_grid), oracle.model(fit_target::noise), x,
                        mu, {}, noise);
    }
    std::vector<double> out(x.begin(), x.end());
    return out;
}

template <class T, class Method>
void check_thread_count_independence(const Method& method) {
    CAPTURE(method.name());
    const std::vector<double> whole = sample_slice<T>(method, 0, dim);
    CHECK(bitwise_equal(whole, sample_slice<T>(method, 0, dim, true)));
    for (const std::size_t workers : {std::size_t{2}, std::size_t{3}, std::size_t{5}, std::size_t{8}}) {
        CAPTURE(workers);
        std::vector<std::vector<double>> parts(workers);
        std::vector<std::size_t> first(workers + 1);
        for (std::size_t w = 0; w <= workers; ++w) first[w] = w * dim / workers;  // uneven slices too
        std::vector<std::thread> pool;
        for (std::size_t w = 0; w < workers; ++w)
            pool.emplace_back([&, w] { parts[w] = sample_slice<T>(method, first[w], first[w + 1] - first[w]); });
        for (auto& t : pool) t.join();
        std::vector<double> joined;
        for (const auto& part : parts) joined.insert(joined.end(), part.begin(), part.end());
        CHECK(bitwise_equal(joined, whole));
    }
}

}  // namespace

TEST_CASE_TEMPLATE("splitting the state across 2, 3, 5 or 8 threads gives the one-thread result bitwise", T, float,
                   double) {
    check_thread_count_independence<T>(mrsolve::mr_ode<data_prediction>{3});
    check_thread_count_independence<T>(mrsolve::mr_ode<noise_prediction>{2});
    check_thread_count_independence<T>(mrsolve::mr_sde<data_prediction>{2});
    check_thread_count_independence<T>(mrsolve::mr_sde<noise_prediction>{1});
    check_thread_count_independence<T>(mrsolve::euler_maruyama{});
    check_thread_count_independence<T>(mrsolve::heun_ode{});
    check_thread_count_independence<T>(mrsolve::posterior_sampling{});
}

namespace {

/// The singlestep sampler on elements [first, first + count) of the diagonal problem on the tables, as an
/// independent problem (its own oracle over those elements). Its passes and the oracle are element-wise.
template <class T, class P>
std::vector<double> singlestep_slice(int order, std::size_t first, std::size_t count) {
    const shared_problem& p = problem();
    const auto mean = data_mean(), sd = data_std();
    const mrsolve::gaussian_diagonal_oracle<table_t> oracle(
        p.table, std::vector<double>(mean.begin() + first, mean.begin() + first + count),
        std::vector<double>(sd.begin() + first, sd.begin() + first + count));
    std::vector<T> x(count), mu(count);
    for (std::size_t j = 0; j < count; ++j) {
        x[j] = static_cast<T>(p.table_start[first + j]);
        mu[j] = static_cast<T>(p.mu[first + j]);
    }
    const std::vector<int> orders = mrsolve::singlestep_orders(nfe, order);
    const auto grid = make_grid(p.table, schedule_kind::linear_lambda, static_cast<int>(orders.size()));
    mrsolve::singlestep_sampler<P, table_t, std::vector<T>> sampler(p.table, x);
    sampler.run(std::span<const double>(grid), std::span<const int>(orders), oracle.model(fit_target::noise), x, mu);
    return std::vector<double>(x.begin(), x.end());
}

}  // namespace

TEST_CASE_TEMPLATE("singlestep: splitting the state across 2, 3, 5 or 8 threads gives the one-thread result bitwise", T,
                   float, double) {
    const auto check = [](auto parameterization, int order) {
        using P = decltype(parameterization);
        CAPTURE(order);
        const bool data = std::is_same_v<P, data_prediction>;
        CAPTURE(data);
        const std::vector<double> whole = singlestep_slice<T, P>(order, 0, dim);
        for (const std::size_t workers : {std::size_t{2}, std::size_t{3}, std::size_t{5}, std::size_t{8}}) {
            CAPTURE(workers);
            std::vector<std::vector<double>> parts(workers);
            std::vector<std::size_t> first(workers + 1);
            for (std::size_t w = 0; w <= workers; ++w) first[w] = w * dim / workers;
            std::vector<std::thread> pool;
            for (std::size_t w = 0; w < workers; ++w)
                pool.emplace_back([&, w] { parts[w] = singlestep_slice<T, P>(order, first[w], first[w + 1] - first[w]); });
            for (auto& t : pool) t.join();
            std::vector<double> joined;
            for (const auto& part : parts) joined.insert(joined.end(), part.begin(), part.end());
            CHECK(bitwise_equal(joined, whole));
        }
    };
    for (const int order : {1, 2, 3}) {
        check(data_prediction{}, order);
        check(noise_prediction{}, order);
    }
}

}  // namespace test_concurrency
