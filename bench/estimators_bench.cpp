// SPDX-License-Identifier: MIT
// Benchmarks of the stochastic estimators.
//
// - BM_Estimators_Trace_Blocked: Hutchinson with 64 probes on a dense n x n operator, applied
//   k probes at a time (one multi-RHS apply each). k = 1 streams the matrix once per probe
//   (memory-bound, 8n² bytes per product: reported against the read roofline); k = 64 streams it
//   once for all (a GEMM: 2n²k flops, reported against the DGEMM roofline). Expected ratio: the
//   GEMM rate over the GEMV rate, about 8x here.
// - BM_Estimators_TopEigenpairs: k = 5 largest eigenpairs of a dense n x n matrix with eigenvalues
//   1/i by thick-restart Lanczos (tol 1e-13, ARPACK's accuracy), one thread; each product reads
//   the matrix once, so the time is products x 8n²/bandwidth (reported as bw_fraction). Its
//   SciPy/ARPACK twin runs in bench/estimators_arpack.py on a matrix with the same spectrum.
//   Lanczos ends with a Rayleigh-Ritz step (k more products in one multi-RHS apply, counted in
//   `matvecs`). Accuracy: max_rel_err against 1/i, max_rel_err_own against the eigenvalues of
//   the rounded matrix itself (long-double Rayleigh quotients, computed outside the timing).
//   Power iteration with deflation (PyHessian's method) beside it, to 1e-8.
// - BM_Estimators_TraceError / DiagonalError: not timings but the error of each estimator against
//   its matvec budget (mean over 20 seeds), on a flat spectrum (uniform in [1, 2]) and a decaying
//   one (1/i²): counters rel_error (mean |estimate − truth| / truth) and rel_se (mean reported
//   standard error / truth). bench/estimators_plot.py turns them into the README's table and plot.
//
// CURVOP_BENCH_QUICK (set by CI) shrinks n from 4096 to 512.
#include <Eigen/QR>
#include <algorithm>
#include <cstdlib>
#include <curvop/estimators.hpp>
#include <curvop/operators/dense.hpp>
#include <curvop/operators/function.hpp>
#include <map>
#include <memory>
#include <vector>

#include "support/roofline.hpp"

namespace {

using namespace curvop;

bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }
Index big_n() { return quick() ? 512 : 4096; }

enum Spectrum { Flat = 0, Decaying = 1, Harmonic = 2 };

Vector<double> eigenvalues(Spectrum s, Index n) {
  Vector<double> ev(n);
  for (Index i = 0; i < n; ++i) {
    const double k = double(i + 1);
    ev(i) = s == Flat ? 1.0 + double(i) / double(n) : s == Decaying ? 1.0 / (k * k) : 1.0 / k;
  }
  return ev;
}

/// Q diag(ev) Qᵀ with Q from the QR of a seeded Gaussian matrix, built once per (spectrum, n).
const Matrix<double>& test_matrix(Spectrum s, Index n) {
  static std::map<std::pair<int, Index>, std::unique_ptr<Matrix<double>>> cache;
  auto& slot = cache[{static_cast<int>(s), n}];
  if (!slot) {
    Eigen::HouseholderQR<Matrix<double>> qr(random::gaussian<double>(n, n, 12345));
    const Matrix<double> q = qr.householderQ() * Matrix<double>::Identity(n, n);
    Matrix<double> a = q * eigenvalues(s, n).asDiagonal() * q.transpose();
    slot = std::make_unique<Matrix<double>>(0.5 * (a + a.transpose()));
  }
  return *slot;
}

