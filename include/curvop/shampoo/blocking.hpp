// SPDX-License-Identifier: MIT
// Blocking of a matrix parameter into a grid of blocks of at most max_block x max_block.
#ifndef CURVOP_SHAMPOO_BLOCKING_HPP
#define CURVOP_SHAMPOO_BLOCKING_HPP

#include <curvop/config.hpp>
#include <vector>

namespace curvop::shampoo {

/// The partition of a rows x cols matrix into a grid of blocks: rows are cut into ⌈rows/b⌉
/// consecutive segments of b rows (the last one shorter), columns likewise. Block number
/// `k = i + row_blocks()·j` covers row segment i and column segment j (column-major, like vec).
class Blocking {
 public:
  /// A segment [start, start + size) of one dimension.
  struct Segment {
    Index start;
    Index size;
  };

  Blocking() = default;
  /// Partition of rows x cols with blocks of at most `max_block` per side (max_block ≥ 1).
  Blocking(Index rows, Index cols, Index max_block)
      : m_rows(split(rows, max_block)), m_cols(split(cols, max_block)) {}

  /// Row segments. \return ⌈rows/max_block⌉ segments (one segment of size 0 for rows = 0).
  [[nodiscard]] const std::vector<Segment>& row_segments() const { return m_rows; }
  /// Column segments.
  [[nodiscard]] const std::vector<Segment>& col_segments() const { return m_cols; }
  /// Number of row segments.
  [[nodiscard]] Index row_blocks() const { return static_cast<Index>(m_rows.size()); }
  /// Number of column segments.
  [[nodiscard]] Index col_blocks() const { return static_cast<Index>(m_cols.size()); }
  /// Number of blocks.
  [[nodiscard]] Index size() const { return row_blocks() * col_blocks(); }
  /// Row segment of block k.
  [[nodiscard]] Segment row_segment(Index k) const {
    return m_rows[static_cast<std::size_t>(k % row_blocks())];
  }
  /// Column segment of block k.
  [[nodiscard]] Segment col_segment(Index k) const {
    return m_cols[static_cast<std::size_t>(k / row_blocks())];
  }

 private:
  static std::vector<Segment> split(Index n, Index b) {
    std::vector<Segment> s;
    if (n == 0) s.push_back({0, 0});
    for (Index start = 0; start < n; start += b) s.push_back({start, std::min(b, n - start)});
    return s;
  }
  std::vector<Segment> m_rows;
  std::vector<Segment> m_cols;
};

}  // namespace curvop::shampoo

#endif  // CURVOP_SHAMPOO_BLOCKING_HPP
