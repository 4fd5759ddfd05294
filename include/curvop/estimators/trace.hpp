// SPDX-License-Identifier: MIT
// Stochastic trace estimation from matrix-vector products: Hutchinson, Hutch++ and XTrace, with a
// standard error, adaptive stopping, blocked probes and an optional control variate.
#ifndef CURVOP_ESTIMATORS_TRACE_HPP
#define CURVOP_ESTIMATORS_TRACE_HPP

#include <curvop/estimators/common.hpp>
#include <utility>

namespace curvop {

/// The trace estimators.
///
/// With m products with A and probes v (E[v vᵀ] = I):
/// - `Hutchinson`: \f$ \hat t = \frac1N \sum_j v_j^T A v_j \f$, N = m. Variance for symmetric A:
///   \f$ 2\|A\|_F^2/N \f$ (Gaussian), \f$ 2(\|A\|_F^2 - \sum_i A_{ii}^2)/N \f$ (Rademacher).
/// - `HutchPlusPlus`: a sketch Q = orth(A S) with k = ⌊m/3⌋ columns takes the top of the
///   spectrum exactly, Hutchinson the rest:
///   \f$ \hat t = \mathrm{tr}(Q^T A Q) + \frac1N \sum_j g_j^T (I-QQ^T) A (I-QQ^T) g_j \f$ with the
///   N = m − 2k remaining products. Error O(1/m) for PSD A instead of O(1/√m).
/// - `XTrace`: k = ⌊m/2⌋ probes Ω, Y = AΩ, QR = Y; for each i the basis of Y without column i,
///   \f$ P_i = Q(I - s_i s_i^T)Q^T \f$ (s_i the normalised i-th column of \f$ R^{-T} \f$), gives
///   the unbiased \f$ t_i = \mathrm{tr}(P_i A) + \omega_i^T (I-P_i) A (I-P_i) \omega_i \f$, and
///   \f$ \hat t = \frac1k \sum_i t_i \f$: every probe both sketches and estimates (exchangeable).
///   With Gaussian probes the residual term is resphered by \f$ (n-k+1)/\|(I-P_i)\omega_i\|^2 \f$
///   (unbiased because the norm and direction of a Gaussian are independent).
///   When Y is numerically rank-deficient (rank A < k), the estimate is tr(QᵀAQ) plus the
///   residual with the full basis, which is exact up to rounding for symmetric A.
///   Its standard error accounts for the correlation of the exchangeable terms (see
///   `detail::exchangeable_mean_variance`): \f$ s^2/k + \frac{1}{k(k-1)}\sum_{i\ne j}
///   \Delta_{ij}\Delta_{ji} \f$ with Δ_ij the change of t_i when probe j leaves the sketch.
enum class TraceMethod { Hutchinson, HutchPlusPlus, XTrace };

/// The smallest budget (matvecs) of a trace method: 2 products for Hutchinson (two samples for a
/// standard error), 4 for Hutch++ (sketch 1, two residual probes), 4 for XTrace (two probes).
constexpr Index minimum_matvecs(TraceMethod m) noexcept {
  return m == TraceMethod::Hutchinson ? 2 : 4;
}

/// Options of `estimate_trace`.
struct TraceOptions {
  /// The estimator.
  TraceMethod method = TraceMethod::Hutchinson;
  /// Probe entries: Rademacher (lowest variance for Hutchinson) or Gaussian (rotation invariant).
  random::Distribution distribution = random::Distribution::Rademacher;
  /// Budget m: products with the operator (columns). At least `minimum_matvecs(method)`.
  Index max_matvecs = 100;
  /// Adaptive stopping: stop once standard_error ≤ rel_tol·|estimate| (0: spend the budget).
  /// Hutchinson stops its probes and Hutch++ its residual probes, checked after every probe in
  /// probe order. XTrace grows its sketch (probes, QR and products with Q extended, nothing
  /// spent twice) and checks at min_samples probes, then after each growth by a quarter: a
  /// schedule fixed in advance. Either way the result does not depend on `block_size`.
  double rel_tol = 0.0;
  /// Fewest probe terms before the adaptive rule may stop (a standard error from very few
  /// samples is itself too noisy to trust).
  Index min_samples = 10;
  /// Probes applied k at a time (one multi-RHS `apply` each). Probe j is the same for any k.
  Index block_size = 16;
  /// Seed of the counter-based probes (`curvop::random`).
  std::uint64_t seed = 0;

