// SPDX-License-Identifier: MIT
// Shampoo's preconditioner as a linear operator on vec(G): per block the Kronecker product of
// the inverse roots, R̂_b ⊗ L̂_b.
#ifndef CURVOP_SHAMPOO_PRECONDITIONER_HPP
#define CURVOP_SHAMPOO_PRECONDITIONER_HPP

#include <curvop/concepts.hpp>
#include <curvop/operators/kronecker.hpp>
#include <curvop/shampoo/blocking.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace curvop::shampoo {

/// One inverse root of a Shampoo factor (L̂_b or R̂_b, n × n, symmetric) as an operator that
/// shares the matrix with the `Shampoo` state it came from (copies are O(1)).
///
/// `apply` is y = M x (one GEMM); `matrix()` exposes M, so `kron(a, b)` of two `RootFactor`s
/// multiplies by GEMMs. Symmetric; x is n × k, y n × k, k ≥ 1, y overwritten; `apply` is const
/// and thread-safe. Cost: 2·n²·k flops, no extra memory.
/// \tparam S float or double
template <class S>
class RootFactor {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  /// Shares m (square, symmetric; not checked: it comes from a `Shampoo`).
  explicit RootFactor(std::shared_ptr<const Matrix<S>> m) : m_m(std::move(m)) {}

  Index rows() const { return m_m->rows(); }
  Index cols() const { return m_m->cols(); }
  /// M.
  const Matrix<S>& matrix() const { return *m_m; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = (*m_m) * x;
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * ((*m_m) * x);
  }
  Vector<S> diagonal() const { return m_m->diagonal(); }

 private:
  std::shared_ptr<const Matrix<S>> m_m;
};

/// The Shampoo preconditioner P of a rows × cols parameter as a linear operator on vec(G)
/// (length rows·cols, column-major vec), as returned by `Shampoo::preconditioner()`.
///
/// Without grafting, Shampoo's direction is linear in G: per block b (`Blocking`: row segment
/// I_b, column segment J_b) \f$ \Delta_b = \hat L_b G_b \hat R_b \f$ with the symmetric inverse
/// roots \f$ \hat L_b = (L_b + \epsilon I)^{-1/p} \f$, \f$ \hat R_b = (R_b + \epsilon I)^{-1/p}
/// \f$ (one-sided: \f$ \hat R_b = I \f$), and with DESIGN.md's convention
/// \f$ (A \otimes B)\operatorname{vec}(X) = \operatorname{vec}(B X A^T) \f$
/// \f[ \operatorname{vec}(\Delta_b) = (\hat R_b \otimes \hat L_b)\operatorname{vec}(G_b),
///     \qquad P = \Pi^T \operatorname{blockdiag}_b(\hat R_b \otimes \hat L_b)\, \Pi, \f]
/// Π the permutation that gathers each block's entries of vec(G) (the identity for one block).
/// `apply` on vec(G) equals `Shampoo::precondition(G)` with `Grafting::None` (grafting rescales
/// each block by a norm ratio, which is not linear). P is symmetric positive definite (each
/// root is), the preconditioner (the approximate inverse curvature) in Ginkgo's sense: its
/// `apply` *is* the preconditioning step; there is no `apply_inverse`. `block(k)` is block k's
/// factor as `kron(R̂_b, L̂_b)`, for composing with the `Kronecker` algebra.
///
/// A snapshot: it shares the roots of the `compute()` it was taken after (later `compute()`s
/// replace the state's roots, not these). x is rows·cols × k, y the same, k ≥ 1, y
/// overwritten; `apply` is const and thread-safe.
///
/// **Cost:** `apply` Σ_b 2·r_b·c_b·(r_b + c_b)·k flops (Σ_b 2·r_b²·c_b·k one-sided) and an
/// r_b × c_b temporary; `diagonal()` O(rows·cols); construction O(blocks).
/// \tparam S float or double
template <class S>
class Preconditioner {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  /// Block k of `blocking` gets left[k] (r_k × r_k) and right[k] (c_k × c_k; null: one-sided,
  /// the identity). Throws `DimensionMismatch` for roots that do not fit the blocking.
  Preconditioner(Index rows, Index cols, Blocking blocking,
                 std::vector<std::shared_ptr<const Matrix<S>>> left,
                 std::vector<std::shared_ptr<const Matrix<S>>> right)
      : m_rows(rows), m_cols(cols), m_blocking(std::move(blocking)), m_left(std::move(left)),
        m_right(std::move(right)) {
    const auto nb = static_cast<std::size_t>(m_blocking.size());
    curvop::detail::require_argument(m_left.size() == nb && m_right.size() == nb,
                                     "shampoo::Preconditioner", "need one root pair per block",
                                     static_cast<Index>(m_left.size()));
    for (Index k = 0; k < m_blocking.size(); ++k) {
      const Index r = m_blocking.row_segment(k).size, c = m_blocking.col_segment(k).size;
      const auto& l = m_left[static_cast<std::size_t>(k)];
      const auto& rr = m_right[static_cast<std::size_t>(k)];
      const std::string what = "shampoo::Preconditioner: roots of block " + std::to_string(k);
      curvop::detail::require_conformant(l != nullptr && l->rows() == r && l->cols() == r, what,
                                         l ? *l : Matrix<S>(), Matrix<S>(r, r));
      if (rr) {
        curvop::detail::require_conformant(rr->rows() == c && rr->cols() == c, what, *rr,
                                           Matrix<S>(c, c));
      }
    }
  }

