#!/usr/bin/env bash
# Installs what mrsolve's documentation needs from Debian's packages (Debian 12 / bookworm):
#   doxygen       the API reference (CMake target mrsolve_docs, CTest label `docs`)
#   gnuplot-nox   the figures in docs/img/ (scripts/plots.sh)
# Idempotent: it checks each package first and calls apt-get (update, then install) only when
# something is missing. Runs apt-get directly as root, through sudo otherwise.
# Set MRSOLVE_SKIP_DEPS=1 to skip it entirely (e.g. when the tools come from elsewhere).
set -euo pipefail


exec bash "$(dirname "${BASH_SOURCE[0]}")/install-deps.sh" doxygen gnuplot-nox
