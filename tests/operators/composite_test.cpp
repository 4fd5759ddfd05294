// SPDX-License-Identifier: MIT
// Sums, products, scaling, shifts, transposes and lazy inverses, and their simplifications, each
// against dense references and against the unsimplified path.
#include <curvop/operators/composite.hpp>
#include <curvop/operators/dense.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("composites match dense algebra", "[operators][composite]", float, double) {
  using S = TestType;
  const Index n = 10;
  const auto a = spd<S>(n, 1), b = spd<S>(n, 2);
  const auto g = general<S>(n, n, 3), r = general<S>(n, 6, 4);
  const auto d = positive_vector<S>(n, 5);
  const Matrix<double> dd = d.d.col(0).asDiagonal();
  const Matrix<double> eye = Matrix<double>::Identity(n, n);
  const auto A = symmetric_dense(a.s);
  const auto B = symmetric_dense(b.s);
  const Dense<S> G(g.s);
  const Diagonal<S> D(d.s.col(0));

  check_operator({"a + b"}, A + B, Matrix<double>(a.d + b.d));
  check_operator({"sum(a, b, D)"}, sum(A, B, D), Matrix<double>(a.d + b.d + dd));
  check_operator({"a - b"}, A - B, Matrix<double>(a.d - b.d));
  check_operator({"-G"}, -G, Matrix<double>(-g.d));
  // κ(G·D) ≤ κ(G)·κ(D) ≤ 2·10 for the shifted Gaussian G.
  check_operator({"G * D", 40.0}, G * D, Matrix<double>(g.d * dd));
  check_operator({"G * rect"}, G * DenseView<S>(r.s), Matrix<double>(g.d * r.d));
  check_operator({"2.5 * a"}, S(2.5) * A, Matrix<double>(2.5 * a.d));
  check_operator({"a * 0.5"}, A * S(0.5), Matrix<double>(0.5 * a.d));
  check_operator({"shifted(a, 0.5)"}, shifted(A, S(0.5)), Matrix<double>(a.d + 0.5 * eye));
  check_operator({"transposed(G)"}, transposed(G), Matrix<double>(g.d.transpose()));
  check_operator({"inverse(a)"}, inverse(A), Matrix<double>(a.d.inverse()));
  check_operator({"inverse(G)"}, inverse(G), Matrix<double>(g.d.inverse()));
  check_operator({"inverse(transposed(G))"}, inverse(transposed(G)),
                 Matrix<double>(g.d.transpose().inverse()));
}

TEMPLATE_TEST_CASE("composite simplifications equal the generic path", "[operators][composite]",
                   float, double) {
  using S = TestType;
  const Index n = 8;
  const auto a = spd<S>(n, 11), b = spd<S>(n, 12);
  const auto A = symmetric_dense(a.s);
  const auto B = symmetric_dense(b.s);
  const Matrix<S> x = gaussian_matrix<S>(n, 2, 13);
  const double tol = inverse_tol<S>(n, 100.0);

  // inverse(inverse(a)) gives back a's type.
  STATIC_REQUIRE(std::same_as<decltype(inverse(inverse(A))), std::remove_cvref_t<decltype(A)>>);
  // scaled(s, scaled(t, a)) folds.
  STATIC_REQUIRE(std::same_as<decltype(scaled(S(2), scaled(S(3), A))), Scaled<std::remove_cvref_t<decltype(A)>>>);
  CHECK(rel_err(curvop::apply(scaled(S(2), scaled(S(3), A)), x),
                curvop::apply(Scaled<Scaled<std::remove_cvref_t<decltype(A)>>>(S(2), Scaled<std::remove_cvref_t<decltype(A)>>(S(3), A)), x)) <= tol);
  // transposed of a symmetric operator is the operator; transposed twice is the operand.
  STATIC_REQUIRE(std::same_as<decltype(transposed(A)), std::remove_cvref_t<decltype(A)>>);
  const Dense<S> G(general<S>(n, n, 14).s);
  STATIC_REQUIRE(std::same_as<decltype(transposed(transposed(G))), Dense<S>>);
  // Sum flattens.
  STATIC_REQUIRE(std::same_as<decltype((A + B) + A), Sum<std::remove_cvref_t<decltype(A)>, std::remove_cvref_t<decltype(B)>, std::remove_cvref_t<decltype(A)>>>);
  // inverse(s·a) = (1/s)·inverse(a) against the lazy inverse of the scaled operator.
  const auto sa = S(4) * A;
  STATIC_REQUIRE(std::same_as<decltype(inverse(sa)), Scaled<Inverse<std::remove_cvref_t<decltype(A)>>>>);
  CHECK(rel_err(curvop::apply(inverse(sa), x), curvop::apply(Inverse<std::remove_cvref_t<decltype(sa)>>(sa), x)) <= tol);
  // inverse(a·b) = inverse(b)·inverse(a) against the lazy inverse of the product.
  const auto ab = A * B;
  const auto iab = inverse(ab);
  STATIC_REQUIRE(std::same_as<decltype(iab), const Product<Inverse<std::remove_cvref_t<decltype(B)>>, Inverse<std::remove_cvref_t<decltype(A)>>>>);
  CHECK(rel_err(curvop::apply(iab, x), curvop::apply(Inverse<std::remove_cvref_t<decltype(ab)>>(ab), x)) <= tol);
  CHECK(rel_err(curvop::apply(iab, x), Matrix<double>((a.d * b.d).inverse() * x.template cast<double>())) <= tol);
  // shifted(shifted(a, s), t) folds to one shift.
  STATIC_REQUIRE(std::same_as<decltype(shifted(shifted(A, S(1)), S(2))), Shifted<std::remove_cvref_t<decltype(A)>>>);
  CHECK(shifted(shifted(A, S(1)), S(2)).shift() == S(3));
}

TEST_CASE("composites reject non-conformant operands", "[operators][composite][errors]") {
  const Dense<double> a(Matrix<double>::Identity(3, 3));
  const Dense<double> b(Matrix<double>::Identity(4, 4));
  const Dense<double> r(Matrix<double>::Ones(3, 5));
  REQUIRE_THROWS_AS(a + b, DimensionMismatch);
  REQUIRE_THROWS_AS(a * b, DimensionMismatch);
  REQUIRE_THROWS_AS(shifted(r, 1.0), DimensionMismatch);
  try {
    (void)(a * b);
  } catch (const DimensionMismatch& e) {
    // The message names both shapes.
    const std::string msg = e.what();
    REQUIRE(msg.find("3x3") != std::string::npos);
    REQUIRE(msg.find("4x4") != std::string::npos);
  }
  const auto p = a * r;
  Matrix<double> y(3, 1);
  REQUIRE_THROWS_AS(p.apply(Matrix<double>::Ones(3, 1), y), AssertionError);
}
