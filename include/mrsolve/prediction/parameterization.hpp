#pragma once
/// @file parameterization.hpp
/// @brief The quantity a solver integrates: noise prediction or data prediction (template policies).

#include <concepts>
#include <string_view>

#include "fit_target.hpp"

namespace mrsolve {

/// @brief Noise prediction: the solver integrates ε̂ (history holds noise estimates).
struct noise_prediction {
    /// @brief The fit target this parameterization integrates.
    static constexpr fit_target integrated = fit_target::noise;
    /// @brief Short name used in solver names ("noise").
    static constexpr std::string_view name = "noise";
};

/// @brief Data prediction: the solver integrates x̂₀ (more stable at low NFE on real networks).
struct data_prediction {
    /// @brief The fit target this parameterization integrates.
    static constexpr fit_target integrated = fit_target::data;
    /// @brief Short name used in solver names ("data").
    static constexpr std::string_view name = "data";
};

/// @brief One of the two parameterization policies.
/// @tparam P noise_prediction or data_prediction (no other type satisfies it)
template <class P>
concept Parameterization = std::same_as<P, noise_prediction> || std::same_as<P, data_prediction>;

}  // namespace mrsolve
