// mrsolve._core._sample: mrsolve::sample on torch.Tensor states with a Python model.
//
// The GIL is released for the whole run and taken back only inside the three callbacks (model, noise
// callable, observer); everything else — the fused updates of the LibTorch adapter, counter-based noise —
// runs without it. A Python exception raised in a callback travels through the C++ loop as
// py::error_already_set (the loop is exception-safe and leaves x at x_{t_{k-1}}) and pybind11 restores the
// original exception object at the module boundary.

#include "common.hpp"

#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace mrsolve::python {

namespace {

std::string shape_of(const at::Tensor& t) { return detail::torch_describe(t); }

/// The Python model as a C++ ScoreFn: out ← model(x, mu, t, **extra). Holds handles only (no reference
/// counting without the GIL); the objects are kept alive by _sample's arguments.
struct python_model {
    py::handle fn;
    py::handle extra;  // a dict, passed as **extra
    bool tensor_time = false;
    double time_scale = 1;
    bool copy_output = false;  // the sampler writes its model-output workspace (singlestep thresholding)

    void operator()(const at::Tensor& x, const at::Tensor& mu, double t, at::Tensor& out) const {
        py::gil_scoped_acquire gil;
        const double time = time_scale * t;
        py::object t_arg;
        if (tensor_time) {
            // shape [B]: one entry per batch item (B = 1 for a 0-dimensional state).
            const std::int64_t items = x.dim() >= 1 ? x.size(0) : 1;
            t_arg = py::cast(at::full({items}, time, x.options()));
        } else {
            t_arg = py::float_(time);
        }
        const py::object result = fn(py::cast(x), py::cast(mu), t_arg, **py::reinterpret_borrow<py::dict>(extra));
        if (!THPVariable_Check(result.ptr()))
            detail::throw_invalid("the model returned ", std::string(py::str(py::type::of(result))),
                                  " at t = ", time, "; it must return a torch.Tensor shaped like x");
        const at::Tensor r = result.cast<at::Tensor>();
        if (r.sizes() != out.sizes())
            detail::throw_invalid("the model output at t = ", time, " is ", shape_of(r), " but x is ", shape_of(x),
                                  " (the model must return its fit target shaped like x)");
        if (r.device() != out.device())
            detail::throw_invalid("the model output at t = ", time, " is on ", r.device().str(), " but x is on ",
                                  out.device().str());
        if (!at::isFloatingType(r.scalar_type()))
            detail::throw_invalid("the model output at t = ", time, " has dtype ", c10::toString(r.scalar_type()),
                                  "; a floating-point tensor is needed");
        // The multistep sampler only reads its model-output workspace (the fused update and the conversion
        // take it as an input, the observer shows it), so a result it can read directly replaces the
        // workspace handle: no copy. Anything else (another dtype, another memory layout than the
        // workspace's, which is x's: a mixed layout would send the updates to the tensor operations; a
        // tensor that overlaps x or mu only in part) is copied into a fresh tensor of the workspace's
        // dtype and layout; never into the previous handle,
        // which may be the model's own tensor from the step before. With copy_output (the singlestep and
        // adaptive samplers, which convert and threshold the output in place) the handle is never
        // replaced, so the result is copied into the sampler's own workspace and the model's tensor is
        // never written.
        const bool direct = !copy_output && r.scalar_type() == out.scalar_type() && r.layout() == c10::kStrided &&
                            r.strides() == out.strides() &&
                            detail::torch_alias_of(r, x) != detail::torch_alias::partial &&
                            detail::torch_alias_of(r, mu) != detail::torch_alias::partial;
        if (direct) {
            out = r;
        } else if (copy_output) {
            out.copy_(r);  // out is always the sampler's own workspace here, never a tensor of the model
        } else {
            at::Tensor copy = at::empty_like(out);  // keeps the workspace's (x's) dense layout
            copy.copy_(r);
            out = std::move(copy);
        }
    }
};

/// The noise: counter-based (a seed, the same normals as C++ counter_noise) or a Python callable
/// fill(z, step) that writes z in place (recorded normals, torch's own generator, ...).
struct python_noise {
    counter_noise counter;
    py::handle fill_fn;  // None: counter-based

