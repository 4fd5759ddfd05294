// SPDX-License-Identifier: MIT
// Stochastic diagonal estimation: Hutchinson (with the normalised form for non-Rademacher
// probes) and XDiag, each with an entrywise standard error and an optional control variate.
#ifndef CURVOP_ESTIMATORS_DIAGONAL_HPP
#define CURVOP_ESTIMATORS_DIAGONAL_HPP

#include <curvop/estimators/trace.hpp>

namespace curvop {

/// The diagonal estimators.
///
/// - `Hutchinson` (Bekas, Kokiopoulou, Saad): \f$ \hat d = (\sum_j v_j \odot A v_j) \oslash
///   (\sum_j v_j \odot v_j) \f$. For Rademacher probes the denominator is N and the estimate is
///   the unbiased mean of \f$ v \odot Av \f$, with \f$ \mathrm{Var}(\hat d_i) = \sum_{j\ne i}
///   A_{ij}^2 / N \f$. For Gaussian probes the plain mean \f$ \frac1N\sum v\odot Av \f$ carries
///   the extra variance of \f$ v_i^2 \f$ around 1; the normalised form removes it (a ratio
///   estimator: consistent, bias O(1/N)). Its standard error is the delta-method one,
///   \f$ \mathrm{se}_i^2 = \frac{N}{N-1} \sum_j (x_{ij} - \hat d_i u_{ij})^2 / (\sum_j u_{ij})^2 \f$
///   with x = v⊙Av, u = v⊙v.
/// - `XDiag` (Epperly, Tropp, Webber): k = ⌊m/2⌋ probes Ω, Y = AΩ = QR, Z = AᵀQ; for each i the
///   basis without probe i, \f$ P_i = Q(I - s_i s_i^T)Q^T \f$, gives
///   \f$ d_i = \mathrm{diag}(P_i A) + \omega_i \odot (I-P_i)A\omega_i \oslash \omega_i^{\odot 2} \f$,
///   computed from \f$ \mathrm{diag}(QQ^TA) = \mathrm{rowsum}(Q \odot Z) \f$,
///   \f$ \mathrm{diag}(Q s s^T Q^T A) = Qs \odot Zs \f$ and \f$ Q^T A\omega_i = R e_i \f$.
///   The residual term uses the normalised denominator \f$ \frac1k\sum_i \omega_i^{\odot 2} \f$
///   (exactly k for Rademacher). Needs Aᵀ (a symmetric or transposable operator). Standard
///   error: s²/k of the terms, plus their covariance for Rademacher probes (as XTrace's).
enum class DiagonalMethod { Hutchinson, XDiag };

/// Options of `estimate_diagonal`.
struct DiagonalOptions {
  DiagonalMethod method = DiagonalMethod::Hutchinson;
  /// Probe entries: Rademacher (exact on diagonal matrices) or Gaussian (normalised form).
  random::Distribution distribution = random::Distribution::Rademacher;
  /// Budget: products with the operator (columns); at least 2 (Hutchinson) or 4 (XDiag).
  Index max_matvecs = 100;
  /// Adaptive stopping: stop once ‖standard_error‖₂ ≤ rel_tol·‖estimate‖₂ (0: spend the
  /// budget). Hutchinson checks after every probe in probe order; XDiag grows its sketch and
  /// checks at min_samples probes, then after each growth by a quarter (as XTrace). Either way
  /// the result does not depend on `block_size`.
  double rel_tol = 0.0;
  /// Fewest probes before the adaptive rule may stop.
  Index min_samples = 10;
  /// Probes applied k at a time (one multi-RHS `apply` each).
  Index block_size = 16;
  /// Seed of the counter-based probes (`curvop::random`).
  std::uint64_t seed = 0;

