#pragma once
/// @file clipping.hpp
/// @brief λ_min clipping: where a schedule starts when the noisiest times are cut off.

#include <cmath>
#include <cstddef>

#include "../concepts/coefficients.hpp"
#include "../error.hpp"

namespace mrsolve {

/// @brief The start time t_max of a schedule after λ-clipping.
///
/// Without clipping (λ_min = −∞) it is family.t_max(). For the discrete tables it is
/// T − (number of table λ values below λ_min), as published; for continuous families, the time where
/// λ(t) = λ_min when λ(t_max) < λ_min.
/// @tparam Family the coefficient family (DiscreteTableFamily selects the published table rule)
/// @param family the coefficient family
/// @param lambda_min the lowest λ a schedule may visit (−∞: no clipping)
/// @return the clipped start time
/// @throws mrsolve::invalid_argument if λ_min is NaN or +∞, or clips away the whole range
template <CoefficientFamily Family>
[[nodiscard]] typename Family::real_type clipped_t_max(const Family& family, typename Family::real_type lambda_min) {
    using Real = typename Family::real_type;
    if (std::isnan(lambda_min) || lambda_min == std::numeric_limits<Real>::infinity())
        detail::throw_invalid("lambda_min must be a number or -inf, got ", lambda_min);
    if (!(lambda_min > family.lambda(family.t_max()))) return family.t_max();
    if (!(lambda_min < family.lambda(family.t_min())))
        detail::throw_invalid("lambda_min = ", lambda_min, " is at or above lambda(t_min) = ", family.lambda(family.t_min()),
                              ": nothing is left to sample");
    if constexpr (DiscreteTableFamily<Family>) {
        std::size_t below = 0;
        for (const Real l : family.lambda_table()) below += l < lambda_min ? 1 : 0;
        return family.t_max() - static_cast<Real>(below);
    } else {
        return family.t_of_lambda(lambda_min);
    }
}

}  // namespace mrsolve
