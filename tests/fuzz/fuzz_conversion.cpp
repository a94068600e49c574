// libFuzzer target: the fit-target conversions conversion(from, to, α, σ, σ_∞) at extreme values.
//
// Contract, for float and double:
//   - any (α, σ, σ_∞), including 0, denormals, huge values, ±inf and NaN, either throws
//     mrsolve::invalid_argument (only when velocity is involved and σ_∞ is not finite and > 0) or
//     returns coefficients;
//   - from == to gives the identity (0, 0, 1);
//   - in range — α ∈ [1e-30, 1], σ ∈ [1e-30, 1e30], σ_∞ ∈ [1e-30, 1e30] for noise ↔ data, and on the
//     IR-SDE manifold σ = σ_∞ √(1 − α²) with α ∈ [1e-30, 1 − 1e-6] whenever velocity is involved (the
//     velocity relations hold only there) — the coefficients are finite and a round trip from → to → from
//     is the identity map to a relative 1e-12 (double) or 1e-4 (float) of the terms that cancel (for
//     the μ weight, which is itself a difference such as 1 − 1/α, of the x weights' scale).
// (For float the range is [1e-12, …] and [… , 1e12]: squares must stay inside float's range.)
#include "fuzz_common.hpp"

#include <mrsolve/prediction/conversion.hpp>

namespace {

using mrsolve::fit_target;

template <class Real>
void check(FuzzedDataProvider& in) {
    const auto from = static_cast<fit_target>(in.ConsumeIntegralInRange<int>(0, 2));
    const auto to = static_cast<fit_target>(in.ConsumeIntegralInRange<int>(0, 2));
    const bool velocity = from == fit_target::velocity || to == fit_target::velocity;
    const bool arbitrary = in.ConsumeBool();
    const long double bound = sizeof(Real) == 4 ? 1e-12L : 1e-30L;
    Real alpha, sigma, lambda_s;
    bool in_range;
    if (arbitrary) {
        alpha = static_cast<Real>(fuzz::any_double(in, 0.0, 1.0));
        sigma = static_cast<Real>(fuzz::any_double(in, 0.0, 2.0));
        lambda_s = static_cast<Real>(fuzz::any_double(in, 0.0, 2.0));
        in_range = !velocity && alpha >= bound && alpha <= 1 && sigma >= bound && sigma <= 1 / bound &&
                   lambda_s >= bound && lambda_s <= 1 / bound;
    } else {
        // On the IR-SDE manifold, log-uniform in α and σ_∞.
        const long double a = std::pow(10.0L, in.ConsumeFloatingPointInRange<long double>(std::log10(bound), 0.0L));
        const long double ls = std::pow(10.0L, in.ConsumeFloatingPointInRange<long double>(std::log10(bound), -std::log10(bound)));
        alpha = static_cast<Real>(std::min(a, 1.0L - 1e-6L));
        lambda_s = static_cast<Real>(ls);
        sigma = static_cast<Real>(ls * std::sqrt(1.0L - static_cast<long double>(alpha) * alpha));
        in_range = alpha >= bound && sigma >= bound && sigma <= 1 / bound && lambda_s >= bound && lambda_s <= 1 / bound;
    }
    FUZZ_LOG("%s from %d to %d alpha %.17g sigma %.17g lambda_s %.17g\n", sizeof(Real) == 4 ? "float" : "double",
             static_cast<int>(from), static_cast<int>(to), double(alpha), double(sigma), double(lambda_s));

    mrsolve::affine_map<Real> m{};
    if (!fuzz::accepted("conversion", [&] { m = mrsolve::conversion<Real>(from, to, alpha, sigma, lambda_s); })) {
        FUZZ_CHECK(velocity && !(lambda_s > 0 && std::isfinite(lambda_s)),
                   "conversion threw for from %d, to %d, lambda_s %g", int(from), int(to), double(lambda_s));
        return;
    }
    if (from == to) {
        FUZZ_CHECK(m.x_coef == 0 && m.mu_coef == 0 && m.out_coef == 1, "identity map expected");
        return;
    }
    if (!in_range) return;
    FUZZ_CHECK(std::isfinite(m.x_coef) && std::isfinite(m.mu_coef) && std::isfinite(m.out_coef),
               "non-finite coefficients (%g, %g, %g) for alpha %g sigma %g lambda_s %g", double(m.x_coef),
               double(m.mu_coef), double(m.out_coef), double(alpha), double(sigma), double(lambda_s));
    const auto back = mrsolve::conversion<Real>(to, from, alpha, sigma, lambda_s);
    // back ∘ m: q = a x + b μ + c out; out' = a' x + b' μ + c' q. Must be out' = out.
    using L = long double;
    const L a = m.x_coef, b = m.mu_coef, c = m.out_coef, a2 = back.x_coef, b2 = back.mu_coef, c2 = back.out_coef;
    const L tol = sizeof(Real) == 4 ? 1e-4L : 1e-12L;
    const L x_sum = a2 + c2 * a, mu_sum = b2 + c2 * b, out_prod = c2 * c;
    FUZZ_CHECK(std::abs(x_sum) <= tol * (std::abs(a2) + std::abs(c2 * a)), "round trip x weight %Lg (terms %Lg, %Lg)",
               x_sum, a2, c2 * a);
    // The μ weights are themselves differences such as 1 − 1/α, rounded on the scale of the x weights.
    const L mu_scale = std::abs(a2) + std::abs(b2) + std::abs(c2) * (std::abs(a) + std::abs(b));
    FUZZ_CHECK(std::abs(mu_sum) <= tol * mu_scale, "round trip mu weight %Lg (terms %Lg, %Lg)", mu_sum, b2, c2 * b);
    FUZZ_CHECK(std::abs(out_prod - 1) <= tol, "round trip output weight %Lg", out_prod);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    while (in.remaining_bytes() > 0) {
        if (in.ConsumeBool()) check<double>(in);
        else check<float>(in);
    }
    return 0;
}
