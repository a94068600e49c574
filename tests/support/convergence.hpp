#pragma once
/// @file convergence.hpp
/// @brief Helpers for convergence-order tests (docs/theory.md §9): NFE ladders, least-squares order fits
/// above a round-off floor, error norms, and a wrapper that applies an n-dimensional oracle model to a
/// state made of many independent items ("many start points" in one sampler run).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <iomanip>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mrsolve_test {

/// One rung of an NFE ladder: the model evaluations spent and the error reached.
struct ladder_point {
    int nfe;       ///< model evaluations (or any resolution measure)
    double error;  ///< the measured error at that resolution
};

/// An NFE ladder: errors at increasing resolution.
using ladder = std::vector<ladder_point>;

/// first, 2·first, 4·first, … up to last (inclusive).
[[nodiscard]] inline std::vector<int> doubling(int first, int last) {
    std::vector<int> out;
    for (int n = first; n <= last; n *= 2) out.push_back(n);
    return out;
}

/// Evaluates error_at(nfe) at every rung.
template <class ErrorAt>
[[nodiscard]] ladder measure_ladder(const std::vector<int>& nfes, ErrorAt&& error_at) {
    ladder out;
    out.reserve(nfes.size());
    for (const int n : nfes) out.push_back({n, static_cast<double>(error_at(n))});
    return out;
}

/// The least-squares fit of log(error) against log(NFE) over the rungs that take part.
struct order_fit {
    double order = 0;        ///< −slope: the observed convergence order
    std::size_t levels = 0;  ///< rungs used in the fit
    int first_nfe = 0;       ///< smallest NFE used
    int last_nfe = 0;        ///< largest NFE used
};

/// Fits the observed order over the asymptotic rungs: those with NFE ≥ min_nfe whose error lies above
/// the round-off floor (once a rung is at or below the floor, every finer rung is excluded too).
[[nodiscard]] inline order_fit fit_order(const ladder& l, double floor, int min_nfe = 0) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& p : l) {
        if (p.nfe < min_nfe) continue;
        if (!(p.error > floor)) break;
        pts.emplace_back(std::log(static_cast<double>(p.nfe)), std::log(p.error));
    }
    order_fit fit;
    fit.levels = pts.size();
    if (pts.size() < 2) return fit;
    double mx = 0, my = 0;
    for (const auto& [x, y] : pts) {
        mx += x;
        my += y;
    }
    mx /= static_cast<double>(pts.size());
    my /= static_cast<double>(pts.size());
    double sxy = 0, sxx = 0;
    for (const auto& [x, y] : pts) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
    }
    fit.order = -sxy / sxx;
    fit.first_nfe = static_cast<int>(std::lround(std::exp(pts.front().first)));
    fit.last_nfe = static_cast<int>(std::lround(std::exp(pts.back().first)));
    return fit;
}

/// A one-line record of a ladder (NFE:error pairs), for the test log.
[[nodiscard]] inline std::string describe(std::string_view name, const ladder& l) {
    std::ostringstream os;
    os << std::setprecision(3) << name << ": errors";
    for (const auto& p : l) os << ' ' << p.nfe << ':' << p.error;
    return os.str();
}

/// A one-line record of a ladder and its fit, for the test log.
[[nodiscard]] inline std::string describe(std::string_view name, const ladder& l, const order_fit& fit) {
    std::ostringstream os;
    os << std::setprecision(3) << name << ": order " << std::fixed << fit.order << std::defaultfloat << " (NFE "
       << fit.first_nfe << ".." << fit.last_nfe << ", " << fit.levels << " levels); errors";
    for (const auto& p : l) os << ' ' << p.nfe << ':' << p.error;
    return os.str();
}

/// max_i |a_i − b_i| (computed in double).
template <class A, class B>
[[nodiscard]] double max_abs_diff(const A& a, const B& b) {
    double m = 0;
    for (std::size_t i = 0; i < std::size(a); ++i)
        m = std::max(m, std::abs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    return m;
}

/// max_i |a_i| (computed in double).
template <class A>
[[nodiscard]] double max_abs(const A& a) {
    double m = 0;
    for (std::size_t i = 0; i < std::size(a); ++i) m = std::max(m, std::abs(static_cast<double>(a[i])));
    return m;
}

/// Applies a model of an n-dimensional problem to a state of B·n elements made of B independent items
/// (item b is elements b·n … b·n + n − 1 of x, μ and the output): a batch of start points in one run.
/// @tparam Model a callable model(x, mu, t, out) on n-element spans
template <class Model>
class batched_model {
public:
    batched_model(Model model, std::size_t item_size) : model_(std::move(model)), item_(item_size) {}

    template <class X, class M, class Out>
    void operator()(const X& x, const M& mu, double t, Out& out) const {
        const std::size_t items = std::size(x) / item_;
        for (std::size_t b = 0; b < items; ++b) {
            const std::span xs(std::data(x) + b * item_, item_);
            const std::span ms(std::data(mu) + b * item_, item_);
            const std::span os(std::data(out) + b * item_, item_);
            model_(xs, ms, t, os);
        }
    }

private:
    Model model_;
    std::size_t item_;
};

}  // namespace mrsolve_test
