#pragma once
/// @file grid_file.hpp
/// @brief Saves and loads a grid (for example a tuned one, tune_grid.hpp) as a small text file.
///
/// Format, version 1, one item per line ('#' starts a comment line):
///
///     mrsolve-grid 1
///     family table theta=cosine T=100 max_sigma=50 eps=0.005
///     solver unipc_noise_1_bh1
///     nfe 10
///     t 100
///     t 71.53...
///     ...
///     end
///
/// `family` is the identity of the coefficient family (grid_family_identity); loading on another family
/// is refused. The times are written as the shortest text that reads back to the same value
/// (std::to_chars), so they load back bit for bit, and are checked on load like any user grid (finite,
/// inside [t_min, t_max], strictly decreasing, NFE + 1 of them); an error names the file, the line and
/// the value.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "../error.hpp"
#include "../schedule/schedule.hpp"
#include "../sde/ir_sde.hpp"
#include "../sde/irsde_table.hpp"

namespace mrsolve {

namespace detail {
/// The shortest text that reads back as the same value (std::to_chars): exact, and 0.005 stays "0.005".
template <class Real>
[[nodiscard]] std::string shortest(Real value) {
    char buffer[64];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : message(value);
}

[[nodiscard]] inline std::string irsde_identity(const irsde_parameters& p) {
    const char* theta = p.schedule == theta_schedule::cosine ? "cosine" : p.schedule == theta_schedule::linear ? "linear" : "constant";
    std::string s = message("theta=", theta, " T=", p.steps, " max_sigma=", shortest(p.max_sigma), " eps=", shortest(p.eps));
    if (p.stationary_std) s += " stationary_std=" + shortest(*p.stationary_std);
    return s;
}
}  // namespace detail

/// @brief The identity of a discrete IR-SDE table, as written in a grid file.
/// @tparam Real the scalar type @param family the table @return e.g. "table theta=cosine T=100 max_sigma=50 eps=0.005"
template <class Real>
[[nodiscard]] std::string grid_family_identity(const irsde_table<Real>& family) {
    return "table " + detail::irsde_identity(family.parameters());
}

/// @brief The identity of a continuous IR-SDE, as written in a grid file.
/// @tparam Real the scalar type @param family the family @return e.g. "continuous theta=cosine T=100 … t_min=0.1"
template <class Real>
[[nodiscard]] std::string grid_family_identity(const ir_sde<Real>& family) {
    return "continuous " + detail::irsde_identity(family.parameters()) + " t_min=" + detail::shortest(family.t_min());
}

/// @brief Writes a grid file.
/// @tparam Family a family with grid_family_identity
/// @param path the file to write
/// @param family the family the grid is for
/// @param times the grid (validated as a user grid first)
/// @param solver the solver it was tuned for (informational; one line, may be empty)
/// @throws mrsolve::invalid_argument for an invalid grid, a solver name with a line break, or a file that
/// cannot be written
template <CoefficientFamily Family>
void save_grid(const std::string& path, const Family& family, std::span<const typename Family::real_type> times,
               std::string_view solver = {}) {
    using Real = typename Family::real_type;
    validate_grid<Family>(family, times);
    if (solver.find_first_of("\r\n") != std::string_view::npos)
        detail::throw_invalid("save_grid: the solver name '", solver, "' contains a line break");
    std::ostringstream out;
    out << "mrsolve-grid 1\nfamily " << grid_family_identity(family) << "\nsolver " << solver << "\nnfe "
        << times.size() - 1 << "\n";
    for (const Real t : times) out << "t " << detail::shortest(t) << "\n";
    out << "end\n";
    std::ofstream file(path, std::ios::binary);
    file << out.str();
    file.flush();
    if (!file) detail::throw_invalid("save_grid: cannot write '", path, "'");
}

/// @brief What a grid file holds besides the times.
struct grid_file_info {
    std::string family;  ///< the family identity line
    std::string solver;  ///< the solver line (may be empty)
    int nfe = 0;         ///< the steps
};

/// @brief Reads a grid file written by save_grid and checks it against a family.
/// @tparam Family a family with grid_family_identity
/// @param path the file
/// @param family the family the grid will run on (its identity must match the file's)
/// @param nfe the expected NFE (steps), or 0 to accept the file's
/// @param info if not null, receives the family, solver and NFE lines
/// @return the times, strictly decreasing
/// @throws mrsolve::invalid_argument naming the file, the line and the value: a missing file, another
/// format or version, another family, an NFE that differs from the expected one, a time that does not
/// parse, is not finite, lies outside [t_min, t_max] or does not decrease, too few or too many times, a
/// missing `end`
template <CoefficientFamily Family>
[[nodiscard]] std::vector<typename Family::real_type> load_grid(const std::string& path, const Family& family, int nfe = 0,
                                                                grid_file_info* info = nullptr) {
    using Real = typename Family::real_type;
    if (nfe < 0) detail::throw_invalid("load_grid: the expected NFE must be >= 0 (0: any), got ", nfe);
    std::ifstream file(path, std::ios::binary);
    if (!file) detail::throw_invalid("load_grid: cannot open '", path, "'");
    const auto fail = [&](std::size_t line, const auto&... parts) {
        detail::throw_invalid("load_grid: ", path, " line ", line, ": ", parts...);
    };
    grid_file_info read;
    std::vector<Real> times;
    const Real lo = family.t_min(), hi = family.t_max(), slack = Real(1e-9) * (hi - lo);
    // The header lines in order, then the times, then end.
    const char* const keys[] = {"mrsolve-grid", "family", "solver", "nfe"};
    std::size_t expected = 0, number = 0;
    bool ended = false;
    std::string line;
    while (std::getline(file, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.front() == '#') continue;
        if (ended) fail(number, "'", line, "' after end");
        const std::size_t space = line.find(' ');
        const std::string key = line.substr(0, space);
        const std::string value = space == std::string::npos ? std::string() : line.substr(space + 1);
        if (expected < 4) {
            if (key != keys[expected]) fail(number, "expected '", keys[expected], "', got '", line, "'");
            if (expected == 0 && value != "1")
                fail(number, "format version '", value, "' is not supported (this reader reads version 1)");
            if (expected == 1) {
                read.family = value;
                if (value != grid_family_identity(family))
                    fail(number, "the grid is for family '", value, "', not '", grid_family_identity(family), "'");
            }
            if (expected == 2) read.solver = value;
            if (expected == 3) {
                const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), read.nfe);
                if (ec != std::errc() || end != value.data() + value.size() || read.nfe < 1)
                    fail(number, "nfe '", value, "' is not an integer >= 1");
                if (nfe != 0 && read.nfe != nfe) fail(number, "the grid has nfe ", read.nfe, ", expected ", nfe);
            }
            ++expected;
            continue;
        }
        if (key == "end") {
            ended = true;
            continue;
        }
        if (key != "t") fail(number, "expected 't TIME' or 'end', got '", line, "'");
        Real t{};
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), t);
        if (ec != std::errc() || end != value.data() + value.size() || value.empty())
            fail(number, "time '", value, "' is not a number");
        if (!std::isfinite(t)) fail(number, "time ", value, " is not finite");
        if (t < lo - slack || t > hi + slack) fail(number, "time ", value, " lies outside [", lo, ", ", hi, "]");
        if (!times.empty() && !(t < times.back()))
            fail(number, "time ", value, " does not decrease (the time before is ", times.back(), ")");
        if (static_cast<int>(times.size()) == read.nfe + 1) fail(number, "more than nfe + 1 = ", read.nfe + 1, " times");
        times.push_back(t);
    }
    if (expected < 4) fail(number, "the file ends before the '", keys[expected], "' line");
    if (!ended) fail(number, "the file ends without 'end'");
    if (static_cast<int>(times.size()) != read.nfe + 1)
        fail(number, "the grid has ", times.size(), " times; nfe ", read.nfe, " needs ", read.nfe + 1);
    validate_grid<Family>(family, times);
    if (info) *info = read;
    return times;
}

}  // namespace mrsolve
