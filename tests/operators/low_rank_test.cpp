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

TEST_CASE("LowRankPlusDiagonal at a size where the passes are row-blocked", "[operators][low_rank]") {
  // n spans several 1024-row blocks (and several threads under OpenMP).
  const Index n = 20000, r = 8;
  const auto d = positive_vector<double>(n, 7);
  const auto U = gaussian<double>(n, r, 8, 1.0 / std::sqrt(double(n)));
  const Matrix<double> C = Matrix<double>::Identity(r, r);
  const auto op = low_rank_plus_diagonal<double>(d.s.col(0), U.s, C);
  const Matrix<double> x = gaussian_matrix<double>(n, 2, 9);
  const Matrix<double> y = curvop::apply(op, x);
  const Matrix<double> yref = d.d.col(0).asDiagonal() * x + U.d * (U.d.transpose() * x);
  CHECK(rel_err(y, yref) < 1e-13);
  CHECK(rel_err(curvop::apply_inverse(op, y), x) < 1e-12);
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
