#pragma once
/// @file adaptive.hpp
/// @brief Adaptive step size in λ for the MR probability-flow ODE: the MR analogue of DPM-Solver-12 and
/// DPM-Solver-23, with an embedded lower-order error estimate and an I or PI step-size controller.
///
/// Provides adaptive_options, adaptive_sampler and sample_adaptive. Each trial step is a singlestep step
/// of order 2 or 3 with an embedded order 1 or 2 result from the same evaluations; by default
/// (tolerance_scope::global) the adaptive pass is followed by passes with halved steps until the final
/// error is within the tolerance. The error norm, the controllers and why the global scope bounds the
/// final error: docs/theory.md §7, "Adaptive step size".

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "concepts/state.hpp"
#include "concepts/coefficients.hpp"
#include "concepts/model.hpp"
#include "error.hpp"
#include "prediction/fit_target.hpp"
#include "prediction/parameterization.hpp"
#include "detail/validation.hpp"
#include "singlestep.hpp"
#include "thresholding.hpp"

namespace mrsolve {

/// @brief The step-size controller of adaptive_sampler.
enum class step_controller {
    integral,              ///< I: h · safety · E^{−1/k}, clamped to [fac_min, fac_max]
    proportional_integral  ///< PI: h · safety · E_n^{−0.7/k} · E_{n−1}^{0.4/k}, clamped (the default)
};

/// @brief What the tolerance bounds (docs/theory.md §7, "Adaptive step size").
enum class tolerance_scope {
    /// The final error (the default): the adaptive pass, then the same grid with every step halved until
    /// two passes differ by at most the tolerance; about 2.4–6.3 times the per_step NFE on the oracles.
    global,
    /// Each accepted step's local error estimate, as in ODE libraries and DPM-Solver: one pass, the
    /// cheapest; the final error is the propagated sum of the local errors and may exceed the tolerance.
    per_step
};

/// @brief Options of the adaptive sampler.
struct adaptive_options {
    /// @brief Relative tolerance (≥ 0, finite; rtol and atol not both 0). Default: DPM-Solver's 0.05.
    double rtol = 0.05;
    /// @brief Absolute tolerance (≥ 0, finite). Default 0.0078 (DPM-Solver's, 1/255 of the range of an
    /// image in [−1, 1]); for images in [0, 1] about 0.004 is the same quantisation level.
    double atol = 0.0078;
    int order = 3;  ///< order p of the accepted solution: 2 (embedded 1) or 3 (embedded 2)
    step_controller controller = step_controller::proportional_integral;  ///< I or PI
    /// @brief The first trial step in λ; 0 selects 0.05 · (λ(t_end) − λ(t_start)) (a twentieth of the
    /// interval: cheap to reject when too large). Must be finite and ≥ 0.
    double h_init = 0;
    int max_nfe = 1000;  ///< cap on model evaluations (≥ 1); a trial that would exceed it is not started
    std::size_t batch_items = 1;  ///< the state is this many equal items; the error norm is per item
    fit_target fit = fit_target::noise;  ///< what the model returns
    double safety = 0.9;   ///< safety factor of the controllers, in (0, 1]
    double fac_min = 0.2;  ///< smallest step-size ratio, in (0, 1)
    double fac_max = 5;    ///< largest step-size ratio, > 1
    tolerance_scope scope = tolerance_scope::global;  ///< whether the tolerance bounds the final error
    /// @brief Dynamic thresholding of every stage's x̂₀ (data prediction only), as in singlestep_options.
    /// It is not smooth in x, so the global scope's bound (halving the steps halves the error) may not hold.
    std::optional<dynamic_thresholding> thresholding{};
    /// @brief What a NaN/Inf during sampling does: throw (the default), or stop and return the status with
    /// x as after an NFE cap (adaptive_status::non_finite_model_output, non_finite_state). No extra cost:
    /// a trial never writes x.
    fault_policy on_fault = fault_policy::throw_error;
};

/// @brief How an adaptive run ended.
enum class adaptive_status {
    completed,  ///< t_end was reached (global scope: with error_estimate ≤ 1); x holds x_{t_end}
    /// The next trial would exceed max_nfe. x holds the finest completed pass's solution (t_final = t_end,
    /// its error estimate not within the tolerance) or, if no pass completed, the last accepted state.
    nfe_cap_reached,
    /// fault_policy::stop: a model output of trial fault_step was NaN/Inf; x as for nfe_cap_reached.
    non_finite_model_output,
    /// fault_policy::stop: a state of trial fault_step overflowed to NaN/Inf; x as for nfe_cap_reached.
    non_finite_state
};

/// @brief Statistics of an adaptive run.
struct adaptive_result {
    int nfe = 0;       ///< model evaluations made (exactly the number of model calls)
    int accepted = 0;  ///< accepted steps, over all passes (the steps of refinement passes count here)
    int rejected = 0;  ///< rejected trials; nfe = order · (accepted + rejected)
    int passes = 0;    ///< completed integrations from t_start to t_end (global scope: ≥ 2 when completed)
    /// @brief Global scope: ‖x_{k−1} − x_k‖ of the last two passes in the controller's norm, in units of
    /// the tolerance (≤ 1 when completed); it bounds the final error if halving the steps at least halves
    /// the error. NaN in per_step scope or before a second pass completed.
    double error_estimate = std::numeric_limits<double>::quiet_NaN();
    adaptive_status status = adaptive_status::completed;  ///< completed, or what stopped the run
    double t_final = std::numeric_limits<double>::quiet_NaN();  ///< the time of the returned state
    int fault_step = 0;  ///< fault_policy::stop: the 1-based trial (over all passes) that failed; 0 otherwise
    double fault_time = std::numeric_limits<double>::quiet_NaN();  ///< the time of that stage's evaluation or state
    /// The code the state updates ran on (mrsolve::execution_path: "host/avx2", "torch host_dense/sse2",
    /// "torch tensor_ops", "thrust cuda", …), so that a slow path is visible where it is taken.
    std::string_view execution_path = "unnamed";
    /// @brief Whether t_end was reached. @return status == adaptive_status::completed
    [[nodiscard]] bool completed() const noexcept { return status == adaptive_status::completed; }
};

/// @brief Checks adaptive options that do not depend on the state.
/// @param options the options
/// @throws mrsolve::invalid_argument naming the offending value
inline void validate_adaptive_options(const adaptive_options& options) {
    if (!(options.rtol >= 0 && std::isfinite(options.rtol)))
        detail::throw_invalid("adaptive: rtol must be finite and >= 0, got ", options.rtol);
    if (!(options.atol >= 0 && std::isfinite(options.atol)))
        detail::throw_invalid("adaptive: atol must be finite and >= 0, got ", options.atol);
    if (options.rtol == 0 && options.atol == 0)
        detail::throw_invalid("adaptive: rtol and atol are both 0; at least one must be > 0");
    if (options.order != 2 && options.order != 3)
        detail::throw_invalid("adaptive: order must be 2 or 3, got ", options.order);
    detail::check_enum(options.controller, step_controller::proportional_integral, "adaptive_options::controller",
                       "step_controller");
    if (!(options.h_init >= 0 && std::isfinite(options.h_init)))
        detail::throw_invalid("adaptive: h_init must be finite and >= 0 (0: automatic), got ", options.h_init);
    if (options.max_nfe < 1) detail::throw_invalid("adaptive: max_nfe must be >= 1, got ", options.max_nfe);
    if (options.batch_items < 1) detail::throw_invalid("adaptive: batch_items must be >= 1, got ", options.batch_items);
    if (!(options.safety > 0 && options.safety <= 1))
        detail::throw_invalid("adaptive: safety must lie in (0, 1], got ", options.safety);
    if (!(options.fac_min > 0 && options.fac_min < 1))
        detail::throw_invalid("adaptive: fac_min must lie in (0, 1), got ", options.fac_min);
    if (!(options.fac_max > 1 && std::isfinite(options.fac_max)))
        detail::throw_invalid("adaptive: fac_max must be finite and > 1, got ", options.fac_max);
    detail::check_enum(options.scope, tolerance_scope::per_step, "adaptive_options::scope", "tolerance_scope");
    detail::check_fit_target(options.fit, "adaptive_options::fit");
    detail::check_enum(options.on_fault, fault_policy::stop, "adaptive_options::on_fault", "fault_policy");
    detail::check_simd_setting();
}

namespace detail {

/// RMS over i < n of (h_i − l_i) / (atol + rtol · max(|l_i|, |x_i|)), in double. Independent partial sums
/// (a fixed order, so the result is deterministic) let the compiler vectorise the loop; one running sum
/// serialises it on the addition's latency.
template <class T>
[[nodiscard]] double scaled_rms(const T* x, const T* h, const T* l, std::size_t n, double atol, double rtol) noexcept {
    constexpr std::size_t lanes = 8;
    std::array<double, lanes> partial{};
    const auto term = [=](std::size_t e) {
        const double le = static_cast<double>(l[e]);
        const double d = (static_cast<double>(h[e]) - le) / (atol + rtol * std::max(std::abs(le), std::abs(static_cast<double>(x[e]))));
        return d * d;
    };
    std::size_t e = 0;
    for (; e + lanes <= n; e += lanes)
        for (std::size_t j = 0; j < lanes; ++j) partial[j] += term(e + j);
    for (; e < n; ++e) partial[0] += term(e);
    double sum = 0;
    for (const double v : partial) sum += v;
    return std::sqrt(sum / static_cast<double>(n));
}

}  // namespace detail

/// @brief Adaptive-step sampler of the probability-flow ODE (docs/theory.md §7): validates and allocates
/// once, then runs from t_start to t_end without allocating.
///
/// Holds a reference to the family, which must outlive it. Not thread-safe (it owns a workspace).
/// @tparam P noise_prediction or data_prediction
/// @tparam Family a coefficient family
/// @tparam S the state type; it needs host access (the error norm is a reduction over the elements)
template <Parameterization P, CoefficientFamily Family, HostState S>
class adaptive_sampler {
public:
    /// @brief Scalar type of times and coefficients.
    using real_type = typename Family::real_type;

