#pragma once
// Shared by the CPU backend tests: the state types under test, how to build each one with an image shape
// [B, C, H, W] from doubles and read it back (element e = storage index e, the backends' element order),
// the Gaussian toy problem every backend runs, and the solver configurations (solver × parameterization ×
// order × step mode, plus the loop options that take other code paths).
//
// A test that must see Eigen's allocations defines EIGEN_RUNTIME_NO_MALLOC before including this header.

#include <Eigen/Core>
#include <xtensor/xarray.hpp>
#include <xtensor/xtensor.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <mrsolve/backend/eigen.hpp>
#include <mrsolve/backend/xtensor.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

namespace backend_test {

/// An image batch shape [B, C, H, W].
struct shape4 {
    std::size_t b, c, h, w;
    [[nodiscard]] std::size_t size() const noexcept { return b * c * h * w; }
};

/// How each state type under test is built with a given image shape (contents unspecified).
template <class S>
struct backend_case;

template <>
struct backend_case<std::vector<float>> {
    static constexpr std::string_view name = "std::vector<float>";
    static std::vector<float> make(shape4 s) { return std::vector<float>(s.size()); }
};
template <>
struct backend_case<std::vector<double>> {
    static constexpr std::string_view name = "std::vector<double>";
    static std::vector<double> make(shape4 s) { return std::vector<double>(s.size()); }
};
template <>
struct backend_case<Eigen::VectorXf> {
    static constexpr std::string_view name = "Eigen::VectorXf";
    static Eigen::VectorXf make(shape4 s) { return Eigen::VectorXf(static_cast<Eigen::Index>(s.size())); }
};
template <>
struct backend_case<Eigen::VectorXd> {
    static constexpr std::string_view name = "Eigen::VectorXd";
    static Eigen::VectorXd make(shape4 s) { return Eigen::VectorXd(static_cast<Eigen::Index>(s.size())); }
};
template <>
struct backend_case<Eigen::MatrixXf> {  // (B·C) × (H·W), column-major storage
    static constexpr std::string_view name = "Eigen::MatrixXf";
    static Eigen::MatrixXf make(shape4 s) {
        return Eigen::MatrixXf(static_cast<Eigen::Index>(s.b * s.c), static_cast<Eigen::Index>(s.h * s.w));
    }
};
template <>
struct backend_case<Eigen::ArrayXXd> {  // (B·C·H) × W, column-major storage
    static constexpr std::string_view name = "Eigen::ArrayXXd";
    static Eigen::ArrayXXd make(shape4 s) {
        return Eigen::ArrayXXd(static_cast<Eigen::Index>(s.b * s.c * s.h), static_cast<Eigen::Index>(s.w));
    }
};
template <>
struct backend_case<xt::xtensor<float, 4>> {
    static constexpr std::string_view name = "xt::xtensor<float, 4>";
    static xt::xtensor<float, 4> make(shape4 s) { return xt::xtensor<float, 4>({s.b, s.c, s.h, s.w}); }
};
template <>
struct backend_case<xt::xtensor<double, 4>> {
    static constexpr std::string_view name = "xt::xtensor<double, 4>";
    static xt::xtensor<double, 4> make(shape4 s) { return xt::xtensor<double, 4>({s.b, s.c, s.h, s.w}); }
};
template <>
struct backend_case<xt::xarray<double>> {
    static constexpr std::string_view name = "xt::xarray<double>";
    static xt::xarray<double> make(shape4 s) {
        return xt::xarray<double>(xt::xarray<double>::shape_type{s.b, s.c, s.h, s.w});
    }
};
/// Column-major storage: supported through the flat storage (every state of the type has the same order).
using xtensor_col3 = xt::xtensor<double, 3, xt::layout_type::column_major>;
template <>
struct backend_case<xtensor_col3> {
    static constexpr std::string_view name = "xt::xtensor<double, 3, column_major>";
    static xtensor_col3 make(shape4 s) { return xtensor_col3({s.b * s.c, s.h, s.w}); }
};

// Every state type under test is checked here, at namespace scope, before any test instantiates
// anything. Besides documenting the premise, this works around a GCC 12.2 bug: in a large translation unit,
// the first check of State<Eigen::ArrayXXd> made deep inside a template instantiation selected the
// unconstrained primary backend_traits although the constraint of eigen.hpp's partial specialization
// holds (clang accepts the same code; dropping any unrelated instantiation, or checking here first,
// makes GCC accept it too).
static_assert(mrsolve::HostState<std::vector<float>> && mrsolve::NormalFillable<std::vector<float>>);
static_assert(mrsolve::HostState<std::vector<double>> && mrsolve::NormalFillable<std::vector<double>>);
static_assert(mrsolve::HostState<Eigen::VectorXf> && mrsolve::NormalFillable<Eigen::VectorXf>);
static_assert(mrsolve::HostState<Eigen::VectorXd> && mrsolve::NormalFillable<Eigen::VectorXd>);
static_assert(mrsolve::HostState<Eigen::MatrixXf> && mrsolve::NormalFillable<Eigen::MatrixXf>);
static_assert(mrsolve::HostState<Eigen::ArrayXXd> && mrsolve::NormalFillable<Eigen::ArrayXXd>);
static_assert(mrsolve::HostState<xt::xtensor<float, 4>> && mrsolve::NormalFillable<xt::xtensor<float, 4>>);
static_assert(mrsolve::HostState<xt::xtensor<double, 4>> && mrsolve::NormalFillable<xt::xtensor<double, 4>>);
static_assert(mrsolve::HostState<xt::xarray<double>> && mrsolve::NormalFillable<xt::xarray<double>>);
static_assert(mrsolve::HostState<xtensor_col3> && mrsolve::NormalFillable<xtensor_col3>);

/// The element type of a state.
template <mrsolve::State S>
using value_t = mrsolve::state_value_t<S>;

/// The std::vector of the same element type: the reference every backend must reproduce.
template <mrsolve::State S>
using reference_t = std::vector<value_t<S>>;

/// A state of type S and shape `shape` holding `values` (rounded to the element type) in storage order.
template <mrsolve::HostState S>
S from_doubles(const std::vector<double>& values, shape4 shape) {
    S s = backend_case<S>::make(shape);
    const auto span = mrsolve::backend_traits<S>::host_span(s);
    for (std::size_t e = 0; e < span.size() && e < values.size(); ++e) span[e] = static_cast<value_t<S>>(values[e]);
    return s;
}

/// The elements of a state in storage order, as doubles.
template <mrsolve::HostState S>
std::vector<double> to_doubles(const S& s) {
    const auto span = mrsolve::backend_traits<S>::host_span(s);
    return std::vector<double>(span.begin(), span.end());
}

using table_t = mrsolve::irsde_table<double>;
using oracle_t = mrsolve::gaussian_diagonal_oracle<table_t>;

/// The per-element Gaussian toy problem: exact model outputs (no allocation per call), a start state drawn
/// from the stationary law around μ, a 10-step linspace grid (integer table times, so the published
/// fixed-step modes apply).
struct problem {
    shape4 shape;
    table_t family;
    std::vector<double> mu, x_T, grid;
    oracle_t oracle;

