#pragma once
/// @file reference_solve.hpp
/// @brief A converged reference solution of the probability-flow ODE for models without a closed-form
/// flow (the Gaussian-mixture oracle, or a network), so that order checks need no hand-written solve.
///
/// The reference is the third-order exponential integrator (`mr_ode<data_prediction>{3}`, taylor rule,
/// constant order) on linear-λ grids of n = first_steps, 2·first_steps, … steps. Each solve is compared
/// with the one of twice the steps; once they differ by at most the tolerance, the finer solve is
/// returned with its error estimate (the difference / 7: the error of a third-order solve falls 8× per
/// doubling, see docs/theory.md §4). Not in the umbrella header.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "../error.hpp"
#include "../prediction/fit_target.hpp"
#include "../sample.hpp"
#include "../schedule/schedule.hpp"
#include "../solver/mr_ode.hpp"

namespace mrsolve {

/// @brief Settings of reference_solve.
struct reference_solve_options {
    fit_target fit = fit_target::noise;  ///< what the model returns
    double tolerance = 1e-9;             ///< the largest accepted max-norm difference of successive solves
    int first_steps = 256;               ///< steps of the first solve (at least 3)
    int max_steps = 1 << 17;             ///< the finest solve allowed
};

/// @brief What reference_solve reached.
struct reference_solve_result {
    int steps = 0;                 ///< steps of the returned solve
    double difference = 0;         ///< max |x_steps − x_{steps/2}|
    double estimated_error = 0;    ///< difference / 7, the estimated max error of the returned solve
};

/// @brief Solves the probability-flow ODE from x_T at family.t_max() to family.t_min() with ever finer
/// third-order solves until two successive ones agree to the tolerance.
/// @tparam Family coefficient family @tparam Model model(x, mu, t, out) @tparam T float or double
/// @param family the coefficients
/// @param model the model (copied per solve)
/// @param x_T the start state
/// @param mu the condition
/// @param options fit target, tolerance and step limits
/// @param out the result, resized to x_T's size
/// @return the steps used and the error estimate
/// @throws mrsolve::invalid_argument if the options are out of range, the sizes differ, or the solves
/// do not agree to the tolerance within max_steps (the message gives the last difference)
template <class Family, class Model, class T>
reference_solve_result reference_solve(const Family& family, const Model& model, const std::vector<T>& x_T,
                                       const std::vector<T>& mu, const reference_solve_options& options,
                                       std::vector<T>& out) {
    if (!(std::isfinite(options.tolerance) && options.tolerance > 0))
        detail::throw_invalid("reference_solve: tolerance must be finite and > 0, got ", options.tolerance);
    if (options.first_steps < 3 || options.max_steps < 2 * options.first_steps)
        detail::throw_invalid("reference_solve: need 3 <= first_steps and 2 * first_steps <= max_steps, got first_steps ",
                              options.first_steps, " and max_steps ", options.max_steps);
    if (x_T.size() != mu.size())
        detail::throw_invalid("reference_solve: x_T has size ", x_T.size(), " and mu has size ", mu.size());
    sample_options loop;
    loop.fit = options.fit;
    loop.orders = order_policy::constant;
    const auto solve = [&](int steps) {
        std::vector<T> x = x_T;
        const auto grid = make_grid(family, schedule_kind::linear_lambda, steps);
        Model m = model;
        sample(mr_ode<data_prediction>{3}, family, std::span<const typename Family::real_type>(grid), m, x, mu, loop);
        return x;
    };
    std::vector<T> coarse = solve(options.first_steps);
    double difference = 0;
    for (int steps = 2 * options.first_steps; steps <= options.max_steps; steps *= 2) {
        std::vector<T> fine = solve(steps);
        difference = 0;
        for (std::size_t j = 0; j < fine.size(); ++j)
            difference = std::max(difference, static_cast<double>(std::abs(fine[j] - coarse[j])));
        if (difference <= options.tolerance) {
            out = std::move(fine);
            return {steps, difference, difference / 7};
        }
        coarse = std::move(fine);
    }
    detail::throw_invalid("reference_solve: not converged to ", options.tolerance, " within ", options.max_steps,
                          " steps (last difference ", difference, ")");
}

}  // namespace mrsolve
