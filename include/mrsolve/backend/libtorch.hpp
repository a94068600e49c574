#pragma once
/// @file libtorch.hpp
/// @brief LibTorch backend: `torch::Tensor` as a sampler state (CPU and CUDA). The TorchScript model
/// loader is adapters/torchscript_model.hpp; adapters/libtorch.hpp includes both. Link the CMake target
/// `mrsolve::libtorch`.
///
/// **The state.** A `torch::Tensor` of any shape (typically an image batch [B, C, H, W]) and any
/// floating dtype is a state. Its elements are taken in row-major (logical) order. The backend has
/// three paths (torch_execution_path() says which one a state takes):
///
/// - *host fast path* — every tensor of a call is on the CPU, contiguous, and of one dtype, float32 or
///   float64: the fused loop of the contiguous backend (`detail::linear_map_host`) runs directly on the
///   tensors' storage. One pass over memory per step, no allocation, and the same results bit for bit
///   as `std::vector<float>` / `std::vector<double>` (the same code runs on the same numbers);
///   `fill_normal` is `philox_normal::fill` on the storage, so the noise equals the std::vector backend's.
/// - *host dense path* — CPU float32/float64 tensors that are dense in another memory order
///   (channels_last, any permutation of a contiguous tensor), all of one layout: the same fused loop
///   over the storage in memory order (an element-wise update does not depend on the order), and the
///   normals from `philox_normal::fill` in row-major order into a per-thread buffer, then one strided
///   copy. The same results bit for bit as the contiguous path, at close to its speed.
/// - *tensor-op path* — anything else (CUDA tensors, views with gaps, tensors of different layouts in
///   one update, float16/bfloat16): every
///   operation is a LibTorch tensor operation on the tensor's own device, so nothing is copied to the
///   host per step. Costs, measured in memory passes over one state: `linear_map` computes each output
///   as one `mul` plus one in-place `add_` per further input (about 3·NIn − 1 passes per output instead
///   of NIn + NOut for the whole fused host loop) plus one `isfinite().all()` reduction per output whose
///   boolean is the only device-to-host transfer (a one-byte synchronisation per call). Where an output
///   is also an input that a later output still reads, that output goes through a temporary.
///   `fill_normal` (on a device other than the CPU, or a dtype other than float32/float64) evaluates the
///   *same* Philox4x32-10 counter-based generator with 64-bit integer tensor
///   ops (about 260 small element-wise kernels per call, and temporaries of the state's size): the
///   uniforms are bit-identical to the host generator's, and the Box–Muller step uses LibTorch's log,
///   cos and sin where the host uses mrsolve's own (≤ 1 ulp) functions, so the normals agree to a few
///   ulp (measured ≤ 4·10⁻⁶ relative in float, 10⁻¹⁴ in double) — a CUDA run sees the same noise as a
///   CPU run, up to round-off.
///
/// `backend_traits<torch::Tensor>::value_type` is `double`: it is the scalar in which the sampler hands
/// over coefficients, not the element type (a tensor's dtype is a run-time property). For float32 tensors
/// the coefficients are rounded to float before use, exactly as the sampler does for `std::vector<float>`.
/// Tensors in one call must share dtype and device (checked: mrsolve::invalid_argument otherwise).
///
/// `host_span` is not provided (the element type is not known at compile time). Dynamic thresholding
/// is provided by the backend's own `dynamic_threshold` (concepts/state.hpp): on contiguous CPU float32/float64
/// tensors it is detail::dynamic_threshold on the storage (the std::vector result bit for bit); on any
/// other tensor it is tensor operations on its device (`kthvalue` per batch item for the two order
/// statistics, the interpolation in float64, clamp and divide), the same values bit for bit and no
/// transfer to the host. Everything else (all solvers,
/// `counter_noise`, `zero_noise`, `injected_noise`, `stationary_start`) is available too; the adaptive
/// sampler is not (its error norm reads the elements on the host). Nor is the contiguous backend's fused in-pass noise
/// (`linear_map_normal`): a stochastic step on a tensor fills its noise vector, then updates — the same
/// values bit for bit, one more pass over memory.
///
/// Tensor handles are references: copying a `torch::Tensor` does not copy its elements. Use
/// `x = mu.clone()` (not `x = mu`) to start a state from another tensor.
///
/// Note: LibTorch's headers (through glog) define macros named `CHECK`, `CHECK_EQ`, … that abort the
/// program; a test framework with assertions of those names (doctest, Catch2) must be included after this
/// header, with those macros `#undef`-ined first (see tests/restore/test_libtorch_backend.cpp).

