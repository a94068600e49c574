// The Thrust backend (thrust::device_vector<float|double>) on the device system this translation unit is
// compiled for: THRUST_DEVICE_SYSTEM_CPP and _OMP with g++, CUDA with nvcc (test_thrust_backend_cuda.cu
// includes this file). The primitives against host computations (every functor granularity, NaN/Inf flags,
// aliasing, the counter-based normals element by element, the fused stochastic step bit for bit against
// fill + map); every solver against the std::vector result with the same seed, the model running on the
// device system too; the golden recordings; error reporting; thresholding rejected; no allocation after
// set-up; OpenMP results independent of the thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include <thrust/copy.h>
#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/host_vector.h>
#include <thrust/iterator/counting_iterator.h>

#include <mrsolve/backend/thrust.hpp>
#include <mrsolve/golden/golden_file.hpp>
#include <mrsolve/mrsolve.hpp>

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
#include <omp.h>
#endif

namespace {

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
constexpr const char* device_system = "cuda";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
constexpr const char* device_system = "omp";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_TBB
constexpr const char* device_system = "tbb";
#else
constexpr const char* device_system = "cpp";
#endif

/// On the GPU the normals' kernels (and the toy network's double arithmetic, which nvcc contracts into FMAs)
/// may round differently from the host by a few ulp; the CPU device systems run the host's code.
constexpr bool device_math_is_host_math = !mrsolve::detail::thrust_device_is_cuda;

template <class T>
using dvec = thrust::device_vector<T>;
using grid_t = std::vector<double>;
using table_t = mrsolve::irsde_table<double>;
using mrsolve::data_prediction;
using mrsolve::fit_target;
using mrsolve::noise_prediction;
using mrsolve::sample_options;
using mrsolve::schedule_kind;
using mrsolve::step_mode;

const table_t& table() {
    static const table_t t(mrsolve::irsde_parameters{mrsolve::theta_schedule::cosine, 100, 50, 0.005});
    return t;
}

/// The tolerance of the issue: a backend reproduces the std::vector result within 1e-6 (float) or 1e-12
/// (double), relative to max(1, |value|).
template <class T>
constexpr double backend_tolerance = std::is_same_v<T, float> ? 1e-6 : 1e-12;

double max_scaled_dev(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0;
    for (std::size_t e = 0; e < a.size(); ++e) {
        const double dev = std::abs(a[e] - b[e]) / std::max(1.0, std::abs(b[e]));
        worst = std::isnan(dev) ? std::numeric_limits<double>::infinity() : std::max(worst, dev);
    }
    return worst;
}

template <class T, class A>
std::vector<double> to_doubles(const thrust::device_vector<T, A>& v) {
    const thrust::host_vector<T> h = v;
    return std::vector<double>(h.begin(), h.end());
}
template <class S>
std::vector<double> to_doubles(const S& v) {
    return std::vector<double>(std::begin(v), std::end(v));
}

template <class S>
S make_state(const std::vector<double>& v) {
    using T = mrsolve::state_value_t<S>;
    const std::vector<T> cast(v.begin(), v.end());
    if constexpr (std::is_same_v<S, std::vector<T>>) {
        return cast;
    } else {
        S s(cast.size());
        thrust::copy(cast.begin(), cast.end(), s.begin());
        return s;
    }
}

// ---- the toy network, on the host and on the device system ------------------------------------------

/// α(t), σ(t), σ_∞ and what the network returns, computed on the host and passed to the device by value.
struct toy_coefficients {
    double alpha;
    double sigma;
    double lambda_s;
    fit_target fit;
    bool round_to_float;  // the golden recordings' network returned float32
};

/// The exact prediction of the per-element Gaussian problem x₀[e] ~ N(m, sd²) (docs/theory.md §9):
/// ε* = σ (x − mean_t)/C, x̂₀* = m + α sd² (x − mean_t)/C, mean_t = μ + α (m − μ), C = α² sd² + σ²;
/// v* = α σ_∞ ε* − (σ/σ_∞)(x̂₀* − μ). The same expression on the host and on the device.
MRSOLVE_HOST_DEVICE inline double toy_prediction(const toy_coefficients& c, double x, double mu, double m, double sd) {
    const double mean_t = mu + c.alpha * (m - mu);
    const double var = c.alpha * c.alpha * sd * sd + c.sigma * c.sigma;
    const double dev = x - mean_t;
    const double eps = c.sigma * dev / var;
    const double x0 = m + c.alpha * sd * sd * dev / var;
    double v = eps;
    if (c.fit == fit_target::data) v = x0;
    if (c.fit == fit_target::velocity) v = c.alpha * c.lambda_s * eps - (c.sigma / c.lambda_s) * (x0 - mu);
    if (c.round_to_float) v = static_cast<double>(static_cast<float>(v));
    return v;
}

/// The device functor of the toy network: one element per call, raw device pointers.
template <class T>
struct toy_kernel {
    const T* x;
    const T* mu;
    T* out;
    const double* mean;
    const double* sd;
    toy_coefficients c;
    MRSOLVE_HOST_DEVICE void operator()(std::uint64_t e) const {
        out[e] = static_cast<T>(toy_prediction(c, static_cast<double>(x[e]), static_cast<double>(mu[e]), mean[e], sd[e]));
    }
};

/// The per-element Gaussian problem: data mean and standard deviation per element, kept on the host and on
/// the device system.
struct toy_problem {
    std::vector<double> mean, sd;
    dvec<double> device_mean, device_sd;
    fit_target fit = fit_target::noise;
    bool round_to_float = false;

    toy_problem(std::vector<double> m, std::vector<double> s, fit_target f, bool round = false)
        : mean(std::move(m)), sd(std::move(s)), device_mean(mean.begin(), mean.end()),
          device_sd(sd.begin(), sd.end()), fit(f), round_to_float(round) {}

    toy_coefficients at(double t) const {
        return {table().alpha(t), table().sigma(t), table().stationary_std(), fit, round_to_float};
    }
};

/// The network as mrsolve calls it: model(x, μ, t, out). Host containers run a host loop; device vectors
/// run one thrust::for_each_n on the device system with the same expression.
struct toy_model {
    const toy_problem* problem;

