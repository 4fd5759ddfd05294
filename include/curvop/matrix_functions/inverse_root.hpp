// SPDX-License-Identifier: MIT
// Inverse p-th roots and square roots of symmetric positive semi-definite matrices, by
// eigendecomposition or coupled Newton, with a residual, an Info and the fallback ladder.
#ifndef CURVOP_MATRIX_FUNCTIONS_INVERSE_ROOT_HPP
#define CURVOP_MATRIX_FUNCTIONS_INVERSE_ROOT_HPP

#include <algorithm>
#include <cmath>
#include <curvop/config.hpp>
#include <curvop/matrix_functions/coupled_newton.hpp>
#include <curvop/matrix_functions/eigh.hpp>
#include <curvop/matrix_functions/root_options.hpp>
#include <curvop/random.hpp>
#include <limits>
#include <type_traits>

namespace curvop {
namespace detail {

/// Which function of A_ε a root computation returns.
enum class RootKind { InverseRoot, Sqrt };

/// λ_max of a symmetric PSD matrix by power iteration (a lower bound, within 1e-6 relative on
/// well-separated spectra). Cost: at most 100 matrix-vector products.
template <class S>
double lambda_max_estimate(const Matrix<S>& a) {
  const Index n = a.rows();
  Vector<S> v = random::gaussian<S>(n, 1, 0x1729).col(0);
  v.normalize();
  Vector<S> w(n);
  double lam = 0.0;
  for (int it = 0; it < 100; ++it) {
    w.noalias() = a * v;
    const double next = static_cast<double>(v.dot(w));
    const double nw = static_cast<double>(w.norm());
    if (!(nw > 0.0) || !std::isfinite(nw)) return std::max(next, 0.0);
    v = w / static_cast<S>(nw);
    if (std::abs(next - lam) <= 1e-6 * std::abs(next)) return std::max(next, 0.0);
    lam = next;
  }
  return std::max(lam, 0.0);
}

/// Residual of X for A_ε = A + shift·I (see `RootResult::residual`), computed in double on
/// `probes` Gaussian probes (0: the identity, exact).
template <class S>
double root_residual(const Matrix<S>& a, double shift, const Matrix<S>& x, int p, RootKind kind,
                     int probes) {
  const Index n = a.rows();
  if (n == 0) return 0.0;
  const Matrix<double> ad = a.template cast<double>();
  const Matrix<double> xd = x.template cast<double>();
  const Matrix<double> z = probes == 0 ? Matrix<double>::Identity(n, n).eval()
                                       : random::gaussian<double>(n, probes, 0x5eed);
  Matrix<double> az = ad * z + shift * z;
  double r = std::numeric_limits<double>::infinity();
  if (kind == RootKind::InverseRoot) {
    Matrix<double> y = az;
    for (int i = 0; i < p; ++i) y = (xd * y).eval();
    r = (y - z).norm() / z.norm();
  } else {
    const Matrix<double> y = xd * (xd * z) - az;
    r = y.norm() / std::max(az.norm(), std::numeric_limits<double>::min());
  }
  return std::isfinite(r) ? r : std::numeric_limits<double>::infinity();
}

/// The absolute shift ε (+ jitter) for a matrix whose λ_max is `lmax`.
inline double resolve_shift(const RootOptions& o, double lmax, double jitter_rel) {
  const double scale = std::max(lmax, std::numeric_limits<double>::min());
  const double eps = o.epsilon_mode == EpsilonMode::Absolute ? o.epsilon : o.epsilon * lmax;
  return eps + jitter_rel * scale;
}

/// One attempt of the requested computation in precision S, without any fallback.
template <class S>
RootResult<S> root_attempt(const Matrix<S>& a, int p, RootKind kind, const RootOptions& o,
                           double jitter_rel, EigenBackend backend = EigenBackend::Configured) {
  const Index n = a.rows();
  RootResult<S> r;
  r.info = Info::NumericalIssue;
  const double s = kind == RootKind::InverseRoot ? -1.0 / p : 0.5;
  if (o.method == RootMethod::Eigendecomposition) {
    SymmetricEigen<S> e = symmetric_eigen_impl<S>(a, true, backend);
    if (e.info != Info::Success) return r;
    const double lmax = std::max(static_cast<double>(e.values(n - 1)), 0.0);
    if (jitter_rel > 0.0 && !(lmax > 0.0)) return r;  // no scale to jitter against
    r.epsilon = resolve_shift(o, lmax, jitter_rel);
    // λ_ε = max(λ, 0) + shift: round-off negatives of a PSD matrix are clamped first.
    Vector<double> lam = e.values.template cast<double>().cwiseMax(0.0).array() + r.epsilon;
    if (kind == RootKind::InverseRoot && !(lam.minCoeff() > 0.0)) return r;
    // X = W Wᵀ with W = Q diag(f(λ)^{1/2}) scaled in place: one symmetric rank-n update (SYRK,
    // half the flops of a GEMM), mirrored; symmetric by construction.
    const Vector<S> half = lam.array().pow(0.5 * s).template cast<S>();
    if (!half.allFinite()) return r;
    e.vectors.array().rowwise() *= half.transpose().array();
    r.root.setZero(n, n);
    r.root.template selfadjointView<Eigen::Lower>().rankUpdate(e.vectors);
    r.root.template triangularView<Eigen::StrictlyUpper>() = r.root.transpose();
  } else {
    const bool need_lmax = jitter_rel > 0.0 || (o.epsilon_mode == EpsilonMode::RelativeToMax &&
                                                o.epsilon > 0.0);
    const double lmax = need_lmax ? lambda_max_estimate(a) : 0.0;
    if (jitter_rel > 0.0 && !(lmax > 0.0)) return r;  // no scale to jitter against
    r.epsilon = resolve_shift(o, lmax, jitter_rel);
    Matrix<S> ae = a;
    ae.diagonal().array() += static_cast<S>(r.epsilon);
    const int q = kind == RootKind::InverseRoot ? p : 2;
    const double tol = o.tolerance > 0.0
                           ? o.tolerance
                           : static_cast<double>(n) * std::numeric_limits<S>::epsilon();
    Matrix<S> x;
    const NewtonReport rep = coupled_newton_inverse_root<S>(ae, q, tol, o.max_iterations, x);
    r.iterations = rep.iterations;
    if (rep.info == Info::NumericalIssue) return r;
    if (kind == RootKind::InverseRoot) {
      r.root = std::move(x);
    } else {
      // A_ε^{1/2} = A_ε A_ε^{-1/2}, re-symmetrised.
      const Matrix<S> y = ae * x;
      r.root = S(0.5) * (y + y.transpose());
    }
  }
  if (!r.root.allFinite()) return r;
  r.residual = root_residual<S>(a, r.epsilon, r.root, p, kind, o.residual_probes);
  if (r.residual <= o.max_residual) r.info = Info::Success;
  return r;
}

/// The whole ladder: attempt; jitter; double (float only); isotropic last resort.
template <class S>
RootResult<S> root_with_ladder(const ConstRef<S>& a_in, int p, RootKind kind,
                               const RootOptions& o,
                               EigenBackend backend = EigenBackend::Configured) {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                "curvop matrix functions: float or double only");
  o.validate();
  require_argument(p >= 1, kind == RootKind::InverseRoot ? "inverse_root" : "matrix_sqrt",
                   "p must be >= 1", p);
  require_conformant(a_in.rows() == a_in.cols(), "inverse_root: matrix must be square", a_in,
                     a_in);
  const Index n = a_in.rows();
  RootResult<S> r;
  if (n == 0) {
    r.root.resize(0, 0);
    r.residual = 0.0;
    return r;
  }
  if (!a_in.allFinite()) {
    r.root = Matrix<S>::Identity(n, n);
    r.info = Info::InvalidInput;
    return r;
  }
  const Matrix<S> a = a_in;
  r = root_attempt<S>(a, p, kind, o, 0.0, backend);
  if (r.info == Info::Success) return r;
  const double jit =
      o.jitter > 0.0 ? o.jitter : std::sqrt(static_cast<double>(std::numeric_limits<S>::epsilon()));
  if (o.fallback) {
    RootResult<S> j = root_attempt<S>(a, p, kind, o, jit, backend);
    if (j.info == Info::Success) {
      j.info = Info::NumericalIssue;
      j.fallback = Fallback::Jitter;
      return j;
    }
    if constexpr (std::is_same_v<S, float>) {
      const Matrix<double> ad = a.template cast<double>();
      const RootResult<double> d = root_attempt<double>(ad, p, kind, o, jit, backend);
      if (d.info == Info::Success) {
        RootResult<S> out;
        out.root = d.root.template cast<float>();
        if (out.root.allFinite()) {
          out.epsilon = d.epsilon;
          out.iterations = d.iterations;
          out.residual = root_residual<S>(a, out.epsilon, out.root, p, kind, o.residual_probes);
          out.info = Info::NumericalIssue;
          out.fallback = Fallback::Double;
          return out;
        }
      }
    }
  }
  // Last resort: the same function of the isotropic matrix c I with c = tr(A)/n, finite and
  // positive definite whatever A was.
  RootResult<S> iso;
  const double shift = resolve_shift(o, lambda_max_estimate(a), 0.0);
  double c = std::max(static_cast<double>(a.trace()) / static_cast<double>(n), 0.0) + shift;
  if (!(c > 0.0) || !std::isfinite(c)) c = 1.0;
  double f = kind == RootKind::InverseRoot ? std::pow(c, -1.0 / p) : std::sqrt(c);
  if (!std::isfinite(f) || !std::isfinite(static_cast<double>(static_cast<S>(f))) || !(f > 0.0)) {
    f = 1.0;
  }
  iso.root = Matrix<S>::Identity(n, n) * static_cast<S>(f);
  iso.epsilon = shift;
  iso.residual = root_residual<S>(a, shift, iso.root, p, kind, o.residual_probes);
  iso.info = Info::NumericalIssue;
  iso.fallback = Fallback::Isotropic;
  return iso;
}

}  // namespace detail

