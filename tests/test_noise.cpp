// Tests for the counter-based noise: Philox4x32 known answers, the open-interval uniforms, the
// statistics of the normals, and the independence of the values from how they are drawn.

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <span>
#include <vector>

#include <mrsolve/noise/normal.hpp>
#include <mrsolve/noise/philox.hpp>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_noise {

namespace {

using mrsolve::philox_normal;
using mrsolve::detail::philox4x32_counter;
using mrsolve::detail::philox4x32_key;

struct philox_kat {
    philox4x32_counter counter;
    philox4x32_key key;
    philox4x32_counter expected;
};

// Known answers from the kat_vectors file of the Random123 distribution (D. E. Shaw Research), lines
// "philox4x32 R  CTR[4] KEY[2]  EXPECTED[4]". Confirmed against D. E. Shaw Research's own copy of them in
// github.com/DEShawResearch/Random123-Boost, libs/random/test/test_philox.cpp ("cut-and-pasted from the
// kat_vectors file in the original Random123 distribution").
constexpr std::array<philox_kat, 3> kat_philox4x32_10{{
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
}};

// Same source, the seven-round variant (checks the round count is a parameter, not baked in).
constexpr std::array<philox_kat, 3> kat_philox4x32_7{{
    {{0x00000000, 0x00000000, 0x00000000, 0x00000000},
     {0x00000000, 0x00000000},
     {0x5f6fb709, 0x0d893f64, 0x4f121f81, 0x4f730a48}},
    {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
     {0xffffffff, 0xffffffff},
     {0x5207ddc2, 0x45165e59, 0x4d8ee751, 0x8c52f662}},
    {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
     {0xa4093822, 0x299f31d0},
     {0x4dfccaba, 0x190a87f0, 0xc47362ba, 0xb6b5242a}},
}};

// The whole cipher runs in constant evaluation.
static_assert(mrsolve::detail::philox4x32_10(kat_philox4x32_10[2].counter, kat_philox4x32_10[2].key) ==
              kat_philox4x32_10[2].expected);
static_assert(mrsolve::detail::philox4x32<7>(kat_philox4x32_7[0].counter, kat_philox4x32_7[0].key) ==
              kat_philox4x32_7[0].expected);

// The uniforms are exact, in the open interval, and constexpr.
static_assert(mrsolve::detail::uniform_open_float(0u) == 0x1p-24f);
static_assert(mrsolve::detail::uniform_open_float(0xffffffffu) == 1.0f - 0x1p-24f);
static_assert(mrsolve::detail::uniform_open_double(0u, 0u) == 0x1p-53);
static_assert(mrsolve::detail::uniform_open_double(0xffffffffu, 0xffffffffu) == 1.0 - 0x1p-53);
static_assert(philox_normal::elements_per_group<float> == 4);
static_assert(philox_normal::elements_per_group<double> == 2);

// Equal including the sign of zero (NaN never occurs; long double has padding, so no memcmp).
template <class T>
bool same_bits(T a, T b) {
    return a == b && std::signbit(a) == std::signbit(b);
}

// Standard normal CDF.
double phi(double z) { return 0.5 * std::erfc(-z / std::numbers::sqrt2); }

}  // namespace

TEST_CASE("Philox4x32-10 and -7 reproduce the Random123 known answers") {
    for (const auto& kat : kat_philox4x32_10) {
        CAPTURE(kat.counter[0]);
        CHECK(mrsolve::detail::philox4x32_10(kat.counter, kat.key) == kat.expected);
    }
    for (const auto& kat : kat_philox4x32_7) {
        CAPTURE(kat.counter[0]);
        CHECK(mrsolve::detail::philox4x32<7>(kat.counter, kat.key) == kat.expected);
    }
}

