// mrsolve_bench_flags_<variant>: the MR Sampler ODE-2 and SDE-2 steps (data prediction, std::vector<float>,
// zero-cost model) and the triad, built once per compiler-flag variant (bench/CMakeLists.txt) to show
// what a user's build flags cost: bench/flag_report.py prints the table of docs/performance.md.

#include "bench_common.hpp"

#include <string>
#include <vector>

namespace {

void register_all(int repetitions, double min_time) {
    const mrsolve_bench::backend_ops<std::vector<float>> std_vector{
        "std_vector", [](const mrsolve_bench::image_shape&, const std::vector<float>& v) { return v; }};
    for (const auto& shape : mrsolve_bench::shapes) {
        if (shape.size() < 196608) continue;  // 1×3×256×256 and 16×3×256×256
        mrsolve_bench::register_triad(shape.size(), [n = shape.size()] { return mrsolve_bench::host_triad_pass(n); },
                                      repetitions, min_time);
        mrsolve_bench::register_step("ode_data_2", mrsolve::mr_ode<mrsolve::data_prediction>{2}, std_vector, shape,
                                     repetitions, min_time);
        mrsolve_bench::register_step("sde_data_2", mrsolve::mr_sde<mrsolve::data_prediction>{2}, std_vector, shape,
                                     repetitions, min_time);
    }
}

}  // namespace

int main(int argc, char** argv) {
    return mrsolve_bench::run_main(argc, argv, "mrsolve_bench_flags (" MRSOLVE_BENCH_VARIANT ")", "std_vector",
                                   register_all);
}
