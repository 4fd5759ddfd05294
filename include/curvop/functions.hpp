// SPDX-License-Identifier: MIT
// Free functions that algorithms call: they derive the capabilities an operator lacks.
#ifndef CURVOP_FUNCTIONS_HPP
#define CURVOP_FUNCTIONS_HPP

#include <curvop/concepts.hpp>

namespace curvop {

/// y = A x (y preallocated, overwritten).
template <LinearOperator Op>
void apply(const Op& op, const ConstRef<scalar_t<Op>>& x, MutRef<scalar_t<Op>> y) {
  CURVOP_ASSERT_APPLY(op.rows(), op.cols(), x, y);
  op.apply(x, y);
}

/// Returns A x as a new matrix (rows() x k).
template <LinearOperator Op>
[[nodiscard]] Matrix<scalar_t<Op>> apply(const Op& op, const ConstRef<scalar_t<Op>>& x) {
  Matrix<scalar_t<Op>> y(op.rows(), x.cols());
  apply(op, x, y);
  return y;
}

/// y = Aᵀ x: the member when the operator has one, else `apply` when it is symmetric.
template <LinearOperator Op>
  requires TransposableOperator<Op> || is_symmetric_v<Op>
void apply_transpose(const Op& op, const ConstRef<scalar_t<Op>>& x, MutRef<scalar_t<Op>> y) {
  CURVOP_ASSERT_APPLY(op.cols(), op.rows(), x, y);
  if constexpr (TransposableOperator<Op>) {
    op.apply_transpose(x, y);
  } else {
    op.apply(x, y);
  }
}

/// Returns Aᵀ x as a new matrix.
template <LinearOperator Op>
  requires TransposableOperator<Op> || is_symmetric_v<Op>
[[nodiscard]] Matrix<scalar_t<Op>> apply_transpose(const Op& op,
                                                   const ConstRef<scalar_t<Op>>& x) {
  Matrix<scalar_t<Op>> y(op.cols(), x.cols());
  apply_transpose(op, x, y);
  return y;
}

/// y = A⁻¹ x.
template <InvertibleOperator Op>
void apply_inverse(const Op& op, const ConstRef<scalar_t<Op>>& x, MutRef<scalar_t<Op>> y) {
  CURVOP_ASSERT_APPLY(op.cols(), op.rows(), x, y);
  op.apply_inverse(x, y);
}

/// Returns A⁻¹ x as a new matrix.
template <InvertibleOperator Op>
[[nodiscard]] Matrix<scalar_t<Op>> apply_inverse(const Op& op, const ConstRef<scalar_t<Op>>& x) {
  Matrix<scalar_t<Op>> y(op.cols(), x.cols());
  apply_inverse(op, x, y);
  return y;
}

/// y += alpha A x: the member when there is one, else through a temporary.
template <LinearOperator Op>
void apply_add(const Op& op, const ConstRef<scalar_t<Op>>& x, MutRef<scalar_t<Op>> y,
               scalar_t<Op> alpha = scalar_t<Op>(1)) {
  CURVOP_ASSERT_APPLY(op.rows(), op.cols(), x, y);
  if constexpr (AccumulatingOperator<Op>) {
    op.apply_add(x, y, alpha);
  } else {
    Matrix<scalar_t<Op>> t(op.rows(), x.cols());
    op.apply(x, t);
    y.noalias() += alpha * t;
  }
}

/// The dense matrix of A, by applying it to the identity. For tests and small sizes.
template <LinearOperator Op>
[[nodiscard]] Matrix<scalar_t<Op>> to_dense(const Op& op) {
  using S = scalar_t<Op>;
  Matrix<S> out(op.rows(), op.cols());
  if (op.cols() == 0) return out;
  const Matrix<S> eye = Matrix<S>::Identity(op.cols(), op.cols());
  op.apply(eye, out);
  return out;
}

/// The diagonal of a square A: the member when there is one, else by probing unit vectors in
/// blocks of 64 (cost: n/64 multi-RHS applies).
template <LinearOperator Op>
[[nodiscard]] Vector<scalar_t<Op>> diagonal(const Op& op) {
  using S = scalar_t<Op>;
  if constexpr (DiagonalExtractable<Op>) {
    return op.diagonal();
  } else {
    const Index n = std::min<Index>(op.rows(), op.cols());
    Vector<S> d(n);
    constexpr Index block = 64;
    for (Index j0 = 0; j0 < n; j0 += block) {
      const Index b = std::min(block, n - j0);
      Matrix<S> e = Matrix<S>::Zero(op.cols(), b);
      for (Index j = 0; j < b; ++j) e(j0 + j, j) = S(1);
      Matrix<S> ae(op.rows(), b);
      op.apply(e, ae);
      for (Index j = 0; j < b; ++j) d(j0 + j) = ae(j0 + j, j);
    }
    return d;
  }
}

}  // namespace curvop

#endif  // CURVOP_FUNCTIONS_HPP