#include <torch/types.h>
#include <torch/utils.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <numbers>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "contiguous.hpp"
#include "../concepts/state.hpp"
#include "../thresholding.hpp"
#include "../error.hpp"
#include "../noise/normal.hpp"
#include "../noise/philox.hpp"

namespace mrsolve {

namespace detail {

/// @brief Whether the host fast path applies to a tensor of the given dtype.
inline bool torch_host_contiguous(const at::Tensor& t, c10::ScalarType type) noexcept {
    return t.defined() && t.device().is_cpu() && t.layout() == c10::kStrided && t.scalar_type() == type &&
           t.is_contiguous();
}

/// @brief Whether a CPU tensor of the given dtype fills a block of memory without gaps or overlaps in
/// some order of its dimensions (contiguous, channels_last, any permutation of a contiguous tensor):
/// its elements are then exactly [data_ptr, data_ptr + numel) in memory order.
inline bool torch_host_dense(const at::Tensor& t, c10::ScalarType type) noexcept {
    return t.defined() && t.device().is_cpu() && t.layout() == c10::kStrided && t.scalar_type() == type &&
           t.is_non_overlapping_and_dense();
}

/// @brief A per-thread buffer of at least n elements for the host generator's normals of a tensor that
/// is not contiguous (grown, never shrunk, so steps after the first allocate nothing).
template <class T>
T* torch_normal_buffer(std::size_t n) {
    thread_local std::vector<T> buffer;
    if (buffer.size() < n) buffer.resize(n);
    return buffer.data();
}

/// @brief A human-readable description of a tensor for error messages.
inline std::string torch_describe(const at::Tensor& t) {
    if (!t.defined()) return "an undefined tensor";
    std::string shape = "[";
    for (std::int64_t d = 0; d < t.dim(); ++d) shape += (d ? ", " : "") + std::to_string(t.size(d));
    shape += "]";
    return std::string(c10::toString(t.scalar_type())) + " tensor " + shape + " on " + t.device().str();
}

/// @brief Throws mrsolve::invalid_argument unless every tensor matches the first in dtype, device and
/// element count.
template <std::size_t NOut, std::size_t NIn>
void torch_check_compatible(const std::array<at::Tensor*, NOut>& out, const std::array<const at::Tensor*, NIn>& in) {
    const at::Tensor& ref = *in[0];
    const auto check = [&ref](const at::Tensor& t, const char* role, std::size_t k) {
        if (!t.defined() || t.scalar_type() != ref.scalar_type() || t.device() != ref.device() ||
            t.numel() != ref.numel())
            throw_invalid("libtorch backend: ", role, " ", k, " is ", torch_describe(t), " but input 0 is ",
                          torch_describe(ref), " (all tensors of a state update need one dtype, device and size)");
    };
    for (std::size_t k = 1; k < NIn; ++k) check(*in[k], "input", k);
    for (std::size_t k = 0; k < NOut; ++k) check(*out[k], "output", k);
}

/// @brief How two tensors share memory: not at all, as the identical view, or in some other way.
enum class torch_alias { none, identical, partial };

/// @brief Classifies the memory relation of two tensors.
inline torch_alias torch_alias_of(const at::Tensor& a, const at::Tensor& b) {
    if (!a.is_alias_of(b)) return torch_alias::none;
    if (a.data_ptr() == b.data_ptr() && a.sizes() == b.sizes() && a.strides() == b.strides())
        return torch_alias::identical;
    return torch_alias::partial;
}

/// @brief The tensor-op path of linear_map (any device, layout and floating dtype).
template <std::size_t NOut, std::size_t NIn>
bool torch_linear_map_ops(const std::array<at::Tensor*, NOut>& out, const std::array<std::array<double, NIn>, NOut>& coef,
                          const std::array<const at::Tensor*, NIn>& in) {
    at::NoGradGuard no_grad;
    // A float tensor gets the coefficients rounded to float, as the sampler does for std::vector<float>.
    const bool single = in[0]->scalar_type() != at::kDouble;
    const auto scalar = [single](double c) -> at::Scalar {
        return single ? at::Scalar(static_cast<double>(static_cast<float>(c))) : at::Scalar(c);
    };
    std::array<at::Tensor, NOut> deferred{};  // outputs computed into temporaries, copied at the end
    for (std::size_t i = 0; i < NOut; ++i) {
        at::Tensor& o = *out[i];
        int self = -1;           // the input this output is (if exactly one, identically)
        bool needs_temp = false;  // writing o early would destroy an input still to be read
        for (std::size_t k = 0; k < NIn; ++k) {
            const torch_alias a = torch_alias_of(o, *in[k]);
            if (a == torch_alias::none) continue;
            if (a == torch_alias::partial || self >= 0) needs_temp = true;
            else self = static_cast<int>(k);
            if (i + 1 < NOut) needs_temp = true;  // a later output reads this input
        }
        if (needs_temp) {
            at::Tensor t = in[0]->mul(scalar(coef[i][0]));
            for (std::size_t k = 1; k < NIn; ++k) t.add_(*in[k], scalar(coef[i][k]));
            deferred[i] = std::move(t);
        } else if (self >= 0) {
            o.mul_(scalar(coef[i][static_cast<std::size_t>(self)]));
            for (std::size_t k = 0; k < NIn; ++k)
                if (static_cast<int>(k) != self) o.add_(*in[k], scalar(coef[i][k]));
        } else {
            at::mul_out(o, *in[0], scalar(coef[i][0]));
            for (std::size_t k = 1; k < NIn; ++k) o.add_(*in[k], scalar(coef[i][k]));
        }
    }
    bool finite = true;
    for (std::size_t i = 0; i < NOut; ++i) {
        if (deferred[i].defined()) out[i]->copy_(deferred[i]);
        finite = finite && at::isfinite(*out[i]).all().template item<bool>();
    }
    return finite;
}

/// @brief (hi, lo) 32-bit words of m·c for a 32-bit constant m and a tensor c of 32-bit values held in
/// int64, without 64-bit overflow: m = m_hi·2¹⁶ + m_lo, every partial product stays below 2⁴⁹.
inline std::pair<at::Tensor, at::Tensor> torch_mulhilo32(std::uint32_t m, const at::Tensor& c) {
    constexpr std::int64_t mask16 = 0xFFFF, mask32 = 0xFFFFFFFF;
    const auto m_lo = static_cast<std::int64_t>(m & 0xFFFFu), m_hi = static_cast<std::int64_t>(m >> 16);
    const at::Tensor a = c * m_lo;                                      // < 2⁴⁸
    const at::Tensor b = c * m_hi;                                      // < 2⁴⁸
    const at::Tensor s = a + at::bitwise_left_shift(at::bitwise_and(b, mask16), 16);  // < 2⁴⁹
    at::Tensor lo = at::bitwise_and(s, mask32);
    at::Tensor hi = at::bitwise_right_shift(b, 16) + at::bitwise_right_shift(s, 32);
    return {std::move(hi), std::move(lo)};
}

/// @brief Philox4x32-10 of the counters (c0, c1, c2, c3) — int64 tensors of 32-bit values — under a key,
/// with tensor operations on the tensors' device (the same function as detail::philox4x32_10).
inline std::array<at::Tensor, 4> torch_philox4x32_10(std::array<at::Tensor, 4> c, philox4x32_key key) {
    for (int round = 0; round < 10; ++round) {
        if (round > 0) key = philox4x32_bump_key(key);
        auto [hi0, lo0] = torch_mulhilo32(philox4x32_m0, c[0]);
        auto [hi1, lo1] = torch_mulhilo32(philox4x32_m1, c[2]);
        c = {at::bitwise_xor(at::bitwise_xor(hi1, c[1]), static_cast<std::int64_t>(key[0])), std::move(lo1),
             at::bitwise_xor(at::bitwise_xor(hi0, c[3]), static_cast<std::int64_t>(key[1])), std::move(lo0)};
    }
    return c;
}

/// @brief The standard normals philox_normal(seed).normal<T>(step, e) for e = 0 … n − 1, computed with
/// tensor operations on `device`, as a flat tensor of dtype float32 (compute = float) or float64.
///
/// Follows the keying contract of mrsolve::philox_normal: the Philox words and the uniforms are
/// bit-identical to the host generator's; R = √(−2 ln u), θ = 2π·u, R cos θ and R sin θ are evaluated
/// with LibTorch's log, sqrt, cos and sin in the compute type, where the host uses mrsolve's own
/// branch-free functions (noise/box_muller.hpp), so the normals agree to a few ulp.
/// @param generator the generator (its seed is the key)
/// @param step the step index
/// @param n the number of elements
/// @param compute at::kFloat or at::kDouble: which of the two streams of the contract
/// @param device where to compute
/// @return the normals, shape [n]
inline at::Tensor torch_philox_normals(const philox_normal& generator, std::uint64_t step, std::int64_t n,
                                       c10::ScalarType compute, const c10::Device& device) {
    at::NoGradGuard no_grad;
    const bool single = compute == at::kFloat;
    const std::int64_t group = single ? 4 : 2;
    const std::int64_t groups = (n + group - 1) / group;
    const auto i64 = at::TensorOptions().dtype(at::kLong).device(device);
    const at::Tensor g = at::arange(groups, i64);
    constexpr std::int64_t mask32 = 0xFFFFFFFF;
    std::array<at::Tensor, 4> counter{at::bitwise_and(g, mask32), at::bitwise_right_shift(g, 32),
                                      at::full({groups}, static_cast<std::int64_t>(step & 0xFFFFFFFFu), i64),
                                      at::full({groups}, static_cast<std::int64_t>(step >> 32), i64)};
    const std::uint64_t seed = generator.seed();
    const philox4x32_key key{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32)};
    const auto r = torch_philox4x32_10(std::move(counter), key);
    const auto box_muller = [compute](const at::Tensor& u_radius, const at::Tensor& u_angle) {
        // R = √((−2)·ln u), θ = (2π)·u, (R·cos θ, R·sin θ): the host's Box–Muller, with LibTorch's functions.
        const double two_pi = compute == at::kFloat ? static_cast<double>(2.0f * std::numbers::pi_v<float>)
                                                    : 2.0 * std::numbers::pi_v<double>;
        const at::Tensor radius = at::sqrt(at::log(u_radius) * -2.0);
        const at::Tensor theta = u_angle * two_pi;
        return std::pair<at::Tensor, at::Tensor>{radius * at::cos(theta), radius * at::sin(theta)};
    };
    at::Tensor z;
    if (single) {
        // u = ((r >> 9) + ½)·2⁻²³ exactly: (r >> 9)·2⁻²³ + 2⁻²⁴, both steps exact in float.
        const auto uniform = [](const at::Tensor& bits) {
            return at::bitwise_right_shift(bits, 9).to(at::kFloat) * 0x1p-23 + 0x1p-24;
        };
        auto [z0, z1] = box_muller(uniform(r[0]), uniform(r[1]));
        auto [z2, z3] = box_muller(uniform(r[2]), uniform(r[3]));
        z = at::stack({z0, z1, z2, z3}, 1).reshape({-1});
    } else {
        // u = (((hi·2³² + lo) >> 12) + ½)·2⁻⁵² with (hi·2³² + lo) >> 12 = hi·2²⁰ + (lo >> 12) < 2⁵².
        const auto uniform = [](const at::Tensor& lo, const at::Tensor& hi) {
            const at::Tensor k = at::bitwise_left_shift(hi, 20) + at::bitwise_right_shift(lo, 12);
            return k.to(at::kDouble) * 0x1p-52 + 0x1p-53;
        };
        auto [z0, z1] = box_muller(uniform(r[0], r[1]), uniform(r[2], r[3]));
        z = at::stack({z0, z1}, 1).reshape({-1});
    }
    return z.narrow(0, 0, n);
}

}  // namespace detail

