// Compile-fail test: a torch::Tensor state without <mrsolve/adapters/libtorch.hpp> must not compile, and the
// error must name the header. With MRSOLVE_COMPILE_FAIL_CONTROL (the control) the header is included and it
// compiles.
#include <mrsolve/mrsolve.hpp>
#include <torch/types.h>  // torch::Tensor and its factories (not all of <torch/torch.h>)
#ifdef MRSOLVE_COMPILE_FAIL_CONTROL
#include <mrsolve/adapters/libtorch.hpp>
#endif

int main() {
    const mrsolve::irsde_table<double> sde;
    const torch::Tensor mu = torch::full({8}, 0.5, torch::kFloat64);
    torch::Tensor x = mu.clone();
    const auto network = [](const torch::Tensor& x, const torch::Tensor& mu, double, torch::Tensor& out) {
        out.copy_(x - mu);
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, 10);
    return mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, sde, grid, network, x, mu).nfe == 10 ? 0 : 1;
}
