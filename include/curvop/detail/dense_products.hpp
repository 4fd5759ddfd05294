// SPDX-License-Identifier: MIT
// Products of a large dense column-major matrix with a block of vectors, y = A x and y = Aᵀ x,
// shaped around two weaknesses of Eigen 3.4's GEMM on large left operands (see each function).
// Both fall back to the plain Eigen expression for one right-hand side, for small matrices and
// under EIGEN_USE_BLAS, where the BLAS blocks and threads for itself.
#ifndef CURVOP_DETAIL_DENSE_PRODUCTS_HPP
#define CURVOP_DETAIL_DENSE_PRODUCTS_HPP

#include <algorithm>
#include <cstddef>
#include <curvop/config.hpp>

namespace curvop::detail {

/// Whether dense products go to Eigen's own GEMM (whose blocking the two products below work
/// around) rather than to a BLAS (`EIGEN_USE_BLAS`), which blocks and threads for itself.
#if defined(EIGEN_USE_BLAS)
inline constexpr bool kEigenGemm = false;
#else
inline constexpr bool kEigenGemm = true;
#endif

/// y = Aᵀ x for a dense, column-major A (m x n) and a block x (m x k).
///
/// Eigen evaluates `A.transpose() * x` into a column-major y with the large A as a row-major
/// left operand, whose packing into the GEMM kernel's panels is a strided gather. Measured on
/// this project's AMD EPYC machine (AVX-512, one thread, float, A 4096 x 4096) it runs at
/// 60–75% of the rate of the same product written the other way round, (xᵀ A)ᵀ, where A is the
/// column-major right operand (k = 138: 47–63 against 76–84 GFLOP/s; k = 16: 19 against 46); on
/// an Intel Xeon with AVX-512 both orders ran at the same rate, within noise. So for a block
/// (k > 1) and an A beyond the caches the product is formed as Yᵀ = xᵀ A into a k x n temporary
/// and transposed into y: one extra pass over n·k entries, about 1/(2m) of the product's flops.
/// Assigning to `y.transpose()` does not help: Eigen maps it back to the slow form. With
/// `EIGEN_USE_BLAS` the product goes to the BLAS, whose sgemm/dgemm take the transpose as a flag
/// at full speed, so the plain form is kept there.
/// **Cost:** 2·m·n·k flops; extra memory n·k for large A, none otherwise.
template <class S>
void transposed_product(const Eigen::Ref<const Matrix<S>>& a, const ConstRef<S>& x, MutRef<S> y) {
  constexpr Index kLargeEntries = Index(512) * 512;  // about the L2 cache in float
  if (kEigenGemm && x.cols() > 1 && a.rows() * a.cols() >= kLargeEntries) {
    Matrix<S> yt(x.cols(), a.cols());
    yt.noalias() = x.transpose() * a;
    y = yt.transpose();
  } else {
    y.noalias() = a.transpose() * x;
  }
}

/// y = A x for a dense, column-major A (m x n) and a block x (n x k).
///
/// Eigen 3.4's GEMM splits the depth n into blocks of kc ≈ 600 (its L1 figure is quadrupled with
/// AVX-512) but, once it has shortened the depth, never splits the m rows of the left operand
/// (evaluateProductBlockingSizesHeuristic sets mc only when kc = n). For a large A the packed
/// left block is then m x kc, 9.6 MB for m = 4096 in float, and the kernel streams it from L3 or
/// memory instead of L2. Forming y in row blocks of about l2 / (512·sizeof(S)) rows (512 in float,
/// 256 in double for a 1 MiB L2) keeps each packed block near the L2 size. With OpenMP the blocks
/// are shared among the threads (at least one block per thread), each product single-threaded:
/// Eigen's own split of one product over threads ran at 105–155 GFLOP/s here, the row blocks at
/// 165–173. Measured on this project's AMD EPYC machine (A 4096 x 4096, k = 138, interleaved
/// medians of 15): one thread, float 79 → 85 GFLOP/s, double 41.6 → 44.6. With `EIGEN_USE_BLAS`
/// the BLAS blocks and threads for itself.
///
/// Only thin blocks (k ≤ 256, m ≥ 4 row blocks) are split: there Eigen packs the left block once
/// per depth step and uses it for few columns, so its trip through L3 is the cost. Measured (one
/// thread, interleaved medians): k = 8–256 on 2048–8192 rows gained 3–32% (most in double and at
/// small k), k = 512 ±4%, while wide blocks (1024² · 1024, 2048³, 4096² · 1024) lost 1–5%; 1024
/// rows lost 2% and 1536 rows gained nothing.
/// **Cost:** 2·m·n·k flops, no extra memory.
template <class S>
void forward_product(const Eigen::Ref<const Matrix<S>>& a, const ConstRef<S>& x, MutRef<S> y) {
  const Index m = a.rows();
  const Index threads = std::max(1, Eigen::nbThreads());
  const auto l2_rows = Eigen::l2CacheSize() / (512 * static_cast<std::ptrdiff_t>(sizeof(S)));
  Index block = std::max<Index>(64, static_cast<Index>(l2_rows) & ~Index(15));
  if (threads > 1) {
    const Index per_thread = ((m + threads - 1) / threads + 15) & ~Index(15);
    block = std::min(block, std::max<Index>(64, per_thread));
  }
  constexpr Index kThinBlock = 256;
  const bool thin = x.cols() > 1 && x.cols() <= kThinBlock;
  if (!(kEigenGemm && thin && m >= 4 * block && a.cols() > 640)) {
    y.noalias() = a * x;
    return;
  }
  const Index count = (m + block - 1) / block;
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(static) if (threads > 1)
#endif
  for (Index c = 0; c < count; ++c) {
    const Index i = c * block, b = std::min(block, m - i);
    y.middleRows(i, b).noalias() = a.middleRows(i, b) * x;
  }
}

}  // namespace curvop::detail

#endif  // CURVOP_DETAIL_DENSE_PRODUCTS_HPP
