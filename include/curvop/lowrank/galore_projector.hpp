// SPDX-License-Identifier: MIT
// GaLoreProjector<S>: the rank-r gradient projector of GaLore, with an explicit side, five refresh
// policies and transport of optimizer state into the new basis on refresh.
#ifndef CURVOP_LOWRANK_GALORE_PROJECTOR_HPP
#define CURVOP_LOWRANK_GALORE_PROJECTOR_HPP

#include <Eigen/Eigenvalues>
#include <Eigen/SVD>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <curvop/concepts.hpp>
#include <curvop/lowrank/projection.hpp>
#include <curvop/lowrank/randomized_svd.hpp>
#include <numbers>
#include <numeric>
#include <string>
#include <vector>

namespace curvop::lowrank {

/// Which dimension of an m x n gradient G the projector compresses.
enum class Side {
  /// P is m x r (left singular vectors): R = Pᵀ G is r x n, the lift is P N.
  Left,
  /// P is n x r (right singular vectors): R = G P is m x r, the lift is N Pᵀ.
  Right,
  /// GaLore's `std` rule: Right when m >= n, Left when m < n (so P spans the shorter
  /// dimension). Square matrices resolve to Right. The side is resolved once, at construction,
  /// from (m, n), and `side()` returns the resolved value: unlike the reference code,
  /// `project_back` never guesses the side from the shape of the low-rank tensor, which is
  /// ambiguous when that tensor is square.
  Auto
};

/// How the basis is recomputed at a refresh.
enum class RefreshPolicy {
  /// Top-r singular vectors of G by a full SVD (Eigen's BDCSVD): GaLore's original policy.
  /// O(m·n·min(m, n)) per refresh.
  ExactSvd,
  /// Top-r singular vectors by `randomized_svd` (options in `GaLoreOptions::randomized`; the
  /// seed advances by one per refresh). O(m·n·l·(2q + 2)).
  RandomizedSvd,
  /// Warm start (GaLore+): `subspace_iteration` from the previous basis with
  /// `GaLoreOptions::subspace_iterations` steps; the first refresh is a randomized SVD.
  /// O(m·n·r·(2s + 1)).
  SubspaceIteration,
  /// Online PCA (Online Subspace Descent): at *every* `update`, one step of Oja's subspace rule
  /// \f$ P \leftarrow \mathrm{orth}\big((I + η_t\, X X^T) P\big) \f$ with X = G on the left
  /// side and Gᵀ on the right, which ascends ‖PᵀX‖_F² (equivalently descends the reconstruction
  /// loss ‖X − PPᵀX‖_F² of the reference) and keeps P exactly orthonormal. `update_gap` does not
  /// apply; the first update initialises P by an exact SVD. The step is scale-free:
  /// \f[ η_t = \frac{η_0}{\max(μ_t,\ 10^{-3}\,‖X‖_F^2/r)}, \qquad
  ///     μ_t = λ_{\min}\big(P^T X X^T P\big) = σ_{\min}(X^T P)^2, \f]
  /// μ_t being the energy that the weakest basis direction captures (η₀ = `online_pca_step`).
  /// Why this scale: for a gradient that stays fixed, the steps are orthogonal iteration with the
  /// commuting matrices I + η_t XXᵀ, so the largest principal angle θ between P and the top-r
  /// left singular subspace of X contracts as
  /// \f[ \tan θ_{t+1} \le ρ_t \tan θ_t, \qquad
  ///     ρ_t = \frac{1 + η_t σ_{r+1}^2}{1 + η_t σ_r^2} \le \frac{1 + η_0 g}{1 + η_0},
  ///     \quad g = σ_{r+1}^2/σ_r^2, \f]
  /// where the bound uses μ_t ≤ σ_r² (a Ritz value of XXᵀ on an r-dimensional subspace is at most
  /// its r-th eigenvalue) and holds while σ_r² ≥ 10⁻³‖X‖_F²/r. With the default η₀ = 1 a
  /// clear gap halves tan θ per update whatever the scale of G, its rank r or its spectral decay,
  /// and a P left behind by a change of subspace (μ_t small) takes a step close to a full
  /// subspace-iteration step, which is what re-captures the new subspace. At convergence the
  /// weakest direction's own weight and the new evidence GGᵀp/μ_t are equal, so consecutive
  /// noisy gradients are still averaged (η₀ → ∞ would be plain subspace iteration on each G,
  /// η₀ → 0 freezes P). The fixed normalisation η = η₀/‖G‖_F² caps the growth of the r-th
  /// direction at 1 + η₀/r per step, far too slow to follow a subspace change at GaLore ranks.
  /// The floor bounds the step by 1000·r·η₀/‖X‖_F², so that P's own term is not lost to rounding
  /// when a basis direction captures nothing. O(m·n·r + (m + n)·r² + r³) per step.
  OnlinePca,
  /// SVD-free: P is r columns of the fixed orthonormal DCT-II basis of the projected
  /// dimension, those most aligned with G (largest ‖d_jᵀ G‖ on the left side, ‖G d_j‖ on the
  /// right), recomputed every `update_gap` steps. Nothing is stored but the chosen columns.
  /// O(m·n·d) per refresh with d the projected dimension.
  Dct
};

/// What happens to optimizer state expressed in the old basis when the basis changes.
enum class MomentTransport {
  /// Re-express the state in the new basis through C = P_newᵀ P_old (r x r): a first moment M
  /// (left side, r x n) becomes C M, so that P_new C M = P_new P_newᵀ (P_old M) is the part of
  /// the old full-space moment that the new subspace can represent; an element-wise second
  /// moment V becomes (C ∘ C) V, which is exact for the diagonal of the transported covariance
  /// when the old coordinates are uncorrelated, and stays non-negative. Right side: M Cᵀ and
  /// V (C ∘ C)ᵀ. Default.
  Rotate,
  /// Leave the state as it is (the reference implementation's behaviour: moments are then
  /// interpreted in coordinates they were not accumulated in).
  Keep,
  /// Zero the state (an optimizer should restart its bias correction).
  Reset
};

/// Options of `GaLoreProjector`.
struct GaLoreOptions {
  Side side = Side::Auto;                               ///< which dimension is compressed
  RefreshPolicy policy = RefreshPolicy::RandomizedSvd;  ///< how the basis is recomputed
  Index update_gap = 200;  ///< T: refresh at update 0, T, 2T, ... (GaLore's `update_proj_gap`)
  MomentTransport transport = MomentTransport::Rotate;  ///< state handling on refresh
  RandomizedSvdOptions randomized{};                    ///< for RandomizedSvd / first warm start
  Index subspace_iterations = 1;  ///< s: steps of the warm-started SubspaceIteration policy
  /// η₀ of the OnlinePca policy, relative to the energy of the weakest basis direction (see
  /// `RefreshPolicy::OnlinePca`): 1 halves the principal-angle tangent per update on a gapped
  /// gradient.
  double online_pca_step = 1.0;

