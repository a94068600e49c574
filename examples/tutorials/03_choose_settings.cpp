// Tutorial 3: choose NFE, order, parameterization and schedule, by measuring them on a problem with a
// known answer: Gaussian data under the published discrete cosine tables (T = 100, max_sigma = 50,
// eps = 0.005). Prints a Markdown table of the max error against the exact probability-flow map.
#include <cmath>
#include <cstdio>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <string>
#include <vector>

using table_family = mrsolve::irsde_table<double>;

template <class Solver>
double ode_error(const Solver& solver, mrsolve::schedule_kind schedule, int nfe, const table_family& sde,
                 const mrsolve::gaussian_diagonal_oracle<table_family>& oracle, const std::vector<double>& mu,
                 const std::vector<double>& x_T, const std::vector<double>& exact) {
    const auto grid = mrsolve::make_grid(sde, schedule, nfe);
    std::vector<double> x = x_T;
    mrsolve::sample(solver, sde, grid, oracle.model(mrsolve::fit_target::noise), x, mu);
    double error = 0;
    for (std::size_t j = 0; j < x.size(); ++j) error = std::max(error, std::abs(x[j] - exact[j]));
    return error;
}

int main() {
    const table_family sde({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});
    const std::size_t n = 64;
    std::vector<double> mean(n), stdev(n), mu(n), x_T(n), exact(n);
    const mrsolve::philox_normal draw(2024);
    for (std::size_t j = 0; j < n; ++j) {
        mean[j] = 0.5 + 0.3 * draw.normal<double>(1, j);
        stdev[j] = 0.05 + 0.2 * std::abs(draw.normal<double>(2, j));
        mu[j] = mean[j] + 0.4 * draw.normal<double>(3, j);
    }
    const mrsolve::gaussian_diagonal_oracle<table_family> oracle(sde, mean, stdev);
    mrsolve::stationary_start(sde, mu, x_T, 4);
    oracle.flow(x_T, mu, sde.t_max(), sde.t_min(), exact);

    const mrsolve::schedule_kind schedules[] = {mrsolve::schedule_kind::linspace, mrsolve::schedule_kind::linear_lambda,
                                                mrsolve::schedule_kind::karras_n, mrsolve::schedule_kind::time_quadratic};
    std::printf("| solver | schedule | NFE 5 | NFE 10 | NFE 20 |\n|---|---|---|---|---|\n");
    for (const auto schedule : schedules) {
        const auto row = [&](const auto& solver) {
            std::printf("| `%s` | `%s` |", solver.name().c_str(), std::string(mrsolve::to_string(schedule)).c_str());
            for (const int nfe : {5, 10, 20})
                std::printf(" %.1e |", ode_error(solver, schedule, nfe, sde, oracle, mu, x_T, exact));
            std::printf("\n");
        };
        for (int order = 1; order <= 3; ++order) {
            row(mrsolve::mr_ode<mrsolve::data_prediction>{order});
            row(mrsolve::mr_ode<mrsolve::noise_prediction>{order});
        }
    }
    std::printf("| recommended | (per NFE) |");
    for (const int nfe : {5, 10, 20}) {
        std::vector<double> x = x_T;
        mrsolve::sample_recommended(sde, nfe, oracle.model(mrsolve::fit_target::noise), x, mu);
        double error = 0;
        for (std::size_t j = 0; j < n; ++j) error = std::max(error, std::abs(x[j] - exact[j]));
        std::printf(" %.1e |", error);
    }
    std::printf("\n");
    return 0;
}
