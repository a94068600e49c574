"""Dynamic thresholding on tensor states: the LibTorch backend's dynamic_threshold against a reference
written here with plain torch ops, mrsolve.sample and the singlestep sampler against the C++ loop on
std::vector, and MRSampler(thresholding=True) against the published loop step written out in this file.

The published convention (docs/theory.md, section 4): per batch item, s = the `ratio` quantile of |x0|
(linear interpolation), clamped to [1, max]; x0 <- clamp(x0, -s, s) / s.
"""

import math

import pytest
import torch

import mrsolve
from mrsolve import _core
from conftest import PublishedStyleIRSDE, gaussian_problem, opt_of


def reference_threshold(q, ratio, max_value):
    """The published thresholding with torch.quantile, in float64, returned in q's dtype."""
    rows = q.detach().to(torch.float64).reshape(q.shape[0], -1)
    s = torch.quantile(rows.abs(), ratio, dim=1, keepdim=True).clamp(min=1.0, max=max_value)
    return (torch.maximum(torch.minimum(rows, s), -s) / s).reshape(q.shape).to(q.dtype)


def spread_items(dtype):
    """Three batch items whose 0.9 quantiles of |q| lie below 1, between 1 and 1.5, and above 1.5."""
    g = torch.Generator().manual_seed(4)
    q = torch.randn(3, 2, 6, 5, generator=g, dtype=torch.float64)
    q[0] *= 0.3
    q[1] *= 0.75
    q[2] *= 4.0
    return q.to(dtype)


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-14), (torch.float32, 1e-6)],
                         ids=["float64", "float32"])
@pytest.mark.parametrize("layout", ["contiguous", "strided"])
def test_backend_threshold_matches_a_torch_quantile_reference(dtype, tolerance, layout):
    q = spread_items(dtype)
    ratio, max_value = 0.9, 1.5
    rows = q.reshape(3, -1).abs().to(torch.float64)
    s = torch.quantile(rows, ratio, dim=1)
    assert s[0] < 1 < s[1] < max_value < s[2]  # every branch of the clamp is exercised
    expected = reference_threshold(q, ratio, max_value)
    if layout == "contiguous":
        work = q.clone()  # the host fast path
    else:
        # The same logical values in a non-contiguous tensor: the tensor-operation path.
        work = q.permute(3, 1, 2, 0).contiguous().permute(3, 1, 2, 0)
        assert not work.is_contiguous() and torch.equal(work, q)
    out = _core._threshold(work, 3, ratio, max_value)
    assert out.data_ptr() == work.data_ptr()  # in place
    assert torch.allclose(work, expected, rtol=0, atol=tolerance)
    assert not torch.allclose(q, expected)  # the thresholding did something
    assert work.abs().max() <= 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_backend_threshold_paths_agree_bit_for_bit(dtype):
    # The tensor-operation path (kthvalue, interpolation in float64) and the host path (nth_element,
    # interpolation in double) compute the same values.
    q = spread_items(dtype)
    for ratio in (0.995, 0.5, 1.0):
        host = _core._threshold(q.clone(), 3, ratio, 1.5)
        ops = _core._threshold(q.permute(3, 1, 2, 0).contiguous().permute(3, 1, 2, 0), 3, ratio, 1.5)
        assert torch.equal(host, ops), ratio


def test_backend_threshold_rejects_bad_options():
    q = spread_items(torch.float64)
    with pytest.raises(ValueError, match="thresholding ratio must lie in \\(0, 1\\], got 1.5"):
        _core._threshold(q, 3, 1.5, 1.5)
    with pytest.raises(ValueError, match="thresholding max_value must be finite and >= 1, got 0.5"):
        _core._threshold(q, 3, 0.9, 0.5)
    with pytest.raises(ValueError, match="thresholding batch_items = 7 must divide the state size 180"):
        _core._threshold(q, 7, 0.9, 1.5)


