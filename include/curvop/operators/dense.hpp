// SPDX-License-Identifier: MIT
// Dense operators: an owning general matrix, an owning symmetric matrix, and a non-owning view.
#ifndef CURVOP_OPERATORS_DENSE_HPP
#define CURVOP_OPERATORS_DENSE_HPP

#include <Eigen/Cholesky>
#include <Eigen/LU>
#include <curvop/concepts.hpp>
#include <curvop/detail/dense_products.hpp>
#include <memory>
#include <utility>

namespace curvop {

/// An owning dense operator A.
///
/// `apply` is y = A x (one GEMM), `apply_transpose` y = Aᵀ x, `apply_inverse` y = A⁻¹ x through
/// a partial-pivoting LU computed once at construction when A is square (O(n³) then; a rectangular
/// A has no inverse and `apply_inverse` asserts). Products with blocks of vectors go through
/// curvop/detail/dense_products.hpp (A x in row blocks, Aᵀx as (xᵀA)ᵀ for a large A), as in
/// `SymmetricDense` and `DenseView`.
///
/// Cost: `apply` 2·rows·cols·k flops, no extra memory; `apply_transpose` the same, plus a
/// k x cols temporary for a large A; `apply_inverse` 2·n²·k flops.
/// \tparam S float or double
template <class S>
class Dense {
 public:
  using Scalar = S;

  /// Takes A by value (move it in to avoid the copy).
  explicit Dense(Matrix<S> a) : m_a(std::move(a)) {
    if (m_a.rows() == m_a.cols() && m_a.rows() > 0) {
      m_lu = std::make_shared<const Eigen::PartialPivLU<Matrix<S>>>(m_a);
    }
  }

  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_a.cols(); }
  /// The matrix.
  const Matrix<S>& matrix() const { return m_a; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    detail::forward_product<S>(m_a, x, y);
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * (m_a * x);
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    detail::transposed_product<S>(m_a, x, y);
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT(m_lu != nullptr, "Dense::apply_inverse: the matrix is not square");
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    y.noalias() = m_lu->solve(x);
  }
  /// y = A⁻ᵀ x (used by `inverse(transposed(a))`).
  void apply_inverse_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT(m_lu != nullptr, "Dense::apply_inverse_transpose: the matrix is not square");
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = m_lu->transpose().solve(x);
  }
  Vector<S> diagonal() const { return m_a.diagonal(); }

 private:
  Matrix<S> m_a;
  // Shared so that copies of the operator (composites store by value) share one factorisation.
  std::shared_ptr<const Eigen::PartialPivLU<Matrix<S>>> m_lu;
};

/// An owning symmetric dense operator A = Aᵀ (only the matrix given is used; it is checked
/// for symmetry to a relative 1e3·eps at construction).
///
/// `apply_inverse` uses an LDLᵀ factorisation (robust pivoting, Eigen's `LDLT`) computed once at
/// construction. `is_symmetric` is true, so `apply_transpose` is derived.
///
/// Cost: construction O(n³); `apply` 2·n²·k flops; `apply_inverse` 2·n²·k flops.
template <class S>
class SymmetricDense {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  explicit SymmetricDense(Matrix<S> a) : m_a(std::move(a)) {
    detail::require_conformant(m_a.rows() == m_a.cols(), "SymmetricDense: matrix must be square",
                               m_a, m_a);
    const S scale = std::max(m_a.cwiseAbs().maxCoeff(), S(1e-30));
    detail::require_argument(
        m_a.rows() == 0 ||
            (m_a - m_a.transpose()).cwiseAbs().maxCoeff() <=
                S(1000) * Eigen::NumTraits<S>::epsilon() * scale,
        "SymmetricDense", "matrix must be symmetric; max |A - A^T| / max |A|",
        m_a.rows() == 0 ? S(0) : (m_a - m_a.transpose()).cwiseAbs().maxCoeff() / scale);
    m_ldlt = std::make_shared<const Eigen::LDLT<Matrix<S>>>(m_a);
  }

  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_a.cols(); }
  const Matrix<S>& matrix() const { return m_a; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    detail::forward_product<S>(m_a, x, y);
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * (m_a * x);
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = m_ldlt->solve(x);
  }
  Vector<S> diagonal() const { return m_a.diagonal(); }

 private:
  Matrix<S> m_a;
  std::shared_ptr<const Eigen::LDLT<Matrix<S>>> m_ldlt;
};

/// A non-owning view of a dense matrix: the matrix must outlive the view. No factorisation
/// (not invertible); use `Dense` or `SymmetricDense` for that.
///
/// Cost: `apply` 2·rows·cols·k flops.
template <class S>
class DenseView {
 public:
  using Scalar = S;

  explicit DenseView(const ConstRef<S>& a) : m_a(a) {}

  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_a.cols(); }
  const ConstRef<S>& matrix() const { return m_a; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    detail::forward_product<S>(m_a, x, y);
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * (m_a * x);
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    detail::transposed_product<S>(m_a, x, y);
  }
  Vector<S> diagonal() const { return m_a.diagonal(); }

 private:
  ConstRef<S> m_a;
};

/// Owning dense operator from any Eigen matrix expression.
template <class Derived>
[[nodiscard]] Dense<typename Derived::Scalar> dense(const Eigen::MatrixBase<Derived>& a) {
  return Dense<typename Derived::Scalar>(a.eval());
}

/// Owning symmetric dense operator (LDLᵀ-factorised) from any Eigen matrix expression.
template <class Derived>
[[nodiscard]] SymmetricDense<typename Derived::Scalar> symmetric_dense(
    const Eigen::MatrixBase<Derived>& a) {
  return SymmetricDense<typename Derived::Scalar>(a.eval());
}

/// Non-owning view of a column-major dense matrix (which must outlive the view).
template <class S>
[[nodiscard]] DenseView<S> dense_view(const Matrix<S>& a) {
  return DenseView<S>(a);
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_DENSE_HPP
