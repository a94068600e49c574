#pragma once
/// @file philox.hpp
/// @brief The Philox4x32 counter-based bijection (Salmon, Moraes, Dror, Shaw, "Parallel random numbers:
/// as easy as 1, 2, 3", SC'11; the Random123 library), written from the published algorithm.
///
/// Philox4x32-R maps a 128-bit counter and a 64-bit key to 128 pseudo-random bits. One round is
///
///     (hi₀, lo₀) = M₀ · x₀   (full 64-bit product of two 32-bit words)
///     (hi₁, lo₁) = M₁ · x₂
///     x ← (hi₁ ⊕ x₁ ⊕ k₀,  lo₁,  hi₀ ⊕ x₃ ⊕ k₁,  lo₀)
///
/// with M₀ = 0xD2511F53, M₁ = 0xCD9E8D57; between rounds the key is bumped by the Weyl constants,
/// k₀ += 0x9E3779B9, k₁ += 0xBB67AE85 (mod 2³²). Round r (0-based) therefore uses the key bumped r times.
/// Everything here is `constexpr`, allocation-free and exception-free, so it runs in constant
/// evaluation, on the host and (through `MRSOLVE_HOST_DEVICE`) on a GPU.

#include <array>
#include <cstdint>

#include "../detail/host_device.hpp"

namespace mrsolve::detail {

/// @brief The 128-bit counter (four 32-bit words) of Philox4x32.
using philox4x32_counter = std::array<std::uint32_t, 4>;

/// @brief The 64-bit key (two 32-bit words) of Philox4x32.
using philox4x32_key = std::array<std::uint32_t, 2>;

/// @brief First Philox4x32 round multiplier (applied to counter word 0).
inline constexpr std::uint32_t philox4x32_m0 = 0xD2511F53u;
/// @brief Second Philox4x32 round multiplier (applied to counter word 2).
inline constexpr std::uint32_t philox4x32_m1 = 0xCD9E8D57u;
/// @brief Weyl increment of key word 0 between rounds (golden ratio, 2³²·(φ − 1)).
inline constexpr std::uint32_t philox4x32_w0 = 0x9E3779B9u;
/// @brief Weyl increment of key word 1 between rounds (2³²·(√3 − 1)).
inline constexpr std::uint32_t philox4x32_w1 = 0xBB67AE85u;

/// @brief One Philox4x32 round: two 32×32→64-bit multiplications, a word permutation and the key XOR.
/// @param x the counter state before the round
/// @param k the round key
/// @return the counter state after the round
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr philox4x32_counter philox4x32_round(philox4x32_counter x,
                                                                                 philox4x32_key k) noexcept {
    const std::uint64_t p0 = std::uint64_t{philox4x32_m0} * x[0];
    const std::uint64_t p1 = std::uint64_t{philox4x32_m1} * x[2];
    const auto hi0 = static_cast<std::uint32_t>(p0 >> 32);
    const auto lo0 = static_cast<std::uint32_t>(p0);
    const auto hi1 = static_cast<std::uint32_t>(p1 >> 32);
    const auto lo1 = static_cast<std::uint32_t>(p1);
    return {hi1 ^ x[1] ^ k[0], lo1, hi0 ^ x[3] ^ k[1], lo0};
}

/// @brief The Philox4x32 key schedule step applied between two rounds.
/// @param k the key of the previous round
/// @return the key of the next round (each word incremented by its Weyl constant, mod 2³²)
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr philox4x32_key philox4x32_bump_key(philox4x32_key k) noexcept {
    return {static_cast<std::uint32_t>(k[0] + philox4x32_w0),
            static_cast<std::uint32_t>(k[1] + philox4x32_w1)};
}

/// @brief Philox4x32 with a chosen number of rounds.
/// @tparam Rounds the number of rounds (Random123 publishes known answers for 7 and 10)
/// @param counter the 128-bit counter
/// @param key the 64-bit key
/// @return 128 pseudo-random bits as four 32-bit words
template <unsigned Rounds>
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr philox4x32_counter philox4x32(philox4x32_counter counter,
                                                                           philox4x32_key key) noexcept {
    static_assert(Rounds >= 1, "Philox needs at least one round");
    counter = philox4x32_round(counter, key);
    for (unsigned r = 1; r < Rounds; ++r) {
        key = philox4x32_bump_key(key);
        counter = philox4x32_round(counter, key);
    }
    return counter;
}

/// @brief Philox4x32-10, the standard ten-round variant (as in Random123 and cuRAND).
/// @param counter the 128-bit counter
/// @param key the 64-bit key
/// @return 128 pseudo-random bits as four 32-bit words
[[nodiscard]] MRSOLVE_HOST_DEVICE constexpr philox4x32_counter philox4x32_10(philox4x32_counter counter,
                                                                              philox4x32_key key) noexcept {
    return philox4x32<10>(counter, key);
}

/// @brief Philox4x32-10 with the four counter words held in 64-bit integers (each below 2³²): the same
/// function as philox4x32_10, written so that a vectorising compiler keeps every word in a 64-bit lane
/// and multiplies with one 32×32→64-bit lane instruction (AVX-512 `vpmuludq`) instead of widening
/// 32-bit lanes first. philox_normal uses it where that is faster (AVX-512); the results are identical.
/// @param x0,x1,x2,x3 the counter words (below 2³²), overwritten with the output words
/// @param key the 64-bit key
MRSOLVE_HOST_DEVICE constexpr void philox4x32_10_lanes64(std::uint64_t& x0, std::uint64_t& x1, std::uint64_t& x2,
                                                         std::uint64_t& x3, philox4x32_key key) noexcept {
    constexpr std::uint64_t low = 0xffffffffu;
    std::uint64_t k0 = key[0], k1 = key[1];
    for (unsigned r = 0; r < 10; ++r) {
        const std::uint64_t p0 = (x0 & low) * philox4x32_m0;
        const std::uint64_t p1 = (x2 & low) * philox4x32_m1;
        const std::uint64_t y0 = ((p1 >> 32) ^ x1 ^ k0) & low;
        const std::uint64_t y2 = ((p0 >> 32) ^ x3 ^ k1) & low;
        x0 = y0;
        x1 = p1 & low;
        x2 = y2;
        x3 = p0 & low;
        k0 = (k0 + philox4x32_w0) & low;
        k1 = (k1 + philox4x32_w1) & low;
    }
}

}  // namespace mrsolve::detail
