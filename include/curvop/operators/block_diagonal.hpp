// SPDX-License-Identifier: MIT
// Block-diagonal operators: a compile-time list `block_diag(a, b, ...)` and a run-time
// `BlockDiagonal<Op>` over a vector of operators (per-layer curvature blocks).
#ifndef CURVOP_OPERATORS_BLOCK_DIAGONAL_HPP
#define CURVOP_OPERATORS_BLOCK_DIAGONAL_HPP

#include <array>
#include <curvop/functions.hpp>
#include <curvop/operators/composite.hpp>
#include <tuple>
#include <utility>
#include <vector>

namespace curvop {

namespace detail {
/// Applies f(op, in_rows, out_rows) block by block; blocks may be rectangular.
template <class Op, class F>
void for_each_block(const Op& op, Index& r0, Index& c0, bool transpose, F&& f) {
  const Index in = transpose ? op.rows() : op.cols();
  const Index out = transpose ? op.cols() : op.rows();
  f(op, c0, in, r0, out);
  c0 += in;
  r0 += out;
}
}  // namespace detail

/// diag(A₁, A₂, …) for a compile-time list of operators, acting on consecutive row segments:
/// block i maps rows [c_i, c_i + A_i.cols()) of x to rows [r_i, r_i + A_i.rows()) of y.
///
/// Symmetric when every block is; `apply_inverse` block-wise when every block has one, and
/// `inverse(block_diag(a, b))` is `block_diag(inverse(a), inverse(b))`.
///
/// Cost: the blocks' costs; no extra memory.
template <LinearOperator... Ops>
  requires(sizeof...(Ops) >= 1 && detail::same_scalar_v<Ops...>)
class BlockDiag {
 public:
  using Scalar = typename std::tuple_element_t<0, std::tuple<Ops...>>::Scalar;
  static constexpr bool is_symmetric = (is_symmetric_v<Ops> && ...);

  explicit BlockDiag(Ops... ops) : m_ops(std::move(ops)...) {
    std::apply(
        [&](const auto&... op) {
          m_rows = (op.rows() + ...);
          m_cols = (op.cols() + ...);
        },
        m_ops);
  }

  Index rows() const { return m_rows; }
  Index cols() const { return m_cols; }
  const std::tuple<Ops...>& blocks() const { return m_ops; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    visit(false, [&](const auto& op, Index c0, Index nc, Index r0, Index nr) {
      op.apply(x.middleRows(c0, nc), y.middleRows(r0, nr));
    });
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires(detail::TransposeDerivable<Ops> && ...)
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    visit(true, [&](const auto& op, Index c0, Index nc, Index r0, Index nr) {
      ::curvop::apply_transpose(op, x.middleRows(c0, nc), y.middleRows(r0, nr));
    });
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires(InvertibleOperator<Ops> && ...)
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    // A square block inverse maps its row segment to the same segment.
    visit(false, [&](const auto& op, Index c0, Index nc, Index r0, Index nr) {
      op.apply_inverse(x.middleRows(r0, nr), y.middleRows(c0, nc));
    });
  }
  Vector<Scalar> diagonal() const
    requires(DiagonalExtractable<Ops> && ...)
  {
    Vector<Scalar> d(std::min(rows(), cols()));
    Index o = 0;
    std::apply([&](const auto&... op) { ((d.segment(o, op.rows()) = op.diagonal(), o += op.rows()), ...); },
               m_ops);
    return d;
  }

 private:
  template <class F>
  void visit(bool transpose, F&& f) const {
    Index r0 = 0, c0 = 0;
    std::apply([&](const auto&... op) { (detail::for_each_block(op, r0, c0, transpose, f), ...); },
               m_ops);
  }

  std::tuple<Ops...> m_ops;
  Index m_rows = 0;
  Index m_cols = 0;
};

/// diag(A₁, A₂, …) of a compile-time list of operators.
template <LinearOperator... Ops>
  requires(sizeof...(Ops) >= 1 && detail::same_scalar_v<Ops...>)
[[nodiscard]] BlockDiag<Ops...> block_diag(const Ops&... ops) {
  return BlockDiag<Ops...>(ops...);
}
/// diag(A₁, …)⁻¹ = diag(A₁⁻¹, …).
template <InvertibleOperator... Ops>
[[nodiscard]] auto inverse(const BlockDiag<Ops...>& b) {
  return std::apply([](const auto&... op) { return block_diag(inverse(op)...); }, b.blocks());
}

/// diag(A₁, …, A_N) over a run-time list of operators of one type (use `AnyOperator<S>` for
/// heterogeneous lists, e.g. one preconditioner per layer).
///
/// Cost: the blocks' costs; O(N) offsets.
template <LinearOperator Op>
class BlockDiagonal {
 public:
  using Scalar = scalar_t<Op>;
  static constexpr bool is_symmetric = is_symmetric_v<Op>;

  explicit BlockDiagonal(std::vector<Op> blocks) : m_blocks(std::move(blocks)) {
    m_row0.reserve(m_blocks.size() + 1);
    m_col0.reserve(m_blocks.size() + 1);
    m_row0.push_back(0);
    m_col0.push_back(0);
    for (const auto& b : m_blocks) {
      m_row0.push_back(m_row0.back() + b.rows());
      m_col0.push_back(m_col0.back() + b.cols());
    }
  }

  Index rows() const { return m_row0.back(); }
  Index cols() const { return m_col0.back(); }
  const std::vector<Op>& blocks() const { return m_blocks; }
  std::size_t size() const { return m_blocks.size(); }
  /// First row of block i (`offset(size())` is rows()).
  Index row_offset(std::size_t i) const { return m_row0[i]; }
  /// First column of block i.
  Index col_offset(std::size_t i) const { return m_col0[i]; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
      m_blocks[i].apply(x.middleRows(m_col0[i], m_blocks[i].cols()),
                        y.middleRows(m_row0[i], m_blocks[i].rows()));
    }
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires detail::TransposeDerivable<Op>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
      ::curvop::apply_transpose(m_blocks[i], x.middleRows(m_row0[i], m_blocks[i].rows()),
                                y.middleRows(m_col0[i], m_blocks[i].cols()));
    }
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires InvertibleOperator<Op>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
      m_blocks[i].apply_inverse(x.middleRows(m_row0[i], m_blocks[i].rows()),
                                y.middleRows(m_col0[i], m_blocks[i].cols()));
    }
  }
  Vector<Scalar> diagonal() const
    requires DiagonalExtractable<Op>
  {
    Vector<Scalar> d(std::min(rows(), cols()));
    for (std::size_t i = 0; i < m_blocks.size(); ++i) {
      d.segment(m_row0[i], m_blocks[i].rows()) = m_blocks[i].diagonal();
    }
    return d;
  }

 private:
  std::vector<Op> m_blocks;
  std::vector<Index> m_row0;
  std::vector<Index> m_col0;
};

/// diag(A₁, …)⁻¹ = diag(A₁⁻¹, …) for a run-time list.
template <InvertibleOperator Op>
[[nodiscard]] auto inverse(const BlockDiagonal<Op>& b) {
  using I = decltype(inverse(std::declval<const Op&>()));
  std::vector<I> inv;
  inv.reserve(b.size());
  for (const auto& op : b.blocks()) inv.push_back(inverse(op));
  return BlockDiagonal<I>(std::move(inv));
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_BLOCK_DIAGONAL_HPP
