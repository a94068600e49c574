#pragma once
/// @file thrust.hpp
/// @brief Thrust backend: `thrust::device_vector<float>` and `thrust::device_vector<double>` (any
/// allocator) as sampler states, on the device system the translation unit is compiled for. Link
/// mrsolve::thrust.
///
/// **Device systems.** Compiled by nvcc, Thrust's default device system is CUDA and the state lives in
/// GPU memory. A host compiler (g++, clang++) needs `THRUST_DEVICE_SYSTEM` defined to
/// `THRUST_DEVICE_SYSTEM_CPP` (serial), `THRUST_DEVICE_SYSTEM_OMP` (OpenMP; compile with -fopenmp) or
/// `THRUST_DEVICE_SYSTEM_TBB`; the same code then runs on the CPU. With nvcc, functions called on the
/// device from mrsolve's noise generator use `std::array`, so compile with `--expt-relaxed-constexpr`.
///
/// **One launch per primitive.** Every primitive is one `thrust::for_each_n` over a counting iterator
/// whose functor holds raw device pointers and, for `linear_map`, the whole coefficient matrix by value:
///  - `linear_map<NOut, NIn>` computes all NOut outputs of an element from its NIn inputs in one pass and
///    raises a non-finite flag in the same pass (a plain store of 1, made only by elements that produced
///    a NaN or ±∞), so a deterministic solver step is one kernel launch (besides the model's own);
///  - `all_finite` is the same pass with a read-only functor;
///  - `linear_map_normal` (the fused stochastic step) is `linear_map` whose last input, the step's
///    counter-based normals z[e] = `philox_normal::normal<T>(step, e)`, is generated inside the same
///    pass and never stored: with mrsolve::counter_noise a stochastic step is one launch as well;
///  - `fill_normal` writes those normals into a state (other noise paths), one Philox call per element
///    group.
///
/// No primitive allocates or copies the state to the host. The flag is the only value that crosses: on
/// the CPU systems it is a local variable of the calling thread (device memory is host memory there);
/// on CUDA it is one word of pinned, mapped host memory per host thread (allocated by the first
/// `make_like` of the thread, i.e. at the sampler's set-up), read after the launch: `thrust::device`
/// synchronises the stream when an algorithm returns, so a primitive returns with its work done.
///
/// **Rounding.** `linear_map` rounds every product and every sum, in the order of the host loop
/// (outᵢ = ((cᵢ₀ in₀ + cᵢ₁ in₁) + …)), also on the GPU where nvcc would fuse them into FMAs (a step is
/// memory-bound, so this costs nothing): a GPU step gives the host's result bit for bit when the host
/// build does not contract either (x86-64 without -mfma). Sampled paths then differ only through the
/// normals (the same Philox words; their −2 ln u and sin/cos kernels may round differently on the GPU
/// by a few ulp, see mrsolve::philox_normal) and the user's model.
///
/// **Granularity.** On CUDA one functor call handles one element (one element group for the normals):
/// neighbouring threads touch neighbouring elements, so every access is coalesced. On the CPU systems
/// one call handles a block of detail::thrust_cpu_block elements, a plain loop the compiler vectorises,
/// and OpenMP threads share the blocks; the results do not depend on the thread count, since every
/// element is computed by the same expression whatever block it is in.
///
/// **Not provided.** No `host_span`: dynamic thresholding (which needs the host) is rejected for these
/// states by mrsolve::sampler with mrsolve::invalid_argument. `thrust::host_vector<float|double>` needs
/// nothing from this header: it is a contiguous host container and uses the default backend
/// (<mrsolve/backend/contiguous.hpp>), host_span and thresholding included.
///
/// **Threads.** The primitives are reentrant: each host thread has its own flag. A CUDA error surfaces
/// as the `thrust::system_error` Thrust throws (for `fill_normal`, called through the noexcept
/// mrsolve::counter_noise::fill, as std::terminate).

#include <array>
#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <type_traits>

#include <thrust/device_vector.h>
#include <thrust/execution_policy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
#include <cuda_runtime_api.h>
#include <thrust/system/cuda/error.h>
#include <thrust/system_error.h>
#endif

#include "../detail/host_device.hpp"
#include "../noise/normal.hpp"
#include "../noise/philox.hpp"
#include "../concepts/state.hpp"

