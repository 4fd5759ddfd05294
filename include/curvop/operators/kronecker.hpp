// SPDX-License-Identifier: MIT
// Kronecker products of operators: (A ⊗ B) vec(X) = vec(B X Aᵀ), the structure of K-FAC and
// Shampoo curvature blocks.
#ifndef CURVOP_OPERATORS_KRONECKER_HPP
#define CURVOP_OPERATORS_KRONECKER_HPP

#include <curvop/functions.hpp>
#include <curvop/operators/composite.hpp>
#include <curvop/operators/diagonal.hpp>
#include <utility>

namespace curvop {

namespace detail {
/// Operators that expose their dense matrix (`Dense`, `SymmetricDense`, `DenseView`): the
/// Kronecker apply then multiplies by Aᵀ directly instead of transposing blocks.
template <class Op>
concept HasDenseMatrix = requires(const Op& op) {
  { op.matrix() } -> std::convertible_to<ConstRef<typename Op::Scalar>>;
};

/// Y_j = T_j Aᵀ for each of k blocks T_j (rb x ac), stored side by side in t (rb x ac·k), into
/// y (rb·ar x k, column j = vec(Y_j)). `TransposeA` uses Aᵀ in place of A.
template <bool TransposeA, class A, class S>
void kron_right(const A& a, const Matrix<S>& t, Index rb, Index k, MutRef<S> y) {
  const Index ac = TransposeA ? a.rows() : a.cols();
  const Index ar = TransposeA ? a.cols() : a.rows();
  if constexpr (HasDenseMatrix<A>) {
    const auto& m = a.matrix();
    for (Index j = 0; j < k; ++j) {
      Eigen::Map<Matrix<S>> yj(y.col(j).data(), rb, ar);
      const auto tj = t.middleCols(j * ac, ac);
      if constexpr (TransposeA) {
        yj.noalias() = tj * m;
      } else {
        yj.noalias() = tj * m.transpose();
      }
    }
  } else {
    // (T Aᵀ)ᵀ = A Tᵀ: apply A to the transposed blocks, all k at once, and transpose back.
    Matrix<S> tt(ac, rb * k);
    for (Index j = 0; j < k; ++j) tt.middleCols(j * rb, rb) = t.middleCols(j * ac, ac).transpose();
    Matrix<S> u(ar, rb * k);
    if constexpr (TransposeA) {
      ::curvop::apply_transpose(a, tt, u);
    } else {
      a.apply(tt, u);
    }
    for (Index j = 0; j < k; ++j) {
      Eigen::Map<Matrix<S>>(y.col(j).data(), rb, ar) = u.middleCols(j * rb, rb).transpose();
    }
  }
}
}  // namespace detail

/// The Kronecker product A ⊗ B, acting on column-major vec as
///   (A ⊗ B) vec(X) = vec(B X Aᵀ),   X is b.cols() x a.cols().
/// A layer weight W (out x in) whose gradient is g aᵀ has K-FAC curvature `kron(A, G)` with
/// A = E[a aᵀ] (in x in) and G = E[g gᵀ] (out x out), so F⁻¹ vec(V) = vec(G⁻¹ V A⁻¹).
///
/// `apply` on k right-hand sides applies B once to all k blocks side by side (one multi-RHS
/// apply: a GEMM for dense B) and then Aᵀ from the right (a GEMM per block for dense A, else one
/// multi-RHS apply of A on the transposed blocks). `apply_inverse` is (A⁻¹ ⊗ B⁻¹), and
/// `inverse(kron(a, b))` simplifies to `kron(inverse(a), inverse(b))`. Symmetric when both
/// factors are. `kron(Diagonal, Diagonal)` is a `Diagonal`; `kron(a, b) * kron(c, d)` is
/// `kron(a * c, b * d)`.
///
/// Cost: for dense n_a x n_a and n_b x n_b factors, 2·k·n_a·n_b·(n_a + n_b) flops and a
/// temporary of n_b·n_a·k entries (never the n_a·n_b square matrix).
template <LinearOperator A, LinearOperator B>
  requires std::same_as<scalar_t<A>, scalar_t<B>>
class Kronecker {
 public:
  using Scalar = scalar_t<A>;
  static constexpr bool is_symmetric = is_symmetric_v<A> && is_symmetric_v<B>;

  Kronecker(A a, B b) : m_a(std::move(a)), m_b(std::move(b)) {}

