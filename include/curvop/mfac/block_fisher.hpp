// SPDX-License-Identifier: MIT
// M-FAC block-diagonal operator: the damped empirical Fisher restricted to contiguous coordinate
// blocks, the form used to prune large models.
#ifndef CURVOP_MFAC_BLOCK_FISHER_HPP
#define CURVOP_MFAC_BLOCK_FISHER_HPP

#include <Eigen/Cholesky>
#include <curvop/mfac/empirical_fisher.hpp>
#include <variant>
#include <vector>

namespace curvop::mfac {

/// The block-diagonal empirical Fisher over contiguous coordinate blocks of size B:
/// \f[ F = \operatorname{blockdiag}(F_1, \dots, F_{\lceil d/B \rceil}), \qquad
///     F_b = \lambda I + \tfrac{1}{m} G_b G_b^\top, \f]
/// where G_b holds rows [bB, min((b+1)B, d)) of G (d x m, one gradient per column): the same m
/// and λ in every block, and a last block of d mod B rows when B does not divide d (as the
/// reference code; it is not padded).
///
/// Each block picks the cheaper exact form: a block with at least m rows is an
/// `EmpiricalFisher` (Woodbury on the m x m matrix, O(B·m²) set-up, O(B·m) per IHVP); a block
/// with fewer rows than gradients stores F_b and F_b⁻¹ explicitly (O(m·B² + B³) set-up,
/// O(B²) per IHVP), the right choice when B < m (as sparseml's small-block variant).
/// Blocks are processed in parallel with OpenMP.
///
/// Operator contract: `x` is `cols() x k`, `y` is `rows() x k` (k ≥ 1, preallocated,
/// overwritten, not aliased); `apply*` are const and thread-safe.
///
/// **Cost:** set-up Σ_b min(2·B·m², m·B² + B³) flops; IHVP Σ_b min(4·B·m, 2·B²)·k flops;
/// memory Σ_b min(B·m, 2B²) + d.
///
/// **Reference:** Frantar, Kurtic, Alistarh, NeurIPS 2021, §3.2 (blockwise M-FAC for pruning).
/// \tparam S float or double
template <class S>
class BlockFisher {
  static_assert(std::floating_point<S>, "BlockFisher: S must be float or double");

  struct Explicit {
    Matrix<S> f;     // F_b
    Matrix<S> finv;  // F_b⁻¹
  };
  using Block = std::variant<EmpiricalFisher<S>, Explicit>;

 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  /// Builds the blocks from G (d x m). Throws `std::invalid_argument` for damping ≤ 0, block
  /// size ≤ 0 or an empty G, `curvop::InvalidInput` for a non-finite gradient entry.
  BlockFisher(const Matrix<S>& gradients, S damping, Index block_size)
      : m_d(gradients.rows()), m_m(gradients.cols()), m_block(block_size), m_damping(damping) {
    curvop::detail::require_argument(damping > S(0) && std::isfinite(damping),
                                     "mfac::BlockFisher", "damping must be > 0 and finite",
                                     damping);
    curvop::detail::require_argument(block_size >= 1, "mfac::BlockFisher",
                                     "block_size must be >= 1", block_size);
    curvop::detail::require_argument(m_d >= 1, "mfac::BlockFisher",
                                     "gradients must have >= 1 row (the dimension d)", m_d);
    curvop::detail::require_argument(m_m >= 1, "mfac::BlockFisher",
                                     "gradients must have >= 1 column (one per gradient)", m_m);
    curvop::detail::require_finite(gradients, "mfac::BlockFisher: gradients");
    const Index nb = (m_d + block_size - 1) / block_size;
    std::vector<std::variant<std::monostate, Block>> built(static_cast<std::size_t>(nb));
    std::vector<Info> infos(static_cast<std::size_t>(nb), Info::Success);
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(dynamic) if (nb > 1)
#endif
    for (Index b = 0; b < nb; ++b) {
      const Index r0 = b * block_size, rows = std::min(block_size, m_d - r0);
      const auto gb = gradients.middleRows(r0, rows);
      const auto ub = static_cast<std::size_t>(b);
      if (rows >= m_m) {
        EmpiricalFisher<S> f(Matrix<S>(gb), damping);
        infos[ub] = f.info();
        built[ub] = Block(std::move(f));
      } else {
        Explicit e;
        Matrix<double> fd = Matrix<double>::Identity(rows, rows) * static_cast<double>(damping);
        const Matrix<double> gd = gb.template cast<double>();
        fd.template selfadjointView<Eigen::Lower>().rankUpdate(gd, 1.0 / static_cast<double>(m_m));
        fd.template triangularView<Eigen::StrictlyUpper>() = fd.transpose();
        Eigen::LLT<Matrix<double>> llt(fd);
        if (llt.info() != Eigen::Success) infos[ub] = Info::NumericalIssue;
        e.f = fd.template cast<S>();
        e.finv = llt.solve(Matrix<double>::Identity(rows, rows)).template cast<S>();
        built[ub] = Block(std::move(e));
      }
    }
    m_blocks.reserve(static_cast<std::size_t>(nb));
    for (auto& b : built) m_blocks.push_back(std::move(std::get<Block>(b)));
    for (Info i : infos) {
      if (i != Info::Success) m_info = i;
    }
  }

