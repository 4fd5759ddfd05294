// SPDX-License-Identifier: MIT
// Options of curvop::kfac::KFac: damping rule, damping strength, running-average decay, bias.
#ifndef CURVOP_KFAC_OPTIONS_HPP
#define CURVOP_KFAC_OPTIONS_HPP

#include <curvop/config.hpp>

namespace curvop::kfac {

/// How `KFac::compute()` damps the curvature A ⊗ G with strength λ (`Options::damping`).
///
/// - `Tikhonov`: each factor gets √λ, \f$ \hat A = A + \sqrt\lambda I,\ \hat G = G + \sqrt\lambda I \f$,
///   so that \f$ \hat A \otimes \hat G = A\otimes G + \sqrt\lambda (A \otimes I + I \otimes G) + \lambda I \f$.
/// - `PiAdjusted` (Martens & Grosse 2015, §6.3): \f$ \pi = \sqrt{(\operatorname{tr}A/d_A) /
///   (\operatorname{tr}G/d_G)} \f$, \f$ \hat A = A + \max(\pi\sqrt\lambda, \lambda_{min}) I \f$,
///   \f$ \hat G = G + \max(\sqrt\lambda/\pi, \lambda_{min}) I \f$; π = 1 when a trace is zero.
///   It balances the damping between two factors of very different scales.
/// - `Exact`: no approximation of the damping, \f$ (A \otimes G + \lambda I)^{-1} \f$ through the
///   eigendecompositions \f$ A = Q_A \operatorname{diag}(d_A) Q_A^T \f$, \f$ G = Q_G
///   \operatorname{diag}(d_G) Q_G^T \f$ (eigenvalues clamped at 0), computed at every `compute()`.
///
/// The EKFAC eigenvalue correction (`KFac::update_eigenvalues`) works with every rule: the
/// corrected operator is damped by adding λ to its eigenvalues, and the factored rules compute
/// the eigenbasis only when EKFAC asks for it (see `KFac`).
enum class Damping { Tikhonov, PiAdjusted, Exact };

/// Name of a damping rule.
inline const char* to_string(Damping d) noexcept {
  switch (d) {
    case Damping::Tikhonov: return "Tikhonov";
    case Damping::PiAdjusted: return "PiAdjusted";
    case Damping::Exact: return "Exact";
  }
  return "Unknown";
}

/// Options of `KFac`; an aggregate, built with designated initialisers:
/// `curvop::kfac::Options{.damping = 1e-3, .mode = Damping::Exact}`.
struct Options {
  /// λ > 0, the damping strength (its formula per rule is in `Damping`).
  double damping = 1e-3;
  /// The damping rule applied by `compute()`.
  Damping mode = Damping::PiAdjusted;
  /// ρ ∈ [0, 1): decay of the bias-corrected running average of the factors (kfac-jax's
  /// `curvature_ema`). With weight w: w ← ρ w + 1, F ← (1 − 1/w) F + (1/w) F_batch, so the first
  /// update gives the batch statistic exactly and ρ = 0 keeps only the last batch.
  double ema = 0.95;
  /// Append a constant 1 to every activation (the bias column of W: W is out × (in + 1)).
  bool bias = false;
  /// Floor of each factor's damping in the `PiAdjusted` rule (ASDL uses 1e-7, curvlinops 1e-8).
  double min_damping = 1e-8;

  /// Throws `std::invalid_argument` naming the option, the rule and the value.
  void validate() const {
    curvop::detail::require_argument(damping > 0.0 && damping < 1e300, "kfac::Options",
                             "damping must be > 0 and finite", damping);
    curvop::detail::require_argument(ema >= 0.0 && ema < 1.0, "kfac::Options", "ema must be in [0, 1)",
                             ema);
    curvop::detail::require_argument(min_damping >= 0.0 && min_damping < 1e300, "kfac::Options",
                             "min_damping must be >= 0 and finite", min_damping);
    curvop::detail::require_argument(mode == Damping::Tikhonov || mode == Damping::PiAdjusted ||
                                 mode == Damping::Exact,
                             "kfac::Options", "mode must be a Damping enumerator",
                             static_cast<int>(mode));
  }
};

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_OPTIONS_HPP
