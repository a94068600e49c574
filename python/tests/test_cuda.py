"""CUDA tensors against CPU tensors (skipped when no GPU is visible).

On CUDA the adapter runs LibTorch tensor operations instead of the fused host loop, and generates the
Philox normals with tensor operations whose log/cos/sin differ from the host's by a few ulp (documented in
include/mrsolve/adapters/libtorch.hpp: <= 4e-6 relative in float, 1e-14 in double). Deterministic runs in
float64 therefore agree to round-off amplified by the steps (bound 1e-10 on O(1) states); float32 runs to
1e-4; stochastic float64 runs to 1e-9.
"""

import pytest
import torch

import mrsolve
from conftest import gaussian_problem

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device visible")


@pytest.mark.parametrize("solver,dtype,tolerance", [("ode", torch.float64, 1e-10), ("unipc", torch.float64, 1e-10),
                                                    ("ode", torch.float32, 1e-4), ("sde", torch.float64, 1e-9)])
def test_cuda_matches_cpu(solver, dtype, tolerance):
    table, oracle, mu, _, _ = gaussian_problem(n=3 * 8 * 8)
    mu = mu.to(dtype).reshape(3, 8, 8)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=2)

    def model(x, mu_, t):
        assert x.device == mu_.device
        return oracle.predict("noise", x, mu_, t)  # returns on x's device
    cpu, _ = mrsolve.sample(model, mu, x_T, sde=table, nfe=10, solver=solver, seed=5)
    gpu, stats = mrsolve.sample(model, mu.cuda(), x_T.cuda(), sde=table, nfe=10, solver=solver, seed=5)
    assert gpu.device.type == "cuda" and stats.completed
    assert (gpu.cpu() - cpu).abs().max().item() <= tolerance


def test_cuda_stationary_start_and_mixed_devices():
    table = mrsolve.IRSDETable()
    mu = torch.rand(64, dtype=torch.float64)
    a = mrsolve.stationary_start(mu, sde=table, seed=3)
    b = mrsolve.stationary_start(mu.cuda(), sde=table, seed=3)
    assert (b.cpu() - a).abs().max().item() <= 1e-13
    with pytest.raises(ValueError, match="x is on device cuda:0 but mu is on device cpu"):
        mrsolve.sample(lambda x, m, t: x, mu, a.cuda(), sde=table, nfe=3, solver="ode")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_cuda_thresholding_equals_the_cpu_host_path_bit_for_bit(dtype):
    # On CUDA the backend thresholds with kthvalue tensor operations; the values are the host path's.
    g = torch.Generator().manual_seed(4)
    q = torch.randn(3, 2, 6, 5, generator=g, dtype=torch.float64).to(dtype) * torch.tensor(
        [0.3, 0.75, 4.0], dtype=dtype).reshape(3, 1, 1, 1)
    cpu = mrsolve._core._threshold(q.clone(), 3, 0.9, 1.5)
    gpu = mrsolve._core._threshold(q.cuda(), 3, 0.9, 1.5)
    assert gpu.device.type == "cuda"
    assert torch.equal(gpu.cpu(), cpu)


@pytest.mark.parametrize("dtype,tolerance", [(torch.float64, 1e-10), (torch.float32, 1e-4)], ids=["float64", "float32"])
def test_cuda_thresholded_sampling_matches_cpu(dtype, tolerance):
    g = torch.Generator().manual_seed(12)
    mean = (6 * torch.rand(48, generator=g, dtype=torch.float64) - 3).tolist()
    std = (0.1 + 0.3 * torch.rand(48, generator=g, dtype=torch.float64)).tolist()
    table = mrsolve.IRSDETable()
    oracle = mrsolve.GaussianOracleTable(table, mean, std)
    mu = torch.rand(2, 24, generator=g, dtype=torch.float64).to(dtype)
    x_T = mrsolve.stationary_start(mu, sde=table, seed=5)

    def model(x, mu_, t):
        return oracle.predict("noise", x, mu_, t)
    cpu, _ = mrsolve.sample(model, mu, x_T, sde=table, nfe=10, solver="ode", order=2, thresholding=True)
    gpu, stats = mrsolve.sample(model, mu.cuda(), x_T.cuda(), sde=table, nfe=10, solver="ode", order=2,
                                thresholding=True)
    assert stats.completed and gpu.device.type == "cuda"
    assert torch.allclose(gpu.cpu(), cpu, rtol=0, atol=tolerance)


def test_cuda_sample_adaptive_says_it_needs_cpu_tensors():
    table, oracle, mu, _, _ = gaussian_problem(n=16)
    with pytest.raises(ValueError, match="sample_adaptive runs on CPU tensors only .* device cuda:0"):
        mrsolve.sample_adaptive(lambda x, m, t: x, mu.cuda(), sde=mrsolve.IRSDE(t_min=1.0))