  /// Throws `std::invalid_argument` naming the option, the rule and the value.
  void validate() const {
    detail::require_argument(max_matvecs >= minimum_matvecs(method), "estimators::TraceOptions",
                             "max_matvecs must be >= the method's minimum (2 for Hutchinson, 4 for "
                             "Hutch++ and XTrace)",
                             max_matvecs);
    detail::require_argument(block_size >= 1, "estimators::TraceOptions",
                             "block_size must be >= 1", block_size);
    detail::require_argument(std::isfinite(rel_tol) && rel_tol >= 0, "estimators::TraceOptions",
                             "rel_tol must be finite and >= 0", rel_tol);
    detail::require_argument(min_samples >= 2, "estimators::TraceOptions",
                             "min_samples must be >= 2", min_samples);
  }
};

namespace detail {

/// Probe streams: one per purpose, so that adding a sketch never shifts the estimation probes.
inline constexpr std::uint64_t kProbeStream = 0;
inline constexpr std::uint64_t kSketchStream = 1;

/// xᵀy accumulated in double (float Hessians of size 10⁶ lose digits otherwise).
template <class X, class Y>
double dot_double(const X& x, const Y& y) {
  using S = typename X::Scalar;
  if constexpr (std::is_same_v<S, double>) {
    return x.dot(y);
  } else {
    double s = 0;
    for (Index i = 0; i < x.size(); ++i) s += double(x(i)) * double(y(i));
    return s;
  }
}

/// Y = A X in column blocks of `block` (each one multi-RHS apply), checked for finiteness.
template <LinearOperator Op>
void apply_blocked(const Op& op, const Matrix<scalar_t<Op>>& x, Matrix<scalar_t<Op>>& y,
                   Index block, std::string_view where) {
  y.resize(op.rows(), x.cols());
  for (Index j0 = 0; j0 < x.cols(); j0 += block) {
    const Index b = std::min(block, x.cols() - j0);
    apply_checked(op, x.middleCols(j0, b), y.middleCols(j0, b), where);
  }
}

/// Hutchinson on (I − QQᵀ) A (I − QQᵀ) (Q may have zero columns: plain Hutchinson), with the
/// adaptive rule; returns the moments of the per-probe terms and the products spent.
template <LinearOperator Op>
RunningMoments projected_hutchinson(const Op& op, const Matrix<scalar_t<Op>>& q, Index budget,
                                    double offset, const TraceOptions& o, Index& matvecs,
                                    bool& stopped) {
  using S = scalar_t<Op>;
  const Index n = op.cols();
  RunningMoments m;
  stopped = false;
  Matrix<S> v(n, o.block_size), av(n, o.block_size);
  for (Index j0 = 0; j0 < budget && !stopped; j0 += o.block_size) {
    const Index b = std::min(o.block_size, budget - j0);
    auto vb = v.leftCols(b);
    random::fill_probes<S>(vb, o.distribution, o.seed, static_cast<std::uint64_t>(j0),
                           kProbeStream);
    if (q.cols() > 0) vb -= q * (q.transpose() * vb);
    apply_checked(op, vb, av.leftCols(b), "estimate_trace");
    matvecs += b;
    for (Index j = 0; j < b; ++j) {
      m.push(dot_double(vb.col(j), av.col(j)));
      if (converged(m.standard_error(), offset + m.mean, o.rel_tol, m.count, o.min_samples)) {
        stopped = true;
        break;
      }
    }
  }
  return m;
}

template <LinearOperator Op>
Estimate<scalar_t<Op>> hutchinson_trace(const Op& op, const TraceOptions& o, double offset) {
  using S = scalar_t<Op>;
  Estimate<S> e;
  bool stopped = false;
  const RunningMoments m = projected_hutchinson(op, Matrix<S>(op.rows(), 0), o.max_matvecs,
                                                offset, o, e.matvecs, stopped);
  e.value = static_cast<S>(offset + m.mean);
  e.standard_error = static_cast<S>(m.standard_error());
  e.samples = m.count;
  e.info = (o.rel_tol > 0 && !stopped) ? Info::NoConvergence : Info::Success;
  return e;
}

template <LinearOperator Op>
Estimate<scalar_t<Op>> hutchpp_trace(const Op& op, const TraceOptions& o, double offset) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  const Index k = std::min(o.max_matvecs / 3, n);
  Estimate<S> e;
  Matrix<S> sk = random::probes<S>(n, k, o.distribution, o.seed, 0, kSketchStream), y, q, r, aq;
  apply_blocked(op, sk, y, o.block_size, "estimate_trace");
  thin_qr(y, q, r);
  apply_blocked(op, q, aq, o.block_size, "estimate_trace");
  e.matvecs = 2 * k;
  double top = offset;
  for (Index j = 0; j < k; ++j) top += dot_double(q.col(j), aq.col(j));
  bool stopped = false;
  const RunningMoments m =
      projected_hutchinson(op, q, o.max_matvecs - 2 * k, top, o, e.matvecs, stopped);
  e.value = static_cast<S>(top + m.mean);
  e.standard_error = static_cast<S>(m.standard_error());
  e.samples = m.count;
  e.info = (o.rel_tol > 0 && !stopped) ? Info::NoConvergence : Info::Success;
  return e;
}

/// The sketch shared by XTrace and XDiag: probes Ω (n x k, probe j from the counter-based stream
/// whatever the block size), Y = AΩ = QR, and Z = AQ (XTrace) or AᵀQ (XDiag).
template <class S>
struct Sketch {
  Matrix<S> om, y, q, r, z;
  explicit Sketch(Index n) : om(n, 0), y(n, 0), q(n, 0), r(0, 0), z(n, 0) {}
  Index cols() const { return om.cols(); }
};

/// Grows the sketch to `k_new` probes: the new probes, their products (in column blocks of
/// `block`), the QR extension (`extend_qr`: the old columns of Q stay, so do their products) and
/// the products with the new columns of Q (Aᵀ when `transpose`). 2·(k_new − k) products.
template <bool transpose, LinearOperator Op>
void grow_sketch(const Op& op, Sketch<scalar_t<Op>>& sk, Index k_new, random::Distribution dist,
                 std::uint64_t seed, Index block, std::string_view where) {
  using S = scalar_t<Op>;
  const Index n = op.rows(), k = sk.cols(), b = k_new - k;
  if (b <= 0) return;
  sk.om.conservativeResize(Eigen::NoChange, k_new);
  random::fill_probes<S>(sk.om.rightCols(b), dist, seed, static_cast<std::uint64_t>(k),
                         kProbeStream);
  Matrix<S> y2;
  apply_blocked(op, Matrix<S>(sk.om.rightCols(b)), y2, block, where);
  sk.y.conservativeResize(Eigen::NoChange, k_new);
  sk.y.rightCols(b) = y2;
  extend_qr(sk.q, sk.r, y2);
  sk.z.conservativeResize(n, k_new);
  for (Index j0 = k; j0 < k_new; j0 += block) {
    const Index c = std::min(block, k_new - j0);
    if constexpr (transpose) {
      curvop::apply_transpose(op, sk.q.middleCols(j0, c), sk.z.middleCols(j0, c));
      if (!sk.z.middleCols(j0, c).allFinite()) {
        throw InvalidInput(std::string(where) +
                           ": the operator returned a non-finite entry (NaN or Inf)");
      }
    } else {
      apply_checked(op, sk.q.middleCols(j0, c), sk.z.middleCols(j0, c), where);
    }
  }
}

/// The checkpoints of adaptive XTrace/XDiag: the first at `min_samples` probes, then after each
/// growth by a quarter (k ← k + ⌈k/4⌉), capped at `k_max`. The schedule depends on neither the
/// block size nor the data, so neither does the stopping point; each check costs O(nk² + k³)
/// and their sum stays within a small factor of the last one.
inline Index next_checkpoint(Index k, Index k_max, Index min_samples) {
  const Index next = k == 0 ? std::max<Index>(min_samples, 2) : k + (k + 3) / 4;
  return std::min(next, k_max);
}

/// XTrace's exchangeable terms t_i and their leave-two-out changes Δ_ij = t_i − t_i^{(−j)}, where
/// t_i^{(−j)} is the term of probe i in XTrace run without probe j.
///
/// t_i uses the basis of Y without column i, \f$ P_i = Q(I - s_i s_i^T)Q^T \f$. Without probes i
/// and j the basis loses one more direction of range(Q): s′ = (s_j − c s_i)/√(1 − c²),
/// c = s_iᵀs_j (the columns i and j of R^{-T} span what Y loses). With
/// β = s′ᵀQᵀω_i, r_i = (I − P_i)ω_i, g_i = QᵀA r_i, f_i = (AQ)ᵀ r_i:
/// \f$ (I - P_i^{(-j)})\omega_i = r_i + \beta Q s' \f$, hence
/// \f$ \Delta_{ij} = s'^T H s' - \beta\, s'^T(g_i + f_i) - \beta^2 s'^T H s' \f$ (H = QᵀAQ),
/// with the Gaussian resphering (n−k+1)/‖r_i‖² against (n−k+2)/(‖r_i‖² + β²). Every pair costs
/// O(1) after five k x k products: O(nk² + k³) in all. A rank-deficient sketch uses the full
/// basis for every probe (exact up to rounding) and has Δ = 0.
template <class S>
void xtrace_terms(const Sketch<S>& sk, bool gaussian, Vector<double>& t, Matrix<double>& delta) {
  const Index n = sk.om.rows(), k = sk.cols();
  const Matrix<S>& om = sk.om;
  const Matrix<S>& y = sk.y;
  const Matrix<S>& q = sk.q;
  const Matrix<S>& z = sk.z;
  const Matrix<S> h = q.transpose() * z;
  const Matrix<S> w = q.transpose() * om;
  const double tr_h = static_cast<double>(h.trace());
  t.resize(k);
  delta.setZero(k, k);
  if (detail::rank_deficient(sk.r)) {
    // range(Y) holds range(A): one basis for every probe; the residual is rounding.
    const Matrix<S> res = om - q * w, ares = y - z * w;
    for (Index i = 0; i < k; ++i) t(i) = tr_h + dot_double(res.col(i), ares.col(i));
    return;
  }
  // s_i: columns of R^{-T}, normalised. Q s_i is the direction of range(Y) orthogonal to every
  // column but i, so P_i = Q (I − s_i s_iᵀ) Qᵀ spans Y without column i.
  Matrix<S> s =
      sk.r.transpose().template triangularView<Eigen::Lower>().solve(Matrix<S>::Identity(k, k));
  s.colwise().normalize();
  const Vector<S> c = (s.array() * w.array()).colwise().sum().transpose();
  const Matrix<S> m = w - s * c.asDiagonal();  // Qᵀω_i minus its component along s_i
  const Matrix<S> res = om - q * m;            // (I − P_i) ω_i
  const Matrix<S> ares = y - z * m;            // A (I − P_i) ω_i
  const Matrix<S> hs = h * s;
  Vector<double> resid(k), nr(k);
  for (Index i = 0; i < k; ++i) {
    resid(i) = dot_double(res.col(i), ares.col(i));
    nr(i) = dot_double(res.col(i), res.col(i));
    const double scale = gaussian && nr(i) > 0 ? static_cast<double>(n - k + 1) / nr(i) : 1.0;
    t(i) = tr_h - dot_double(s.col(i), hs.col(i)) + resid(i) * scale;
  }
  if (k < 2) return;
  const Matrix<double> sd = s.template cast<double>();
  const Matrix<double> ss = sd.transpose() * sd;
  const Matrix<double> sw = sd.transpose() * w.template cast<double>();
  const Matrix<double> sg = sd.transpose() * (q.transpose() * ares).template cast<double>();
  const Matrix<double> sf = sd.transpose() * (z.transpose() * res).template cast<double>();
  const Matrix<double> shs = sd.transpose() * h.template cast<double>() * sd;
  const double tiny = 64 * static_cast<double>(Eigen::NumTraits<S>::epsilon());
  for (Index i = 0; i < k; ++i) {
    for (Index j = 0; j < k; ++j) {
      if (j == i) continue;
      const double cij = ss(i, j), d2 = 1 - cij * cij;
      if (!(d2 > tiny)) continue;  // s_i ∥ s_j: cannot happen for a full-rank R
      const double d = std::sqrt(d2);
      const double beta = (sw(j, i) - cij * sw(i, i)) / d;
      const double sgf = (sg(j, i) - cij * sg(i, i) + sf(j, i) - cij * sf(i, i)) / d;
      const double shs2 = (shs(j, j) - cij * (shs(i, j) + shs(j, i)) + cij * cij * shs(i, i)) / d2;
      const double dres = beta * sgf + beta * beta * shs2;  // change of the residual term
      if (gaussian && nr(i) > 0) {
        const double before = static_cast<double>(n - k + 1) / nr(i);
        const double after = static_cast<double>(n - k + 2) / (nr(i) + beta * beta);
        delta(i, j) = shs2 + resid(i) * before - (resid(i) + dres) * after;
      } else {
        delta(i, j) = shs2 - dres;
      }
    }
  }
}

/// Mean of the exchangeable terms and the variance of that mean,
/// \f$ \widehat{\mathrm{Var}} = s^2/k + \max(\hat C, 0) \f$, \f$ \hat C = \frac{1}{k(k-1)}
/// \sum_{i \ne j} \Delta_{ij}\Delta_{ji} \f$.
///
/// Why not s²/k: the terms are exchangeable, not independent. With σ² = Var t_i and
/// C = Cov(t_i, t_j), Var t̂ = σ²/k + (k−1)C/k while E s² = σ² − C, so s²/k misses C; it ran low
/// by a factor 1.2 to 1.6 in standard deviation (mean z² ≈ 2). C itself is E[Δ_ij Δ_ji] exactly:
/// t_i^{(−j)} and t_j^{(−i)} are Hutchinson terms of independent probes on one basis (that of Y
/// without columns i and j), hence uncorrelated, and E[Δ_ji | all probes but j] = 0 because both
/// t_j and t_j^{(−i)} are unbiased given the probes they sketch with; the cross terms vanish. So
/// s²/k + Ĉ is unbiased; the positive part keeps it ≥ s²/k when Ĉ is a noisy negative (k ≤ 4).
/// The jackknife over probes overestimates by a factor about 2 here (it measures XTrace with
/// k − 1 probes, whose variance falls faster than 1/k).
inline std::pair<double, double> exchangeable_mean_variance(const Vector<double>& t,
                                                            const Matrix<double>& delta) {
  const Index k = t.size();
  const double mean = t.mean();
  if (k < 2) return {mean, 0.0};
  const double s2 = (t.array() - mean).square().sum() / double(k - 1);
  const double cross = (delta.array() * delta.transpose().array()).sum() / double(k * (k - 1));
  return {mean, s2 / double(k) + std::max(cross, 0.0)};
}

template <LinearOperator Op>
Estimate<scalar_t<Op>> xtrace(const Op& op, const TraceOptions& o, double offset) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  const Index k_max = std::min(o.max_matvecs / 2, n);
  const bool gaussian = o.distribution == random::Distribution::Gaussian;
  Estimate<S> e;
  Sketch<S> sk(n);
  Vector<double> t;
  Matrix<double> delta;
  bool stopped = false;
  for (;;) {
    const Index k = o.rel_tol > 0 ? next_checkpoint(sk.cols(), k_max, o.min_samples) : k_max;
    grow_sketch<false>(op, sk, k, o.distribution, o.seed, o.block_size, "estimate_trace");
    xtrace_terms(sk, gaussian, t, delta);
    const auto [mean, var] = exchangeable_mean_variance(t, delta);
    e.value = static_cast<S>(offset + mean);
    e.standard_error = static_cast<S>(std::sqrt(var));
    if (converged(std::sqrt(var), offset + mean, o.rel_tol, k, o.min_samples)) {
      stopped = true;
      break;
    }
    if (k == k_max) break;
  }
  e.matvecs = 2 * sk.cols();
  e.samples = sk.cols();
  e.info = (o.rel_tol > 0 && !stopped) ? Info::NoConvergence : Info::Success;
  return e;
}

