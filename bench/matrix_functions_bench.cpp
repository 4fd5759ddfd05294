// SPDX-License-Identifier: MIT
// Matrix functions: symmetric eigendecompositions (LAPACK ?syevd vs Eigen's solver) and inverse
// 4th roots by eigendecomposition (LAPACK or Eigen) and by coupled Newton, float and double,
// n = 128..2048; batched roots of 64 blocks of 128x128 against a loop of single calls.
//
// Expected: eigendecompositions O(n³) but not GEMM-bound (tridiagonalisation is level-2 BLAS,
// memory-bound); the eigendecomposition root costs one eigendecomposition plus one GEMM
// (2n³ flops); coupled Newton costs 8n³ flops per iteration for p = 4 and runs at the GEMM rate,
// so it wins where its iteration count times 8n³ at the GEMM rate beats the eigensolver.
// Reported: seconds (wall time), `flop_fraction` of Newton against the GEMM of the same size and
// thread count, and for the eigendecomposition root `vs_syevd` = its time / the time of a bare
// ?syevd call on the same matrix, interleaved in the same loop.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdlib>
#include <curvop/matrix_functions.hpp>
#include <vector>

#include "support/roofline.hpp"

CURVOP_BENCH_ROOFLINE();

// OpenBLAS's own thread count (the pthread build ignores OMP_NUM_THREADS); weak, so the binary
// links against any LAPACK.
extern "C" __attribute__((weak)) void openblas_set_num_threads(int);

namespace {

using curvop::Index;
using curvop::Matrix;
namespace cb = curvop::bench;

void threads(int t) {
  cb::set_threads(t);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(t);
}

bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }

/// SPD test matrix with eigenvalues geometric over [1e-3, 1] (κ = 1e3), deterministic.
template <class S>
Matrix<S> spd(Index n, std::uint64_t seed = 1) {
  const Matrix<double> g = curvop::random::gaussian<double>(n, n, seed);
  // Q from a QR is O(n³) and slow to set up at 2048; a Gram matrix with a spread diagonal is
  // enough for timing: A = GGᵀ/n + 1e-3 I has κ ≈ 4e3.
  Matrix<double> a = g * g.transpose() / double(n);
  a.diagonal().array() += 1e-3;
  return a.cast<S>();
}

/// The configured eigensolver (LAPACK ?syevd when CURVOP_USE_LAPACK, else Eigen).
template <class S>
void BM_Eigh_Configured(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const Matrix<S> a = spd<S>(n);
  threads(t);
  for (auto _ : state) {
    auto e = curvop::symmetric_eigen<S>(a);
    benchmark::DoNotOptimize(e.vectors.data());
    benchmark::ClobberMemory();
  }
  state.counters["lapack"] = curvop::detail::lapack::available ? 1 : 0;
  state.counters["threads"] = t;
}

/// Eigen's SelfAdjointEigenSolver (always available).
template <class S>
void BM_Eigh_Eigen(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const Matrix<S> a = spd<S>(n);
  threads(t);
  for (auto _ : state) {
    auto e = curvop::detail::symmetric_eigen_impl<S>(a, true, curvop::detail::EigenBackend::Eigen);
    benchmark::DoNotOptimize(e.vectors.data());
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = t;
}

/// inverse_root(A, 4) by eigendecomposition, interleaved with a bare call of the configured
/// eigensolver (LAPACK ?syevd with CURVOP_USE_LAPACK) on the same matrix: the benchmark's time is
/// the root's (manual wall-clock timing), `vs_syevd` = Σ root / Σ bare eigensolver over the same
/// iterations, so load changes on the shared machine hit both alike. `eigen_backend` = 1 runs the
/// root through Eigen's solver instead (the ratio stays against the configured solver).
template <class S>
void BM_InverseRoot_Eigh(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const bool eigen_backend = state.range(2) != 0;
  const Matrix<S> a = spd<S>(n);
  threads(t);
  double root_s = 0, bare_s = 0;
  using Clock = std::chrono::steady_clock;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    auto e = curvop::detail::symmetric_eigen_impl<S>(a, true);
    benchmark::DoNotOptimize(e.vectors.data());
    const auto t1 = Clock::now();
    auto r = eigen_backend
                 ? curvop::detail::root_attempt<S>(a, 4, curvop::detail::RootKind::InverseRoot, {},
                                                   0.0, curvop::detail::EigenBackend::Eigen)
                 : curvop::inverse_root<S>(a, 4);
    benchmark::DoNotOptimize(r.root.data());
    benchmark::ClobberMemory();
    const auto t2 = Clock::now();
    const double rs = std::chrono::duration<double>(t2 - t1).count();
    root_s += rs;
    bare_s += std::chrono::duration<double>(t1 - t0).count();
    state.SetIterationTime(rs);
  }
  state.counters["vs_syevd"] = root_s / bare_s;
  state.counters["threads"] = t;
}

