#pragma once
/// @file sample.hpp
/// @brief The sampling loop: validate once → allocate a workspace once → step (never allocating) → result.

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "concepts/state.hpp"
#include "concepts/coefficients.hpp"
#include "concepts/method.hpp"
#include "concepts/model.hpp"
#include "detail/validation.hpp"
#include "error.hpp"
#include "noise/noise_source.hpp"
#include "prediction/conversion.hpp"
#include "prediction/fit_target.hpp"
#include "prediction/parameterization.hpp"
#include "schedule/schedule.hpp"
#include "simd.hpp"
#include "solver/step.hpp"
#include "thresholding.hpp"

namespace mrsolve {

/// @brief Which order each step of a multistep method uses (all start with a warm-up: step i < order
/// uses order i, since only i model outputs exist).
enum class order_policy {
    /// The published sampler: steps order … M−1 use min(order, M − i) when M < 10, the full order
    /// otherwise, and the last step uses the full order again.
    published,
    /// mrsolve's default: when M < 10 the final steps lower their order, min(order, M − i + 1), down to
    /// a first-order last step (the steps nearest the data are the largest in λ).
    lower_order_final,
    /// The full order after the warm-up, to the end (the clean multistep method; convergence studies).
    constant
};

/// @brief What run() does when a step produces a NaN or an infinity (a non-finite model output, or a
/// finite one whose update overflows). Exceptions thrown by the model and model outputs of the wrong size
/// are not faults of this kind: they always propagate (see sampler::run).
enum class fault_policy {
    /// Throw mrsolve::non_finite_error naming the 1-based step k and its time. x is left as the failed
    /// step left it: the non-finite result of step k in most cases (the update writes x in its single
    /// pass before its finiteness is known), x_{t_{k−1}} when the fault was caught before x was written
    /// (Heun's predictor, the conversion pass of thresholding). The default, at no cost.
    throw_error,
    /// Stop at step k, put x back to x_{t_{k−1}} (the last finite state; x_{t₀} when k = 1) and return
    /// normally with sample_result::status saying what happened. Costs one copy of x per step (a read and
    /// a write pass into a workspace state allocated when the sampler is built).
    stop
};

/// @brief How a run ended (sample_result::status).
enum class sample_status {
    completed,                ///< every step was taken; x holds x_{t_M}
    non_finite_model_output,  ///< fault_policy::stop: the model returned NaN/Inf at step fault_step
    non_finite_state          ///< fault_policy::stop: the update of step fault_step overflowed to NaN/Inf
};

/// @brief The λ in which the MR Sampler's steps (mr_ode, mr_sde) and the baselines measure a step
/// h = λ_t − λ_s. The two agree on continuous families; on the interpolated tables they differ between
/// table nodes (docs/theory.md §7, "λ̃ = ln(α/σ) on the tables").
enum class step_lambda {
    /// λ̃(t) = ln(α(t)/σ(t)) of the family's own α and σ: the variable in which a step solves the
    /// probability-flow ODE (or reverse SDE) of the α and σ the model conversion uses, so the solvers
    /// converge at their order on any grid. mrsolve's default.
    alpha_sigma,
    /// The family's λ(t): on the tables, the separately interpolated λ table, as the published sampler
    /// does (sample_options::published). Between table nodes it is not ln(α/σ), and the data-prediction
    /// multistep solvers then converge to the solution of no fixed ODE.
    family
};

/// @brief Options of the sampling loop (the solver object holds the method's own options).
struct sample_options {
    fit_target fit = fit_target::noise;                    ///< what the model returns
    order_policy orders = order_policy::lower_order_final; ///< order of each step
    bool denoise_last = false;  ///< replace the last step by the data prediction at t_{M−1} (same NFE)
    std::optional<dynamic_thresholding> thresholding{};    ///< data prediction only
    fault_policy on_fault = fault_policy::throw_error;     ///< what a NaN/Inf during sampling does
    step_lambda lambda = step_lambda::alpha_sigma;         ///< the λ of h = λ_t − λ_s (published: family)

