"""Convergence orders of the MR Sampler ODE solvers on the Gaussian oracle, from Python.

The same protocol as tests/test_convergence.cpp: per-element Gaussian data on the continuous cosine
IR-SDE (t_min = 1), uniform-in-lambda grids, NFE doubling; the error is the max-norm distance to the exact
probability-flow map of the oracle; the observed order is the least-squares slope of log(error) against
log(NFE) over the asymptotic rungs (NFE >= 32), and must lie in [k - 0.15, k + 0.6] (the C++ tests' lower
bound; the upper bound catches an error that vanishes for a wrong reason).
"""

import math

import pytest
import torch

import mrsolve
from conftest import gaussian_problem

LADDER = [16, 32, 64, 128, 256]
MIN_NFE = 32


def slope(nfes, errors):
    xs = [math.log(n) for n in nfes]
    ys = [math.log(e) for e in errors]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return -sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


@pytest.mark.parametrize("parameterization", ["data", "noise"])
@pytest.mark.parametrize("order", [1, 2])
def test_mr_ode_order_on_the_gaussian_oracle(parameterization, order):
    _, _, mu, mean, std = gaussian_problem(n=64, seed=3)
    family = mrsolve.IRSDE("cosine", T=100, max_sigma=50, eps=0.005, t_min=1.0)
    oracle = mrsolve.GaussianOracleContinuous(family, mean, std)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=1)
    exact = oracle.flow(x_T, mu, family.t_max, family.t_min)
    fit = "data" if parameterization == "data" else "noise"

    def model(x, mu_, t):
        return oracle.predict(fit, x, mu_, t)
    errors = []
    for nfe in LADDER:
        x, stats = mrsolve.sample(model, mu, x_T, sde=family, nfe=nfe, solver="ode", order=order,
                                  parameterization=parameterization, fit_target=fit, schedule="linear-lambda")
        assert stats.nfe == nfe
        errors.append((x - exact).abs().max().item())
    asymptotic = [(n, e) for n, e in zip(LADDER, errors) if n >= MIN_NFE]
    assert all(e > 1e-11 for _, e in asymptotic), f"errors at round-off: {errors}"
    observed = slope([n for n, _ in asymptotic], [e for _, e in asymptotic])
    assert order - 0.15 <= observed <= order + 0.6, f"order {observed:.3f} from errors {errors}"


def test_the_flow_oracle_round_trips():
    # The reference itself: the exact flow from T to t_min and back returns the start state.
    _, _, mu, mean, std = gaussian_problem(n=8)
    family = mrsolve.IRSDE(t_min=1.0)
    oracle = mrsolve.GaussianOracleContinuous(family, mean, std)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=1)
    back = oracle.flow(oracle.flow(x_T, mu, 100.0, 1.0), mu, 1.0, 100.0)
    assert torch.allclose(back, x_T, rtol=0, atol=1e-12)
