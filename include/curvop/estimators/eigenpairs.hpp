// SPDX-License-Identifier: MIT
// Extreme eigenpairs of a symmetric operator from products only: thick-restart Lanczos with full
// reorthogonalisation, and power iteration with deflation (PyHessian's method).
#ifndef CURVOP_ESTIMATORS_EIGENPAIRS_HPP
#define CURVOP_ESTIMATORS_EIGENPAIRS_HPP

#include <Eigen/Eigenvalues>
#include <curvop/estimators/common.hpp>
#include <numeric>
#include <vector>

namespace curvop {

/// Which end of the spectrum `top_eigenpairs` finds.
enum class Which {
  LargestAlgebraic,   ///< the k largest λ (a Hessian's sharpness directions)
  SmallestAlgebraic,  ///< the k smallest λ (negative curvature)
  LargestMagnitude    ///< the k largest |λ|
};

/// The algorithm of `top_eigenpairs`.
enum class EigenMethod {
  Lanczos,        ///< thick-restart Lanczos, full reorthogonalisation (the default)
  PowerIteration  ///< power iteration with deflation: one pair at a time (largest |λ| only)
};

/// Options of `top_eigenpairs`.
struct EigenOptions {
  /// The algorithm.
  EigenMethod method = EigenMethod::Lanczos;
  /// The end of the spectrum wanted.
  Which which = Which::LargestAlgebraic;
  /// Convergence: every wanted pair has ‖A x − θ x‖ ≤ tol·max(|θ_1|, tiny) (θ_1 the largest
  /// Ritz value in magnitude, an estimate of ‖A‖₂). 0 selects eps^(3/4) of the scalar type.
  double tol = 0.0;
  /// Lanczos basis size before a thick restart (ARPACK's ncv); 0 selects
  /// min(n, max(2k + 1, 20)), ARPACK's default.
  Index krylov_dim = 0;
  /// Budget of products with the operator.
  Index max_matvecs = 10000;
  /// Seed of the random starting vector(s).
  std::uint64_t seed = 0;

