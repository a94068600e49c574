// The LibTorch adapter (<mrsolve/adapters/libtorch.hpp>):
//  - torch::Tensor states reproduce the std::vector trajectory of every solver (MR Sampler ODE/SDE ×
//    noise/data × orders, and the baselines), bit for bit on the host fast path (contiguous CPU
//    float32/float64 tensors, which run the same loop and the same noise generator), and to float
//    round-off on the tensor-op path (non-contiguous tensors, which run what CUDA tensors run);
//  - every golden recording of the published sampler is reproduced with float64 tensors (5e-5), bit for
//    bit like std::vector<double>;
//  - the tensor-op Philox generator equals the host one; linear_map's aliasing, finiteness and
//    mismatch rules; torchscript_model on the shipped restoration network;
//  - on a CUDA machine (torch::cuda::is_available()), the same solver runs on the GPU match the CPU.
#include <mrsolve/adapters/libtorch.hpp>
#include <mrsolve/golden/golden_file.hpp>
#include <mrsolve/golden/replay.hpp>
#include <mrsolve/mrsolve.hpp>
#include <mrsolve/oracle/gaussian.hpp>

#include <torch/cuda.h>

// LibTorch's headers bring glog's CHECK macros, which abort; doctest's assertions of the same names are
// meant here, so doctest comes last, after the glog names are released.
#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LE
#undef CHECK_LT
#undef CHECK_GE
#undef CHECK_GT
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using table_t = mrsolve::irsde_table<double>;
using oracle_t = mrsolve::gaussian_diagonal_oracle<table_t>;

const table_t& table() {
    static const table_t t({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});
    return t;
}

// An image batch [2, 3, 5, 7]: 210 elements, not a multiple of the Philox group sizes 4 and 2.
const std::vector<std::int64_t> image_shape{2, 3, 5, 7};
constexpr std::size_t image_size = 2 * 3 * 5 * 7;

template <class T>
constexpr c10::ScalarType dtype_of = std::is_same_v<T, float> ? at::kFloat : at::kDouble;

template <class T>
at::Tensor tensor_from(const std::vector<T>& v, std::vector<std::int64_t> shape = image_shape) {
    return at::from_blob(const_cast<T*>(v.data()), shape, at::TensorOptions().dtype(dtype_of<T>)).clone();
}

template <class T>
std::vector<T> vector_from(const at::Tensor& t) {
    const at::Tensor c = t.to(at::kCPU).to(dtype_of<T>).contiguous();
    return std::vector<T>(c.data_ptr<T>(), c.data_ptr<T>() + c.numel());
}

double max_abs_diff(const std::vector<double>& a, const std::vector<double>& b) {
    REQUIRE(a.size() == b.size());
    double d = 0;
    for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
    return d;
}

template <class T>
std::vector<double> as_doubles(const std::vector<T>& v) {
    return std::vector<double>(v.begin(), v.end());
}

/// The Gaussian toy every solver runs: per-element data N(m_j, s_j²), μ, and x_T from the stationary law.
struct problem {
    std::vector<double> mean, std_dev, mu, x_T;
    oracle_t oracle;
    problem()
        : mean(make(0.1, 0.9, 3)), std_dev(make(0.05, 0.3, 5)), mu(make(0.0, 1.0, 7)),
          x_T(image_size), oracle(table(), mean, std_dev) {
        mrsolve::stationary_start(table(), mu, x_T, 11);
    }
    static std::vector<double> make(double lo, double hi, int stride) {
        std::vector<double> v(image_size);
        for (std::size_t i = 0; i < v.size(); ++i) v[i] = lo + (hi - lo) * double((i * stride) % 17) / 16.0;
        return v;
    }
};

/// The oracle as a model for tensor states: contiguous host copies in, the prediction copied out. On the
/// fast path (contiguous CPU tensors of the oracle's precision) it works on the storage directly.
template <class T>
struct tensor_oracle_model {
    mrsolve::oracle_model<oracle_t> exact;
    void operator()(const at::Tensor& x, const at::Tensor& mu, double t, at::Tensor& out) const {
        const at::Tensor xc = x.to(at::kCPU).to(dtype_of<T>).contiguous();
        const at::Tensor mc = mu.to(at::kCPU).to(dtype_of<T>).contiguous();
        const bool direct = out.device().is_cpu() && out.scalar_type() == dtype_of<T> && out.is_contiguous();
        at::Tensor oc = direct ? out : at::empty_like(xc);
        const auto n = static_cast<std::size_t>(xc.numel());
        exact(std::span<const T>(xc.data_ptr<T>(), n), std::span<const T>(mc.data_ptr<T>(), n), t,
              std::span<T>(oc.data_ptr<T>(), n));
        if (!direct) out.copy_(oc.view(out.sizes()));
    }
};

