"""Bad input, a model that raises or misbehaves, and NaN under both fault policies."""

import math

import pytest
import torch

import mrsolve
from conftest import gaussian_problem, nan_at_call


@pytest.fixture
def setup():
    table, oracle, mu, _, _ = gaussian_problem()

    def model(x, mu_, t):
        return oracle.predict("noise", x, mu_, t)
    return table, model, mu


@pytest.mark.parametrize("change,pattern", [
    (lambda a: dict(a, mu=a["mu"].half()), r"mu has dtype torch\.float16"),
    (lambda a: dict(a, mu=a["mu"].long()), r"mu has dtype torch\.int64"),
    (lambda a: dict(a, mu=a["mu"][:0]), r"mu is empty"),
    (lambda a: dict(a, x=a["mu"].float()), r"x has dtype torch\.float32 but mu has dtype torch\.float64"),
    (lambda a: dict(a, x=a["mu"].reshape(4, 6)), r"x has shape \(4, 6\) but mu has shape \(24,\)"),
    (lambda a: dict(a, x=torch.zeros(25, dtype=torch.float64)), r"x has shape \(25,\)"),
    (lambda a: dict(a, x=a["mu"].to("meta")), r"x is on device meta but mu is on device cpu"),
    (lambda a: dict(a, nfe=0), r"nfe must be an integer >= 1, got 0"),
    (lambda a: dict(a, nfe=2.5), r"nfe must be an integer >= 1, got 2\.5"),
    (lambda a: dict(a, nfe=None), r"nfe is required"),
    (lambda a: dict(a, solver="rk4"), r"solver must be one of .*'rk4'"),
    (lambda a: dict(a, solver="ode", parameterization="velocity"), r"parameterization must be 'data' or 'noise', got 'velocity'"),
    (lambda a: dict(a, solver="ode", order=4), r"mr_ode supports orders 1, 2 and 3, got order 4"),
    (lambda a: dict(a, solver="sde", order=3), r"order 3"),
    (lambda a: dict(a, solver="heun", parameterization="data"), r"solver 'heun' integrates the noise prediction"),
    (lambda a: dict(a, solver="ode", order=3, nfe=2), r"NFE 2 is too small for order 3"),
    (lambda a: dict(a, fit_target="score"), r"unknown fit target 'score'"),
    (lambda a: dict(a, schedule="cosine"), r"unknown time schedule 'cosine'"),
    (lambda a: dict(a, nfe=None, grid=[100.0, 50.0, 60.0, 0.0]), r"strictly decreasing: t\[1\] = 50, t\[2\] = 60"),
    (lambda a: dict(a, nfe=None, grid=[150.0, 0.0]), r"t\[0\] = 150 lies outside \[0, 100\]"),
    (lambda a: dict(a, nfe=5, grid=[100.0, 0.0]), r"nfe = 5 but the grid has 2 times"),
    (lambda a: dict(a, orders="sometimes"), r"orders must be .* got 'sometimes'"),
    (lambda a: dict(a, on_fault="ignore"), r"on_fault must be 'raise' or 'stop', got 'ignore'"),
    (lambda a: dict(a, seed=-1), r"seed must be an integer >= 0, got -1"),
    (lambda a: dict(a, seed=2 ** 64), r"seed must be < 2\*\*64"),
    (lambda a: dict(a, time="int"), r"time must be 'float' or 'tensor', got 'int'"),
    (lambda a: dict(a, time_scale=0.0), r"time_scale must be finite and > 0, got 0"),
    (lambda a: dict(a, solver="eta", eta=1.5), r"eta must lie in \[0, 1\], got 1\.5"),
    (lambda a: dict(a, solver="unipc", unipc_variant="bh3"), r"unipc_variant must be 'bh1' or 'bh2', got 'bh3'"),
    (lambda a: dict(a, solver="euler_ode", step_mode="fixed"), r"step_mode must be 'variable' or 'published_fixed', got 'fixed'"),
    (lambda a: dict(a, solver="ode", lambda_min=math.nan), r"lambda"),
    (lambda a: dict(a, solver="ode", rho=-1.0, schedule="karras-n"), r"rho must be finite and > 0, got -1"),
    (lambda a: dict(a, inplace=True), r"inplace=True needs a start state x"),
    (lambda a: dict(a, x=torch.full_like(a["mu"], math.nan)), r"the start state x contains NaN or Inf"),
    (lambda a: dict(a, x=torch.zeros_like(a["mu"]), mu=torch.full_like(a["mu"], math.inf)), r"the condition mu contains NaN or Inf"),
    (lambda a: dict(a, solver="recommended", order=2), r"solver='recommended' chooses"),
])
def test_bad_input_raises_a_value_error_that_names_it(setup, change, pattern):
    table, model, mu = setup
    args = change({"mu": mu, "nfe": 5, "sde": table})
    with pytest.raises(ValueError, match=pattern):
        mrsolve.sample(model, **args)


@pytest.mark.parametrize("change,pattern", [
    (lambda a: dict(a, mu=[0.5, 0.5]), r"mu must be a torch\.Tensor, got list"),
    (lambda a: dict(a, sde="cosine"), r"sde must be an mrsolve\.IRSDETable or mrsolve\.IRSDE, got str"),
    (lambda a: dict(a, model=42), r"model must be callable, got int"),
    (lambda a: dict(a, noise=3), r"noise must be None or a callable"),
    (lambda a: dict(a, progress="yes"), r"progress must be None, True or a callable"),
])
def test_wrong_types_raise_a_type_error_that_names_them(setup, change, pattern):
    table, model, mu = setup
    args = change({"model": model, "mu": mu, "nfe": 5, "sde": table})
    with pytest.raises(TypeError, match=pattern):
        mrsolve.sample(**args)