  /// rows·cols: the length of vec(G).
  Index rows() const { return m_rows * m_cols; }
  Index cols() const { return m_rows * m_cols; }
  /// Shape of the parameter G.
  Index parameter_rows() const { return m_rows; }
  Index parameter_cols() const { return m_cols; }
  /// The block partition of G.
  const Blocking& blocking() const { return m_blocking; }
  /// Whether the right roots are the identity (one-sided variant).
  bool one_sided() const { return m_blocking.size() > 0 && m_right.front() == nullptr; }

  /// Block k as the Kronecker operator kron(R̂_b, L̂_b) on vec(G_b) (r_b·c_b long); one-sided,
  /// R̂_b = I is materialised (c_b² scalars).
  [[nodiscard]] Kronecker<RootFactor<S>, RootFactor<S>> block(Index k) const {
    curvop::detail::require_argument(k >= 0 && k < m_blocking.size(), "shampoo::Preconditioner",
                                     "block index must be in [0, blocks)", k);
    const auto i = static_cast<std::size_t>(k);
    auto right = m_right[i];
    if (!right) {
      const Index c = m_blocking.col_segment(k).size;
      right = std::make_shared<const Matrix<S>>(Matrix<S>::Identity(c, c));
    }
    return Kronecker<RootFactor<S>, RootFactor<S>>(RootFactor<S>(std::move(right)),
                                                   RootFactor<S>(m_left[i]));
  }

  /// y = P x: column j of y is vec(Δ) for G = reshape(x_j, rows, cols).
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    Matrix<S> t;
    for (Index j = 0; j < x.cols(); ++j) {
      Eigen::Map<const Matrix<S>> g(x.col(j).data(), m_rows, m_cols);
      Eigen::Map<Matrix<S>> out(y.col(j).data(), m_rows, m_cols);
      for (Index k = 0; k < m_blocking.size(); ++k) {
        const auto rs = m_blocking.row_segment(k), cs = m_blocking.col_segment(k);
        const auto i = static_cast<std::size_t>(k);
        auto ob = out.block(rs.start, cs.start, rs.size, cs.size);
        const auto gb = g.block(rs.start, cs.start, rs.size, cs.size);
        if (m_right[i]) {
          t.noalias() = (*m_left[i]) * gb;
          ob.noalias() = t * (*m_right[i]);
        } else {
          ob.noalias() = (*m_left[i]) * gb;
        }
      }
    }
  }
  /// y += alpha P x (through a temporary).
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    Matrix<S> t(y.rows(), y.cols());
    apply(x, t);
    y += alpha * t;
  }
  /// diag(P) in vec order: entry (i, j) of block b is (L̂_b)_ii (R̂_b)_jj.
  Vector<S> diagonal() const {
    Matrix<S> d(m_rows, m_cols);
    for (Index k = 0; k < m_blocking.size(); ++k) {
      const auto rs = m_blocking.row_segment(k), cs = m_blocking.col_segment(k);
      const auto i = static_cast<std::size_t>(k);
      const Vector<S> dl = m_left[i]->diagonal();
      const Vector<S> dr = m_right[i] ? Vector<S>(m_right[i]->diagonal())
                                      : Vector<S>(Vector<S>::Ones(cs.size));
      d.block(rs.start, cs.start, rs.size, cs.size).noalias() = dl * dr.transpose();
    }
    return d.reshaped();
  }

 private:
  Index m_rows, m_cols;
  Blocking m_blocking;
  std::vector<std::shared_ptr<const Matrix<S>>> m_left, m_right;
};

}  // namespace curvop::shampoo

#endif  // CURVOP_SHAMPOO_PRECONDITIONER_HPP