  /// Throws `std::invalid_argument` naming the first bad field.
  void validate() const {
    curvop::detail::require_argument(update_gap >= 1, "lowrank::GaLoreOptions",
                                     "update_gap must be >= 1", update_gap);
    curvop::detail::require_argument(subspace_iterations >= 0, "lowrank::GaLoreOptions",
                                     "subspace_iterations must be >= 0", subspace_iterations);
    curvop::detail::require_argument(std::isfinite(online_pca_step) && online_pca_step > 0,
                                     "lowrank::GaLoreOptions", "online_pca_step must be > 0",
                                     online_pca_step);
    randomized.validate();
  }
};

namespace detail {

/// Column k of the orthonormal DCT-II basis of Rⁿ:
/// d_k(i) = c_k cos(π (2i + 1) k / (2n)), c_0 = √(1/n), c_k = √(2/n).
template <class S>
void dct_column(Index n, Index k, Eigen::Ref<Vector<S>> out) {
  const double c = k == 0 ? std::sqrt(1.0 / static_cast<double>(n))
                          : std::sqrt(2.0 / static_cast<double>(n));
  const double w = std::numbers::pi * static_cast<double>(k) / (2.0 * static_cast<double>(n));
  for (Index i = 0; i < n; ++i) {
    out(i) = static_cast<S>(c * std::cos(w * static_cast<double>(2 * i + 1)));
  }
}

/// Operator view of Gᵀ for a dense G (so the right side reuses the left-side code).
template <class S>
struct TransposedView {
  using Scalar = S;
  Eigen::Ref<const Matrix<S>> a;
  Index rows() const { return a.cols(); }
  Index cols() const { return a.rows(); }
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    curvop::detail::transposed_product<S>(a, x, y);
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    curvop::detail::forward_product<S>(a, x, y);
  }
};

}  // namespace detail

