#pragma once
/// @file singlestep.hpp
/// @brief Singlestep exponential integrators (orders 1, 2, 3) for the MR probability-flow ODE, in noise or
/// data prediction: the MR analogue of DPM-Solver-1/2/3, with exact exponential quadrature of the
/// polynomial through the stage outputs.
///
/// Provides singlestep_orders() (the per-step orders that spend an NFE budget exactly) and
/// singlestep_sampler (one grid step = 1, 2 or 3 model evaluations at fractions of the step in
/// λ̃ = ln(α/σ)). The stages, why the order-3 form is third order, and how intermediate times are found
/// on the discrete tables: docs/theory.md §7, "Singlestep solvers".

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "concepts/state.hpp"
#include "concepts/coefficients.hpp"
#include "concepts/model.hpp"
#include "detail/exponential_quadrature.hpp"
#include "detail/validation.hpp"
#include "error.hpp"
#include "prediction/conversion.hpp"
#include "prediction/fit_target.hpp"
#include "prediction/parameterization.hpp"
#include "sample.hpp"
#include "schedule/schedule.hpp"
#include "simd.hpp"
#include "thresholding.hpp"

namespace mrsolve {

/// @brief The per-step orders of a singlestep solver that spend exactly `nfe` model evaluations
/// (DPM-Solver's convention: full-order steps, the remainder in lower-order steps at the end).
///
/// order 1: [1, …, 1] (nfe steps); order 2: [2, …, 2] or [2, …, 2, 1]; order 3: nfe % 3 == 0 →
/// [3, …, 3, 2, 1], == 1 → [3, …, 3, 1], == 2 → [3, …, 3, 2]. The outer grid has size() steps: build it
/// with `make_grid(family, kind, static_cast<int>(orders.size()))`.
/// @param nfe the number of model evaluations, ≥ 1
/// @param order the highest order, 1, 2 or 3
/// @return the order of each step, summing to nfe
/// @throws mrsolve::invalid_argument for nfe < 1 or an order other than 1, 2, 3 (the message names it)
[[nodiscard]] inline std::vector<int> singlestep_orders(int nfe, int order) {
    if (nfe < 1) detail::throw_invalid("singlestep_orders: NFE must be >= 1, got ", nfe);
    if (order < 1 || order > 3) detail::throw_invalid("singlestep_orders: order must be 1, 2 or 3, got ", order);
    std::vector<int> orders;
    if (order == 1) {
        orders.assign(static_cast<std::size_t>(nfe), 1);
    } else if (order == 2) {
        orders.assign(static_cast<std::size_t>(nfe / 2), 2);
        if (nfe % 2 == 1) orders.push_back(1);
    } else {
        const int full = nfe / 3;
        switch (nfe % 3) {
            case 0:
                orders.assign(static_cast<std::size_t>(full - 1), 3);
                orders.push_back(2);
                orders.push_back(1);
                break;
            case 1:
                orders.assign(static_cast<std::size_t>(full), 3);
                orders.push_back(1);
                break;
            default:
                orders.assign(static_cast<std::size_t>(full), 3);
                orders.push_back(2);
                break;
        }
    }
    return orders;
}

/// @brief Options of the singlestep sampler.
struct singlestep_options {
    fit_target fit = fit_target::noise;  ///< what the model returns (converted to the parameterization)
    /// @brief Dynamic thresholding of every stage's x̂₀ (data prediction and host-accessible states only).
    /// Each evaluation then costs one more pass (convert, threshold) and its conversion is no longer fused.
    std::optional<dynamic_thresholding> thresholding{};
    /// @brief What a NaN/Inf during sampling does, as sample_options::on_fault: throw (the default), or stop
    /// with x = x_{t_{k−1}} and the status in the result (one copy of x per step).
    fault_policy on_fault = fault_policy::throw_error;
};

namespace detail {
/// Throws mrsolve::invalid_argument naming any enumerator of the options that is out of range.
inline void validate_singlestep_options(const singlestep_options& o) {
    check_fit_target(o.fit, "singlestep_options::fit");
    check_enum(o.on_fault, fault_policy::stop, "singlestep_options::on_fault", "fault_policy");
    check_simd_setting();
}
}  // namespace detail

/// @brief Statistics of a singlestep run (the fields of sample_result).
struct singlestep_result {
    int nfe = 0;    ///< model evaluations made (the sum of the step orders; after a stop, including step fault_step's)
    int steps = 0;  ///< outer steps completed (K, or fault_step − 1 after a stop); x holds x_{t_steps}
    sample_status status = sample_status::completed;  ///< completed, or why fault_policy::stop stopped
    int fault_step = 0;  ///< the 1-based step at which the run stopped; 0 when completed
    double fault_time = std::numeric_limits<double>::quiet_NaN();  ///< the time of that stage's evaluation or state
    /// The code the state updates ran on (mrsolve::execution_path: "host/avx2", "torch host_dense/sse2",
    /// "torch tensor_ops", "thrust cuda", …), so that a slow path is visible where it is taken.
    std::string_view execution_path = "unnamed";
    /// @brief Whether every step was taken. @return status == sample_status::completed
    [[nodiscard]] bool completed() const noexcept { return status == sample_status::completed; }
};

namespace detail {

/// The shared machinery of singlestep and adaptive solvers: the workspace (two intermediate states and
/// three raw outputs), model evaluation with size checks, and the fused stage passes. The drivers check
/// their options' enumerators before building it.
/// @tparam P noise_prediction or data_prediction
/// @tparam Family the coefficient family
/// @tparam S the state type
template <Parameterization P, CoefficientFamily Family, State S>
class singlestep_core {
public:
    using Real = typename Family::real_type;
    using T = state_value_t<S>;
    using traits = backend_traits<S>;
    /// The inputs of a singlestep pass, in this order; a pass reads a compile-time subset of them.
    enum singlestep_input : std::size_t { in_x = 0, in_mu, in_raw0, in_u1, in_raw1, in_u2, in_raw2, singlestep_inputs };
    using row = std::array<Real, singlestep_inputs>;

