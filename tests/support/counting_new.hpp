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
