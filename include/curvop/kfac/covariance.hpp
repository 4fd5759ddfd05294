// SPDX-License-Identifier: MIT
// The Kronecker factors' statistic: a bias-corrected running average of second moments XᵀX,
// updated in place by one symmetric rank update on the lower triangle.
#ifndef CURVOP_KFAC_COVARIANCE_HPP
#define CURVOP_KFAC_COVARIANCE_HPP

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <curvop/config.hpp>
#include <limits>
#include <utility>

namespace curvop::kfac {

/// A bias-corrected exponential moving average of symmetric second-moment matrices.
///
/// With decay ρ ∈ [0, 1) and weight w (0 before the first update), an update with the batch
/// statistic C does
/// \f[ w \leftarrow \rho w + 1, \qquad F \leftarrow (1 - 1/w)\,F + (1/w)\,C, \f]
/// which equals \f$ \sum_t \rho^{T-t} C_t / \sum_t \rho^{T-t} \f$: the first update returns C
/// exactly (no bias towards the zero initial value), as kfac-jax's `WeightedMovingAverage`.
///
/// **Storage.** Only the lower triangle of the stored matrix (`lower()`) is maintained; `value()`
/// assembles the symmetric F from it (so F is exactly symmetric). An update is a SYRK with the
/// EMA's coefficients, \f$ F_{lower} \leftarrow \beta F_{lower} + \alpha\,(X^T X)_{lower} \f$,
/// β = 1 − 1/w, α = s/w: one in-place scaling of the lower triangle and one symmetric rank-n
/// update (`selfadjointView().rankUpdate`, half the flops of a GEMM), written straight into F.
/// With a bias column \f$ \tilde X = [X,\ \mathbf 1] \f$ the last row gets α times the column
/// sums of X and the corner α·n, so X is never copied.
///
/// **Strong guarantee without a scratch copy.** `plan` reads x once (column sums of squares in
/// double; a non-finite x shows up there) and bounds every entry of the result a priori: by
/// Cauchy–Schwarz \f$ |(\tilde X^T\tilde X)_{ij}| \le \max_k \|\tilde x_{:k}\|^2 =: b_x \f$, and
/// the running bound \f$ B \ge \max|F_{ij}| \f$ evolves as \f$ B \leftarrow \beta B + \alpha b_x
/// \f$. Partial sums inside the rank update are bounded by b_x as well. When both stay below
/// max(S)/8 (room for rounding), the in-place update cannot overflow and the caller may apply
/// it (`update_in_place`). Otherwise (inputs within a factor of about 8 of overflow) the caller
/// takes the checked route, `prepare` into a scratch buffer and `commit`, which reports an
/// overflow without changing anything.
///
/// Cost: `plan` one read of x (n·m); `update_in_place` n·d² flops (lower triangle, n·d(d+1)/2
/// multiply-adds) plus one read-write pass over the lower triangle; `value()` a d² copy. Memory
/// d² scalars (plus d² for the scratch of the checked route, allocated only if it is taken).
/// \tparam S float or double
template <class S>
class RunningCovariance {
 public:
  using Scalar = S;

  explicit RunningCovariance(Index dim = 0) : m_value(Matrix<S>::Zero(dim, dim)) {}

  /// Side length d of the statistic.
  Index dim() const { return m_value.rows(); }
  /// The current average F (zero before the first update), symmetric: assembled from the stored
  /// lower triangle (a d × d copy).
  Matrix<S> value() const {
    Matrix<S> f(dim(), dim());
    f.template triangularView<Eigen::Lower>() = m_value;
    f.template triangularView<Eigen::StrictlyUpper>() = m_value.transpose();
    return f;
  }
  /// The stored matrix: its lower triangle (diagonal included) is F's; the strictly upper
  /// triangle is unspecified. For consumers that read only the lower triangle (Cholesky,
  /// `symmetric_eigen`), without a copy.
  const Matrix<S>& lower() const { return m_value; }
  /// The bias-correction weight w = Σ ρ^k over the updates so far.
  double weight() const { return m_weight; }
  /// Number of committed updates.
  long long updates() const { return m_updates; }

  /// What `plan` learnt about a batch: the EMA coefficients and whether the in-place update is
  /// safe (finite input, no possible overflow).
  struct Plan {
    S keep = S(0);          ///< β = 1 − 1/w
    S take = S(0);          ///< α = s/w
    double bound = 0.0;     ///< the running bound B after the update
    bool finite = false;    ///< every entry of x is finite
    bool in_place = false;  ///< the a-priori bound allows the in-place update
    Vector<S> column_sums;  ///< Σ_rows x (only with a bias column)
  };

