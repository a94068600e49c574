// libFuzzer target: the coefficient-family constructors with arbitrary parameters.
//
// Contract: irsde_table(parameters) and ir_sde(parameters, t_min) either throw mrsolve::invalid_argument
// or build a family that can be sampled: on its range [t_min, t_max] (at every table node, and at
// arbitrary times for the continuous family) α ∈ (0, 1], σ > 0, σ/α, λ, f and g² finite, λ strictly
// decreasing between the nodes checked, and t(λ) finite. T is limited to 5000 (a table costs O(T)).
#include "fuzz_common.hpp"

#include <vector>

#include <mrsolve/mrsolve.hpp>

namespace {

template <class Family>
void check_point(const Family& f, double t, const char* where) {
    const double a = f.alpha(t), s = f.sigma(t), l = f.lambda(t);
    FUZZ_CHECK(a > 0 && a <= 1, "%s: alpha(%.17g) = %.17g", where, t, a);
    FUZZ_CHECK(s > 0 && std::isfinite(s), "%s: sigma(%.17g) = %.17g", where, t, s);
    FUZZ_CHECK(std::isfinite(s / a), "%s: sigma/alpha(%.17g) = %.17g", where, t, s / a);
    FUZZ_CHECK(std::isfinite(l), "%s: lambda(%.17g) = %.17g", where, t, l);
    FUZZ_CHECK(std::isfinite(f.drift_rate(t)) && std::isfinite(f.diffusion_sq(t)), "%s: f or g^2 at %.17g", where, t);
    FUZZ_CHECK(std::isfinite(f.t_of_lambda(l)), "%s: t_of_lambda(%.17g)", where, l);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const bool continuous = in.ConsumeBool();
    mrsolve::irsde_parameters p;
    p.schedule = static_cast<mrsolve::theta_schedule>(in.ConsumeIntegralInRange<int>(0, 2));
    p.steps = in.ConsumeIntegralInRange<int>(-3, 5000);
    p.max_sigma = fuzz::any_double(in, 0.001, 1000.0);
    p.eps = fuzz::any_double(in, 1e-12, 1.0);
    FUZZ_LOG("%s: theta %d, T %d, max_sigma %.17g, eps %.17g\n", continuous ? "ir_sde" : "irsde_table",
             static_cast<int>(p.schedule), p.steps, p.max_sigma, p.eps);
    if (continuous) {
        const double t_min = in.ConsumeBool() ? -1.0 : fuzz::any_double(in, 0.0, double(p.steps));
        FUZZ_LOG("  t_min %.17g\n", t_min);
        std::optional<mrsolve::ir_sde<double>> family;
        if (!fuzz::accepted("ir_sde", [&] { family.emplace(p, t_min); })) return 0;
        const double lo = family->t_min(), hi = family->t_max();
        std::vector<double> ts{lo, hi};
        while (in.remaining_bytes() > 0 && ts.size() < 16) ts.push_back(in.ConsumeFloatingPointInRange(lo, hi));
        std::sort(ts.begin(), ts.end());
        for (const double t : ts) check_point(*family, t, "ir_sde");
        FUZZ_CHECK(family->lambda(lo) > family->lambda(hi), "ir_sde: lambda(t_min) %.17g <= lambda(T) %.17g",
                   family->lambda(lo), family->lambda(hi));
    } else {
        std::optional<mrsolve::irsde_table<double>> family;
        if (!fuzz::accepted("irsde_table", [&] { family.emplace(p); })) return 0;
        const auto lambda = family->lambda_table();
        for (int j = 0; j <= p.steps; ++j) {
            check_point(*family, double(j), "irsde_table");
            if (j > 0)
                FUZZ_CHECK(lambda[std::size_t(j)] < lambda[std::size_t(j) - 1], "irsde_table: lambda_%d = %.17g >= lambda_%d = %.17g",
                           j, lambda[std::size_t(j)], j - 1, lambda[std::size_t(j) - 1]);
        }
    }
    return 0;
}
