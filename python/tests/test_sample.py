"""mrsolve.sample against the C++ result, its options, the model protocol and its determinism."""

import math

import pytest
import torch

import mrsolve
from mrsolve import _core
from conftest import gaussian_problem, nan_at_call

# (solver, parameterization, order): every solver family the module dispatches.
CONFIGURATIONS = [("ode", "data", 1), ("ode", "data", 2), ("ode", "noise", 3), ("sde", "data", 2), ("sde", "noise", 1),
                  ("unipc", "data", 3), ("unipc", "noise", 2), ("eta", "data", 2), ("euler_maruyama", "noise", 1),
                  ("euler_ode", "noise", 1), ("heun", "noise", 2), ("posterior", "data", 1)]


def oracle_model(oracle, fit):
    def model(x, mu, t):
        return oracle.predict(fit, x, mu, t)
    return model


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("solver,parameterization,order", CONFIGURATIONS)
def test_sample_equals_the_cpp_loop_bit_for_bit(solver, parameterization, order, dtype):
    # The same configuration run entirely in C++ on std::vector (oracle model, counter_noise(seed)) and
    # from Python on a tensor (the same oracle called from Python): the same bits, since the adapter runs
    # the same fused loop on the tensor's storage and the noise is keyed by (seed, step, element).
    table, oracle, mu, mean, std = gaussian_problem(n=48)
    mu = mu.to(dtype).reshape(2, 4, 6)
    fit = "data" if parameterization == "data" else "noise"
    x_T = mrsolve.stationary_start(mu, sde=table, seed=5)
    grid = mrsolve.make_grid(table, "linear-lambda", 12).tolist()
    x, stats = mrsolve.sample(oracle_model(oracle, fit), mu, x_T, sde=table, grid=grid, solver=solver,
                              parameterization=parameterization, order=order, fit_target=fit, seed=11)
    expected = _core._reference_sample(table, solver, parameterization, order, fit, mean, std, x_T, mu, grid,
                                       "lower_order_final", 11)
    assert x.dtype == dtype and x.shape == mu.shape
    assert torch.equal(x, expected)
    assert stats.completed and stats.steps == 12
    assert stats.nfe == (24 if solver == "heun" else 12)


def test_sample_equals_cpp_on_the_continuous_family():
    table, oracle, mu, mean, std = gaussian_problem(n=16)
    family = mrsolve.IRSDE(t_min=1.0)
    orc = mrsolve.GaussianOracleContinuous(family, mean, std)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=2)
    grid = mrsolve.make_grid(family, "karras-n", 9).tolist()
    x, _ = mrsolve.sample(oracle_model(orc, "noise"), mu, x_T, sde=family, grid=grid, solver="sde", seed=3)
    expected = _core._reference_sample(family, "sde", "data", 0, "noise", mean, std, x_T, mu, grid,
                                       "lower_order_final", 3)
    assert torch.equal(x, expected)


def test_stationary_start_is_mu_plus_lambda_s_times_normals():
    table = mrsolve.IRSDETable()
    mu = torch.zeros(1000, dtype=torch.float64)
    z = mrsolve.stationary_start(mu, sde=table, seed=9) / table.stationary_std
    # 1000 standard normals: mean within 4 standard errors, variance within 4 of its standard errors.
    assert abs(z.mean().item()) < 4 / math.sqrt(1000)
    assert abs(z.var().item() - 1) < 4 * math.sqrt(2 / 1000)
    assert torch.equal(mrsolve.stationary_start(mu, sde=table, seed=9), mrsolve.stationary_start(mu, sde=table, seed=9))


@pytest.mark.parametrize("solver", ["sde", "eta", "euler_maruyama", "posterior"])
def test_seeds_are_deterministic_and_distinct(solver):
    table, oracle, mu, _, _ = gaussian_problem()
    fit = "noise"

    def run(seed):
        return mrsolve.sample(oracle_model(oracle, fit), mu, sde=table, nfe=8, solver=solver, seed=seed)[0]
    a, b, c = run(1), run(1), run(2)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_the_recommended_default_follows_the_cpp_recommendation():
    table, oracle, mu, mean, std = gaussian_problem()
    for nfe in (5, 12, 20):
        r = mrsolve.recommended(nfe)
        x_T = mrsolve.stationary_start(mu, sde=table, seed=0)
        x, stats = mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=nfe)
        grid = mrsolve.make_grid(table, r["schedule"], nfe).tolist()
        # No reference run for unipc variants in the C++ helper: compare against an explicit Python run.
        y, _ = mrsolve.sample(oracle_model(oracle, "noise"), mu, x_T, sde=table, grid=grid, solver=r["solver"],
                              parameterization=r["parameterization"], order=r["order"],
                              unipc_variant=r["unipc_variant"])
        assert torch.equal(x, y) and stats.nfe == nfe


