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

namespace curvop {

/// Inverse p-th roots of a batch of symmetric PSD matrices: `result[i]` is
/// `inverse_root(as[i], p, options)` (same residual, `Info` and fallback ladder per matrix).
///
/// Why a batch: the blocks of a Shampoo preconditioner are small (≤ a few hundred), and an
/// eigensolver on one small block cannot use two cores (tridiagonalisation is level-2 BLAS).
/// With `CURVOP_USE_OPENMP` the matrices are distributed over the threads (dynamic schedule,
/// largest first), each one computed single-threaded; without it the loop is sequential. The
/// results do not depend on the thread count. Matrices may have different sizes.
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
#pragma omp parallel for schedule(dynamic, 1)
#endif
  for (std::ptrdiff_t k = 0; k < count; ++k) {
    const std::size_t i = order[static_cast<std::size_t>(k)];
    try {
      out[i] = inverse_root<S>(as[i], p, options);
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