template <LinearOperator Op>
Estimate<scalar_t<Op>> trace_dispatch(const Op& op, const TraceOptions& o, double offset) {
  // `offset` is a known part of the trace (a control variate's): it is added to the estimate and
  // the adaptive rule judges the standard error against the full trace.
  switch (o.method) {
    case TraceMethod::HutchPlusPlus: return hutchpp_trace(op, o, offset);
    case TraceMethod::XTrace: return xtrace(op, o, offset);
    case TraceMethod::Hutchinson: break;
  }
  return hutchinson_trace(op, o, offset);
}

}  // namespace detail

/// Estimates tr(A) of a square operator from matrix-vector products only.
///
/// Every result carries the estimate, its standard error and the products used (see
/// `Estimate`). The probes are counter-based: probe j is the same whatever `block_size` and
/// thread count, so results agree across block sizes up to the rounding of the products.
///
/// \param op any square `LinearOperator` (a Hessian-vector product through `function_operator`)
/// \param options method, budget, adaptive tolerance, block size, seed (`validate()`d)
/// \throws std::invalid_argument for bad options, DimensionMismatch for a non-square operator,
///         InvalidInput when the operator returns NaN or Inf
///
/// **Cost:** `max_matvecs` products (fewer when the adaptive rule stops); O(n·block_size) extra
/// memory for Hutchinson, O(n·m) for Hutch++ and XTrace (plus O(n·m² + m³) flops for their QR
/// and XTrace's standard error, at each of XTrace's adaptive checks).
///
/// **Reference:** Hutchinson (1989); Meyer, Musco, Musco, Woodruff, "Hutch++: optimal stochastic
/// trace estimation", SOSA 2021; Epperly, Tropp, Webber, "XTrace: making the most of every
/// sample in stochastic trace estimation", SIMAX 2024.
template <LinearOperator Op>
[[nodiscard]] Estimate<scalar_t<Op>> estimate_trace(const Op& op, const TraceOptions& options = {}) {
  options.validate();
  detail::require_square(op, "estimate_trace");
  return detail::trace_dispatch(op, options, 0.0);
}

