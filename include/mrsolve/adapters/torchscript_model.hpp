#pragma once
/// @file torchscript_model.hpp
/// @brief `torchscript_model`: a network loaded from a TorchScript file as the sampler's model, on
/// `torch::Tensor` states (backend/libtorch.hpp). Link the CMake target `mrsolve::libtorch`.
///
/// **The model.** `torchscript_model` calls `module.forward(x, mu, t)` under `torch::NoGradGuard` and
/// copies the result into the sampler's preallocated output; `t` is a tensor in the units the model was
/// trained with (table steps for the IR-SDE tables).
///
/// Note: LibTorch's headers (through glog) define macros named `CHECK`, `CHECK_EQ`, … that abort the
/// program; a test framework with assertions of those names (doctest, Catch2) must be included after this
/// header, with those macros `#undef`-ined first (see tests/restore/test_libtorch_backend.cpp).

#include <torch/script.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../backend/libtorch.hpp"
#include "../error.hpp"

namespace mrsolve {

/// @brief How a torchscript_model passes the time to its module.
struct torchscript_model_options {
    /// @brief The module receives time_scale · t, where t is the sampler's time (table steps for
    /// irsde_table): 1 when the model was trained on table steps, 1/T when it was trained on t/T, …
    double time_scale = 1.0;
    /// @brief true: t is a tensor of shape [B] (B = x.size(0), one entry per batch item, the usual
    /// convention of diffusion networks); false: a 0-dimensional tensor.
    bool batched_time = true;
};

/// @brief A TorchScript network as a sampler model: `model(x, mu, t, out)` runs
/// `module.forward(x, mu, time, extra...)` under torch::NoGradGuard and copies the result into `out`.
///
/// The model contract: `forward(x, mu, t)` (plus the extra inputs, if any) returns the fit target
/// (`sample_options::fit`, the noise ε̂ by default) with x's shape; x and mu are [B, …] tensors; t is a
/// tensor of x's dtype and device, of shape [B] (every entry the same time; `batched_time = false`: a
/// 0-dimensional tensor), in the units the network was trained with: table steps (0 … T) for
/// `irsde_table`, times `time_scale`. A network written for a float t fails with "Expected a value of
/// type 'float' for argument 't'"; one that broadcasts t against x must reshape it first
/// (`t.view(-1, 1, 1, 1)`).
///
/// The time tensor has x's dtype and device, and is allocated once and refilled in place (`fill_`, no
/// host-to-device copy); the call allocates only what the module itself allocates. The module is put in
/// eval mode. Not thread-safe (it owns the time tensor); use one per thread.
class torchscript_model {
public:
    /// @brief Wraps a loaded module.
    /// @param module the TorchScript module, already on the device of the states it will see
    /// @param options how the time is passed
    /// @throws mrsolve::invalid_argument if time_scale is not finite and positive
    explicit torchscript_model(torch::jit::script::Module module, torchscript_model_options options = {})
        : module_(std::move(module)), options_(options) {
        if (!(std::isfinite(options_.time_scale) && options_.time_scale > 0))
            detail::throw_invalid("torchscript_model: time_scale must be finite and > 0, got ", options_.time_scale);
        module_.eval();
    }

    /// @brief Loads a TorchScript file onto a device.
    /// @param path the file written by `torch.jit.save` / `ScriptModule.save`
    /// @param device where the module's parameters go (the states must live there too)
    /// @param options how the time is passed
    /// @return the model
    /// @throws c10::Error if the file cannot be read or is not a TorchScript archive
    [[nodiscard]] static torchscript_model load(const std::string& path, const c10::Device& device = c10::kCPU,
                                                torchscript_model_options options = {}) {
        return torchscript_model(torch::jit::load(path, device), options);
    }

    /// @brief Extra inputs passed after (x, mu, t) on every call, `forward(x, mu, t, extra...)`: for
    /// example DA-CLIP's text and image context. They are set once and passed as they are (tensors must
    /// be on the module's device).
    /// @param extra the inputs, in the order forward takes them
    /// @return *this
    torchscript_model& with_extra_inputs(std::vector<c10::IValue> extra) {
        inputs_.resize(3);
        inputs_.insert(inputs_.end(), std::make_move_iterator(extra.begin()), std::make_move_iterator(extra.end()));
        return *this;
    }
    /// @brief The number of extra inputs. @return inputs after (x, mu, t)
    [[nodiscard]] std::size_t extra_inputs() const noexcept { return inputs_.size() - 3; }

    /// @brief Evaluates the network: out ← module.forward(x, mu, time_scale · t, extra...).
    /// @param x the state @param mu the condition (degraded image) @param t the sampler's time
    /// @param out the preallocated output (shape of x)
    /// @throws mrsolve::invalid_argument if the module's result does not have out's shape, or does not
    /// return a tensor; c10::Error from the module itself
    void operator()(const at::Tensor& x, const at::Tensor& mu, double t, at::Tensor& out) {
        at::NoGradGuard no_grad;
        const bool batched = options_.batched_time && x.dim() >= 1;
        const std::int64_t items = batched ? x.size(0) : 0;
        if (!time_.defined() || time_.device() != x.device() || time_.scalar_type() != x.scalar_type() ||
            (batched ? time_.dim() != 1 || time_.size(0) != items : time_.dim() != 0)) {
            time_ = batched ? at::empty({items}, x.options()) : at::empty({}, x.options());
        }
        time_.fill_(options_.time_scale * t);
        inputs_[0] = x;
        inputs_[1] = mu;
        inputs_[2] = time_;
        const c10::IValue result = module_.forward(inputs_);
        // Drop the references to x and mu: the caller owns them.
        inputs_[0] = c10::IValue();
        inputs_[1] = c10::IValue();
        if (!result.isTensor()) detail::throw_invalid("torchscript_model: forward(x, mu, t) did not return a tensor");
        const at::Tensor& r = result.toTensor();
        if (r.sizes() != out.sizes())
            detail::throw_invalid("torchscript_model: forward(x, mu, t) returned ", detail::torch_describe(r),
                                  " but the output is ", detail::torch_describe(out), " (x is ",
                                  detail::torch_describe(x), ")");
        out.copy_(r);
        ++calls_;
    }

    /// @brief How many times the network was evaluated. @return the count
    [[nodiscard]] std::int64_t calls() const noexcept { return calls_; }
    /// @brief The wrapped module. @return the module
    [[nodiscard]] torch::jit::script::Module& module() noexcept { return module_; }
    /// @brief The time options. @return the options
    [[nodiscard]] const torchscript_model_options& options() const noexcept { return options_; }

private:
    torch::jit::script::Module module_;
    torchscript_model_options options_;
    at::Tensor time_;
    std::vector<c10::IValue> inputs_ = std::vector<c10::IValue>(3);  // x, mu, t, then the extra inputs
    std::int64_t calls_ = 0;
};

}  // namespace mrsolve
