// Tutorial 1: sample with your own network. Any callable model(x, mu, t, out) works; this one is a
// stand-in with the shape of a real network (it owns its buffers, allocates nothing per call).
#include <cstdio>
#include <mrsolve/mrsolve.hpp>
#include <vector>

struct my_network {
    std::vector<float> scratch;  // allocated once, like a network's activations
    void operator()(const std::vector<float>& x, const std::vector<float>& mu, double t, std::vector<float>& out) {
        // Predicts the clean image x̂₀ (fit target "data"): here, a fixed blend towards μ.
        for (std::size_t i = 0; i < x.size(); ++i) out[i] = 0.9f * mu[i] + 0.1f * x[i] * float(t / 100.0);
    }
};

int main() {
    const mrsolve::irsde_table<double> sde({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});
    const std::size_t pixels = 3 * 64 * 64;
    std::vector<float> mu(pixels, 0.4f), x(pixels);
    mrsolve::stationary_start(sde, mu, x, /*seed=*/7);

    mrsolve::sample_options options;
    options.fit = mrsolve::fit_target::data;  // what the network returns
    const mrsolve::mr_ode<mrsolve::data_prediction> solver{.order = 2};
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, /*NFE=*/10);

    my_network network{std::vector<float>(pixels)};
    auto progress = [](const auto& step) {
        std::printf("step %2d/%d  t = %6.2f  lambda = %6.2f\n", step.step, step.steps, step.t, step.lambda);
    };
    mrsolve::sampler<decltype(solver), decltype(sde), std::vector<float>> run(solver, sde, x, options);
    const auto stats = run.run(grid, network, x, mu, mrsolve::counter_noise{7}, progress);
    std::printf("NFE used: %d, x[0] = %.4f\n", stats.nfe, x[0]);
    return stats.nfe == 10 ? 0 : 1;
}
