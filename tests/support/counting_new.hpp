#pragma once
/// @file counting_new.hpp
/// @brief The count of global operator new calls, so that tests can assert that a region allocates
/// nothing: read mrsolve_test::allocations before and after. The counting replacement of operator new
/// is in counting_new.cpp, linked into every test binary that includes this header.

#include <atomic>

namespace mrsolve_test {
/// Global operator new calls so far in this binary.
inline std::atomic<long> allocations{0};
}  // namespace mrsolve_test