    /// @brief Validates the options and allocates the workspace.
    /// @param family the coefficient family (kept by reference)
    /// @param like a state of the shape that will be sampled
    /// @param options tolerances, order, controller, caps
    /// @throws mrsolve::invalid_argument for bad options (naming the value), an empty state, batch_items
    ///         not dividing the state size, velocity with a family without a stationary standard deviation,
    ///         or thresholding with noise prediction or bad thresholding parameters
    adaptive_sampler(const Family& family, const S& like, adaptive_options options = {})
        : core_(family, like, (validate_adaptive_options(options), options.fit), "adaptive_sampler", options.thresholding),
          options_(options) {
        if (core_.size() % options_.batch_items != 0)
            detail::throw_invalid("adaptive: batch_items = ", options_.batch_items, " must divide the state size ",
                                  core_.size());
        if (options_.scope == tolerance_scope::global) {
            start_ = backend_traits<S>::make_like(like);
            previous_ = backend_traits<S>::make_like(like);
            grid_.reserve(static_cast<std::size_t>(options_.max_nfe / options_.order) + 2);
        }
    }

    /// @brief Integrates from t_start down to t_end with adaptive steps in λ, overwriting x.
    /// @tparam Model a network model(x, mu, t, out) writing its output into out (ScoreFn)
    /// @param t_start the noisier start time
    /// @param t_end the end time, t_end < t_start, both inside [family.t_min(), family.t_max()]
    /// @param model the network
    /// @param x in: x_{t_start}; out: x_{t_end}; if the NFE cap stopped the run, see
    ///        adaptive_status::nfe_cap_reached
    /// @param mu the condition μ
    /// @param observer called after every accepted step of every pass with a step_info: step counts the
    ///        accepted steps over all passes, steps is 0 (not known in advance), model_output is the
    ///        step's first model output
    /// @return NFE, accepted and rejected steps, passes, the error estimate, the status, the final time
    ///         and, after a fault_policy::stop, the failed trial and its time
    /// @throws mrsolve::invalid_argument for bad times (naming them), size mismatches, non-finite x or μ,
    ///         or a model output of the wrong size; mrsolve::non_finite_error if a model output or a trial
    ///         state is NaN/Inf and on_fault is fault_policy::throw_error (its step() is the 1-based trial
    ///         number, counted over all passes; x then holds the last accepted state of the current pass).
    ///         A model's exception propagates (x: the same).
    template <class Model, class Observer>
        requires ScoreFn<Model, S, real_type>
    adaptive_result run(real_type t_start, real_type t_end, Model&& model, S& x, const S& mu, Observer&& observer) {
        const Family& family = core_.family();
        const real_type lo = family.t_min(), hi = family.t_max(), slack = real_type(1e-9) * (hi - lo);
        if (!(std::isfinite(t_start) && std::isfinite(t_end) && t_start > t_end))
            detail::throw_invalid("adaptive: need finite t_start > t_end, got t_start = ", t_start, ", t_end = ", t_end);
        if (t_start > hi + slack || t_end < lo - slack)
            detail::throw_invalid("adaptive: [t_end, t_start] = [", t_end, ", ", t_start, "] must lie inside the family's range [",
                                  lo, ", ", hi, "]");
        core_.check_inputs(x, mu);
        adaptive_result result;
        result.execution_path = mrsolve::execution_path(x, mu);
        if (options_.scope == tolerance_scope::per_step) {
            result.passes = 1;
            result.status = integrate(t_start, t_end, model, x, mu, observer, result);
            return result;
        }
        // Global scope: the adaptive pass fixes a grid; each further pass halves every step of the last
        // one, and the difference of the last two passes bounds the last one's error (see the file doc).
        copy(x, start_);
        grid_.clear();
        grid_.push_back(t_start);
        result.status = integrate(t_start, t_end, model, x, mu, observer, result);
        if (result.status != adaptive_status::completed) return result;
        result.passes = 1;
        for (int pieces = 2;; pieces *= 2) {
            copy(x, previous_);
            copy(start_, x);
            result.status = refine(pieces, model, x, mu, observer, result);
            if (result.status != adaptive_status::completed) {
                copy(previous_, x);  // the finest completed pass is better than a partial one
                result.t_final = static_cast<double>(t_end);
                return result;
            }
            ++result.passes;
            result.error_estimate = error_norm(previous_, previous_, x);
            if (result.error_estimate <= 1) return result;
        }
    }