namespace mrsolve {

/// @brief The element types the Thrust backend supports: float and double.
/// @tparam T the element type
template <class T>
concept ThrustElement = std::same_as<T, float> || std::same_as<T, double>;

namespace detail {

/// @brief Whether this translation unit's Thrust device system runs on a GPU (CUDA).
inline constexpr bool thrust_device_is_cuda = THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA;

/// @brief Elements per functor call on the CPU device systems (CPP, OMP, TBB): large enough for the
/// vectorised inner loop to dominate, small enough for OpenMP threads to share a 3·64·64 state.
inline constexpr std::uint64_t thrust_cpu_block = 2048;

/// @brief Elements per functor call of linear_map and all_finite on this device system.
inline constexpr std::uint64_t thrust_elements_per_call = thrust_device_is_cuda ? 1 : thrust_cpu_block;

/// @brief Normal groups (mrsolve::philox_normal::elements_per_group elements each) per functor call of
/// fill_normal on this device system.
/// @tparam T the element type
template <ThrustElement T>
inline constexpr std::uint64_t thrust_groups_per_call =
    thrust_device_is_cuda ? 1 : thrust_cpu_block / philox_normal::elements_per_group<T>;

/// @brief Sets a non-finite flag to 1. Every writer writes the same value, so no read-modify-write is
/// needed; on the host it is a relaxed atomic store (OpenMP threads may raise it together).
/// @param flag the flag (device-visible memory)
MRSOLVE_HOST_DEVICE inline void thrust_raise_flag(unsigned* flag) noexcept {
#if defined(__CUDA_ARCH__)
    *static_cast<volatile unsigned*>(flag) = 1u;
#else
    std::atomic_ref<unsigned>(*flag).store(1u, std::memory_order_relaxed);
#endif
}

/// @brief a·b rounded once, never contracted with a following addition (on the device nvcc would
/// otherwise fuse a·b + c into one FMA).
/// @tparam T float or double @param a factor @param b factor @return the rounded product
template <ThrustElement T>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline T thrust_mul(T a, T b) noexcept {
#if defined(__CUDA_ARCH__)
    if constexpr (std::is_same_v<T, float>) return __fmul_rn(a, b);
    else return __dmul_rn(a, b);
#else
    return a * b;
#endif
}

/// @brief a + b rounded once, never contracted with a preceding multiplication.
/// @tparam T float or double @param a summand @param b summand @return the rounded sum
template <ThrustElement T>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline T thrust_add(T a, T b) noexcept {
#if defined(__CUDA_ARCH__)
    if constexpr (std::is_same_v<T, float>) return __fadd_rn(a, b);
    else return __dadd_rn(a, b);
#else
    return a + b;
#endif
}

/// @brief One element of the fused map: outᵣ[e] = Σ_k coef[r][k] v[k] for every output r, in the
/// order ((c₀ v₀ + c₁ v₁) + …) with every product and sum rounded; v holds the element's inputs, read
/// before any output is written.
/// @tparam T element type @tparam NOut number of outputs @tparam NIn number of inputs
/// @param out output arrays @param coef coefficient matrix @param v the element's inputs @param e the element
/// @return 1 if an output is NaN or ±∞, else 0 (an integer OR of (v − v ≠ 0), vectorisable)
template <ThrustElement T, std::size_t NOut, std::size_t NIn>
[[nodiscard]] MRSOLVE_HOST_DEVICE inline unsigned thrust_combine(T* const (&out)[NOut], const T (&coef)[NOut][NIn],
                                                                 const T (&v)[NIn], std::uint64_t e) noexcept {
    unsigned bad = 0;
    for (std::size_t r = 0; r < NOut; ++r) {
        T acc = thrust_mul(coef[r][0], v[0]);
        for (std::size_t k = 1; k < NIn; ++k) acc = thrust_add(acc, thrust_mul(coef[r][k], v[k]));
        out[r][e] = acc;
        const T d = acc - acc;
        bad |= static_cast<unsigned>(d != T(0));
    }
    return bad;
}

/// @brief The normals of one element group, computed on the spot: one Philox call keyed as the keying
/// contract of mrsolve::philox_normal states (key = (seed mod 2³², ⌊seed / 2³²⌋), counter = (group,
/// step)), so z[j] = generator.normal<T>(step, group·G + j) (tests assert it element by element).
/// @tparam T element type
/// @param generator the generator @param group the group index @param step the step index
/// @param z the G = philox_normal::elements_per_group<T> normals of the group
template <ThrustElement T>
MRSOLVE_HOST_DEVICE inline void thrust_normal_group(const philox_normal& generator, std::uint64_t group,
                                                    std::uint64_t step,
                                                    T (&z)[philox_normal::elements_per_group<T>]) noexcept {
    using C = normal_compute_t<T>;
    const std::uint64_t seed = generator.seed();
    const philox4x32_counter r =
        philox4x32_10(philox_normal_counter(group, step),
                      philox4x32_key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)});
    const auto normals = philox_normal_group<C>(r);
    for (std::size_t j = 0; j < philox_normal::elements_per_group<T>; ++j) z[j] = static_cast<T>(normals[j]);
}

