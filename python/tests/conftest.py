"""Shared helpers of the mrsolve Python tests: paths, the golden-file reader, a fake published IR-SDE."""

import math
import os
import pathlib

import pytest
import torch

import mrsolve

SOURCE_DIR = pathlib.Path(os.environ.get("MRSOLVE_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
GOLDEN_DIR = SOURCE_DIR / "tests" / "data" / "golden"


def read_golden(path):
    """Parses a golden recording (format: include/mrsolve/golden/golden_file.hpp) into a dict.

    Scalars stay strings except the numeric keys; vectors become float64 tensors; `noise k` and `state k`
    become dicts step -> tensor; `irsde` gives schedule, T, max_sigma, eps.
    """
    r = {"noise": {}, "states": {}}
    for line in pathlib.Path(path).read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        key, *rest = line.split()
        if key == "irsde":
            r["schedule"] = rest[0]
            for item in rest[1:]:
                name, value = item.split("=")
                r[name] = float(value)
        elif key in ("noise", "state"):
            r["noise" if key == "noise" else "states"][int(rest[0])] = torch.tensor([float(v) for v in rest[1:]], dtype=torch.float64)
        elif key in ("mu", "data_mean", "data_std", "x_T", "timesteps", "output"):
            r[key] = torch.tensor([float(v) for v in rest], dtype=torch.float64)
        elif key in ("order", "nfe", "n", "thresholding", "denoise_last"):
            r[key] = int(rest[0])
        elif key == "lambda_min":
            r[key] = float(rest[0])
        else:
            r[key] = rest[0]
    return r


class PublishedStyleIRSDE:
    """The attributes the published MRSampler reads from the IR-SDE object of an IR-SDE/DA-CLIP code base
    (T, dt, max_sigma, thetas, sigma_bars, set_mu, noise_fn, model), around any model(x, mu, t, **kwargs).

    Its tables come from mrsolve.IRSDETable rounded to float32, as the published code keeps them.
    """

    def __init__(self, model, schedule="cosine", T=100, max_sigma=50.0, eps=0.005):
        table = mrsolve.IRSDETable(schedule, T, max_sigma, eps)
        self.T = T
        self.dt = table.dt
        self.max_sigma = table.stationary_std
        self.thetas = table.thetas.float()
        self.sigma_bars = table.sigmas.float()
        self.model = model
        self.mu = None
        self.calls = []

    def set_mu(self, mu):
        self.mu = mu

    def noise_fn(self, x, t, **kwargs):
        self.calls.append((t, kwargs))
        return self.model(x, self.mu, t, **kwargs)


def opt_of(schedule="cosine", T=100, max_sigma=50.0, eps=0.005):
    """The `opt` dictionary of the published code base (its IR-SDE section)."""
    return {"sde": {"schedule": schedule, "T": T, "max_sigma": max_sigma, "eps": eps}}


def gaussian_problem(n=24, dtype=torch.float64, seed=1):
    """Per-element Gaussian data on the cosine tables: the table, the oracle, mu and its data statistics."""
    g = torch.Generator().manual_seed(seed)
    mean = torch.rand(n, generator=g, dtype=torch.float64)
    std = 0.05 + 0.2 * torch.rand(n, generator=g, dtype=torch.float64)
    mu = torch.rand(n, generator=g, dtype=torch.float64).to(dtype)
    table = mrsolve.IRSDETable()
    oracle = mrsolve.GaussianOracleTable(table, mean.tolist(), std.tolist())
    return table, oracle, mu, mean.tolist(), std.tolist()


def nan_at_call(model, call, index):
    """model wrapped so that its output of the call-th call (1-based) has NaN at index; also returns the
    list of the times it was called at."""
    calls = []

    def wrapped(x, mu, t):
        calls.append(t)
        out = model(x, mu, t)
        if len(calls) == call:
            out = out.clone()
            out[index] = math.nan
        return out
    return wrapped, calls


@pytest.fixture
def problem():
    return gaussian_problem()
