#pragma once
/// @file replay.hpp
/// @brief Replays a golden recording with mrsolve and measures how far every state is from it.
///
/// Verification tooling, not sampling API: `golden/` is installed so that the `mrsolve_golden` tool, the
/// tests and users who check their own build against the recordings can use it, but it is not part of
/// the umbrella header `mrsolve.hpp` and its interface may change between minor versions.

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "../mrsolve.hpp"
#include "../oracle/gaussian.hpp"
#include "golden_file.hpp"

namespace mrsolve {

/// @brief How closely mrsolve reproduces one golden recording.
struct golden_replay_result {
    double max_abs_dev = 0;             ///< max over steps and elements of |mrsolve − recorded| (states and output)
    int worst_step = 0;                 ///< the step where it occurs
    double schedule_max_abs_dev = 0;    ///< max |t_i(mrsolve) − t_i(recorded)| of the time grid
    std::vector<double> step_max_abs_dev;  ///< per step 1…M
    /// how many recorded states were compared: the steps the sampler reported that have a recorded state
    /// (a full recording of M steps gives M; a step never reached or never recorded is not counted)
    int steps_compared = 0;
    int nfe = 0;                        ///< NFE mrsolve used
};

namespace detail {

/// The toy network of the recordings: the exact prediction of the per-element Gaussian oracle (computed in
/// double with the table's interpolated α, σ), rounded to float as the recording network did.
template <class Oracle>
struct float_rounded_model {
    oracle_model<Oracle> exact;
    void operator()(const std::vector<double>& x, const std::vector<double>& mu, double t, std::vector<double>& out) const {
        exact(x, mu, t, out);
        for (double& v : out) v = static_cast<double>(static_cast<float>(v));
    }
};

template <class Method>
golden_replay_result replay_with(const Method& method, const golden_record& r) {
    const irsde_table<double> family({parse_theta_schedule(r.family_schedule), r.table_steps, r.max_sigma, r.eps});
    const gaussian_diagonal_oracle<irsde_table<double>> oracle(family, r.data_mean, r.data_std);
    const fit_target fit = parse_fit_target(r.fit_target);
    float_rounded_model<gaussian_diagonal_oracle<irsde_table<double>>> model{oracle.model(fit)};

    schedule_options schedule;
    schedule.lambda_min = r.lambda_min;
    const std::vector<double> grid = make_grid(family, parse_schedule_kind(r.time_schedule), r.nfe, schedule);
    golden_replay_result result;
    for (std::size_t i = 0; i < grid.size(); ++i)
        result.schedule_max_abs_dev = std::max(result.schedule_max_abs_dev, std::abs(grid[i] - r.timesteps[i]));

    sample_options options = sample_options::published(fit, r.denoise_last);
    if (r.thresholding) options.thresholding = dynamic_thresholding{};
    auto recorded_noise = injected_noise([&r](std::vector<double>& z, int step) {
        const auto it = r.noise.find(step);
        if (it == r.noise.end()) throw_invalid("golden file has no 'noise ", step, "' for a stochastic step");
        std::copy(it->second.begin(), it->second.end(), z.begin());
    });
    result.step_max_abs_dev.assign(static_cast<std::size_t>(r.nfe), 0.0);
    const auto observe = [&](const step_info<double, std::vector<double>>& info) {
        const auto it = r.states.find(info.step);
        if (it == r.states.end()) return;
        ++result.steps_compared;
        double dev = 0;
        for (std::size_t j = 0; j < r.n; ++j) dev = std::max(dev, std::abs(info.x[j] - it->second[j]));
        result.step_max_abs_dev[static_cast<std::size_t>(info.step) - 1] = dev;
        if (dev > result.max_abs_dev) {
            result.max_abs_dev = dev;
            result.worst_step = info.step;
        }
    };
    std::vector<double> x = r.x_T;
    const sample_result stats =
        sample(method, family, std::span<const double>(grid), model, x, r.mu, options, recorded_noise, observe);
    result.nfe = stats.nfe;
    for (std::size_t j = 0; j < r.n; ++j) {
        const double dev = std::abs(x[j] - r.output[j]);
        if (dev > result.max_abs_dev) {
            result.max_abs_dev = dev;
            result.worst_step = r.nfe;
        }
    }
    return result;
}

}  // namespace detail

/// @brief Replays a golden recording: the same configuration, start state and (for SDE cases) the recorded
/// normals, through the published loop semantics, with the per-element Gaussian toy network rounded to
/// float; compares every recorded state and the output.
/// @param record the parsed recording
/// @return the deviations
/// @throws mrsolve::invalid_argument for a configuration mrsolve does not know (solver, order, names)
[[nodiscard]] inline golden_replay_result replay_golden(const golden_record& record) {
    const bool data = record.parameterization == "data";
    if (record.parameterization != "data" && record.parameterization != "noise")
        detail::throw_invalid("golden: unknown parameterization '", record.parameterization, "'");
    if (record.solver == "ode") {
        // The recordings use the published order-3 rule.
        return data ? detail::replay_with(mr_ode<data_prediction>{record.order, order3_rule::published}, record)
                    : detail::replay_with(mr_ode<noise_prediction>{record.order, order3_rule::published}, record);
    }
    if (record.solver == "sde") {
        return data ? detail::replay_with(mr_sde<data_prediction>{record.order}, record)
                    : detail::replay_with(mr_sde<noise_prediction>{record.order}, record);
    }
    detail::throw_invalid("golden: unknown solver '", record.solver, "' (expected ode or sde)");
}

}  // namespace mrsolve