  /// Throws `std::invalid_argument` naming the option, the rule and the value.
  void validate() const {
    const Index minimum = method == DiagonalMethod::Hutchinson ? 2 : 4;
    detail::require_argument(max_matvecs >= minimum, "estimators::DiagonalOptions",
                             "max_matvecs must be >= the method's minimum (2 for Hutchinson, 4 "
                             "for XDiag)",
                             max_matvecs);
    detail::require_argument(block_size >= 1, "estimators::DiagonalOptions",
                             "block_size must be >= 1", block_size);
    detail::require_argument(std::isfinite(rel_tol) && rel_tol >= 0,
                             "estimators::DiagonalOptions", "rel_tol must be finite and >= 0",
                             rel_tol);
    detail::require_argument(min_samples >= 2, "estimators::DiagonalOptions",
                             "min_samples must be >= 2", min_samples);
  }
};

namespace detail {

template <LinearOperator Op>
DiagonalEstimate<scalar_t<Op>> hutchinson_diagonal(const Op& op, const DiagonalOptions& o,
                                                   const Vector<double>& offset) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  // Running sums per entry, in double: Σx, Σu, Σx², Σxu, Σu² (x = v⊙Av, u = v⊙v).
  Vector<double> sx = Vector<double>::Zero(n), su = sx, sxx = sx, sxu = sx, suu = sx;
  DiagonalEstimate<S> e;
  Matrix<S> v(n, o.block_size), av(n, o.block_size);
  bool stopped = false;
  Index count = 0;
  auto se_of = [&](Vector<double>& d, Vector<double>& se) {
    d = sx.cwiseQuotient(su);
    const double c = count > 1 ? double(count) / double(count - 1) : 0.0;
    se = ((sxx - 2.0 * d.cwiseProduct(sxu) + d.cwiseProduct(d).cwiseProduct(suu)).cwiseMax(0.0) *
          c)
             .cwiseSqrt()
             .cwiseQuotient(su);
  };
  Vector<double> d, se;
  for (Index j0 = 0; j0 < o.max_matvecs && !stopped; j0 += o.block_size) {
    const Index b = std::min(o.block_size, o.max_matvecs - j0);
    random::fill_probes<S>(v.leftCols(b), o.distribution, o.seed, static_cast<std::uint64_t>(j0),
                           kProbeStream);
    apply_checked(op, v.leftCols(b), av.leftCols(b), "estimate_diagonal");
    e.matvecs += b;
    for (Index j = 0; j < b; ++j) {
      const Vector<double> vj = v.col(j).template cast<double>();
      const Vector<double> x = vj.cwiseProduct(av.col(j).template cast<double>());
      const Vector<double> u = vj.cwiseProduct(vj);
      sx += x;
      su += u;
      sxx += x.cwiseProduct(x);
      sxu += x.cwiseProduct(u);
      suu += u.cwiseProduct(u);
      ++count;
      if (o.rel_tol > 0 && count >= o.min_samples) {
        se_of(d, se);
        if (se.norm() <= o.rel_tol * (d + offset).norm()) {
          stopped = true;
          break;
        }
      }
    }
  }
  se_of(d, se);
  if (count < 2) se.setConstant(std::numeric_limits<double>::infinity());
  e.value = (d + offset).template cast<S>();
  e.standard_error = se.template cast<S>();
  e.samples = count;
  e.info = (o.rel_tol > 0 && !stopped) ? Info::NoConvergence : Info::Success;
  return e;
}

/// XDiag's mean and entrywise variance of the mean on a sketch with Z = AᵀQ: s²/k of the k
/// exchangeable terms, plus their covariance for Rademacher probes (see below).
template <class S>
void xdiag_terms(const Sketch<S>& sk, bool rademacher, Vector<double>& mean, Vector<double>& var) {
  const Index n = sk.om.rows(), k = sk.cols();
  const Matrix<double> qd = sk.q.template cast<double>(), zd = sk.z.template cast<double>();
  const Matrix<double> omd = sk.om.template cast<double>(), yd = sk.y.template cast<double>();
  const Matrix<double> rd = sk.r.template cast<double>();
  const Vector<double> base = qd.cwiseProduct(zd).rowwise().sum();  // diag(QQᵀA)
  // Mean over probes of ω², the normalised denominator (k for Rademacher).
  const Vector<double> den = omd.cwiseProduct(omd).rowwise().sum() / double(k);
  Matrix<double> t(n, k);
  if (detail::rank_deficient(sk.r)) {
    for (Index i = 0; i < k; ++i) {
      t.col(i) = base + omd.col(i).cwiseProduct(yd.col(i) - qd * rd.col(i)).cwiseQuotient(den);
    }
  } else {
    Matrix<double> s = rd.transpose().template triangularView<Eigen::Lower>().solve(
        Matrix<double>::Identity(k, k));
    s.colwise().normalize();
    const Matrix<double> qs = qd * s, zs = zd * s;
    for (Index i = 0; i < k; ++i) {
      const Vector<double> rho = rd.col(i) - s.col(i) * s.col(i).dot(rd.col(i));
      t.col(i) = base - qs.col(i).cwiseProduct(zs.col(i)) +
                 omd.col(i).cwiseProduct(yd.col(i) - qd * rho).cwiseQuotient(den);
    }
    mean = t.rowwise().mean();
    var = k > 1 ? Vector<double>((t.colwise() - mean).rowwise().squaredNorm() /
                                 (double(k - 1) * double(k)))
                : Vector<double>::Zero(n);
    if (k < 2 || !rademacher) return;
    // The covariance of the exchangeable terms, entrywise (as XTrace's, see
    // `exchangeable_mean_variance`): without probes i and j the basis loses s′ = (s_j − c s_i)/d,
    // so Δ_ij = t_i − t_i^{(−j)} = Qs′ ⊙ (Aᵀ Q s′ − ω_i (s′ᵀ R e_i) ⊘ den). O(n) per pair.
    // Only for Rademacher probes, where den ≡ 1 and every term is unbiased given the probes it
    // sketches with, which the correction needs: s²/k ran low by a factor 1.34 there, and is
    // 1.00 with it (rms over entries and seeds). With Gaussian probes the normalised
    // denominator couples the terms the other way: s²/k alone is already conservative (0.89),
    // and the correction would overshoot (0.78).
    const Matrix<double> ss = s.transpose() * s, sr = s.transpose() * rd;
    Vector<double> cross = Vector<double>::Zero(n), dij(n), dji(n);
    for (Index i = 0; i < k; ++i) {
      for (Index j = i + 1; j < k; ++j) {
        const double c = ss(i, j), d2 = 1 - c * c;
        if (!(d2 > 1e-12)) continue;
        const double d = std::sqrt(d2);
        // s′ for (i without j) and s″ for (j without i).
        const double gij = (sr(j, i) - c * sr(i, i)) / d, gji = (sr(i, j) - c * sr(j, j)) / d;
        dij = ((qs.col(j) - c * qs.col(i)) / d)
                  .cwiseProduct((zs.col(j) - c * zs.col(i)) / d -
                                (gij * omd.col(i)).cwiseQuotient(den));
        dji = ((qs.col(i) - c * qs.col(j)) / d)
                  .cwiseProduct((zs.col(i) - c * zs.col(j)) / d -
                                (gji * omd.col(j)).cwiseQuotient(den));
        cross += 2 * dij.cwiseProduct(dji);
      }
    }
    var += (cross / (double(k) * double(k - 1))).cwiseMax(0.0);
    return;
  }
  mean = t.rowwise().mean();
  var = k > 1 ? Vector<double>((t.colwise() - mean).rowwise().squaredNorm() /
                               (double(k - 1) * double(k)))
              : Vector<double>::Zero(n);
}

template <LinearOperator Op>
DiagonalEstimate<scalar_t<Op>> xdiag(const Op& op, const DiagonalOptions& o,
                                     const Vector<double>& offset) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  const Index k_max = std::min(o.max_matvecs / 2, n);
  DiagonalEstimate<S> e;
  Sketch<S> sk(n);
  Vector<double> mean, var;
  bool stopped = false;
  for (;;) {
    // The same growth schedule as XTrace (`next_checkpoint`): independent of the block size.
    const Index k = o.rel_tol > 0 ? next_checkpoint(sk.cols(), k_max, o.min_samples) : k_max;
    grow_sketch<true>(op, sk, k, o.distribution, o.seed, o.block_size, "estimate_diagonal");
    xdiag_terms(sk, o.distribution == random::Distribution::Rademacher, mean, var);
    if (o.rel_tol > 0 && k >= o.min_samples &&
        std::sqrt(var.sum()) <= o.rel_tol * (mean + offset).norm()) {
      stopped = true;
      break;
    }
    if (k == k_max) break;
  }
  e.value = (mean + offset).template cast<S>();
  e.standard_error = var.cwiseSqrt().template cast<S>();
  e.matvecs = 2 * sk.cols();
  e.samples = sk.cols();
  e.info = (o.rel_tol > 0 && !stopped) ? Info::NoConvergence : Info::Success;
  return e;
}