  /// Reads x (n × m; d = m + 1 when `bias`, else d = m) once and prepares the update with the
  /// batch statistic \f$ C = s\,\tilde X^T \tilde X \f$ and decay rho. Changes nothing.
  [[nodiscard]] Plan plan(const ConstRef<S>& x, bool bias, S scale, double rho) const {
    Plan p;
    const double w = rho * m_weight + 1.0;
    p.keep = static_cast<S>(1.0 - 1.0 / w);
    p.take = static_cast<S>(1.0 / w) * scale;
    const Index m = x.cols();
    double bx = bias ? static_cast<double>(x.rows()) : 0.0;
    bool finite = true;
    if (bias) p.column_sums.resize(m);
    for (Index j = 0; j < m; ++j) {
      // In double (no overflow of float squares), vectorised; the column stays in L1 between
      // the two reductions.
      const auto c = x.col(j).template cast<double>();
      const double sq = c.squaredNorm();
      const double sum = bias ? c.sum() : 0.0;
      finite = finite && std::isfinite(sq) && std::isfinite(sum);
      bx = std::max(bx, sq);
      if (bias) p.column_sums(j) = static_cast<S>(sum);
    }
    // A finite double sum of squares means finite entries; an infinite one may still come from
    // finite doubles above 1e154, so the entries decide.
    p.finite = finite || x.allFinite();
    p.bound = static_cast<double>(p.keep) * m_bound + static_cast<double>(p.take) * bx;
    const double limit = static_cast<double>(std::numeric_limits<S>::max()) / 8.0;
    p.in_place = finite && bx < limit && p.bound < limit;
    return p;
  }

  /// Applies a plan whose `in_place` is true: F_lower ← β F_lower + α (X̃ᵀX̃)_lower, in place.
  /// Cannot fail and does not allocate (the plan carries the column sums).
  void update_in_place(const ConstRef<S>& x, bool bias, const Plan& p, double rho) {
    scale_lower(m_value, p.keep);
    add_batch(m_value, x, bias, p);
    m_weight = rho * m_weight + 1.0;
    m_bound = p.bound;
    ++m_updates;
  }

  /// The checked route for a plan that is not `in_place`: forms the updated lower triangle in a
  /// scratch buffer; the observable state does not change until `commit(rho)`. Returns whether
  /// every entry is finite (false: an overflow; do not commit).
  bool prepare(const ConstRef<S>& x, bool bias, const Plan& p) {
    m_next.resize(dim(), dim());
    m_next.template triangularView<Eigen::Lower>() = p.keep * m_value;
    add_batch(m_next, x, bias, p);
    m_next_bound = p.bound;
    for (Index j = 0; j < dim(); ++j) {
      if (!m_next.col(j).tail(dim() - j).allFinite()) return false;
    }
    return true;
  }

  /// Makes the prepared average (from `prepare`) current and advances the weight.
  void commit(double rho) {
    m_value.swap(m_next);
    m_weight = rho * m_weight + 1.0;
    m_bound = m_next_bound;
    ++m_updates;
  }

  /// Replaces the average by f with weight 1 (as after one update); f must be d × d and
  /// symmetric (only its lower triangle is used).
  void assign(Matrix<S> f) {
    m_value = std::move(f);
    m_bound = 0.0;
    for (Index j = 0; j < dim(); ++j) {
      m_bound = std::max(
          m_bound, static_cast<double>(m_value.col(j).tail(dim() - j).cwiseAbs().maxCoeff()));
    }
    m_weight = 1.0;
    ++m_updates;
  }

 private:
  static void scale_lower(Matrix<S>& f, S keep) {
    if (keep == S(1)) return;
    for (Index j = 0; j < f.cols(); ++j) {
      if (keep == S(0)) {
        f.col(j).tail(f.rows() - j).setZero();
      } else {
        f.col(j).tail(f.rows() - j) *= keep;
      }
    }
  }

  static void add_batch(Matrix<S>& f, const ConstRef<S>& x, bool bias, const Plan& p) {
    const Index m = x.cols();
    {
      MutRef<S> block = f.topLeftCorner(m, m);
      block.template selfadjointView<Eigen::Lower>().rankUpdate(x.transpose(), p.take);
    }
    if (bias) {
      f.row(m).head(m) += p.take * p.column_sums.transpose();
      f(m, m) += p.take * static_cast<S>(x.rows());
    }
  }

  Matrix<S> m_value;   // lower triangle: F
  Matrix<S> m_next;    // scratch of the checked route; not observable state
  double m_weight = 0.0;
  double m_bound = 0.0;       // ≥ max |F_ij| over the lower triangle
  double m_next_bound = 0.0;  // the bound that goes with m_next
  long long m_updates = 0;
};

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_COVARIANCE_HPP
