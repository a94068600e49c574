#!/usr/bin/env bash
# Runs mrsolve's test suite under sanitizers, each in its own build directory:
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer, the whole suite except the packaging
#               consumers (label "packaging": they configure and build fresh projects without the
#               sanitizer flags, so they prove nothing here and only cost time); the Thrust backend is
#               not built (see configure() below)
#   build-tsan  ThreadSanitizer, test_concurrency only (threads sampling at once with shared families,
#               grids and oracles; the rest of the suite is single-threaded)
# The flags are the caller's choice, given on the command line (CMakeLists.txt sets none). Any sanitizer
# report fails the run: -fno-sanitize-recover=all makes UBSan fatal, and ASan/TSan exit non-zero.
#
# Usage: scripts/sanitize.sh [asan|tsan]...   (default: both). Environment:
#   MRSOLVE_SANITIZE_BUILD_TYPE  CMake build type (default RelWithDebInfo: -O2 -g; Debug also works but
#                                runs the convergence ladders and the demo several times slower)
#   MRSOLVE_SKIP_DEPS=1          skip scripts/install-deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_type="${MRSOLVE_SANITIZE_BUILD_TYPE:-RelWithDebInfo}"
jobs="$(nproc)"
which=("$@")
[[ ${#which[@]} -eq 0 ]] && which=(asan tsan)

bash scripts/install-deps.sh

# Symbolized reports; abort on the first error so that ctest sees a failure.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}"

# Benchmarks are not tests; install rules are not needed. The Thrust backend is not built: UBSan reports
# "reference binding to null pointer of type 'struct execution_policy'" inside CCCL's own
# thrust/detail/reference.h (CUDA 13.0) on any element write through a device_reference — not mrsolve
# code — and its CUDA test is compiled by nvcc, which the host sanitizers do not instrument.
configure() {  # dir flags
    cmake -S . -B "$1" -DCMAKE_BUILD_TYPE="$build_type" -DCMAKE_CXX_FLAGS="$2" \
        -DMRSOLVE_BUILD_BENCHMARKS=OFF -DMRSOLVE_WITH_THRUST=OFF -DMRSOLVE_INSTALL=OFF
}

for kind in "${which[@]}"; do
    start=$SECONDS
    case "$kind" in
        asan)
            echo "== sanitize: AddressSanitizer + UndefinedBehaviorSanitizer (build-asan, $build_type)"
            configure build-asan "-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
            cmake --build build-asan -j"$jobs"
            ctest --test-dir build-asan --output-on-failure -j"$jobs" --timeout 1800 -LE packaging
            ;;
        tsan)
            echo "== sanitize: ThreadSanitizer (build-tsan, $build_type, test_concurrency)"
            configure build-tsan "-fsanitize=thread -fno-omit-frame-pointer -fno-sanitize-recover=all"
            cmake --build build-tsan -j"$jobs" --target test_concurrency
            ctest --test-dir build-tsan --output-on-failure --timeout 1800 -R '^test_concurrency$'
            ;;
        *)
            echo "sanitize: unknown sanitizer '$kind' (expected asan or tsan)" >&2
            exit 2
            ;;
    esac
    echo "== sanitize: $kind clean in $((SECONDS - start)) s"
done