/// Every solver configuration: name, and a function running it on (x, μ) with a given model.
template <class S, class Model>
using runner = std::function<int(S& x, const S& mu, Model& model)>;

template <class S, class Model>
void for_each_solver(const std::function<void(const std::string&, const runner<S, Model>&)>& visit) {
    using namespace mrsolve;
    const auto add = [&](const auto& method, sample_options options, int nfe) {
        const std::string name = method.name() + (options.orders == order_policy::published ? "/published-loop" : "") +
                                 (options.denoise_last ? "/denoise_last" : "") +
                                 (options.thresholding ? "/thresholding" : "") + "/nfe" + std::to_string(nfe);
        const int stages = [&] {
            if constexpr (TwoStageMethod<std::decay_t<decltype(method)>>) return 2;
            else return 1;
        }();
        const auto grid = make_grid(table(), schedule_kind::linspace, nfe / stages);
        visit(name, [=](S& x, const S& mu, Model& model) {
            return sample(method, table(), std::span<const double>(grid), model, x, mu, options, counter_noise{5}).nfe;
        });
    };
    const auto add_singlestep = [&](auto parameterization, int order, singlestep_options options, int nfe) {
        using P = decltype(parameterization);
        const std::string name = std::string("singlestep/") +
                                 (std::is_same_v<P, data_prediction> ? "data" : "noise") + "/order" +
                                 std::to_string(order) + (options.thresholding ? "/thresholding" : "") + "/nfe" +
                                 std::to_string(nfe);
        const std::vector<int> orders = singlestep_orders(nfe, order);
        const auto grid = make_grid(table(), schedule_kind::linspace, static_cast<int>(orders.size()));
        visit(name, [=](S& x, const S& mu, Model& model) {
            singlestep_sampler<P, table_t, S> sampler(table(), x, options);
            return sampler.run(std::span<const double>(grid), std::span<const int>(orders), model, x, mu).nfe;
        });
    };
    for (const fit_target fit : {fit_target::noise, fit_target::data}) {
        sample_options o;
        o.fit = fit;
        for (int order = 1; order <= 3; ++order) {
            add(mr_ode<data_prediction>{order}, o, 10);
            add(mr_ode<noise_prediction>{order}, o, 10);
        }
        for (int order = 1; order <= 2; ++order) {
            add(mr_sde<data_prediction>{order}, o, 10);
            add(mr_sde<noise_prediction>{order}, o, 10);
        }
        // Dynamic thresholding per batch item (2 items): the backend's dynamic_threshold, on the storage
        // (contiguous CPU) or with kthvalue tensor operations (channels-last), against the host span.
        sample_options thresholded = o;
        thresholded.thresholding = dynamic_thresholding{0.9, 1.5, 2};
        add(mr_ode<data_prediction>{2}, thresholded, 10);
        add(mr_sde<data_prediction>{2}, thresholded, 10);
        thresholded.denoise_last = true;
        add(mr_ode<data_prediction>{3}, thresholded, 10);
        // The singlestep sampler: every order, both parameterizations, thresholding of every stage.
        singlestep_options single;
        single.fit = fit;
        for (int order = 1; order <= 3; ++order) {
            add_singlestep(data_prediction{}, order, single, 10);
            add_singlestep(noise_prediction{}, order, single, 11);
        }
        single.thresholding = dynamic_thresholding{0.9, 1.5, 2};
        add_singlestep(data_prediction{}, 3, single, 10);
    }
    sample_options o;
    add(mr_ode<data_prediction>{3, order3_rule::published}, sample_options::published(fit_target::noise), 5);
    add(mr_ode<data_prediction>{2}, sample_options::published(fit_target::noise, true), 10);
    add(mr_sde<noise_prediction>{2}, sample_options::published(fit_target::noise), 5);
    for (const step_mode mode : {step_mode::variable, step_mode::published_fixed}) {
        add(euler_maruyama{1, mode}, o, 10);
        add(posterior_sampling{1, mode}, o, 10);
        add(euler_ode{1, mode}, o, 10);
    }
    add(heun_ode{}, o, 10);
}

/// The memory layouts the tests run: contiguous and channels_last take the host paths, a view with gaps
/// (every other column of a wider tensor) the tensor-op path.
enum class layout { contiguous, channels_last, gapped_view };

