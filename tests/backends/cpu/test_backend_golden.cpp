// Golden parity on every CPU backend: each recording of the published sampler (tests/data/golden) is
// replayed with the state held in each backend's type (24 elements, shaped [2, 3, 2, 2] where the type
// has a shape) and reproduced to 5e-5. Double backends give exactly the deviations of
// mrsolve::replay_golden (std::vector<double>).
//
// replay_on below is mrsolve::detail::replay_with made generic over the state type; it is written so that
// it can replace the std::vector-only version in include/mrsolve/golden/replay.hpp unchanged.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <mrsolve/golden/replay.hpp>

#include "backend_cases.hpp"

namespace backend_test {

/// The toy network of the recordings on any host state: the exact per-element Gaussian prediction
/// (computed in double), rounded to float as the recording network did.
template <class Oracle>
struct float_rounded_model_on {
    mrsolve::oracle_model<Oracle> exact;
    template <mrsolve::HostState S>
    void operator()(const S& x, const S& mu, double t, S& out) const {
        exact(x, mu, t, out);
        for (auto& v : mrsolve::backend_traits<S>::host_span(out))
            v = static_cast<mrsolve::state_value_t<S>>(static_cast<float>(v));
    }
};

/// Replays a recording with state type S; `like` gives the shape (r.n elements), its contents are unused.
template <class Method, mrsolve::HostState S>
mrsolve::golden_replay_result replay_on(const Method& method, const mrsolve::golden_record& r, const S& like) {
    using namespace mrsolve;
    using traits = backend_traits<S>;
    using T = state_value_t<S>;
    if (traits::size(like) != r.n)
        detail::throw_invalid("golden replay: the state has ", traits::size(like), " elements, the recording ", r.n);
    const irsde_table<double> family({parse_theta_schedule(r.family_schedule), r.table_steps, r.max_sigma, r.eps});
    const gaussian_diagonal_oracle<irsde_table<double>> oracle(family, r.data_mean, r.data_std);
    const fit_target fit = parse_fit_target(r.fit_target);
    float_rounded_model_on<gaussian_diagonal_oracle<irsde_table<double>>> model{oracle.model(fit)};

    schedule_options schedule;
    schedule.lambda_min = r.lambda_min;
    const std::vector<double> grid = make_grid(family, parse_schedule_kind(r.time_schedule), r.nfe, schedule);
    golden_replay_result result;
    for (std::size_t i = 0; i < grid.size(); ++i)
        result.schedule_max_abs_dev = std::max(result.schedule_max_abs_dev, std::abs(grid[i] - r.timesteps[i]));

    sample_options options = sample_options::published(fit, r.denoise_last);
    if (r.thresholding) options.thresholding = dynamic_thresholding{};
    auto recorded_noise = injected_noise([&r](S& z, int step) {
        const auto it = r.noise.find(step);
        if (it == r.noise.end()) detail::throw_invalid("golden file has no 'noise ", step, "' for a stochastic step");
        const auto span = traits::host_span(z);
        std::transform(it->second.begin(), it->second.end(), span.begin(), [](double v) { return static_cast<T>(v); });
    });
    const auto load = [&](const std::vector<double>& values) {
        S s = traits::make_like(like);
        const auto span = traits::host_span(s);
        std::transform(values.begin(), values.end(), span.begin(), [](double v) { return static_cast<T>(v); });
        return s;
    };
    const auto deviation_from = [&r](const S& state, const std::vector<double>& recorded) {
        const auto span = traits::host_span(state);
        double dev = 0;
        for (std::size_t j = 0; j < r.n; ++j) dev = std::max(dev, std::abs(static_cast<double>(span[j]) - recorded[j]));
        return dev;
    };
    result.step_max_abs_dev.assign(static_cast<std::size_t>(r.nfe), 0.0);
    const auto observe = [&](const step_info<double, S>& info) {
        const auto it = r.states.find(info.step);
        if (it == r.states.end()) return;
        const double dev = deviation_from(info.x, it->second);
        result.step_max_abs_dev[static_cast<std::size_t>(info.step) - 1] = dev;
        if (dev > result.max_abs_dev) {
            result.max_abs_dev = dev;
            result.worst_step = info.step;
        }
    };
    S x = load(r.x_T);
    const S mu = load(r.mu);
    const sample_result stats =
        sample(method, family, std::span<const double>(grid), model, x, mu, options, recorded_noise, observe);
    result.nfe = stats.nfe;
    const double dev = deviation_from(x, r.output);
    if (dev > result.max_abs_dev) {
        result.max_abs_dev = dev;
        result.worst_step = r.nfe;
    }
    return result;
}

/// replay_golden on state type S: the solver named by the recording (order 3: the published rule).
template <mrsolve::HostState S>
mrsolve::golden_replay_result replay_golden_on(const mrsolve::golden_record& record, const S& like) {
    using namespace mrsolve;
    const bool data = record.parameterization == "data";
    if (!data && record.parameterization != "noise")
        detail::throw_invalid("golden: unknown parameterization '", record.parameterization, "'");
    if (record.solver == "ode")
        return data ? replay_on(mr_ode<data_prediction>{record.order, order3_rule::published}, record, like)
                    : replay_on(mr_ode<noise_prediction>{record.order, order3_rule::published}, record, like);
    if (record.solver == "sde")
        return data ? replay_on(mr_sde<data_prediction>{record.order}, record, like)
                    : replay_on(mr_sde<noise_prediction>{record.order}, record, like);
    detail::throw_invalid("golden: unknown solver '", record.solver, "' (expected ode or sde)");
}

std::vector<std::filesystem::path> golden_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(MRSOLVE_TEST_DATA_DIR "/golden"))
        if (entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

/// The recordings' state: 24 elements as an image [2, 3, 2, 2].
inline constexpr shape4 golden_shape{2, 3, 2, 2};

}  // namespace backend_test