/// @brief The functor of linear_map: outᵢ[e] = Σ_k cᵢₖ inₖ[e] for the elements of one block, every
/// input of an element read before any output of it is written; raises the flag if an output is NaN
/// or ±∞. Plain arrays (not std::array) so that it needs no relaxed constexpr on the device.
/// @tparam T the element type
/// @tparam NOut number of outputs
/// @tparam NIn number of inputs
/// @tparam PerCall elements per call (block size)
template <ThrustElement T, std::size_t NOut, std::size_t NIn, std::uint64_t PerCall>
struct thrust_linear_map_kernel {
    T* out[NOut];          ///< output arrays (raw device pointers)
    const T* in[NIn];      ///< input arrays (raw device pointers)
    T coef[NOut][NIn];     ///< coefficient matrix, by value
    std::uint64_t n;       ///< number of elements
    unsigned* flag;        ///< the non-finite flag

    /// @brief Processes block `index`: elements [index·PerCall, min((index + 1)·PerCall, n)).
    /// @param index the block index
    MRSOLVE_HOST_DEVICE void operator()(std::uint64_t index) const {
        const std::uint64_t begin = index * PerCall;
        const std::uint64_t end = n - begin < PerCall ? n : begin + PerCall;
        T* o[NOut];
        const T* i[NIn];
        for (std::size_t k = 0; k < NOut; ++k) o[k] = out[k];
        for (std::size_t k = 0; k < NIn; ++k) i[k] = in[k];
        // Outputs alias inputs at the same index only (no loop-carried dependence), which the pragma
        // tells the host compiler, so the CPU loop vectorises.
        unsigned bad = 0;
#if !defined(__CUDA_ARCH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
        for (std::uint64_t e = begin; e < end; ++e) {
            T v[NIn];
            for (std::size_t k = 0; k < NIn; ++k) v[k] = i[k][e];
            bad |= thrust_combine<T, NOut, NIn>(o, coef, v, e);
        }
        if (bad != 0) thrust_raise_flag(flag);
    }
};

/// @brief The functor of linear_map_normal, the fused stochastic step: linear_map whose last input is
/// z[e] = generator.normal<T>(step, e), generated for the block and consumed in place (never stored).
///
/// A block is GroupsPerCall normal groups. With one group (CUDA) the group's normals come from its
/// single Philox call (thrust_normal_group); with more (CPU systems) from philox_normal::fill into a
/// buffer on the stack. Either way the values are those fill_normal writes and every element is
/// combined by thrust_combine as in linear_map, so the results are bit for bit those of fill_normal
/// followed by linear_map with the filled state as the last input.
/// @tparam T the element type
/// @tparam NOut number of outputs
/// @tparam NIn number of inputs, the normals included (the last)
/// @tparam GroupsPerCall normal groups per call (block size)
template <ThrustElement T, std::size_t NOut, std::size_t NIn, std::uint64_t GroupsPerCall>
struct thrust_linear_map_normal_kernel {
    static_assert(NIn >= 1, "the normals are the last input");
    /// @brief Number of state inputs (all but the normals).
    static constexpr std::size_t states = NIn - 1;
    T* out[NOut];                           ///< output arrays (raw device pointers)
    const T* in[states > 0 ? states : 1];   ///< state input arrays (raw device pointers)
    T coef[NOut][NIn];                      ///< coefficient matrix, by value; column NIn − 1 weighs z
    std::uint64_t n;                        ///< number of elements
    philox_normal generator;                ///< the generator (seed)
    std::uint64_t step;                     ///< the step index
    unsigned* flag;                         ///< the non-finite flag

