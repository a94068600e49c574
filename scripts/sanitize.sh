#!/usr/bin/env bash
# Runs mrsolve's tests under sanitizers, each in its own build directory (CMakePresets.json):
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer (preset `asan`): the unit tests and the CPU
#               backend tests (labels unit, backend), but not the compile-fail tests, which run no code.
#               Examples, docs, LibTorch, the packaging consumers and the Thrust backend are not built: the consumers configure fresh projects without the
#               sanitizer flags, the examples and LibTorch tests run the library code the unit tests
#               already cover, and UBSan reports "reference binding to null pointer of type 'struct
#               execution_policy'" inside CCCL's own thrust/detail/reference.h (CUDA 13.0), not mrsolve code.
#   build-tsan  ThreadSanitizer (preset `tsan`), test_concurrency only (threads sampling at once with
#               shared families, grids and oracles; the rest of the suite is single-threaded)
# Any sanitizer report fails the run: -fno-sanitize-recover=all makes UBSan fatal, and ASan/TSan exit
# non-zero. The flags are set by the presets only; CMakeLists.txt sets none.
#
# Usage: scripts/sanitize.sh [asan|tsan]...   (default: both). Environment:
#   MRSOLVE_SKIP_DEPS=1          skip scripts/install-deps.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

jobs="$(nproc)"
which=("$@")
[[ ${#which[@]} -eq 0 ]] && which=(asan tsan)

bash scripts/install-deps.sh

for kind in "${which[@]}"; do
    start=$SECONDS
    case "$kind" in
        asan|tsan)
            echo "== sanitize: $kind (build-$kind)"
            cmake --preset "$kind"
            cmake --build --preset "$kind" -j"$jobs"
            ctest --preset "$kind"
            ;;
        *)
            echo "sanitize: unknown sanitizer '$kind' (expected asan or tsan)" >&2
            exit 2
            ;;
    esac
    echo "== sanitize: $kind clean in $((SECONDS - start)) s"
done
