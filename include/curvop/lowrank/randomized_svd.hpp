// SPDX-License-Identifier: MIT
// Randomized range finder, randomized SVD and warm-started subspace iteration (Halko, Martinsson,
// Tropp) on a dense matrix or on any linear operator that can apply its transpose.
#ifndef CURVOP_LOWRANK_RANDOMIZED_SVD_HPP
#define CURVOP_LOWRANK_RANDOMIZED_SVD_HPP

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <curvop/concepts.hpp>
#include <curvop/detail/dense_products.hpp>
#include <curvop/detail/panel_level3.hpp>
#include <curvop/functions.hpp>
#include <curvop/random.hpp>
#include <type_traits>
#include <vector>

namespace curvop::lowrank {

/// How a block of vectors Y (m x l) is turned into an orthonormal basis of its span during the
/// range finder and the power iterations.
enum class Orthonormalizer {
  /// Householder QR (Eigen's blocked `HouseholderQR`), then the thin Q. Backward stable for any
  /// Y, including rank-deficient ones. Cost 4·m·l² flops, about half of them in level-3 kernels.
  Householder,
  /// Cholesky QR applied twice (CholQR2, Yamamoto et al. 2015): R = chol(YᵀY), Q = Y R⁻¹, twice.
  /// All work is GEMM/SYRK/TRSM (3·m·l² flops per pass, at level-3 speed), so it is the fast
  /// choice for the thin blocks of a randomized SVD. The Gram matrix is formed and factored in
  /// double, so it is reliable while cond(Y) stays below about 1/√eps(double) = 7e7; when the
  /// Cholesky factor is not positive definite it falls back to Householder for that block, so
  /// the result is always orthonormal.
  CholeskyQR2
};

/// Options of `randomized_range_finder`, `randomized_svd` and the randomized GaLore refresh.
///
/// The sketch has l = min(rank + oversampling, min(m, n)) columns. Each power iteration
/// multiplies by A Aᵀ once and re-orthonormalises after each product (HMT Algorithm 4.4), so that
/// singular values below eps^{1/(2q+1)}·σ₁ are not lost to rounding.
struct RandomizedSvdOptions {
  /// p: extra sketch columns beyond the rank (HMT recommend 5 to 10; scikit-learn uses 10).
  Index oversampling = 10;
  /// q: power (subspace) iterations; the error factor decays like (σ_{r+1}/σ_r)^{2q+1}.
  Index power_iterations = 4;
  /// Seed of the Gaussian test matrix Ω (counter-based: same Ω for any thread count).
  std::uint64_t seed = 0;
  /// Orthonormalisation of the blocks (see `Orthonormalizer`).
  Orthonormalizer orthonormalizer = Orthonormalizer::CholeskyQR2;