    /// @brief Processes block `index`: groups [index·GroupsPerCall, (index + 1)·GroupsPerCall), clipped to n.
    /// @param index the block index
    MRSOLVE_HOST_DEVICE void operator()(std::uint64_t index) const {
        constexpr std::uint64_t group_size = philox_normal::elements_per_group<T>;
        constexpr std::uint64_t per_call = GroupsPerCall * group_size;
        const std::uint64_t first = index * per_call;
        const std::uint64_t count = n - first < per_call ? n - first : per_call;
        T z[per_call];
        if constexpr (GroupsPerCall == 1) {
            thrust_normal_group<T>(generator, index, step, z);
        } else {
            generator.fill(std::span<T>(z, static_cast<std::size_t>(count)), step, first);
        }
        T* o[NOut];
        const T* i[states > 0 ? states : 1] = {};
        for (std::size_t k = 0; k < NOut; ++k) o[k] = out[k];
        for (std::size_t k = 0; k + 1 < NIn; ++k) i[k] = in[k];  // (not k < states: 0 when NIn = 1)
        unsigned bad = 0;
#if !defined(__CUDA_ARCH__) && defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
        for (std::uint64_t j = 0; j < count; ++j) {
            const std::uint64_t e = first + j;
            T v[NIn];
            for (std::size_t k = 0; k + 1 < NIn; ++k) v[k] = i[k][e];
            v[NIn - 1] = z[j];
            bad |= thrust_combine<T, NOut, NIn>(o, coef, v, e);
        }
        if (bad != 0) thrust_raise_flag(flag);
    }
};

/// @brief The functor of all_finite: raises the flag if an element of the block is NaN or ±∞.
/// @tparam T the element type
/// @tparam PerCall elements per call (block size)
template <ThrustElement T, std::uint64_t PerCall>
struct thrust_all_finite_kernel {
    const T* data;    ///< the array (raw device pointer)
    std::uint64_t n;  ///< number of elements
    unsigned* flag;   ///< the non-finite flag

    /// @brief Checks block `index`: elements [index·PerCall, min((index + 1)·PerCall, n)).
    /// @param index the block index
    MRSOLVE_HOST_DEVICE void operator()(std::uint64_t index) const {
        const std::uint64_t begin = index * PerCall;
        const std::uint64_t end = n - begin < PerCall ? n : begin + PerCall;
        const T* p = data;
        unsigned bad = 0;
        for (std::uint64_t e = begin; e < end; ++e) {
            const T d = p[e] - p[e];
            bad |= static_cast<unsigned>(d != T(0));
        }
        if (bad != 0) thrust_raise_flag(flag);
    }
};

/// @brief The functor of fill_normal: writes philox_normal::normal<T>(step, e) into out[e] for the
/// elements of `GroupsPerCall` consecutive normal groups.
///
/// With one group per call (CUDA) the group's single Philox call (thrust_normal_group); with more
/// (CPU systems) philox_normal::fill on the block, the host's vectorised path. Both give the values of
/// philox_normal::normal (tests assert it element by element).
/// @tparam T the element type
/// @tparam GroupsPerCall normal groups per call
template <ThrustElement T, std::uint64_t GroupsPerCall>
struct thrust_fill_normal_kernel {
    T* out;                   ///< the array (raw device pointer)
    std::uint64_t n;          ///< number of elements
    philox_normal generator;  ///< the generator (seed)
    std::uint64_t step;       ///< the step index

    /// @brief Fills block `index`: groups [index·GroupsPerCall, (index + 1)·GroupsPerCall), clipped to n.
    /// @param index the block index
    MRSOLVE_HOST_DEVICE void operator()(std::uint64_t index) const {
        constexpr std::uint64_t group_size = philox_normal::elements_per_group<T>;
        constexpr std::uint64_t per_call = GroupsPerCall * group_size;
        const std::uint64_t first = index * per_call;
        if constexpr (GroupsPerCall == 1) {
            T z[group_size];
            thrust_normal_group<T>(generator, index, step, z);
            for (std::uint64_t j = 0; j < group_size; ++j)
                if (first + j < n) out[first + j] = z[j];
        } else {
            const std::uint64_t count = n - first < per_call ? n - first : per_call;
            generator.fill(std::span<T>(out + first, static_cast<std::size_t>(count)), step, first);
        }
    }
};

