#!/usr/bin/env python3
"""Trains mrsolve's small conditional restoration network under the IR-SDE and exports it as TorchScript.

The network predicts the noise ε in x_t = μ + α_t (x₀ − μ) + σ_t ε (weighted noise-matching loss), given
(x_t, μ, t), where μ is the degraded photograph and t the IR-SDE table step; internally its body
estimates x₀ − μ and ε̂ follows exactly from the relation above. Everything is defined in
training/README.md; in short:

* IR-SDE: the discrete tables of docs/theory.md §1 ("The discrete tables"): cosine θ, T = 100,
  eps = 0.005, max_sigma = 50 (stationary standard deviation σ_∞ = 50/255). The exported module carries these as attributes (T, max_sigma, eps, schedule).
* Degradations (one network for both; μ tells it which): additive Gaussian noise σ = 25/255, and
  low light μ = 0.3·x₀^1.5 + N(0, (3/255)²). Neither is clipped.
* Data: photographs shipped by Debian packages (python3-skimage's skimage/data, python3-sklearn's
  sklearn/datasets/images), split by image: TRAIN_IMAGES for training, HELD_OUT for evaluation only.
* Reproducible: fixed seeds, deterministic algorithms, a fixed number of iterations, one CPU thread.

Run with Debian's interpreter (python3-torch is installed for it):
    nice -n 10 /usr/bin/python3 training/train.py
It writes models/mrsolve_restore_net.pt (TorchScript) and the held-out crops in examples/restore/images/.
"""
import argparse
import hashlib
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

# ----------------------------------------------------------------------------------------------------
# Data: images shipped by Debian packages, split by image.

TRAIN_IMAGES = [
    # (package, file, colour)
    ("skimage", "astronaut.png", True),
    ("skimage", "rocket.jpg", True),
    ("skimage", "motorcycle_left.png", True),
    ("skimage", "motorcycle_right.png", True),
    ("skimage", "retina.jpg", True),
    ("skimage", "ihc.png", True),
    ("skimage", "hubble_deep_field.jpg", True),
    ("sklearn", "china.jpg", True),
    ("skimage", "camera.png", False),
    ("skimage", "brick.png", False),
    ("skimage", "grass.png", False),
    ("skimage", "gravel.png", False),
]
# Held out: never seen in training. Each is downscaled by 2 (area average) and a 128 × 128 crop at the
# given (top, left) of the downscaled image is exported for the C++ example.
HELD_OUT = [
    ("skimage", "chelsea.png", (10, 30)),   # the cat: fur, whiskers
    ("skimage", "coffee.png", (40, 80)),    # cup, saucer, spoon, table texture
    ("sklearn", "flower.jpg", (50, 100)),   # petals, foliage
]
CROP = 128

# IR-SDE: the discrete tables of docs/theory.md §1 ("The discrete tables").
T_STEPS = 100
MAX_SIGMA = 50.0
EPS = 0.005
# Degradations.
NOISE_SIGMA = 25.0 / 255.0
LOWLIGHT_GAIN, LOWLIGHT_GAMMA, LOWLIGHT_NOISE = 0.3, 1.5, 3.0 / 255.0


def package_dir(package):
    if package == "skimage":
        import skimage.data
        return os.path.dirname(skimage.data.__file__)
    import sklearn.datasets
    return os.path.join(os.path.dirname(sklearn.datasets.__file__), "images")


def load_image(package, name, colour=True):
    """An image as float32 [3, H, W] in [0, 1] (grey images are replicated to three channels)."""
    img = Image.open(os.path.join(package_dir(package), name))
    img = img.convert("RGB") if colour else img.convert("L").convert("RGB")
    return torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1).contiguous()


def downscale2(img):
    """Area-average downscaling by 2 (crops an odd last row/column)."""
    return F.avg_pool2d(img[None], 2)[0]


# ----------------------------------------------------------------------------------------------------
# The IR-SDE tables, exactly as mrsolve::irsde_table computes them (float64).

