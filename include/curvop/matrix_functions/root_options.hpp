// SPDX-License-Identifier: MIT
// Options and result of the matrix-root functions (inverse_root, matrix_sqrt, inverse_sqrt).
#ifndef CURVOP_MATRIX_FUNCTIONS_ROOT_OPTIONS_HPP
#define CURVOP_MATRIX_FUNCTIONS_ROOT_OPTIONS_HPP

#include <cmath>
#include <curvop/config.hpp>
#include <limits>

namespace curvop {

/// How a matrix root is computed.
enum class RootMethod {
  /// \f$ Q\,\mathrm{diag}(f(\lambda))\,Q^\top \f$ from `symmetric_eigen` (LAPACK ?syevd when
  /// enabled): exact up to the eigensolver's backward error, any condition number.
  Eigendecomposition,
  /// Coupled Newton iteration (Guo & Higham 2006): GEMMs only, so it runs at the GEMM rate and
  /// threads with Eigen; iterations grow like log(κ), so it wins for well-conditioned matrices.
  CoupledNewton
};

/// How `RootOptions::epsilon` is interpreted.
enum class EpsilonMode {
  Absolute,      ///< \f$ A_\epsilon = A + \epsilon I \f$
  RelativeToMax  ///< \f$ A_\epsilon = A + \epsilon\,\lambda_{\max}(A)\,I \f$ (scale invariant)
};

/// Which rung of the fallback ladder (DESIGN.md §5) produced a root.
enum class Fallback {
  None,      ///< the requested computation succeeded
  Jitter,    ///< succeeded after adding `jitter`·λ_max to the diagonal
  Double,    ///< succeeded after retrying a float problem in double (with the jitter)
  Isotropic  ///< every rung failed: the root of the isotropic (tr A / n) I is returned
};

/// Human-readable name of a `Fallback` value.
inline const char* to_string(Fallback f) noexcept {
  switch (f) {
    case Fallback::None: return "None";
    case Fallback::Jitter: return "Jitter";
    case Fallback::Double: return "Double";
    case Fallback::Isotropic: return "Isotropic";
  }
  return "Unknown";
}

/// Options of `inverse_root`, `inverse_sqrt`, `matrix_sqrt` and their batched forms. Build with
/// designated initializers: `curvop::RootOptions{.epsilon = 1e-6, .epsilon_mode =
/// curvop::EpsilonMode::RelativeToMax}`.
struct RootOptions {
  /// Eigendecomposition (default, robust) or the GEMM-only coupled Newton iteration.
  RootMethod method = RootMethod::Eigendecomposition;
  /// Regularisation ε ≥ 0 added to the diagonal: the function is applied to \f$ A_\epsilon \f$.
  /// Negative eigenvalues from round-off are clamped to zero before ε is added.
  double epsilon = 0.0;
  /// Whether ε is absolute or relative to λ_max(A).
  EpsilonMode epsilon_mode = EpsilonMode::Absolute;
  /// Coupled Newton: stop when \f$ \max_{ij} |M - I| \f$ ≤ tolerance; 0 means n·eps(S). The
  /// iteration also stops when the error grows (keeping the best iterate) or stalls at round-off.
  double tolerance = 0.0;
  /// Coupled Newton: iteration limit (≥ 1).
  int max_iterations = 100;
  /// A root is accepted when its residual (see `RootResult::residual`) is at most this; otherwise
  /// the fallback ladder runs. Must be > 0.
  double max_residual = 0.1;
  /// Relative jitter of the ladder's first rung: the retry uses ε + jitter·max(λ_max, tiny).
  /// 0 means sqrt(eps(S)) (3.5e-4 in float, 1.5e-8 in double).
  double jitter = 0.0;
  /// Run the jitter and double-precision rungs before giving up (the isotropic last resort always
  /// applies, so the output is never NaN).
  bool fallback = true;
  /// Probes of the residual estimate (≥ 1, deterministic Gaussian), or 0 for the exact residual
  /// (p + 1 extra GEMMs).
  int residual_probes = 4;

  /// Throws `std::invalid_argument` naming the offending option.
  void validate() const {
    detail::require_argument(std::isfinite(epsilon) && epsilon >= 0.0, "RootOptions",
                             "epsilon must be finite and >= 0", epsilon);
    detail::require_argument(std::isfinite(tolerance) && tolerance >= 0.0, "RootOptions",
                             "tolerance must be finite and >= 0", tolerance);
    detail::require_argument(max_iterations >= 1, "RootOptions", "max_iterations must be >= 1",
                             max_iterations);
    detail::require_argument(max_residual > 0.0 && !std::isnan(max_residual), "RootOptions",
                             "max_residual must be > 0", max_residual);
    detail::require_argument(std::isfinite(jitter) && jitter >= 0.0, "RootOptions",
                             "jitter must be finite and >= 0", jitter);
    detail::require_argument(residual_probes >= 0, "RootOptions",
                             "residual_probes must be >= 0", residual_probes);
  }
};

/// A matrix function value with its certificate.
template <class S>
struct RootResult {
  /// The requested matrix (\f$ A_\epsilon^{-1/p} \f$ or \f$ A_\epsilon^{1/2} \f$), symmetric and
  /// always finite.
  Matrix<S> root;
  /// Relative residual of the returned matrix: \f$ \|X^p A_\epsilon - I\|_F/\sqrt{n} \f$ for an
  /// inverse p-th root, \f$ \|X^2 - A_\epsilon\|_F / \|A_\epsilon\|_F \f$ for a square root;
  /// estimated with `residual_probes` Gaussian probes (unbiased in the square) or exact.
  /// +inf when the input was not finite.
  double residual = std::numeric_limits<double>::infinity();
  /// Success; NumericalIssue when a fallback rung produced the root; InvalidInput for non-finite
  /// input (the root is then the identity).
  Info info = Info::Success;
  /// The rung of the fallback ladder that produced `root`.
  Fallback fallback = Fallback::None;
  /// Coupled Newton iterations of the accepted attempt (0 for the eigendecomposition).
  int iterations = 0;
  /// The absolute shift actually added to the diagonal (ε, plus the jitter if a rung added it).
  double epsilon = 0.0;
};

}  // namespace curvop

#endif  // CURVOP_MATRIX_FUNCTIONS_ROOT_OPTIONS_HPP
