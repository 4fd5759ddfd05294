// SPDX-License-Identifier: MIT
// Projection<S>: an orthonormal n x r basis P as an operator (apply = Pᵀx, apply_transpose = Px).
#ifndef CURVOP_LOWRANK_PROJECTION_HPP
#define CURVOP_LOWRANK_PROJECTION_HPP

#include <Eigen/QR>
#include <cmath>
#include <curvop/concepts.hpp>
#include <limits>
#include <utility>

namespace curvop::lowrank {

/// The projection onto an r-dimensional subspace of Rⁿ, given by an orthonormal basis
/// P (n x r, PᵀP = I):
/// \f[ \mathrm{apply}: y = P^T x \in \mathbb{R}^{r \times k}, \qquad
///     \mathrm{apply\_transpose}: y = P x \in \mathbb{R}^{n \times k}. \f]
/// As an operator it is r x n (`rows() = r`, `cols() = n`); `apply_transpose ∘ apply` is the
/// orthogonal projector PPᵀ and `apply ∘ apply_transpose` is the identity of Rʳ. It is the
/// coordinate map of GaLore (`project` of a left-side projector is `apply` on the gradient's
/// columns). There is no `apply_inverse`: Pᵀ is not invertible unless r = n.
///
/// Contract: `x` is cols() x k (n x k) for `apply`, rows() x k for `apply_transpose`; y is
/// preallocated and overwritten; `apply*` are const and thread-safe.
///
/// **Cost:** `apply` and `apply_transpose` 2·n·r·k flops, no extra memory.
/// \tparam S float or double
template <class S>
class Projection {
 public:
  using Scalar = S;

  /// Tolerance of the orthonormality check of the constructor: ‖PᵀP − I‖_max ≤ √eps(S)
  /// (3e-4 in float, 1.5e-8 in double): loose enough for bases computed in S, tight enough to
  /// reject a basis that is not orthonormal.
  static S orthonormality_tolerance() { return std::sqrt(std::numeric_limits<S>::epsilon()); }

  /// An empty projection (0 x 0).
  Projection() = default;

  /// Takes an orthonormal basis P (n x r, 1 <= r <= n). Throws `std::invalid_argument` when
  /// r > n, r = 0, P has a non-finite entry, or ‖PᵀP − I‖_max exceeds
  /// `orthonormality_tolerance()` (use `Projection::orthonormalize` for a general basis).
  explicit Projection(Matrix<S> basis) : m_p(std::move(basis)) {
    curvop::detail::require_argument(m_p.cols() >= 1, "lowrank::Projection",
                                     "basis must have at least one column", m_p.cols());
    curvop::detail::require_argument(m_p.cols() <= m_p.rows(), "lowrank::Projection",
                                     "basis must have cols <= rows", curvop::detail::shape(m_p));
    curvop::detail::require_argument(m_p.allFinite(), "lowrank::Projection",
                                     "basis must be finite", "non-finite entry");
    const Matrix<S> gram = m_p.transpose() * m_p;
    const S err = (gram - Matrix<S>::Identity(m_p.cols(), m_p.cols())).cwiseAbs().maxCoeff();
    curvop::detail::require_argument(err <= orthonormality_tolerance(), "lowrank::Projection",
                                     "basis must be orthonormal; max |PᵀP - I|", err);
  }

  /// The projection onto the span of the columns of `a` (n x r, full column rank): P is the Q
  /// factor of a Householder QR of a.
  /// **Cost:** 4·n·r² flops.
  [[nodiscard]] static Projection orthonormalize(const ConstRef<S>& a) {
    curvop::detail::require_argument(a.cols() >= 1 && a.cols() <= a.rows(),
                                     "lowrank::Projection::orthonormalize",
                                     "matrix must have 1 <= cols <= rows", curvop::detail::shape(a));
    Eigen::HouseholderQR<Matrix<S>> qr(a);
    Matrix<S> q = Matrix<S>::Identity(a.rows(), a.cols());
    qr.householderQ().applyThisOnTheLeft(q);
    return Projection(std::move(q));
  }

  /// r, the dimension of the subspace.
  Index rows() const { return m_p.cols(); }
  /// n, the ambient dimension.
  Index cols() const { return m_p.rows(); }
  /// r.
  Index rank() const { return m_p.cols(); }
  /// The basis P (n x r).
  const Matrix<S>& basis() const { return m_p; }

  /// y = Pᵀ x (x is n x k, y is r x k).
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = m_p.transpose() * x;
  }
  /// y += alpha Pᵀ x.
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * (m_p.transpose() * x);
  }
  /// y = P x (x is r x k, y is n x k): the lift back to Rⁿ.
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    y.noalias() = m_p * x;
  }

 private:
  Matrix<S> m_p;
};

}  // namespace curvop::lowrank

#endif  // CURVOP_LOWRANK_PROJECTION_HPP
