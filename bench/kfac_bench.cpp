// SPDX-License-Identifier: MIT
// K-FAC kernels against this machine's roofline, measured in the same process.
//
// - BM_KFac_ApplyInverse: C⁻¹ vec(V) = vec(Ĝ⁻¹ V Â⁻¹) with precomputed inverses (factored
//   damping), in = out = n: two n×n×n GEMMs, 4n³ flops, reported against the n-GEMM rate.
//   Baseline beside it: BM_KFac_CholeskySolveBaseline, the same product through the Cholesky
//   factors (four triangular solves, the same 4n³ flops), as done without explicit inverses.
// - BM_KFac_ApplyInverseExact: exact damping in the eigenbasis, four GEMMs, 8n³ flops.
// - BM_KFac_Update: folding a batch of 256 examples into A and G: two symmetric rank-256
//   updates (256·n·(n+1) flops each) plus the checks, against the n-GEMM rate. Baseline: the
//   bare rank updates alone, BM_KFac_UpdateSyrkBaseline (the floor of what update can cost).
// - BM_KFac_UpdateEigenvalues: EKFAC's scales for a batch of 256 (two rotations and one GEMM,
//   2·256·(2n² + n²) flops).
// - BM_KFac_EkfacConvScales: EKFAC's scales for a convolution (KFC, N = 64 examples of T
//   locations, d_in = 288 = 32·3·3, d_out = 64) in the form `eigenbasis_second_moments` picks
//   (the pair form, one GEMM over all location pairs, for T ≤ kEkfacPairMaxLocations = 3; one
//   T-inner GEMM per example above), beside BM_KFac_EkfacConvScalesPerExample, the per-example
//   GEMMs at every T. Flops counted for both as the per-example route's 2NT(d_in² + d_out²) +
//   2NT·d_in·d_out, so the rates compare times.
// - BM_KFac_Compute: refreshing the damped operator (Cholesky inverses or eigendecompositions);
//   reported as time, with its ratio to the apply it amortises in the README.
// Sizes n ∈ {256, 512, 1024}; with CURVOP_BENCH_QUICK set (CI) only n = 256.
#include <benchmark/benchmark.h>

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <cstdlib>
#include <curvop/kfac.hpp>
#include <curvop/random.hpp>
#include <vector>

#include "support/roofline.hpp"

CURVOP_BENCH_ROOFLINE();

namespace {

using curvop::Index;
using curvop::Matrix;
namespace kf = curvop::kfac;
namespace cb = curvop::bench;

bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }

template <class S>
Matrix<S> data(Index rows, Index cols, std::uint64_t seed, double scale) {
  return (scale * curvop::random::gaussian<double>(rows, cols, seed)).template cast<S>();
}

// A K-FAC of an n → n layer after one batch of 256 (correlated activations, so the factors
// have a realistic spread), computed with the given damping rule.
template <class S>
kf::KFac<S> make_kfac(Index n, kf::Damping mode) {
  kf::KFac<S> k(n, n, {.damping = 1e-3, .mode = mode});
  Matrix<S> x = data<S>(256, n, 1, 1.0);
  x.col(0).array() += S(1);
  const Matrix<S> g = data<S>(256, n, 2, 0.01);
  if (k.update(x, g) != curvop::Info::Success || k.compute() != curvop::Info::Success) {
    std::abort();
  }
  return k;
}

void size_args(benchmark::internal::Benchmark* b) {
  const std::vector<int> sizes = quick() ? std::vector<int>{256} : std::vector<int>{256, 512, 1024};
  for (int n : sizes)
    for (int t = 1; t <= cb::max_threads(); ++t) b->Args({n, t});
}

