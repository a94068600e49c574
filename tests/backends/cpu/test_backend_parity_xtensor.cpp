// Backend × solver parity on xtensor: xt::xtensor<float|double, 4> shaped [B, C, H, W], xt::xarray<double>
// and a column-major xt::xtensor<double, 3> reproduce std::vector (tests defined in parity_cases.hpp);
// xt::xtensor_fixed states too.
#include "parity_cases.hpp"

#include <xtensor/xfixed.hpp>

#include <algorithm>

TEST_CASE_TEMPLATE_INVOKE(backend_parity, xt::xtensor<float, 4>, xt::xtensor<double, 4>, xt::xarray<double>,
                          backend_test::xtensor_col3);
TEST_CASE_TEMPLATE_INVOKE(backend_same_seed, xt::xtensor<float, 4>, xt::xtensor<double, 4>, xt::xarray<double>,
                          backend_test::xtensor_col3);
TEST_CASE_TEMPLATE_INVOKE(backend_driver_parity, xt::xtensor<float, 4>, xt::xtensor<double, 4>, xt::xarray<double>,
                          backend_test::xtensor_col3);

TEST_CASE("xt::xtensor_fixed states reproduce std::vector") {
    using namespace backend_test;
    using S = xt::xtensor_fixed<float, xt::xshape<2, 3, 4, 5>>;
    static_assert(mrsolve::State<S> && mrsolve::NormalFillable<S> && mrsolve::HostState<S>);
    const problem p(image_shape);
    const auto run_fixed = [&](const auto& method) {
        S x, mu;
        std::copy(p.x_T.begin(), p.x_T.end(), x.begin());
        std::copy(p.mu.begin(), p.mu.end(), mu.begin());
        mrsolve::sample(method, p.family, std::span<const double>(p.grid), p.oracle.model(mrsolve::fit_target::noise),
                        x, mu);
        return std::vector<double>(x.data(), x.data() + x.size());
    };
    const auto run_vector = [&](const auto& method) {
        std::vector<float> x(p.x_T.begin(), p.x_T.end()), mu(p.mu.begin(), p.mu.end());
        mrsolve::sample(method, p.family, std::span<const double>(p.grid), p.oracle.model(mrsolve::fit_target::noise),
                        x, mu);
        return std::vector<double>(x.begin(), x.end());
    };
    CHECK(run_fixed(mrsolve::mr_ode<mrsolve::data_prediction>{3}) ==
          run_vector(mrsolve::mr_ode<mrsolve::data_prediction>{3}));
    CHECK(run_fixed(mrsolve::mr_sde<mrsolve::noise_prediction>{2}) ==
          run_vector(mrsolve::mr_sde<mrsolve::noise_prediction>{2}));
    CHECK(run_fixed(mrsolve::heun_ode{}) == run_vector(mrsolve::heun_ode{}));
}