/// @brief Backend for `torch::Tensor` (= `at::Tensor`): any shape, any floating dtype, CPU or CUDA.
///
/// See the file comment for the three execution paths (host paths on dense CPU float32/float64
/// tensors; LibTorch tensor operations on the tensor's device otherwise) and their costs.
template <>
struct backend_traits<at::Tensor> {
    /// @brief The scalar in which coefficients are passed (the element type is the tensor's dtype;
    /// float32 tensors use the coefficients rounded to float).
    using value_type = double;

    /// @brief Number of elements. @param s state @return numel()
    [[nodiscard]] static std::size_t size(const at::Tensor& s) noexcept {
        return s.defined() ? static_cast<std::size_t>(s.numel()) : 0;
    }

    /// @brief A zero tensor of the same shape, dtype, device and memory format (`torch::zeros_like`).
    /// @param s model @return the new tensor
    [[nodiscard]] static at::Tensor make_like(const at::Tensor& s) {
        at::NoGradGuard no_grad;
        return at::zeros_like(s);
    }

    /// @brief The path the updates of a run on x conditioned on mu take (see concepts/state.hpp and the file
    /// comment): "torch host_contiguous/<isa>", "torch host_dense/<isa>" (the host kernels' instruction
    /// set) or "torch tensor_ops". The sampler's workspace copies x's layout, so x and mu decide it.
    /// @param x the state @param mu the condition @return the name
    [[nodiscard]] static std::string_view execution_path(const at::Tensor& x, const at::Tensor& mu) noexcept {
        for (const c10::ScalarType type : {at::kFloat, at::kDouble}) {
            if (!detail::torch_host_dense(x, type)) continue;
            if (!detail::torch_host_dense(mu, type) || mu.sizes() != x.sizes() || mu.strides() != x.strides()) break;
            const bool contiguous = detail::torch_host_contiguous(x, type);
            switch (detail::active_simd_isa()) {
                case simd_isa::avx512: return contiguous ? "torch host_contiguous/avx512" : "torch host_dense/avx512";
                case simd_isa::avx2: return contiguous ? "torch host_contiguous/avx2" : "torch host_dense/avx2";
                case simd_isa::sse2: return contiguous ? "torch host_contiguous/sse2" : "torch host_dense/sse2";
                default: return contiguous ? "torch host_contiguous/portable" : "torch host_dense/portable";
            }
        }
        return "torch tensor_ops";
    }