    template <class T, class A, class Real>
    void operator()(const thrust::device_vector<T, A>& x, const thrust::device_vector<T, A>& mu, Real t,
                    thrust::device_vector<T, A>& out) const {
        const toy_kernel<T> kernel{thrust::raw_pointer_cast(x.data()),
                                   thrust::raw_pointer_cast(mu.data()),
                                   thrust::raw_pointer_cast(out.data()),
                                   thrust::raw_pointer_cast(problem->device_mean.data()),
                                   thrust::raw_pointer_cast(problem->device_sd.data()),
                                   problem->at(static_cast<double>(t))};
        thrust::for_each_n(thrust::device, thrust::counting_iterator<std::uint64_t>(0), x.size(), kernel);
    }

    template <class S, class Real>
        requires std::is_pointer_v<decltype(std::data(std::declval<S&>()))>
    void operator()(const S& x, const S& mu, Real t, S& out) const {
        const toy_coefficients c = problem->at(static_cast<double>(t));
        using T = std::remove_pointer_t<decltype(std::data(out))>;
        for (std::size_t e = 0; e < std::size(x); ++e)
            std::data(out)[e] = static_cast<T>(toy_prediction(c, static_cast<double>(std::data(x)[e]),
                                                              static_cast<double>(std::data(mu)[e]), problem->mean[e],
                                                              problem->sd[e]));
    }
};

/// A state size with several CPU blocks (thrust_cpu_block = 2048), a partial last block and a partial last
/// normal group for float (4) and double (2).
constexpr std::size_t state_size = 3 * mrsolve::detail::thrust_cpu_block + 5;

struct start_point {
    std::vector<double> x, mu;
};

start_point make_start(std::size_t n) {
    start_point s;
    const double ls = table().stationary_std();
    for (std::size_t e = 0; e < n; ++e) {
        const double k = static_cast<double>(e);
        s.mu.push_back(0.5 * std::sin(0.37 * k));
        s.x.push_back(s.mu.back() + ls * 1.3 * std::cos(1.1 * k + 0.3));
    }
    return s;
}

toy_problem make_toy(std::size_t n, fit_target fit) {
    std::vector<double> mean, sd;
    for (std::size_t e = 0; e < n; ++e) {
        const double k = static_cast<double>(e);
        mean.push_back(0.3 * std::sin(0.91 * k + 1));
        sd.push_back(0.1 + 0.15 * (1 + std::sin(0.13 * k)));
    }
    return toy_problem(std::move(mean), std::move(sd), fit);
}

// ---- primitives -----------------------------------------------------------------------------------

template <class T>
T* raw(dvec<T>& v) {
    return thrust::raw_pointer_cast(v.data());
}
template <class T>
const T* raw(const dvec<T>& v) {
    return thrust::raw_pointer_cast(v.data());
}

template <class T>
std::vector<double> pattern(std::size_t n, double phase) {
    std::vector<double> v;
    for (std::size_t e = 0; e < n; ++e) v.push_back(static_cast<double>(static_cast<T>(std::sin(0.7 * double(e) + phase) * 1.5)));
    return v;
}

/// out₀ = c₀₀ a + c₀₁ b + c₀₂ c, out₁ = … through detail::thrust_linear_map with a chosen granularity, against
/// the std::vector backend; output 1 aliases input a.
template <std::uint64_t PerCall, class T>
void check_linear_map_granularity(std::size_t n) {
    CAPTURE(PerCall);
    CAPTURE(n);
    const auto a = pattern<T>(n, 0.1), b = pattern<T>(n, 1.7), c = pattern<T>(n, 2.9);
    const std::array<std::array<T, 3>, 2> coef{{{T(0.75), T(-1.25), T(0.5)}, {T(1.5), T(0.25), T(-2)}}};

    std::vector<T> ha(a.begin(), a.end()), hb(b.begin(), b.end()), hc(c.begin(), c.end()), h0(n);
    using host = mrsolve::backend_traits<std::vector<T>>;
    REQUIRE(host::template linear_map<2, 3>({&h0, &ha}, coef, {&ha, &hb, &hc}));

    dvec<T> da = make_state<dvec<T>>(a), db = make_state<dvec<T>>(b), dc = make_state<dvec<T>>(c), d0(n);
    const bool ok = mrsolve::detail::thrust_linear_map<PerCall, 2, 3, T>(n, {raw(d0), raw(da)}, coef,
                                                                           {raw(da), raw(db), raw(dc)});
    CHECK(ok);
    const double tol = device_math_is_host_math ? 0.0 : 4 * std::numeric_limits<T>::epsilon();
    CHECK(max_scaled_dev(to_doubles(d0), to_doubles(h0)) <= tol);
    CHECK(max_scaled_dev(to_doubles(da), to_doubles(ha)) <= tol);
}

/// detail::thrust_fill_normal with a chosen granularity against philox_normal::normal<T>(step, e).
template <std::uint64_t GroupsPerCall, class T>
void check_fill_granularity(std::size_t n, const mrsolve::philox_normal& generator, std::uint64_t step) {
    CAPTURE(GroupsPerCall);
    CAPTURE(n);
    CAPTURE(step);
    dvec<T> z(n, T(123));
    mrsolve::detail::thrust_fill_normal<GroupsPerCall, T>(raw(z), n, generator, step);
    const thrust::host_vector<T> h = z;
    std::size_t mismatches = 0;
    double worst = 0;
    for (std::size_t e = 0; e < n; ++e) {
        const T want = generator.normal<T>(step, e);
        if (h[e] != want) ++mismatches;
        worst = std::max(worst, std::abs(double(h[e]) - double(want)) / std::max(1.0, std::abs(double(want))));
    }
    if (device_math_is_host_math) {
        CHECK(mismatches == 0);
    } else {
        CHECK(worst <= 16 * std::numeric_limits<T>::epsilon());
    }
}

/// detail::thrust_linear_map_normal with a chosen granularity: bit for bit fill_normal (same granularity)
/// followed by linear_map with the normals as the last input; and the host backend's fused step.
template <std::uint64_t GroupsPerCall, class T>
void check_fused_granularity(std::size_t n, const mrsolve::philox_normal& generator, std::uint64_t step) {
    CAPTURE(GroupsPerCall);
    CAPTURE(n);
    const auto a = pattern<T>(n, 0.3), b = pattern<T>(n, 2.2);
    const std::array<std::array<T, 3>, 2> coef{{{T(0.5), T(-0.75), T(0.125)}, {T(1.25), T(0.5), T(-0.3)}}};
    // Fused: out₀ = …, out₁ aliases input a.
    dvec<T> fa = make_state<dvec<T>>(a), fb = make_state<dvec<T>>(b), f0(n);
    REQUIRE(mrsolve::detail::thrust_linear_map_normal<GroupsPerCall, 2, 3, T>(n, {raw(f0), raw(fa)}, coef,
                                                                             {raw(fa), raw(fb)}, generator, step));
    // Buffered: the normals filled into a state, then the plain map.
    dvec<T> ba = make_state<dvec<T>>(a), bb = make_state<dvec<T>>(b), b0(n), z(n);
    mrsolve::detail::thrust_fill_normal<GroupsPerCall, T>(raw(z), n, generator, step);
    REQUIRE(mrsolve::detail::thrust_linear_map<GroupsPerCall * mrsolve::philox_normal::elements_per_group<T>, 2, 3, T>(
        n, {raw(b0), raw(ba)}, coef, {raw(ba), raw(bb), raw(z)}));
    CHECK(to_doubles(f0) == to_doubles(b0));
    CHECK(to_doubles(fa) == to_doubles(ba));
    // The host backend's fused step (std::vector with counter_noise).
    std::vector<T> ha(a.begin(), a.end()), hb(b.begin(), b.end()), h0(n);
    using host = mrsolve::backend_traits<std::vector<T>>;
    if constexpr (mrsolve::FusedNormalState<std::vector<T>>) {
        REQUIRE(host::template linear_map_normal<2, 3>({&h0, &ha}, coef, {&ha, &hb}, generator, step));
    } else {
        std::vector<T> hz(n);
        host::fill_normal(hz, generator, step);
        REQUIRE(host::template linear_map<2, 3>({&h0, &ha}, coef, {&ha, &hb, &hz}));
    }
    const double tol = device_math_is_host_math ? 0.0 : 16 * std::numeric_limits<T>::epsilon();
    CHECK(max_scaled_dev(to_doubles(f0), to_doubles(h0)) <= tol);
    CHECK(max_scaled_dev(to_doubles(fa), to_doubles(ha)) <= tol);
}

}  // namespace

