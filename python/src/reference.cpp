// mrsolve._core._reference_sample: the C++ result that the tests compare mrsolve.sample against. The same
// solver, family, grid and options run entirely in C++ on std::vector<float|double> with the Gaussian
// oracle as the model and counter_noise(seed): no Python, no tensor in the loop. A Python run of the
// same configuration must give the same bits (tests/test_sample.py).

#include "common.hpp"

#include <chrono>
#include <span>
#include <vector>

namespace mrsolve::python {

namespace {

template <class T>
std::vector<T> to_vector(const at::Tensor& t) {
    const at::Tensor c = t.detach().to(at::kCPU, c10::CppTypeToScalarType<T>::value).contiguous();
    return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

template <class T>
at::Tensor to_tensor(const std::vector<T>& v, const at::Tensor& like) {
    return at::from_blob(const_cast<T*>(v.data()), {static_cast<std::int64_t>(v.size())},
                         at::TensorOptions().dtype(c10::CppTypeToScalarType<T>::value))
        .clone()
        .view(like.sizes());
}

template <class T, class Family>
at::Tensor reference_run(const Family& family, const method_spec& spec, const std::vector<double>& data_mean,
                         const std::vector<double>& data_std, const at::Tensor& x, const at::Tensor& mu,
                         const std::vector<double>& grid, const sample_options& options, std::uint64_t seed) {
    const gaussian_diagonal_oracle<Family> oracle(family, data_mean, data_std);
    std::vector<T> xv = to_vector<T>(x);
    const std::vector<T> muv = to_vector<T>(mu);
    with_method(spec, [&](const auto& method) {
        return sample(method, family, std::span<const double>(grid), oracle.model(options.fit), xv, muv, options,
                      counter_noise(seed));
    });
    return to_tensor(xv, x);
}

}  // namespace

template <class T, class Family>
at::Tensor reference_singlestep(const Family& family, bool data, int nfe, int order, const std::vector<double>& data_mean,
                                const std::vector<double>& data_std, const at::Tensor& x, const at::Tensor& mu,
                                const std::string& fit, std::optional<dynamic_thresholding> thresholding) {
    const gaussian_diagonal_oracle<Family> oracle(family, data_mean, data_std);
    std::vector<T> xv = to_vector<T>(x);
    const std::vector<T> muv = to_vector<T>(mu);
    const std::vector<int> orders = singlestep_orders(nfe, order);
    const std::vector<double> grid = make_grid(family, schedule_kind::linear_lambda, static_cast<int>(orders.size()));
    singlestep_options options;
    options.fit = parse_fit_target(fit);
    options.thresholding = thresholding;
    const auto run = [&]<class P>(P) {
        singlestep_sampler<P, Family, std::vector<T>> s(family, xv, options);
        s.run(std::span<const double>(grid), std::span<const int>(orders), oracle.model(options.fit), xv, muv);
    };
    if (data) run(data_prediction{});
    else run(noise_prediction{});
    return to_tensor(xv, x);
}

template <class T, class Family>
py::tuple reference_adaptive(const Family& family, bool data, const std::vector<double>& data_mean,
                             const std::vector<double>& data_std, const at::Tensor& x, const at::Tensor& mu,
                             double t_start, double t_end, const adaptive_options& options) {
    const gaussian_diagonal_oracle<Family> oracle(family, data_mean, data_std);
    std::vector<T> xv = to_vector<T>(x);
    const std::vector<T> muv = to_vector<T>(mu);
    adaptive_result r;
    {
        py::gil_scoped_release release;
        r = data ? sample_adaptive<data_prediction>(family, t_start, t_end, oracle.model(options.fit), xv, muv, options)
                 : sample_adaptive<noise_prediction>(family, t_start, t_end, oracle.model(options.fit), xv, muv, options);
    }
    return py::make_tuple(to_tensor(xv, x), r.nfe, r.accepted, r.rejected, r.passes);
}

void register_reference(py::module_& m) {
    m.def(
        "_reference_adaptive",
        [](const py::object& family, const std::string& parameterization, const std::string& fit,
           const std::vector<double>& data_mean, const std::vector<double>& data_std, const at::Tensor& x,
           const at::Tensor& mu, double t_start, double t_end, double rtol, double atol, int order,
           const std::string& scope, bool thresholding) {
            adaptive_options o;
            o.rtol = rtol;
            o.atol = atol;
            o.order = order;
            o.fit = parse_fit_target(fit);
            o.scope = scope == "per_step" ? tolerance_scope::per_step : tolerance_scope::global;
            o.batch_items = static_cast<std::size_t>(x.dim() >= 1 ? x.size(0) : 1);
            o.thresholding = thresholding_of(thresholding, 0.995, 1.5, x);
            const bool data = parameterization == "data";
            return with_family(family, [&](const auto& fam) {
                return x.scalar_type() == at::kFloat
                           ? reference_adaptive<float>(fam, data, data_mean, data_std, x, mu, t_start, t_end, o)
                           : reference_adaptive<double>(fam, data, data_mean, data_std, x, mu, t_start, t_end, o);
            });
        },
        py::arg("sde"), py::arg("parameterization"), py::arg("fit"), py::arg("data_mean"), py::arg("data_std"),
        py::arg("x"), py::arg("mu"), py::arg("t_start"), py::arg("t_end"), py::arg("rtol"), py::arg("atol"),
        py::arg("order"), py::arg("scope") = "global", py::arg("thresholding") = false,
        "Internal (tests): mrsolve::sample_adaptive in C++ on std::vector<float|double> (x's dtype) with the "
        "diagonal Gaussian oracle as the model; returns (x, nfe, accepted, rejected, passes). Thresholding: "
        "ratio 0.995, max 1.5, one chunk per batch item.");
    m.def(
        "_reference_singlestep",
        [](const table_family& family, const std::string& parameterization, int nfe, int order,
           const std::vector<double>& data_mean, const std::vector<double>& data_std, const at::Tensor& x,
           const at::Tensor& mu, const std::string& fit, bool thresholding, double threshold_ratio,
           double threshold_max) {
            const auto th = thresholding_of(thresholding, threshold_ratio, threshold_max, x);
            py::gil_scoped_release release;
            const bool data = parameterization == "data";
            return x.scalar_type() == at::kFloat
                       ? reference_singlestep<float>(family, data, nfe, order, data_mean, data_std, x, mu, fit, th)
                       : reference_singlestep<double>(family, data, nfe, order, data_mean, data_std, x, mu, fit, th);
        },
        py::arg("sde"), py::arg("parameterization"), py::arg("nfe"), py::arg("order"), py::arg("data_mean"),
        py::arg("data_std"), py::arg("x"), py::arg("mu"), py::arg("fit"), py::arg("thresholding") = false,
        py::arg("threshold_ratio") = 0.995, py::arg("threshold_max") = 1.5,
        "Internal (tests): the singlestep sampler in C++ on std::vector<float|double> (x's dtype) on a "
        "linear-lambda grid, with the diagonal Gaussian oracle as the model.");
    m.def(
        "_time_cpp_loop",
        [](const table_family& family, at::Tensor x, const at::Tensor& mu, const std::vector<double>& grid, int repeats) {
            // The C++ loop alone: mr_ode<data_prediction> order 2, published loop options, on the tensor
            // adapter, with a model that costs nothing (it leaves its output as it is). Returns seconds per run.
            py::gil_scoped_release release;
            at::NoGradGuard no_grad;
            const auto zero_cost = [](const at::Tensor&, const at::Tensor&, double, at::Tensor&) {};
            const sample_options options = sample_options::published(fit_target::data);
            sampler<mr_ode<data_prediction>, table_family, at::Tensor> s(mr_ode<data_prediction>{.order = 2}, family, x, options);
            const at::Tensor start = x.clone();
            double best = 1e300;
            for (int r = 0; r < repeats; ++r) {
                x.copy_(start);
                const auto t0 = std::chrono::steady_clock::now();
                s.run(std::span<const double>(grid), zero_cost, x, mu);
                best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            }
            return best;
        },
        py::arg("sde"), py::arg("x"), py::arg("mu"), py::arg("grid"), py::arg("repeats"),
        "Internal (benchmark): the fastest of `repeats` runs of the C++ loop (ODE-2, data prediction, published "
        "options) on x with a zero-cost C++ model, in seconds.");
    m.def(
        "_reference_sample",
        [](const py::object& family, const std::string& solver, const std::string& parameterization, int order,
           const std::string& fit, const std::vector<double>& data_mean, const std::vector<double>& data_std,
           const at::Tensor& x, const at::Tensor& mu, const std::vector<double>& grid, const std::string& orders,
           std::uint64_t seed, bool thresholding, double threshold_ratio, double threshold_max, bool denoise_last,
           const std::string& lambda) {
            method_spec spec;
            spec.solver = solver;
            spec.parameterization = parameterization;
            spec.order = order;
            sample_options options;
            options.fit = parse_fit_target(fit);
            options.orders = parse_order_policy(orders);
            options.thresholding = thresholding_of(thresholding, threshold_ratio, threshold_max, x);
            options.denoise_last = denoise_last;
            options.lambda = lambda == "family" ? step_lambda::family : step_lambda::alpha_sigma;
            const bool single = x.scalar_type() == at::kFloat;
            if (!single && x.scalar_type() != at::kDouble)
                detail::throw_invalid("_reference_sample: x must be float32 or float64");
            return with_family(family, [&](const auto& fam) {
                py::gil_scoped_release release;
                return single ? reference_run<float>(fam, spec, data_mean, data_std, x, mu, grid, options, seed)
                              : reference_run<double>(fam, spec, data_mean, data_std, x, mu, grid, options, seed);
            });
        },
        py::arg("sde"), py::arg("solver"), py::arg("parameterization"), py::arg("order"), py::arg("fit"),
        py::arg("data_mean"), py::arg("data_std"), py::arg("x"), py::arg("mu"), py::arg("grid"), py::arg("orders"),
        py::arg("seed"), py::arg("thresholding") = false, py::arg("threshold_ratio") = 0.995,
        py::arg("threshold_max") = 1.5, py::arg("denoise_last") = false, py::arg("step_lambda") = "alpha_sigma",
        "Internal (tests): mrsolve::sample in C++ on std::vector<float|double> (x's dtype) with the diagonal "
        "Gaussian oracle as the model and counter_noise(seed); returns the result shaped like x. Thresholding: "
        "one chunk per batch item (x's first dimension).");
}

}  // namespace mrsolve::python
