// mrsolve_bench_libtorch: the MR Sampler ODE-2 and SDE-2 steps (data prediction, zero-cost model, one
// thread) on torch::Tensor states of 1×3×256×256 float32, contiguous and channels_last, and a sampler
// reused across runs: what the LibTorch backend's paths cost (docs/performance.md). Built when LibTorch is
// found (bench/CMakeLists.txt).

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <span>
#include <vector>

#include <mrsolve/adapters/libtorch.hpp>
#include <mrsolve/mrsolve.hpp>

namespace {

struct zero_model {
    void operator()(const at::Tensor&, const at::Tensor&, double, at::Tensor&) const noexcept {}
};

using family_t = mrsolve::irsde_table<double>;

/// Median over `runs` runs of the time per step of one sampler, reused (µs).
template <class Method>
double per_step_us(const Method& method, bool channels_last, int runs) {
    const family_t family;
    at::Tensor x = at::zeros({1, 3, 256, 256}, at::kFloat);
    at::Tensor mu = at::full({1, 3, 256, 256}, 0.25f, at::kFloat);
    if (channels_last) {
        x = x.contiguous(at::MemoryFormat::ChannelsLast);
        mu = mu.contiguous(at::MemoryFormat::ChannelsLast);
    }
    mrsolve::sample_options options;
    options.fit = mrsolve::fit_target::data;
    mrsolve::sampler<Method, family_t, at::Tensor> sampler(method, family, x, options);
    std::vector<double> grid;
    for (int t = 90; t >= 10; t -= 4) grid.push_back(double(t));
    const int steps = static_cast<int>(grid.size()) - 1;
    std::vector<double> times;
    for (int r = 0; r < runs + 2; ++r) {
        x.zero_();
        const auto t0 = std::chrono::steady_clock::now();
        sampler.run(std::span<const double>(grid), zero_model{}, x, mu, mrsolve::counter_noise{2024});
        const auto t1 = std::chrono::steady_clock::now();
        if (r >= 2) times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / steps);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

}  // namespace

int main() {
    at::set_num_threads(1);
    const int runs = 31;
    std::printf("mrsolve_bench_libtorch: 1x3x256x256 float32, one thread, median of %d runs of 20 steps, "
                "sampler reused; kernels %s\n",
                runs, std::string(mrsolve::simd_isa_name(mrsolve::host_simd_isa())).c_str());
    for (const bool channels_last : {false, true}) {
        at::Tensor probe = at::zeros({1, 3, 256, 256});
        if (channels_last) probe = probe.contiguous(at::MemoryFormat::ChannelsLast);
        const double ode = per_step_us(mrsolve::mr_ode<mrsolve::data_prediction>{2}, channels_last, runs);
        const double sde = per_step_us(mrsolve::mr_sde<mrsolve::data_prediction>{2}, channels_last, runs);
        std::printf("layout=%s path=%s ode_data_2_us=%.1f sde_data_2_us=%.1f\n",
                    channels_last ? "channels_last" : "contiguous",
                    mrsolve::torch_path_name(mrsolve::torch_execution_path(probe)), ode, sde);
    }
    return 0;
}
