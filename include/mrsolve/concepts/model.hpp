#pragma once
/// @file model.hpp
/// @brief What a network is to the samplers: the ScoreFn concept.

namespace mrsolve {

/// @brief A network: called as model(x, μ, t, out), writing its output into the caller-owned out.
template <class M, class S, class Real>
concept ScoreFn = requires(M& model, const S& x, const S& mu, Real t, S& out) { model(x, mu, t, out); };

}  // namespace mrsolve
