"""Restores the held-out photographs with the shipped network as a plain nn.Module, from Python.

The Python counterpart of examples/restore/restore.cpp (mrsolve_restore): the same network
(training/train.py's RestoreNet with the weights of models/mrsolve_restore_net.pt, not the TorchScript
module), the same degradations, start states, noise seeds, samplers and metrics, and the same output lines

    task=noise sampler=mrs_ode_data_2 nfe=10 psnr=27.31 ssim=0.8123 seconds=0.412

(PSNR/SSIM on 8-bit RGB averaged over the images; seconds per restored image). --quick runs the centre
64x64 crop of the first image with the C++ example's --quick plan and exits 1 unless mrs_ode_data_2 at NFE 10
beats the degraded input's PSNR on both tasks.

Usage: PYTHONPATH=<build>/python python3 python/examples/restore.py [--quick] [--nfe 5,10,20]
       [--samplers NAME,...] [--threads N] [--seed S]
"""

import argparse
import importlib.util
import pathlib
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

import mrsolve

ROOT = pathlib.Path(__file__).resolve().parents[2]

# name -> keyword arguments of mrsolve.sample (the C++ example's all_samplers(), in its order).
SAMPLERS = {}
for _order in (1, 2, 3):
    SAMPLERS[f"mrs_ode_data_{_order}"] = dict(solver="ode", parameterization="data", order=_order)
    SAMPLERS[f"mrs_ode_noise_{_order}"] = dict(solver="ode", parameterization="noise", order=_order)
for _order in (1, 2):
    SAMPLERS[f"mrs_sde_data_{_order}"] = dict(solver="sde", parameterization="data", order=_order)
    SAMPLERS[f"mrs_sde_noise_{_order}"] = dict(solver="sde", parameterization="noise", order=_order)
SAMPLERS.update({
    "mrs_unipc_noise_1_bh1": dict(solver="unipc", parameterization="noise", order=1, unipc_variant="bh1"),
    "mrs_unipc_data_2": dict(solver="unipc", parameterization="data", order=2),
    "mrs_unipc_data_3": dict(solver="unipc", parameterization="data", order=3),
    "mrs_eta0.5_data_2": dict(solver="eta", order=2, eta=0.5),
    "recommended": dict(solver="recommended"),
    "euler_maruyama": dict(solver="euler_maruyama"),
    "posterior_exact": dict(solver="posterior"),
    "euler_maruyama_published": dict(solver="euler_maruyama", step_mode="published_fixed"),
    "posterior_published": dict(solver="posterior", step_mode="published_fixed"),
})
QUICK_PLAN = [("mrs_ode_data_2", [5, 10]), ("mrs_ode_noise_2", [10]), ("mrs_sde_data_2", [10]),
              ("posterior_exact", [10, 100])]
TASKS = ("noise", "lowlight")


def load_network(path):
    """training/train.py's RestoreNet as a plain nn.Module, with the weights of the shipped TorchScript file."""
    spec = importlib.util.spec_from_file_location("mrsolve_training", ROOT / "training" / "train.py")
    training = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(training)
    net = training.RestoreNet()
    net.load_state_dict(torch.jit.load(str(path), map_location="cpu").state_dict())
    return net.eval()


def degrade(clean, task, seed):
    """The degradations the network was trained on, with the counter-based normals of (seed, step 0)."""
    z = mrsolve.fill_normal(torch.empty_like(clean), seed=seed)
    return clean + z * (25.0 / 255.0) if task == "noise" else clean.pow(1.5) * 0.3 + z * (3.0 / 255.0)


def to_8bit(chw):
    return chw.clamp(0, 1).mul(255.0).round().to(torch.uint8)


def psnr(a, b):
    """10 log10(1/MSE) on 8-bit values over all pixels and channels (examples/restore/metrics.hpp)."""
    mse = ((a.double() - b.double()) / 255.0).pow(2).mean().item()
    return 10 * np.log10(1 / mse) if mse > 0 else 99.0


