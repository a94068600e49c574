#!/usr/bin/env bash
# Regenerates the figures in docs/img/ with one command:
#   convergence.{png,svg}         error against NFE of every solver (log–log, fitted slopes in the legend)
#   convergence_tables.{png,svg}  the same on the discrete IR-SDE tables, with the published baselines
#   trajectory.{png,svg}          one sampling trajectory with the data prediction x̂₀ at every step
# It installs what is missing (scripts/install-deps.sh, scripts/install-docs-deps.sh: gnuplot-nox), builds
# the example mrsolve_plot_data (examples/plots/convergence_data.cpp), runs it into build/plots/ and draws
# the figures with gnuplot (docs/plots.gp). Run from anywhere: `bash scripts/plots.sh`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-deps.sh
bash scripts/install-docs-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build --target mrsolve_plot_data -j"$(nproc)"

mkdir -p build/plots docs/img
build/examples/mrsolve_plot_data build/plots
# UTF-8 labels: gnuplot needs a UTF-8 locale for them (C.UTF-8 is built into glibc).
LC_ALL=C.UTF-8 gnuplot -e "datadir='build/plots'; imgdir='docs/img'" docs/plots.gp
echo "plots: wrote $(cd docs/img && ls convergence.png convergence.svg convergence_tables.png convergence_tables.svg \
    trajectory.png trajectory.svg | sed 's|^|docs/img/|' | tr '\n' ' ')"
