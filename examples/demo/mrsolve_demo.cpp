// mrsolve_demo: error against NFE for every MR Sampler variant and every baseline, on two problems with
// known answers, with the measured convergence order and wall time of each.
//
//  1. Gaussian data (64 independent elements, each x₀ⱼ ~ N(mⱼ, sⱼ²)) under the discrete IR-SDE tables
//     (cosine, T = 100, max_sigma = 50, eps = 0.005), on the `linspace` schedule. ODE solvers: error
//     against the exact probability-flow map from t = 100 to t = 0. SDE solvers: weak error, the largest
//     deviation of the result's per-element mean and standard deviation from the exact marginal at t = 0
//     when x_T is drawn from the exact marginal at T; the moments are exact (no Monte Carlo), because for
//     Gaussian data every scheme is affine in x_T and in its normals.
//  2. A 2-D Gaussian mixture (3 components) under the continuous cosine IR-SDE (T = 100, t_min = 0.1),
//     `linspace`. ODE: error over 400 start points against a converged reference solve (ode_data_3 at
//     NFE 4000). SDE: Monte Carlo (20 000 samples) error of the mean and standard deviation against the
//     exact marginal at t_min; its statistical floor is printed.
//
// By default it prints a summary of about 35 lines (the published default, the recommended default and a
// few key solvers per problem, and whether the target is met) and draws a figure of error against NFE
// (SVG, with gnuplot when it is installed) into the directory given by --out (default: the directory of
// the executable). With --all it prints every figure below instead.
//
// --all output lines: `problem=P solver=NAME nfe=N max_abs_err=E` (machine-readable), then
// `problem=P solver=NAME order=K seconds=T` with K the least-squares slope of −log(err) against log(NFE)
// over NFE 20, 50, 100.
//
// Then, per problem, the published default (ODE, data prediction, order 2, linspace, published loop) against
// mrsolve's measured default (mrsolve::recommended) at NFE 2 … 100, as lines
// `problem=P compare nfe=N published=E recommended=E ratio=R`. On the Gaussian problem the target is
// ratio ≤ 0.1 at NFE 10 and 20 and finite results at every NFE ≥ 2; the demo exits with status 1 if it is
// missed. Last, the adaptive solver's NFE and error at a few tolerances.
#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
const std::vector<int> nfe_ladder{5, 10, 20, 50, 100};

// --all: every figure; otherwise the summary only.
bool full_output = false;

/// printf for the full output (--all) only.
[[gnu::format(printf, 1, 2)]] void print_all(const char* format, ...) {
    if (!full_output) return;
    std::va_list args;
    va_start(args, format);
    std::vprintf(format, args);
    va_end(args);
}

// The summary: per problem, a few rows of error at the NFE of nfe_ladder.
struct summary_row {
    std::string label;
    std::vector<double> errors;
    double order;
};
struct problem_summary {
    std::string title;
    std::vector<summary_row> rows;
    std::string verdict;
};
std::map<std::string, problem_summary> summaries;
// The solvers the summary shows, in this order, after the published and the recommended default.
const std::vector<std::string> key_solvers{"ode_data_2",     "ode_data_3",  "unipc_data_2_bh2", "single_data_3",
                                           "heun_ode",       "euler_ode",   "sde_data_1",       "sde_data_2",
                                           "euler_maruyama"};

// One solver run: (nfe, x in/out, noise) → NFE used; the problem supplies grid, model and μ.
struct entry {
    std::string name;
    bool stochastic;
    std::function<int(int nfe, vec& x, const std::function<void(vec&, int)>& noise)> run;
};

// Builds an entry for any solver object on a given family/model/μ.
template <class Method, class Family, class Model>
entry make_entry(const Method& method, const Family& family, Model model, const vec& mu,
                 mrsolve::schedule_kind schedule) {
    return {method.name(), Method::stochastic,
            [=, &family](int nfe, vec& x, const std::function<void(vec&, int)>& noise) {
                const int stages = [] {
                    if constexpr (mrsolve::TwoStageMethod<Method>) return 2;
                    else return 1;
                }();
                const int steps = std::max(1, nfe / stages);
                const auto grid = mrsolve::make_grid(family, schedule, steps);
                auto m = model;
                return mrsolve::sample(method, family, std::span<const double>(grid), m, x, mu, {},
                                       mrsolve::injected_noise(noise))
                    .nfe;
            }};
}

