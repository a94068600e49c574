#pragma once
/// @file thresholding.hpp
/// @brief The published dynamic thresholding of the data prediction (docs/theory.md §4): its options and their
/// validation, shared by every sampler that offers it.

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <vector>

#include "concepts/state.hpp"
#include "error.hpp"

namespace mrsolve {

/// @brief The published dynamic thresholding of the data prediction, per batch item.
struct dynamic_thresholding {
    double ratio = 0.995;         ///< quantile of |x̂₀| taken as the scale s
    double max_value = 1.5;       ///< s is clamped to [1, max_value]
    std::size_t batch_items = 1;  ///< the state is this many equal items; each gets its own s
};

namespace detail {

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


/// Checks thresholding options against a state of n elements. @throws invalid_argument naming the value
inline void validate_thresholding_options(const dynamic_thresholding& th, std::size_t n) {
    if (!(th.ratio > 0 && th.ratio <= 1)) throw_invalid("thresholding ratio must lie in (0, 1], got ", th.ratio);
    if (!(th.max_value >= 1 && std::isfinite(th.max_value)))
        throw_invalid("thresholding max_value must be finite and >= 1, got ", th.max_value);
    if (th.batch_items == 0 || n % th.batch_items != 0)
        throw_invalid("thresholding batch_items = ", th.batch_items, " must divide the state size ", n);
}

/// Whether a state type offers dynamic thresholding: host access (detail::dynamic_threshold on its span)
/// or a backend `dynamic_threshold` that works where the state lives (concepts/state.hpp).
template <class S>
inline constexpr bool thresholdable_state = HostState<S> || ThresholdableState<S>;

/// Thresholds q (a converted x̂₀) in place: through the backend's dynamic_threshold when it has one,
/// else on the host span. `scratch` holds one chunk (n / batch_items elements).
template <class S>
void apply_dynamic_threshold(S& q, const dynamic_thresholding& th, std::vector<state_value_t<S>>& scratch) {
    if constexpr (ThresholdableState<S>) {
        backend_traits<S>::dynamic_threshold(q, th.batch_items, th.ratio, th.max_value, scratch);
    } else if constexpr (HostState<S>) {
        dynamic_threshold(backend_traits<S>::host_span(q), th.batch_items, th.ratio, th.max_value, scratch);
    } else {
        (void)q, (void)th, (void)scratch;
    }
}

}  // namespace detail
}  // namespace mrsolve