void BM_Estimators_Trace_Blocked(benchmark::State& state) {
  const Index n = big_n(), probes = state.range(0), block = state.range(1);
  bench::set_threads(1);
  const auto op = dense_view(test_matrix(Flat, n));
  Estimate<double> e;
  for (auto _ : state) {
    e = estimate_trace(op, TraceOptions{.max_matvecs = probes, .block_size = block});
    benchmark::DoNotOptimize(e.value);
  }
  const double nn = double(n) * double(n);
  bench::report_flops<double>(state, 2.0 * nn * double(probes), 1024, 1);
  bench::report_bandwidth(state, 8.0 * nn * double((probes + block - 1) / block), bench::Roof::Read,
                          1);
  state.counters["n"] = double(n);
}
BENCHMARK(BM_Estimators_Trace_Blocked)
    ->ArgNames({"probes", "block"})
    ->Args({64, 1})
    ->Args({64, 8})
    ->Args({64, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_Estimators_TopEigenpairs(benchmark::State& state) {
  const Index n = big_n(), k = 5;
  const bool power = state.range(0) == 1;
  bench::set_threads(1);
  const auto dv = dense_view(test_matrix(Harmonic, n));
  const auto op = function_operator<double>(
      n, n, [&dv](const ConstRef<double>& x, MutRef<double> y) { dv.apply(x, y); }, symmetric);
  const EigenOptions o{.method = power ? EigenMethod::PowerIteration : EigenMethod::Lanczos,
                       .which = Which::LargestMagnitude, .tol = power ? 1e-8 : 1e-13};
  Eigenpairs<double> p;
  for (auto _ : state) {
    p = top_eigenpairs(op, k, o);
    benchmark::DoNotOptimize(p.values.data());
  }
  const Vector<double> want = eigenvalues(Harmonic, n).head(k);
  state.counters["matvecs"] = double(p.matvecs);
  state.counters["max_rel_err"] = ((p.values - want).cwiseAbs().array() / want.array()).maxCoeff();
  // Against the eigenvalues of the rounded matrix itself (1/i is off by up to 6e-16 there):
  // long-double Rayleigh quotients of the returned vectors, exact to ‖r‖²/gap + 1e-19.
  const Matrix<double>& a = test_matrix(Harmonic, n);
  double own = 0;
  for (Index i = 0; i < k; ++i) {
    std::vector<long double> ax(static_cast<std::size_t>(n), 0.0L);
    for (Index c = 0; c < n; ++c) {
      const long double xc = p.vectors(c, i);
      for (Index r = 0; r < n; ++r) ax[static_cast<std::size_t>(r)] += a(r, c) * xc;
    }
    long double num = 0, den = 0;
    for (Index r = 0; r < n; ++r) {
      num += p.vectors(r, i) * ax[static_cast<std::size_t>(r)];
      den += static_cast<long double>(p.vectors(r, i)) * p.vectors(r, i);
    }
    const long double lam = num / den;
    own = std::max(own, static_cast<double>(std::abs((p.values(i) - lam) / lam)));
  }
  state.counters["max_rel_err_own"] = own;
  state.counters["converged"] = p.info == Info::Success ? 1 : 0;
  bench::report_bandwidth(state, 8.0 * double(n) * double(n) * double(p.matvecs),
                          bench::Roof::Read, 1);
  state.counters["n"] = double(n);
}
BENCHMARK(BM_Estimators_TopEigenpairs)
    ->ArgName("power")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

/// rel_error of estimate_trace / estimate_diagonal over 20 seeds; args: method, spectrum, budget,
/// n (0: 1024, or 256 in quick mode).
void BM_Estimators_TraceError(benchmark::State& state) {
  const auto method = static_cast<TraceMethod>(state.range(0));
  const auto spec = static_cast<Spectrum>(state.range(1));
  const Index m = state.range(2);
  const Index n = state.range(3) > 0 ? (quick() ? 512 : state.range(3)) : (quick() ? 256 : 1024);
  const auto op = dense_view(test_matrix(spec, n));
  const double truth = eigenvalues(spec, n).sum();
  const int seeds = 20;
  double err = 0, se = 0;
  for (auto _ : state) {
    err = se = 0;
    for (int s = 0; s < seeds; ++s) {
      const auto e = estimate_trace(
          op, TraceOptions{.method = method, .distribution = random::Distribution::Gaussian,
                           .max_matvecs = m, .block_size = 64,
                           .seed = static_cast<std::uint64_t>(s)});
      err += std::abs(e.value - truth) / truth / seeds;
      se += e.standard_error / truth / seeds;
    }
  }
  state.counters["rel_error"] = err;
  state.counters["rel_se"] = se;
  state.counters["matvecs"] = double(m);
  state.counters["n"] = double(n);
}

void BM_Estimators_DiagonalError(benchmark::State& state) {
  const auto method = static_cast<DiagonalMethod>(state.range(0));
  const auto spec = static_cast<Spectrum>(state.range(1));
  const Index m = state.range(2), n = quick() ? 256 : 1024;
  const Matrix<double>& a = test_matrix(spec, n);
  const auto op = SymmetricDense<double>(a);
  const int seeds = 20;
  double err = 0, se = 0;
  for (auto _ : state) {
    err = se = 0;
    for (int s = 0; s < seeds; ++s) {
      const auto e = estimate_diagonal(
          op, DiagonalOptions{.method = method, .max_matvecs = m, .block_size = 64,
                              .seed = static_cast<std::uint64_t>(s)});
      err += (e.value - a.diagonal()).norm() / a.diagonal().norm() / seeds;
      se += e.standard_error.norm() / a.diagonal().norm() / seeds;
    }
  }
  state.counters["rel_error"] = err;
  state.counters["rel_se"] = se;
  state.counters["matvecs"] = double(m);
  state.counters["n"] = double(n);
}

void error_args(benchmark::internal::Benchmark* b, int methods) {
  b->ArgNames({"method", "spectrum", "matvecs", "n"});
  for (int method = 0; method < methods; ++method)
    for (int spec : {Flat, Decaying})
      for (int m : {12, 24, 48, 96, 192}) b->Args({method, spec, m, 0});
}

}  // namespace

BENCHMARK(BM_Estimators_TraceError)
    ->Apply([](benchmark::internal::Benchmark* b) {
      error_args(b, 3);
      // The NumPy comparison: 60 products on n = 4096 with eigenvalues 1/i².
      for (int method = 0; method < 3; ++method) b->Args({method, Decaying, 60, 4096});
    })
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Estimators_DiagonalError)
    ->Apply([](benchmark::internal::Benchmark* b) { error_args(b, 2); })
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

CURVOP_BENCH_ROOFLINE();
