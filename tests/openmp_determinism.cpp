// Compiled with OpenMP: mrsolve's host loops share states of at least detail::openmp_min_elements
// elements among the threads. Every solver (the stochastic ones with the fused counter_noise path and
// with the buffered path) must give bitwise the same trajectory with 1, 2 and 3 threads, and the fused
// and buffered paths must agree bitwise. Exit status 0 when all agree, 1 otherwise. Not a timing test.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <mrsolve/mrsolve.hpp>

#if !defined(_OPENMP)
#error "openmp_determinism must be compiled with OpenMP"
#endif
#include <omp.h>

namespace {

int failures = 0;

template <class T>
struct linear_model {  // ε̂ = 0.3 (x − μ) + 0.01
    void operator()(const std::vector<T>& x, const std::vector<T>& mu, double, std::vector<T>& out) const {
        for (std::size_t i = 0; i < x.size(); ++i) out[i] = T(0.3) * (x[i] - mu[i]) + T(0.01);
    }
};

template <class T, class Method, class Noise>
std::vector<T> run(const Method& method, int threads, Noise noise, std::size_t n) {
    omp_set_num_threads(threads);
    const mrsolve::irsde_table<double> family;
    std::vector<T> mu(n), x(n);
    for (std::size_t e = 0; e < n; ++e) mu[e] = T(0.5) + T(0.25) * static_cast<T>((e * 7919) % 101) / T(101);
    mrsolve::stationary_start(family, mu, x, 11);
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 12);
    mrsolve::sample(method, family, std::span<const double>(grid), linear_model<T>{}, x, mu, {}, noise);
    return x;
}

template <class T>
void expect_same(const std::vector<T>& a, const std::vector<T>& b, const std::string& what) {
    const bool same = a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
    if (!same) {
        ++failures;
        std::printf("MISMATCH %s\n", what.c_str());
    }
}

template <class T, class Method>
void check(const std::string& name, const Method& method, std::size_t n) {
    const mrsolve::counter_noise fused(99);
    // The same normals through the buffered path (the noise source is not counter_noise).
    const auto buffered = mrsolve::injected_noise([](std::vector<T>& z, int step) { mrsolve::counter_noise(99).fill(z, step); });
    const std::vector<T> reference = run<T>(method, 1, fused, n);
    for (const int threads : {2, 3}) {
        expect_same(reference, run<T>(method, threads, fused, n), name + " threads " + std::to_string(threads));
        expect_same(reference, run<T>(method, threads, buffered, n),
                    name + " buffered noise, threads " + std::to_string(threads));
    }
}

template <class T>
void check_all(const char* type) {
    using namespace mrsolve;
    // Above the OpenMP threshold, and neither a multiple of the chunk nor of a normal group.
    const std::size_t n = detail::openmp_min_elements + 3 * detail::host_chunk + 5;
    const std::string t = std::string(" ") + type;
    check<T>("sde_data_1" + t, mr_sde<data_prediction>{1}, n);
    check<T>("sde_data_2" + t, mr_sde<data_prediction>{2}, n);
    check<T>("sde_noise_2" + t, mr_sde<noise_prediction>{2}, n);
    check<T>("euler_maruyama" + t, euler_maruyama{}, n);
    check<T>("posterior_exact" + t, posterior_sampling{}, n);
    check<T>("ode_data_3" + t, mr_ode<data_prediction>{3}, n);
    check<T>("ode_noise_2" + t, mr_ode<noise_prediction>{2}, n);

    // The normals themselves: every thread count gives philox_normal::normal element by element.
    std::vector<T> z(n);
    const philox_normal generator(5);
    for (const int threads : {1, 2, 3}) {
        omp_set_num_threads(threads);
        counter_noise(5).fill(z, 4);
        std::size_t wrong = 0;
        for (std::size_t e = 0; e < n; ++e) {
            const T expected = generator.normal<T>(4, e);
            if (std::memcmp(&z[e], &expected, sizeof(T)) != 0) ++wrong;
        }
        if (wrong != 0) {
            ++failures;
            std::printf("MISMATCH normals%s threads %d: %zu elements\n", t.c_str(), threads, wrong);
        }
    }
}

}  // namespace

int main() {
    std::printf("OpenMP max threads %d, threshold %zu elements\n", omp_get_max_threads(),
                mrsolve::detail::openmp_min_elements);
    check_all<float>("float");
    check_all<double>("double");
    std::printf("%s (%d mismatches)\n", failures == 0 ? "all bitwise identical" : "FAILED", failures);
    return failures == 0 ? 0 : 1;
}
