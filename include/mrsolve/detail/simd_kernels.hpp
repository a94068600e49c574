#pragma once
/// @file simd_kernels.hpp
/// @brief The host kernels compiled for each x86-64 instruction set (SSE2, AVX2, AVX-512F), whatever
/// flags the including program uses, and chosen at run time (mrsolve/simd.hpp).
///
/// Each instruction set gets its own namespace, detail::simd_sse2, detail::simd_avx2 and
/// detail::simd_avx512, holding the same text (detail/simd_kernels.inc, and the Box–Muller functions of
/// noise/box_muller_lanes.inc) compiled with that instruction set enabled and floating-point
/// contraction off. The kernels are written with GCC/Clang vector extensions, so they do not depend on
/// the compiler's auto-vectoriser (which GCC runs in a cheaper mode at -O2 and not at all at -O1), and
/// their scalar tails go through the same functions, so every element gets the same bits on every
/// instruction set.

#include "../simd.hpp"

#if defined(MRSOLVE_DETAIL_SIMD_DISPATCH)

#include <array>
#include <bit>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <immintrin.h>
#include <type_traits>
#include <utility>

#include "../noise/box_muller.hpp"
#include "../noise/philox.hpp"

// Every function defined between the two markers gets the instruction set and no contraction
// (GCC: target and optimize pragmas; Clang: an attribute for every function and the fp pragma).
#if defined(__clang__)
#define MRSOLVE_DETAIL_SIMD_BEGIN(isa_string)                                                          \
    _Pragma("float_control(push)") _Pragma("clang fp contract(off)")                                   \
        _Pragma(MRSOLVE_DETAIL_SIMD_STRINGIFY(clang attribute push(__attribute__((target(isa_string))), \
                                                                   apply_to = function)))
#define MRSOLVE_DETAIL_SIMD_END _Pragma("clang attribute pop") _Pragma("float_control(pop)")
#else
#define MRSOLVE_DETAIL_SIMD_BEGIN(isa_string)                                        \
    _Pragma("GCC push_options") _Pragma(MRSOLVE_DETAIL_SIMD_STRINGIFY(GCC target(isa_string))) \
        _Pragma("GCC optimize(\"fp-contract=off\")")
#define MRSOLVE_DETAIL_SIMD_END _Pragma("GCC pop_options")
#endif
#define MRSOLVE_DETAIL_SIMD_STRINGIFY(x) #x

// ---------------------------------------------------------------------------------------------- SSE2
MRSOLVE_DETAIL_SIMD_BEGIN("sse2")
namespace mrsolve::detail::simd_sse2 {
inline constexpr std::size_t vector_bytes = 16;
using u64_vector = lane_vector<std::uint64_t, vector_bytes>::type;
using f32_vector = lane_vector<float, vector_bytes>::type;
using f64_vector = lane_vector<double, vector_bytes>::type;
/// The low 32 bits of each 64-bit lane multiplied to a 64-bit product.
inline u64_vector mul_low32(u64_vector a, u64_vector b) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(u64_vector, _mm_mul_epu32(MRSOLVE_DETAIL_LANES_BIT_CAST(__m128i, a), MRSOLVE_DETAIL_LANES_BIT_CAST(__m128i, b)));
}
/// Correctly rounded square roots (the same bits as std::sqrt).
inline f32_vector lanes_sqrt(f32_vector v) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(f32_vector, _mm_sqrt_ps(MRSOLVE_DETAIL_LANES_BIT_CAST(__m128, v)));
}
inline f64_vector lanes_sqrt(f64_vector v) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(f64_vector, _mm_sqrt_pd(MRSOLVE_DETAIL_LANES_BIT_CAST(__m128d, v)));
}
#include "../noise/box_muller_lanes.inc"
#include "simd_kernels.inc"
}  // namespace mrsolve::detail::simd_sse2
MRSOLVE_DETAIL_SIMD_END

// ---------------------------------------------------------------------------------------------- AVX2
MRSOLVE_DETAIL_SIMD_BEGIN("avx2")
namespace mrsolve::detail::simd_avx2 {
inline constexpr std::size_t vector_bytes = 32;
using u64_vector = lane_vector<std::uint64_t, vector_bytes>::type;
using f32_vector = lane_vector<float, vector_bytes>::type;
using f64_vector = lane_vector<double, vector_bytes>::type;
inline u64_vector mul_low32(u64_vector a, u64_vector b) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(u64_vector, _mm256_mul_epu32(MRSOLVE_DETAIL_LANES_BIT_CAST(__m256i, a), MRSOLVE_DETAIL_LANES_BIT_CAST(__m256i, b)));
}
inline f32_vector lanes_sqrt(f32_vector v) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(f32_vector, _mm256_sqrt_ps(MRSOLVE_DETAIL_LANES_BIT_CAST(__m256, v)));
}
inline f64_vector lanes_sqrt(f64_vector v) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(f64_vector, _mm256_sqrt_pd(MRSOLVE_DETAIL_LANES_BIT_CAST(__m256d, v)));
}
#include "../noise/box_muller_lanes.inc"
#include "simd_kernels.inc"
}  // namespace mrsolve::detail::simd_avx2
MRSOLVE_DETAIL_SIMD_END

// ------------------------------------------------------------------------------------------- AVX-512
MRSOLVE_DETAIL_SIMD_BEGIN("avx512f")
namespace mrsolve::detail::simd_avx512 {
inline constexpr std::size_t vector_bytes = 64;
using u64_vector = lane_vector<std::uint64_t, vector_bytes>::type;
using f32_vector = lane_vector<float, vector_bytes>::type;
using f64_vector = lane_vector<double, vector_bytes>::type;
// The masked forms with every lane selected: GCC 12 warns (-Wmaybe-uninitialized) inside the unmasked
// intrinsics, whose pass-through operand is deliberately undefined.
inline u64_vector mul_low32(u64_vector a, u64_vector b) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(u64_vector, 
        _mm512_maskz_mul_epu32(0xff, MRSOLVE_DETAIL_LANES_BIT_CAST(__m512i, a), MRSOLVE_DETAIL_LANES_BIT_CAST(__m512i, b)));
}
inline f32_vector lanes_sqrt(f32_vector v) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(f32_vector, _mm512_maskz_sqrt_ps(0xffff, MRSOLVE_DETAIL_LANES_BIT_CAST(__m512, v)));
}
inline f64_vector lanes_sqrt(f64_vector v) noexcept {
    return MRSOLVE_DETAIL_LANES_BIT_CAST(f64_vector, _mm512_maskz_sqrt_pd(0xff, MRSOLVE_DETAIL_LANES_BIT_CAST(__m512d, v)));
}
#include "../noise/box_muller_lanes.inc"
#include "simd_kernels.inc"
}  // namespace mrsolve::detail::simd_avx512
MRSOLVE_DETAIL_SIMD_END

#undef MRSOLVE_DETAIL_SIMD_BEGIN
#undef MRSOLVE_DETAIL_SIMD_END
#undef MRSOLVE_DETAIL_SIMD_STRINGIFY

#endif  // MRSOLVE_DETAIL_SIMD_DISPATCH
