// Tutorial 5: plug in a new coefficient family and a new state type (backend).
#include <array>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mrsolve/mrsolve.hpp>
#include <span>

// A new member of the MR SDE family: IR-SDE with an exponentially growing θ(t) = exp(k t), in closed form.
struct exponential_irsde {
    using real_type = double;
    double k = 0.05, T = 100, sigma_inf = 0.2, scale = 0.0;  // scale: chosen so that α(T) = 0.005
    exponential_irsde() { scale = -std::log(0.005) / theta_integral(T); }
    double theta(double t) const { return std::exp(k * t); }
    double theta_integral(double t) const { return std::expm1(k * t) / k; }
    double alpha(double t) const { return std::exp(-scale * theta_integral(t)); }
    double sigma(double t) const { return sigma_inf * std::sqrt(-std::expm1(-2 * scale * theta_integral(t))); }
    double lambda(double t) const { return std::log(alpha(t)) - std::log(sigma(t)); }
    double t_of_lambda(double l) const {  // invert λ: κΘ = ½ ln(1 + e^{−2λ}/σ_∞²), then Θ(t) = κΘ/scale
        const double u = 0.5 * std::log1p(std::exp(-2 * l) / (sigma_inf * sigma_inf));
        return std::log1p(k * u / scale) / k;
    }
    double drift_rate(double t) const { return scale * theta(t); }
    double diffusion_sq(double t) const { return 2 * sigma_inf * sigma_inf * drift_rate(t); }
    double t_min() const { return 0.5; }
    double t_max() const { return T; }
    double stationary_std() const { return sigma_inf; }
};
static_assert(mrsolve::StationaryFamily<exponential_irsde>);

// A new state type: an image buffer the library has never seen.
struct image {
    std::size_t size = 0;
    std::unique_ptr<float[]> pixels;
    image() = default;  // the sampler default-constructs its workspace, then sizes it with make_like
    explicit image(std::size_t n) : size(n), pixels(new float[n]()) {}
};

// Its backend: the handful of element-wise primitives the solvers need (see backend/traits.hpp).
template <>
struct mrsolve::backend_traits<image> {
    using value_type = float;
    static std::size_t size(const image& s) { return s.size; }
    static image make_like(const image& s) { return image(s.size); }
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<image*, NOut>& out, const std::array<std::array<float, NIn>, NOut>& coef,
                           const std::array<const image*, NIn>& in) {
        std::array<float*, NOut> o{};
        std::array<const float*, NIn> i{};
        for (std::size_t k = 0; k < NOut; ++k) o[k] = out[k]->pixels.get();
        for (std::size_t k = 0; k < NIn; ++k) i[k] = in[k]->pixels.get();
        return mrsolve::detail::linear_map_host<NOut, NIn>(in[0]->size, o, coef, i);  // one fused pass
    }
    static bool all_finite(const image& s) {
        for (std::size_t e = 0; e < s.size; ++e)
            if (!std::isfinite(s.pixels[e])) return false;
        return true;
    }
    static void fill_normal(image& s, const mrsolve::philox_normal& generator, std::uint64_t step) {
        generator.fill(std::span<float>(s.pixels.get(), s.size), step);
    }
};
static_assert(mrsolve::State<image>);

int main() {
    const exponential_irsde sde;
    image mu(1024), x(1024);
    for (std::size_t e = 0; e < mu.size; ++e) mu.pixels[e] = 0.5f;
    mrsolve::stationary_start(sde, mu, x, 11);
    auto network = [&sde](const image& x, const image& mu, double t, image& out) {  // ε̂ of data x₀ = 0.3
        const float a = float(sde.alpha(t)), s = float(sde.sigma(t));
        for (std::size_t e = 0; e < x.size; ++e) out.pixels[e] = (x.pixels[e] - mu.pixels[e] - a * (0.3f - mu.pixels[e])) / s;
    };
    const auto grid = mrsolve::make_grid(sde, mrsolve::schedule_kind::linear_lambda, 10);
    const auto stats = mrsolve::sample(mrsolve::mr_sde<mrsolve::data_prediction>{.order = 2}, sde, grid, network, x, mu);
    std::printf("NFE %d, x[0] = %.4f (data value 0.3)\n", stats.nfe, x.pixels[0]);
    return std::abs(x.pixels[0] - 0.3f) < 0.05f ? 0 : 1;
}