    /// @brief The loop semantics of the published sampler (docs/theory.md §4), without thresholding.
    /// @param fit what the model returns
    /// @param denoise_last the published option of the same name
    /// @return the options
    [[nodiscard]] static sample_options published(fit_target fit = fit_target::noise, bool denoise_last = false) {
        sample_options o;
        o.fit = fit;
        o.orders = order_policy::published;
        o.denoise_last = denoise_last;
        o.lambda = step_lambda::family;
        return o;
    }
};

namespace detail {
/// @brief Throws mrsolve::invalid_argument naming any enumerator of the options that is out of range
/// (e.g. a value cast from an integer), before it can select a code path.
inline void validate_sample_options(const sample_options& o) {
    check_fit_target(o.fit, "sample_options::fit");
    check_enum(o.orders, order_policy::constant, "sample_options::orders", "order_policy");
    check_enum(o.on_fault, fault_policy::stop, "sample_options::on_fault", "fault_policy");
    check_enum(o.lambda, step_lambda::family, "sample_options::lambda", "step_lambda");
    check_simd_setting();
}
}  // namespace detail

/// @brief Statistics of one run.
struct sample_result {
    int nfe = 0;    ///< model evaluations made by this run (with fault_policy::stop: including step fault_step's)
    int steps = 0;  ///< steps completed (M, or fault_step − 1 after a stop); x holds x_{t_steps}
    sample_status status = sample_status::completed;  ///< completed, or why fault_policy::stop stopped
    int fault_step = 0;  ///< the 1-based step at which the run stopped; 0 when completed
    double fault_time = std::numeric_limits<double>::quiet_NaN();  ///< the time of that evaluation or state
    /// The code the state updates ran on (mrsolve::execution_path: "host/avx2", "torch host_dense/sse2",
    /// "torch tensor_ops", "thrust cuda", …), so that a slow path is visible where it is taken.
    std::string_view execution_path = "unnamed";
    /// @brief Whether every step was taken. @return status == sample_status::completed
    [[nodiscard]] bool completed() const noexcept { return status == sample_status::completed; }
};

/// @brief What an observer sees after each step.
/// @tparam Real scalar type of times
/// @tparam S state type
template <class Real, class S>
struct step_info {
    int step;                ///< i, 1-based
    int steps;               ///< M
    Real t;                  ///< time of the new state
    Real lambda;             ///< λ(t)
    const S& x;              ///< the new state x_{t_i}
    const S& model_output;   ///< the raw model output of this step's (first) evaluation
};

/// @brief An observer that does nothing.
struct no_observer {
    /// @brief Ignores the step. @tparam Info step_info type
    template <class Info>
    void operator()(const Info&) const noexcept {}
};

/// @brief Reusable sampler: validates and allocates once, then runs grids without allocating.
///
/// Holds a reference to the family: the family must outlive the sampler. Not thread-safe (it owns a
/// workspace); use one sampler per thread — families and grids may be shared.
/// @tparam Method a solver object (mr_ode, mr_sde, euler_maruyama, euler_ode, heun_ode, posterior_sampling)
/// @tparam Family a coefficient family
/// @tparam S the state type
template <SolverMethod Method, CoefficientFamily Family, State S>
class sampler {
public:
    /// @brief Scalar type of times and coefficients.
    using real_type = typename Family::real_type;
    /// @brief Element type of the state.
    using value_type = state_value_t<S>;

    /// @brief Validates the configuration and allocates the workspace.
    /// @param method the solver object
    /// @param family the coefficient family (kept by reference)
    /// @param like a state of the shape that will be sampled
    /// @param options loop options
    /// @throws mrsolve::invalid_argument for an unsupported order, an empty state, velocity without σ_∞,
    ///         thresholding with noise prediction or bad thresholding parameters, denoise_last with Heun
    sampler(Method method, const Family& family, const S& like, sample_options options = {})
        : method_(std::move(method)), family_(&family), options_(options), n_(backend_traits<S>::size(like)) {
        method_.validate();
        detail::check_state_size(n_, method_.name());
        detail::validate_sample_options(options_);
        lambda_stationary_ = detail::stationary_std_for(family, options_.fit, method_.name());
        if constexpr (TwoStageMethod<Method>) {
            if (options_.denoise_last)
                detail::throw_invalid(method_.name(), ": denoise_last is offered by single-evaluation solvers only");
        }
        if (options_.thresholding) {
            detail::validate_thresholding<typename Method::parameterization, S>(*options_.thresholding, n_, method_.name());
            threshold_scratch_.assign(n_ / options_.thresholding->batch_items, T(0));
        }
        // History slots. A step of order K reads q₁ … q_{K−1} and writes q₀; afterwards only q₀ …
        // q_{order−2} are needed, so order − 1 slots suffice and a full-order step writes q₀ over the
        // q_{K−1} it reads, element by element (linear_map allows an output to be an input): the new
        // entry costs no extra write-allocate traffic. With thresholding q₀ is written in a pass of its
        // own before the update reads the history, so it needs a slot of its own: order slots. A corrector
        // also reads the output before the oldest the predictor reads: one slot more.
        const int read = CorrectingMethod<Method> ? method_.order : method_.order - 1;
        const int capacity = std::max(options_.thresholding ? read + 1 : read, 1);
        slots_.reserve(static_cast<std::size_t>(capacity));
        for (int k = 0; k < capacity; ++k) slots_.push_back(backend_traits<S>::make_like(like));
        raw_ = backend_traits<S>::make_like(like);
        if constexpr (Method::stochastic) z_ = backend_traits<S>::make_like(like);
        if constexpr (TwoStageMethod<Method>) {
            extra_ = backend_traits<S>::make_like(like);
            second_raw_ = backend_traits<S>::make_like(like);
        }
        if (options_.on_fault == fault_policy::stop) last_finite_ = backend_traits<S>::make_like(like);
    }

