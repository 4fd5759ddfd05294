// SPDX-License-Identifier: MIT
// Projection<S>: the operator Pᵀ of an orthonormal basis against its dense reference.
#include <curvop/functions.hpp>
#include <curvop/lowrank/projection.hpp>

#include "lowrank/support/spectrum.hpp"
#include "support/catch.hpp"
#include "support/properties.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
namespace lr = curvop::lowrank;
namespace ct = curvop::test;

TEMPLATE_TEST_CASE("Projection applies P^T and lifts with P", "[lowrank]", float, double) {
  using S = TestType;
  const Matrix<double> p = ct::orthogonal_matrix(40, 5).leftCols(7);
  const lr::Projection<S> proj(p.cast<S>());
  CHECK(proj.rows() == 7);
  CHECK(proj.cols() == 40);
  CHECK(proj.rank() == 7);
  // The generic operator checks: apply, multi-RHS, apply_transpose, apply_add, opaque paths.
  ct::check_operator({.name = "Projection"}, proj, Matrix<double>(p.transpose()));
  // Pᵀ P = I on the subspace, P Pᵀ is the orthogonal projector.
  const Matrix<S> x = ct::gaussian_matrix<S>(7, 3, 2);
  Matrix<S> lifted(40, 3), back(7, 3);
  proj.apply_transpose(x, lifted);
  proj.apply(lifted, back);
  CHECK(ct::rel_err(back, x) <= ct::apply_tol<S>(40));
  const Matrix<S> z = ct::gaussian_matrix<S>(40, 2, 3);
  const Matrix<double> pz = p * (p.transpose() * z.template cast<double>());
  CHECK(ct::rel_err(curvop::apply_transpose(proj, curvop::apply(proj, z)), pz) <= ct::apply_tol<S>(40));
  STATIC_REQUIRE(curvop::TransposableOperator<lr::Projection<S>>);
  STATIC_REQUIRE(curvop::AccumulatingOperator<lr::Projection<S>>);
  STATIC_REQUIRE_FALSE(curvop::InvertibleOperator<lr::Projection<S>>);
}

TEMPLATE_TEST_CASE("Projection::orthonormalize spans the given columns", "[lowrank]", float, double) {
  using S = TestType;
  const Matrix<S> a = ct::gaussian_matrix<S>(30, 4, 8);
  const auto proj = lr::Projection<S>::orthonormalize(a);
  CHECK(ct::orthonormality_error(proj.basis()) <= ct::apply_tol<S>(30));
  // Every column of a is in the span: P Pᵀ a = a.
  const Matrix<S> back = proj.basis() * (proj.basis().transpose() * a);
  CHECK(ct::rel_err(back, a) <= ct::apply_tol<S>(30));
}

TEMPLATE_TEST_CASE("Projection rejects bases that are not orthonormal", "[lowrank]", float, double) {
  using S = TestType;
  Matrix<S> p = ct::orthogonal_matrix(10, 1).leftCols(3).template cast<S>();
  p(0, 0) += S(1e-2);
  CHECK_THROWS_AS(lr::Projection<S>(p), std::invalid_argument);
  CHECK_THROWS_AS(lr::Projection<S>(Matrix<S>::Identity(3, 5)), std::invalid_argument);
  CHECK_THROWS_AS(lr::Projection<S>(Matrix<S>(4, 0)), std::invalid_argument);
  Matrix<S> nan = Matrix<S>::Identity(5, 2);
  nan(1, 1) = std::numeric_limits<S>::quiet_NaN();
  CHECK_THROWS_AS(lr::Projection<S>(nan), std::invalid_argument);
  CHECK_THROWS_AS(lr::Projection<S>::orthonormalize(Matrix<S>::Ones(2, 3)), std::invalid_argument);
  try {
    (void)lr::Projection<S>(p);
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("orthonormal") != std::string::npos);
  }
  const lr::Projection<S> ok(Matrix<S>::Identity(5, 2));
  Matrix<S> y(2, 1);
  CHECK_THROWS_AS(ok.apply(Matrix<S>::Ones(4, 1), y), curvop::AssertionError);
  Matrix<S> yt(5, 1);
  CHECK_THROWS_AS(ok.apply_transpose(Matrix<S>::Ones(3, 1), yt), curvop::AssertionError);
}