  /// Throws `std::invalid_argument` naming the option, the rule and the value.
  void validate() const {
    detail::require_argument(std::isfinite(tol) && tol >= 0 && tol < 1, "estimators::EigenOptions",
                             "tol must be in [0, 1)", tol);
    detail::require_argument(krylov_dim >= 0, "estimators::EigenOptions",
                             "krylov_dim must be >= 0 (0: automatic)", krylov_dim);
    detail::require_argument(max_matvecs >= 1, "estimators::EigenOptions",
                             "max_matvecs must be >= 1", max_matvecs);
    detail::require_argument(method == EigenMethod::Lanczos || which == Which::LargestMagnitude,
                             "estimators::EigenOptions",
                             "power iteration finds the largest magnitudes only: which must be "
                             "LargestMagnitude; which",
                             static_cast<int>(which));
  }
};

/// k eigenpairs with their residual norms ‖A xᵢ − λᵢ xᵢ‖ (as estimated by the iteration: for
/// Lanczos |β·u_{m,i}|, exact up to rounding thanks to full reorthogonalisation).
/// `values` are sorted from the wanted end (descending for LargestAlgebraic). `info` is
/// `NoConvergence` when the budget ran out first (the best pairs so far are returned).
template <class S>
struct Eigenpairs {
  Vector<S> values;     ///< λ_i, from the wanted end
  Matrix<S> vectors;    ///< n x k, orthonormal columns
  Vector<S> residuals;  ///< ‖A xᵢ − λᵢ xᵢ‖₂
  Index matvecs = 0;   ///< products with the operator
  Index restarts = 0;  ///< thick restarts (Lanczos) or iterations (power)
  Info info = Info::Success;  ///< Success, NoConvergence or NumericalIssue
};

namespace detail {

/// Orders Ritz values from the wanted end: the first k indices are the wanted ones.
template <class S>
std::vector<Index> wanted_order(const Vector<S>& theta, Which which) {
  std::vector<Index> idx(static_cast<std::size_t>(theta.size()));
  std::iota(idx.begin(), idx.end(), Index(0));
  std::stable_sort(idx.begin(), idx.end(), [&](Index a, Index b) {
    switch (which) {
      case Which::SmallestAlgebraic: return theta(a) < theta(b);
      case Which::LargestMagnitude: return std::abs(theta(a)) > std::abs(theta(b));
      case Which::LargestAlgebraic: break;
    }
    return theta(a) > theta(b);
  });
  return idx;
}

/// w ← w − V Vᵀ w twice (classical Gram–Schmidt with one reorthogonalisation, "twice is
/// enough"); returns the coefficients of the first pass plus the second.
template <class S>
Vector<S> orthogonalize(const Eigen::Ref<const Matrix<S>>& v, Eigen::Ref<Vector<S>> w) {
  Vector<S> h = v.transpose() * w;
  w.noalias() -= v * h;
  const Vector<S> h2 = v.transpose() * w;
  w.noalias() -= v * h2;
  return h + h2;
}

/// A random unit vector orthogonal to the columns of V (a fresh start after an invariant
/// subspace was found). Returns false when V already spans the space.
template <class S>
bool random_orthogonal(const Eigen::Ref<const Matrix<S>>& v, Eigen::Ref<Vector<S>> w,
                       std::uint64_t seed, std::uint64_t counter) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    Matrix<S> g = random::probes<S>(w.size(), 1, random::Distribution::Gaussian, seed,
                                    counter + static_cast<std::uint64_t>(attempt), 2);
    w = g.col(0);
    if (v.cols() > 0) orthogonalize<S>(v, w);
    const S nw = w.norm();
    if (nw > S(1e-3) * std::sqrt(static_cast<S>(w.size()))) {
      w /= nw;
      return true;
    }
  }
  return false;
}

