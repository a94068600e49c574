#pragma once
// Shared helpers of the libFuzzer targets in tests/fuzz (built by scripts/fuzz.sh, not by CMake).
//
// Every target checks a contract of the form "any input either gives a valid result or throws
// mrsolve::invalid_argument". A violated contract (a wrong result, any other exception, a crash, a
// sanitizer report) ends in FUZZ_FAIL, which prints what happened and traps, so libFuzzer records the
// input as a crash.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <typeinfo>

#include <mrsolve/error.hpp>

/// Prints the failed condition and traps (libFuzzer saves the input as crash-<sha1>).
#define FUZZ_FAIL(...)                                              \
    do {                                                            \
        std::fprintf(stderr, "\nFUZZ CONTRACT VIOLATED at %s:%d: ", __FILE__, __LINE__); \
        std::fprintf(stderr, __VA_ARGS__);                          \
        std::fprintf(stderr, "\n");                                 \
        __builtin_trap();                                           \
    } while (0)

/// Checks a condition; on failure prints it with a printf-style explanation and traps.
#define FUZZ_CHECK(cond, fmt, ...)                                                  \
    do {                                                                            \
        if (!(cond)) FUZZ_FAIL("%s: " fmt, #cond __VA_OPT__(, ) __VA_ARGS__);       \
    } while (0)

/// With MRSOLVE_FUZZ_VERBOSE=1 in the environment, prints what an input exercises (to decode a crash).
#define FUZZ_LOG(...)                                            \
    do {                                                         \
        if (::fuzz::verbose()) std::fprintf(stderr, __VA_ARGS__); \
    } while (0)

namespace fuzz {

inline bool verbose() {
    static const bool on = [] {
        const char* v = std::getenv("MRSOLVE_FUZZ_VERBOSE");
        return v != nullptr && v[0] == '1';
    }();
    return on;
}

/// Runs f(); returns true if it completed, false if it threw mrsolve::invalid_argument. Any other
/// exception violates the contract.
template <class F>
bool accepted(const char* what, F&& f) {
    try {
        f();
        return true;
    } catch (const mrsolve::invalid_argument&) {
        return false;
    } catch (const std::exception& e) {
        FUZZ_FAIL("%s threw %s (not mrsolve::invalid_argument): %s", what, typeid(e).name(), e.what());
    } catch (...) {
        FUZZ_FAIL("%s threw a non-standard exception", what);
    }
}

/// Interesting doubles: exact specials, raw bit patterns (any NaN payload, denormals, ±inf), log-uniform
/// magnitudes over the whole range, and plain values in a plausible range [lo, hi].
inline double any_double(FuzzedDataProvider& in, double lo, double hi) {
    static constexpr std::array<double, 22> specials{
        0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-300, 1e300,
        std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::denorm_min(),
        std::numeric_limits<double>::min(), std::numeric_limits<double>::max(),
        -std::numeric_limits<double>::max(), std::numeric_limits<double>::epsilon(),
        1.0 - std::numeric_limits<double>::epsilon() / 2, 1.0 + std::numeric_limits<double>::epsilon(),
        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
        std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
        std::numeric_limits<double>::signaling_NaN(), 255.0};
    switch (in.ConsumeIntegralInRange<int>(0, 4)) {
        case 0: return specials[in.ConsumeIntegralInRange<std::size_t>(0, specials.size() - 1)];
        case 1: return std::bit_cast<double>(in.ConsumeIntegral<std::uint64_t>());
        case 2: {
            const double exponent = in.ConsumeFloatingPointInRange<double>(-323.0, 308.0);
            return (in.ConsumeBool() ? -1.0 : 1.0) * std::pow(10.0, exponent);
        }
        default: return in.ConsumeFloatingPointInRange<double>(std::min(lo, hi), std::max(lo, hi));
    }
}

}  // namespace fuzz