def prefix_run(table, model, mu, x0, steps, grid):
    """The state after `steps` steps: a run over the first steps + 1 times (orders='constant' makes the
    steps of a shorter grid those of the longer one)."""
    return mrsolve.sample(model, mu, x0, sde=table, grid=grid[:steps + 1], solver="ode", order=2,
                          orders="constant")[0]


class Boom(RuntimeError):
    pass


def test_an_exception_in_the_model_reaches_the_caller_as_itself(setup):
    table, model, mu = setup
    grid = mrsolve.make_grid(table, "linspace", 8).tolist()
    x0 = mrsolve.stationary_start(mu, sde=table, seed=4)
    calls = []
    error = Boom("raised inside the model at call 4")

    def failing(x, mu_, t):
        calls.append(t)
        if len(calls) == 4:
            raise error
        return model(x, mu_, t)
    x = x0.clone()
    with pytest.raises(Boom) as caught:
        mrsolve.sample(failing, mu, x, sde=table, grid=grid, solver="ode", order=2, orders="constant", inplace=True)
    assert caught.value is error
    # Documented state: a failure at step k leaves x = x_{t_{k-1}} (here k = 4: three steps done).
    assert torch.equal(x, prefix_run(table, model, mu, x0, 3, grid))
    # The module stays usable.
    assert mrsolve.sample(model, mu, sde=table, nfe=3, solver="ode")[1].completed


def test_an_exception_in_the_noise_callable_or_the_observer_propagates(setup):
    table, model, mu = setup

    def bad_noise(z, step):
        raise KeyError(step)
    with pytest.raises(KeyError):
        mrsolve.sample(model, mu, sde=table, nfe=3, solver="sde", noise=bad_noise)

    def bad_progress(info):
        raise Boom("observer")
    with pytest.raises(Boom):
        mrsolve.sample(model, mu, sde=table, nfe=3, solver="ode", progress=bad_progress)


@pytest.mark.parametrize("output,pattern", [
    (lambda x: x[:-1], r"the model output at t = 100 is Double tensor \[23\] .* but x is Double tensor \[24\]"),
    (lambda x: x.tolist(), r"the model returned <class 'list'> at t = 100"),
    (lambda x: x.long(), r"dtype Long; a floating-point tensor is needed"),
    (lambda x: x.to("meta"), r"is on meta but x is on cpu"),
])
def test_a_model_output_of_the_wrong_kind_raises_a_value_error(setup, output, pattern):
    table, model, mu = setup
    with pytest.raises(ValueError, match=pattern):
        mrsolve.sample(lambda x, mu_, t: output(model(x, mu_, t)), mu, sde=table, nfe=3, solver="ode")


@pytest.mark.parametrize("policy", ["raise", "stop"])
def test_nan_from_the_model_under_both_fault_policies(setup, policy):
    table, model, mu = setup
    grid = mrsolve.make_grid(table, "linspace", 8).tolist()
    x0 = mrsolve.stationary_start(mu, sde=table, seed=4)
    nan_at_call_5, calls = nan_at_call(model, 5, 3)
    x = x0.clone()
    kwargs = dict(sde=table, grid=grid, solver="ode", order=2, orders="constant", inplace=True, on_fault=policy)
    if policy == "raise":
        with pytest.raises(mrsolve.NonFiniteError) as caught:
            mrsolve.sample(nan_at_call_5, mu, x, **kwargs)
        assert caught.value.step == 5 and caught.value.time == grid[4]
        assert isinstance(caught.value, ArithmeticError) and "step 5" in str(caught.value)
    else:
        _, stats = mrsolve.sample(nan_at_call_5, mu, x, **kwargs)
        assert stats.status == "non_finite_model_output" and not stats.completed
        assert (stats.fault_step, stats.steps, stats.nfe, stats.fault_time) == (5, 4, 5, grid[4])
        # The last finite state: x_{t_4}, bit for bit.
        assert torch.equal(x, prefix_run(table, model, mu, x0, 4, grid))


def test_published_sampler_rejects_bad_arguments():
    from conftest import PublishedStyleIRSDE, opt_of
    sde = PublishedStyleIRSDE(lambda x, mu, t, **kw: torch.zeros_like(x))
    with pytest.raises(ValueError, match="solver_type must be 'ode' or 'sde', got 'pde'"):
        mrsolve.MRSampler(sde, opt_of(), 10, solver_type="pde")
    with pytest.raises(ValueError, match=r"order 3 is not supported by the sde sampler"):
        mrsolve.MRSampler(sde, opt_of(), 10, solver_type="sde", order=3)
    with pytest.raises(ValueError, match="thresholding must be True or False, got 'on'"):
        mrsolve.MRSampler(sde, opt_of(), 10, thresholding="on")
    with pytest.raises(ValueError, match=r"sde.thetas does not match"):
        mrsolve.MRSampler(sde, opt_of(schedule="linear"), 10)
    with pytest.raises(ValueError, match=r"sde.T = 100 but opt\['sde'\]\['T'\] = 50"):
        mrsolve.MRSampler(sde, opt_of(T=50), 10)
    with pytest.raises(ValueError, match=r"opt must hold opt\['sde'\]"):
        mrsolve.MRSampler(sde, {}, 10)
    with pytest.raises(ValueError, match=r"unknown time schedule 'cosine'"):
        mrsolve.MRSampler(sde, opt_of(), 10, time_schedule="cosine")