    /// @brief run() without an observer.
    /// @param t_start the start time @param t_end the end time @param model the network
    /// @param x in: x_{t_start}; out: the result @param mu the condition
    /// @return the statistics of the run
    template <class Model>
        requires ScoreFn<Model, S, real_type>
    adaptive_result run(real_type t_start, real_type t_end, Model&& model, S& x, const S& mu) {
        return run(t_start, t_end, std::forward<Model>(model), x, mu, no_observer{});
    }

    /// @brief The options. @return the options given at construction
    [[nodiscard]] const adaptive_options& options() const noexcept { return options_; }

private:
    using core_type = detail::singlestep_core<P, Family, S>;

    static void copy(const S& from, S& to) {
        std::array<std::array<state_value_t<S>, 1>, 1> one{};
        one[0][0] = 1;
        (void)backend_traits<S>::template linear_map<1, 1>({&to}, one, {&from});
    }

    /// A NaN/Inf in trial `trial`: throws (fault_policy::throw_error), or records it and returns its status.
    adaptive_status fault_status(const typename core_type::step_fault& fault, int trial, adaptive_result& result) const {
        if (options_.on_fault == fault_policy::throw_error) core_.throw_fault(fault, trial);
        result.fault_step = trial;
        result.fault_time = static_cast<double>(fault.time);
        return fault.stage == 0 ? adaptive_status::non_finite_state : adaptive_status::non_finite_model_output;
    }