    explicit problem(shape4 s, int steps = 10)
        : shape(s),
          family(),
          mu(condition(s.size())),
          x_T(mu),
          grid(mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, steps)),
          oracle(family, data_mean(s.size()), data_std(s.size())) {
        mrsolve::stationary_start(family, mu, x_T, 17);
    }

    static std::vector<double> condition(std::size_t n) {
        std::vector<double> v(n);
        for (std::size_t e = 0; e < n; ++e) v[e] = 0.5 + 0.25 * std::cos(0.7 * static_cast<double>(e));
        return v;
    }
    static std::vector<double> data_mean(std::size_t n) {
        std::vector<double> v(n);
        for (std::size_t e = 0; e < n; ++e) v[e] = 0.3 * std::sin(1.3 * static_cast<double>(e)) - 0.1;
        return v;
    }
    static std::vector<double> data_std(std::size_t n) {
        std::vector<double> v(n);
        for (std::size_t e = 0; e < n; ++e) v[e] = 0.15 + 0.05 * static_cast<double>(e % 5);
        return v;
    }
};

/// The image shape of the parity and allocation tests: 2·3·4·5 = 120 elements.
inline constexpr shape4 image_shape{2, 3, 4, 5};

/// A larger image for the same-seed SDE test: 2·3·15·17 = 1530 elements, more than one block of the
/// fused normal generation (detail::normal_block_elements) and not a multiple of a block or of a normal
/// group, so a backend that fuses the normals into the step is compared with one that fills them first
/// across block and group boundaries.
inline constexpr shape4 large_image_shape{2, 3, 15, 17};

