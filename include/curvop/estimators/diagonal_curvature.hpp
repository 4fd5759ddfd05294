// SPDX-License-Identifier: MIT
// Diagonal-curvature optimizer helpers on `Diagonal` operators: AdaHessian's spatial averaging and
// (root-mean-square) moving average, and Sophia's clipped update.
#ifndef CURVOP_ESTIMATORS_DIAGONAL_CURVATURE_HPP
#define CURVOP_ESTIMATORS_DIAGONAL_CURVATURE_HPP

#include <cmath>
#include <curvop/operators/diagonal.hpp>

namespace curvop {

/// AdaHessian's spatial averaging: the entries are split into consecutive groups of `group`
/// (the k_h·k_w positions of one convolution kernel, contiguous in a row-major (out, in, k_h,
/// k_w) tensor) and each entry is replaced by the mean of |d| over its group. group = 1 gives |d|.
///
/// \throws std::invalid_argument unless group ≥ 1 divides d.size(); InvalidInput for NaN/Inf
/// **Cost:** O(n).
/// **Reference:** Yao et al., "AdaHessian: an adaptive second order optimizer for machine
/// learning", AAAI 2021, §3.3 (spatial averaging).
template <class S>
[[nodiscard]] Diagonal<S> spatial_average(const Diagonal<S>& d, Index group) {
  const Vector<S>& v = d.diagonal();
  detail::require_argument(group >= 1 && v.size() % group == 0, "spatial_average",
                           "group must be >= 1 and divide the size " + std::to_string(v.size()) +
                               "; group",
                           group);
  detail::require_finite(v, "spatial_average");
  Vector<S> out(v.size());
  for (Index i = 0; i < v.size(); i += group) {
    out.segment(i, group).setConstant(v.segment(i, group).cwiseAbs().mean());
  }
  return Diagonal<S>(std::move(out));
}

/// How `curvature_ema` accumulates.
enum class EmaKind {
  Linear,  ///< m ← β m + (1 − β) D (Sophia's h)
  Squared  ///< v ← β v + (1 − β) D ⊙ D (AdaHessian's second moment; take `rms_preconditioner`)
};

/// One step of an exponential moving average of a diagonal curvature estimate D:
/// β·avg + (1 − β)·D (or D ⊙ D for `EmaKind::Squared`). Returns the new average; `avg` is not
/// modified, so a throw leaves the caller's state as it was.
///
/// \throws std::invalid_argument unless 0 ≤ β < 1; DimensionMismatch for different sizes;
///         InvalidInput when D has NaN or Inf
/// **Cost:** O(n).
/// **Reference:** AdaHessian (Yao et al. 2021), Algorithm 1; Sophia (Liu et al., "Sophia: a
/// scalable stochastic second-order optimizer for language model pre-training", ICLR 2024).
template <class S>
[[nodiscard]] Diagonal<S> curvature_ema(const Diagonal<S>& avg, const Diagonal<S>& estimate,
                                        double beta, EmaKind kind = EmaKind::Linear) {
  detail::require_argument(std::isfinite(beta) && beta >= 0 && beta < 1, "curvature_ema",
                           "beta must be in [0, 1)", beta);
  detail::require_conformant(avg.rows() == estimate.rows(), "curvature_ema", avg, estimate);
  detail::require_finite(estimate.diagonal(), "curvature_ema: estimate");
  const S b = static_cast<S>(beta);
  const Vector<S>& d = estimate.diagonal();
  if (kind == EmaKind::Squared) {
    return Diagonal<S>(b * avg.diagonal() + (S(1) - b) * d.cwiseAbs2());
  }
  return Diagonal<S>(b * avg.diagonal() + (S(1) - b) * d);
}

/// AdaHessian's denominator from the squared average v after `step` updates (step ≥ 1):
/// \f$ \mathrm{diag}\big( (\sqrt{v / (1-\beta^t)})^k + \epsilon \big) \f$. Its `apply_inverse`
/// turns a (bias-corrected) momentum into the AdaHessian direction.
///
/// \throws std::invalid_argument for step < 1, β ∉ [0, 1), power ∉ (0, 1], ε < 0
/// **Cost:** O(n).
template <class S>
[[nodiscard]] Diagonal<S> rms_preconditioner(const Diagonal<S>& v, Index step, double beta,
                                             double power = 1.0, double eps = 1e-4) {
  detail::require_argument(step >= 1, "rms_preconditioner", "step must be >= 1", step);
  detail::require_argument(std::isfinite(beta) && beta >= 0 && beta < 1, "rms_preconditioner",
                           "beta must be in [0, 1)", beta);
  detail::require_argument(power > 0 && power <= 1, "rms_preconditioner",
                           "power (hessian_power) must be in (0, 1]", power);
  detail::require_argument(std::isfinite(eps) && eps >= 0, "rms_preconditioner",
                           "eps must be finite and >= 0", eps);
  const double corr = 1.0 - std::pow(beta, static_cast<double>(step));
  Vector<S> out(v.rows());
  for (Index i = 0; i < v.rows(); ++i) {
    out(i) = static_cast<S>(
        std::pow(std::sqrt(std::max(double(v.diagonal()(i)), 0.0) / corr), power) + eps);
  }
  return Diagonal<S>(std::move(out));
}

/// Sophia's clipped update direction \f$ \mathrm{clip}(m / \max(\gamma h, \epsilon), 1) \f$,
/// entrywise clipped to [−1, 1] (the parameter step is −lr times this). Where the curvature h is
/// small or negative the step is sign(m), bounded by 1: the worst case is signSGD.
///
/// \throws std::invalid_argument unless γ > 0 and ε > 0; DimensionMismatch for different sizes;
///         InvalidInput for NaN/Inf in m or h
/// **Cost:** O(n).
/// **Reference:** Liu et al., "Sophia", ICLR 2024, Algorithm 3 (γ = ρ·batch tokens in the code).
template <class S, class Derived>
[[nodiscard]] Vector<S> sophia_direction(const Eigen::MatrixBase<Derived>& m,
                                         const Diagonal<S>& h, double gamma, double eps = 1e-15) {
  detail::require_argument(std::isfinite(gamma) && gamma > 0, "sophia_direction",
                           "gamma must be finite and > 0", gamma);
  detail::require_argument(std::isfinite(eps) && eps > 0, "sophia_direction",
                           "eps must be finite and > 0", eps);
  detail::require_conformant(m.rows() == h.rows() && m.cols() == 1, "sophia_direction", m, h);
  detail::require_finite(m, "sophia_direction: m");
  detail::require_finite(h.diagonal(), "sophia_direction: h");
  Vector<S> out(h.rows());
  for (Index i = 0; i < h.rows(); ++i) {
    const double den = std::max(gamma * double(h.diagonal()(i)), eps);
    out(i) = static_cast<S>(std::clamp(double(m(i)) / den, -1.0, 1.0));
  }
  return out;
}

}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_DIAGONAL_CURVATURE_HPP
