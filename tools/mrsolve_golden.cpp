// mrsolve_golden FILE…: replays golden recordings of the published MR Sampler and prints, per file,
// `FILE max_abs_dev=VALUE`; exits 1 if any deviation exceeds 5e-5 (2 on an unreadable file or bad usage).
#include <cstdio>
#include <exception>
#include <mrsolve/golden/replay.hpp>

int main(int argc, char** argv) {
    constexpr double tolerance = 5e-5;
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s GOLDEN_FILE...\n", argv[0]);
        return 2;
    }
    int status = 0;
    for (int i = 1; i < argc; ++i) {
        try {
            const auto result = mrsolve::replay_golden(mrsolve::read_golden(argv[i]));
            std::printf("%s max_abs_dev=%.3e\n", argv[i], result.max_abs_dev);
            if (!(result.max_abs_dev <= tolerance)) status = std::max(status, 1);
        } catch (const std::exception& e) {
            std::printf("%s error=\"%s\"\n", argv[i], e.what());
            status = 2;
        }
    }
    return status;
}
