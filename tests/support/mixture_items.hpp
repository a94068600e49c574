#pragma once
/// @file mixture_items.hpp
/// @brief The 2-d, 3-component Gaussian mixture used by the singlestep and adaptive tests: 64 independent
/// items (a 128-element state), conditions μ on a circle-like pattern, and x_T = μ + σ_∞ z.

#include <cmath>
#include <cstddef>
#include <vector>

#include <mrsolve/noise/noise_source.hpp>
#include <mrsolve/oracle/gaussian_mixture.hpp>

#include "convergence.hpp"

namespace mrsolve_test {

/// The mixture problem on a family with a stationary standard deviation (never moved: models point into it).
template <class Family>
struct mixture_items {
    static constexpr std::size_t dim = 2;     ///< dimension of one item
    static constexpr std::size_t items = 64;  ///< independent items in the state
    mrsolve::gaussian_mixture_oracle<Family> oracle;
    std::vector<double> mu, x_T;

    explicit mixture_items(const Family& family)
        : oracle(family, {{0.5, {0.6, -0.3}, {0.04, 0.012, 0.012, 0.025}},
                          {0.3, {-0.5, 0.4}, {0.02, -0.008, -0.008, 0.05}},
                          {0.2, {0.1, 0.8}, {0.09, 0.0, 0.0, 0.01}}}),
          mu(dim * items),
          x_T(dim * items) {
        std::vector<double> z(dim * items);
        mrsolve::counter_noise{99}.fill(z, 0);
        for (std::size_t b = 0; b < items; ++b) {
            mu[dim * b] = 0.4 * std::cos(0.9 * static_cast<double>(b));
            mu[dim * b + 1] = 0.4 * std::sin(1.3 * static_cast<double>(b));
        }
        for (std::size_t j = 0; j < x_T.size(); ++j) x_T[j] = mu[j] + family.stationary_std() * z[j];
    }
    mixture_items(const mixture_items&) = delete;
    mixture_items& operator=(const mixture_items&) = delete;

    /// The batched oracle model for a fit target. @param fit what it returns @return the model
    [[nodiscard]] auto model(mrsolve::fit_target fit) const { return batched_model(oracle.model(fit), dim); }
};

}  // namespace mrsolve_test
