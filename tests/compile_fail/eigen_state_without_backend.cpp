// Compile-fail test: an Eigen state without <mrsolve/backend/eigen.hpp> must not compile, and the error must
// name the header. With MRSOLVE_COMPILE_FAIL_CONTROL (the control) the header is included and it compiles.
#include <Eigen/Core>
#include <mrsolve/mrsolve.hpp>
#ifdef MRSOLVE_COMPILE_FAIL_CONTROL
#include <mrsolve/backend/eigen.hpp>
#endif

int main() {
    const mrsolve::irsde_table<double> sde;
    const Eigen::VectorXd mu = Eigen::VectorXd::Constant(8, 0.5);
    Eigen::VectorXd x = mu;
    const auto network = [](const Eigen::VectorXd& x, const Eigen::VectorXd& mu, double, Eigen::VectorXd& out) {
        out = x - mu;
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, 10);
    return mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, sde, grid, network, x, mu).nfe == 10 ? 0 : 1;
}
