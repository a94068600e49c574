// mrsolve_bench_thrust_{cpp,omp,cuda}: the cost of one solver step with a zero-cost model on
// thrust::device_vector<float>, for the device system this translation unit is compiled for, against a
// triad a = b + s·c run by Thrust on the same device system (one thrust::transform) in this binary.
//
// One executable per device system: thrust::device_vector and mrsolve's Thrust kernels are the same
// names with different definitions under THRUST_DEVICE_SYSTEM_CPP, _OMP and _CUDA, so two systems in one
// program would violate the one-definition rule.

#include "bench_common.hpp"

#include <memory>
#include <string>
#include <vector>

#if __has_include(<mrsolve/backend/thrust.hpp>)
#include <mrsolve/backend/thrust.hpp>
#include <thrust/transform.h>
#define MRSOLVE_BENCH_HAVE_THRUST 1
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#include <cuda_runtime_api.h>
#endif
#endif

namespace {

#if defined(MRSOLVE_BENCH_HAVE_THRUST)
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
constexpr const char* backend_name = "thrust_cuda";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
constexpr const char* backend_name = "thrust_omp";
#else
constexpr const char* backend_name = "thrust_cpp";
#endif

using state = thrust::device_vector<float>;

struct triad_op {
    float s;
    MRSOLVE_HOST_DEVICE float operator()(float b, float c) const { return b + s * c; }
};

std::function<void()> device_triad_pass(std::size_t n) {
    auto a = std::make_shared<state>(n, 0.0f);
    const std::vector<float> hb = mrsolve_bench::host_values(n, 0.0f), hc = mrsolve_bench::host_values(n, 0.25f);
    auto b = std::make_shared<state>(hb.begin(), hb.end());
    auto c = std::make_shared<state>(hc.begin(), hc.end());
    return [a, b, c] {
        thrust::transform(thrust::device, b->begin(), b->end(), c->begin(), a->begin(), triad_op{0.5f});
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
        cudaDeviceSynchronize();
#endif
    };
}

void register_all(int repetitions, double min_time) {
    using mrsolve_bench::image_shape;
    const mrsolve_bench::backend_ops<state> ops{
        backend_name, [](const image_shape&, const std::vector<float>& v) { return state(v.begin(), v.end()); }};
    for (const auto& shape : mrsolve_bench::shapes) {
        mrsolve_bench::register_triad(shape.size(), [n = shape.size()] { return device_triad_pass(n); }, repetitions,
                                      min_time);
        mrsolve_bench::register_solvers(ops, shape, repetitions, min_time);
    }
}
#else
constexpr const char* backend_name = "none (mrsolve/backend/thrust.hpp not found)";
void register_all(int, double) {}
#endif

}  // namespace

int main(int argc, char** argv) {
    return mrsolve_bench::run_main(argc, argv, std::string("mrsolve_bench_") + backend_name, backend_name, register_all);
}
