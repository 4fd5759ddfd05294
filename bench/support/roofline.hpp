// SPDX-License-Identifier: MIT
// The machine's own roofline, measured in the same process as the benchmarks that report
// against it: a streaming read (sum), a STREAM triad (a = b + s·c) over arrays of at least 4x the
// last-level cache, and a GEMM of a given size. Kernels report `bw_fraction` / `flop_fraction`
// counters: achieved rate divided by this roofline at the same thread count.
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
#include <map>
#include <mutex>
#include <vector>
#if defined(CURVOP_USE_OPENMP)
#include <omp.h>
#endif

namespace curvop::bench {

/// Elements of each roofline array: 2^25 doubles = 256 MiB, at least 4x any last-level cache of
/// this machine class (32 MiB L3 slice).
inline constexpr std::size_t kRooflineElems = std::size_t(1) << 25;

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

template <class F>
double median_seconds(int reps, F&& f) {
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const auto a = std::chrono::steady_clock::now();
    f();
    const auto b = std::chrono::steady_clock::now();
    t.push_back(std::chrono::duration<double>(b - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
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

/// Streaming-read bandwidth (bytes/s) with t threads: median of 9 sums over 256 MiB. Eight
/// independent accumulators per thread: one accumulator would make the loop latency-bound on
/// the floating-point add (about 9 GB/s here) instead of bandwidth-bound.
inline double measure_read_bw(int t) {
  const auto& a = detail::roof_array(0);
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(a.size()) / 8;
  const double* p = a.data();
  double sink = 0;
  const double s = detail::median_seconds(9, [&] {
    double acc = 0;
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for reduction(+ : acc) num_threads(t) schedule(static)
#endif
    for (std::ptrdiff_t i = 0; i < n; ++i) {
      const double* q = p + 8 * i;
      acc += ((q[0] + q[1]) + (q[2] + q[3])) + ((q[4] + q[5]) + (q[6] + q[7]));
    }
    sink += acc;
  });
  benchmark::DoNotOptimize(sink);
  (void)t;
  return static_cast<double>(a.size() * sizeof(double)) / s;
}

/// STREAM triad bandwidth (bytes/s, counting 2 reads + 1 write) with t threads.
inline double measure_triad_bw(int t) {
  auto& a = detail::roof_array(0);
  const auto& b = detail::roof_array(1);
  const auto& c = detail::roof_array(2);
  const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(a.size());
  const double s = detail::median_seconds(9, [&] {
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

/// GEMM rate (flop/s) of Eigen's n x n x n product in scalar S with t threads.
template <class S>
double measure_gemm_rate(int n, int t) {
  using M = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
  M a = M::Constant(n, n, S(0.5)), b = M::Constant(n, n, S(0.25)), c(n, n);
  set_threads(t);
  const int reps = n >= 1024 ? 5 : 15;
  const double s = detail::median_seconds(reps, [&] {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  });
  return 2.0 * n * static_cast<double>(n) * n / s;
}

enum class Roof { Read, Triad };

/// The cached roofline figure for a kind and thread count, measured on first use.
inline double bandwidth(Roof kind, int t) {
  static std::mutex mu;
  static std::map<std::pair<int, int>, double> cache;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_pair(static_cast<int>(kind), t);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const double v = kind == Roof::Read ? measure_read_bw(t) : measure_triad_bw(t);
    it = cache.emplace(key, v).first;
  }
  return it->second;
}

/// The cached GEMM rate for a scalar, size and thread count.
template <class S>
double gemm_rate(int n, int t) {
  static std::mutex mu;
  static std::map<std::pair<int, int>, double> cache;
  std::lock_guard<std::mutex> lock(mu);
  const auto key = std::make_pair(n, t);
  auto it = cache.find(key);
  if (it == cache.end()) it = cache.emplace(key, measure_gemm_rate<S>(n, t)).first;
  return it->second;
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
