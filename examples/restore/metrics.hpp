#pragma once
// Image quality against the clean image: PSNR and SSIM on 8-bit RGB (values k/255), as restoration
// papers report them on RGB.
//  - PSNR = 10·log10(1/MSE) over all pixels and the three channels.
//  - SSIM (Wang et al. 2004): Gaussian window 11 × 11, σ = 1.5, K1 = 0.01, K2 = 0.03, dynamic range 1,
//    computed per channel over the 'valid' window positions (no padding) and averaged over positions and
//    channels.
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "png.hpp"

namespace restore {

inline double psnr(const rgb_image& a, const rgb_image& b) {
    double sum = 0;
    for (std::size_t i = 0; i < a.pixels.size(); ++i) {
        const double d = (double(a.pixels[i]) - double(b.pixels[i])) / 255.0;
        sum += d * d;
    }
    const double mse = sum / double(a.pixels.size());
    return mse > 0 ? 10.0 * std::log10(1.0 / mse) : 99.0;
}

inline double ssim(const rgb_image& a, const rgb_image& b) {
    constexpr int radius = 5, size = 2 * radius + 1;
    std::array<double, size> g{};
    double total = 0;
    for (int i = 0; i < size; ++i) total += g[i] = std::exp(-double((i - radius) * (i - radius)) / (2 * 1.5 * 1.5));
    for (double& v : g) v /= total;
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    const int w = a.width, h = a.height;
    if (w < size || h < size) return std::nan("");
    double acc = 0;
    long count = 0;
    std::vector<double> x(static_cast<std::size_t>(w) * h), y(x.size());
    for (int ch = 0; ch < 3; ++ch) {
        for (std::size_t p = 0; p < x.size(); ++p) {
            x[p] = a.pixels[p * 3 + static_cast<std::size_t>(ch)] / 255.0;
            y[p] = b.pixels[p * 3 + static_cast<std::size_t>(ch)] / 255.0;
        }
        for (int r = radius; r < h - radius; ++r) {
            for (int c = radius; c < w - radius; ++c) {
                double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0;
                for (int i = -radius; i <= radius; ++i) {
                    for (int j = -radius; j <= radius; ++j) {
                        const double wt = g[i + radius] * g[j + radius];
                        const std::size_t p = static_cast<std::size_t>(r + i) * w + static_cast<std::size_t>(c + j);
                        mx += wt * x[p];
                        my += wt * y[p];
                        sxx += wt * x[p] * x[p];
                        syy += wt * y[p] * y[p];
                        sxy += wt * x[p] * y[p];
                    }
                }
                const double vx = sxx - mx * mx, vy = syy - my * my, cxy = sxy - mx * my;
                acc += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
                ++count;
            }
        }
    }
    return acc / double(count);
}

}  // namespace restore
