// SPDX-License-Identifier: MIT
// Operators from user callables (how users plug in their own Hessian-vector products).
#include <curvop/operators/function.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("function_operator wraps a callable", "[operators][function]", float, double) {
  using S = TestType;
  const auto a = spd<S>(9, 1);
  const Matrix<S> m = a.s;
  int calls = 0;
  auto hvp = [&m, &calls](const ConstRef<S>& x, MutRef<S> y) {
    ++calls;
    y.noalias() = m * x;
  };
  const auto op = function_operator<S>(9, 9, hvp, curvop::symmetric);
  STATIC_REQUIRE(is_symmetric_v<decltype(op)>);
  check_operator({"function_operator symmetric"}, op, a.d);
  // Several right-hand sides reach the callable in one call.
  calls = 0;
  (void)curvop::apply(op, gaussian_matrix<S>(9, 4, 2));
  CHECK(calls == 1);

  const auto r = general<S>(4, 6, 3);
  const Matrix<S> rm = r.s;
  const auto gen = function_operator<S>(4, 6, [rm](const ConstRef<S>& x, MutRef<S> y) { y.noalias() = rm * x; });
  STATIC_REQUIRE_FALSE(is_symmetric_v<decltype(gen)>);
  STATIC_REQUIRE_FALSE(TransposableOperator<decltype(gen)>);
  check_operator({"function_operator general"}, gen, r.d);
}

TEST_CASE("function_operator rejects bad shapes", "[operators][function][errors]") {
  auto f = [](const ConstRef<double>& x, MutRef<double> y) { y = x; };
  REQUIRE_THROWS_AS(function_operator<double>(-1, 2, f), std::invalid_argument);
  REQUIRE_THROWS_AS(function_operator<double>(3, 4, f, curvop::symmetric), std::invalid_argument);
}