    /// @brief Evaluates the model at an earlier point (x, t) and pushes its output onto the history, so
    /// that the next run starts at full order (used to measure a multistep method's intrinsic order).
    /// Seeds must be pushed oldest first, at times later than the run's first grid time.
    /// @param model the network @param x the state at t @param mu the condition @param t the time
    /// @throws mrsolve::invalid_argument on a size mismatch or a non-finite model output
    template <class Model>
        requires ScoreFn<Model, S, real_type>
    void seed_history(Model&& model, const S& x, const S& mu, real_type t) {
        check_sizes(x, mu);
        evaluate(model, x, mu, t, 0);
        if (!backend_traits<S>::all_finite(raw_)) detail::throw_invalid("seed_history: model output at t = ", t, " is not finite");
        const auto conv = conversion_at(t, Method::parameterization::integrated);
        S& slot = next_slot();
        linear_map_1<3>(slot, {conv.x_coef, conv.mu_coef, conv.out_coef}, {&x, &mu, &raw_});
        push(slot_index_of(slot), lambda_at(t));
    }

    /// @brief Forgets any seeded history.
    void clear_history() noexcept { history_ = 0; }

    /// @brief Runs the grid t₀ > t₁ > … > t_M from x = x_{t₀}, overwriting x with the result.
    /// @param grid the times (M + 1 values, strictly decreasing, inside the family's range)
    /// @param model the network, called as model(x, μ, t, out)
    /// @param x in: the start state; out: the result
    /// @param mu the condition μ
    /// @param noise the normal source (used by stochastic solvers only). With counter_noise on a backend
    ///        that offers linear_map_normal (the contiguous host backend), each step generates its
    ///        normals inside its single pass (no noise vector is stored); the values are bitwise those
    ///        of counter_noise::fill followed by the buffered update. Other sources fill a workspace
    ///        vector first.
    /// @param observer called after every step with a step_info
    /// @return NFE, steps and status (sample_status::completed unless sample_options::on_fault is
    ///         fault_policy::stop and a NaN/Inf appeared: then x holds the last finite state)
    /// @throws mrsolve::invalid_argument for a bad grid, size mismatches, non-finite inputs, or an NFE too
    ///         small for the order, and for a model output of the wrong size at step k (the message names
    ///         k, the time and both sizes; x holds x_{t_{k−1}}); mrsolve::non_finite_error (with the step
    ///         index and time) if a NaN/Inf appears and on_fault is fault_policy::throw_error (x: see
    ///         fault_policy::throw_error). An exception thrown by the model propagates unchanged, and x
    ///         holds x_{t_{k−1}} (the model reads x, never writes it). After any of these the sampler
    ///         is usable again: the next run starts afresh.
    template <class Model, class Noise, class Observer>
        requires ScoreFn<Model, S, real_type>
    sample_result run(std::span<const real_type> grid, Model&& model, S& x, const S& mu, Noise&& noise,
                      Observer&& observer) {
        // Seeded history is consumed by this run, whether it completes or throws.
        struct history_reset {
            int& history;
            ~history_reset() { history = 0; }
        } reset{history_};
        validate_run(grid, x, mu);
        sample_result result;
        result.steps = static_cast<int>(grid.size()) - 1;
        result.execution_path = mrsolve::execution_path(x, mu);
        if constexpr (TwoStageMethod<Method>) {
            run_two_stage(grid, model, x, mu, observer, result);
        } else {
            run_multistep(grid, model, x, mu, noise, observer, result);
        }
        return result;
    }

    /// @brief run() with the default noise (counter_noise, seed 0) and no observer.
    /// @param grid the times @param model the network @param x start state and result @param mu the condition
    /// @return NFE and steps
    template <class Model>
        requires ScoreFn<Model, S, real_type>
    sample_result run(std::span<const real_type> grid, Model&& model, S& x, const S& mu) {
        return run(grid, std::forward<Model>(model), x, mu, default_noise(), no_observer{});
    }

