// SPDX-License-Identifier: MIT
// The Kronecker factors' statistic: a bias-corrected running average of second moments XᵀX.
#ifndef CURVOP_KFAC_COVARIANCE_HPP
#define CURVOP_KFAC_COVARIANCE_HPP

#include <Eigen/Core>
#include <curvop/config.hpp>

namespace curvop::kfac {

/// A bias-corrected exponential moving average of symmetric second-moment matrices.
///
/// With decay ρ ∈ [0, 1) and weight w (0 before the first update), an update with the batch
/// statistic C does
/// \f[ w \leftarrow \rho w + 1, \qquad F \leftarrow (1 - 1/w)\,F + (1/w)\,C, \f]
/// which equals \f$ \sum_t \rho^{T-t} C_t / \sum_t \rho^{T-t} \f$: the first update returns C
/// exactly (no bias towards the zero initial value), as kfac-jax's `WeightedMovingAverage`.
/// Updates are two-phase (`candidate`, then `commit`) so that a caller updating several
/// statistics can check all of them before changing any (strong exception guarantee).
///
/// Cost: `batch_statistic` 2·n·d² flops (one GEMM, then one O(d²) mirror); `candidate` O(d²).
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

  /// The batch statistic \f$ C = s\,\tilde X^T \tilde X \f$ of the rows of x (n × m), where
  /// \f$ \tilde X = [X,\ \mathbf 1] \f$ when `bias` (d = m + 1) and X otherwise (d = m).
  /// Returns the full symmetric d × d matrix.
  static Matrix<S> batch_statistic(const ConstRef<S>& x, bool bias, S scale) {
    const Index m = x.cols();
    const Index d = m + (bias ? 1 : 0);
    // A full GEMM, not Eigen's symmetric rank update: the half-flop `rankUpdate` (SYRK) runs at
    // under half of the GEMM rate and is not threaded, so it is slower in wall time
    // (bench/kfac_bench.cpp, BM_KFac_UpdateSyrkBaseline). The upper triangle is then mirrored
    // from the lower one, so the result is exactly symmetric.
    Matrix<S> lower(d, d);
    lower.topLeftCorner(m, m).noalias() = scale * (x.transpose() * x);
    if (bias) {
      lower.row(m).head(m) = scale * x.colwise().sum();
      lower(m, m) = scale * static_cast<S>(x.rows());
    }
    return lower.template selfadjointView<Eigen::Lower>();
  }

  /// The average after an update with batch statistic c and decay rho, without changing this.
  Matrix<S> candidate(const Matrix<S>& c, double rho) const {
    const double w = rho * m_weight + 1.0;
    const S keep = static_cast<S>(1.0 - 1.0 / w);
    const S take = static_cast<S>(1.0 / w);
    return keep * m_value + take * c;
  }

  /// Makes `value` (from `candidate(·, rho)`) the current average and advances the weight.
  void commit(Matrix<S>&& value, double rho) {
    m_value = std::move(value);
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
  double m_weight = 0.0;
  long long m_updates = 0;
};

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_COVARIANCE_HPP
