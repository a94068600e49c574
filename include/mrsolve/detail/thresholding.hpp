#pragma once
/// @file thresholding.hpp
/// @brief Dynamic thresholding of a prediction, per batch item (the published option; docs/theory.md §4).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

namespace mrsolve::detail {

/// For each of `items` equal chunks of q: s = the `ratio` quantile of |q| (linear interpolation between
/// order statistics, in double), clamped to [1, max_value] and rounded to T; q ← clamp(q, −s, s)/s.
/// `scratch` must hold one chunk; its element type U may be wider than T (a float chunk in a double
/// scratch gives the same order statistics, hence the same result).
template <class T, class U>
void dynamic_threshold(std::span<T> q, std::size_t items, double ratio, double max_value,
                       std::vector<U>& scratch) noexcept {
    const std::size_t chunk = q.size() / items;
    for (std::size_t item = 0; item < items; ++item) {
        const std::span<T> part = q.subspan(item * chunk, chunk);
        for (std::size_t e = 0; e < chunk; ++e) scratch[e] = static_cast<U>(std::abs(part[e]));
        const double position = ratio * static_cast<double>(chunk - 1);
        const auto lower = static_cast<std::size_t>(std::floor(position));
        const double fraction = position - static_cast<double>(lower);
        std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(lower),
                         scratch.begin() + static_cast<std::ptrdiff_t>(chunk));
        double quantile = static_cast<double>(scratch[lower]);
        if (lower + 1 < chunk && fraction > 0) {
            const U upper = *std::min_element(scratch.begin() + static_cast<std::ptrdiff_t>(lower) + 1,
                                              scratch.begin() + static_cast<std::ptrdiff_t>(chunk));
            quantile += fraction * (static_cast<double>(upper) - quantile);
        }
        const T s = static_cast<T>(std::clamp(quantile, 1.0, max_value));
        for (auto& v : part) v = std::clamp(v, -s, s) / s;
    }
}

}  // namespace mrsolve::detail
