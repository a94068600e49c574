#!/usr/bin/env bash
# Installs mrsolve's build and test dependencies from Debian's packages (Debian 12 / bookworm):
#   toolchain      build-essential cmake g++
#   Eigen 3.4      libeigen3-dev      (tests, examples and the Eigen backend)
#   xtensor        libxtensor-dev     (the xtensor backend)
#   doctest        doctest-dev        (tests)
#   Google Bench.  libbenchmark-dev   (benchmarks)
# Idempotent: it checks each package first and calls apt-get (update, then install) only when
# something is missing. Runs apt-get directly as root, through sudo otherwise.
# Set MRSOLVE_SKIP_DEPS=1 to skip it entirely (e.g. when the dependencies come from elsewhere).
set -euo pipefail

# With arguments, it installs those packages instead (scripts/install-docs-deps.sh uses this).
packages=(build-essential cmake g++ libeigen3-dev libxtensor-dev doctest-dev libbenchmark-dev)
if [[ $# -gt 0 ]]; then
    packages=("$@")
fi

if [[ "${MRSOLVE_SKIP_DEPS:-0}" == "1" ]]; then
    echo "install-deps: MRSOLVE_SKIP_DEPS=1, not checking ${packages[*]}"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no dpkg/apt-get here; install these (or their equivalents) yourself:" >&2
    echo "  ${packages[*]}" >&2
    echo "install-deps: continuing; CMake will report whatever is still missing" >&2
    exit 0
fi

missing=()
for package in "${packages[@]}"; do
    # `dpkg -s` also succeeds for removed packages whose config files remain, so read the status.
    status="$(dpkg-query --show --showformat='${Status}' "$package" 2>/dev/null || true)"
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "install-deps: all present (${packages[*]})"
    exit 0
fi

as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        echo "install-deps: missing ${missing[*]}, and not root and no sudo to install them" >&2
        exit 1
    fi
fi

echo "install-deps: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