    void fill(at::Tensor& z, int step) {
        if (fill_fn.is_none()) {
            counter.fill(z, step);
            return;
        }
        py::gil_scoped_acquire gil;
        fill_fn(py::cast(z), step);
    }
};

/// The observer: a Python callable called after every step with a dict (step, steps, t, lambda, x,
/// model_output); x and model_output are the sampler's live tensors (copy them to keep them).
struct python_observer {
    py::handle fn;  // None: no observer

    template <class Info>
    void operator()(const Info& info) const {
        if (fn.is_none()) return;
        py::gil_scoped_acquire gil;
        py::dict d;
        d["step"] = info.step;
        d["steps"] = info.steps;
        d["t"] = static_cast<double>(info.t);
        d["lambda"] = static_cast<double>(info.lambda);
        d["x"] = py::cast(info.x);
        d["model_output"] = py::cast(info.model_output);
        fn(d);
    }
};

const char* status_name(sample_status s) {
    switch (s) {
        case sample_status::completed: return "completed";
        case sample_status::non_finite_model_output: return "non_finite_model_output";
        case sample_status::non_finite_state: return "non_finite_state";
    }
    return "unknown";
}

py::dict run_sample(const py::object& family, const method_spec& spec, const py::object& model, at::Tensor x,
                    const at::Tensor& mu, const std::vector<double>& grid, const std::string& fit,
                    const std::string& orders, bool denoise_last, const std::string& on_fault, std::uint64_t seed,
                    const py::object& noise, const py::object& observer, const py::dict& extra, bool tensor_time,
                    double time_scale, const std::string& lambda, std::optional<dynamic_thresholding> thresholding,
                    const std::vector<std::pair<at::Tensor, double>>& history) {
    if (!(std::isfinite(time_scale) && time_scale > 0))
        detail::throw_invalid("time_scale must be finite and > 0, got ", time_scale);
    sample_options options;
    options.fit = parse_fit_target(fit);
    if (lambda == "family") options.lambda = step_lambda::family;
    else if (lambda != "alpha_sigma")
        detail::throw_invalid("step_lambda must be 'alpha_sigma' or 'family', got '", lambda, "'");
    options.orders = parse_order_policy(orders);
    options.denoise_last = denoise_last;
    options.on_fault = parse_fault_policy(on_fault);
    options.thresholding = thresholding;
    python_model m{model, extra, tensor_time, time_scale};
    python_noise n{counter_noise(seed), noise};
    python_observer o{observer};
    const sample_result result = with_family(family, [&](const auto& fam) {
        return with_method(spec, [&](const auto& method) {
            py::gil_scoped_release release;
            // Thread-local: covers the model calls too (they run on this thread).
            at::NoGradGuard no_grad;
            sampler<std::decay_t<decltype(method)>, std::decay_t<decltype(fam)>, at::Tensor> s(method, fam, x, options);
            // Seeded history, oldest first: one model evaluation each, pushed as if earlier steps of this run.
            for (const auto& [state, time] : history) s.seed_history(m, state, mu, time);
            return s.run(std::span<const double>(grid), m, x, mu, n, o);
        });
    });
    py::dict d;
    d["nfe"] = result.nfe;
    d["steps"] = result.steps;
    d["status"] = status_name(result.status);
    d["fault_step"] = result.fault_step;
    d["fault_time"] = result.fault_time;
    d["execution_path"] = std::string(result.execution_path);
    return d;
}

py::dict run_singlestep(const py::object& family, const std::string& parameterization, int nfe, int order,
                        const std::string& schedule, const schedule_options& grid_options, const py::object& model,
                        at::Tensor x, const at::Tensor& mu, const std::string& fit, const py::dict& extra,
                        bool tensor_time, double time_scale, std::optional<dynamic_thresholding> thresholding,
                        const std::string& on_fault, const py::object& observer) {
    if (parameterization != "data" && parameterization != "noise")
        detail::throw_invalid("parameterization must be 'data' or 'noise', got '", parameterization, "'");
    if (!(std::isfinite(time_scale) && time_scale > 0))
        detail::throw_invalid("time_scale must be finite and > 0, got ", time_scale);
    // The C++ split of an NFE budget into steps of order <= `order`, and the grid of that many steps.
    const std::vector<int> orders = singlestep_orders(nfe, order);
    const schedule_kind kind = parse_schedule_kind(schedule);
    singlestep_options options;
    options.fit = parse_fit_target(fit);
    options.thresholding = thresholding;
    options.on_fault = parse_fault_policy(on_fault);
    python_model m{model, extra, tensor_time, time_scale, thresholding.has_value()};
    python_observer o{observer};
    const singlestep_result result = with_family(family, [&](const auto& fam) {
        using F = std::decay_t<decltype(fam)>;
        const std::vector<double> grid = make_grid(fam, kind, static_cast<int>(orders.size()), grid_options);
        const auto run = [&]<class P>(P) {
            py::gil_scoped_release release;
            at::NoGradGuard no_grad;
            singlestep_sampler<P, F, at::Tensor> s(fam, x, options);
            return s.run(std::span<const double>(grid), std::span<const int>(orders), m, x, mu, o);
        };
        return parameterization == "data" ? run(data_prediction{}) : run(noise_prediction{});
    });
    py::dict d;
    d["nfe"] = result.nfe;
    d["steps"] = result.steps;
    d["status"] = status_name(result.status);
    d["fault_step"] = result.fault_step;
    d["fault_time"] = result.fault_time;
    d["execution_path"] = std::string(result.execution_path);
    return d;
}

py::dict run_invert(const py::object& family, const method_spec& spec, const py::object& model, at::Tensor x,
                    const at::Tensor& mu, const std::vector<double>& grid, const std::string& fit,
                    const std::string& orders, const py::object& observer, const py::dict& extra, bool tensor_time,
                    double time_scale, const std::string& lambda) {
    if (!(std::isfinite(time_scale) && time_scale > 0))
        detail::throw_invalid("time_scale must be finite and > 0, got ", time_scale);
    sample_options options;
    options.fit = parse_fit_target(fit);
    if (lambda == "family") options.lambda = step_lambda::family;
    else if (lambda != "alpha_sigma")
        detail::throw_invalid("step_lambda must be 'alpha_sigma' or 'family', got '", lambda, "'");
    options.orders = parse_order_policy(orders);
    python_model m{model, extra, tensor_time, time_scale};
    python_observer o{observer};
    const sample_result result = with_family(family, [&](const auto& fam) {
        return with_method(spec, [&](const auto& method) -> sample_result {
            using M = std::decay_t<decltype(method)>;
            if constexpr (M::stochastic || TwoStageMethod<M>) {
                detail::throw_invalid("invert integrates the probability-flow ODE with a deterministic "
                                      "single-evaluation solver ('ode', 'unipc' or 'euler_ode'); got solver '",
                                      spec.solver, "'");
            } else {
                py::gil_scoped_release release;
                at::NoGradGuard no_grad;
                sampler<M, std::decay_t<decltype(fam)>, at::Tensor> s(method, fam, x, options);
                return s.invert(std::span<const double>(grid), m, x, mu, o);
            }
        });
    });
    py::dict d;
    d["nfe"] = result.nfe;
    d["steps"] = result.steps;
    d["status"] = status_name(result.status);
    d["fault_step"] = result.fault_step;
    d["fault_time"] = result.fault_time;
    d["execution_path"] = std::string(result.execution_path);
    return d;
}

/// A contiguous CPU tensor of element type T as a host state for the adaptive sampler (whose error norm
/// reads the elements): a flat tensor handle, so that the contiguous backend runs on its storage and the
/// model sees real tensors (views of the workspace in the caller's shape), never borrowed memory.
template <class T>
struct host_tensor {
    at::Tensor flat;
    host_tensor() = default;
    explicit host_tensor(std::size_t n)
        : flat(at::zeros({static_cast<std::int64_t>(n)}, at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value))) {}
    explicit host_tensor(at::Tensor t) : flat(std::move(t)) {}
    T* data() noexcept { return flat.data_ptr<T>(); }
    const T* data() const noexcept { return flat.data_ptr<T>(); }
    std::size_t size() const noexcept { return flat.defined() ? static_cast<std::size_t>(flat.numel()) : 0; }
};