/// Inverse p-th root \f$ X = A_\epsilon^{-1/p} \f$ of a symmetric positive semi-definite matrix,
/// with \f$ A_\epsilon = A + \epsilon I \f$ (ε absolute or relative to λ_max, `RootOptions`).
///
/// Methods: `RootMethod::Eigendecomposition` computes \f$ Q\,\mathrm{diag}((\max(\lambda,0) +
/// \epsilon)^{-1/p})\,Q^\top \f$ through `symmetric_eigen` (reads the lower triangle);
/// `RootMethod::CoupledNewton` runs the GEMM-only iteration of `coupled_newton.hpp` on
/// \f$ A_\epsilon \f$ (reads the whole matrix). Every call estimates the residual
/// \f$ \|X^p A_\epsilon - I\|_F/\sqrt{n} \f$ and accepts the root when it is at most
/// `max_residual`. Otherwise the fallback ladder of DESIGN.md §5 runs: retry with jitter
/// (ε + jitter·λ_max; skipped when λ_max ≤ 0, e.g. for the zero matrix), then, for float, in
/// double; if all fail, the root of the isotropic matrix
/// (tr A / n + ε) I. The result is never NaN; `info` is Success only when no rung was needed.
///
/// Errors: `std::invalid_argument` for bad options or p < 1; `DimensionMismatch` for a
/// non-square matrix; a non-finite entry gives `Info::InvalidInput` and the identity.
///
/// \param a symmetric PSD n x n matrix. \param p root order, ≥ 1 (Shampoo uses 4, Shampoo² 2).
///
/// **Cost:** eigendecomposition: one `symmetric_eigen` (≈ 9n³ flops) + one SYRK (n³); coupled
/// Newton: (2 + ⌊log₂p⌋ + popcount(p) − 1) GEMMs per iteration, ≈ 10–40 iterations depending on
/// κ. The residual costs (p + 1) n² k flops with k probes. Memory O(n²).
///
/// **Reference:** Higham, *Functions of Matrices*, SIAM 2008, ch. 7; Guo & Higham, SIAM J.
/// Matrix Anal. Appl. 28(3), 2006; Gupta, Koren & Singer, "Shampoo", ICML 2018.
template <class S>
[[nodiscard]] RootResult<S> inverse_root(const ConstRef<S>& a, int p,
                                         const RootOptions& options = {}) {
  return detail::root_with_ladder<S>(a, p, detail::RootKind::InverseRoot, options);
}