def test_extra_conditioning_reaches_the_model_unchanged():
    table, oracle, mu, _, _ = gaussian_problem()
    text, image = torch.randn(3, 7), {"tokens": [1, 2, 3]}
    seen = []

    def model(x, mu_, t, text_context=None, image_context=None):
        seen.append((text_context, image_context))
        return oracle.predict("noise", x, mu_, t)
    mrsolve.sample(model, mu, sde=table, nfe=4, solver="ode", text_context=text, image_context=image)
    assert len(seen) == 4
    assert all(tc is text and ic is image for tc, ic in seen)


def test_time_reaches_the_model_as_a_float_or_a_batch_tensor():
    table, oracle, mu, _, _ = gaussian_problem(n=12)
    mu = mu.reshape(3, 4)
    times = []

    def model(x, mu_, t):
        times.append(t)
        return torch.zeros_like(x)
    grid = mrsolve.make_grid(table, "linspace", 4).tolist()
    mrsolve.sample(model, mu, sde=table, grid=grid, solver="ode", fit_target="noise")
    assert times == grid[:4] and all(type(t) is float for t in times)
    times.clear()
    mrsolve.sample(model, mu, sde=table, grid=grid, solver="ode", time="tensor", time_scale=0.01)
    assert all(isinstance(t, torch.Tensor) and t.shape == (3,) and t.dtype == mu.dtype for t in times)
    assert [t[0].item() for t in times] == pytest.approx([0.01 * g for g in grid[:4]], rel=1e-15)


def test_the_model_sees_the_state_and_the_condition():
    table, oracle, mu, _, _ = gaussian_problem(n=6)
    x0 = mrsolve.stationary_start(mu, sde=table, seed=1)
    first = []

    def model(x, mu_, t):
        if not first:
            first.append((x.clone(), mu_.clone()))
        return oracle.predict("noise", x, mu_, t)
    mrsolve.sample(model, mu, x0, sde=table, nfe=3, solver="ode")
    assert torch.equal(first[0][0], x0) and torch.equal(first[0][1], mu)


def test_x_is_not_modified_unless_inplace():
    table, oracle, mu, _, _ = gaussian_problem()
    x0 = mrsolve.stationary_start(mu, sde=table, seed=1)
    kept = x0.clone()
    x, _ = mrsolve.sample(oracle_model(oracle, "noise"), mu, x0, sde=table, nfe=5, solver="ode")
    assert torch.equal(x0, kept) and x is not x0
    y, _ = mrsolve.sample(oracle_model(oracle, "noise"), mu, x0, sde=table, nfe=5, solver="ode", inplace=True)
    assert y is x0 and torch.equal(y, x)


def test_progress_callback_sees_every_step():
    table, oracle, mu, _, _ = gaussian_problem()
    steps = []
    mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=6, solver="ode",
                   progress=lambda info: steps.append((info["step"], info["steps"], info["t"])))
    grid = mrsolve.make_grid(table, "linspace", 6).tolist()
    assert steps == [(i, 6, grid[i]) for i in range(1, 7)]


def test_injected_noise_is_used_for_every_stochastic_step():
    table, oracle, mu, _, _ = gaussian_problem()
    asked = []

    def zeros(z, step):
        asked.append(step)
        z.zero_()
    x, _ = mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=5, solver="eta", eta=1.0, noise=zeros)
    y, _ = mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=5, solver="eta", eta=0.0)
    assert asked == [1, 2, 3, 4, 5]
    # eta = 1 with zero noise is not the eta = 0 ODE, but both are finite and deterministic.
    assert torch.isfinite(x).all() and torch.isfinite(y).all()


def test_family_tables_are_tensors_that_match_the_functions():
    table = mrsolve.IRSDETable("linear", T=50, max_sigma=30, eps=0.01)
    t = torch.arange(0, 51, dtype=torch.float64)
    for name, f in (("alphas", table.alpha), ("sigmas", table.sigma), ("lambdas", table.lambda_)):
        values = getattr(table, name)
        assert isinstance(values, torch.Tensor) and values.dtype == torch.float64 and values.shape == (51,)
        assert torch.equal(f(t), values)
    assert table.thetas.shape == (51,) and torch.equal(table.theta_bars, torch.cumsum(table.thetas, 0))
    assert table.stationary_std == pytest.approx(30 / 255)
    # alpha = exp(-theta_bar dt) (docs/theory.md §1, "The discrete tables"), checked from Python's own arithmetic.
    assert torch.allclose(table.alphas, torch.exp(-table.theta_bars * table.dt), rtol=1e-14, atol=0)
    family = mrsolve.IRSDE("cosine")
    ts = torch.linspace(1, 100, 7, dtype=torch.float64)
    a, s = family.alpha(ts), family.sigma(ts)
    # The continuous family: lambda = ln(alpha/sigma) exactly and alpha^2 + (sigma/lambda_s)^2 = 1.
    assert torch.allclose(family.lambda_(ts), torch.log(a / s), rtol=1e-13, atol=1e-13)
    assert torch.allclose(a ** 2 + (s / family.stationary_std) ** 2, torch.ones(7, dtype=torch.float64), atol=1e-13)


