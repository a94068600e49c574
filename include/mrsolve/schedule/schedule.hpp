#pragma once
/// @file schedule.hpp
/// @brief Step schedules by name, one entry point that builds and validates a grid.

#include <algorithm>
#include <cmath>
#include <limits>
#include <span>
#include <string_view>
#include <vector>

#include "../concepts/coefficients.hpp"
#include "../error.hpp"
#include "clipping.hpp"
#include "karras.hpp"
#include "linear_lambda.hpp"
#include "uniform.hpp"

namespace mrsolve {

/// @brief The step schedules (published names in parentheses).
enum class schedule_kind {
    linspace,        ///< uniform in t ("linspace")
    linear_lambda,   ///< uniform in λ ("linear-lambda")
    leading,         ///< "leading"
    trailing,        ///< "trailing"
    karras_n,        ///< ρ-schedule on σ/α ("karras-n")
    karras_t,        ///< ρ-schedule on t ("karras-t")
    time_quadratic   ///< uniform in √t ("time-quadratic")
};

/// @brief The published name of a schedule.
/// @param kind the schedule
/// @return its name, e.g. "linear-lambda"; "unknown" for a value outside the enumeration
[[nodiscard]] constexpr std::string_view to_string(schedule_kind kind) noexcept {
    switch (kind) {
        case schedule_kind::linspace: return "linspace";
        case schedule_kind::linear_lambda: return "linear-lambda";
        case schedule_kind::leading: return "leading";
        case schedule_kind::trailing: return "trailing";
        case schedule_kind::karras_n: return "karras-n";
        case schedule_kind::karras_t: return "karras-t";
        case schedule_kind::time_quadratic: return "time-quadratic";
    }
    return "unknown";
}

/// @brief Parses a published schedule name.
/// @param name e.g. "linspace" or "karras-n"
/// @return the schedule
/// @throws mrsolve::invalid_argument for an unknown name (the message lists the known ones)
[[nodiscard]] inline schedule_kind parse_schedule_kind(std::string_view name) {
    for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::leading,
                            schedule_kind::trailing, schedule_kind::karras_n, schedule_kind::karras_t,
                            schedule_kind::time_quadratic})
        if (name == to_string(kind)) return kind;
    detail::throw_invalid("unknown time schedule '", name,
                          "' (expected linspace, linear-lambda, leading, trailing, karras-n, karras-t or time-quadratic)");
}

/// @brief Parameters of a schedule beyond its kind and NFE.
struct schedule_options {
    double lambda_min = -std::numeric_limits<double>::infinity();  ///< λ-clipping bound (−∞: none)
    double rho = 7;                                                ///< ρ of the Karras schedules
    double offset = 0;                                             ///< offset of `leading`
    /// Start time for partial restoration (start_at_time): the schedule runs from t_start instead of the
    /// family's t_max (after λ-clipping, the smaller of the two). NaN: from t_max.
    double t_start = std::numeric_limits<double>::quiet_NaN();
};

namespace detail {

/// The checks of validate_grid (decreasing) and validate_increasing_grid (increasing).
template <CoefficientFamily Family>
void validate_monotone_grid(const Family& family, std::span<const typename Family::real_type> grid, bool decreasing) {
    using Real = typename Family::real_type;
    if (grid.size() < 2) throw_invalid("a grid needs at least 2 times, got ", grid.size());
    const Real lo = family.t_min(), hi = family.t_max(), tolerance = Real(1e-9) * (hi - lo);
    for (std::size_t i = 0; i < grid.size(); ++i) {
        if (!std::isfinite(grid[i])) throw_invalid("grid time t[", i, "] = ", grid[i], " is not finite");
        if (grid[i] < lo - tolerance || grid[i] > hi + tolerance)
            throw_invalid("grid time t[", i, "] = ", grid[i], " lies outside [", lo, ", ", hi, "]");
        if (i > 0 && !(decreasing ? grid[i] < grid[i - 1] : grid[i] > grid[i - 1]))
            throw_invalid(decreasing ? "the grid must be strictly decreasing: t[" : "an inversion grid must be strictly increasing: t[",
                          i - 1, "] = ", grid[i - 1], ", t[", i, "] = ", grid[i]);
    }
}

}  // namespace detail

