#pragma once
/// @file golden_file.hpp
/// @brief Reader of golden trajectories recorded from the published MR Sampler (docs/theory.md §9).
///
/// Verification tooling, not sampling API: `golden/` is installed so that the `mrsolve_golden` tool, the
/// tests and users who check their own build against the recordings can use it, but it is not part of
/// the umbrella header `mrsolve.hpp` and its interface may change between minor versions.
///
/// A file is a sequence of lines `key value…` ('#' starts a comment line): the configuration
/// (`irsde`, `solver`, `parameterization`, `order`, `fit_target`, `time_schedule`, `nfe`, `lambda_min`,
/// `thresholding`, `denoise_last`, `n`), the toy data (`mu`, `data_mean`, `data_std`), `x_T`, the
/// `timesteps`, for SDE cases `noise k …` (the normals of step k), every `state k …` and the `output`.
/// The configuration is checked while parsing, so that an unknown name or a bad value is reported with
/// its line rather than later, by the replay.

#include <cmath>
#include <cstddef>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "../error.hpp"
#include "../prediction/fit_target.hpp"
#include "../prediction/parameterization.hpp"
#include "../schedule/schedule.hpp"
#include "../sde/irsde_table.hpp"
#include "../solver/mr_ode.hpp"
#include "../solver/mr_sde.hpp"

