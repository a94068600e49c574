// Consumer of mrsolve as a subproject: add_subdirectory(<mrsolve source>) + mrsolve::mrsolve, nothing else.
#include <mrsolve/mrsolve.hpp>
#include <vector>

// The C++20 requirement must reach the consumer through mrsolve::mrsolve (cxx_std_20).
static_assert(__cplusplus >= 202002L, "mrsolve::mrsolve must carry cxx_std_20");

int main() {
    // A whole sampling run through the umbrella header: 5 steps of the MR Sampler on a linear toy model.
    const mrsolve::irsde_table<double> sde;
    std::vector<double> mu(16, 0.25), x(16);
    mrsolve::stationary_start(sde, mu, x, 1);
    auto model = [](const std::vector<double>& x, const std::vector<double>& mu, double, std::vector<double>& out) {
        for (std::size_t i = 0; i < x.size(); ++i) out[i] = 0.1 * (x[i] - mu[i]);
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, 5);
    const auto stats = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, sde, grid, model, x, mu);
    try {
        (void)mrsolve::parse_fit_target("epsilon");
        return 1;
    } catch (const mrsolve::invalid_argument&) {
    }
    return stats.nfe == 5 ? 0 : 1;
}
