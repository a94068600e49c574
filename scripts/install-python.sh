#!/usr/bin/env bash
# Builds the Python package `mrsolve` with CMake and installs it into the environment of a Python
# interpreter (the active virtual environment's by default). No Python package index is used.
#
#   python3 -m venv --system-site-packages .venv && . .venv/bin/activate && bash scripts/install-python.sh
#
# PYTHON=<interpreter> picks another interpreter (default: python3 on PATH). The LibTorch the extension is
# built against must be the torch that interpreter imports: when that torch ships its CMake package (the
# pip/conda wheels, CUDA builds included: torch.utils.cmake_prefix_path), it is used; otherwise CMake's
# default search finds the system's (Debian 12: libtorch-dev, which matches python3-torch).
# Build directory: MRSOLVE_PYTHON_BUILD_DIR (default build-python); parallel jobs: JOBS (default nproc).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=$(command -v "${PYTHON:-python3}") || { echo "install-python: no interpreter '${PYTHON:-python3}'" >&2; exit 2; }
if ! "$python" -c "import torch" 2>/dev/null; then
    echo "install-python: $python cannot import torch (Debian: apt-get install python3-torch, and create the" \
         "venv with --system-site-packages)" >&2
    exit 2
fi
prefix=$("$python" -c "import sys; print(sys.prefix)")
if [[ "$prefix" == /usr && $(id -u) -ne 0 ]]; then
    echo "install-python: $python is the system interpreter; activate a virtual environment first" \
         "(python3 -m venv --system-site-packages .venv && . .venv/bin/activate)" >&2
    exit 2
fi
torch_cmake=$("$python" -c "import os, torch.utils; p = os.path.join(torch.utils.cmake_prefix_path, 'Torch'); print(p if os.path.isdir(p) else '')")
build=${MRSOLVE_PYTHON_BUILD_DIR:-build-python}

cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$python" -DMRSOLVE_BUILD_PYTHON=ON \
      -DMRSOLVE_BUILD_TESTS=OFF -DMRSOLVE_BUILD_EXAMPLES=OFF -DMRSOLVE_BUILD_DOCS=OFF -DMRSOLVE_INSTALL=OFF \
      -DMRSOLVE_WITH_THRUST=OFF ${torch_cmake:+-DTorch_DIR="$torch_cmake"}
cmake --build "$build" --target mrsolve_python_core -j"${JOBS:-$(nproc)}"
cmake --install "$build" --component python --prefix "$prefix"
cd /  # import the installed package, not the source tree
"$python" -c "import mrsolve; print('mrsolve', mrsolve.__version__, 'installed:', mrsolve.__file__)"