// A singlestep solver of the given order spending exactly the NFE asked for (mrsolve::singlestep_orders).
template <class P, class Family, class Model>
entry make_singlestep_entry(int order, const Family& family, Model model, const vec& mu, mrsolve::schedule_kind schedule) {
    return {"single_" + std::string(P::name) + "_" + std::to_string(order), false,
            [=, &family](int nfe, vec& x, const std::function<void(vec&, int)>&) {
                const auto orders = mrsolve::singlestep_orders(nfe, order);
                const auto grid = mrsolve::make_grid(family, schedule, static_cast<int>(orders.size()));
                mrsolve::singlestep_sampler<P, Family, vec> s(family, x);
                auto m = model;
                return s.run(std::span<const double>(grid), std::span<const int>(orders), m, x, mu).nfe;
            }};
}

template <class Family, class Model>
std::vector<entry> all_solvers(const Family& family, Model model, const vec& mu, bool with_published) {
    using namespace mrsolve;
    const auto sch = schedule_kind::linspace;
    std::vector<entry> list;
    for (int order = 1; order <= 3; ++order) {
        list.push_back(make_entry(mr_ode<data_prediction>{order}, family, model, mu, sch));
        list.push_back(make_entry(mr_ode<noise_prediction>{order}, family, model, mu, sch));
    }
    // The predictor–corrector (corrected order = predictor order + 1) and the singlestep solvers.
    for (int order = 1; order <= 3; ++order) {
        for (const auto variant : {unipc_variant::bh1, unipc_variant::bh2}) {
            list.push_back(make_entry(mr_unipc<data_prediction>{order, variant, {}}, family, model, mu, sch));
            list.push_back(make_entry(mr_unipc<noise_prediction>{order, variant, {}}, family, model, mu, sch));
        }
    }
    for (int order = 2; order <= 3; ++order) {
        list.push_back(make_singlestep_entry<data_prediction>(order, family, model, mu, sch));
        list.push_back(make_singlestep_entry<noise_prediction>(order, family, model, mu, sch));
    }
    // The published sampler's order-3 rule (second order; see mrsolve::order3_rule).
    list.push_back(make_entry(mr_ode<data_prediction>{3, order3_rule::published}, family, model, mu, sch));
    list.push_back(make_entry(mr_ode<noise_prediction>{3, order3_rule::published}, family, model, mu, sch));
    for (int order = 1; order <= 2; ++order) {
        list.push_back(make_entry(mr_sde<data_prediction>{order}, family, model, mu, sch));
        list.push_back(make_entry(mr_sde<noise_prediction>{order}, family, model, mu, sch));
    }
    // Halfway between the probability-flow ODE and the reverse SDE.
    for (int order = 1; order <= 3; ++order) list.push_back(make_entry(mr_eta<data_prediction>{order, 0.5}, family, model, mu, sch));
    list.push_back(make_entry(euler_ode{}, family, model, mu, sch));
    list.push_back(make_entry(heun_ode{}, family, model, mu, sch));
    list.push_back(make_entry(euler_maruyama{}, family, model, mu, sch));
    list.push_back(make_entry(posterior_sampling{}, family, model, mu, sch));
    if (with_published) {
        list.push_back(make_entry(euler_ode{1, step_mode::published_fixed}, family, model, mu, sch));
        list.push_back(make_entry(euler_maruyama{1, step_mode::published_fixed}, family, model, mu, sch));
        list.push_back(make_entry(posterior_sampling{1, step_mode::published_fixed}, family, model, mu, sch));
    }
    return list;
}

