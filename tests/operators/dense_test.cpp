// SPDX-License-Identifier: MIT
// Dense, SymmetricDense and DenseView against their matrices.
#include <curvop/operators/dense.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("dense operators match their matrices", "[operators][dense]", float, double) {
  const auto g = general<TestType>(9, 9, 1);
  check_operator({"Dense square"}, Dense<TestType>(g.s), g.d);
  check_operator({"dense(expr)"}, dense(g.s), g.d);
  const auto r = general<TestType>(7, 4, 2);
  check_operator({"Dense rectangular"}, DenseView<TestType>(r.s), r.d);
  const auto a = spd<TestType>(11, 3);
  check_operator({"SymmetricDense"}, symmetric_dense(a.s), a.d);
  check_operator({"dense_view"}, dense_view(r.s), r.d);
}

TEST_CASE("Dense inverse transpose solves with Aᵀ", "[operators][dense]") {
  const auto g = general<double>(8, 8, 4);
  const Dense<double> a(g.s);
  const Matrix<double> x = gaussian_matrix<double>(8, 2, 5);
  Matrix<double> y(8, 2);
  a.apply_inverse_transpose(x, y);
  REQUIRE(rel_err(Matrix<double>(g.d.transpose() * y), x) < 1e-13);
}

TEST_CASE("SymmetricDense rejects bad matrices", "[operators][dense][errors]") {
  REQUIRE_THROWS_AS(SymmetricDense<double>(Matrix<double>::Zero(3, 4)), DimensionMismatch);
  Matrix<double> a = Matrix<double>::Identity(3, 3);
  a(0, 2) = 1.0;
  REQUIRE_THROWS_AS(SymmetricDense<double>(a), std::invalid_argument);
  try {
    SymmetricDense<double> s(a);
  } catch (const std::invalid_argument& e) {
    REQUIRE(std::string(e.what()).find("symmetric") != std::string::npos);
  }
}

TEST_CASE("apply asserts on non-conformant shapes", "[operators][dense][errors]") {
  const Dense<double> a(Matrix<double>::Identity(4, 4));
  Matrix<double> y(4, 1);
  const Matrix<double> bad(5, 1);
  REQUIRE_THROWS_AS(a.apply(bad, y), AssertionError);
  Matrix<double> ybad(4, 2);
  const Matrix<double> x(4, 1);
  REQUIRE_THROWS_AS(a.apply(x, ybad), AssertionError);
  REQUIRE_THROWS_AS(curvop::apply(a, bad), AssertionError);
  const Dense<double> rect(Matrix<double>::Ones(2, 3));
  Matrix<double> yr(3, 1);
  REQUIRE_THROWS_AS(rect.apply_inverse(Matrix<double>::Ones(2, 1), yr), AssertionError);
}
