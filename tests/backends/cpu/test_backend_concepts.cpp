// The backend concepts are neither too strict nor too loose (compile-time checks, mp-units style), and the
// xtensor backend's primitives do what the protocol (concepts/state.hpp) asks, on every layout it accepts.
#include <doctest/doctest.h>

#include <xtensor/xadapt.hpp>
#include <xtensor/xfixed.hpp>
#include <xtensor/xview.hpp>

#include <array>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "backend_cases.hpp"

namespace {

// ---- archetypes: the least a state type must provide -------------------------------------------------

/// A state type with nothing but the required primitives (no host access, no normals).
struct archetype_state {
    std::vector<double> values;
};

/// The same with one required primitive missing or wrong, one type per defect.
struct missing_all_finite {
    std::vector<double> values;
};
struct integer_elements {
    std::vector<int> values;
};
struct make_like_returns_other_type {
    std::vector<double> values;
};

}  // namespace

namespace mrsolve {

template <>
struct backend_traits<archetype_state> {
    using value_type = double;
    static std::size_t size(const archetype_state& s) { return s.values.size(); }
    static archetype_state make_like(const archetype_state& s) { return {std::vector<double>(s.values.size())}; }
    static bool all_finite(const archetype_state& s) {
        for (const double v : s.values)
            if (!std::isfinite(v)) return false;
        return true;
    }
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<archetype_state*, NOut>& out,
                           const std::array<std::array<double, NIn>, NOut>& c,
                           const std::array<const archetype_state*, NIn>& in) {
        std::array<double*, NOut> o{};
        std::array<const double*, NIn> i{};
        for (std::size_t k = 0; k < NOut; ++k) o[k] = out[k]->values.data();
        for (std::size_t k = 0; k < NIn; ++k) i[k] = in[k]->values.data();
        return detail::linear_map_host<NOut, NIn>(in[0]->values.size(), o, c, i);
    }
};

template <>
struct backend_traits<missing_all_finite> {
    using value_type = double;
    static std::size_t size(const missing_all_finite& s) { return s.values.size(); }
    static missing_all_finite make_like(const missing_all_finite& s) { return s; }
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<missing_all_finite*, NOut>&,
                           const std::array<std::array<double, NIn>, NOut>&,
                           const std::array<const missing_all_finite*, NIn>&) {
        return true;
    }
};

template <>
struct backend_traits<integer_elements> {
    using value_type = int;
    static std::size_t size(const integer_elements& s) { return s.values.size(); }
    static integer_elements make_like(const integer_elements& s) { return s; }
    static bool all_finite(const integer_elements&) { return true; }
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<integer_elements*, NOut>&, const std::array<std::array<int, NIn>, NOut>&,
                           const std::array<const integer_elements*, NIn>&) {
        return true;
    }
};

template <>
struct backend_traits<make_like_returns_other_type> {
    using value_type = double;
    static std::size_t size(const make_like_returns_other_type& s) { return s.values.size(); }
    static std::vector<double> make_like(const make_like_returns_other_type& s) { return s.values; }
    static bool all_finite(const make_like_returns_other_type&) { return true; }
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<make_like_returns_other_type*, NOut>&,
                           const std::array<std::array<double, NIn>, NOut>&,
                           const std::array<const make_like_returns_other_type*, NIn>&) {
        return true;
    }
};

}  // namespace mrsolve

