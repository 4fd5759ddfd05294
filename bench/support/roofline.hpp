// SPDX-License-Identifier: MIT
// The machine's own roofline, measured in the same process as the benchmarks that report
// against it: a streaming read (sum), a STREAM triad (a = b + s·c) over arrays of at least 4x the
// last-level cache, and a GEMM of a given size. Kernels report `bw_fraction` / `flop_fraction`
// counters: achieved rate divided by this roofline at the same thread count, measured right after
// the kernel (best of several runs, the STREAM convention).
//
// Use `->UseRealTime()` on every benchmark that reports a fraction: the counters are rates over
// the benchmark's time, which must be wall time for multi-threaded kernels.
#ifndef CURVOP_BENCH_SUPPORT_ROOFLINE_HPP
#define CURVOP_BENCH_SUPPORT_ROOFLINE_HPP

#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <vector>
#if defined(CURVOP_USE_OPENMP)
#include <omp.h>
#endif

namespace curvop::bench {

/// Elements of each roofline array: 2^24 doubles = 128 MiB, 4x the last-level cache of this
/// machine class (32 MiB L3).
inline constexpr std::size_t kRooflineElems = std::size_t(1) << 24;

/// Thread counts the benchmarks sweep: {1} without OpenMP, {1, 2, ...} with it.
inline int max_threads() {
#if defined(CURVOP_USE_OPENMP)
  return omp_get_max_threads();
#else
  return 1;
#endif
}

/// Sets the thread count of OpenMP and Eigen for the kernels that follow.
inline void set_threads(int t) {
#if defined(CURVOP_USE_OPENMP)
  omp_set_num_threads(t);
#endif
  Eigen::setNbThreads(t);
}

namespace detail {

/// Best (shortest) of `reps` timings: the STREAM convention for a roof, the least-disturbed run.
/// A smoke run (`CURVOP_BENCH_QUICK` set, as in CI) times once: its figures are not reported.
template <class F>
double best_seconds(int reps, F&& f) {
  static const bool quick = std::getenv("CURVOP_BENCH_QUICK") != nullptr;
  if (quick) reps = 1;
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    const auto b = std::chrono::steady_clock::now();
    const double t = std::chrono::duration<double>(b - a).count();
    if (r == 0 || t < best) best = t;
  }
  return best;
}

inline std::vector<double>& roof_array(int which) {
  static std::vector<double> arrays[3];
  static std::once_flag once;
  std::call_once(once, [] {
    for (auto& a : arrays) a.assign(kRooflineElems, 1.0);
  });
  return arrays[which];
}

}  // namespace detail

/// Streaming-read bandwidth (bytes/s) with t threads: best of 7 sums over 128 MiB. Sixteen
/// independent accumulators per thread, which the compiler packs into four AVX registers: with
/// one accumulator the loop is latency-bound on the floating-point add (about 9 GB/s here) and
/// with scalar ones it is bound by instruction throughput below the memory system's rate.
inline double measure_read_bw(int t) {
  const auto& a = detail::roof_array(0);
  constexpr std::ptrdiff_t kLanes = 16;
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(a.size()) / kLanes;
  const double* p = a.data();
  double sink = 0;
  const double s = detail::best_seconds(7, [&] {
    double total = 0;
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel num_threads(t) reduction(+ : total)
#endif
    {
      double acc[kLanes] = {};
#if defined(CURVOP_USE_OPENMP)
#pragma omp for schedule(static)
#endif
      for (std::ptrdiff_t i = 0; i < n; ++i) {
        const double* q = p + kLanes * i;
        for (std::ptrdiff_t k = 0; k < kLanes; ++k) acc[k] += q[k];
      }
      for (double v : acc) total += v;
    }
    sink += total;
  });
  benchmark::DoNotOptimize(sink);
  (void)t;
  return static_cast<double>(a.size() * sizeof(double)) / s;
}

