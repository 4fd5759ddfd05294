// SPDX-License-Identifier: MIT
// LowRank and LowRankPlusDiagonal (Woodbury inverse) against dense references.
#include <curvop/operators/composite.hpp>
#include <curvop/operators/low_rank.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("low-rank operators match dense references", "[operators][low_rank]", float,
                   double) {
  using S = TestType;
  const auto u = gaussian<S>(9, 3, 1), v = gaussian<S>(6, 3, 2);
  check_operator({"LowRank"}, LowRank<S>(u.s, v.s), Matrix<double>(u.d * v.d.transpose()));
  STATIC_REQUIRE(is_symmetric_v<decltype(low_rank<S>(u.s))>);
  check_operator({"LowRank symmetric"}, low_rank<S>(u.s), Matrix<double>(u.d * u.d.transpose()));

  const Index n = 40, r = 5;
  const auto d = positive_vector<S>(n, 3);
  const Matrix<double> D = d.d.col(0).asDiagonal();
  // U, V with entries N(0, 1/n)·0.5 and C = 2I: the correction has norm ~1, so the spectrum
  // of D + U C Vᵀ stays within [0.5, 11] (κ ≲ 25).
  const auto U = gaussian<S>(n, r, 4, 0.5 / std::sqrt(double(n))), V = gaussian<S>(n, r, 5, 0.5 / std::sqrt(double(n)));
  const auto C = ingredient<S>(Matrix<double>(2.0 * Matrix<double>::Identity(r, r) + 0.1 * gaussian_matrix<double>(r, r, 6)));
  check_operator({"LowRankPlusDiagonal", 25.0},
                 low_rank_plus_diagonal<S>(d.s.col(0), U.s, C.s, V.s),
                 Matrix<double>(D + U.d * C.d * V.d.transpose()));
  const auto Cs = ingredient<S>(Matrix<double>(3.0 * Matrix<double>::Identity(r, r)));
  check_operator({"LowRankPlusDiagonal symmetric", 25.0},
                 low_rank_plus_diagonal<S>(d.s.col(0), U.s, Cs.s),
                 Matrix<double>(D + U.d * Cs.d * U.d.transpose()));
  // A singular C is allowed (the Woodbury form used needs no C⁻¹): a rank-deficient correction.
  Matrix<double> c0 = Matrix<double>::Zero(r, r);
  c0(0, 0) = 1.5;
  const auto C0 = ingredient<S>(c0);
  check_operator({"LowRankPlusDiagonal singular C", 25.0},
                 low_rank_plus_diagonal<S>(d.s.col(0), U.s, C0.s, V.s),
                 Matrix<double>(D + U.d * C0.d * V.d.transpose()));
  // shifted keeps the structure (and its exact inverse).
  const auto sh = shifted(low_rank_plus_diagonal<S>(d.s.col(0), U.s, Cs.s), S(0.5));
  STATIC_REQUIRE(std::same_as<decltype(sh), const LowRankPlusDiagonal<S, true>>);
  check_operator({"shifted(LowRankPlusDiagonal)", 25.0}, sh,
                 Matrix<double>(D + U.d * Cs.d * U.d.transpose() + 0.5 * Matrix<double>::Identity(n, n)));
}

TEMPLATE_TEST_CASE("LowRankPlusDiagonal at a size where the passes are row-blocked",
                   "[operators][low_rank]", float, double) {
  using S = TestType;
  // n spans several 8192-row blocks, a short last one, and both threads under OpenMP; r = 11
  // covers the fused kernels' groups of eight and four columns and a single one. One right-hand
  // side goes through the fused kernels, two through Eigen's products.
  const Index n = 70001, r = 11;
  // The n-long sums are blocked (1024 terms per SIMD lane and block, then the blocks), so their
  // error grows like about 1024 + n/1024 ≈ 1100 terms, not n.
  const double inner = 1100.0;
  const auto d = positive_vector<S>(n, 7);
  const auto U = gaussian<S>(n, r, 8, 1.0 / std::sqrt(double(n)));
  const auto V = gaussian<S>(n, r, 10, 1.0 / std::sqrt(double(n)));
  const Matrix<double> C = Matrix<double>::Identity(r, r) + 0.1 * gaussian_matrix<double>(r, r, 11);
  const auto op = low_rank_plus_diagonal<S>(d.s.col(0), U.s, C.cast<S>(), V.s);
  const auto sym = low_rank_plus_diagonal<S>(d.s.col(0), U.s, Matrix<S>::Identity(r, r));
  for (const Index k : {Index(1), Index(2)}) {
    const Matrix<S> x = gaussian_matrix<S>(n, k, 9);
    const Matrix<double> xd = x.template cast<double>();
    const Matrix<double> yref = d.d.col(0).asDiagonal() * xd + U.d * (C * (V.d.transpose() * xd));
    const Matrix<S> y = curvop::apply(op, x);
    CHECK(rel_err(y, yref) < apply_tol<S>(inner));
    const Matrix<double> tref = d.d.col(0).asDiagonal() * xd + V.d * (C.transpose() * (U.d.transpose() * xd));
    CHECK(rel_err(curvop::apply_transpose(op, x), tref) < apply_tol<S>(inner));
    // The inverse against the dense-free identity A⁻¹(A x) = x, and the symmetric form.
    CHECK(rel_err(curvop::apply_inverse(op, y), xd) < inverse_tol<S>(inner, 10.0));
    const Matrix<S> ys = curvop::apply(sym, x);
    CHECK(rel_err(ys, d.d.col(0).asDiagonal() * xd + U.d * (U.d.transpose() * xd)) < apply_tol<S>(inner));
    CHECK(rel_err(curvop::apply_inverse(sym, ys), xd) < inverse_tol<S>(inner, 10.0));
  }
}

TEST_CASE("low-rank operators reject bad factors", "[operators][low_rank][errors]") {
  const Vector<double> d = Vector<double>::Ones(5);
  const Matrix<double> u = Matrix<double>::Ones(5, 2), c = Matrix<double>::Identity(2, 2);
  REQUIRE_THROWS_AS(LowRank<double>(u, Matrix<double>::Ones(5, 3)), DimensionMismatch);
  REQUIRE_THROWS_AS(low_rank_plus_diagonal<double>(d, Matrix<double>::Ones(4, 2), c), DimensionMismatch);
  REQUIRE_THROWS_AS(low_rank_plus_diagonal<double>(d, u, Matrix<double>::Identity(3, 3)), DimensionMismatch);
  REQUIRE_THROWS_AS(low_rank_plus_diagonal<double>(d, u, c, Matrix<double>::Ones(5, 1)), DimensionMismatch);
  Vector<double> dz = d;
  dz(2) = 0.0;
  REQUIRE_THROWS_AS(low_rank_plus_diagonal<double>(dz, u, c), std::invalid_argument);
  Matrix<double> un = u;
  un(1, 1) = std::numeric_limits<double>::quiet_NaN();
  REQUIRE_THROWS_AS(low_rank_plus_diagonal<double>(d, un, c), InvalidInput);
  // D + U C Vᵀ singular: D = I, U = V = e₁, C = −1 makes the (1,1) entry 0.
  Matrix<double> e1 = Matrix<double>::Zero(5, 1);
  e1(0, 0) = 1.0;
  const auto sing = low_rank_plus_diagonal<double>(d, e1, Matrix<double>::Constant(1, 1, -1.0), e1);
  REQUIRE(sing.info() == Info::NumericalIssue);
  Matrix<double> y(5, 1);
  REQUIRE_THROWS_AS(sing.apply_inverse(Matrix<double>::Ones(5, 1), y), AssertionError);
}