/// Inverse square root \f$ A_\epsilon^{-1/2} \f$: `inverse_root(a, 2, options)`.
template <class S>
[[nodiscard]] RootResult<S> inverse_sqrt(const ConstRef<S>& a, const RootOptions& options = {}) {
  return detail::root_with_ladder<S>(a, 2, detail::RootKind::InverseRoot, options);
}

/// Principal square root \f$ A_\epsilon^{1/2} \f$ of a symmetric PSD matrix. By eigendecomposition
/// \f$ Q\,\mathrm{diag}((\max(\lambda,0)+\epsilon)^{1/2})\,Q^\top \f$ (a singular A is fine), or
/// by coupled Newton as \f$ A_\epsilon \cdot A_\epsilon^{-1/2} \f$ (needs A_ε definite). The
/// residual is \f$ \|X^2 - A_\epsilon\|_F/\|A_\epsilon\|_F \f$; fallback and errors as
/// `inverse_root`. **Cost:** as `inverse_root` with p = 2, plus one GEMM for Newton.
template <class S>
[[nodiscard]] RootResult<S> matrix_sqrt(const ConstRef<S>& a, const RootOptions& options = {}) {
  return detail::root_with_ladder<S>(a, 2, detail::RootKind::Sqrt, options);
}

}  // namespace curvop

#endif  // CURVOP_MATRIX_FUNCTIONS_INVERSE_ROOT_HPP
