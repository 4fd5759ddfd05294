// SPDX-License-Identifier: MIT
// EKFAC: the eigenvalue correction against its definition from materialised per-example
// gradients, and the operator it defines against the dense matrix.
#include <curvop/functions.hpp>
#include <curvop/kfac.hpp>

#include "kfac/support/dense_kfac.hpp"
#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
using curvop::Vector;
namespace kf = curvop::kfac;
namespace ct = curvop::test;

namespace {

template <class S>
Matrix<S> batch(Index n, Index d, std::uint64_t seed, double scale, double shift) {
  Matrix<double> x = scale * ct::gaussian_matrix<double>(n, d, seed);
  x.array() += shift;
  return x.cast<S>();
}

// S = (1/N) Σ_n (Q_Gᵀ ∇W_n Q_A)^{⊙2} from materialised per-example gradients, in double.
Matrix<double> ekfac_reference(const Matrix<double>& acts_b, const Matrix<double>& g,
                               Index locations, const Matrix<double>& qa,
                               const Matrix<double>& qg) {
  const auto grads = ct::per_example_gradients(acts_b, g, locations);
  Matrix<double> s = Matrix<double>::Zero(qg.cols(), qa.cols());
  for (const auto& w : grads) s += (qg.transpose() * w * qa).array().square().matrix();
  return s / double(grads.size());
}

}  // namespace

TEMPLATE_TEST_CASE("EKFAC scales equal their definition from per-example gradients", "[kfac][ekfac]",
                   float, double) {
  using S = TestType;
  const Index in = 6, out = 5;
  for (Index t : {Index(1), Index(4)}) {
    for (bool bias : {false, true}) {
      const Index n = 20;
      kf::KFac<S> k(in, out, {.damping = 1e-3, .mode = kf::Damping::Exact, .bias = bias});
      const Matrix<S> x = batch<S>(n * t, in, 61, 1.0, 0.2);
      const Matrix<S> g = batch<S>(n * t, out, 62, 0.1, 0.0);
      REQUIRE(k.update_conv(x, g, t) == Info::Success);
      REQUIRE(k.compute() == Info::Success);
      CHECK_FALSE(k.corrected());
      REQUIRE(k.update_eigenvalues(x, g, t) == Info::Success);
      CHECK(k.corrected());
      const Matrix<double> sref = ekfac_reference(
          ct::with_bias(x.template cast<double>(), bias), g.template cast<double>(), t,
          k.eigenvectors_a().template cast<double>(), k.eigenvectors_g().template cast<double>());
      INFO("T " << t << " bias " << bias << " err " << ct::rel_err(k.scales(), sref));
      // Two rotations (inner dimensions d_in, d_out) and a sum over N·T terms.
      CHECK(ct::rel_err(k.scales(), sref) <= ct::apply_tol<S>(double(n * t + in + out)));
    }
  }
}

TEMPLATE_TEST_CASE("EKFAC is the diagonal of the empirical Fisher in the Kronecker eigenbasis",
                   "[kfac][ekfac]", float, double) {
  using S = TestType;
  const Index n = 40, in = 5, out = 4, din = in + 1, dim = din * out;
  const double lambda = 1e-3;
  kf::KFac<S> k(in, out, {.damping = lambda, .mode = kf::Damping::Exact, .bias = true});
  const Matrix<S> x = batch<S>(n, in, 71, 1.0, 0.5);
  const Matrix<S> g = batch<S>(n, out, 72, 0.1, 0.0);
  REQUIRE(k.update(x, g) == Info::Success);
  REQUIRE(k.compute() == Info::Success);
  REQUIRE(k.update_eigenvalues(x, g) == Info::Success);
  // The dense empirical Fisher F = (1/N) Σ vec(∇W_n) vec(∇W_n)ᵀ and Q = Q_A ⊗ Q_G.
  const auto grads = ct::per_example_gradients(ct::with_bias(x.template cast<double>(), true),
                                               g.template cast<double>(), 1);
  Matrix<double> f = Matrix<double>::Zero(dim, dim);
  for (const auto& w : grads) f += w.reshaped() * w.reshaped().transpose();
  f /= double(n);
  const Matrix<double> q = ct::dense_kron(k.eigenvectors_a().template cast<double>(),
                                          k.eigenvectors_g().template cast<double>());
  const Vector<double> diag = (q.transpose() * f * q).diagonal();
  CHECK(ct::rel_err(k.scales().reshaped(), diag) <= ct::apply_tol<S>(double(n + dim)));
  // The operator is Q diag(S + λ) Qᵀ.
  const Matrix<double> c = q * (diag.array() + lambda).matrix().asDiagonal() * q.transpose();
  const double kappa = ct::spd_condition(c);
  const Matrix<S> v = ct::gaussian_matrix<S>(dim, 3, 73);
  const Matrix<double> vd = v.template cast<double>();
  INFO("kappa " << kappa);
  CHECK(ct::rel_err(curvop::apply(k, v), (c * vd).eval()) <= ct::apply_tol<S>(double(n + dim)));
  CHECK(ct::rel_err(curvop::apply_inverse(k, v), c.ldlt().solve(vd).eval()) <=
        ct::inverse_tol<S>(double(din + out), kappa));
  CHECK(ct::rel_err(k.diagonal(), c.diagonal().eval()) <= ct::apply_tol<S>(double(n + dim)));
  const double logdet = (diag.array() + lambda).log().sum();
  CHECK_THAT(k.logdet(), Catch::Matchers::WithinRel(logdet, ct::apply_tol<S>(double(n + dim))));
}

