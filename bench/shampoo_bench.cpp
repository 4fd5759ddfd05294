// SPDX-License-Identifier: MIT
// Shampoo on one m x n parameter: statistics update (two symmetric rank-m/n updates, m n (m + n)
// flops), preconditioning (two GEMMs, 2 m n (m + n) flops), and compute() of all roots, blocked
// (many small roots as one batch) vs unblocked; nearest_kronecker power steps.
//
// Reported: `flop_fraction` of update and precondition against the GEMM rate of the same size and
// thread count; update beside a baseline that forms G Gᵀ and Gᵀ G with two full GEMMs
// (`vs_gemm_update` = our time / baseline time); compute() in seconds, blocked vs unblocked.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <curvop/shampoo.hpp>
#include <vector>

#include "support/roofline.hpp"

CURVOP_BENCH_ROOFLINE();

extern "C" __attribute__((weak)) void openblas_set_num_threads(int);

namespace {

using curvop::Index;
using curvop::Matrix;
namespace cb = curvop::bench;
namespace cs = curvop::shampoo;

void threads(int t) {
  cb::set_threads(t);
  if (openblas_set_num_threads != nullptr) openblas_set_num_threads(t);
}

bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }

template <class S>
Matrix<S> grad(Index m, Index n, std::uint64_t seed) {
  return curvop::random::gaussian<S>(m, n, seed);
}

/// Shampoo::update: L += G Gᵀ, R += Gᵀ G through symmetric rank-k updates.
template <class S>
void BM_Shampoo_Update(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1);
  const int t = static_cast<int>(state.range(2));
  cs::Shampoo<S> sh(m, n, cs::Options{.max_block = std::max(m, n)});
  const Matrix<S> g = grad<S>(m, n, 1) * S(1e-3);
  threads(t);
  for (auto _ : state) {
    sh.update(g);
    benchmark::ClobberMemory();
  }
  // Useful flops: the symmetric products need m²n + n²m multiply-adds' worth (half a GEMM each).
  const double md = static_cast<double>(m), nd = static_cast<double>(n);
  cb::report_flops<S>(state, md * nd * (md + nd), static_cast<int>(std::max(m, n)), t);
}

/// Baseline: the same statistics with two full GEMMs (2 m n (m + n) flops) and plain adds.
template <class S>
void BM_Shampoo_DenseGemmUpdate(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1);
  const int t = static_cast<int>(state.range(2));
  Matrix<S> l = Matrix<S>::Zero(m, m), r = Matrix<S>::Zero(n, n);
  const Matrix<S> g = grad<S>(m, n, 1) * S(1e-3);
  threads(t);
  for (auto _ : state) {
    l.noalias() += g * g.transpose();
    r.noalias() += g.transpose() * g;
    benchmark::DoNotOptimize(l.data());
    benchmark::DoNotOptimize(r.data());
    benchmark::ClobberMemory();
  }
  const double md = static_cast<double>(m), nd = static_cast<double>(n);
  cb::report_flops<S>(state, md * nd * (md + nd), static_cast<int>(std::max(m, n)), t);
}

/// Shampoo::precondition: L̂ G R̂, two GEMMs.
template <class S>
void BM_Shampoo_Precondition(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1);
  const int t = static_cast<int>(state.range(2));
  cs::Shampoo<S> sh(m, n, cs::Options{.max_block = std::max(m, n)});
  const Matrix<S> g = grad<S>(m, n, 1);
  for (int i = 0; i < 3; ++i) sh.update(grad<S>(m, n, 10 + static_cast<std::uint64_t>(i)));
  threads(t);
  (void)sh.compute();
  Matrix<S> out(m, n);
  for (auto _ : state) {
    sh.precondition(g, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double md = static_cast<double>(m), nd = static_cast<double>(n);
  cb::report_flops<S>(state, 2.0 * md * nd * (md + nd), static_cast<int>(std::max(m, n)), t);
}

/// Shampoo::compute for an m x n parameter with blocks of at most `max_block`.
template <class S>
void BM_Shampoo_Compute(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), mb = state.range(2);
  const int t = static_cast<int>(state.range(3));
  cs::Shampoo<S> sh(m, n, cs::Options{.max_block = mb});
  for (int i = 0; i < 4; ++i) sh.update(grad<S>(m, n, 20 + static_cast<std::uint64_t>(i)));
  threads(t);
  for (auto _ : state) {
    benchmark::DoNotOptimize(sh.compute());
    benchmark::ClobberMemory();
  }
  state.counters["blocks"] = static_cast<double>(sh.blocking().size());
  state.counters["threads"] = t;
}

/// One power-iteration step of nearest_kronecker over N sample gradients.
template <class S>
void BM_NearestKronecker_Step(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), count = state.range(2);
  std::vector<Matrix<S>> gs;
  for (Index i = 0; i < count; ++i) gs.push_back(grad<S>(m, n, 40 + static_cast<std::uint64_t>(i)));
  threads(1);
  for (auto _ : state) {
    auto k = cs::nearest_kronecker<S>(gs, {.max_iterations = 1, .tolerance = 0});
    benchmark::DoNotOptimize(k.left.data());
  }
  const double md = static_cast<double>(m), nd = static_cast<double>(n);
  // Per sample: (G R) Gᵀ and (Gᵀ L) G, 2 GEMMs each, plus one more step for σ; ‖H‖ costs N² m n.
  const double flops = static_cast<double>(count) * 2.0 * 2.0 * md * nd * (md + nd) * 1.5;
  cb::report_flops<S>(state, flops, static_cast<int>(std::max(m, n)), 1);
}

void update_sizes(benchmark::internal::Benchmark* b) {
  const std::vector<std::pair<int, int>> ns =
      quick() ? std::vector<std::pair<int, int>>{{256, 256}}
              : std::vector<std::pair<int, int>>{{256, 256}, {1024, 1024}, {1024, 256}};
  for (int t = 1; t <= cb::max_threads(); ++t) {
    for (auto [m, n] : ns) b->Args({m, n, t});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

void compute_sizes(benchmark::internal::Benchmark* b) {
  // 1024 x 1024 unblocked (two roots of 1024) vs blocks of 256 (32 roots) and 128 (128 roots).
  const int m = quick() ? 256 : 1024;
  for (int t = 1; t <= cb::max_threads(); ++t) {
    for (int mb : {m, m / 4, m / 8}) b->Args({m, m, mb, t});
  }
  b->Unit(benchmark::kMillisecond)->UseRealTime();
}

}  // namespace

BENCHMARK_TEMPLATE(BM_Shampoo_Update, float)->Apply(update_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_Update, double)->Apply(update_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_DenseGemmUpdate, float)->Apply(update_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_DenseGemmUpdate, double)->Apply(update_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_Precondition, float)->Apply(update_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_Precondition, double)->Apply(update_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_Compute, float)->Apply(compute_sizes);
BENCHMARK_TEMPLATE(BM_Shampoo_Compute, double)->Apply(compute_sizes);
BENCHMARK_TEMPLATE(BM_NearestKronecker_Step, double)
    ->Args({64, 32, 64})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