/// Options with a fit target.
inline mrsolve::sample_options fit(mrsolve::fit_target target) {
    mrsolve::sample_options o;
    o.fit = target;
    return o;
}

/// The published loop with dynamic thresholding per batch item (B = 2 items; storage split in halves).
inline mrsolve::sample_options thresholded(bool denoise_last) {
    mrsolve::sample_options o = mrsolve::sample_options::published(mrsolve::fit_target::noise, denoise_last);
    o.thresholding = mrsolve::dynamic_thresholding{0.995, 1.5, 2};
    return o;
}

/// Calls f(label, method, options) for every solver, parameterization, order and step mode, plus loop
/// options that take other code paths (fit targets, published order policy, denoise_last, thresholding).
template <class F>
void for_each_solver(F&& f) {
    using namespace mrsolve;
    const sample_options plain{};
    for (int order = 1; order <= 3; ++order) {
        const char* data_label[] = {"ode_data_1", "ode_data_2", "ode_data_3"};
        const char* noise_label[] = {"ode_noise_1", "ode_noise_2", "ode_noise_3"};
        f(data_label[order - 1], mr_ode<data_prediction>{order}, plain);
        f(noise_label[order - 1], mr_ode<noise_prediction>{order}, plain);
    }
    f("ode_data_3_published", mr_ode<data_prediction>{3, order3_rule::published}, plain);
    f("ode_noise_3_published", mr_ode<noise_prediction>{3, order3_rule::published}, plain);
    f("ode_data_2 fit=data", mr_ode<data_prediction>{2}, fit(fit_target::data));
    f("ode_noise_2 fit=velocity", mr_ode<noise_prediction>{2}, fit(fit_target::velocity));
    f("ode_data_3_published published loop, denoise_last", mr_ode<data_prediction>{3, order3_rule::published},
      sample_options::published(fit_target::noise, true));
    f("ode_data_2 thresholding, denoise_last", mr_ode<data_prediction>{2}, thresholded(true));
    for (int order = 1; order <= 2; ++order) {
        f(order == 1 ? "sde_data_1" : "sde_data_2", mr_sde<data_prediction>{order}, plain);
        f(order == 1 ? "sde_noise_1" : "sde_noise_2", mr_sde<noise_prediction>{order}, plain);
    }
    f("sde_data_2 fit=data thresholding", mr_sde<data_prediction>{2}, [] {
        sample_options o = thresholded(false);
        o.fit = fit_target::data;
        return o;
    }());
    f("euler_maruyama", euler_maruyama{1, step_mode::variable}, plain);
    f("euler_maruyama_published", euler_maruyama{1, step_mode::published_fixed}, plain);
    f("euler_ode", euler_ode{1, step_mode::variable}, plain);
    f("euler_ode_published", euler_ode{1, step_mode::published_fixed}, plain);
    f("heun_ode", heun_ode{2, step_mode::variable}, plain);
    f("heun_ode_published", heun_ode{2, step_mode::published_fixed}, plain);
    f("posterior_exact", posterior_sampling{1, step_mode::variable}, plain);
    f("posterior_published", posterior_sampling{1, step_mode::published_fixed}, plain);
}

/// The subset of for_each_solver whose methods draw noise.
template <class F>
void for_each_stochastic_solver(F&& f) {
    for_each_solver([&f](std::string_view label, const auto& method, const mrsolve::sample_options& options) {
        if constexpr (std::remove_cvref_t<decltype(method)>::stochastic) f(label, method, options);
    });
}

/// The cross-backend tolerance of the issue: float states within 1e-6, double states within 1e-12.
template <class T>
inline constexpr double tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-12;

/// max |a − b| over every element of every state of two trajectories of the same length, and the number
/// of elements that differ in any bit.
struct deviation {
    double max_abs = 0;
    std::size_t differing = 0;
    std::size_t compared = 0;
};

inline deviation compare(const std::vector<std::vector<double>>& a, const std::vector<std::vector<double>>& b) {
    deviation d;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        for (std::size_t e = 0; e < std::min(a[i].size(), b[i].size()); ++e) {
            ++d.compared;
            if (a[i][e] != b[i][e]) ++d.differing;
            const double diff = std::abs(a[i][e] - b[i][e]);
            d.max_abs = std::isnan(diff) ? diff : std::max(d.max_abs, diff);
        }
    return d;
}

}  // namespace backend_test