double fitted_order(const std::vector<int>& nfe, const std::vector<double>& err) {
    // Least-squares slope of −log err against log NFE over the last three levels.
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = 0;
    for (std::size_t i = nfe.size() - 3; i < nfe.size(); ++i) {
        if (!(err[i] > 0) || !std::isfinite(err[i])) continue;
        const double x = std::log(nfe[i]), y = -std::log(err[i]);
        sx += x, sy += y, sxx += x * x, sxy += x * y, ++n;
    }
    if (n < 2) return std::nan("");
    return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

struct row {
    std::string name;
    std::vector<double> errors;
    std::vector<int> used;
    double order, seconds;
};
std::vector<row> rows;

void report(const char* problem, const entry& e, const std::vector<double>& errors, double seconds,
            const std::vector<int>& used) {
    for (std::size_t i = 0; i < errors.size(); ++i)
        print_all("problem=%s solver=%s nfe=%d max_abs_err=%.3e\n", problem, e.name.c_str(), used[i], errors[i]);
    const double order = fitted_order(used, errors);
    print_all("problem=%s solver=%s order=%.2f seconds=%.4f\n", problem, e.name.c_str(), order, seconds);
    rows.push_back({e.name, errors, used, order, seconds});
    if (std::find(key_solvers.begin(), key_solvers.end(), e.name) != key_solvers.end())
        summaries[problem].rows.push_back({e.name, errors, order});
}

// The same figures as a table for people: error at each NFE, observed order, wall time of the ladder.
void print_table(const char* problem) {
    print_all("\n%-26s", problem);
    for (const int nfe : nfe_ladder) print_all(" %10s", ("NFE " + std::to_string(nfe)).c_str());
    print_all(" %7s %9s\n", "order", "seconds");
    for (const auto& r : rows) {
        print_all("%-26s", r.name.c_str());
        for (const double e : r.errors) print_all(" %10.2e", e);
        print_all(" %7.2f %9.4f\n", r.order, r.seconds);
    }
    print_all("(order: least-squares slope over NFE 20, 50, 100; heun_ode uses NFE/2 steps, so its NFE 5 is 4)\n\n");
    rows.clear();
}

bool target_missed = false;

// The published default (ODE data-2, linspace, published loop) against mrsolve::recommended at each NFE.
template <class Family, class Model>
void compare_with_published(const char* problem, const Family& family, const Model& model, const vec& x_T,
                            const vec& mu, const vec& exact, bool check_target) {
    const auto error_of = [&](const vec& x) {
        double e = 0;
        for (std::size_t j = 0; j < x.size(); ++j) e = std::max(e, std::abs(x[j] - exact[j]));
        return std::isfinite(e) ? e : HUGE_VAL;
    };
    print_all("\n%s: published default (ode_data_2, linspace, published loop) vs mrsolve::recommended\n", problem);
    print_all("%5s %12s %12s %8s  %s\n", "NFE", "published", "recommended", "ratio", "recommended configuration");
    summary_row published_row{"published default", {}, 0}, recommended_row{"recommended", {}, 0};
    std::vector<int> ladder_nfe;
    double ratio_10 = 0, ratio_20 = 0;
    for (const int nfe : {2, 3, 5, 10, 15, 20, 30, 50, 100}) {
        vec published = x_T, chosen = x_T;
        const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, nfe);
        auto m = model;
        mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, family, std::span<const double>(grid), m, published,
                        mu, mrsolve::sample_options::published());
        auto m2 = model;
        mrsolve::sample_recommended(family, nfe, m2, chosen, mu);
        const double e_pub = error_of(published), e_rec = error_of(chosen), ratio = e_rec / e_pub;
        print_all("problem=%s compare nfe=%d published=%.3e recommended=%.3e ratio=%.3f\n", problem, nfe, e_pub, e_rec,
                    ratio);
        print_all("%5d %12.3e %12.3e %8.3f  %s\n", nfe, e_pub, e_rec, ratio, mrsolve::recommended(nfe).name().c_str());
        if (std::find(nfe_ladder.begin(), nfe_ladder.end(), nfe) != nfe_ladder.end()) {
            published_row.errors.push_back(e_pub);
            recommended_row.errors.push_back(e_rec);
            ladder_nfe.push_back(nfe);
        }
        if (nfe == 10) ratio_10 = ratio;
        if (nfe == 20) ratio_20 = ratio;
        if (check_target) {
            if (!std::isfinite(e_rec) || e_rec == HUGE_VAL) {
                std::printf("TARGET MISSED: recommended result not finite at NFE %d\n", nfe);
                target_missed = true;
            }
            if ((nfe == 10 || nfe == 20) && !(ratio <= 0.1)) {
                std::printf("TARGET MISSED: ratio %.3f > 0.1 at NFE %d\n", ratio, nfe);
                target_missed = true;
            }
        }
    }
    if (check_target) print_all("# target (ratio <= 0.1 at NFE 10 and 20, finite at NFE >= 2): %s\n", target_missed ? "MISSED" : "met");
    published_row.order = fitted_order(ladder_nfe, published_row.errors);
    recommended_row.order = fitted_order(ladder_nfe, recommended_row.errors);
    auto& summary = summaries[problem];
    summary.rows.insert(summary.rows.begin(), {published_row, recommended_row});
    char verdict[200];
    std::snprintf(verdict, sizeof verdict, "recommended / published default: %.3f at NFE 10, %.3f at NFE 20%s", ratio_10,
                  ratio_20, check_target ? (target_missed ? "; target (<= 0.1, finite at NFE >= 2): MISSED" : "; target (<= 0.1, finite at NFE >= 2): met") : "");
    summary.verdict = verdict;
}

