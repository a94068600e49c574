// mrsolve._core: the native part of the Python package. The coefficient families, the grids, the
// recommendation, the Gaussian oracle and the exception types; the sampling loop is in sample_tensor.cpp.
// Everything here forwards to the headers: no formula is implemented twice.

#include "common.hpp"

#include <mrsolve/version.hpp>

#include <vector>

namespace mrsolve::python {

namespace {

/// mrsolve.NonFiniteError: created at import, one reference kept for the life of the process (see
/// PYBIND11_MODULE below for why it is not a static py::object).
PyObject* non_finite_error_type = nullptr;

at::Tensor tensor_of(std::span<const double> v) {
    return at::tensor(at::ArrayRef<double>(v.data(), v.size()), at::TensorOptions().dtype(at::kDouble));
}

/// f applied to a float (returns a float) or element-wise to a tensor of times (returns a float64 tensor of
/// its shape, on the CPU).
template <class F>
py::object map_times(const py::object& t, F&& f) {
    if (THPVariable_Check(t.ptr())) {
        const at::Tensor c = t.cast<at::Tensor>().detach().to(at::kCPU, at::kDouble).contiguous();
        at::Tensor out = at::empty_like(c);
        const double* in = c.data_ptr<double>();
        double* o = out.data_ptr<double>();
        for (std::int64_t i = 0; i < c.numel(); ++i) o[i] = f(in[i]);
        return py::cast(out);
    }
    return py::float_(f(t.cast<double>()));
}

irsde_parameters parameters_of(const std::string& schedule, int T, double max_sigma, double eps) {
    return irsde_parameters{parse_theta_schedule(schedule), T, max_sigma, eps};
}

std::string schedule_name(theta_schedule s) {
    switch (s) {
        case theta_schedule::constant: return "constant";
        case theta_schedule::linear: return "linear";
        case theta_schedule::cosine: return "cosine";
    }
    return "unknown";
}

/// The members both families share.
template <class Family, class Class>
void bind_family_common(Class& c) {
    c.def("alpha", [](const Family& f, const py::object& t) { return map_times(t, [&f](double s) { return f.alpha(s); }); },
          py::arg("t"), "alpha(t) = exp(-integral of f): the signal decay. t: a float or a tensor of times.")
        .def("sigma", [](const Family& f, const py::object& t) { return map_times(t, [&f](double s) { return f.sigma(s); }); },
             py::arg("t"), "sigma(t): the marginal standard deviation of the noise.")
        .def("lambda_", [](const Family& f, const py::object& t) { return map_times(t, [&f](double s) { return f.lambda(s); }); },
             py::arg("t"), "lambda(t) = ln(alpha/sigma), the half log-SNR (strictly decreasing in t).")
        .def("t_of_lambda",
             [](const Family& f, const py::object& l) { return map_times(l, [&f](double s) { return f.t_of_lambda(s); }); },
             py::arg("lam"), "The inverse of lambda_: the time of a half log-SNR.")
        .def("drift_rate",
             [](const Family& f, const py::object& t) { return map_times(t, [&f](double s) { return f.drift_rate(s); }); },
             py::arg("t"), "f(t), the drift rate of the forward SDE dx = f (mu - x) dt + g dw.")
        .def("diffusion_sq",
             [](const Family& f, const py::object& t) { return map_times(t, [&f](double s) { return f.diffusion_sq(s); }); },
             py::arg("t"), "g(t)^2, the squared diffusion of the forward SDE.")
        .def_property_readonly("t_min", &Family::t_min, "Where sampling ends (data side).")
        .def_property_readonly("t_max", &Family::t_max, "Where sampling starts (noise side): T.")
        .def_property_readonly("stationary_std", &Family::stationary_std,
                               "lambda_s, the stationary standard deviation (max_sigma/255 when max_sigma >= 1).")
        .def_property_readonly("schedule", [](const Family& f) { return schedule_name(f.parameters().schedule); },
                               "The shape of theta: 'cosine', 'linear' or 'constant'.")
        .def_property_readonly("T", [](const Family& f) { return f.parameters().steps; }, "T, the time range [0, T].")
        .def_property_readonly("max_sigma", [](const Family& f) { return f.parameters().max_sigma; },
                               "The published max_sigma argument.")
        .def_property_readonly("eps", [](const Family& f) { return f.parameters().eps; }, "eps = alpha(T).");
}

template <class Family>
void bind_oracle(py::module_& m, const char* name, const char* doc) {
    using oracle = gaussian_diagonal_oracle<Family>;
    const auto apply = [](const at::Tensor& x, auto&& f) {
        // The oracle computes in double on host vectors; the result comes back in x's dtype and device.
        const at::Tensor c = x.detach().to(at::kCPU, at::kDouble).contiguous();
        at::Tensor out = at::empty_like(c);
        f(std::span<const double>(c.data_ptr<double>(), static_cast<std::size_t>(c.numel())),
          std::span<double>(out.data_ptr<double>(), static_cast<std::size_t>(c.numel())));
        return out.to(x.device(), x.scalar_type());
    };
    const auto host = [](const at::Tensor& t) { return t.detach().to(at::kCPU, at::kDouble).contiguous(); };
    const auto span_of = [](const at::Tensor& t) {
        return std::span<const double>(t.data_ptr<double>(), static_cast<std::size_t>(t.numel()));
    };
    py::class_<oracle>(m, name, doc)
        .def(py::init([](const Family& f, const std::vector<double>& mean, const std::vector<double>& std_dev) {
                 return oracle(f, mean, std_dev);
             }),
             py::arg("family"), py::arg("data_mean"), py::arg("data_std"),
             "Data x0 with independent elements x0[j] ~ N(data_mean[j], data_std[j]^2) under `family`.")
        .def_property_readonly("size", &oracle::size, "The number of elements n.")
        .def(
            "predict",
            [apply, host, span_of](const oracle& o, const std::string& fit, const at::Tensor& x, const at::Tensor& mu,
                                   double t) {
                const fit_target target = parse_fit_target(fit);
                const at::Tensor muh = host(mu);
                return apply(x, [&](std::span<const double> xs, std::span<double> out) {
                    o.predict(target, xs, span_of(muh), t, out);
                });
            },
            py::arg("fit_target"), py::arg("x"), py::arg("mu"), py::arg("t"),
            "The exact model output ('noise', 'data' or 'velocity') at (x, t), in x's dtype and device.")
        .def(
            "flow",
            [apply, host, span_of](const oracle& o, const at::Tensor& x_s, const at::Tensor& mu, double s, double t) {
                const at::Tensor muh = host(mu);
                return apply(x_s, [&](std::span<const double> xs, std::span<double> out) {
                    o.flow(xs, span_of(muh), s, t, out);
                });
            },
            py::arg("x_s"), py::arg("mu"), py::arg("s"), py::arg("t"),
            "The exact probability-flow map x_s -> x_t (either direction).");
}

}  // namespace

}  // namespace mrsolve::python

