#pragma once
/// @file simd.hpp
/// @brief Which SIMD instruction set mrsolve's host kernels run with, chosen at run time.
///
/// The element loops of the host backends (the fused linear map, the fused stochastic step, the
/// finiteness check and the normal generator) are compiled for several x86-64 instruction sets inside
/// every program that includes mrsolve, whatever flags that program is built with, and the widest one
/// the processor has is chosen when they first run. A portable binary (no `-march`, any `-O` level)
/// therefore runs the AVX-512 kernels on a processor that has AVX-512. The kernels evaluate the same
/// operations in the same order on every instruction set, without floating-point contraction, so the
/// results are the same bits whichever runs (docs/performance.md has the figures; docs/theory.md the
/// noise contract).
///
/// The environment variable `MRSOLVE_SIMD` (`sse2`, `avx2` or `avx512`) caps the choice, for example to
/// compare instruction sets; a value that is not one of those, or that the processor lacks, makes
/// host_simd_isa() and the samplers throw mrsolve::invalid_argument naming it. Other architectures, CUDA
/// translation units and compilers without GCC/Clang vector extensions run portable loops
/// (simd_isa::portable); so does every translation unit that defines `MRSOLVE_NO_SIMD_DISPATCH` before
/// including mrsolve (for comparison: the benchmarks' `_no_dispatch` variants). The portable loops follow
/// the program's own flags: they are auto-vectorised only as far as its -O level and -march allow, and
/// under floating-point contraction (-march=native with GCC) their last bits may differ.

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "error.hpp"

#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDACC__) && defined(__x86_64__) && \
    !defined(MRSOLVE_NO_SIMD_DISPATCH)
/// Defined when the x86-64 SIMD kernels are compiled (detail/simd_kernels.hpp).
#define MRSOLVE_DETAIL_SIMD_DISPATCH 1
#endif

namespace mrsolve {

/// @brief The instruction sets of the host kernels, narrowest first.
enum class simd_isa : int {
    portable = 0,  ///< plain loops, compiled with the including program's flags
    sse2 = 1,      ///< x86-64 baseline: 128-bit vectors
    avx2 = 2,      ///< 256-bit vectors (AVX2, no FMA)
    avx512 = 3,    ///< 512-bit vectors (AVX-512F)
};

/// @brief The name of an instruction set, as `MRSOLVE_SIMD` spells it.
/// @param isa the instruction set @return "portable", "sse2", "avx2" or "avx512"
[[nodiscard]] constexpr std::string_view simd_isa_name(simd_isa isa) noexcept {
    switch (isa) {
        case simd_isa::sse2: return "sse2";
        case simd_isa::avx2: return "avx2";
        case simd_isa::avx512: return "avx512";
        default: return "portable";
    }
}

namespace detail {

/// @brief The widest instruction set this processor (and its operating system) supports, among those
/// compiled in.
[[nodiscard]] inline simd_isa widest_supported_simd_isa() noexcept {
#if defined(MRSOLVE_DETAIL_SIMD_DISPATCH)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return simd_isa::avx512;
    if (__builtin_cpu_supports("avx2")) return simd_isa::avx2;
    return simd_isa::sse2;
#else
    return simd_isa::portable;
#endif
}

/// @brief The choice made once per process: the widest supported instruction set, capped by
/// `MRSOLVE_SIMD`; `invalid` holds an unusable value of the variable (empty when there is none).
struct simd_choice {
    simd_isa isa = simd_isa::portable;  ///< the instruction set the kernels run with
    std::string invalid;                ///< the rejected value of MRSOLVE_SIMD, or empty
};

/// @brief Reads `MRSOLVE_SIMD` against what the processor supports.
[[nodiscard]] inline simd_choice make_simd_choice() {
    simd_choice choice;
    const simd_isa widest = widest_supported_simd_isa();
    choice.isa = widest;
    const char* cap = std::getenv("MRSOLVE_SIMD");
    if (cap == nullptr || *cap == '\0') return choice;
    const std::string_view value(cap);
    for (const simd_isa isa : {simd_isa::portable, simd_isa::sse2, simd_isa::avx2, simd_isa::avx512}) {
        if (value == simd_isa_name(isa)) {
            if (static_cast<int>(isa) <= static_cast<int>(widest) || isa == simd_isa::portable) {
                choice.isa = isa;
            } else {
                choice.invalid = std::string(value) + " (this processor or build supports up to " +
                                 std::string(simd_isa_name(widest)) + ")";
            }
            return choice;
        }
    }
    choice.invalid = std::string(value) + " (expected portable, sse2, avx2 or avx512)";
    return choice;
}

/// @brief The process-wide choice, made on first use.
[[nodiscard]] inline const simd_choice& process_simd_choice() {
    static const simd_choice choice = make_simd_choice();
    return choice;
}

/// @brief The execution_path name of the host kernels running with an instruction set: "host/portable",
/// "host/sse2", "host/avx2" or "host/avx512". @param isa the instruction set @return the name
[[nodiscard]] constexpr std::string_view host_kernel_path(simd_isa isa) noexcept {
    switch (isa) {
        case simd_isa::sse2: return "host/sse2";
        case simd_isa::avx2: return "host/avx2";
        case simd_isa::avx512: return "host/avx512";
        default: return "host/portable";
    }
}

/// @brief A test hook: when set (≥ 0), the kernels run with this instruction set instead of the
/// process-wide choice. Tests set it to compare instruction sets in one process; it must name an
/// instruction set the processor supports.
inline std::atomic<int> simd_isa_override{-1};

/// @brief The instruction set the host kernels run with now (the kernels' dispatch).
[[nodiscard]] inline simd_isa active_simd_isa() noexcept {
    const int forced = simd_isa_override.load(std::memory_order_relaxed);
    if (forced >= 0) return static_cast<simd_isa>(forced);
    try {
        return process_simd_choice().isa;
    } catch (...) {  // an allocation failure while reading the environment: the safe choice
        return simd_isa::portable;
    }
}

}  // namespace detail

/// @brief The instruction set mrsolve's host kernels run with in this process.
/// @return the widest one the processor supports, or the one `MRSOLVE_SIMD` caps it to
/// @throws mrsolve::invalid_argument if `MRSOLVE_SIMD` is set to a value that is not an instruction set
///         name, or names one this processor does not support
[[nodiscard]] inline simd_isa host_simd_isa() {
    const detail::simd_choice& choice = detail::process_simd_choice();
    if (!choice.invalid.empty()) {
        throw invalid_argument("mrsolve: MRSOLVE_SIMD=" + choice.invalid);
    }
    return detail::active_simd_isa();
}

}  // namespace mrsolve
