"""mrsolve: fast samplers for mean-reverting diffusion models (IR-SDE, Refusion, DA-CLIP), from PyTorch.

A thin layer over the C++ headers of mrsolve: every solver runs in C++ on the tensors themselves
(contiguous CPU float32/float64 tensors without a copy per step; CUDA tensors through LibTorch operations),
calling the Python model once per evaluation.

- :func:`sample` -- sample with any solver, schedule and option of the C++ API; returns (x, stats).
- :class:`MRSampler` -- drop-in for the published MR Sampler class.
- :class:`IRSDETable`, :class:`IRSDE` -- the coefficient families (alpha, sigma, lambda as tensors).
- :func:`make_grid`, :func:`recommended`, :func:`conversion`, :func:`stationary_start`, :func:`fill_normal`
  -- grids, the measured recommendation, fit-target conversions, the start state, the counter-based normals.
- :class:`NonFiniteError` -- a NaN/Inf during sampling (an ArithmeticError with .step and .time).
- :class:`GaussianOracleTable`, :class:`GaussianOracleContinuous` -- closed-form Gaussian oracles.
"""

from ._core import (GaussianOracleContinuous, GaussianOracleTable, IRSDE, IRSDETable, NonFiniteError, __version__,
                    conversion, fill_normal, make_grid, recommended)
from ._sample import SOLVERS, SampleStats, sample, stationary_start
from .published import MRSampler

__all__ = ["GaussianOracleContinuous", "GaussianOracleTable", "IRSDE", "IRSDETable", "MRSampler", "NonFiniteError",
           "SOLVERS", "SampleStats", "conversion", "fill_normal", "make_grid", "recommended", "sample", "stationary_start",
           "__version__"]
