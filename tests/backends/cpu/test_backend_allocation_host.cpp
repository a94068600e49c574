// sampler::run allocates nothing on std::vector and Eigen states (see allocation_cases.hpp).
#include "allocation_cases.hpp"

TEST_CASE_TEMPLATE_INVOKE(backend_allocation, std::vector<float>, std::vector<double>, Eigen::VectorXf,
                          Eigen::VectorXd, Eigen::MatrixXf, Eigen::ArrayXXd);

TEST_CASE("the counters see allocations on each route (the test can fail)") {
    using backend_test::allocations_during;
    // operator new: std::vector storage.
    CHECK(allocations_during([] {
              std::vector<double> v(100);
              volatile double* keep = v.data();  // observable, so the allocation cannot be elided
              (void)keep;
          }) >= 1);
    // Eigen's malloc route, which operator new does not see.
    const long new_before = backend_test::operator_new_calls.load();
    CHECK(allocations_during([] {
              Eigen::VectorXd v(100);
              volatile double* keep = v.data();
              (void)keep;
          }) >= 1);
    CHECK(backend_test::operator_new_calls.load() == new_before);
    // make_like allocates (it is set-up, not part of a run).
    const Eigen::MatrixXf m(4, 6);
    CHECK(allocations_during([&] { (void)mrsolve::backend_traits<Eigen::MatrixXf>::make_like(m); }) >= 1);
}
