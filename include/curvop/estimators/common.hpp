// SPDX-License-Identifier: MIT
// What every stochastic estimator shares: result types, the probe options, checked products with
// the operator, running moments, and the control-variate difference operator.
#ifndef CURVOP_ESTIMATORS_COMMON_HPP
#define CURVOP_ESTIMATORS_COMMON_HPP

#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <curvop/concepts.hpp>
#include <curvop/functions.hpp>
#include <curvop/random.hpp>
#include <limits>
#include <string>
#include <string_view>

namespace curvop {

/// A scalar estimate (a trace, tr f(A), a log-determinant) with its uncertainty.
///
/// `standard_error` is the estimated standard deviation of `value` (the sample standard
/// deviation of the independent per-probe terms divided by √N, or for XTrace the same over its
/// exchangeable leave-one-out terms). `matvecs` counts the columns applied to the operator (a
/// block of k probes counts k), including products spent past an adaptive stopping point;
/// `samples` the per-probe terms that entered `value`. `info` is `Success`, or `NoConvergence`
/// when a requested relative tolerance was not reached within the budget (the estimate is still
/// the best one the budget allowed).
///
/// `control_matvecs` counts the columns applied to a control variate C (reported apart from
/// `matvecs` because C is usually far cheaper than A, a K-FAC or diagonal approximation of a
/// Hessian): one per product with A (the estimator sees A − C), plus n when C has no
/// `diagonal()` member and its trace or diagonal is derived by probing unit vectors. 0 without
/// a control variate.
template <class S>
struct Estimate {
  S value = S(0);           ///< the estimate
  S standard_error = S(0);  ///< estimated standard deviation of `value`
  Index matvecs = 0;        ///< products with the operator (columns)
  Index samples = 0;        ///< probe terms averaged
  Info info = Info::Success;
  Index control_matvecs = 0;  ///< products with the control variate (columns), see above
};

/// A vector estimate (a diagonal) with an entrywise standard error.
template <class S>
struct DiagonalEstimate {
  Vector<S> value;           ///< the estimated diagonal
  Vector<S> standard_error;  ///< entrywise estimated standard deviation of `value`
  Index matvecs = 0;         ///< products with the operator (columns)
  Index samples = 0;         ///< probes averaged
  Info info = Info::Success;
  Index control_matvecs = 0;  ///< products with the control variate (columns), as in `Estimate`
};

namespace detail {

/// y = A x, then throws `InvalidInput` naming `where` if the operator returned NaN or Inf.
/// Estimators must never turn a broken Hessian-vector product into a silent NaN.
template <LinearOperator Op>
void apply_checked(const Op& op, const ConstRef<scalar_t<Op>>& x, MutRef<scalar_t<Op>> y,
                   std::string_view where) {
  curvop::apply(op, x, y);
  if (!y.allFinite()) {
    throw InvalidInput(std::string(where) +
                       ": the operator returned a non-finite entry (NaN or Inf)");
  }
}

/// Requires a square operator (DimensionMismatch otherwise).
template <LinearOperator Op>
void require_square(const Op& op, std::string_view where) {
  require_conformant(op.rows() == op.cols(), std::string(where) + ": operator must be square",
                     op, op);
}

/// Running mean and variance of a stream of samples (Welford), in double.
struct RunningMoments {
  Index count = 0;
  double mean = 0;
  double m2 = 0;

  void push(double x) {
    ++count;
    const double d = x - mean;
    mean += d / static_cast<double>(count);
    m2 += d * (x - mean);
  }
  /// Standard error of the mean: s/√N (infinite with fewer than two samples).
  double standard_error() const {
    if (count < 2) return std::numeric_limits<double>::infinity();
    return std::sqrt(m2 / static_cast<double>(count - 1) / static_cast<double>(count));
  }
};

/// The adaptive stopping rule shared by the estimators: at least `min_samples` terms and a
/// standard error at most `rel_tol` times the magnitude of the estimate.
inline bool converged(double se, double value, double rel_tol, Index count, Index min_samples) {
  return rel_tol > 0 && count >= min_samples && count >= 2 && se <= rel_tol * std::abs(value);
}

/// A − C for the control variate: estimators see the difference and add C's exact trace or
/// diagonal back. Holds references (internal, lives only inside an estimator call).
template <LinearOperator Op, LinearOperator Cv>
class DifferenceOperator {
 public:
  using Scalar = scalar_t<Op>;
  static constexpr bool is_symmetric = is_symmetric_v<Op> && is_symmetric_v<Cv>;

