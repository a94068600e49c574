// libFuzzer target: the golden-file parser on arbitrary text, then a replay of what it accepts.
//
// Contract: parse_golden(text) either returns a record whose vectors have the sizes it promises (n values
// for mu, data_mean, data_std, x_T, output, every state and noise line; nfe + 1 timesteps; state indices
// in 1 … nfe) or throws mrsolve::invalid_argument; it never crashes or hangs. Inputs are capped at 64 KiB
// (scripts/fuzz.sh also passes -max_len). A small accepted record (n ≤ 64, nfe ≤ 200, T ≤ 2000) is then
// replayed with replay_golden, which must return or throw mrsolve::invalid_argument or
// mrsolve::non_finite_error (a configuration that blows up is reported with its step).
#include "fuzz_common.hpp"

#include <sstream>
#include <string>

#include <mrsolve/golden/golden_file.hpp>
#include <mrsolve/golden/replay.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size > 65536) return 0;
    const std::string text(reinterpret_cast<const char*>(data), size);
    mrsolve::golden_record r;
    const bool parsed = fuzz::accepted("parse_golden", [&] {
        std::istringstream in(text);
        r = mrsolve::parse_golden(in);
    });
    if (!parsed) return 0;
    FUZZ_CHECK(r.n > 0 && r.nfe > 0, "n %zu, nfe %d", r.n, r.nfe);
    for (const auto* v : {&r.mu, &r.data_mean, &r.data_std, &r.x_T, &r.output})
        FUZZ_CHECK(v->size() == r.n, "a vector has %zu values, n = %zu", v->size(), r.n);
    FUZZ_CHECK(r.timesteps.size() == static_cast<std::size_t>(r.nfe) + 1, "%zu timesteps, nfe %d", r.timesteps.size(), r.nfe);
    for (const auto& [k, v] : r.states) FUZZ_CHECK(k >= 1 && k <= r.nfe && v.size() == r.n, "state %d", k);
    for (const auto& [k, v] : r.noise) FUZZ_CHECK(k >= 1 && v.size() == r.n, "noise %d", k);

    if (r.n > 64 || r.nfe > 200 || r.table_steps > 2000) return 0;
    FUZZ_LOG("replay: %s %s order %d fit %s schedule %s nfe %d T %d max_sigma %g eps %g\n", r.solver.c_str(),
             r.parameterization.c_str(), r.order, r.fit_target.c_str(), r.time_schedule.c_str(), r.nfe, r.table_steps,
             r.max_sigma, r.eps);
    try {
        const auto result = mrsolve::replay_golden(r);
        FUZZ_CHECK(result.nfe >= r.nfe, "replay used NFE %d for nfe %d", result.nfe, r.nfe);
    } catch (const mrsolve::invalid_argument&) {
    } catch (const mrsolve::non_finite_error& e) {
        FUZZ_CHECK(e.step() >= 1 && e.step() <= r.nfe, "non_finite_error at step %d of %d", e.step(), r.nfe);
    } catch (const std::exception& e) {
        FUZZ_FAIL("replay_golden threw %s: %s", typeid(e).name(), e.what());
    }
    return 0;
}