  /// Throws `std::invalid_argument` naming the first bad field.
  void validate() const {
    curvop::detail::require_argument(oversampling >= 0, "lowrank::RandomizedSvdOptions",
                             "oversampling must be >= 0", oversampling);
    curvop::detail::require_argument(power_iterations >= 0, "lowrank::RandomizedSvdOptions",
                             "power_iterations must be >= 0", power_iterations);
  }
};

/// A truncated SVD A ≈ U diag(s) Vᵀ: U is m x r and V is n x r with orthonormal columns, and
/// s holds the r singular values in non-increasing order.
template <class S>
struct SvdResult {
  Matrix<S> u;  ///< left singular vectors, m x r
  Vector<S> s;  ///< singular values, non-increasing, r
  Matrix<S> v;  ///< right singular vectors, n x r
  /// `Success`, or `NumericalIssue` when a result was not finite (A or its products held NaN or
  /// Inf); the factors are then unusable.
  Info info = Info::Success;
};

/// Operators the randomized algorithms accept: a `LinearOperator` whose transpose can be applied
/// (it has `apply_transpose`, or it is symmetric).
template <class Op>
concept SketchableOperator =
    LinearOperator<Op> && (TransposableOperator<Op> || is_symmetric_v<Op>);

namespace detail {

/// Stream of the counter-based generator reserved for sketches (other streams stay free).
inline constexpr std::uint64_t kSketchStream = 0x4C52534B45544348ULL;  // "LRSKETCH"

/// A shape for error messages (rows x cols) without allocating a matrix.
struct Shape {
  Index r, c;
  Index rows() const { return r; }
  Index cols() const { return c; }
};

/// A non-owning operator view of a dense matrix (so matrices and operators share one code path).
template <class S>
struct MatrixView {
  using Scalar = S;
  Eigen::Ref<const Matrix<S>> a;
  Index rows() const { return a.rows(); }
  Index cols() const { return a.cols(); }
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    curvop::detail::forward_product<S>(a, x, y);
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    curvop::detail::transposed_product<S>(a, x, y);
  }
};

/// Replaces the columns of y (m x l, l <= m) by an orthonormal basis of their span by Householder
/// QR. Rank-deficient input still gives orthonormal columns (the Householder Q is orthogonal).
template <class S>
void orthonormalize_householder(Matrix<S>& y) {
  const Index m = y.rows(), l = y.cols();
  if (l == 0) return;
  Eigen::HouseholderQR<Matrix<S>> qr(y);
  y.setIdentity(m, l);
  qr.householderQ().applyThisOnTheLeft(y);
}

/// One Cholesky QR pass in place: G = YᵀY (formed and factored in double), Y ← Y R⁻¹. Returns
/// false (y untouched) when G is not numerically positive definite.
///
/// With AVX2 both steps are the packed kernels of curvop/detail/panel_level3.hpp: the Gram matrix
/// widens a float Y to double while packing it (no converted copy of Y), and Y R⁻¹ = Y L⁻ᵀ with
/// L = Rᵀ is their forward substitution. Otherwise Eigen's rank-k update (on a double copy of a
/// float Y) and triangular solve do the same.
template <class S>
bool cholesky_qr_pass(Matrix<S>& y) {
  // The Gram matrix is formed in double: it costs m·l² flops against the m·n·l of the products
  // around it, and it squares the condition number, which float could not hold.
  // Only the lower triangle is formed (a symmetric rank-l update: half the flops of YᵀY).
  const Index l = y.cols();
  Matrix<double> g = Matrix<double>::Zero(l, l);
#if defined(CURVOP_DETAIL_PANEL_LEVEL3)
  std::vector<double> buffer;
  if (!curvop::detail::panel_gram(y.data(), y.rows(), y.rows(), l, g.data(), l,
                                  static_cast<double*>(nullptr), buffer)) {
    return false;
  }
#else
  if constexpr (std::is_same_v<S, double>) {
    g.selfadjointView<Eigen::Lower>().rankUpdate(y.transpose());
  } else {
    const Matrix<double> yd = y.template cast<double>();
    g.selfadjointView<Eigen::Lower>().rankUpdate(yd.transpose());
  }
#endif
  Eigen::LLT<Matrix<double>, Eigen::Lower> llt(g);
  if (llt.info() != Eigen::Success) return false;
  const Matrix<double> r = llt.matrixU();
  // A small pivot ratio means cond(Y) is near 1/√eps(double): the pass would lose orthogonality
  // beyond what the second pass can repair, so the caller falls back to Householder.
  const double dmax = r.diagonal().cwiseAbs().maxCoeff();
  const double dmin = r.diagonal().cwiseAbs().minCoeff();
  if (!(dmin > 1e-6 * dmax)) return false;
#if defined(CURVOP_DETAIL_PANEL_LEVEL3)
  const Matrix<S> neg_lower = (-r.transpose()).template cast<S>();
  const Vector<S> inv_diag = r.diagonal().cwiseInverse().template cast<S>();
  std::vector<S> scratch;
  curvop::detail::panel_solve_right_lt(y.data(), y.rows(), y.rows(), l, neg_lower.data(),
                                       inv_diag.data(), scratch);
#else
  if constexpr (std::is_same_v<S, double>) {
    r.template triangularView<Eigen::Upper>().template solveInPlace<Eigen::OnTheRight>(y);
  } else {
    const Matrix<S> rs = r.template cast<S>();
    rs.template triangularView<Eigen::Upper>().template solveInPlace<Eigen::OnTheRight>(y);
  }
#endif
  return true;
}

/// Orthonormalises the columns of y in place with the chosen method (see `Orthonormalizer`).
/// `final == false` marks an intermediate block of the power iterations: there a basis only has
/// to be well conditioned (the next product and orthonormalisation absorb a small departure from
/// orthonormality, as scikit-learn's LU normaliser does), so CholeskyQR2 makes one pass instead of
/// two. Bases that are returned or used for the Rayleigh–Ritz step always get both passes.
template <class S>
void orthonormalize(Matrix<S>& y, Orthonormalizer how, bool final = true) {
  if (y.cols() == 0) return;
  // No backup copy is needed for the fallback: a pass either leaves y untouched or replaces it
  // by Y R⁻¹, which has the same span, and Householder only needs the span.
  if (how == Orthonormalizer::CholeskyQR2 && cholesky_qr_pass(y) &&
      (!final || cholesky_qr_pass(y))) {
    return;
  }
  orthonormalize_householder(y);
}

/// Thin SVD of the small block B = Qᵀ A given Bᵀ (n x l): Bᵀ = Q_b R (Householder), then the SVD
/// of the l x l factor R in double (cheap, and it keeps float results accurate).
/// Returns Ũ (l x k), s (k), V (n x k) with B ≈ Ũ diag(s) Vᵀ truncated to k columns.
template <class S>
void small_svd(const Matrix<S>& bt, Index k, Matrix<S>& u_small, Vector<S>& s, Matrix<S>& v) {
  const Index n = bt.rows(), l = bt.cols();
  Eigen::HouseholderQR<Matrix<S>> qr(bt);
  const Matrix<double> r =
      qr.matrixQR().topRows(l).template triangularView<Eigen::Upper>().toDenseMatrix().template cast<double>();
  // Bᵀ = Q_b R and R = W Σ Zᵀ give B = Z Σ (Q_b W)ᵀ.
  Eigen::BDCSVD<Matrix<double>> svd(r, Eigen::ComputeFullU | Eigen::ComputeFullV);
  s = svd.singularValues().head(k).template cast<S>();
  u_small = svd.matrixV().leftCols(k).template cast<S>();
  v.setZero(n, k);
  v.topRows(l) = svd.matrixU().leftCols(k).template cast<S>();
  qr.householderQ().applyThisOnTheLeft(v);
}

/// An `SvdResult` that reports a numerical failure.
template <class S>
SvdResult<S> failed() {
  SvdResult<S> r;
  r.info = Info::NumericalIssue;
  return r;
}

template <SketchableOperator Op>
void check_rank(const Op& a, Index rank, const char* where) {
  const Index mn = std::min<Index>(a.rows(), a.cols());
  curvop::detail::require_argument(rank >= 1, where, "rank must be >= 1", rank);
  curvop::detail::require_argument(rank <= mn, where,
                           "rank must be <= min(rows, cols) = " + std::to_string(mn), rank);
}

/// The range finder proper (operator form, arguments already checked).
template <SketchableOperator Op>
Matrix<scalar_t<Op>> range_finder(const Op& a, Index l, const RandomizedSvdOptions& opt) {
  using S = scalar_t<Op>;
  const Index m = a.rows(), n = a.cols();
  const Matrix<S> omega =
      random::probes<S>(n, l, random::Distribution::Gaussian, opt.seed, 0, kSketchStream);
  Matrix<S> q(m, l), z(n, l);
  curvop::apply(a, omega, q);
  const Index iters = opt.power_iterations;
  orthonormalize(q, opt.orthonormalizer, /*final=*/iters == 0);
  for (Index it = 0; it < iters; ++it) {
    curvop::apply_transpose(a, q, z);
    orthonormalize(z, opt.orthonormalizer, /*final=*/false);
    curvop::apply(a, z, q);
    orthonormalize(q, opt.orthonormalizer, /*final=*/it + 1 == iters);
  }
  return q;
}

/// SVD of A restricted to the range of Q (m x l, orthonormal), truncated to k: the
/// Rayleigh–Ritz step B = QᵀA, B = Ũ Σ Vᵀ, U = Q Ũ.
template <SketchableOperator Op>
SvdResult<scalar_t<Op>> rayleigh_ritz(const Op& a, const Matrix<scalar_t<Op>>& q, Index k) {
  using S = scalar_t<Op>;
  SvdResult<S> out;
  Matrix<S> bt(a.cols(), q.cols());
  curvop::apply_transpose(a, q, bt);
  if (!bt.allFinite()) return failed<S>();
  Matrix<S> u_small;
  small_svd(bt, k, u_small, out.s, out.v);
  out.u.noalias() = q * u_small;
  return out;
}

}  // namespace detail

