#pragma once
/// @file tune_grid.hpp
/// @brief Grids tuned to a model: the NFE + 1 evaluation times that make a probability-flow solve land
/// closest to a converged reference on a calibration set (docs/nongaussian.md, "Tuned grids").
///
/// The reference of each calibration pair (μ, x_T) is reference_solve (docs/theory.md §9), computed once;
/// by default a second one at a tenth of the tolerance checks it. The search is a derivative-free
/// coordinate pattern search: over the log-gaps of the grid (the gaps are a softmax of them, so every
/// candidate is strictly decreasing and keeps the endpoints t_max and t_min), or, with integer_times, over
/// integer interior times. It is deterministic for a given seed (the seed orders the coordinates of each
/// sweep) and spends at most `budget` model calls on candidate grids.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../error.hpp"
#include "../oracle/reference_solve.hpp"
#include "../sample.hpp"
#include "../schedule/schedule.hpp"

namespace mrsolve {

/// @brief What tune_grid minimises over the calibration pairs.
enum class tune_objective {
    mean,  ///< the mean over the pairs of max |x − reference| (the default)
    max    ///< the largest over the pairs of max |x − reference|
};

/// @brief Settings of tune_grid.
struct tune_grid_options {
    /// Model calls the search may spend on candidate grids (the references are counted apart, in
    /// tune_grid_result::reference_calls); at least one evaluation of the objective: pairs · NFE calls
    /// (twice that for a two-stage method).
    long long budget = 20000;
    std::uint64_t seed = 0;                          ///< orders the coordinates of each sweep
    tune_objective objective = tune_objective::mean; ///< mean or max over the pairs
    schedule_kind start = schedule_kind::linear_lambda;  ///< the starting grid (make_grid, its ends moved to t_max and t_min)
    /// Restrict the times to integers (networks trained at integer t); needs integer t_min and t_max.
    bool integer_times = false;
    double initial_step = 0.5;   ///< first log-gap step of the search (continuous times)
    double min_step = 1.0 / 64;  ///< the search ends when its log-gap step falls below this
    double reference_tolerance = 1e-8;  ///< reference_solve's tolerance
    int reference_first_steps = 64;     ///< reference_solve's first solve
    int reference_max_steps = 1 << 16;  ///< reference_solve's finest solve
    bool check_reference = true;  ///< also solve at reference_tolerance / 10 and report the difference
};

/// @brief What tune_grid found.
/// @tparam Real the family's scalar type
template <class Real>
struct tune_grid_result {
    std::vector<Real> times;        ///< the tuned grid: NFE + 1 strictly decreasing times, t_max … t_min
    std::vector<Real> start_times;  ///< the starting grid (rounded to integers with integer_times)
    double start_error = 0;         ///< the objective on the starting grid
    double final_error = 0;         ///< the objective on the tuned grid (≤ start_error)
    long long calls = 0;            ///< model calls spent on candidate grids (≤ the budget)
    long long reference_calls = 0;  ///< model calls spent on the references and their checks
    int iterations = 0;             ///< sweeps of the search (one trial move per coordinate and sign)
    int evaluations = 0;            ///< candidate grids evaluated (each: one solve per pair)
    /// What reference_solve reached for each pair.
    std::vector<reference_solve_result> references;
    /// max over the pairs of max |reference − reference at tolerance / 10|; NaN without check_reference.
    double reference_check = std::numeric_limits<double>::quiet_NaN();
};

/// @brief Calibration pairs with their converged references (make_calibration), reusable across NFEs and
/// solvers of the same model, family and fit target.
/// @tparam T the state's element type
template <class T>
struct tune_calibration {
    std::vector<std::vector<T>> mu;         ///< the conditions
    std::vector<std::vector<T>> x_T;        ///< the starts at t_max
    std::vector<std::vector<T>> reference;  ///< the probability-flow solutions at t_min
    fit_target fit = fit_target::noise;     ///< what the model returned for the references
    std::vector<reference_solve_result> results;  ///< what reference_solve reached for each pair
    /// max over the pairs of max |reference − reference at tolerance / 10|; NaN without check_reference.
    double check = std::numeric_limits<double>::quiet_NaN();
    long long calls = 0;  ///< model calls spent on the references and their checks
};

namespace detail {

/// Counts the calls it forwards; copies share the count (reference_solve copies its model).
template <class Model>
struct counting_model {
    Model* model;
    long long* calls;
    template <class X, class M, class Real, class Out>
    void operator()(const X& x, const M& mu, Real t, Out& out) {
        ++*calls;
        (*model)(x, mu, t, out);
    }
};

/// splitmix64: a fixed, portable stream for the sweep order (the same order on every platform).
[[nodiscard]] inline std::uint64_t tune_mix(std::uint64_t& state) noexcept {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

template <class T>
void check_calibration(const std::vector<std::vector<T>>& mu, const std::vector<std::vector<T>>& x_T) {
    if (mu.empty()) throw_invalid("tune_grid: the calibration set is empty (0 pairs of mu and x_T)");
    if (mu.size() != x_T.size())
        throw_invalid("tune_grid: the calibration set has ", mu.size(), " conditions mu and ", x_T.size(),
                      " starts x_T; need one start per condition");
    for (std::size_t p = 0; p < mu.size(); ++p) {
        if (mu[p].empty()) throw_invalid("tune_grid: calibration pair ", p, " has an empty mu");
        if (mu[p].size() != x_T[p].size())
            throw_invalid("tune_grid: calibration pair ", p, " has mu of size ", mu[p].size(), " and x_T of size ",
                          x_T[p].size());
        // One sampler (one workspace) serves every pair.
        if (mu[p].size() != mu.front().size())
            throw_invalid("tune_grid: calibration pair ", p, " has size ", mu[p].size(), " and pair 0 has size ",
                          mu.front().size(), "; every pair needs the same size");
        for (std::size_t j = 0; j < mu[p].size(); ++j) {
            if (!std::isfinite(static_cast<double>(mu[p][j])))
                throw_invalid("tune_grid: calibration pair ", p, ": mu[", j, "] = ", mu[p][j], " is not finite");
            if (!std::isfinite(static_cast<double>(x_T[p][j])))
                throw_invalid("tune_grid: calibration pair ", p, ": x_T[", j, "] = ", x_T[p][j], " is not finite");
        }
    }
}

inline void check_tune_options(const tune_grid_options& o, int nfe) {
    if (nfe < 1) throw_invalid("tune_grid: NFE must be >= 1, got ", nfe);
    if (!(std::isfinite(o.initial_step) && o.initial_step > 0))
        throw_invalid("tune_grid: initial_step must be finite and > 0, got ", o.initial_step);
    if (!(std::isfinite(o.min_step) && o.min_step > 0 && o.min_step <= o.initial_step))
        throw_invalid("tune_grid: min_step must be finite, > 0 and <= initial_step = ", o.initial_step, ", got ",
                      o.min_step);
    if (static_cast<int>(o.objective) < 0 || o.objective > tune_objective::max)
        throw_invalid("tune_grid: objective is not a tune_objective: ", static_cast<int>(o.objective));
}

/// The model calls of one evaluation of the objective; throws if the budget is below it.
template <class Method>
long long check_tune_budget(const tune_grid_options& tune, int nfe, std::size_t pairs) {
    const long long per_solve = static_cast<long long>(nfe) * (TwoStageMethod<Method> ? 2 : 1);
    const long long per_evaluation = per_solve * static_cast<long long>(pairs);
    if (tune.budget < per_evaluation)
        throw_invalid("tune_grid: budget ", tune.budget, " model calls is below one evaluation of the objective (",
                      pairs, " pairs x ", per_solve, " calls = ", per_evaluation, ")");
    return per_evaluation;
}

template <class Family>
void check_integer_times(const Family& family, const tune_grid_options& tune, int nfe) {
    if (!tune.integer_times) return;
    const auto t_hi = family.t_max(), t_lo = family.t_min();
    if (std::round(t_hi) != t_hi || std::round(t_lo) != t_lo)
        throw_invalid("tune_grid: integer_times needs integer t_min and t_max, got t_min = ", t_lo, " and t_max = ", t_hi);
    if (static_cast<double>(nfe) > static_cast<double>(t_hi - t_lo))
        throw_invalid("tune_grid: NFE ", nfe, " needs more than the ", t_hi - t_lo, " integer steps between t_min and t_max");
}

/// The start grid on integers: rounded, then pushed apart so that it stays strictly decreasing.
template <class Real>
std::vector<Real> integer_grid(std::vector<Real> grid) {
    const std::size_t m = grid.size() - 1;
    for (std::size_t i = 1; i < m; ++i) grid[i] = std::min(std::round(grid[i]), grid[i - 1] - 1);
    for (std::size_t i = m - 1; i >= 1; --i) grid[i] = std::max(grid[i], grid[i + 1] + 1);
    return grid;
}

}  // namespace detail

/// @brief Computes the references of calibration pairs for tune_grid: reference_solve per pair and, with
/// check_reference, a second solve at a tenth of the tolerance.
/// @tparam Family the coefficient family @tparam Model model(x, mu, t, out) on std::vector<T>
/// @tparam T float or double
/// @param family the coefficients @param model the network @param mu the conditions
/// @param x_T the starts at t_max, one per condition @param fit what the model returns
/// @param tune the reference settings (reference_tolerance, reference_first_steps, reference_max_steps,
/// check_reference)
/// @return the pairs with their references
/// @throws mrsolve::invalid_argument naming the value: an empty set, mismatched sizes, NaN/Inf in the
/// inputs, or a reference that does not converge
template <CoefficientFamily Family, class Model, class T>
    requires ScoreFn<Model, std::vector<T>, typename Family::real_type>
tune_calibration<T> make_calibration(const Family& family, Model&& model, std::vector<std::vector<T>> mu,
                                     std::vector<std::vector<T>> x_T, fit_target fit = fit_target::noise,
                                     const tune_grid_options& tune = {}) {
    detail::check_calibration(mu, x_T);
    tune_calibration<T> c;
    c.fit = fit;
    detail::counting_model<std::remove_reference_t<Model>> counted{&model, &c.calls};
    reference_solve_options ro;
    ro.fit = fit;
    ro.tolerance = tune.reference_tolerance;
    ro.first_steps = tune.reference_first_steps;
    ro.max_steps = tune.reference_max_steps;
    c.reference.resize(mu.size());
    for (std::size_t p = 0; p < mu.size(); ++p) {
        c.results.push_back(reference_solve(family, counted, x_T[p], mu[p], ro, c.reference[p]));
        if (tune.check_reference) {
            reference_solve_options fine = ro;
            fine.tolerance = ro.tolerance / 10;
            std::vector<T> check;
            reference_solve(family, counted, x_T[p], mu[p], fine, check);
            double d = std::isnan(c.check) ? 0 : c.check;
            for (std::size_t j = 0; j < check.size(); ++j)
                d = std::max(d, std::abs(static_cast<double>(check[j]) - static_cast<double>(c.reference[p][j])));
            c.check = d;
        }
    }
    c.mu = std::move(mu);
    c.x_T = std::move(x_T);
    return c;
}

/// @brief Tunes the NFE + 1 evaluation times of a deterministic solve to a model.
///
/// Objective: over the calibration pairs p, e_p = max_j |x_j − ref_j| with x the solve from x_T[p] on the
/// candidate grid and ref the converged probability-flow solution at t_min (reference_solve); the mean
/// of the e_p (tune_objective::mean) or their max. A candidate whose solve throws (too few steps for the
/// order, a NaN) or stops scores +∞. The grid runs from family.t_max() to family.t_min(); the search
/// moves the interior times only. With denoise_last the solve's data prediction is still compared with
/// the ODE solution at t_min.
/// @tparam Method a deterministic solver (not stochastic) @tparam Family the coefficient family
/// @tparam Model model(x, mu, t, out) on std::vector<T> @tparam T float or double
/// @param method the solver object
/// @param family the coefficients
/// @param model the network (called through a counter)
/// @param calibration the pairs (μ, x_T) and their references (make_calibration, with `options.fit`)
/// @param nfe the grid steps (NFE for a one-evaluation method)
/// @param options loop options of the solve (fit target, order policy, denoise_last, …)
/// @param tune budget, seed, objective, integer times, reference settings
/// @return the tuned grid with its errors and costs
/// @throws mrsolve::invalid_argument naming the value: an empty calibration set, mismatched sizes, NaN/Inf
/// in the calibration inputs, references missing or for another fit target, NFE < 1, a budget below one
/// evaluation of the objective, a stochastic method, integer_times on a family with non-integer ends or
/// more steps than integers, or bad tune options; and as make_grid and sample for the start grid and the
/// options
template <SolverMethod Method, CoefficientFamily Family, class Model, class T>
    requires ScoreFn<Model, std::vector<T>, typename Family::real_type>
tune_grid_result<typename Family::real_type> tune_grid(const Method& method, const Family& family, Model&& model,
                                                       const tune_calibration<T>& calibration, int nfe,
                                                       const sample_options& options = {},
                                                       const tune_grid_options& tune = {}) {
    using Real = typename Family::real_type;
    using state = std::vector<T>;
    const auto& mu = calibration.mu;
    const auto& x_T = calibration.x_T;
    const auto& references = calibration.reference;
    detail::check_tune_options(tune, nfe);
    detail::check_calibration(mu, x_T);
    if (references.size() != mu.size())
        detail::throw_invalid("tune_grid: the calibration has ", mu.size(), " pairs and ", references.size(),
                              " references (use make_calibration)");
    if (calibration.fit != options.fit)
        detail::throw_invalid("tune_grid: the references were computed with fit target ", static_cast<int>(calibration.fit),
                              " and the solve uses ", static_cast<int>(options.fit));
    if constexpr (Method::stochastic)
        detail::throw_invalid("tune_grid: ", method.name(),
                              " is stochastic; the tuned error is measured against the probability-flow ODE");
    const std::size_t pairs = mu.size();
    const long long per_evaluation = detail::check_tune_budget<Method>(tune, nfe, pairs);
    for (std::size_t p = 0; p < pairs; ++p)
        if (references[p].size() != mu[p].size())
            detail::throw_invalid("tune_grid: calibration pair ", p, " has size ", mu[p].size(), " and its reference size ",
                                  references[p].size());
    detail::check_integer_times(family, tune, nfe);
    const Real t_hi = family.t_max(), t_lo = family.t_min();

    tune_grid_result<Real> result;
    result.references = calibration.results;
    result.reference_check = calibration.check;
    result.reference_calls = calibration.calls;
    detail::counting_model<std::remove_reference_t<Model>> search_model{&model, &result.calls};

    sampler<Method, Family, state> run(method, family, x_T.front(), options);
    state x;
    const auto objective = [&](const std::vector<Real>& grid) {
        ++result.evaluations;
        double total = 0, worst = 0;
        for (std::size_t p = 0; p < pairs; ++p) {
            double e = std::numeric_limits<double>::infinity();
            try {
                x = x_T[p];
                if (run.run(std::span<const Real>(grid), search_model, x, mu[p]).completed()) {
                    e = 0;
                    for (std::size_t j = 0; j < x.size(); ++j)
                        e = std::max(e, std::abs(static_cast<double>(x[j]) - static_cast<double>(references[p][j])));
                    if (std::isnan(e)) e = std::numeric_limits<double>::infinity();
                }
            } catch (const invalid_argument&) {
            } catch (const non_finite_error&) {
            }
            total += e;
            worst = std::max(worst, e);
        }
        return tune.objective == tune_objective::max ? worst : total / static_cast<double>(pairs);
    };
    const auto affordable = [&] { return result.calls + per_evaluation <= tune.budget; };

    std::vector<Real> best = make_grid(family, tune.start, nfe);
    // Some schedules stop short of t_min (karras-t ends at t = 1 on the tables); the reference ends there.
    best.front() = t_hi, best.back() = t_lo;
    if (tune.integer_times) best = detail::integer_grid(std::move(best));
    result.start_times = best;
    result.start_error = result.final_error = objective(best);
    std::uint64_t stream = tune.seed;
    std::vector<std::size_t> order;
    const auto shuffle = [&](std::size_t n) {
        order.resize(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[detail::tune_mix(stream) % i]);
    };

    if (nfe >= 2 && tune.integer_times) {
        // Coordinates: the interior times; a move keeps them strictly decreasing.
        Real step = std::max(Real(1), std::floor((t_hi - t_lo) / Real(2 * nfe)));
        while (affordable()) {
            ++result.iterations;
            bool improved = false;
            shuffle(static_cast<std::size_t>(nfe - 1));
            for (const std::size_t c : order) {
                const std::size_t i = c + 1;
                for (const Real sign : {Real(1), Real(-1)}) {
                    const Real moved = best[i] + sign * step;
                    if (!(moved < best[i - 1] && moved > best[i + 1]) || !affordable()) continue;
                    std::vector<Real> trial = best;
                    trial[i] = moved;
                    const double e = objective(trial);
                    if (e < result.final_error) {
                        best = std::move(trial), result.final_error = e, improved = true;
                        break;
                    }
                }
            }
            if (!improved) {
                if (step == Real(1)) break;
                step = std::max(Real(1), std::floor(step / 2));
            }
        }
    } else if (nfe >= 2) {
        // Coordinates: z_i = ln(gap_i); the grid is t_max − (t_max − t_min) · cumsum(softmax(z)).
        std::vector<double> z(static_cast<std::size_t>(nfe));
        for (std::size_t i = 0; i < z.size(); ++i) z[i] = std::log(static_cast<double>(best[i] - best[i + 1]));
        const auto grid_of = [&](const std::vector<double>& v) {
            const double top = *std::max_element(v.begin(), v.end());
            std::vector<double> w(v.size());
            double sum = 0;
            for (std::size_t i = 0; i < v.size(); ++i) sum += (w[i] = std::exp(v[i] - top));
            std::vector<Real> g(v.size() + 1);
            g.front() = t_hi, g.back() = t_lo;
            double cumulative = 0;
            for (std::size_t i = 1; i < v.size(); ++i) {
                cumulative += w[i - 1];
                g[i] = static_cast<Real>(static_cast<double>(t_hi) - static_cast<double>(t_hi - t_lo) * cumulative / sum);
            }
            return g;
        };
        double step = tune.initial_step;
        while (step >= tune.min_step && affordable()) {
            ++result.iterations;
            bool improved = false;
            shuffle(z.size());
            for (const std::size_t i : order) {
                for (const double sign : {1.0, -1.0}) {
                    if (!affordable()) break;
                    std::vector<double> trial = z;
                    trial[i] += sign * step;
                    std::vector<Real> g = grid_of(trial);
                    const double e = objective(g);
                    if (e < result.final_error) {
                        z = std::move(trial), best = std::move(g), result.final_error = e, improved = true;
                        break;
                    }
                }
            }
            if (!improved) step /= 2;
        }
    }
    result.times = std::move(best);
    return result;
}

/// @brief tune_grid on calibration pairs whose references it computes first (make_calibration, with the
/// reference settings of `tune`); their calls are reported in reference_calls, apart from the budget.
/// @tparam Method a deterministic solver @tparam Family the coefficient family
/// @tparam Model model(x, mu, t, out) on std::vector<T> @tparam T float or double
/// @param method the solver object @param family the coefficients @param model the network
/// @param mu the calibration conditions @param x_T the calibration starts at t_max, one per condition
/// @param nfe the grid steps @param options loop options of the solve
/// @param tune budget, seed, objective, integer times, reference settings
/// @return the tuned grid with its errors and costs
/// @throws as make_calibration and tune_grid
template <SolverMethod Method, CoefficientFamily Family, class Model, class T>
    requires ScoreFn<Model, std::vector<T>, typename Family::real_type>
tune_grid_result<typename Family::real_type> tune_grid(const Method& method, const Family& family, Model&& model,
                                                       const std::vector<std::vector<T>>& mu,
                                                       const std::vector<std::vector<T>>& x_T, int nfe,
                                                       const sample_options& options = {},
                                                       const tune_grid_options& tune = {}) {
    detail::check_tune_options(tune, nfe);
    detail::check_calibration(mu, x_T);
    if constexpr (Method::stochastic)
        detail::throw_invalid("tune_grid: ", method.name(),
                              " is stochastic; the tuned error is measured against the probability-flow ODE");
    detail::check_tune_budget<Method>(tune, nfe, mu.size());
    detail::check_integer_times(family, tune, nfe);
    return tune_grid(method, family, model, make_calibration(family, model, mu, x_T, options.fit, tune), nfe, options,
                     tune);
}

}  // namespace mrsolve
