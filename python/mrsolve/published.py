"""mrsolve.MRSampler: a drop-in for the published MR Sampler class, running mrsolve's C++ loop."""

import math

import torch

from . import _core
from ._sample import sample


def _torch_normals(z, step):
    # torch's global generator, one draw per stochastic step in the published order: under the same
    # torch.manual_seed the CPU normals are the published class's.
    z.copy_(torch.randn(z.shape, dtype=z.dtype, device=z.device))


class MRSampler:
    """Drop-in for the published ``MRSampler``: same constructor, same ``sampling(...)`` and return value.

    Switch with one import line (``from mrsolve import MRSampler``). It takes the user's IR-SDE object,
    which must expose ``T``, ``max_sigma``, ``set_mu(mu)`` and ``noise_fn(x, t, text_context=...,
    image_context=...)`` (``thetas``, ``sigma_bars`` and ``dt``, when present, are checked against the
    tables built from ``opt["sde"]``), and runs the published loop semantics in C++: the model is called once
    per step at (x_{i-1}, t_{i-1}) with t a Python float, warm-up steps of lower order, min(order, M - i)
    when M < 10, the full order at the last step, the published order-3 rule, denoise_last.

    Kept from the published class: the grids of every time_schedule (with lambda_min, rho, timestep_offset),
    the prior sample ``cond + max_sigma * randn_like(cond)``, SDE noise from torch's global generator in the
    same order (so ``torch.manual_seed`` reproduces the published run on the CPU), the output clipped to
    [0, 1] exactly as the published code clips (its docstring says [-1, 1]; the code says
    ``torch.clip(x0, 0, 1.0)``), and the ``qbuffer``/``states`` lists, filled only when ``savedir`` is given
    (or ``keep_states=True``).

    Where it differs, and why: a NaN/Inf raises :class:`mrsolve.NonFiniteError` naming the step (the
    published loop prints "nan detected" and carries on to a NaN result); ``qbuffer`` records the converted output of each step's own evaluation (with denoise_last the
    published list repeats step M-1's entry); invalid arguments raise ValueError instead of AssertionError.
    ``noise=`` (a callable ``noise(z, step)`` filling z) and ``keep_states=`` are additions.
    """

    def __init__(self, sde, opt, num_sample_steps, solver_type="ode", parameterization="data", order=2,
                 fit_target="data", lambda_min=-float("inf"), time_schedule="linspace", timestep_offset=0, rho=7.0,
                 thresholding=False, threshold_ratio=0.995, threshold_max=1.5, denoise_last=False, *, noise=None):
        """The published constructor.

        Args:
            sde: the user's IR-SDE object (see the class docstring).
            opt: the training options; ``opt["sde"]`` gives schedule, T, max_sigma and eps of the tables.
            num_sample_steps: M, the NFE.
            solver_type: 'ode' (orders 1-3) or 'sde' (orders 1-2).
            parameterization: 'data' or 'noise', what the solver integrates.
            order: the solver order.
            fit_target: what the network returns: 'data', 'noise' or 'velocity'.
            lambda_min: lambda-clipping bound of the grid.
            time_schedule: 'linspace', 'leading', 'trailing', 'karras-n', 'karras-t' or 'linear-lambda'
                (and mrsolve's 'time-quadratic').
            timestep_offset: the offset of 'leading'; rho: rho of the Karras schedules.
            thresholding, threshold_ratio, threshold_max: dynamic thresholding of the data prediction, as
                published: per batch item s = the threshold_ratio quantile of |x0|, clamped to [1, threshold_max],
                then x0 <- clamp(x0, -s, s) / s (parameterization 'data' only).
            denoise_last: replace the last step by the data prediction at t_{M-1}.
            noise: mrsolve addition: None (torch's generator, as published) or a callable noise(z, step).
        """
        if solver_type not in ("ode", "sde"):
            raise ValueError(f"solver_type must be 'ode' or 'sde', got {solver_type!r}")
        if parameterization not in ("noise", "data"):
            raise ValueError(f"parameterization must be 'noise' or 'data', got {parameterization!r}")
        allowed = (1, 2, 3) if solver_type == "ode" else (1, 2)
        if order not in allowed:
            raise ValueError(f"order {order!r} is not supported by the {solver_type} sampler (expected one of {allowed})")
        if fit_target not in ("noise", "data", "velocity"):
            raise ValueError(f"fit_target must be 'noise', 'data' or 'velocity', got {fit_target!r}")
        if not isinstance(thresholding, bool):
            raise ValueError(f"thresholding must be True or False, got {thresholding!r}")
        if thresholding and parameterization != "data":
            raise ValueError("thresholding=True needs parameterization='data' (it clamps the data prediction), got "
                             f"parameterization={parameterization!r}")
        if not 0 < threshold_ratio <= 1:
            raise ValueError(f"threshold_ratio must lie in (0, 1], got {threshold_ratio!r}")
        if not (threshold_max >= 1 and math.isfinite(threshold_max)):
            raise ValueError(f"threshold_max must be finite and >= 1, got {threshold_max!r}")
        self.sde = sde
        self.solver_type = solver_type
        self.parameterization = parameterization
        self.order = order
        self.fit_target = fit_target
        self.lambda_min = lambda_min
        self.time_schedule = time_schedule
        self.timestep_offset = timestep_offset
        self.rho = rho
        self.thresholding = thresholding
        self.threshold_ratio = threshold_ratio
        self.threshold_max = threshold_max
        self.denoise_last = denoise_last
        self.noise = noise
        try:
            sde_opt = opt["sde"]
            self.table = _core.IRSDETable(schedule=sde_opt["schedule"], T=int(sde_opt["T"]),
                                          max_sigma=float(sde_opt["max_sigma"]), eps=float(sde_opt["eps"]))
        except (KeyError, TypeError) as error:
            raise ValueError("opt must hold opt['sde'] with 'schedule', 'T', 'max_sigma' and 'eps' "
                             f"(the IR-SDE options of the training config): {error!r}") from error
        self._check_sde(sde)
        self.num_training_steps = self.table.T
        self.set_timesteps(num_sample_steps)

    def _check_sde(self, sde):
        """The user's IR-SDE object must describe the tables built from opt['sde']."""
        for name in ("set_mu", "noise_fn", "max_sigma"):
            if not hasattr(sde, name):
                raise ValueError(f"sde has no attribute {name!r}: MRSampler needs an IR-SDE object with T, max_sigma, "
                                 "set_mu(mu) and noise_fn(x, t, text_context=..., image_context=...)")
        if hasattr(sde, "T") and int(sde.T) != self.table.T:
            raise ValueError(f"sde.T = {sde.T} but opt['sde']['T'] = {self.table.T}")
        if not math.isclose(float(sde.max_sigma), self.table.stationary_std, rel_tol=1e-6):
            raise ValueError(f"sde.max_sigma = {float(sde.max_sigma)} but opt['sde'] gives lambda_s = "
                             f"{self.table.stationary_std}")
        # The published code computes its tables in float32; sigma_bars = lambda_s sqrt(1 - exp(-2 theta_bar dt))
        # loses relative precision near t = 0 there (1 - exp of a small number), so sigma_bars are compared as
        # squares, which carry an absolute error of a few float32 ulps of lambda_s^2. The tolerances admit
        # float32 round-off and reject any other schedule, T, max_sigma or eps (differences of 1e-2 and more).
        lam2 = self.table.stationary_std ** 2
        checks = (("thetas", self.table.thetas, lambda v: v, 1e-6 * float(self.table.thetas.abs().max())),
                  ("sigma_bars", self.table.sigmas, lambda v: v * v, 1e-5 * lam2))
        for name, ours, transform, atol in checks:
            theirs = getattr(sde, name, None)
            if theirs is None:
                continue
            theirs = torch.as_tensor(theirs).detach().to("cpu", torch.float64).reshape(-1)
            if theirs.shape != ours.shape or not torch.allclose(transform(theirs), transform(ours), rtol=1e-3, atol=atol):
                raise ValueError(f"sde.{name} does not match the IR-SDE tables of opt['sde'] "
                                 f"({self.table!r}); MRSampler samples with the latter")

    def set_timesteps(self, num_inference_steps):
        """Sets the grid (``self.timesteps``, a list of floats) for ``num_inference_steps`` steps, as published."""
        grid = _core.make_grid(self.table, self.time_schedule, int(num_inference_steps), lambda_min=float(self.lambda_min),
                               rho=float(self.rho), offset=float(self.timestep_offset))
        self.timesteps = grid.tolist()
        self.alphas = self.table.alpha(grid)
        self.sigmas = self.table.sigma(grid)
        self.lambdas = self.table.lambda_(grid)

    def sampling(self, cond, text_context=None, image_context=None, use_tqdm=False, position=0, savedir=None,
                 noisy_state=None, *, keep_states=False):
        """Runs the sampler on the condition images ``cond``, as the published ``sampling``.

        Returns ``(samples, qbuffer, states)``: the result clipped to [0, 1]; the converted model output of
        every step (CPU tensors); the prior sample and every state x(t_1) ... x(t_M) (CPU tensors). The two
        lists are filled only when savedir is given (images are written there with OpenCV, as published) or
        keep_states=True; otherwise they are empty, as published.
        """
        sde = self.sde
        sde.set_mu(cond)
        record = savedir is not None or keep_states
        save = _image_writer(savedir) if savedir is not None else None
        with torch.no_grad():
            if noisy_state is None:
                x = cond + torch.randn_like(cond) * self.table.stationary_std
            else:
                x = noisy_state.detach().clone(memory_format=torch.contiguous_format)
        qbuffer, states = [], []
        M = len(self.timesteps) - 1
        bar = None
        if use_tqdm:
            from tqdm import tqdm
            bar = tqdm(desc="sampling", total=M, position=position, colour="green", leave=False)
        if record:
            states.append(_snapshot(x))
            if save:
                save(x, "prior_sample.png")
        previous = [x.clone()] if record else None

        def observe(info):
            if bar is not None:
                bar.update(1)
                bar.refresh()
            if not record:
                return
            i = info["step"]
            t_prev = self.timesteps[i - 1]
            to = self.parameterization
            if self.denoise_last and i == M:
                to = "data"
            a, b, c = _core.conversion(self.table, self.fit_target, to, t_prev)
            q = a * previous[0] + b * cond + c * info["model_output"]
            if self.thresholding and to == "data":
                # What the step used: the thresholded data prediction.
                q = _core._threshold(q.contiguous(), q.shape[0] if q.dim() else 1, self.threshold_ratio,
                                     self.threshold_max)
            qbuffer.append(_snapshot(q))
            states.append(_snapshot(info["x"]))
            previous[0] = info["x"].clone()
            if save:
                save(info["x"], f"step_{i}.png")

        def model(x_, mu_, t):
            return sde.noise_fn(x_, t, text_context=text_context, image_context=image_context)

        try:
            x, _ = sample(model, cond, x, sde=self.table, grid=self.timesteps, solver=self.solver_type,
                          parameterization=self.parameterization, order=self.order, fit_target=self.fit_target,
                          orders="published", step_lambda="family", order3_rule="published",
                          denoise_last=self.denoise_last, thresholding=self.thresholding,
                          threshold_ratio=self.threshold_ratio, threshold_max=self.threshold_max,
                          noise=self.noise if self.noise is not None else _torch_normals, progress=observe,
                          inplace=True)
        finally:
            if bar is not None:
                bar.close()
        samples = torch.clip(x, 0, 1.0)
        return samples, qbuffer, states


def _snapshot(t):
    # A CPU copy: the sampler's tensors are overwritten by later steps (and .cpu() of a CPU tensor is itself).
    return t.detach().to("cpu", copy=True)


def _image_writer(savedir):
    try:
        import cv2
        import numpy as np
    except ImportError as error:
        raise ImportError("savedir needs OpenCV (cv2) and numpy, as the published class; use keep_states=True "
                          "to keep the lists without writing images") from error

    def save(img, name):
        a = img.squeeze().cpu().numpy().transpose(1, 2, 0)
        a = np.clip(a * 255, 0, 255).astype(np.uint8)
        cv2.imwrite(f"{savedir}/{name}", cv2.cvtColor(a, cv2.COLOR_RGB2BGR))
    return save