/// The GaLore gradient projector for one m x n weight matrix.
///
/// With P the current orthonormal basis (d x r, d = m on the left side, n on the right):
/// \f[ \text{Left: } R = P^T G,\ \ ΔW = P N; \qquad \text{Right: } R = G P,\ \ ΔW = N P^T, \f]
/// where N is an optimizer's output in the projected space (Adam's m̂/(√v̂ + ε) for GaLore-Adam).
/// `update(G)` refreshes P at updates 0, T, 2T, ... with the chosen `RefreshPolicy` (every update
/// for OnlinePca). After a refresh, `change_of_basis()` is C = P_newᵀ P_old and `transport`
/// moves optimizer state into the new basis (see `MomentTransport`). New singular vectors are
/// sign-aligned with the old ones (column j is negated when (P_newᵀP_old)_jj < 0), so a refresh
/// that finds the same subspace returns the same basis and C = I, even with
/// `MomentTransport::Keep`.
///
/// Errors: rank outside [1, min(m, n)] or bad options → `std::invalid_argument` at
/// construction; a G of the wrong shape → `DimensionMismatch`; a non-finite G → `InvalidInput`
/// with the projector unchanged; a failed SVD → `Info::NumericalIssue`, the previous basis stays.
///
/// **Cost:** `project`/`project_back` 2·m·n·r flops; refresh cost per policy (see
/// `RefreshPolicy`); memory d·r for P and r² for C.
/// **Reference:** J. Zhao et al., "GaLore: Memory-efficient LLM training by gradient low-rank
/// projection", ICML 2024; X. Liao et al., "GaLore+", 2024 (randomized, warm-started);
/// K. Liang et al., "Memory-efficient LLM training with online subspace descent", NeurIPS 2024;
/// "SVD-free low-rank adaptive gradient optimization" (DCT column selection), 2025.
/// \tparam S float or double
template <class S>
class GaLoreProjector {
 public:
  using Scalar = S;

  /// A projector for m x n gradients at rank r (1 <= r <= min(m, n)).
  GaLoreProjector(Index rows, Index cols, Index rank, GaLoreOptions options = {})
      : m_rows(rows), m_cols(cols), m_rank(rank), m_options(options) {
    m_options.validate();
    curvop::detail::require_argument(rows >= 1 && cols >= 1, "lowrank::GaLoreProjector",
                                     "rows and cols must be >= 1",
                                     std::to_string(rows) + "x" + std::to_string(cols));
    curvop::detail::require_argument(rank >= 1, "lowrank::GaLoreProjector", "rank must be >= 1",
                                     rank);
    curvop::detail::require_argument(
        rank <= std::min(rows, cols), "lowrank::GaLoreProjector",
        "rank must be <= min(rows, cols) = " + std::to_string(std::min(rows, cols)), rank);
    m_side = m_options.side == Side::Auto ? (rows >= cols ? Side::Right : Side::Left)
                                          : m_options.side;
    m_change = Matrix<S>::Identity(rank, rank);
  }

