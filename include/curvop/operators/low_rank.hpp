// SPDX-License-Identifier: MIT
// Low-rank operators: U Vᵀ, and D + U C Vᵀ with its exact inverse by the Woodbury identity.
#ifndef CURVOP_OPERATORS_LOW_RANK_HPP
#define CURVOP_OPERATORS_LOW_RANK_HPP

#include <Eigen/LU>
#include <curvop/detail/tall_skinny.hpp>
#include <curvop/functions.hpp>
#include <utility>

namespace curvop {

/// The rank-r operator U Vᵀ (U is rows x r, V is cols x r), or U Uᵀ with `Symmetric = true`
/// (V not stored; `is_symmetric` holds).
///
/// Cost: `apply` 2·r·(rows + cols)·k flops (Vᵀx, then U·), an r x k temporary.
template <class S, bool Symmetric = false>
class LowRank {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = Symmetric;

  /// U Vᵀ.
  LowRank(Matrix<S> u, Matrix<S> v)
    requires(!Symmetric)
      : m_u(std::move(u)), m_v(std::move(v)) {
    detail::require_conformant(m_u.cols() == m_v.cols(),
                               "LowRank: U and V must have the same number of columns", m_u, m_v);
  }
  /// U Uᵀ.
  explicit LowRank(Matrix<S> u)
    requires Symmetric
      : m_u(std::move(u)) {}

  Index rows() const { return m_u.rows(); }
  Index cols() const { return v().rows(); }
  Index rank() const { return m_u.cols(); }
  const Matrix<S>& u() const { return m_u; }
  const Matrix<S>& v() const {
    if constexpr (Symmetric) {
      return m_u;
    } else {
      return m_v;
    }
  }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    const Matrix<S> t = v().transpose() * x;
    y.noalias() = m_u * t;
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    const Matrix<S> t = v().transpose() * x;
    y.noalias() += alpha * (m_u * t);
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    const Matrix<S> t = m_u.transpose() * x;
    y.noalias() = v() * t;
  }
  Vector<S> diagonal() const {
    // diag(U Vᵀ)_i = Σ_j U_ij V_ij for the leading min(rows, cols) rows.
    const Index n = std::min(rows(), cols());
    return m_u.topRows(n).cwiseProduct(v().topRows(n)).rowwise().sum();
  }

 private:
  Matrix<S> m_u;
  Matrix<S> m_v;  // empty when Symmetric
};

/// U Vᵀ.
template <class S>
[[nodiscard]] LowRank<S> low_rank(Matrix<S> u, Matrix<S> v) {
  return LowRank<S>(std::move(u), std::move(v));
}
/// U Uᵀ (symmetric positive semi-definite).
template <class S>
[[nodiscard]] LowRank<S, true> low_rank(Matrix<S> u) {
  return LowRank<S, true>(std::move(u));
}

/// D + U C Vᵀ: a diagonal plus a rank-r correction (D = diag(d) is n x n with no zero entry,
/// U and V are n x r, C is r x r). With `Symmetric = true`, V = U and C = Cᵀ (V is not stored).
///
/// `apply_inverse` is exact, by the Woodbury identity in the form that does not need C⁻¹:
///   (D + U C Vᵀ)⁻¹ = D⁻¹ − D⁻¹ U K⁻¹ C Vᵀ D⁻¹,   K = I_r + C Vᵀ D⁻¹ U,
/// with K (r x r) LU-factorised once at construction; if K is singular (D + UCVᵀ is), `info()` is
/// `NumericalIssue` and `apply_inverse` asserts.
/// Each apply is one pass over V (w = Vᵀ(x ⊘ d)), an r x r solve, and one pass over U
/// (y = (x − U t) ⊘ d) with the element-wise work fused into the passes, row-blocked and
/// threaded under CURVOP_USE_OPENMP. `shifted(op, σ)` is again a `LowRankPlusDiagonal`.
///
/// Cost: construction O(n·r² + r³); `apply` and `apply_inverse` 4·n·r·k flops, reading U and V
/// once each (U twice when symmetric) plus x, d and y; r x k temporaries.
/// \tparam S float or double
/// \tparam Symmetric V = U and C symmetric (then `is_symmetric` holds)
template <class S, bool Symmetric = false>
class LowRankPlusDiagonal {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = Symmetric;

  /// General form D + U C Vᵀ.
  LowRankPlusDiagonal(Vector<S> d, Matrix<S> u, Matrix<S> c, Matrix<S> v)
    requires(!Symmetric)
      : m_d(std::move(d)), m_u(std::move(u)), m_c(std::move(c)), m_v(std::move(v)) {
    detail::require_conformant(m_v.rows() == m_d.size() && m_v.cols() == m_u.cols(),
                               "LowRankPlusDiagonal: V must be n x r like U", m_v, m_u);
    check_and_factorize();
  }
  /// Symmetric form D + U C Uᵀ (C is symmetrised as (C + Cᵀ)/2).
  LowRankPlusDiagonal(Vector<S> d, Matrix<S> u, Matrix<S> c)
    requires Symmetric
      : m_d(std::move(d)), m_u(std::move(u)), m_c(std::move(c)) {
    check_and_factorize();
  }