TEST_CASE_TEMPLATE("thrust backend: concepts, size, make_like", T, float, double) {
    if constexpr (std::is_same_v<T, float>) MESSAGE("Thrust device system: " << std::string(device_system));
    using S = dvec<T>;
    using traits = mrsolve::backend_traits<S>;
    static_assert(mrsolve::State<S>);
    static_assert(mrsolve::NormalFillable<S>);
    static_assert(mrsolve::FusedNormalState<S>, "stochastic steps with counter_noise are one launch");
    static_assert(!mrsolve::HostState<S>, "device states have no host_span: thresholding is rejected");
    static_assert(std::is_same_v<mrsolve::state_value_t<S>, T>);
    // thrust::host_vector is a contiguous host container: the default backend, with host access.
    static_assert(mrsolve::HostState<thrust::host_vector<T>>);
    static_assert(mrsolve::NormalFillable<thrust::host_vector<T>>);

    S s(state_size, T(3));
    CHECK(traits::size(s) == state_size);
    const S z = traits::make_like(s);
    REQUIRE(z.size() == state_size);
    const auto zh = to_doubles(z);
    CHECK(std::all_of(zh.begin(), zh.end(), [](double v) { return v == 0.0; }));
}

TEST_CASE_TEMPLATE("thrust backend: linear_map matches the host backend at every granularity, with aliasing", T,
                   float, double) {
    for (const std::size_t n : {std::size_t{1}, std::size_t{7}, std::size_t{2048}, state_size}) {
        check_linear_map_granularity<1, T>(n);
        check_linear_map_granularity<7, T>(n);
        check_linear_map_granularity<mrsolve::detail::thrust_cpu_block, T>(n);
    }
    // Through the traits, with the widest map the sampler uses (2 outputs, 6 inputs: x, μ, raw, two
    // history slots, z), the first output aliasing an input and the second the state.
    using S = dvec<T>;
    using traits = mrsolve::backend_traits<S>;
    std::array<std::vector<double>, 6> in;
    for (std::size_t k = 0; k < 6; ++k) in[k] = pattern<T>(state_size, 0.4 * double(k));
    std::array<std::vector<T>, 6> h;
    std::array<S, 6> d;
    for (std::size_t k = 0; k < 6; ++k) {
        h[k].assign(in[k].begin(), in[k].end());
        d[k] = make_state<S>(in[k]);
    }
    std::array<std::array<T, 6>, 2> coef{};
    for (std::size_t k = 0; k < 6; ++k) {
        coef[0][k] = T(0.1) * T(k + 1);
        coef[1][k] = T(1) - T(0.3) * T(k);
    }
    using host = mrsolve::backend_traits<std::vector<T>>;
    REQUIRE(host::template linear_map<2, 6>({&h[3], &h[0]}, coef, {&h[0], &h[1], &h[2], &h[3], &h[4], &h[5]}));
    REQUIRE(traits::template linear_map<2, 6>({&d[3], &d[0]}, coef, {&d[0], &d[1], &d[2], &d[3], &d[4], &d[5]}));
    const double tol = device_math_is_host_math ? 0.0 : 4 * std::numeric_limits<T>::epsilon();
    for (std::size_t k = 0; k < 6; ++k) CHECK(max_scaled_dev(to_doubles(d[k]), to_doubles(h[k])) <= tol);
}

