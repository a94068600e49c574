// The run-time choice of instruction set for the host kernels (mrsolve/simd.hpp): each instruction set
// the processor has can be chosen, and every one gives the bits of the portable loops, for the normal
// generator, the fused linear map, the finiteness check and whole stochastic and deterministic runs.
// The portable loops compiled here (without -march, so without contraction) evaluate the keying
// contract of philox_normal exactly; the SIMD kernels are compiled for their instruction set inside
// this translation unit whatever its flags.
#include <doctest/doctest.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/simd.hpp>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_simd {

namespace {

using mrsolve::simd_isa;

/// Runs body() with the kernels forced to one instruction set, then restores the process choice.
template <class Body>
void with_isa(simd_isa isa, Body&& body) {
    mrsolve::detail::simd_isa_override.store(static_cast<int>(isa));
    try {
        body();
    } catch (...) {
        mrsolve::detail::simd_isa_override.store(-1);
        throw;
    }
    mrsolve::detail::simd_isa_override.store(-1);
}

/// Every instruction set this processor can run, the portable loops included.
std::vector<simd_isa> runnable_isas() {
    std::vector<simd_isa> out;
    const int widest = static_cast<int>(mrsolve::detail::widest_supported_simd_isa());
    for (int i = 0; i <= widest; ++i) out.push_back(static_cast<simd_isa>(i));
    return out;
}

template <class T>
bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(a[i]) !=
            std::bit_cast<std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>(b[i]))
            return false;
    return true;
}

/// The normals of [first, first + n) at one step by the portable loops, group by group.
template <class T>
std::vector<T> portable_normals(std::uint64_t seed, std::uint64_t step, std::uint64_t first, std::size_t n) {
    constexpr std::uint64_t g = mrsolve::philox_normal::elements_per_group<T>;
    const mrsolve::detail::philox4x32_key key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
    std::vector<T> out(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t element = first + i;
        std::array<T, g> group{};
        mrsolve::detail::philox_normal_block_portable<T>(group.data(), 1, element / g, step, key);
        out[i] = group[element % g];
    }
    return out;
}

}  // namespace

TEST_CASE("the widest instruction set the processor has is chosen, and MRSOLVE_SIMD caps it") {
    const simd_isa widest = mrsolve::detail::widest_supported_simd_isa();
#if defined(MRSOLVE_DETAIL_SIMD_DISPATCH)
    CHECK(widest != simd_isa::portable);  // x86-64 has SSE2 at least
#endif
    // CTest runs this file again with MRSOLVE_SIMD set and MRSOLVE_SIMD_EXPECT naming the outcome.
    const char* expect = std::getenv("MRSOLVE_SIMD_EXPECT");
    const char* cap = std::getenv("MRSOLVE_SIMD");
    if (expect == nullptr) {
        if (cap == nullptr) CHECK(mrsolve::host_simd_isa() == widest);
        return;
    }
    CAPTURE(cap);
    if (std::string(expect) == "invalid") {
        const std::string named = std::string("MRSOLVE_SIMD=") + cap;
        CHECK_THROWS_WITH_AS((void)mrsolve::host_simd_isa(), doctest::Contains(named.c_str()), std::invalid_argument);
        // The samplers refuse to run rather than silently ignoring the setting.
        const mrsolve::irsde_table<double> table;
        std::vector<double> x(8, 0.1), mu(8, 0.0);
        const auto grid = mrsolve::make_grid(table, mrsolve::schedule_kind::linspace, 5);
        const auto model = [](const std::vector<double>& xs, const std::vector<double>&, double, std::vector<double>& out) {
            out = xs;
        };
        CHECK_THROWS_AS(mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, table,
                                        std::span<const double>(grid), model, x, mu),
                        std::invalid_argument);
    } else {
        CHECK(mrsolve::simd_isa_name(mrsolve::host_simd_isa()) == std::string(expect));
        CHECK(mrsolve::simd_isa_name(mrsolve::detail::active_simd_isa()) == std::string(expect));
    }
}

TEST_CASE_TEMPLATE("every instruction set generates the normals of the keying contract, bit for bit", T, float,
                   double) {
    const std::uint64_t seed = 0x9e3779b97f4a7c15ull;
    // Offsets and lengths that start and end inside groups and inside vectors, a long run, and element
    // indices whose group counter carries from the low into the high word and wraps modulo 2⁶⁴.
    struct range {
        std::uint64_t first;
        std::size_t n;
    };
    const std::array<range, 7> ranges{{{0, 1}, {3, 5}, {1, 70}, {5, 1000}, {0, 4099},
                                       {0xfffffffffULL * 4 - 37, 300}, {~std::uint64_t{0} - 150, 300}}};
    for (const std::uint64_t step : {std::uint64_t{1}, std::uint64_t{0x100000007ull}}) {
        for (const range& r : ranges) {
            const std::vector<T> expected = portable_normals<T>(seed, step, r.first, r.n);
            for (const simd_isa isa : runnable_isas()) {
                CAPTURE(mrsolve::simd_isa_name(isa));
                CAPTURE(r.first);
                CAPTURE(r.n);
                with_isa(isa, [&] {
                    std::vector<T> got(r.n);
                    mrsolve::philox_normal(seed).fill(std::span<T>(got), step, r.first);
                    CHECK(same_bits(got, expected));
                    CHECK(mrsolve::philox_normal(seed).normal<T>(step, r.first) == expected[0]);
                });
            }
        }
    }
}

