#pragma once
/// @file recommended.hpp
/// @brief The measured default: one recommended probability-flow configuration per NFE.

#include <span>
#include <string>
#include <utility>

#include "error.hpp"
#include "prediction/fit_target.hpp"
#include "prediction/parameterization.hpp"
#include "sample.hpp"
#include "schedule/schedule.hpp"
#include "solver/mr_ode.hpp"
#include "solver/mr_unipc.hpp"

namespace mrsolve {

/// @brief The solvers a recommendation can name.
enum class recommended_solver {
    unipc_noise_1_bh1,  ///< mr_unipc<noise_prediction>{1, unipc_variant::bh1}: corrected order 2
    ode_noise_3,        ///< mr_ode<noise_prediction>{3} (taylor rule)
    unipc_data_3_bh2    ///< mr_unipc<data_prediction>{3, unipc_variant::bh2}: corrected order 4
};

/// @brief A recommended configuration: solver and schedule for a given NFE (loop options: mrsolve's
/// defaults, order_policy::lower_order_final).
struct recommendation {
    int nfe;                    ///< the model evaluations it spends (= grid steps)
    recommended_solver solver;  ///< which solver
    schedule_kind schedule;     ///< which schedule (make_grid with nfe steps)

    /// @brief The solver's name and the schedule, e.g. "unipc_data_3_bh2 linear-lambda". @return the name
    [[nodiscard]] std::string name() const {
        const char* solver_name = solver == recommended_solver::unipc_noise_1_bh1 ? "unipc_noise_1_bh1"
                                  : solver == recommended_solver::ode_noise_3     ? "ode_noise_3"
                                                                                  : "unipc_data_3_bh2";
        return std::string(solver_name) + " " + std::string(to_string(schedule));
    }
};

/// @brief The recommended probability-flow configuration for an NFE budget.
///
/// Chosen from measurements (docs/choosing.md, `mrsolve_demo --select`): every multistep configuration
/// (mr_ode orders 2–3 and mr_unipc orders 1–3 with both B(h), noise and data prediction) on every named
/// schedule, on five problems (Gaussian data with narrow, medium and wide spreads on the discrete cosine
/// tables and on the continuous cosine IR-SDE, and a 2-D three-component Gaussian mixture); for each NFE
/// the configuration with the smallest geometric mean, over the problems, of its error relative to the best
/// configuration on that problem:
/// - NFE < 10: unipc_noise_1_bh1 on karras-n (few, large steps: the low-order corrected method is the
///   most robust);
/// - 10 ≤ NFE < 15: ode_noise_3 on karras-n;
/// - NFE ≥ 15: unipc_data_3_bh2 on linear-lambda (fourth order once the steps are small enough).
/// @param nfe the model evaluations to spend, ≥ 1
/// @return the configuration
/// @throws mrsolve::invalid_argument for nfe < 1
[[nodiscard]] inline recommendation recommended(int nfe) {
    if (nfe < 1) detail::throw_invalid("recommended: NFE must be >= 1, got ", nfe);
    if (nfe < 10) return {nfe, recommended_solver::unipc_noise_1_bh1, schedule_kind::karras_n};
    // ode_noise_3 needs 3 steps; every NFE here has them.
    if (nfe < 15) return {nfe, recommended_solver::ode_noise_3, schedule_kind::karras_n};
    return {nfe, recommended_solver::unipc_data_3_bh2, schedule_kind::linear_lambda};
}

/// @brief Samples with the recommended configuration for `nfe` evaluations (see recommended()).
/// @tparam Family a coefficient family @tparam S the state type @tparam Model the network type
/// @param family the coefficient family
/// @param nfe the model evaluations to spend
/// @param model the network, called as model(x, μ, t, out)
/// @param x in: x_{t₀} (for example from stationary_start); out: the result
/// @param mu the condition
/// @param fit what the model returns
/// @param schedule λ-clipping, t_start and the other schedule options (the schedule kind is the recommendation's)
/// @return NFE and steps
/// @throws as recommended(), make_grid() and sample()
template <CoefficientFamily Family, State S, class Model>
    requires ScoreFn<Model, S, typename Family::real_type>
sample_result sample_recommended(const Family& family, int nfe, Model&& model, S& x, const S& mu,
                                 fit_target fit = fit_target::noise, const schedule_options& schedule = {}) {
    const recommendation r = recommended(nfe);
    const auto grid = make_grid(family, r.schedule, nfe, schedule);
    const std::span<const typename Family::real_type> times(grid);
    sample_options options;
    options.fit = fit;
    switch (r.solver) {
        case recommended_solver::unipc_noise_1_bh1:
            return sample(mr_unipc<noise_prediction>{1, unipc_variant::bh1, {}}, family, times, std::forward<Model>(model),
                          x, mu, options);
        case recommended_solver::ode_noise_3:
            return sample(mr_ode<noise_prediction>{3}, family, times, std::forward<Model>(model), x, mu, options);
        case recommended_solver::unipc_data_3_bh2: break;
    }
    return sample(mr_unipc<data_prediction>{3, unipc_variant::bh2, {}}, family, times, std::forward<Model>(model), x,
                  mu, options);
}

}  // namespace mrsolve
