"""Per-step overhead of sampling from Python (reported in docs/performance.md).

A zero-cost model (it returns a preallocated tensor) on a 1x3x256x256 float32 state, MR Sampler ODE-2 in
data prediction with the published loop options, 100 steps; the fastest of several runs, per step:

  mrsolve.sample from Python   the C++ loop, with the GIL taken around each Python model call
  C++ loop                     the same sampler run entirely in C++ with a zero-cost C++ model
  pure PyTorch                 the same ODE-2 update written with PyTorch operations (one fused expression
                               per step, coefficients as Python floats), as a Python loop would run it

Usage: PYTHONPATH=<build>/python python3 python/examples/benchmark_overhead.py [--threads N] [--steps M]
"""

import argparse
import math
import time

import torch

import mrsolve
from mrsolve import _core


def pure_pytorch_ode2(model, x, mu, grid, sde):
    """The MR Sampler ODE-2 (data prediction, fit target data) in PyTorch: the published formulas."""
    alphas = [sde.alpha(t) for t in grid]
    sigmas = [sde.sigma(t) for t in grid]
    lambdas = [sde.lambda_(t) for t in grid]
    previous = None
    M = len(grid) - 1
    for i in range(1, M + 1):
        q = model(x, mu, grid[i - 1])
        h = lambdas[i] - lambdas[i - 1]
        ratio = sigmas[i] / sigmas[i - 1]
        mu_coef = 1 - ratio + ratio * alphas[i - 1] - alphas[i]
        phi1 = math.expm1(-h)
        if previous is None:
            x = ratio * x - (alphas[i] * phi1) * q + mu_coef * mu
        else:
            r = (lambdas[i - 1] - lambdas[i - 2]) / h
            phi2 = phi1 / h + 1
            d1 = (q - previous) / r
            x = ratio * x - alphas[i] * (phi1 * q - phi2 * d1) + mu_coef * mu
        previous = q
    return x


def best_of(repeats, run):
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    sde = mrsolve.IRSDETable()
    mu = torch.rand(1, 3, 256, 256)
    x0 = mrsolve.stationary_start(mu, sde=sde, seed=0)
    output = torch.zeros_like(mu)
    grid = mrsolve.make_grid(sde, "linspace", args.steps).tolist()

    def zero_cost(x, mu, t):
        return output

    def python_run():
        mrsolve.sample(zero_cost, mu, x0, sde=sde, grid=grid, solver="ode", parameterization="data", order=2,
                       fit_target="data", orders="published")

    python = best_of(args.repeats, python_run) / args.steps
    cpp = _core._time_cpp_loop(sde, x0.clone(), mu, grid, args.repeats) / args.steps
    with torch.no_grad():
        pure = best_of(args.repeats, lambda: pure_pytorch_ode2(zero_cost, x0, mu, grid, sde)) / args.steps
        # The three compute the same thing: check it, so the comparison is of equal work.
        ours, _ = mrsolve.sample(zero_cost, mu, x0, sde=sde, grid=grid, solver="ode", parameterization="data",
                                 order=2, fit_target="data", orders="published")
        deviation = (pure_pytorch_ode2(zero_cost, x0, mu, grid, sde) - ours).abs().max().item()

    print(f"state 1x3x256x256 float32, ODE-2 data prediction, {args.steps} steps, torch threads {args.threads}")
    print(f"mrsolve.sample from Python: {python * 1e3:.3f} ms/step")
    print(f"C++ loop (zero-cost C++ model): {cpp * 1e3:.3f} ms/step")
    print(f"pure PyTorch ODE-2: {pure * 1e3:.3f} ms/step")
    print(f"ratio pure PyTorch / mrsolve from Python: {pure / python:.2f}")
    print(f"ratio mrsolve from Python / C++ loop: {python / cpp:.2f}")
    print(f"max |pure PyTorch - mrsolve| = {deviation:.2e}")


if __name__ == "__main__":
    main()
