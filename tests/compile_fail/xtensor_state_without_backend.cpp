// Compile-fail test: an xtensor state without <mrsolve/backend/xtensor.hpp> must not compile (xt::xarray would
// otherwise pass for a contiguous container), and the error must name the header. With
// MRSOLVE_COMPILE_FAIL_CONTROL (the control) the header is included and it compiles.
#include <mrsolve/mrsolve.hpp>
#include <xtensor/xarray.hpp>
#ifdef MRSOLVE_COMPILE_FAIL_CONTROL
#include <mrsolve/backend/xtensor.hpp>
#endif

int main() {
    const mrsolve::irsde_table<double> sde;
    const xt::xarray<double> mu(xt::xarray<double>::shape_type{2, 4}, 0.5);
    xt::xarray<double> x = mu;
    const auto network = [](const xt::xarray<double>& x, const xt::xarray<double>& mu, double, xt::xarray<double>& out) {
        out = x - mu;
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, 10);
    return mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, sde, grid, network, x, mu).nfe == 10 ? 0 : 1;
}