template <class T>
at::Tensor make_input(const std::vector<double>& values, layout kind) {
    std::vector<T> v(values.begin(), values.end());
    at::Tensor t = tensor_from(v);
    if (kind == layout::channels_last) return t.contiguous(at::MemoryFormat::ChannelsLast);
    if (kind == layout::gapped_view) {
        std::vector<std::int64_t> wide(t.sizes().begin(), t.sizes().end());
        wide.back() *= 2;
        at::Tensor base = at::zeros(wide, t.options());
        at::Tensor view = base.slice(t.dim() - 1, 0, wide.back(), 2);
        view.copy_(t);
        return view;
    }
    return t;
}

mrsolve::torch_path expected_path(layout kind) {
    switch (kind) {
        case layout::contiguous: return mrsolve::torch_path::host_contiguous;
        case layout::channels_last: return mrsolve::torch_path::host_dense;
        default: return mrsolve::torch_path::tensor_ops;
    }
}

/// Every solver on std::vector<U> from the problem's start, with the exact model of `fit`: the results
/// as doubles, in for_each_solver's order.
template <class U>
std::vector<std::vector<double>> vector_runs(const problem& p, mrsolve::fit_target fit) {
    using vec_model = mrsolve::oracle_model<oracle_t>;
    std::vector<std::vector<double>> results;
    for_each_solver<std::vector<U>, vec_model>([&](const std::string&, const runner<std::vector<U>, vec_model>& run) {
        std::vector<U> x(p.x_T.begin(), p.x_T.end());
        const std::vector<U> mu(p.mu.begin(), p.mu.end());
        vec_model model = p.oracle.model(fit);
        run(x, mu, model);
        results.push_back(as_doubles(x));
    });
    return results;
}

/// Runs every solver on std::vector<T> and on tensors; returns the largest difference of the results.
template <class T>
void check_solvers_against_vector(layout kind, double tolerance) {
    const problem p;
    int cases = 0;
    for (const mrsolve::fit_target fit : {mrsolve::fit_target::noise, mrsolve::fit_target::data}) {
        using vec_model = mrsolve::oracle_model<oracle_t>;
        using ten_model = tensor_oracle_model<T>;
        // The same in double, and in float: T's own round-off on this (ill-conditioned: 1/α(T) = 200) toy.
        const auto vector_results = vector_runs<T>(p, fit), double_results = vector_runs<double>(p, fit),
                   float_results = vector_runs<float>(p, fit);
        std::vector<std::string> names;
        for_each_solver<std::vector<T>, vec_model>(
            [&](const std::string& name, const runner<std::vector<T>, vec_model>&) { names.push_back(name); });
        std::size_t k = 0;
        for_each_solver<at::Tensor, ten_model>([&](const std::string& name, const runner<at::Tensor, ten_model>& run) {
            CAPTURE(name);
            CAPTURE(static_cast<int>(kind));
            CAPTURE(static_cast<int>(fit));
            at::Tensor x = make_input<T>(p.x_T, kind);
            const at::Tensor mu = make_input<T>(p.mu, kind);
            CHECK(mrsolve::torch_execution_path(x) == expected_path(kind));
            ten_model model{p.oracle.model(fit)};
            const int nfe = run(x, mu, model);
            CHECK(nfe > 0);
            CHECK((x.sizes() == at::IntArrayRef(image_shape)));
            CHECK(mrsolve::torch_execution_path(x) == expected_path(kind));
            const double d = max_abs_diff(as_doubles(vector_from<T>(x)), vector_results[k]);
            if (tolerance == 0) {
                CHECK(d == 0.0);
            } else {
                // As close to std::vector<T> as T's arithmetic itself is to exact arithmetic: for float,
                // its distance from the double result; for double, float's distance scaled by the ratio of
                // the unit roundoffs (the unstable configurations at NFE 10, ode_data_3 and sde_noise_2,
                // amplify round-off about 3e5-fold on this toy: 0.035 in float, 1e-10 in double).
                const double float_distance = max_abs_diff(float_results[k], double_results[k]);
                const double own_round_off =
                    std::is_same_v<T, float>
                        ? max_abs_diff(vector_results[k], double_results[k])
                        : float_distance * (std::numeric_limits<double>::epsilon() / std::numeric_limits<float>::epsilon());
                CAPTURE(own_round_off);
                CHECK(d <= std::max(tolerance, 2 * own_round_off));
            }
            ++k;
            ++cases;
        });
        CHECK(k == names.size());
    }
    CHECK(cases >= 40);
}

}  // namespace

