// mrsolve_tune: tunes a grid to a TorchScript restoration network (mrsolve::tune_grid) on a folder of
// degraded images and writes it as a grid file (mrsolve::save_grid), for mrsolve_restore --grid FILE.
//
// Each image (the centre crop of --crop pixels, so that every pair has one size) is one calibration
// condition μ; its start is x_T = μ + σ_∞ z (stationary_start, seed --seed + image index). The family is
// read from the module's attributes (schedule, T, max_sigma, eps) as in mrsolve_restore. States are double
// on the host and the network runs in float32, so the references (reference_solve, docs/theory.md §9)
// converge only to the network's float precision, and a network trained at integer t converges slowly
// between them: --reference-tolerance defaults to 1e-3 (max-norm), from 32 to at most 4096 steps. The
// references dominate the cost (a 32 x 32 crop: about 75 calls/s on 2 loaded cores). A progress line on
// stderr counts the model calls.
//
// --degrade noise|lowlight degrades clean images first, as mrsolve_restore does (for a demonstration on
// the shipped crops); the default, none, takes the images as the degraded inputs they are.
#include <mrsolve/adapters/libtorch.hpp>
#include <mrsolve/mrsolve.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "png.hpp"

namespace {

using table_t = mrsolve::irsde_table<double>;
using vec = std::vector<double>;

struct settings {
    std::string model = MRSOLVE_RESTORE_DEFAULT_MODEL;
    std::string images = MRSOLVE_RESTORE_DEFAULT_IMAGES;
    std::string out;
    std::string degrade = "none";
    int nfe = 10;
    int crop = 64;
    long long budget = 0;  // 0: 100 evaluations of the objective
    std::uint64_t seed = 2024;
    bool integer_times = false;
    double reference_tolerance = 1e-3;
    int reference_first_steps = 32;
    int reference_max_steps = 4096;
    bool reference_check = true;
    int max_images = 0;  // 0: all
    int threads = 0;     // 0: LibTorch's default
};

void usage() {
    std::puts(
        "usage: mrsolve_tune --out GRID.txt [--model FILE.pt] [--images DIR] [--nfe N] [--crop PIXELS]\n"
        "                    [--budget CALLS] [--seed S] [--integer-times] [--reference-tolerance TOL]\n"
        "                    [--reference-first-steps N] [--reference-max-steps N] [--no-reference-check]\n"
        "                    [--max-images K] [--threads N] [--degrade none|noise|lowlight]\n"
        "Tunes the grid of recommended(N)'s solver to the network on the images and writes it to GRID.txt.");
}

// The network on double host vectors of one image [3, crop, crop]: float32 tensors in and out.
struct vector_network {
    mrsolve::torchscript_model* model;
    std::int64_t side;
    long long* calls;
    std::chrono::steady_clock::time_point start;
    void operator()(const vec& x, const vec& mu, double t, vec& out) {
        const auto to_tensor = [&](const vec& v) {
            return at::from_blob(const_cast<double*>(v.data()), {1, 3, side, side}, at::kDouble).to(at::kFloat);
        };
        at::Tensor result = at::empty({1, 3, side, side}, at::kFloat);
        (*model)(to_tensor(x), to_tensor(mu), t, result);
        const at::Tensor d = result.to(at::kDouble).contiguous();
        std::copy(d.data_ptr<double>(), d.data_ptr<double>() + d.numel(), out.begin());
        if (++*calls % 500 == 0) {
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::fprintf(stderr, "\rmrsolve_tune: %lld model calls, %.0f s ", *calls, seconds);
            std::fflush(stderr);
        }
    }
};

int run(const settings& cfg) {
    if (cfg.threads > 0) at::set_num_threads(cfg.threads);
    mrsolve::torchscript_model model = mrsolve::torchscript_model::load(cfg.model);
    torch::jit::script::Module& module = model.module();
    const table_t family({mrsolve::parse_theta_schedule(module.attr("schedule").toStringRef()),
                          static_cast<int>(module.attr("T").toInt()), module.attr("max_sigma").toDouble(),
                          module.attr("eps").toDouble()});
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(cfg.images))
        if (e.path().extension() == ".png") files.push_back(e.path());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw mrsolve::invalid_argument("mrsolve_tune: no .png images in " + cfg.images);
    if (cfg.max_images > 0 && files.size() > static_cast<std::size_t>(cfg.max_images))
        files.resize(static_cast<std::size_t>(cfg.max_images));

    std::vector<vec> mus, starts;
    const auto side = static_cast<std::size_t>(cfg.crop);
    for (std::size_t k = 0; k < files.size(); ++k) {
        const restore::rgb_image img = restore::read_png(files[k].string());
        if (img.width < cfg.crop || img.height < cfg.crop)
            throw mrsolve::invalid_argument("mrsolve_tune: " + files[k].string() + " is smaller than --crop " +
                                            std::to_string(cfg.crop));
        const int top = (img.height - cfg.crop) / 2, left = (img.width - cfg.crop) / 2;
        vec mu(3 * side * side);
        for (std::size_t c = 0; c < 3; ++c)
            for (std::size_t y = 0; y < side; ++y)
                for (std::size_t x = 0; x < side; ++x)
                    mu[(c * side + y) * side + x] =
                        img.pixels[((y + top) * static_cast<std::size_t>(img.width) + x + left) * 3 + c] / 255.0;
        if (cfg.degrade != "none") {
            vec z(mu.size());
            mrsolve::philox_normal(cfg.seed + 1000 + k).fill(std::span<double>(z), 0);
            for (std::size_t j = 0; j < mu.size(); ++j)
                mu[j] = cfg.degrade == "noise" ? mu[j] + z[j] * (25.0 / 255.0) : 0.3 * std::pow(mu[j], 1.5) + z[j] * (3.0 / 255.0);
        }
        vec x(mu.size());
        mrsolve::stationary_start(family, mu, x, cfg.seed + k);
        mus.push_back(std::move(mu));
        starts.push_back(std::move(x));
    }

