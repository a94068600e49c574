// mrsolve::recommended and sample_recommended: the bands, the names, the errors, and that
// sample_recommended runs exactly the configuration recommended() names. (Its accuracy against the
// published default is checked by the demo, test example_mrsolve_demo; its selection by mrsolve_select.)

#include <doctest/doctest.h>

#include <span>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/recommended.hpp>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_recommended {

TEST_CASE("recommended: the NFE bands and their names") {
    CHECK(mrsolve::recommended(1).name() == "unipc_noise_1_bh1 karras-n");
    CHECK(mrsolve::recommended(9).name() == "unipc_noise_1_bh1 karras-n");
    CHECK(mrsolve::recommended(10).name() == "ode_noise_3 karras-n");
    CHECK(mrsolve::recommended(14).name() == "ode_noise_3 karras-n");
    CHECK(mrsolve::recommended(15).name() == "unipc_data_3_bh2 linear-lambda");
    CHECK(mrsolve::recommended(1000).name() == "unipc_data_3_bh2 linear-lambda");
    CHECK(mrsolve::recommended(20).nfe == 20);
    CHECK_THROWS_WITH_AS((void)mrsolve::recommended(0), doctest::Contains("got 0"), mrsolve::invalid_argument);
}

TEST_CASE("sample_recommended runs the named configuration, spends the NFE, and is finite at NFE 1 … 100") {
    using family_t = mrsolve::irsde_table<double>;
    const family_t family({mrsolve::theta_schedule::cosine, 100, 50, 0.005});
    const std::vector<double> mean(16, 0.4), spread(16, 0.1);
    const mrsolve::gaussian_diagonal_oracle<family_t> oracle(family, mean, spread);
    const std::vector<double> mu(16, 0.7);
    std::vector<double> x_T(16);
    mrsolve::stationary_start(family, mu, x_T, 4);
    const auto model = oracle.model(mrsolve::fit_target::noise);
    const auto manual = [&](int nfe) {
        std::vector<double> x = x_T;
        const auto r = mrsolve::recommended(nfe);
        const auto grid = mrsolve::make_grid(family, r.schedule, nfe);
        const std::span<const double> times(grid);
        switch (r.solver) {
            case mrsolve::recommended_solver::unipc_noise_1_bh1:
                mrsolve::sample(mrsolve::mr_unipc<mrsolve::noise_prediction>{1, mrsolve::unipc_variant::bh1, {}}, family,
                                times, model, x, mu);
                break;
            case mrsolve::recommended_solver::ode_noise_3:
                mrsolve::sample(mrsolve::mr_ode<mrsolve::noise_prediction>{3}, family, times, model, x, mu);
                break;
            case mrsolve::recommended_solver::unipc_data_3_bh2:
                mrsolve::sample(mrsolve::mr_unipc<mrsolve::data_prediction>{3, mrsolve::unipc_variant::bh2, {}}, family,
                                times, model, x, mu);
                break;
        }
        return x;
    };
    for (int nfe = 1; nfe <= 100; ++nfe) {
        CAPTURE(nfe);
        std::vector<double> x = x_T;
        int calls = 0;
        const auto counting = [&](const std::vector<double>& xs, const std::vector<double>& m, double t, std::vector<double>& out) {
            ++calls;
            model(xs, m, t, out);
        };
        const auto result = mrsolve::sample_recommended(family, nfe, counting, x, mu);
        CHECK(result.nfe == nfe);
        CHECK(calls == nfe);
        for (const double v : x) CHECK(std::isfinite(v));
        CHECK(x == manual(nfe));
    }
}

}  // namespace test_recommended
