// mrsolve_plot_data DIR: writes the data behind the figures in docs/img/ (docs/plots.gp draws them;
// `bash scripts/plots.sh` regenerates everything).
//
// (a) Error against NFE for every solver on the Gaussian problem of mrsolve_demo: 64 independent elements
//     x₀ⱼ ~ N(mⱼ, sⱼ²), `linspace` schedule, mrsolve's default loop options, x_T drawn from the exact
//     marginal at T = 100. ODE solvers: max |x − x_exact| against the exact probability-flow map.
//     SDE solvers: weak error, the largest deviation of the result's per-element mean and standard
//     deviation from the exact marginal at the end; both moments are exact (every scheme is affine in x_T
//     and in its normals), so there is no Monte Carlo noise. The fitted slope is the least-squares slope
//     of log(error) against log(NFE) over NFE ≥ 20. Two coefficient families (cosine θ, T = 100,
//     max_sigma = 50, eps = 0.005):
//       - the continuous IR-SDE (`ir_sde`, λ = ln(α/σ) exactly) on [1, 100], NFE 5 … 200: the solvers'
//         orders (docs/img/convergence.*; files convergence_ode.dat, convergence_sde.dat);
//       - the discrete tables trained IR-SDE / DA-CLIP models use (`irsde_table`, as in mrsolve_demo), at
//         the NFE whose `linspace` grid lies on table nodes (NFE dividing 100), where the published
//         fixed-step baselines also run (docs/img/convergence_tables.*; files convergence_tables_ode.dat,
//         convergence_tables_sde.dat). Between table nodes α, σ and λ are interpolated separately, so
//         λ ≠ ln(α/σ) there and grids off the nodes converge to a slightly different flow: on the
//         tables, NFE beyond 100 or not dividing 100 shows an error floor of 1e-4 … 5e-2, not an order.
//     Each .dat file holds one block per solver (blocks separated by two blank lines): first line
//     `"legend title" name`, then rows `nfe error`. convergence_slopes.txt: `family name slope`.
// (b) One sampling trajectory: 12 points of a 2-D, 3-component Gaussian mixture sampled with the MR
//     Sampler (probability-flow ODE, data prediction, order 2 — the published default) in 20 steps on the
//     same tables, from x_T = μ + σ_∞ z, with the data prediction x̂₀ of the (exact) model at every step.
//       trajectory_states.dat       one block per point: `step t x1 x2` for steps 0 … 20
//       trajectory_predictions.dat  one block per point: `step t x̂₀₁ x̂₀₂`, t the time of the evaluation
//       trajectory_components.dat   one block per mixture component: its 2-standard-deviation ellipse
//       trajectory_points.dat       `x1 x2 label` for μ and the component means
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/oracle/gaussian_mixture.hpp>
#include <span>
#include <string>
#include <vector>

namespace {

using vec = std::vector<double>;
using noise_fn = std::function<void(vec&, int)>;

const std::vector<int> continuous_ladder{5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200};
const std::vector<int> table_ladder{5, 10, 20, 25, 50, 100};  // linspace grids on the table nodes
constexpr int fit_from_nfe = 20;  // the fitted slope uses NFE ≥ 20 (the asymptotic levels)

// One solver: a legend title, a short name, and a run (nfe, x in/out, noise) → NFE used.
struct entry {
    std::string title;
    std::string name;
    bool stochastic;
    std::function<int(int nfe, vec& x, const noise_fn& noise)> run;
};

// The Gaussian data of mrsolve_demo.
struct gaussian_data {
    std::size_t n = 64;
    vec mean, std_dev, mu;
    gaussian_data() : mean(n), std_dev(n), mu(n) {
        const mrsolve::philox_normal draw(2024);
        for (std::size_t j = 0; j < n; ++j) {
            mean[j] = 0.5 + 0.3 * draw.normal<double>(1, j);
            std_dev[j] = 0.05 + 0.2 * std::abs(draw.normal<double>(2, j));
            mu[j] = mean[j] + 0.4 * draw.normal<double>(3, j);  // the degraded image, away from the data
        }
    }
};

template <class Method, class Family, class Model>
entry make_entry(std::string title, const Method& method, const Family& family, Model model, const vec& mu) {
    return {std::move(title), method.name(), Method::stochastic,
            [=, &family](int nfe, vec& x, const noise_fn& noise) {
                const int stages = mrsolve::TwoStageMethod<Method> ? 2 : 1;
                const int steps = std::max(1, nfe / stages);
                const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, steps);
                auto m = model;
                return mrsolve::sample(method, family, std::span<const double>(grid), m, x, mu, {},
                                       mrsolve::injected_noise(noise))
                    .nfe;
            }};
}

