// SPDX-License-Identifier: MIT
// EKFAC: the eigenvalue correction against its definition from materialised per-example
// gradients, and the operator it defines against the dense matrix.
#include <curvop/functions.hpp>
#include <curvop/kfac.hpp>

#include <Eigen/QR>

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
  // A factored mode before its first compute: the same identity basis and scales.
  kf::KFac<S> f(in, out, {.damping = 1e-3, .mode = kf::Damping::PiAdjusted, .ema = rho});
  REQUIRE(f.update_eigenvalues(x1, g1) == Info::Success);
  CHECK(f.corrected());
  CHECK(ct::rel_err(f.scales(), s1) <= ct::apply_tol<S>(n));
}

TEMPLATE_TEST_CASE("EKFAC for convolutions: the pair form and the per-example form equal the "
                   "definition", "[kfac][ekfac]", float, double) {
  using S = TestType;
  const Index in = 5, out = 3, n = 7;
  for (Index t : {Index(2), Index(3), Index(5), Index(9)}) {
    for (bool bias : {false, true}) {
      const Index din = in + (bias ? 1 : 0);
      const Matrix<S> x = batch<S>(n * t, in, 101 + t, 1.0, 0.3);
      const Matrix<S> g = batch<S>(n * t, out, 201 + t, 0.5, 0.0);
      // Random orthonormal bases (Q of a QR), so that every pair term is dense.
      const Matrix<double> qa = Eigen::HouseholderQR<Matrix<double>>(
                                    ct::gaussian_matrix<double>(din, din, 301)).householderQ();
      const Matrix<double> qg = Eigen::HouseholderQR<Matrix<double>>(
                                    ct::gaussian_matrix<double>(out, out, 302)).householderQ();
      const Matrix<double> sref = ekfac_reference(ct::with_bias(x.template cast<double>(), bias),
                                                  g.template cast<double>(), t, qa, qg);
      const Matrix<S> qas = qa.cast<S>(), qgs = qg.cast<S>();
      // Chunks of 1, 3 (7 = 3 + 3 + 1: a short last chunk) and all examples; 0: per example.
      for (Index chunk : {Index(1), Index(3), n, Index(0)}) {
        const Matrix<S> s = kf::detail::eigenbasis_second_moments_with<S>(x, g, qas, qgs, bias,
                                                                          t, chunk);
        INFO("T " << t << " bias " << bias << " chunk " << chunk << " err "
                  << ct::rel_err(s, sref));
        // Rotations (inner d_in, d_out), then sums over T² location pairs per example.
        CHECK(ct::rel_err(s, sref) <= ct::apply_tol<S>(double(t * t + din + out)));
      }
      const Matrix<S> s = kf::eigenbasis_second_moments<S>(x, g, qas, qgs, bias, t);
      CHECK(ct::rel_err(s, sref) <= ct::apply_tol<S>(double(t * t + din + out)));
    }
  }
}

