// mrsolve_golden FILE…: replays recordings of the published MR Sampler and prints, per file,
// `FILE max_abs_dev=… schedule_max_abs_dev=… ok`, or `… FAIL: …` naming the tolerance exceeded.
// Exit status: 0 every file within tolerance, 1 a deviation beyond it, 2 an unreadable or malformed file
// or bad usage.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <string_view>

#include <mrsolve/golden/replay.hpp>

namespace {

// |mrsolve − recorded| over every recorded state and the output.
constexpr double state_tolerance = 5e-5;
// |t_i(mrsolve) − t_i(recorded)| of the time grid, in table steps. The published code computed its grids
// in float32 (the λ-based ones through logs of its tables), ours are double: on the recordings they differ
// by up to 6e-4 steps, a wrong grid by whole steps.
constexpr double schedule_tolerance = 1e-3;

void print_usage(std::FILE* to, const char* program) {
    std::fprintf(to,
                 "usage: %s GOLDEN_FILE...\n"
                 "Replays golden recordings of the published MR Sampler (e.g. tests/data/golden/*.txt) with mrsolve\n"
                 "and prints, per file, the largest deviation of the states and of the time grid.\n"
                 "Tolerances: max_abs_dev <= %.0e (states and output), schedule_max_abs_dev <= %.0e (timesteps).\n"
                 "Exit status: 0 all within tolerance, 1 a deviation beyond it, 2 an unreadable or malformed file.\n",
                 program, state_tolerance, schedule_tolerance);
}

// Checks one file and prints its line; returns its exit status (0, 1 or 2).
int check_file(const char* path) {
    try {
        const auto result = mrsolve::replay_golden(mrsolve::read_golden(path));
        std::printf("%s max_abs_dev=%.3e schedule_max_abs_dev=%.3e", path, result.max_abs_dev,
                    result.schedule_max_abs_dev);
        // A NaN deviation compares false and so fails.
        const bool states_ok = result.max_abs_dev <= state_tolerance;
        const bool schedule_ok = result.schedule_max_abs_dev <= schedule_tolerance;
        if (states_ok && schedule_ok) {
            std::printf(" ok\n");
            return 0;
        }
        std::printf(" FAIL:");
        if (!states_ok)
            std::printf(" max_abs_dev exceeds the tolerance %.0e (worst at step %d)%s", state_tolerance,
                        result.worst_step, schedule_ok ? "" : ";");
        if (!schedule_ok)
            std::printf(" schedule_max_abs_dev exceeds the tolerance %.0e (the 'timesteps' line is not the grid "
                        "of its time_schedule)",
                        schedule_tolerance);
        std::printf("\n");
        return 1;
    } catch (const std::exception& e) {
        std::printf("%s error=\"%s\"\n", path, e.what());
        return 2;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_usage(stderr, argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument == "--help" || argument == "-h") {
            print_usage(stdout, argv[0]);
            return 0;
        }
        // Any other option is a mistake, not a file name.
        if (argument.size() > 1 && argument.front() == '-') {
            std::fprintf(stderr, "%s: unknown option '%s' (see --help)\n", argv[0], argv[i]);
            return 2;
        }
    }
    int status = 0, failed = 0;
    for (int i = 1; i < argc; ++i) {
        const int file_status = check_file(argv[i]);
        if (file_status != 0) ++failed;
        status = std::max(status, file_status);
    }
    std::printf("%d of %d files within tolerance (max_abs_dev <= %.0e, schedule_max_abs_dev <= %.0e)\n",
                argc - 1 - failed, argc - 1, state_tolerance, schedule_tolerance);
    return status;
}
