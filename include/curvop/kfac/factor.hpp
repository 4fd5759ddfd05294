// SPDX-License-Identifier: MIT
// One damped Kronecker factor (Â or Ĝ of K-FAC) as a symmetric operator with its inverse.
#ifndef CURVOP_KFAC_FACTOR_HPP
#define CURVOP_KFAC_FACTOR_HPP

#include <curvop/concepts.hpp>
#include <memory>
#include <utility>

namespace curvop::kfac {

/// A symmetric positive definite factor M (d × d) together with its precomputed inverse, as
/// returned by `KFac::damped_a()` / `KFac::damped_g()`.
///
/// `apply` is y = M x, `apply_inverse` y = M⁻¹ x (a product with the stored inverse, not a
/// solve), `diagonal()` is diag(M). It models `InvertibleOperator` and is symmetric, so
/// `curvop::kron(g, a)`-style composites, estimators and CG preconditioners take it as it is.
/// Copies share the (immutable) matrices. The contract of every operator holds: x is d × k,
/// y is d × k, k ≥ 1, y is overwritten; `apply*` are const and thread-safe.
///
/// Cost: `apply` and `apply_inverse` 2·d²·k flops each, no extra memory.
/// \tparam S float or double
template <class S>
class Factor {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  /// Takes M and M⁻¹ (the caller guarantees that they are inverse to each other).
  Factor(Matrix<S> m, Matrix<S> inverse)
      : m_m(std::make_shared<const Matrix<S>>(std::move(m))),
        m_inv(std::make_shared<const Matrix<S>>(std::move(inverse))) {}

  Index rows() const { return m_m->rows(); }
  Index cols() const { return m_m->cols(); }
  /// M.
  const Matrix<S>& matrix() const { return *m_m; }
  /// M⁻¹.
  const Matrix<S>& inverse() const { return *m_inv; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = (*m_m) * x;
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * ((*m_m) * x);
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = (*m_inv) * x;
  }
  Vector<S> diagonal() const { return m_m->diagonal(); }

 private:
  std::shared_ptr<const Matrix<S>> m_m;
  std::shared_ptr<const Matrix<S>> m_inv;
};

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_FACTOR_HPP
