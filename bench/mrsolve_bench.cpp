// mrsolve_bench: the cost of one solver step with a zero-cost model, on the host backends (std::vector,
// Eigen, xtensor), single thread, against a plain triad measured in this binary. See bench_common.hpp for
// the method and docs/performance.md for the figures.

#include "bench_common.hpp"

#include <memory>
#include <string>
#include <vector>

#if defined(MRSOLVE_BENCH_EIGEN)
#include <mrsolve/backend/eigen.hpp>
#endif
#if defined(MRSOLVE_BENCH_XTENSOR) && __has_include(<mrsolve/backend/xtensor.hpp>)
#include <mrsolve/backend/xtensor.hpp>
#define MRSOLVE_BENCH_HAVE_XTENSOR 1
#endif

namespace {

// The triad reference: a = b + s·c over n floats, one pass, the same compiler and flags as the steps.
// In the OpenMP build it is shared among the threads exactly when mrsolve's host loops are (same chunks,
// same threshold), so the ratio compares like with like.
[[gnu::noinline]] void triad_kernel(float* __restrict a, const float* __restrict b, const float* __restrict c,
                                    float s, std::size_t n) noexcept {
    for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}
void triad(float* a, const float* b, const float* c, float s, std::size_t n) noexcept {
    mrsolve::detail::for_host_chunks(n, [&](std::size_t begin, std::size_t end) {
        triad_kernel(a + begin, b + begin, c + begin, s, end - begin);
        return 0u;
    });
}

std::function<void()> host_triad_pass(std::size_t n) {
    auto a = std::make_shared<std::vector<float>>(n, 0.0f);
    auto b = std::make_shared<std::vector<float>>(mrsolve_bench::host_values(n, 0.0f));
    auto c = std::make_shared<std::vector<float>>(mrsolve_bench::host_values(n, 0.25f));
    return [a, b, c, n] {
        triad(a->data(), b->data(), c->data(), 0.5f, n);
        benchmark::DoNotOptimize(a->data());
        benchmark::ClobberMemory();
    };
}

std::string backend_list() {
    std::string list = "std_vector";
#if defined(MRSOLVE_BENCH_EIGEN)
    list += ", eigen";
#endif
#if defined(MRSOLVE_BENCH_HAVE_XTENSOR)
    list += ", xtensor";
#endif
    return list;
}

void register_all(int repetitions, double min_time) {
    using mrsolve_bench::image_shape;
    const mrsolve_bench::backend_ops<std::vector<float>> std_vector{
        "std_vector", [](const image_shape&, const std::vector<float>& v) { return v; }};
#if defined(MRSOLVE_BENCH_EIGEN)
    const mrsolve_bench::backend_ops<Eigen::VectorXf> eigen{
        "eigen", [](const image_shape&, const std::vector<float>& v) {
            return Eigen::VectorXf(Eigen::Map<const Eigen::VectorXf>(v.data(), static_cast<Eigen::Index>(v.size())));
        }};
#endif
#if defined(MRSOLVE_BENCH_HAVE_XTENSOR)
    const mrsolve_bench::backend_ops<xt::xtensor<float, 4>> xtensor{
        "xtensor", [](const image_shape& s, const std::vector<float>& v) {
            xt::xtensor<float, 4> t({s.b, s.c, s.h, s.w});
            std::copy(v.begin(), v.end(), t.data());
            return t;
        }};
#endif
    for (const auto& shape : mrsolve_bench::shapes) {
        mrsolve_bench::register_triad(shape.size(), [n = shape.size()] { return host_triad_pass(n); }, repetitions,
                                      min_time);
        mrsolve_bench::register_solvers(std_vector, shape, repetitions, min_time);
#if defined(MRSOLVE_BENCH_EIGEN)
        mrsolve_bench::register_solvers(eigen, shape, repetitions, min_time);
#endif
#if defined(MRSOLVE_BENCH_HAVE_XTENSOR)
        mrsolve_bench::register_solvers(xtensor, shape, repetitions, min_time);
#endif
    }
}

}  // namespace

int main(int argc, char** argv) {
#if defined(_OPENMP)
    const char* binary = "mrsolve_bench_omp (std::vector, mrsolve's OpenMP host loops)";
#else
    const char* binary = "mrsolve_bench (host backends, one thread)";
#endif
    return mrsolve_bench::run_main(argc, argv, binary, backend_list(), register_all);
}
