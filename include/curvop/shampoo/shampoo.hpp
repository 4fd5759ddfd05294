// SPDX-License-Identifier: MIT
// Shampoo for one matrix parameter: Kronecker-factored statistics L, R per block, their inverse
// p-th roots computed as one batch, grafting, and a previous root kept when a new one fails.
#ifndef CURVOP_SHAMPOO_SHAMPOO_HPP
#define CURVOP_SHAMPOO_SHAMPOO_HPP

#include <cmath>
#include <curvop/config.hpp>
#include <curvop/matrix_functions/batch.hpp>
#include <curvop/shampoo/blocking.hpp>
#include <curvop/shampoo/options.hpp>
#include <curvop/shampoo/preconditioner.hpp>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace curvop::shampoo {

/// What happened to one block's factor roots in the last `compute()`.
struct BlockReport {
  Info left_info = Info::Success;           ///< Info of L's root (Success if skipped)
  Info right_info = Info::Success;          ///< Info of R's root (one-sided: always Success)
  Fallback left_fallback = Fallback::None;  ///< ladder rung of L's root
  Fallback right_fallback = Fallback::None; ///< ladder rung of R's root
  double left_residual = 0.0;               ///< residual of L's root (see `RootResult`)
  double right_residual = 0.0;              ///< residual of R's root
  bool left_kept = false;   ///< L's previous root was kept (failed or all-zero statistics)
  bool right_kept = false;  ///< R's previous root was kept
};