/// @brief Checks a user-supplied grid: at least two times, finite, strictly decreasing, inside the
/// family's range [t_min, t_max] (up to 1e-9 of its width, for grids computed in floating point).
/// @tparam Family the coefficient family
/// @param family the family
/// @param grid the times t₀ > t₁ > … > t_M
/// @throws mrsolve::invalid_argument naming the first offending time (or the size, if fewer than two)
template <CoefficientFamily Family>
void validate_grid(const Family& family, std::span<const typename Family::real_type> grid) {
    detail::validate_monotone_grid(family, grid, true);
}

/// @brief Checks an inversion grid (sampler::invert): at least two times, finite, strictly increasing,
/// inside the family's range (as validate_grid, in the other direction), starting where λ is finite.
/// @tparam Family the coefficient family
/// @param family the family
/// @param grid the times t₀ < t₁ < … < t_M
/// @throws mrsolve::invalid_argument naming the first offending time (or the size, if fewer than two)
template <CoefficientFamily Family>
void validate_increasing_grid(const Family& family, std::span<const typename Family::real_type> grid) {
    detail::validate_monotone_grid(family, grid, false);
    if (!std::isfinite(family.lambda(grid.front())))
        detail::throw_invalid("an inversion grid must start where lambda is finite: lambda(t[0] = ", grid.front(),
                              ") = ", family.lambda(grid.front()));
}

/// @brief Builds the grid t₀ > … > t_M of a named schedule with M = steps (the NFE of a one-evaluation
/// solver), after λ-clipping, and validates it.
/// @tparam Family the coefficient family
/// @param family the coefficient family
/// @param kind the schedule
/// @param steps M ≥ 1
/// @param options λ_min, ρ, the leading offset and an intermediate start time t_start
/// @return M + 1 strictly decreasing times
/// @throws mrsolve::invalid_argument for M ≤ 0, ρ ≤ 0, a bad λ_min, t_start outside (t_min, t_max], or a
///         schedule that degenerates (for example `leading` with more steps than table entries)
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> make_grid(const Family& family, schedule_kind kind, int steps,
                                                                const schedule_options& options = {}) {
    using Real = typename Family::real_type;
    if (steps <= 0) detail::throw_invalid("NFE (number of steps) must be >= 1, got ", steps);
    if (!(options.rho > 0 && std::isfinite(options.rho))) detail::throw_invalid("rho must be finite and > 0, got ", options.rho);
    if (!std::isfinite(options.offset)) detail::throw_invalid("the leading offset must be finite, got ", options.offset);
    Real t_max = clipped_t_max(family, static_cast<Real>(options.lambda_min));
    Real lambda_min = static_cast<Real>(options.lambda_min);
    const bool partial = !std::isnan(options.t_start);
    if (partial) {
        if (!(options.t_start > static_cast<double>(family.t_min()) && options.t_start <= static_cast<double>(family.t_max())))
            detail::throw_invalid("t_start must lie in (", family.t_min(), ", ", family.t_max(), "], got t_start = ",
                                  options.t_start);
        t_max = std::min(t_max, static_cast<Real>(options.t_start));
        lambda_min = std::max(lambda_min, family.lambda(t_max));
    }
    std::vector<Real> grid;
    switch (kind) {
        case schedule_kind::linspace: grid = linspace_grid(family, steps, t_max); break;
        case schedule_kind::linear_lambda:
            grid = linear_lambda_grid(family, steps, lambda_min);
            if (partial) grid.front() = t_max;
            break;
        case schedule_kind::leading: grid = leading_grid(family, steps, t_max, static_cast<Real>(options.offset)); break;
        case schedule_kind::trailing:
            // A partial start divides its own span (the published rule divides the whole table).
            grid = partial ? trailing_grid(family, steps, t_max, t_max - family.t_min()) : trailing_grid(family, steps, t_max);
            break;
        case schedule_kind::karras_n: grid = karras_n_grid(family, steps, t_max, static_cast<Real>(options.rho)); break;
        case schedule_kind::karras_t: grid = karras_t_grid(family, steps, t_max, static_cast<Real>(options.rho)); break;
        case schedule_kind::time_quadratic: grid = time_quadratic_grid(family, steps, t_max); break;
    }
    try {
        validate_grid<Family>(family, grid);
    } catch (const invalid_argument& e) {
        detail::throw_invalid("schedule ", to_string(kind), " with NFE ", steps, " gives an invalid grid: ", e.what());
    }
    return grid;
}

}  // namespace mrsolve
