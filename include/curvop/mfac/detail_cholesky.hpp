// SPDX-License-Identifier: MIT
// Internals of M-FAC: the small m x m Cholesky factor of M = nλI + GᵀG in double, computed from
// scratch with a jitter rung, and updated in O(m²) when the oldest gradient leaves the window
// (delete the first row and column: a rank-one *update* of the trailing factor, stable) and a new
// one arrives (append a row: one forward substitution).
#ifndef CURVOP_MFAC_DETAIL_CHOLESKY_HPP
#define CURVOP_MFAC_DETAIL_CHOLESKY_HPP

#include <Eigen/Cholesky>
#include <cmath>
#include <curvop/config.hpp>
#include <limits>

namespace curvop::mfac::detail {

/// L (leading n x n of `l`, lower) = chol(a). On failure retries once with a jitter of
/// 1e3·eps·max|diag a| added to the diagonal; returns false (l untouched) if that fails too.
inline bool factorize(const Eigen::Ref<const Matrix<double>>& a, Matrix<double>& l) {
  const Index n = a.rows();
  if (n == 0) return true;
  Eigen::LLT<Matrix<double>> llt(a);
  if (llt.info() != Eigen::Success || !llt.matrixLLT().allFinite()) {
    Matrix<double> b = a;
    b.diagonal().array() += 1e3 * std::numeric_limits<double>::epsilon() *
                            a.diagonal().cwiseAbs().maxCoeff();
    llt.compute(b);
    if (llt.info() != Eigen::Success || !llt.matrixLLT().allFinite()) return false;
  }
  l.topLeftCorner(n, n) = llt.matrixL();
  return true;
}

/// Given L (n x n lower, leading block of `l`) with A = L Lᵀ, overwrites the leading
/// (n-1) x (n-1) block with the Cholesky factor of A without its first row and column:
/// A₂₂ = L₂₂L₂₂ᵀ + l₂₁l₂₁ᵀ, a rank-one update of L₂₂ by Givens-like rotations (no subtraction,
/// so no loss of definiteness). Cost: 2(n-1)² flops, 3 of them per entry.
inline void drop_first(Matrix<double>& l, Index n) {
  if (n <= 1) return;
  Vector<double> x = l.col(0).segment(1, n - 1);
  for (Index k = 0; k + 1 < n; ++k) {
    const double lkk = l(k + 1, k + 1);
    const double r = std::hypot(lkk, x(k));
    const double c = r / lkk, s = x(k) / lkk;
    // The new factor goes one row and one column up-left, column by column, so that the
    // source (k+1, k+1) is read before it is overwritten by its destination (k, k).
    l(k, k) = r;
    for (Index i = k + 1; i + 1 < n; ++i) {
      const double lik = (l(i + 1, k + 1) + s * x(i)) / c;
      x(i) = c * x(i) - s * lik;
      l(i, k) = lik;
    }
  }
  l.row(n - 1).head(n).setZero();
  l.col(n - 1).head(n).setZero();
}

/// Appends a row to L (n x n lower, leading block of `l`, which must have room for n + 1):
/// for A' = [A b; bᵀ c], row n of L' is [ (L⁻¹b)ᵀ, sqrt(c − ‖L⁻¹b‖²) ]. Returns false (and
/// leaves `l` unchanged) when the new pivot is not positive and finite. Cost: n² flops.
inline bool append(Matrix<double>& l, Index n, const Eigen::Ref<const Vector<double>>& b,
                   double c) {
  Vector<double> y = b;
  if (n > 0) l.topLeftCorner(n, n).triangularView<Eigen::Lower>().solveInPlace(y);
  const double p = c - y.squaredNorm();
  // A pivot below eps·c is all rounding: refuse it rather than store a meaningless root.
  if (!(p > 8 * std::numeric_limits<double>::epsilon() * c) || !std::isfinite(p)) return false;
  l.row(n).head(n) = y.transpose();
  l(n, n) = std::sqrt(p);
  return true;
}

}  // namespace curvop::mfac::detail

#endif  // CURVOP_MFAC_DETAIL_CHOLESKY_HPP
