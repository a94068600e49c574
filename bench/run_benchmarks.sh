#!/bin/sh
# Runs every mrsolve benchmark executable found in a build directory's bench/ folder, one after the other,
# writing <executable>.json next to it, then prints the summary table (bench/summarize.py).
# Usage: bench/run_benchmarks.sh <build>/bench [extra Google Benchmark flags, e.g. --benchmark_filter=...]
set -eu
dir=${1:?usage: run_benchmarks.sh <build>/bench [benchmark flags]}
shift
here=$(cd "$(dirname "$0")" && pwd)
ran=""
for exe in mrsolve_bench mrsolve_bench_omp mrsolve_bench_thrust_cpp mrsolve_bench_thrust_omp mrsolve_bench_thrust_cuda; do
    if [ -x "$dir/$exe" ]; then
        echo "== $exe"
        "$dir/$exe" --benchmark_out="$dir/$exe.json" --benchmark_out_format=json "$@"
        ran="$ran $dir/$exe.json"
    fi
done
if command -v python3 >/dev/null 2>&1 && [ -n "$ran" ]; then
    # shellcheck disable=SC2086
    python3 "$here/summarize.py" $ran
fi