    /// @brief run() with the given noise and no observer.
    /// @param grid the times @param model the network @param x start state and result @param mu the condition
    /// @param noise the normal source
    /// @return NFE and steps
    template <class Model, class Noise>
        requires ScoreFn<Model, S, real_type>
    sample_result run(std::span<const real_type> grid, Model&& model, S& x, const S& mu, Noise&& noise) {
        return run(grid, std::forward<Model>(model), x, mu, std::forward<Noise>(noise), no_observer{});
    }

    /// @brief Inversion: integrates the probability-flow ODE from a clean time to a noisier one, the
    /// reverse of run() (for example to encode an image into the latent x_T that run() maps back to it).
    /// The same steps as run(), with h = λ(t_i) − λ(t_{i−1}) < 0; the grid is strictly increasing (reverse a
    /// make_grid grid; its first time must have a finite λ, so t > 0 for the continuous families).
    /// Deterministic single-evaluation solvers only (mr_ode, mr_unipc, euler_ode); no denoise_last or
    /// thresholding (both act on the clean end).
    /// @param grid the times t₀ < t₁ < … < t_M inside the family's range
    /// @param model the network @param x in: x_{t₀}; out: x_{t_M} @param mu the condition
    /// @param observer called after every step with a step_info
    /// @return NFE and steps
    /// @throws mrsolve::invalid_argument for a grid that is not strictly increasing or leaves the range,
    ///         denoise_last or thresholding set, and everything run() throws for
    template <class Model, class Observer = no_observer>
        requires ScoreFn<Model, S, real_type>
    sample_result invert(std::span<const real_type> grid, Model&& model, S& x, const S& mu, Observer&& observer = {}) {
        static_assert(!Method::stochastic && !TwoStageMethod<Method>,
                      "invert() integrates the probability-flow ODE: use a deterministic single-evaluation solver");
        struct history_reset {
            int& history;
            ~history_reset() { history = 0; }
        } reset{history_};
        if (options_.denoise_last || options_.thresholding)
            detail::throw_invalid(method_.name(), ": invert() does not take denoise_last or thresholding");
        validate_increasing_grid<Family>(*family_, grid);
        validate_inputs(grid, x, mu);
        sample_result result;
        result.steps = static_cast<int>(grid.size()) - 1;
        result.execution_path = mrsolve::execution_path(x, mu);
        zero_noise none;
        run_multistep(grid, model, x, mu, none, observer, result);
        return result;
    }

    /// @brief The solver object. @return the method
    [[nodiscard]] const Method& method() const noexcept { return method_; }
    /// @brief The loop options. @return the options
    [[nodiscard]] const sample_options& options() const noexcept { return options_; }

private:
    using Real = real_type;
    using T = value_type;
    using traits = backend_traits<S>;

    static auto default_noise() {
        static_assert(!Method::stochastic || NormalFillable<S>,
                      "this state's backend has no fill_normal: pass a noise source to run()/sample()");
        if constexpr (NormalFillable<S>) return counter_noise{0};
        else return zero_noise{};
    }

    void check_sizes(const S& x, const S& mu) const { detail::check_input_sizes(x, mu, n_); }

    void validate_run(std::span<const Real> grid, const S& x, const S& mu) const {
        validate_grid<Family>(*family_, grid);
        if constexpr (requires { method_.validate_grid(*family_, grid); }) method_.validate_grid(*family_, grid);
        validate_inputs(grid, x, mu);
    }

    void validate_inputs(std::span<const Real> grid, const S& x, const S& mu) const {
        const int steps = static_cast<int>(grid.size()) - 1;
        if (!TwoStageMethod<Method> && steps + history_ < method_.order)
            detail::throw_invalid(method_.name(), ": NFE ", steps, " is too small for order ", method_.order,
                                  " (a multistep method of order k needs at least k steps)");
        detail::check_run_inputs(x, mu, n_);
    }

    template <class Model>
    void evaluate(Model& model, const S& x, const S& mu, Real t, int step) {
        evaluate_into(model, x, mu, t, step, raw_);
    }
    template <class Model>
    void evaluate_into(Model& model, const S& x, const S& mu, Real t, int step, S& out) {
        model(x, mu, t, out);
        if (traits::size(out) != n_) {
            const std::size_t size = traits::size(out);
            // The model resized the workspace: give it its shape back (error path only), so that the
            // sampler stays usable, then report.
            out = traits::make_like(x);
            detail::throw_invalid("the model output at step ", step, " (t = ", t, ") has size ", size,
                                  ", expected ", n_);
        }
    }

