#!/usr/bin/env bash
# Sets up and builds mrsolve's demo, then runs it; extra arguments go to the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --target mrsolve_demo -j"$(nproc)"
build/examples/mrsolve_demo "$@"
