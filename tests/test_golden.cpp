// Golden parity: every recording of the published sampler in tests/data/golden is reproduced by mrsolve.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <mrsolve/golden/replay.hpp>
#include <sstream>
#include <string>
#include <vector>

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_golden {

namespace {

std::vector<std::filesystem::path> golden_files() {
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(MRSOLVE_TEST_DATA_DIR "/golden"))
        if (entry.path().extension() == ".txt") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

TEST_CASE("every golden trajectory of the published sampler is reproduced to 5e-5") {
    const auto files = golden_files();
    REQUIRE(files.size() == 10);
    for (const auto& file : files) {
        CAPTURE(file.filename().string());
        const auto record = mrsolve::read_golden(file.string());
        const auto result = mrsolve::replay_golden(record);
        CHECK(result.nfe == record.nfe);
        // Every step of the recording was compared: the replay counts the recorded states its observer
        // actually compared, and a recording of M steps has M (its grid has M + 1 times).
        REQUIRE(record.timesteps.size() >= 2);
        const int recorded_steps = static_cast<int>(record.timesteps.size()) - 1;
        CHECK(result.steps_compared == recorded_steps);
        CHECK(result.max_abs_dev < 5e-5);
        // The recorded grids were computed in float32 by the published code; ours in double.
        CHECK(result.schedule_max_abs_dev < 1e-3);
    }
}

TEST_CASE("the count of compared steps misses a recorded state that was not compared") {
    // A recording with state 5 taken out: the replay cannot compare that step, and says so.
    auto record = mrsolve::read_golden(MRSOLVE_TEST_DATA_DIR "/golden/ode_data_o2_linspace_nfe10.txt");
    REQUIRE(record.nfe == 10);
    CHECK(mrsolve::replay_golden(record).steps_compared == 10);
    record.states.erase(5);
    CHECK(mrsolve::replay_golden(record).steps_compared == 9);
}

TEST_CASE("a wrong formula is caught: perturbing the recording beyond tolerance fails parity") {
    auto record = mrsolve::read_golden(MRSOLVE_TEST_DATA_DIR "/golden/ode_data_o2_linspace_nfe10.txt");
    record.states[5][3] += 1e-3;
    CHECK(mrsolve::replay_golden(record).max_abs_dev > 5e-5);
    // A different solver order than recorded misses by far more than the tolerance.
    auto other = mrsolve::read_golden(MRSOLVE_TEST_DATA_DIR "/golden/ode_data_o2_linspace_nfe10.txt");
    other.order = 1;
    CHECK(mrsolve::replay_golden(other).max_abs_dev > 1e-3);
    // The order-3 recordings pin the published D2 weight: mrsolve's third-order (taylor) rule differs.
    const auto order3 = mrsolve::read_golden(MRSOLVE_TEST_DATA_DIR "/golden/ode_data_o3_linspace_nfe20.txt");
    CHECK(mrsolve::detail::replay_with(mrsolve::mr_ode<mrsolve::data_prediction>{3, mrsolve::order3_rule::taylor}, order3)
              .max_abs_dev > 1e-3);
}

TEST_CASE("golden parser rejects malformed files with a message naming the problem") {
    const auto parse = [](const std::string& text) {
        std::istringstream in(text);
        return mrsolve::parse_golden(in);
    };
    CHECK_THROWS_WITH_AS((void)parse("nfe 2\nn 2\nmu 1 x\n"), doctest::Contains("'x'"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)parse("nfe 2\nmu 1 2\n"), doctest::Contains("missing 'n'"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)parse("nfe 2\nn 2\nmu 1\n"), doctest::Contains("'mu' has 1 values"), mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((void)parse("bogus 1\n"), doctest::Contains("unknown key 'bogus'"), mrsolve::invalid_argument);
    CHECK_THROWS_AS((void)mrsolve::read_golden("/nonexistent/file.txt"), mrsolve::invalid_argument);
}

TEST_CASE("golden parser names the line of a configuration field that mrsolve does not know") {
    std::ifstream file(MRSOLVE_TEST_DATA_DIR "/golden/ode_data_o2_linspace_nfe10.txt");
    std::stringstream buffer;
    buffer << file.rdbuf();
    const std::string recording = buffer.str();
    // The recording with its first `from` replaced by `to`, parsed.
    const auto parse_edited = [&](const std::string& from, const std::string& to) {
        std::string text = recording;
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        text.replace(at, from.size(), to);
        std::istringstream in(text);
        return mrsolve::parse_golden(in);
    };
    CHECK_NOTHROW((void)parse_edited("solver ode\n", "solver ode\n"));
    struct edit {
        const char* from;
        const char* to;
        const char* message;
    };
    for (const edit e : {
             edit{"irsde cosine", "irsde cosin", "golden file line 2: 'irsde': unknown theta schedule 'cosin'"},
             edit{"eps=0.005", "eps=2", "golden file line 2: 'irsde': IR-SDE eps must lie in (0, 1), got 2"},
             edit{"max_sigma=50", "max_sigma=-1", "golden file line 2: 'irsde': max_sigma must be finite and > 0"},
             edit{"solver ode\n", "solver odee\n", "golden file line 3: 'solver': unknown solver 'odee'"},
             edit{"parameterization data", "parameterization date",
                  "golden file line 4: 'parameterization': unknown parameterization 'date'"},
             edit{"order 2", "order 4", "golden file line 5: 'order': mr_ode supports orders 1, 2 and 3, got order 4"},
             edit{"fit_target noise", "fit_target noize", "golden file line 6: 'fit_target': unknown fit target 'noize'"},
             edit{"time_schedule linspace", "time_schedule linspaced",
                  "golden file line 7: 'time_schedule': unknown time schedule 'linspaced'"},
             edit{"solver ode\n", "", "golden file: missing 'solver'"},
         }) {
        CAPTURE(e.to);
        CHECK_THROWS_WITH_AS((void)parse_edited(e.from, e.to), doctest::Contains(e.message), mrsolve::invalid_argument);
    }
}

}  // namespace test_golden