@pytest.mark.parametrize("solver", ["ode", "heun", "sde"])
def test_the_kind_of_tensor_the_model_returns_does_not_change_the_result(solver):
    # The model's result is read in place when it can be (no copy) and copied otherwise: a fresh tensor,
    # the state itself, a reused buffer, a non-contiguous view, another dtype all give the same bits.
    table, oracle, mu, _, _ = gaussian_problem(n=24)
    mu = mu.float().reshape(4, 6)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=1)
    buffer = torch.empty_like(mu)

    def fresh(x, mu_, t):
        return oracle.predict("noise", x, mu_, t)

    def reused(x, mu_, t):
        return buffer.copy_(fresh(x, mu_, t))

    def transposed(x, mu_, t):
        return fresh(x, mu_, t).t().contiguous().t()

    def wider(x, mu_, t):
        return fresh(x, mu_, t).double()

    def run(model):
        return mrsolve.sample(model, mu, x_T, sde=table, nfe=6, solver=solver, seed=4)[0]
    expected = run(fresh)
    for model in (reused, transposed, wider):
        assert torch.equal(run(model), expected), model.__name__


def test_a_model_that_returns_its_input_is_read_correctly():
    # out = x: the update reads the model output and writes x in the same pass.
    table, _, mu, _, _ = gaussian_problem(n=10)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=1)
    a, _ = mrsolve.sample(lambda x, m, t: x, mu, x_T, sde=table, nfe=5, solver="ode", fit_target="data")
    b, _ = mrsolve.sample(lambda x, m, t: x.clone(), mu, x_T, sde=table, nfe=5, solver="ode", fit_target="data")
    assert torch.equal(a, b)


def test_progress_true_draws_a_tqdm_bar_or_says_what_is_missing():
    table, oracle, mu, _, _ = gaussian_problem()
    try:
        import tqdm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="progress=True needs the tqdm package"):
            mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=3, solver="ode", progress=True)
    else:
        assert mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=3, solver="ode", progress=True)[1].completed


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("parameterization,order,nfe", [("data", 3, 10), ("noise", 2, 9), ("data", 1, 4)])
def test_singlestep_equals_the_cpp_singlestep_sampler_bit_for_bit(parameterization, order, nfe, dtype):
    table, oracle, mu, mean, std = gaussian_problem(n=20)
    mu = mu.to(dtype)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=3)
    x, stats = mrsolve.sample(oracle_model(oracle, "noise"), mu, x_T, sde=table, nfe=nfe, solver="singlestep",
                              parameterization=parameterization, order=order, schedule="linear-lambda")
    expected = _core._reference_singlestep(table, parameterization, nfe, order, mean, std, x_T, mu, "noise")
    assert torch.equal(x, expected)
    assert stats.nfe == nfe and stats.steps == math.ceil(nfe / order) + (1 if order == 3 and nfe % 3 == 0 else 0)


def test_singlestep_rejects_the_options_it_does_not_have():
    table, oracle, mu, _, _ = gaussian_problem()
    with pytest.raises(ValueError, match="solver='singlestep' does not take orders='constant'"):
        mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=6, solver="singlestep", orders="constant")
    with pytest.raises(ValueError, match="orders\\[|expected 1, 2 or 3|order"):
        mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=6, solver="singlestep", order=4)


def test_singlestep_progress_sees_every_step():
    table, oracle, mu, _, _ = gaussian_problem()
    seen = []
    _, stats = mrsolve.sample(oracle_model(oracle, "noise"), mu, sde=table, nfe=9, solver="singlestep", order=3,
                              schedule="linear-lambda",
                              progress=lambda info: seen.append((info["step"], info["steps"], info["t"])))
    grid = mrsolve.make_grid(table, "linear-lambda", stats.steps).tolist()
    assert stats.steps == 4 and seen == [(i, 4, grid[i]) for i in range(1, 5)]


