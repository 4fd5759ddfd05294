// SPDX-License-Identifier: MIT
// Row-blocked passes over tall-skinny column-major matrices (n x r, n >> r), parallel over row
// blocks when CURVOP_USE_OPENMP is on. Eigen's GEMV does not thread and its column-major
// A·t re-reads y once per column panel; these passes read A exactly once, keep each row block of
// the vectors in cache, and reduce per-thread partial sums in a fixed order. One right-hand side
// (the common case) goes through the fused kernels of column_kernels.hpp; several go through
// Eigen's products per block.
#ifndef CURVOP_DETAIL_TALL_SKINNY_HPP
#define CURVOP_DETAIL_TALL_SKINNY_HPP

#include <algorithm>
#include <curvop/config.hpp>
#include <curvop/detail/column_kernels.hpp>
#include <vector>
#if defined(CURVOP_USE_OPENMP)
#include <omp.h>
#endif

namespace curvop::detail {

/// Rows per block: 8192 rows keep the block of one float vector (32 KiB) in L1/L2 and give each
/// column of A a 32 KiB contiguous run for the hardware prefetchers (the same choice as M-FAC's
/// passes; 1024 rows left the prefetchers a single page per column and reached 0.6 of the read
/// roof).
inline constexpr Index kRowBlock = 8192;

/// Number of threads the passes use for n rows (one for small problems).
inline int pass_threads(Index n) {
#if defined(CURVOP_USE_OPENMP)
  return n >= 4 * kRowBlock ? omp_get_max_threads() : 1;
#else
  (void)n;
  return 1;
#endif
}

/// Calls f(tid, begin, size) on contiguous row ranges, one per thread, each a multiple of
/// kRowBlock except the last. Thread t's range depends only on n and the thread count.
template <class F>
void parallel_rows(Index n, F&& f) {
  const int nt = pass_threads(n);
  if (nt <= 1) {
    f(0, Index(0), n);
    return;
  }
#if defined(CURVOP_USE_OPENMP)
  const Index blocks = (n + kRowBlock - 1) / kRowBlock;
#pragma omp parallel num_threads(nt)
  {
    const int t = omp_get_thread_num();
    const int T = omp_get_num_threads();
    const Index b0 = blocks * t / T, b1 = blocks * (t + 1) / T;
    const Index begin = std::min(n, b0 * kRowBlock), end = std::min(n, b1 * kRowBlock);
    if (end > begin) f(t, begin, end - begin);
  }
#endif
}

/// w = Σ_blocks A_blkᵀ g(blk), where g(begin, size, buf) fills buf (size x k) with the rows
/// [begin, begin + size) of the right-hand side (so x ⊘ d can be fused into the pass).
/// A is n x r; w is r x k. Partial sums are per block, then per thread, then over threads in
/// thread order: blockwise accumulation keeps float sums over n ~ 1e6 accurate.
template <class S, class Gen>
void gemtv_rows(const ConstRef<S>& a, Index k, Gen&& gen, MutRef<S> w) {
  const Index n = a.rows(), r = a.cols();
  const int nt = pass_threads(n);
  std::vector<Matrix<S>> partial(static_cast<std::size_t>(nt), Matrix<S>::Zero(r, k));
  parallel_rows(n, [&](int t, Index begin, Index size) {
    Matrix<S> buf(kRowBlock, k);
    Vector<S> part(k == 1 ? r : 0);
    Matrix<S>& acc = partial[static_cast<std::size_t>(t)];
    for (Index b = begin; b < begin + size; b += kRowBlock) {
      const Index m = std::min(kRowBlock, begin + size - b);
      auto zb = buf.topRows(m);
      gen(b, m, zb);
      if (k == 1) {
        // One vector: the fused kernel reads the block of A once, eight columns per load of z.
        const S* z = zb.data();
        panel_dots<1>(a.data() + b, a.outerStride(), m, r, &z, part.data(), r);
        acc += part;
      } else {
        acc.noalias() += a.middleRows(b, m).transpose() * zb;
      }
    }
  });
  w = partial[0];
  for (std::size_t t = 1; t < partial.size(); ++t) w += partial[t];
}

/// For each row block: y_blk = h(begin, size, A_blk·t) where A_blk·t is size x k; used to fuse
/// y = (x − U t) ⊘ d into the one pass over U.
template <class S, class Out>
void gemv_rows(const ConstRef<S>& a, const ConstRef<S>& t, Out&& out) {
  const Index n = a.rows(), k = t.cols();
  parallel_rows(n, [&](int, Index begin, Index size) {
    Matrix<S> buf(kRowBlock, k);
    for (Index b = begin; b < begin + size; b += kRowBlock) {
      const Index m = std::min(kRowBlock, begin + size - b);
      auto ub = buf.topRows(m);
      if (k == 1) {
        ub.setZero();
        panel_axpy(a.data() + b, a.outerStride(), m, a.cols(), t.data(), ub.data());
      } else {
        ub.noalias() = a.middleRows(b, m) * t;
      }
      out(b, m, ub);
    }
  });
}

}  // namespace curvop::detail

#endif  // CURVOP_DETAIL_TALL_SKINNY_HPP
