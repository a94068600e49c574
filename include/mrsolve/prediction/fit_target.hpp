#pragma once
/// @file fit_target.hpp
/// @brief What a network was trained to output (docs/theory.md §2).

#include <string_view>

#include "../error.hpp"

namespace mrsolve {

/// @brief The quantity a network returns when called as `model(x, mu, t, out)`.
enum class fit_target {
    noise,    ///< ε̂ with x = μ + α (x̂₀ − μ) + σ ε̂
    data,     ///< x̂₀, the clean image
    velocity  ///< v̂ = α σ_∞ ε − (σ/σ_∞)(x̂₀ − μ); needs a family with a stationary standard deviation σ_∞
};

/// @brief The name of a fit target as used in configuration files ("noise", "data", "velocity").
/// @param target the fit target
/// @return its name
[[nodiscard]] constexpr std::string_view to_string(fit_target target) noexcept {
    switch (target) {
        case fit_target::noise: return "noise";
        case fit_target::data: return "data";
        case fit_target::velocity: return "velocity";
    }
    return "unknown";
}

/// @brief Parses a fit target name.
/// @param name "noise", "data" or "velocity"
/// @return the fit target
/// @throws mrsolve::invalid_argument for any other name
[[nodiscard]] inline fit_target parse_fit_target(std::string_view name) {
    if (name == "noise") return fit_target::noise;
    if (name == "data") return fit_target::data;
    if (name == "velocity") return fit_target::velocity;
    detail::throw_invalid("unknown fit target '", name, "' (expected noise, data or velocity)");
}

}  // namespace mrsolve