namespace {

using mrsolve::ContiguousContainer;
using mrsolve::FusedNormalState;
using mrsolve::HostState;
using mrsolve::NormalFillable;
using mrsolve::State;
using mrsolve::XtensorContainer;
using mrsolve::XtensorState;
using xt::layout_type;

// Not too strict: the archetype is a state; the optional primitives stay optional.
static_assert(State<archetype_state>);
static_assert(!NormalFillable<archetype_state> && !HostState<archetype_state> && !FusedNormalState<archetype_state>);
// Not too loose: each missing or wrong primitive is caught.
static_assert(!State<missing_all_finite>);
static_assert(!State<integer_elements>);
static_assert(!State<make_like_returns_other_type>);
static_assert(!State<int> && !State<double>);

// std::vector and the generic contiguous backend.
static_assert(ContiguousContainer<std::vector<float>> && ContiguousContainer<std::vector<double>>);
static_assert(State<std::vector<float>> && HostState<std::vector<double>> && NormalFillable<std::vector<float>>);
static_assert(!State<std::vector<int>>);
static_assert(!State<std::span<float>> && !State<std::span<const double>>);  // a view cannot make_like
static_assert(!State<std::array<float, 8>>);                                // not constructible with a size

// Eigen: dense vectors, matrices and arrays of float or double, dynamic or fixed size; never the generic
// contiguous backend (a matrix must keep its shape).
static_assert(!ContiguousContainer<Eigen::VectorXd> && !ContiguousContainer<Eigen::MatrixXf> &&
              !ContiguousContainer<Eigen::ArrayXXd>);
static_assert(State<Eigen::VectorXf> && State<Eigen::VectorXd> && State<Eigen::MatrixXf> && State<Eigen::ArrayXXd>);
static_assert(State<Eigen::Matrix<float, 3, 4>> && State<Eigen::Matrix<double, Eigen::Dynamic, 3, Eigen::RowMajor>>);
static_assert(HostState<Eigen::MatrixXf> && NormalFillable<Eigen::ArrayXXd>);
static_assert(FusedNormalState<Eigen::VectorXf> && FusedNormalState<Eigen::ArrayXXd>);
static_assert(!State<Eigen::VectorXi> && !State<Eigen::VectorXcd>);
static_assert(!State<Eigen::Map<Eigen::VectorXf>>);  // does not own its storage

// xtensor: owning containers of float/double with a static layout, any rank.
static_assert(State<xt::xtensor<float, 4>> && State<xt::xtensor<double, 4>>);
static_assert(State<xt::xtensor<double, 1>> && State<xt::xtensor<float, 0>> && State<xt::xtensor<double, 6>>);
static_assert(State<xt::xarray<double>> && State<xt::xarray<float>>);
static_assert(State<xt::xarray<double, layout_type::column_major>>);
static_assert(State<xt::xtensor<double, 3, layout_type::column_major>>);
static_assert(State<xt::xtensor_fixed<float, xt::xshape<2, 3>>>);
static_assert(HostState<xt::xtensor<float, 4>> && NormalFillable<xt::xtensor<float, 4>> &&
              FusedNormalState<xt::xtensor<float, 4>>);
static_assert(HostState<xt::xarray<double>> && NormalFillable<xt::xarray<double>> &&
              FusedNormalState<xt::xarray<double>>);
static_assert(std::is_same_v<mrsolve::state_value_t<xt::xtensor<float, 4>>, float>);
static_assert(std::is_same_v<mrsolve::state_value_t<xt::xarray<double>>, double>);
// Rejected: a run-time (dynamic) layout, non-floating elements, adaptors and views (they do not own
// their storage, so make_like could not create workspace of the same type).
static_assert(!State<xt::xarray<double, layout_type::dynamic>>);
static_assert(!State<xt::xtensor<float, 2, layout_type::dynamic>>);
static_assert(!State<xt::xarray<int>> && !State<xt::xtensor<std::complex<double>, 1>>);
using vector_adaptor = decltype(xt::adapt(std::declval<std::vector<double>&>(), std::array<std::size_t, 1>{}));
static_assert(!State<vector_adaptor>);
using tensor_view = decltype(xt::view(std::declval<xt::xtensor<double, 2>&>(), 0, xt::all()));
static_assert(!State<tensor_view>);
static_assert(XtensorContainer<xt::xarray<double, layout_type::dynamic>> &&
              !XtensorState<xt::xarray<double, layout_type::dynamic>>);
static_assert(!XtensorContainer<vector_adaptor> && !XtensorContainer<std::vector<double>>);
// The xtensor backend is the one selected, also where the generic contiguous backend's concept may match
// (xt::xarray is constructible from a scalar, so it looks like a resizable contiguous container).
static_assert(std::is_base_of_v<mrsolve::xtensor_backend<xt::xarray<double>>,
                                mrsolve::backend_traits<xt::xarray<double>>>);
static_assert(std::is_base_of_v<mrsolve::xtensor_not_a_state,
                                mrsolve::backend_traits<xt::xarray<double, layout_type::dynamic>>>);
static_assert(std::is_base_of_v<mrsolve::xtensor_backend<xt::xtensor<float, 0>>,
                                mrsolve::backend_traits<xt::xtensor<float, 0>>>);

/// A noise-prediction model ε̂ = 0.3 (x − μ) on the archetype.
struct archetype_model {
    void operator()(const archetype_state& x, const archetype_state& mu, double, archetype_state& out) const {
        for (std::size_t e = 0; e < x.values.size(); ++e) out.values[e] = 0.3 * (x.values[e] - mu.values[e]);
    }
};
struct vector_model {
    void operator()(const std::vector<double>& x, const std::vector<double>& mu, double,
                    std::vector<double>& out) const {
        for (std::size_t e = 0; e < x.size(); ++e) out[e] = 0.3 * (x[e] - mu[e]);
    }
};

}  // namespace

