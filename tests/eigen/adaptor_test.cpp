// SPDX-License-Identifier: MIT
// Eigen's ConjugateGradient on curvop operators, with and without a structured preconditioner.
#include <Eigen/LU>
#include <curvop/eigen/adaptor.hpp>
#include <curvop/operators.hpp>

#include "support/operator_market.hpp"

using namespace curvop;
using namespace curvop::test;

TEST_CASE("EigenAdaptor products honour alpha", "[eigen][adaptor]") {
  const auto a = spd<double>(6, 1);
  const auto A = symmetric_dense(a.s);
  const EigenAdaptor<std::remove_cvref_t<decltype(A)>> ad(A);
  const Vector<double> x = gaussian_matrix<double>(6, 1, 2);
  Vector<double> y = Vector<double>::Ones(6);
  y.noalias() += 2.5 * (ad * x);
  CHECK(rel_err(y, Vector<double>(Vector<double>::Ones(6) + 2.5 * a.d * x)) < 1e-14);
  const Vector<double> z = ad * x;
  CHECK(rel_err(z, Vector<double>(a.d * x)) < 1e-14);
}

TEST_CASE("a Kronecker preconditioner cuts CG iterations on a Kronecker-structured system",
          "[eigen][adaptor]") {
  // M = A ⊗ B + σI with ill-conditioned A, B (κ = 1e3 each, κ(A ⊗ B) = 1e6) and a small shift:
  // the preconditioner Q = (A + √σ I) ⊗ (B + √σ I) captures the Kronecker structure exactly up to
  // O(√σ) terms, so preconditioned CG converges in a handful of iterations.
  const Index na = 16, nb = 12;
  const Matrix<double> a = spd_matrix<double>(na, 1, 1e-3, 1.0);
  const Matrix<double> b = spd_matrix<double>(nb, 2, 1e-3, 1.0);
  const double sigma = 1e-6;
  const auto M = shifted(kron(symmetric_dense(a), symmetric_dense(b)), sigma);
  const double s = std::sqrt(sigma);
  const Matrix<double> eye_a = Matrix<double>::Identity(na, na), eye_b = Matrix<double>::Identity(nb, nb);
  const auto Q = kron(symmetric_dense(Matrix<double>(a + s * eye_a)), symmetric_dense(Matrix<double>(b + s * eye_b)));
  using MOp = std::remove_cvref_t<decltype(M)>;
  using QOp = std::remove_cvref_t<decltype(Q)>;

  const Vector<double> rhs = gaussian_matrix<double>(na * nb, 1, 3);
  const Matrix<double> md = dense_kron(a, b) + sigma * Matrix<double>::Identity(na * nb, na * nb);
  const Vector<double> xref = md.partialPivLu().solve(rhs);

  const EigenAdaptor<MOp> A(M);
  Eigen::ConjugateGradient<EigenAdaptor<MOp>, Eigen::Lower | Eigen::Upper, Eigen::IdentityPreconditioner> plain;
  plain.setTolerance(1e-10);
  plain.setMaxIterations(5000);
  plain.compute(A);
  const Vector<double> x0 = plain.solve(rhs);

  Eigen::ConjugateGradient<EigenAdaptor<MOp>, Eigen::Lower | Eigen::Upper, OperatorPreconditioner<QOp>> pcg;
  pcg.setTolerance(1e-10);
  pcg.setMaxIterations(5000);
  pcg.compute(A);
  pcg.preconditioner().attach(Q);
  const Vector<double> x1 = pcg.solve(rhs);

  INFO("iterations without " << plain.iterations() << ", with " << pcg.iterations());
  REQUIRE(pcg.info() == Eigen::Success);
  // Relative residual 1e-10 and κ(M) ≈ 1e6 bound the forward error by about 1e-4.
  CHECK(rel_err(x1, xref) < 1e-4);
  CHECK(pcg.iterations() * 5 < plain.iterations());
  CHECK(pcg.iterations() <= 20);
  (void)x0;
}

TEST_CASE("OperatorPreconditioner without an operator reports InvalidInput", "[eigen][adaptor][errors]") {
  OperatorPreconditioner<Diagonal<double>> p;
  CHECK(p.info() == Eigen::InvalidInput);
  REQUIRE_THROWS_AS(p.solve(Vector<double>::Ones(3)), AssertionError);
  const Diagonal<double> d(Vector<double>::Constant(3, 2.0));
  p.attach(d);
  CHECK(p.info() == Eigen::Success);
  CHECK(rel_err(p.solve(Vector<double>::Ones(3)), Vector<double>::Constant(3, 0.5)) < 1e-15);
}
