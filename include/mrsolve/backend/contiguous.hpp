#pragma once
/// @file contiguous.hpp
/// @brief The default backend: any resizable contiguous container of float or double in host memory
/// (std::vector<float>, std::vector<double>, …). Also the host loops other host backends reuse.
///
/// **OpenMP.** When the translation unit is compiled with OpenMP (`-fopenmp`: `_OPENMP` defined), the
/// host loops of states with at least detail::openmp_min_elements elements (default 32768; define
/// MRSOLVE_OPENMP_MIN_ELEMENTS to change it, MRSOLVE_NO_OPENMP to switch it off) are shared among the
/// threads of an OpenMP parallel region (omp_set_num_threads / OMP_NUM_THREADS). Each element is
/// computed by the same code whatever thread runs it, so results are bitwise identical for any thread
/// count. Inside an enclosing parallel region (one sampler per thread) the default OpenMP settings run
/// the inner region on one thread.

#include <algorithm>
#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>
#include <string_view>
#include <type_traits>

#include "../noise/normal.hpp"
#include "../simd.hpp"
#include "../concepts/state.hpp"

namespace mrsolve {

/// @brief Eigen dense objects (they carry RowsAtCompileTime); they have their own backend,
/// <mrsolve/backend/eigen.hpp>, because a matrix must keep its shape.
template <class S>
concept EigenLike = requires { S::RowsAtCompileTime; };

/// @brief A container with contiguous float/double storage (`std::data`, `std::size`) that can be
/// constructed with a size (std::vector<float>, std::vector<double>, …). Not an xtensor container, which
/// has its own backend: xt::xarray is constructible from a scalar, so it would look like one.
template <class S>
concept ContiguousContainer = requires(S& s, const S& cs) {
    { std::data(s) };
    { std::size(cs) } -> std::convertible_to<std::size_t>;
    requires std::is_pointer_v<decltype(std::data(s))>;
    requires std::floating_point<std::remove_pointer_t<decltype(std::data(s))>>;
} && std::constructible_from<S, std::size_t> && !EigenLike<S> &&
                              detail::backend_named_by<S>() != detail::named_backend::xtensor;

namespace detail {

/// @brief The smallest state (in elements) whose host loops are shared among OpenMP threads, when the
/// translation unit is compiled with OpenMP (`_OPENMP`) and MRSOLVE_NO_OPENMP is not defined. Smaller
/// states run on the calling thread: a parallel region costs microseconds. Define
/// MRSOLVE_OPENMP_MIN_ELEMENTS before including mrsolve to change it.
#ifdef MRSOLVE_OPENMP_MIN_ELEMENTS
inline constexpr std::size_t openmp_min_elements = MRSOLVE_OPENMP_MIN_ELEMENTS;
#else
inline constexpr std::size_t openmp_min_elements = std::size_t{1} << 15;
#endif

/// @brief Whether mrsolve's host loops use OpenMP in this translation unit.
#if defined(_OPENMP) && !defined(MRSOLVE_NO_OPENMP)
inline constexpr bool host_openmp = true;
#else
inline constexpr bool host_openmp = false;
#endif

/// @brief Elements per work item when a host loop is shared among threads (a multiple of every normal
/// group size, so each item starts on a Philox group boundary).
inline constexpr std::size_t host_chunk = std::size_t{1} << 13;

/// @brief Runs body(begin, end) over [0, n) and ORs the results: in one call on the calling thread, or,
/// with OpenMP and n ≥ openmp_min_elements, in chunks of host_chunk elements shared among the threads.
/// Every element is computed by the same code whichever chunk and thread it falls in, so the results
/// are bitwise the same for any thread count; the OR of the flags is exact.
/// @tparam Body callable as unsigned(std::size_t begin, std::size_t end)
/// @param n the number of elements @param body the loop body over a range
/// @return the OR of body's results
template <class Body>
unsigned for_host_chunks(std::size_t n, Body&& body) noexcept {
    if constexpr (host_openmp) {
        if (n >= openmp_min_elements) {
            const auto chunks = static_cast<std::ptrdiff_t>((n + host_chunk - 1) / host_chunk);
            unsigned flags = 0;
#if defined(_OPENMP) && !defined(MRSOLVE_NO_OPENMP)
#pragma omp parallel for schedule(static) reduction(| : flags)
#endif
            for (std::ptrdiff_t c = 0; c < chunks; ++c) {
                const std::size_t begin = static_cast<std::size_t>(c) * host_chunk;
                const std::size_t end = n - begin < host_chunk ? n : begin + host_chunk;
                flags |= body(begin, end);
            }
            return flags;
        }
    }
    return body(std::size_t{0}, n);
}

/// @brief outᵢ[e] = Σ_k cᵢₖ inₖ[e] for e < n on the calling thread, one pass, in plain loops (the
/// kernel where no SIMD kernel is compiled, and for element types other than float and double);
/// returns the OR of (output − output ≠ 0) over all outputs, nonzero exactly when an output is NaN or ±∞.
template <std::size_t NOut, std::size_t NIn, std::floating_point T>
unsigned linear_map_kernel_portable(std::size_t n, const std::array<T*, NOut>& out_ref,
                           const std::array<std::array<T, NIn>, NOut>& c_ref,
                           const std::array<const T*, NIn>& in_ref) noexcept {
    // Outputs may alias inputs at the same index only; there is no dependence between iterations,
    // which the pragma tells the vectoriser. The finiteness test is an integer OR-reduction of
    // (v − v ≠ 0), true exactly for NaN and ±∞, so the loop stays vectorisable.
    // Local copies of the coefficients and pointers: when the caller's arrays are reachable from
    // elsewhere (captured by a lambda that an OpenMP region shares), a store to out[i][e] might, for
    // all the compiler knows, overwrite a coefficient (both are T), so it reloaded the coefficients
    // every element and did not vectorise the loop (seen with GCC 12 and -fopenmp: 10× slower steps on
    // states below openmp_min_elements). Locals whose address never escapes cannot be aliased.
    const std::array<std::array<T, NIn>, NOut> c = c_ref;
    const std::array<T*, NOut> out = out_ref;
    const std::array<const T*, NIn> in = in_ref;
    unsigned bad = 0;
#if defined(__clang__)
#pragma clang diagnostic push
// At -O1/-Os the vectoriser does not run and clang reports the unmet hint; that is harmless.
#pragma clang diagnostic ignored "-Wpass-failed"
#pragma clang loop vectorize(assume_safety)
#elif defined(__GNUC__)
#pragma GCC ivdep
#endif
    for (std::size_t e = 0; e < n; ++e) {
        T v[NIn];
        for (std::size_t k = 0; k < NIn; ++k) v[k] = in[k][e];
        for (std::size_t i = 0; i < NOut; ++i) {
            T acc = c[i][0] * v[0];
            for (std::size_t k = 1; k < NIn; ++k) acc += c[i][k] * v[k];
            out[i][e] = acc;
            const T d = acc - acc;
            bad |= static_cast<unsigned>(d != T(0));
        }
    }
#if defined(__clang__)
#pragma clang diagnostic pop
#endif
    return bad;
}

/// @brief outᵢ[e] = Σ_k cᵢₖ inₖ[e] for e < n on the calling thread (see linear_map_kernel_portable): on
/// x86-64 hosts by the SIMD kernel of the instruction set chosen at run time (mrsolve/simd.hpp), with
/// the same bits.
template <std::size_t NOut, std::size_t NIn, std::floating_point T>
unsigned linear_map_kernel(std::size_t n, const std::array<T*, NOut>& out, const std::array<std::array<T, NIn>, NOut>& c,
                           const std::array<const T*, NIn>& in) noexcept {
#if defined(MRSOLVE_DETAIL_SIMD_DISPATCH)
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        switch (active_simd_isa()) {
            case simd_isa::avx512: return simd_avx512::linear_map<NOut, NIn>(n, out, c, in);
            case simd_isa::avx2: return simd_avx2::linear_map<NOut, NIn>(n, out, c, in);
            case simd_isa::sse2: return simd_sse2::linear_map<NOut, NIn>(n, out, c, in);
            default: break;
        }
    }
#endif
    return linear_map_kernel_portable<NOut, NIn>(n, out, c, in);
}

/// @brief Offsets every pointer of an array by `begin` elements.
template <class P, std::size_t N>
[[nodiscard]] std::array<P, N> offset_pointers(const std::array<P, N>& p, std::size_t begin) noexcept {
    std::array<P, N> q{};
    for (std::size_t k = 0; k < N; ++k) q[k] = p[k] + begin;
    return q;
}

/// outᵢ[e] = Σ_k cᵢₖ inₖ[e] for e < n, one pass (OpenMP across elements for large n, see
/// for_host_chunks); returns whether every output is finite.
template <std::size_t NOut, std::size_t NIn, std::floating_point T>
bool linear_map_host(std::size_t n, const std::array<T*, NOut>& out, const std::array<std::array<T, NIn>, NOut>& c,
                     const std::array<const T*, NIn>& in) noexcept {
    const unsigned bad = for_host_chunks(n, [&](std::size_t begin, std::size_t end) {
        return linear_map_kernel<NOut, NIn>(end - begin, offset_pointers(out, begin), c, offset_pointers(in, begin));
    });
    return bad == 0;
}

/// @brief Elements of counter-based normals generated per block by linear_map_normal_host (a multiple
/// of every normal group size; the block lives on the stack and stays in L1).
inline constexpr std::size_t normal_block_elements = 512;

/// The fused stochastic step: outᵢ[e] = Σ_{k < NIn−1} cᵢₖ inₖ[e] + cᵢ,NIn−1 · z[e] with
/// z[e] = generator.normal<T>(step, e), for e < n. The normals are generated block by block into a
/// buffer on the stack and consumed there, so z never travels through memory; each block is
/// philox_normal::fill followed by linear_map_kernel with the buffer as the last input, so the results
/// are bit for bit those of fill_normal into a state followed by linear_map with that state as the
/// last input. Returns whether every output is finite.
template <std::size_t NOut, std::size_t NIn, std::floating_point T>
bool linear_map_normal_host(std::size_t n, const std::array<T*, NOut>& out,
                            const std::array<std::array<T, NIn>, NOut>& c, const std::array<const T*, NIn - 1>& in,
                            const philox_normal& generator, std::uint64_t step) noexcept {
    static_assert(NIn >= 1, "the normals are the last input");
    static_assert(host_chunk % normal_block_elements == 0);
    const unsigned bad = for_host_chunks(n, [&](std::size_t begin, std::size_t end) {
        alignas(64) T z[normal_block_elements];
        unsigned flags = 0;
        for (std::size_t b = begin; b < end; b += normal_block_elements) {
            const std::size_t len = end - b < normal_block_elements ? end - b : normal_block_elements;
            generator.fill(std::span<T>(z, len), step, b);
            std::array<const T*, NIn> inputs{};
            for (std::size_t k = 0; k + 1 < NIn; ++k) inputs[k] = in[k] + b;
            inputs[NIn - 1] = z;
            flags |= linear_map_kernel<NOut, NIn>(len, offset_pointers(out, b), c, inputs);
        }
        return flags;
    });
    return bad == 0;
}

/// out[e] = generator.normal<T>(step, e) for e < n (OpenMP across elements for large n).
template <std::floating_point T>
void fill_normal_host(T* out, std::size_t n, const philox_normal& generator, std::uint64_t step) noexcept {
    for_host_chunks(n, [&](std::size_t begin, std::size_t end) {
        generator.fill(std::span<T>(out + begin, end - begin), step, begin);
        return 0u;
    });
}

/// Nonzero exactly when an element of p[0 … n) is NaN or ±∞, on the calling thread: the OR of
/// (v − v ≠ 0), by the SIMD kernel chosen at run time on x86-64 hosts, else a vectorisable loop.
template <std::floating_point T>
[[nodiscard]] unsigned non_finite_kernel(const T* p, std::size_t n) noexcept {
#if defined(MRSOLVE_DETAIL_SIMD_DISPATCH)
    if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>) {
        switch (active_simd_isa()) {
            case simd_isa::avx512: return simd_avx512::non_finite(p, n);
            case simd_isa::avx2: return simd_avx2::non_finite(p, n);
            case simd_isa::sse2: return simd_sse2::non_finite(p, n);
            default: break;
        }
    }
#endif
    unsigned flags = 0;
    for (std::size_t e = 0; e < n; ++e) {
        const T d = p[e] - p[e];
        flags |= static_cast<unsigned>(d != T(0));
    }
    return flags;
}

