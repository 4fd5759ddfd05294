// SPDX-License-Identifier: MIT
// M-FAC benchmarks: the O(d·m) passes over a gradient window against the memory roofline
// measured in the same process, the level-3 set-up against the GEMM rate, and baselines beside
// them (plain Eigen GEMV, the reference's BLAS-2 Sherman–Morrison recursion, a dense solve).
//
// Expected: IHVP and push_and_apply_inverse read the window twice (2·d·m·sizeof(Storage) bytes),
// push once; all are bandwidth-bound, so 16-bit storage halves their time. Set-up does 2·d·m²
// flops (SYRK + TRSM) at a large fraction of the GEMM rate; BM_Mfac_EigenSetup is the same
// set-up with Eigen's kernels, beside it. Args: {log2 d, m, threads}.
// CURVOP_BENCH_QUICK (set by CI) registers d = 2^17 and m ≤ 64 only.
#include <benchmark/benchmark.h>

#include <Eigen/Cholesky>
#include <chrono>
#include <cstdlib>
#include <map>
#include <tuple>
#include <curvop/mfac.hpp>
#include <curvop/random.hpp>

#include "support/roofline.hpp"

CURVOP_BENCH_ROOFLINE();

namespace {

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
namespace cb = curvop::bench;

bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }

/// {log2 d, m, threads} over the sweep of the issue (quick: d = 2^17, m ∈ {16, 64}).
void sweep(benchmark::internal::Benchmark* b) {
  const std::vector<int> logd = quick() ? std::vector<int>{17} : std::vector<int>{17, 20};
  const std::vector<int> ms = quick() ? std::vector<int>{16, 64} : std::vector<int>{16, 64, 256};
  for (int ld : logd) {
    for (int m : ms) {
      for (int t = 1; t <= cb::max_threads(); ++t) b->Args({ld, m, t});
    }
  }
}

/// Gaussian "gradients", generated once per (d, m, seed): Google Benchmark calls each benchmark
/// several times (iteration estimate, repetitions), and drawing 2^20 x 256 normals took longer
/// than the kernels being timed.
const Matrix<float>& gradients(Index d, Index m, std::uint64_t seed) {
  static std::map<std::tuple<Index, Index, std::uint64_t>, Matrix<float>> cache;
  auto [it, fresh] = cache.try_emplace({d, m, seed});
  if (fresh) it->second = curvop::random::gaussian<float>(d, m, seed);
  return it->second;
}

template <class T>
curvop::mfac::SlidingWindowFisher<float, T> full_window(Index d, Index m) {
  curvop::mfac::SlidingWindowFisher<float, T> op(d, m, 1e-5f);
  if (op.assign(gradients(d, m, 1)) != curvop::Info::Success) std::abort();
  return op;
}

struct Shape {
  Index d, m;
  int t;
};
Shape shape(const benchmark::State& s) {
  return {Index(1) << s.range(0), s.range(1), static_cast<int>(s.range(2))};
}

/// Bandwidth counters against the streaming-read roof, plus the fraction of the triad roof.
void report_passes(benchmark::State& state, double bytes, int t) {
  cb::report_bandwidth(state, bytes, cb::Roof::Read, t);
  state.counters["triad_fraction"] = benchmark::Counter(
      bytes / cb::bandwidth(cb::Roof::Triad, t), benchmark::Counter::kIsIterationInvariantRate);
}