template <LinearOperator Op>
DiagonalEstimate<scalar_t<Op>> diagonal_dispatch(const Op& op, const DiagonalOptions& o,
                                                 const Vector<double>& offset) {
  if (o.method == DiagonalMethod::XDiag) {
    if constexpr (TransposableOperator<Op> || is_symmetric_v<Op>) {
      return xdiag(op, o, offset);
    } else {
      throw std::invalid_argument(
          "estimate_diagonal: XDiag needs Aᵀ: the operator must be symmetric (is_symmetric) or "
          "have apply_transpose");
    }
  }
  return hutchinson_diagonal(op, o, offset);
}

}  // namespace detail

/// Estimates diag(A) of a square operator from matrix-vector products only.
///
/// \param op any square `LinearOperator`; XDiag also needs Aᵀ (symmetric or transposable)
/// \param options method, budget, adaptive tolerance, block size, seed (`validate()`d)
/// \throws std::invalid_argument for bad options (or XDiag on an operator without Aᵀ),
///         DimensionMismatch for a non-square operator, InvalidInput for NaN/Inf products
///
/// **Cost:** `max_matvecs` products; Hutchinson O(n·block_size) extra memory and O(n) work per
/// probe; XDiag O(n·m) memory and O(n·m²) flops.
///
/// **Reference:** Bekas, Kokiopoulou, Saad, "An estimator for the diagonal of a matrix", Appl.
/// Numer. Math. 2007; Epperly, Tropp, Webber, "XTrace", SIMAX 2024 (XDiag, §5).
template <LinearOperator Op>
[[nodiscard]] DiagonalEstimate<scalar_t<Op>> estimate_diagonal(
    const Op& op, const DiagonalOptions& options = {}) {
  options.validate();
  detail::require_square(op, "estimate_diagonal");
  return detail::diagonal_dispatch(op, options, Vector<double>::Zero(op.rows()));
}