// Least-squares slope of log(error) against log(NFE) over NFE ≥ fit_from_nfe (finite, positive errors).
double fitted_slope(const std::vector<int>& nfe, const vec& err) {
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (std::size_t i = 0; i < nfe.size(); ++i) {
        if (nfe[i] < fit_from_nfe || !(err[i] > 0) || !std::isfinite(err[i])) continue;
        const double x = std::log(nfe[i]), y = std::log(err[i]);
        sx += x, sy += y, sxx += x * x, sxy += x * y, ++n;
    }
    if (n < 2) return std::nan("");
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

// "−2.01": the slope with a typographic minus, for the legend.
std::string format_slope(double slope) {
    if (!std::isfinite(slope)) return "n/a";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", std::abs(slope));
    return (slope < 0 ? "\u2212" : "") + std::string(buffer);
}

std::ofstream open_output(const std::filesystem::path& path) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("cannot write " + path.string());
    return out;
}

// Part (a): the error ladders of every solver on one family; `prefix` names the files.
template <class Family>
int write_convergence(const std::filesystem::path& dir, const std::string& prefix, const Family& family,
                      const std::vector<int>& ladder, std::ofstream& slopes_out) {
    constexpr bool tables = mrsolve::DiscreteTableFamily<Family>;
    const gaussian_data p;
    const std::size_t n = p.n;
    const mrsolve::gaussian_diagonal_oracle<Family> oracle(family, p.mean, p.std_dev);
    const auto model = oracle.model(mrsolve::fit_target::noise);
    const double T = family.t_max(), t0 = family.t_min();
    const mrsolve::philox_normal draw(2024);

    // Exact marginals at both ends; x_T drawn from the marginal at T; the exact flow of x_T.
    vec mean_T(n), var_T(n), mean_0(n), var_0(n), x_T(n), exact(n);
    oracle.marginal_mean(p.mu, T, mean_T);
    oracle.marginal_variance(T, var_T);
    oracle.marginal_mean(p.mu, t0, mean_0);
    oracle.marginal_variance(t0, var_0);
    for (std::size_t j = 0; j < n; ++j) x_T[j] = mean_T[j] + std::sqrt(var_T[j]) * draw.normal<double>(4, j);
    oracle.flow(x_T, p.mu, T, t0, exact);

    using namespace mrsolve;
    const vec& mu = p.mu;
    std::vector<entry> solvers;
    for (int order = 1; order <= 3; ++order)
        solvers.push_back(make_entry("MR ODE, data, k = " + std::to_string(order), mr_ode<data_prediction>{order},
                                     family, model, mu));
    for (int order = 1; order <= 3; ++order)
        solvers.push_back(make_entry("MR ODE, noise, k = " + std::to_string(order), mr_ode<noise_prediction>{order},
                                     family, model, mu));
    solvers.push_back(make_entry("MR ODE, data, k = 3, published rule",
                                 mr_ode<data_prediction>{3, order3_rule::published}, family, model, mu));
    solvers.push_back(make_entry("MR ODE, noise, k = 3, published rule",
                                 mr_ode<noise_prediction>{3, order3_rule::published}, family, model, mu));
    solvers.push_back(make_entry("Euler (PF-ODE)", euler_ode{}, family, model, mu));
    solvers.push_back(make_entry("Heun (PF-ODE)", heun_ode{}, family, model, mu));
    if constexpr (tables)
        solvers.push_back(make_entry("Euler (PF-ODE), published fixed step",
                                     euler_ode{1, step_mode::published_fixed}, family, model, mu));
    for (int order = 1; order <= 2; ++order)
        solvers.push_back(make_entry("MR SDE, data, k = " + std::to_string(order), mr_sde<data_prediction>{order},
                                     family, model, mu));
    for (int order = 1; order <= 2; ++order)
        solvers.push_back(make_entry("MR SDE, noise, k = " + std::to_string(order), mr_sde<noise_prediction>{order},
                                     family, model, mu));
    solvers.push_back(make_entry("Euler\u2013Maruyama", euler_maruyama{}, family, model, mu));
    solvers.push_back(make_entry("Posterior sampling", posterior_sampling{}, family, model, mu));
    if constexpr (tables) {
        solvers.push_back(make_entry("Euler\u2013Maruyama, published fixed step",
                                     euler_maruyama{1, step_mode::published_fixed}, family, model, mu));
        solvers.push_back(make_entry("Posterior sampling, published fixed step",
                                     posterior_sampling{1, step_mode::published_fixed}, family, model, mu));
    }

    auto ode_out = open_output(dir / (prefix + "_ode.dat"));
    auto sde_out = open_output(dir / (prefix + "_sde.dat"));
    for (auto* out : {&ode_out, &sde_out})
        *out << "# mrsolve_plot_data: error against NFE, Gaussian data (64 elements), "
             << (tables ? "discrete cosine IR-SDE tables" : "continuous cosine IR-SDE on [1, 100]")
             << " (T = 100, max_sigma = 50, eps = 0.005),\n"
                "# linspace; one block per solver: \"title\" name, then nfe error\n";
    const noise_fn no_noise = [](vec& z, int) { std::fill(z.begin(), z.end(), 0.0); };
    int failures = 0;
    for (const auto& e : solvers) {
        std::vector<int> used;
        vec errors;
        for (const int nfe : ladder) {
            double err = 0;
            if (!e.stochastic) {
                vec x = x_T;
                used.push_back(e.run(nfe, x, no_noise));
                for (std::size_t j = 0; j < n; ++j) err = std::max(err, std::abs(x[j] - exact[j]));
            } else {
                // Exact moments of an affine scheme: the mean from (E x_T, z = 0); the variance from the
                // response to a unit change of x_T and to a unit normal at each step k.
                vec m = mean_T;
                const int used_nfe = e.run(nfe, m, no_noise);
                used.push_back(used_nfe);
                vec variance(n, 0.0), x = mean_T;
                for (auto& v : x) v += 1.0;
                e.run(nfe, x, no_noise);
                for (std::size_t j = 0; j < n; ++j) variance[j] += (x[j] - m[j]) * (x[j] - m[j]) * var_T[j];
                for (int k = 1; k <= used_nfe; ++k) {
                    x = mean_T;
                    e.run(nfe, x, [k](vec& z, int step) { std::fill(z.begin(), z.end(), step == k ? 1.0 : 0.0); });
                    for (std::size_t j = 0; j < n; ++j) variance[j] += (x[j] - m[j]) * (x[j] - m[j]);
                }
                for (std::size_t j = 0; j < n; ++j)
                    err = std::max({err, std::abs(m[j] - mean_0[j]), std::abs(std::sqrt(variance[j]) - std::sqrt(var_0[j]))});
            }
            if (!std::isfinite(err)) ++failures;
            errors.push_back(err);
        }
        const double slope = fitted_slope(used, errors);
        auto& out = e.stochastic ? sde_out : ode_out;
        out << "\"" << e.title << "   slope " << format_slope(slope) << "\" " << e.name << "\n";
        for (std::size_t i = 0; i < used.size(); ++i) out << used[i] << ' ' << errors[i] << '\n';
        out << "\n\n";
        slopes_out << prefix << ' ' << e.name << ' ' << slope << '\n';
        std::printf("%s solver=%s slope=%.3f error_at_nfe_%d=%.3e\n", prefix.c_str(), e.name.c_str(), slope,
                    used.back(), errors.back());
    }
    return failures;
}