@pytest.mark.parametrize("policy", ["raise", "stop"])
def test_singlestep_nan_from_the_model_under_both_fault_policies(policy):
    # nfe 9 at order 3: steps of 3, 3, 2 and 1 evaluations, so the 5th call is a stage of step 2.
    table, oracle, mu, _, _ = gaussian_problem()
    model = oracle_model(oracle, "noise")
    x_T = mrsolve.stationary_start(mu, sde=table, seed=3)
    nan_at_call_5, calls = nan_at_call(model, 5, 2)
    kwargs = dict(sde=table, nfe=9, solver="singlestep", order=3, on_fault=policy)
    if policy == "raise":
        with pytest.raises(mrsolve.NonFiniteError) as caught:
            mrsolve.sample(nan_at_call_5, mu, x_T, **kwargs)
        assert caught.value.step == 2 and "step 2" in str(caught.value)
        return
    x, stats = mrsolve.sample(nan_at_call_5, mu, x_T, **kwargs)
    assert stats.status == "non_finite_model_output" and not stats.completed
    assert (stats.fault_step, stats.steps, stats.nfe, stats.fault_time) == (2, 1, 5, calls[4])
    # The last finite state is x after step 1, bit for bit: what the observer of a clean run saw there.
    after_step = []
    mrsolve.sample(model, mu, x_T, sde=table, nfe=9, solver="singlestep", order=3,
                   progress=lambda info: after_step.append(info["x"].clone()))
    assert torch.equal(x, after_step[0])


def test_the_stats_name_the_path_the_updates_took():
    # The run works on a contiguous copy of x (one copy in per run), or on x itself with inplace=True, where
    # mu is brought to x's layout: every layout of CPU tensors runs the host kernels (the instruction set
    # named), channels_last in place over its storage in memory order; the same bits on every path.
    table, oracle, mu, mean, std = gaussian_problem(n=48)
    mu = mu.to(torch.float32).reshape(1, 3, 4, 4)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=5)
    model = oracle_model(oracle, "noise")

    def channels_last(t):
        return t.contiguous(memory_format=torch.channels_last)

    def gapped(t):
        return torch.zeros(1, 3, 4, 8).narrow(3, 0, 4).copy_(t)

    runs = {}
    for name, convert, inplace in [("contiguous", torch.clone, False), ("channels_last", channels_last, False),
                                   ("channels_last_inplace", channels_last, True), ("gapped", gapped, False),
                                   ("mixed_inplace", channels_last, True)]:
        mu_in = mu.clone() if name == "mixed_inplace" else convert(mu)
        x, stats = mrsolve.sample(model, mu_in, convert(x_T), sde=table, nfe=5, solver="sde", seed=3,
                                  inplace=inplace)
        runs[name] = (x.contiguous(), stats.execution_path)
    isa = runs["contiguous"][1].split("/")[1]
    assert runs["contiguous"][1] == "torch host_contiguous/" + isa
    assert runs["channels_last"][1] == "torch host_contiguous/" + isa
    assert runs["gapped"][1] == "torch host_contiguous/" + isa
    assert runs["channels_last_inplace"][1] == "torch host_dense/" + isa
    assert runs["mixed_inplace"][1] == "torch host_dense/" + isa
    for name, (x, _) in runs.items():
        assert torch.equal(x, runs["contiguous"][0]), name


def test_grid_files_round_trip_and_feed_sample(tmp_path):
    # A grid saved (as mrsolve_tune saves a tuned one) loads back bit for bit and samples as the grid itself;
    # a file for another family, another NFE or with a bad time is refused with the file and line named.
    table, oracle, mu, mean, std = gaussian_problem(n=48)
    grid = mrsolve.make_grid(table, "karras-n", 7)
    path = str(tmp_path / "tuned.grid")
    mrsolve.save_grid(path, table, grid, solver="unipc data 3")
    loaded = mrsolve.load_grid(path, table, nfe=7)
    assert loaded.dtype == torch.float64 and torch.equal(loaded, grid)
    model = oracle_model(oracle, "noise")
    x_T = mrsolve.stationary_start(mu, sde=table, seed=2)
    from_file, _ = mrsolve.sample(model, mu, x_T, sde=table, grid=loaded, solver="ode", order=2)
    from_grid, _ = mrsolve.sample(model, mu, x_T, sde=table, grid=grid.tolist(), solver="ode", order=2)
    assert torch.equal(from_file, from_grid)
    with pytest.raises(ValueError, match="nfe 7, expected 5"):
        mrsolve.load_grid(path, table, nfe=5)
    with pytest.raises(ValueError, match="family"):
        mrsolve.load_grid(path, mrsolve.IRSDETable("cosine", 100, 10.0, 0.005))
    with open(path) as f:
        lines = f.read().splitlines()
    lines[5] = "t nan"
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match="line 6"):
        mrsolve.load_grid(path, table)
    with pytest.raises(ValueError):
        mrsolve.save_grid(path, table, [1.0, 50.0])  # increasing: not a grid