def irsde_tables(T=T_STEPS, max_sigma=MAX_SIGMA, eps=EPS):
    n = T + 2
    k = np.arange(n + 1, dtype=np.float64)
    c = np.cos(((k / n) + 0.008) / 1.008 * math.pi / 2) ** 2
    c = c / c[0]
    theta = 1.0 - c[1:T + 2]
    theta_bar = np.cumsum(theta)
    dt = -math.log(eps) / theta_bar[-1]
    lam_s = max_sigma / 255.0 if max_sigma >= 1 else max_sigma
    alpha = np.exp(-theta_bar * dt)
    sigma = lam_s * np.sqrt(-np.expm1(-2.0 * theta_bar * dt))
    return alpha, sigma, lam_s


# ----------------------------------------------------------------------------------------------------
# The network: a small conditional U-Net working at half resolution after a lossless space-to-depth.

class TimeEmbedding(nn.Module):
    t_scale: float

    def __init__(self, dim: int):
        super().__init__()
        self.half = dim // 4
        self.t_scale = 1000.0 / T_STEPS
        self.mlp = nn.Sequential(nn.Linear(2 * self.half, dim), nn.SiLU(), nn.Linear(dim, dim))

    def forward(self, t):
        # t in table steps [0, T]; frequencies 1 … 1/1000 of t/T·1000.
        freqs = torch.exp(-math.log(1000.0) * torch.arange(self.half, dtype=torch.float32, device=t.device) / self.half)
        arg = (t[:, None] * self.t_scale) * freqs[None, :]
        return self.mlp(torch.cat([torch.sin(arg), torch.cos(arg)], dim=1))