TEST_CASE_TEMPLATE("thrust backend: linear_map and all_finite flag NaN and +-Inf in any element, and only then", T,
                   float, double) {
    using S = dvec<T>;
    using traits = mrsolve::backend_traits<S>;
    constexpr T nan = std::numeric_limits<T>::quiet_NaN();
    constexpr T inf = std::numeric_limits<T>::infinity();
    constexpr T big = std::numeric_limits<T>::max();
    const std::size_t n = state_size;
    const std::size_t block = mrsolve::detail::thrust_cpu_block;
    for (const std::size_t position : {std::size_t{0}, block - 1, block, n / 2, n - 1}) {
        for (const T bad : {nan, inf, -inf}) {
            CAPTURE(position);
            CAPTURE(bad);
            S a(n, T(1)), b(n, T(2)), out(n);
            CHECK(traits::all_finite(a));
            a[position] = bad;
            CHECK_FALSE(traits::all_finite(a));
            CHECK_FALSE(mrsolve::detail::thrust_all_finite<1>(raw(a), n));
            CHECK_FALSE(mrsolve::detail::thrust_all_finite<7>(raw(a), n));
            CHECK_FALSE(traits::template linear_map<1, 2>({&out}, {{{T(1), T(1)}}}, {&a, &b}));
            // A zero coefficient does not hide a NaN or an infinity (0·Inf = NaN).
            CHECK_FALSE(traits::template linear_map<1, 2>({&out}, {{{T(0), T(1)}}}, {&a, &b}));
            // The flag is per call: the next finite map reports success.
            CHECK(traits::template linear_map<1, 1>({&out}, {{{T(1)}}}, {&b}));
            // With two outputs, either one being non-finite is reported.
            S other(n);
            CHECK_FALSE(traits::template linear_map<2, 2>({&other, &out}, {{{T(0), T(1)}, {T(1), T(1)}}}, {&a, &b}));
        }
        // Overflow of finite inputs is caught too.
        S a(n, T(1)), out(n);
        a[position] = big;
        CHECK(traits::all_finite(a));
        CHECK(traits::template linear_map<1, 1>({&out}, {{{T(1)}}}, {&a}));
        CHECK_FALSE(traits::template linear_map<1, 1>({&out}, {{{T(4)}}}, {&a}));
        CHECK_FALSE(traits::all_finite(out));
        // Only the second of two outputs overflows: still reported.
        S first(n);
        CHECK_FALSE(traits::template linear_map<2, 1>({&first, &out}, {{{T(1)}, {T(4)}}}, {&a}));
        CHECK(traits::all_finite(first));
    }
}

TEST_CASE_TEMPLATE("thrust backend: fill_normal gives philox_normal::normal<T>(step, e) for every element", T, float,
                   double) {
    const mrsolve::philox_normal generator(0x9e3779b97f4a7c15ull);
    const mrsolve::philox_normal other(7);
    for (const std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}, std::size_t{4097},
                                state_size}) {
        for (const std::uint64_t step : {std::uint64_t{1}, (std::uint64_t{1} << 40) + 3}) {
            check_fill_granularity<1, T>(n, generator, step);
            check_fill_granularity<3, T>(n, other, step);
            check_fill_granularity<mrsolve::detail::thrust_groups_per_call<T>, T>(n, generator, step);
        }
    }
    // Through counter_noise: the same normals as on a std::vector (bit for bit on the CPU systems).
    dvec<T> z(state_size);
    std::vector<T> h(state_size);
    const mrsolve::counter_noise noise(42);
    noise.fill(z, 3);
    noise.fill(h, 3);
    const double tol = device_math_is_host_math ? 0.0 : 16 * std::numeric_limits<T>::epsilon();
    CHECK(max_scaled_dev(to_doubles(z), to_doubles(h)) <= tol);
}

TEST_CASE_TEMPLATE("thrust backend: linear_map_normal is fill_normal + linear_map in one launch, bit for bit", T,
                   float, double) {
    const mrsolve::philox_normal generator(2024);
    for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{4097}, state_size}) {
        check_fused_granularity<1, T>(n, generator, 7);
        check_fused_granularity<3, T>(n, generator, 7);
        check_fused_granularity<mrsolve::detail::thrust_groups_per_call<T>, T>(n, generator, 7);
    }
    using S = dvec<T>;
    using traits = mrsolve::backend_traits<S>;
    // Only the normals (NIn = 1): out = 2 z.
    S out(state_size), z(state_size);
    REQUIRE(traits::template linear_map_normal<1, 1>({&out}, {{{T(2)}}}, {}, generator, 9));
    traits::fill_normal(z, generator, 9);
    const auto zh = to_doubles(z), oh = to_doubles(out);
    for (std::size_t e = 0; e < state_size; ++e) REQUIRE(oh[e] == 2 * zh[e]);
    // Non-finite inputs are flagged; the next finite call is not.
    S a(state_size, T(1));
    a[state_size - 2] = std::numeric_limits<T>::quiet_NaN();
    CHECK_FALSE(traits::template linear_map_normal<1, 2>({&out}, {{{T(1), T(1)}}}, {&a}, generator, 1));
    a[state_size - 2] = T(1);
    CHECK(traits::template linear_map_normal<1, 2>({&out}, {{{T(1), T(1)}}}, {&a}, generator, 1));
}

// ---- every solver: device_vector reproduces std::vector --------------------------------------------------