/// The Python model on host_tensor states: the state and the condition go to the model as views in the
/// caller's shape; its output is copied into the workspace (the adaptive sampler may threshold it in place).
template <class T>
struct host_tensor_model {
    python_model* model;
    std::vector<std::int64_t> shape;

    void operator()(const host_tensor<T>& x, const host_tensor<T>& mu, double t, host_tensor<T>& out) const {
        const at::Tensor xv = x.flat.view(shape), muv = mu.flat.view(shape), outv = out.flat.view(shape);
        at::Tensor result = outv;
        (*model)(xv, muv, t, result);
        if (!result.is_same(outv)) outv.copy_(result);
    }
};

const char* adaptive_status_name(adaptive_status s) {
    switch (s) {
        case adaptive_status::completed: return "completed";
        case adaptive_status::nfe_cap_reached: return "nfe_cap_reached";
        case adaptive_status::non_finite_model_output: return "non_finite_model_output";
        case adaptive_status::non_finite_state: return "non_finite_state";
    }
    return "unknown";
}

template <class T>
adaptive_result run_adaptive_typed(const py::object& family, bool data, double t_start, double t_end,
                                   python_model& m, at::Tensor& x, const at::Tensor& mu,
                                   const adaptive_options& options) {
    host_tensor<T> xs(x.view({-1}));  // x is contiguous on the CPU: the sampler writes it directly
    const host_tensor<T> mus(mu.view({-1}));
    const host_tensor_model<T> model{&m, std::vector<std::int64_t>(x.sizes().begin(), x.sizes().end())};
    return with_family(family, [&](const auto& fam) {
        py::gil_scoped_release release;
        at::NoGradGuard no_grad;
        using F = std::decay_t<decltype(fam)>;
        if (data) return sample_adaptive<data_prediction, F, host_tensor<T>>(fam, t_start, t_end, model, xs, mus, options);
        return sample_adaptive<noise_prediction, F, host_tensor<T>>(fam, t_start, t_end, model, xs, mus, options);
    });
}