TEST_CASE("torch::Tensor satisfies the backend concepts") {
    static_assert(mrsolve::State<at::Tensor>);
    static_assert(mrsolve::NormalFillable<at::Tensor>);
    static_assert(mrsolve::ThresholdableState<at::Tensor>);
    static_assert(!mrsolve::HostState<at::Tensor>);
    static_assert(mrsolve::ScoreFn<mrsolve::torchscript_model, at::Tensor, double>);
    const at::Tensor x = at::ones({2, 3, 4, 5}, at::kFloat);
    const at::Tensor z = mrsolve::backend_traits<at::Tensor>::make_like(x);
    CHECK((z.sizes() == x.sizes()));
    CHECK((z.scalar_type() == at::kFloat));
    CHECK(z.abs().sum().item<double>() == 0.0);
    CHECK(mrsolve::backend_traits<at::Tensor>::size(x) == 120);
    CHECK(mrsolve::backend_traits<at::Tensor>::size(at::Tensor()) == 0);
}

TEST_CASE("fill_normal on contiguous CPU tensors is philox_normal::fill (the std::vector noise)") {
    const mrsolve::philox_normal generator(1234);
    at::Tensor f = at::empty(image_shape, at::kFloat);
    at::Tensor d = at::empty(image_shape, at::kDouble);
    mrsolve::backend_traits<at::Tensor>::fill_normal(f, generator, 3);
    mrsolve::backend_traits<at::Tensor>::fill_normal(d, generator, 3);
    std::vector<float> vf(image_size);
    std::vector<double> vd(image_size);
    generator.fill(std::span<float>(vf), 3);
    generator.fill(std::span<double>(vd), 3);
    CHECK(vector_from<float>(f) == vf);
    CHECK(vector_from<double>(d) == vd);
}

TEST_CASE("the tensor-op Philox generator (CUDA, non-contiguous) equals the host generator") {
    for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{7}, std::uint64_t{0xDEADBEEF12345678ull}}) {
        for (const std::uint64_t step : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{(1ull << 32) + 5}}) {
            CAPTURE(seed);
            CAPTURE(step);
            const mrsolve::philox_normal generator(seed);
            for (const std::int64_t n : {1, 2, 3, 5, 210, 4097}) {
                CAPTURE(n);
                const at::Tensor zf = mrsolve::detail::torch_philox_normals(generator, step, n, at::kFloat, at::kCPU);
                const at::Tensor zd = mrsolve::detail::torch_philox_normals(generator, step, n, at::kDouble, at::kCPU);
                std::vector<float> vf(static_cast<std::size_t>(n));
                std::vector<double> vd(static_cast<std::size_t>(n));
                generator.fill(std::span<float>(vf), step);
                generator.fill(std::span<double>(vd), step);
                const auto tf = vector_from<float>(zf);
                const auto td = vector_from<double>(zd);
                REQUIRE(tf.size() == vf.size());
                double worst_f = 0, worst_d = 0;
                for (std::size_t i = 0; i < vf.size(); ++i) {
                    worst_f = std::max(worst_f, std::abs(double(tf[i]) - double(vf[i])) / (1 + std::abs(double(vf[i]))));
                    worst_d = std::max(worst_d, std::abs(td[i] - vd[i]) / (1 + std::abs(vd[i])));
                }
                // Same uniforms; only the vectorised log/sin/cos of LibTorch differ from libm by a few ulp.
                CHECK(worst_f <= 4e-6);
                CHECK(worst_d <= 1e-14);
            }
        }
    }
    // Through fill_normal on non-contiguous CPU views: element e of the logical (row-major) order, from the
    // host generator (the same bits as philox_normal::fill), whatever the strides.
    const mrsolve::philox_normal generator(99);
    at::Tensor base = at::zeros({5, 7, 12}, at::kFloat);
    for (at::Tensor view : {base.slice(2, 0, 6).transpose(0, 2), base.slice(2, 0, 12, 2)}) {
        REQUIRE_FALSE(view.is_contiguous());
        mrsolve::backend_traits<at::Tensor>::fill_normal(view, generator, 2);
        std::vector<float> expected(static_cast<std::size_t>(view.numel()));
        generator.fill(std::span<float>(expected), 2);
        CHECK(vector_from<float>(view) == expected);
    }
}