    /// Node fractions of the stages: order 2 evaluates at ½, order 3 at ⅓ and ⅔.
    static constexpr Real r_order2 = Real(1) / Real(2);
    static constexpr Real r1_order3 = Real(1) / Real(3);
    static constexpr Real r2_order3 = Real(2) / Real(3);

    singlestep_core(const Family& family, const S& like, fit_target fit, const char* who,
                    std::optional<dynamic_thresholding> thresholding = std::nullopt)
        : family_(&family), fit_(fit), n_(traits::size(like)), thresholding_(thresholding) {
        check_state_size(n_, who);
        if (thresholding_) {
            validate_thresholding<P, S>(*thresholding_, n_, who);
            threshold_scratch_.assign(n_ / thresholding_->batch_items, T(0));
        }
        lambda_stationary_ = stationary_std_for(family, fit, who);
        u1_ = traits::make_like(like);
        u2_ = traits::make_like(like);
        raw0_ = traits::make_like(like);
        raw1_ = traits::make_like(like);
        raw2_ = traits::make_like(like);
    }

    /// Where a step failed: the 1-based stage whose model output was NaN/Inf (or, with thresholding, whose
    /// conversion to x̂₀ overflowed), or stage 0 for a state that overflowed; and the time of either.
    struct step_fault {
        bool failed = false;
        int stage = 0;
        Real time = 0;
        bool conversion = false;
        explicit operator bool() const noexcept { return failed; }
    };

    [[nodiscard]] std::size_t size() const noexcept { return n_; }
    /// The first stage's model output of the last step (thresholding: its thresholded x̂₀).
    [[nodiscard]] const S& first_output() const noexcept { return raw0_; }
    static void copy(const S& from, S& to) {
        std::array<std::array<T, 1>, 1> one{};
        one[0][0] = T(1);
        (void)traits::template linear_map<1, 1>({&to}, one, {&from});
    }
    [[nodiscard]] const Family& family() const noexcept { return *family_; }
    S& u1() noexcept { return u1_; }
    S& u2() noexcept { return u2_; }

    void check_inputs(const S& x, const S& mu) const { check_run_inputs(x, mu, n_); }

