// The non-Gaussian suite's references are converged (include/mrsolve/oracle/problem_suite.hpp,
// docs/nongaussian.md): for every problem, reference_solve at the problem's tolerance and a second solve
// at a tenth of it agree to the tolerance, and the flow moves the start by far more than it. About 10 s at
// -O1 (thousands of third-order steps per problem): label slow.

#include <doctest/doctest.h>

#include <mrsolve/oracle/problem_suite.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_suite_references {

namespace {
double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
    double e = 0;
    for (std::size_t j = 0; j < a.size(); ++j) e = std::max(e, std::abs(a[j] - b[j]));
    return e;
}
}  // namespace

TEST_CASE("the suite's references are converged: tolerance and a tenth of it agree to the tolerance") {
    for (const mrsolve::suite_problem& p : mrsolve::suite_problems()) {
        mrsolve::visit_suite_problem(p, [&](const auto& in) {
            std::vector<double> reference, check;
            const auto r = in.reference(p.reference_tolerance, reference);
            const auto r10 = in.reference(p.reference_tolerance / 10, check);
            INFO(p.name << ": steps " << r.steps << " and " << r10.steps);
            REQUIRE(reference.size() == p.elements);
            CHECK(r.difference <= p.reference_tolerance);
            CHECK(max_abs_diff(reference, check) <= p.reference_tolerance);
            // the problem is not trivial: the flow moves every start by far more than the tolerance
            CHECK(max_abs_diff(reference, in.x_T) > 1e4 * p.reference_tolerance);
        });
    }
}

}  // namespace test_suite_references
