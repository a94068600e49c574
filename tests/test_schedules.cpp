// Step schedules (docs/theory.md §8) against independent computations: on the discrete cosine tables (T = 100,
// max_sigma = 50, eps = 0.005, recomputed in long double) and on continuous IR-SDE families; the
// recorded float32 grids of the published sampler; λ_min clipping; names; grid validation.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <mrsolve/schedule/schedule.hpp>
#include <mrsolve/sde/ir_sde.hpp>
#include <mrsolve/sde/irsde_table.hpp>

#include "support/toy_models.hpp"
#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_schedules {

namespace {

using mrsolve::schedule_kind;
using mrsolve::schedule_options;
using mrsolve_test::ld;
using grid_t = std::vector<double>;

const mrsolve::irsde_parameters& cosine_defaults = mrsolve_test::cosine_parameters;

const mrsolve::irsde_table<double>& table() {
    return mrsolve_test::cosine_table();
}
const mrsolve_test::reference_tables& ref() {
    return mrsolve_test::cosine_reference_tables();
}

/// The reference grid t_i = f(i), i = 0…M.
grid_t build(int M, const std::function<ld(int)>& f) {
    grid_t g;
    for (int i = 0; i <= M; ++i) g.push_back(static_cast<double>(f(i)));
    return g;
}

void check_grids(const grid_t& actual, const grid_t& expected, double tolerance) {
    REQUIRE(actual.size() == expected.size());
    for (std::size_t i = 0; i < actual.size(); ++i) {
        CAPTURE(i);
        CAPTURE(actual[i]);
        CAPTURE(expected[i]);
        CHECK(std::abs(actual[i] - expected[i]) <= tolerance);
    }
}

schedule_options with_rho(double rho) {
    schedule_options o;
    o.rho = rho;
    return o;
}
schedule_options with_offset(double offset) {
    schedule_options o;
    o.offset = offset;
    return o;
}
schedule_options with_lambda_min(double lambda_min) {
    schedule_options o;
    o.lambda_min = lambda_min;
    return o;
}

/// (a^{1/ρ} + (i/M)(b^{1/ρ} − a^{1/ρ}))^ρ
ld karras(ld a, ld b, ld rho, int i, int M) {
    const ld ra = std::pow(a, 1 / rho), rb = std::pow(b, 1 / rho);
    return std::pow(ra + ld(i) / ld(M) * (rb - ra), rho);
}

// ---- table references (t_max = T unless clipped; t_min = 0) ------------------------------------

grid_t table_linspace(int M, ld t_max) { return build(M, [&](int i) { return t_max - t_max * ld(i) / ld(M); }); }

grid_t table_linear_lambda(int M, ld lambda_min) {
    const auto& r = ref();
    const ld lo = std::max(r.lambda.back(), lambda_min), hi = r.lambda.front();
    return build(M, [&](int i) { return mrsolve_test::inverse_interpolate(r.lambda, lo + (hi - lo) * ld(i) / ld(M)); });
}

grid_t table_leading(int M, ld t_max, ld offset) {
    const ld k = std::floor(t_max / ld(M + 1));
    return build(M, [&](int i) { return ld(M - i) * k + offset; });
}

grid_t table_trailing(int M, ld t_max) { return build(M, [&](int i) { return t_max - ld(i) * ld(100) / ld(M + 1); }); }

grid_t table_karras_n(int M, ld t_max, ld rho) {
    const auto& r = ref();
    const ld vmax = mrsolve_test::interpolate_at(r.sigma, t_max) / mrsolve_test::interpolate_at(r.alpha, t_max);
    const ld vmin = r.varsigma.front();
    return build(M, [&](int i) { return mrsolve_test::inverse_interpolate(r.varsigma, karras(vmax, vmin, rho, i, M)); });
}

grid_t table_karras_t(int M, ld t_max, ld rho) { return build(M, [&](int i) { return karras(t_max, 1, rho, i, M); }); }

grid_t table_time_quadratic(int M, ld t_max) {
    return build(M, [&](int i) {
        const ld r = std::sqrt(t_max) * (1 - ld(i) / ld(M));
        return r * r;
    });
}

/// The `timesteps` line of a golden recording.
grid_t recorded_timesteps(const std::string& file) {
#ifdef MRSOLVE_TEST_DATA_DIR
    const std::filesystem::path dir = MRSOLVE_TEST_DATA_DIR;
#else
    const std::filesystem::path dir = std::filesystem::path(__FILE__).parent_path() / "data";
#endif
    std::ifstream in(dir / "golden" / file);
    REQUIRE(in.good());
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream words(line);
        std::string key;
        words >> key;
        if (key != "timesteps") continue;
        grid_t g;
        double v;
        while (words >> v) g.push_back(v);
        return g;
    }
    FAIL("no timesteps line in " << file);
    return {};
}

