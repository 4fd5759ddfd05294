// SPDX-License-Identifier: MIT
// Compile-time checks of the concept and its capabilities, and the error vocabulary of config.hpp.
#include <curvop/curvop.hpp>

#include "support/catch.hpp"

using namespace curvop;

TEST_CASE("the concept accepts operators and rejects Eigen types", "[concepts]") {
  STATIC_REQUIRE_FALSE(LinearOperator<Eigen::MatrixXd>);
  STATIC_REQUIRE_FALSE(LinearOperator<Eigen::VectorXf>);
  STATIC_REQUIRE_FALSE(LinearOperator<double>);
  STATIC_REQUIRE(LinearOperator<Dense<double>>);
  STATIC_REQUIRE(InvertibleOperator<Kronecker<SymmetricDense<double>, SymmetricDense<double>>>);
  STATIC_REQUIRE(is_symmetric_v<Kronecker<SymmetricDense<float>, Diagonal<float>>>);
  STATIC_REQUIRE_FALSE(is_symmetric_v<Kronecker<Dense<float>, Diagonal<float>>>);
  STATIC_REQUIRE(TransposableOperator<Dense<float>>);
  STATIC_REQUIRE_FALSE(TransposableOperator<Diagonal<float>>);  // derived: it is symmetric
  STATIC_REQUIRE(AccumulatingOperator<Diagonal<double>>);
  STATIC_REQUIRE(DiagonalExtractable<LowRankPlusDiagonal<float>>);
  STATIC_REQUIRE_FALSE(InvertibleOperator<DenseView<double>>);
  STATIC_REQUIRE_FALSE(InvertibleOperator<Sum<Dense<double>, Dense<double>>>);
  STATIC_REQUIRE(InvertibleOperator<AnyOperator<double>>);
  STATIC_REQUIRE(std::same_as<scalar_t<LowRank<float>>, float>);
}

TEST_CASE("Info values have names", "[concepts][config]") {
  CHECK(std::string(to_string(Info::Success)) == "Success");
  CHECK(std::string(to_string(Info::NumericalIssue)) == "NumericalIssue");
  CHECK(std::string(to_string(Info::NoConvergence)) == "NoConvergence");
  CHECK(std::string(to_string(Info::InvalidInput)) == "InvalidInput");
}

TEST_CASE("error helpers name the argument, the rule and the value", "[concepts][config][errors]") {
  try {
    detail::require_argument(false, "kfac::Options", "damping must be > 0", -1.0);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()) == "kfac::Options: damping must be > 0 (got -1)");
  }
  const Vector<double> bad = Vector<double>::Constant(3, std::numeric_limits<double>::infinity());
  REQUIRE_THROWS_AS(detail::require_finite(bad, "gradient"), InvalidInput);
  STATIC_REQUIRE(std::derived_from<DimensionMismatch, std::invalid_argument>);
  STATIC_REQUIRE(std::derived_from<InvalidInput, std::invalid_argument>);
  REQUIRE_THROWS_AS(CURVOP_ASSERT(1 + 1 == 3, "arithmetic"), AssertionError);
}