// A batch of independent 2-D points evaluated by the 2-D mixture oracle, point by point.
template <class Oracle>
struct batched_mixture_model {
    mrsolve::oracle_model<Oracle> point_model;
    void operator()(const vec& x, const vec& mu, double t, vec& out) const {
        for (std::size_t p = 0; p + 1 < x.size(); p += 2)
            point_model(std::span<const double>(x.data() + p, 2), std::span<const double>(mu.data() + p, 2), t,
                        std::span<double>(out.data() + p, 2));
    }
};

// Part (b): one sampling trajectory of a 2-D mixture, with the data prediction at every step.
int write_trajectory(const std::filesystem::path& dir) {
    using family_t = mrsolve::irsde_table<double>;
    const family_t family({mrsolve::theta_schedule::cosine, 100, 50, 0.005});
    const std::vector<mrsolve::gaussian_mixture_component> components{
        {0.5, {0.2, 0.3}, {0.010, 0.004, 0.004, 0.020}},
        {0.3, {0.8, 0.6}, {0.015, -0.005, -0.005, 0.010}},
        {0.2, {0.4, 0.9}, {0.005, 0.0, 0.0, 0.005}}};
    const mrsolve::gaussian_mixture_oracle<family_t> oracle(family, components);
    // The model returns x̂₀ (fit target data), so the observer sees the data prediction directly.
    const batched_mixture_model<mrsolve::gaussian_mixture_oracle<family_t>> model{
        oracle.model(mrsolve::fit_target::data)};
    const std::size_t points = 12;
    const vec mu_point{0.6, 0.4};
    vec mu(2 * points), x(2 * points);
    for (std::size_t i = 0; i < mu.size(); ++i) mu[i] = mu_point[i % 2];
    mrsolve::stationary_start(family, mu, x, /*seed=*/3);  // x_T = μ + σ_∞ z

    const int nfe = 20;
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, nfe);
    std::vector<vec> states{x}, predictions;
    std::vector<double> times{grid.front()}, eval_times;
    mrsolve::sample_options options;
    options.fit = mrsolve::fit_target::data;
    const auto observe = [&](const mrsolve::step_info<double, vec>& info) {
        states.push_back(info.x);
        times.push_back(info.t);
        predictions.push_back(info.model_output);  // x̂₀ at (x_{i−1}, t_{i−1})
        eval_times.push_back(grid[static_cast<std::size_t>(info.step) - 1]);
    };
    const auto stats = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, family,
                                       std::span<const double>(grid), model, x, mu, options, mrsolve::zero_noise{},
                                       observe);

    auto states_out = open_output(dir / "trajectory_states.dat");
    auto predictions_out = open_output(dir / "trajectory_predictions.dat");
    states_out << "# MR ODE, data prediction, order 2, NFE " << stats.nfe
               << ", linspace, discrete cosine tables; one block per point: step t x1 x2\n";
    predictions_out << "# the data prediction x0hat at every evaluation; one block per point: step t x0hat1 x0hat2\n";
    for (std::size_t p = 0; p < points; ++p) {
        for (std::size_t s = 0; s < states.size(); ++s)
            states_out << s << ' ' << times[s] << ' ' << states[s][2 * p] << ' ' << states[s][2 * p + 1] << '\n';
        for (std::size_t s = 0; s < predictions.size(); ++s)
            predictions_out << s + 1 << ' ' << eval_times[s] << ' ' << predictions[s][2 * p] << ' '
                            << predictions[s][2 * p + 1] << '\n';
        states_out << "\n\n";
        predictions_out << "\n\n";
    }

    // The data: each component's 2-standard-deviation ellipse m + 2 L (cos φ, sin φ), S = L Lᵀ.
    auto components_out = open_output(dir / "trajectory_components.dat");
    auto points_out = open_output(dir / "trajectory_points.dat");
    components_out << "# 2-standard-deviation ellipses of the mixture components: x1 x2\n";
    points_out << "# x1 x2 label\n" << mu_point[0] << ' ' << mu_point[1] << " \"μ\"\n";
    for (const auto& c : components) {
        const double l00 = std::sqrt(c.covariance[0]), l10 = c.covariance[2] / l00;
        const double l11 = std::sqrt(c.covariance[3] - l10 * l10);
        for (int k = 0; k <= 100; ++k) {
            const double phi = 2 * 3.14159265358979323846 * k / 100;
            const double u = 2 * std::cos(phi), v = 2 * std::sin(phi);
            components_out << c.mean[0] + l00 * u << ' ' << c.mean[1] + l10 * u + l11 * v << '\n';
        }
        components_out << "\n\n";
        char label[32];
        std::snprintf(label, sizeof label, "w = %.1f", c.weight);
        points_out << c.mean[0] << ' ' << c.mean[1] << " \"" << label << "\"\n";
    }
    int failures = 0;
    for (const auto& s : states)
        for (const double v : s) failures += std::isfinite(v) ? 0 : 1;
    std::printf("trajectory: %zu points, %d steps, NFE %d\n", points, stats.steps, stats.nfe);
    return failures;
}