const std::vector<int> nfes{1, 2, 3, 5, 10, 20, 50};

}  // namespace

// ================================================================================================

TEST_CASE("table schedules match independent computations (cosine tables, T = 100)") {
    const auto& fam = table();
    for (const int M : nfes) {
        CAPTURE(M);
        SUBCASE("linspace") { check_grids(make_grid(fam, schedule_kind::linspace, M), table_linspace(M, 100), 1e-12); }
        SUBCASE("linear-lambda") {
            check_grids(make_grid(fam, schedule_kind::linear_lambda, M), table_linear_lambda(M, -INFINITY), 1e-9);
        }
        SUBCASE("leading") {
            check_grids(make_grid(fam, schedule_kind::leading, M), table_leading(M, 100, 0), 1e-12);
            check_grids(make_grid(fam, schedule_kind::leading, M, with_offset(1)), table_leading(M, 100, 1), 1e-12);
        }
        SUBCASE("trailing") { check_grids(make_grid(fam, schedule_kind::trailing, M), table_trailing(M, 100), 1e-12); }
        SUBCASE("karras-n") {
            for (const double rho : {7.0, 3.0, 1.0}) {
                CAPTURE(rho);
                check_grids(make_grid(fam, schedule_kind::karras_n, M, with_rho(rho)), table_karras_n(M, 100, rho), 1e-9);
            }
        }
        SUBCASE("karras-t") {
            for (const double rho : {7.0, 3.0, 1.0}) {
                CAPTURE(rho);
                check_grids(make_grid(fam, schedule_kind::karras_t, M, with_rho(rho)), table_karras_t(M, 100, rho), 1e-10);
            }
        }
        SUBCASE("time-quadratic") {
            check_grids(make_grid(fam, schedule_kind::time_quadratic, M), table_time_quadratic(M, 100), 1e-12);
        }
    }
}

TEST_CASE("leading with its offset: k = floor(t_max/(M+1)) table steps, shifted") {
    // M = 10: k = floor(100/11) = 9 → 90+o, 81+o, …, o.
    const grid_t g = make_grid(table(), schedule_kind::leading, 10, with_offset(1));
    grid_t expected;
    for (int i = 0; i <= 10; ++i) expected.push_back(9.0 * (10 - i) + 1);
    check_grids(g, expected, 0);
    // The default offset 0 ends at 0; a fractional offset is allowed.
    CHECK(make_grid(table(), schedule_kind::leading, 10).back() == 0.0);
    CHECK(make_grid(table(), schedule_kind::leading, 10, with_offset(0.5)).front() == 90.5);
}