    /// One step of order 1, 2 or 3 from (x, s) to t. Writes the result into `high` (may be x itself)
    /// and, when `low` is given (orders 2 and 3), the embedded lower-order result sharing the same
    /// evaluations: order 2 → the order-1 step (q₀ only); order 3 → the 2-node {0: q₀, ⅓: q₁} quadrature
    /// over [0, h] (second order). `low` may be u1(). Adds the evaluations made to nfe. A NaN/Inf model
    /// output or result ends the step early and is returned (throw_fault reports it); the caller decides.
    template <class Model>
    [[nodiscard]] step_fault step(Model& model, const S& x, const S& mu, Real s, Real t, int order, int step_index,
                                  S& high, S* low, int& nfe) {
        const Real ls = lambda_of(s), lt = lambda_of(t), h = lt - ls;
        const bool converted0 = evaluate(model, x, mu, s, step_index, raw0_);
        ++nfe;
        if (!converted0) return step_fault{true, 1, s, true};
        const affine_map<Real> c0 = stage_conv(s);
        if (order == 1) {
            const row r = end_row(s, t, {node{Real(0), c0, in_x, in_raw0}}, 1, h);
            if (!pass<1, 3>({&high}, {r}, {in_x, in_mu, in_raw0}, x, mu)) return failure(t, 1);
            return {};
        }
        const Real r1 = order == 2 ? r_order2 : r1_order3;
        const Real s1 = time_of(ls + r1 * h, t, s);
        const Real l1 = lambda_of(s1);
        {
            const row r = end_row(s, s1, {node{Real(0), c0, in_x, in_raw0}}, 1, l1 - ls);
            if (!pass<1, 3>({&u1_}, {r}, {in_x, in_mu, in_raw0}, x, mu)) return failure(s1, 1);
        }
        const bool converted1 = evaluate(model, u1_, mu, s1, step_index, raw1_);
        ++nfe;
        if (!converted1) return step_fault{true, 2, s1, true};
        const affine_map<Real> c1 = stage_conv(s1);
        const node n0{Real(0), c0, in_x, in_raw0};
        const node n1{(l1 - ls) / h, c1, in_u1, in_raw1};
        if (order == 2) {
            const row r_high = end_row(s, t, {n0, n1}, 2, h);
            if (low != nullptr) {
                const row r_low = end_row(s, t, {n0}, 1, h);
                if (!pass<2, 5>({&high, low}, {r_high, r_low}, {in_x, in_mu, in_raw0, in_u1, in_raw1}, x, mu))
                    return failure(t, 2);
            } else if (!pass<1, 5>({&high}, {r_high}, {in_x, in_mu, in_raw0, in_u1, in_raw1}, x, mu)) {
                return failure(t, 2);
            }
            return {};
        }
        const Real s2 = time_of(ls + r2_order3 * h, t, s);
        const Real l2 = lambda_of(s2);
        {
            // Sub-step s → s₂ with the interpolant through {0: q₀, r₁: q₁}, nodes in units of h₂ = λ(s₂) − λ_s.
            const Real h2 = l2 - ls;
            const row r = end_row(s, s2, {n0, node{(l1 - ls) / h2, c1, in_u1, in_raw1}}, 2, h2);
            if (!pass<1, 5>({&u2_}, {r}, {in_x, in_mu, in_raw0, in_u1, in_raw1}, x, mu)) return failure(s2, 2);
        }
        const bool converted2 = evaluate(model, u2_, mu, s2, step_index, raw2_);
        ++nfe;
        if (!converted2) return step_fault{true, 3, s2, true};
        const node n2{(l2 - ls) / h, stage_conv(s2), in_u2, in_raw2};
        const row r_high = end_row(s, t, {n0, n2}, 2, h);
        if (low != nullptr) {
            const row r_low = end_row(s, t, {n0, n1}, 2, h);
            if (!pass<2, 7>({&high, low}, {r_high, r_low}, {in_x, in_mu, in_raw0, in_u1, in_raw1, in_u2, in_raw2}, x, mu))
                return failure(t, 3);
        } else if (!pass<1, 5>({&high}, {r_high}, {in_x, in_mu, in_raw0, in_u2, in_raw2}, x, mu)) {
            return failure(t, 3);
        }
        return {};
    }