TEST_CASE("open-interval uniforms never reach 0 or 1 and the Box-Muller output is finite at the extremes") {
    using mrsolve::detail::uniform_open_double;
    using mrsolve::detail::uniform_open_float;
    const std::array<std::uint32_t, 9> words{0u,          1u,          0x1ffu,      0x200u,     0x7fffffffu,
                                             0x80000000u, 0xfffffe00u, 0xfffffdffu, 0xffffffffu};
    for (const std::uint32_t w : words) {
        CAPTURE(w);
        const float u = uniform_open_float(w);
        CHECK(u > 0.0f);
        CHECK(u < 1.0f);
        CHECK(u + uniform_open_float(~w) == 1.0f);  // exact symmetry
        for (const std::uint32_t v : words) {
            const double d = uniform_open_double(w, v);
            CHECK(d > 0.0);
            CHECK(d < 1.0);
            CHECK(d + uniform_open_double(~w, ~v) == 1.0);
        }
    }
    // 23 (float) and 52 (double) random bits: the lowest bits that matter move the value by one step.
    CHECK(uniform_open_float(0x200u) - uniform_open_float(0u) == 0x1p-23f);
    CHECK(uniform_open_float(0x1ffu) == uniform_open_float(0u));
    CHECK(uniform_open_double(0x1000u, 0u) - uniform_open_double(0u, 0u) == 0x1p-52);
    CHECK(uniform_open_double(0xfffu, 0u) == uniform_open_double(0u, 0u));
    CHECK(uniform_open_double(0u, 0x80000000u) == 0.5 + 0x1p-53);

    // Every combination of extreme radius and angle uniforms gives finite normals of bounded size.
    const std::array<std::uint32_t, 4> extremes{0u, 0x80000000u, 0xfffffdffu, 0xffffffffu};
    for (const std::uint32_t a : extremes) {
        for (const std::uint32_t b : extremes) {
            const auto f = mrsolve::detail::box_muller(uniform_open_float(a), uniform_open_float(b));
            CHECK(std::isfinite(f.z_cos));
            CHECK(std::isfinite(f.z_sin));
            CHECK(std::hypot(f.z_cos, f.z_sin) <= 5.8f);
            const auto d = mrsolve::detail::box_muller(uniform_open_double(a, a), uniform_open_double(b, b));
            CHECK(std::isfinite(d.z_cos));
            CHECK(std::isfinite(d.z_sin));
            CHECK(std::hypot(d.z_cos, d.z_sin) <= 8.6);
        }
    }
    // The largest radius is reached at the smallest uniform: √(−2 ln 2⁻²⁴) and √(−2 ln 2⁻⁵³).
    CHECK(mrsolve::detail::box_muller(uniform_open_float(0u), 0.0f).z_cos ==
          doctest::Approx(std::sqrt(48.0 * std::numbers::ln2)).epsilon(1e-6));
    CHECK(mrsolve::detail::box_muller(uniform_open_double(0u, 0u), 0.0).z_cos ==
          doctest::Approx(std::sqrt(106.0 * std::numbers::ln2)).epsilon(1e-12));
}