namespace {

template <class S, class Method>
std::vector<double> run_solver(const Method& method, const grid_t& grid, const sample_options& options,
                               std::uint64_t seed, const toy_problem& problem, const start_point& start,
                               int* nfe = nullptr) {
    S x = make_state<S>(start.x), mu = make_state<S>(start.mu);
    const auto result = mrsolve::sample(method, table(), std::span<const double>(grid), toy_model{&problem}, x, mu,
                                        options, mrsolve::counter_noise{seed});
    if (nfe != nullptr) *nfe = result.nfe;
    return to_doubles(x);
}

template <class T, class Method>
void check_solver(const Method& method, const grid_t& grid, const sample_options& options) {
    CAPTURE(method.name());
    CAPTURE(mrsolve::to_string(options.fit));
    CAPTURE(grid.size() - 1);
    CAPTURE(options.denoise_last);
    CAPTURE(static_cast<int>(options.orders));
    const toy_problem problem = make_toy(state_size, options.fit);
    const start_point start = make_start(state_size);
    int host_nfe = 0, device_nfe = 0;
    const auto host = run_solver<std::vector<T>>(method, grid, options, 1234, problem, start, &host_nfe);
    const auto device = run_solver<dvec<T>>(method, grid, options, 1234, problem, start, &device_nfe);
    CHECK(device_nfe == host_nfe);
    CHECK(max_scaled_dev(device, host) <= backend_tolerance<T>);
    CHECK(max_scaled_dev(host, start.x) > 1e-3);  // the run did something
    if constexpr (Method::stochastic) {
        // counter_noise takes the fused path (linear_map_normal); noise filled by fill_normal first (any
        // other noise source) takes the buffered one: the same bits.
        const mrsolve::philox_normal generator(1234);
        auto buffered_noise = mrsolve::injected_noise([&generator](dvec<T>& z, int step) {
            mrsolve::backend_traits<dvec<T>>::fill_normal(z, generator, static_cast<std::uint64_t>(step));
        });
        dvec<T> x = make_state<dvec<T>>(start.x), mu = make_state<dvec<T>>(start.mu);
        mrsolve::sample(method, table(), std::span<const double>(grid), toy_model{&problem}, x, mu, options,
                        buffered_noise);
        CHECK(to_doubles(x) == device);
        // Another seed gives another path, on the device as on the host.
        const auto reseeded = run_solver<dvec<T>>(method, grid, options, 1235, problem, start);
        CHECK(max_scaled_dev(reseeded, device) > 1e-3);
    }
}

template <class T>
void check_every_solver() {
    const grid_t linspace = mrsolve::make_grid(table(), schedule_kind::linspace, 10);
    const grid_t karras = mrsolve::make_grid(table(), schedule_kind::karras_n, 12);
    for (const fit_target fit : {fit_target::noise, fit_target::data, fit_target::velocity}) {
        sample_options published = sample_options::published(fit);
        sample_options mrsolve_default;
        mrsolve_default.fit = fit;
        for (int order = 1; order <= 3; ++order) {
            check_solver<T>(mrsolve::mr_ode<data_prediction>{order}, karras, mrsolve_default);
            check_solver<T>(mrsolve::mr_ode<noise_prediction>{order}, karras, mrsolve_default);
            check_solver<T>(mrsolve::mr_ode<data_prediction>{order}, linspace, published);
            check_solver<T>(mrsolve::mr_ode<noise_prediction>{order}, linspace, published);
        }
        check_solver<T>(mrsolve::mr_ode<data_prediction>{3, mrsolve::order3_rule::published}, linspace, published);
        check_solver<T>(mrsolve::mr_ode<noise_prediction>{3, mrsolve::order3_rule::published}, linspace, published);
        for (int order = 1; order <= 2; ++order) {
            check_solver<T>(mrsolve::mr_sde<data_prediction>{order}, linspace, published);
            check_solver<T>(mrsolve::mr_sde<noise_prediction>{order}, karras, mrsolve_default);
        }
        for (const step_mode mode : {step_mode::variable, step_mode::published_fixed}) {
            check_solver<T>(mrsolve::euler_maruyama{1, mode}, linspace, mrsolve_default);
            check_solver<T>(mrsolve::euler_ode{1, mode}, linspace, mrsolve_default);
            check_solver<T>(mrsolve::heun_ode{2, mode}, linspace, mrsolve_default);
            check_solver<T>(mrsolve::posterior_sampling{1, mode}, linspace, mrsolve_default);
        }
        check_solver<T>(mrsolve::euler_maruyama{}, karras, mrsolve_default);
        check_solver<T>(mrsolve::posterior_sampling{}, karras, mrsolve_default);
        check_solver<T>(mrsolve::heun_ode{}, karras, mrsolve_default);
        // denoise_last (the published last step) and the constant-order policy.
        check_solver<T>(mrsolve::mr_ode<data_prediction>{2}, linspace, sample_options::published(fit, true));
        sample_options constant = mrsolve_default;
        constant.orders = mrsolve::order_policy::constant;
        check_solver<T>(mrsolve::mr_sde<data_prediction>{2}, linspace, constant);
    }
}

}  // namespace

TEST_CASE_TEMPLATE("thrust backend: every solver reproduces the std::vector result with the same seed", T, float,
                   double) {
    check_every_solver<T>();
}

TEST_CASE("thrust backend: the default noise (counter_noise, seed 0) and a thrust::host_vector state") {
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::linspace, 10);
    const toy_problem problem = make_toy(state_size, fit_target::noise);
    const start_point start = make_start(state_size);
    const mrsolve::mr_sde<data_prediction> method{2};
    dvec<float> x = make_state<dvec<float>>(start.x), mu = make_state<dvec<float>>(start.mu);
    const mrsolve::sample_result result =
        mrsolve::sample(method, table(), std::span<const double>(grid), toy_model{&problem}, x, mu);
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
    CHECK(result.execution_path == "thrust cuda");
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
    CHECK(result.execution_path == "thrust omp");
#else
    CHECK(result.execution_path == "thrust cpp");
#endif
    const auto seeded = run_solver<dvec<float>>(method, grid, {}, 0, problem, start);
    CHECK(to_doubles(x) == seeded);
    // host_vector runs the default (contiguous) backend: the std::vector result exactly.
    const auto host = run_solver<std::vector<float>>(method, grid, {}, 0, problem, start);
    CHECK(run_solver<thrust::host_vector<float>>(method, grid, {}, 0, problem, start) == host);
    CHECK(max_scaled_dev(seeded, host) <= backend_tolerance<float>);
}

// ---- the golden recordings ---------------------------------------------------------------------------

