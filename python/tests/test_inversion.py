"""mrsolve.invert (clean -> noisy along the probability-flow ODE) against the exact Gaussian flow, and
seeded history (mrsolve.sample(history=...)) against the run it continues."""

import math

import pytest
import torch

import mrsolve
from conftest import gaussian_problem


def oracle_model(oracle, fit):
    def model(x, mu, t):
        return oracle.predict(fit, x, mu, t)
    return model


def clean_problem(n=32):
    _, _, mu, mean, std = gaussian_problem(n=n, seed=7)
    family = mrsolve.IRSDE(t_min=1.0)
    oracle = mrsolve.GaussianOracleContinuous(family, mean, std)
    # A clean state: the exact flow of a stationary start down to t_min.
    x_T = mrsolve.stationary_start(mu, sde=family, seed=2)
    x_clean = oracle.flow(x_T, mu, family.t_max, family.t_min)
    return family, oracle, mu, x_clean


@pytest.mark.parametrize("solver,parameterization,order", [("ode", "data", 2), ("ode", "noise", 3),
                                                           ("unipc", "data", 3), ("euler_ode", None, 1)])
def test_invert_converges_to_the_exact_flow(solver, parameterization, order):
    family, oracle, mu, x_clean = clean_problem()
    exact = oracle.flow(x_clean, mu, family.t_min, family.t_max)
    errors = []
    for nfe in (20, 40):
        x, stats = mrsolve.invert(oracle_model(oracle, "noise"), mu, x_clean, sde=family, nfe=nfe, solver=solver,
                                  parameterization=parameterization, order=order, schedule="linear-lambda",
                                  orders="constant")
        assert stats.completed and stats.nfe == nfe and stats.steps == nfe
        errors.append((x - exact).abs().max().item())
    observed_order = math.log2(errors[0] / errors[1])
    assert errors[1] < 0.05
    assert observed_order > order - 0.5, (errors, observed_order)


def test_invert_then_sample_returns_to_the_clean_state():
    family, oracle, mu, x_clean = clean_problem()
    model = oracle_model(oracle, "noise")
    grid = mrsolve.make_grid(family, "linear-lambda", 30)
    latent, _ = mrsolve.invert(model, mu, x_clean, sde=family, grid=grid.flip(0), solver="ode", order=3)
    back, _ = mrsolve.sample(model, mu, latent, sde=family, grid=grid, solver="ode", order=3)
    assert (back - x_clean).abs().max() < 1e-3
    assert (latent - x_clean).abs().max() > 0.05  # the latent is elsewhere


def test_invert_rejects_what_it_cannot_do():
    family, oracle, mu, x_clean = clean_problem()
    model = oracle_model(oracle, "noise")
    with pytest.raises(ValueError, match="solver must be 'ode', 'unipc' or 'euler_ode', got 'sde'"):
        mrsolve.invert(model, mu, x_clean, sde=family, nfe=5, solver="sde")
    with pytest.raises(ValueError, match="invert needs the clean state x"):
        mrsolve.invert(model, mu, None, sde=family, nfe=5)
    decreasing = mrsolve.make_grid(family, "linspace", 5)
    with pytest.raises(ValueError, match="increasing"):
        mrsolve.invert(model, mu, x_clean, sde=family, grid=decreasing)
    with pytest.raises(ValueError, match=r"grid time t\[2\] = 150 lies outside \[1, 100\]"):
        mrsolve.invert(model, mu, x_clean, sde=family, grid=[1.0, 50.0, 150.0])
    with pytest.raises(ValueError, match=r"grid time t\[0\] = 0.5 lies outside \[1, 100\]"):
        mrsolve.invert(model, mu, x_clean, sde=family, grid=[0.5, 50.0])


@pytest.mark.parametrize("solver,parameterization", [("ode", "data"), ("ode", "noise"), ("sde", "data")])
def test_seeded_history_continues_a_run_bit_for_bit(solver, parameterization):
    # A run from t_0 and a run from t_1 whose history is seeded with (x_{t_0}, t_0): the second makes the
    # model evaluation the first made at step 1 and keeps its output, so from t_1 on both runs take the
    # same full-order steps and end with the same bits. Without the seed the second run warms up at
    # order 1 and ends elsewhere. (Not UniPC: its corrector changes x_{t_1} inside step 2's pass of the
    # full run, which a run started from the observed x_{t_1} cannot know.)
    table, oracle, mu, _, _ = gaussian_problem(n=24)
    model = oracle_model(oracle, "noise")
    x_T = mrsolve.stationary_start(mu, sde=table, seed=1)
    grid = mrsolve.make_grid(table, "linear-lambda", 12).tolist()
    states = {}

    def keep(info):
        states[info["step"]] = info["x"].clone()
    options = dict(sde=table, solver=solver, parameterization=parameterization, order=3 if solver != "sde" else 2,
                   orders="constant", seed=4)
    full, stats = mrsolve.sample(model, mu, x_T, grid=grid, progress=keep, **options)
    # The stochastic solver draws the normals of each step by its index: shift them to the shorter run's.
    if solver == "sde":
        def shifted(z, step):
            mrsolve.fill_normal(z, 4, step + 1)
        options["noise"] = shifted
    seeded, seeded_stats = mrsolve.sample(model, mu, states[1], grid=grid[1:], history=[(x_T, grid[0])], **options)
    unseeded, _ = mrsolve.sample(model, mu, states[1], grid=grid[1:], **options)
    assert torch.equal(seeded, full)
    assert seeded_stats.nfe == stats.nfe - 1  # the seed's evaluation is not counted
    assert (unseeded - full).abs().max() > 1e-6


def test_seeded_history_rejects_bad_seeds():
    table, oracle, mu, _, _ = gaussian_problem(n=24)
    model = oracle_model(oracle, "noise")
    grid = mrsolve.make_grid(table, "linspace", 5).tolist()  # starts at T = 100
    x = mrsolve.stationary_start(mu, sde=table)
    with pytest.raises(ValueError, match="history\\[0\\] has time 100.0 but the grid starts at 100.0"):
        mrsolve.sample(model, mu, x, sde=table, grid=grid[:], solver="ode", history=[(x, 100.0)])
    sub = grid[1:]
    with pytest.raises(ValueError, match="history\\[1\\] has time 95.0 after 90.0"):
        mrsolve.sample(model, mu, x, sde=table, grid=sub, solver="ode", history=[(x, 90.0), (x, 95.0)])
    with pytest.raises(ValueError, match="history\\[0\\] must be a pair"):
        mrsolve.sample(model, mu, x, sde=table, grid=sub, solver="ode", history=[x])
    with pytest.raises(ValueError, match="history\\[0\\]\\[0\\] has dtype torch.float32 but mu has dtype torch.float64"):
        mrsolve.sample(model, mu, x, sde=table, grid=sub, solver="ode", history=[(x.float(), 99.0)])
    with pytest.raises(ValueError, match="solver='singlestep' does not take history"):
        mrsolve.sample(model, mu, x, sde=table, nfe=4, solver="singlestep", history=[(x, 99.0)])
