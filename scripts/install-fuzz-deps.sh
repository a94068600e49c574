#!/usr/bin/env bash
# Installs what mrsolve's fuzzing needs from Debian's packages (Debian 12 / bookworm), through
# scripts/install-deps.sh (idempotent; MRSOLVE_SKIP_DEPS=1 skips it):
#   clang-14            clang++-14, the compiler of the libFuzzer targets (scripts/fuzz.sh)
#   libclang-rt-14-dev  libFuzzer, ASan and UBSan runtimes for clang, <fuzzer/FuzzedDataProvider.h>
# (The GCC sanitizer runtimes scripts/sanitize.sh uses — libasan8, libubsan1, libtsan2 — come with g++,
# through scripts/install-deps.sh.)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec bash scripts/install-deps.sh clang-14 libclang-rt-14-dev