TEMPLATE_TEST_CASE("EKFAC in the factored damping modes is the corrected operator in the "
                   "factors' eigenbasis", "[kfac][ekfac]", float, double) {
  using S = TestType;
  const Index n = 30, in = 4, out = 3, din = in + 1, dim = din * out;
  const double lambda = 1e-2;
  for (auto mode : {kf::Damping::Tikhonov, kf::Damping::PiAdjusted}) {
    kf::KFac<S> k(in, out, {.damping = lambda, .mode = mode, .ema = 0.5, .bias = true});
    kf::KFac<S> ex(in, out, {.damping = lambda, .mode = kf::Damping::Exact, .ema = 0.5,
                             .bias = true});
    const Matrix<S> x1 = batch<S>(n, in, 111, 1.0, 0.5), g1 = batch<S>(n, out, 112, 0.3, 0.0);
    const Matrix<S> x2 = batch<S>(n, in, 113, 1.0, -0.2), g2 = batch<S>(n, out, 114, 0.3, 0.1);
    for (auto* kk : {&k, &ex}) {
      REQUIRE(kk->update(x1, g1) == Info::Success);
      REQUIRE(kk->compute() == Info::Success);
    }
    // Statistics that change after compute(): the basis must be the one of compute()'s factors.
    REQUIRE(k.update(x2, g2) == Info::Success);
    const Matrix<S> xb1s = ct::with_bias(x1.template cast<double>(), true).template cast<S>();
    const Matrix<S> vm = g1.transpose() * xb1s;
    const Matrix<S> kfac_dir = k.precondition(vm);
    REQUIRE(k.update_eigenvalues(x2, g2) == Info::Success);
    REQUIRE(ex.update_eigenvalues(x2, g2) == Info::Success);
    CHECK(k.corrected());
    CHECK_THROWS_AS(k.damped_a(), std::logic_error);

    // Dense reference in double: eigenvectors of the first batch's A and G, the empirical Fisher
    // of the second batch, C = Q diag(diag(Qᵀ F Q) + λ) Qᵀ.
    const Matrix<double> xb1 = ct::with_bias(x1.template cast<double>(), true);
    const Matrix<double> a = ct::second_moment(xb1, double(n));
    const Matrix<double> gg = ct::second_moment(g1.template cast<double>(), double(n));
    Eigen::SelfAdjointEigenSolver<Matrix<double>> ea(a), eg(gg);
    const Matrix<double> q = ct::dense_kron(ea.eigenvectors(), eg.eigenvectors());
    const auto grads = ct::per_example_gradients(ct::with_bias(x2.template cast<double>(), true),
                                                 g2.template cast<double>(), 1);
    Matrix<double> f = Matrix<double>::Zero(dim, dim);
    for (const auto& w : grads) f += w.reshaped() * w.reshaped().transpose();
    f /= double(n);
    const Vector<double> sdiag = (q.transpose() * f * q).diagonal();
    const Matrix<double> c =
        q * (sdiag.array() + lambda).matrix().asDiagonal() * q.transpose();
    const double kappa = ct::spd_condition(c);
    const Matrix<S> v = ct::gaussian_matrix<S>(dim, 3, 115);
    const Matrix<double> vd = v.template cast<double>();
    INFO("mode " << kf::to_string(mode) << " kappa " << kappa << " apply err "
                 << ct::rel_err(curvop::apply(k, v), (c * vd).eval()));
    CHECK(ct::rel_err(curvop::apply(k, v), (c * vd).eval()) <= ct::apply_tol<S>(double(n + dim)));
    CHECK(ct::rel_err(curvop::apply_inverse(k, v), c.ldlt().solve(vd).eval()) <=
          ct::inverse_tol<S>(double(din + out), kappa));
    const Matrix<double> cinv_v0 = c.ldlt().solve(vd.col(0));
    CHECK(ct::rel_err(k.precondition(Eigen::Map<const Matrix<S>>(v.col(0).data(), out, din)),
                      ct::unvec(cinv_v0, out, din)) <=
          ct::inverse_tol<S>(double(din + out), kappa));
    CHECK(ct::rel_err(k.diagonal(), c.diagonal().eval()) <= ct::apply_tol<S>(double(n + dim)));
    CHECK_THAT(k.logdet(), Catch::Matchers::WithinRel((sdiag.array() + lambda).log().sum(),
                                                      ct::apply_tol<S>(double(n + dim))));
    // The same operator as EKFAC in Exact mode on the same factors and batch.
    CHECK(ct::rel_err(curvop::apply_inverse(k, v), curvop::apply_inverse(ex, v)) <=
          ct::inverse_tol<S>(double(din + out), kappa));
    CHECK(ct::rel_err(k.eigenvalues_a(), ex.eigenvalues_a()) <= ct::apply_tol<S>(double(n)));

    // compute() drops the correction: back to the damped Kronecker factors (of A, G now).
    REQUIRE(k.compute() == Info::Success);
    CHECK_FALSE(k.corrected());
    CHECK_NOTHROW(k.damped_a());
    const Matrix<S> kron_dir = k.damped_g().inverse() * vm * k.damped_a().inverse();
    CHECK(ct::rel_err(k.precondition(vm), kron_dir) <= ct::apply_tol<S>(double(din + out)));
    CHECK(ct::rel_err(k.precondition(vm), kfac_dir) > 1e-3);  // A and G changed since then
  }
}