  Index rows() const { return m_d.size(); }
  Index cols() const { return m_d.size(); }
  Index rank() const { return m_u.cols(); }
  const Vector<S>& diagonal_part() const { return m_d; }
  const Matrix<S>& u() const { return m_u; }
  const Matrix<S>& v() const {
    if constexpr (Symmetric) {
      return m_u;
    } else {
      return m_v;
    }
  }
  const Matrix<S>& c() const { return m_c; }
  /// `Success`, or `NumericalIssue` when K = I + C Vᵀ D⁻¹ U is singular.
  Info info() const { return m_info; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    // w = Vᵀ x; y = d ⊙ x + U (C w).
    Matrix<S> w(rank(), x.cols());
    detail::gemtv_rows<S>(v(), x.cols(),
                          [&](Index b, Index m, auto& buf) { buf = x.middleRows(b, m); }, w);
    const Matrix<S> t = m_c * w;
    detail::gemv_rows<S>(m_u, t, [&](Index b, Index m, const auto& ut) {
      y.middleRows(b, m).noalias() = m_d.segment(b, m).asDiagonal() * x.middleRows(b, m) + ut;
    });
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    Matrix<S> w(rank(), x.cols());
    detail::gemtv_rows<S>(m_u, x.cols(),
                          [&](Index b, Index m, auto& buf) { buf = x.middleRows(b, m); }, w);
    const Matrix<S> t = m_c.transpose() * w;
    detail::gemv_rows<S>(v(), t, [&](Index b, Index m, const auto& vt) {
      y.middleRows(b, m).noalias() = m_d.segment(b, m).asDiagonal() * x.middleRows(b, m) + vt;
    });
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT(m_info == Info::Success,
                  "LowRankPlusDiagonal::apply_inverse: the operator is singular (info())");
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    // w = Vᵀ D⁻¹ x; t = K⁻¹ C w; y = D⁻¹ (x − U t).
    Matrix<S> w(rank(), x.cols());
    detail::gemtv_rows<S>(
        v(), x.cols(),
        [&](Index b, Index m, auto& buf) {
          buf = m_dinv.segment(b, m).asDiagonal() * x.middleRows(b, m);
        },
        w);
    const Matrix<S> t = m_k.solve(m_c * w);
    detail::gemv_rows<S>(m_u, t, [&](Index b, Index m, const auto& ut) {
      y.middleRows(b, m).noalias() = m_dinv.segment(b, m).asDiagonal() * (x.middleRows(b, m) - ut);
    });
  }
  Vector<S> diagonal() const {
    // diag(U C Vᵀ)_i = Σ_j (U C)_ij V_ij.
    return m_d + (m_u * m_c).cwiseProduct(v()).rowwise().sum();
  }

 private:
  void check_and_factorize() {
    const Index n = m_d.size(), r = m_u.cols();
    detail::require_conformant(m_u.rows() == n, "LowRankPlusDiagonal: U must have d.size() rows",
                               m_u, m_d);
    detail::require_conformant(m_c.rows() == r && m_c.cols() == r,
                               "LowRankPlusDiagonal: C must be r x r with r = U.cols()", m_c, m_u);
    detail::require_finite(m_d, "LowRankPlusDiagonal: d");
    detail::require_finite(m_u, "LowRankPlusDiagonal: U");
    detail::require_finite(m_c, "LowRankPlusDiagonal: C");
    if constexpr (!Symmetric) detail::require_finite(m_v, "LowRankPlusDiagonal: V");
    detail::require_argument((m_d.array() != S(0)).all(), "LowRankPlusDiagonal",
                             "the diagonal d must have no zero entry; zeros", (m_d.array() == S(0)).count());
    if constexpr (Symmetric) m_c = (S(0.5) * (m_c + m_c.transpose())).eval();
    m_dinv = m_d.cwiseInverse();
    // K = I + C (Vᵀ D⁻¹ U), accumulated in the pass order of apply (blockwise).
    Matrix<S> vdu(r, r);
    detail::gemtv_rows<S>(
        v(), r, [&](Index b, Index m, auto& buf) {
          buf = m_dinv.segment(b, m).asDiagonal() * m_u.middleRows(b, m);
        },
        vdu);
    Matrix<S> k = Matrix<S>::Identity(r, r) + m_c * vdu;
    m_k.compute(k);
    m_info = (r == 0 || m_k.isInvertible()) ? Info::Success : Info::NumericalIssue;
  }

  Vector<S> m_d;
  Vector<S> m_dinv;
  Matrix<S> m_u;
  Matrix<S> m_c;
  Matrix<S> m_v;  // empty when Symmetric
  Eigen::FullPivLU<Matrix<S>> m_k;
  Info m_info = Info::Success;
};

/// D + U C Vᵀ (general form).
template <class S>
[[nodiscard]] LowRankPlusDiagonal<S> low_rank_plus_diagonal(Vector<S> d, Matrix<S> u,
                                                            Matrix<S> c, Matrix<S> v) {
  return LowRankPlusDiagonal<S>(std::move(d), std::move(u), std::move(c), std::move(v));
}
/// D + U C Uᵀ (symmetric form: `is_symmetric` holds, U stored once).
template <class S>
[[nodiscard]] LowRankPlusDiagonal<S, true> low_rank_plus_diagonal(Vector<S> d, Matrix<S> u,
                                                                  Matrix<S> c) {
  return LowRankPlusDiagonal<S, true>(std::move(d), std::move(u), std::move(c));
}
/// (D + U C Vᵀ) + σI = (D + σI) + U C Vᵀ, still with an exact inverse.
template <class S, bool Sym>
[[nodiscard]] LowRankPlusDiagonal<S, Sym> shifted(const LowRankPlusDiagonal<S, Sym>& a, S sigma) {
  if constexpr (Sym) {
    return LowRankPlusDiagonal<S, true>(a.diagonal_part().array() + sigma, a.u(), a.c());
  } else {
    return LowRankPlusDiagonal<S>(a.diagonal_part().array() + sigma, a.u(), a.c(), a.v());
  }
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_LOW_RANK_HPP
