#pragma once
/// @file validation.hpp
/// @brief The checks every sampling driver (sampler, singlestep_sampler, adaptive_sampler) makes before it
/// samples, in one place so that the drivers reject the same inputs with the same messages
/// (docs/reliability.md §1: every bad input throws mrsolve::invalid_argument naming the value).

#include <cmath>
#include <cstddef>
#include <limits>
#include <string_view>
#include <type_traits>

#include "../concepts/state.hpp"
#include "../concepts/coefficients.hpp"
#include "../error.hpp"
#include "../prediction/fit_target.hpp"
#include "../prediction/parameterization.hpp"
#include "../simd.hpp"
#include "../thresholding.hpp"

namespace mrsolve::detail {

/// Throws invalid_argument naming `field`, the enum type and the value unless first ≤ value ≤ last (a value
/// cast from an integer must not select a code path). Message: "FIELD is not a TYPE: VALUE".
template <class E>
    requires std::is_enum_v<E>
void check_enum(E value, E last, std::string_view field, std::string_view type) {
    const auto v = static_cast<long long>(static_cast<std::underlying_type_t<E>>(value));
    if (v < 0 || v > static_cast<long long>(static_cast<std::underlying_type_t<E>>(last)))
        throw_invalid(field, " is not a ", type, ": ", v);
}

/// A fit_target field of an options struct.
inline void check_fit_target(fit_target fit, std::string_view field) {
    check_enum(fit, fit_target::velocity, field, "fit_target");
}

/// An unusable MRSOLVE_SIMD setting is reported when a driver is built, not ignored.
inline void check_simd_setting() { (void)host_simd_isa(); }

/// Throws unless the state is non-empty. `who` names the driver.
inline void check_state_size(std::size_t n, std::string_view who) {
    if (n == 0) throw_invalid(who, ": the state is empty (size 0)");
}

/// The σ_∞ the conversions of fit target `fit` need: the family's stationary standard deviation, or NaN
/// for a family without one, where the velocity target is rejected (docs/theory.md §2).
template <CoefficientFamily Family>
[[nodiscard]] typename Family::real_type stationary_std_for(const Family& family, fit_target fit, std::string_view who) {
    if constexpr (StationaryFamily<Family>) {
        (void)fit, (void)who;
        return family.stationary_std();
    } else {
        (void)family;
        if (fit == fit_target::velocity)
            throw_invalid(who, ": fit target velocity needs a family with a stationary standard deviation");
        return std::numeric_limits<typename Family::real_type>::quiet_NaN();
    }
}

/// Dynamic thresholding acts on the data prediction (docs/theory.md §4): the driver must integrate it, the
/// state must offer thresholding, and the options must fit a state of n elements
/// (validate_thresholding_options, thresholding.hpp). `who` names the driver
/// or the solver.
template <Parameterization P, class S>
void validate_thresholding(const dynamic_thresholding& th, std::size_t n, std::string_view who) {
    if constexpr (!std::is_same_v<P, data_prediction>)
        throw_invalid(who, ": dynamic thresholding applies to the data prediction; this solver integrates the noise "
                           "prediction");
    if constexpr (!thresholdable_state<S>)
        throw_invalid(who, ": dynamic thresholding needs a state with host access or a backend dynamic_threshold");
    validate_thresholding_options(th, n);
}

/// Throws unless x and μ both have the n elements the driver was set up for.
template <State S>
void check_input_sizes(const S& x, const S& mu, std::size_t n) {
    using traits = backend_traits<S>;
    if (traits::size(x) != n)
        throw_invalid("state x has size ", traits::size(x), " but the sampler was set up for size ", n);
    if (traits::size(mu) != n) throw_invalid("condition mu has size ", traits::size(mu), " but the state has size ", n);
}

/// Throws naming the first non-finite element and its value where the state offers host access, else
/// saying that it contains NaN or Inf. `what` names the input ("the start state x").
template <State S>
void check_finite_input(std::string_view what, const S& v) {
    using traits = backend_traits<S>;
    if (traits::all_finite(v)) return;
    if constexpr (requires { traits::host_span(v); }) {
        const auto elements = traits::host_span(v);
        for (std::size_t e = 0; e < elements.size(); ++e)
            if (!std::isfinite(elements[e])) throw_invalid(what, " is not finite: element ", e, " = ", elements[e]);
    }
    throw_invalid(what, " contains NaN or Inf");
}

/// The checks of x_T and μ at the start of every run: sizes, then finiteness (naming the element).
template <State S>
void check_run_inputs(const S& x, const S& mu, std::size_t n) {
    check_input_sizes(x, mu, n);
    check_finite_input("the start state x", x);
    check_finite_input("the condition mu", mu);
}

}  // namespace mrsolve::detail