/// Shampoo preconditioner of one matrix parameter W (rows x cols) with gradient G.
///
/// Statistics per block b of G (see `Blocking`): \f$ L_b \mathrel{+}= G_b G_b^\top \f$,
/// \f$ R_b \mathrel{+}= G_b^\top G_b \f$ (or their EMAs with decay β₂, bias-corrected).
/// `compute()` refreshes \f$ \hat L_b = (L_b + \epsilon I)^{-1/p} \f$ and
/// \f$ \hat R_b = (R_b + \epsilon I)^{-1/p} \f$ for all blocks in one `inverse_root_batch` call;
/// `precondition(G)` returns \f$ \Delta_b = \hat L_b G_b \hat R_b \f$ (one-sided: \f$ \hat L_b G_b
/// \f$), optionally grafted: \f$ \Delta_b \leftarrow \Delta_b \|D_b\|_F / (\|\Delta_b\|_F +
/// 10^{-16}) \f$ with D the SGD, AdaGrad or Adam direction. p = 4 (Shampoo) is the inverse
/// square root of the Kronecker approximation \f$ (L \otimes R)^{1/2} \f$ of the AdaGrad matrix
/// \f$ \sum \mathrm{vec}(G)\mathrm{vec}(G)^\top \f$ (vec stacks columns; in curvop's `kron`
/// convention the preconditioner acts as `kron(R̂, L̂)`; `preconditioner()` returns it as an
/// operator on vec(G), per block for blocked Shampoo).
///
/// Robustness: non-finite gradients and overflowing statistics throw `InvalidInput` with the
/// state unchanged; a root that fails its residual check after the fallback ladder keeps the
/// previous root (the identity before the first success) and `compute()`/`info()` report
/// `Info::NumericalIssue`; a factor that is exactly zero (no non-zero gradient seen in that
/// block) keeps its previous root silently. The output is never NaN.
///
/// Threading: `precondition` is const and thread-safe; blocks are processed in parallel with
/// `CURVOP_USE_OPENMP` (unless Eigen's products go to a threaded BLAS, which must not be called
/// from several threads at once: `detail::products_safe_in_parallel`), and the roots of all
/// blocks form one batch (`inverse_root_batch`).
///
/// **Cost:** `update`: Σ_b (r_b² c_b + c_b² r_b) flops (two SYRKs, half a GEMM each);
/// `compute`: one inverse root per factor (≈ 10 n³ each by eigendecomposition);
/// `precondition`: Σ_b 2 r_b c_b (r_b + c_b) flops. Memory: Σ_b (r_b² + c_b²) for the
/// statistics and as much for the roots, plus rows·cols for AdaGrad/Adam grafting.
///
/// **Reference:** V. Gupta, T. Koren, Y. Singer, "Shampoo: Preconditioned Stochastic Tensor
/// Optimization", ICML 2018; R. Anil et al., "Scalable Second Order Optimization for Deep
/// Learning", 2020 (blocking, grafting); D. Morwani et al., "A New Perspective on Shampoo's
/// Preconditioner", ICLR 2025 (Shampoo²); K. An et al., "ASGO: Adaptive Structured Gradient
/// Optimization", 2025 (one-sided).
template <class S>
class Shampoo {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                "Shampoo: float or double only");

 public:
  using Scalar = S;

  /// A Shampoo state for a rows x cols parameter (both ≥ 1). Throws `std::invalid_argument` for
  /// bad options or dimensions.
  Shampoo(Index rows, Index cols, const Options& options = {})
      : m_rows(rows), m_cols(cols), m_options(options) {
    curvop::detail::require_argument(rows >= 1, "shampoo::Shampoo", "rows must be >= 1", rows);
    curvop::detail::require_argument(cols >= 1, "shampoo::Shampoo", "cols must be >= 1", cols);
    m_options.validate();
    m_blocking = Blocking(rows, cols, m_options.max_block);
    m_blocks.resize(static_cast<std::size_t>(m_blocking.size()));
    for (Index k = 0; k < m_blocking.size(); ++k) {
      Block& b = block(k);
      const Index r = m_blocking.row_segment(k).size;
      const Index c = m_blocking.col_segment(k).size;
      b.l = Matrix<S>::Zero(r, r);
      b.l_root = std::make_shared<const Matrix<S>>(Matrix<S>::Identity(r, r));
      if (two_sided()) {
        b.r = Matrix<S>::Zero(c, c);
        b.r_root = std::make_shared<const Matrix<S>>(Matrix<S>::Identity(c, c));
      } else {
        b.r_root = std::make_shared<const Matrix<S>>();
      }
    }
    m_reports.resize(m_blocks.size());
    if (m_options.grafting == Grafting::AdaGrad || m_options.grafting == Grafting::Adam) {
      m_graft = Matrix<S>::Zero(rows, cols);
    }
  }

  /// Rows of the parameter.
  [[nodiscard]] Index rows() const { return m_rows; }
  /// Columns of the parameter.
  [[nodiscard]] Index cols() const { return m_cols; }
  /// The options.
  [[nodiscard]] const Options& options() const { return m_options; }
  /// The block partition of the parameter.
  [[nodiscard]] const Blocking& blocking() const { return m_blocking; }
  /// Number of `update` calls so far.
  [[nodiscard]] long steps() const { return m_steps; }
  /// Outcome of the last `compute()` (Success before the first).
  [[nodiscard]] Info info() const { return m_info; }
  /// Per-block report of the last `compute()`.
  [[nodiscard]] const std::vector<BlockReport>& reports() const { return m_reports; }

  /// Statistic \f$ L_b \f$ of block k, bias-corrected when β₂ < 1.
  [[nodiscard]] Matrix<S> left_statistic(Index k) const { return corrected(block(k).l); }
  /// Statistic \f$ R_b \f$ of block k, bias-corrected (empty for the one-sided variant).
  [[nodiscard]] Matrix<S> right_statistic(Index k) const { return corrected(block(k).r); }
  /// Current root \f$ (L_b + \epsilon I)^{-1/p} \f$ of block k.
  [[nodiscard]] const Matrix<S>& left_root(Index k) const { return *block(k).l_root; }
  /// Current root \f$ (R_b + \epsilon I)^{-1/p} \f$ of block k (empty when one-sided).
  [[nodiscard]] const Matrix<S>& right_root(Index k) const { return *block(k).r_root; }

  /// The preconditioner of the current roots as a symmetric linear operator on vec(G)
  /// (column-major vec, length rows·cols): \f$ P = \Pi^T \operatorname{blockdiag}_b(\hat R_b
  /// \otimes \hat L_b) \Pi \f$, so that `apply(P, vec(G))` is vec of `precondition(G)` without
  /// grafting (see `Preconditioner`; for one block P = kron(R̂, L̂), also `block(0)`).
  /// A snapshot sharing the roots: O(blocks), no copies; later `compute()`s do not change it.
  [[nodiscard]] Preconditioner<S> preconditioner() const {
    std::vector<std::shared_ptr<const Matrix<S>>> left, right;
    for (const Block& b : m_blocks) {
      left.push_back(b.l_root);
      right.push_back(two_sided() ? b.r_root : nullptr);
    }
    return Preconditioner<S>(m_rows, m_cols, m_blocking, std::move(left), std::move(right));
  }

  /// Accumulates the gradient G (rows x cols) into the statistics (and the grafting state).
  ///
  /// Throws `DimensionMismatch` for a wrong shape and `InvalidInput` for a non-finite G or
  /// statistics that would overflow; the state is then unchanged.
  /// **Cost:** Σ_b r_b c_b (r_b + c_b) flops, temporary memory of one set of statistics.
  void update(const ConstRef<S>& g) {
    check_shape(g, "shampoo::Shampoo::update");
    curvop::detail::require_finite(g, "shampoo::Shampoo::update");
    const double beta = m_options.beta2;
    const S keep = static_cast<S>(beta);
    const S add = beta < 1.0 ? static_cast<S>(1.0 - beta) : S(1);
    std::vector<Matrix<S>> new_l(m_blocks.size()), new_r(m_blocks.size());
    bool finite = true;
    const auto nb = static_cast<std::ptrdiff_t>(m_blocks.size());
    [[maybe_unused]] const bool parallel = nb > 1 && curvop::detail::products_safe_in_parallel();
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) reduction(&& : finite) if (parallel)
#endif
    for (std::ptrdiff_t k = 0; k < nb; ++k) {
      const auto gb = block_of(g, k);
      const Block& b = m_blocks[static_cast<std::size_t>(k)];
      new_l[static_cast<std::size_t>(k)] = accumulate(b.l, gb, keep, add, false);
      finite = finite && new_l[static_cast<std::size_t>(k)].allFinite();
      if (two_sided()) {
        new_r[static_cast<std::size_t>(k)] = accumulate(b.r, gb, keep, add, true);
        finite = finite && new_r[static_cast<std::size_t>(k)].allFinite();
      }
    }
    Matrix<S> new_graft;
    if (m_options.grafting == Grafting::AdaGrad) {
      new_graft = m_graft + g.cwiseAbs2();
    } else if (m_options.grafting == Grafting::Adam) {
      const S gb = static_cast<S>(m_options.graft_beta2);
      new_graft = gb * m_graft + (S(1) - gb) * g.cwiseAbs2();
    }
    if (!finite || !new_graft.allFinite()) {
      throw InvalidInput("shampoo::Shampoo::update: the statistics would overflow (gradient of "
                         "norm " + std::to_string(static_cast<double>(g.norm())) + ")");
    }
    // Commit: nothing below can throw.
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      m_blocks[k].l.swap(new_l[k]);
      if (two_sided()) m_blocks[k].r.swap(new_r[k]);
    }
    if (new_graft.size() > 0) m_graft.swap(new_graft);
    ++m_steps;
  }

  /// Recomputes the inverse roots of all factors in one batch (`inverse_root_batch`).
  ///
  /// A root accepted directly or after the jitter/double rungs replaces the previous one; a root
  /// that needed the isotropic last resort does not (the previous root stays). Returns Success
  /// when every root was computed without a fallback rung, NumericalIssue otherwise; details are
  /// in `reports()`. **Cost:** one inverse root per non-zero factor.
  [[nodiscard]] Info compute() {
    if constexpr (std::is_same_v<S, float>) {
      if (m_options.roots_in_double) return compute_in<double>();
    }
    return compute_in<S>();
  }

  /// The preconditioned (and grafted) direction for gradient G (rows x cols); see the class
  /// comment. Throws `DimensionMismatch` / `InvalidInput` for a wrong shape / non-finite G.
  [[nodiscard]] Matrix<S> precondition(const ConstRef<S>& g) const {
    Matrix<S> out(m_rows, m_cols);
    precondition(g, out);
    return out;
  }

  /// `precondition` into a preallocated rows x cols output (`out` must not alias `g`).
  void precondition(const ConstRef<S>& g, MutRef<S> out) const {
    check_shape(g, "shampoo::Shampoo::precondition");
    check_shape(out, "shampoo::Shampoo::precondition (output)");
    curvop::detail::require_finite(g, "shampoo::Shampoo::precondition");
    const auto nb = static_cast<std::ptrdiff_t>(m_blocks.size());
    [[maybe_unused]] const bool parallel = nb > 1 && curvop::detail::products_safe_in_parallel();
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(dynamic, 1) if (parallel)
#endif
    for (std::ptrdiff_t k = 0; k < nb; ++k) {
      const Block& b = m_blocks[static_cast<std::size_t>(k)];
      const auto gb = block_of(g, k);
      auto ob = block_of(out, k);
      if (two_sided()) {
        const Matrix<S> t = (*b.l_root) * gb;
        ob.noalias() = t * (*b.r_root);
      } else {
        ob.noalias() = (*b.l_root) * gb;
      }
      if (m_options.grafting != Grafting::None) {
        const double target = graft_norm(gb, k);
        const double norm = static_cast<double>(ob.norm());
        ob *= static_cast<S>(target / (norm + 1e-16));
      }
    }
  }

 private:
  struct Block {
    Matrix<S> l, r;
    // Immutable and shared with the `Preconditioner` snapshots; compute() replaces them.
    std::shared_ptr<const Matrix<S>> l_root, r_root;
  };

  bool two_sided() const { return m_options.variant != Variant::OneSided; }
  Block& block(Index k) { return m_blocks[static_cast<std::size_t>(k)]; }
  const Block& block(Index k) const {
    curvop::detail::require_argument(k >= 0 && k < m_blocking.size(), "shampoo::Shampoo",
                             "block index must be in [0, blocks)", k);
    return m_blocks[static_cast<std::size_t>(k)];
  }

  template <class M>
  void check_shape(const M& g, const char* where) const {
    struct Shape {
      Index r, c;
      Index rows() const { return r; }
      Index cols() const { return c; }
    };
    curvop::detail::require_conformant(g.rows() == m_rows && g.cols() == m_cols,
                               std::string(where) + ": gradient and parameter", g,
                               Shape{m_rows, m_cols});
  }

  template <class M>
  auto block_of(M& g, std::ptrdiff_t k) const {
    const auto rs = m_blocking.row_segment(static_cast<Index>(k));
    const auto cs = m_blocking.col_segment(static_cast<Index>(k));
    return g.block(rs.start, cs.start, rs.size, cs.size);
  }

  /// keep·old + add·(G Gᵀ or Gᵀ G) through a symmetric rank-k update (half the flops of a GEMM).
  template <class B>
  static Matrix<S> accumulate(const Matrix<S>& old, const B& gb, S keep, S add, bool right) {
    Matrix<S> t = keep * old;
    if (right) {
      t.template selfadjointView<Eigen::Lower>().rankUpdate(gb.transpose(), add);
    } else {
      t.template selfadjointView<Eigen::Lower>().rankUpdate(gb, add);
    }
    t.template triangularView<Eigen::StrictlyUpper>() = t.transpose();
    return t;
  }

  Matrix<S> corrected(const Matrix<S>& m) const {
    if (m_options.beta2 >= 1.0 || m_steps == 0) return m;
    const double c = 1.0 - std::pow(m_options.beta2, static_cast<double>(m_steps));
    return m / static_cast<S>(c);
  }

  template <class B>
  double graft_norm(const B& gb, std::ptrdiff_t k) const {
    if (m_options.grafting == Grafting::Sgd) return static_cast<double>(gb.norm());
    const auto rs = m_blocking.row_segment(static_cast<Index>(k));
    const auto cs = m_blocking.col_segment(static_cast<Index>(k));
    const auto acc = m_graft.block(rs.start, cs.start, rs.size, cs.size);
    double scale = 1.0;
    if (m_options.grafting == Grafting::Adam && m_steps > 0) {
      scale = 1.0 / (1.0 - std::pow(m_options.graft_beta2, static_cast<double>(m_steps)));
    }
    const S eps = static_cast<S>(m_options.graft_epsilon);
    const S sc = static_cast<S>(scale);
    return static_cast<double>(
        (gb.array() / ((acc.array() * sc).sqrt() + eps)).matrix().norm());
  }

  template <class R>
  Info compute_in() {
    // Factors in the order L_0, (R_0,) L_1, (R_1,) ...; all-zero factors are skipped.
    std::vector<Matrix<R>> factors;
    std::vector<std::pair<std::size_t, bool>> owner;  // (block, is_right)
    for (std::size_t k = 0; k < m_blocks.size(); ++k) {
      m_reports[k] = BlockReport{};
      for (bool right : {false, true}) {
        if (right && !two_sided()) continue;
        const Matrix<S>& f = right ? m_blocks[k].r : m_blocks[k].l;
        if (f.cwiseAbs().maxCoeff() == S(0)) {
          (right ? m_reports[k].right_kept : m_reports[k].left_kept) = true;
          continue;
        }
        factors.push_back(corrected(f).template cast<R>());
        owner.emplace_back(k, right);
      }
    }
    const auto roots = inverse_root_batch<R>(factors, m_options.order(), m_options.root_options());
    Info info = Info::Success;
    for (std::size_t i = 0; i < roots.size(); ++i) {
      const auto [k, right] = owner[i];
      const RootResult<R>& res = roots[i];
      BlockReport& rep = m_reports[k];
      (right ? rep.right_info : rep.left_info) = res.info;
      (right ? rep.right_fallback : rep.left_fallback) = res.fallback;
      (right ? rep.right_residual : rep.left_residual) = res.residual;
      if (res.info != Info::Success) info = Info::NumericalIssue;
      Matrix<S> root = res.root.template cast<S>();
      const bool usable = res.info != Info::InvalidInput && res.fallback != Fallback::Isotropic &&
                          root.allFinite();
      if (usable) {
        (right ? m_blocks[k].r_root : m_blocks[k].l_root) =
            std::make_shared<const Matrix<S>>(std::move(root));
      } else {
        (right ? rep.right_kept : rep.left_kept) = true;
      }
    }
    m_info = info;
    return info;
  }

  Index m_rows;
  Index m_cols;
  Options m_options;
  Blocking m_blocking;
  std::vector<Block> m_blocks;
  std::vector<BlockReport> m_reports;
  Matrix<S> m_graft;
  long m_steps = 0;
  Info m_info = Info::Success;
};

}  // namespace curvop::shampoo

#endif  // CURVOP_SHAMPOO_SHAMPOO_HPP