    /// One adaptive integration from t_start to t_end: adds its evaluations and steps to result, sets
    /// result.t_final and, in global scope, appends the accepted times to grid_. @return completed, or what
    /// stopped it (x: the last accepted state).
    template <class Model, class Observer>
    adaptive_status integrate(real_type t_start, real_type t_end, Model& model, S& x, const S& mu, Observer& observer,
                              adaptive_result& result) {
        using Real = real_type;
        const Real l_end = core_.lambda_of(t_end);
        Real s = t_start, ls = core_.lambda_of(t_start);
        const Real span = l_end - ls;
        Real h = options_.h_init > 0 ? static_cast<Real>(options_.h_init) : Real(0.05) * span;
        const int p = options_.order;
        const double k = static_cast<double>(p);
        double error_previous = 1;
        bool after_rejection = false;
        adaptive_status status = adaptive_status::completed;
        while (s != t_end) {
            if (result.nfe > options_.max_nfe - p) {
                status = adaptive_status::nfe_cap_reached;
                break;
            }
            const Real remaining = l_end - ls;
            Real t;
            if (h >= remaining * (1 - Real(1e-10))) {
                h = remaining;
                t = t_end;
            } else {
                t = core_.time_of(ls + h, t_end, s);
                if (!(t < s)) t = std::nextafter(s, t_end);  // h below the resolution of t: the smallest step
            }
            const int trial = result.accepted + result.rejected + 1;  // 1-based, counted over all passes
            if (const auto fault = core_.step(model, x, mu, s, t, p, trial, core_.u2(), &core_.u1(), result.nfe)) {
                status = fault_status(fault, trial, result);
                break;
            }
            const double error = error_norm(x, core_.u2(), core_.u1());
            double factor;
            if (error <= 1) {
                ++result.accepted;
                copy(core_.u2(), x);
                const Real l_new = t == t_end ? l_end : core_.lambda_of(t);
                h = l_new - ls;  // the step actually taken
                if (options_.scope == tolerance_scope::global) grid_.push_back(t);
                s = t;
                ls = l_new;
                observer(step_info<Real, S>{result.accepted, 0, s, ls, x, core_.first_output()});
                const double e = std::max(error, 1e-10);
                if (options_.controller == step_controller::proportional_integral && !after_rejection)
                    factor = options_.safety * std::pow(e, -0.7 / k) * std::pow(error_previous, 0.4 / k);
                else
                    factor = options_.safety * std::pow(e, -1 / k);
                factor = std::clamp(factor, options_.fac_min, after_rejection ? 1.0 : options_.fac_max);
                error_previous = std::max(error, 1e-4);
                after_rejection = false;
            } else {
                ++result.rejected;
                factor = std::isfinite(error) ? std::max(options_.fac_min, options_.safety * std::pow(error, -1 / k))
                                              : options_.fac_min;
                factor = std::min(factor, options_.safety);
                after_rejection = true;
            }
            h *= static_cast<Real>(factor);
        }
        result.t_final = static_cast<double>(s);
        return status;
    }

