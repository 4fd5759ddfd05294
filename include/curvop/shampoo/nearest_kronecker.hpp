// SPDX-License-Identifier: MIT
// The Frobenius-optimal Kronecker approximation R ⊗ L of a curvature H = E[vec(G) vec(G)ᵀ] (or of
// any symmetric operator on vec(G)), by power iteration on the Van Loan rearrangement.
#ifndef CURVOP_SHAMPOO_NEAREST_KRONECKER_HPP
#define CURVOP_SHAMPOO_NEAREST_KRONECKER_HPP

#include <algorithm>
#include <cmath>
#include <curvop/concepts.hpp>
#include <curvop/config.hpp>
#include <span>
#include <string>
#include <vector>

namespace curvop::shampoo {

/// Options of `nearest_kronecker`.
struct KroneckerOptions {
  /// Power-iteration steps (≥ 1). One step from the identity gives Shampoo's L and R.
  int max_iterations = 50;
  /// Stop when both unit-norm factors move by at most this (Frobenius); 0 runs exactly
  /// `max_iterations` steps. A positive tolerance below the rounding floor of the scalar type,
  /// 100·√(rows·cols)·ε, is raised to that floor (1e-10 is out of reach in float, where the
  /// factors of a converged iteration still move by rounding).
  double tolerance = 1e-10;

