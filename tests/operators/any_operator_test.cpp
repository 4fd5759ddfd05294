// SPDX-License-Identifier: MIT
// Type-erased operators and explicit references forward every capability of what they hold.
#include <curvop/operators.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("AnyOperator and OperatorRef forward capabilities", "[operators][any_operator][ref]",
                   float, double) {
  using S = TestType;
  const auto a = spd<S>(3, 1), b = spd<S>(4, 2);
  const auto k = kron(symmetric_dense(a.s), symmetric_dense(b.s));
  check_operator({"cref(kron)", 100.0}, cref(k), dense_kron(a.d, b.d));
  STATIC_REQUIRE(is_symmetric_v<OperatorRef<std::remove_cvref_t<decltype(k)>>>);

  const AnyOperator<S> any = k;
  CHECK(any.has_inverse());
  CHECK(any.has_transpose());
  CHECK(any.symmetric());
  check_operator({"AnyOperator(kron)", 100.0}, any, dense_kron(a.d, b.d));

  // A heterogeneous run-time list, as for per-layer preconditioners.
  const auto d = positive_vector<S>(5, 3);
  std::vector<AnyOperator<S>> layers{AnyOperator<S>(k), AnyOperator<S>(curvop::diagonal(Vector<S>(d.s)))};
  const BlockDiagonal<AnyOperator<S>> bd(layers);
  Matrix<double> ref = Matrix<double>::Zero(17, 17);
  ref.topLeftCorner(12, 12) = dense_kron(a.d, b.d);
  ref.bottomRightCorner(5, 5) = d.d.col(0).asDiagonal();
  check_operator({"BlockDiagonal<AnyOperator>", 100.0}, bd, ref);
}

TEST_CASE("AnyOperator reports a missing capability", "[operators][any_operator][errors]") {
  const Matrix<double> m = Matrix<double>::Ones(2, 3);
  const AnyOperator<double> any = function_operator<double>(
      2, 3, [m](const ConstRef<double>& x, MutRef<double> y) { y.noalias() = m * x; });
  CHECK_FALSE(any.has_inverse());
  CHECK_FALSE(any.has_transpose());
  Matrix<double> y(3, 1);
  REQUIRE_THROWS_AS(any.apply_transpose(Matrix<double>::Ones(2, 1), y), std::logic_error);
  Matrix<double> z(3, 1);
  REQUIRE_THROWS_AS(any.apply_inverse(Matrix<double>::Ones(2, 1), z), std::logic_error);
}