TEST_CASE("normal() follows the documented keying contract exactly") {
    const std::uint64_t seed = 0x0123456789abcdefULL;
    const philox_normal gen(seed);
    CHECK(gen.seed() == seed);
    const philox4x32_key key{0x89abcdefu, 0x01234567u};
    const std::uint64_t step = 0x0000000500000007ULL;
    const std::uint64_t group = 0x0000000300000011ULL;
    const philox4x32_counter counter{0x00000011u, 0x00000003u, 0x00000007u, 0x00000005u};
    const auto r = mrsolve::detail::philox4x32_10(counter, key);
    // The contract: R(u) = √(−2 ln u) with −2 ln u from detail::neg2_log, and (cos 2πu, sin 2πu) from
    // detail::sincos_turns, all in the element type.
    const auto radius = [](auto u) { return std::sqrt(mrsolve::detail::neg2_log(u)); };
    const auto turn = [](auto u) { return mrsolve::detail::sincos_turns(u); };
    // And against the exact value √(−2 ln u)·cos(2πu) in long double: within a few ulp.
    const auto exact = [](long double u_radius, long double u_angle, bool cosine) {
        const long double q = std::nearbyint(4 * u_angle);
        const long double angle = 2 * std::numbers::pi_v<long double> * (u_angle - q / 4);  // exact reduction
        const long double c = std::cos(angle), s = std::sin(angle);
        const int quadrant = static_cast<int>(q) & 3;
        const long double cos_u = quadrant == 0 ? c : quadrant == 1 ? -s : quadrant == 2 ? -c : s;
        const long double sin_u = quadrant == 0 ? s : quadrant == 1 ? c : quadrant == 2 ? -s : -c;
        return std::sqrt(-2 * std::log(u_radius)) * (cosine ? cos_u : sin_u);
    };

    SUBCASE("float: four elements per group, pairs (r0, r1) and (r2, r3)") {
        std::array<float, 4> u{};
        for (std::size_t k = 0; k < 4; ++k) u[k] = (static_cast<float>(r[k] >> 9) + 0.5f) * 0x1p-23f;
        const std::array<float, 4> expected{radius(u[0]) * turn(u[1]).cos, radius(u[0]) * turn(u[1]).sin,
                                            radius(u[2]) * turn(u[3]).cos, radius(u[2]) * turn(u[3]).sin};
        for (std::uint64_t j = 0; j < 4; ++j) {
            CAPTURE(j);
            const float z = gen.normal<float>(step, 4 * group + j);
            CHECK(same_bits(z, expected[j]));
            const long double e = exact(u[2 * (j / 2)], u[2 * (j / 2) + 1], j % 2 == 0);
            CHECK(std::abs(static_cast<long double>(z) - e) <= 4 * std::numeric_limits<float>::epsilon() * std::abs(e));
        }
    }
    SUBCASE("double: two elements per group, radius from (r0, r1), angle from (r2, r3)") {
        const auto u53 = [](std::uint32_t lo, std::uint32_t hi) {
            const std::uint64_t w = (std::uint64_t{hi} << 32) | lo;
            return (static_cast<double>(w >> 12) + 0.5) * 0x1p-52;
        };
        const double a = u53(r[0], r[1]);
        const double b = u53(r[2], r[3]);
        CHECK(same_bits(gen.normal<double>(step, 2 * group), radius(a) * turn(b).cos));
        CHECK(same_bits(gen.normal<double>(step, 2 * group + 1), radius(a) * turn(b).sin));
        for (const bool cosine : {true, false}) {
            const double z = gen.normal<double>(step, 2 * group + (cosine ? 0 : 1));
            const long double e = exact(a, b, cosine);
            CHECK(std::abs(static_cast<long double>(z) - e) <= 4 * std::numeric_limits<double>::epsilon() * std::abs(e));
        }
        // long double is the double stream, converted.
        CHECK(gen.normal<long double>(step, 2 * group + 1) ==
              static_cast<long double>(gen.normal<double>(step, 2 * group + 1)));
    }
}

namespace {

// |got − exact| in units of the last place of T at the exact value.
template <class T>
long double ulp_error(T got, long double exact) {
    const T rounded = static_cast<T>(exact);
    const T magnitude = std::abs(rounded);
    const long double ulp = static_cast<long double>(std::nextafter(magnitude, std::numeric_limits<T>::infinity()) - magnitude);
    return std::abs(static_cast<long double>(got) - exact) / ulp;
}

// cos 2πu and sin 2πu in long double with the exact reduction u − q/4 (no rounding of the angle).
std::array<long double, 2> exact_turn(long double u) {
    const long double q = std::nearbyint(4 * u);
    const long double angle = 2 * std::numbers::pi_v<long double> * (u - q / 4);
    const long double c = std::cos(angle), s = std::sin(angle);
    switch (static_cast<int>(q) & 3) {
        case 0: return {c, s};
        case 1: return {-s, c};
        case 2: return {-c, -s};
        default: return {s, -c};
    }
}

}  // namespace