namespace {

struct golden_deviation {
    double max_abs_dev = 0;
    int steps_compared = 0;
    int nfe = 0;
};

/// Replays a recording on device_vector<double>: its grid and options, its normals (copied to the device at
/// each stochastic step) and the Gaussian toy network rounded to float, evaluated on the device system.
template <class Method>
golden_deviation replay_on_device(const Method& method, const mrsolve::golden_record& r) {
    const table_t family({mrsolve::parse_theta_schedule(r.family_schedule), r.table_steps, r.max_sigma, r.eps});
    const fit_target fit = mrsolve::parse_fit_target(r.fit_target);
    mrsolve::schedule_options schedule;
    schedule.lambda_min = r.lambda_min;
    const grid_t grid = mrsolve::make_grid(family, mrsolve::parse_schedule_kind(r.time_schedule), r.nfe, schedule);
    REQUIRE(!r.thresholding);  // not offered on device states
    const sample_options options = sample_options::published(fit, r.denoise_last);

    // The recordings use the default table; the toy computes α, σ from table() (checked equal here).
    REQUIRE(family.alpha(37.5) == table().alpha(37.5));
    REQUIRE(family.sigma(37.5) == table().sigma(37.5));
    const toy_problem problem(r.data_mean, r.data_std, fit, true);

    golden_deviation result;
    auto recorded_noise = mrsolve::injected_noise([&r](dvec<double>& z, int step) {
        const auto it = r.noise.find(step);
        REQUIRE(it != r.noise.end());
        thrust::copy(it->second.begin(), it->second.end(), z.begin());
    });
    const auto observe = [&](const mrsolve::step_info<double, dvec<double>>& info) {
        const auto it = r.states.find(info.step);
        if (it == r.states.end()) return;
        const auto x = to_doubles(info.x);
        for (std::size_t e = 0; e < r.n; ++e)
            result.max_abs_dev = std::max(result.max_abs_dev, std::abs(x[e] - it->second[e]));
        ++result.steps_compared;
    };
    dvec<double> x = make_state<dvec<double>>(r.x_T), mu = make_state<dvec<double>>(r.mu);
    result.nfe = mrsolve::sample(method, family, std::span<const double>(grid), toy_model{&problem}, x, mu, options,
                                 recorded_noise, observe)
                     .nfe;
    const auto out = to_doubles(x);
    for (std::size_t e = 0; e < r.n; ++e) result.max_abs_dev = std::max(result.max_abs_dev, std::abs(out[e] - r.output[e]));
    return result;
}

golden_deviation replay_on_device(const mrsolve::golden_record& r) {
    const bool data = r.parameterization == "data";
    if (r.solver == "ode") {
        return data ? replay_on_device(mrsolve::mr_ode<data_prediction>{r.order, mrsolve::order3_rule::published}, r)
                    : replay_on_device(mrsolve::mr_ode<noise_prediction>{r.order, mrsolve::order3_rule::published}, r);
    }
    return data ? replay_on_device(mrsolve::mr_sde<data_prediction>{r.order}, r)
                : replay_on_device(mrsolve::mr_sde<noise_prediction>{r.order}, r);
}

}  // namespace

TEST_CASE("thrust backend: every golden recording replayed on device_vector<double> within 5e-5") {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(MRSOLVE_TEST_DATA_DIR "/golden"))
        if (entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    REQUIRE(files.size() >= 10);
    for (const auto& file : files) {
        CAPTURE(file.filename().string());
        const auto record = mrsolve::read_golden(file.string());
        REQUIRE((record.solver == "ode" || record.solver == "sde"));
        const golden_deviation result = replay_on_device(record);
        CHECK(result.nfe == record.nfe);
        CHECK(result.steps_compared == record.nfe);
        CHECK(result.max_abs_dev < 5e-5);
    }
}

// ---- errors ------------------------------------------------------------------------------------------

namespace {

/// The toy network, but at one call it writes `value` into one element of its output.
template <class S>
struct poisoned_model {
    toy_model inner;
    int bad_call;
    std::size_t element;
    mrsolve::state_value_t<S> value;
    int calls = 0;
    template <class Real>
    void operator()(const S& x, const S& mu, Real t, S& out) {
        inner(x, mu, t, out);
        if (++calls == bad_call) out[element] = value;
    }
};

struct reported_error {
    bool thrown = false;
    int step = 0;
    std::string message;
};

}  // namespace

TEST_CASE_TEMPLATE("thrust backend: a NaN or Inf during sampling is reported with its step", T, float, double) {
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::linspace, 10);
    const toy_problem problem = make_toy(state_size, fit_target::noise);
    const start_point start = make_start(state_size);
    constexpr T nan = std::numeric_limits<T>::quiet_NaN();
    constexpr T inf = std::numeric_limits<T>::infinity();
    const auto run = [&]<class S>(const auto& method, poisoned_model<S> model) {
        S x = make_state<S>(start.x), mu = make_state<S>(start.mu);
        reported_error r;
        try {
            mrsolve::sample(method, table(), std::span<const double>(grid), model, x, mu);
        } catch (const mrsolve::non_finite_error& e) {
            r = {true, e.step(), e.what()};
        }
        return r;
    };
    // The device reports what the std::vector backend reports: the same step, the same message.
    const auto expect = [&](const auto& method, int bad_call, std::size_t element, T value, const char* what) {
        CAPTURE(method.name());
        CAPTURE(bad_call);
        CAPTURE(value);
        const reported_error host = run(method, poisoned_model<std::vector<T>>{toy_model{&problem}, bad_call, element, value});
        const reported_error device = run(method, poisoned_model<dvec<T>>{toy_model{&problem}, bad_call, element, value});
        REQUIRE(host.thrown);
        REQUIRE(device.thrown);
        CHECK(device.step == host.step);
        CHECK(device.message == host.message);
        CHECK(device.message.find(what) != std::string::npos);
        return device.step;
    };
    for (const T bad : {nan, inf}) {
        CHECK(expect(mrsolve::mr_ode<data_prediction>{2}, 3, 17, bad, "model output at step 3") == 3);
        CHECK(expect(mrsolve::mr_sde<noise_prediction>{2}, 5, state_size - 1, bad, "model output at step 5") == 5);
        CHECK(expect(mrsolve::euler_maruyama{}, 1, 0, bad, "model output at step 1") == 1);
        // Heun evaluates twice per step: call 4 is the corrector evaluation of step 2.
        CHECK(expect(mrsolve::heun_ode{}, 4, 2049, bad, "model output at step 2") == 2);
    }
    // A finite model output that makes the state overflow (x̂₀ = (x − σ ε)/α with σ/α ≈ 39 at t = 100): it is
    // reported wherever the first non-finite value appears (the state, or a later model output).
    expect(mrsolve::mr_ode<data_prediction>{1}, 1, 5, std::numeric_limits<T>::max(), "NaN or Inf");
    expect(mrsolve::mr_sde<data_prediction>{2}, 2, 6000, std::numeric_limits<T>::max(), "NaN or Inf");
    // Non-finite inputs are rejected before sampling.
    dvec<T> x = make_state<dvec<T>>(start.x), mu = make_state<dvec<T>>(start.mu);
    x[100] = nan;
    CHECK_THROWS_WITH_AS(mrsolve::sample(mrsolve::mr_ode<data_prediction>{2}, table(), std::span<const double>(grid),
                                         toy_model{&problem}, x, mu),
                         doctest::Contains("the start state x contains NaN or Inf"), mrsolve::invalid_argument);
    x = make_state<dvec<T>>(start.x);
    mu[state_size - 1] = -inf;
    CHECK_THROWS_WITH_AS(mrsolve::sample(mrsolve::mr_ode<data_prediction>{2}, table(), std::span<const double>(grid),
                                         toy_model{&problem}, x, mu),
                         doctest::Contains("the condition mu contains NaN or Inf"), mrsolve::invalid_argument);
}

