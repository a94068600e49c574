#pragma once
/// @file counting_new.hpp
/// @brief Replaces the global operator new of the test binary that includes it (include it in exactly
/// one translation unit of a binary) with one that counts calls, so that tests can assert that a region
/// allocates nothing: read mrsolve_test::allocations before and after.

#include <atomic>
#include <cstdlib>
#include <new>

namespace mrsolve_test {
/// Global operator new calls so far in this binary.
inline std::atomic<long> allocations{0};
}  // namespace mrsolve_test

// The replacement pair below is matched (malloc/free); GCC cannot see that through operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t size) {
    mrsolve_test::allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
