"""Tutorial 6: mrsolve from PyTorch (docs/tutorials/6-python.md quotes this file verbatim).

Runs on the CPU in about a second: a toy network that returns the exact prediction of Gaussian data
stands in for a trained one. python/tests/test_tutorial.py runs it and checks the tutorial's snippets.
"""

import math

import torch
from torch import nn

import mrsolve


class ToyNetwork(nn.Module):
    """Returns the exact noise prediction for images whose pixels are N(0.5, 0.1^2): a stand-in network."""

    def __init__(self, sde, shape):
        super().__init__()
        n = math.prod(shape)
        self.oracle = mrsolve.GaussianOracleTable(sde, [0.5] * n, [0.1] * n)

    def forward(self, x, mu, t, text_context=None, image_context=None):
        eps = self.oracle.predict("noise", x.reshape(-1), mu.reshape(-1), float(t)).reshape(x.shape)
        return eps if text_context is None else eps + 0 * text_context.mean()


def main():
    # --- 1. The coefficient family: the discrete IR-SDE tables of a trained model -------------------------
    sde = mrsolve.IRSDETable(schedule="cosine", T=100, max_sigma=50, eps=0.005)
    alphas, sigmas = sde.alphas, sde.sigmas          # float64 tensors, j = 0 ... T
    print(f"lambda_s = {sde.stationary_std:.4f}, alpha(T) = {sde.alpha(100.0):.4f}")

    # --- 2. Sample with the recommended configuration ----------------------------------------------------
    mu = torch.rand(1, 3, 16, 16)                    # the degraded image (float32 or float64, CPU or CUDA)
    net = ToyNetwork(sde, mu.shape).eval()
    x, stats = mrsolve.sample(net, mu, sde=sde, nfe=10, fit_target="noise", seed=0)
    print(f"nfe={stats.nfe} steps={stats.steps} status={stats.status}")

    # --- 3. Choose the solver, order, schedule; pass extra conditioning ----------------------------------
    text = torch.randn(1, 512)
    y, stats = mrsolve.sample(net, mu, sde=sde, nfe=10, solver="sde", parameterization="data", order=2,
                              fit_target="noise", schedule="linear-lambda", seed=7, text_context=text)
    same, _ = mrsolve.sample(net, mu, sde=sde, nfe=10, solver="sde", parameterization="data", order=2,
                             fit_target="noise", schedule="linear-lambda", seed=7, text_context=text)
    assert torch.equal(y, same)                      # a seed gives the same noise, as in C++

    # --- 4. Faults: raise (default) or stop at the last finite state -------------------------------------
    def broken(x, mu, t):
        return torch.full_like(x, float("nan")) if t < 50 else net(x, mu, t)
    try:
        mrsolve.sample(broken, mu, sde=sde, nfe=10, solver="ode", fit_target="noise")
    except mrsolve.NonFiniteError as error:
        print(f"stopped: {error} (step {error.step})")
    z, stats = mrsolve.sample(broken, mu, sde=sde, nfe=10, solver="ode", fit_target="noise", on_fault="stop")
    print(f"status={stats.status} at step {stats.fault_step}; z holds the state after {stats.steps} steps")

    # --- 5. The published MRSampler, with your IR-SDE object ---------------------------------------------
    class IRSDE:                                     # what an IR-SDE/DA-CLIP code base already has
        T, max_sigma = 100, 50 / 255
        thetas, sigma_bars = sde.thetas.float(), sde.sigmas.float()

        def set_mu(self, mu):
            self.mu = mu

        def noise_fn(self, x, t, **kwargs):
            return net(x, self.mu, t, **kwargs)

    opt = {"sde": {"schedule": "cosine", "T": 100, "max_sigma": 50, "eps": 0.005}}
    sampler = mrsolve.MRSampler(IRSDE(), opt, 10, solver_type="ode", parameterization="data", order=2,
                                fit_target="noise")
    samples, qbuffer, states = sampler.sampling(mu, text_context=text)
    print(f"published sampler: samples in [{samples.min():.2f}, {samples.max():.2f}]")

    # --- 6. Thresholding, a tolerance instead of an NFE, inversion ----------------------------------------
    th, _ = mrsolve.sample(net, mu, sde=sde, nfe=10, solver="ode", parameterization="data", fit_target="noise",
                           thresholding=True, threshold_ratio=0.995, threshold_max=1.5)
    ad, adaptive = mrsolve.sample_adaptive(net, mu, sde=sde, rtol=0.05, atol=0.004, fit_target="noise")
    print(f"adaptive: nfe={adaptive.nfe} accepted={adaptive.accepted} rejected={adaptive.rejected}")
    latent, _ = mrsolve.invert(net, mu, ad, sde=sde, nfe=20, solver="ode", fit_target="noise")
    back, _ = mrsolve.sample(net, mu, latent, sde=sde, nfe=20, solver="ode", fit_target="noise")
    print(f"inverted and sampled back: max difference {(back - ad).abs().max():.1e}")

    # The toy data are N(0.5, 0.1^2) per pixel: every result lies near 0.5.
    for result in (x, y, samples, th, ad):
        assert abs(result.mean().item() - 0.5) < 0.05 and result.shape == mu.shape
    assert 0 < stats.steps < 10 and torch.isfinite(z).all()
    assert adaptive.completed and (back - ad).abs().max() < 0.05
    print("tutorial: ok")


if __name__ == "__main__":
    main()