  /// Throws `std::invalid_argument` naming the offending option.
  void validate() const {
    curvop::detail::require_argument(max_iterations >= 1, "shampoo::KroneckerOptions",
                             "max_iterations must be >= 1", max_iterations);
    curvop::detail::require_argument(std::isfinite(tolerance) && tolerance >= 0.0,
                             "shampoo::KroneckerOptions", "tolerance must be finite and >= 0",
                             tolerance);
  }
};

/// A Kronecker approximation \f$ H \approx \sigma\, (\hat R \otimes \hat L) \f$, i.e.
/// `sigma * kron(right, left)` in curvop's convention: it acts on vec(X) (X rows x cols) as
/// \f$ \sigma\,\mathrm{vec}(\hat L X \hat R^\top) \f$.
template <class S>
struct KroneckerApproximation {
  Matrix<S> left;    ///< \f$ \hat L \f$, rows x rows, symmetric, unit Frobenius norm, trace ≥ 0
  Matrix<S> right;   ///< \f$ \hat R \f$, cols x cols, symmetric, unit Frobenius norm, trace ≥ 0
  double sigma = 0;  ///< the optimal scale \f$ \langle H, \hat R \otimes \hat L\rangle_F \f$
  /// \f$ \|H - \sigma \hat R \otimes \hat L\|_F / \|H\|_F \f$ (0 when H = 0).
  double relative_error = 0;
  int iterations = 0;         ///< power-iteration steps taken
  Info info = Info::Success;  ///< NoConvergence when `tolerance` was not reached
};

namespace detail {

/// Normalises to unit Frobenius norm with a non-negative trace; returns the norm.
template <class S>
double normalise_factor(Matrix<S>& m) {
  const double nm = static_cast<double>(m.norm());
  if (nm > 0.0) m /= static_cast<S>(nm);
  if (m.trace() < S(0)) m = -m;
  return nm;
}

/// The power iteration shared by both input forms. `left_step(R)` returns ℛ(H)ᵀ vec(R) as a
/// rows x rows matrix, `right_step(L)` returns ℛ(H) vec(L) as cols x cols.
template <class S, class LeftStep, class RightStep>
KroneckerApproximation<S> kronecker_power_iteration(Index rows, Index cols, double h_norm2,
                                                    const KroneckerOptions& o, LeftStep left_step,
                                                    RightStep right_step) {
  KroneckerApproximation<S> out;
  Matrix<S> l = Matrix<S>::Identity(rows, rows);
  Matrix<S> r = Matrix<S>::Identity(cols, cols);
  normalise_factor(l);
  normalise_factor(r);
  out.info = o.tolerance > 0.0 ? Info::NoConvergence : Info::Success;
  const double floor = 100.0 * std::sqrt(static_cast<double>(rows * cols)) *
                       static_cast<double>(Eigen::NumTraits<S>::epsilon());
  const double tolerance = o.tolerance > 0.0 ? std::max(o.tolerance, floor) : 0.0;
  for (int k = 1; k <= o.max_iterations; ++k) {
    // Simultaneous update: from (I, I) the first step gives L ∝ E[G Gᵀ], R ∝ E[Gᵀ G].
    Matrix<S> l_next = left_step(r);
    Matrix<S> r_next = right_step(l);
    l_next = (S(0.5) * (l_next + l_next.transpose())).eval();
    r_next = (S(0.5) * (r_next + r_next.transpose())).eval();
    const double nl = normalise_factor(l_next);
    const double nr = normalise_factor(r_next);
    out.iterations = k;
    if (!(nl > 0.0) || !(nr > 0.0)) {  // H annihilates the current factors: H = 0 on them
      out.info = Info::Success;
      break;
    }
    const double change = std::max(static_cast<double>((l_next - l).norm()),
                                   static_cast<double>((r_next - r).norm()));
    l.swap(l_next);
    r.swap(r_next);
    if (tolerance > 0.0 && change <= tolerance) {
      out.info = Info::Success;
      break;
    }
  }
  // σ = ⟨H, R̂ ⊗ L̂⟩ = ⟨R̂, ℛ(H) vec(L̂)⟩, the least-squares scale for unit factors.
  out.sigma = static_cast<double>(r.cwiseProduct(right_step(l)).sum());
  out.relative_error =
      h_norm2 > 0.0 ? std::sqrt(std::max(h_norm2 - out.sigma * out.sigma, 0.0) / h_norm2) : 0.0;
  out.left = std::move(l);
  out.right = std::move(r);
  return out;
}

}  // namespace detail

/// Frobenius-optimal Kronecker approximation of \f$ H = \frac1N \sum_s \mathrm{vec}(G_s)
/// \mathrm{vec}(G_s)^\top \f$ from N matrix gradients \f$ G_s \f$ (rows x cols).
///
/// Van Loan's rearrangement ℛ maps \f$ R \otimes L \f$ to \f$ \mathrm{vec}(R)\mathrm{vec}(L)^\top \f$
/// and preserves the Frobenius norm, so the best \f$ \sigma\,\hat R \otimes \hat L \f$ is the top
/// singular triple of ℛ(H). For this H, \f$ \mathcal R(H)\mathrm{vec}(L) = \mathrm{vec}(E[G^\top L
/// G]) \f$ and \f$ \mathcal R(H)^\top \mathrm{vec}(R) = \mathrm{vec}(E[G R G^\top]) \f$, so power
/// iteration never forms H. Starting from (I, I), one step gives Shampoo's statistics
/// \f$ L = E[GG^\top] \f$, \f$ R = E[G^\top G] \f$ (the Shampoo² approximation of Morwani et al.);
/// more steps converge to the optimum at the rate (σ₂/σ₁)² per two steps.
///
/// Errors: an empty list or bad options throw `std::invalid_argument`; gradients of different
/// shapes `DimensionMismatch`; a non-finite entry `InvalidInput`.
///
/// **Cost:** per step 2N(rows²·cols + rows·cols²)·2 flops; ‖H‖_F costs N² rows·cols once.
/// Memory O(rows² + cols²).
///
/// **Reference:** C. F. Van Loan and N. Pitsianis, "Approximation with Kronecker products", 1993;
/// D. Morwani et al., "A New Perspective on Shampoo's Preconditioner", ICLR 2025.
template <class S>
[[nodiscard]] KroneckerApproximation<S> nearest_kronecker(std::span<const Matrix<S>> gradients,
                                                          const KroneckerOptions& options = {}) {
  options.validate();
  curvop::detail::require_argument(!gradients.empty(), "shampoo::nearest_kronecker",
                           "needs at least one gradient, number of gradients", 0);
  const Index rows = gradients[0].rows();
  const Index cols = gradients[0].cols();
  for (std::size_t s = 0; s < gradients.size(); ++s) {
    curvop::detail::require_conformant(gradients[s].rows() == rows && gradients[s].cols() == cols,
                               "shampoo::nearest_kronecker: gradient " + std::to_string(s) +
                                   " and gradient 0",
                               gradients[s], gradients[0]);
    curvop::detail::require_finite(gradients[s], "shampoo::nearest_kronecker");
  }
  const double inv_n = 1.0 / static_cast<double>(gradients.size());
  // ‖H‖_F² = (1/N²) Σ_{s,t} ⟨G_s, G_t⟩², in double.
  double h2 = 0.0;
  for (std::size_t s = 0; s < gradients.size(); ++s) {
    for (std::size_t t = 0; t < gradients.size(); ++t) {
      const double ip = gradients[s].template cast<double>().cwiseProduct(
                                        gradients[t].template cast<double>()).sum();
      h2 += ip * ip;
    }
  }
  h2 *= inv_n * inv_n;
  auto left_step = [&](const Matrix<S>& r) {
    Matrix<S> acc = Matrix<S>::Zero(rows, rows);
    for (const auto& g : gradients) acc.noalias() += (g * r) * g.transpose();
    return Matrix<S>(acc * static_cast<S>(inv_n));
  };
  auto right_step = [&](const Matrix<S>& l) {
    Matrix<S> acc = Matrix<S>::Zero(cols, cols);
    for (const auto& g : gradients) acc.noalias() += (g.transpose() * l) * g;
    return Matrix<S>(acc * static_cast<S>(inv_n));
  };
  return detail::kronecker_power_iteration<S>(rows, cols, h2, options, left_step, right_step);
}

/// Convenience overload for a `std::vector` of gradients.
template <class S>
[[nodiscard]] KroneckerApproximation<S> nearest_kronecker(const std::vector<Matrix<S>>& gradients,
                                                          const KroneckerOptions& options = {}) {
  return nearest_kronecker<S>(std::span<const Matrix<S>>(gradients.data(), gradients.size()),
                              options);
}

/// Van Loan's rearrangement of a (rows·cols) x (rows·cols) matrix H acting on vec(X), X rows x
/// cols: the cols² x rows² matrix with \f$ \mathcal R(H)_{(j,j'),(i,i')} = H_{(i,j),(i',j')} \f$
/// (pairs in column-major order, vec index i + rows·j), so that
/// \f$ \mathcal R(R \otimes L) = \mathrm{vec}(R)\mathrm{vec}(L)^\top \f$ and
/// \f$ \|\mathcal R(H)\|_F = \|H\|_F \f$. Throws `DimensionMismatch` if H is not (rows·cols)².
/// **Cost:** a permutation, (rows·cols)² memory.
template <class S>
[[nodiscard]] Matrix<S> van_loan_rearrangement(const ConstRef<S>& h, Index rows, Index cols) {
  const Index d = rows * cols;
  struct Shape {
    Index r, c;
    Index rows() const { return r; }
    Index cols() const { return c; }
  };
  curvop::detail::require_conformant(h.rows() == d && h.cols() == d,
                             "shampoo::van_loan_rearrangement: H and (rows*cols)^2", h,
                             Shape{d, d});
  Matrix<S> out(cols * cols, rows * rows);
  for (Index j2 = 0; j2 < cols; ++j2) {
    for (Index j = 0; j < cols; ++j) {
      for (Index i2 = 0; i2 < rows; ++i2) {
        for (Index i = 0; i < rows; ++i) {
          out(j + cols * j2, i + rows * i2) = h(i + rows * j, i2 + rows * j2);
        }
      }
    }
  }
  return out;
}

/// Frobenius-optimal Kronecker approximation of a symmetric operator H on vec(X), X rows x cols
/// (H is (rows·cols) x (rows·cols), e.g. a Hessian or GGN block given by its matrix-vector
/// product). H is probed with rows·cols unit vectors (in blocks of `rows` columns) to form
/// ℛ(H), then the same power iteration runs on it. Throws `DimensionMismatch` for a wrong size,
/// `InvalidInput` if H produces a non-finite entry.
///
/// **Cost:** rows·cols applications of H and (rows·cols)² memory (this form is for moderate
/// layer sizes; use the gradient form for large ones), then 2·(rows·cols)² flops per step.
template <LinearOperator Op>
[[nodiscard]] KroneckerApproximation<scalar_t<Op>> nearest_kronecker(
    const Op& h, Index rows, Index cols, const KroneckerOptions& options = {}) {
  using S = scalar_t<Op>;
  options.validate();
  curvop::detail::require_argument(rows >= 1 && cols >= 1, "shampoo::nearest_kronecker",
                           "rows and cols must be >= 1, rows*cols", rows * cols);
  const Index d = rows * cols;
  struct Shape {
    Index r, c;
    Index rows() const { return r; }
    Index cols() const { return c; }
  };
  curvop::detail::require_conformant(h.rows() == d && h.cols() == d,
                             "shampoo::nearest_kronecker: operator and (rows*cols)^2",
                             Shape{h.rows(), h.cols()}, Shape{d, d});
  Matrix<S> dense(d, d);
  for (Index j = 0; j < cols; ++j) {
    const Matrix<S> e = Matrix<S>::Identity(d, d).middleCols(j * rows, rows);
    h.apply(e, dense.middleCols(j * rows, rows));
  }
  curvop::detail::require_finite(dense, "shampoo::nearest_kronecker (operator output)");
  const Matrix<S> rh = van_loan_rearrangement<S>(dense, rows, cols);
  const double h2 = rh.template cast<double>().squaredNorm();
  auto left_step = [&](const Matrix<S>& r) {
    const Matrix<S> v = rh.transpose() * r.reshaped();
    return Matrix<S>(v.reshaped(rows, rows));
  };
  auto right_step = [&](const Matrix<S>& l) {
    const Matrix<S> v = rh * l.reshaped();
    return Matrix<S>(v.reshaped(cols, cols));
  };
  return detail::kronecker_power_iteration<S>(rows, cols, h2, options, left_step, right_step);
}

}  // namespace curvop::shampoo

#endif  // CURVOP_SHAMPOO_NEAREST_KRONECKER_HPP