    /// @brief The fused multi-output linear combination outᵢ = Σ_k cᵢₖ inₖ (see concepts/state.hpp); an output
    /// may be one of the inputs.
    /// @tparam NOut number of outputs @tparam NIn number of inputs
    /// @param out outputs @param coef coefficients @param in inputs
    /// @return false if any output element is NaN or ±∞
    /// @throws mrsolve::invalid_argument if the tensors differ in dtype, device or size
    template <std::size_t NOut, std::size_t NIn>
    static bool linear_map(const std::array<at::Tensor*, NOut>& out,
                           const std::array<std::array<double, NIn>, NOut>& coef,
                           const std::array<const at::Tensor*, NIn>& in) {
        detail::torch_check_compatible<NOut, NIn>(out, in);
        const c10::ScalarType type = in[0]->scalar_type();
        if ((type == at::kFloat || type == at::kDouble) && all_host_dense_alike<NOut, NIn>(out, in, type)) {
            // Element-wise over the storage, in memory order: every tensor has the layout of input 0.
            const auto n = static_cast<std::size_t>(in[0]->numel());
            if (type == at::kDouble) {
                std::array<double*, NOut> o{};
                std::array<const double*, NIn> i{};
                for (std::size_t k = 0; k < NOut; ++k) o[k] = out[k]->template data_ptr<double>();
                for (std::size_t k = 0; k < NIn; ++k) i[k] = in[k]->template data_ptr<double>();
                return detail::linear_map_host<NOut, NIn, double>(n, o, coef, i);
            }
            std::array<float*, NOut> o{};
            std::array<const float*, NIn> i{};
            std::array<std::array<float, NIn>, NOut> c{};
            for (std::size_t k = 0; k < NOut; ++k) o[k] = out[k]->template data_ptr<float>();
            for (std::size_t k = 0; k < NIn; ++k) i[k] = in[k]->template data_ptr<float>();
            for (std::size_t r = 0; r < NOut; ++r)
                for (std::size_t k = 0; k < NIn; ++k) c[r][k] = static_cast<float>(coef[r][k]);
            return detail::linear_map_host<NOut, NIn, float>(n, o, c, i);
        }
        return detail::torch_linear_map_ops<NOut, NIn>(out, coef, in);
    }

