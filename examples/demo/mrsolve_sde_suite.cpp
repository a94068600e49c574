// mrsolve_sde_suite: weak (distribution) error of the stochastic samplers on the non-Gaussian suite
// (include/mrsolve/oracle/problem_suite.hpp, docs/nongaussian.md) and on the demo's Gaussian problem.
//
// Non-Gaussian problems: every element's data law is a 1-D mixture, so the exact law at t_min is the
// mixture Σ_k w_k N(μ + α(m_k − μ), α² s_k² + σ²) with closed-form mean and std. Each problem's 48 elements
// are replicated R times (default 200; `--replicas R`), x_T is drawn from the exact marginal at T, and
// every solver runs at NFE 5, 10, 20, 50, 100 with the same x_T and the same normals (counter_noise, one
// seed per NFE: common random numbers). Per element the sample mean and std over the R replicas are
// compared with the exact ones; a problem's error is the RMS over its 48 elements of |sample − exact|:
// `mean_err`, `std_err`. Their Monte-Carlo floors `mc_mean`, `mc_std` are the RMS of the estimated
// standard errors (s/√R; √((m₄ − s⁴)/(4 s² R)) for the std).
// Gaussian problem (the demo's: 64 elements, cosine tables T=100): every scheme is affine in x_T and the
// normals there, so mean and std are propagated exactly (no Monte Carlo); error = max over elements.
// Prints `problem= set= solver= grid= nfe= mean_err= std_err= std_bias= mc_mean= mc_std=` per run, then per
// set and NFE the ratio of each solver's std_err to data order 1's on linspace (worst/geometric mean over
// the set's problems), and whether the recommended stochastic configuration (recommended_sde) meets its
// target: ratio ≤ 1 at NFE 5–100 and ≤ 0.5 at NFE 10 and 20 on every problem of the set. Exit status 0
// whatever the targets; CTest requires the Gaussian target (exact moments) to be met.
// `--explore` runs the grid scan the recommendation was chosen from (selection rows only were used);
// `--explore-eta` order 2 on time-quadratic at η = 0, 0.05, 0.1, 0.2.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/problem_suite.hpp>
#include <span>
#include <string>
#include <vector>

