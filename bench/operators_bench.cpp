// SPDX-License-Identifier: MIT
// Foundation benchmarks, each against the roofline measured in this process and a dense baseline.
//
// - BM_Kronecker_Apply: kron(A, B) with dense n x n factors on one n x n right-hand side: two
//   GEMMs, 4n³ flops, against the GEMM rate at size n. Baseline BM_Kronecker_DenseApply: the
//   explicit n² x n² matrix times a vector (2n⁴ flops, memory-bound), only where it fits (n ≤ 64).
// - BM_LowRankPlusDiagonal_ApplyInverse: Woodbury solve with D + U C Vᵀ, n x r factors: one pass
//   over V and one over U, bytes = 2·n·r·sizeof(S) (x, d, y add 3n·sizeof(S), reported apart),
//   against the streaming-read roofline. Baseline BM_LowRankPlusDiagonal_DenseSolve: a dense
//   LDLᵀ solve with the same matrix (n ≤ 4096), factorised outside the loop.
// Threads: arg "t" (1, and 2 when OpenMP is on). CURVOP_BENCH_QUICK shrinks sizes for CI smoke runs.
#include <Eigen/Cholesky>
#include <cstdlib>
#include <curvop/operators.hpp>
#include <curvop/random.hpp>

#include "support/roofline.hpp"

using namespace curvop;

CURVOP_BENCH_ROOFLINE();

namespace {
bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }

template <class S>
Matrix<S> random_matrix(Index r, Index c, std::uint64_t seed) {
  return curvop::random::gaussian<S>(r, c, seed);
}

// The measured loop of the structured Kronecker apply: dense n x n factors, one n² vector.
template <class S>
void kron_apply_loop(benchmark::State& state, Index n) {
  const auto k = kron(Dense<S>(random_matrix<S>(n, n, 1)), Dense<S>(random_matrix<S>(n, n, 2)));
  const Vector<S> x = random_matrix<S>(n * n, 1, 3);
  Vector<S> y(n * n);
  for (auto _ : state) {
    k.apply(x, y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

template <class S>
void BM_Kronecker_Apply(benchmark::State& state) {
  const Index n = state.range(0);
  const int t = static_cast<int>(state.range(1));
  bench::set_threads(t);
  kron_apply_loop<S>(state, n);
  bench::report_flops<S>(state, 4.0 * n * n * static_cast<double>(n), static_cast<int>(n), t);
}

template <class S>
void BM_Kronecker_DenseApply(benchmark::State& state) {
  const Index n = state.range(0);
  bench::set_threads(1);
  const Matrix<S> a = random_matrix<S>(n, n, 1), b = random_matrix<S>(n, n, 2);
  Matrix<S> full(n * n, n * n);
  for (Index i = 0; i < n; ++i)
    for (Index j = 0; j < n; ++j) full.block(i * n, j * n, n, n) = a(i, j) * b;
  const Vector<S> x = random_matrix<S>(n * n, 1, 3);
  Vector<S> y(n * n);
  for (auto _ : state) {
    y.noalias() = full * x;
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::report_bandwidth(state, static_cast<double>(full.size()) * sizeof(S), bench::Roof::Read, 1);
}

template <class S>
void BM_Kronecker_StructuredSmall(benchmark::State& state) {
  // The structured apply at the sizes of the dense baseline, for the side-by-side ratio.
  const Index n = state.range(0);
  bench::set_threads(1);
  kron_apply_loop<S>(state, n);
  state.counters["flops"] = benchmark::Counter(4.0 * n * n * n, benchmark::Counter::kIsIterationInvariantRate);
}

template <class S, bool Symmetric>
auto make_lrpd(Index n, Index r) {
  Vector<S> d = Vector<S>::Constant(n, S(2)) + random_matrix<S>(n, 1, 4).cwiseAbs();
  const S scale = S(1) / std::sqrt(static_cast<S>(n));
  Matrix<S> u = scale * random_matrix<S>(n, r, 5);
  Matrix<S> c = Matrix<S>::Identity(r, r);
  if constexpr (Symmetric) {
    return low_rank_plus_diagonal<S>(std::move(d), std::move(u), std::move(c));
  } else {
    Matrix<S> v = scale * random_matrix<S>(n, r, 6);
    return low_rank_plus_diagonal<S>(std::move(d), std::move(u), std::move(c), std::move(v));
  }
}

template <class S, bool Symmetric>
void BM_LowRankPlusDiagonal_ApplyInverse(benchmark::State& state) {
  const Index n = state.range(0), r = state.range(1);
  const int t = static_cast<int>(state.range(2));
  bench::set_threads(t);
  const auto op = make_lrpd<S, Symmetric>(n, r);
  const Vector<S> x = random_matrix<S>(n, 1, 7);
  Vector<S> y(n);
  for (auto _ : state) {
    op.apply_inverse(x, y);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::report_bandwidth(state, 2.0 * n * r * sizeof(S), bench::Roof::Read, t);
  state.counters["vector_bytes_share"] = 4.0 * n * sizeof(S) / (2.0 * n * r * sizeof(S));
}

template <class S>
void BM_LowRankPlusDiagonal_DenseSolve(benchmark::State& state) {
  const Index n = state.range(0), r = state.range(1);
  bench::set_threads(1);
  const auto op = make_lrpd<S, false>(n, r);
  const Matrix<S> dense = to_dense(op);
  const Matrix<S> sym = S(0.5) * (dense + dense.transpose());  // LDLᵀ needs symmetry
  const Eigen::LDLT<Matrix<S>> ldlt(sym);
  const Vector<S> x = random_matrix<S>(n, 1, 7);
  Vector<S> y(n);
  for (auto _ : state) {
    y = ldlt.solve(x);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  bench::report_bandwidth(state, static_cast<double>(n) * n * sizeof(S), bench::Roof::Read, 1);
}

void kron_args(benchmark::internal::Benchmark* b) {
  for (int t = 1; t <= bench::max_threads(); ++t) {
    for (int n : quick() ? std::vector<int>{128} : std::vector<int>{256, 512, 1024}) b->Args({n, t});
  }
}
void lrpd_args(benchmark::internal::Benchmark* b) {
  for (int t = 1; t <= bench::max_threads(); ++t) {
    for (int n : quick() ? std::vector<int>{1 << 14} : std::vector<int>{4096, 1 << 17, 1 << 20}) {
      b->Args({n, 64, t});
    }
  }
}
void lrpd_dense_args(benchmark::internal::Benchmark* b) {
  for (int n : quick() ? std::vector<int>{512} : std::vector<int>{1024, 4096}) b->Args({n, 64});
}
}  // namespace

BENCHMARK_TEMPLATE(BM_Kronecker_Apply, float)->Apply(kron_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Kronecker_Apply, double)->Apply(kron_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_Kronecker_DenseApply, float)->Arg(32)->Arg(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_Kronecker_StructuredSmall, float)->Arg(32)->Arg(64)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_LowRankPlusDiagonal_ApplyInverse, float, false)->Apply(lrpd_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_LowRankPlusDiagonal_ApplyInverse, float, true)->Apply(lrpd_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_LowRankPlusDiagonal_ApplyInverse, double, false)->Apply(lrpd_args)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_TEMPLATE(BM_LowRankPlusDiagonal_DenseSolve, float)->Apply(lrpd_dense_args)->UseRealTime()->Unit(benchmark::kMillisecond);