// The adaptive solver (order 3, PI controller, rtol = atol = tol) at a few tolerances, in both readings of
// the tolerance. err_units: the final error in the controller's norm (RMS over the state of
// |x - exact| / (atol + rtol |exact|)); the global scope promises err_units <= 1.
template <class Family, class Model>
void adaptive_figures(const char* problem, const Family& family, const Model& model, const vec& x_T, const vec& mu,
                      const vec& exact) {
    print_all("\n%s: adaptive step size in lambda (order 3, PI controller, rtol = atol = tol)\n", problem);
    for (const double tol : {1e-2, 1e-3, 1e-4, 1e-5}) {
        for (const auto scope : {mrsolve::tolerance_scope::global, mrsolve::tolerance_scope::per_step}) {
            for (const bool data : {false, true}) {
                mrsolve::adaptive_options options;
                options.rtol = options.atol = tol;
                options.scope = scope;
                vec x = x_T;
                auto m = model;
                const auto r = data ? mrsolve::sample_adaptive<mrsolve::data_prediction>(family, family.t_max(),
                                                                                        family.t_min(), m, x, mu, options)
                                    : mrsolve::sample_adaptive<mrsolve::noise_prediction>(family, family.t_max(),
                                                                                         family.t_min(), m, x, mu, options);
                double e = 0, sum = 0;
                for (std::size_t j = 0; j < x.size(); ++j) {
                    e = std::max(e, std::abs(x[j] - exact[j]));
                    const double u = (x[j] - exact[j]) / (tol + tol * std::abs(exact[j]));
                    sum += u * u;
                }
                print_all("problem=%s adaptive=%s scope=%s tol=%.0e nfe=%d passes=%d accepted=%d rejected=%d "
                            "max_abs_err=%.3e err_units=%.3f estimate=%.3f\n",
                            problem, data ? "data" : "noise",
                            scope == mrsolve::tolerance_scope::global ? "global" : "per_step", tol, r.nfe, r.passes,
                            r.accepted, r.rejected, e, std::sqrt(sum / static_cast<double>(x.size())), r.error_estimate);
            }
        }
    }
}