py::dict run_adaptive(const py::object& family, const std::string& parameterization, const py::object& model,
                      at::Tensor x, const at::Tensor& mu, double t_start, double t_end, adaptive_options options,
                      const std::string& fit, const std::string& controller, const std::string& scope,
                      const py::dict& extra, bool tensor_time, double time_scale) {
    if (parameterization != "data" && parameterization != "noise")
        detail::throw_invalid("parameterization must be 'data' or 'noise', got '", parameterization, "'");
    if (!(std::isfinite(time_scale) && time_scale > 0))
        detail::throw_invalid("time_scale must be finite and > 0, got ", time_scale);
    if (!x.device().is_cpu())
        detail::throw_invalid("sample_adaptive runs on CPU tensors only (its error norm reads the state on the "
                              "host); x is on device ", x.device().str(), " (move x and mu to the CPU)");
    if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)
        detail::throw_invalid("sample_adaptive: x has dtype ", c10::toString(x.scalar_type()),
                              "; float32 or float64 expected");
    if (!x.is_contiguous() || !mu.is_contiguous() || mu.scalar_type() != x.scalar_type() || !mu.device().is_cpu() ||
        mu.sizes() != x.sizes())
        detail::throw_invalid("sample_adaptive: x and mu must be contiguous CPU tensors of one dtype and shape; x is ",
                              detail::torch_describe(x), ", mu is ", detail::torch_describe(mu));
    options.fit = parse_fit_target(fit);
    if (controller == "pi") options.controller = step_controller::proportional_integral;
    else if (controller == "i") options.controller = step_controller::integral;
    else detail::throw_invalid("controller must be 'pi' or 'i', got '", controller, "'");
    if (scope == "global") options.scope = tolerance_scope::global;
    else if (scope == "per_step") options.scope = tolerance_scope::per_step;
    else detail::throw_invalid("scope must be 'global' or 'per_step', got '", scope, "'");
    python_model m{model, extra, tensor_time, time_scale, true};
    const bool data = parameterization == "data";
    const adaptive_result r = x.scalar_type() == at::kDouble
                                  ? run_adaptive_typed<double>(family, data, t_start, t_end, m, x, mu, options)
                                  : run_adaptive_typed<float>(family, data, t_start, t_end, m, x, mu, options);
    py::dict d;
    d["nfe"] = r.nfe;
    d["accepted"] = r.accepted;
    d["rejected"] = r.rejected;
    d["passes"] = r.passes;
    d["error_estimate"] = r.error_estimate;
    d["status"] = adaptive_status_name(r.status);
    d["t_final"] = r.t_final;
    d["fault_step"] = r.fault_step;
    d["fault_time"] = r.fault_time;
    d["execution_path"] = std::string(r.execution_path);
    return d;
}

}  // namespace

