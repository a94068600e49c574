"""mrsolve.sample: the C++ sampling loop on torch tensors, with a Python model."""

import math
import numbers
from typing import NamedTuple

import torch

from . import _core

SOLVERS = ("recommended", "ode", "sde", "unipc", "eta", "euler_maruyama", "euler_ode", "heun", "posterior",
           "singlestep")
# The parameterization a solver integrates when none is given (the baselines offer only one).
_DEFAULT_PARAMETERIZATION = {"ode": "data", "sde": "data", "unipc": "data", "eta": "data",
                             "euler_maruyama": "noise", "euler_ode": "noise", "heun": "noise", "posterior": "data",
                             "singlestep": "data"}
_DTYPES = (torch.float32, torch.float64)


class SampleStats(NamedTuple):
    """Statistics of one run of :func:`mrsolve.sample`.

    nfe: model evaluations made; steps: steps completed (x holds x at grid time t_steps); status:
    'completed', 'non_finite_model_output' or 'non_finite_state' (the last two only with on_fault='stop');
    fault_step: the 1-based step where a stop happened (0 when completed); fault_time: its time (NaN when
    completed).
    """

    nfe: int
    steps: int
    status: str
    fault_step: int
    fault_time: float

    @property
    def completed(self):
        """Whether every step was taken."""
        return self.status == "completed"


def _check_tensor(name, t, like=None):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if t.dtype not in _DTYPES:
        raise ValueError(f"{name} has dtype {t.dtype}; mrsolve samples torch.float32 or torch.float64 tensors")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(t.shape)})")
    if like is not None:
        ref_name, ref = like
        if t.dtype != ref.dtype:
            raise ValueError(f"{name} has dtype {t.dtype} but {ref_name} has dtype {ref.dtype}")
        if t.device != ref.device:
            raise ValueError(f"{name} is on device {t.device} but {ref_name} is on device {ref.device}")
        if t.shape != ref.shape:
            raise ValueError(f"{name} has shape {tuple(t.shape)} but {ref_name} has shape {tuple(ref.shape)}")


