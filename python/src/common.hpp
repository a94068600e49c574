#pragma once
// Shared by the three translation units of mrsolve._core: the includes (LibTorch adapter first, then
// pybind11 with torch's tensor caster), the solver dispatch from Python's names to the C++ solver
// objects, and the registration functions each unit defines.

#include <mrsolve/adapters/libtorch.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/utils/pybind.h>

#include <optional>
#include <string>
#include <utility>

namespace mrsolve::python {

namespace py = pybind11;

using table_family = irsde_table<double>;
using continuous_family = ir_sde<double>;

/// A solver chosen by name from Python. order <= 0 selects the solver object's own default.
struct method_spec {
    std::string solver = "ode";          // ode, sde, unipc, eta, euler_maruyama, euler_ode, heun, posterior
    std::string parameterization = "data";
    int order = 0;
    std::string variant = "bh2";         // unipc: bh1 or bh2
    std::string order3 = "taylor";       // ode order 3: taylor (mrsolve) or published
    double eta = 1;                      // eta: 0 … 1
    std::string step = "variable";       // baselines: variable or published_fixed
};

inline step_mode parse_step_mode(const std::string& name) {
    if (name == "variable") return step_mode::variable;
    if (name == "published_fixed") return step_mode::published_fixed;
    detail::throw_invalid("step_mode must be 'variable' or 'published_fixed', got '", name, "'");
}

/// Calls f with the solver object that `m` names; every name and value is checked here, so that the error
/// names the Python argument.
template <class F>
decltype(auto) with_method(const method_spec& m, F&& f) {
    const auto order = [&m](int fallback) { return m.order > 0 ? m.order : fallback; };
    const std::string& p = m.parameterization;
    if (p != "data" && p != "noise")
        detail::throw_invalid("parameterization must be 'data' or 'noise', got '", p, "'");
    const bool data = p == "data";
    const auto only = [&m, &p](const char* needed) {
        if (p != needed)
            detail::throw_invalid("solver '", m.solver, "' integrates the ", needed, " prediction: parameterization must be '",
                                  needed, "', got '", p, "'");
    };
    if (m.solver == "ode") {
        order3_rule rule = order3_rule::taylor;
        if (m.order3 == "published") rule = order3_rule::published;
        else if (m.order3 != "taylor") detail::throw_invalid("order3_rule must be 'taylor' or 'published', got '", m.order3, "'");
        if (data) return f(mr_ode<data_prediction>{.order = order(2), .rule3 = rule});
        return f(mr_ode<noise_prediction>{.order = order(2), .rule3 = rule});
    }
    if (m.solver == "sde") {
        if (data) return f(mr_sde<data_prediction>{.order = order(2)});
        return f(mr_sde<noise_prediction>{.order = order(2)});
    }
    if (m.solver == "unipc") {
        unipc_variant variant = unipc_variant::bh2;
        if (m.variant == "bh1") variant = unipc_variant::bh1;
        else if (m.variant != "bh2") detail::throw_invalid("unipc_variant must be 'bh1' or 'bh2', got '", m.variant, "'");
        if (data) return f(mr_unipc<data_prediction>{.order = order(2), .variant = variant, .use_corrector = {}});
        return f(mr_unipc<noise_prediction>{.order = order(2), .variant = variant, .use_corrector = {}});
    }
    if (m.solver == "eta") {
        only("data");
        if (!(m.eta >= 0 && m.eta <= 1)) detail::throw_invalid("eta must lie in [0, 1], got ", m.eta);
        return f(mr_eta<data_prediction>{.order = order(2), .eta = m.eta});
    }
    if (m.solver == "euler_maruyama") {
        only("noise");
        return f(euler_maruyama{.order = order(1), .mode = parse_step_mode(m.step)});
    }
    if (m.solver == "euler_ode") {
        only("noise");
        return f(euler_ode{.order = order(1), .mode = parse_step_mode(m.step)});
    }
    if (m.solver == "heun") {
        only("noise");
        return f(heun_ode{.order = order(2), .mode = parse_step_mode(m.step)});
    }
    if (m.solver == "posterior") {
        only("data");
        return f(posterior_sampling{.order = order(1), .mode = parse_step_mode(m.step)});
    }
    detail::throw_invalid("unknown solver '", m.solver,
                          "' (expected ode, sde, unipc, eta, euler_maruyama, euler_ode, heun or posterior)");
}

/// Calls f with the C++ family behind a Python family object (IRSDETable or IRSDE).
template <class F>
decltype(auto) with_family(const py::handle& family, F&& f) {
    if (py::isinstance<table_family>(family)) return f(family.cast<const table_family&>());
    if (py::isinstance<continuous_family>(family)) return f(family.cast<const continuous_family&>());
    throw py::type_error("sde must be an mrsolve.IRSDETable or mrsolve.IRSDE, got " +
                         std::string(py::str(py::type::of(family))));
}

/// The dynamic thresholding of a Python call: none unless `enabled`; one chunk per batch item (x's first
/// dimension; 1 for a 0-dimensional state), as the published sampler thresholds.
inline std::optional<dynamic_thresholding> thresholding_of(bool enabled, double ratio, double max_value,
                                                           const at::Tensor& x) {
    if (!enabled) return std::nullopt;
    const std::int64_t items = x.dim() >= 1 ? x.size(0) : 1;
    return dynamic_thresholding{ratio, max_value, static_cast<std::size_t>(items)};
}

order_policy parse_order_policy(const std::string& name);
fault_policy parse_fault_policy(const std::string& name);

void register_sample(py::module_& m);     // sample_tensor.cpp: the tensor sampling loop
void register_reference(py::module_& m);  // reference.cpp: the same runs on std::vector, for the tests

}  // namespace mrsolve::python
