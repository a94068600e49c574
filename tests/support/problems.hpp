#pragma once
// Test support: the test problems the unit tests share, defined once.
//
// - The published IR-SDE parameters (cosine θ, T = 100, max_sigma = 50, eps = 0.005: what trained IR-SDE /
//   DA-CLIP denoising models and the golden recordings use), the discrete table built from them, the
//   continuous cosine family on [t_min, T], and their long-double reference tables.
// - The per-element Gaussian problem: data x₀,j ~ N(m_j, s_j²) with m_j = 0.8 sin(0.7 j + 0.3),
//   s_j = 0.05 + 0.55 ((7 j) mod 16)/15 (0.05 … 0.6), conditions μ_j = 0.5 cos(1.3 j), and x_T drawn from
//   the exact marginal at T with the counter noise of seed 2024 (step 0).
//
// The unit tests are compiled as a unity build (several test files per translation unit), so everything
// here is inline or a template, and lives in namespace mrsolve_test.

#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

#include "toy_models.hpp"

namespace mrsolve_test {

/// The published IR-SDE parameters: cosine θ, T = 100 table steps, max_sigma = 50 (stationary standard
/// deviation 50/255), eps = 0.005.
inline const mrsolve::irsde_parameters cosine_parameters{mrsolve::theta_schedule::cosine, 100, 50, 0.005};

/// The discrete cosine table of cosine_parameters, built once.
inline const mrsolve::irsde_table<double>& cosine_table() {
    static const mrsolve::irsde_table<double> table(cosine_parameters);
    return table;
}

/// The continuous cosine IR-SDE of cosine_parameters on [t_min, T] (t_min < 0: the family's default, T/1000).
[[nodiscard]] inline mrsolve::ir_sde<double> cosine_continuous(double t_min = -1) {
    return mrsolve::ir_sde<double>(cosine_parameters, t_min);
}

/// The long-double reference tables of cosine_parameters (toy_models.hpp), built once.
inline const reference_tables& cosine_reference_tables() {
    static const reference_tables r = make_reference_tables("cosine", 100, 50, 0.005);
    return r;
}

/// Data means of the Gaussian problem: m_j = 0.8 sin(0.7 j + 0.3).
[[nodiscard]] inline std::vector<double> gaussian_means(std::size_t n) {
    std::vector<double> m(n);
    for (std::size_t j = 0; j < n; ++j) m[j] = 0.8 * std::sin(0.7 * static_cast<double>(j) + 0.3);
    return m;
}

/// Data standard deviations of the Gaussian problem: s_j = 0.05 + 0.55 ((7 j) mod 16)/15.
[[nodiscard]] inline std::vector<double> gaussian_stds(std::size_t n) {
    std::vector<double> s(n);
    for (std::size_t j = 0; j < n; ++j) s[j] = 0.05 + 0.55 * static_cast<double>((j * 7) % 16) / 15.0;
    return s;
}

/// Conditions of the Gaussian problem: μ_j = 0.5 cos(1.3 j).
[[nodiscard]] inline std::vector<double> gaussian_conditions(std::size_t n) {
    std::vector<double> mu(n);
    for (std::size_t j = 0; j < n; ++j) mu[j] = 0.5 * std::cos(1.3 * static_cast<double>(j));
    return mu;
}

/// Per-element Gaussian data on `Family` (see the top of this file), with x_T drawn from the exact marginal
/// at family.t_max(). Neither copied nor moved: the oracle's models point into it.
template <class Family>
class gaussian_problem {
public:
    using state = std::vector<double>;

    explicit gaussian_problem(Family f, std::size_t n = 128)
        : family(std::move(f)), oracle(family, gaussian_means(n), gaussian_stds(n)), mu(gaussian_conditions(n)),
          x_T(n) {
        state z(n);
        mrsolve::counter_noise{2024}.fill(z, 0);
        oracle.marginal_sample(mu, family.t_max(), z, x_T);
    }
    gaussian_problem(const gaussian_problem&) = delete;
    gaussian_problem& operator=(const gaussian_problem&) = delete;

    Family family;
    mrsolve::gaussian_diagonal_oracle<Family> oracle;
    state mu, x_T;

    [[nodiscard]] std::size_t size() const { return mu.size(); }
    /// The exact flow from (x_T, T) to t, into out.
    void exact_flow(double t, state& out) const { oracle.flow(x_T, mu, family.t_max(), t, out); }
    /// @return the exact flow from (x_T, T) to t
    [[nodiscard]] state exact(double t) const {
        state out(size());
        exact_flow(t, out);
        return out;
    }
    /// @return the exact flow from (x_T, T) to the family's t_min
    [[nodiscard]] state flow_end() const { return exact(family.t_min()); }
};

}  // namespace mrsolve_test
