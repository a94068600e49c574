// The fused stochastic step: with counter_noise on a backend that has linear_map_normal (the contiguous
// host backend), the normals are generated inside the step's pass instead of being filled into a state
// first. The results must be bitwise those of the buffered path (fill_normal, then linear_map with the
// filled state as the last input), for every stochastic solver, element type and loop option.

#include <doctest/doctest.h>

#include <Eigen/Core>

#include <array>
#include <cstddef>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include <mrsolve/backend/eigen.hpp>
#include <mrsolve/mrsolve.hpp>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_fused_noise {

namespace {

template <class T>
bool bitwise_equal(const T* a, const T* b, std::size_t n) {
    return std::memcmp(a, b, n * sizeof(T)) == 0;
}

template <class T>
std::vector<T> ramp(std::size_t n, T scale, T offset) {
    std::vector<T> v(n);
    for (std::size_t e = 0; e < n; ++e) v[e] = offset + scale * static_cast<T>((e * 7919) % 257) / T(257);
    return v;
}

static_assert(mrsolve::FusedNormalState<std::vector<float>>);
static_assert(mrsolve::FusedNormalState<std::vector<double>>);

// ε̂ = 0.3 (x − μ) + 0.01 (or, read as x̂₀, a contraction toward μ): cheap and allocation-free.
template <class T>
struct linear_model {
    template <class S>
    void operator()(const S& x, const S& mu, double, S& out) const {
        for (Eigen::Index i = 0; i < static_cast<Eigen::Index>(x.size()); ++i) out[i] = T(0.3) * (x[i] - mu[i]) + T(0.01);
    }
};

}  // namespace

TEST_CASE_TEMPLATE("linear_map_normal equals fill_normal followed by linear_map, bit for bit", T, float, double) {
    using traits = mrsolve::backend_traits<std::vector<T>>;
    const mrsolve::philox_normal generator(0x5eedULL);
    // Sizes around the normal block (512), the group sizes (4, 2) and the host chunk (8192).
    for (const std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{5}, std::size_t{511}, std::size_t{512},
                                std::size_t{513}, std::size_t{1027}, std::size_t{8192 + 7}, std::size_t{40001}}) {
        CAPTURE(n);
        const std::vector<T> a = ramp<T>(n, 2, -1), b = ramp<T>(n, 1, 0.5);
        const std::array<std::array<T, 3>, 2> coef{{{T(0.7), T(-0.2), T(0.05)}, {T(1.1), T(0.3), T(-0.4)}}};
        for (const std::uint64_t step : {std::uint64_t{1}, std::uint64_t{17}, (std::uint64_t{1} << 33) + 5}) {
            CAPTURE(step);
            // Buffered: z = normals, then the map with z as the last input.
            std::vector<T> z(n), out0(n), out1(n);
            traits::fill_normal(z, generator, step);
            const bool ok_buffered = traits::template linear_map<2, 3>({&out0, &out1}, coef, {&a, &b, &z});
            // Fused.
            std::vector<T> f0(n, T(-7)), f1(n, T(-7));
            const bool ok_fused = traits::template linear_map_normal<2, 3>({&f0, &f1}, coef, {&a, &b}, generator, step);
            CHECK(ok_buffered);
            CHECK(ok_fused);
            CHECK(bitwise_equal(out0.data(), f0.data(), n));
            CHECK(bitwise_equal(out1.data(), f1.data(), n));
            // The normals are those of philox_normal::normal.
            std::size_t wrong = 0;
            for (std::size_t e = 0; e < n; ++e) {
                const T expected = generator.normal<T>(step, e);
                if (!bitwise_equal(&z[e], &expected, 1)) ++wrong;
            }
            CHECK(wrong == 0);

            // An output may be an input (x ← c₀ x + c₁ z), as in a sampler step.
            std::vector<T> x = a, y = a;
            const std::array<std::array<T, 2>, 1> update{{{T(0.9), T(0.25)}}};
            CHECK(traits::template linear_map<1, 2>({&x}, update, {&x, &z}));
            CHECK(traits::template linear_map_normal<1, 2>({&y}, update, {&y}, generator, step));
            CHECK(bitwise_equal(x.data(), y.data(), n));
        }
    }
}

TEST_CASE("linear_map_normal reports a non-finite output like linear_map") {
    using traits = mrsolve::backend_traits<std::vector<float>>;
    const mrsolve::philox_normal generator(3);
    std::vector<float> a(1000, 1.0f), out(1000);
    a[777] = std::numeric_limits<float>::infinity();
    const std::array<std::array<float, 2>, 1> coef{{{1.0f, 0.5f}}};
    CHECK_FALSE(traits::linear_map_normal<1, 2>({&out}, coef, {&a}, generator, 1));
    a[777] = 1.0f;
    CHECK(traits::linear_map_normal<1, 2>({&out}, coef, {&a}, generator, 1));
}