TEST_CASE("the Box-Muller elementary functions are accurate to about an ulp") {
    // Bounds measured over these inputs (without FMA contraction; with it the errors are smaller):
    // float −2 ln u ≤ 0.86 ulp, cos/sin ≤ 1.58 ulp, normals ≤ 3.2 ulp; double 0.85, 1.64, 3.2 ulp.
    using mrsolve::detail::neg2_log;
    using mrsolve::detail::sincos_turns;
    long double log_f = 0, turn_f = 0, z_f = 0, log_d = 0, turn_d = 0, z_d = 0;
    // float: every third of the 2²³ uniforms uniform_open_float produces (all exponents, all quadrants).
    for (std::uint32_t k = 0; k < (1u << 23); k += 3) {
        const float u = mrsolve::detail::uniform_open_float(k << 9);
        const float w = neg2_log(u);
        const auto cs = sincos_turns(u);
        const auto exact = exact_turn(u);
        const long double lw = -2 * std::log(static_cast<long double>(u));
        log_f = std::max(log_f, ulp_error(w, lw));
        turn_f = std::max({turn_f, ulp_error(cs.cos, exact[0]), ulp_error(cs.sin, exact[1])});
        // A normal pairs the radius of one uniform with the angle of another: take u and its reflection.
        const float v = 1.0f - u;
        const auto cv = sincos_turns(v);
        const auto ev = exact_turn(v);
        const long double rl = std::sqrt(lw);
        z_f = std::max({z_f, ulp_error(std::sqrt(w) * cv.cos, rl * ev[0]), ulp_error(std::sqrt(w) * cv.sin, rl * ev[1])});
    }
    // double: a million uniforms of every scale, near 0, near 1 and near the quadrant boundaries.
    for (std::uint64_t i = 0; i < (1u << 20); ++i) {
        const auto r = mrsolve::detail::philox4x32_10(mrsolve::detail::philox_normal_counter(i, 1), {1u, 2u});
        double u = mrsolve::detail::uniform_open_double(r[0], r[1]);
        if (i % 4 == 1) u = std::ldexp(u, -static_cast<int>(r[2] % 50));  // down to 2⁻⁵³·2⁻⁵⁰
        if (i % 4 == 2) u = 1.0 - std::ldexp(u, -static_cast<int>(r[2] % 40));
        const double a = mrsolve::detail::uniform_open_double(r[2], r[3]);
        const double w = neg2_log(u);
        const auto cs = sincos_turns(a);
        const auto exact = exact_turn(a);
        const long double lw = -2 * std::log(static_cast<long double>(u));
        log_d = std::max(log_d, ulp_error(w, lw));
        turn_d = std::max({turn_d, ulp_error(cs.cos, exact[0]), ulp_error(cs.sin, exact[1])});
        const long double rl = std::sqrt(lw);
        z_d = std::max({z_d, ulp_error(std::sqrt(w) * cs.cos, rl * exact[0]), ulp_error(std::sqrt(w) * cs.sin, rl * exact[1])});
    }
    CAPTURE(log_f);
    CAPTURE(turn_f);
    CAPTURE(z_f);
    CAPTURE(log_d);
    CAPTURE(turn_d);
    CAPTURE(z_d);
    CHECK(log_f <= 1.0L);
    CHECK(turn_f <= 1.75L);
    CHECK(z_f <= 3.5L);
    CHECK(log_d <= 1.0L);
    CHECK(turn_d <= 1.75L);
    CHECK(z_d <= 3.5L);
    // Exact special values: ln 1 = 0, and the quarter turns (u = k/4 never comes from the uniforms, but
    // the reduction handles it).
    CHECK(neg2_log(1.0f) == 0.0f);
    CHECK(neg2_log(1.0) == 0.0);
    CHECK(sincos_turns(0.0f).cos == 1.0f);
    CHECK(sincos_turns(0.0f).sin == 0.0f);
    CHECK(sincos_turns(0.25).cos == 0.0);
    CHECK(sincos_turns(0.25).sin == 1.0);
    CHECK(sincos_turns(0.5f).cos == -1.0f);
    CHECK(sincos_turns(0.75).sin == -1.0);
}

TEST_CASE("the 64-bit-lane Philox formulation gives the Philox4x32-10 words") {
    for (const auto& kat : kat_philox4x32_10) {
        std::uint64_t x0 = kat.counter[0], x1 = kat.counter[1], x2 = kat.counter[2], x3 = kat.counter[3];
        mrsolve::detail::philox4x32_10_lanes64(x0, x1, x2, x3, kat.key);
        CHECK(x0 == kat.expected[0]);
        CHECK(x1 == kat.expected[1]);
        CHECK(x2 == kat.expected[2]);
        CHECK(x3 == kat.expected[3]);
    }
}

