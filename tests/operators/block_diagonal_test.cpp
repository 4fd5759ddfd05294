// SPDX-License-Identifier: MIT
// Compile-time and run-time block-diagonal operators against dense block-diagonal matrices.
#include <curvop/operators/block_diagonal.hpp>
#include <curvop/operators/dense.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

namespace {
Matrix<double> dense_block_diag(const std::vector<Matrix<double>>& blocks) {
  Index r = 0, c = 0;
  for (const auto& b : blocks) r += b.rows(), c += b.cols();
  Matrix<double> m = Matrix<double>::Zero(r, c);
  r = c = 0;
  for (const auto& b : blocks) {
    m.block(r, c, b.rows(), b.cols()) = b;
    r += b.rows();
    c += b.cols();
  }
  return m;
}
}  // namespace

TEMPLATE_TEST_CASE("block-diagonal operators match dense block-diagonal matrices",
                   "[operators][block_diagonal]", float, double) {
  using S = TestType;
  const auto a = spd<S>(5, 1), b = spd<S>(3, 2);
  const auto d = positive_vector<S>(4, 3);
  const Matrix<double> dd = d.d.col(0).asDiagonal();
  const auto bd = block_diag(symmetric_dense(a.s), symmetric_dense(b.s), curvop::diagonal(Vector<S>(d.s)));
  STATIC_REQUIRE(is_symmetric_v<decltype(bd)>);
  check_operator({"block_diag(spd, spd, Diagonal)"}, bd, dense_block_diag({a.d, b.d, dd}));
  check_operator({"inverse(block_diag)"}, inverse(bd),
                 dense_block_diag({a.d.inverse(), b.d.inverse(), dd.inverse()}));
  // Rectangular blocks (no inverse).
  const auto r = general<S>(2, 3, 4), q = general<S>(4, 1, 5);
  check_operator({"block_diag(rect, rect)"}, block_diag(DenseView<S>(r.s), DenseView<S>(q.s)),
                 dense_block_diag({r.d, q.d}));

  // Run-time list.
  std::vector<SymmetricDense<S>> blocks;
  std::vector<Matrix<double>> refs;
  for (int i = 0; i < 4; ++i) {
    const auto s = spd<S>(2 + i, 10 + static_cast<std::uint64_t>(i));
    blocks.emplace_back(s.s);
    refs.push_back(s.d);
  }
  const BlockDiagonal<SymmetricDense<S>> rt(blocks);
  CHECK(rt.size() == 4);
  CHECK(rt.row_offset(2) == 5);
  check_operator({"BlockDiagonal<SymmetricDense>"}, rt, dense_block_diag(refs));
  std::vector<Matrix<double>> inv;
  for (const auto& m : refs) inv.push_back(m.inverse());
  check_operator({"inverse(BlockDiagonal)"}, inverse(rt), dense_block_diag(inv));
}