    /// @brief Whether every element is finite. @param s state @return true if no NaN or ±∞
    [[nodiscard]] static bool all_finite(const at::Tensor& s) {
        if (detail::torch_host_dense(s, at::kFloat)) return detail::all_finite_host(s.data_ptr<float>(), size(s));
        if (detail::torch_host_dense(s, at::kDouble)) return detail::all_finite_host(s.data_ptr<double>(), size(s));
        at::NoGradGuard no_grad;
        return at::isfinite(s).all().item<bool>();
    }

    /// @brief Fills s with the counter-based normals of a step, element e (row-major index) receiving
    /// `generator.normal<T>(step, e)`, T = double for float64 tensors and float otherwise.
    ///
    /// Contiguous CPU float32/float64: `philox_normal::fill` on the storage (identical to the std::vector
    /// backend). Other CPU float32/float64 tensors (channels_last, views): the same fill into a per-thread
    /// buffer in row-major order, then one strided copy (the same values, at the host generator's speed).
    /// Otherwise: detail::torch_philox_normals on the tensor's device, copied in (the same uniforms;
    /// normals equal to a few ulp).
    /// @param s output @param generator the generator @param step the step index
    static void fill_normal(at::Tensor& s, const philox_normal& generator, std::uint64_t step) {
        if (detail::torch_host_contiguous(s, at::kFloat)) {
            generator.fill(std::span<float>(s.data_ptr<float>(), size(s)), step);
        } else if (detail::torch_host_contiguous(s, at::kDouble)) {
            generator.fill(std::span<double>(s.data_ptr<double>(), size(s)), step);
        } else if (s.defined() && s.device().is_cpu() && s.layout() == c10::kStrided &&
                   (s.scalar_type() == at::kFloat || s.scalar_type() == at::kDouble)) {
            at::NoGradGuard no_grad;
            const bool is_double = s.scalar_type() == at::kDouble;
            void* buffer = nullptr;
            if (is_double) {
                double* z = detail::torch_normal_buffer<double>(size(s));
                generator.fill(std::span<double>(z, size(s)), step);
                buffer = z;
            } else {
                float* z = detail::torch_normal_buffer<float>(size(s));
                generator.fill(std::span<float>(z, size(s)), step);
                buffer = z;
            }
            s.copy_(at::from_blob(buffer, s.sizes(), at::TensorOptions().dtype(s.scalar_type())));
        } else {
            at::NoGradGuard no_grad;
            const c10::ScalarType compute = s.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
            s.copy_(detail::torch_philox_normals(generator, step, s.numel(), compute, s.device()).view(s.sizes()));
        }
    }

