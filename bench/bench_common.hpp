#pragma once
// Shared by the mrsolve benchmark executables: the solver list, the zero-cost model, the per-step
// measurement through the public sampler, the byte count of each step, the triad reference and the
// build-configuration banner.
//
// Measurement of one step. A sampler is built outside the timed region (validation and workspace
// allocation happen once, as in user code). Each benchmark iteration seeds the history with order − 1
// model evaluations (untimed), then times one sampler::run over a grid of M = steps_per_run steps with
// the constant order policy, so every timed step runs at the solver's full order; the reported time is
// the run time divided by M. The run is exactly what users call: per-run validation (one finiteness
// pass over x and μ, amortised over M steps) and every per-step coefficient computation are included.
// The model does nothing (its output buffer keeps whatever it holds: zeros from set-up); the fit
// target is `data`, so a zero output is a valid x̂₀ and the state stays bounded over any number of runs.

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <mrsolve/mrsolve.hpp>

#if defined(_OPENMP)
#include <omp.h>
#endif

namespace mrsolve_bench {

/// The three state sizes of the issue: an image [B, C, H, W].
struct image_shape {
    std::size_t b, c, h, w;
    [[nodiscard]] std::size_t size() const noexcept { return b * c * h * w; }
};
inline constexpr std::array<image_shape, 3> shapes{{{1, 3, 64, 64}, {1, 3, 256, 256}, {16, 3, 256, 256}}};

/// Steps per timed run (see the file comment).
inline constexpr int steps_per_run = 20;

/// A model that costs nothing: it leaves its output buffer as it is.
struct zero_model {
    template <class S, class Real>
    void operator()(const S&, const S&, Real, S&) const noexcept {}
};

/// Arrays of n elements that one step reads and writes (the byte count of `bytes_per_second`):
/// the fused linear map of sample.hpp reads x, μ, the raw model output and the K − 1 history entries it
/// uses (K = order), and writes x and the converted output q₀ (the next step's history; first-order
/// methods store it too, since its finiteness is checked in the same pass): K + 4 arrays.
/// Counter-based normals generated inside the pass (linear_map_normal) move no memory; a backend
/// without it fills z first (one write) and reads it in the map (one read): two more arrays.
[[nodiscard]] constexpr int arrays_per_step(int order, bool stochastic, bool fused_noise) noexcept {
    const int reads = 3 + (order - 1);
    const int writes = 2;
    return reads + writes + (stochastic && !fused_noise ? 2 : 0);
}
/// The same count for a method: Heun (two model evaluations per step, deterministic) makes two passes,
/// the predictor x' = a x + b μ + c·raw (3 reads, 1 write) and the corrector
/// x = a x + b x' + c μ + d·raw₂ (4 reads, 1 write): 9 arrays.
/// @tparam Method the solver object type
/// A corrector (mr_unipc) folds its increment into the next step's pass: it reads one history entry
/// more than its predictor (p instead of p − 1), so p + 5 arrays.
template <class Method>
[[nodiscard]] constexpr int method_arrays_per_step(const Method& method, bool fused_noise) noexcept {
    if constexpr (mrsolve::TwoStageMethod<Method>) return 9;
    else if constexpr (mrsolve::CorrectingMethod<Method>) return arrays_per_step(method.order + 1, false, false);
    else return arrays_per_step(method.order, Method::stochastic, fused_noise);
}
/// A singlestep step of order k makes k passes: order 1 reads x, μ, raw₀ and writes x (4 arrays);
/// order 2 adds the sub-step pass (x, μ, raw₀ → u₁) and its final pass reads x, μ, raw₀, u₁, raw₁
/// (4 + 6 = 10); order 3 adds the pass to u₂ (6 more) and its final pass reads x, μ, raw₀, u₂, raw₂ (16).
[[nodiscard]] constexpr int singlestep_arrays_per_step(int order) noexcept {
    return order == 1 ? 4 : order == 2 ? 10 : 16;
}
/// Earlier model outputs a timed run needs in its history so that every timed step is full order
/// (none for the one-step two-stage method).
template <class Method>
[[nodiscard]] constexpr int history_to_seed(const Method& method) noexcept {
    if constexpr (mrsolve::TwoStageMethod<Method>) return 0;
    else return method.order - 1;
}

/// The triad bandwidths measured so far for a size (bytes/s), filled by the triad benchmarks.
inline std::map<std::size_t, std::vector<double>>& triad_samples() {
    static std::map<std::size_t, std::vector<double>> samples;
    return samples;
}
/// The triad pass factories of each size (register_triad), for a step benchmark whose triad was
/// filtered out of the run.
inline std::map<std::size_t, std::function<std::function<void()>()>>& triad_makers() {
    static std::map<std::size_t, std::function<std::function<void()>()>> makers;
    return makers;
}
[[nodiscard]] inline double now_seconds() noexcept;  // the measurement clock (below)
/// Passes per clock reading of the triad: enough that a reading's own cost stays below 1 %.
[[nodiscard]] inline std::int64_t triad_repeat(std::size_t n) noexcept {
    return std::max<std::int64_t>(1, 2'000'000 / static_cast<std::int64_t>(n));
}
/// Median of the triad bandwidths of a size (bytes/s). When `triad/<n>` did not run (a
/// --benchmark_filter without it), measures it here, untimed by the step: one warm-up pass, then
/// 7 samples of triad_repeat(n) passes, so that triad_ratio is always against this binary's triad.
[[nodiscard]] inline double triad_median(std::size_t n) {
    if (triad_samples()[n].empty()) {
        const auto maker = triad_makers().find(n);
        if (maker == triad_makers().end()) return 0.0;
        const std::function<void()> pass = maker->second();
        pass();
        const std::int64_t repeat = triad_repeat(n);
        for (int k = 0; k < 7; ++k) {
            const double t0 = now_seconds();
            for (std::int64_t r = 0; r < repeat; ++r) pass();
            const double dt = (now_seconds() - t0) / static_cast<double>(repeat);
            triad_samples()[n].push_back(12.0 * static_cast<double>(n) / dt);
        }
    }
    auto v = triad_samples()[n];
    std::sort(v.begin(), v.end());
    const std::size_t m = v.size() / 2;
    return v.size() % 2 == 1 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// The clock of the measurements. Single-thread binaries use the thread's CPU time by default: this
/// machine is shared, and wall time there includes the time the thread waits for a core, which is not a
/// cost of the step; on an idle machine the two agree. Multi-thread (OpenMP) and GPU (CUDA) binaries use
/// wall time. MRSOLVE_BENCH_CLOCK=wall or =cpu overrides the default.
enum class clock_kind { thread_cpu, wall };
inline clock_kind& measurement_clock() {
#if defined(_OPENMP) || defined(__CUDACC__)
    static clock_kind kind = clock_kind::wall;
#else
    static clock_kind kind = clock_kind::thread_cpu;
#endif
    return kind;
}
[[nodiscard]] inline const char* clock_name() {
    return measurement_clock() == clock_kind::wall ? "wall time (steady_clock)" : "thread CPU time (CLOCK_THREAD_CPUTIME_ID)";
}
/// Seconds on the measurement clock.
[[nodiscard]] inline double now_seconds() noexcept {
    if (measurement_clock() == clock_kind::thread_cpu) {
        timespec ts{};
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
        return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
/// Seconds of wall time (a counter next to the measurement clock).
[[nodiscard]] inline double wall_seconds() noexcept {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Registers the triad reference `triad/<elements>`: a = b + s·c on n floats, 3·4·n bytes per pass,
/// timed by `pass` (a callable doing one pass and returning when it is complete).
inline void register_triad(std::size_t n, std::function<std::function<void()>()> make_pass, int repetitions,
                           double min_time) {
    triad_makers()[n] = make_pass;
    benchmark::RegisterBenchmark(("triad/" + std::to_string(n)).c_str(),
                                 [n, make_pass](benchmark::State& state) {
                                     const std::function<void()> pass = make_pass();
                                     // Several passes per clock reading, so a reading's own cost
                                     // (a system call for the CPU clock) stays below 1 %.
                                     const std::int64_t repeat = triad_repeat(n);
                                     double seconds = 0;
                                     std::int64_t passes = 0;
                                     for (auto _ : state) {
                                         const double t0 = now_seconds();
                                         for (std::int64_t r = 0; r < repeat; ++r) pass();
                                         const double dt = (now_seconds() - t0) / static_cast<double>(repeat);
                                         state.SetIterationTime(dt);
                                         seconds += dt;
                                         ++passes;
                                     }
                                     const double bw = 12.0 * static_cast<double>(n) * static_cast<double>(passes) / seconds;
                                     triad_samples()[n].push_back(bw);
                                     state.counters["bytes_per_second"] = bw;
                                     state.counters["elements"] = static_cast<double>(n);
                                 })
        ->UseManualTime()
        ->Repetitions(repetitions)
        ->ReportAggregatesOnly(true)
        ->MinTime(min_time)
        ->Unit(benchmark::kMicrosecond);
}

/// How a benchmark builds and seeds states of one backend.
/// @tparam S the state type
template <class S>
struct backend_ops {
    std::string name;                                                       ///< backend name
    std::function<S(const image_shape&, const std::vector<float>&)> make;  ///< state from host values
};

/// The fixture of the benchmark that runs now (one at a time, so only one set of states is alive):
/// current_fixture<F>(name) returns it if `name` owns it, else null; current_fixture<F>(name, f) stores f.
struct fixture_slot {
    std::string owner;
    std::shared_ptr<void> fixture;
};
inline fixture_slot& fixture_storage() {
    static fixture_slot slot;
    return slot;
}
template <class F>
std::shared_ptr<F> current_fixture(const std::string& name, std::shared_ptr<F> store = nullptr) {
    fixture_slot& slot = fixture_storage();
    if (store) {
        slot.owner = name;
        slot.fixture = std::move(store);
        return nullptr;
    }
    if (slot.owner != name) {
        slot.fixture.reset();  // release the previous benchmark's states before building new ones
        slot.owner.clear();
        return nullptr;
    }
    return std::static_pointer_cast<F>(slot.fixture);
}

/// Host values of x and μ: smooth, bounded, different per element.
[[nodiscard]] inline std::vector<float> host_values(std::size_t n, float phase) {
    std::vector<float> v(n);
    for (std::size_t e = 0; e < n; ++e) v[e] = 0.5f + 0.4f * static_cast<float>(((e * 2654435761u) % 1000) / 1000.0) - phase;
    return v;
}

/// The timed loop of a step benchmark: per iteration, prepare() (untimed), then one run of
/// steps_per_run steps (timed); the iteration time is the time per step.
template <class Run, class Prepare = void (*)()>
void time_runs(benchmark::State& state, double& seconds, double& wall, std::int64_t& steps, Run&& run,
               Prepare&& prepare = [] {}) {
    for (auto _ : state) {
        prepare();
        const double w0 = wall_seconds(), t0 = now_seconds();
        run();
        const double dt = now_seconds() - t0, dw = wall_seconds() - w0;
        state.SetIterationTime(dt / steps_per_run);
        seconds += dt;
        wall += dw;
        steps += steps_per_run;
    }
}

/// The counters of a step benchmark: bandwidth from the bytes of one step, its ratio to the triad of the
/// same size, and the wall time per step.
inline void report_step_counters(benchmark::State& state, double bytes, int arrays, std::size_t n, std::int64_t steps,
                                 double seconds, double wall) {
    const double bw = bytes * static_cast<double>(steps) / seconds;
    const double triad = triad_median(n);
    state.counters["bytes_per_second"] = bw;
    state.counters["triad_ratio"] = triad > 0 ? bw / triad : 0.0;
    state.counters["arrays"] = arrays;
    state.counters["elements"] = static_cast<double>(n);
    state.counters["wall_us_per_step"] = 1e6 * wall / static_cast<double>(steps);
}

/// The family of every step benchmark: discrete cosine tables, T = 100, max_sigma = 50, eps = 0.005.
using bench_family = mrsolve::irsde_table<double>;

/// Registers one step benchmark `name`. The family, the states (x = 0, μ = 0.25) and the sampler
/// make_sampler(family, x) are built once per benchmark (Google Benchmark calls the function several
/// times per benchmark: repetitions and iteration-count trials); timed(state, sampler, x, μ, grid,
/// seconds, wall, steps) times runs over the grid 90 → 10 of steps_per_run steps (with time_runs).
/// @tparam Sampler the sampler type @tparam S the state type
template <class Sampler, class S, class Make, class Timed>
void register_timed_step(const std::string& name, int arrays, const backend_ops<S>& ops, const image_shape& shape,
                         int repetitions, double min_time, Make make_sampler, Timed timed) {
    const std::size_t n = shape.size();
    const double bytes = static_cast<double>(arrays) * static_cast<double>(n) * sizeof(mrsolve::state_value_t<S>);
    benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
        struct fixture {
            bench_family family;
            S x, mu;
            std::optional<Sampler> sampler;
        };
        std::shared_ptr<fixture> f = current_fixture<fixture>(name);
        double seconds = 0, wall = 0;
        std::int64_t steps = 0;
        try {
            if (!f) {
                f = std::make_shared<fixture>(fixture{bench_family{}, ops.make(shape, host_values(n, 0.0f)),
                                                      ops.make(shape, host_values(n, 0.25f)), std::nullopt});
                f->sampler.emplace(make_sampler(f->family, f->x));
                current_fixture<fixture>(name, f);
            }
            std::vector<double> grid(steps_per_run + 1);
            for (int i = 0; i <= steps_per_run; ++i) grid[static_cast<std::size_t>(i)] = 90.0 - 80.0 * i / steps_per_run;
            timed(state, *f->sampler, f->x, f->mu, std::span<const double>(grid), seconds, wall, steps);
        } catch (const std::exception& e) {
            state.SkipWithError(e.what());
            return;
        }
        report_step_counters(state, bytes, arrays, n, steps, seconds, wall);
    })
        ->UseManualTime()
        ->Repetitions(repetitions)
        ->ReportAggregatesOnly(true)
        ->MinTime(min_time / steps_per_run)  // accumulated time is per step: ≈ min_time of wall time
        ->Unit(benchmark::kMicrosecond);
}

/// Registers `step/single_<P>_<k>/<backend>/<elements>`: one outer step of the singlestep sampler of order
/// k (k model evaluations of the zero-cost model and k passes), timed as register_step times a step.
/// @tparam P the parameterization @tparam S the state type
template <class P, class S>
void register_singlestep(int order, const backend_ops<S>& ops, const image_shape& shape, int repetitions,
                         double min_time) {
    using sampler_type = mrsolve::singlestep_sampler<P, bench_family, S>;
    const std::string name = "step/single_" + std::string(P::name) + "_" + std::to_string(order) + "/" + ops.name + "/" +
                             std::to_string(shape.size());
    register_timed_step<sampler_type>(
        name, singlestep_arrays_per_step(order), ops, shape, repetitions, min_time,
        [](const bench_family& family, const S& x) {
            return sampler_type(family, x, mrsolve::singlestep_options{mrsolve::fit_target::data});
        },
        [order](benchmark::State& state, sampler_type& s, S& x, const S& mu, std::span<const double> grid,
                double& seconds, double& wall, std::int64_t& steps) {
            const std::vector<int> orders(steps_per_run, order);
            const zero_model model;
            time_runs(state, seconds, wall, steps, [&] { s.run(grid, std::span<const int>(orders), model, x, mu); });
        });
}

/// Registers `step/adaptive_<P>_<k>/<backend>/<elements>`: one trial of the adaptive sampler of order
/// k ∈ {2, 3} in per-step scope: the singlestep step with its embedded result (one more write), the error
/// norm (a host reduction reading x and both results) and the copy of the accepted result into x:
/// singlestep_arrays_per_step(k) + 6 arrays. With the zero-cost model every trial is accepted; h_init =
/// span/steps_per_run and fac_max = 1.0001 keep the trials about equal. The time per trial divides each
/// run by the trials it reports, so the run's input checks (two reads) are spread over them.
/// @tparam P the parameterization @tparam S the state type
template <class P, class S>
void register_adaptive(int order, const backend_ops<S>& ops, const image_shape& shape, int repetitions,
                       double min_time) {
    using sampler_type = mrsolve::adaptive_sampler<P, bench_family, S>;
    const std::string name = "step/adaptive_" + std::string(P::name) + "_" + std::to_string(order) + "/" + ops.name +
                             "/" + std::to_string(shape.size());
    register_timed_step<sampler_type>(
        name, singlestep_arrays_per_step(order) + 6, ops, shape, repetitions, min_time,
        [order](const bench_family& family, const S& x) {
            const auto lambda = [&](double t) { return std::log(family.alpha(t) / family.sigma(t)); };
            mrsolve::adaptive_options options;
            options.order = order;
            options.fit = mrsolve::fit_target::data;
            options.scope = mrsolve::tolerance_scope::per_step;
            options.fac_max = 1.0001;
            options.h_init = (lambda(10.0) - lambda(90.0)) / steps_per_run;
            options.max_nfe = 100 * steps_per_run * order;
            return sampler_type(family, x, options);
        },
        [](benchmark::State& state, sampler_type& s, S& x, const S& mu, std::span<const double> grid, double& seconds,
           double& wall, std::int64_t& steps) {
            const zero_model model;
            for (auto _ : state) {
                const double w0 = wall_seconds(), t0 = now_seconds();
                const auto result = s.run(grid.front(), grid.back(), model, x, mu);
                const double dt = now_seconds() - t0, dw = wall_seconds() - w0;
                const int trials = result.accepted + result.rejected;
                state.SetIterationTime(dt / trials);
                seconds += dt;
                wall += dw;
                steps += trials;
            }
        });
}

/// Registers `step/<solver>/<backend>/<elements>` for one method and backend.
/// @tparam Method the solver object type @tparam S the state type
template <class Method, class S>
void register_step(const std::string& solver, const Method& method, const backend_ops<S>& ops,
                   const image_shape& shape, int repetitions, double min_time) {
    using sampler_type = mrsolve::sampler<Method, bench_family, S>;
    const bool fused = Method::stochastic && mrsolve::FusedNormalState<S>;
    const int seeds = history_to_seed(method);
    register_timed_step<sampler_type>(
        "step/" + solver + "/" + ops.name + "/" + std::to_string(shape.size()), method_arrays_per_step(method, fused),
        ops, shape, repetitions, min_time,
        [method](const bench_family& family, const S& x) {
            mrsolve::sample_options options;
            options.fit = mrsolve::fit_target::data;
            options.orders = mrsolve::order_policy::constant;
            return sampler_type(method, family, x, options);
        },
        [seeds](benchmark::State& state, sampler_type& s, S& x, const S& mu, std::span<const double> grid,
                double& seconds, double& wall, std::int64_t& steps) {
            const zero_model model;
            const mrsolve::counter_noise noise(2024);
            // Untimed before each run: order − 1 earlier outputs (oldest first), so every timed step is full order.
            const auto seed = [&] {
                for (int k = seeds; k >= 1; --k) s.seed_history(model, x, mu, 90.0 + 4.0 * k);
            };
            time_runs(state, seconds, wall, steps, [&] { s.run(grid, model, x, mu, noise); }, seed);
        });
}

/// Registers every solver of the issue for one backend and size.
/// @tparam S the state type
template <class S>
void register_solvers(const backend_ops<S>& ops, const image_shape& shape, int repetitions, double min_time) {
    using mrsolve::data_prediction;
    using mrsolve::noise_prediction;
    for (int k = 1; k <= 3; ++k) register_step("ode_data_" + std::to_string(k), mrsolve::mr_ode<data_prediction>{k}, ops, shape, repetitions, min_time);
    for (int k = 1; k <= 3; ++k) register_step("ode_noise_" + std::to_string(k), mrsolve::mr_ode<noise_prediction>{k}, ops, shape, repetitions, min_time);
    for (int k = 1; k <= 2; ++k) register_step("sde_data_" + std::to_string(k), mrsolve::mr_sde<data_prediction>{k}, ops, shape, repetitions, min_time);
    for (int k = 1; k <= 2; ++k) register_step("sde_noise_" + std::to_string(k), mrsolve::mr_sde<noise_prediction>{k}, ops, shape, repetitions, min_time);
    // Beyond the published sampler: the predictor–corrector (its correction is fused into the next
    // step's pass), the η-continuum, the singlestep solvers and one trial of the adaptive sampler.
    for (int k = 1; k <= 3; ++k) {
        register_step("unipc_data_" + std::to_string(k), mrsolve::mr_unipc<data_prediction>{k, mrsolve::unipc_variant::bh2, {}}, ops, shape, repetitions, min_time);
        register_step("unipc_noise_" + std::to_string(k), mrsolve::mr_unipc<noise_prediction>{k, mrsolve::unipc_variant::bh2, {}}, ops, shape, repetitions, min_time);
    }
    for (int k = 1; k <= 3; ++k) register_step("eta0.5_data_" + std::to_string(k), mrsolve::mr_eta<data_prediction>{k, 0.5}, ops, shape, repetitions, min_time);
    if constexpr (mrsolve::HostState<S>) {
        for (int k = 1; k <= 3; ++k) {
            register_singlestep<data_prediction>(k, ops, shape, repetitions, min_time);
            register_singlestep<noise_prediction>(k, ops, shape, repetitions, min_time);
        }
        for (int k = 2; k <= 3; ++k) {
            register_adaptive<data_prediction>(k, ops, shape, repetitions, min_time);
            register_adaptive<noise_prediction>(k, ops, shape, repetitions, min_time);
        }
    }
    // The baselines, in the variable-step (correct) form and in the published fixed-step form (the grid
    // 90, 86, …, 10 is on integer table steps, as that form requires). Heun's "step" is its two model
    // evaluations and two passes.
    using mrsolve::step_mode;
    register_step("euler_ode", mrsolve::euler_ode{}, ops, shape, repetitions, min_time);
    register_step("heun_ode", mrsolve::heun_ode{}, ops, shape, repetitions, min_time);
    register_step("euler_maruyama", mrsolve::euler_maruyama{}, ops, shape, repetitions, min_time);
    register_step("posterior_exact", mrsolve::posterior_sampling{}, ops, shape, repetitions, min_time);
    register_step("euler_ode_published", mrsolve::euler_ode{.mode = step_mode::published_fixed}, ops, shape, repetitions, min_time);
    register_step("heun_ode_published", mrsolve::heun_ode{.mode = step_mode::published_fixed}, ops, shape, repetitions, min_time);
    register_step("euler_maruyama_published", mrsolve::euler_maruyama{.mode = step_mode::published_fixed}, ops, shape, repetitions, min_time);
    register_step("posterior_published", mrsolve::posterior_sampling{.mode = step_mode::published_fixed}, ops, shape, repetitions, min_time);
}

/// A line of /proc/cpuinfo ("model name"), or "unknown".
[[nodiscard]] inline std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            return colon == std::string::npos ? line : line.substr(colon + 2);
        }
    }
    return "unknown";
}

