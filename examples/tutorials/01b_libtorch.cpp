// Tutorial 1, second part: the same sampling with a TorchScript network through LibTorch.
// Usage: mrsolve_tutorial_01b [model.pt [photo.png]]
//   (defaults: the restoration network in models/ and a held-out photograph in examples/restore/images/)
// Built only where LibTorch is found (target mrsolve::libtorch); runs on the GPU when one is present.
#include <mrsolve/adapters/libtorch.hpp>
#include <mrsolve/mrsolve.hpp>

#include <torch/cuda.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "../restore/png.hpp"  // a small PNG reader (zlib), shared with examples/restore

int main(int argc, char** argv) {
    const std::string model_path = argc > 1 ? argv[1] : MRSOLVE_TUTORIAL_MODEL;
    const std::string photo_path = argc > 2 ? argv[2] : MRSOLVE_TUTORIAL_PHOTO;
    const c10::Device device = torch::cuda::is_available() ? c10::Device(c10::kCUDA) : c10::Device(c10::kCPU);
    torch::NoGradGuard no_grad;

    // The network: forward(x, mu, t) returns the noise estimate, t in table steps. Loaded once.
    mrsolve::torchscript_model model = mrsolve::torchscript_model::load(model_path, device);
    const mrsolve::irsde_table<double> sde({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});

    // A clean photograph as a [1, 3, H, W] float tensor in [0, 1] on the device, and its noisy version μ.
    const restore::rgb_image photo = restore::read_png(photo_path);
    const at::Tensor clean = torch::from_blob(const_cast<std::uint8_t*>(photo.pixels.data()),
                                              {1, photo.height, photo.width, 3}, torch::kUInt8)
                                 .permute({0, 3, 1, 2}).to(device, torch::kFloat32).div(255).contiguous();
    torch::manual_seed(1);
    const at::Tensor mu = clean + (25.0 / 255.0) * torch::randn_like(clean);

    // Start from x_T = mu + sigma_inf z and run the MR Sampler: x is restored in place.
    at::Tensor x = at::empty_like(mu);
    mrsolve::stationary_start(sde, mu, x, /*seed=*/2024);
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linspace, /*NFE=*/10);
    mrsolve::sample_options options;
    options.fit = mrsolve::fit_target::noise;  // the network returns the noise
    const auto stats = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, sde, grid, model, x, mu, options);

    const auto psnr = [&](const at::Tensor& image) {
        return -10 * std::log10((image.clamp(0, 1) - clean).pow(2).mean().item<double>());
    };
    std::printf("device %s, NFE %d: PSNR %.2f dB (degraded) -> %.2f dB (restored)\n", device.str().c_str(), stats.nfe,
                psnr(mu), psnr(x));
    return stats.nfe == 10 && psnr(x) > psnr(mu) ? 0 : 1;
}