    /// @brief Dynamic thresholding of q in place (the concepts/state.hpp protocol): for each of `items` equal
    /// row-major chunks, s = the `ratio` quantile of |q| (linear interpolation between order statistics, in
    /// double), clamped to [1, max_value] and rounded to q's dtype; q ← clamp(q, −s, s)/s.
    ///
    /// Contiguous CPU float32/float64: detail::dynamic_threshold on the storage with `scratch` (bitwise the
    /// std::vector backend). Otherwise tensor operations on q's device: the two order statistics by
    /// `kthvalue` along each chunk, the same interpolation in float64, the same clamp and division in q's
    /// dtype, so the values equal the host path's bit for bit.
    /// @param q the converted data prediction @param items the number of chunks (divides numel)
    /// @param ratio the quantile, in (0, 1] @param max_value the largest s, ≥ 1
    /// @param scratch at least one chunk of doubles (host path only)
    static void dynamic_threshold(at::Tensor& q, std::size_t items, double ratio, double max_value,
                                  std::vector<double>& scratch) {
        if (detail::torch_host_contiguous(q, at::kDouble)) {
            detail::dynamic_threshold(std::span<double>(q.data_ptr<double>(), size(q)), items, ratio, max_value, scratch);
            return;
        }
        if (detail::torch_host_contiguous(q, at::kFloat)) {
            detail::dynamic_threshold(std::span<float>(q.data_ptr<float>(), size(q)), items, ratio, max_value, scratch);
            return;
        }
        at::NoGradGuard no_grad;
        const auto rows = static_cast<std::int64_t>(items);
        const std::int64_t chunk = q.numel() / rows;
        // A view when q's layout allows it (then the result is written through it), else a copy.
        at::Tensor matrix = q.reshape({rows, chunk});
        const at::Tensor magnitude = matrix.abs();
        const double position = ratio * static_cast<double>(chunk - 1);
        const auto lower = static_cast<std::int64_t>(std::floor(position));
        const double fraction = position - static_cast<double>(lower);
        // kthvalue's k is 1-based: the (lower + 1)-th smallest is order statistic `lower`.
        at::Tensor quantile = std::get<0>(magnitude.kthvalue(lower + 1, 1, true)).to(at::kDouble);
        if (lower + 1 < chunk && fraction > 0) {
            const at::Tensor upper = std::get<0>(magnitude.kthvalue(lower + 2, 1, true)).to(at::kDouble);
            quantile = quantile + (upper - quantile) * fraction;
        }
        const at::Tensor s = quantile.clamp(1.0, max_value).to(q.scalar_type());  // [rows, 1]
        at::Tensor result = at::minimum(at::maximum(matrix, s.neg()), s).div_(s);
        if (detail::torch_alias_of(matrix, q) != detail::torch_alias::none) matrix.copy_(result);
        else q.copy_(result.view(q.sizes()));
    }

private:
    /// Whether every tensor is a dense CPU tensor of the dtype with the sizes and strides of input 0, so
    /// that an element-wise update can run over the storage in memory order.
    template <std::size_t NOut, std::size_t NIn>
    static bool all_host_dense_alike(const std::array<at::Tensor*, NOut>& out,
                                     const std::array<const at::Tensor*, NIn>& in, c10::ScalarType type) noexcept {
        const at::Tensor& ref = *in[0];
        if (!detail::torch_host_dense(ref, type)) return false;
        const auto alike = [&](const at::Tensor& t) {
            return detail::torch_host_dense(t, type) && t.sizes() == ref.sizes() && t.strides() == ref.strides();
        };
        for (const at::Tensor* t : in)
            if (!alike(*t)) return false;
        for (const at::Tensor* t : out)
            if (!alike(*t)) return false;
        return true;
    }
};

