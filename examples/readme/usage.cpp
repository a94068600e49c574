#include <mrsolve/mrsolve.hpp>
#include <vector>

int main() {
    // The IR-SDE trained IR-SDE/DA-CLIP models use: cosine θ, T = 100 steps, max_sigma = 50, eps = 0.005.
    const mrsolve::irsde_table<double> sde({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});
    std::vector<float> mu(3 * 64 * 64, 0.5f), x(mu.size());  // μ: the degraded image
    mrsolve::stationary_start(sde, mu, x, /*seed=*/42);        // x_T = μ + λ_s z
    auto network = [](const std::vector<float>& x, const std::vector<float>& mu, double t, std::vector<float>& out) {
        for (std::size_t i = 0; i < x.size(); ++i) out[i] = float((x[i] - mu[i]) / (1 + t));  // your ε̂(x, μ, t)
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, /*NFE=*/10);
    const auto stats = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{.order = 2}, sde, grid, network, x, mu);
    return stats.nfe == 10 ? 0 : 1;  // x now holds the restored image
}