  Index rows() const { return m_a.rows() * m_b.rows(); }
  Index cols() const { return m_a.cols() * m_b.cols(); }
  /// The left factor A (acting on the columns of X from the right).
  const A& left() const { return m_a; }
  /// The right factor B (acting on X from the left).
  const B& right() const { return m_b; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    const Index k = x.cols();
    Matrix<Scalar> t(m_b.rows(), m_a.cols() * k);
    apply_left<false>(x, t);
    detail::kron_right<false>(m_a, t, m_b.rows(), k, y);
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires detail::TransposeDerivable<A> && detail::TransposeDerivable<B>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    const Index k = x.cols();
    Matrix<Scalar> t(m_b.cols(), m_a.rows() * k);
    apply_left<true>(x, t);
    detail::kron_right<true>(m_a, t, m_b.cols(), k, y);
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires InvertibleOperator<A> && InvertibleOperator<B>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    // (A ⊗ B)⁻¹ vec(X) = vec(B⁻¹ X A⁻ᵀ) and (T A⁻ᵀ)ᵀ = A⁻¹ Tᵀ with T = B⁻¹ X.
    const Index k = x.cols();
    const Index na = m_a.rows(), nb = m_b.rows();
    Matrix<Scalar> t(nb, na * k);
    for_blocks(x, nb, na, t,
               [&](const ConstRef<Scalar>& in, MutRef<Scalar> out) { m_b.apply_inverse(in, out); });
    Matrix<Scalar> tt(na, nb * k);
    for (Index j = 0; j < k; ++j) tt.middleCols(j * nb, nb) = t.middleCols(j * na, na).transpose();
    Matrix<Scalar> u(na, nb * k);
    m_a.apply_inverse(tt, u);
    for (Index j = 0; j < k; ++j) {
      Eigen::Map<Matrix<Scalar>>(y.col(j).data(), nb, na) = u.middleCols(j * nb, nb).transpose();
    }
  }
  Vector<Scalar> diagonal() const
    requires DiagonalExtractable<A> && DiagonalExtractable<B>
  {
    // diag(A ⊗ B)[i·n_b + j] = A_ii B_jj (square factors).
    const Vector<Scalar> da = m_a.diagonal(), db = m_b.diagonal();
    Vector<Scalar> d(da.size() * db.size());
    for (Index i = 0; i < da.size(); ++i) d.segment(i * db.size(), db.size()) = da(i) * db;
    return d;
  }

 private:
  // Calls f(X_j, T_j) for the blocks X_j = reshape(x_j, xr, xc), writing T_j side by side in t:
  // one call on the xr x (xc·k) matrix when the columns of x are contiguous.
  template <class F>
  static void for_blocks(const ConstRef<Scalar>& x, Index xr, Index xc, Matrix<Scalar>& t, F&& f) {
    const Index k = x.cols();
    if (x.outerStride() == x.rows()) {
      f(Eigen::Map<const Matrix<Scalar>>(x.data(), xr, xc * k), t);
    } else {
      for (Index j = 0; j < k; ++j) {
        f(Eigen::Map<const Matrix<Scalar>>(x.col(j).data(), xr, xc), t.middleCols(j * xc, xc));
      }
    }
  }

  // t = B X_j (or Bᵀ X_j) for every block X_j of x, side by side.
  template <bool Transpose>
  void apply_left(const ConstRef<Scalar>& x, Matrix<Scalar>& t) const {
    const Index xr = Transpose ? m_b.rows() : m_b.cols();
    const Index xc = Transpose ? m_a.rows() : m_a.cols();
    for_blocks(x, xr, xc, t, [&](const ConstRef<Scalar>& in, MutRef<Scalar> out) {
      if constexpr (Transpose) {
        ::curvop::apply_transpose(m_b, in, out);
      } else {
        m_b.apply(in, out);
      }
    });
  }

  A m_a;
  B m_b;
};

/// A ⊗ B with (A ⊗ B) vec(X) = vec(B X Aᵀ).
template <LinearOperator A, LinearOperator B>
  requires std::same_as<scalar_t<A>, scalar_t<B>>
[[nodiscard]] Kronecker<A, B> kron(const A& a, const B& b) {
  return Kronecker<A, B>(a, b);
}
/// diag(a) ⊗ diag(b) = diag(a ⊗ b).
template <class S>
[[nodiscard]] Diagonal<S> kron(const Diagonal<S>& a, const Diagonal<S>& b) {
  const Vector<S>& da = a.diagonal();
  const Vector<S>& db = b.diagonal();
  Vector<S> d(da.size() * db.size());
  for (Index i = 0; i < da.size(); ++i) d.segment(i * db.size(), db.size()) = da(i) * db;
  return Diagonal<S>(std::move(d));
}
/// (sI) ⊗ (tI) = (st)I.
template <class S>
[[nodiscard]] ScaledIdentity<S> kron(const ScaledIdentity<S>& a, const ScaledIdentity<S>& b) {
  return ScaledIdentity<S>(a.rows() * b.rows(), a.scale() * b.scale());
}
/// (A ⊗ B)⁻¹ = A⁻¹ ⊗ B⁻¹.
template <InvertibleOperator A, InvertibleOperator B>
[[nodiscard]] auto inverse(const Kronecker<A, B>& k) {
  return kron(inverse(k.left()), inverse(k.right()));
}
/// (A ⊗ B)(C ⊗ D) = (AC) ⊗ (BD).
template <LinearOperator A, LinearOperator B, LinearOperator C, LinearOperator D>
[[nodiscard]] auto product(const Kronecker<A, B>& ab, const Kronecker<C, D>& cd) {
  return kron(product(ab.left(), cd.left()), product(ab.right(), cd.right()));
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_KRONECKER_HPP