TEST_CASE("karras-n and linear-lambda for NFE 10 reproduce the recorded float32 grids within 1e-3") {
    const grid_t karras_recorded = recorded_timesteps("ode_data_o2_karrasn_nfe10_fitdata.txt");
    const grid_t lambda_recorded = recorded_timesteps("ode_noise_o2_linlambda_nfe10.txt");
    REQUIRE(karras_recorded.size() == 11);
    REQUIRE(lambda_recorded.size() == 11);
    check_grids(make_grid(table(), schedule_kind::karras_n, 10), karras_recorded, 1e-3);
    check_grids(make_grid(table(), schedule_kind::linear_lambda, 10), lambda_recorded, 1e-3);
    // The independent references agree with the recordings too (they are what was recorded).
    check_grids(table_karras_n(10, 100, 7), karras_recorded, 1e-3);
    check_grids(table_linear_lambda(10, -INFINITY), lambda_recorded, 1e-3);
}

TEST_CASE("continuous family schedules match independent computations") {
    for (const auto shape : {mrsolve::theta_schedule::cosine, mrsolve::theta_schedule::linear}) {
        const mrsolve::ir_sde<double> fam({shape, 100, 50, 0.005});
        const ld t_min = fam.t_min(), t_max = fam.t_max();
        REQUIRE(t_min == doctest::Approx(0.1));
        const auto varsigma = [&](double t) { return ld(fam.sigma(t)) / ld(fam.alpha(t)); };
        for (const int M : nfes) {
            CAPTURE(M);
            check_grids(make_grid(fam, schedule_kind::linspace, M),
                        build(M, [&](int i) { return t_max + (t_min - t_max) * ld(i) / ld(M); }), 1e-12);
            check_grids(make_grid(fam, schedule_kind::time_quadratic, M), build(M, [&](int i) {
                            const ld r = std::sqrt(t_max) + ld(i) / ld(M) * (std::sqrt(t_min) - std::sqrt(t_max));
                            return r * r;
                        }),
                        1e-12);
            check_grids(make_grid(fam, schedule_kind::trailing, M),
                        build(M, [&](int i) { return t_max - ld(i) * (t_max - t_min) / ld(M + 1); }), 1e-12);
            check_grids(make_grid(fam, schedule_kind::leading, M, with_offset(0.25)),
                        build(M, [&](int i) { return t_min + ld(M - i) * (t_max - t_min) / ld(M + 1) + ld(0.25); }),
                        1e-12);
            for (const double rho : {7.0, 2.0}) {
                CAPTURE(rho);
                check_grids(make_grid(fam, schedule_kind::karras_t, M, with_rho(rho)),
                            build(M, [&](int i) { return karras(t_max, t_min, rho, i, M); }), 1e-10);
                // karras-n: σ/α at the grid follows the ρ-schedule between its values at T and t_min.
                const grid_t g = make_grid(fam, schedule_kind::karras_n, M, with_rho(rho));
                REQUIRE(g.size() == static_cast<std::size_t>(M) + 1);
                CHECK(g.front() == fam.t_max());
                CHECK(g.back() == fam.t_min());
                for (int i = 0; i <= M; ++i) {
                    CAPTURE(i);
                    const ld expected = karras(varsigma(fam.t_max()), varsigma(fam.t_min()), rho, i, M);
                    CHECK(std::abs(varsigma(g[static_cast<std::size_t>(i)]) / expected - 1) < 1e-10);
                }
            }
            // linear-lambda: λ at the grid is uniform from λ(T) to λ(t_min) (λ exact for this family).
            const grid_t g = make_grid(fam, schedule_kind::linear_lambda, M);
            const ld lo = fam.lambda(fam.t_max()), hi = fam.lambda(fam.t_min());
            CHECK(g.front() == fam.t_max());
            CHECK(g.back() == fam.t_min());
            for (int i = 0; i <= M; ++i) {
                CAPTURE(i);
                CHECK(std::abs(fam.lambda(g[static_cast<std::size_t>(i)]) - (lo + (hi - lo) * ld(i) / ld(M))) < 1e-11);
            }
        }
    }
}