/// inverse_root(A, 4) by coupled Newton: GEMM-only, reported as a fraction of the GEMM rate.
template <class S>
void BM_InverseRoot_Newton(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  const Matrix<S> a = spd<S>(n);
  threads(t);
  int iters = 0;
  for (auto _ : state) {
    auto r = curvop::inverse_root<S>(a, 4, {.method = curvop::RootMethod::CoupledNewton});
    iters = r.iterations;
    benchmark::DoNotOptimize(r.root.data());
    benchmark::ClobberMemory();
  }
  // p = 4: X M' (1 GEMM), M'^4 (2), M'^4 M (1) per iteration (the first skips X M').
  const double nd = static_cast<double>(n);
  cb::report_flops<S>(state, (4.0 * iters - 1.0) * 2.0 * nd * nd * nd, static_cast<int>(n), t);
  state.counters["iterations"] = iters;
}

/// 64 blocks of 128x128: one inverse_root_batch call vs a loop of single calls.
template <class S, bool Batched>
void BM_InverseRoot_Blocks(benchmark::State& state) {
  const Index n = state.range(0), count = state.range(1);
  const int t = static_cast<int>(state.range(2));
  const auto method = state.range(3) == 0 ? curvop::RootMethod::Eigendecomposition
                                          : curvop::RootMethod::CoupledNewton;
  std::vector<Matrix<S>> as;
  for (Index i = 0; i < count; ++i) as.push_back(spd<S>(n, 10 + static_cast<std::uint64_t>(i)));
  threads(t);
  // The batch spreads its matrices over the OpenMP threads and computes each one
  // single-threaded; with a threaded OpenBLAS it would (rightly) run sequentially instead
  // (inverse_root_batch's comment), so its BLAS gets one thread per OpenMP thread.
  if (Batched && openblas_set_num_threads != nullptr) openblas_set_num_threads(1);
  const curvop::RootOptions o{.method = method};
  for (auto _ : state) {
    if constexpr (Batched) {
      auto r = curvop::inverse_root_batch<S>(as, 4, o);
      benchmark::DoNotOptimize(r.data());
    } else {
      for (const auto& a : as) {
        auto r = curvop::inverse_root<S>(a, 4, o);
        benchmark::DoNotOptimize(r.root.data());
      }
    }
    benchmark::ClobberMemory();
  }
  state.counters["threads"] = t;
}

void sizes(benchmark::internal::Benchmark* b) {
  const std::vector<int> ns = quick() ? std::vector<int>{128, 256}
                                      : std::vector<int>{128, 256, 512, 1024, 2048};
  for (int t = 1; t <= cb::max_threads(); ++t) {
    for (int n : ns) b->Args({n, t});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void root_sizes(benchmark::internal::Benchmark* b) {
  // Third argument: 0 = configured solver, 1 = Eigen's (up to 1024: ~7 s per call at 2048).
  const std::vector<int> ns = quick() ? std::vector<int>{128, 256}
                                      : std::vector<int>{128, 256, 512, 1024, 2048};
  for (int t = 1; t <= cb::max_threads(); ++t) {
    for (int n : ns) b->Args({n, t, 0});
    for (int n : ns) {
      if (n <= 1024) b->Args({n, t, 1});
    }
  }
  b->Unit(benchmark::kMillisecond)->UseManualTime();
}

void newton_sizes(benchmark::internal::Benchmark* b) {
  // Newton at 2048 in double is ~30 s per call on one core (15 iterations of 4 GEMMs): stop at
  // 1024, where the crossover question is already answered.
  const std::vector<int> ns = quick() ? std::vector<int>{128} : std::vector<int>{128, 256, 512, 1024};
  for (int t = 1; t <= cb::max_threads(); ++t) {
    for (int n : ns) b->Args({n, t});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void eigen_sizes(benchmark::internal::Benchmark* b) {
  // Eigen's solver at 2048 takes ~7 s per call: stop at 1024 in the sweep.
  const std::vector<int> ns = quick() ? std::vector<int>{128} : std::vector<int>{128, 256, 512, 1024};
  for (int t = 1; t <= cb::max_threads(); ++t) {
    for (int n : ns) b->Args({n, t});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void blocks(benchmark::internal::Benchmark* b) {
  const Index count = quick() ? 8 : 64;
  for (int method : {0, 1}) {
    for (int t = 1; t <= cb::max_threads(); ++t) b->Args({128, count, t, method});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Eigh_Configured, float)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Eigh_Configured, double)->Apply(sizes);
BENCHMARK_TEMPLATE(BM_Eigh_Eigen, float)->Apply(eigen_sizes);
BENCHMARK_TEMPLATE(BM_Eigh_Eigen, double)->Apply(eigen_sizes);
BENCHMARK_TEMPLATE(BM_InverseRoot_Eigh, float)->Apply(root_sizes);
BENCHMARK_TEMPLATE(BM_InverseRoot_Eigh, double)->Apply(root_sizes);
BENCHMARK_TEMPLATE(BM_InverseRoot_Newton, float)->Apply(newton_sizes);
BENCHMARK_TEMPLATE(BM_InverseRoot_Newton, double)->Apply(newton_sizes);
BENCHMARK_TEMPLATE(BM_InverseRoot_Blocks, float, false)->Apply(blocks);
BENCHMARK_TEMPLATE(BM_InverseRoot_Blocks, float, true)->Apply(blocks);
BENCHMARK_TEMPLATE(BM_InverseRoot_Blocks, double, false)->Apply(blocks);
BENCHMARK_TEMPLATE(BM_InverseRoot_Blocks, double, true)->Apply(blocks);
