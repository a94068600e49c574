#pragma once
/// @file order_checks.hpp
/// @brief doctest checks shared by the order tests: fit, record and check an observed order; a model
/// wrapper that counts its calls.

#include <doctest/doctest.h>

#include <string>

#include "convergence.hpp"

namespace mrsolve_test {

/// Errors at or below this are round-off for O(1) states in double; finer rungs are left out of fits.
inline constexpr double default_roundoff_floor = 1e-11;

/// Fits, records (MESSAGE) and checks an observed order: at least 3 asymptotic rungs above `floor` with
/// NFE ≥ min_nfe, and lower ≤ order ≤ upper.
inline void check_order(const std::string& name, const ladder& l, int min_nfe, double lower, double upper,
                        double floor = default_roundoff_floor) {
    const auto fit = fit_order(l, floor, min_nfe);
    MESSAGE(describe(name, l, fit));
    INFO(name);
    CHECK(fit.levels >= 3);
    CHECK(fit.order >= lower);
    CHECK(fit.order <= upper);
}

/// A model wrapper that counts its calls (to check a reported NFE).
template <class Model>
struct counting_model {
    Model model;  ///< the wrapped model
    int* calls;   ///< incremented per call
    template <class X, class M, class Out>
    void operator()(const X& x, const M& mu, double t, Out& out) const {
        ++*calls;
        model(x, mu, t, out);
    }
};

}  // namespace mrsolve_test
