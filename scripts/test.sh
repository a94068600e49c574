#!/usr/bin/env bash
# Sets up, builds and runs mrsolve's whole test suite; on a fresh Debian 12 machine this one command
# does everything (dependencies through scripts/install-deps.sh). Extra arguments go to ctest,
# e.g. `scripts/test.sh -L packaging` or `scripts/test.sh -R test_schedules`.
#
#   scripts/test.sh            the `full` preset (build/): every test, as CI runs it
#   scripts/test.sh --quick    the `dev` preset (build-dev/): the library's unit tests only, built at -O1
#                              without LibTorch, Thrust, docs, examples or benchmarks
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

preset=full
if [[ "${1:-}" == "--quick" ]]; then
    preset=dev
    shift
fi

bash scripts/install-deps.sh
if [[ "$preset" == full ]]; then
    bash scripts/install-docs-deps.sh   # doxygen and gnuplot: the API-reference and figure tests
    bash scripts/install-torch-deps.sh  # libtorch-dev and zlib: the LibTorch adapter and restoration tests
fi
cmake --preset "$preset"
cmake --build --preset "$preset" -j"$(nproc)"
ctest --preset "$preset" "$@"