    /// Throws mrsolve::non_finite_error for a fault of step `step_index`, naming the stage and its time.
    [[noreturn]] void throw_fault(const step_fault& f, int step_index) const {
        if (f.stage == 0)
            throw non_finite_error(message("the state became NaN or Inf at step ", step_index, " (t = ", f.time, ")"),
                                   step_index, static_cast<double>(f.time));
        throw non_finite_error(message("the model output at step ", step_index, " (stage ", f.stage, ", t = ", f.time,
                                       f.conversion ? ") contains NaN or Inf, or overflows when converted to x0"
                                                    : ") contains NaN or Inf"),
                               step_index, static_cast<double>(f.time));
    }

    /// λ̃(t) = ln(α(t)/σ(t)): the half log-SNR of the family's own α and σ. It equals family.lambda(t)
    /// for continuous families; for interpolated tables it is the variable in which the y-form step is
    /// the exact solution of the probability-flow ODE of the interpolated α, σ (the table's separately
    /// interpolated λ is not ln(α/σ) between nodes, and stepping in it would solve no fixed ODE).
    [[nodiscard]] Real lambda_of(Real t) const { return detail::alpha_sigma_lambda(*family_, t); }

    /// The time τ ∈ [lo, hi] with λ̃(τ) = target (λ̃ decreases in t). The family's inverse t(λ) is tried
    /// first (exact for continuous families); otherwise bisection, to adjacent floating-point values.
    [[nodiscard]] Real time_of(Real target, Real lo, Real hi) const {
        const Real guess = family_->t_of_lambda(target);
        const Real tolerance = 64 * std::numeric_limits<Real>::epsilon() * (1 + std::abs(target));
        if (guess > lo && guess < hi && std::abs(lambda_of(guess) - target) <= tolerance) return guess;
        Real a = lo, b = hi;  // λ̃(a) ≥ target ≥ λ̃(b)
        for (int i = 0; i < 200; ++i) {
            const Real m = a + (b - a) / 2;
            if (!(m > a && m < b)) break;
            (lambda_of(m) > target ? a : b) = m;
        }
        return a + (b - a) / 2;
    }

private:
    /// A quadrature node: its fraction r of the step, the conversion at its time, and the inputs holding
    /// the state it was evaluated at and the raw model output there.
    struct node {
        Real r;
        affine_map<Real> conv;
        singlestep_input state;
        singlestep_input raw;
    };

    [[nodiscard]] affine_map<Real> conv(Real tau) const {
        return conversion<Real>(fit_, P::integrated, family_->alpha(tau), family_->sigma(tau), lambda_stationary_);
    }

    /// How a pass reads a stage's stored output: the conversion at its time, or the identity when
    /// evaluate() has already converted and thresholded it.
    [[nodiscard]] affine_map<Real> stage_conv(Real tau) const {
        return thresholding_ ? affine_map<Real>{Real(0), Real(0), Real(1)} : conv(tau);
    }

    /// The coefficients over all inputs of x_τ = c_x x_s + c_μ μ + scale Σ_j w_j q_j, where the w_j
    /// integrate the interpolant through `count` nodes exactly over [0, h], h = λ(τ) − λ(s).
    [[nodiscard]] row end_row(Real s, Real tau, const std::array<node, 2>& nodes, int count, Real h) const {
        std::array<Real, 2> r{};
        for (std::size_t j = 0; j < 2; ++j) r[j] = nodes[j].r;
        constexpr bool data = std::is_same_v<P, data_prediction>;
        const std::array<Real, 2> w = exponential_quadrature<Real, 2>(h, data ? Real(1) : Real(-1), r, count);
        const Real ratio = data ? family_->sigma(tau) / family_->sigma(s) : family_->alpha(tau) / family_->alpha(s);
        const Real scale = data ? family_->alpha(tau) : -family_->sigma(tau);
        row c{};
        c[in_x] = ratio;
        c[in_mu] = 1 - ratio;
        for (std::size_t j = 0; j < static_cast<std::size_t>(count); ++j) {
            const Real k = scale * w[j];
            if constexpr (data) c[in_mu] -= k;  // α_τ Σ w_j μ: the quadrature acts on q − μ
            c[nodes[j].state] += k * nodes[j].conv.x_coef;
            c[in_mu] += k * nodes[j].conv.mu_coef;
            c[nodes[j].raw] += k * nodes[j].conv.out_coef;
        }
        return c;
    }