TEST_CASE("the sampler runs on the minimal archetype and agrees with std::vector") {
    const mrsolve::irsde_table<double> family;
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 10);
    const std::vector<double> mu{0.1, -0.4, 0.2, 0.0, 0.7}, x0{0.5, -0.1, 0.3, 0.2, -0.6};
    const std::vector<double> z{0.3, -1.2, 0.8, 0.05, -0.4};
    const auto check = [&](const auto& method) {
        CAPTURE(method.name());
        archetype_state xa{x0};
        std::vector<double> xv = x0;
        // The archetype has no fill_normal: stochastic solvers take injected noise (the same for both).
        auto noise_a = mrsolve::injected_noise([&z](archetype_state& out, int) { out.values = z; });
        auto noise_v = mrsolve::injected_noise([&z](std::vector<double>& out, int) { out = z; });
        mrsolve::sample(method, family, std::span<const double>(grid), archetype_model{}, xa, archetype_state{mu}, {},
                        noise_a);
        mrsolve::sample(method, family, std::span<const double>(grid), vector_model{}, xv, mu, {}, noise_v);
        CHECK(xa.values == xv);
        CHECK(xv != x0);
    };
    check(mrsolve::mr_ode<mrsolve::data_prediction>{3});
    check(mrsolve::mr_sde<mrsolve::noise_prediction>{2});
    check(mrsolve::mr_unipc<mrsolve::data_prediction>{3});
    check(mrsolve::mr_eta<mrsolve::data_prediction>{2, 0.5});
    check(mrsolve::heun_ode{});
    check(mrsolve::posterior_sampling{});
}

TEST_CASE_TEMPLATE("Eigen and xtensor runs report the host kernels; a backend without a name is unnamed", S,
                   Eigen::VectorXf, Eigen::ArrayXXd, xt::xtensor<float, 4>, xt::xarray<double>) {
    const mrsolve::irsde_table<double> family;
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 4);
    const std::vector<double> mu{0.1, -0.4, 0.2, 0.0, 0.7, 0.3}, x0{0.5, -0.1, 0.3, 0.2, -0.6, 0.1};
    const backend_test::shape4 shape{1, 1, 2, 3};
    S x = backend_test::from_doubles<S>(x0, shape);
    const S m = backend_test::from_doubles<S>(mu, shape);
    const auto model = [](const S& xs, const S& ms, double, S& out) {
        const auto xv = mrsolve::backend_traits<S>::host_span(xs);
        const auto mv = mrsolve::backend_traits<S>::host_span(ms);
        const auto ov = mrsolve::backend_traits<S>::host_span(out);
        for (std::size_t e = 0; e < ov.size(); ++e) ov[e] = 0.3f * (xv[e] - mv[e]);
    };
    const auto result = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, family,
                                        std::span<const double>(grid), model, x, m);
    CHECK(result.execution_path == mrsolve::detail::host_kernel_path(mrsolve::detail::active_simd_isa()));
    archetype_state xa{x0};
    const auto archetype = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, family,
                                           std::span<const double>(grid), archetype_model{}, xa, archetype_state{mu});
    CHECK(archetype.execution_path == "unnamed");
}

