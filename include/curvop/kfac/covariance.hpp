// SPDX-License-Identifier: MIT
// The Kronecker factors' statistic: a bias-corrected running average of second moments XᵀX.
#ifndef CURVOP_KFAC_COVARIANCE_HPP
#define CURVOP_KFAC_COVARIANCE_HPP

#include <Eigen/Core>
#include <cmath>
#include <curvop/config.hpp>
#include <utility>

namespace curvop::kfac {

/// A bias-corrected exponential moving average of symmetric second-moment matrices.
///
/// With decay ρ ∈ [0, 1) and weight w (0 before the first update), an update with the batch
/// statistic C does
/// \f[ w \leftarrow \rho w + 1, \qquad F \leftarrow (1 - 1/w)\,F + (1/w)\,C, \f]
/// which equals \f$ \sum_t \rho^{T-t} C_t / \sum_t \rho^{T-t} \f$: the first update returns C
/// exactly (no bias towards the zero initial value), as kfac-jax's `WeightedMovingAverage`.
/// Updates are two-phase (`prepare`, then `commit`) so that a caller updating several
/// statistics can check all of them before changing any (strong exception guarantee).
///
/// Cost: `prepare` n·d² flops (a symmetric rank-n update) and two O(d²) passes; `commit` O(1);
/// memory 2·d² scalars (the average and the scratch).
/// \tparam S float or double
template <class S>
class RunningCovariance {
 public:
  using Scalar = S;

  explicit RunningCovariance(Index dim = 0) : m_value(Matrix<S>::Zero(dim, dim)) {}

  /// Side length d of the statistic.
  Index dim() const { return m_value.rows(); }
  /// The current average F (zero before the first update).
  const Matrix<S>& value() const { return m_value; }
  /// The bias-correction weight w = Σ ρ^k over the updates so far.
  double weight() const { return m_weight; }
  /// Number of committed updates.
  long long updates() const { return m_updates; }

  /// Prepares the average after an update with the batch statistic
  /// \f$ C = s\,\tilde X^T \tilde X \f$ of the rows of x (n × m), \f$ \tilde X = [X,\ \mathbf 1] \f$
  /// when `bias` (d = m + 1) and X otherwise (d = m), and decay rho, in a scratch buffer:
  /// the observable state does not change until `commit(rho)`. Returns whether every entry of
  /// the prepared average is finite (false: an overflow; do not commit).
  ///
  /// The lower triangle is formed in place, (1 − 1/w)·F + (s/w)·XᵀX by one symmetric rank-n
  /// update (half the flops of a GEMM, and faster in wall time: bench/kfac_bench.cpp), then
  /// mirrored, so the result is exactly symmetric; the scratch is reused, so a steady stream of
  /// updates allocates nothing.
  bool prepare(const ConstRef<S>& x, bool bias, S scale, double rho) {
    const Index m = x.cols();
    const Index d = dim();
    const double w = rho * m_weight + 1.0;
    const S keep = static_cast<S>(1.0 - 1.0 / w);
    const S take = static_cast<S>(1.0 / w) * scale;
    m_next.resize(d, d);
    m_next.template triangularView<Eigen::Lower>() = keep * m_value;
    {
      MutRef<S> block = m_next.topLeftCorner(m, m);
      block.template selfadjointView<Eigen::Lower>().rankUpdate(x.transpose(), take);
    }
    if (bias) {
      m_next.row(m).head(m) += take * x.colwise().sum();
      m_next(m, m) += take * static_cast<S>(x.rows());
    }
    bool finite = true;
    for (Index j = 0; j < d; ++j) {
      finite = finite && std::isfinite(m_next(j, j));
      for (Index i = j + 1; i < d; ++i) {
        const S v = m_next(i, j);
        finite = finite && std::isfinite(v);
        m_next(j, i) = v;
      }
    }
    return finite;
  }

  /// Makes the prepared average (from `prepare(·, ·, ·, rho)`) current and advances the weight.
  void commit(double rho) {
    m_value.swap(m_next);
    m_weight = rho * m_weight + 1.0;
    ++m_updates;
  }

  /// Replaces the average by f with weight 1 (as after one update); f must be d × d.
  void assign(Matrix<S> f) {
    m_value = std::move(f);
    m_weight = 1.0;
    ++m_updates;
  }

 private:
  Matrix<S> m_value;
  Matrix<S> m_next;  // scratch of prepare(); not observable state
  double m_weight = 0.0;
  long long m_updates = 0;
};

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_COVARIANCE_HPP
