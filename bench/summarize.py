#!/usr/bin/env python3
"""Summarises mrsolve benchmark JSON files (Google Benchmark --benchmark_out) as Markdown tables of medians:
time per step, bytes per second and triad ratio for every step/<solver>/<backend>/<elements>, and the
triad bandwidth of each binary. Usage: summarize.py result.json [more.json ...]"""
import json
import sys


def medians(path):
    with open(path) as f:
        data = json.load(f)
    context = data.get("context", {})
    rows = {}
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") != "median":
            continue
        name = b["run_name"]
        for suffix in ("/min_time:", "/repeats:", "/manual_time", "/real_time"):
            name = name.split(suffix)[0]
        rows[name] = b
    return context, rows


def main(paths):
    for path in paths:
        context, rows = medians(path)
        print(f"### {context.get('mrsolve_binary', path)}\n")
        for key in ("compiler", "flags", "backends", "openmp", "simd", "cpu"):
            if "mrsolve_" + key in context:
                print(f"- {key}: `{context['mrsolve_' + key]}`")
        print()
        triads = {n.split("/")[1]: r for n, r in rows.items() if n.startswith("triad/")}
        if triads:
            print("| triad | time (µs) | GB/s |\n|---|---:|---:|")
            for n, r in sorted(triads.items(), key=lambda kv: int(kv[0])):
                print(f"| triad/{n} | {r['real_time']:.1f} | {r['bytes_per_second'] / 1e9:.1f} |")
            print()
        print("| benchmark | time per step (µs) | wall per step (µs) | arrays | GB/s | triad_ratio |\n"
              "|---|---:|---:|---:|---:|---:|")
        for n, r in rows.items():
            if not n.startswith("step/"):
                continue
            print(f"| {n} | {r['real_time']:.1f} | {r.get('wall_us_per_step', float('nan')):.1f} | "
                  f"{int(r.get('arrays', 0))} | {r['bytes_per_second'] / 1e9:.1f} | {r['triad_ratio']:.2f} |")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