    // The λ a method steps in: the family's λ (the published convention, docs/theory.md §4), or λ̃ = ln(α/σ)
    // for methods that declare steps_in_alpha_sigma_lambda. They are equal for continuous families; on the
    // interpolated tables λ̃ is the variable in which a y-form step solves the probability-flow ODE of the
    // interpolated α, σ (the separately interpolated table λ differs from ln(α/σ) between table nodes).
    [[nodiscard]] Real lambda_at(Real t) const {
        if constexpr (requires { requires Method::steps_in_alpha_sigma_lambda; }) {
            return detail::alpha_sigma_lambda(*family_, t);
        } else {
            if (options_.lambda == step_lambda::alpha_sigma && t > 0) return detail::alpha_sigma_lambda(*family_, t);
            return family_->lambda(t);
        }
    }

    [[nodiscard]] affine_map<Real> conversion_at(Real t, fit_target to) const {
        return conversion<Real>(options_.fit, to, family_->alpha(t), family_->sigma(t), lambda_stationary_);
    }

    int desired_order(int step, int steps) const noexcept {
        const int order = method_.order;
        switch (options_.orders) {
            case order_policy::published:
                // Warm-up steps (i < order) are capped by the history alone; the M < 10 rule applies after.
                if (step < order || step == steps || steps >= 10) return order;
                return std::min(order, steps - step);
            case order_policy::lower_order_final:
                return steps >= 10 ? order : std::min(order, steps - step + 1);
            case order_policy::constant: return order;
        }
        return order;
    }

    // History ring: ring_[0] is the newest slot; history_ slots are valid.
    S& next_slot() noexcept {
        const auto capacity = static_cast<int>(slots_.size());
        return slots_[history_ < capacity ? free_slot() : ring_[static_cast<std::size_t>(capacity) - 1]];
    }
    std::size_t free_slot() const noexcept {
        // The slots not in ring_[0 … history_−1]; the ring holds distinct indices.
        for (std::size_t k = 0; k < slots_.size(); ++k) {
            bool used = false;
            for (int j = 0; j < history_; ++j) used = used || ring_[static_cast<std::size_t>(j)] == k;
            if (!used) return k;
        }
        return 0;
    }
    std::size_t slot_index_of(const S& slot) const noexcept {
        return static_cast<std::size_t>(&slot - slots_.data());
    }
    void push(std::size_t slot, Real lambda) noexcept {
        for (std::size_t k = ring_.size() - 1; k > 0; --k) {
            ring_[k] = ring_[k - 1];
            ring_lambda_[k] = ring_lambda_[k - 1];
        }
        ring_[0] = slot;
        ring_lambda_[0] = lambda;
        history_ = std::min(history_ + 1, static_cast<int>(slots_.size()));
    }

    template <std::size_t NIn>
    bool linear_map_1(S& out, const std::array<Real, NIn>& c, const std::array<const S*, NIn>& in) {
        std::array<std::array<T, NIn>, 1> m{};
        for (std::size_t k = 0; k < NIn; ++k) m[0][k] = static_cast<T>(c[k]);
        return traits::template linear_map<1, NIn>(std::array<S*, 1>{&out}, m, in);
    }

    // Whether a stochastic step takes its normals inside the fused pass (counter_noise on a backend with
    // linear_map_normal) rather than from z_, filled by the noise source first.
    template <class Noise>
    static constexpr bool fuses_noise =
        Method::stochastic && FusedNormalState<S> && std::is_same_v<std::remove_cvref_t<Noise>, counter_noise>;

    // Where the standard normals of a stochastic step come from: z_ (buffered), or, when Fused, the
    // generator keyed by the step (generated inside the pass, bitwise the same values).
    struct normal_input {
        const philox_normal* generator = nullptr;
        std::uint64_t step = 0;
    };

    // out = rows · inputs, where the last input is the normal vector of the step when Noisy.
    template <bool Noisy, bool Fused, std::size_t NOut, std::size_t NIn>
    bool step_map(const std::array<S*, NOut>& out, const std::array<std::array<T, NIn>, NOut>& m,
                  const std::array<const S*, NIn>& in, const normal_input& normals) {
        if constexpr (Noisy && Fused) {
            std::array<const S*, NIn - 1> states{};
            for (std::size_t k = 0; k + 1 < NIn; ++k) states[k] = in[k];
            return traits::template linear_map_normal<NOut, NIn>(out, m, states, *normals.generator, normals.step);
        } else {
            (void)normals;
            return traits::template linear_map<NOut, NIn>(out, m, in);
        }
    }