/// Whether every element of p[0 … n) is finite (OpenMP across elements for large n).
template <std::floating_point T>
[[nodiscard]] bool all_finite_host(const T* p, std::size_t n) noexcept {
    const unsigned bad = for_host_chunks(
        n, [&](std::size_t begin, std::size_t end) { return non_finite_kernel(p + begin, end - begin); });
    return bad == 0;
}

/// linear_map_host over states whose elements lie contiguously behind std::data(state) (std::vector,
/// Eigen dense objects, xtensor containers): the shared body of those backends' linear_map.
template <std::size_t NOut, std::size_t NIn, class S, std::floating_point T>
bool linear_map_storage(std::size_t n, const std::array<S*, NOut>& out, const std::array<std::array<T, NIn>, NOut>& c,
                        const std::array<const S*, NIn>& in) noexcept {
    std::array<T*, NOut> o{};
    std::array<const T*, NIn> i{};
    for (std::size_t k = 0; k < NOut; ++k) o[k] = std::data(*out[k]);
    for (std::size_t k = 0; k < NIn; ++k) i[k] = std::data(*in[k]);
    return linear_map_host<NOut, NIn>(n, o, c, i);
}

/// linear_map_normal_host over contiguous states (as linear_map_storage).
template <std::size_t NOut, std::size_t NIn, class S, std::floating_point T>
bool linear_map_normal_storage(std::size_t n, const std::array<S*, NOut>& out,
                               const std::array<std::array<T, NIn>, NOut>& c, const std::array<const S*, NIn - 1>& in,
                               const philox_normal& generator, std::uint64_t step) noexcept {
    std::array<T*, NOut> o{};
    std::array<const T*, NIn - 1> i{};
    for (std::size_t k = 0; k < NOut; ++k) o[k] = std::data(*out[k]);
    for (std::size_t k = 0; k + 1 < NIn; ++k) i[k] = std::data(*in[k]);
    return linear_map_normal_host<NOut, NIn>(n, o, c, i, generator, step);
}

}  // namespace detail

