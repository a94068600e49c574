// mrsolve::recommended and sample_recommended against what docs/choosing.md documents, read from the page
// itself: its first table (NFE band → solver → schedule) and the "recommended configuration" column of
// its comparison table (NFE → name). For every NFE the test runs the solver the page names, on the
// schedule it names, and requires sample_recommended to give the same bits with exactly NFE evaluations;
// nothing here asks recommended() which configuration to expect. (Its accuracy against the published
// default is checked by the demo, test example_mrsolve_demo; its selection by mrsolve_select.)

#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>
#include <mrsolve/recommended.hpp>

#include "support/problems.hpp"

// The file's own namespace: the unity build compiles several test files as one translation unit.
namespace test_recommended {

namespace {

/// The lines of docs/choosing.md.
std::vector<std::string> choosing_md() {
    std::ifstream in(MRSOLVE_DOCS_DIR "/choosing.md");
    REQUIRE_MESSAGE(in.good(), "cannot read " MRSOLVE_DOCS_DIR "/choosing.md");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::string trim(std::string s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

/// The cells of a Markdown table row "| a | b | c |".
std::vector<std::string> cells(const std::string& row) {
    std::vector<std::string> out;
    std::stringstream in(row.substr(1));
    for (std::string cell; std::getline(in, cell, '|');) out.push_back(trim(cell));
    return out;
}

/// The body rows of the first table whose header row starts with `header`.
std::vector<std::vector<std::string>> table(const std::vector<std::string>& lines, const std::string& header) {
    std::vector<std::vector<std::string>> rows;
    std::size_t i = 0;
    while (i < lines.size() && lines[i].rfind(header, 0) != 0) ++i;
    REQUIRE_MESSAGE(i < lines.size(), "docs/choosing.md has no table with the header '" << header << "'");
    for (i += 2; i < lines.size() && !lines[i].empty() && lines[i][0] == '|'; ++i) rows.push_back(cells(lines[i]));
    return rows;
}

/// The text between the first pair of backticks of a cell.
std::string code_span(const std::string& cell) {
    const auto open = cell.find('`');
    const auto close = cell.find('`', open + 1);
    REQUIRE_MESSAGE(close != std::string::npos, "no `code` in the cell '" << cell << "'");
    return cell.substr(open + 1, close - open - 1);
}

/// One row of the page's first table: NFE first … last, the solver as written, the schedule.
struct documented_band {
    int first, last;
    std::string solver;
    mrsolve::schedule_kind schedule;
};

/// The NFE cell of the first table: "1 – 9" or "≥ 15".
std::pair<int, int> nfe_range(const std::string& cell) {
    const std::string at_least = "≥";
    if (cell.rfind(at_least, 0) == 0) return {std::stoi(cell.substr(at_least.size())), std::numeric_limits<int>::max()};
    const std::string dash = "–";
    const auto d = cell.find(dash);
    REQUIRE_MESSAGE(d != std::string::npos, "unreadable NFE band '" << cell << "'");
    return {std::stoi(cell.substr(0, d)), std::stoi(cell.substr(d + dash.size()))};
}

std::vector<documented_band> documented_bands() {
    std::vector<documented_band> bands;
    for (const auto& row : table(choosing_md(), "| NFE | solver | schedule |")) {
        REQUIRE(row.size() >= 3);
        const auto [first, last] = nfe_range(row[0]);
        bands.push_back({first, last, code_span(row[1]), mrsolve::parse_schedule_kind(code_span(row[2]))});
    }
    return bands;
}

/// The band the page gives for an NFE; fails unless exactly one does.
documented_band band_of(const std::vector<documented_band>& bands, int nfe) {
    std::optional<documented_band> found;
    for (const auto& b : bands)
        if (b.first <= nfe && nfe <= b.last) {
            REQUIRE_MESSAGE(!found, "docs/choosing.md gives two bands for NFE " << nfe);
            found = b;
        }
    REQUIRE_MESSAGE(found, "docs/choosing.md gives no band for NFE " << nfe);
    return *found;
}

/// Runs the solver the page names (as written in its table) with mrsolve's default loop options.
template <class Family, class Model>
void run_documented(const std::string& solver, const Family& family, std::span<const double> times,
                    const Model& model, std::vector<double>& x, const std::vector<double>& mu) {
    using mrsolve::data_prediction;
    using mrsolve::noise_prediction;
    using mrsolve::unipc_variant;
    if (solver == "mr_unipc<noise_prediction>{1, unipc_variant::bh1}")
        mrsolve::sample(mrsolve::mr_unipc<noise_prediction>{1, unipc_variant::bh1, {}}, family, times, model, x, mu);
    else if (solver == "mr_ode<noise_prediction>{3}")
        mrsolve::sample(mrsolve::mr_ode<noise_prediction>{3}, family, times, model, x, mu);
    else if (solver == "mr_unipc<data_prediction>{3, unipc_variant::bh2}")
        mrsolve::sample(mrsolve::mr_unipc<data_prediction>{3, unipc_variant::bh2, {}}, family, times, model, x, mu);
    else
        FAIL("docs/choosing.md names a solver this test does not know how to run: " << solver);
}

}  // namespace

TEST_CASE("recommended: the NFE bands of docs/choosing.md cover every NFE once, and NFE 0 is rejected") {
    const auto bands = documented_bands();
    REQUIRE(bands.size() == 3);
    CHECK(bands.front().first == 1);
    CHECK(bands.back().last == std::numeric_limits<int>::max());
    for (std::size_t i = 1; i < bands.size(); ++i) CHECK(bands[i].first == bands[i - 1].last + 1);
    for (const int nfe : {1, 9, 10, 14, 15, 20, 1000}) {
        CAPTURE(nfe);
        CHECK(mrsolve::recommended(nfe).nfe == nfe);
        CHECK(mrsolve::recommended(nfe).schedule == band_of(bands, nfe).schedule);
    }
    CHECK_THROWS_WITH_AS((void)mrsolve::recommended(0), doctest::Contains("got 0"), mrsolve::invalid_argument);
}

TEST_CASE("recommended: the names docs/choosing.md prints in its comparison table") {
    const auto rows = table(choosing_md(), "| NFE | published default | recommended |");
    REQUIRE(rows.size() >= 5);
    for (const auto& row : rows) {
        REQUIRE(row.size() >= 5);
        std::string nfe_cell = row[0];
        std::erase(nfe_cell, '*');  // bold rows
        const int nfe = std::stoi(nfe_cell);
        CAPTURE(nfe);
        CHECK(mrsolve::recommended(nfe).name() == row[4]);
    }
}

TEST_CASE("sample_recommended runs the documented configuration, spends the NFE, and is finite at NFE 1 … 100") {
    using family_t = mrsolve::irsde_table<double>;
    const family_t& family = mrsolve_test::cosine_table();
    const std::vector<double> mean(16, 0.4), spread(16, 0.1);
    const mrsolve::gaussian_diagonal_oracle<family_t> oracle(family, mean, spread);
    const std::vector<double> mu(16, 0.7);
    std::vector<double> x_T(16);
    mrsolve::stationary_start(family, mu, x_T, 4);
    const auto model = oracle.model(mrsolve::fit_target::noise);
    const auto bands = documented_bands();
    std::vector<int> nfes;
    for (int nfe = 1; nfe <= 100; ++nfe) nfes.push_back(nfe);
    nfes.push_back(1000);
    for (const int nfe : nfes) {
        CAPTURE(nfe);
        const documented_band band = band_of(bands, nfe);
        CAPTURE(band.solver);
        std::vector<double> expected = x_T;
        const auto grid = mrsolve::make_grid(family, band.schedule, nfe);
        run_documented(band.solver, family, std::span<const double>(grid), model, expected, mu);

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
        CHECK(x == expected);
    }
}

}  // namespace test_recommended
