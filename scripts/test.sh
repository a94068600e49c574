#!/usr/bin/env bash
# Sets up, builds and runs mrsolve's whole test suite; on a fresh Debian 12 machine this one command
# does everything (dependencies through scripts/install-deps.sh). Extra arguments go to ctest,
# e.g. `scripts/test.sh -L packaging` or `scripts/test.sh -R test_schedule`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
bash scripts/install-docs-deps.sh  # doxygen and gnuplot: the API-reference and figure tests
bash scripts/install-torch-deps.sh  # libtorch-dev and zlib: the LibTorch adapter and restoration tests
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j2 --timeout 600 "$@"