TEST_CASE_TEMPLATE("normals have the standard normal distribution", T, float, double) {
    constexpr std::size_t n = std::size_t{1} << 20;
    const philox_normal gen(20240607);
    std::vector<T> z(n);
    gen.fill(std::span<T>(z), 3);

    double sum = 0.0;
    double sum_sq = 0.0;
    double sum_4 = 0.0;
    std::size_t beyond_3 = 0;
    std::size_t non_finite = 0;
    std::array<double, 4> position_sum{};  // mean per position in the 4-element layout
    double pair_product = 0.0;             // correlation of the cos/sin partners of one Box-Muller pair
    for (std::size_t i = 0; i < n; ++i) {
        const double x = static_cast<double>(z[i]);
        if (!std::isfinite(x)) ++non_finite;
        sum += x;
        sum_sq += x * x;
        sum_4 += x * x * x * x;
        if (std::abs(x) > 3.0) ++beyond_3;
        position_sum[i % 4] += x;
        if (i % 2 == 0) pair_product += x * static_cast<double>(z[i + 1]);
    }
    const double nd = static_cast<double>(n);
    const double mean = sum / nd;
    const double variance = sum_sq / nd - mean * mean;
    CHECK(non_finite == 0);
    CHECK(std::abs(mean) < 5.0 / std::sqrt(nd));
    CHECK(std::abs(variance - 1.0) < 5.0 * std::sqrt(2.0 / nd));
    CHECK(std::abs(sum_4 / nd - 3.0) < 5.0 * std::sqrt(96.0 / nd));  // fourth moment 3, variance 96
    for (const double s : position_sum) CHECK(std::abs(s / (nd / 4)) < 5.0 / std::sqrt(nd / 4));
    CHECK(std::abs(pair_product / (nd / 2)) < 5.0 / std::sqrt(nd / 2));

    const double p3 = std::erfc(3.0 / std::numbers::sqrt2);  // 0.0026998
    const double frac3 = static_cast<double>(beyond_3) / nd;
    CHECK(std::abs(frac3 - p3) < 5.0 * std::sqrt(p3 * (1 - p3) / nd));

    // Chi-square over 100 equiprobable bins of the normal CDF (99 degrees of freedom: mean 99, sd 14.1).
    constexpr std::size_t bins = 100;
    std::array<double, bins> count{};
    std::vector<double> cdf(n);
    for (std::size_t i = 0; i < n; ++i) {
        cdf[i] = phi(static_cast<double>(z[i]));
        const auto b = std::min(bins - 1, static_cast<std::size_t>(cdf[i] * bins));
        count[b] += 1;
    }
    const double expected = nd / bins;
    double chi2 = 0.0;
    for (const double c : count) chi2 += (c - expected) * (c - expected) / expected;
    CAPTURE(chi2);
    CHECK(chi2 < 99.0 + 5.0 * std::sqrt(2.0 * 99.0));
    CHECK(chi2 > 99.0 - 5.0 * std::sqrt(2.0 * 99.0));

    // Kolmogorov-Smirnov: √n·D below 1.95 (p ≈ 0.001).
    std::sort(cdf.begin(), cdf.end());
    double d = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
        d = std::max({d, cdf[i] - static_cast<double>(i) / nd, static_cast<double>(i + 1) / nd - cdf[i]});
    }
    CAPTURE(d);
    CHECK(std::sqrt(nd) * d < 1.95);
}

TEST_CASE_TEMPLATE("normals along the step axis are standard normal and finite", T, float, double) {
    // One element across many steps: exercises the step words of the counter.
    constexpr std::uint64_t steps = 200000;
    const philox_normal gen(7);
    double sum = 0.0;
    double sum_sq = 0.0;
    std::size_t non_finite = 0;
    for (std::uint64_t s = 0; s < steps; ++s) {
        const auto x = static_cast<double>(gen.normal<T>(s, 12345));
        if (!std::isfinite(x)) ++non_finite;
        sum += x;
        sum_sq += x * x;
    }
    const auto nd = static_cast<double>(steps);
    CHECK(non_finite == 0);
    CHECK(std::abs(sum / nd) < 5.0 / std::sqrt(nd));
    CHECK(std::abs(sum_sq / nd - 1.0) < 5.0 * std::sqrt(2.0 / nd));
}

