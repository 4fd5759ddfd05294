// SPDX-License-Identifier: MIT
// Stochastic Lanczos quadrature (SLQ): the spectral density of a symmetric operator, tr f(A) and
// the log-determinant from products only, with blocked probes.
#ifndef CURVOP_ESTIMATORS_SLQ_HPP
#define CURVOP_ESTIMATORS_SLQ_HPP

#include <Eigen/Eigenvalues>
#include <cmath>
#include <curvop/estimators/trace.hpp>
#include <numbers>
#include <vector>

namespace curvop {

/// Options of `spectral_density`, `estimate_trace_function` and `estimate_logdet`.
struct SlqOptions {
  /// Lanczos steps per probe m (quadrature nodes per probe). Gauss quadrature with m nodes is
  /// exact for polynomials of degree 2m − 1; 20–100 is typical.
  Index lanczos_steps = 30;
  /// Probes N (independent quadratures averaged).
  Index num_probes = 16;
  /// Probe entries (Rademacher: ‖v‖² = n exactly, the lower variance).
  random::Distribution distribution = random::Distribution::Rademacher;
  /// Probes run side by side, one multi-RHS `apply` per Lanczos step for the whole block.
  Index block_size = 8;
  /// Adaptive stopping of `estimate_trace_function`: stop once se ≤ rel_tol·|estimate|, checked
  /// after every probe in probe order. 0: use all `num_probes`.
  double rel_tol = 0.0;
  /// Fewest probes before the adaptive rule may stop.
  Index min_samples = 4;
  /// Density grid points (`spectral_density`).
  Index grid_points = 1000;
  /// Standard deviation of the Gaussian that smooths each node; 0 selects
  /// 1% of the span of the nodes (of max(|λ|, 1) when they coincide).
  double sigma = 0.0;
  /// Seed of the counter-based probes.
  std::uint64_t seed = 0;