/// An orthonormal basis Q (m x l) whose range captures the dominant left singular subspace of A
/// (Halko, Martinsson, Tropp 2011, Algorithm 4.4, randomized subspace iteration):
/// \f[ Y = A Ω,\; Q = \mathrm{orth}(Y),\; \text{repeat } q \text{ times: }
///     Z = \mathrm{orth}(A^T Q),\; Q = \mathrm{orth}(A Z) \f]
/// with Ω (n x l) standard Gaussian from `options.seed` and l = min(rank + oversampling,
/// min(m, n)). In expectation ‖A − QQᵀA‖ is within a small factor of σ_{rank+1}, and the factor
/// tends to 1 as q grows.
///
/// \param a      any operator with `apply` and `apply_transpose` (or symmetric), m x n
/// \param rank   target rank r, 1 <= r <= min(m, n) (else `std::invalid_argument`)
/// \return Q, m x l with orthonormal columns
///
/// **Cost:** 2q + 1 applications of A or Aᵀ to l vectors, and 2q + 1 orthonormalisations of
/// m x l or n x l blocks (with CholeskyQR2: one pass of m·l² flops for the 2q intermediate blocks,
/// two passes for the returned one); memory (m + n)·l.
/// **Reference:** N. Halko, P.-G. Martinsson, J. A. Tropp, "Finding structure with randomness",
/// SIAM Review 53(2), 2011, Algorithms 4.3–4.4.
template <SketchableOperator Op>
[[nodiscard]] Matrix<scalar_t<Op>> randomized_range_finder(const Op& a, Index rank,
                                                           const RandomizedSvdOptions& options = {}) {
  options.validate();
  detail::check_rank(a, rank, "lowrank::randomized_range_finder");
  const Index l = std::min<Index>(rank + options.oversampling, std::min(a.rows(), a.cols()));
  return detail::range_finder(a, l, options);
}