TEST_CASE_TEMPLATE("every golden recording is reproduced to 5e-5 on every backend", S, std::vector<float>,
                   std::vector<double>, Eigen::VectorXf, Eigen::VectorXd, Eigen::MatrixXf, Eigen::ArrayXXd,
                   xt::xtensor<float, 4>, xt::xtensor<double, 4>, xt::xarray<double>, backend_test::xtensor_col3) {
    using namespace backend_test;
    CAPTURE(backend_case<S>::name);
    const auto files = golden_files();
    REQUIRE(files.size() == 10);
    const S like = backend_case<S>::make(golden_shape);
    for (const auto& file : files) {
        CAPTURE(file.filename().string());
        const auto record = mrsolve::read_golden(file.string());
        REQUIRE(record.n == golden_shape.size());
        const auto result = replay_golden_on(record, like);
        CHECK(result.nfe == record.nfe);
        CHECK(result.max_abs_dev < 5e-5);
        CHECK(result.schedule_max_abs_dev < 1e-3);
        if constexpr (std::is_same_v<value_t<S>, double>) {
            // The same computation as the library's std::vector<double> replay, so the same deviations.
            const auto reference = mrsolve::replay_golden(record);
            CHECK(result.max_abs_dev == reference.max_abs_dev);
            CHECK(result.step_max_abs_dev == reference.step_max_abs_dev);
        }
    }
}

TEST_CASE("the generic replay still fails a perturbed recording (on xtensor)") {
    using namespace backend_test;
    auto record = mrsolve::read_golden(MRSOLVE_TEST_DATA_DIR "/golden/ode_data_o2_linspace_nfe10.txt");
    record.states[5][3] += 1e-3;
    const auto like = backend_case<xt::xtensor<float, 4>>::make(golden_shape);
    CHECK(replay_golden_on(record, like).max_abs_dev > 5e-5);
    CHECK(replay_golden_on(record, like).worst_step == 5);
}
