// Compile-fail test: a thrust::device_vector state without <mrsolve/backend/thrust.hpp> must not compile, and
// the error must name the header. With MRSOLVE_COMPILE_FAIL_CONTROL (the control) the header is included and
// it compiles (host compiler, THRUST_DEVICE_SYSTEM_CPP).
#include <mrsolve/mrsolve.hpp>
#include <thrust/device_vector.h>
#include <thrust/functional.h>
#include <thrust/transform.h>
#ifdef MRSOLVE_COMPILE_FAIL_CONTROL
#include <mrsolve/backend/thrust.hpp>
#endif

int main() {
    using vector = thrust::device_vector<double>;
    const mrsolve::irsde_table<double> sde;
    const vector mu(8, 0.5);
    vector x = mu;
    const auto network = [](const vector& x, const vector& mu, double, vector& out) {
        thrust::transform(x.begin(), x.end(), mu.begin(), out.begin(), thrust::minus<double>());
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, 10);
    return mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, sde, grid, network, x, mu).nfe == 10 ? 0 : 1;
}