    /// outs = rows · (the selected inputs), one fused pass; false if an output is not finite.
    template <std::size_t NOut, std::size_t NIn>
    bool pass(const std::array<S*, NOut>& outs, const std::array<row, NOut>& rows,
              const std::array<singlestep_input, NIn>& select, const S& x, const S& mu) {
        const std::array<const S*, singlestep_inputs> all{&x, &mu, &raw0_, &u1_, &raw1_, &u2_, &raw2_};
        std::array<const S*, NIn> in{};
        std::array<std::array<T, NIn>, NOut> m{};
        for (std::size_t k = 0; k < NIn; ++k) {
            in[k] = all[select[k]];
            for (std::size_t o = 0; o < NOut; ++o) m[o][k] = static_cast<T>(rows[o][select[k]]);
        }
        return traits::template linear_map<NOut, NIn>(outs, m, in);
    }

    /// Evaluates the model into out; false if thresholding's conversion to x̂₀ gave a NaN/Inf.
    template <class Model>
    bool evaluate(Model& model, const S& x, const S& mu, Real t, int step_index, S& out) {
        times_[static_cast<std::size_t>(&out == &raw0_ ? 0 : &out == &raw1_ ? 1 : 2)] = t;
        model(x, mu, t, out);
        if (traits::size(out) != n_) {
            const std::size_t got = traits::size(out);
            out = traits::make_like(x);  // error path: give the workspace its shape back
            throw_invalid("the model output at step ", step_index, " (t = ", t, ") has size ", got, ", expected ", n_);
        }
        if (thresholding_) {
            // Thresholding is non-linear: convert to x̂₀ in place, threshold, and let the passes read it as is.
            const affine_map<Real> c = conv(t);
            const std::array<std::array<T, 3>, 1> m{{{static_cast<T>(c.x_coef), static_cast<T>(c.mu_coef),
                                                      static_cast<T>(c.out_coef)}}};
            if (!traits::template linear_map<1, 3>({&out}, m, {&x, &mu, &out})) return false;
            apply_dynamic_threshold(out, *thresholding_, threshold_scratch_);
        }
        return true;
    }

    /// A pass produced NaN/Inf: blame the first non-finite model output among the `outputs` made so far,
    /// else the state at `t`.
    [[nodiscard]] step_fault failure(Real t, int outputs) const {
        const std::array<const S*, 3> raws{&raw0_, &raw1_, &raw2_};
        for (std::size_t k = 0; k < static_cast<std::size_t>(outputs); ++k)
            if (!traits::all_finite(*raws[k])) return step_fault{true, static_cast<int>(k) + 1, times_[k], false};
        return step_fault{true, 0, t, false};
    }

    const Family* family_;
    fit_target fit_;
    std::size_t n_;
    Real lambda_stationary_ = std::numeric_limits<Real>::quiet_NaN();
    S u1_{}, u2_{}, raw0_{}, raw1_{}, raw2_{};
    std::array<Real, 3> times_{};  // the times of the stage evaluations of the current step
    std::optional<dynamic_thresholding> thresholding_;
    std::vector<T> threshold_scratch_;  // one item of |x̂₀| for the quantile
};

}  // namespace detail

/// @brief Reusable singlestep sampler (orders 1–3 per step, docs/theory.md §7): validates and allocates
/// once (two intermediate states and three model outputs), then runs grids without allocating.
///
/// Holds a reference to the family, which must outlive it. Not thread-safe (it owns a workspace).
/// @tparam P noise_prediction or data_prediction
/// @tparam Family a coefficient family
/// @tparam S the state type
template <Parameterization P, CoefficientFamily Family, State S>
class singlestep_sampler {
public:
    /// @brief Scalar type of times and coefficients.
    using real_type = typename Family::real_type;

    /// @brief Validates the configuration and allocates the workspace.
    /// @param family the coefficient family (kept by reference)
    /// @param like a state of the shape that will be sampled
    /// @param options what the model returns
    /// @throws mrsolve::invalid_argument for an empty state, an invalid fit target, velocity with a
    ///         family without a stationary standard deviation, or thresholding with noise prediction, a
    ///         state without host access or bad thresholding parameters (naming the value)
    singlestep_sampler(const Family& family, const S& like, singlestep_options options = {})
        : core_(family, like, (detail::validate_singlestep_options(options), options.fit), "singlestep_sampler",
                options.thresholding),
          options_(options) {
        if (options_.on_fault == fault_policy::stop) last_finite_ = backend_traits<S>::make_like(like);
    }