/// Estimates tr(A) with a control variate C whose trace is known exactly: the estimator sees
/// only A − C and adds tr(C) back, \f$ \hat t = \mathrm{tr}(C) + \widehat{\mathrm{tr}}(A - C) \f$.
/// Unbiased for any C; the variance is that of the estimator on A − C, small when C is a good
/// approximation (a K-FAC or diagonal approximation of the Hessian).
///
/// tr(C) is the sum of `curvop::diagonal(C)` (the member `diagonal()` when C has one, else n
/// unit-vector products). Products with C are reported in `control_matvecs`, apart from the
/// products with A in `matvecs`.
///
/// **Cost:** that of `estimate_trace` plus one product with C per product with A.
///
/// **Reference:** the control-variate form of Hutchinson, e.g. Adams et al., "Estimating the
/// spectral density of large implicit matrices", 2018, §4.
template <LinearOperator Op, LinearOperator Cv>
[[nodiscard]] Estimate<scalar_t<Op>> estimate_trace(const Op& op, const Cv& control,
                                                    const TraceOptions& options = {}) {
  options.validate();
  detail::require_square(op, "estimate_trace");
  detail::require_control_variate(op, control, "estimate_trace");
  const double tr_c = curvop::diagonal(control).template cast<double>().sum();
  const detail::DifferenceOperator<Op, Cv> diff(op, control);
  auto e = detail::trace_dispatch(diff, options, tr_c);
  // One product with C per product with A − C, plus the unit vectors of a derived diagonal.
  e.control_matvecs = e.matvecs + (DiagonalExtractable<Cv> ? 0 : op.rows());
  return e;
}

}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_TRACE_HPP