PYBIND11_MODULE(_core, m) {
    using namespace mrsolve;
    using namespace mrsolve::python;
    m.doc() = "The native part of mrsolve: thin bindings of the C++ headers (use the mrsolve package).";
    m.attr("__version__") = std::to_string(MRSOLVE_VERSION_MAJOR) + "." + std::to_string(MRSOLVE_VERSION_MINOR) + "." + std::to_string(MRSOLVE_VERSION_PATCH);

    // mrsolve::invalid_argument -> ValueError (its message names the offending value);
    // mrsolve::non_finite_error -> mrsolve.NonFiniteError (an ArithmeticError) with .step and .time.
    //
    // The exception type is held by a plain pointer to a reference that is never released: a static
    // py::exception (as this module had) is a C++ object with static storage, destroyed by the C++ runtime
    // at process exit, after Py_Finalize, and its destructor then runs Py_DECREF on a finalised
    // interpreter without the GIL (undefined behaviour; pybind11's own documentation warns against static
    // py::object for this reason). The translator is module-local: it sees only the exceptions of this
    // module's functions, and is not added to the translator list that every pybind11 module sharing the
    // interpreter's internals (torch's own bindings among them) runs through.
    non_finite_error_type = PyErr_NewExceptionWithDoc(
        "mrsolve._core.NonFiniteError",
        "A NaN or an infinity appeared during sampling; .step (1-based) and .time say where.",
        PyExc_ArithmeticError, nullptr);
    if (non_finite_error_type == nullptr) throw py::error_already_set();
    m.add_object("NonFiniteError", py::handle(non_finite_error_type));  // the module takes its own reference
    py::register_local_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const invalid_argument& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const non_finite_error& e) {
            py::object error = py::reinterpret_borrow<py::object>(non_finite_error_type)(e.what());
            error.attr("step") = e.step();
            error.attr("time") = e.time();
            PyErr_SetObject(non_finite_error_type, error.ptr());
        }
    });

    py::class_<table_family> table(m, "IRSDETable",
        "The discrete IR-SDE tables of trained IR-SDE/DA-CLIP models (theta_j, j = 0..T), with alpha, sigma and "
        "lambda linearly interpolated at fractional table times, as the published code does.");
    table.def(py::init([](const std::string& schedule, int T, double max_sigma, double eps) {
                  return table_family(parameters_of(schedule, T, max_sigma, eps));
              }),
              py::arg("schedule") = "cosine", py::arg("T") = 100, py::arg("max_sigma") = 50.0, py::arg("eps") = 0.005,
              "Builds the tables. schedule: 'cosine', 'linear' or 'constant'; max_sigma >= 1 is in 8-bit pixel "
              "units (lambda_s = max_sigma/255).");
    bind_family_common<table_family>(table);
    table.def_property_readonly("dt", &table_family::dt, "dt = -ln(eps)/theta_bar_T (the published dt).")
        .def_property_readonly("thetas", [](const table_family& f) { return tensor_of(f.theta_table()); },
                               "theta_j, j = 0..T, as a float64 tensor (the published `thetas`).")
        .def_property_readonly("theta_bars", [](const table_family& f) { return tensor_of(f.theta_bar_table()); },
                               "theta_bar_j = theta_0 + ... + theta_j, as a float64 tensor.")
        .def_property_readonly("alphas", [](const table_family& f) { return tensor_of(f.alpha_table()); },
                               "alpha_j = exp(-theta_bar_j dt), as a float64 tensor.")
        .def_property_readonly("sigmas", [](const table_family& f) { return tensor_of(f.sigma_table()); },
                               "sigma_j = lambda_s sqrt(1 - exp(-2 theta_bar_j dt)) (the published `sigma_bars`).")
        .def_property_readonly("lambdas", [](const table_family& f) { return tensor_of(f.lambda_table()); },
                               "lambda_j = ln alpha_j - ln sigma_j, as a float64 tensor.")
        .def("__repr__", [](const table_family& f) {
            return "mrsolve.IRSDETable(schedule='" + schedule_name(f.parameters().schedule) +
                   "', T=" + std::to_string(f.parameters().steps) + ", max_sigma=" + py::repr(py::float_(f.parameters().max_sigma)).cast<std::string>() +
                   ", eps=" + py::repr(py::float_(f.parameters().eps)).cast<std::string>() + ")";
        });

    py::class_<continuous_family> continuous(m, "IRSDE",
        "The continuous IR-SDE with constant, linear or cosine theta(t): alpha, sigma and lambda in closed form, "
        "lambda = ln(alpha/sigma) exactly; sampling ends at t_min > 0 (sigma(0) = 0).");
    continuous.def(py::init([](const std::string& schedule, int T, double max_sigma, double eps, double t_min) {
                       return continuous_family(parameters_of(schedule, T, max_sigma, eps), t_min);
                   }),
                   py::arg("schedule") = "cosine", py::arg("T") = 100, py::arg("max_sigma") = 50.0,
                   py::arg("eps") = 0.005, py::arg("t_min") = -1.0,
                   "Builds the family; t_min < 0 selects the default T/1000.");
    bind_family_common<continuous_family>(continuous);
    continuous.def_property_readonly("kappa", &continuous_family::kappa, "The scale kappa = -ln(eps)/Theta(T).");

    m.def(
        "make_grid",
        [](const py::object& family, const std::string& schedule, int nfe, double lambda_min, double rho,
           double offset, double t_start) {
            schedule_options o;
            o.lambda_min = lambda_min;
            o.rho = rho;
            o.offset = offset;
            o.t_start = t_start;
            const schedule_kind kind = parse_schedule_kind(schedule);
            const std::vector<double> grid =
                with_family(family, [&](const auto& f) { return make_grid(f, kind, nfe, o); });
            return tensor_of(grid);
        },
        py::arg("sde"), py::arg("schedule"), py::arg("nfe"), py::arg("lambda_min") = -INFINITY, py::arg("rho") = 7.0,
        py::arg("offset") = 0.0, py::arg("t_start") = NAN,
        "The grid t_0 > ... > t_nfe (float64 tensor) of a named schedule: linspace, linear-lambda, leading, "
        "trailing, karras-n, karras-t or time-quadratic, after lambda-clipping at lambda_min; t_start starts a "
        "partial restoration there instead of at T.");

    m.def(
        "load_grid",
        [](const std::string& path, const py::object& family, int nfe) {
            const std::vector<double> grid =
                with_family(family, [&](const auto& f) { return load_grid(path, f, nfe); });
            return tensor_of(grid);
        },
        py::arg("path"), py::arg("sde"), py::arg("nfe") = 0,
        "Reads a grid file (written by save_grid, mrsolve_tune or C++ mrsolve::save_grid, e.g. a grid tuned to "
        "a network) and checks it against sde: the family identity, strictly decreasing times inside its "
        "range, and nfe steps when nfe > 0. Returns the times (float64 tensor), to pass as sample(grid=...). "
        "Raises ValueError naming the file, line and value.");

    m.def(
        "save_grid",
        [](const std::string& path, const py::object& family, const std::vector<double>& times,
           const std::string& solver) {
            with_family(family, [&](const auto& f) { save_grid(path, f, std::span<const double>(times), solver); });
        },
        py::arg("path"), py::arg("sde"), py::arg("times"), py::arg("solver") = "",
        "Writes a grid (a sequence or tensor of strictly decreasing times for sde) as a versioned text file "
        "that load_grid and C++ mrsolve::load_grid read; solver is an informational line.");

    m.def(
        "recommended",
        [](int nfe) {
            const recommendation r = recommended(nfe);
            py::dict d;
            switch (r.solver) {
                case recommended_solver::unipc_noise_1_bh1:
                    d["solver"] = "unipc", d["parameterization"] = "noise", d["order"] = 1, d["unipc_variant"] = "bh1";
                    break;
                case recommended_solver::ode_noise_3:
                    d["solver"] = "ode", d["parameterization"] = "noise", d["order"] = 3, d["unipc_variant"] = "bh2";
                    break;
                case recommended_solver::unipc_data_3_bh2:
                    d["solver"] = "unipc", d["parameterization"] = "data", d["order"] = 3, d["unipc_variant"] = "bh2";
                    break;
            }
            d["schedule"] = std::string(to_string(r.schedule));
            d["name"] = r.name();
            return d;
        },
        py::arg("nfe"),
        "The measured recommended probability-flow configuration for an NFE budget (C++ mrsolve::recommended): "
        "a dict with solver, parameterization, order, unipc_variant, schedule and name.");

    m.def(
        "conversion",
        [](const py::object& family, const std::string& from, const std::string& to, double t) {
            const auto map = with_family(family, [&](const auto& f) {
                return mrsolve::conversion<double>(parse_fit_target(from), parse_fit_target(to), f.alpha(t), f.sigma(t),
                                                   f.stationary_std());
            });
            return py::make_tuple(map.x_coef, map.mu_coef, map.out_coef);
        },
        py::arg("sde"), py::arg("fit_from"), py::arg("fit_to"), py::arg("t"),
        "The affine map (a, b, c) with q = a x + b mu + c out that turns a model output of fit target fit_from "
        "into fit_to ('noise', 'data' or 'velocity') at (x, t): the conversion the samplers apply.");

    m.def(
        "fill_normal",
        [](at::Tensor z, std::uint64_t seed, std::uint64_t step) {
            at::NoGradGuard no_grad;
            if (z.scalar_type() != at::kFloat && z.scalar_type() != at::kDouble)
                mrsolve::detail::throw_invalid("fill_normal: z has dtype ", c10::toString(z.scalar_type()),
                                      "; float32 or float64 expected");
            backend_traits<at::Tensor>::fill_normal(z, philox_normal(seed), step);
            return z;
        },
        py::arg("z"), py::arg("seed"), py::arg("step") = 0,
        "Fills z in place with the counter-based standard normals of (seed, step), element e (row-major) "
        "receiving C++ philox_normal(seed).normal<T>(step, e), T = z's dtype: the normals the samplers use "
        "(counter_noise(seed) at step k >= 1; stationary_start at step 0). Returns z.");

    bind_oracle<table_family>(m, "GaussianOracleTable",
                              "The closed-form Gaussian oracle (per-element Gaussian data) on an IRSDETable.");
    bind_oracle<continuous_family>(m, "GaussianOracleContinuous",
                                   "The closed-form Gaussian oracle (per-element Gaussian data) on an IRSDE.");

    register_sample(m);
    register_reference(m);
}