class ResBlock(nn.Module):
    """x + conv(act(FiLM(conv(act(x)), t)))."""

    def __init__(self, channels: int, tdim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.film = nn.Linear(tdim, 2 * channels)
        nn.init.zeros_(self.conv2.weight)
        nn.init.zeros_(self.conv2.bias)

    def forward(self, x, temb):
        h = self.conv1(F.silu(x))
        scale, shift = self.film(temb)[:, :, None, None].chunk(2, dim=1)
        h = h * (1.0 + scale) + shift
        return x + self.conv2(F.silu(h))


class RestoreNet(nn.Module):
    """ε̂(x_t, μ, t) for the IR-SDE tables; forward(x, mu, t) with x, mu [B, 3, H, W] and t [B] or []."""

    T: int
    max_sigma: float
    eps: float
    schedule: str

    def __init__(self, c1: int = 32, c2: int = 64, tdim: int = 64):
        super().__init__()
        self.T = T_STEPS
        self.max_sigma = MAX_SIGMA
        self.eps = EPS
        self.schedule = "cosine"
        alpha, sigma, _ = irsde_tables()
        self.register_buffer("alpha_table", torch.tensor(alpha, dtype=torch.float32))
        self.register_buffer("sigma_table", torch.tensor(sigma, dtype=torch.float32))
        self.temb = TimeEmbedding(tdim)
        self.conv_in = nn.Conv2d(24, c1, 3, padding=1)
        self.enc = ResBlock(c1, tdim)
        self.down = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.mid1 = ResBlock(c2, tdim)
        self.mid2 = ResBlock(c2, tdim)
        self.up = nn.Conv2d(c2, 4 * c1, 1)
        self.dec = ResBlock(c1, tdim)
        self.conv_out = nn.Conv2d(c1, 12, 3, padding=1)

    def interpolate(self, table, t):
        # Linear interpolation at fractional table times, as mrsolve::irsde_table does.
        j = torch.clamp(torch.floor(t), 0.0, float(self.T - 1))
        w = t - j
        i = j.long()
        return table[i] * (1.0 - w) + table[i + 1] * w

    def forward(self, x, mu, t):
        dtype = x.dtype
        x = x.float()
        mu = mu.float()
        b = x.shape[0]
        t = t.float().reshape(-1)
        if t.shape[0] == 1:
            t = t.expand(b)
        h_in, w_in = x.shape[2], x.shape[3]
        ph = (4 - h_in % 4) % 4
        pw = (4 - w_in % 4) % 4
        if ph > 0 or pw > 0:
            x = F.pad(x, (0, pw, 0, ph), mode="replicate")
            mu = F.pad(mu, (0, pw, 0, ph), mode="replicate")
        alpha = self.interpolate(self.alpha_table, t)[:, None, None, None]
        sigma = self.interpolate(self.sigma_table, t)[:, None, None, None]
        # Input preconditioning: y = x − μ has standard deviation about √(σ² + α²·0.1).
        c_in = torch.rsqrt(sigma * sigma + alpha * alpha * 0.1)
        inp = torch.cat([(x - mu) * c_in, mu - 0.5], dim=1)
        temb = self.temb(t)
        h = self.conv_in(F.pixel_unshuffle(inp, 2))
        h1 = self.enc(h, temb)
        h2 = self.mid2(self.mid1(self.down(h1), temb), temb)
        u = F.pixel_shuffle(self.up(h2), 2)
        h = self.dec(u + h1, temb)
        # The body estimates x₀ − μ; ε̂ follows exactly from x = μ + α(x₀ − μ) + σε. So the dominant part of
        # ε̂ at large t, (x − μ)/σ, is computed, not approximated by the convolutions.
        x0_minus_mu = F.pixel_shuffle(self.conv_out(F.silu(h)), 2)
        eps = ((x - mu) - alpha * x0_minus_mu) / sigma
        return eps[:, :, :h_in, :w_in].to(dtype)


# ----------------------------------------------------------------------------------------------------
# Training.

def degrade(x0, kind, gen):
    """μ for a batch of clean patches; kind[i] = 0: noise σ = 25/255, 1: low light."""
    noise = torch.randn(x0.shape, generator=gen)
    noisy = x0 + NOISE_SIGMA * noise
    dark = LOWLIGHT_GAIN * x0.pow(LOWLIGHT_GAMMA) + LOWLIGHT_NOISE * noise
    return torch.where(kind[:, None, None, None] == 0, noisy, dark)


def sample_patches(images, batch, patch, rng):
    out = torch.empty(batch, 3, patch, patch)
    for i in range(batch):
        img = images[rng.randint(len(images))]
        _, h, w = img.shape
        top, left = rng.randint(h - patch + 1), rng.randint(w - patch + 1)
        p = img[:, top:top + patch, left:left + patch]
        if rng.randint(2):
            p = p.flip(2)
        p = torch.rot90(p, int(rng.randint(4)), dims=(1, 2))
        out[i] = p
    return out


def parameter_digest(model):
    h = hashlib.sha256()
    for v in model.state_dict().values():
        h.update(v.detach().cpu().numpy().tobytes())
    return h.hexdigest()[:16]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1,
                    help="intra-op threads; 1 is fastest on a shared 2-core machine (OpenMP barriers stall under load)")
    ap.add_argument("--out", default=None, help="TorchScript file (default models/mrsolve_restore_net.pt)")
    ap.add_argument("--images-out", default=None, help="held-out crops (default examples/restore/images)")
    ap.add_argument("--no-export", action="store_true", help="train only (e.g. to check reproducibility)")
    args = ap.parse_args()

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_path = args.out or os.path.join(root, "models", "mrsolve_restore_net.pt")
    images_out = args.images_out or os.path.join(root, "examples", "restore", "images")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.RandomState(args.seed)
    gen = torch.Generator().manual_seed(args.seed)

    images = []
    for package, name, colour in TRAIN_IMAGES:
        img = load_image(package, name, colour)
        images.append(img)
        images.append(downscale2(img))  # two scales of every training photograph
    print(f"training images: {', '.join(n for _, n, _ in TRAIN_IMAGES)} (each at scales 1 and 1/2)")
    print(f"held out: {', '.join(n for _, n, _ in HELD_OUT)}")

    alpha, sigma, lam_s = irsde_tables()
    alpha_t = torch.tensor(alpha, dtype=torch.float32)
    sigma_t = torch.tensor(sigma, dtype=torch.float32)

    model = RestoreNet()
    ema = RestoreNet()
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    params = sum(p.numel() for p in model.parameters())
    print(f"parameters: {params}")
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / 100) * 0.5 * (1 + math.cos(math.pi * min(i, args.iterations) / args.iterations)))

    start = time.time()
    running = 0.0
    for it in range(1, args.iterations + 1):
        x0 = sample_patches(images, args.batch, args.patch, rng)
        kind = torch.from_numpy(rng.randint(2, size=args.batch))
        mu = degrade(x0, kind, gen)
        t = torch.from_numpy(rng.randint(1, T_STEPS + 1, size=args.batch)).long()
        eps = torch.randn(x0.shape, generator=gen)
        a = alpha_t[t][:, None, None, None]
        s = sigma_t[t][:, None, None, None]
        xt = mu + a * (x0 - mu) + s * eps
        pred = model(xt, mu, t.float())
        # Noise matching, weighted per t by clamp(SNR, 1/4, 5)/SNR (SNR = α²/σ²): since ε̂ − ε = (α/σ)(x₀ − x̂₀),
        # this is clamp(SNR, 1/4, 5)·‖x̂₀ − x₀‖², a min-SNR-style balance of the noise levels.
        snr = (a / s) ** 2
        loss = (torch.clamp(snr, 0.25, 5.0) / snr * (pred - eps) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        decay = min(0.995, (1 + it) / (10 + it))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm, alpha=1 - decay)
        running += loss.item()
        if it % 100 == 0 or it == args.iterations:
            n = 100 if it % 100 == 0 else it % 100
            print(f"iter {it:5d}  loss {running / n:.4f}  lr {sched.get_last_lr()[0]:.2e}  "
                  f"{time.time() - start:7.1f} s", flush=True)
            running = 0.0
    print(f"training time: {time.time() - start:.1f} s for {args.iterations} iterations")
    print(f"parameter digest (EMA): {parameter_digest(ema)}")

    # Held-out check in Python: one-shot x̂₀ from the true x_t at a few t (not a sampler).
    ema.eval()
    crops = []
    for package, name, (top, left) in HELD_OUT:
        img = downscale2(load_image(package, name))
        crops.append((name, img[:, top:top + CROP, left:left + CROP].contiguous()))
    with torch.no_grad():
        for name, clean in crops:
            for kind in (0, 1):
                x0 = clean[None]
                mu = degrade(x0, torch.tensor([kind]), torch.Generator().manual_seed(1))
                line = []
                for tt in (10, 50, 100):
                    e = torch.randn(x0.shape, generator=torch.Generator().manual_seed(2))
                    xt = mu + alpha_t[tt] * (x0 - mu) + sigma_t[tt] * e
                    eh = ema(xt, mu, torch.tensor([float(tt)]))
                    x0h = (mu + (xt - mu - sigma_t[tt] * eh) / alpha_t[tt]).clamp(0, 1)
                    line.append(f"t={tt}: {10 * math.log10(1 / F.mse_loss(x0h, x0).item()):.2f}")
                psnr_in = 10 * math.log10(1 / F.mse_loss(mu.clamp(0, 1), x0).item())
                print(f"held-out {name} {'noise' if kind == 0 else 'lowlight'}: input {psnr_in:.2f} dB, "
                      f"one-shot x0 psnr " + ", ".join(line))

    if args.no_export:
        return
    scripted = torch.jit.script(ema)
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    scripted.save(out_path)
    print(f"wrote {out_path} ({os.path.getsize(out_path)} bytes)")
    os.makedirs(images_out, exist_ok=True)
    for name, clean in crops:
        arr = (clean.permute(1, 2, 0).numpy() * 255.0 + 0.5).clip(0, 255).astype(np.uint8)
        path = os.path.join(images_out, os.path.splitext(name)[0] + ".png")
        Image.fromarray(arr).save(path)
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