def ssim(a, b):
    """SSIM with an 11x11 Gaussian window (sigma 1.5), K1 = 0.01, K2 = 0.03, range 1, 'valid' positions, mean
    over positions and channels (examples/restore/metrics.hpp)."""
    x, y = a.double()[:, None] / 255.0, b.double()[:, None] / 255.0
    g = torch.exp(-torch.arange(-5, 6, dtype=torch.float64) ** 2 / (2 * 1.5 ** 2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :])[None, None]

    def blur(v):
        return F.conv2d(v, w)
    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean().item()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--model", default=str(ROOT / "models" / "mrsolve_restore_net.pt"))
    parser.add_argument("--images", default=str(ROOT / "examples" / "restore" / "images"))
    parser.add_argument("--nfe", default="5,10,20,50,100")
    parser.add_argument("--samplers", default="", help="comma-separated names (default: all)")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    if args.threads > 0:
        torch.set_num_threads(args.threads)

    net = load_network(args.model)
    sde = mrsolve.IRSDETable(net.schedule, net.T, net.max_sigma, net.eps)
    files = sorted(pathlib.Path(args.images).glob("*.png"))
    if not files:
        raise SystemExit(f"restore.py: no .png images in {args.images}")
    if args.quick:
        files = files[:1]
    names, cleans, tasks = [], [], []
    for f in files:
        img = torch.from_numpy(np.array(Image.open(f).convert("RGB")))  # H, W, 3 uint8
        if args.quick:
            top, left = (img.shape[0] - 64) // 2, (img.shape[1] - 64) // 2
            img = img[top:top + 64, left:left + 64]
        for task in TASKS:
            names.append(f.stem)
            tasks.append(task)
            cleans.append(img.permute(2, 0, 1).float().div(255.0).contiguous())
    clean = torch.stack(cleans)
    mu = torch.stack([degrade(clean[b], tasks[b], args.seed + 100 * b) for b in range(len(tasks))])
    clean8 = to_8bit(clean)
    batch, per_task = len(tasks), len(tasks) // 2
    print(f"# model={args.model} parameters={sum(p.numel() for p in net.parameters())} irsde={net.schedule} "
          f"T={net.T} max_sigma={net.max_sigma:g} eps={net.eps:g} schedule=linspace")
    print(f"# images={per_task} ({','.join(names[::2])}) size={clean.shape[3]}x{clean.shape[2]} batch={batch} "
          f"threads={torch.get_num_threads()}")

    table = {}

    def report(name, nfe, result, seconds):
        out8 = to_8bit(result)
        sums = {task: [0.0, 0.0] for task in TASKS}
        for b in range(batch):
            sums[tasks[b]][0] += psnr(out8[b], clean8[b]) / per_task
            sums[tasks[b]][1] += ssim(out8[b], clean8[b]) / per_task
        for task in TASKS:
            print(f"task={task} sampler={name} nfe={nfe} psnr={sums[task][0]:.2f} ssim={sums[task][1]:.4f} "
                  f"seconds={seconds:.3f}", flush=True)
        table[(name, nfe)] = sums

    report("input", 0, mu, 0.0)
    nfes = [int(n) for n in args.nfe.split(",") if n]
    only = {s for s in args.samplers.split(",") if s}
    plan = QUICK_PLAN if args.quick else [(name, nfes) for name in SAMPLERS]
    for name, plan_nfes in plan:
        if only and name not in only:
            continue
        for nfe in plan_nfes:
            x = mrsolve.stationary_start(mu, sde=sde, seed=args.seed)
            t0 = time.perf_counter()
            # The C++ example's model: t as a tensor of shape [B]; its noise: counter_noise(7).
            x, stats = mrsolve.sample(net, mu, x, sde=sde, nfe=nfe, fit_target="noise", seed=7, time="tensor",
                                      inplace=True, **SAMPLERS[name])
            seconds = time.perf_counter() - t0
            if stats.nfe != nfe:
                raise SystemExit(f"{name}: used NFE {stats.nfe}")
            report(name, nfe, x, seconds / batch)

    if args.quick:
        passed = True
        for task in TASKS:
            inp, ode = table[("input", 0)][task][0], table[("mrs_ode_data_2", 10)][task][0]
            ok = ode > inp
            passed = passed and ok
            print(f"check task={task} mrs_ode_data_2 nfe=10 psnr={ode:.2f} > input psnr={inp:.2f}: "
                  f"{'pass' if ok else 'FAIL'}")
        print(f"check={'pass' if passed else 'FAIL'}")
        return 0 if passed else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