template <LinearOperator Op>
Eigenpairs<scalar_t<Op>> lanczos_eigenpairs(const Op& op, Index k, const EigenOptions& o) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  const double tol = o.tol > 0 ? o.tol : std::pow(double(Eigen::NumTraits<S>::epsilon()), 0.75);
  Index m = o.krylov_dim > 0 ? o.krylov_dim : std::max<Index>(2 * k + 1, 20);
  m = std::min(std::max(m, k + 1), n);
  Eigenpairs<S> res;
  // V: n x (m + 1) Lanczos basis; H = Vᵀ A V (m x m) built column by column from the full
  // projection coefficients, so that the arrow matrix of a thick restart needs no special case.
  Matrix<S> v(n, m + 1);
  Matrix<S> h = Matrix<S>::Zero(m, m);
  Vector<S> w(n);
  {
    Matrix<S> g = random::probes<S>(n, 1, random::Distribution::Gaussian, o.seed, 0, 2);
    v.col(0) = g.col(0) / g.norm();
  }
  std::uint64_t restart_counter = 1;
  Index j = 0;        // next column to expand
  S beta = S(0);      // norm of the residual after column m - 1
  Vector<S> theta;    // Ritz values
  Matrix<S> u;        // Ritz vectors of H
  std::vector<Index> order;
  Matrix<S> av(n, 1);
  for (;;) {
    for (; j < m; ++j) {
      apply_checked(op, v.col(j), av, "top_eigenpairs");
      ++res.matvecs;
      w = av.col(0);
      const Vector<S> c = orthogonalize<S>(v.leftCols(j + 1), w);
      // Symmetric: the coefficients are H's column j (and row j).
      h.col(j).head(j + 1) = c;
      h.row(j).head(j + 1) = c.transpose();
      beta = w.norm();
      const S scale = std::max(h.col(j).head(j + 1).cwiseAbs().maxCoeff(), beta);
      if (beta <= S(10) * Eigen::NumTraits<S>::epsilon() * std::max(scale, S(1e-30)) ||
          !(beta > S(0))) {
        // Invariant subspace: continue with a random direction orthogonal to it (its coupling
        // to the previous block is zero).
        beta = S(0);
        if (j + 1 < m) {
          Vector<S> fresh(n);
          if (!random_orthogonal<S>(v.leftCols(j + 1), fresh, o.seed, 3 * restart_counter++)) {
            m = j + 1;
            break;
          }
          v.col(j + 1) = fresh;
        } else {
          v.col(j + 1).setZero();
        }
      } else {
        v.col(j + 1) = w / beta;
        if (j + 1 < m) h(j + 1, j) = h(j, j + 1) = S(0);  // filled by the next column
      }
    }
    Eigen::SelfAdjointEigenSolver<Matrix<S>> es(h.topLeftCorner(m, m));
    theta = es.eigenvalues();
    u = es.eigenvectors();
    order = wanted_order<S>(theta, o.which);
    const S norm_est = std::max(theta.cwiseAbs().maxCoeff(), std::numeric_limits<S>::min());
    bool done = true;
    for (Index i = 0; i < k; ++i) {
      const Index c = order[static_cast<std::size_t>(i)];
      if (std::abs(beta * u(m - 1, c)) > S(tol) * norm_est) done = false;
    }
    if (done || m == n || res.matvecs + (m - k) > o.max_matvecs) {
      res.info = done || m == n ? Info::Success : Info::NoConvergence;
      break;
    }
    // Thick restart: keep p Ritz vectors (the k wanted plus half of the rest, which keeps the
    // convergence of the unwanted-but-close ones), then continue from the residual direction.
    const Index p = std::min<Index>(m - 1, k + (m - k) / 2);
    Matrix<S> keep(m, p);
    Vector<S> th(p);
    for (Index i = 0; i < p; ++i) {
      keep.col(i) = u.col(order[static_cast<std::size_t>(i)]);
      th(i) = theta(order[static_cast<std::size_t>(i)]);
    }
    const Matrix<S> vk = v.leftCols(m) * keep;
    v.leftCols(p) = vk;
    v.col(p) = v.col(m);
    h.setZero();
    h.topLeftCorner(p, p) = th.asDiagonal();
    // Coupling of the kept Ritz vectors to the residual direction: β·u_{m,i}.
    for (Index i = 0; i < p; ++i) h(p, i) = h(i, p) = beta * keep(m - 1, i);
    // Column p is recomputed in full by the next expansion (its projection gives the coupling
    // again, to rounding), which keeps the reorthogonalisation exact.
    j = p;
    ++res.restarts;
  }
  res.values.resize(k);
  res.residuals.resize(k);
  Matrix<S> uk(m, k);
  for (Index i = 0; i < k; ++i) {
    const Index c = order[static_cast<std::size_t>(i)];
    res.values(i) = theta(c);
    res.residuals(i) = std::abs(beta * u(m - 1, c));
    uk.col(i) = u.col(c);
  }
  res.vectors = v.leftCols(m) * uk;
  return res;
}