template <class S>
void BM_KFac_ApplyInverse(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const kf::KFac<S> k = make_kfac<S>(n, kf::Damping::PiAdjusted);
  const Matrix<S> x = data<S>(n * n, 1, 3, 1.0);
  Matrix<S> y(n * n, 1);
  cb::set_threads(t);
  for (auto _ : state) {
    k.apply_inverse(x, y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  cb::report_flops<S>(state, 4.0 * double(n) * double(n) * double(n), static_cast<int>(n), t);
}

template <class S>
void BM_KFac_CholeskySolveBaseline(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const kf::KFac<S> k = make_kfac<S>(n, kf::Damping::PiAdjusted);
  const Eigen::LLT<Matrix<S>> la(k.damped_a().matrix()), lg(k.damped_g().matrix());
  const Matrix<S> v = data<S>(n, n, 3, 1.0);
  Matrix<S> tmp(n, n), y(n, n);
  cb::set_threads(t);
  for (auto _ : state) {
    tmp = lg.solve(v);                                 // Ĝ⁻¹ V
    y.transpose() = la.solve(tmp.transpose());         // (Â⁻¹ (Ĝ⁻¹ V)ᵀ)ᵀ = Ĝ⁻¹ V Â⁻¹
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  cb::report_flops<S>(state, 4.0 * double(n) * double(n) * double(n), static_cast<int>(n), t);
}

template <class S>
void BM_KFac_ApplyInverseExact(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const kf::KFac<S> k = make_kfac<S>(n, kf::Damping::Exact);
  const Matrix<S> x = data<S>(n * n, 1, 3, 1.0);
  Matrix<S> y(n * n, 1);
  cb::set_threads(t);
  for (auto _ : state) {
    k.apply_inverse(x, y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  cb::report_flops<S>(state, 8.0 * double(n) * double(n) * double(n), static_cast<int>(n), t);
}

template <class S>
void BM_KFac_Update(benchmark::State& state) {
  const Index n = state.range(0), batch = 256;
  const int t = static_cast<int>(state.range(1));
  kf::KFac<S> k(n, n, {.ema = 0.95});
  const Matrix<S> x = data<S>(batch, n, 4, 1.0), g = data<S>(batch, n, 5, 0.01);
  cb::set_threads(t);
  for (auto _ : state) {
    benchmark::DoNotOptimize(k.update(x, g));
    benchmark::ClobberMemory();
  }
  cb::report_flops<S>(state, 2.0 * double(batch) * double(n) * double(n + 1), static_cast<int>(n),
                      t);
}

template <class S>
void BM_KFac_UpdateSyrkBaseline(benchmark::State& state) {
  const Index n = state.range(0), batch = 256;
  const int t = static_cast<int>(state.range(1));
  const Matrix<S> x = data<S>(batch, n, 4, 1.0), g = data<S>(batch, n, 5, 0.01);
  Matrix<S> a = Matrix<S>::Zero(n, n), gg = Matrix<S>::Zero(n, n);
  const S keep = S(0.95), take = S(0.05) / S(batch);
  cb::set_threads(t);
  for (auto _ : state) {
    a *= keep;
    a.template selfadjointView<Eigen::Lower>().rankUpdate(x.transpose(), take);
    gg *= keep;
    gg.template selfadjointView<Eigen::Lower>().rankUpdate(g.transpose(), take);
    benchmark::DoNotOptimize(a.data());
    benchmark::DoNotOptimize(gg.data());
    benchmark::ClobberMemory();
  }
  cb::report_flops<S>(state, 2.0 * double(batch) * double(n) * double(n + 1), static_cast<int>(n),
                      t);
}

template <class S>
void BM_KFac_UpdateEigenvalues(benchmark::State& state) {
  const Index n = state.range(0), batch = 256;
  const int t = static_cast<int>(state.range(1));
  kf::KFac<S> k = make_kfac<S>(n, kf::Damping::Exact);
  const Matrix<S> x = data<S>(batch, n, 6, 1.0), g = data<S>(batch, n, 7, 0.01);
  cb::set_threads(t);
  for (auto _ : state) {
    benchmark::DoNotOptimize(k.update_eigenvalues(x, g));
    benchmark::ClobberMemory();
  }
  cb::report_flops<S>(state, 2.0 * double(batch) * 3.0 * double(n) * double(n),
                      static_cast<int>(n), t);
}

template <class S, bool PerExample>
void BM_KFac_EkfacConvScales(benchmark::State& state) {
  const Index t = state.range(0), n = 64, din = 288, dout = 64;
  const Matrix<S> x = data<S>(n * t, din, 8, 1.0), g = data<S>(n * t, dout, 9, 0.01);
  // Orthonormal bases: the Q factors of Gaussian matrices.
  const Matrix<double> qad =
      Eigen::HouseholderQR<Matrix<double>>(data<double>(din, din, 10, 1.0)).householderQ();
  const Matrix<double> qgd =
      Eigen::HouseholderQR<Matrix<double>>(data<double>(dout, dout, 11, 1.0)).householderQ();
  const Matrix<S> qa = qad.template cast<S>(), qg = qgd.template cast<S>();
  cb::set_threads(1);
  for (auto _ : state) {
    Matrix<S> s = PerExample
                      ? kf::detail::eigenbasis_second_moments_with<S>(x, g, qa, qg, false, t, 0)
                      : kf::eigenbasis_second_moments<S>(x, g, qa, qg, false, t);
    benchmark::DoNotOptimize(s.data());
    benchmark::ClobberMemory();
  }
  const double nt = double(n * t);
  cb::report_flops<S>(state, 2.0 * nt * double(din * din + dout * dout + din * dout),
                      static_cast<int>(din), 1);
  state.counters["locations"] = static_cast<double>(t);
}

template <class S>
void BM_KFac_Compute(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const auto mode = static_cast<kf::Damping>(state.range(2));
  kf::KFac<S> k = make_kfac<S>(n, mode);
  cb::set_threads(t);
  for (auto _ : state) {
    benchmark::DoNotOptimize(k.compute());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = t;
}

void compute_args(benchmark::internal::Benchmark* b) {
  const std::vector<int> sizes = quick() ? std::vector<int>{256} : std::vector<int>{256, 512, 1024};
  for (int n : sizes)
    for (int mode : {static_cast<int>(kf::Damping::PiAdjusted), static_cast<int>(kf::Damping::Exact)})
      b->Args({n, 1, mode});
}

}  // namespace

BENCHMARK_TEMPLATE(BM_KFac_ApplyInverse, float)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_ApplyInverse, double)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_CholeskySolveBaseline, float)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_CholeskySolveBaseline, double)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_ApplyInverseExact, float)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_ApplyInverseExact, double)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_Update, float)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_Update, double)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_UpdateSyrkBaseline, float)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_UpdateSyrkBaseline, double)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_UpdateEigenvalues, float)->Apply(size_args)->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_EkfacConvScales, float, false)
    ->ArgsProduct({{2, 3, 4, 16}})
    ->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_EkfacConvScales, float, true)->ArgsProduct({{2, 3, 4, 16}})->UseRealTime();
BENCHMARK_TEMPLATE(BM_KFac_Compute, float)
    ->Apply(compute_args)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
