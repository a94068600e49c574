// A standalone check of the normal generator's speed: philox_normal::fill of 3·256·256 floats, best of
// 200 calls, thread CPU time. Not part of the CMake build; compile it with the flags to compare, e.g.
//   g++ -std=c++20 -O3 -march=native -Iinclude bench/normal_fill.cpp -o /tmp/normal_fill && /tmp/normal_fill
//   g++ -std=c++20 -O3 -march=native -fno-math-errno -Iinclude bench/normal_fill.cpp -o /tmp/normal_fill && /tmp/normal_fill
// (docs/performance.md quotes its output).

#include <mrsolve/noise/normal.hpp>

#include <cstdio>
#include <ctime>
#include <span>
#include <vector>

namespace {
double thread_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
}  // namespace

int main() {
    const std::size_t n = 3 * 256 * 256;
    std::vector<float> v(n);
    const mrsolve::philox_normal generator(2024);
    double best = 1e9;
    float checksum = 0;
    for (int r = 0; r < 200; ++r) {
        const double t0 = thread_seconds();
        generator.fill(std::span<float>(v), static_cast<std::uint64_t>(r));
        const double dt = thread_seconds() - t0;
        if (dt < best) best = dt;
        checksum += v[static_cast<std::size_t>(r)];
    }
    std::printf("philox_normal::fill of %zu floats: best %.1f us (%.2f ns per normal), checksum %g\n", n, best * 1e6,
                best * 1e9 / static_cast<double>(n), static_cast<double>(checksum));
    return 0;
}