namespace detail {

/// @brief The host-storage backend shared by every state whose elements lie contiguously in host memory
/// (`std::data(s)`, `std::size(s)`): std::vector and other contiguous containers, Eigen and xtensor
/// objects. Each primitive is the host kernel on the storage (SIMD on x86-64, chosen at run time; see
/// mrsolve/simd.hpp), shared among OpenMP threads for large states; element e is storage index e, so every
/// such backend draws the same normals and gives the same bits. A backend derives from it and adds
/// `make_like`.
/// @tparam S the state type
template <class S>
struct host_storage_backend {
    /// @brief The element scalar.
    using value_type = std::remove_cv_t<std::remove_pointer_t<decltype(std::data(std::declval<S&>()))>>;

    /// @brief Number of elements. @param s state @return its size
    [[nodiscard]] static std::size_t size(const S& s) noexcept { return static_cast<std::size_t>(std::size(s)); }

    /// @brief The code the updates run on (see concepts/state.hpp): "host/" and the kernels' instruction set.
    /// @return e.g. "host/avx2", whatever the states
    [[nodiscard]] static std::string_view execution_path(const S&, const S&) noexcept {
        return host_kernel_path(active_simd_isa());
    }

    /// @brief The fused multi-output linear combination over the storage (see concepts/state.hpp); an
    /// output may be the same object as an input.
    /// @tparam NOut number of outputs @tparam NIn number of inputs
    /// @param out outputs @param coef coefficient matrix @param in inputs
    /// @pre every state has the element count of `*in[0]` (the sampler checks this once per run)
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<S*, NOut>& out, const std::array<std::array<value_type, NIn>, NOut>& coef,
                           const std::array<const S*, NIn>& in) noexcept {
        return linear_map_storage<NOut, NIn>(size(*in[0]), out, coef, in);
    }