template <LinearOperator Op>
Eigenpairs<scalar_t<Op>> power_eigenpairs(const Op& op, Index k, const EigenOptions& o) {
  using S = scalar_t<Op>;
  const Index n = op.rows();
  const double tol = o.tol > 0 ? o.tol : std::pow(double(Eigen::NumTraits<S>::epsilon()), 0.75);
  Eigenpairs<S> res;
  res.values.resize(k);
  res.residuals.resize(k);
  res.vectors.resize(n, k);
  Matrix<S> av(n, 1);
  Vector<S> x(n);
  S scale = S(0);  // largest |λ| found: the residual tolerance is relative to it
  for (Index i = 0; i < k; ++i) {
    if (!random_orthogonal<S>(res.vectors.leftCols(i), x, o.seed, 3 * static_cast<std::uint64_t>(i) + 1)) {
      res.info = Info::NumericalIssue;
      break;
    }
    S lambda = S(0), r = std::numeric_limits<S>::infinity();
    bool conv = false;
    while (res.matvecs < o.max_matvecs) {
      apply_checked(op, x, av, "top_eigenpairs");
      ++res.matvecs;
      ++res.restarts;
      Vector<S> y = av.col(0);
      // Deflation: work in the complement of the pairs already found.
      if (i > 0) orthogonalize<S>(res.vectors.leftCols(i), y);
      lambda = x.dot(y);
      r = (y - lambda * x).norm();
      const S ny = y.norm();
      scale = std::max(scale, std::abs(lambda));
      if (r <= S(tol) * std::max(scale, std::numeric_limits<S>::min())) {
        conv = true;
        break;
      }
      if (!(ny > S(0))) {  // A x = 0 on the complement: λ = 0 is exact
        conv = true;
        break;
      }
      x = y / ny;
    }
    res.values(i) = lambda;
    res.residuals(i) = r;
    res.vectors.col(i) = x;
    if (!conv) res.info = Info::NoConvergence;
  }
  return res;
}

}  // namespace detail

/// The k eigenpairs of a symmetric operator at one end of its spectrum.
///
/// Lanczos (default): builds an orthonormal Krylov basis V with full reorthogonalisation (every
/// new vector is orthogonalised twice against all of V, so Ritz values never repeat as "ghosts"),
/// the projection H = VᵀAV and its eigenpairs (θ, u). The residual of a Ritz pair is
/// \f$ \|A Vu - \theta Vu\| = |\beta_m u_m| \f$. When the k wanted residuals are not yet below
/// tol·‖A‖, it restarts thickly (Wu–Simon): it keeps the k wanted and (m−k)/2 further Ritz
/// vectors and the residual direction, so memory stays n·(m+1).
///
/// Power iteration: \f$ x \leftarrow (I - XX^T) A x / \|\cdot\| \f$ with X the pairs already
/// found (deflation), until ‖Ax − λx‖ ≤ tol·|λ_1|; one pair at a time, for `LargestMagnitude`.
/// Converges at rate |λ_{i+1}/λ_i| per product; kept for comparison with PyHessian.
///
/// \param op a square operator, symmetric (`is_symmetric_v`) — a Hessian-vector product
/// \param k number of pairs, 1 ≤ k < n for Lanczos (k ≤ n for power iteration)
/// \throws std::invalid_argument for k out of range or bad options; InvalidInput on NaN/Inf products
///
/// **Cost:** products: typically a few times k + m per restart; memory n·(m+1); flops per
/// product O(n·m) for the reorthogonalisation plus O(m³) per restart.
///
/// **Reference:** Wu, Simon, "Thick-restart Lanczos method for large symmetric eigenvalue
/// problems", SIMAX 2000; Yao et al., "PyHessian", 2020 (power iteration).
template <LinearOperator Op>
  requires is_symmetric_v<Op>
[[nodiscard]] Eigenpairs<scalar_t<Op>> top_eigenpairs(const Op& op, Index k,
                                                      const EigenOptions& options = {}) {
  options.validate();
  detail::require_square(op, "top_eigenpairs");
  const Index n = op.rows();
  if (options.method == EigenMethod::Lanczos) {
    detail::require_argument(k >= 1 && k < n, "top_eigenpairs",
                             "k must satisfy 1 <= k < n (n = " + std::to_string(n) + ") for Lanczos; k",
                             k);
    return detail::lanczos_eigenpairs(op, k, options);
  }
  detail::require_argument(k >= 1 && k <= n, "top_eigenpairs",
                           "k must satisfy 1 <= k <= n (n = " + std::to_string(n) + "); k", k);
  return detail::power_eigenpairs(op, k, options);
}

}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_EIGENPAIRS_HPP