  Index rows() const { return m_d; }
  Index cols() const { return m_d; }
  /// m, the number of gradients.
  Index size() const { return m_m; }
  /// B, the block size (the last block may be smaller).
  Index block_size() const { return m_block; }
  /// Number of blocks, ⌈d/B⌉.
  Index blocks() const { return static_cast<Index>(m_blocks.size()); }
  S damping() const { return m_damping; }
  /// `Success`, or `NumericalIssue` if a block's factorisation failed.
  Info info() const { return m_info; }

  /// y = F x, block by block.
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    for_blocks(x, y, [](const auto& blk, const auto& xb, auto yb) {
      if constexpr (std::is_same_v<std::decay_t<decltype(blk)>, Explicit>) {
        yb.noalias() = blk.f * xb;
      } else {
        blk.apply(xb, yb);
      }
    });
  }

  /// y = F⁻¹ x, block by block (each block exact).
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    for_blocks(x, y, [](const auto& blk, const auto& xb, auto yb) {
      if constexpr (std::is_same_v<std::decay_t<decltype(blk)>, Explicit>) {
        yb.noalias() = blk.finv * xb;
      } else {
        blk.apply_inverse(xb, yb);
      }
    });
  }

  /// diag F.
  Vector<S> diagonal() const {
    return gather([](const auto& blk) -> Vector<S> {
      if constexpr (std::is_same_v<std::decay_t<decltype(blk)>, Explicit>) {
        return blk.f.diagonal();
      } else {
        return blk.diagonal();
      }
    });
  }

  /// diag F⁻¹, all d entries.
  Vector<S> inverse_diagonal() const {
    return gather([](const auto& blk) -> Vector<S> {
      if constexpr (std::is_same_v<std::decay_t<decltype(blk)>, Explicit>) {
        return blk.finv.diagonal();
      } else {
        return blk.inverse_diagonal();
      }
    });
  }

  /// [F⁻¹]_ij: zero across blocks, O(m) or O(1) within one.
  S inverse_entry(Index i, Index j) const {
    CURVOP_ASSERT(i >= 0 && i < rows() && j >= 0 && j < rows(),
                  "mfac::BlockFisher::inverse_entry: index out of range");
    const Index b = i / m_block;
    if (j / m_block != b) return S(0);
    const Index li = i - b * m_block, lj = j - b * m_block;
    return std::visit(
        [&](const auto& blk) -> S {
          if constexpr (std::is_same_v<std::decay_t<decltype(blk)>, Explicit>) {
            return blk.finv(li, lj);
          } else {
            return blk.inverse_entry(li, lj);
          }
        },
        m_blocks[static_cast<std::size_t>(b)]);
  }

 private:
  template <class F>
  void for_blocks(const ConstRef<S>& x, MutRef<S>& y, F&& f) const {
    const Index nb = blocks();
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(dynamic) if (nb > 1)
#endif
    for (Index b = 0; b < nb; ++b) {
      const Index r0 = b * m_block, rows = std::min(m_block, m_d - r0);
      std::visit([&](const auto& blk) { f(blk, x.middleRows(r0, rows), y.middleRows(r0, rows)); },
                 m_blocks[static_cast<std::size_t>(b)]);
    }
  }

  template <class F>
  Vector<S> gather(F&& f) const {
    Vector<S> out(m_d);
    const Index nb = blocks();
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(dynamic) if (nb > 1)
#endif
    for (Index b = 0; b < nb; ++b) {
      const Index r0 = b * m_block, rows = std::min(m_block, m_d - r0);
      out.segment(r0, rows) = std::visit(f, m_blocks[static_cast<std::size_t>(b)]);
    }
    return out;
  }

  std::vector<Block> m_blocks;
  Index m_d, m_m, m_block;
  S m_damping;
  Info m_info = Info::Success;
};

}  // namespace curvop::mfac

#endif  // CURVOP_MFAC_BLOCK_FISHER_HPP