    /// @brief The fused stochastic step (see concepts/state.hpp): linear_map whose last input is the
    /// counter-based normal vector of the step, generated block by block inside the pass (never stored);
    /// bitwise fill_normal followed by linear_map.
    /// @tparam NOut number of outputs @tparam NIn number of inputs, the normals included
    /// @param out outputs @param coef coefficient matrix (last column: the normals)
    /// @param in the NIn − 1 state inputs @param generator the normal generator @param step the step index
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map_normal(const std::array<S*, NOut>& out,
                                  const std::array<std::array<value_type, NIn>, NOut>& coef,
                                  const std::array<const S*, NIn - 1>& in, const philox_normal& generator,
                                  std::uint64_t step) noexcept {
        return linear_map_normal_storage<NOut, NIn>(size(*out[0]), out, coef, in, generator, step);
    }

    /// @brief Whether every element is finite: the vectorised check over the storage (Eigen's allFinite()
    /// was measured 6× slower on 196608 floats). @param s state @return true if no NaN or ±∞
    [[nodiscard]] static bool all_finite(const S& s) noexcept { return all_finite_host(std::data(s), size(s)); }

    /// @brief Fills s with the counter-based normals of a step: storage index e gets the normal of
    /// element e. @param s output @param generator the generator @param step the step index
    static void fill_normal(S& s, const philox_normal& generator, std::uint64_t step) noexcept {
        fill_normal_host(std::data(s), size(s), generator, step);
    }

    /// @brief Direct host access (enables dynamic thresholding and element-naming messages).
    /// @param s state @return a span over its storage, in storage order
    [[nodiscard]] static std::span<value_type> host_span(S& s) noexcept { return {std::data(s), size(s)}; }
    /// @brief Direct read-only host access. @param s state @return a span over its storage
    [[nodiscard]] static std::span<const value_type> host_span(const S& s) noexcept {
        return {std::data(s), size(s)};
    }
};

}  // namespace detail

/// @brief Backend for contiguous host containers (std::vector, std::array, …): the host-storage kernels.
/// @tparam S the container type
template <ContiguousContainer S>
struct backend_traits<S> : detail::host_storage_backend<S> {
    /// @brief The element scalar.
    using value_type = typename detail::host_storage_backend<S>::value_type;

    /// @brief A zero state of the same size. @param s model @return the new state
    [[nodiscard]] static S make_like(const S& s) {
        const std::size_t n = detail::host_storage_backend<S>::size(s);
        S out(n);
        std::fill_n(std::data(out), n, value_type(0));
        return out;
    }
};

}  // namespace mrsolve
