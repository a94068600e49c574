// libFuzzer target: schedule construction and grid validation with arbitrary numbers.
//
// A coefficient family (the discrete IR-SDE tables or the continuous IR-SDE, any θ shape) is built from
// arbitrary (T, max_sigma, eps, t_min); then make_grid for arbitrary (kind, NFE, λ_min, ρ, offset), and
// validate_grid on arbitrary user grids. Contract:
//   - every call either returns or throws mrsolve::invalid_argument;
//   - a grid make_grid returns has NFE + 1 finite, strictly decreasing times inside
//     [t_min − tol, t_max + tol] (tol = 1e-9 (t_max − t_min)) and passes validate_grid;
//   - validate_grid accepts a user grid exactly when it has these properties.
// T is limited to 4000 and NFE to 20000 so that one input stays fast and small (a table costs O(T)
// memory, a grid O(NFE)); beyond memory an NFE gives std::bad_alloc, which is not what is tested here.
#include "fuzz_common.hpp"

#include <span>
#include <vector>

#include <mrsolve/mrsolve.hpp>

namespace {

template <class Family>
bool valid_grid(const Family& family, std::span<const double> grid) {
    const double lo = family.t_min(), hi = family.t_max(), tol = 1e-9 * (hi - lo);
    if (grid.size() < 2) return false;
    for (std::size_t i = 0; i < grid.size(); ++i) {
        if (!std::isfinite(grid[i])) return false;
        if (grid[i] < lo - tol || grid[i] > hi + tol) return false;
        if (i > 0 && !(grid[i] < grid[i - 1])) return false;
    }
    return true;
}

template <class Family>
void exercise(const Family& family, FuzzedDataProvider& in) {
    const double lo = family.t_min(), hi = family.t_max();
    FUZZ_CHECK(std::isfinite(lo) && std::isfinite(hi) && lo < hi, "family range [%g, %g]", lo, hi);
    for (int round = 0; round < 4 && in.remaining_bytes() > 0; ++round) {
        if (in.ConsumeBool()) {
            const auto kind = static_cast<mrsolve::schedule_kind>(in.ConsumeIntegralInRange<int>(0, 6));
            const int nfe = in.ConsumeIntegralInRange<int>(-5, 20000);
            mrsolve::schedule_options options;
            if (in.ConsumeBool()) options.lambda_min = fuzz::any_double(in, -10.0, 12.0);
            if (in.ConsumeBool()) options.rho = fuzz::any_double(in, 0.1, 20.0);
            if (in.ConsumeBool()) options.offset = fuzz::any_double(in, -3.0, 3.0);
            FUZZ_LOG("make_grid(kind %s, NFE %d, lambda_min %.17g, rho %.17g, offset %.17g)\n",
                     std::string(mrsolve::to_string(kind)).c_str(), nfe, options.lambda_min, options.rho, options.offset);
            std::vector<double> grid;
            if (fuzz::accepted("make_grid", [&] { grid = mrsolve::make_grid(family, kind, nfe, options); })) {
                FUZZ_CHECK(nfe >= 1, "make_grid accepted NFE %d", nfe);
                FUZZ_CHECK(grid.size() == static_cast<std::size_t>(nfe) + 1, "make_grid(%s, %d) returned %zu times",
                           std::string(mrsolve::to_string(kind)).c_str(), nfe, grid.size());
                FUZZ_CHECK(valid_grid(family, grid), "make_grid(%s, NFE %d, lambda_min %g, rho %g, offset %g) "
                           "returned an invalid grid", std::string(mrsolve::to_string(kind)).c_str(), nfe,
                           options.lambda_min, options.rho, options.offset);
                FUZZ_CHECK(fuzz::accepted("validate_grid", [&] { mrsolve::validate_grid<Family>(family, grid); }),
                           "validate_grid rejects a grid make_grid returned");
            }
        } else {
            // A user grid: times near the family's range (often valid) or arbitrary doubles.
            const std::size_t n = in.ConsumeIntegralInRange<std::size_t>(0, 40);
            std::vector<double> grid(n);
            for (auto& t : grid) t = fuzz::any_double(in, lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo));
            if (in.ConsumeBool()) std::sort(grid.begin(), grid.end(), [](double a, double b) { return a > b; });
            FUZZ_LOG("validate_grid(%zu times)\n", grid.size());
            const bool ok = fuzz::accepted("validate_grid", [&] { mrsolve::validate_grid<Family>(family, grid); });
            FUZZ_CHECK(ok == valid_grid(family, grid), "validate_grid %s a grid of %zu times that is %s",
                       ok ? "accepts" : "rejects", grid.size(), ok ? "invalid" : "valid");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const bool continuous = in.ConsumeBool();
    mrsolve::irsde_parameters p;
    p.schedule = static_cast<mrsolve::theta_schedule>(in.ConsumeIntegralInRange<int>(0, 2));
    p.steps = in.ConsumeIntegralInRange<int>(-3, 4000);
    p.max_sigma = fuzz::any_double(in, 0.01, 255.0);
    p.eps = fuzz::any_double(in, 1e-6, 0.5);
    FUZZ_LOG("%s: theta %d, T %d, max_sigma %.17g, eps %.17g\n", continuous ? "ir_sde" : "irsde_table",
             static_cast<int>(p.schedule), p.steps, p.max_sigma, p.eps);
    if (continuous) {
        const double t_min = in.ConsumeBool() ? -1.0 : fuzz::any_double(in, 0.0, double(p.steps));
        FUZZ_LOG("  t_min %.17g\n", t_min);
        std::optional<mrsolve::ir_sde<double>> family;
        if (!fuzz::accepted("ir_sde", [&] { family.emplace(p, t_min); })) return 0;
        exercise(*family, in);
    } else {
        std::optional<mrsolve::irsde_table<double>> family;
        if (!fuzz::accepted("irsde_table", [&] { family.emplace(p); })) return 0;
        exercise(*family, in);
    }
    return 0;
}