TEST_CASE("xtensor make_like keeps shape and layout and is zero") {
    using traits4 = mrsolve::backend_traits<xt::xtensor<float, 4>>;
    const xt::xtensor<float, 4> t(std::array<std::size_t, 4>{2, 3, 4, 5}, 1.5f);
    const auto z = traits4::make_like(t);
    CHECK(z.shape() == t.shape());
    CHECK(z.strides() == t.strides());
    CHECK(z == xt::zeros<float>({2, 3, 4, 5}));
    CHECK(traits4::size(z) == 120);

    const xt::xarray<double> a(xt::xarray<double>::shape_type{3, 1, 7}, 2.0);
    const auto za = mrsolve::backend_traits<xt::xarray<double>>::make_like(a);
    CHECK(za.dimension() == 3);
    CHECK(za.shape() == a.shape());
    CHECK(za == xt::zeros<double>({3, 1, 7}));

    using col = xt::xtensor<double, 3, layout_type::column_major>;
    const col c(std::array<std::size_t, 3>{2, 3, 4}, 1.0);
    const col zc = mrsolve::backend_traits<col>::make_like(c);
    CHECK(zc.layout() == layout_type::column_major);
    CHECK(zc.strides() == c.strides());
    CHECK(zc.strides()[0] == 1);

    using fixed = xt::xtensor_fixed<double, xt::xshape<2, 3>>;
    fixed f;
    f.fill(4.0);
    CHECK(mrsolve::backend_traits<fixed>::make_like(f) == xt::zeros<double>({2, 3}));

    const xt::xtensor<double, 0> scalar(7.0);
    CHECK(mrsolve::backend_traits<xt::xtensor<double, 0>>::size(scalar) == 1);
    CHECK(mrsolve::backend_traits<xt::xtensor<double, 0>>::make_like(scalar)() == 0.0);
}

TEST_CASE("xtensor linear_map: fused outputs, aliasing, and the non-finite flag") {
    using S = xt::xtensor<double, 4>;
    using traits = mrsolve::backend_traits<S>;
    S a(std::array<std::size_t, 4>{1, 2, 2, 3}), b = traits::make_like(a), q = traits::make_like(a);
    for (std::size_t e = 0; e < a.size(); ++e) {
        a.data()[e] = static_cast<double>(e);
        b.data()[e] = 1.0 - 0.5 * static_cast<double>(e);
    }
    const S a0 = a;
    // q = 2a − b and a = a + 3b in one pass, the second output overwriting an input.
    CHECK(traits::linear_map<2, 2>({&q, &a}, {{{2.0, -1.0}, {1.0, 3.0}}}, {&a, &b}));
    for (std::size_t e = 0; e < a.size(); ++e) {
        CHECK(q.data()[e] == 2 * a0.data()[e] - b.data()[e]);
        CHECK(a.data()[e] == a0.data()[e] + 3 * b.data()[e]);
    }
    CHECK(q(0, 1, 1, 2) == 2 * a0(0, 1, 1, 2) - b(0, 1, 1, 2));  // indices and storage agree (row-major)
    b.data()[b.size() - 1] = std::numeric_limits<double>::infinity();
    CHECK_FALSE(traits::linear_map<1, 1>({&q}, {{{1.0}}}, {&b}));
    CHECK_FALSE(traits::all_finite(b));
    CHECK(traits::all_finite(a));
    b.data()[b.size() - 1] = std::numeric_limits<double>::quiet_NaN();
    CHECK_FALSE(traits::all_finite(b));
}

TEST_CASE_TEMPLATE("xtensor normals: storage index e gets normal e, fused or filled", S, xt::xtensor<float, 4>,
                   xt::xarray<double>, backend_test::xtensor_col3) {
    using traits = mrsolve::backend_traits<S>;
    using T = mrsolve::state_value_t<S>;
    const S like = backend_test::backend_case<S>::make({2, 3, 4, 5});
    const mrsolve::philox_normal generator(99);
    S z = traits::make_like(like);
    traits::fill_normal(z, generator, 7);
    std::vector<T> reference(z.size());
    generator.fill(std::span<T>(reference), 7);
    CHECK(std::vector<T>(z.data(), z.data() + z.size()) == reference);
    for (std::size_t e : {std::size_t{0}, std::size_t{1}, std::size_t{57}, z.size() - 1})
        CHECK(z.data()[e] == generator.normal<T>(7, e));

    // linear_map_normal is bitwise fill_normal followed by linear_map.
    S x = traits::make_like(like), out_fused = traits::make_like(like), out_filled = traits::make_like(like);
    for (std::size_t e = 0; e < x.size(); ++e) x.data()[e] = static_cast<T>(0.01 * static_cast<double>(e));
    const std::array<std::array<T, 2>, 1> c{{{T(0.9), T(0.25)}}};
    CHECK(traits::template linear_map_normal<1, 2>({&out_fused}, c, {&x}, generator, 7));
    CHECK(traits::template linear_map<1, 2>({&out_filled}, c, {&x, &z}));
    CHECK(out_fused == out_filled);
}