order_policy parse_order_policy(const std::string& name) {
    if (name == "lower_order_final") return order_policy::lower_order_final;
    if (name == "published") return order_policy::published;
    if (name == "constant") return order_policy::constant;
    detail::throw_invalid("orders must be 'lower_order_final', 'published' or 'constant', got '", name, "'");
}

fault_policy parse_fault_policy(const std::string& name) {
    if (name == "raise") return fault_policy::throw_error;
    if (name == "stop") return fault_policy::stop;
    detail::throw_invalid("on_fault must be 'raise' or 'stop', got '", name, "'");
}

void register_sample(py::module_& m) {
    m.def(
        "_sample",
        [](const py::object& family, const std::string& solver, const std::string& parameterization, int order,
           const std::string& variant, const std::string& order3, double eta, const std::string& step,
           const py::object& model, const at::Tensor& x, const at::Tensor& mu, const std::vector<double>& grid,
           const std::string& fit, const std::string& orders, bool denoise_last, const std::string& on_fault,
           std::uint64_t seed, const py::object& noise, const py::object& observer, const py::dict& extra,
           bool tensor_time, double time_scale, const std::string& lambda, bool thresholding, double threshold_ratio,
           double threshold_max, const std::vector<std::pair<at::Tensor, double>>& history) {
            const method_spec spec{solver, parameterization, order, variant, order3, eta, step};
            return run_sample(family, spec, model, x, mu, grid, fit, orders, denoise_last, on_fault, seed, noise,
                              observer, extra, tensor_time, time_scale, lambda,
                              thresholding_of(thresholding, threshold_ratio, threshold_max, x), history);
        },
        "Internal: runs mrsolve::sample on tensors, overwriting x (use mrsolve.sample).");
    m.def(
        "_singlestep",
        [](const py::object& family, const std::string& parameterization, int nfe, int order, const std::string& schedule,
           double lambda_min, double rho, double offset, double t_start, const py::object& model, const at::Tensor& x,
           const at::Tensor& mu, const std::string& fit, const py::dict& extra, bool tensor_time, double time_scale,
           bool thresholding, double threshold_ratio, double threshold_max, const std::string& on_fault,
           const py::object& observer) {
            schedule_options o;
            o.lambda_min = lambda_min;
            o.rho = rho;
            o.offset = offset;
            o.t_start = t_start;
            return run_singlestep(family, parameterization, nfe, order, schedule, o, model, x, mu, fit, extra,
                                  tensor_time, time_scale,
                                  thresholding_of(thresholding, threshold_ratio, threshold_max, x), on_fault,
                                  observer);
        },
        "Internal: the singlestep sampler (mrsolve::singlestep_sampler) on tensors, overwriting x.");
    m.def(
        "_invert",
        [](const py::object& family, const std::string& solver, const std::string& parameterization, int order,
           const std::string& variant, const std::string& order3, const py::object& model, const at::Tensor& x,
           const at::Tensor& mu, const std::vector<double>& grid, const std::string& fit, const std::string& orders,
           const py::object& observer, const py::dict& extra, bool tensor_time, double time_scale,
           const std::string& lambda) {
            const method_spec spec{solver, parameterization, order, variant, order3, 1.0, "variable"};
            return run_invert(family, spec, model, x, mu, grid, fit, orders, observer, extra, tensor_time, time_scale,
                              lambda);
        },
        "Internal: sampler::invert (the probability-flow ODE from a clean time to a noisier one) on tensors, "
        "overwriting x.");
    m.def(
        "_adaptive",
        [](const py::object& family, const std::string& parameterization, const py::object& model, const at::Tensor& x,
           const at::Tensor& mu, double t_start, double t_end, double rtol, double atol, int order,
           const std::string& controller, double h_init, int max_nfe, const std::string& fit, double safety,
           double fac_min, double fac_max, const std::string& scope, bool thresholding, double threshold_ratio,
           double threshold_max, const py::dict& extra, bool tensor_time, double time_scale,
           const std::string& on_fault) {
            adaptive_options o;
            o.rtol = rtol;
            o.atol = atol;
            o.order = order;
            o.h_init = h_init;
            o.max_nfe = max_nfe;
            o.batch_items = static_cast<std::size_t>(x.dim() >= 1 ? x.size(0) : 1);
            o.safety = safety;
            o.fac_min = fac_min;
            o.fac_max = fac_max;
            o.thresholding = thresholding_of(thresholding, threshold_ratio, threshold_max, x);
            o.on_fault = parse_fault_policy(on_fault);
            return run_adaptive(family, parameterization, model, x, mu, t_start, t_end, o, fit, controller, scope,
                                extra, tensor_time, time_scale);
        },
        "Internal: the adaptive sampler (mrsolve::sample_adaptive) on a contiguous CPU tensor, overwriting x.");
    m.def(
        "_threshold",
        [](at::Tensor q, std::int64_t items, double ratio, double max_value) {
            // The LibTorch backend's dynamic_threshold as the samplers call it, after the samplers' checks.
            if (items < 1) detail::throw_invalid("_threshold: items must be >= 1, got ", items);
            const dynamic_thresholding th{ratio, max_value, static_cast<std::size_t>(items)};
            detail::validate_thresholding_options(th, static_cast<std::size_t>(q.numel()));
            at::NoGradGuard no_grad;
            std::vector<double> scratch(static_cast<std::size_t>(q.numel()) / th.batch_items);
            backend_traits<at::Tensor>::dynamic_threshold(q, th.batch_items, ratio, max_value, scratch);
            return q;
        },
        py::arg("q"), py::arg("items"), py::arg("ratio"), py::arg("max_value"),
        "Internal (tests): dynamic thresholding of q in place by the LibTorch backend (host fast path for "
        "contiguous CPU float32/float64, tensor operations otherwise); returns q.");

    m.def(
        "_stationary_start",
        [](const py::object& family, const at::Tensor& mu, at::Tensor x, std::uint64_t seed) {
            with_family(family, [&](const auto& fam) {
                at::NoGradGuard no_grad;
                stationary_start(fam, mu, x, seed);
            });
        },
        "Internal: x <- mu + lambda_s z with the counter-based normals of (seed, step 0).");
}

}  // namespace mrsolve::python
