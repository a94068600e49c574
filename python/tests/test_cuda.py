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
