// mrsolve_select: the measurement behind mrsolve::recommended() (docs/choosing.md).
//
// Every deterministic configuration — mr_ode orders 2 and 3, mr_unipc predictor orders 1–3 with both
// B(h) variants, singlestep orders 2 and 3, in noise and data prediction, on the schedules linspace,
// linear-lambda, karras-n, karras-t and time-quadratic — runs the probability-flow ODE at each NFE on five
// problems with known answers:
//   G-demo    the main demo's Gaussian data (64 elements, spreads 0.05 … 0.65) on the discrete cosine tables
//   G-narrow  narrow Gaussian data (spreads 0.01 … 0.15) on the tables
//   G-wide    wide Gaussian data (spreads 0.2 … 1.1) on the tables
//   G-cont    the G-demo data on the continuous cosine IR-SDE (t_min = 0.1)
//   mixture   a 2-D three-component Gaussian mixture (200 points) on the continuous family, against a
//             converged reference solve (mr_ode data 3 on 3000 λ-uniform steps)
// The error is the max-norm distance to the exact flow (Gaussian) or the reference (mixture). For each NFE
// the configurations are ranked by the geometric mean over the problems of error / (best error on that
// problem at that NFE); the top five and the recommended configuration are printed, with its rank.
// `--raw` also prints every measurement as `problem=P config=C nfe=N max_abs_err=E`.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/oracle/gaussian_mixture.hpp>
#include <mrsolve/recommended.hpp>
#include <span>
#include <string>
#include <vector>

namespace {

using vec = std::vector<double>;
using namespace mrsolve;

const std::vector<int> nfes{2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50};
const schedule_kind kinds[] = {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::karras_n,
                               schedule_kind::karras_t, schedule_kind::time_quadratic};

// errors[problem][config][nfe]; a configuration that refuses or returns NaN/Inf scores +inf.
std::map<std::string, std::map<std::string, std::map<int, double>>> errors;

double max_abs_diff(const vec& a, const vec& b) {
    double e = 0;
    for (std::size_t j = 0; j < a.size(); ++j) e = std::max(e, std::abs(a[j] - b[j]));
    return std::isfinite(e) ? e : HUGE_VAL;
}

template <class Family, class Model>
void scan(const std::string& problem, const Family& family, const Model& model, const vec& x_T, const vec& mu,
          const vec& reference) {
    const auto record = [&](const std::string& config, int nfe, const std::function<void(vec&)>& run) {
        double e = HUGE_VAL;
        try {
            vec x = x_T;
            run(x);
            e = max_abs_diff(x, reference);
        } catch (const mrsolve::invalid_argument&) {
            // too few steps for the order, or a degenerate schedule: not a candidate at this NFE
        }
        errors[problem][config][nfe] = e;
    };
    const auto multistep = [&](const auto& method, schedule_kind kind, int nfe) {
        record(method.name() + " " + std::string(to_string(kind)), nfe, [&](vec& x) {
            const auto grid = make_grid(family, kind, nfe);
            auto m = model;
            sample(method, family, std::span<const double>(grid), m, x, mu);
        });
    };
    const auto singlestep = [&](auto parameterization, int order, schedule_kind kind, int nfe) {
        using P = decltype(parameterization);
        record("single_" + std::string(P::name) + "_" + std::to_string(order) + " " + std::string(to_string(kind)), nfe,
               [&](vec& x) {
                   const auto orders = singlestep_orders(nfe, order);
                   const auto grid = make_grid(family, kind, static_cast<int>(orders.size()));
                   singlestep_sampler<P, Family, vec> s(family, x);
                   auto m = model;
                   s.run(std::span<const double>(grid), std::span<const int>(orders), m, x, mu);
               });
    };
    for (const int nfe : nfes) {
        for (const auto kind : kinds) {
            for (int p = 1; p <= 3; ++p) {
                for (const auto v : {unipc_variant::bh1, unipc_variant::bh2}) {
                    multistep(mr_unipc<data_prediction>{p, v, {}}, kind, nfe);
                    multistep(mr_unipc<noise_prediction>{p, v, {}}, kind, nfe);
                }
            }
            for (int p = 2; p <= 3; ++p) {
                multistep(mr_ode<data_prediction>{p}, kind, nfe);
                multistep(mr_ode<noise_prediction>{p}, kind, nfe);
                singlestep(data_prediction{}, p, kind, nfe);
                singlestep(noise_prediction{}, p, kind, nfe);
            }
        }
    }
}

template <class Family>
void gaussian(const std::string& name, const Family& family, std::uint64_t seed, double spread_min, double spread_scale) {
    const std::size_t n = 64;
    vec mean(n), spread(n), mu(n);
    const philox_normal draw(seed);
    for (std::size_t j = 0; j < n; ++j) {
        mean[j] = 0.5 + 0.3 * draw.normal<double>(1, j);
        spread[j] = spread_min + spread_scale * std::abs(draw.normal<double>(2, j));
        mu[j] = mean[j] + 0.4 * draw.normal<double>(3, j);
    }
    const gaussian_diagonal_oracle<Family> oracle(family, mean, spread);
    vec mean_T(n), var_T(n), x_T(n), exact(n);
    oracle.marginal_mean(mu, family.t_max(), mean_T);
    oracle.marginal_variance(family.t_max(), var_T);
    for (std::size_t j = 0; j < n; ++j) x_T[j] = mean_T[j] + std::sqrt(var_T[j]) * draw.normal<double>(4, j);
    oracle.flow(x_T, mu, family.t_max(), family.t_min(), exact);
    scan(name, family, oracle.model(fit_target::noise), x_T, mu, exact);
}

template <class Oracle>
struct batched_points {
    oracle_model<Oracle> point_model;
    void operator()(const vec& x, const vec& mu, double t, vec& out) const {
        for (std::size_t p = 0; p + 1 < x.size(); p += 2)
            point_model(std::span<const double>(x.data() + p, 2), std::span<const double>(mu.data() + p, 2), t,
                        std::span<double>(out.data() + p, 2));
    }
};

void mixture(const ir_sde<double>& family) {
    const std::vector<gaussian_mixture_component> components{{0.5, {0.2, 0.3}, {0.010, 0.004, 0.004, 0.020}},
                                                             {0.3, {0.8, 0.6}, {0.015, -0.005, -0.005, 0.010}},
                                                             {0.2, {0.4, 0.9}, {0.005, 0.0, 0.0, 0.005}}};
    const gaussian_mixture_oracle<ir_sde<double>> oracle(family, components);
    const batched_points<gaussian_mixture_oracle<ir_sde<double>>> model{oracle.model(fit_target::noise)};
    const std::size_t points = 200;
    vec x(2 * points), mu(2 * points);
    const philox_normal draw(7);
    const double a = family.alpha(family.t_max()), s = family.sigma(family.t_max());
    for (std::size_t p = 0; p < points; ++p) {
        mu[2 * p] = 0.6;
        mu[2 * p + 1] = 0.4;
        // A draw of the exact marginal at T: component k by its weight, then its Gaussian at T.
        const double u = 0.5 + 0.5 * std::erf(draw.normal<double>(11, 3 * p) / std::sqrt(2.0));
        const std::size_t k = u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
        const auto& S = components[k].covariance;
        const double c00 = a * a * S[0] + s * s, c01 = a * a * S[1], c11 = a * a * S[3] + s * s;
        const double l00 = std::sqrt(c00), l10 = c01 / l00, l11 = std::sqrt(c11 - l10 * l10);
        const double z0 = draw.normal<double>(11, 3 * p + 1), z1 = draw.normal<double>(11, 3 * p + 2);
        x[2 * p] = 0.6 + a * (components[k].mean[0] - 0.6) + l00 * z0;
        x[2 * p + 1] = 0.4 + a * (components[k].mean[1] - 0.4) + l10 * z0 + l11 * z1;
    }
    vec reference = x, check = x;
    const auto fine = make_grid(family, schedule_kind::linear_lambda, 3000);
    const auto coarse = make_grid(family, schedule_kind::linear_lambda, 1500);
    auto m = model;
    sample(mr_ode<data_prediction>{3}, family, std::span<const double>(fine), m, reference, mu);
    sample(mr_ode<data_prediction>{3}, family, std::span<const double>(coarse), m, check, mu);
    std::printf("# mixture reference: NFE 3000 vs 1500 differ by %.1e\n", max_abs_diff(reference, check));
    scan("mixture", family, model, x, mu, reference);
}

}  // namespace