TEST_CASE("thrust backend: dynamic thresholding is rejected for device states, offered for host_vector") {
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::linspace, 10);
    const toy_problem problem = make_toy(state_size, fit_target::data);
    const start_point start = make_start(state_size);
    sample_options options = sample_options::published(fit_target::data);
    options.thresholding = mrsolve::dynamic_thresholding{};
    dvec<float> x = make_state<dvec<float>>(start.x), mu = make_state<dvec<float>>(start.mu);
    CHECK_THROWS_WITH_AS(mrsolve::sample(mrsolve::mr_ode<data_prediction>{2}, table(), std::span<const double>(grid),
                                         toy_model{&problem}, x, mu, options),
                         doctest::Contains("host access"), mrsolve::invalid_argument);
    using sde_sampler = mrsolve::sampler<mrsolve::mr_sde<data_prediction>, table_t, dvec<double>>;
    CHECK_THROWS_AS(sde_sampler(mrsolve::mr_sde<data_prediction>{2}, table(), dvec<double>(8), options),
                    mrsolve::invalid_argument);
    const auto host = run_solver<thrust::host_vector<float>>(mrsolve::mr_ode<data_prediction>{2}, grid, options, 0,
                                                             problem, start);
    CHECK(host == run_solver<std::vector<float>>(mrsolve::mr_ode<data_prediction>{2}, grid, options, 0, problem, start));
}

// ---- allocations and allocators --------------------------------------------------------------------------

namespace {

/// thrust::device_allocator that counts its allocations (all instances of one T together).
template <class T>
struct counting_allocator : thrust::device_allocator<T> {
    using base = thrust::device_allocator<T>;
    using pointer = typename base::pointer;
    using size_type = typename base::size_type;
    template <class U>
    struct rebind {
        using other = counting_allocator<U>;
    };
    counting_allocator() = default;
    template <class U>
    counting_allocator(const counting_allocator<U>&) {}
    pointer allocate(size_type n) {
        ++allocations();
        return base::allocate(n);
    }
    static int& allocations() {
        static int count = 0;
        return count;
    }
};

}  // namespace

TEST_CASE_TEMPLATE("thrust backend: any allocator; after set-up a run allocates no device memory", T, float, double) {
    using S = thrust::device_vector<T, counting_allocator<T>>;
    static_assert(mrsolve::FusedNormalState<S>);
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::linspace, 10);
    const toy_problem problem = make_toy(state_size, fit_target::noise);
    const start_point start = make_start(state_size);
    const auto check_runs = [&](const auto& method) {
        CAPTURE(method.name());
        using Method = std::remove_cvref_t<decltype(method)>;
        S x(state_size), mu(state_size);
        thrust::copy(start.x.begin(), start.x.end(), x.begin());
        thrust::copy(start.mu.begin(), start.mu.end(), mu.begin());
        const S x0 = x;
        const int before_setup = counting_allocator<T>::allocations();
        mrsolve::sampler<Method, table_t, S> sampler(method, table(), x, sample_options::published());
        const int after_setup = counting_allocator<T>::allocations();
        CHECK(after_setup > before_setup);  // the workspace came from the state's allocator (make_like)
        sampler.run(std::span<const double>(grid), toy_model{&problem}, x, mu, mrsolve::counter_noise{77});
        CHECK(counting_allocator<T>::allocations() == after_setup);
        // Same result as with the default allocator.
        CHECK(to_doubles(x) == run_solver<dvec<T>>(method, grid, sample_options::published(), 77, problem, start));
        // The buffered noise path (fill_normal into the workspace) allocates nothing either.
        const mrsolve::philox_normal generator(77);
        auto buffered = mrsolve::injected_noise([&generator](S& z, int step) {
            mrsolve::backend_traits<S>::fill_normal(z, generator, static_cast<std::uint64_t>(step));
        });
        S y = x0;
        const int before = counting_allocator<T>::allocations();
        sampler.run(std::span<const double>(grid), toy_model{&problem}, y, mu, buffered);
        CHECK(counting_allocator<T>::allocations() == before);
        CHECK(to_doubles(y) == to_doubles(x));
    };
    check_runs(mrsolve::mr_ode<data_prediction>{3});
    check_runs(mrsolve::mr_sde<data_prediction>{2});
    check_runs(mrsolve::mr_sde<noise_prediction>{2});
    check_runs(mrsolve::heun_ode{});
    check_runs(mrsolve::posterior_sampling{});
}

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
TEST_CASE_TEMPLATE("thrust backend (OpenMP): results are identical for 1 and 2 threads", T, float, double) {
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::linspace, 10);
    const int saved = omp_get_max_threads();
    const auto with_threads = [&](int threads, const auto& method, fit_target fit) {
        omp_set_num_threads(threads);
        const toy_problem problem = make_toy(state_size, fit);
        return run_solver<dvec<T>>(method, grid, sample_options::published(fit), 99, problem, make_start(state_size));
    };
    const auto check_threads = [&](const auto& method, fit_target fit) {
        CAPTURE(method.name());
        const auto one = with_threads(1, method, fit);
        const auto two = with_threads(2, method, fit);
        CHECK(one == two);
        CHECK(max_scaled_dev(one, make_start(state_size).x) > 1e-3);
    };
    check_threads(mrsolve::mr_ode<data_prediction>{3}, fit_target::noise);
    check_threads(mrsolve::mr_ode<noise_prediction>{2}, fit_target::data);
    check_threads(mrsolve::mr_sde<data_prediction>{2}, fit_target::noise);
    check_threads(mrsolve::mr_sde<noise_prediction>{1}, fit_target::velocity);
    check_threads(mrsolve::posterior_sampling{}, fit_target::noise);
    check_threads(mrsolve::heun_ode{}, fit_target::noise);
    // The 2-thread run really used 2 threads for the blocks of one call.
    omp_set_num_threads(2);
    int seen = 0;