    /// @brief Runs the grid t₀ > … > t_K from x = x_{t₀}, step i of order orders[i − 1], overwriting x.
    /// @tparam Model a network model(x, mu, t, out) writing its output into out (ScoreFn)
    /// @param grid the outer times (K + 1 values, strictly decreasing, inside the family's range)
    /// @param orders the order of each step (K values in {1, 2, 3}; see singlestep_orders)
    /// @param model the network
    /// @param x in: the start state; out: the result
    /// @param mu the condition μ
    /// @param observer called after every step with a step_info (model_output: the first stage's output,
    ///        with thresholding its thresholded x̂₀)
    /// @return the NFE (Σ orders), the steps and the status (sample_status::completed unless on_fault is
    ///         fault_policy::stop and a NaN/Inf appeared: then x holds x_{t_{k−1}})
    /// @throws mrsolve::invalid_argument for a bad grid, grid.size() ≠ orders.size() + 1, an order not in
    ///         {1, 2, 3}, size mismatches, non-finite x or μ (naming the element), or a model output of the
    ///         wrong size; mrsolve::non_finite_error naming the step, the stage and the time if a model output
    ///         or a state is NaN/Inf and on_fault is fault_policy::throw_error (x may then hold the failed
    ///         step's partial result). A model's exception propagates (x: x_{t_{k−1}}).
    template <class Model, class Observer>
        requires ScoreFn<Model, S, real_type>
    singlestep_result run(std::span<const real_type> grid, std::span<const int> orders, Model&& model, S& x,
                          const S& mu, Observer&& observer) {
        validate_grid<Family>(core_.family(), grid);
        if (grid.size() != orders.size() + 1)
            detail::throw_invalid("singlestep_sampler: the grid has ", grid.size(), " times but there are ",
                                  orders.size(), " step orders (need grid size = orders + 1)");
        for (std::size_t i = 0; i < orders.size(); ++i)
            if (orders[i] < 1 || orders[i] > 3)
                detail::throw_invalid("singlestep_sampler: orders[", i, "] = ", orders[i], "; expected 1, 2 or 3");
        core_.check_inputs(x, mu);
        singlestep_result result;
        result.execution_path = mrsolve::execution_path(x, mu);
        const int steps = static_cast<int>(orders.size());
        for (int i = 1; i <= steps; ++i) {
            const auto k = static_cast<std::size_t>(i);
            if (options_.on_fault == fault_policy::stop) core_type::copy(x, last_finite_);
            if (const auto fault = core_.step(model, x, mu, grid[k - 1], grid[k], orders[k - 1], i, x, nullptr, result.nfe)) {
                if (options_.on_fault == fault_policy::throw_error) core_.throw_fault(fault, i);
                core_type::copy(last_finite_, x);
                result.status = fault.stage == 0 ? sample_status::non_finite_state : sample_status::non_finite_model_output;
                result.fault_step = i;
                result.fault_time = static_cast<double>(fault.time);
                return result;
            }
            ++result.steps;
            observer(step_info<real_type, S>{i, steps, grid[k], core_.lambda_of(grid[k]), x, core_.first_output()});
        }
        return result;
    }

    /// @brief run() without an observer.
    /// @param grid the outer times @param orders the order of each step @param model the network
    /// @param x start state and result @param mu the condition
    /// @return NFE, steps and status
    template <class Model>
        requires ScoreFn<Model, S, real_type>
    singlestep_result run(std::span<const real_type> grid, std::span<const int> orders, Model&& model, S& x,
                          const S& mu) {
        return run(grid, orders, std::forward<Model>(model), x, mu, no_observer{});
    }

    /// @brief The options. @return the options given at construction
    [[nodiscard]] const singlestep_options& options() const noexcept { return options_; }

private:
    using core_type = detail::singlestep_core<P, Family, S>;
    core_type core_;
    singlestep_options options_;
    S last_finite_{};  // fault_policy::stop: x_{t_{i−1}} while step i runs
};

}  // namespace mrsolve