TEST_CASE("lambda_min clipping on the tables: t_max = T − count(λ_j < λ_min)") {
    const auto& fam = table();
    const auto& r = ref();
    struct clip_case {
        double lambda_min;
        double t_max;
    };
    const std::vector<clip_case> cases{
        {static_cast<double>((r.lambda[90] + r.lambda[91]) / 2), 90},  // λ_91 … λ_100 are below
        {fam.lambda_table()[95], 95},                                   // strictly below: λ_96 … λ_100
        {static_cast<double>(r.lambda[100] - 1), 100},                  // nothing below
        {-INFINITY, 100},
        {static_cast<double>((r.lambda[1] + r.lambda[2]) / 2), 1},
        {static_cast<double>((r.lambda[97] + r.lambda[98]) / 2), 97},
    };
    for (const auto& c : cases) {
        CAPTURE(c.lambda_min);
        const auto opt = with_lambda_min(c.lambda_min);
        CHECK(mrsolve::clipped_t_max(fam, c.lambda_min) == c.t_max);
        const int M = 10;
        check_grids(make_grid(fam, schedule_kind::linspace, M, opt), table_linspace(M, c.t_max), 1e-12);
        check_grids(make_grid(fam, schedule_kind::time_quadratic, M, opt), table_time_quadratic(M, c.t_max), 1e-12);
        check_grids(make_grid(fam, schedule_kind::karras_n, M, opt), table_karras_n(M, c.t_max, 7), 1e-9);
        check_grids(make_grid(fam, schedule_kind::linear_lambda, M, opt), table_linear_lambda(M, c.lambda_min), 1e-9);
        if (c.t_max >= 2) {
            check_grids(make_grid(fam, schedule_kind::karras_t, M, opt), table_karras_t(M, c.t_max, 7), 1e-10);
        }
        if (c.t_max >= 11)
            check_grids(make_grid(fam, schedule_kind::leading, M, opt), table_leading(M, c.t_max, 0), 1e-12);
        // trailing keeps the unclipped spacing T/(M+1) (DESIGN §6), so a clipped start can run below 0;
        // only the clippings where it stays inside the table are checked here.
        if (c.t_max - M * 100.0 / (M + 1) >= 0)
            check_grids(make_grid(fam, schedule_kind::trailing, M, opt), table_trailing(M, c.t_max), 1e-12);
    }
    // linear-lambda starts at λ_min itself (not at the clipped integer time).
    const double mid = static_cast<double>((r.lambda[90] + r.lambda[91]) / 2);
    CHECK(make_grid(fam, schedule_kind::linear_lambda, 10, with_lambda_min(mid)).front() ==
          doctest::Approx(90.5).epsilon(1e-9));
}

TEST_CASE("lambda_min clipping on a continuous family: λ(t_max) = λ_min") {
    const mrsolve::ir_sde<double> fam(cosine_defaults);
    for (const double t_clip : {95.0, 70.0, 12.5}) {
        CAPTURE(t_clip);
        const double lambda_min = fam.lambda(t_clip);
        const double t_max = mrsolve::clipped_t_max(fam, lambda_min);
        CHECK(std::abs(fam.lambda(t_max) - lambda_min) < 1e-12);
        CHECK(t_max == doctest::Approx(t_clip).epsilon(1e-10));
        const auto opt = with_lambda_min(lambda_min);
        for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::karras_n,
                                schedule_kind::karras_t, schedule_kind::time_quadratic}) {
            CAPTURE(mrsolve::to_string(kind));
            const grid_t g = make_grid(fam, kind, 8, opt);
            CHECK(std::abs(fam.lambda(g.front()) - lambda_min) < 1e-10);
        }
    }
    // trailing keeps the spacing (T − t_min)/(M+1) from the clipped start.
    const double t95 = mrsolve::clipped_t_max(fam, fam.lambda(95.0));
    check_grids(make_grid(fam, schedule_kind::trailing, 8, with_lambda_min(fam.lambda(95.0))),
                build(8, [&](int i) { return ld(t95) - ld(i) * (ld(100) - ld(fam.t_min())) / 9; }), 1e-12);
    // Below λ(T): no clipping.
    CHECK(mrsolve::clipped_t_max(fam, fam.lambda(100.0) - 0.5) == 100.0);
}