TEST_CASE_TEMPLATE("fill() equals normal() element by element for any offset and length", T, float, double,
                   long double) {
    const philox_normal gen(0xfeedfacecafebeefULL);
    const std::uint64_t step = 42;
    const std::array<std::uint64_t, 9> firsts{0,  1,  2,   3,   5,
                                              7,  64, 257, std::numeric_limits<std::uint64_t>::max() - 5};
    const std::array<std::size_t, 14> lengths{0, 1, 2, 3, 4, 5, 7, 8, 63, 255, 256, 257, 258, 1000};
    for (const std::uint64_t first : firsts) {
        for (const std::size_t len : lengths) {
            CAPTURE(first);
            CAPTURE(len);
            std::vector<T> out(len, T{-999});
            gen.fill(std::span<T>(out), step, first);
            std::size_t mismatches = 0;
            for (std::size_t i = 0; i < len; ++i) {
                // first + i wraps modulo 2⁶⁴ for the last offset
                if (!same_bits(out[i], gen.template normal<T>(step, first + i))) ++mismatches;
            }
            CHECK(mismatches == 0);
        }
    }
}

TEST_CASE_TEMPLATE("the values do not depend on how a range is split into fills", T, float, double) {
    const philox_normal gen(99);
    constexpr std::size_t n = 3001;
    std::vector<T> whole(n);
    gen.fill(std::span<T>(whole), 5, 11);

    // The same elements drawn in chunks of irregular sizes, in reverse order.
    const std::array<std::size_t, 6> cuts{0, 1, 130, 1023, 2999, n};
    std::vector<T> pieces(n, T{-999});
    for (std::size_t c = cuts.size() - 1; c-- > 0;) {
        const std::size_t begin = cuts[c];
        const std::size_t end = cuts[c + 1];
        gen.fill(std::span<T>(pieces).subspan(begin, end - begin), 5, 11 + begin);
    }
    CHECK(std::memcmp(whole.data(), pieces.data(), n * sizeof(T)) == 0);

    // A copy of the generator gives the same stream; the generator holds no state.
    const philox_normal copy = gen;
    CHECK(same_bits(copy.normal<T>(5, 11 + 1234), whole[1234]));
}

TEST_CASE_TEMPLATE("different seeds, steps and elements give different streams", T, float, double) {
    static constexpr std::size_t n = 64;
    const auto draw = [](std::uint64_t seed, std::uint64_t step, std::uint64_t first) {
        std::vector<T> v(n);
        philox_normal(seed).fill(std::span<T>(v), step, first);
        return v;
    };
    const auto differ_everywhere = [](const std::vector<T>& a, const std::vector<T>& b) {
        for (std::size_t i = 0; i < n; ++i) {
            if (a[i] == b[i]) return false;
        }
        return true;
    };
    const auto base = draw(1, 0, 0);
    CHECK(differ_everywhere(base, draw(2, 0, 0)));                  // seed, low word
    CHECK(differ_everywhere(base, draw(1 + (1ULL << 32), 0, 0)));   // seed, high word
    CHECK(differ_everywhere(base, draw(1, 1, 0)));                  // step, low word
    CHECK(differ_everywhere(base, draw(1, 1ULL << 32, 0)));         // step, high word
    CHECK(differ_everywhere(base, draw(1, 0, n)));                  // next elements
    CHECK(differ_everywhere(base, draw(1, 0, 1ULL << 40)));         // element group, high word
    CHECK(differ_everywhere(base, draw(0, 0, 0)));                  // seed 0 is a valid seed
    // Neighbouring elements are distinct values too (no duplicated pair members).
    for (std::size_t i = 0; i + 1 < n; ++i) CHECK(base[i] != base[i + 1]);
}

}  // namespace test_noise
