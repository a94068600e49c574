"""Grid files: a grid (for example one tuned to a network by ``mrsolve_tune``) saved and loaded as text."""

import os

import torch

from . import _core


def load_grid(path, sde, nfe=0):
    """Reads a grid file and checks it against sde; returns the times t_0 > ... > t_nfe as a float64 tensor.

    The file is the versioned text format of C++ ``mrsolve::save_grid`` and of ``mrsolve_tune``. It is
    checked like any user grid: the family it was written for must be sde, the times must be finite, strictly
    decreasing and inside sde's range, and with nfe > 0 there must be nfe steps. Pass the result as
    ``mrsolve.sample(..., grid=times)``.

    Raises:
        ValueError: naming the file, the line and the value that is wrong.
    """
    return _core.load_grid(os.fspath(path), sde, int(nfe))


def save_grid(path, sde, times, solver=""):
    """Writes times (a sequence or tensor, strictly decreasing, for sde) as a grid file that load_grid reads.

    solver is an informational line (the configuration the grid was made for). Raises ValueError for a
    grid that is not a valid grid of sde, or a file that cannot be written.
    """
    if isinstance(times, torch.Tensor):
        times = times.detach().to("cpu", torch.float64).tolist()
    _core.save_grid(os.fspath(path), sde, [float(t) for t in times], str(solver))