// Problem 1: Gaussian data on the discrete tables.
void gaussian_problem() {
    using family_t = mrsolve::irsde_table<double>;
    const family_t family({mrsolve::theta_schedule::cosine, 100, 50, 0.005});
    const std::size_t n = 64;
    vec mean(n), std_dev(n), mu(n);
    const mrsolve::philox_normal draw(2024);
    for (std::size_t j = 0; j < n; ++j) {
        mean[j] = 0.5 + 0.3 * draw.normal<double>(1, j);
        std_dev[j] = 0.05 + 0.2 * std::abs(draw.normal<double>(2, j));
        mu[j] = mean[j] + 0.4 * draw.normal<double>(3, j);  // the degraded image, away from the data
    }
    const mrsolve::gaussian_diagonal_oracle<family_t> oracle(family, mean, std_dev);
    const auto model = oracle.model(mrsolve::fit_target::noise);
    const double T = family.t_max(), t0 = family.t_min();

    // Exact marginals at both ends; x_T drawn from the marginal at T.
    vec mean_T(n), var_T(n), mean_0(n), var_0(n), x_T(n), exact(n);
    oracle.marginal_mean(mu, T, mean_T);
    oracle.marginal_variance(T, var_T);
    oracle.marginal_mean(mu, t0, mean_0);
    oracle.marginal_variance(t0, var_0);
    for (std::size_t j = 0; j < n; ++j) x_T[j] = mean_T[j] + std::sqrt(var_T[j]) * draw.normal<double>(4, j);
    oracle.flow(x_T, mu, T, t0, exact);

    print_all("# problem=gaussian: %zu elements, discrete cosine IR-SDE tables (T=100, max_sigma=50, eps=0.005), "
               "linspace, mrsolve default loop options\n", n);
    summaries["gaussian"].title = "Gaussian data, 64 elements, discrete cosine IR-SDE tables (T = 100): max error "
                                  "against the exact answer (SDE: of mean and std)";
    const std::function<void(vec&, int)> no_noise = [](vec& z, int) { std::fill(z.begin(), z.end(), 0.0); };
    for (const auto& e : all_solvers(family, model, mu, true)) {
        std::vector<double> errors;
        std::vector<int> used;
        const auto start = std::chrono::steady_clock::now();
        for (const int nfe : nfe_ladder) {
            double err = 0;
            if (!e.stochastic) {
                vec x = x_T;
                used.push_back(e.run(nfe, x, no_noise));
                for (std::size_t j = 0; j < n; ++j) err = std::max(err, std::abs(x[j] - exact[j]));
            } else {
                // Exact moments of an affine scheme: mean from (E x_T, z = 0); variance from the response to
                // a unit change of x_T and to a unit normal at each step k.
                vec m = mean_T;
                const int used_nfe = e.run(nfe, m, no_noise);
                used.push_back(used_nfe);
                vec variance(n, 0.0), x(n);
                x = mean_T;
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
            errors.push_back(err);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report("gaussian", e, errors, seconds, used);
    }
    print_table("gaussian");
    compare_with_published("gaussian", family, model, x_T, mu, exact, true);
    adaptive_figures("gaussian", family, model, x_T, mu, exact);
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

// Problem 2: a 2-D Gaussian mixture on the continuous cosine IR-SDE.
void mixture_problem() {
    using family_t = mrsolve::ir_sde<double>;
    const family_t family({mrsolve::theta_schedule::cosine, 100, 50, 0.005}, 0.1);
    const std::vector<mrsolve::gaussian_mixture_component> components{
        {0.5, {0.2, 0.3}, {0.010, 0.004, 0.004, 0.020}},
        {0.3, {0.8, 0.6}, {0.015, -0.005, -0.005, 0.010}},
        {0.2, {0.4, 0.9}, {0.005, 0.0, 0.0, 0.005}}};
    const mrsolve::gaussian_mixture_oracle<family_t> oracle(family, components);
    const batched_mixture_model<mrsolve::gaussian_mixture_oracle<family_t>> model{oracle.model(mrsolve::fit_target::noise)};
    const double T = family.t_max(), t0 = family.t_min();
    const mrsolve::philox_normal draw(7);
    const std::vector<double> mu_point{0.6, 0.4};

    // x_T from the exact marginal at T (a mixture): pick a component, then its Gaussian at T.
    const auto sample_start = [&](std::size_t points, std::uint64_t stream) {
        vec x(2 * points);
        const double a = family.alpha(T), s = family.sigma(T);
        for (std::size_t p = 0; p < points; ++p) {
            const double u = 0.5 + 0.5 * std::erf(draw.normal<double>(stream, 3 * p) / std::sqrt(2.0));
            std::size_t k = 0;
            for (double c = oracle.weights()[0]; u > c && k + 1 < components.size();) c += oracle.weights()[++k];
            // Component k at T: mean μ + α(m_k − μ), covariance α² S_k + σ² I (Cholesky of 2×2).
            const auto& S = components[k].covariance;
            const double c00 = a * a * S[0] + s * s, c01 = a * a * S[1], c11 = a * a * S[3] + s * s;
            const double l00 = std::sqrt(c00), l10 = c01 / l00, l11 = std::sqrt(c11 - l10 * l10);
            const double z0 = draw.normal<double>(stream, 3 * p + 1), z1 = draw.normal<double>(stream, 3 * p + 2);
            x[2 * p] = mu_point[0] + a * (components[k].mean[0] - mu_point[0]) + l00 * z0;
            x[2 * p + 1] = mu_point[1] + a * (components[k].mean[1] - mu_point[1]) + l10 * z0 + l11 * z1;
        }
        return x;
    };

    print_all("# problem=mixture: 2-D Gaussian mixture (3 components), continuous cosine IR-SDE (T=100, "
               "t_min=0.1), linspace\n");
    summaries["mixture"].title = "2-D Gaussian mixture, 400 points, continuous cosine IR-SDE: max error against a "
                                 "converged solve (SDE: Monte Carlo)";
    const std::size_t ode_points = 400, sde_points = 20000;
    const vec x_ode = sample_start(ode_points, 11), x_sde = sample_start(sde_points, 12);
    vec mu_ode(2 * ode_points), mu_sde(2 * sde_points);
    for (std::size_t p = 0; p < mu_ode.size(); ++p) mu_ode[p] = mu_point[p % 2];
    for (std::size_t p = 0; p < mu_sde.size(); ++p) mu_sde[p] = mu_point[p % 2];

    // Reference flow: ode_data_3 at NFE 4000, checked against NFE 2000.
    vec reference = x_ode, check = x_ode;
    {
        const auto fine = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 4000);
        const auto coarse = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 2000);
        auto m = model;
        mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{3}, family, std::span<const double>(fine), m, reference, mu_ode);
        mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{3}, family, std::span<const double>(coarse), m, check, mu_ode);
        double d = 0;
        for (std::size_t j = 0; j < reference.size(); ++j) d = std::max(d, std::abs(reference[j] - check[j]));
        print_all("# reference flow: ode_data_3 NFE 4000 vs NFE 2000 differ by %.2e\n", d);
    }
    // Exact marginal moments at t_min.
    vec mean_0(2);
    oracle.marginal_mean(mu_point, t0, mean_0);
    const vec cov_0 = oracle.marginal_covariance(t0);
    const double sd0[2] = {std::sqrt(cov_0[0]), std::sqrt(cov_0[3])};
    print_all("# SDE Monte Carlo floor (one standard error of the mean): %.2e\n",
               std::max(sd0[0], sd0[1]) / std::sqrt(double(sde_points)));

    for (const auto& e : all_solvers(family, model, mu_ode, false)) {
        std::vector<double> errors;
        std::vector<int> used;
        const auto start = std::chrono::steady_clock::now();
        for (const int nfe : nfe_ladder) {
            double err = 0;
            if (!e.stochastic) {
                vec x = x_ode;
                used.push_back(e.run(nfe, x, [](vec& z, int) { std::fill(z.begin(), z.end(), 0.0); }));
                for (std::size_t j = 0; j < x.size(); ++j) err = std::max(err, std::abs(x[j] - reference[j]));
            } else {
                // The entry's μ has the ODE batch size; SDE runs use their own entry on the larger batch.
                err = std::nan("");
                used.push_back(nfe);
            }
            errors.push_back(err);
        }
        if (e.stochastic) continue;
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report("mixture", e, errors, seconds, used);
    }
    for (const auto& e : all_solvers(family, model, mu_sde, false)) {
        if (!e.stochastic) continue;
        std::vector<double> errors;
        std::vector<int> used;
        const auto start = std::chrono::steady_clock::now();
        for (const int nfe : nfe_ladder) {
            vec x = x_sde;
            const mrsolve::counter_noise noise(99);
            used.push_back(e.run(nfe, x, [&noise](vec& z, int step) { noise.fill(z, step); }));
            double err = 0;
            for (int d = 0; d < 2; ++d) {
                double sum = 0, sum_sq = 0;
                for (std::size_t p = 0; p < sde_points; ++p) sum += x[2 * p + d];
                const double m = sum / double(sde_points);
                for (std::size_t p = 0; p < sde_points; ++p) sum_sq += (x[2 * p + d] - m) * (x[2 * p + d] - m);
                const double sd = std::sqrt(sum_sq / double(sde_points - 1));
                err = std::max({err, std::abs(m - mean_0[d]), std::abs(sd - sd0[d])});
            }
            errors.push_back(err);
        }
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        report("mixture", e, errors, seconds, used);
    }
    print_table("mixture");
    compare_with_published("mixture", family, model, x_ode, mu_ode, reference, false);
    adaptive_figures("mixture", family, model, x_ode, mu_ode, reference);
}

