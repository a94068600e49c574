#pragma once
/// @file phi.hpp
/// @brief The φ-functions of exponential integrators, evaluated without cancellation.

#include <cmath>
#include <concepts>

namespace mrsolve::detail {

/// φ_k(z) = Σ_{n≥0} zⁿ/(n+k)!  (φ₀ = eᶻ, φ₁ = (eᶻ−1)/z, φ₂ = (eᶻ−1−z)/z², φ₃ = (eᶻ−1−z−z²/2)/z³).
///
/// The recurrence φ_{k+1} = (φ_k − 1/k!)/z cancels badly for small |z|, so there the series is summed;
/// for |z| ≥ 2 the recurrence from expm1 loses at most a few ulps.
template <std::floating_point Real>
[[nodiscard]] Real phi(int k, Real z) noexcept {
    if (std::abs(z) < Real(2)) {
        // term_n = zⁿ/(n+k)!; start at 1/k!.
        Real term = 1;
        for (int j = 2; j <= k; ++j) term /= Real(j);
        Real sum = term;
        for (int n = 1; n < 64; ++n) {
            term *= z / Real(n + k);
            const Real next = sum + term;
            if (next == sum) break;
            sum = next;
        }
        return sum;
    }
    Real value = std::expm1(z) / z;  // φ₁
    Real inverse_factorial = 1;      // 1/j! for the current j
    for (int j = 1; j < k; ++j) {
        inverse_factorial /= Real(j);
        value = (value - inverse_factorial) / z;
    }
    return k == 0 ? std::exp(z) : value;
}

}  // namespace mrsolve::detail
