// SPDX-License-Identifier: MIT
// Batched matrix roots: many independent (typically same-size) matrices in one call, spread over
// the OpenMP threads when curvop is built with CURVOP_USE_OPENMP.
#ifndef CURVOP_MATRIX_FUNCTIONS_BATCH_HPP
#define CURVOP_MATRIX_FUNCTIONS_BATCH_HPP

#include <curvop/matrix_functions/inverse_root.hpp>
#include <algorithm>
#include <exception>
#include <span>
#include <string>
#include <vector>
#if defined(CURVOP_USE_OPENMP)
#include <omp.h>
#endif

#if defined(EIGEN_USE_BLAS)
// OpenBLAS's threading queries, declared weak so that any other BLAS links too (the pointers are
// then null). Same signatures as OpenBLAS's cblas.h.
extern "C" __attribute__((weak)) int openblas_get_num_threads(void);
extern "C" __attribute__((weak)) int openblas_get_parallel(void);
#endif

namespace curvop {

namespace detail {

/// Whether Eigen's dense products may run inside an OpenMP parallel region without calling a
/// threaded BLAS from several threads at once. Without `EIGEN_USE_BLAS` (no `CURVOP_USE_BLAS`)
/// they are Eigen's own kernels: always. With it, every GEMM, GEMV, SYMV and SYRK, including
/// those inside `Eigen::SelfAdjointEigenSolver`, is a BLAS call, and a pthreads OpenBLAS called
/// from several threads at once contends for its one thread pool (10–50x slower, measured in
/// session 1): only when OpenBLAS reports a sequential or OpenMP build (the OpenMP build runs
/// single-threaded inside a parallel region) or a thread count of 1 (`OPENBLAS_NUM_THREADS=1`).
/// An unknown BLAS is assumed threaded. Cost: two function calls.
inline bool products_safe_in_parallel() {
#if defined(EIGEN_USE_BLAS)
  if (openblas_get_parallel != nullptr && openblas_get_parallel() != 1) return true;
  return openblas_get_num_threads != nullptr && openblas_get_num_threads() == 1;
#else
  return true;
#endif
}

}  // namespace detail

/// Largest matrix size for which `inverse_root_batch` spreads a batch over the OpenMP threads.
inline constexpr Index kParallelBatchMaxSize = 512;

/// Inverse p-th roots of a batch of symmetric PSD matrices: `result[i]` is
/// `inverse_root(as[i], p, options)` (same residual, `Info` and fallback ladder per matrix).
///
/// Why a batch: the blocks of a Shampoo preconditioner are small (≤ a few hundred), and an
/// eigensolver on one small block cannot use two cores (tridiagonalisation is level-2 BLAS).
/// With `CURVOP_USE_OPENMP`, when every matrix has n ≤ `kParallelBatchMaxSize` (512), the
/// matrices are distributed over the threads (dynamic schedule, largest first), each computed
/// single-threaded, and their eigendecompositions use Eigen's solver rather than LAPACK's:
/// a threaded BLAS/LAPACK such as OpenBLAS (pthreads build) called from several OpenMP threads
/// at once shares one thread pool and slows down by 10–50x (measured), while Eigen's solver is
/// as fast as ?syevd up to n ≈ 256 and within 1.5x at 512. With `CURVOP_USE_BLAS`
/// (`EIGEN_USE_BLAS`) even Eigen's solver and products call the BLAS (SYMV, GEMV, GEMM, SYRK),
/// so the batch is parallel only when `detail::products_safe_in_parallel()` says the BLAS is
/// single-threaded (`OPENBLAS_NUM_THREADS=1`, or a sequential or OpenMP OpenBLAS build); with a
/// threaded BLAS it runs sequentially and each call uses the BLAS's threads. A batch with a
/// larger matrix runs sequentially, each call using the configured solver and its threads.
/// Matrices may have different sizes.
///
/// Errors: options and shapes are all checked before any work (`std::invalid_argument`,
/// `DimensionMismatch` naming the index); non-finite matrices give `Info::InvalidInput` in their
/// own result only.
///
/// **Cost:** the sum of the single calls, divided by the thread count when the batch has at least
/// as many matrices as threads; memory O(Σ nᵢ²) for the results plus O(nᵢ²) per thread.
template <class S>
[[nodiscard]] std::vector<RootResult<S>> inverse_root_batch(std::span<const Matrix<S>> as, int p,
                                                            const RootOptions& options = {}) {
  options.validate();
  detail::require_argument(p >= 1, "inverse_root_batch", "p must be >= 1", p);
  for (std::size_t i = 0; i < as.size(); ++i) {
    detail::require_conformant(as[i].rows() == as[i].cols(),
                               "inverse_root_batch: matrix " + std::to_string(i) +
                                   " must be square",
                               as[i], as[i]);
  }
  std::vector<RootResult<S>> out(as.size());
  // Largest first, so that the dynamic schedule balances a batch with an odd-sized edge block.
  std::vector<std::size_t> order(as.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    return as[x].rows() > as[y].rows();
  });
  std::exception_ptr error;
  const auto count = static_cast<std::ptrdiff_t>(as.size());
#if defined(CURVOP_USE_OPENMP)
  const bool parallel = count > 1 && omp_get_max_threads() > 1 &&
                        as[order[0]].rows() <= kParallelBatchMaxSize &&
                        detail::products_safe_in_parallel();
#else
  const bool parallel = false;
#endif
  const auto backend =
      parallel ? detail::EigenBackend::Eigen : detail::EigenBackend::Configured;
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
#endif
  for (std::ptrdiff_t k = 0; k < count; ++k) {
    const std::size_t i = order[static_cast<std::size_t>(k)];
    try {
      out[i] = detail::root_with_ladder<S>(as[i], p, detail::RootKind::InverseRoot, options,
                                           backend);
    } catch (...) {  // only std::bad_alloc can arrive here: arguments were checked above
#if defined(CURVOP_USE_OPENMP)
#pragma omp critical(curvop_inverse_root_batch)
#endif
      error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
  return out;
}

/// Convenience overload for a `std::vector` of matrices.
template <class S>
[[nodiscard]] std::vector<RootResult<S>> inverse_root_batch(const std::vector<Matrix<S>>& as,
                                                            int p,
                                                            const RootOptions& options = {}) {
  return inverse_root_batch<S>(std::span<const Matrix<S>>(as.data(), as.size()), p, options);
}

}  // namespace curvop

#endif  // CURVOP_MATRIX_FUNCTIONS_BATCH_HPP
