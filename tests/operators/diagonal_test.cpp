// SPDX-License-Identifier: MIT
// Diagonal, Identity and ScaledIdentity against their matrices, and their closed-form algebra.
#include <curvop/operators/composite.hpp>
#include <curvop/operators/diagonal.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("diagonal operators match their matrices", "[operators][diagonal]", float,
                   double) {
  using S = TestType;
  const auto d = positive_vector<S>(13, 1);
  check_operator({"Diagonal"}, curvop::diagonal(Vector<S>(d.s)), Matrix<double>(d.d.col(0).asDiagonal()));
  check_operator({"Identity"}, identity<S>(6), Matrix<double>::Identity(6, 6));
  check_operator({"ScaledIdentity"}, scaled_identity<S>(6, S(2.5)),
                 Matrix<double>(2.5 * Matrix<double>::Identity(6, 6)));
}

TEMPLATE_TEST_CASE("diagonal algebra folds into diagonal types", "[operators][diagonal]", float,
                   double) {
  using S = TestType;
  const auto d = positive_vector<S>(7, 2);
  const Diagonal<S> a(d.s.col(0));
  const Matrix<double> ad = d.d.col(0).asDiagonal();
  const Matrix<double> eye = Matrix<double>::Identity(7, 7);
  // Each simplified result has the diagonal type and the value of the unsimplified path.
  STATIC_REQUIRE(std::same_as<decltype(inverse(a)), Diagonal<S>>);
  STATIC_REQUIRE(std::same_as<decltype(scaled(S(2), a)), Diagonal<S>>);
  STATIC_REQUIRE(std::same_as<decltype(shifted(a, S(1))), Diagonal<S>>);
  STATIC_REQUIRE(std::same_as<decltype(inverse(scaled_identity<S>(7, S(2)))), ScaledIdentity<S>>);
  STATIC_REQUIRE(std::same_as<decltype(shifted(identity<S>(7), S(2))), ScaledIdentity<S>>);
  check_operator({"inverse(Diagonal)"}, inverse(a), Matrix<double>(ad.inverse()));
  check_operator({"Inverse<Opaque<Diagonal>> generic"}, Inverse<Diagonal<S>>(a), Matrix<double>(ad.inverse()));
  check_operator({"scaled(Diagonal)"}, scaled(S(2), a), Matrix<double>(2.0 * ad));
  check_operator({"shifted(Diagonal)"}, shifted(a, S(1.5)), Matrix<double>(ad + 1.5 * eye));
  check_operator({"Shifted generic"}, Shifted<Opaque<Diagonal<S>>>(opaque(a), S(1.5)),
                 Matrix<double>(ad + 1.5 * eye));
  check_operator({"inverse(ScaledIdentity)"}, inverse(scaled_identity<S>(7, S(4))),
                 Matrix<double>(0.25 * eye));
  check_operator({"shifted(Identity)"}, shifted(identity<S>(7), S(2)), Matrix<double>(3.0 * eye));
  check_operator({"scaled(Identity)"}, scaled(S(3), identity<S>(7)), Matrix<double>(3.0 * eye));
}

TEST_CASE("diagonal operators reject negative sizes", "[operators][diagonal][errors]") {
  REQUIRE_THROWS_AS(ScaledIdentity<double>(-1, 1.0), std::invalid_argument);
  REQUIRE_THROWS_AS(Identity<float>(-3), std::invalid_argument);
}