  /// Throws `std::invalid_argument` naming the option, the rule and the value.
  void validate() const {
    detail::require_argument(lanczos_steps >= 1, "estimators::SlqOptions",
                             "lanczos_steps must be >= 1", lanczos_steps);
    detail::require_argument(num_probes >= 1, "estimators::SlqOptions", "num_probes must be >= 1",
                             num_probes);
    detail::require_argument(block_size >= 1, "estimators::SlqOptions", "block_size must be >= 1",
                             block_size);
    detail::require_argument(std::isfinite(rel_tol) && rel_tol >= 0, "estimators::SlqOptions",
                             "rel_tol must be finite and >= 0", rel_tol);
    detail::require_argument(min_samples >= 2, "estimators::SlqOptions",
                             "min_samples must be >= 2", min_samples);
    detail::require_argument(grid_points >= 2, "estimators::SlqOptions",
                             "grid_points must be >= 2", grid_points);
    detail::require_argument(std::isfinite(sigma) && sigma >= 0, "estimators::SlqOptions",
                             "sigma must be finite and >= 0", sigma);
  }
};

/// The Gauss quadrature of one probe v: nodes θ_j (Ritz values of the m-step Lanczos
/// tridiagonal T from v/‖v‖) and weights τ_j = (first component of T's j-th eigenvector)²,
/// which sum to 1; \f$ v^T f(A) v \approx \|v\|^2 \sum_j \tau_j f(\theta_j) \f$.
template <class S>
struct Quadrature {
  Vector<S> nodes;    ///< θ_j, ascending
  Vector<S> weights;  ///< τ_j, summing to 1
  S probe_norm2 = S(0);  ///< ‖v‖²
};

/// A smoothed spectral density \f$ \phi(t) = \frac1N \sum_{p,j} \tau_{pj}\,
/// \mathcal N(t;\theta_{pj},\sigma^2) \f$ (integrates to 1; the eigenvalue count in [a, b] is
/// about n·∫_a^b φ), with the quadratures it came from.
template <class S>
struct SpectralDensity {
  Vector<S> grid;     ///< evaluation points
  Vector<S> density;  ///< φ on the grid
  S sigma = S(0);     ///< the smoothing width used
  std::vector<Quadrature<S>> quadratures;  ///< one per probe
  Index matvecs = 0;
};

namespace detail {

/// m-step Lanczos with full reorthogonalisation from each column of V0, the columns advanced
/// together (one multi-RHS apply per step over the probes still running). A probe whose Krylov
/// space closes early (β below 1000·eps·‖T‖) stops with fewer nodes.
template <LinearOperator Op>
std::vector<Quadrature<scalar_t<Op>>> lanczos_quadratures(const Op& op,
                                                          const Matrix<scalar_t<Op>>& v0,
                                                          Index steps, Index& matvecs) {
  using S = scalar_t<Op>;
  const Index n = op.rows(), b = v0.cols();
  const Index m = std::min(steps, n);
  std::vector<Matrix<S>> basis(static_cast<std::size_t>(b), Matrix<S>(n, m));
  std::vector<Vector<S>> alpha(static_cast<std::size_t>(b), Vector<S>::Zero(m));
  std::vector<Vector<S>> beta(static_cast<std::size_t>(b), Vector<S>::Zero(m));
  std::vector<Index> len(static_cast<std::size_t>(b), 0);
  std::vector<S> norm2(static_cast<std::size_t>(b)), scale(static_cast<std::size_t>(b), S(0));
  std::vector<bool> active(static_cast<std::size_t>(b), true);
  for (Index p = 0; p < b; ++p) {
    const auto up = static_cast<std::size_t>(p);
    norm2[up] = v0.col(p).squaredNorm();
    basis[up].col(0) = v0.col(p) / std::sqrt(norm2[up]);
  }
  Matrix<S> x(n, b), ax(n, b);
  std::vector<Index> act;
  for (Index j = 0; j < m; ++j) {
    act.clear();
    for (Index p = 0; p < b; ++p)
      if (active[static_cast<std::size_t>(p)]) act.push_back(p);
    if (act.empty()) break;
    const Index na = static_cast<Index>(act.size());
    for (Index a = 0; a < na; ++a) x.col(a) = basis[static_cast<std::size_t>(act[static_cast<std::size_t>(a)])].col(j);
    apply_checked(op, x.leftCols(na), ax.leftCols(na), "stochastic Lanczos quadrature");
    matvecs += na;
    for (Index a = 0; a < na; ++a) {
      const auto p = static_cast<std::size_t>(act[static_cast<std::size_t>(a)]);
      Vector<S> w = ax.col(a);
      const auto vb = basis[p].leftCols(j + 1);
      // Full reorthogonalisation, twice: α_j is the coefficient on v_j, the rest is rounding.
      Vector<S> c = vb.transpose() * w;
      w.noalias() -= vb * c;
      const Vector<S> c2 = vb.transpose() * w;
      w.noalias() -= vb * c2;
      alpha[p](j) = c(j) + c2(j);
      len[p] = j + 1;
      const S bt = w.norm();
      scale[p] = std::max({scale[p], std::abs(alpha[p](j)), bt});
      if (j + 1 == m || !(bt > S(1000) * Eigen::NumTraits<S>::epsilon() * scale[p])) {
        active[p] = false;
        continue;
      }
      beta[p](j) = bt;
      basis[p].col(j + 1) = w / bt;
    }
  }
  std::vector<Quadrature<S>> out(static_cast<std::size_t>(b));
  for (Index p = 0; p < b; ++p) {
    const auto up = static_cast<std::size_t>(p);
    const Index l = len[up];
    Eigen::SelfAdjointEigenSolver<Matrix<S>> es;
    Vector<S> sub = beta[up].head(std::max<Index>(l - 1, 0));
    es.computeFromTridiagonal(alpha[up].head(l), sub, Eigen::ComputeEigenvectors);
    out[up].nodes = es.eigenvalues();
    out[up].weights = es.eigenvectors().row(0).transpose().cwiseAbs2();
    out[up].probe_norm2 = norm2[up];
  }
  return out;
}

/// Runs SLQ over the probes in blocks; calls `visit(probe_index, quadrature)` in probe order and
/// stops early when it returns true.
template <LinearOperator Op, class Visit>
Index slq_probes(const Op& op, const SlqOptions& o, Visit&& visit) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  Index matvecs = 0;
  for (Index j0 = 0; j0 < o.num_probes; j0 += o.block_size) {
    const Index b = std::min(o.block_size, o.num_probes - j0);
    const Matrix<S> v = random::probes<S>(n, b, o.distribution, o.seed,
                                          static_cast<std::uint64_t>(j0), kProbeStream);
    const auto q = lanczos_quadratures(op, v, o.lanczos_steps, matvecs);
    for (Index p = 0; p < b; ++p) {
      if (visit(j0 + p, q[static_cast<std::size_t>(p)])) return matvecs;
    }
  }
  return matvecs;
}

}  // namespace detail

/// Estimates tr f(A) of a symmetric operator by stochastic Lanczos quadrature:
/// \f$ \mathrm{tr} f(A) \approx \frac1N \sum_p \|v_p\|^2 \sum_j \tau_{pj} f(\theta_{pj}) \f$.
///
/// The per-probe terms are independent, so the standard error is their sample standard
/// deviation over √N. The quadrature error is small when f is smooth on the spectrum (it decays
/// like the Chebyshev error of degree 2m). If f returns a non-finite value at a node (log of a
/// non-positive Ritz value) the result has `info == NumericalIssue` and a NaN value, flagged, not
/// silent.
///
/// \param f callable double → double
/// **Cost:** N·m products (one multi-RHS apply of `block_size` columns per step), O(N·m·n·m)
/// flops of reorthogonalisation, O(block_size·n·m) memory.
///
/// **Reference:** Ubaru, Chen, Saad, "Fast estimation of tr(f(A)) via stochastic Lanczos
/// quadrature", SIMAX 2017.
template <LinearOperator Op, class F>
  requires is_symmetric_v<Op> && std::invocable<const F&, double>
