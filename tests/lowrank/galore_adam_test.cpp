// SPDX-License-Identifier: MIT
// GaLoreAdam<S> against a plain dense Adam written here: exactly Adam at full rank with a
// coordinate basis, Adam in rotated coordinates for a general basis, transport and errors.
#include <curvop/lowrank/galore_adam.hpp>

#include "lowrank/support/spectrum.hpp"
#include "support/catch.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
namespace lr = curvop::lowrank;
namespace ct = curvop::test;

namespace {

// Textbook AdamW on a dense parameter, in double.
struct DenseAdam {
  explicit DenseAdam(lr::AdamOptions opt) : o(opt) {}
  lr::AdamOptions o;
  Matrix<double> m, v;
  int t = 0;
  void step(Matrix<double>& w, const Matrix<double>& g) {
    if (m.size() == 0) {
      m = Matrix<double>::Zero(g.rows(), g.cols());
      v = m;
    }
    ++t;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g.cwiseAbs2();
    const Matrix<double> mhat = m / (1 - std::pow(o.beta1, t));
    const Matrix<double> vhat = v / (1 - std::pow(o.beta2, t));
    w *= 1 - o.lr * o.weight_decay;
    w.array() -= o.lr * o.scale * mhat.array() / (vhat.array().sqrt() + o.eps);
  }
};

}  // namespace

TEMPLATE_TEST_CASE("GaLore-Adam at full rank with a coordinate basis equals Adam", "[lowrank]",
                   float, double) {
  using S = TestType;
  const Index m = 12, n = 8;
  // First gradient: distinct values on the diagonal, so its right singular vectors are ± the
  // coordinate vectors; Adam commutes with signed permutations, and no refresh follows.
  Matrix<double> g0 = Matrix<double>::Zero(m, n);
  for (Index i = 0; i < n; ++i) g0(i, i) = (i % 2 ? -1.0 : 1.0) * (1.0 + 0.5 * double(i));
  // ε = 1e-4 rather than 1e-8: a basis that is a signed identity only up to rounding leaves
  // entries of size eps(S)·‖G‖ in R where Adam on W sees exact zeros, and Adam's normalisation
  // R/(√V + ε) would blow those up to O(1) steps when ε is below them (1e-7 in float).
  const lr::AdamOptions adam{.lr = 0.05, .eps = 1e-4, .weight_decay = 0.01, .scale = 0.5};
  for (auto policy : {lr::RefreshPolicy::ExactSvd, lr::RefreshPolicy::RandomizedSvd}) {
    lr::GaLoreAdam<S> opt(m, n, n, {.policy = policy, .update_gap = 1000}, adam);
    DenseAdam ref(adam);
    Matrix<S> w = ct::gaussian_matrix<S>(m, n, 1);
    Matrix<double> wref = w.template cast<double>();
    for (int t = 0; t < 6; ++t) {
      const Matrix<double> g = t == 0 ? g0 : ct::gaussian_matrix<double>(m, n, 10 + t);
      REQUIRE(opt.step(w, g.cast<S>()) == Info::Success);
      ref.step(wref, g.cast<S>().template cast<double>());
    }
    // The exact SVD of a diagonal G returns an exact signed identity. The randomized basis is a
    // signed identity only to rounding, δ ~ eps(S) per entry; Adam's normalisation turns an
    // entry δ of R that should be 0 into a step of lr·scale·δ/ε, so the bound grows by
    // 10·eps(S)/ε·lr·scale per step (6 steps here).
    const double tol = policy == lr::RefreshPolicy::ExactSvd
                           ? ct::apply_tol<S>(double(m))
                           : std::max(ct::apply_tol<S>(double(m)),
                                      10 * ct::eps<S>() / adam.eps * adam.lr * adam.scale * 6);
    INFO("policy " << int(policy) << " error " << ct::rel_err(w, wref) << " tol " << tol);
    CHECK(ct::rel_err(w, wref) <= tol);
    CHECK(opt.bias_step() == 6);
  }
}

TEMPLATE_TEST_CASE("GaLore-Adam is Adam in the projected coordinates", "[lowrank]", float, double) {
  using S = TestType;
  // Reference: Adam on Z = W P (left: Z = Pᵀ W) with gradient G P, and W moves by (ΔZ) Pᵀ.
  const Index m = 14, n = 10, r = 4;
  const lr::AdamOptions adam{.lr = 0.02, .scale = 0.25};
  for (auto side : {lr::Side::Left, lr::Side::Right}) {
    lr::GaLoreAdam<S> opt(m, n, r, {.side = side, .policy = lr::RefreshPolicy::ExactSvd,
                                    .update_gap = 100}, adam);
    DenseAdam ref(adam);
    Matrix<S> w = ct::gaussian_matrix<S>(m, n, 2);
    Matrix<double> wref = w.template cast<double>();
    Matrix<double> p;
    for (int t = 0; t < 5; ++t) {
      const Matrix<S> g = ct::gaussian_matrix<S>(m, n, 20 + t);
      REQUIRE(opt.step(w, g) == Info::Success);
      if (t == 0) p = opt.projector().basis().template cast<double>();
      const Matrix<double> gd = g.template cast<double>();
      const bool left = side == lr::Side::Left;
      Matrix<double> z = Matrix<double>::Zero(left ? r : m, left ? n : r);
      const Matrix<double> z0 = z;
      ref.step(z, left ? Matrix<double>(p.transpose() * gd) : Matrix<double>(gd * p));
      wref += left ? Matrix<double>(p * (z - z0)) : Matrix<double>((z - z0) * p.transpose());
    }
    INFO("side " << int(side) << " error " << ct::rel_err(w, wref));
    CHECK(ct::rel_err(w, wref) <= 10 * ct::apply_tol<S>(double(m)));
    // State: two projected moments and the basis, against 2·m·n for Adam.
    const Index proj = side == lr::Side::Left ? r * n : m * r;
    CHECK(opt.state_size() == 2 * proj + r * (side == lr::Side::Left ? m : n));
  }
}

