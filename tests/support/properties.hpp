// SPDX-License-Identifier: MIT
// Generic property checks run on every operator of the market against its dense reference.
#ifndef CURVOP_TESTS_SUPPORT_PROPERTIES_HPP
#define CURVOP_TESTS_SUPPORT_PROPERTIES_HPP

#include <Eigen/LU>
#include <curvop/functions.hpp>
#include <string>

#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

namespace curvop::test {

/// Exposes only `apply` (and the symmetry property): every capability the free functions derive
/// (apply_add through a temporary, the diagonal by probing, the transpose of a symmetric
/// operator) and every compile-time simplification is bypassed, so results through `Opaque` check
/// the structured paths against the generic ones.
template <LinearOperator Op>
class Opaque {
 public:
  using Scalar = scalar_t<Op>;
  static constexpr bool is_symmetric = is_symmetric_v<Op>;
  explicit Opaque(Op op) : m_op(std::move(op)) {}
  Index rows() const { return m_op.rows(); }
  Index cols() const { return m_op.cols(); }
  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const { m_op.apply(x, y); }

 private:
  Op m_op;
};
template <LinearOperator Op>
Opaque<Op> opaque(const Op& op) {
  return Opaque<Op>(op);
}

/// What the market knows about an entry beyond its dense reference.
struct EntryInfo {
  std::string name;
  double kappa = 10.0;  ///< condition number bound of the reference (for inverse tolerances)
};

/// Runs every applicable property of `op` against `ref` (the operator's matrix, in double,
/// computed independently of the operator's own code).
template <LinearOperator Op>
void check_operator(const EntryInfo& info, const Op& op, const Matrix<double>& ref) {
  using S = scalar_t<Op>;
  INFO("operator: " << info.name << " (" << (sizeof(S) == 4 ? "float" : "double") << ")");
  const Index m = ref.rows(), n = ref.cols();
  REQUIRE(op.rows() == m);
  REQUIRE(op.cols() == n);
  const double inner = static_cast<double>(std::max<Index>({m, n, 4}));
  const double tol = apply_tol<S>(inner) * 4.0;  // structured paths add a few rounding stages
  const Index k = 3;
  const Matrix<S> x = gaussian_matrix<S>(n, k, 101);
  const Matrix<double> xd = x.template cast<double>();
  const Matrix<double> yref = ref * xd;

  // apply, multi-RHS against column by column
  Matrix<S> y(m, k);
  op.apply(x, y);
  INFO("apply error " << rel_err(y, yref));
  CHECK(rel_err(y, yref) <= tol);
  for (Index j = 0; j < k; ++j) {
    Vector<S> yj(m);
    op.apply(x.col(j), yj);
    CHECK(rel_err(yj, yref.col(j)) <= tol);
  }
  // a non-contiguous input (rows of a larger matrix) is accepted and gives the same result
  {
    Matrix<S> big = Matrix<S>::Zero(n + 5, k);
    big.middleRows(2, n) = x;
    Matrix<S> yb(m, k);
    op.apply(big.middleRows(2, n), yb);
    CHECK(rel_err(yb, yref) <= tol);
  }
  // free functions: apply returning a matrix, apply_add (member or through a temporary)
  CHECK(rel_err(curvop::apply(op, x), yref) <= tol);
  {
    Matrix<S> acc = gaussian_matrix<S>(m, k, 5);
    const Matrix<double> accref = acc.template cast<double>() + 0.75 * yref;
    curvop::apply_add(op, x, acc, S(0.75));
    CHECK(rel_err(acc, accref) <= tol);
  }
  // linearity: A(a x1 + b x2) = a A x1 + b A x2
  {
    const Matrix<S> x2 = gaussian_matrix<S>(n, k, 202);
    const Matrix<S> comb = S(2) * x - S(3) * x2;
    const Matrix<double> lin = 2.0 * yref - 3.0 * (ref * x2.template cast<double>());
    CHECK(rel_err(curvop::apply(op, comb), lin) <= tol * 4);
  }
  // to_dense and the diagonal (member or probing)
  CHECK(rel_err(to_dense(op), ref) <= tol);
  if (m == n) {
    const Vector<double> dref = ref.diagonal();
    CHECK(rel_err(curvop::diagonal(op), dref) <= tol + 1e-30);
  }
  // transpose
  if constexpr (TransposableOperator<Op> || is_symmetric_v<Op>) {
    const Matrix<S> xt = gaussian_matrix<S>(m, k, 303);
    const Matrix<double> ytref = ref.transpose() * xt.template cast<double>();
    Matrix<S> yt(n, k);
    curvop::apply_transpose(op, xt, yt);
    INFO("transpose error " << rel_err(yt, ytref));
    CHECK(rel_err(yt, ytref) <= tol);
  }
  // symmetry: xᵀ A y = yᵀ A x, and the reference itself is symmetric
  if constexpr (is_symmetric_v<Op>) {
    CHECK(rel_err(ref, Matrix<double>(ref.transpose())) <= 1e-12 + tol);
    const Matrix<S> u = gaussian_matrix<S>(n, 1, 404), v = gaussian_matrix<S>(n, 1, 505);
    const double a = (u.transpose() * curvop::apply(op, v)).template cast<double>()(0, 0);
    const double b = (v.transpose() * curvop::apply(op, u)).template cast<double>()(0, 0);
    CHECK(std::abs(a - b) <= tol * (std::abs(a) + std::abs(b) + 1.0));
  }
  // inverse: against a dense LU solve, and the round trip A⁻¹ A x = x
  if constexpr (InvertibleOperator<Op>) {
    REQUIRE(m == n);
    const double itol = inverse_tol<S>(inner, info.kappa);
    const Matrix<double> xiref = ref.partialPivLu().solve(xd);
    Matrix<S> xi(n, k);
    op.apply_inverse(x, xi);
    INFO("inverse error " << rel_err(xi, xiref));
    CHECK(rel_err(xi, xiref) <= itol);
    Matrix<S> back(n, k);
    op.apply_inverse(y, back);
    CHECK(rel_err(back, xd) <= itol);
    CHECK(rel_err(curvop::apply_inverse(op, x), xiref) <= itol);
  }
  // structure stripped: the same results through an operator that exposes only apply
  {
    const auto o = opaque(op);
    CHECK(rel_err(curvop::apply(o, x), yref) <= tol);
    CHECK(rel_err(to_dense(o), ref) <= tol);
    if (m == n) CHECK(rel_err(curvop::diagonal(o), Vector<double>(ref.diagonal())) <= tol + 1e-30);
    Matrix<S> acc = Matrix<S>::Zero(m, k);
    curvop::apply_add(o, x, acc, S(-1));
    CHECK(rel_err(acc, Matrix<double>(-yref)) <= tol);
  }
}

/// Dense Kronecker product A ⊗ B in double (the independent reference for `kron`).
inline Matrix<double> dense_kron(const Matrix<double>& a, const Matrix<double>& b) {
  Matrix<double> k(a.rows() * b.rows(), a.cols() * b.cols());
  for (Index i = 0; i < a.rows(); ++i)
    for (Index j = 0; j < a.cols(); ++j) k.block(i * b.rows(), j * b.cols(), b.rows(), b.cols()) = a(i, j) * b;
  return k;
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_SUPPORT_PROPERTIES_HPP