    // One multistep update using K model outputs (q₀ new, q₁ … q_{K−1} from the history).
    template <int K, bool Noisy, bool Fused = false>
    bool update(S& q_new, S& x, const S& mu, const affine_map<Real>& conv, const step_coefficients<Real>& c,
                const normal_input& normals = {}) {
        constexpr std::size_t history_inputs = K - 1;
        const S* q1 = K >= 2 ? &slots_[ring_[0]] : nullptr;
        const S* q2 = K >= 3 ? &slots_[ring_[1]] : nullptr;
        const S* q3 = K >= 4 ? &slots_[ring_[2]] : nullptr;
        if (!options_.thresholding) {
            // Fused: q₀ = a x + b μ + c·raw and x_t = … + C₀ q₀ + … in one pass.
            constexpr std::size_t n_in = 3 + history_inputs + (Noisy ? 1 : 0);
            std::array<const S*, n_in> in{};
            in[0] = &x;
            in[1] = &mu;
            in[2] = &raw_;
            if constexpr (K >= 2) in[3] = q1;
            if constexpr (K >= 3) in[4] = q2;
            if constexpr (K >= 4) in[5] = q3;
            if constexpr (Noisy) in[n_in - 1] = &z_;
            std::array<std::array<T, n_in>, 2> m{};
            m[0][0] = static_cast<T>(conv.x_coef);
            m[0][1] = static_cast<T>(conv.mu_coef);
            m[0][2] = static_cast<T>(conv.out_coef);
            m[1][0] = static_cast<T>(c.x + c.q[0] * conv.x_coef);
            m[1][1] = static_cast<T>(c.mu + c.q[0] * conv.mu_coef);
            m[1][2] = static_cast<T>(c.q[0] * conv.out_coef);
            for (std::size_t k = 1; k < static_cast<std::size_t>(K); ++k) m[1][2 + k] = static_cast<T>(c.q[k]);
            if constexpr (Noisy) m[1][n_in - 1] = static_cast<T>(c.z);
            // q₀ is written even when no later step reads it (first-order methods): a q₀ that overflows
            // must be reported at this step, and the finiteness test is part of the store's pass.
            return step_map<Noisy, Fused, 2, n_in>({&q_new, &x}, m, in, normals);
        } else {
            // Thresholding is non-linear: convert, threshold, then update (two passes).
            const bool converted = linear_map_1<3>(q_new, {conv.x_coef, conv.mu_coef, conv.out_coef}, {&x, &mu, &raw_});
            if (!converted) return false;
            threshold(q_new);
            constexpr std::size_t n_in = 3 + history_inputs + (Noisy ? 1 : 0);
            std::array<const S*, n_in> in{};
            std::array<std::array<T, n_in>, 1> w{};
            in[0] = &x;
            in[1] = &mu;
            in[2] = &q_new;
            w[0][0] = static_cast<T>(c.x);
            w[0][1] = static_cast<T>(c.mu);
            w[0][2] = static_cast<T>(c.q[0]);
            if constexpr (K >= 2) { in[3] = q1; w[0][3] = static_cast<T>(c.q[1]); }
            if constexpr (K >= 3) { in[4] = q2; w[0][4] = static_cast<T>(c.q[2]); }
            if constexpr (K >= 4) { in[5] = q3; w[0][5] = static_cast<T>(c.q[3]); }
            if constexpr (Noisy) { in[n_in - 1] = &z_; w[0][n_in - 1] = static_cast<T>(c.z); }
            return step_map<Noisy, Fused, 1, n_in>({&x}, w, in, normals);
        }
    }

    void threshold(S& q) { detail::apply_dynamic_threshold(q, *options_.thresholding, threshold_scratch_); }

    [[noreturn]] void report_non_finite(int step, Real s, Real t, const S& output) const {
        if (!traits::all_finite(output))
            throw non_finite_error(detail::message("the model output at step ", step, " (t = ", s,
                                                   ") contains NaN or Inf"), step, static_cast<double>(s));
        throw non_finite_error(detail::message("the state became NaN or Inf at step ", step, " (t = ", t, ")"), step,
                               static_cast<double>(t));
    }

    // fault_policy::stop keeps a copy of x_{t_{i−1}} while step i runs (one extra pass; none by default).
    void keep_last_finite(const S& x) {
        if (options_.on_fault == fault_policy::stop) linear_map_1<1>(last_finite_, {Real(1)}, {&x});
    }
    // A NaN/Inf at step i: throws (fault_policy::throw_error), or restores x and records the stop.
    void on_non_finite(int step, Real s, Real t, const S& output, S& x, sample_result& result) {
        if (options_.on_fault == fault_policy::throw_error) report_non_finite(step, s, t, output);
        const bool bad_output = !traits::all_finite(output);
        linear_map_1<1>(x, {Real(1)}, {&last_finite_});
        result.status = bad_output ? sample_status::non_finite_model_output : sample_status::non_finite_state;
        result.fault_step = step;
        result.fault_time = static_cast<double>(bad_output ? s : t);
        result.steps = step - 1;
    }

