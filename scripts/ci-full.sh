#!/usr/bin/env bash
# The long check, for developers before resolving an issue that touches include/ (CI runs the short one,
# .ci/run, on every change). Everything .ci/run does, plus what moved out of it to keep CI under 20 minutes:
#   - AddressSanitizer + UndefinedBehaviorSanitizer over every test but the packaging consumers (the
#     examples, tutorials, tools and the LibTorch adapter and restoration tests too), in build-asan-full
#     (not the Python package: an instrumented extension cannot be loaded by an uninstrumented python3);
#   - each libFuzzer target for 60 s instead of 30 s.
# Takes about 45 minutes on a 2-core machine. Prints the time of each phase.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

phase_start=$SECONDS
phase() {
    echo "== $1 done in $((SECONDS - phase_start)) s (total ${SECONDS} s)"
    phase_start=$SECONDS
}

bash scripts/test.sh
phase "tests"
bash scripts/sanitize.sh
phase "sanitizers (unit, backend, concurrency)"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cmake -S . -B build-asan-full -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
    -DMRSOLVE_BUILD_TESTS=ON -DMRSOLVE_BUILD_EXAMPLES=ON -DMRSOLVE_BUILD_BENCHMARKS=OFF \
    -DMRSOLVE_WITH_THRUST=OFF -DMRSOLVE_INSTALL=OFF -DMRSOLVE_BUILD_PYTHON=OFF
cmake --build build-asan-full -j"$(nproc)"
ctest --test-dir build-asan-full --output-on-failure -j"$(nproc)" --timeout 1800 -LE packaging
phase "sanitizers (every test but packaging)"

bash scripts/fuzz.sh -t 60
phase "fuzzing"