TEST_CASE("linear_map: fast path bit-identical to std::vector, tensor-op path to round-off, aliasing") {
    std::vector<float> a(image_size), b(image_size), c(image_size);
    for (std::size_t i = 0; i < image_size; ++i) {
        a[i] = float(std::sin(0.1 * double(i)));
        b[i] = float(std::cos(0.3 * double(i)));
        c[i] = float(0.01 * double(i));
    }
    const std::array<std::array<double, 3>, 2> coef{{{0.3, -1.7, 2.5}, {1.1, 0.25, -0.6}}};
    // std::vector reference: out0 = new, out1 = a (aliases input 0).
    std::vector<float> r0(image_size), r1 = a;
    {
        std::array<std::array<float, 3>, 2> cf{};
        for (int i = 0; i < 2; ++i)
            for (int k = 0; k < 3; ++k) cf[i][k] = float(coef[i][k]);
        mrsolve::backend_traits<std::vector<float>>::linear_map<2, 3>({&r0, &r1}, cf, {&r1, &b, &c});
    }
    for (const bool contiguous : {true, false}) {
        CAPTURE(contiguous);
        const auto make = [contiguous](const std::vector<float>& v) {
            at::Tensor t = tensor_from(v);
            return contiguous ? t : t.contiguous(at::MemoryFormat::ChannelsLast);
        };
        at::Tensor ta = make(a), tb = make(b), tc = make(c), t0 = make(std::vector<float>(image_size));
        const bool ok = mrsolve::backend_traits<at::Tensor>::linear_map<2, 3>({&t0, &ta}, coef, {&ta, &tb, &tc});
        CHECK(ok);
        const double d0 = max_abs_diff(as_doubles(vector_from<float>(t0)), as_doubles(r0));
        const double d1 = max_abs_diff(as_doubles(vector_from<float>(ta)), as_doubles(r1));
        if (contiguous) {
            CHECK(d0 == 0.0);
            CHECK(d1 == 0.0);
        } else {
            CHECK(d0 <= 2e-6);
            CHECK(d1 <= 2e-6);
        }
        // An output that is an input a later output still reads: goes through a temporary.
        at::Tensor ua = make(a), ub = make(b), uc = make(c);
        const bool ok2 = mrsolve::backend_traits<at::Tensor>::linear_map<2, 3>({&ub, &uc}, coef, {&ua, &ub, &uc});
        CHECK(ok2);
        std::vector<float> e0(image_size), e1(image_size);
        for (std::size_t i = 0; i < image_size; ++i) {
            e0[i] = float(coef[0][0]) * a[i] + float(coef[0][1]) * b[i] + float(coef[0][2]) * c[i];
            e1[i] = float(coef[1][0]) * a[i] + float(coef[1][1]) * b[i] + float(coef[1][2]) * c[i];
        }
        CHECK(max_abs_diff(as_doubles(vector_from<float>(ub)), as_doubles(e0)) <= 2e-6);
        CHECK(max_abs_diff(as_doubles(vector_from<float>(uc)), as_doubles(e1)) <= 2e-6);
        // Non-finite outputs are reported; all_finite agrees.
        std::vector<float> with_nan = a;
        with_nan[17] = std::numeric_limits<float>::quiet_NaN();
        at::Tensor bad = make(with_nan);
        at::Tensor o = make(std::vector<float>(image_size));
        CHECK_FALSE(mrsolve::backend_traits<at::Tensor>::linear_map<1, 2>({&o}, {{{1.0, 1.0}}}, {&bad, &tb}));
        CHECK_FALSE(mrsolve::backend_traits<at::Tensor>::all_finite(bad));
        CHECK(mrsolve::backend_traits<at::Tensor>::all_finite(tb));
    }
    // Mismatched dtype or size: a clear error, not a silent conversion.
    at::Tensor f = at::zeros({4}, at::kFloat), d = at::zeros({4}, at::kDouble), g = at::zeros({5}, at::kFloat);
    CHECK_THROWS_AS((mrsolve::backend_traits<at::Tensor>::linear_map<1, 2>({&f}, {{{1.0, 1.0}}}, {&f, &d})),
                    mrsolve::invalid_argument);
    CHECK_THROWS_WITH_AS((mrsolve::backend_traits<at::Tensor>::linear_map<1, 2>({&f}, {{{1.0, 1.0}}}, {&f, &g})),
                         doctest::Contains("[5]"), mrsolve::invalid_argument);
}

TEST_CASE("every solver: torch::Tensor (contiguous CPU, float and double) reproduces std::vector bit for bit") {
    check_solvers_against_vector<float>(layout::contiguous, 0.0);
    check_solvers_against_vector<double>(layout::contiguous, 0.0);
}