    template <class Model, class Noise, class Observer>
    void run_multistep(std::span<const Real> grid, Model& model, S& x, const S& mu, Noise& noise, Observer& observer,
                       sample_result& result) {
        using P = typename Method::parameterization;
        const int steps = static_cast<int>(grid.size()) - 1;
        last_step_.reset();
        for (int i = 1; i <= steps; ++i) {
            const Real s = grid[static_cast<std::size_t>(i) - 1], t = grid[static_cast<std::size_t>(i)];
            evaluate(model, x, mu, s, i);
            ++result.nfe;
            keep_last_finite(x);
            if (options_.denoise_last && i == steps) {
                // The published final step: the data prediction at (x_{M−1}, t_{M−1}).
                const auto to_data = conversion_at(s, fit_target::data);
                bool ok;
                if (options_.thresholding) {
                    S& slot = next_slot();
                    ok = linear_map_1<3>(slot, {to_data.x_coef, to_data.mu_coef, to_data.out_coef}, {&x, &mu, &raw_});
                    if (ok) {
                        threshold(slot);
                        ok = linear_map_1<1>(x, {Real(1)}, {&slot});
                    }
                } else {
                    ok = linear_map_1<3>(x, {to_data.x_coef, to_data.mu_coef, to_data.out_coef}, {&x, &mu, &raw_});
                }
                if (!ok) {
                    on_non_finite(i, s, t, raw_, x, result);
                    return;
                }
                observer(step_info<Real, S>{i, steps, t, family_->lambda(t), x, raw_});
                break;
            }
            step_geometry<Real> g{};
            g.step = i;
            g.steps = steps;
            g.order = std::min(desired_order(i, steps), history_ + 1);
            g.s = s;
            g.t = t;
            g.alpha_s = family_->alpha(s);
            g.alpha_t = family_->alpha(t);
            g.sigma_s = family_->sigma(s);
            g.sigma_t = family_->sigma(t);
            g.lambda_s = lambda_at(s);
            g.lambda_t = lambda_at(t);
            g.h = g.lambda_t - g.lambda_s;
            g.r0 = g.order >= 2 ? (g.lambda_s - ring_lambda_[0]) / g.h : Real(0);
            g.r1 = g.order >= 3 ? (ring_lambda_[0] - ring_lambda_[1]) / g.h : Real(0);
            step_coefficients<Real> c = method_.coefficients(*family_, g);
            // The inputs the fused pass reads: q₀ and the history entries of the predictor (and corrector).
            int inputs = g.order;
            if constexpr (CorrectingMethod<Method>) {
                // Correct x̃_{t_{i−1}} with the output just evaluated there, inside this step's pass:
                // x_t = c_x (x̃ + Δ) + … = c_x x̃ + (c + c_x Δ)·(μ, q₀, q₁, …).
                if (last_step_ && method_.corrects_step(i - 1, steps)) {
                    const step_coefficients<Real> delta = method_.correction(*family_, *last_step_);
                    c.mu += c.x * delta.mu;
                    for (std::size_t k = 0; k < c.q.size(); ++k) c.q[k] += c.x * delta.q[k];
                    inputs = std::max(inputs, last_step_->order + 1);
                }
                last_step_ = g;
            }
            const auto conv = conversion<Real>(options_.fit, P::integrated, g.alpha_s, g.sigma_s, lambda_stationary_);
            constexpr bool fused = fuses_noise<Noise>;
            normal_input normals{};
            if constexpr (fused) {
                normals = {&noise.generator(), static_cast<std::uint64_t>(i)};
            } else if constexpr (Method::stochastic) {
                noise.fill(z_, i);
            }
            S& slot = next_slot();
            bool ok = false;
            constexpr int max_inputs = Method::max_order + (CorrectingMethod<Method> ? 1 : 0);
            switch (inputs) {
                case 1: ok = update<1, Method::stochastic, fused>(slot, x, mu, conv, c, normals); break;
                case 2:
                    if constexpr (max_inputs >= 2) ok = update<2, Method::stochastic, fused>(slot, x, mu, conv, c, normals);
                    break;
                case 3:
                    if constexpr (max_inputs >= 3) ok = update<3, Method::stochastic, fused>(slot, x, mu, conv, c, normals);
                    break;
                case 4:
                    if constexpr (max_inputs >= 4) ok = update<4, Method::stochastic, fused>(slot, x, mu, conv, c, normals);
                    break;
                default: break;
            }
            push(slot_index_of(slot), g.lambda_s);
            if (!ok) {
                on_non_finite(i, s, t, raw_, x, result);
                return;
            }
            observer(step_info<Real, S>{i, steps, t, g.lambda_t, x, raw_});
        }
    }