  Index rows() const { return m_rows; }
  Index cols() const { return m_cols; }
  Index rank() const { return m_rank; }
  /// The resolved side (never `Side::Auto`).
  Side side() const { return m_side; }
  const GaLoreOptions& options() const { return m_options; }
  /// The dimension P lives in: m on the left side, n on the right.
  Index basis_dim() const { return m_side == Side::Left ? m_rows : m_cols; }
  /// Shape of the projected gradient: r x n (left) or m x r (right).
  Index projected_rows() const { return m_side == Side::Left ? m_rank : m_rows; }
  Index projected_cols() const { return m_side == Side::Left ? m_cols : m_rank; }
  /// Number of `update` calls that were accepted.
  Index steps() const { return m_steps; }
  /// Number of refreshes (basis recomputations) so far.
  Index refreshes() const { return m_refreshes; }
  /// True once a basis exists.
  bool initialized() const { return m_p.rows() > 0; }
  /// True when the last accepted `update` changed the basis.
  bool refreshed() const { return m_refreshed; }
  /// Status of the last `update`.
  Info info() const { return m_info; }
  /// The basis P (d x r); empty before the first update.
  const Matrix<S>& basis() const { return m_p; }
  /// The basis as an operator (`apply` = Pᵀx, `apply_transpose` = Px).
  [[nodiscard]] Projection<S> projection() const { return Projection<S>(m_p); }
  /// C = P_newᵀ P_old of the last refresh (r x r); the identity at the first refresh and when
  /// the last update did not refresh.
  const Matrix<S>& change_of_basis() const { return m_change; }
  /// For the Dct policy: indices of the DCT-II columns in P (P's column j is ± DCT column
  /// `dct_indices()[j]`, the sign from the alignment with the previous basis); empty for other
  /// policies.
  const std::vector<Index>& dct_indices() const { return m_dct_idx; }

  /// Feeds the gradient of this step: refreshes the basis when due (see the class comment).
  /// Throws `DimensionMismatch` for a G that is not m x n and `InvalidInput` for a non-finite G,
  /// leaving the projector unchanged. Returns `NumericalIssue` (previous basis kept) when the
  /// decomposition fails.
  [[nodiscard]] Info update(const ConstRef<S>& g) {
    curvop::detail::require_conformant(g.rows() == m_rows && g.cols() == m_cols,
                                       "lowrank::GaLoreProjector::update: G must be rows x cols",
                                       g, detail::Shape{m_rows, m_cols});
    curvop::detail::require_finite(g, "lowrank::GaLoreProjector::update");
    const bool due = !initialized() || m_options.policy == RefreshPolicy::OnlinePca ||
                     m_steps % m_options.update_gap == 0;
    ++m_steps;
    m_refreshed = false;
    m_change.setIdentity(m_rank, m_rank);
    if (!due) return m_info = Info::Success;

    Matrix<S> p_new;
    std::vector<Index> idx_new;
    const Info status = compute_basis(g, p_new, idx_new);
    if (status != Info::Success || !p_new.allFinite()) return m_info = Info::NumericalIssue;
    if (initialized()) {
      Matrix<S> c = p_new.transpose() * m_p;
      for (Index j = 0; j < m_rank; ++j) {
        if (c(j, j) < S(0)) {
          p_new.col(j) = -p_new.col(j);
          c.row(j) = -c.row(j);
        }
      }
      m_change = std::move(c);
    }
    m_p = std::move(p_new);
    m_dct_idx = std::move(idx_new);
    m_refreshed = true;
    ++m_refreshes;
    return m_info = Info::Success;
  }

  /// out = R, the projected gradient: Pᵀ G (r x n, left) or G P (m x r, right).
  void project(const ConstRef<S>& g, MutRef<S> out) const {
    CURVOP_ASSERT(initialized(), "GaLoreProjector::project: call update() first");
    CURVOP_ASSERT(g.rows() == m_rows && g.cols() == m_cols && out.rows() == projected_rows() &&
                      out.cols() == projected_cols(),
                  "GaLoreProjector::project: G must be rows x cols, out projected_rows x cols");
    if (m_side == Side::Left) {
      out.noalias() = m_p.transpose() * g;
    } else {
      curvop::detail::forward_product<S>(g, m_p, out);  // row blocks for a large G (see there)
    }
  }
  /// Returns the projected gradient.
  [[nodiscard]] Matrix<S> project(const ConstRef<S>& g) const {
    Matrix<S> out(projected_rows(), projected_cols());
    project(g, out);
    return out;
  }

