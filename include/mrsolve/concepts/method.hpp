#pragma once
/// @file method.hpp
/// @brief What a solver method is to the sampling driver: SolverMethod and its refinements.

#include <concepts>
#include <string>

#include "../prediction/parameterization.hpp"

namespace mrsolve {

/// @brief A solver object: holds its options and order, computes update coefficients.
template <class M>
concept SolverMethod = requires(const M& m) {
    typename M::parameterization;
    requires Parameterization<typename M::parameterization>;
    { M::stochastic } -> std::convertible_to<bool>;
    { M::max_order } -> std::convertible_to<int>;
    { m.order } -> std::convertible_to<int>;
    { m.name() } -> std::convertible_to<std::string>;
    m.validate();
};

/// @brief A two-evaluation method (Heun): it provides stages == 2 and delta(s, t).
template <class M>
concept TwoStageMethod = SolverMethod<M> && requires { requires M::stages == 2; };

/// @brief A predictor–corrector method (mr_unipc): it provides corrects == true, corrects_step(i, M) and
/// correction(family, geometry of step i), applied with the evaluation that step i + 1 makes anyway.
template <class M>
concept CorrectingMethod = SolverMethod<M> && requires { requires M::corrects; };

}  // namespace mrsolve