/// @brief The path a state update of mrsolve's LibTorch backend takes (see libtorch.hpp).
enum class torch_path {
    host_contiguous,  ///< contiguous CPU float32/float64: the host kernels on the storage
    host_dense,       ///< other dense CPU float32/float64 layouts (channels_last, permutations): the host
                      ///< kernels over the storage in memory order; normals through one strided copy
    tensor_ops,       ///< anything else (CUDA, views with gaps, float16/bfloat16): LibTorch tensor operations
};

/// @brief The path the updates of a run on x take, when μ has x's layout (the sampler's workspace is made
/// with `zeros_like`, which keeps it). A μ of another layout sends the updates to the tensor-op path.
/// @param x the state @return the path
[[nodiscard]] inline torch_path torch_execution_path(const at::Tensor& x) noexcept {
    for (const c10::ScalarType type : {at::kFloat, at::kDouble}) {
        if (detail::torch_host_contiguous(x, type)) return torch_path::host_contiguous;
        if (detail::torch_host_dense(x, type)) return torch_path::host_dense;
    }
    return torch_path::tensor_ops;
}

/// @brief The name of a torch_path: "host_contiguous", "host_dense" or "tensor_ops".
/// @param path the path @return its name
[[nodiscard]] constexpr const char* torch_path_name(torch_path path) noexcept {
    switch (path) {
        case torch_path::host_contiguous: return "host_contiguous";
        case torch_path::host_dense: return "host_dense";
        default: return "tensor_ops";
    }
}

}  // namespace mrsolve
