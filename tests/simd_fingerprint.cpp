// Prints FNV-1a hashes of results that go through mrsolve's host kernels: `kernels_fingerprint` of the
// normals (float and double, ranges that start and end inside groups and vectors) and the fused linear
// map, and `runs_fingerprint` of whole ODE-2 and SDE-2 runs on a Gaussian problem. tests/CMakeLists.txt
// builds it with several compiler-flag variants (-O0, -O1, -O2, -O3 -march=native) and compares the
// hashes (tests/same_output.cmake). The kernels are compiled for their instruction set without
// contraction whatever the flags, so every variant prints the same kernels_fingerprint. Whole runs also
// involve scalar code compiled with the program's flags (the step coefficients, and here the oracle's
// network), which GCC contracts into FMA under -march=native: their hash is compared among the variants
// without -march.
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

namespace {

constexpr std::uint64_t fnv_offset = 1469598103934665603ull;
std::uint64_t hash = fnv_offset;

template <class T>
void mix(const std::vector<T>& values) {
    for (const T v : values) {
        std::uint64_t w = 0;
        if constexpr (sizeof(T) == 4) w = std::bit_cast<std::uint32_t>(v);
        else w = std::bit_cast<std::uint64_t>(v);
        for (int b = 0; b < 8; ++b) {
            hash ^= (w >> (8 * b)) & 0xff;
            hash *= 1099511628211ull;
        }
    }
}

template <class T>
void normals() {
    const mrsolve::philox_normal generator(0x5eed);
    for (const std::uint64_t first : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{1} << 34}) {
        std::vector<T> z(4099);
        generator.fill(std::span<T>(z), 7, first);
        mix(z);
    }
}

template <class T>
void linear_map() {
    const std::size_t n = 1013;
    std::vector<T> a(n), b(n), o0(n), o1(n);
    for (std::size_t e = 0; e < n; ++e) {
        a[e] = static_cast<T>(std::sin(0.37 * double(e)));
        b[e] = static_cast<T>(std::cos(1.13 * double(e)) / 7.0);
    }
    const std::array<std::array<T, 2>, 2> c{{{T(0.3), T(-1.7)}, {T(1) / T(3), T(0.9)}}};
    (void)mrsolve::detail::linear_map_host<2, 2>(n, std::array<T*, 2>{o0.data(), o1.data()}, c,
                                                 std::array<const T*, 2>{a.data(), b.data()});
    mix(o0);
    mix(o1);
}

template <class T>
void runs() {
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
        mrsolve::sample(method, table, std::span<const double>(grid), oracle.model(mrsolve::fit_target::noise), x,
                        mu, {}, mrsolve::counter_noise{11});
        mix(x);
    };
    run(mrsolve::mr_sde<mrsolve::data_prediction>{2});
    run(mrsolve::mr_ode<mrsolve::data_prediction>{2});
}

}  // namespace

int main() {
    normals<float>();
    normals<double>();
    linear_map<float>();
    linear_map<double>();
    const std::uint64_t kernels = hash;
    hash = fnv_offset;
    runs<float>();
    runs<double>();
    std::printf("kernels=%s kernels_fingerprint=%016llx runs_fingerprint=%016llx\n",
                std::string(mrsolve::simd_isa_name(mrsolve::host_simd_isa())).c_str(),
                static_cast<unsigned long long>(kernels), static_cast<unsigned long long>(hash));
    return 0;
}
