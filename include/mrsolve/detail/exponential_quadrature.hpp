#pragma once
/// @file exponential_quadrature.hpp
/// @brief Weights of the exact exponential-kernel integral of the polynomial through K model outputs.

#include <array>
#include <cmath>
#include <cstddef>
#include <utility>

#include "phi.hpp"

namespace mrsolve::detail {

/// Weights w_j with ∫₀ʰ e^{−κ(h−u)} P(u) du = Σ_j w_j q_j, where P is the polynomial of degree K − 1 through
/// (r_j h, q_j), j < K. Every MR solver step is such an integral (docs/theory.md §3): κ = 1 for the data ODE,
/// κ = 1 + η for the η-SDE, κ = −1 for the noise ODE; r = 0 is the step's start, r = 1 its end, r < 0 the
/// history. With P(u) = Σ_n c_n (u/h)ⁿ/n! the integral is Σ_n c_n h φ_{n+1}(−κh), so w solves Vᵀ w = b with
/// V_{jn} = r_jⁿ/n! and b_n = h φ_{n+1}(−κh): a K×K system (K ≤ 4), solved with partial pivoting. Nodes
/// must be distinct; in h units they stay O(1), so V is well conditioned and the weights inherit the
/// cancellation-free φ evaluation.
template <class Real, std::size_t N>
[[nodiscard]] std::array<Real, N> exponential_quadrature(Real h, Real kappa, const std::array<Real, N>& r, int count) {
    const auto k = static_cast<std::size_t>(count);
    std::array<std::array<Real, N + 1>, N> a{};  // augmented Vᵀ | b
    for (std::size_t n = 0; n < k; ++n) {
        Real inverse_factorial = 1;
        for (std::size_t j = 2; j <= n; ++j) inverse_factorial /= static_cast<Real>(j);
        for (std::size_t j = 0; j < k; ++j) a[n][j] = std::pow(r[j], static_cast<Real>(n)) * inverse_factorial;
        a[n][k] = h * phi(static_cast<int>(n) + 1, -kappa * h);
    }
    for (std::size_t col = 0; col < k; ++col) {
        std::size_t pivot = col;
        for (std::size_t row = col + 1; row < k; ++row)
            if (std::abs(a[row][col]) > std::abs(a[pivot][col])) pivot = row;
        std::swap(a[col], a[pivot]);
        for (std::size_t row = col + 1; row < k; ++row) {
            const Real factor = a[row][col] / a[col][col];
            for (std::size_t j = col; j <= k; ++j) a[row][j] -= factor * a[col][j];
        }
    }
    std::array<Real, N> w{};
    for (std::size_t row = k; row-- > 0;) {
        Real sum = a[row][k];
        for (std::size_t j = row + 1; j < k; ++j) sum -= a[row][j] * w[j];
        w[row] = sum / a[row][row];
    }
    return w;
}

}  // namespace mrsolve::detail