  /// out = the lift of a projected-space matrix N: P N (left) or N Pᵀ (right), m x n.
  void project_back(const ConstRef<S>& n, MutRef<S> out) const {
    CURVOP_ASSERT(initialized(), "GaLoreProjector::project_back: call update() first");
    CURVOP_ASSERT(n.rows() == projected_rows() && n.cols() == projected_cols() &&
                      out.rows() == m_rows && out.cols() == m_cols,
                  "GaLoreProjector::project_back: N must be projected_rows x cols, out rows x cols");
    if (m_side == Side::Left) {
      out.noalias() = m_p * n;
    } else {
      out.noalias() = n * m_p.transpose();
    }
  }
  /// Returns the lift of N.
  [[nodiscard]] Matrix<S> project_back(const ConstRef<S>& n) const {
    Matrix<S> out(m_rows, m_cols);
    project_back(n, out);
    return out;
  }
  /// out += alpha · lift(N), without a temporary: the fused weight update of GaLore.
  void project_back_add(const ConstRef<S>& n, MutRef<S> out, S alpha) const {
    CURVOP_ASSERT(initialized(), "GaLoreProjector::project_back_add: call update() first");
    CURVOP_ASSERT(n.rows() == projected_rows() && n.cols() == projected_cols() &&
                      out.rows() == m_rows && out.cols() == m_cols,
                  "GaLoreProjector::project_back_add: N must be projected_rows x cols");
    if (m_side == Side::Left) {
      out.noalias() += alpha * (m_p * n);
    } else {
      out.noalias() += alpha * (n * m_p.transpose());
    }
  }

  /// Moves optimizer state (first moment `m`, element-wise second moment `v`, both
  /// projected_rows x projected_cols) into the basis of the last refresh, as chosen by
  /// `GaLoreOptions::transport` (see `MomentTransport`). Does nothing when the last update did
  /// not refresh, or at the first refresh. Returns true when the state was reset to zero (an
  /// optimizer then restarts its bias correction).
  /// **Cost:** 2·r²·(m or n) flops for each of m and v.
  bool transport(Matrix<S>& m, Matrix<S>& v) const {
    CURVOP_ASSERT(m.rows() == projected_rows() && m.cols() == projected_cols() &&
                      v.rows() == projected_rows() && v.cols() == projected_cols(),
                  "GaLoreProjector::transport: state must be projected_rows x projected_cols");
    if (!m_refreshed || m_refreshes <= 1) return false;
    switch (m_options.transport) {
      case MomentTransport::Keep: return false;
      case MomentTransport::Reset:
        m.setZero();
        v.setZero();
        return true;
      case MomentTransport::Rotate: {
        const Matrix<S> c2 = m_change.cwiseAbs2();
        if (m_side == Side::Left) {
          m = (m_change * m).eval();
          v = (c2 * v).eval();
        } else {
          m = (m * m_change.transpose()).eval();
          v = (v * c2.transpose()).eval();
        }
        return false;
      }
    }
    return false;
  }

 private:
  // Top-r left singular vectors of the oriented matrix X (G on the left side, Gᵀ on the right).
  Info compute_basis(const ConstRef<S>& g, Matrix<S>& p_new, std::vector<Index>& idx) const {
    const bool left = m_side == Side::Left;
    switch (m_options.policy) {
      case RefreshPolicy::ExactSvd: return exact_basis(g, p_new);
      case RefreshPolicy::RandomizedSvd: return randomized_basis(g, p_new);
      case RefreshPolicy::SubspaceIteration: {
        if (!initialized()) return randomized_basis(g, p_new);
        SvdResult<S> r;
        if (left) {
          r = subspace_iteration(detail::MatrixView<S>{g}, m_p, m_options.subspace_iterations,
                                 m_options.randomized.orthonormalizer);
        } else {
          r = subspace_iteration(detail::TransposedView<S>{g}, m_p, m_options.subspace_iterations,
                                 m_options.randomized.orthonormalizer);
        }
        if (r.info != Info::Success) return r.info;
        p_new = std::move(r.u);
        return Info::Success;
      }
      case RefreshPolicy::OnlinePca: {
        if (!initialized()) return exact_basis(g, p_new);
        p_new = m_p;
        const double energy = g.template cast<double>().squaredNorm();
        if (!(energy > 0)) return Info::Success;  // a zero gradient carries no direction
        // T = XᵀP with X the oriented gradient; (I + η XXᵀ) P = P + η X T: two thin products,
        // never the d x d matrix.
        const Matrix<S> t = left ? Matrix<S>(g.transpose() * m_p) : Matrix<S>(g * m_p);
        const Matrix<double> td = t.template cast<double>();
        Matrix<double> gram(m_rank, m_rank);
        gram.noalias() = td.transpose() * td;
        Eigen::SelfAdjointEigenSolver<Matrix<double>> eig(gram, Eigen::EigenvaluesOnly);
        if (eig.info() != Eigen::Success) return Info::NumericalIssue;
        const double mu_floor = 1e-3 * energy / static_cast<double>(m_rank);
        const double mu = std::max(eig.eigenvalues()(0), mu_floor);
        const S eta = static_cast<S>(m_options.online_pca_step / mu);
        if (left) {
          p_new.noalias() += eta * (g * t);
        } else {
          p_new.noalias() += eta * (g.transpose() * t);
        }
        lowrank::detail::orthonormalize(p_new, Orthonormalizer::Householder);
        return Info::Success;
      }
      case RefreshPolicy::Dct: return dct_basis(g, p_new, idx);
    }
    return Info::NumericalIssue;
  }