TEST_CASE_TEMPLATE("every instruction set computes the fused linear map and the finiteness check bit for bit", T,
                   float, double) {
    const std::size_t n = 1000 + 13;  // whole vectors of every width and a tail
    std::vector<T> a(n), b(n), c(n);
    for (std::size_t e = 0; e < n; ++e) {
        a[e] = static_cast<T>(std::sin(0.37 * double(e)) * 3.0);
        b[e] = static_cast<T>(std::cos(1.13 * double(e)) / 7.0);
        c[e] = static_cast<T>(0.001 * double(e) - 0.4);
    }
    const std::array<std::array<T, 3>, 2> coef{{{T(0.3), T(-1.7), T(2.5e-3)}, {T(1.0) / T(3), T(0.9), T(-4.1)}}};
    const auto run = [&](bool portable, std::vector<T>& o0, std::vector<T>& o1) {
        o0.assign(n, T(0));
        o1.assign(n, T(0));
        const std::array<T*, 2> out{o0.data(), o1.data()};
        const std::array<const T*, 3> in{a.data(), b.data(), c.data()};
        return portable ? mrsolve::detail::linear_map_kernel_portable<2, 3>(n, out, coef, in)
                        : mrsolve::detail::linear_map_kernel<2, 3>(n, out, coef, in);
    };
    std::vector<T> e0, e1;
    CHECK(run(true, e0, e1) == 0u);
    for (const simd_isa isa : runnable_isas()) {
        CAPTURE(mrsolve::simd_isa_name(isa));
        with_isa(isa, [&] {
            std::vector<T> o0, o1;
            CHECK(run(false, o0, o1) == 0u);
            CHECK(same_bits(o0, e0));
            CHECK(same_bits(o1, e1));
            // A non-finite value anywhere, in a vector or in the tail, is reported.
            for (const std::size_t at : {std::size_t{0}, std::size_t{517}, n - 1}) {
                for (const T bad : {std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::infinity()}) {
                    const T saved = b[at];
                    b[at] = bad;
                    CHECK(run(false, o0, o1) != 0u);
                    CHECK_FALSE(mrsolve::detail::all_finite_host(b.data(), n));
                    b[at] = saved;
                }
            }
            CHECK(mrsolve::detail::all_finite_host(b.data(), n));
        });
    }
}

TEST_CASE_TEMPLATE("whole runs give the same bits with every instruction set", T, float, double) {
    using table_t = mrsolve::irsde_table<double>;
    const table_t table;
    const std::size_t dim = 301;
    std::vector<double> mean(dim), sd(dim);
    for (std::size_t j = 0; j < dim; ++j) {
        mean[j] = 0.5 * std::sin(1.1 * double(j));
        sd[j] = 0.1 + 0.05 * double(j % 7);
    }
    const mrsolve::gaussian_diagonal_oracle<table_t> oracle(table, mean, sd);
    std::vector<T> mu(dim);
    for (std::size_t j = 0; j < dim; ++j) mu[j] = static_cast<T>(0.2 * std::cos(double(j)));
    const auto grid = mrsolve::make_grid(table, mrsolve::schedule_kind::linspace, 10);
    const auto run = [&](const auto& method) {
        std::vector<T> x(dim);
        mrsolve::stationary_start(table, mu, x, 3);
        mrsolve::sample(method, table, std::span<const double>(grid),
                        oracle.model(mrsolve::fit_target::noise), x, mu, {}, mrsolve::counter_noise{11});
        return x;
    };
    const auto check_method = [&](const auto& method) {
        CAPTURE(method.name());
        std::vector<T> expected;
        with_isa(simd_isa::portable, [&] { expected = run(method); });
        for (const simd_isa isa : runnable_isas()) {
            CAPTURE(mrsolve::simd_isa_name(isa));
            with_isa(isa, [&] { CHECK(same_bits(run(method), expected)); });
        }
    };
    check_method(mrsolve::mr_sde<mrsolve::data_prediction>{2});
    check_method(mrsolve::mr_ode<mrsolve::data_prediction>{2});
    check_method(mrsolve::euler_maruyama{});
}

TEST_CASE("sample results name the kernels the updates ran on") {
    using table_t = mrsolve::irsde_table<double>;
    const table_t table;
    const std::vector<double> mean(64, 0.25), sd(64, 0.5);
    const mrsolve::gaussian_diagonal_oracle<table_t> oracle(table, mean, sd);
    const std::vector<float> mu(64, 0.1f);
    const auto grid = mrsolve::make_grid(table, mrsolve::schedule_kind::linspace, 5);
    for (const simd_isa isa : runnable_isas()) {
        CAPTURE(mrsolve::simd_isa_name(isa));
        with_isa(isa, [&] {
            std::vector<float> x(64, 0.3f);
            const mrsolve::sample_result result =
                mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, table, std::span<const double>(grid),
                                oracle.model(mrsolve::fit_target::noise), x, mu);
            CHECK(result.execution_path == mrsolve::detail::host_kernel_path(isa));
            CHECK(result.execution_path.starts_with("host/"));
            CHECK(result.execution_path.ends_with(mrsolve::simd_isa_name(isa)));
        });
    }
}

}  // namespace test_simd
