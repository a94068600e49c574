// Consumer of an installed mrsolve: find_package(mrsolve CONFIG) + mrsolve::mrsolve, nothing else.
#include <mrsolve/error.hpp>
#include <mrsolve/prediction/fit_target.hpp>

// The C++20 requirement must reach the consumer through mrsolve::mrsolve (cxx_std_20).
static_assert(__cplusplus >= 202002L, "mrsolve::mrsolve must carry cxx_std_20");
static_assert(mrsolve::to_string(mrsolve::fit_target::data) == "data");

int main() {
    if (mrsolve::parse_fit_target("velocity") != mrsolve::fit_target::velocity) return 1;
    try {
        (void)mrsolve::parse_fit_target("epsilon");
        return 1;
    } catch (const mrsolve::invalid_argument&) {
    }
    return 0;
}
