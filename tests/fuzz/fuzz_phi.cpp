// libFuzzer target: the φ-functions mrsolve::detail::phi(k, z) and the step coefficients built on them.
//
// Contract: phi(k, z) for k = 0 … 3 and any double z returns (never hangs: its series is capped); for
// |z| ≤ 50 it matches a long-double reference to 1e-12 relative; for finite z ≤ 700 it is finite. The
// update coefficients of mr_ode (orders 1–3, both parameterizations) and mr_sde (orders 1–2) are finite
// for any step with 0 < h ≤ 50, α ∈ (0, 1], σ ∈ (0, 1e3] and step ratios r₀, r₁ ∈ [1e-3, 1e3].
#include "fuzz_common.hpp"

#include "../support/phi_reference.hpp"

#include <mrsolve/detail/phi.hpp>
#include <mrsolve/mrsolve.hpp>

namespace {

using ld = long double;

using mrsolve_test::reference_phi;

template <class Method>
void check_coefficients(const Method& method, mrsolve::step_geometry<double> g) {
    g.order = std::min(g.order, method.order);
    const auto c = method.coefficients(0, g);
    bool finite = std::isfinite(c.x) && std::isfinite(c.mu) && std::isfinite(c.z);
    for (const double q : c.q) finite = finite && std::isfinite(q);
    FUZZ_CHECK(finite, "%s order %d: non-finite coefficient at h %.17g (alpha %g/%g, sigma %g/%g, r0 %g, r1 %g)",
               method.name().c_str(), g.order, g.h, g.alpha_s, g.alpha_t, g.sigma_s, g.sigma_t, g.r0, g.r1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const int k = in.ConsumeIntegralInRange<int>(0, 3);
    const double z = fuzz::any_double(in, -60.0, 60.0);
    FUZZ_LOG("phi(%d, %.17g)\n", k, z);
    const double value = mrsolve::detail::phi(k, z);
    if (std::isfinite(z) && z <= 700) FUZZ_CHECK(std::isfinite(value), "phi(%d, %.17g) = %.17g", k, z, value);
    if (std::abs(z) <= 50) {
        const ld reference = reference_phi(k, z);
        FUZZ_CHECK(std::abs(value - reference) <= 1e-12L * std::abs(reference),
                   "phi(%d, %.17g) = %.17g, reference %.20Lg, relative error %Lg", k, z, value, reference,
                   std::abs(value - reference) / std::abs(reference));
    }

    // One step of each MR solver with fuzzed geometry.
    mrsolve::step_geometry<double> g{};
    g.step = 3;
    g.steps = 10;
    g.order = in.ConsumeIntegralInRange<int>(1, 3);
    g.h = in.ConsumeFloatingPointInRange<double>(0.0, 50.0);
    if (!(g.h > 0)) return 0;
    g.alpha_s = in.ConsumeFloatingPointInRange<double>(1e-6, 1.0);
    g.alpha_t = in.ConsumeFloatingPointInRange<double>(g.alpha_s, 1.0);
    g.sigma_s = in.ConsumeFloatingPointInRange<double>(1e-6, 1e3);
    g.sigma_t = in.ConsumeFloatingPointInRange<double>(1e-9, g.sigma_s);
    g.r0 = std::pow(10.0, in.ConsumeFloatingPointInRange<double>(-3.0, 3.0));
    g.r1 = std::pow(10.0, in.ConsumeFloatingPointInRange<double>(-3.0, 3.0));
    g.lambda_s = 0;
    g.lambda_t = g.h;
    for (const int order : {1, 2, 3}) {
        check_coefficients(mrsolve::mr_ode<mrsolve::data_prediction>{order}, g);
        check_coefficients(mrsolve::mr_ode<mrsolve::noise_prediction>{order}, g);
        check_coefficients(mrsolve::mr_ode<mrsolve::data_prediction>{order, mrsolve::order3_rule::published}, g);
    }
    for (const int order : {1, 2}) {
        check_coefficients(mrsolve::mr_sde<mrsolve::data_prediction>{order}, g);
        check_coefficients(mrsolve::mr_sde<mrsolve::noise_prediction>{order}, g);
    }
    return 0;
}