TEST_CASE("schedule names: parse and to_string round trip") {
    const std::vector<std::pair<schedule_kind, std::string>> names{
        {schedule_kind::linspace, "linspace"},       {schedule_kind::linear_lambda, "linear-lambda"},
        {schedule_kind::leading, "leading"},         {schedule_kind::trailing, "trailing"},
        {schedule_kind::karras_n, "karras-n"},       {schedule_kind::karras_t, "karras-t"},
        {schedule_kind::time_quadratic, "time-quadratic"}};
    for (const auto& entry : names) {
        const schedule_kind kind = entry.first;
        const std::string& name = entry.second;
        CAPTURE(name);
        CHECK(mrsolve::to_string(kind) == name);
        CHECK(mrsolve::parse_schedule_kind(name) == kind);
        CHECK(mrsolve::parse_schedule_kind(mrsolve::to_string(kind)) == kind);
    }
    for (const auto f : {mrsolve::fit_target::noise, mrsolve::fit_target::data, mrsolve::fit_target::velocity})
        CHECK(mrsolve::parse_fit_target(mrsolve::to_string(f)) == f);
    CHECK(mrsolve::parse_theta_schedule("cosine") == mrsolve::theta_schedule::cosine);
    CHECK(mrsolve::parse_theta_schedule("linear") == mrsolve::theta_schedule::linear);
    CHECK(mrsolve::parse_theta_schedule("constant") == mrsolve::theta_schedule::constant);
}

TEST_CASE("validate_grid accepts good grids and rejects non-finite, non-monotone and out-of-range ones") {
    const auto& tab = table();
    const mrsolve::ir_sde<double> cont(cosine_defaults);
    const auto ok_tab = [&](grid_t g) { CHECK_NOTHROW(mrsolve::validate_grid<mrsolve::irsde_table<double>>(tab, g)); };
    const auto bad_tab = [&](grid_t g) {
        CHECK_THROWS_AS(mrsolve::validate_grid<mrsolve::irsde_table<double>>(tab, g), mrsolve::invalid_argument);
    };
    const auto ok_cont = [&](grid_t g) { CHECK_NOTHROW(mrsolve::validate_grid<mrsolve::ir_sde<double>>(cont, g)); };
    const auto bad_cont = [&](grid_t g) {
        CHECK_THROWS_AS(mrsolve::validate_grid<mrsolve::ir_sde<double>>(cont, g), mrsolve::invalid_argument);
    };
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();

    ok_tab({100, 50, 0});
    ok_tab({100, 0});
    ok_tab({0.5, 0.25});
    ok_tab({60, 40});
    ok_tab({100 + 1e-12, 99.999, 1e-13, -1e-12});  // within 1e-9 of the range's width
    for (const auto kind : {schedule_kind::linspace, schedule_kind::linear_lambda, schedule_kind::leading,
                            schedule_kind::trailing, schedule_kind::karras_n, schedule_kind::karras_t,
                            schedule_kind::time_quadratic})
        for (const int M : nfes) ok_tab(make_grid(tab, kind, M));

    bad_tab({});
    bad_tab({100});
    bad_tab({100, nan, 0});
    bad_tab({nan, 50, 0});
    bad_tab({inf, 50, 0});
    bad_tab({100, 50, -inf});
    bad_tab({100, 50, 50, 0});
    bad_tab({0, 50, 100});
    bad_tab({100, 20, 30, 0});
    bad_tab({101, 50, 0});
    bad_tab({100, 50, -1});
    bad_tab({100 + 1e-6, 50, 0});

    ok_cont({100, 0.1});
    ok_cont({100, 50, 1, 0.1});
    bad_cont({100, 50, 0.05});  // below t_min = T/1000
    bad_cont({100, 50, 0});
    bad_cont({120, 50, 0.1});
    bad_cont({100, 50, 60});
    bad_cont({100, nan});
}

}  // namespace test_schedules