    long long calls = 0;
    vector_network network{&model, cfg.crop, &calls, std::chrono::steady_clock::now()};
    const mrsolve::recommendation r = mrsolve::recommended(cfg.nfe);
    mrsolve::tune_grid_options o;
    o.budget = cfg.budget > 0 ? cfg.budget : 100LL * cfg.nfe * static_cast<long long>(mus.size());
    o.seed = cfg.seed;
    o.start = r.schedule;
    o.integer_times = cfg.integer_times;
    o.reference_tolerance = cfg.reference_tolerance;
    o.reference_first_steps = cfg.reference_first_steps;
    o.reference_max_steps = cfg.reference_max_steps;
    o.check_reference = cfg.reference_check;
    std::fprintf(stderr, "mrsolve_tune: %zu images of %d x %d, NFE %d, %s, budget %lld calls; references first\n",
                 mus.size(), cfg.crop, cfg.crop, cfg.nfe, r.name().c_str(), o.budget);
    const auto calibration = mrsolve::make_calibration(family, network, std::move(mus), std::move(starts),
                                                       mrsolve::fit_target::noise, o);
    mrsolve::tune_grid_result<double> result;
    const auto tune = [&](const auto& method) { result = mrsolve::tune_grid(method, family, network, calibration, cfg.nfe, {}, o); };
    switch (r.solver) {
        case mrsolve::recommended_solver::unipc_noise_1_bh1: tune(mrsolve::mr_unipc<mrsolve::noise_prediction>{1, mrsolve::unipc_variant::bh1, {}}); break;
        case mrsolve::recommended_solver::ode_noise_3: tune(mrsolve::mr_ode<mrsolve::noise_prediction>{3}); break;
        case mrsolve::recommended_solver::unipc_data_3_bh2: tune(mrsolve::mr_unipc<mrsolve::data_prediction>{3, mrsolve::unipc_variant::bh2, {}}); break;
    }
    std::fprintf(stderr, "\n");
    const std::string solver = r.name().substr(0, r.name().find(' '));  // the name without the start schedule
    mrsolve::save_grid(cfg.out, family, std::span<const double>(result.times), solver);
    std::printf("nfe=%d solver=\"%s\" start_error=%.3e final_error=%.3e calls=%lld/%lld evaluations=%d iterations=%d "
                "reference_calls=%lld reference_check=%.1e grid_file=%s\n",
                cfg.nfe, r.name().c_str(), result.start_error, result.final_error, result.calls, o.budget,
                result.evaluations, result.iterations, result.reference_calls, result.reference_check, cfg.out.c_str());
    std::printf("times=");
    for (std::size_t i = 0; i < result.times.size(); ++i) std::printf("%s%.6g", i ? "," : "", result.times[i]);
    std::printf("\n");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    settings cfg;
    try {
        for (int i = 1; i < argc; ++i) {
            const std::string a = argv[i];
            const auto value = [&]() -> std::string {
                if (i + 1 >= argc) throw mrsolve::invalid_argument("mrsolve_tune: " + a + " needs a value");
                return argv[++i];
            };
            const auto integer = [&](const std::string& v) {
                std::size_t used = 0;
                const long long n = std::stoll(v, &used);
                if (used != v.size()) throw mrsolve::invalid_argument("mrsolve_tune: " + a + " '" + v + "' is not an integer");
                return n;
            };
            if (a == "--help" || a == "-h") return usage(), 0;
            else if (a == "--model") cfg.model = value();
            else if (a == "--images") cfg.images = value();
            else if (a == "--out") cfg.out = value();
            else if (a == "--degrade") cfg.degrade = value();
            else if (a == "--nfe") cfg.nfe = static_cast<int>(integer(value()));
            else if (a == "--crop") cfg.crop = static_cast<int>(integer(value()));
            else if (a == "--budget") cfg.budget = integer(value());
            else if (a == "--seed") cfg.seed = static_cast<std::uint64_t>(integer(value()));
            else if (a == "--integer-times") cfg.integer_times = true;
            else if (a == "--reference-tolerance") cfg.reference_tolerance = std::stod(value());
            else if (a == "--reference-first-steps") cfg.reference_first_steps = static_cast<int>(integer(value()));
            else if (a == "--reference-max-steps") cfg.reference_max_steps = static_cast<int>(integer(value()));
            else if (a == "--no-reference-check") cfg.reference_check = false;
            else if (a == "--threads") cfg.threads = static_cast<int>(integer(value()));
            else if (a == "--max-images") cfg.max_images = static_cast<int>(integer(value()));
            else throw mrsolve::invalid_argument("mrsolve_tune: unknown option '" + a + "'");
        }
        if (cfg.out.empty()) throw mrsolve::invalid_argument("mrsolve_tune: --out GRID.txt is required");
        if (cfg.crop < 1) throw mrsolve::invalid_argument("mrsolve_tune: --crop must be >= 1, got " + std::to_string(cfg.crop));
        if (cfg.degrade != "none" && cfg.degrade != "noise" && cfg.degrade != "lowlight")
            throw mrsolve::invalid_argument("mrsolve_tune: --degrade must be none, noise or lowlight, got '" + cfg.degrade + "'");
        return run(cfg);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        usage();
        return 2;
    }
}