namespace {

template <class T, class Method, class Noise>
std::vector<T> sample_vector(const Method& method, const mrsolve::sample_options& options, Noise noise,
                             std::size_t n, int nfe) {
    const mrsolve::irsde_table<double> family;
    const std::vector<T> mu = ramp<T>(n, T(0.5), T(0.25));
    std::vector<T> x(n);
    mrsolve::stationary_start(family, mu, x, 21);
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, nfe);
    mrsolve::sample(method, family, std::span<const double>(grid), linear_model<T>{}, x, mu, options, noise);
    return x;
}

// The same normals through the buffered path: a noise source that is not counter_noise.
template <class T>
auto buffered_counter_noise(std::uint64_t seed) {
    return mrsolve::injected_noise([seed](std::vector<T>& z, int step) { mrsolve::counter_noise(seed).fill(z, step); });
}

template <class T, class Method>
void check_fused_equals_buffered(const Method& method, const mrsolve::sample_options& options, std::size_t n) {
    const std::vector<T> fused = sample_vector<T>(method, options, mrsolve::counter_noise(77), n, 12);
    const std::vector<T> buffered = sample_vector<T>(method, options, buffered_counter_noise<T>(77), n, 12);
    CHECK(bitwise_equal(fused.data(), buffered.data(), n));
    // And the noise matters (the check is not vacuous): another seed changes the result.
    const std::vector<T> other = sample_vector<T>(method, options, mrsolve::counter_noise(78), n, 12);
    CHECK_FALSE(bitwise_equal(fused.data(), other.data(), n));
}

}  // namespace

TEST_CASE_TEMPLATE("every stochastic solver: fused counter_noise equals the buffered path bit for bit", T, float,
                   double) {
    using namespace mrsolve;
    for (const std::size_t n : {std::size_t{7}, std::size_t{3 * 32 * 32}, std::size_t{3 * 64 * 64 + 3}}) {
        CAPTURE(n);
        const sample_options plain;
        const sample_options published = sample_options::published(fit_target::noise, false);
        sample_options data_fit;
        data_fit.fit = fit_target::data;
        check_fused_equals_buffered<T>(mr_sde<data_prediction>{1}, plain, n);
        check_fused_equals_buffered<T>(mr_sde<data_prediction>{2}, plain, n);
        check_fused_equals_buffered<T>(mr_sde<noise_prediction>{1}, plain, n);
        check_fused_equals_buffered<T>(mr_sde<noise_prediction>{2}, published, n);
        check_fused_equals_buffered<T>(mr_sde<data_prediction>{2}, data_fit, n);
        check_fused_equals_buffered<T>(euler_maruyama{}, plain, n);
        check_fused_equals_buffered<T>(posterior_sampling{}, plain, n);
        check_fused_equals_buffered<T>(posterior_sampling{}, data_fit, n);
    }
}

TEST_CASE("fused noise with thresholding and denoise_last equals the buffered path") {
    using namespace mrsolve;
    constexpr std::size_t n = 4 * 3 * 16 * 16;
    sample_options options = sample_options::published(fit_target::noise, true);
    options.thresholding = dynamic_thresholding{0.995, 1.5, 4};
    check_fused_equals_buffered<float>(mr_sde<data_prediction>{2}, options, n);
    check_fused_equals_buffered<float>(posterior_sampling{}, options, n);
    options.denoise_last = false;
    check_fused_equals_buffered<double>(mr_sde<data_prediction>{1}, options, n);
}

TEST_CASE_TEMPLATE("std::vector (fused normals) and Eigen (buffered normals) give the same SDE path", T, float,
                   double) {
    using namespace mrsolve;
    using vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    static_assert(NormalFillable<vec>);
    constexpr std::size_t n = 3 * 40 * 40 + 1;
    const irsde_table<double> family;
    const auto grid = make_grid(family, schedule_kind::linspace, 10);
    const std::vector<T> mu_v = ramp<T>(n, T(0.5), T(0.25));
    std::vector<T> x_v(n);
    stationary_start(family, mu_v, x_v, 5);
    const vec mu_e = Eigen::Map<const vec>(mu_v.data(), static_cast<Eigen::Index>(n));
    vec x_e = Eigen::Map<const vec>(x_v.data(), static_cast<Eigen::Index>(n));
    const auto run_both = [&](const auto& method) {
        std::vector<T> xv = x_v;
        vec xe = x_e;
        sample(method, family, std::span<const double>(grid), linear_model<T>{}, xv, mu_v, {}, counter_noise(9));
        sample(method, family, std::span<const double>(grid), linear_model<T>{}, xe, mu_e, {}, counter_noise(9));
        CHECK(bitwise_equal(xv.data(), xe.data(), n));
    };
    run_both(mr_sde<data_prediction>{2});
    run_both(mr_sde<noise_prediction>{1});
    run_both(euler_maruyama{});
    run_both(posterior_sampling{});
}

}  // namespace test_fused_noise
