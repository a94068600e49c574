#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU and this repository, builds and runs the Thrust backend's
# CUDA tests and the CUDA benchmark (mrsolve_bench_thrust_cuda), and prints the figures.
#
#   bench/gpu_check.sh                 # build dir: build-gpu
#   MRSOLVE_GPU_BUILD=/tmp/b bench/gpu_check.sh
#
# Installs nothing beyond scripts/install-deps.sh (Debian packages; skipped with MRSOLVE_SKIP_DEPS=1, and
# tolerated when the machine is offline: CMake then reports whatever is missing). nvcc comes from the CUDA
# toolkit (/usr/local/cuda/bin/nvcc, or CUDACXX). Builds only the two targets it needs, so it stays well
# under 10 minutes on a 16-core machine:
#   test_thrust_backend_cuda   every solver on thrust::device_vector<float|double> with the CUDA device
#                              system against std::vector, the golden recordings, error reporting
#   mrsolve_bench_thrust_cuda  benchmarks step/<solver>/thrust_cuda/<elements> and triad/<elements>
#                              (nvcc-built, configured with -DMRSOLVE_BENCH_CUDA=ON; the triad is a
#                              thrust::transform on the same GPU)
# Environment: MRSOLVE_CUDA_ARCH (default 90: H100/H200), MRSOLVE_BENCH_FILTER (Google Benchmark regex,
# default 'thrust_cuda|triad'), MRSOLVE_GPU_PREFIX (a CMake prefix path holding doctest, Eigen and
# Google Benchmark, on a machine without Debian's packages), MRSOLVE_GPU_CMAKE_ARGS (extra configure
# arguments).
# LibTorch CUDA tensors: when python3 imports a CUDA-enabled torch (or MRSOLVE_TORCH_PREFIX names a
# LibTorch), a second build (dir <build>-torch) runs test_libtorch_backend with MRSOLVE_REQUIRE_GPU=1, so
# the GPU-against-CPU case cannot pass by being skipped; its result is reported, and a failure there
# gives exit status 3 when everything else passed.
# Record in docs/performance.md: the bytes_per_second and triad_ratio columns of the summary table
# printed at the end (targets: triad_ratio >= 0.8 on 16*3*256*256 floats, one kernel per solver step).
# Exit status: 1 if no GPU is visible, or the test build or a CUDA test fails; 2 if the tests pass but
# the benchmark did not build or run to the end; 0 when everything ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build="${MRSOLVE_GPU_BUILD:-build-gpu}"
arch="${MRSOLVE_CUDA_ARCH:-90}"
filter="${MRSOLVE_BENCH_FILTER:-thrust_cuda|triad}"
jobs="$(nproc 2>/dev/null || echo 4)"
start=$SECONDS

section() { printf '\n==== %s (%ds)\n' "$1" $((SECONDS - start)); }

section "machine"
if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L 2>/dev/null | grep -q '^GPU '; then
    echo "gpu_check: no NVIDIA GPU visible (nvidia-smi -L); nothing to check here" >&2
    exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv
nvcc="${CUDACXX:-/usr/local/cuda/bin/nvcc}"
[[ -x "$nvcc" ]] || nvcc="$(command -v nvcc || true)"
if [[ -z "$nvcc" ]]; then
    echo "gpu_check: no nvcc (set CUDACXX or install the CUDA toolkit in /usr/local/cuda)" >&2
    exit 1
fi
"$nvcc" --version | tail -n 2
echo "cores: $jobs; build dir: $build; CUDA architecture: sm_$arch"

section "dependencies (scripts/install-deps.sh)"
bash scripts/install-deps.sh || echo "gpu_check: install-deps failed (offline?); continuing with what is installed"

section "configure"
configure() {
    CUDACXX="$nvcc" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release \
        -DMRSOLVE_BUILD_TESTS=ON -DMRSOLVE_THRUST_CUDA_TESTS=ON \
        -DMRSOLVE_BUILD_BENCHMARKS=ON -DMRSOLVE_BUILD_EXAMPLES=OFF \
        -DCMAKE_CUDA_ARCHITECTURES="$arch" -DMRSOLVE_BENCH_CUDA_ARCHITECTURES="$arch" -DMRSOLVE_WITH_LIBTORCH=OFF \
        "-DCMAKE_PREFIX_PATH=${MRSOLVE_GPU_PREFIX:-}" ${MRSOLVE_GPU_CMAKE_ARGS:-} "$@" \
        >"$build.configure.log" 2>&1
}
# MRSOLVE_BENCH_CUDA=ON adds the nvcc-built benchmark; should that part not configure, the tests
# still get checked (configured again without it).
if ! configure -DMRSOLVE_BENCH_CUDA=ON; then
    grep -E "CMake Error|Error" -A3 "$build.configure.log" | head -n 20
    echo "gpu_check: configuring with MRSOLVE_BENCH_CUDA=ON failed; configuring the tests alone"
    configure -DMRSOLVE_BENCH_CUDA=OFF || { cat "$build.configure.log"; exit 1; }
fi
grep -E "^-- (mrsolve|.*CUDA)" "$build.configure.log" || true

has_target() {
    # Every generator lists the configured targets' directories here.
    grep -q "/$1\.dir\$" "$build/CMakeFiles/TargetDirectories.txt" 2>/dev/null
}

