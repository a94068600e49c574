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
    completed); execution_path: the code the state updates ran on, e.g. 'torch host_contiguous/avx2' (the
    host kernels on the tensors' storage, with the instruction set), 'torch host_dense/avx2' (channels_last
    and other dense layouts) or 'torch tensor_ops' (CUDA, views with gaps, float16, mixed layouts).
    """

    nfe: int
    steps: int
    status: str
    fault_step: int
    fault_time: float
    execution_path: str = "unnamed"

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


def _tqdm_observer():
    try:
        from tqdm import tqdm
    except ImportError as error:
        raise ImportError("progress=True needs the tqdm package; pass a callable instead") from error
    bars = []  # made at the first step, which says how many steps the run has

    def observe(info):
        if not bars:
            bars.append(tqdm(total=info["steps"], desc="mrsolve", leave=False))
        bars[0].update(1)
        if info["step"] == info["steps"]:
            bars[0].close()
    return observe


def _observer_of(progress):
    """The observer for ``progress``: None, a tqdm bar (True), or the callable itself."""
    if progress is True:
        return _tqdm_observer()
    if progress is None or progress is False:
        return None
    if callable(progress):
        return progress
    raise TypeError(f"progress must be None, True or a callable, got {type(progress).__name__}")


def _start_state(x, mu, sde, seed, inplace):
    if x is None:
        return stationary_start(mu, sde=sde, seed=seed)
    return x if inplace else x.detach().clone(memory_format=torch.contiguous_format)


def _condition_like(mu, x_run):
    """mu in x_run's memory layout (one copy per run at most), so that every update takes x's path: the host
    kernels on the storage for dense CPU tensors. A mu of another dtype, device or shape is passed on as it
    is, for the C++ checks to name it."""
    mu = mu.detach()
    if mu.stride() == x_run.stride():
        return mu
    if mu.shape != x_run.shape or mu.dtype != x_run.dtype or mu.device != x_run.device:
        return mu.contiguous()
    return torch.empty_like(x_run).copy_(mu)


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
           progress=None, inplace=False, thresholding=False, threshold_ratio=0.995, threshold_max=1.5, history=None,
           **extra):
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
            noise, orders, denoise_last or history).
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
        thresholding, threshold_ratio, threshold_max: dynamic thresholding of every data prediction x0
            (C++ ``sample_options::thresholding``; data parameterization only), per batch item (x's first
            dimension): s = the threshold_ratio quantile of |x0| clamped to [1, threshold_max], then
            x0 <- clamp(x0, -s, s) / s. Contiguous CPU tensors are thresholded in place on the host, other
            tensors (CUDA) by tensor operations on their device; both give the same values.
        history: seeded history (C++ ``sampler::seed_history``): a sequence of (x_i, t_i) pairs, oldest
            first, at times t_i strictly decreasing and above the grid's first time. Each costs one model
            evaluation (not counted in ``stats.nfe``) and is pushed as if it were an earlier step of this
            run, so that a multistep solver starts at full order. Not with solver='singlestep'.
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
    thresholding, threshold_ratio, threshold_max = _check_thresholding(thresholding, threshold_ratio, threshold_max)

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
    observer = _observer_of(progress)
    if solver == "singlestep":
        for name, value, default in (("grid", grid, None), ("noise", noise, None),
                                     ("orders", orders, "lower_order_final"),
                                     ("denoise_last", denoise_last, False), ("history", history, None)):
            if value is not default and value != default:
                raise ValueError(f"solver='singlestep' does not take {name}={value!r}")
        order = 3 if order is None else _check_int("order", order, 1)
        with torch.no_grad():
            x_run = _start_state(x, mu.detach().contiguous(), sde, seed, inplace)
            mu_run = _condition_like(mu, x_run)
            stats = _core._singlestep(sde, parameterization, nfe, order,
                                      schedule or "linspace", float(lambda_min), float(rho), float(offset),
                                      math.nan if t_start is None else float(t_start), model, x_run, mu_run,
                                      fit_target, extra, time == "tensor", float(time_scale), thresholding,
                                      threshold_ratio, threshold_max, on_fault, observer)
        return x_run, SampleStats(**stats)
    order = 0 if order is None else _check_int("order", order, 1)
    if grid is None:
        grid = _core.make_grid(sde, schedule or "linspace", nfe, lambda_min=float(lambda_min), rho=float(rho),
                               offset=float(offset), t_start=math.nan if t_start is None else float(t_start)).tolist()

    seeds = _check_history(history, mu, grid[0])
    with torch.no_grad():
        x_run = _start_state(x, mu.detach().contiguous(), sde, seed, inplace)
        mu_run = _condition_like(mu, x_run)
        stats = _core._sample(sde, solver, parameterization, order, variant or "bh2", order3_rule, float(eta),
                              step_mode, model, x_run, mu_run, grid, fit_target, orders, bool(denoise_last),
                              on_fault, seed, noise, observer, extra, time == "tensor", float(time_scale),
                              step_lambda, thresholding, threshold_ratio, threshold_max, seeds)
    return x_run, SampleStats(**stats)


def _check_thresholding(thresholding, ratio, max_value):
    if not isinstance(thresholding, bool):
        raise TypeError(f"thresholding must be True or False, got {thresholding!r}")
    for name, value in (("threshold_ratio", ratio), ("threshold_max", max_value)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a number, got {value!r}")
    # The ranges are checked by the C++ options (the message names the value).
    return thresholding, float(ratio), float(max_value)


def _check_history(history, mu, t_first):
    if history is None:
        return []
    seeds = []
    previous = math.inf
    for k, entry in enumerate(history):
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise ValueError(f"history[{k}] must be a pair (x, t), got {entry!r}")
        state, t = entry
        _check_tensor(f"history[{k}][0]", state, like=("mu", mu))
        if isinstance(t, bool) or not isinstance(t, numbers.Real) or not math.isfinite(t):
            raise ValueError(f"history[{k}] has time {t!r}; a finite number is needed")
        t = float(t)
        if not t < previous:
            raise ValueError(f"history[{k}] has time {t} after {previous}: the seeds must be oldest first, at "
                             "strictly decreasing times")
        if not t > t_first:
            raise ValueError(f"history[{k}] has time {t} but the grid starts at {t_first}: seeds are earlier "
                             "(noisier) states, at times above the grid's first")
        previous = t
        seeds.append((state.detach().contiguous(), t))
    return seeds


class AdaptiveStats(NamedTuple):
    """Statistics of one run of :func:`mrsolve.sample_adaptive` (C++ ``adaptive_result``).

    nfe: model evaluations made; accepted, rejected: steps accepted and trials rejected, over all passes;
    passes: integrations from t_start to t_end completed; error_estimate: with scope='global', the difference
    of the last two passes in units of the tolerance (<= 1 when completed; NaN otherwise); status:
    'completed', 'nfe_cap_reached', or with on_fault='stop' 'non_finite_model_output' or 'non_finite_state';
    t_final: the time of the returned state; fault_step, fault_time: the 1-based trial and its start time
    where a NaN/Inf stopped the run (0 and NaN otherwise); execution_path: what ran the updates, as in
    :class:`SampleStats`.
    """

    nfe: int
    accepted: int
    rejected: int
    passes: int
    error_estimate: float
    status: str
    t_final: float
    fault_step: int
    fault_time: float
    execution_path: str

    @property
    def completed(self):
        """Whether t_end was reached within the tolerance."""
        return self.status == "completed"


def sample_adaptive(model, mu, x=None, *, sde, rtol=0.05, atol=0.0078, order=3, parameterization="data",
                    fit_target="noise", t_start=None, t_end=None, controller="pi", scope="global", h_init=0.0,
                    max_nfe=1000, safety=0.9, fac_min=0.2, fac_max=5.0, thresholding=False, threshold_ratio=0.995,
                    threshold_max=1.5, on_fault="raise", seed=0, time="float", time_scale=1.0, inplace=False,
                    **extra):
    """Samples the probability-flow ODE with adaptive steps in lambda (C++ ``mrsolve::sample_adaptive``).

    The MR analogue of DPM-Solver-12/23: trial steps of order ``order`` with an embedded lower-order
    estimate, accepted when the error (max over batch items of the RMS of the difference scaled by
    atol + rtol * |x|) is at most 1, with an I or PI step-size controller. With scope='global' the grid
    of that pass is then refined (every step halved) until two passes agree within the tolerance, so the
    tolerance bounds the final error; 'per_step' bounds each step's local error only (one pass).

    Runs on CPU tensors only (float32 or float64): the error norm reads the state on the host. A CUDA
    tensor raises ValueError naming its device. The C++ loop runs on the tensors' storage with the GIL
    released except around the model calls, as :func:`sample`.

    Args:
        model: ``model(x, mu, t, **extra)`` returning its fit target shaped like x (see :func:`sample`).
        mu: the condition, a CPU float32/float64 tensor of any shape; x: the start state at t_start (None:
            ``stationary_start(mu, sde=sde, seed=seed)``).
        sde: :class:`mrsolve.IRSDETable` or :class:`mrsolve.IRSDE`.
        rtol, atol: the tolerances (>= 0, not both 0); order: 2 or 3; parameterization: 'data' or 'noise';
        fit_target: what the model returns ('noise', 'data' or 'velocity').
        t_start, t_end: the times (default: sde.t_max and sde.t_min).
        controller: 'pi' (proportional-integral) or 'i' (integral); scope: 'global' or 'per_step';
        h_init: the first trial step in lambda (0: a twentieth of the interval); max_nfe: the NFE cap;
        safety, fac_min, fac_max: the controller's safety factor and step-ratio bounds.
        thresholding, threshold_ratio, threshold_max: dynamic thresholding of every stage's x0, per batch
            item, as in :func:`sample` (data parameterization only).
        on_fault: 'raise' (:class:`mrsolve.NonFiniteError`) or 'stop' (return the last accepted state, with
            ``stats.status`` 'non_finite_model_output' or 'non_finite_state' and ``stats.t_final`` its time).
        time, time_scale, inplace, **extra: as in :func:`sample`.

    Returns:
        (x, stats): the result and an :class:`AdaptiveStats` (nfe, accepted, rejected, passes,
        error_estimate, status, t_final). With status 'nfe_cap_reached' x is the finest completed pass or
        the last accepted state (t_final says where).

    Raises:
        ValueError: a tensor of the wrong dtype, device or shape, or an invalid option (the message names
            it). mrsolve.NonFiniteError: a NaN/Inf model output or trial state with on_fault='raise'. Any
            exception of the model.
    """
    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    if not isinstance(sde, (_core.IRSDETable, _core.IRSDE)):
        raise TypeError(f"sde must be an mrsolve.IRSDETable or mrsolve.IRSDE, got {type(sde).__name__}")
    _check_tensor("mu", mu)
    if mu.device.type != "cpu":
        raise ValueError(f"sample_adaptive runs on CPU tensors only (its error norm reads the state on the host); "
                         f"mu is on device {mu.device}")
    if x is not None:
        _check_tensor("x", x, like=("mu", mu))
    elif inplace:
        raise ValueError("inplace=True needs a start state x")
    if time not in ("float", "tensor"):
        raise ValueError(f"time must be 'float' or 'tensor', got {time!r}")
    seed = _check_int("seed", seed, 0)
    if seed >= 2 ** 64:
        raise ValueError(f"seed must be < 2**64, got {seed}")
    order = _check_int("order", order, 1)
    max_nfe = _check_int("max_nfe", max_nfe, 1)
    thresholding, threshold_ratio, threshold_max = _check_thresholding(thresholding, threshold_ratio, threshold_max)
    t_start = sde.t_max if t_start is None else float(t_start)
    t_end = sde.t_min if t_end is None else float(t_end)
    with torch.no_grad():
        mu_run = mu.detach().contiguous()
        x_run = _start_state(x, mu_run, sde, seed, inplace)
        if not x_run.is_contiguous():
            raise ValueError("inplace=True needs a contiguous x for sample_adaptive")
        stats = _core._adaptive(sde, parameterization, model, x_run, mu_run, t_start, t_end, float(rtol), float(atol),
                                order, controller, float(h_init), max_nfe, fit_target, float(safety), float(fac_min),
                                float(fac_max), scope, thresholding, threshold_ratio, threshold_max, extra,
                                time == "tensor", float(time_scale), on_fault)
    return x_run, AdaptiveStats(**stats)


def invert(model, mu, x, *, sde, nfe=None, solver="ode", parameterization=None, order=None, fit_target="noise",
           schedule="linspace", grid=None, t_end=None, lambda_min=-math.inf, rho=7.0, offset=0.0,
           orders="lower_order_final", step_lambda="alpha_sigma", unipc_variant="bh2", order3_rule="taylor",
           time="float", time_scale=1.0, progress=None, inplace=False, **extra):
    """Inversion: integrates the probability-flow ODE from a clean state to a noisier time (C++ ``sampler::invert``).

    The reverse of :func:`sample` with a deterministic solver, e.g. to encode an image x at the grid's
    first (small) time into the latent at t_end that ``sample`` maps back to it. The same steps as
    sampling with h = lambda(t_i) - lambda(t_{i-1}) < 0.

    Args:
        model, mu, fit_target, time, time_scale, progress, inplace, **extra: as in :func:`sample`.
        x: the clean state at the grid's first time (required), shaped like mu with its dtype and device.
        sde: :class:`mrsolve.IRSDETable` or :class:`mrsolve.IRSDE`. The first time must have a finite
            lambda: t > 0 (the tables' t = 0 and the continuous family's sigma(0) = 0 are excluded), so
            use the continuous family (its grids end at t_min > 0) or an explicit grid.
        nfe: the number of steps; schedule, lambda_min, rho, offset: the schedule of :func:`mrsolve.make_grid`,
            whose grid from t_end (default sde.t_max) down is reversed; grid: explicit increasing times
            t_0 < ... < t_M instead.
        solver: 'ode', 'unipc' or 'euler_ode' (deterministic single-evaluation solvers); parameterization
            (default 'data', 'noise' for euler_ode), order, unipc_variant, order3_rule, orders, step_lambda: as in
            :func:`sample`.

    Returns:
        (x, stats): the state at the last grid time and a :class:`SampleStats`.

    Raises:
        ValueError: a grid that is not strictly increasing or leaves the family's range, a stochastic or
            two-stage solver, and everything :func:`sample` raises for.
    """
    if not callable(model):
        raise TypeError(f"model must be callable, got {type(model).__name__}")
    if not isinstance(sde, (_core.IRSDETable, _core.IRSDE)):
        raise TypeError(f"sde must be an mrsolve.IRSDETable or mrsolve.IRSDE, got {type(sde).__name__}")
    _check_tensor("mu", mu)
    if x is None:
        raise ValueError("invert needs the clean state x")
    _check_tensor("x", x, like=("mu", mu))
    if solver not in ("ode", "unipc", "euler_ode"):
        raise ValueError(f"invert integrates the probability-flow ODE: solver must be 'ode', 'unipc' or "
                         f"'euler_ode', got {solver!r}")
    if parameterization is None:
        parameterization = _DEFAULT_PARAMETERIZATION[solver]
    if time not in ("float", "tensor"):
        raise ValueError(f"time must be 'float' or 'tensor', got {time!r}")
    if grid is not None:
        grid = [float(t) for t in (grid.tolist() if isinstance(grid, torch.Tensor) else grid)]
        if nfe is not None and _check_int("nfe", nfe, 1) != len(grid) - 1:
            raise ValueError(f"nfe = {nfe} but the grid has {len(grid)} times (nfe + 1 expected)")
    else:
        if nfe is None:
            raise ValueError("nfe is required (or pass an explicit grid)")
        nfe = _check_int("nfe", nfe, 1)
        grid = _core.make_grid(sde, schedule, nfe, lambda_min=float(lambda_min), rho=float(rho), offset=float(offset),
                               t_start=math.nan if t_end is None else float(t_end)).tolist()[::-1]
    order = 0 if order is None else _check_int("order", order, 1)
    observer = _observer_of(progress)
    with torch.no_grad():
        x_run = _start_state(x, mu.detach().contiguous(), sde, 0, inplace)
        mu_run = _condition_like(mu, x_run)
        stats = _core._invert(sde, solver, parameterization, order, unipc_variant, order3_rule, model, x_run, mu_run,
                              grid, fit_target, orders, observer, extra, time == "tensor", float(time_scale),
                              step_lambda)
    return x_run, SampleStats(**stats)
