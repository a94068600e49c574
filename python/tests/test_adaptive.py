"""mrsolve.sample_adaptive: equal to the C++ adaptive sampler on std::vector, within its tolerance of the
exact probability-flow solution (the Gaussian oracle's closed-form flow), its statistics and its errors."""

import math

import pytest
import torch

import mrsolve
from mrsolve import _core
from conftest import gaussian_problem, nan_at_call


def oracle_model(oracle, fit):
    def model(x, mu, t):
        return oracle.predict(fit, x, mu, t)
    return model


def continuous_problem(n=32, dtype=torch.float64):
    _, _, mu, mean, std = gaussian_problem(n=n, dtype=dtype, seed=3)
    family = mrsolve.IRSDE(t_min=1.0)
    oracle = mrsolve.GaussianOracleContinuous(family, mean, std)
    return family, oracle, mu.reshape(2, n // 2), mean, std


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("parameterization,order,scope", [("data", 3, "global"), ("noise", 2, "per_step"),
                                                          ("data", 2, "global")])
def test_sample_adaptive_equals_the_cpp_adaptive_sampler_bit_for_bit(parameterization, order, scope, dtype):
    family, oracle, mu, mean, std = continuous_problem(dtype=dtype)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=4)
    x, stats = mrsolve.sample_adaptive(oracle_model(oracle, "noise"), mu, x_T, sde=family, rtol=1e-3, atol=1e-4,
                                       order=order, parameterization=parameterization, scope=scope)
    expected, nfe, accepted, rejected, passes = _core._reference_adaptive(
        family, parameterization, "noise", mean, std, x_T, mu, family.t_max, family.t_min, 1e-3, 1e-4, order, scope)
    assert torch.equal(x, expected)
    assert (stats.nfe, stats.accepted, stats.rejected, stats.passes) == (nfe, accepted, rejected, passes)
    assert stats.completed and stats.t_final == family.t_min
    assert stats.nfe == order * (stats.accepted + stats.rejected)
    assert stats.passes == 1 if scope == "per_step" else stats.passes >= 2


@pytest.mark.parametrize("rtol", [1e-2, 1e-4])
def test_sample_adaptive_meets_its_tolerance_against_the_exact_flow(rtol):
    family, oracle, mu, _, _ = continuous_problem(n=64)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=6)
    atol = rtol / 10
    x, stats = mrsolve.sample_adaptive(oracle_model(oracle, "noise"), mu, x_T, sde=family, rtol=rtol, atol=atol)
    exact = oracle.flow(x_T, mu, family.t_max, family.t_min)
    scaled = (x - exact) / (atol + rtol * exact.abs())
    per_item = scaled.reshape(2, -1).pow(2).mean(dim=1).sqrt()
    assert stats.completed and stats.passes >= 2 and stats.error_estimate <= 1
    assert per_item.max() <= 1, per_item
    assert (x - exact).abs().max() > 0  # a numerical solution, not the flow itself


def test_tighter_tolerances_cost_more_evaluations_and_give_smaller_errors():
    family, oracle, mu, _, _ = continuous_problem(n=64)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=6)
    exact = oracle.flow(x_T, mu, family.t_max, family.t_min)
    runs = [mrsolve.sample_adaptive(oracle_model(oracle, "noise"), mu, x_T, sde=family, rtol=r, atol=r / 10,
                                    scope="per_step") for r in (1e-2, 1e-5)]
    (loose, loose_stats), (tight, tight_stats) = runs
    assert tight_stats.nfe > loose_stats.nfe
    assert (tight - exact).abs().max() < (loose - exact).abs().max() / 10


def test_sample_adaptive_thresholds_the_data_prediction_as_the_cpp_sampler():
    g = torch.Generator().manual_seed(2)
    mean = (6 * torch.rand(32, generator=g, dtype=torch.float64) - 3).tolist()
    std = (0.1 + 0.2 * torch.rand(32, generator=g, dtype=torch.float64)).tolist()
    family = mrsolve.IRSDE(t_min=1.0)
    oracle = mrsolve.GaussianOracleContinuous(family, mean, std)
    mu = torch.rand(2, 16, generator=g, dtype=torch.float64)
    x_T = mrsolve.stationary_start(mu, sde=family, seed=1)
    x, _ = mrsolve.sample_adaptive(oracle_model(oracle, "noise"), mu, x_T, sde=family, rtol=1e-3, atol=1e-4,
                                   scope="per_step", thresholding=True)
    expected = _core._reference_adaptive(family, "data", "noise", mean, std, x_T, mu, family.t_max, family.t_min,
                                         1e-3, 1e-4, 3, "per_step", True)[0]
    plain = _core._reference_adaptive(family, "data", "noise", mean, std, x_T, mu, family.t_max, family.t_min,
                                      1e-3, 1e-4, 3, "per_step", False)[0]
    assert torch.equal(x, expected)
    assert (x - plain).abs().max() > 0.1