section "build test_thrust_backend_cuda"
if ! has_target test_thrust_backend_cuda; then
    echo "gpu_check: target test_thrust_backend_cuda was not configured (see $build.configure.log)" >&2
    exit 1
fi
cmake --build "$build" -j"$jobs" --target test_thrust_backend_cuda

# The CUDA benchmark: mrsolve_bench_thrust_cuda (nvcc-built, with the device's own triad).
benches=()
section "build the benchmark"
if has_target mrsolve_bench_thrust_cuda; then
    if cmake --build "$build" -j"$jobs" --target mrsolve_bench_thrust_cuda; then
        benches+=(mrsolve_bench_thrust_cuda)
    else
        echo "gpu_check: building mrsolve_bench_thrust_cuda failed; no figures from it"
    fi
else
    echo "gpu_check: no target mrsolve_bench_thrust_cuda (MRSOLVE_BENCH_CUDA=ON did not configure, or Google"
    echo "           Benchmark is missing; see $build.configure.log); skipping the benchmark"
fi
bench_ok=1

section "CUDA tests"
# MRSOLVE_REQUIRE_GPU=1: the test fails instead of reporting itself skipped when it sees no GPU.
tests_ok=1
MRSOLVE_REQUIRE_GPU=1 ctest --test-dir "$build" -R '^thrust_backend_cuda$' -V --timeout 300 || tests_ok=0

for target in "${benches[@]}"; do
    section "benchmark $target: $filter"
    bench="$(find "$build" -type f -name "$target" -perm -u+x | head -n 1)"
    # (Listed into a variable first: under pipefail, grep -q closing the pipe early could fail the test.)
    listed="$("$bench" --benchmark_list_tests=true --benchmark_filter=thrust_cuda 2>/dev/null || true)"
    if ! grep -q thrust_cuda <<<"$listed"; then
        echo "gpu_check: $target has no thrust_cuda benchmarks (a host build); skipping it"
        continue
    fi
    json="$build/gpu_check_$target.json"
    # The benchmark main prints the build configuration first; the counters bytes_per_second and
    # triad_ratio (achieved bandwidth / the triad's of the same size) are the figures to record.
    status=0
    # Each benchmark runs 5 repetitions and reports their mean, median, stddev and cv (set in the code).
    timeout 300 "$bench" --benchmark_filter="$filter" \
        --benchmark_counters_tabular=true --benchmark_out="$json" --benchmark_out_format=json || status=$?
    if [[ $status -ne 0 ]]; then
        echo "gpu_check: $target failed or timed out (status $status)"
        bench_ok=0
    fi
    if [[ -s "$json" ]]; then
        section "figures (medians): $json"
        python3 bench/summarize.py "$json" || echo "gpu_check: could not summarise $json (python3?)"
    fi
done

section "LibTorch CUDA tensors (test_libtorch_backend)"
torch_ok=skipped
torch_prefix="${MRSOLVE_TORCH_PREFIX:-}"
if [[ -z "$torch_prefix" ]] && command -v python3 >/dev/null 2>&1; then
    torch_prefix="$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path if torch.cuda.is_available() else "")' 2>/dev/null || true)"
fi
if [[ -n "$torch_prefix" ]]; then
    echo "LibTorch from $torch_prefix"
    torch_ok=0
    if CUDACXX="$nvcc" cmake -S . -B "$build-torch" -DCMAKE_BUILD_TYPE=Release -DMRSOLVE_BUILD_TESTS=ON \
            -DMRSOLVE_BUILD_EXAMPLES=OFF -DMRSOLVE_BUILD_BENCHMARKS=OFF -DMRSOLVE_WITH_THRUST=OFF \
            -DCMAKE_CUDA_ARCHITECTURES="$arch" ${MRSOLVE_GPU_CMAKE_ARGS:-} "-DCMAKE_PREFIX_PATH=$torch_prefix;${MRSOLVE_GPU_PREFIX:-}" \
            >"$build-torch.configure.log" 2>&1 \
        && cmake --build "$build-torch" -j"$jobs" --target test_libtorch_backend; then
        MRSOLVE_REQUIRE_GPU=1 "$build-torch/tests/restore/test_libtorch_backend" && torch_ok=1
    else
        grep -E "CMake Error|error" -A3 "$build-torch.configure.log" | head -n 30
        echo "gpu_check: the LibTorch build failed (see above and $build-torch.configure.log)"
    fi
else
    echo "gpu_check: no CUDA-enabled torch found (python3 -c 'import torch'; or set MRSOLVE_TORCH_PREFIX); skipped"
fi
echo "gpu_check: LibTorch CUDA test: $torch_ok (1 passed, 0 failed, skipped)"

section "done"
if [[ "$tests_ok" != 1 ]]; then
    echo "gpu_check: CUDA tests FAILED" >&2
    exit 1
fi
echo "gpu_check: CUDA tests passed"
if [[ ${#benches[@]} -eq 0 || "$bench_ok" != 1 ]]; then
    echo "gpu_check: no complete benchmark figures (see above)" >&2
    exit 2
fi
if [[ "$torch_ok" == 0 ]]; then
    echo "gpu_check: LibTorch CUDA test FAILED" >&2
    exit 3
fi