// The summary table of one problem.
void print_summary(const problem_summary& p) {
    std::printf("%s\n%-20s", p.title.c_str(), "solver");
    for (const int nfe : nfe_ladder) std::printf(" %8s", ("NFE " + std::to_string(nfe)).c_str());
    std::printf(" %6s\n", "order");
    for (const auto& r : p.rows) {
        std::printf("%-20s", r.label.c_str());
        for (const double e : r.errors) std::printf(" %8.1e", e);
        std::printf(" %6.2f\n", r.order);
    }
    std::printf("%s\n\n", p.verdict.c_str());
}

// Writes the summary rows as data files and, when gnuplot is installed, draws error against NFE for both
// problems into <dir>/mrsolve_demo.svg. Returns the line to print.
std::string draw_figure(const std::filesystem::path& dir) {
    std::filesystem::create_directories(dir);
    for (const auto& [name, p] : summaries) {
        std::ofstream data(dir / ("mrsolve_demo_" + name + ".dat"));
        data << "nfe";
        for (const auto& r : p.rows) {
            std::string label = r.label;
            std::replace(label.begin(), label.end(), ' ', '_');
            data << ' ' << label;
        }
        data << '\n';
        for (std::size_t i = 0; i < nfe_ladder.size(); ++i) {
            data << nfe_ladder[i];
            for (const auto& r : p.rows) data << ' ' << (i < r.errors.size() ? r.errors[i] : std::nan(""));
            data << '\n';
        }
    }
    const auto svg = dir / "mrsolve_demo.svg";
    if (std::system("gnuplot --version > /dev/null 2>&1") != 0)
        return "figure: not drawn (gnuplot not found); its data: " + (dir / "mrsolve_demo_*.dat").string();
    const auto script = dir / "mrsolve_demo.gp";
    std::ofstream gp(script);
    gp << "set terminal svg size 1100,480 dynamic\nset output '" << svg.string() << "'\n"
       << "set multiplot layout 1,2\nset logscale xy\nset xlabel 'NFE'\nset ylabel 'max error'\n"
       << "set key outside right top vertical font ',9'\nset grid\n";
    for (const auto& [name, p] : summaries)
        gp << "set title '" << name << "'\nplot for [i=2:" << p.rows.size() + 1 << "] '"
           << (dir / ("mrsolve_demo_" + name + ".dat")).string()
           << "' using 1:i with linespoints title columnheader(i)\n";
    gp << "unset multiplot\n";
    gp.close();
    const std::string command = "gnuplot '" + script.string() + "' > /dev/null 2>&1";
    if (std::system(command.c_str()) != 0 || !std::filesystem::exists(svg))
        return "figure: gnuplot failed on " + script.string();
    return "figure: " + svg.string();
}

}  // namespace

int main(int argc, char** argv) {
    std::filesystem::path out_dir = std::filesystem::absolute(argv[0]).parent_path();
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--all") {
            full_output = true;
        } else if (arg == "--out" && i + 1 < argc) {
            out_dir = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--all] [--out DIR]\n  --all      every solver, NFE and figure "
                                 "(machine-readable lines problem=... solver=... nfe=... max_abs_err=...)\n"
                                 "  --out DIR  where the figure goes (default: the executable's directory)\n",
                         argv[0]);
            return arg == "--help" || arg == "-h" ? 0 : 2;
        }
    }
    const auto start = std::chrono::steady_clock::now();
    if (!full_output)
        std::printf("mrsolve demo: every solver on two problems with known answers; a few of them below.\n\n");
    gaussian_problem();
    mixture_problem();
    if (!full_output) {
        for (const char* name : {"gaussian", "mixture"}) print_summary(summaries[name]);
        std::printf("%s\n", draw_figure(out_dir).c_str());
        std::printf("every solver, NFE and the adaptive solver: mrsolve_demo --all\n");
    }
    std::printf("# total wall time %.2f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return target_missed ? 1 : 0;
}
