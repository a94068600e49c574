#pragma once
/// @file symmetric_eigen.hpp
/// @brief A small, dependency-free cyclic Jacobi eigen-decomposition of real symmetric matrices.
///
/// Used once at construction by the Gaussian oracles (covariances of order up to a few hundred), where
/// accuracy matters more than speed: Jacobi rotations give eigenvalues with a backward error of a few
/// machine epsilons times ‖A‖ and eigenvectors orthogonal to working precision.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>
#include <span>
#include <utility>
#include <vector>

#include "../error.hpp"

namespace mrsolve::detail {

/// @brief The eigen-decomposition A = V diag(values) Vᵀ of a real symmetric matrix of order `size`.
struct symmetric_eigen_result {
    std::size_t size = 0;         ///< n, the order of the matrix
    std::vector<double> values;   ///< the n eigenvalues in ascending order
    std::vector<double> vectors;  ///< V, row-major n×n and orthogonal; column k (entries V[i·n + k]) is the
                                  ///< unit eigenvector of values[k], its largest-magnitude entry made positive
    int sweeps = 0;               ///< the number of Jacobi sweeps that performed rotations
    bool converged = false;       ///< whether the off-diagonal part vanished within the allowed sweeps
};

/// @brief Eigen-decomposes a real symmetric matrix by the cyclic Jacobi method with thresholds.
///
/// Each sweep visits every off-diagonal pair (p, q) once and applies the plane rotation that annihilates
/// it (t = sgn θ / (|θ| + √(θ² + 1)), θ = (a_qq − a_pp)/(2 a_pq)), updating the diagonal through
/// accumulated corrections to limit round-off. The first three sweeps skip entries below a fraction of
/// the mean off-diagonal size; after the fourth, entries negligible beside both diagonal entries are set
/// to zero. Convergence is quadratic: typically 6–10 sweeps. The input is symmetrised as (A + Aᵀ)/2.
/// @param matrix the matrix, row-major, n·n entries (only its symmetric part is used)
/// @param n the order of the matrix
/// @param max_sweeps the most sweeps to perform (the result says whether they sufficed)
/// @pre n ≥ 1, matrix.size() = n·n, every entry finite, max_sweeps ≥ 1
/// @return the eigenvalues (ascending) and orthonormal eigenvectors
/// @throws mrsolve::invalid_argument if a precondition fails; the message names the offending value
[[nodiscard]] inline symmetric_eigen_result symmetric_eigen(std::span<const double> matrix, std::size_t n,
                                                            int max_sweeps = 64) {
    if (n == 0) throw_invalid("symmetric_eigen: the matrix order must be positive, got 0");
    if (matrix.size() != n * n)
        throw_invalid("symmetric_eigen: a ", n, "x", n, " matrix needs ", n * n, " entries, got ", matrix.size());
    if (max_sweeps < 1) throw_invalid("symmetric_eigen: max_sweeps must be at least 1, got ", max_sweeps);
    for (std::size_t e = 0; e < n * n; ++e) {
        if (!std::isfinite(matrix[e]))
            throw_invalid("symmetric_eigen: entry (", e / n, ", ", e % n, ") is ", matrix[e], ", not finite");
    }

    // a: the working copy; only its off-diagonal entries are used (the diagonal lives in d).
    std::vector<double> a(n * n);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) a[i * n + j] = 0.5 * matrix[i * n + j] + 0.5 * matrix[j * n + i];
    std::vector<double> v(n * n, 0.0);
    for (std::size_t i = 0; i < n; ++i) v[i * n + i] = 1.0;

    // d: the current diagonal; b: the diagonal at the start of the sweep; z: this sweep's corrections.
    std::vector<double> d(n), b(n), z(n, 0.0);
    for (std::size_t i = 0; i < n; ++i) d[i] = b[i] = a[i * n + i];

    symmetric_eigen_result result;
    result.size = n;
    for (int sweep = 1; sweep <= max_sweeps; ++sweep) {
        double off = 0.0;
        for (std::size_t p = 0; p + 1 < n; ++p)
            for (std::size_t q = p + 1; q < n; ++q) off += std::abs(a[p * n + q]);
        if (off == 0.0) {
            result.converged = true;
            break;
        }
        result.sweeps = sweep;
        const double threshold = sweep < 4 ? 0.2 * off / static_cast<double>(n * n) : 0.0;
        for (std::size_t p = 0; p + 1 < n; ++p) {
            for (std::size_t q = p + 1; q < n; ++q) {
                const double apq = a[p * n + q];
                const double g = 100.0 * std::abs(apq);
                if (sweep > 4 && std::abs(d[p]) + g == std::abs(d[p]) && std::abs(d[q]) + g == std::abs(d[q])) {
                    a[p * n + q] = a[q * n + p] = 0.0;
                    continue;
                }
                if (std::abs(apq) <= threshold) continue;
                const double gap = d[q] - d[p];
                double t = 0.0;
                if (std::abs(gap) + g == std::abs(gap)) {
                    t = apq / gap;  // θ so large that θ² could overflow: t ≈ 1/(2θ)
                } else {
                    const double theta = 0.5 * gap / apq;
                    t = 1.0 / (std::abs(theta) + std::sqrt(1.0 + theta * theta));
                    if (theta < 0.0) t = -t;
                }
                const double c = 1.0 / std::sqrt(1.0 + t * t);
                const double s = t * c;
                const double tau = s / (1.0 + c);
                const double shift = t * apq;
                z[p] -= shift;
                z[q] += shift;
                d[p] -= shift;
                d[q] += shift;
                a[p * n + q] = a[q * n + p] = 0.0;
                for (std::size_t r = 0; r < n; ++r) {
                    if (r == p || r == q) continue;
                    const double arp = a[r * n + p];
                    const double arq = a[r * n + q];
                    a[r * n + p] = a[p * n + r] = arp - s * (arq + arp * tau);
                    a[r * n + q] = a[q * n + r] = arq + s * (arp - arq * tau);
                }
                for (std::size_t r = 0; r < n; ++r) {
                    const double vrp = v[r * n + p];
                    const double vrq = v[r * n + q];
                    v[r * n + p] = vrp - s * (vrq + vrp * tau);
                    v[r * n + q] = vrq + s * (vrp - vrq * tau);
                }
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            b[i] += z[i];
            d[i] = b[i];
            z[i] = 0.0;
        }
    }
    if (!result.converged) {
        double off = 0.0;
        for (std::size_t p = 0; p + 1 < n; ++p)
            for (std::size_t q = p + 1; q < n; ++q) off += std::abs(a[p * n + q]);
        result.converged = off == 0.0;
    }

    // Ascending order; each eigenvector's largest-magnitude entry positive (a deterministic sign).
    std::vector<std::size_t> order(n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&d](std::size_t i, std::size_t j) { return d[i] < d[j]; });
    std::vector<double> values(n);
    std::vector<double> vectors(n * n);
    for (std::size_t k = 0; k < n; ++k) {
        const std::size_t from = order[k];
        values[k] = d[from];
        std::size_t largest = 0;
        for (std::size_t i = 1; i < n; ++i)
            if (std::abs(v[i * n + from]) > std::abs(v[largest * n + from])) largest = i;
        const double sign = v[largest * n + from] < 0.0 ? -1.0 : 1.0;
        for (std::size_t i = 0; i < n; ++i) vectors[i * n + k] = sign * v[i * n + from];
    }
    result.values = std::move(values);
    result.vectors = std::move(vectors);
    return result;
}

}  // namespace mrsolve::detail