    template <class Model, class Observer>
    void run_two_stage(std::span<const Real> grid, Model& model, S& x, const S& mu, Observer& observer,
                       sample_result& result) {
        const int steps = static_cast<int>(grid.size()) - 1;
        for (int i = 1; i <= steps; ++i) {
            const Real s = grid[static_cast<std::size_t>(i) - 1], t = grid[static_cast<std::size_t>(i)];
            const Real delta = method_.delta(s, t);
            const Real s2 = s - delta;
            // d(x, τ) = f(μ − x) + ½ g² ε̂/σ = −f x + f μ + κ ε̂ with ε̂ = a x + b μ + c·raw, κ = g²/(2σ).
            const auto derivative = [this](Real tau) {
                const auto e = conversion_at(tau, fit_target::noise);
                const Real f = detail::baseline_drift_rate(*family_, method_.mode, tau);
                const Real kappa = detail::baseline_diffusion_sq(*family_, method_.mode, tau) / (2 * family_->sigma(tau));
                return std::array<Real, 3>{-f + kappa * e.x_coef, f + kappa * e.mu_coef, kappa * e.out_coef};
            };
            evaluate(model, x, mu, s, i);
            keep_last_finite(x);
            const auto d1 = derivative(s);
            // Predictor x' = x − Δ d(x, s).
            bool ok = linear_map_1<3>(extra_, {1 - delta * d1[0], -delta * d1[1], -delta * d1[2]}, {&x, &mu, &raw_});
            if (!ok) {
                ++result.nfe;
                on_non_finite(i, s, t, raw_, x, result);
                return;
            }
            evaluate_into(model, extra_, mu, s2, i, second_raw_);
            result.nfe += 2;
            // x_t = x − ½Δ(d₁ + d₂) = ½ x + ½ x' − ½ Δ d(x', s − Δ).
            const auto d2 = derivative(s2);
            ok = linear_map_1<4>(x, {Real(0.5), Real(0.5) - delta * d2[0] / 2, -delta * d2[1] / 2, -delta * d2[2] / 2},
                                 {&x, &extra_, &mu, &second_raw_});
            if (!ok) {
                on_non_finite(i, s2, t, second_raw_, x, result);
                return;
            }
            observer(step_info<Real, S>{i, steps, t, family_->lambda(t), x, raw_});
        }
    }

    Method method_;
    const Family* family_;
    sample_options options_;
    std::size_t n_;
    Real lambda_stationary_ = std::numeric_limits<Real>::quiet_NaN();
    std::vector<S> slots_;
    std::array<std::size_t, 4> ring_{};
    std::array<Real, 4> ring_lambda_{};
    std::optional<step_geometry<Real>> last_step_;  // correctors: the previous step of this run, as predicted
    int history_ = 0;
    S raw_{};
    S z_{};
    S extra_{};       // Heun: the predictor state x'
    S second_raw_{};  // Heun: the model output at the predictor
    S last_finite_{};  // fault_policy::stop: x_{t_{i−1}} while step i runs
    std::vector<T> threshold_scratch_;
};

/// @brief Samples once: builds a sampler, runs the grid, returns the statistics (x holds the result).
/// @param method the solver object @param family the coefficient family @param grid the times
/// @param model the network @param x in: x_{t₀}; out: the result @param mu the condition
/// @param options loop options @param noise normal source (stochastic solvers) @param observer per-step callback
/// @return NFE and steps
/// @throws as sampler::sampler and sampler::run
template <SolverMethod Method, CoefficientFamily Family, State S, class Model, class Noise = counter_noise,
          class Observer = no_observer>
    requires ScoreFn<Model, S, typename Family::real_type>
sample_result sample(const Method& method, const Family& family, std::span<const typename Family::real_type> grid,
                     Model&& model, S& x, const S& mu, const sample_options& options = {}, Noise&& noise = Noise{},
                     Observer&& observer = Observer{}) {
    sampler<Method, Family, S> s(method, family, x, options);
    return s.run(grid, std::forward<Model>(model), x, mu, std::forward<Noise>(noise), std::forward<Observer>(observer));
}

}  // namespace mrsolve