template <class T>
void BM_Mfac_Ihvp(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  const auto op = full_window<T>(d, m);
  const Matrix<float> x = gradients(d, 1, 2);
  Matrix<float> y(d, 1);
  cb::set_threads(t);
  for (auto _ : state) {
    op.apply_inverse(x, y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_passes(state, 2.0 * double(d) * double(m) * sizeof(T), t);
}

template <class T>
void BM_Mfac_Push(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  auto op = full_window<T>(d, m);
  const Matrix<float> g = gradients(d, 4, 3);
  cb::set_threads(t);
  Index i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(op.push(g.col(i++ % 4)));
    benchmark::ClobberMemory();
  }
  report_passes(state, double(d) * double(m) * sizeof(T), t);
}

template <class T>
void BM_Mfac_PushApplyInverse(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  auto op = full_window<T>(d, m);
  const Matrix<float> g = gradients(d, 4, 3);
  Vector<float> y(d);
  cb::set_threads(t);
  Index i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(op.push_and_apply_inverse(g.col(i++ % 4), y));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_passes(state, 2.0 * double(d) * double(m) * sizeof(T), t);
}

/// The same IHVP written with Eigen's GEMV on the window (what a direct port does).
void BM_Mfac_EigenGemvIhvp(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  const Matrix<float> g = gradients(d, m, 1);
  const float lam = 1e-5f;
  Matrix<float> mm = g.transpose() * g;
  mm.diagonal().array() += float(m) * lam;
  const Eigen::LLT<Matrix<float>> llt(mm);
  const Vector<float> x = gradients(d, 1, 2);
  Vector<float> y(d), s(m);
  cb::set_threads(t);
  for (auto _ : state) {
    s.noalias() = g.transpose() * x;
    s = llt.solve(s);
    y = x / lam;
    y.noalias() -= g * (s / lam);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  report_passes(state, 2.0 * double(d) * double(m) * sizeof(float), t);
}

/// EmpiricalFisher set-up: Gram matrix (SYRK) + Cholesky + V = G L⁻ᵀ (TRSM). The copy of G that
/// the constructor consumes is made outside the timed region (manual wall-clock time).
void BM_Mfac_Setup(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  const Matrix<float> g0 = gradients(d, m, 1);
  cb::set_threads(t);
  for (auto _ : state) {
    Matrix<float> g = g0;
    const auto a = std::chrono::steady_clock::now();
    curvop::mfac::EmpiricalFisher<float> f(std::move(g), 1e-5f);
    benchmark::DoNotOptimize(f.inverse_factor().data());
    const auto b = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(b - a).count());
  }
  cb::report_flops<float>(state, 2.0 * double(d) * double(m) * double(m), 1024, t);
}

/// Baseline for BM_Mfac_Setup: the same set-up with Eigen's kernels (what EmpiricalFisher did
/// before the packed kernels of curvop/detail/panel_level3.hpp, and still does without AVX2): a
/// finiteness pass, a float rank-k update per chunk accumulated in double, the Cholesky factor,
/// and Eigen's triangular solve per chunk, split over threads the same way.
void BM_Mfac_EigenSetup(benchmark::State& state) {
  namespace md = curvop::mfac::detail;
  const auto [d, m, t] = shape(state);
  const Matrix<float> g0 = gradients(d, m, 1);
  cb::set_threads(t);
  for (auto _ : state) {
    Matrix<float> g = g0;
    const auto a = std::chrono::steady_clock::now();
    if (!g.allFinite()) std::abort();
    const Index supers = md::super_chunks((d + md::chunk_rows(d) - 1) / md::chunk_rows(d));
    std::vector<Matrix<double>> acc(static_cast<std::size_t>(supers), Matrix<double>::Zero(m, m));
    Vector<float> row_sq(d);
    md::for_chunks(d, [&](Index r0, Index rows, Index s) {
      const auto gc = g.middleRows(r0, rows);
      Matrix<float> part = Matrix<float>::Zero(m, m);
      part.selfadjointView<Eigen::Lower>().rankUpdate(gc.transpose());
      acc[static_cast<std::size_t>(s)].triangularView<Eigen::Lower>() += part.cast<double>();
      row_sq.segment(r0, rows) = gc.rowwise().squaredNorm();
    });
    Matrix<double> k = Matrix<double>::Zero(m, m);
    for (const auto& x : acc) k += x;
    k.diagonal().array() += double(m) * 1e-5;
    const Matrix<float> l = k.selfadjointView<Eigen::Lower>().llt().matrixL().toDenseMatrix().cast<float>();
    md::for_chunks(d, [&](Index r0, Index rows, Index) {
      auto gc = g.middleRows(r0, rows);
      l.transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(gc);
    });
    benchmark::DoNotOptimize(g.data());
    const auto b = std::chrono::steady_clock::now();
    state.SetIterationTime(std::chrono::duration<double>(b - a).count());
  }
  cb::report_flops<float>(state, 2.0 * double(d) * double(m) * double(m), 1024, t);
}

/// The reference code's static set-up: m Sherman–Morrison steps, each two GEMVs over the
/// vectors computed so far (BLAS-2, ~2·d·m² flops at memory speed).
void BM_Mfac_RecursionSetup(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  const Matrix<float> g = gradients(d, m, 1);
  const float inv = 1e5f;
  Matrix<float> v(d, m);
  Vector<float> q(m), a(m);
  cb::set_threads(t);
  for (auto _ : state) {
    for (Index i = 0; i < m; ++i) {
      v.col(i) = inv * g.col(i);
      if (i > 0) {
        a.head(i).noalias() = v.leftCols(i).transpose() * g.col(i);
        a.head(i).array() /= q.head(i).array();
        v.col(i).noalias() -= v.leftCols(i) * a.head(i);
      }
      q(i) = float(m) + g.col(i).dot(v.col(i));
    }
    benchmark::DoNotOptimize(v.data());
    benchmark::ClobberMemory();
  }
  cb::report_flops<float>(state, 2.0 * double(d) * double(m) * double(m), 1024, t);
}

void BM_Mfac_InverseDiagonal(benchmark::State& state) {
  const auto [d, m, t] = shape(state);
  const curvop::mfac::EmpiricalFisher<float> f(gradients(d, m, 1), 1e-5f);
  cb::set_threads(t);
  for (auto _ : state) {
    Vector<float> r = f.inverse_diagonal();
    benchmark::DoNotOptimize(r.data());
    benchmark::ClobberMemory();
  }
  report_passes(state, double(d) * double(m) * sizeof(float), t);
}

/// M-FAC IHVP and a dense d x d Cholesky solve of the same F (the baseline at small d).
/// Args: {d, m, dense?}.
void BM_Mfac_SmallIhvp(benchmark::State& state) {
  const Index d = state.range(0), m = state.range(1);
  const bool dense = state.range(2) != 0;
  const Matrix<float> g = gradients(d, m, 1);
  const Vector<float> x = gradients(d, 1, 2);
  Vector<float> y(d);
  cb::set_threads(1);
  if (dense) {
    Matrix<float> f = g * g.transpose() / float(m);
    f.diagonal().array() += 1e-2f;
    const Eigen::LLT<Matrix<float>> llt(f);
    for (auto _ : state) {
      y = llt.solve(x);
      benchmark::DoNotOptimize(y.data());
    }
  } else {
    const curvop::mfac::EmpiricalFisher<float> f(g, 1e-2f);
    for (auto _ : state) {
      f.apply_inverse(x, y);
      benchmark::DoNotOptimize(y.data());
    }
  }
  state.counters["dense"] = dense ? 1 : 0;
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Mfac_Ihvp, float)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Mfac_Ihvp, Eigen::bfloat16)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Mfac_Ihvp, Eigen::half)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mfac_EigenGemvIhvp)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Mfac_PushApplyInverse, float)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Mfac_PushApplyInverse, Eigen::bfloat16)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Mfac_Push, float)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Mfac_Push, Eigen::bfloat16)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mfac_Setup)->Apply(sweep)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mfac_EigenSetup)->Apply(sweep)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mfac_RecursionSetup)->Args({17, 16, 1})->Args({17, 64, 1})->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mfac_InverseDiagonal)->Apply(sweep)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Mfac_SmallIhvp)
    ->ArgsProduct({{1024, 4096}, {16, 64}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