int main(int argc, char** argv) {
    const bool raw = argc > 1 && std::strcmp(argv[1], "--raw") == 0;
    const irsde_table<double> tables({theta_schedule::cosine, 100, 50, 0.005});
    const ir_sde<double> continuous({theta_schedule::cosine, 100, 50, 0.005}, 0.1);
    gaussian("G-demo", tables, 2024, 0.05, 0.2);
    gaussian("G-narrow", tables, 77, 0.01, 0.05);
    gaussian("G-wide", tables, 78, 0.2, 0.3);
    gaussian("G-cont", continuous, 2024, 0.05, 0.2);
    mixture(continuous);

    if (raw)
        for (const auto& [problem, configs] : errors)
            for (const auto& [config, by_nfe] : configs)
                for (const auto& [nfe, e] : by_nfe)
                    std::printf("problem=%s config=%s nfe=%d max_abs_err=%.3e\n", problem.c_str(), config.c_str(), nfe, e);

    const auto& configs = errors.begin()->second;
    for (const int nfe : nfes) {
        std::map<std::string, double> best;
        for (const auto& [problem, by_config] : errors) {
            double b = HUGE_VAL;
            for (const auto& [config, by_nfe] : by_config) b = std::min(b, by_nfe.at(nfe));
            best[problem] = b;
        }
        std::vector<std::pair<double, std::string>> ranked;
        for (const auto& [config, unused] : configs) {
            double log_sum = 0;
            for (const auto& [problem, by_config] : errors) log_sum += std::log(by_config.at(config).at(nfe) / best[problem]);
            ranked.emplace_back(std::exp(log_sum / static_cast<double>(errors.size())), config);
        }
        std::sort(ranked.begin(), ranked.end());
        const std::string chosen = recommended(nfe).name();
        std::printf("\nNFE %d (score: geometric mean of error / best error over the 5 problems; 1 = best everywhere)\n", nfe);
        for (std::size_t r = 0; r < ranked.size(); ++r) {
            const bool is_chosen = ranked[r].second == chosen;
            if (r >= 5 && !is_chosen) continue;
            std::printf("  %3zu. %-36s score %7.2f", r + 1, ranked[r].second.c_str(), ranked[r].first);
            for (const auto& [problem, by_config] : errors) std::printf("  %s %.1e", problem.c_str(), by_config.at(ranked[r].second).at(nfe));
            std::printf("%s\n", is_chosen ? "  <- recommended" : "");
        }
    }
    return 0;
}