TEST_CASE("every solver: channels_last tensors (the host dense path) reproduce std::vector bit for bit") {
    check_solvers_against_vector<float>(layout::channels_last, 0.0);
    check_solvers_against_vector<double>(layout::channels_last, 0.0);
}

TEST_CASE("every solver: the tensor-op path (views with gaps) reproduces std::vector to round-off") {
    check_solvers_against_vector<float>(layout::gapped_view, 1e-5);
    check_solvers_against_vector<double>(layout::gapped_view, 1e-10);
}

TEST_CASE("the sample result names the path its updates took, for each layout and for mixed layouts") {
    const problem p;
    const std::string isa(mrsolve::simd_isa_name(mrsolve::detail::active_simd_isa()));
    const auto grid = mrsolve::make_grid(table(), mrsolve::schedule_kind::linspace, 5);
    const auto path_of = [&](layout x_layout, layout mu_layout) {
        at::Tensor x = make_input<float>(p.x_T, x_layout);
        const at::Tensor mu = make_input<float>(p.mu, mu_layout);
        tensor_oracle_model<float> model{p.oracle.model(mrsolve::fit_target::noise)};
        return std::string(mrsolve::sample(mrsolve::mr_sde<mrsolve::data_prediction>{2}, table(),
                                           std::span<const double>(grid), model, x, mu, {}, mrsolve::counter_noise{5})
                               .execution_path);
    };
    CHECK(path_of(layout::contiguous, layout::contiguous) == "torch host_contiguous/" + isa);
    CHECK(path_of(layout::channels_last, layout::channels_last) == "torch host_dense/" + isa);
    CHECK(path_of(layout::gapped_view, layout::gapped_view) == "torch tensor_ops");
    // A condition of another layout sends the updates to the tensor operations, and the result says so.
    CHECK(path_of(layout::contiguous, layout::channels_last) == "torch tensor_ops");
    CHECK(path_of(layout::channels_last, layout::contiguous) == "torch tensor_ops");
}

TEST_CASE("golden recordings of the published sampler, replayed with float64 tensors") {
    const std::filesystem::path dir = MRSOLVE_TEST_GOLDEN_DIR;
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".txt") continue;
        CAPTURE(entry.path().filename().string());
        const mrsolve::golden_record r = mrsolve::read_golden(entry.path().string());
        if (r.thresholding) {
            MESSAGE("skipped (dynamic thresholding needs host_span, which tensor states do not offer)");
            continue;
        }
        const table_t family({mrsolve::parse_theta_schedule(r.family_schedule), r.table_steps, r.max_sigma, r.eps});
        const oracle_t oracle(family, r.data_mean, r.data_std);
        const mrsolve::fit_target fit = mrsolve::parse_fit_target(r.fit_target);
        const auto exact = oracle.model(fit);
        auto model = [&exact](const at::Tensor& x, const at::Tensor& mu, double t, at::Tensor& out) {
            const auto n = static_cast<std::size_t>(x.numel());
            std::span<double> o(out.data_ptr<double>(), n);
            exact(std::span<const double>(x.data_ptr<double>(), n), std::span<const double>(mu.data_ptr<double>(), n), t, o);
            for (double& v : o) v = static_cast<double>(static_cast<float>(v));  // the recording network's float
        };
        mrsolve::schedule_options schedule;
        schedule.lambda_min = r.lambda_min;
        const std::vector<double> grid = mrsolve::make_grid(family, mrsolve::parse_schedule_kind(r.time_schedule), r.nfe, schedule);
        const mrsolve::sample_options options = mrsolve::sample_options::published(fit, r.denoise_last);
        auto noise = mrsolve::injected_noise([&r](at::Tensor& z, int step) {
            const auto& v = r.noise.at(step);
            std::copy(v.begin(), v.end(), z.data_ptr<double>());
        });
        double worst = 0;
        const auto shape = std::vector<std::int64_t>{static_cast<std::int64_t>(r.n)};
        const auto observe = [&](const mrsolve::step_info<double, at::Tensor>& info) {
            const auto it = r.states.find(info.step);
            if (it == r.states.end()) return;
            worst = std::max(worst, max_abs_diff(vector_from<double>(info.x), it->second));
        };
        at::Tensor x = tensor_from(r.x_T, shape);
        const at::Tensor mu = tensor_from(r.mu, shape);
        const auto run = [&](const auto& method) {
            return mrsolve::sample(method, family, std::span<const double>(grid), model, x, mu, options, noise, observe);
        };
        const bool data = r.parameterization == "data";
        mrsolve::sample_result stats;
        if (r.solver == "ode") {
            stats = data ? run(mrsolve::mr_ode<mrsolve::data_prediction>{r.order, mrsolve::order3_rule::published})
                         : run(mrsolve::mr_ode<mrsolve::noise_prediction>{r.order, mrsolve::order3_rule::published});
        } else {
            stats = data ? run(mrsolve::mr_sde<mrsolve::data_prediction>{r.order})
                         : run(mrsolve::mr_sde<mrsolve::noise_prediction>{r.order});
        }
        CHECK(stats.nfe == r.nfe);
        worst = std::max(worst, max_abs_diff(vector_from<double>(x), r.output));
        CHECK(worst <= 5e-5);
        // std::vector<double> through the library's own replay: the same deviation, bit for bit.
        const mrsolve::golden_replay_result vec = mrsolve::replay_golden(r);
        CHECK(worst == vec.max_abs_dev);
        ++files;
    }
    CHECK(files >= 10);
}