TEMPLATE_TEST_CASE("EKFAC on one example reproduces K-FAC's eigenvalues", "[kfac][ekfac]", float,
                   double) {
  // With a single example A = ããᵀ and G = g gᵀ are rank one with top eigenvectors ã/|ã| and
  // g/|g|, so (Q_Gᵀ g ãᵀ Q_A)^{⊙2} = d_G d_Aᵀ: the correction changes nothing.
  using S = TestType;
  const Index in = 6, out = 4;
  kf::KFac<S> k(in, out, {.damping = 1e-2, .mode = kf::Damping::Exact, .bias = true});
  const Matrix<S> x = batch<S>(1, in, 81, 1.0, 0.1);
  const Matrix<S> g = batch<S>(1, out, 82, 1.0, 0.0);
  REQUIRE(k.update(x, g) == Info::Success);
  REQUIRE(k.compute() == Info::Success);
  const Matrix<S> kfac_scales = k.scales();
  REQUIRE(k.update_eigenvalues(x, g) == Info::Success);
  // Absolute error relative to the largest scale: the zero eigenvalues come out as O(eps·‖·‖).
  const double err = (k.scales() - kfac_scales).template cast<double>().cwiseAbs().maxCoeff() /
                     kfac_scales.template cast<double>().maxCoeff();
  INFO("err " << err);
  CHECK(err <= ct::apply_tol<S>(double(in + out)));
}

TEMPLATE_TEST_CASE("EKFAC scales are a bias-corrected running average reset by compute",
                   "[kfac][ekfac]", float, double) {
  using S = TestType;
  const Index n = 16, in = 4, out = 3;
  const double rho = 0.5;
  kf::KFac<S> k(in, out, {.damping = 1e-3, .mode = kf::Damping::Exact, .ema = rho});
  const Matrix<S> x1 = batch<S>(n, in, 91, 1.0, 0.0), x2 = batch<S>(n, in, 92, 1.0, 0.0);
  const Matrix<S> g1 = batch<S>(n, out, 93, 1.0, 0.0), g2 = batch<S>(n, out, 94, 1.0, 0.0);
  // Before any compute the basis is the identity: S is the diagonal empirical Fisher.
  REQUIRE(k.update_eigenvalues(x1, g1) == Info::Success);
  const Matrix<double> q0a = Matrix<double>::Identity(in, in), q0g = Matrix<double>::Identity(out, out);
  const Matrix<double> s1 = ekfac_reference(x1.template cast<double>(), g1.template cast<double>(), 1, q0a, q0g);
  CHECK(ct::rel_err(k.scales(), s1) <= ct::apply_tol<S>(n));
  REQUIRE(k.update_eigenvalues(x2, g2) == Info::Success);
  const Matrix<double> s2 = ekfac_reference(x2.template cast<double>(), g2.template cast<double>(), 1, q0a, q0g);
  CHECK(ct::rel_err(k.scales(), ((rho * s1 + s2) / (rho + 1.0)).eval()) <= ct::apply_tol<S>(n));
  // A new basis drops the stale scales: back to d_G d_Aᵀ.
  REQUIRE(k.update(x1, g1) == Info::Success);
  REQUIRE(k.compute() == Info::Success);
  CHECK_FALSE(k.corrected());
  const Matrix<double> outer = k.eigenvalues_g().template cast<double>() *
                               k.eigenvalues_a().template cast<double>().transpose();
  CHECK(ct::rel_err(k.scales(), outer) <= ct::apply_tol<S>(n));
  // EKFAC needs the eigenbasis mode.
  kf::KFac<S> f(in, out, {.mode = kf::Damping::PiAdjusted});
  CHECK_THROWS_AS(f.update_eigenvalues(x1, g1), std::logic_error);
}