#pragma omp parallel
    {
#pragma omp single
        seen = omp_get_num_threads();
    }
    CHECK(seen == 2);
    omp_set_num_threads(saved);
}
#endif

// ---- the singlestep sampler: device_vector reproduces std::vector; the adaptive one on host_vector -------

namespace {

template <class S, class P>
std::vector<double> run_singlestep(int nfe, int order, const mrsolve::singlestep_options& options,
                                   const toy_problem& problem, const start_point& start, int* calls = nullptr) {
    const std::vector<int> orders = mrsolve::singlestep_orders(nfe, order);
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::karras_n, static_cast<int>(orders.size()));
    S x = make_state<S>(start.x), mu = make_state<S>(start.mu);
    mrsolve::singlestep_sampler<P, table_t, S> sampler(table(), x, options);
    const auto result = sampler.run(std::span<const double>(grid), std::span<const int>(orders), toy_model{&problem}, x, mu);
    if (calls != nullptr) *calls = result.nfe;
    return to_doubles(x);
}

template <class T, class P>
void check_singlestep(int nfe, int order, fit_target fit) {
    CAPTURE(nfe);
    CAPTURE(order);
    CAPTURE(mrsolve::to_string(fit));
    mrsolve::singlestep_options options;
    options.fit = fit;
    const toy_problem problem = make_toy(state_size, fit);
    const start_point start = make_start(state_size);
    int host_nfe = 0, device_nfe = 0;
    const auto host = run_singlestep<std::vector<T>, P>(nfe, order, options, problem, start, &host_nfe);
    const auto device = run_singlestep<dvec<T>, P>(nfe, order, options, problem, start, &device_nfe);
    CHECK(device_nfe == nfe);
    CHECK(host_nfe == nfe);
    CHECK(max_scaled_dev(device, host) <= backend_tolerance<T>);
    if (device_math_is_host_math) CHECK(device == host);  // the CPU device systems run the host's loops
    CHECK(max_scaled_dev(host, start.x) > 1e-3);
}

}  // namespace

TEST_CASE_TEMPLATE("thrust backend: the singlestep sampler reproduces the std::vector result", T, float, double) {
    for (const fit_target fit : {fit_target::noise, fit_target::data, fit_target::velocity}) {
        for (int order = 1; order <= 3; ++order) {
            check_singlestep<T, data_prediction>(10, order, fit);
            check_singlestep<T, noise_prediction>(11, order, fit);
        }
    }
}

TEST_CASE("thrust backend: singlestep and adaptive samplers validate like the multistep one") {
    const toy_problem problem = make_toy(state_size, fit_target::data);
    const start_point start = make_start(state_size);
    dvec<float> x = make_state<dvec<float>>(start.x), mu = make_state<dvec<float>>(start.mu);
    mrsolve::singlestep_options thresholded;
    thresholded.thresholding = mrsolve::dynamic_thresholding{};
    using device_singlestep = mrsolve::singlestep_sampler<data_prediction, table_t, dvec<float>>;
    CHECK_THROWS_WITH_AS(device_singlestep(table(), x, thresholded),
                         doctest::Contains("singlestep_sampler: dynamic thresholding needs a state with host access"),
                         mrsolve::invalid_argument);
    // Non-finite inputs: the same messages as sampler's for a state without host access.
    const std::vector<int> orders = mrsolve::singlestep_orders(6, 2);
    const grid_t grid = mrsolve::make_grid(table(), schedule_kind::linspace, static_cast<int>(orders.size()));
    device_singlestep sampler(table(), x);
    x[100] = std::numeric_limits<float>::quiet_NaN();
    CHECK_THROWS_WITH_AS(sampler.run(std::span<const double>(grid), std::span<const int>(orders), toy_model{&problem}, x, mu),
                         doctest::Contains("the start state x contains NaN or Inf"), mrsolve::invalid_argument);
    x = make_state<dvec<float>>(start.x);
    mu[state_size - 1] = -std::numeric_limits<float>::infinity();
    CHECK_THROWS_WITH_AS(sampler.run(std::span<const double>(grid), std::span<const int>(orders), toy_model{&problem}, x, mu),
                         doctest::Contains("the condition mu contains NaN or Inf"), mrsolve::invalid_argument);
    // thrust::host_vector is a host container: the adaptive sampler runs on it with std::vector's bits.
    const auto adaptive = [&](auto tag) {
        using S = decltype(tag);
        S hx = make_state<S>(start.x), hmu = make_state<S>(start.mu);
        mrsolve::adaptive_options options;
        options.fit = fit_target::data;
        mrsolve::adaptive_sampler<data_prediction, table_t, S> s(table(), hx, options);
        const auto result = s.run(100.0, 1.0, toy_model{&problem}, hx, hmu);
        CHECK(result.completed());
        return to_doubles(hx);
    };
    CHECK(adaptive(thrust::host_vector<double>{}) == adaptive(std::vector<double>{}));
}