TEST_CASE("torchscript_model: t as a [B] tensor, and extra conditioning inputs passed through") {
    // A module with two extra inputs, like DA-CLIP's text and image context: it returns
    // (x − mu)·text + image + t (t reshaped against x, as the model contract says).
    torch::jit::Module module("conditioned");
    module.define(R"(
def forward(self, x, mu, t, text, image):
    return (x - mu) * text + image + t.view(-1, 1, 1, 1)
)");
    const at::Tensor x = at::rand({2, 3, 4, 5}, at::kFloat), mu = at::rand({2, 3, 4, 5}, at::kFloat);
    const at::Tensor text = at::full({2, 1, 1, 1}, 3.0f), image = at::full({1, 3, 1, 1}, 0.5f);
    mrsolve::torchscript_model model(module);
    model.with_extra_inputs({text, image});
    CHECK(model.extra_inputs() == 2);
    at::Tensor out = at::empty_like(x);
    model(x, mu, 37.0, out);
    CHECK(at::allclose(out, (x - mu) * 3.0 + 0.5 + 37.0));
    // The extra inputs are kept for every call; the sampler's inputs are not.
    model(x, mu, 12.0, out);
    CHECK(at::allclose(out, (x - mu) * 3.0 + 0.5 + 12.0));
    CHECK(x.use_count() == 1);
    // Without them the module's signature is not met: the TorchScript error reaches the caller.
    mrsolve::torchscript_model bare(module);
    CHECK_THROWS_AS(bare(x, mu, 1.0, out), c10::Error);
    // A sampling run passes them through too.
    const table_t family({mrsolve::theta_schedule::cosine, 100, 50.0, 0.005});
    torch::jit::Module noise_net("noise_net");
    noise_net.define(R"(
def forward(self, x, mu, t, scale):
    return (x - mu) * scale
)");
    mrsolve::torchscript_model conditioned(noise_net);
    conditioned.with_extra_inputs({at::scalar_tensor(0.1, at::kFloat)});
    at::Tensor state = x.clone();
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 5);
    const auto stats = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, family,
                                       std::span<const double>(grid), conditioned, state, mu);
    CHECK(stats.nfe == 5);
    CHECK(conditioned.calls() == 5);
}

