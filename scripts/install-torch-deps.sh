#!/usr/bin/env bash
# Installs what the LibTorch adapter and the restoration example need, from Debian's packages
# (Debian 12 / bookworm), through scripts/install-deps.sh (idempotent; MRSOLVE_SKIP_DEPS=1 skips it):
#   libtorch-dev      LibTorch 1.13 (C++; CMake package "Torch")   mrsolve::libtorch, examples/restore
#   zlib1g-dev        zlib (deflate)                               examples/restore's PNG writer/reader
#   python3-torch, python3-dev, pybind11-dev, python3-pytest, python3-numpy
#                     PyTorch 1.13 and what the Python package (python/) is built and tested with
#   python3-pil       Pillow: the PNG files of python/examples/restore.py (run by the Python tests)
# With --training it also installs what training/train.py needs (not the tests):
#   python3-skimage   scikit-image: the photographs in skimage/data (training and held-out images)
#   python3-sklearn   scikit-learn: china.jpg and flower.jpg in sklearn/datasets/images
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(libtorch-dev zlib1g-dev python3-torch python3-dev pybind11-dev python3-pytest python3-numpy python3-pil)
if [[ "${1:-}" == "--training" ]]; then
    packages+=(python3-skimage python3-sklearn)
elif [[ $# -gt 0 ]]; then
    echo "install-torch-deps: unknown argument '$1' (expected --training or nothing)" >&2
    exit 2
fi
exec bash scripts/install-deps.sh "${packages[@]}"