TEST_CASE_TEMPLATE("Eigen normals: storage index e gets normal e, fused or filled", S, Eigen::VectorXf,
                   Eigen::ArrayXXd) {
    using traits = mrsolve::backend_traits<S>;
    using T = mrsolve::state_value_t<S>;
    S like;
    if constexpr (S::ColsAtCompileTime == 1) like.resize(63, 1);
    else like.resize(7, 9);
    const mrsolve::philox_normal generator(99);
    S z = traits::make_like(like);
    traits::fill_normal(z, generator, 7);
    for (Eigen::Index e = 0; e < z.size(); ++e)
        CHECK(z.data()[e] == generator.normal<T>(7, static_cast<std::uint64_t>(e)));
    // linear_map_normal is bitwise fill_normal followed by linear_map.
    S x = traits::make_like(like), out_fused = traits::make_like(like), out_filled = traits::make_like(like);
    for (Eigen::Index e = 0; e < x.size(); ++e) x.data()[e] = static_cast<T>(0.01 * static_cast<double>(e));
    const std::array<std::array<T, 2>, 1> c{{{T(0.9), T(0.25)}}};
    CHECK(traits::template linear_map_normal<1, 2>({&out_fused}, c, {&x}, generator, 7));
    CHECK(traits::template linear_map<1, 2>({&out_filled}, c, {&x, &z}));
    for (Eigen::Index e = 0; e < x.size(); ++e) CHECK(out_fused.data()[e] == out_filled.data()[e]);
}

TEST_CASE("xtensor host_span is the storage, in storage order") {
    using col = xt::xtensor<double, 3, layout_type::column_major>;
    col c(std::array<std::size_t, 3>{2, 3, 4});
    const auto span = mrsolve::backend_traits<col>::host_span(c);
    CHECK(span.data() == c.data());
    CHECK(span.size() == 24);
    span[1] = 5.0;
    CHECK(c(1, 0, 0) == 5.0);  // column-major: the first index is the fastest
    xt::xtensor<float, 4> r(std::array<std::size_t, 4>{2, 3, 4, 5});
    mrsolve::backend_traits<xt::xtensor<float, 4>>::host_span(r)[1] = 3.0f;
    CHECK(r(0, 0, 0, 1) == 3.0f);  // row-major: the last index is the fastest
}

TEST_CASE("the sampler on xtensor: shape kept, inputs validated with the storage index") {
    using S = xt::xtensor<float, 4>;
    const backend_test::problem p({2, 3, 4, 5});
    S x = backend_test::from_doubles<S>(p.x_T, p.shape);
    const S mu = backend_test::from_doubles<S>(p.mu, p.shape);
    const auto model = p.oracle.model(mrsolve::fit_target::noise);
    mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, p.family, std::span<const double>(p.grid), model, x,
                    mu);
    CHECK(x.shape() == S::shape_type{2, 3, 4, 5});

    S bad = backend_test::from_doubles<S>(p.x_T, p.shape);
    bad(0, 0, 1, 2) = std::numeric_limits<float>::quiet_NaN();  // storage index 7
    CHECK_THROWS_WITH_AS(mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, p.family,
                                         std::span<const double>(p.grid), model, bad, mu),
                         doctest::Contains("element 7"), mrsolve::invalid_argument);
    // Only element counts are compared (as for every backend); a different count is named.
    const S small(std::array<std::size_t, 4>{1, 3, 4, 5});
    S x2 = backend_test::from_doubles<S>(p.x_T, p.shape);
    CHECK_THROWS_WITH_AS(mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, p.family,
                                         std::span<const double>(p.grid), model, x2, small),
                         doctest::Contains("has size 60"), mrsolve::invalid_argument);
}