/// Dense-matrix overload of `randomized_range_finder` (A is viewed, not copied, when it is
/// contiguous). Throws `curvop::InvalidInput` when A has a non-finite entry.
template <class Derived>
[[nodiscard]] Matrix<typename Derived::Scalar> randomized_range_finder(
    const Eigen::MatrixBase<Derived>& a, Index rank, const RandomizedSvdOptions& options = {}) {
  using S = typename Derived::Scalar;
  static_assert(std::is_floating_point_v<S>, "randomized_range_finder: float or double only");
  curvop::detail::require_finite(a, "lowrank::randomized_range_finder");
  const detail::MatrixView<S> view{a.derived()};
  return randomized_range_finder(view, rank, options);
}

/// A rank-r truncated SVD A ≈ U diag(s) Vᵀ by the randomized range finder followed by the
/// Rayleigh–Ritz step B = QᵀA (l x n), B = Ũ Σ Vᵀ, U = Q Ũ (HMT Algorithm 5.1). The small SVD is
/// computed from a QR of Bᵀ and a divide-and-conquer SVD of the l x l factor in double.
///
/// Accuracy: with q power iterations, ‖A − U diag(s) Vᵀ‖_F is within a factor that tends to 1
/// like (σ_{r+1}/σ_l)^{4q} of the optimal rank-r error (√Σ_{i>r} σ_i²); it is exact (to rounding)
/// when rank(A) <= l.
///
/// \param a      matrix (`Eigen::MatrixBase`) or operator with `apply_transpose`, m x n
/// \param rank   r, 1 <= r <= min(m, n)
/// \return       `SvdResult` with U (m x r), s (r), V (n x r); `info` is `NumericalIssue` when a
///               product came out non-finite (operator input)
///
/// **Cost:** 2q + 2 applications of A or Aᵀ to l vectors (2·m·n·l flops each for a dense A),
/// 2q + 1 orthonormalisations, a QR of n x l and an SVD of l x l; memory O((m + n)·l).
/// **Reference:** Halko, Martinsson, Tropp, SIAM Review 53(2), 2011, Algorithms 4.4 and 5.1.
template <SketchableOperator Op>
[[nodiscard]] SvdResult<scalar_t<Op>> randomized_svd(const Op& a, Index rank,
                                                     const RandomizedSvdOptions& options = {}) {
  options.validate();
  detail::check_rank(a, rank, "lowrank::randomized_svd");
  using S = scalar_t<Op>;
  const Index l = std::min<Index>(rank + options.oversampling, std::min(a.rows(), a.cols()));
  const Matrix<S> q = detail::range_finder(a, l, options);
  if (!q.allFinite()) return detail::failed<S>();
  return detail::rayleigh_ritz(a, q, rank);
}

