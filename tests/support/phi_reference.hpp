#pragma once
// The long-double reference of the φ-function tests (test_families, test_robustness, fuzz_phi).

#include <cmath>

namespace mrsolve_test {

/// φ_k(z) = Σ zⁿ/(n+k)! in long double: the Taylor series for |z| < 2 (or when force_series), beyond
/// that the recurrence φ_k = (φ_{k−1} − 1/(k−1)!)/z from φ₁ = expm1(z)/z. φ₀ = exp(z).
inline long double reference_phi(int k, long double z, bool force_series = false) {
    if (k == 0) return std::exp(z);
    if (std::abs(z) < 2 || force_series) {
        long double term = 1;
        for (int j = 2; j <= k; ++j) term /= j;
        long double sum = term;
        for (int n = 1; n < 200; ++n) {
            term *= z / (n + k);
            sum += term;
            if (std::abs(term) < 1e-40L * std::abs(sum)) break;
        }
        return sum;
    }
    long double value = std::expm1(z) / z;
    long double inverse_factorial = 1;
    for (int j = 1; j < k; ++j) {
        inverse_factorial /= j;
        value = (value - inverse_factorial) / z;
    }
    return value;
}

}  // namespace mrsolve_test