namespace {

using vec = std::vector<double>;
using namespace mrsolve;

const std::vector<int> nfes{5, 10, 20, 50, 100};

enum class kind { sde, eta };
struct config {
    kind k;
    int order;
    double eta;
    schedule_kind grid;
    [[nodiscard]] std::string name() const {
        if (k == kind::sde) return mr_sde<data_prediction>{order}.name();
        return mr_eta<data_prediction>{order, eta}.name();
    }
};

// Chosen on the selection set from the --explore scan and this report's linspace rows: the smallest worst
// ratio to data order 1 per NFE band (time-quadratic loses to linspace at NFE 5 on the bimodal problems).
config recommended_sde(int nfe) {
    return {kind::eta, 2, 0.2, nfe < 10 ? schedule_kind::linspace : schedule_kind::time_quadratic};
}

bool explore = false;      // --explore: the grids scanned while choosing (not run by CTest)
bool explore_eta = false;  // --explore-eta: smaller η on time-quadratic (not run by CTest)

std::vector<config> configs() {
    std::vector<config> c;
    if (explore_eta) {
        c.push_back({kind::sde, 1, 1, schedule_kind::linspace});
        for (const double e : {0.0, 0.05, 0.1, 0.2}) c.push_back({kind::eta, 2, e, schedule_kind::time_quadratic});
        return c;
    }
    if (explore) {
        c.push_back({kind::sde, 1, 1, schedule_kind::linspace});
        for (const auto g : {schedule_kind::linear_lambda, schedule_kind::karras_n, schedule_kind::time_quadratic,
                             schedule_kind::karras_t}) {
            c.push_back({kind::sde, 1, 1, g});
            c.push_back({kind::sde, 2, 1, g});
            for (const double e : {0.2, 0.5})
                for (int order = 2; order <= 3; ++order) c.push_back({kind::eta, order, e, g});
        }
        return c;
    }
    c.push_back({kind::sde, 1, 1, schedule_kind::linspace});  // the yardstick: data order 1
    c.push_back({kind::sde, 2, 1, schedule_kind::linspace});
    for (const double e : {0.2, 0.5, 0.8})
        for (int order = 1; order <= 3; ++order) c.push_back({kind::eta, order, e, schedule_kind::linspace});
    c.push_back({kind::eta, 2, 0.2, schedule_kind::time_quadratic});
    c.push_back({kind::eta, 3, 0.2, schedule_kind::time_quadratic});
    return c;
}

template <class Family, class Model, class Noise>
void run(const config& c, const Family& family, int nfe, const Model& model, vec& x, const vec& mu, Noise&& noise) {
    const auto grid = make_grid(family, c.grid, nfe);
    const std::span<const double> times(grid);
    auto m = model;
    if (c.k == kind::sde) sample(mr_sde<data_prediction>{c.order}, family, times, m, x, mu, {}, noise);
    else sample(mr_eta<data_prediction>{c.order, c.eta}, family, times, m, x, mu, {}, noise);
}

struct errors {
    double mean = 0, std = 0, mc_mean = 0, mc_std = 0;
    double std_bias = 0;  // √max(0, mean_j (err_j² − MC variance_j)): std_err with the MC floor taken out
};
// result[set][problem][solver+grid][nfe]
std::map<std::string, std::map<std::string, std::map<std::string, std::map<int, errors>>>> table;

void print(const std::string& set, const std::string& problem, const config& c, int nfe, const errors& e) {
    std::printf("problem=%s set=%s solver=%s grid=%s nfe=%d mean_err=%.3e std_err=%.3e std_bias=%.3e mc_mean=%.1e "
                "mc_std=%.1e\n",
                problem.c_str(), set.c_str(), c.name().c_str(), std::string(to_string(c.grid)).c_str(), nfe, e.mean,
                e.std, e.std_bias, e.mc_mean, e.mc_std);
    std::fflush(stdout);
    table[set][problem][c.name() + " " + std::string(to_string(c.grid))][nfe] = e;
}

// One suite problem, its 48 elements replicated R times.
template <class Family>
void suite_problem_weak(const suite_problem& p, const Family& family, std::size_t replicas) {
    const suite_mixture m = make_suite_data(p);
    const std::size_t n = p.elements, K = m.components, N = n * replicas;
    vec w(N * K), means(N * K), stds(N * K), mu(N);
    for (std::size_t r = 0; r < replicas; ++r) {
        std::copy(m.weights.begin(), m.weights.end(), w.begin() + static_cast<std::ptrdiff_t>(r * n * K));
        std::copy(m.means.begin(), m.means.end(), means.begin() + static_cast<std::ptrdiff_t>(r * n * K));
        std::copy(m.stds.begin(), m.stds.end(), stds.begin() + static_cast<std::ptrdiff_t>(r * n * K));
        std::copy(m.mu.begin(), m.mu.end(), mu.begin() + static_cast<std::ptrdiff_t>(r * n));
    }
    const elementwise_mixture_oracle<Family> oracle(family, K, w, means, stds);
    const auto model = oracle.model(fit_target::noise);
    // The exact law at t_min, per element.
    const double t0 = static_cast<double>(family.t_min());
    const double a = static_cast<double>(family.alpha(family.t_min())), s = static_cast<double>(family.sigma(family.t_min()));
    vec exact_mean(n), exact_std(n);
    for (std::size_t j = 0; j < n; ++j) {
        double m1 = 0, m2 = 0, total = 0;
        for (std::size_t k = 0; k < K; ++k) {
            const std::size_t i = j * K + k;
            const double cm = m.mu[j] + a * (m.means[i] - m.mu[j]), cv = a * a * m.stds[i] * m.stds[i] + s * s;
            total += m.weights[i], m1 += m.weights[i] * cm, m2 += m.weights[i] * (cv + cm * cm);
        }
        exact_mean[j] = m1 / total;
        exact_std[j] = std::sqrt(m2 / total - exact_mean[j] * exact_mean[j]);
    }
    (void)t0;
    // x_T: a draw of the exact marginal at T (streams of a seed of this report's own).
    const philox_normal draw(p.seed + 7000);
    vec u(N), z(N), x_T(N);
    for (std::size_t i = 0; i < N; ++i) {
        u[i] = 0.5 * std::erfc(-draw.normal<double>(1, i) / std::numbers::sqrt2);
        z[i] = draw.normal<double>(2, i);
    }
    oracle.marginal_sample(mu, static_cast<double>(family.t_max()), u, z, x_T);
    const std::string set(to_string(p.set));
    for (const int nfe : nfes)
        for (const config& c : configs()) {
            vec x = x_T;
            errors e;
            try {
                run(c, family, nfe, model, x, mu, counter_noise{p.seed * 1000 + static_cast<std::uint64_t>(nfe)});
                for (std::size_t j = 0; j < n; ++j) {
                    double s1 = 0, s2 = 0, s4 = 0;
                    for (std::size_t r = 0; r < replicas; ++r) s1 += x[r * n + j];
                    const double mean = s1 / double(replicas);
                    for (std::size_t r = 0; r < replicas; ++r) {
                        const double d = x[r * n + j] - mean;
                        s2 += d * d, s4 += d * d * d * d;
                    }
                    const double var = s2 / double(replicas - 1), m4 = s4 / double(replicas), sd = std::sqrt(var);
                    e.mean += (mean - exact_mean[j]) * (mean - exact_mean[j]);
                    e.std += (sd - exact_std[j]) * (sd - exact_std[j]);
                    e.mc_mean += var / double(replicas);
                    const double mc_var = std::max(0.0, m4 - var * var) / (4 * var * double(replicas));
                    e.mc_std += mc_var;
                    e.std_bias += (sd - exact_std[j]) * (sd - exact_std[j]) - mc_var;
                }
                e.std_bias = std::sqrt(std::max(0.0, e.std_bias / double(n)));
                for (double* v : {&e.mean, &e.std, &e.mc_mean, &e.mc_std}) *v = std::sqrt(*v / double(n));
                if (!std::isfinite(e.mean) || !std::isfinite(e.std)) e.mean = e.std = HUGE_VAL;
            } catch (const mrsolve::invalid_argument&) {
                e.mean = e.std = HUGE_VAL;
            }
            print(set, p.name, c, nfe, e);
        }
}

// The demo's Gaussian problem, moments propagated exactly (the scheme is affine in x_T and the normals).
void gaussian_weak() {
    using family_t = irsde_table<double>;
    const family_t family({theta_schedule::cosine, 100, 50, 0.005});
    const std::size_t n = 64;
    vec mean(n), std_dev(n), mu(n);
    const philox_normal draw(2024);
    for (std::size_t j = 0; j < n; ++j) {
        mean[j] = 0.5 + 0.3 * draw.normal<double>(1, j);
        std_dev[j] = 0.05 + 0.2 * std::abs(draw.normal<double>(2, j));
        mu[j] = mean[j] + 0.4 * draw.normal<double>(3, j);
    }
    const gaussian_diagonal_oracle<family_t> oracle(family, mean, std_dev);
    const auto model = oracle.model(fit_target::noise);
    vec mean_T(n), var_T(n), mean_0(n), var_0(n);
    oracle.marginal_mean(mu, family.t_max(), mean_T);
    oracle.marginal_variance(family.t_max(), var_T);
    oracle.marginal_mean(mu, family.t_min(), mean_0);
    oracle.marginal_variance(family.t_min(), var_0);
    for (const int nfe : nfes)
        for (const config& c : configs()) {
            // mean: x_T = E[x_T], z = 0; variance: the responses to a unit x_T and to a unit normal per step.
            vec m0 = mean_T;
            run(c, family, nfe, model, m0, mu, zero_noise{});
            vec var(n, 0.0), x = mean_T;
            for (double& v : x) v += 1;
            run(c, family, nfe, model, x, mu, zero_noise{});
            for (std::size_t j = 0; j < n; ++j) var[j] += (x[j] - m0[j]) * (x[j] - m0[j]) * var_T[j];
            for (int k = 1; k <= nfe; ++k) {
                x = mean_T;
                run(c, family, nfe, model, x, mu,
                    injected_noise([k](vec& zz, int step) { std::fill(zz.begin(), zz.end(), step == k ? 1.0 : 0.0); }));
                for (std::size_t j = 0; j < n; ++j) var[j] += (x[j] - m0[j]) * (x[j] - m0[j]);
            }
            errors e;
            for (std::size_t j = 0; j < n; ++j) {
                e.mean = std::max(e.mean, std::abs(m0[j] - mean_0[j]));
                e.std = std::max(e.std, std::abs(std::sqrt(var[j]) - std::sqrt(var_0[j])));
            }
            e.std_bias = e.std;
            print("gaussian", "G-demo", c, nfe, e);
        }
}

std::string key(const config& c) { return c.name() + " " + std::string(to_string(c.grid)); }

// Per set and NFE: each solver's std_err over data order 1's, worst over the set's problems and geometric
// mean; then the target of a recommended stochastic configuration: ratio ≤ 1 at every NFE, ≤ 0.5 at 10, 20.
void summary() {
    const std::string base = key(configs().front());
    std::printf("\n# ratio = std_err / std_err of %s (same problem, NFE, x_T and normals)\n", base.c_str());
    for (const char* set : {"gaussian", "selection", "held-out"}) {
        for (const config& c : configs()) {
            std::printf("summary set=%s solver=%s grid=%s", set, c.name().c_str(), std::string(to_string(c.grid)).c_str());
            for (const int nfe : nfes) {
                double worst = 0, log_sum = 0;
                int count = 0;
                for (auto& [problem, by_config] : table[set]) {
                    const double r = by_config[key(c)][nfe].std / by_config[base][nfe].std;
                    worst = std::max(worst, r), log_sum += std::log(r), ++count;
                }
                std::printf(" nfe%d=%.2f/%.2f", nfe, worst, std::exp(log_sum / count));
            }
            std::printf("\n");
        }
        // A miss is marked (mc) where the recommended run's std_err is within 1.5 Monte-Carlo standard
        // errors of zero: there the ratio compares noise, not bias.
        std::string missed;
        for (const int nfe : nfes) {
            const double limit = (nfe == 10 || nfe == 20) ? 0.5 : 1.0;
            for (auto& [problem, by_config] : table[set]) {
                const errors& e = by_config[key(recommended_sde(nfe))][nfe];
                const double r = e.std / by_config[base][nfe].std;
                if (!(r <= limit))
                    missed += " " + problem + "@nfe" + std::to_string(nfe) + "=" + std::to_string(r).substr(0, 5) +
                              (e.std <= 1.5 * e.mc_std ? "(mc)" : "");
            }
        }
        std::printf("target set=%s solver=eta0.2_data_2 grid=linspace(nfe<10)/time-quadratic(nfe>=10) (std_err ratio "
                    "<= 1 at NFE 5-100, <= 0.5 at NFE 10 and 20): %s%s\n",
                    set, missed.empty() ? "met" : "missed:", missed.c_str());
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t replicas = 200;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--explore") == 0) {
            explore = true;
        } else if (std::strcmp(argv[i], "--explore-eta") == 0) {
            explore_eta = true;
        } else if (std::strcmp(argv[i], "--replicas") == 0 && i + 1 < argc) {
            char* end = nullptr;
            const long r = std::strtol(argv[++i], &end, 10);
            if (*end != '\0' || r < 2) {
                std::fprintf(stderr, "mrsolve_sde_suite: --replicas needs an integer >= 2, got %s\n", argv[i]);
                return 2;
            }
            replicas = static_cast<std::size_t>(r);
        } else {
            std::fprintf(stderr, "mrsolve_sde_suite: unknown argument %s (usage: [--replicas R] [--explore | --explore-eta])\n", argv[i]);
            return 2;
        }
    }
    gaussian_weak();
    for (const suite_problem& p : suite_problems()) {
        if (p.continuous) suite_problem_weak(p, ir_sde<double>(p.parameters, p.t_min), replicas);
        else suite_problem_weak(p, irsde_table<double>(p.parameters), replicas);
    }
    if (!explore && !explore_eta) summary();
    return 0;
}
