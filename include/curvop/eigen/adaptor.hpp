// SPDX-License-Identifier: MIT
// Eigen interop: any curvop operator as the matrix of Eigen's iterative solvers, and any
// invertible operator as their preconditioner.
#ifndef CURVOP_EIGEN_ADAPTOR_HPP
#define CURVOP_EIGEN_ADAPTOR_HPP

#include <Eigen/Core>
#include <Eigen/IterativeLinearSolvers>
#include <Eigen/SparseCore>
#include <curvop/functions.hpp>

namespace curvop {
template <LinearOperator Op>
class EigenAdaptor;
}

namespace Eigen::internal {
// Eigen's matrix-free recipe: the adaptor is seen as a sparse matrix, and its products with
// dense vectors are routed to the operator below.
template <class Op>
struct traits<curvop::EigenAdaptor<Op>>
    : public Eigen::internal::traits<Eigen::SparseMatrix<typename Op::Scalar>> {};
}  // namespace Eigen::internal

namespace curvop {

/// A view of operator `op` as a matrix for Eigen's matrix-free iterative solvers:
/// `Eigen::ConjugateGradient<EigenAdaptor<Op>, Eigen::Lower | Eigen::Upper, P>` (symmetric positive
/// definite operators; `Lower | Upper` is required, Eigen asserts it), `BiCGSTAB`, ….
/// Products honour Eigen's `alpha` (y += alpha·A x through `curvop::apply_add`).
///
/// The adaptor holds a pointer: `op` must outlive the adaptor and every solver using it.
///
/// Cost: one `apply_add` per product (a temporary when the operator lacks `apply_add`).
template <LinearOperator Op>
class EigenAdaptor : public Eigen::EigenBase<EigenAdaptor<Op>> {
 public:
  using Scalar = scalar_t<Op>;
  using RealScalar = Scalar;
  using StorageIndex = int;
  enum {
    ColsAtCompileTime = Eigen::Dynamic,
    MaxColsAtCompileTime = Eigen::Dynamic,
    IsRowMajor = false
  };

  explicit EigenAdaptor(const Op& op) : m_op(&op) {}

  Index rows() const { return m_op->rows(); }
  Index cols() const { return m_op->cols(); }
  /// The adapted operator.
  const Op& op() const { return *m_op; }

  template <class Rhs>
  Eigen::Product<EigenAdaptor, Rhs, Eigen::AliasFreeProduct> operator*(
      const Eigen::MatrixBase<Rhs>& x) const {
    return Eigen::Product<EigenAdaptor, Rhs, Eigen::AliasFreeProduct>(*this, x.derived());
  }

 private:
  const Op* m_op;
};

/// An adaptor for `op` (which must outlive it).
template <LinearOperator Op>
[[nodiscard]] EigenAdaptor<Op> eigen_adaptor(const Op& op) {
  return EigenAdaptor<Op>(op);
}

/// Any invertible operator Q ≈ A as the preconditioner of Eigen's iterative solvers: each
/// preconditioning step is z = Q⁻¹ r through `Q.apply_inverse` (a K-FAC, Kronecker, diagonal or
/// low-rank-plus-diagonal approximation of A, say). It follows Eigen's preconditioner protocol
/// (`compute`/`analyzePattern`/`factorize`/`solve`/`info`); attach the operator with
/// `solver.preconditioner().attach(q)` before `solve`. Q must outlive the solver.
///
/// Cost: one `apply_inverse` of Q per iteration.
template <InvertibleOperator Q>
class OperatorPreconditioner {
 public:
  using Scalar = scalar_t<Q>;
  using StorageIndex = int;
  enum { ColsAtCompileTime = Eigen::Dynamic, MaxColsAtCompileTime = Eigen::Dynamic };

  OperatorPreconditioner() = default;
  template <class MatType>
  explicit OperatorPreconditioner(const MatType&) {}

  /// Uses q for the preconditioning steps (q must outlive the solver).
  void attach(const Q& q) { m_q = &q; }
  const Q* attached() const { return m_q; }

  template <class MatType>
  OperatorPreconditioner& analyzePattern(const MatType&) {
    return *this;
  }
  template <class MatType>
  OperatorPreconditioner& factorize(const MatType&) {
    return *this;
  }
  template <class MatType>
  OperatorPreconditioner& compute(const MatType&) {
    return *this;
  }

  Index rows() const { return m_q ? m_q->rows() : 0; }
  Index cols() const { return m_q ? m_q->cols() : 0; }

  /// z = Q⁻¹ r.
  template <class Rhs>
  Vector<Scalar> solve(const Eigen::MatrixBase<Rhs>& r) const {
    CURVOP_ASSERT(m_q != nullptr, "OperatorPreconditioner: no operator attached");
    Vector<Scalar> z(m_q->cols());
    m_q->apply_inverse(r, z);
    return z;
  }

  /// `Success` once an operator is attached, `InvalidInput` before.
  Eigen::ComputationInfo info() const {
    return m_q ? Eigen::Success : Eigen::InvalidInput;
  }

 private:
  const Q* m_q = nullptr;
};

}  // namespace curvop

namespace Eigen::internal {
template <class Op, class Rhs>
struct generic_product_impl<curvop::EigenAdaptor<Op>, Rhs, SparseShape, DenseShape, GemvProduct>
    : generic_product_impl_base<
          curvop::EigenAdaptor<Op>, Rhs,
          generic_product_impl<curvop::EigenAdaptor<Op>, Rhs, SparseShape, DenseShape, GemvProduct>> {
  using Scalar = typename Product<curvop::EigenAdaptor<Op>, Rhs>::Scalar;

  template <class Dest>
  static void scaleAndAddTo(Dest& dst, const curvop::EigenAdaptor<Op>& lhs, const Rhs& rhs,
                            const Scalar& alpha) {
    // dst += alpha · A · rhs (Eigen's example ignores alpha; the solvers pass 1, others may not).
    curvop::apply_add(lhs.op(), rhs, dst, alpha);
  }
};
}  // namespace Eigen::internal

#endif  // CURVOP_EIGEN_ADAPTOR_HPP
