#pragma once
/// @file start.hpp
/// @brief The start state of sampling: x_T = μ + λ_s z, the stationary law of an IR-SDE.

#include <array>
#include <cstdint>

#include "backend/traits.hpp"
#include "concepts/coefficients.hpp"
#include "noise/noise_source.hpp"

namespace mrsolve {

/// @brief Writes x = μ + λ_s z with z the counter-based normals of (seed, step 0): the start state a
/// sampler of an IR-SDE uses (its law as t → ∞; at t = T it differs from the marginal by O(α(T))).
/// @tparam Family a family with a stationary standard deviation
/// @tparam S a state whose backend generates normals (fill_normal)
/// @param family the coefficient family
/// @param mu the condition (degraded image)
/// @param x output, same size as mu
/// @param seed the noise seed
/// @throws mrsolve::invalid_argument if x and mu differ in size
template <StationaryFamily Family, NormalFillable S>
void stationary_start(const Family& family, const S& mu, S& x, std::uint64_t seed) {
    using T = state_value_t<S>;
    if (backend_traits<S>::size(x) != backend_traits<S>::size(mu))
        detail::throw_invalid("stationary_start: x has size ", backend_traits<S>::size(x), " but mu has size ",
                              backend_traits<S>::size(mu));
    counter_noise(seed).fill(x, 0);
    const std::array<std::array<T, 2>, 1> coef{{{T(1), static_cast<T>(family.stationary_std())}}};
    backend_traits<S>::template linear_map<1, 2>(std::array<S*, 1>{&x}, coef, std::array<const S*, 2>{&mu, &x});
}

}  // namespace mrsolve