namespace mrsolve {

/// @brief One golden recording.
struct golden_record {
    std::string family_schedule = "cosine";  ///< θ shape of the IR-SDE tables
    int table_steps = 100;                   ///< T
    double max_sigma = 50;                   ///< published max_sigma
    double eps = 0.005;                      ///< eps
    std::string solver;                      ///< "ode" or "sde"
    std::string parameterization;            ///< "noise" or "data"
    int order = 0;                           ///< solver order
    std::string fit_target;                  ///< "noise", "data" or "velocity"
    std::string time_schedule;               ///< published schedule name
    int nfe = 0;                             ///< NFE
    double lambda_min = -std::numeric_limits<double>::infinity();  ///< λ-clipping bound
    bool thresholding = false;               ///< dynamic thresholding on
    bool denoise_last = false;               ///< denoise_last on
    std::size_t n = 0;                       ///< number of elements
    std::vector<double> mu;                  ///< condition μ
    std::vector<double> data_mean;           ///< per-element data mean of the Gaussian toy
    std::vector<double> data_std;            ///< per-element data standard deviation
    std::vector<double> x_T;                 ///< start state
    std::vector<double> timesteps;           ///< the grid (nfe + 1 values)
    std::map<int, std::vector<double>> noise;  ///< step → normals used at that step
    std::map<int, std::vector<double>> states; ///< step → state after that step
    std::vector<double> output;              ///< the sampler's result
};

namespace detail {

inline double parse_number(const std::string& token, const std::string& key, int line) {
    if (token == "-inf") return -std::numeric_limits<double>::infinity();
    if (token == "inf") return std::numeric_limits<double>::infinity();
    std::size_t used = 0;
    double value = 0;
    try {
        value = std::stod(token, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != token.size() || !std::isfinite(value))
        throw_invalid("golden file line ", line, ": '", key, "' has a value that is not a finite number: '", token, "'");
    return value;
}

inline int parse_int(const std::string& token, const std::string& key, int line) {
    const double v = parse_number(token, key, line);
    if (v != std::floor(v) || std::abs(v) > 1e9)
        throw_invalid("golden file line ", line, ": '", key, "' must be an integer, got '", token, "'");
    return static_cast<int>(v);
}

/// The lines of the configuration keys (0: the key is absent).
struct golden_config_lines {
    int irsde = 0, solver = 0, parameterization = 0, order = 0, fit_target = 0, time_schedule = 0;
};

/// Runs check(); an invalid_argument it throws comes back naming the key's line (or the key as missing).
template <class Check>
void check_golden_key(int line, const char* key, Check check) {
    if (line == 0) throw_invalid("golden file: missing '", key, "'");
    try {
        check();
    } catch (const invalid_argument& e) {
        throw_invalid("golden file line ", line, ": '", key, "': ", e.what());
    }
}

/// Checks the family, solver and naming fields, which the replay would otherwise reject without a line.
inline void check_golden_configuration(const golden_record& r, const golden_config_lines& lines) {
    if (lines.irsde != 0)
        check_golden_key(lines.irsde, "irsde", [&] {
            validate(irsde_parameters{parse_theta_schedule(r.family_schedule), r.table_steps, r.max_sigma, r.eps});
        });
    check_golden_key(lines.solver, "solver", [&] {
        if (r.solver != "ode" && r.solver != "sde") throw_invalid("unknown solver '", r.solver, "' (expected ode or sde)");
    });
    check_golden_key(lines.parameterization, "parameterization", [&] {
        if (r.parameterization != "noise" && r.parameterization != "data")
            throw_invalid("unknown parameterization '", r.parameterization, "' (expected noise or data)");
    });
    check_golden_key(lines.order, "order", [&] {
        if (r.solver == "ode") mr_ode<noise_prediction>{r.order}.validate();
        else mr_sde<noise_prediction>{r.order}.validate();
    });
    check_golden_key(lines.fit_target, "fit_target", [&] { (void)parse_fit_target(r.fit_target); });
    check_golden_key(lines.time_schedule, "time_schedule", [&] { (void)parse_schedule_kind(r.time_schedule); });
}

}  // namespace detail

/// @brief Parses a golden recording from a stream.
/// @param in the text
/// @return the record
/// @throws mrsolve::invalid_argument naming the line and value for malformed input, missing keys,
///         vectors whose length is not n, a timestep count other than nfe + 1, or a configuration mrsolve
///         does not know (θ schedule, IR-SDE parameters, solver, parameterization, order, fit target,
///         time schedule)
[[nodiscard]] inline golden_record parse_golden(std::istream& in) {
    golden_record r;
    std::string line;
    int number = 0;
    bool seen_n = false, seen_nfe = false;
    detail::golden_config_lines lines;
    const auto vector_of = [&](std::istringstream& rest, const std::string& key) {
        std::vector<double> v;
        std::string token;
        while (rest >> token) v.push_back(detail::parse_number(token, key, number));
        return v;
    };
    const auto single = [&](std::istringstream& rest, const std::string& key) {
        std::string token, extra;
        if (!(rest >> token)) detail::throw_invalid("golden file line ", number, ": '", key, "' has no value");
        if (rest >> extra) detail::throw_invalid("golden file line ", number, ": '", key, "' has more than one value");
        return token;
    };
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        std::istringstream rest(line);
        std::string key;
        if (!(rest >> key)) continue;
        if (key == "irsde") {
            lines.irsde = number;
            std::string token;
            if (!(rest >> r.family_schedule)) detail::throw_invalid("golden file line ", number, ": 'irsde' has no schedule");
            while (rest >> token) {
                const auto eq = token.find('=');
                if (eq == std::string::npos) detail::throw_invalid("golden file line ", number, ": expected name=value, got '", token, "'");
                const std::string name = token.substr(0, eq), value = token.substr(eq + 1);
                if (name == "T") r.table_steps = detail::parse_int(value, name, number);
                else if (name == "max_sigma") r.max_sigma = detail::parse_number(value, name, number);
                else if (name == "eps") r.eps = detail::parse_number(value, name, number);
                else detail::throw_invalid("golden file line ", number, ": unknown irsde parameter '", name, "'");
            }
        } else if (key == "solver") {
            r.solver = single(rest, key);
            lines.solver = number;
        } else if (key == "parameterization") {
            r.parameterization = single(rest, key);
            lines.parameterization = number;
        } else if (key == "order") {
            r.order = detail::parse_int(single(rest, key), key, number);
            lines.order = number;
        } else if (key == "fit_target") {
            r.fit_target = single(rest, key);
            lines.fit_target = number;
        } else if (key == "time_schedule") {
            r.time_schedule = single(rest, key);
            lines.time_schedule = number;
        } else if (key == "nfe") { r.nfe = detail::parse_int(single(rest, key), key, number); seen_nfe = true; }
        else if (key == "lambda_min") r.lambda_min = detail::parse_number(single(rest, key), key, number);
        else if (key == "thresholding") r.thresholding = detail::parse_int(single(rest, key), key, number) != 0;
        else if (key == "denoise_last") r.denoise_last = detail::parse_int(single(rest, key), key, number) != 0;
        else if (key == "n") {
            const int n = detail::parse_int(single(rest, key), key, number);
            if (n <= 0) detail::throw_invalid("golden file line ", number, ": n must be > 0, got ", n);
            r.n = static_cast<std::size_t>(n);
            seen_n = true;
        } else if (key == "mu") r.mu = vector_of(rest, key);
        else if (key == "data_mean") r.data_mean = vector_of(rest, key);
        else if (key == "data_std") r.data_std = vector_of(rest, key);
        else if (key == "x_T") r.x_T = vector_of(rest, key);
        else if (key == "timesteps") r.timesteps = vector_of(rest, key);
        else if (key == "output") r.output = vector_of(rest, key);
        else if (key == "noise" || key == "state") {
            std::string index;
            if (!(rest >> index)) detail::throw_invalid("golden file line ", number, ": '", key, "' has no step index");
            const int k = detail::parse_int(index, key, number);
            if (k < 1 || k > 100000) detail::throw_invalid("golden file line ", number, ": step index ", k, " out of range");
            auto& target = key == "noise" ? r.noise : r.states;
            if (target.count(k)) detail::throw_invalid("golden file line ", number, ": duplicate '", key, " ", k, "'");
            target[k] = vector_of(rest, key);
        } else {
            detail::throw_invalid("golden file line ", number, ": unknown key '", key, "'");
        }
    }
    if (!seen_n) detail::throw_invalid("golden file: missing 'n'");
    if (!seen_nfe || r.nfe <= 0) detail::throw_invalid("golden file: missing or non-positive 'nfe'");
    const auto check = [&](const std::vector<double>& v, const char* what) {
        if (v.size() != r.n) detail::throw_invalid("golden file: '", what, "' has ", v.size(), " values, expected n = ", r.n);
    };
    check(r.mu, "mu");
    check(r.data_mean, "data_mean");
    check(r.data_std, "data_std");
    check(r.x_T, "x_T");
    check(r.output, "output");
    for (const auto& [k, v] : r.states) check(v, "state");
    for (const auto& [k, v] : r.noise) check(v, "noise");
    if (r.timesteps.size() != static_cast<std::size_t>(r.nfe) + 1)
        detail::throw_invalid("golden file: 'timesteps' has ", r.timesteps.size(), " values, expected nfe + 1 = ", r.nfe + 1);
    for (const auto& [k, v] : r.states)
        if (k > r.nfe) detail::throw_invalid("golden file: state index ", k, " exceeds nfe = ", r.nfe);
    detail::check_golden_configuration(r, lines);
    return r;
}

/// @brief Parses a golden recording from a file.
/// @param path the file
/// @return the record
/// @throws mrsolve::invalid_argument if the file cannot be read or is malformed
[[nodiscard]] inline golden_record read_golden(const std::string& path) {
    std::ifstream in(path);
    if (!in) detail::throw_invalid("cannot open golden file '", path, "'");
    try {
        return parse_golden(in);
    } catch (const invalid_argument& e) {
        detail::throw_invalid(path, ": ", e.what());
    }
}

}  // namespace mrsolve
