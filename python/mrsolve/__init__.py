"""mrsolve: fast samplers for mean-reverting diffusion models (IR-SDE, Refusion, DA-CLIP), from PyTorch.

A thin layer over the C++ headers of mrsolve: every solver runs in C++ on the tensors themselves
(contiguous CPU float32/float64 tensors without a copy per step; CUDA tensors through LibTorch operations),
calling the Python model once per evaluation.

- :func:`sample` -- sample with any solver, schedule and option of the C++ API; returns (x, stats).
- :func:`sample_adaptive` -- adaptive steps in lambda to a tolerance (CPU tensors); returns (x, stats).
- :func:`invert` -- the probability-flow ODE from a clean state to a noisier time (inversion).
- :class:`MRSampler` -- drop-in for the published MR Sampler class.
- :class:`IRSDETable`, :class:`IRSDE` -- the coefficient families (alpha, sigma, lambda as tensors).
- :func:`make_grid`, :func:`recommended`, :func:`conversion`, :func:`stationary_start`, :func:`fill_normal`
  -- grids, the measured recommendation, fit-target conversions, the start state, the counter-based normals.
- :func:`load_grid`, :func:`save_grid` -- grid files (a grid tuned to your network by ``mrsolve_tune``).
- :class:`NonFiniteError` -- a NaN/Inf during sampling (an ArithmeticError with .step and .time).
- :class:`GaussianOracleTable`, :class:`GaussianOracleContinuous` -- closed-form Gaussian oracles.
"""

from ._core import (GaussianOracleContinuous, GaussianOracleTable, IRSDE, IRSDETable, NonFiniteError, __version__,
                    conversion, fill_normal, make_grid, recommended)
from ._grid import load_grid, save_grid
from ._sample import SOLVERS, AdaptiveStats, SampleStats, invert, sample, sample_adaptive, stationary_start
from .published import MRSampler

__all__ = ["AdaptiveStats", "GaussianOracleContinuous", "GaussianOracleTable", "IRSDE", "IRSDETable", "MRSampler",
           "NonFiniteError", "SOLVERS", "SampleStats", "conversion", "fill_normal", "invert", "load_grid", "make_grid",
           "recommended", "sample", "save_grid", "sample_adaptive", "stationary_start", "__version__"]