/// STREAM triad bandwidth (bytes/s, counting 2 reads + 1 write) with t threads, best of 7.
inline double measure_triad_bw(int t) {
  auto& a = detail::roof_array(0);
  const auto& b = detail::roof_array(1);
  const auto& c = detail::roof_array(2);
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(a.size());
  const double s = detail::best_seconds(7, [&] {
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for num_threads(t) schedule(static)
#endif
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const auto k = static_cast<std::size_t>(i);
      a[k] = b[k] + 0.5 * c[k];
    }
    benchmark::ClobberMemory();
  });
  // Keep the arrays bounded: a grows as b + c/2 + ... stays finite since b, c are constant.
  (void)t;
  return static_cast<double>(3 * n * sizeof(double)) / s;
}

/// GEMM rate (flop/s) of Eigen's n x n x n product in scalar S with t threads, best of several.
template <class S>
double measure_gemm_rate(int n, int t) {
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  M a = M::Constant(n, n, S(0.5)), b = M::Constant(n, n, S(0.25)), c(n, n);
  set_threads(t);
  const int reps = n >= 1024 ? 3 : 9;
  const double s = detail::best_seconds(reps, [&] {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  });
  return 2.0 * n * static_cast<double>(n) * n / s;
}

enum class Roof { Read, Triad };

/// The roofline figure for a kind and thread count, measured now. The benchmarks call this right
/// after their timed loop, so that a kernel and its roof see the same state of a shared machine
/// (a figure cached at start-up drifts with the neighbours' load and gave fractions above 1).
inline double bandwidth(Roof kind, int t) {
  return kind == Roof::Read ? measure_read_bw(t) : measure_triad_bw(t);
}

/// The GEMM rate for a scalar, size and thread count, measured now (see `bandwidth`).
template <class S>
double gemm_rate(int n, int t) {
  return measure_gemm_rate<S>(n, t);
}

/// Adds `bytes`, `bw_fraction` and `roof_GBps` counters for a kernel that moves `bytes` per
/// iteration, against the `kind` roofline at t threads.
inline void report_bandwidth(benchmark::State& state, double bytes, Roof kind, int t = 1) {
  const double roof = bandwidth(kind, t);
  state.counters["GBps"] =
      benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["bw_fraction"] =
      benchmark::Counter(bytes / roof, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["roof_GBps"] = roof / 1e9;
  state.counters["threads"] = t;
}

/// Adds `GFLOPs`, `flop_fraction` and `roof_GFLOPs` counters for a kernel doing `flops` per
/// iteration, against the S-GEMM rate at size n and t threads.
template <class S>
void report_flops(benchmark::State& state, double flops, int gemm_n, int t = 1) {
  const double roof = gemm_rate<S>(gemm_n, t);
  state.counters["GFLOPs"] =
      benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["flop_fraction"] =
      benchmark::Counter(flops / roof, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["roof_GFLOPs"] = roof / 1e9;
  state.counters["threads"] = t;
}

}  // namespace curvop::bench

/// Registers the roofline itself as benchmarks, so that every JSON file carries the figures its
/// fractions were computed against. Put `CURVOP_BENCH_ROOFLINE()` once in each bench binary.
#define CURVOP_BENCH_ROOFLINE()                                                               \
  static void BM_Roofline_Read(benchmark::State& state) {                                     \
    const int t = static_cast<int>(state.range(0));                                           \
    for (auto _ : state) benchmark::DoNotOptimize(::curvop::bench::measure_read_bw(t));       \
    state.counters["GBps"] = ::curvop::bench::bandwidth(::curvop::bench::Roof::Read, t) / 1e9; \
  }                                                                                           \
  BENCHMARK(BM_Roofline_Read)->DenseRange(1, ::curvop::bench::max_threads())->Iterations(1);   \
  static void BM_Roofline_Triad(benchmark::State& state) {                                    \
    const int t = static_cast<int>(state.range(0));                                           \
    for (auto _ : state) benchmark::DoNotOptimize(::curvop::bench::measure_triad_bw(t));      \
    state.counters["GBps"] = ::curvop::bench::bandwidth(::curvop::bench::Roof::Triad, t) / 1e9; \
  }                                                                                           \
  BENCHMARK(BM_Roofline_Triad)->DenseRange(1, ::curvop::bench::max_threads())->Iterations(1)
#endif  // CURVOP_BENCH_SUPPORT_ROOFLINE_HPP
