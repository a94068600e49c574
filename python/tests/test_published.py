"""mrsolve.MRSampler as a drop-in: the published call, return value, noise and conditioning semantics."""

import pytest
import torch

import mrsolve
from conftest import PublishedStyleIRSDE, gaussian_problem, opt_of


def make(solver_type="ode", **kwargs):
    table, oracle, _, _, _ = gaussian_problem(n=2 * 3 * 4 * 4)
    seen = []

    def network(x, mu, t, text_context=None, image_context=None):
        seen.append((t, text_context, image_context))
        return oracle.predict("data", x.reshape(-1), mu.reshape(-1), t).reshape(x.shape)
    sde = PublishedStyleIRSDE(network)
    sampler = mrsolve.MRSampler(sde, opt_of(), 10, solver_type=solver_type, **kwargs)
    cond = torch.rand(2, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    return sampler, sde, cond, seen


def test_sampling_returns_samples_and_empty_lists_without_savedir():
    sampler, _, cond, _ = make()
    samples, qbuffer, states = sampler.sampling(cond)
    assert samples.shape == cond.shape and samples.dtype == cond.dtype
    assert samples.min() >= 0 and samples.max() <= 1  # clipped as published
    assert qbuffer == [] and states == []


def test_text_and_image_context_reach_noise_fn_unchanged():
    sampler, sde, cond, seen = make()
    text, image = torch.randn(2, 512), torch.randn(2, 512)
    sampler.sampling(cond, text_context=text, image_context=image)
    assert len(seen) == 10 and all(tc is text and ic is image for _, tc, ic in seen)
    assert sde.mu is cond  # set_mu(cond) was called
    assert [t for t, _, _ in seen] == sampler.timesteps[:10]


def test_prior_sample_is_cond_plus_lambda_s_times_torch_normals():
    sampler, _, cond, _ = make()
    torch.manual_seed(7)
    a, _, states = sampler.sampling(cond, keep_states=True)
    torch.manual_seed(7)
    prior = cond + torch.randn_like(cond) * sampler.table.stationary_std
    assert torch.equal(states[0], prior)
    b, _, _ = sampler.sampling(cond, noisy_state=prior)
    assert torch.equal(a, b)


def test_sde_noise_comes_from_torchs_generator_in_step_order():
    sampler, _, cond, _ = make("sde")
    torch.manual_seed(3)
    a, _, _ = sampler.sampling(cond)
    torch.manual_seed(3)
    b, _, _ = sampler.sampling(cond)
    torch.manual_seed(4)
    c, _, _ = sampler.sampling(cond)
    assert torch.equal(a, b) and not torch.equal(a, c)
    # The same normals injected explicitly, drawn in the published order (prior, then one per step).
    torch.manual_seed(3)
    prior = cond + torch.randn_like(cond) * sampler.table.stationary_std
    draws = [torch.randn_like(cond) for _ in range(10)]
    replay = mrsolve.MRSampler(sampler.sde, opt_of(), 10, solver_type="sde",
                               noise=lambda z, step: z.copy_(draws[step - 1]))
    d, _, _ = replay.sampling(cond, noisy_state=prior)
    assert torch.equal(a, d)


def test_state_list_holds_the_prior_and_every_state():
    sampler, _, cond, _ = make(order=3)
    torch.manual_seed(1)
    samples, qbuffer, states = sampler.sampling(cond, keep_states=True)
    assert len(states) == 11 and len(qbuffer) == 10
    assert all(s.device.type == "cpu" and s.shape == cond.shape for s in states + qbuffer)
    assert torch.equal(samples, states[-1].clamp(0, 1))
    # Distinct snapshots, not views of one live tensor.
    assert not torch.equal(states[5], states[6])


def test_timesteps_are_the_published_grids():
    sampler, _, _, _ = make(time_schedule="leading")
    # leading: k = floor(t_max/(M+1)) = 9, t_i = (M - i) k.
    assert sampler.timesteps == [float(9 * (10 - i)) for i in range(11)]
    sampler.set_timesteps(4)
    assert sampler.timesteps == [80.0, 60.0, 40.0, 20.0, 0.0]  # k = floor(100/5) = 20


def test_tables_computed_in_float32_are_accepted_and_other_tables_rejected():
    # sigma_bars as the published code computes them, in float32 (cancellation near t = 0 included).
    sde = PublishedStyleIRSDE(lambda x, mu, t, **kw: torch.zeros_like(x))
    table = mrsolve.IRSDETable()
    theta_bar = torch.cumsum(table.thetas.float(), 0)
    sde.sigma_bars = torch.sqrt(sde.max_sigma ** 2 * (1 - torch.exp(-2 * theta_bar * float(table.dt))))
    assert (sde.sigma_bars.double() / table.sigmas - 1).abs().max() > 1e-5  # float32 round-off is really there
    mrsolve.MRSampler(sde, opt_of(), 10)
    sde.sigma_bars = mrsolve.IRSDETable(eps=0.01).sigmas.float()
    with pytest.raises(ValueError, match="sde.sigma_bars does not match"):
        mrsolve.MRSampler(sde, opt_of(), 10)