[[nodiscard]] Estimate<scalar_t<Op>> estimate_trace_function(const Op& op, const F& f,
                                                             const SlqOptions& options = {}) {
  using S = scalar_t<Op>;
  options.validate();
  detail::require_square(op, "estimate_trace_function");
  detail::RunningMoments mom;
  bool stopped = false, finite = true;
  Estimate<S> e;
  e.matvecs = detail::slq_probes(op, options, [&](Index, const Quadrature<S>& q) {
    double s = 0;
    for (Index j = 0; j < q.nodes.size(); ++j) {
      s += double(q.weights(j)) * static_cast<double>(f(double(q.nodes(j))));
    }
    s *= double(q.probe_norm2);
    if (!std::isfinite(s)) {
      finite = false;
      return true;
    }
    mom.push(s);
    stopped = detail::converged(mom.standard_error(), mom.mean, options.rel_tol, mom.count,
                                options.min_samples);
    return stopped;
  });
  e.samples = mom.count;
  if (!finite) {
    e.value = std::numeric_limits<S>::quiet_NaN();
    e.standard_error = std::numeric_limits<S>::quiet_NaN();
    e.info = Info::NumericalIssue;
    return e;
  }
  e.value = static_cast<S>(mom.mean);
  e.standard_error = static_cast<S>(mom.standard_error());
  e.info = (options.rel_tol > 0 && !stopped) ? Info::NoConvergence : Info::Success;
  return e;
}

/// log det A of a symmetric positive definite operator by SLQ, tr log(A). A Ritz value ≤ 0
/// (A not positive definite) gives `info == NumericalIssue`.
///
/// **Cost:** that of `estimate_trace_function`.
/// **Reference:** Ubaru, Chen, Saad 2017; Gardner et al., GPyTorch, 2018.
template <LinearOperator Op>
  requires is_symmetric_v<Op>
[[nodiscard]] Estimate<scalar_t<Op>> estimate_logdet(const Op& op, const SlqOptions& options = {}) {
  return estimate_trace_function(op, [](double t) { return std::log(t); }, options);
}

/// The spectral density of a symmetric operator by SLQ, smoothed by Gaussians of width σ on a
/// grid over [min θ − 5σ, max θ + 5σ] (PyHessian's `density`, without its renormalisation: the
/// Gauss weights already sum to 1 per probe).
///
/// **Cost:** N·m products; O(grid_points·N·m) to evaluate the density.
/// **Reference:** Lin, Saad, Yang, "Approximating spectral densities of large matrices", SIAM
/// Review 2016; Ghorbani, Krishnan, Xiao, "An investigation into neural net optimization via
/// Hessian eigenvalue density", ICML 2019.
template <LinearOperator Op>
  requires is_symmetric_v<Op>
[[nodiscard]] SpectralDensity<scalar_t<Op>> spectral_density(const Op& op,
                                                             const SlqOptions& options = {}) {
  using S = scalar_t<Op>;
  options.validate();
  detail::require_square(op, "spectral_density");
  SpectralDensity<S> d;
  d.matvecs = detail::slq_probes(op, options, [&](Index, const Quadrature<S>& q) {
    d.quadratures.push_back(q);
    return false;
  });
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& q : d.quadratures) {
    lo = std::min(lo, double(q.nodes.minCoeff()));
    hi = std::max(hi, double(q.nodes.maxCoeff()));
  }
  double sigma = options.sigma;
  if (sigma == 0) sigma = hi > lo ? 0.01 * (hi - lo) : 0.01 * std::max(std::abs(hi), 1.0);
  d.sigma = static_cast<S>(sigma);
  const Index g = options.grid_points;
  const double a = lo - 5 * sigma, b = hi + 5 * sigma;
  d.grid.resize(g);
  Vector<double> phi = Vector<double>::Zero(g);
  const double c = 1.0 / (std::sqrt(2.0 * std::numbers::pi) * sigma *
                          static_cast<double>(d.quadratures.size()));
  for (Index i = 0; i < g; ++i) {
    const double t = a + (b - a) * static_cast<double>(i) / static_cast<double>(g - 1);
    d.grid(i) = static_cast<S>(t);
    double s = 0;
    for (const auto& q : d.quadratures) {
      for (Index j = 0; j < q.nodes.size(); ++j) {
        const double z = (t - double(q.nodes(j))) / sigma;
        s += double(q.weights(j)) * std::exp(-0.5 * z * z);
      }
    }
    phi(i) = c * s;
  }
  d.density = phi.template cast<S>();
  return d;
}

}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_SLQ_HPP