TEMPLATE_TEST_CASE("GaLore-Adam: refreshing on an unchanged subspace does not change the run",
                   "[lowrank]", float, double) {
  using S = TestType;
  // Gradients G_t = U diag(s_t) Vᵀ share their singular subspaces (σ order kept), so a refresh
  // every step finds the same basis: with sign alignment and transport the trajectory equals one
  // without refreshes.
  const auto k = ct::known_svd(16, 12, 5, [](Index i) { return 12.0 - double(i); });
  const lr::AdamOptions adam{.lr = 0.01};
  lr::GaLoreAdam<S> every(16, 12, 3, {.policy = lr::RefreshPolicy::ExactSvd, .update_gap = 1}, adam);
  lr::GaLoreAdam<S> once(16, 12, 3, {.policy = lr::RefreshPolicy::ExactSvd, .update_gap = 1000}, adam);
  Matrix<S> w1 = Matrix<S>::Zero(16, 12), w2 = w1;
  for (int t = 0; t < 5; ++t) {
    curvop::Vector<double> s = k.s;
    s.head(3) *= 1.0 + 0.1 * t;
    const Matrix<S> g = (k.u * s.asDiagonal() * k.v.transpose()).template cast<S>();
    REQUIRE(every.step(w1, g) == Info::Success);
    REQUIRE(once.step(w2, g) == Info::Success);
  }
  CHECK(every.projector().refreshes() == 5);
  CHECK(once.projector().refreshes() == 1);
  CHECK(ct::rel_err(w1, w2.template cast<double>()) <= 100 * ct::apply_tol<S>(16));
}

TEST_CASE("GaLore-Adam: Reset transport restarts the bias correction", "[lowrank]") {
  lr::GaLoreAdam<double> opt(10, 6, 2, {.policy = lr::RefreshPolicy::ExactSvd, .update_gap = 2,
                                        .transport = lr::MomentTransport::Reset});
  Matrix<double> w = Matrix<double>::Zero(10, 6);
  for (int t = 0; t < 3; ++t) REQUIRE(opt.step(w, ct::gaussian_matrix<double>(10, 6, t)) == Info::Success);
  CHECK(opt.projector().refreshes() == 2);
  CHECK(opt.bias_step() == 1);  // the refresh at step 2 reset the moments and t
}

TEST_CASE("GaLore-Adam: weight decay alone on a zero gradient", "[lowrank]") {
  lr::GaLoreAdam<double> opt(6, 5, 2, {}, {.lr = 0.1, .weight_decay = 0.5});
  Matrix<double> w = Matrix<double>::Ones(6, 5);
  REQUIRE(opt.step(w, Matrix<double>::Zero(6, 5)) == Info::Success);
  // N = 0/(0 + ε) = 0: only the decoupled decay acts, W ← (1 − 0.05) W.
  CHECK(ct::rel_err(w, Matrix<double>(Matrix<double>::Constant(6, 5, 0.95))) <= 1e-15);
}

TEST_CASE("GaLore-Adam rejects bad input and leaves everything unchanged", "[lowrank]") {
  CHECK_THROWS_AS(lr::GaLoreAdam<double>(6, 5, 2, {}, {.lr = -1}), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreAdam<double>(6, 5, 2, {}, {.beta1 = 1.0}), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreAdam<double>(6, 5, 2, {}, {.beta2 = -0.1}), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreAdam<double>(6, 5, 2, {}, {.eps = 0}), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreAdam<double>(6, 5, 2, {}, {.weight_decay = -1}), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreAdam<double>(6, 5, 6), std::invalid_argument);
  lr::GaLoreAdam<double> opt(6, 5, 2);
  CHECK_THROWS_AS(opt.set_lr(0), std::invalid_argument);
  Matrix<double> w = ct::gaussian_matrix<double>(6, 5, 1);
  REQUIRE(opt.step(w, ct::gaussian_matrix<double>(6, 5, 2)) == Info::Success);
  const Matrix<double> w0 = w, m0 = opt.first_moment(), v0 = opt.second_moment();
  Matrix<double> bad = ct::gaussian_matrix<double>(6, 5, 3);
  bad(0, 0) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS((void)opt.step(w, bad), curvop::InvalidInput);
  Matrix<double> wrong(5, 6);
  CHECK_THROWS_AS((void)opt.step(wrong, ct::gaussian_matrix<double>(6, 5, 3)), curvop::DimensionMismatch);
  CHECK_THROWS_AS((void)opt.step(w, ct::gaussian_matrix<double>(6, 4, 3)), curvop::DimensionMismatch);
  CHECK(w == w0);
  CHECK(opt.first_moment() == m0);
  CHECK(opt.second_moment() == v0);
  CHECK(opt.bias_step() == 1);
  CHECK(opt.projector().steps() == 1);
}
