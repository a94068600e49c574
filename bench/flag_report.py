#!/usr/bin/env python3
"""Runs the compiler-flag variants of the step benchmark (mrsolve_bench_flags_<variant>, built by
bench/CMakeLists.txt) and prints the Markdown table of docs/performance.md: the median time of one MR
Sampler ODE-2 and SDE-2 step (data prediction, 1x3x256x256 float32, std::vector, zero-cost model, one
thread) per variant, its ratio to the -O3 -march=native variant of the same compiler, and, where python3
has torch, the same updates written in PyTorch on one thread for comparison.

Usage: flag_report.py <build>/bench [more build dirs, e.g. a clang build] [--repetitions N]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

SIZE = "196608"
BIG = "3145728"


def run_variant(exe, repetitions):
    out = exe + ".json"
    subprocess.run([exe, f"--benchmark_out={out}", "--benchmark_out_format=json",
                    f"--benchmark_repetitions={repetitions}", "--benchmark_report_aggregates_only=true"],
                   check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        data = json.load(f)
    medians = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"].split("/min_time:")[0].split("/repeats:")[0].split("/manual_time")[0]
        medians[name] = b
    return data["context"], medians


def torch_steps(steps=50):
    """Per-step time of the ODE-2 and SDE-2 updates written in PyTorch (one thread), in µs, or None."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    x = torch.zeros(1, 3, 256, 256)
    mu = torch.full_like(x, 0.25)
    q = torch.zeros_like(x)
    prev = torch.zeros_like(x)
    gen = torch.Generator().manual_seed(0)

    def ode2(x):
        # x_t = r·x − α_t(φ₁ q − φ₂ D₁) + c·μ, D₁ = (q − q_prev)/r₁: the data-prediction ODE-2 update.
        return 0.9 * x - 0.3 * (0.7 * q - 0.2 * ((q - prev) / 0.5)) + 0.1 * mu

    def sde2(x):
        # The data-prediction SDE-2 update: the same linear terms plus σ_t·√(1 − e^{−2h})·z.
        z = torch.randn(x.shape, generator=gen)
        return 0.9 * x + 0.3 * q + 0.2 * ((q - prev) / 0.5) + 0.1 * mu + 0.05 * z

    result = {}
    for name, step in (("ode", ode2), ("sde", sde2)):
        best = float("inf")
        for _ in range(7):
            y = x
            t0 = time.perf_counter()
            for _ in range(steps):
                y = step(y)
            best = min(best, (time.perf_counter() - t0) / steps)
        result[name] = best * 1e6
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+")
    parser.add_argument("--repetitions", type=int, default=9)
    args = parser.parse_args()
    cpu = "unknown"
    for d in args.dirs:
        exes = sorted(glob.glob(os.path.join(d, "mrsolve_bench_flags_*")))
        exes = [e for e in exes if os.access(e, os.X_OK) and not e.endswith(".json")]
        if not exes:
            print(f"no mrsolve_bench_flags_* executables in {d}", file=sys.stderr)
            return 1
        rows = []
        compiler = ""
        for exe in exes:
            context, med = run_variant(exe, args.repetitions)
            cpu = context.get("mrsolve_cpu", cpu)
            compiler = context.get("mrsolve_compiler", compiler)
            variant = os.path.basename(exe)[len("mrsolve_bench_flags_"):]
            ode = med.get(f"step/ode_data_2/std_vector/{SIZE}")
            sde = med.get(f"step/sde_data_2/std_vector/{SIZE}")
            big = med.get(f"step/sde_data_2/std_vector/{BIG}")
            rows.append((variant, context.get("mrsolve_flags", ""), context.get("mrsolve_simd", ""),
                         ode["real_time"], sde["real_time"], big["triad_ratio"] if big else float("nan")))
        native = {r[0]: r for r in rows}.get("O3_native")
        print(f"### {compiler}\n\n- cpu: `{cpu}`\n")
        print("| variant | flags | kernels | ODE-2 step (µs) | SDE-2 step (µs) | ODE-2 / native | SDE-2 / native "
              "| SDE-2 triad_ratio at 16×3×256×256 |")
        print("|---|---|---|---:|---:|---:|---:|---:|")
        for variant, flags, simd, ode, sde, ratio in rows:
            rn = f"{ode / native[3]:.2f}" if native else "—"
            rs = f"{sde / native[4]:.2f}" if native else "—"
            print(f"| {variant} | `{flags.strip()}` | {simd} | {ode:.1f} | {sde:.1f} | {rn} | {rs} | {ratio:.2f} |")
        print()
    t = torch_steps()
    if t is None:
        print("(python3 has no torch: no PyTorch comparison)")
    else:
        print(f"PyTorch on one thread, the same updates as tensor expressions: ODE-2 {t['ode']:.0f} µs, "
              f"SDE-2 {t['sde']:.0f} µs per step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
