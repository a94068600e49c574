/// @file counting_new.cpp
/// @brief Replaces the global operator new of the test binary it is linked into with one that counts
/// calls in mrsolve_test::allocations (counting_new.hpp). One definition per binary: a source file, so
/// that test files compiled together (the unity build) or apart link the same way.

#include "counting_new.hpp"

#include <cstdlib>
#include <new>

// The replacement pair below is matched (malloc/free); GCC cannot see that through operator new.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

// Every form is replaced, so that each allocation and its release go through malloc/free (the standard
// library's nothrow and array forms, for example std::stable_sort's temporary buffer, would otherwise
// pair the runtime's operator new with this operator delete). Over-aligned forms are left alone: the
// library's own new/delete pair them.
namespace mrsolve_test::detail {
inline void* counted_malloc(std::size_t size) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
}  // namespace mrsolve_test::detail

void* operator new(std::size_t size) {
    if (void* p = mrsolve_test::detail::counted_malloc(size)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
    if (void* p = mrsolve_test::detail::counted_malloc(size)) return p;
    throw std::bad_alloc();
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return mrsolve_test::detail::counted_malloc(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return mrsolve_test::detail::counted_malloc(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
