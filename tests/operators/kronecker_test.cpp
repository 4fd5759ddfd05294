// SPDX-License-Identifier: MIT
// Kronecker products against the dense Kronecker matrix, and their simplifications.
#include <curvop/operators/composite.hpp>
#include <curvop/operators/dense.hpp>
#include <curvop/operators/kronecker.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEMPLATE_TEST_CASE("kron matches the dense Kronecker product", "[operators][kronecker]", float,
                   double) {
  using S = TestType;
  const auto a = spd<S>(4, 1), b = spd<S>(5, 2);
  // κ(A ⊗ B) = κ(A)·κ(B) ≤ 100.
  check_operator({"kron(spd, spd)", 100.0}, kron(symmetric_dense(a.s), symmetric_dense(b.s)),
                 dense_kron(a.d, b.d));
  const auto g = general<S>(3, 3, 3), h = general<S>(4, 4, 4);
  check_operator({"kron(Dense, Dense)", 100.0}, kron(Dense<S>(g.s), Dense<S>(h.s)),
                 dense_kron(g.d, h.d));
  // Rectangular factors: (A ⊗ B) vec(X) = vec(B X Aᵀ) with X b.cols() x a.cols().
  const auto r = general<S>(3, 5, 5), q = general<S>(4, 2, 6);
  check_operator({"kron(rect, rect)"}, kron(DenseView<S>(r.s), DenseView<S>(q.s)),
                 dense_kron(r.d, q.d));
  // Non-dense factors take the generic (transposing) path.
  const auto d = positive_vector<S>(4, 7);
  check_operator({"kron(Opaque spd, Diagonal)", 100.0},
                 kron(inverse(symmetric_dense(a.s)), curvop::diagonal(Vector<S>(d.s))),
                 dense_kron(a.d.inverse(), Matrix<double>(d.d.col(0).asDiagonal())));
  check_operator({"kron(Opaque, Opaque)"}, kron(opaque(DenseView<S>(r.s)), opaque(DenseView<S>(q.s))),
                 dense_kron(r.d, q.d));
}

TEMPLATE_TEST_CASE("kron acts as vec(B X Aᵀ)", "[operators][kronecker]", float, double) {
  using S = TestType;
  const auto a = general<S>(3, 4, 8), b = general<S>(5, 2, 9);
  const Matrix<S> X = gaussian_matrix<S>(2, 4, 10);
  const Matrix<S> Y = b.s * X * a.s.transpose();
  Vector<S> y(15);
  kron(DenseView<S>(a.s), DenseView<S>(b.s)).apply(X.reshaped(), y);
  CHECK(rel_err(y, Y.reshaped()) <= apply_tol<S>(8));
}

TEMPLATE_TEST_CASE("kron simplifications equal the generic path", "[operators][kronecker]", float,
                   double) {
  using S = TestType;
  const auto a = spd<S>(3, 21), b = spd<S>(4, 22), c = spd<S>(3, 23), e = spd<S>(4, 24);
  const auto A = symmetric_dense(a.s);
  const auto B = symmetric_dense(b.s);
  const Matrix<S> x = gaussian_matrix<S>(12, 3, 25);
  const double tol = inverse_tol<S>(12, 100.0);

  // inverse(kron(a, b)) = kron(inverse(a), inverse(b)), against the lazy inverse.
  const auto k = kron(A, B);
  STATIC_REQUIRE(std::same_as<decltype(inverse(k)),
                              Kronecker<Inverse<std::remove_cvref_t<decltype(A)>>, Inverse<std::remove_cvref_t<decltype(B)>>>>);
  CHECK(rel_err(curvop::apply(inverse(k), x), curvop::apply(Inverse<std::remove_cvref_t<decltype(k)>>(k), x)) <= tol);
  check_operator({"inverse(kron)", 100.0}, inverse(k), Matrix<double>(dense_kron(a.d, b.d).inverse()));

  // kron(Diagonal, Diagonal) is a Diagonal, equal to the generic Kronecker of the same factors.
  const auto d1 = positive_vector<S>(3, 26), d2 = positive_vector<S>(4, 27);
  const Diagonal<S> D1(d1.s.col(0)), D2(d2.s.col(0));
  STATIC_REQUIRE(std::same_as<decltype(kron(D1, D2)), Diagonal<S>>);
  CHECK(rel_err(curvop::apply(kron(D1, D2), x), curvop::apply(kron(opaque(D1), opaque(D2)), x)) <=
        apply_tol<S>(4));
  check_operator({"kron(Diagonal, Diagonal)", 100.0}, kron(D1, D2),
                 dense_kron(Matrix<double>(d1.d.col(0).asDiagonal()), Matrix<double>(d2.d.col(0).asDiagonal())));
  STATIC_REQUIRE(std::same_as<decltype(kron(scaled_identity<S>(3, S(2)), scaled_identity<S>(4, S(3)))),
                              ScaledIdentity<S>>);

  // kron(a, b) * kron(c, e) = kron(a c, b e).
  const auto C = symmetric_dense(c.s);
  const auto E = symmetric_dense(e.s);
  const auto pk = kron(A, B) * kron(C, E);
  STATIC_REQUIRE(std::same_as<decltype(pk), const Kronecker<Product<std::remove_cvref_t<decltype(A)>, std::remove_cvref_t<decltype(C)>>,
                                                           Product<std::remove_cvref_t<decltype(B)>, std::remove_cvref_t<decltype(E)>>>>);
  CHECK(rel_err(curvop::apply(pk, x),
                curvop::apply(Product<decltype(kron(A, B)), decltype(kron(C, E))>(kron(A, B), kron(C, E)), x)) <=
        apply_tol<S>(64));
  check_operator({"kron * kron", 1e4}, pk, dense_kron(a.d * c.d, b.d * e.d));
}