/// α(t), σ(t) and λ(t) of the shipped families (docs/img/families.*): the discrete cosine and linear
/// tables (T = 100, max_sigma = 50, eps = 0.005) and the continuous cosine IR-SDE, on a fine grid of t.
int write_families(const std::filesystem::path& dir) {
    const mrsolve::irsde_parameters cosine{mrsolve::theta_schedule::cosine, 100, 50, 0.005};
    const mrsolve::irsde_parameters linear{mrsolve::theta_schedule::linear, 100, 50, 0.005};
    const mrsolve::irsde_table<double> cosine_table(cosine), linear_table(linear);
    const mrsolve::ir_sde<double> cosine_continuous(cosine, 0.01);
    auto out = open_output(dir / "families.dat");
    out << "# t alpha sigma lambda (cosine table) alpha sigma lambda (linear table) alpha sigma lambda (continuous cosine)\n";
    int failures = 0;
    for (int i = 1; i <= 1000; ++i) {
        const double t = 0.1 * i;
        out << t;
        for (const double v : {cosine_table.alpha(t), cosine_table.sigma(t), cosine_table.lambda(t), linear_table.alpha(t),
                               linear_table.sigma(t), linear_table.lambda(t), cosine_continuous.alpha(t),
                               cosine_continuous.sigma(t), cosine_continuous.lambda(t)}) {
            out << ' ' << v;
            failures += std::isfinite(v) ? 0 : 1;
        }
        out << '\n';
    }
    return failures;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR\n  writes the data of docs/img/convergence.* and "
                             "docs/img/trajectory.* (see docs/plots.gp)\n", argv[0]);
        return 2;
    }
    try {
        const std::filesystem::path dir(argv[1]);
        std::filesystem::create_directories(dir);
        auto slopes_out = open_output(dir / "convergence_slopes.txt");
        slopes_out << "# family solver fitted_log_log_slope (NFE >= " << fit_from_nfe << ")\n";
        const mrsolve::irsde_parameters cosine{mrsolve::theta_schedule::cosine, 100, 50, 0.005};
        int failures = write_convergence(dir, "convergence", mrsolve::ir_sde<double>(cosine, /*t_min=*/1.0),
                                         continuous_ladder, slopes_out);
        failures += write_convergence(dir, "convergence_tables", mrsolve::irsde_table<double>(cosine), table_ladder,
                                      slopes_out);
        failures += write_trajectory(dir);
        failures += write_families(dir);
        if (failures > 0) {
            std::fprintf(stderr, "mrsolve_plot_data: %d non-finite values\n", failures);
            return 1;
        }
        std::printf("mrsolve_plot_data: wrote convergence{,_tables}_{ode,sde}.dat, convergence_slopes.txt, "
                    "trajectory_*.dat and families.dat to %s\n", dir.string().c_str());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "mrsolve_plot_data: %s\n", e.what());
        return 1;
    }
    return 0;
}
