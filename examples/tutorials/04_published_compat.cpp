// Tutorial 4: reproduce the published MR Sampler exactly, and see what mrsolve does differently by default.
#include <cmath>
#include <cstdio>
#include <mrsolve/golden/replay.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <vector>

int main(int argc, char** argv) {
    // 1. The published configuration, spelled out.
    const mrsolve::irsde_table<double> sde({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});
    mrsolve::sample_options published = mrsolve::sample_options::published(mrsolve::fit_target::noise);
    published.thresholding = mrsolve::dynamic_thresholding{.ratio = 0.995, .max_value = 1.5, .batch_items = 1};
    const mrsolve::mr_ode<mrsolve::data_prediction> published_solver{.order = 3, .rule3 = mrsolve::order3_rule::published};
    const mrsolve::posterior_sampling published_baseline{.order = 1, .mode = mrsolve::step_mode::published_fixed};

    // 2. A toy problem to run them on: Gaussian data, 16 elements.
    std::vector<double> mean(16, 0.3), stdev(16, 0.1), mu(16, 0.6), x(16), x_default(16), x_baseline(16);
    const mrsolve::gaussian_diagonal_oracle<mrsolve::irsde_table<double>> oracle(sde, mean, stdev);
    mrsolve::stationary_start(sde, mu, x, 3);
    x_default = x_baseline = x;
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, 20);
    const auto network = oracle.model(mrsolve::fit_target::noise);
    mrsolve::sample(published_solver, sde, grid, network, x, mu, published);
    mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{.order = 3}, sde, grid, network, x_default, mu);
    mrsolve::sample(published_baseline, sde, grid, network, x_baseline, mu, published, mrsolve::counter_noise{3});
    std::printf("published ode_data_3: x[0] = %.5f; mrsolve default: %.5f; published posterior (20 NFE): %.5f\n",
                x[0], x_default[0], x_baseline[0]);

    // 3. Check parity on recordings of the published sampler (what build/tools/mrsolve_golden does).
    for (int i = 1; i < argc; ++i) {
        const auto result = mrsolve::replay_golden(mrsolve::read_golden(argv[i]));
        std::printf("%s max_abs_dev=%.2e\n", argv[i], result.max_abs_dev);
        if (!(result.max_abs_dev < 5e-5)) return 1;
    }
    return 0;
}
