#pragma once
/// @file start.hpp
/// @brief The start state of sampling: x_T = μ + σ_∞ z, the stationary law of an IR-SDE, or the forward
/// marginal at an intermediate time (partial restoration).

#include <array>
#include <cstdint>

#include "concepts/state.hpp"
#include "concepts/coefficients.hpp"
#include "noise/noise_source.hpp"

namespace mrsolve {

/// @brief Writes x = μ + σ_∞ z with z the counter-based normals of (seed, step 0): the start state a
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

/// @brief Writes x = μ + α(t)(x_init − μ) + σ(t) z, a draw of the forward process at time t started from
/// x_init, with z the counter-based normals of (seed, step 0). Sampling from t (make_grid with
/// schedule_options::t_start = t) instead of t_max is partial restoration: it keeps what of x_init
/// survives to t (its low frequencies, for example) and costs the NFE of the shorter path only.
/// @tparam Family the coefficient family
/// @tparam S a state whose backend generates normals (fill_normal)
/// @param family the coefficient family
/// @param t the start time, inside the family's range
/// @param x_init the image to start from (for example the degraded image itself, or a first estimate)
/// @param mu the condition
/// @param x output, same size as mu (may be x_init itself)
/// @param seed the noise seed
/// @throws mrsolve::invalid_argument if the sizes differ or t is outside [t_min, t_max]
template <CoefficientFamily Family, NormalFillable S>
void start_at_time(const Family& family, typename Family::real_type t, const S& x_init, const S& mu, S& x,
                   std::uint64_t seed) {
    using T = state_value_t<S>;
    const auto n = backend_traits<S>::size(mu);
    if (backend_traits<S>::size(x_init) != n || backend_traits<S>::size(x) != n)
        detail::throw_invalid("start_at_time: x_init has size ", backend_traits<S>::size(x_init), " and x has size ",
                              backend_traits<S>::size(x), " but mu has size ", n);
    if (!(t >= family.t_min() && t <= family.t_max()))
        detail::throw_invalid("start_at_time: t = ", t, " lies outside [", family.t_min(), ", ", family.t_max(), "]");
    const auto alpha = family.alpha(t), sigma = family.sigma(t);
    if (&x == &x_init) {
        // In place (x is x_init): the normals need a temporary of their own.
        const std::array<std::array<T, 2>, 1> scale{{{static_cast<T>(alpha), static_cast<T>(1 - alpha)}}};
        backend_traits<S>::template linear_map<1, 2>(std::array<S*, 1>{&x}, scale, std::array<const S*, 2>{&x, &mu});
        S z = backend_traits<S>::make_like(x);
        counter_noise(seed).fill(z, 0);
        const std::array<std::array<T, 2>, 1> add{{{T(1), static_cast<T>(sigma)}}};
        backend_traits<S>::template linear_map<1, 2>(std::array<S*, 1>{&x}, add, std::array<const S*, 2>{&x, &z});
        return;
    }
    counter_noise(seed).fill(x, 0);
    const std::array<std::array<T, 3>, 1> coef{{{static_cast<T>(alpha), static_cast<T>(1 - alpha), static_cast<T>(sigma)}}};
    backend_traits<S>::template linear_map<1, 3>(std::array<S*, 1>{&x}, coef, std::array<const S*, 3>{&x_init, &mu, &x});
}

}  // namespace mrsolve