TEST_CASE("torchscript_model runs the shipped restoration network") {
    const std::string path = MRSOLVE_RESTORE_MODEL;
    if (!std::filesystem::exists(path)) {
        MESSAGE("model file not found: " << path);
        return;
    }
    mrsolve::torchscript_model model = mrsolve::torchscript_model::load(path);
    torch::jit::script::Module& module = model.module();
    const double max_sigma = module.attr("max_sigma").toDouble();
    CHECK(module.attr("T").toInt() == 100);
    CHECK(max_sigma == 50.0);
    at::manual_seed(3);
    const at::Tensor x = at::rand({2, 3, 18, 22});  // not a multiple of 4: the network pads
    const at::Tensor mu = at::rand({2, 3, 18, 22});
    at::Tensor out = at::zeros_like(x);
    model(x, mu, 37.0, out);
    CHECK(model.calls() == 1);
    at::Tensor direct;
    {
        torch::NoGradGuard no_grad;
        direct = module.forward({x, mu, at::full({2}, 37.0)}).toTensor();
    }
    CHECK(at::equal(out, direct));
    CHECK(mrsolve::backend_traits<at::Tensor>::all_finite(out));
    // Batch items are independent: item 1 alone gives the same output.
    at::Tensor one = at::zeros({1, 3, 18, 22});
    model(x.narrow(0, 1, 1).clone(), mu.narrow(0, 1, 1).clone(), 37.0, one);
    // (to float round-off: a different batch size may take a different convolution kernel)
    const double batch_dev = (one[0] - out[1]).abs().max().item<double>();
    CAPTURE(batch_dev);
    CHECK(batch_dev <= 1e-4 * (1 + out.abs().max().item<double>()));
    // float64 states: the network computes in float32 and returns the state's dtype.
    at::Tensor xd = x.to(at::kDouble), md = mu.to(at::kDouble), od = at::zeros_like(xd);
    model(xd, md, 37.0, od);
    CHECK(at::allclose(od.to(at::kFloat), out, 1e-6, 1e-6));
    // A wrong output shape is an error that names both shapes.
    at::Tensor wrong = at::zeros({2, 3, 18, 21});
    CHECK_THROWS_WITH_AS(model(x, mu, 37.0, wrong), doctest::Contains("[2, 3, 18, 22]"), mrsolve::invalid_argument);
    // A short sampling run.
    const table_t family({mrsolve::theta_schedule::cosine, 100, max_sigma, 0.005});
    at::Tensor state = at::empty_like(mu);
    mrsolve::stationary_start(family, mu, state, 1);
    const auto grid = mrsolve::make_grid(family, mrsolve::schedule_kind::linspace, 5);
    const auto stats = mrsolve::sample(mrsolve::mr_ode<mrsolve::data_prediction>{2}, family,
                                       std::span<const double>(grid), model, state, mu);
    CHECK(stats.nfe == 5);
    CHECK(mrsolve::backend_traits<at::Tensor>::all_finite(state));
}

TEST_CASE("CUDA tensors: the tensor-op path on the GPU matches the CPU") {
    if (!torch::cuda::is_available()) {
        // bench/gpu_check.sh sets MRSOLVE_REQUIRE_GPU=1: there a missing device is a failure, not a skip.
        const char* required = std::getenv("MRSOLVE_REQUIRE_GPU");
        REQUIRE_MESSAGE(!(required && std::string(required) == "1"), "MRSOLVE_REQUIRE_GPU=1 but no CUDA device");
        MESSAGE("no CUDA device: skipped");
        return;
    }
    const problem p;
    const at::Device cuda(at::kCUDA, 0);
    using ten_model = tensor_oracle_model<double>;
    for (const mrsolve::fit_target fit : {mrsolve::fit_target::noise, mrsolve::fit_target::data}) {
        // The CPU float run, and the same in double: the GPU's float kernels (FMA-contracted, other
        // summation orders) are judged by the yardstick of the CPU tensor-op test, as close to the CPU
        // float result as float arithmetic itself is to double on this ill-conditioned toy.
        std::vector<std::vector<double>> cpu_results;
        for_each_solver<at::Tensor, ten_model>([&](const std::string&, const runner<at::Tensor, ten_model>& run) {
            at::Tensor x = make_input<float>(p.x_T, layout::contiguous);
            const at::Tensor mu = make_input<float>(p.mu, layout::contiguous);
            ten_model model{p.oracle.model(fit)};
            run(x, mu, model);
            cpu_results.push_back(as_doubles(vector_from<float>(x)));
        });
        const auto double_results = vector_runs<double>(p, fit);
        std::size_t k = 0;
        for_each_solver<at::Tensor, ten_model>([&](const std::string& name, const runner<at::Tensor, ten_model>& run) {
            CAPTURE(name);
            at::Tensor x = make_input<float>(p.x_T, layout::contiguous).to(cuda);
            const at::Tensor mu = make_input<float>(p.mu, layout::contiguous).to(cuda);
            ten_model model{p.oracle.model(fit)};
            run(x, mu, model);
            CHECK(x.device().is_cuda());
            const double own_round_off = max_abs_diff(cpu_results[k], double_results[k]);
            CAPTURE(own_round_off);
            CHECK(max_abs_diff(as_doubles(vector_from<float>(x)), cpu_results[k]) <= std::max(1e-5, 2 * own_round_off));
            ++k;
        });
    }
    const mrsolve::philox_normal generator(5);
    const at::Tensor z = mrsolve::detail::torch_philox_normals(generator, 1, 1000, at::kFloat, cuda);
    std::vector<float> v(1000);
    generator.fill(std::span<float>(v), 1);
    const auto g = vector_from<float>(z);
    for (std::size_t i = 0; i < v.size(); ++i) CHECK(std::abs(g[i] - v[i]) <= 1e-5f * (1 + std::abs(v[i])));
}