#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
/// @brief The calling host thread's non-finite flag on CUDA: one word of pinned host memory, mapped
/// into every device's address space (portable), written by kernels and read by the host after the
/// launch has synchronised.
class thrust_cuda_flag {
public:
    /// @brief The calling thread's flag, allocated on first use.
    /// @return the flag
    /// @throws thrust::system_error if the pinned allocation fails
    [[nodiscard]] static thrust_cuda_flag& get() {
        thread_local thrust_cuda_flag flag;
        return flag;
    }

    thrust_cuda_flag(const thrust_cuda_flag&) = delete;
    thrust_cuda_flag& operator=(const thrust_cuda_flag&) = delete;

    /// @brief Frees the pinned word (errors at process teardown are ignored).
    ~thrust_cuda_flag() {
        if (host_ != nullptr) (void)cudaFreeHost(host_);
    }

    /// @brief The pointer kernels write through. @return the device pointer of the word
    [[nodiscard]] unsigned* device() const noexcept { return device_; }

    /// @brief Reads the flag and clears it. @return whether it was raised
    [[nodiscard]] bool take() noexcept {
        volatile unsigned* word = host_;
        const bool raised = *word != 0u;
        if (raised) *word = 0u;
        return raised;
    }

private:
    /// Allocates the pinned word (through get()).
    thrust_cuda_flag() {
        void* host = nullptr;
        check(cudaHostAlloc(&host, sizeof(unsigned), cudaHostAllocMapped | cudaHostAllocPortable),
              "mrsolve thrust backend: pinned allocation of the non-finite flag");
        host_ = static_cast<unsigned*>(host);
        *host_ = 0u;
        void* device = nullptr;
        check(cudaHostGetDevicePointer(&device, host, 0),
              "mrsolve thrust backend: device pointer of the non-finite flag");
        device_ = static_cast<unsigned*>(device);
    }

    /// Throws thrust::system_error for a failed CUDA call, releasing what was allocated.
    void check(cudaError_t status, const char* what) {
        if (status == cudaSuccess) return;
        if (host_ != nullptr) (void)cudaFreeHost(host_);
        host_ = nullptr;
        throw thrust::system_error(status, thrust::cuda_category(), what);
    }

    unsigned* host_ = nullptr;    ///< the word, as the host sees it
    unsigned* device_ = nullptr;  ///< the word, as kernels see it
};
#endif

/// @brief Runs a flag-raising functor over `calls` block indices (one launch) and reports the flag.
/// @tparam Kernel a functor with a `flag` member
/// @param kernel the functor (its flag is set here)
/// @param calls the number of block indices
/// @return true if no call raised the flag
template <class Kernel>
[[nodiscard]] bool thrust_launch_flagged(Kernel kernel, std::uint64_t calls) {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
    thrust_cuda_flag& flag = thrust_cuda_flag::get();
    kernel.flag = flag.device();
    // thrust::device synchronises the stream before returning, so the kernel's store is visible.
    thrust::for_each_n(thrust::device, thrust::counting_iterator<std::uint64_t>(0), calls, kernel);
    return !flag.take();
#else
    // CPU device systems: device memory is host memory, a local will do.
    unsigned flag = 0;
    kernel.flag = &flag;
    thrust::for_each_n(thrust::device, thrust::counting_iterator<std::uint64_t>(0), calls, kernel);
    return std::atomic_ref<unsigned>(flag).load(std::memory_order_relaxed) == 0u;
#endif
}

/// @brief Number of blocks of `per_call` elements that cover n elements.
/// @param n elements @param per_call block size @return ⌈n / per_call⌉
[[nodiscard]] constexpr std::uint64_t thrust_blocks(std::uint64_t n, std::uint64_t per_call) noexcept {
    return n / per_call + (n % per_call != 0 ? 1 : 0);
}

/// @brief The fused linear map on raw device arrays, one launch (see backend_traits::linear_map).
/// @tparam PerCall elements per functor call
/// @tparam NOut number of outputs @tparam NIn number of inputs @tparam T element type
/// @param n elements @param out outputs @param coef coefficients @param in inputs
/// @return false if any output element is NaN or ±∞
template <std::uint64_t PerCall, std::size_t NOut, std::size_t NIn, ThrustElement T>
[[nodiscard]] bool thrust_linear_map(std::uint64_t n, const std::array<T*, NOut>& out,
                                     const std::array<std::array<T, NIn>, NOut>& coef,
                                     const std::array<const T*, NIn>& in) {
    static_assert(NOut >= 1 && NIn >= 1, "linear_map needs at least one output and one input");
    thrust_linear_map_kernel<T, NOut, NIn, PerCall> kernel{};
    for (std::size_t r = 0; r < NOut; ++r) {
        kernel.out[r] = out[r];
        for (std::size_t k = 0; k < NIn; ++k) kernel.coef[r][k] = coef[r][k];
    }
    for (std::size_t k = 0; k < NIn; ++k) kernel.in[k] = in[k];
    kernel.n = n;
    return thrust_launch_flagged(kernel, thrust_blocks(n, PerCall));
}