def wide_problem(dtype, n=48):
    """Gaussian data whose x0 reaches |x0| ~ 3, so that thresholding at max 1.5 is active."""
    g = torch.Generator().manual_seed(12)
    mean = (6 * torch.rand(n, generator=g, dtype=torch.float64) - 3).tolist()
    std = (0.1 + 0.3 * torch.rand(n, generator=g, dtype=torch.float64)).tolist()
    table = mrsolve.IRSDETable()
    oracle = mrsolve.GaussianOracleTable(table, mean, std)
    mu = torch.rand(n, generator=g, dtype=torch.float64).to(dtype).reshape(2, n // 2)
    return table, oracle, mu, mean, std


def oracle_model(oracle, fit):
    def model(x, mu, t):
        return oracle.predict(fit, x, mu, t)
    return model


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("solver,order", [("ode", 2), ("ode", 3), ("sde", 2), ("unipc", 3), ("eta", 2)])
def test_thresholded_sample_equals_the_cpp_loop_bit_for_bit(solver, order, dtype):
    table, oracle, mu, mean, std = wide_problem(dtype)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=5)
    grid = mrsolve.make_grid(table, "linear-lambda", 12).tolist()
    x, stats = mrsolve.sample(oracle_model(oracle, "noise"), mu, x_T, sde=table, grid=grid, solver=solver,
                              parameterization="data", order=order, fit_target="noise", seed=11, thresholding=True,
                              threshold_ratio=0.995, threshold_max=1.5)
    expected = _core._reference_sample(table, solver, "data", order, "noise", mean, std, x_T, mu, grid,
                                       "lower_order_final", 11, thresholding=True)
    unthresholded = _core._reference_sample(table, solver, "data", order, "noise", mean, std, x_T, mu, grid,
                                            "lower_order_final", 11)
    assert stats.completed and stats.nfe == 12
    assert torch.equal(x, expected)
    assert (x - unthresholded).abs().max() > 0.1  # thresholding is active on this data
    assert x.abs().max() < 1.6  # the clamped predictions keep every item within about max


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_thresholded_singlestep_equals_the_cpp_singlestep_sampler(dtype):
    table, oracle, mu, mean, std = wide_problem(dtype, n=40)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=3)

    def model(x, mu_, t):
        # The sampler converts and thresholds its copy of the output; the model's tensor stays as returned.
        out = oracle.predict("noise", x, mu_, t)
        model.returned.append((out, out.clone()))
        return out
    model.returned = []
    x, stats = mrsolve.sample(model, mu, x_T, sde=table, nfe=9, solver="singlestep", order=3,
                              schedule="linear-lambda", thresholding=True)
    expected = _core._reference_singlestep(table, "data", 9, 3, mean, std, x_T, mu, "noise", thresholding=True)
    plain = _core._reference_singlestep(table, "data", 9, 3, mean, std, x_T, mu, "noise")
    assert stats.nfe == 9
    assert torch.equal(x, expected)
    assert (x - plain).abs().max() > 0.1
    assert all(torch.equal(out, kept) for out, kept in model.returned)


def test_thresholding_needs_the_data_parameterization_and_valid_options():
    table, oracle, mu, _, _ = wide_problem(torch.float64)
    model = oracle_model(oracle, "noise")
    with pytest.raises(ValueError, match="dynamic thresholding applies to the data prediction"):
        mrsolve.sample(model, mu, sde=table, nfe=5, solver="ode", parameterization="noise", thresholding=True)
    with pytest.raises(ValueError, match="thresholding ratio must lie in \\(0, 1\\], got 0"):
        mrsolve.sample(model, mu, sde=table, nfe=5, solver="ode", thresholding=True, threshold_ratio=0)
    with pytest.raises(ValueError, match="thresholding max_value must be finite and >= 1, got inf"):
        mrsolve.sample(model, mu, sde=table, nfe=5, solver="ode", thresholding=True, threshold_max=math.inf)
    with pytest.raises(ValueError, match="threshold_ratio must be a number, got 'high'"):
        mrsolve.sample(model, mu, sde=table, nfe=5, solver="ode", thresholding=True, threshold_ratio="high")
    with pytest.raises(TypeError, match="thresholding must be True or False, got 'yes'"):
        mrsolve.sample(model, mu, sde=table, nfe=5, solver="ode", thresholding="yes")