def test_sample_adaptive_reports_the_nfe_cap():
    family, oracle, mu, _, _ = continuous_problem()
    x, stats = mrsolve.sample_adaptive(oracle_model(oracle, "noise"), mu, sde=family, rtol=1e-8, atol=1e-9,
                                       max_nfe=30)
    assert stats.status == "nfe_cap_reached" and not stats.completed
    assert stats.nfe <= 30 and stats.t_final > family.t_min
    assert torch.isfinite(x).all()


def test_sample_adaptive_keeps_x_unless_inplace_and_passes_extra_and_batch_times():
    family, oracle, mu, _, _ = continuous_problem()
    x_T = mrsolve.stationary_start(mu, sde=family, seed=4)
    before = x_T.clone()
    seen = []

    def model(x, mu_, t, *, scale):
        seen.append((tuple(x.shape), tuple(t.shape), scale))
        return oracle.predict("noise", x, mu_, float(t[0]))
    x, _ = mrsolve.sample_adaptive(model, mu, x_T, sde=family, time="tensor", scale=3, scope="per_step")
    assert torch.equal(x_T, before) and x.data_ptr() != x_T.data_ptr()
    assert all(entry == ((2, 16), (2,), 3) for entry in seen)
    y, _ = mrsolve.sample_adaptive(model, mu, x_T, sde=family, time="tensor", scale=3, scope="per_step", inplace=True)
    assert y is x_T and torch.equal(y, x)


def test_sample_adaptive_rejects_bad_inputs():
    family, oracle, mu, _, _ = continuous_problem()
    model = oracle_model(oracle, "noise")
    with pytest.raises(ValueError, match="adaptive: rtol must be finite and >= 0, got -1"):
        mrsolve.sample_adaptive(model, mu, sde=family, rtol=-1)
    with pytest.raises(ValueError, match="adaptive: order must be 2 or 3, got 4"):
        mrsolve.sample_adaptive(model, mu, sde=family, order=4)
    with pytest.raises(ValueError, match="controller must be 'pi' or 'i', got 'pid'"):
        mrsolve.sample_adaptive(model, mu, sde=family, controller="pid")
    with pytest.raises(ValueError, match="scope must be 'global' or 'per_step', got 'local'"):
        mrsolve.sample_adaptive(model, mu, sde=family, scope="local")
    with pytest.raises(ValueError, match=r"adaptive: need finite t_start > t_end, got t_start = 5, t_end = 50"):
        mrsolve.sample_adaptive(model, mu, sde=family, t_start=5, t_end=50)
    with pytest.raises(ValueError, match="dynamic thresholding applies to the data prediction"):
        mrsolve.sample_adaptive(model, mu, sde=family, parameterization="noise", thresholding=True)
    with pytest.raises(ValueError, match="max_nfe must be an integer >= 1, got 0"):
        mrsolve.sample_adaptive(model, mu, sde=family, max_nfe=0)
    # A tensor that is not on the CPU (the meta device stands in for CUDA here) is named with its device.
    meta = torch.empty(2, 16, dtype=torch.float64, device="meta")
    with pytest.raises(ValueError, match="sample_adaptive runs on CPU tensors only .* device meta"):
        mrsolve.sample_adaptive(model, meta, sde=family)


@pytest.mark.parametrize("policy", ["raise", "stop"])
def test_sample_adaptive_nan_from_the_model_under_both_fault_policies(policy):
    family, oracle, mu, _, _ = continuous_problem()
    x_T = mrsolve.stationary_start(mu, sde=family, seed=5)
    nan_at_call_7, calls = nan_at_call(oracle_model(oracle, "noise"), 7, (1, 3))
    kwargs = dict(sde=family, rtol=1e-3, atol=1e-4, on_fault=policy)
    if policy == "raise":
        with pytest.raises(mrsolve.NonFiniteError):
            mrsolve.sample_adaptive(nan_at_call_7, mu, x_T, **kwargs)
        return
    x, stats = mrsolve.sample_adaptive(nan_at_call_7, mu, x_T, **kwargs)
    assert stats.status == "non_finite_model_output" and not stats.completed
    assert stats.nfe == 7 and stats.fault_time == calls[6]
    assert 1 <= stats.fault_step <= stats.accepted + stats.rejected + 1
    # x is the last accepted state, at t_final, before the failing trial's time.
    assert torch.isfinite(x).all() and family.t_max >= stats.t_final >= stats.fault_time > family.t_min
    with pytest.raises(ValueError, match="on_fault must be 'raise' or 'stop', got 'ignore'"):
        mrsolve.sample_adaptive(nan_at_call_7, mu, x_T, sde=family, on_fault="ignore")
