// SPDX-License-Identifier: MIT
// Extreme eigenpairs of a symmetric operator from products only: thick-restart Lanczos with full
// reorthogonalisation, and power iteration with deflation (PyHessian's method).
#ifndef CURVOP_ESTIMATORS_EIGENPAIRS_HPP
#define CURVOP_ESTIMATORS_EIGENPAIRS_HPP

#include <Eigen/Eigenvalues>
#include <curvop/estimators/common.hpp>
#include <numeric>
#include <type_traits>
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

/// k eigenpairs with their residual norms ‖A xᵢ − λᵢ xᵢ‖ (Lanczos: computed from the product
/// of the final Rayleigh–Ritz step; power iteration: from its last product).
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

/// xᵀy with a compensated sum: Ogita, Rump and Oishi's Dot2 (each product split exactly by an
/// FMA, each addition by TwoSum), as accurate as a dot product in twice the working precision
/// rounded once; float accumulates in double instead (a product of floats is exact there).
///
/// Why: a plain dot product of n terms of one sign (a squared norm, xᵀAx for an eigenvector)
/// carries a relative error of about √n·eps, 1e-15 to 4e-15 at n = 4096 even with Eigen's
/// vectorised accumulators. Cost: O(n), a few flops per entry.
template <class S>
S accurate_dot(const Eigen::Ref<const Vector<S>>& x, const Eigen::Ref<const Vector<S>>& y) {
  if constexpr (std::is_same_v<S, float>) {
    double s = 0;
    for (Index i = 0; i < x.size(); ++i) s += double(x(i)) * double(y(i));
    return static_cast<S>(s);
  } else {
    S s = 0, c = 0;
    for (Index i = 0; i < x.size(); ++i) {
      const S p = x(i) * y(i);
      const S ep = std::fma(x(i), y(i), -p);  // p + ep = x_i y_i exactly
      const S t = s + p;
      const S z = t - s;
      c += ((s - (t - z)) + (p - z)) + ep;  // TwoSum error of s + p, plus the product's
      s = t;
    }
    return s + c;
  }
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

/// Final Rayleigh–Ritz step on the k Ritz vectors X of the Lanczos basis: X is
/// re-orthonormalised (Gram–Schmidt twice, norms and coefficients by `accurate_dot`), then one
/// block product AX (k columns), \f$ G = X^T A X \f$ with every entry by `accurate_dot`, G = W Θ Wᵀ,
/// and the pairs become (Θ, XW) with the true residuals ‖AXW − XWΘ‖ computed from AX.
///
/// Why: the Ritz values of H carry the rounding of the n-term sums that built H (the Lanczos
/// vectors drift off unit length by about √n·eps and H is then the projection onto a slightly
/// non-orthonormal basis): 4e-15 relative error at n = 4096 where ARPACK reaches 0.6e-15 to
/// 1.7e-15 (issue #5; measured against long-double Rayleigh quotients of the same matrix). The
/// converged vectors are accurate to ‖r‖/gap, so their Rayleigh quotients are accurate to
/// ‖r‖²/gap plus the rounding of one product and one compensated dot: about eps·‖A‖.
/// Cost: k products (one multi-RHS apply), O(nk²) flops.
template <LinearOperator Op>
void rayleigh_ritz_refine(const Op& op, Eigenpairs<scalar_t<Op>>& res) {
  using S = scalar_t<Op>;
  Matrix<S>& x = res.vectors;
  const Index n = x.rows(), k = x.cols();
  for (Index j = 0; j < k; ++j) {
    for (int pass = 0; pass < 2; ++pass) {
      for (Index i = 0; i < j; ++i) x.col(j) -= accurate_dot<S>(x.col(i), x.col(j)) * x.col(i);
    }
    x.col(j) /= std::sqrt(accurate_dot<S>(x.col(j), x.col(j)));
  }
  Matrix<S> ax(n, k);
  apply_checked(op, x, ax, "top_eigenpairs");
  res.matvecs += k;
  Matrix<S> g(k, k);
  for (Index j = 0; j < k; ++j) {
    for (Index i = 0; i <= j; ++i) {
      // Symmetric A: the mean of the two orders halves the rounding of an asymmetric product.
      g(i, j) = g(j, i) =
          S(0.5) * (accurate_dot<S>(x.col(i), ax.col(j)) + accurate_dot<S>(x.col(j), ax.col(i)));
    }
  }
  Eigen::SelfAdjointEigenSolver<Matrix<S>> es(g);
  // Keep the order of the Lanczos pairs (the wanted end first): each refined value is matched
  // with the nearest unused Lanczos value (they agree to about ‖r‖).
  std::vector<Index> idx;
  const Vector<S> th = es.eigenvalues();
  Matrix<S> w(k, k);
  Vector<S> vals(k);
  for (Index i = 0; i < k; ++i) {
    Index best = 0;
    S dist = std::numeric_limits<S>::infinity();
    for (Index c = 0; c < k; ++c) {
      const S d = std::abs(th(c) - res.values(i));
      if (d < dist && std::find(idx.begin(), idx.end(), c) == idx.end()) {
        dist = d;
        best = c;
      }
    }
    idx.push_back(best);
    vals(i) = th(best);
    w.col(i) = es.eigenvectors().col(best);
  }
  const Matrix<S> xw = x * w, axw = ax * w;
  x = xw;
  res.values = vals;
  for (Index i = 0; i < k; ++i) res.residuals(i) = (axw.col(i) - vals(i) * xw.col(i)).norm();
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
  if (res.matvecs + k <= o.max_matvecs) rayleigh_ritz_refine(op, res);
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
/// vectors and the residual direction, so memory stays n·(m+1). A final Rayleigh–Ritz step on
/// the k converged vectors (one block product, compensated dot products: see
/// `detail::rayleigh_ritz_refine`) brings the values to a few eps·‖A‖ of the exact ones, below
/// the √n·eps rounding that H itself carries; it is skipped when the budget has no k products
/// left.
///
/// Power iteration: \f$ x \leftarrow (I - XX^T) A x / \|\cdot\| \f$ with X the pairs already
/// found (deflation), until ‖Ax − λx‖ ≤ tol·|λ_1|; one pair at a time, for `LargestMagnitude`.
/// Converges at rate |λ_{i+1}/λ_i| per product; kept for comparison with PyHessian.
///
/// \param op a square operator, symmetric (`is_symmetric_v`) — a Hessian-vector product
/// \param k number of pairs, 1 ≤ k < n for Lanczos (k ≤ n for power iteration)
/// \throws std::invalid_argument for k out of range or bad options; InvalidInput on NaN/Inf products
///
/// **Cost:** products: typically a few times k + m per restart, plus k (one multi-RHS apply) for
/// the final Rayleigh–Ritz step; memory n·(m+1); flops per product O(n·m) for the
/// reorthogonalisation plus O(m³) per restart.
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