/// The host triad reference: a = b + s·c over n floats, one pass, the same compiler and flags as the
/// steps.
/// In the OpenMP build it is shared among the threads exactly when mrsolve's host loops are (same chunks,
/// same threshold), so the ratio compares like with like.
[[gnu::noinline]] inline void triad_kernel(float* __restrict a, const float* __restrict b, const float* __restrict c,
                                    float s, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}
inline void triad(float* a, const float* b, const float* c, float s, std::size_t n) noexcept {
    mrsolve::detail::for_host_chunks(n, [&](std::size_t begin, std::size_t end) {
        triad_kernel(a + begin, b + begin, c + begin, s, end - begin);
        return 0u;
    });
}

inline std::function<void()> host_triad_pass(std::size_t n) {
    auto a = std::make_shared<std::vector<float>>(n, 0.0f);
    auto b = std::make_shared<std::vector<float>>(host_values(n, 0.0f));
    auto c = std::make_shared<std::vector<float>>(host_values(n, 0.25f));
    return [a, b, c, n] {
        triad(a->data(), b->data(), c->data(), 0.5f, n);
        benchmark::DoNotOptimize(a->data());
        benchmark::ClobberMemory();
    };
}

/// Prints the build configuration first, and records it in the benchmark context (JSON output).
/// @param binary the executable's role @param backends the backends compiled in
inline void print_configuration(const std::string& binary, const std::string& backends) {
    std::printf("mrsolve benchmark configuration\n");
    const auto item = [](const std::string& key, const std::string& value) {
        std::printf("  %-14s %s\n", key.c_str(), value.c_str());
        benchmark::AddCustomContext("mrsolve_" + key, value);
    };
#if defined(__CUDACC__) && defined(__GNUC__) && !defined(__clang__)
    item("compiler", "nvcc " + std::to_string(__CUDACC_VER_MAJOR__) + "." + std::to_string(__CUDACC_VER_MINOR__) +
                         "." + std::to_string(__CUDACC_VER_BUILD__) + ", host compiler g++ " + __VERSION__);
#elif defined(__clang__)
    item("compiler", std::string("clang ") + __clang_version__);
#elif defined(__GNUC__)
    item("compiler", std::string("g++ ") + __VERSION__);
#else
    item("compiler", "unknown");
#endif
#ifdef MRSOLVE_BENCH_FLAGS
    item("flags", MRSOLVE_BENCH_FLAGS);
#endif
#ifdef MRSOLVE_BENCH_BUILD_TYPE
    item("build_type", MRSOLVE_BENCH_BUILD_TYPE);
#endif
    item("binary", binary);
    item("backends", backends);
#if defined(_OPENMP)
    item("openmp", "yes (_OPENMP " + std::to_string(_OPENMP) + "), threads " + std::to_string(omp_get_max_threads()) +
                       ", mrsolve host loops from " + std::to_string(mrsolve::detail::openmp_min_elements) + " elements");
#else
    item("openmp", "no (single thread)");
#endif
    // The instruction set of mrsolve's host kernels (chosen at run time), and the one the rest of the
    // binary was compiled for.
#if defined(__AVX512F__)
    const char* compiled_for = "AVX-512";
#elif defined(__AVX2__)
    const char* compiled_for = "AVX2";
#elif defined(__SSE2__)
    const char* compiled_for = "SSE2";
#else
    const char* compiled_for = "other";
#endif
    item("simd", std::string("kernels ") + std::string(mrsolve::simd_isa_name(mrsolve::host_simd_isa())) +
                     ", compiled for " + compiled_for);
    item("cpu", cpu_model());
    item("mrsolve", std::to_string(MRSOLVE_VERSION_MAJOR) + "." + std::to_string(MRSOLVE_VERSION_MINOR) + "." +
                        std::to_string(MRSOLVE_VERSION_PATCH));
    item("steps_per_run", std::to_string(steps_per_run));
    item("clock", clock_name());
    std::fflush(stdout);
}

/// Benchmark main: configuration banner, registration, run.
/// @param argc,argv command line (Google Benchmark flags)
/// @param binary,backends banner entries @param register_all registers the benchmarks
inline int run_main(int argc, char** argv, const std::string& binary, const std::string& backends,
                    const std::function<void(int, double)>& register_all) {
    if (const char* c = std::getenv("MRSOLVE_BENCH_CLOCK")) {
        const std::string choice = c;
        if (choice == "wall") measurement_clock() = clock_kind::wall;
        else if (choice == "cpu") measurement_clock() = clock_kind::thread_cpu;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    print_configuration(binary, backends);
    register_all(/*repetitions=*/5, /*min_time=*/0.05);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

}  // namespace mrsolve_bench