  DifferenceOperator(const Op& a, const Cv& c) : m_a(a), m_c(c) {}
  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_a.cols(); }
  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    curvop::apply(m_a, x, y);
    curvop::apply_add(m_c, x, y, Scalar(-1));
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires(TransposableOperator<Op> || is_symmetric_v<Op>) &&
            (TransposableOperator<Cv> || is_symmetric_v<Cv>)
  {
    curvop::apply_transpose(m_a, x, y);
    Matrix<Scalar> t(y.rows(), y.cols());
    curvop::apply_transpose(m_c, x, t);
    y -= t;
  }

 private:
  const Op& m_a;
  const Cv& m_c;
};

/// Checks that a control variate has the operator's shape.
template <LinearOperator Op, LinearOperator Cv>
void require_control_variate(const Op& op, const Cv& c, std::string_view where) {
  static_assert(std::is_same_v<scalar_t<Op>, scalar_t<Cv>>,
                "control variate: scalar types of the operator and the control variate differ");
  require_conformant(op.rows() == c.rows() && op.cols() == c.cols(),
                     std::string(where) + ": control variate must have the operator's shape", op,
                     c);
}

/// Thin orthonormal basis Q (n x k) of the columns of Y by Householder QR, and its R factor.
template <class S>
void thin_qr(const Matrix<S>& y, Matrix<S>& q, Matrix<S>& r) {
  const Index n = y.rows(), k = y.cols();
  Eigen::HouseholderQR<Matrix<S>> qr(y);
  q = qr.householderQ() * Matrix<S>::Identity(n, k);
  r = qr.matrixQR().topRows(k).template triangularView<Eigen::Upper>();
}

/// Extends a thin QR factorisation Y = QR by columns Y₂:
/// \f$ [Y, Y_2] = [Q, Q_2] \begin{bmatrix} R & C \\ 0 & R_2 \end{bmatrix} \f$, with C from block
/// Gram–Schmidt twice against Q ("twice is enough", also for a remainder at rounding level) and
/// Q₂R₂ the Householder QR of the remainder. The existing columns of Q are unchanged, so products
/// already applied to them stay valid: an adaptive sketch grows without spending them again.
/// A column of Q₂ whose pivot |R₂_ii| is negligible (Y₂ numerically inside the span of the
/// others: the operator's rank is reached) is set to zero, since Householder would complete it
/// with an arbitrary direction that is not orthogonal to Q; `rank_deficient(R)` then reports the
/// rank deficiency. With Q empty this is `thin_qr`.
template <class S>
void extend_qr(Matrix<S>& q, Matrix<S>& r, const Matrix<S>& y2) {
  const Index k = q.cols(), b = y2.cols();
  if (k == 0) {
    thin_qr(y2, q, r);
    return;
  }
  Matrix<S> c = q.transpose() * y2;
  Matrix<S> rem = y2 - q * c;
  const Matrix<S> c2 = q.transpose() * rem;
  rem.noalias() -= q * c2;
  c += c2;
  Matrix<S> q2, r2;
  thin_qr(rem, q2, r2);
  const S big = std::max(r.diagonal().cwiseAbs().maxCoeff(), r2.diagonal().cwiseAbs().maxCoeff());
  const S tol = S(100) * static_cast<S>(k + b) * Eigen::NumTraits<S>::epsilon() * big;
  for (Index i = 0; i < b; ++i) {
    if (!(std::abs(r2(i, i)) > tol)) q2.col(i).setZero();
  }
  Matrix<S> rn = Matrix<S>::Zero(k + b, k + b);
  rn.topLeftCorner(k, k) = r;
  rn.topRightCorner(k, b) = c;
  rn.bottomRightCorner(b, b) = r2;
  r.swap(rn);
  q.conservativeResize(Eigen::NoChange, k + b);
  q.rightCols(b) = q2;
}

/// True when the triangular factor R of a k-column sketch is numerically rank-deficient: some
/// |R_ii| below 100·k·eps·max|R_jj|. (det RᵀR = det YᵀY, so an exactly rank-deficient Y always
/// produces a tiny pivot in unpivoted Householder QR.)
template <class S>
bool rank_deficient(const Matrix<S>& r) {
  const Index k = r.cols();
  if (k == 0) return false;
  const S big = r.diagonal().cwiseAbs().maxCoeff();
  if (!(big > S(0))) return true;
  const S tol = S(100) * static_cast<S>(k) * Eigen::NumTraits<S>::epsilon() * big;
  return r.diagonal().cwiseAbs().minCoeff() <= tol;
}

}  // namespace detail
}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_COMMON_HPP