/// Estimates diag(A) with a control variate C of known diagonal: diag(C) + estimate of
/// diag(A − C). Unbiased (Rademacher Hutchinson) for any C, with the variance of the
/// estimator on A − C. diag(C) comes from `curvop::diagonal(C)` (n unit-vector products when C
/// has no `diagonal()` member); products with C are reported in `control_matvecs` (XDiag's
/// products with Aᵀ − Cᵀ count one each), apart from the products with A in `matvecs`.
///
/// **Cost:** that of `estimate_diagonal` plus one product with C per product with A.
template <LinearOperator Op, LinearOperator Cv>
[[nodiscard]] DiagonalEstimate<scalar_t<Op>> estimate_diagonal(const Op& op, const Cv& control,
                                                               const DiagonalOptions& options = {}) {
  options.validate();
  detail::require_square(op, "estimate_diagonal");
  detail::require_control_variate(op, control, "estimate_diagonal");
  const Vector<double> dc = curvop::diagonal(control).template cast<double>();
  const detail::DifferenceOperator<Op, Cv> diff(op, control);
  auto e = detail::diagonal_dispatch(diff, options, dc);
  e.control_matvecs = e.matvecs + (DiagonalExtractable<Cv> ? 0 : op.rows());
  return e;
}

}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_DIAGONAL_HPP