def _check_int(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _tqdm_observer(total):
    try:
        from tqdm import tqdm
    except ImportError as error:
        raise ImportError("progress=True needs the tqdm package; pass a callable instead") from error
    bar = tqdm(total=total, desc="mrsolve", leave=False)

    def observe(info):
        bar.update(1)
        if info["step"] == info["steps"]:
            bar.close()
    return observe


def _start_state(x, mu, sde, seed, inplace):
    if x is None:
        return stationary_start(mu, sde=sde, seed=seed)
    return x if inplace else x.detach().clone(memory_format=torch.contiguous_format)


def stationary_start(mu, *, sde, seed=0):
    """The start state x_T = mu + lambda_s z of an IR-SDE sampler, z the counter-based normals of (seed, step 0).

    Equal to C++ ``mrsolve::stationary_start`` for the same seed (float32 and float64 are different streams).
    Returns a new contiguous tensor shaped like mu.
    """
    _check_tensor("mu", mu)
    seed = _check_int("seed", seed, 0)
    x = torch.empty_like(mu, memory_format=torch.contiguous_format)
    _core._stationary_start(sde, mu.detach().contiguous(), x, seed)
    return x


def sample(model, mu, x=None, *, sde, nfe=None, solver="recommended", parameterization=None, order=None,
           fit_target="noise", schedule=None, grid=None, lambda_min=-math.inf, rho=7.0, offset=0.0, t_start=None,
           orders="lower_order_final", step_lambda="alpha_sigma", denoise_last=False, on_fault="raise", seed=0, noise=None,
           unipc_variant=None, order3_rule="taylor", eta=1.0, step_mode="variable", time="float", time_scale=1.0,
           progress=None, inplace=False, **extra):
    """Samples the reverse process of a mean-reverting diffusion from x (at the grid's first time) to the data.

    A thin layer over C++ ``mrsolve::sample``: the same solvers, options and noise, run by the C++ loop
    with the GIL released except around the calls of ``model``, ``noise`` and ``progress``.

    Args:
        model: any callable ``model(x, mu, t, **extra)`` (an ``nn.Module`` for example) returning its fit
            target shaped like x. ``t`` is a Python float in the family's time units times ``time_scale``
            (``time="float"``), or a tensor of shape [B] (B = x.shape[0]) of x's dtype and device
            (``time="tensor"``). x and mu are the sampler's own tensors: read them, never modify them in place.
            The returned tensor is read where it lies when it is contiguous with x's dtype (no copy; the
            sampler never writes it), and copied otherwise.
        mu: the condition (degraded image), a float32 or float64 tensor of any shape, on CPU or CUDA.
        x: the start state at the grid's first time, shaped like mu with its dtype and device; None: the
            stationary start ``stationary_start(mu, sde=sde, seed=seed)``.
        sde: the coefficient family, :class:`mrsolve.IRSDETable` or :class:`mrsolve.IRSDE`.
        nfe: the number of steps M (model evaluations for single-evaluation solvers; Heun makes 2 per step).
        solver: 'recommended' (C++ ``mrsolve::recommended(nfe)``: solver, order and schedule measured per
            NFE), 'ode', 'sde', 'unipc', 'eta', 'euler_maruyama', 'euler_ode', 'heun', 'posterior', or
            'singlestep' (C++ ``singlestep_sampler``: ``nfe`` split by ``singlestep_orders(nfe, order)`` into
            steps of order <= ``order`` (default 3) on a grid of that many steps; it takes no explicit grid,
            noise, progress, orders or on_fault='stop').
        parameterization: 'data' or 'noise' (default: 'data', or the only one a baseline offers).
        order: the solver's order (default: the C++ solver object's default).
        fit_target: what the model returns: 'noise', 'data' or 'velocity'.
        schedule: 'linspace', 'linear-lambda', 'leading', 'trailing', 'karras-n', 'karras-t' or
            'time-quadratic' (default: the recommendation's with solver='recommended', else 'linspace').
        grid: explicit times t_0 > ... > t_M instead of a schedule (a sequence or tensor).
        lambda_min, rho, offset, t_start: the schedule options of C++ ``schedule_options``.
        orders: 'lower_order_final' (C++ default), 'published' or 'constant'.
        step_lambda: the lambda the steps measure h in (C++ ``sample_options::lambda``): 'alpha_sigma', ln(alpha/sigma)
            of the family's alpha and sigma (the default: converges on any grid), or 'family', the family's own
            lambda (the published convention; between table nodes it levels off).
        denoise_last: replace the last step by the data prediction at t_{M-1}.
        on_fault: 'raise' (:class:`mrsolve.NonFiniteError` naming the step) or 'stop' (return the last finite
            state with ``stats.status`` saying why).
        seed: the counter-based noise seed (stochastic solvers, and the start when x is None): the same
            normals as C++ ``counter_noise(seed)``.
        noise: None, or a callable ``noise(z, step)`` that fills the tensor z in place with the standard
            normals of the 1-based step (recorded normals, torch's generator, ...).
        unipc_variant: 'bh1' or 'bh2' (solver 'unipc'); order3_rule: 'taylor' or 'published' (solver 'ode',
            order 3); eta: in [0, 1] (solver 'eta'); step_mode: 'variable' or 'published_fixed' (baselines).
        time: 'float' or 'tensor', the form of t; time_scale: the model receives time_scale * t.
        progress: None, True (a tqdm bar) or a callable called after every step with a dict (step, steps, t,
            lambda, x, model_output; the tensors are live: copy to keep).
        inplace: overwrite x with the result (x must be given). Otherwise x is not modified.
        **extra: passed to every model call unchanged (e.g. DA-CLIP's text_context, image_context).

    Returns:
        (x, stats): the result (a new tensor, or x itself with inplace=True) and a :class:`SampleStats`.

    Raises:
        ValueError: a tensor of the wrong dtype, device or shape, or any invalid option (the message names
            it); a model output of the wrong shape (x then holds x_{t_{k-1}}).
        mrsolve.NonFiniteError: a NaN/Inf during sampling with on_fault='raise'.
        Any exception raised by ``model``, ``noise`` or ``progress``, unchanged. With inplace=True, x then
        holds the last state the loop completed, x_{t_{k-1}} for a failure at step k.
    """
    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    if not isinstance(sde, (_core.IRSDETable, _core.IRSDE)):
        raise TypeError(f"sde must be an mrsolve.IRSDETable or mrsolve.IRSDE, got {type(sde).__name__}")
    _check_tensor("mu", mu)
    if x is not None:
        _check_tensor("x", x, like=("mu", mu))
    elif inplace:
        raise ValueError("inplace=True needs a start state x")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {solver!r}")
    if time not in ("float", "tensor"):
        raise ValueError(f"time must be 'float' or 'tensor', got {time!r}")
    if noise is not None and not callable(noise):
        raise TypeError(f"noise must be None or a callable noise(z, step), got {type(noise).__name__}")
    seed = _check_int("seed", seed, 0)
    if seed >= 2 ** 64:
        raise ValueError(f"seed must be < 2**64, got {seed}")

    if grid is not None:
        if schedule is not None:
            raise ValueError("give either schedule or grid, not both")
        grid = [float(t) for t in (grid.tolist() if isinstance(grid, torch.Tensor) else grid)]
        if nfe is not None and _check_int("nfe", nfe, 1) != len(grid) - 1:
            raise ValueError(f"nfe = {nfe} but the grid has {len(grid)} times (nfe + 1 expected)")
        nfe = len(grid) - 1
    else:
        if nfe is None:
            raise ValueError("nfe is required (or pass an explicit grid)")
        nfe = _check_int("nfe", nfe, 1)

    variant = unipc_variant
    if solver == "recommended":
        if any(v is not None for v in (parameterization, order, unipc_variant)):
            raise ValueError("solver='recommended' chooses parameterization, order and unipc_variant; "
                             "name a solver to set them")
        r = _core.recommended(nfe)
        solver, parameterization, order, variant = r["solver"], r["parameterization"], r["order"], r["unipc_variant"]
        if schedule is None and grid is None:
            schedule = r["schedule"]
    if parameterization is None:
        parameterization = _DEFAULT_PARAMETERIZATION[solver]
    if solver == "singlestep":
        for name, value, default in (("grid", grid, None), ("noise", noise, None), ("progress", progress, None),
                                     ("orders", orders, "lower_order_final"), ("on_fault", on_fault, "raise"),
                                     ("denoise_last", denoise_last, False)):
            if value is not default and value != default:
                raise ValueError(f"solver='singlestep' does not take {name}={value!r}")
        order = 3 if order is None else _check_int("order", order, 1)
        with torch.no_grad():
            mu_run = mu.detach().contiguous()
            x_run = _start_state(x, mu_run, sde, seed, inplace)
            stats = _core._singlestep(sde, parameterization, nfe, order,
                                      schedule or "linspace", float(lambda_min), float(rho), float(offset),
                                      math.nan if t_start is None else float(t_start), model, x_run, mu_run,
                                      fit_target, extra, time == "tensor", float(time_scale))
        return x_run, SampleStats(**stats)
    order = 0 if order is None else _check_int("order", order, 1)
    if grid is None:
        grid = _core.make_grid(sde, schedule or "linspace", nfe, lambda_min=float(lambda_min), rho=float(rho),
                               offset=float(offset), t_start=math.nan if t_start is None else float(t_start)).tolist()

    if progress is True:
        observer = _tqdm_observer(nfe)
    elif progress is None or progress is False:
        observer = None
    elif callable(progress):
        observer = progress
    else:
        raise TypeError(f"progress must be None, True or a callable, got {type(progress).__name__}")

    with torch.no_grad():
        mu_run = mu.detach().contiguous()
        x_run = _start_state(x, mu_run, sde, seed, inplace)
        stats = _core._sample(sde, solver, parameterization, order, variant or "bh2", order3_rule, float(eta),
                              step_mode, model, x_run, mu_run, grid, fit_target, orders, bool(denoise_last),
                              on_fault, seed, noise, observer, extra, time == "tensor", float(time_scale),
                              step_lambda)
    return x_run, SampleStats(**stats)