/// @brief The fused stochastic step on raw device arrays, one launch (see backend_traits::linear_map_normal).
/// @tparam GroupsPerCall normal groups per functor call
/// @tparam NOut number of outputs @tparam NIn number of inputs, the normals included @tparam T element type
/// @param n elements @param out outputs @param coef coefficients (column NIn − 1 weighs the normals)
/// @param in the NIn − 1 state inputs @param generator the generator @param step the step index
/// @return false if any output element is NaN or ±∞
template <std::uint64_t GroupsPerCall, std::size_t NOut, std::size_t NIn, ThrustElement T>
[[nodiscard]] bool thrust_linear_map_normal(std::uint64_t n, const std::array<T*, NOut>& out,
                                            const std::array<std::array<T, NIn>, NOut>& coef,
                                            const std::array<const T*, NIn - 1>& in, const philox_normal& generator,
                                            std::uint64_t step) {
    static_assert(NOut >= 1 && NIn >= 1, "linear_map_normal needs an output and the normals");
    thrust_linear_map_normal_kernel<T, NOut, NIn, GroupsPerCall> kernel{{}, {}, {}, n, generator, step, nullptr};
    for (std::size_t r = 0; r < NOut; ++r) {
        kernel.out[r] = out[r];
        for (std::size_t k = 0; k < NIn; ++k) kernel.coef[r][k] = coef[r][k];
    }
    for (std::size_t k = 0; k + 1 < NIn; ++k) kernel.in[k] = in[k];
    return thrust_launch_flagged(kernel, thrust_blocks(n, GroupsPerCall * philox_normal::elements_per_group<T>));
}

/// @brief Whether a raw device array is all finite, one launch.
/// @tparam PerCall elements per functor call @tparam T element type
/// @param data the array @param n elements
/// @return true if no element is NaN or ±∞
template <std::uint64_t PerCall, ThrustElement T>
[[nodiscard]] bool thrust_all_finite(const T* data, std::uint64_t n) {
    return thrust_launch_flagged(thrust_all_finite_kernel<T, PerCall>{data, n, nullptr}, thrust_blocks(n, PerCall));
}

/// @brief Writes philox_normal::normal<T>(step, e) into out[e] for e < n, one launch.
/// @tparam GroupsPerCall normal groups per functor call @tparam T element type
/// @param out the array @param n elements @param generator the generator @param step the step index
template <std::uint64_t GroupsPerCall, ThrustElement T>
void thrust_fill_normal(T* out, std::uint64_t n, const philox_normal& generator, std::uint64_t step) {
    constexpr std::uint64_t per_call = GroupsPerCall * philox_normal::elements_per_group<T>;
    if (n == 0) return;
    thrust::for_each_n(thrust::device, thrust::counting_iterator<std::uint64_t>(0), thrust_blocks(n, per_call),
                       thrust_fill_normal_kernel<T, GroupsPerCall>{out, n, generator, step});
}

}  // namespace detail

/// @brief Backend for `thrust::device_vector<float|double, Alloc>` on the translation unit's device
/// system (see the file comment): each primitive is one launch over the elements, nothing is copied to
/// the host but a one-word non-finite flag.
/// @tparam T float or double
/// @tparam Alloc the vector's allocator
template <ThrustElement T, class Alloc>
struct backend_traits<thrust::device_vector<T, Alloc>> {
    /// @brief The state type.
    using state_type = thrust::device_vector<T, Alloc>;
    /// @brief The element scalar.
    using value_type = T;

    /// @brief Number of elements. @param s state @return its size
    [[nodiscard]] static std::size_t size(const state_type& s) noexcept { return static_cast<std::size_t>(s.size()); }