    /// Global scope: integrates over the adaptive pass's accepted steps (grid_), each split into `pieces`
    /// equal steps in λ. @return completed, or what stopped it.
    template <class Model, class Observer>
    adaptive_status refine(int pieces, Model& model, S& x, const S& mu, Observer& observer, adaptive_result& result) {
        const int p = options_.order;
        for (std::size_t i = 0; i + 1 < grid_.size(); ++i) {
            const real_type a = grid_[i], b = grid_[i + 1];
            const real_type la = core_.lambda_of(a), lb = core_.lambda_of(b);
            real_type s = a;
            for (int j = 1; j <= pieces; ++j) {
                if (result.nfe > options_.max_nfe - p) return adaptive_status::nfe_cap_reached;
                real_type t = b;
                if (j < pieces) {
                    t = core_.time_of(la + (lb - la) * static_cast<real_type>(j) / static_cast<real_type>(pieces), b, s);
                    if (!(t < s && t > b)) continue;  // the piece is below the resolution of t: merge it
                }
                const int trial = result.accepted + result.rejected + 1;
                if (const auto fault = core_.step(model, x, mu, s, t, p, trial, core_.u2(), nullptr, result.nfe))
                    return fault_status(fault, trial, result);
                copy(core_.u2(), x);  // not in place: a non-finite result must leave x as it was
                ++result.accepted;
                s = t;
                observer(step_info<real_type, S>{result.accepted, 0, s, core_.lambda_of(s), x, core_.first_output()});
            }
        }
        result.t_final = static_cast<double>(grid_.back());
        return adaptive_status::completed;
    }

    /// max over items of the RMS of (high − low)/(atol + rtol max(|low|, |x|)).
    double error_norm(S& x, S& high, S& low) const {
        const auto xs = backend_traits<S>::host_span(x);
        const auto hs = backend_traits<S>::host_span(high);
        const auto ls = backend_traits<S>::host_span(low);
        const std::size_t item = xs.size() / options_.batch_items;
        double worst = 0;
        for (std::size_t b = 0; b < options_.batch_items; ++b)
            worst = std::max(worst, detail::scaled_rms(xs.data() + b * item, hs.data() + b * item, ls.data() + b * item,
                                                       item, options_.atol, options_.rtol));
        return worst;
    }

    core_type core_;
    adaptive_options options_;
    S start_;     ///< global scope: the initial state, restored before each pass
    S previous_;  ///< global scope: the previous pass's solution
    std::vector<real_type> grid_;  ///< global scope: the adaptive pass's accepted times (reserved)
};

/// @brief Samples once with adaptive steps: builds an adaptive_sampler and runs it.
/// @tparam P noise_prediction or data_prediction
/// @tparam Family a coefficient family @tparam S the state type @tparam Model the network type
/// @param family the coefficient family @param t_start the start time @param t_end the end time
/// @param model the network @param x in: x_{t_start}; out: the result @param mu the condition
/// @param options tolerances, order, controller, caps
/// @return the statistics of the run
/// @throws as adaptive_sampler::adaptive_sampler and adaptive_sampler::run
template <Parameterization P, CoefficientFamily Family, HostState S, class Model>
    requires ScoreFn<Model, S, typename Family::real_type>
adaptive_result sample_adaptive(const Family& family, typename Family::real_type t_start, typename Family::real_type t_end,
                                Model&& model, S& x, const S& mu, const adaptive_options& options = {}) {
    adaptive_sampler<P, Family, S> sampler(family, x, options);
    return sampler.run(t_start, t_end, std::forward<Model>(model), x, mu);
}

}  // namespace mrsolve