def published_thresholded_ode(table, model, cond, x, timesteps, order, ratio, max_value):
    """The published MR Sampler loop (ODE, data prediction, fit target data, orders 1 and 2, M >= 10),
    one step at a time in float64 with the family's lambda, the data prediction thresholded before use."""
    def coef(f, t):
        return float(f(t))
    history = []  # (q, lambda) of earlier steps
    M = len(timesteps) - 1
    for i in range(1, M + 1):
        s, t = timesteps[i - 1], timesteps[i]
        q0 = reference_threshold(model(x, cond, s), ratio, max_value)
        lam_s, lam_t = coef(table.lambda_, s), coef(table.lambda_, t)
        h = lam_t - lam_s
        a_s, a_t = coef(table.alpha, s), coef(table.alpha, t)
        sig_s, sig_t = coef(table.sigma, s), coef(table.sigma, t)
        phi1 = math.expm1(-h)
        update = -a_t * phi1 * q0
        if order == 2 and history:
            q1, lam_1 = history[-1]
            r0 = (lam_s - lam_1) / h
            phi2 = phi1 / h + 1
            update = update + a_t * phi2 * (q0 - q1) / r0
        x = sig_t / sig_s * x + update + cond * (1 - sig_t / sig_s + sig_t / sig_s * a_s - a_t)
        history.append((q0, lam_s))
    return torch.clip(x, 0, 1.0)


@pytest.mark.parametrize("order", [1, 2])
def test_mrsampler_thresholding_follows_the_published_loop(order):
    def network(x, mu, t, **kwargs):
        # A data prediction that overshoots [-1.5, 1.5], different per batch item and nonlinear in x.
        scale = torch.tensor([1.0, 3.0], dtype=x.dtype).reshape(2, 1, 1, 1)
        return scale * (torch.sin(3 * x) + 2 * mu - 0.5)
    sde = PublishedStyleIRSDE(network)
    g = torch.Generator().manual_seed(8)
    cond = torch.rand(2, 3, 4, 4, generator=g, dtype=torch.float64)
    noisy = cond + sde.max_sigma * torch.randn(cond.shape, generator=g, dtype=torch.float64)
    sampler = mrsolve.MRSampler(sde, opt_of(), 10, solver_type="ode", parameterization="data", order=order,
                                fit_target="data", thresholding=True, threshold_ratio=0.95, threshold_max=1.5)
    samples, qbuffer, _ = sampler.sampling(cond, noisy_state=noisy, keep_states=True)
    table = mrsolve.IRSDETable()
    expected = published_thresholded_ode(table, lambda x, mu, t: network(x, mu, t), cond, noisy.clone(),
                                         sampler.timesteps, order, 0.95, 1.5)
    assert torch.allclose(samples, expected, rtol=0, atol=1e-12)
    # qbuffer records the thresholded predictions the steps used.
    assert len(qbuffer) == 10 and all(q.abs().max() <= 1 for q in qbuffer)
    plain, _, _ = mrsolve.MRSampler(sde, opt_of(), 10, solver_type="ode", parameterization="data", order=order,
                                    fit_target="data").sampling(cond, noisy_state=noisy)
    assert (plain - samples).abs().max() > 0.05


def test_mrsampler_rejects_bad_thresholding_arguments():
    sde = PublishedStyleIRSDE(lambda x, mu, t, **kw: torch.zeros_like(x))
    with pytest.raises(ValueError, match="thresholding=True needs parameterization='data'"):
        mrsolve.MRSampler(sde, opt_of(), 10, parameterization="noise", thresholding=True)
    with pytest.raises(ValueError, match=r"threshold_ratio must lie in \(0, 1\], got 1.2"):
        mrsolve.MRSampler(sde, opt_of(), 10, thresholding=True, threshold_ratio=1.2)
    with pytest.raises(ValueError, match="threshold_max must be finite and >= 1, got 0.9"):
        mrsolve.MRSampler(sde, opt_of(), 10, thresholding=True, threshold_max=0.9)