    /// @brief The code the updates run on (see concepts/state.hpp): the device system of this translation unit.
    /// @return "thrust cuda", "thrust omp", "thrust tbb" or "thrust cpp"
    [[nodiscard]] static std::string_view execution_path(const state_type&, const state_type&) noexcept {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
        return "thrust cuda";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_OMP
        return "thrust omp";
#elif THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_TBB
        return "thrust tbb";
#else
        return "thrust cpp";
#endif
    }

    /// @brief A zero state of the same size (set-up: allocates, and on CUDA also the calling thread's
    /// non-finite flag, so that the sampling loop allocates nothing).
    /// @param s model
    /// @return the new state
    /// @throws whatever Thrust throws when the allocation fails
    [[nodiscard]] static state_type make_like(const state_type& s) {
#if THRUST_DEVICE_SYSTEM == THRUST_DEVICE_SYSTEM_CUDA
        (void)detail::thrust_cuda_flag::get();
#endif
        return state_type(s.size(), T(0), s.get_allocator());
    }

    /// @brief The fused multi-output linear combination (see concepts/state.hpp): outᵢ[e] = Σ_k cᵢₖ inₖ[e],
    /// all outputs and the non-finite test in one launch. Outputs may be the same objects as inputs.
    /// @tparam NOut number of outputs @tparam NIn number of inputs
    /// @param out outputs @param coef coefficient matrix @param in inputs
    /// @pre every state has the size of in[0]
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<state_type*, NOut>& out,
                           const std::array<std::array<value_type, NIn>, NOut>& coef,
                           const std::array<const state_type*, NIn>& in) {
        std::array<T*, NOut> o{};
        std::array<const T*, NIn> i{};
        for (std::size_t k = 0; k < NOut; ++k) o[k] = thrust::raw_pointer_cast(out[k]->data());
        for (std::size_t k = 0; k < NIn; ++k) i[k] = thrust::raw_pointer_cast(in[k]->data());
        return detail::thrust_linear_map<detail::thrust_elements_per_call, NOut, NIn>(in[0]->size(), o, coef, i);
    }

    /// @brief The fused stochastic step (see concepts/state.hpp): linear_map whose last input (coefficient
    /// column NIn − 1) is z[e] = generator.normal<T>(step, e), generated inside the same launch and never
    /// stored; bit for bit fill_normal followed by linear_map with the filled state as the last input.
    /// With it a stochastic step driven by counter_noise is one launch, like a deterministic one.
    /// @tparam NOut number of outputs @tparam NIn number of inputs, the normals included
    /// @param out outputs @param coef coefficient matrix @param in the NIn − 1 state inputs
    /// @param generator the generator @param step the step index
    /// @pre every state has the size of out[0]
    /// @return false if any output element is NaN or ±∞
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map_normal(const std::array<state_type*, NOut>& out,
                                  const std::array<std::array<value_type, NIn>, NOut>& coef,
                                  const std::array<const state_type*, NIn - 1>& in, const philox_normal& generator,
                                  std::uint64_t step) {
        std::array<T*, NOut> o{};
        std::array<const T*, NIn - 1> i{};
        for (std::size_t k = 0; k < NOut; ++k) o[k] = thrust::raw_pointer_cast(out[k]->data());
        for (std::size_t k = 0; k + 1 < NIn; ++k) i[k] = thrust::raw_pointer_cast(in[k]->data());
        return detail::thrust_linear_map_normal<detail::thrust_groups_per_call<T>, NOut, NIn>(out[0]->size(), o, coef,
                                                                                             i, generator, step);
    }

    /// @brief Whether every element is finite (one launch). @param s state @return true if no NaN or ±∞
    [[nodiscard]] static bool all_finite(const state_type& s) {
        return detail::thrust_all_finite<detail::thrust_elements_per_call>(thrust::raw_pointer_cast(s.data()),
                                                                            s.size());
    }

    /// @brief Fills s with the counter-based normals of a step where it lives (one launch): element e
    /// gets generator.normal<T>(step, e).
    /// @param s output @param generator the generator @param step the step index
    static void fill_normal(state_type& s, const philox_normal& generator, std::uint64_t step) {
        detail::thrust_fill_normal<detail::thrust_groups_per_call<T>>(thrust::raw_pointer_cast(s.data()), s.size(),
                                                                      generator, step);
    }
};

namespace detail {
/// This header is included: a Thrust type that is not a state here is simply not one (see concepts/state.hpp).
template <class S>
inline constexpr bool backend_header_included<named_backend::thrust, S> = true;
}  // namespace detail

}  // namespace mrsolve
