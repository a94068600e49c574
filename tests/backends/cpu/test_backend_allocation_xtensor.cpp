// sampler::run allocates nothing on xtensor states (see allocation_cases.hpp).
#include "allocation_cases.hpp"

TEST_CASE_TEMPLATE_INVOKE(backend_allocation, xt::xtensor<float, 4>, xt::xtensor<double, 4>, xt::xarray<double>,
                          backend_test::xtensor_col3);

TEST_CASE("the counter sees xtensor allocations (the test can fail)") {
    using backend_test::allocations_during;
    CHECK(allocations_during([] {
              xt::xtensor<float, 4> t({2, 3, 4, 5});
              volatile float* keep = t.data();  // observable, so the allocation cannot be elided
              (void)keep;
          }) >= 1);
    // make_like allocates (it is set-up, not part of a run).
    const xt::xarray<double> a(xt::xarray<double>::shape_type{2, 3, 4});
    CHECK(allocations_during([&] { (void)mrsolve::backend_traits<xt::xarray<double>>::make_like(a); }) >= 1);
}