/// Dense-matrix overload of `randomized_svd`. Throws `curvop::InvalidInput` when A has a
/// non-finite entry.
template <class Derived>
[[nodiscard]] SvdResult<typename Derived::Scalar> randomized_svd(
    const Eigen::MatrixBase<Derived>& a, Index rank, const RandomizedSvdOptions& options = {}) {
  using S = typename Derived::Scalar;
  static_assert(std::is_floating_point_v<S>, "randomized_svd: float or double only");
  curvop::detail::require_finite(a, "lowrank::randomized_svd");
  const detail::MatrixView<S> view{a.derived()};
  return randomized_svd(view, rank, options);
}

/// Warm-started subspace iteration: refines a previous basis Q0 (m x k) of A's dominant left
/// singular subspace with `iterations` steps of
/// \f[ Z = \mathrm{orth}(A^T Q),\quad Q = \mathrm{orth}(A Z) \f]
/// and returns the rank-k SVD of A restricted to the refined subspace (Rayleigh–Ritz), sorted by
/// singular value. When A changes slowly (a gradient between GaLore refreshes) one or two steps
/// from the old basis reach the accuracy that a cold randomized SVD needs q ≈ 4 for (GaLore+).
/// With `iterations = 0` it is the Rayleigh–Ritz step on span(Q0) alone (Q0 is
/// re-orthonormalised first, so it need not be exactly orthonormal).
///
/// \param a           operator with `apply_transpose` (or symmetric), or a dense matrix, m x n
/// \param q0          previous basis, m x k with 1 <= k <= min(m, n) (else `DimensionMismatch`
///                    for the wrong row count, `std::invalid_argument` for k)
/// \param iterations  >= 0
///
/// **Cost:** 2·iterations + 1 applications of A or Aᵀ to k vectors and 2·iterations + 1
/// orthonormalisations, plus an SVD of k x k.
/// **Reference:** Halko, Martinsson, Tropp 2011, Algorithm 4.4; warm start as in GaLore+
/// (Liao et al. 2024, "GaLore+: Boosting low-rank adaptation for LLMs with cross-head projection").
template <SketchableOperator Op>
[[nodiscard]] SvdResult<scalar_t<Op>> subspace_iteration(
    const Op& a, const ConstRef<scalar_t<Op>>& q0, Index iterations,
    Orthonormalizer orthonormalizer = Orthonormalizer::CholeskyQR2) {
  using S = scalar_t<Op>;
  curvop::detail::require_conformant(q0.rows() == a.rows(),
                                     "lowrank::subspace_iteration: Q0 must have rows() == A.rows()",
                                     a, q0);
  detail::check_rank(a, q0.cols(), "lowrank::subspace_iteration (columns of Q0)");
  curvop::detail::require_argument(iterations >= 0, "lowrank::subspace_iteration",
                           "iterations must be >= 0", iterations);
  Matrix<S> q = q0;
  if (!q.allFinite()) return detail::failed<S>();
  detail::orthonormalize(q, orthonormalizer, /*final=*/iterations == 0);
  Matrix<S> z(a.cols(), q.cols());
  for (Index it = 0; it < iterations; ++it) {
    curvop::apply_transpose(a, q, z);
    detail::orthonormalize(z, orthonormalizer, /*final=*/false);
    curvop::apply(a, z, q);
    detail::orthonormalize(q, orthonormalizer, /*final=*/it + 1 == iterations);
  }
  if (!q.allFinite()) return detail::failed<S>();
  return detail::rayleigh_ritz(a, q, q.cols());
}

/// Dense-matrix overload of `subspace_iteration`. Throws `curvop::InvalidInput` when A has a
/// non-finite entry.
template <class Derived>
[[nodiscard]] SvdResult<typename Derived::Scalar> subspace_iteration(
    const Eigen::MatrixBase<Derived>& a, const ConstRef<typename Derived::Scalar>& q0,
    Index iterations, Orthonormalizer orthonormalizer = Orthonormalizer::CholeskyQR2) {
  using S = typename Derived::Scalar;
  curvop::detail::require_finite(a, "lowrank::subspace_iteration");
  const detail::MatrixView<S> view{a.derived()};
  return subspace_iteration(view, q0, iterations, orthonormalizer);
}

}  // namespace curvop::lowrank

#endif  // CURVOP_LOWRANK_RANDOMIZED_SVD_HPP