  Info exact_basis(const ConstRef<S>& g, Matrix<S>& p_new) const {
    const bool left = m_side == Side::Left;
    Eigen::BDCSVD<Matrix<S>> svd(g, left ? Eigen::ComputeThinU : Eigen::ComputeThinV);
    if (svd.info() != Eigen::Success) return Info::NumericalIssue;
    p_new = left ? svd.matrixU().leftCols(m_rank) : svd.matrixV().leftCols(m_rank);
    return Info::Success;
  }

  Info randomized_basis(const ConstRef<S>& g, Matrix<S>& p_new) const {
    RandomizedSvdOptions o = m_options.randomized;
    o.seed += static_cast<std::uint64_t>(m_refreshes);
    SvdResult<S> r = m_side == Side::Left ? randomized_svd(detail::MatrixView<S>{g}, m_rank, o)
                                          : randomized_svd(detail::TransposedView<S>{g}, m_rank, o);
    if (r.info != Info::Success) return r.info;
    p_new = std::move(r.u);
    return Info::Success;
  }

  // Scores ‖d_jᵀ X‖² of every DCT column against the oriented X, in blocks of 64 generated
  // columns (never the d x d basis), then the r best columns in decreasing score.
  Info dct_basis(const ConstRef<S>& g, Matrix<S>& p_new, std::vector<Index>& idx) const {
    const bool left = m_side == Side::Left;
    const Index d = basis_dim();
    std::vector<double> score(static_cast<std::size_t>(d));
    constexpr Index block = 64;
    Matrix<S> dblk(d, block), proj;
    for (Index k0 = 0; k0 < d; k0 += block) {
      const Index b = std::min(block, d - k0);
      for (Index j = 0; j < b; ++j) detail::dct_column<S>(d, k0 + j, dblk.col(j));
      if (left) {
        proj.noalias() = g.transpose() * dblk.leftCols(b);  // n x b
      } else {
        proj.noalias() = g * dblk.leftCols(b);  // m x b
      }
      for (Index j = 0; j < b; ++j) {
        score[static_cast<std::size_t>(k0 + j)] =
            proj.col(j).template cast<double>().squaredNorm();
      }
    }
    idx.resize(static_cast<std::size_t>(d));
    std::iota(idx.begin(), idx.end(), Index(0));
    // Ties (a zero gradient) go to the lower frequency, so the choice is deterministic.
    std::partial_sort(idx.begin(), idx.begin() + m_rank, idx.end(), [&](Index a, Index b) {
      const double sa = score[static_cast<std::size_t>(a)], sb = score[static_cast<std::size_t>(b)];
      return sa > sb || (sa == sb && a < b);
    });
    idx.resize(static_cast<std::size_t>(m_rank));
    p_new.resize(d, m_rank);
    for (Index j = 0; j < m_rank; ++j) {
      detail::dct_column<S>(d, idx[static_cast<std::size_t>(j)], p_new.col(j));
    }
    return Info::Success;
  }

  Index m_rows, m_cols, m_rank;
  GaLoreOptions m_options;
  Side m_side;
  Matrix<S> m_p;
  Matrix<S> m_change;
  std::vector<Index> m_dct_idx;
  Index m_steps = 0;
  Index m_refreshes = 0;
  bool m_refreshed = false;
  Info m_info = Info::Success;
};

}  // namespace curvop::lowrank

#endif  // CURVOP_LOWRANK_GALORE_PROJECTOR_HPP
