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
        mrsolve_bench::register_triad(shape.size(), [n = shape.size()] { return mrsolve_bench::host_triad_pass(n); }, repetitions,
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
