#!/usr/bin/env bash
# Builds and runs mrsolve's libFuzzer targets (tests/fuzz/fuzz_*.cpp) for a bounded time each.
#
#   scripts/fuzz.sh [-t SECONDS] [TARGET...]     e.g. scripts/fuzz.sh -t 300 schedule golden
#
# Each target is compiled with clang++-14 -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined into
# build-fuzz/, then run for SECONDS (default 60, or $MRSOLVE_FUZZ_SECONDS) on its seed corpus
# tests/fuzz/corpus/<target>/ (read only; every seed, including the regression inputs of past findings,
# is executed first) plus a working corpus build-fuzz/corpus/<target>/ that keeps what it discovers
# between runs. Up to nproc targets run at once, each for the full SECONDS. A crash, a sanitizer report,
# a contract violation (the targets trap), an input slower than 10 s (a hang) or more than 2 GiB of memory
# is a finding: libFuzzer writes the input to build-fuzz/artifacts/<target>/ and this script exits
# non-zero after printing a summary of every target
# (executions, executions/s, corpus size, findings).
#
# Needs clang++-14 and libFuzzer (Debian: clang-14 libclang-rt-14-dev; scripts/install-fuzz-deps.sh).
# It runs scripts/install-fuzz-deps.sh first (MRSOLVE_SKIP_DEPS=1 skips it). Set MRSOLVE_FUZZ_CXX to use
# another clang++.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds="${MRSOLVE_FUZZ_SECONDS:-60}"
if [[ "${1:-}" == "-t" ]]; then
    seconds="$2"
    shift 2
fi
cxx="${MRSOLVE_FUZZ_CXX:-clang++-14}"
out=build-fuzz

bash scripts/install-fuzz-deps.sh
if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "fuzz: $cxx not found; run scripts/install-fuzz-deps.sh (clang-14, libclang-rt-14-dev)" >&2
    exit 2
fi

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for source in tests/fuzz/fuzz_*.cpp; do
        name="$(basename "$source" .cpp)"
        targets+=("${name#fuzz_}")
    done
fi

mkdir -p "$out"
echo "== fuzz: building ${#targets[@]} targets with $("$cxx" --version | head -n 1)"
flags=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
       -Wall -Wextra -Iinclude)
pids=()
for target in "${targets[@]}"; do
    [[ -f "tests/fuzz/fuzz_$target.cpp" ]] || { echo "fuzz: no tests/fuzz/fuzz_$target.cpp" >&2; exit 2; }
    "$cxx" "${flags[@]}" "tests/fuzz/fuzz_$target.cpp" -o "$out/fuzz_$target" &
    pids+=($!)
    # At most nproc compilations at once.
    if [[ ${#pids[@]} -ge $(nproc) ]]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

# One target's run: its log, corpus and findings are its own, so targets can run side by side.
run_target() {
    local target="$1" seeds="tests/fuzz/corpus/$1" work="$out/corpus/$1" artifacts="$out/artifacts/$1"
    local max_len=4096 status=0
    [[ "$target" == golden ]] && max_len=65536
    mkdir -p "$work" "$artifacts" "$seeds"
    touch "$out/.start_$target"
    "$out/fuzz_$target" "$work" "$seeds" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" >"$out/fuzz_$target.log" 2>&1 \
        || status=$?
    echo "$status" >"$out/.status_$target"
}

# Each libFuzzer process is single-threaded: up to nproc targets run at once, each for the full time.
pids=()
for target in "${targets[@]}"; do
    echo "== fuzz: $target for ${seconds} s (seeds: $(find "tests/fuzz/corpus/$target" -type f 2>/dev/null | wc -l) files in tests/fuzz/corpus/$target)"
    run_target "$target" &
    pids+=($!)
    if [[ ${#pids[@]} -ge $(nproc) ]]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

summary=()
failed=0
for target in "${targets[@]}"; do
    log="$out/fuzz_$target.log"
    status="$(cat "$out/.status_$target")"
    execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)"
    added="$(sed -n 's/^stat::new_units_added: *//p' "$log" | tail -n 1)"
    corpus="$(find "$out/corpus/$target" -type f | wc -l)"
    findings="$(find "$out/artifacts/$target" -type f -newer "$out/.start_$target" | wc -l)"
    if [[ $status -ne 0 ]]; then
        failed=1
        echo "fuzz: $target FAILED (exit $status); the report:" >&2
        grep -E 'ERROR|FUZZ CONTRACT|runtime error|SUMMARY|Test unit written|^    #[0-9] ' "$log" | head -n 40 >&2 || true
    fi
    summary+=("$(printf '%-12s %6s s %10s execs %8s exec/s %6s corpus %6s new %3s findings  %s' "$target" "$seconds" \
        "${execs:-?}" "${rate:-?}" "$corpus" "${added:-?}" "$findings" "$([[ $status -eq 0 ]] && echo ok || echo FAILED)")")
done

echo "== fuzz: summary (logs in $out/fuzz_<target>.log, crashing inputs in $out/artifacts/<target>/)"
printf '%s\n' "${summary[@]}"
exit "$failed"
