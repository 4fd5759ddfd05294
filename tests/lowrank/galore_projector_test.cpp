// SPDX-License-Identifier: MIT
// GaLoreProjector<S>: side resolution, every refresh policy against the known singular subspace,
// refresh with an unchanged gradient, moment transport, errors with the state unchanged.
#include <curvop/lowrank/galore_projector.hpp>
#include <numbers>

#include "lowrank/support/spectrum.hpp"
#include "support/catch.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
using curvop::Vector;
namespace lr = curvop::lowrank;
namespace ct = curvop::test;

namespace {

constexpr lr::RefreshPolicy kPolicies[] = {
    lr::RefreshPolicy::ExactSvd, lr::RefreshPolicy::RandomizedSvd,
    lr::RefreshPolicy::SubspaceIteration, lr::RefreshPolicy::OnlinePca, lr::RefreshPolicy::Dct};

// ‖P Pᵀ − Q Qᵀ‖_F: distance between the spanned subspaces (both orthonormal).
template <class A, class B>
double subspace_distance(const A& p, const B& q) {
  const Matrix<double> pd = p.template cast<double>(), qd = q.template cast<double>();
  return (pd * pd.transpose() - qd * qd.transpose()).norm();
}

// A gradient with a clear spectral gap after rank 4 (σ = 10, 9, 8, 7, then ≤ 1).
ct::KnownSvd gapped(Index m, Index n, std::uint64_t seed) {
  return ct::known_svd(m, n, seed, [](Index i) {
    return i < 4 ? 10.0 - double(i) : 1.0 / (1.0 + double(i));
  });
}

// tan θ_max, the tangent of the largest principal angle between span(P) and span(U) (both
// orthonormal, d x r). With C = UᵀP, the singular values of (P − UC) C⁻¹ are the tangents of the
// principal angles (Björck–Golub); this form keeps small angles accurate, where √(1 − cos²) would
// lose half the digits. Computed in double by a Jacobi SVD, independently of the library.
template <class A>
double max_angle_tangent(const A& p, const Matrix<double>& u) {
  const Matrix<double> pd = p.template cast<double>();
  const Matrix<double> c = u.transpose() * pd;
  const Matrix<double> s = pd - u * c;
  const Eigen::FullPivLU<Matrix<double>> lu(c);
  if (!lu.isInvertible()) return std::numeric_limits<double>::infinity();
  const Matrix<double> t = lu.solve(s.transpose()).transpose();  // S C⁻¹
  return Eigen::JacobiSVD<Matrix<double>>(t).singularValues()(0);
}

}  // namespace

TEST_CASE("GaLoreProjector resolves the side once, square matrices included", "[lowrank]") {
  CHECK(lr::GaLoreProjector<double>(20, 10, 3).side() == lr::Side::Right);
  CHECK(lr::GaLoreProjector<double>(10, 20, 3).side() == lr::Side::Left);
  CHECK(lr::GaLoreProjector<double>(16, 16, 3).side() == lr::Side::Right);
  const lr::GaLoreProjector<double> left(20, 10, 3, {.side = lr::Side::Left});
  CHECK(left.side() == lr::Side::Left);
  CHECK(left.projected_rows() == 3);
  CHECK(left.projected_cols() == 10);
  CHECK(left.basis_dim() == 20);
  const lr::GaLoreProjector<double> right(20, 10, 3, {.side = lr::Side::Right});
  CHECK(right.projected_rows() == 20);
  CHECK(right.projected_cols() == 3);
  CHECK(right.basis_dim() == 10);
  // The case the reference gets wrong: a square low-rank tensor (rank = rows of the projected
  // gradient). A 4 x 16 gradient at rank 4 projected on the right is 4 x 4; project_back must
  // still lift on the right.
  lr::GaLoreProjector<double> sq(4, 16, 4, {.side = lr::Side::Right, .policy = lr::RefreshPolicy::ExactSvd});
  const Matrix<double> g = ct::gaussian_matrix<double>(4, 16, 3);
  REQUIRE(sq.update(g) == Info::Success);
  const Matrix<double> r = sq.project(g);
  REQUIRE(r.rows() == 4);
  REQUIRE(r.cols() == 4);
  // G has rank 4 and the right basis spans its row space: the round trip is exact.
  CHECK(ct::rel_err(sq.project_back(r), g) <= ct::apply_tol<double>(16));
}

TEMPLATE_TEST_CASE("every refresh policy yields an orthonormal basis of the right shape",
                   "[lowrank]", float, double) {
  using S = TestType;
  for (auto side : {lr::Side::Left, lr::Side::Right}) {
    for (auto policy : kPolicies) {
      INFO("side " << int(side) << " policy " << int(policy));
      lr::GaLoreProjector<S> proj(36, 24, 5, {.side = side, .policy = policy, .update_gap = 2});
      for (std::uint64_t t = 0; t < 6; ++t) {
        const Matrix<S> g = ct::gaussian_matrix<S>(36, 24, 100 + t);
        REQUIRE(proj.update(g) == Info::Success);
        REQUIRE(proj.basis().rows() == proj.basis_dim());
        REQUIRE(proj.basis().cols() == 5);
        CHECK(ct::orthonormality_error(proj.basis()) <= ct::apply_tol<S>(36));
        CHECK(ct::orthonormality_error(proj.change_of_basis()) <= 1.0 + ct::apply_tol<S>(36));
      }
      // Refreshes at updates 0, 2, 4 (every update for online PCA).
      CHECK(proj.refreshes() == (policy == lr::RefreshPolicy::OnlinePca ? 6 : 3));
      CHECK(proj.steps() == 6);
    }
  }
}

TEMPLATE_TEST_CASE("SVD-based policies find the top-r singular subspace", "[lowrank]", float,
                   double) {
  using S = TestType;
  const auto k = gapped(40, 30, 7);
  const Matrix<S> g = k.a.template cast<S>();
  const double tol = 10 * ct::apply_tol<S>(40);
  for (auto side : {lr::Side::Left, lr::Side::Right}) {
    const Matrix<double> truth = side == lr::Side::Left ? k.u.leftCols(4) : k.v.leftCols(4);
    for (auto policy : {lr::RefreshPolicy::ExactSvd, lr::RefreshPolicy::RandomizedSvd,
                        lr::RefreshPolicy::SubspaceIteration}) {
      INFO("side " << int(side) << " policy " << int(policy));
      lr::GaLoreProjector<S> proj(40, 30, 4, {.side = side, .policy = policy, .update_gap = 1});
      for (int t = 0; t < 3; ++t) REQUIRE(proj.update(g) == Info::Success);
      INFO("distance " << subspace_distance(proj.basis(), truth));
      CHECK(subspace_distance(proj.basis(), truth) <= tol);
      // project and project_back against dense products.
      const Matrix<double> p = proj.basis().template cast<double>();
      const Matrix<double> ref = side == lr::Side::Left ? Matrix<double>(p.transpose() * k.a)
                                                        : Matrix<double>(k.a * p);
      CHECK(ct::rel_err(proj.project(g), ref) <= ct::apply_tol<S>(40));
      const Matrix<S> n = ct::gaussian_matrix<S>(proj.projected_rows(), proj.projected_cols(), 5);
      const Matrix<double> nd = n.template cast<double>();
      const Matrix<double> lift = side == lr::Side::Left ? Matrix<double>(p * nd)
                                                         : Matrix<double>(nd * p.transpose());
      CHECK(ct::rel_err(proj.project_back(n), lift) <= ct::apply_tol<S>(40));
      Matrix<S> acc = Matrix<S>::Ones(40, 30);
      proj.project_back_add(n, acc, S(-2));
      CHECK(ct::rel_err(acc, Matrix<double>(Matrix<double>::Ones(40, 30) - 2 * lift)) <=
            ct::apply_tol<S>(40));
    }
  }
}

TEMPLATE_TEST_CASE("online PCA converges to the top-r subspace of a fixed gradient", "[lowrank]",
                   float, double) {
  using S = TestType;
  // Oja's rule on a fixed G is orthogonal iteration with I + η_t GGᵀ, and the step scale
  // η_t = 1/max(μ_t, floor) with μ_t <= σ₄² contracts tan θ by at least
  // (1 + σ₅²/σ₄²)/2 ≈ 0.5004 per step here (σ₄ = 7, σ₅ = 0.2). The first update is an exact SVD of
  // a *different* gradient, so the iteration has to move: 50 steps shrink tan θ by 2⁵⁰ ≈ 1e15.
  const auto k = gapped(30, 20, 9);
  const Matrix<S> g = k.a.template cast<S>();
  lr::GaLoreProjector<S> proj(30, 20, 4,
                              {.side = lr::Side::Left, .policy = lr::RefreshPolicy::OnlinePca});
  REQUIRE(proj.update(ct::gaussian_matrix<S>(30, 20, 1)) == Info::Success);
  const double d0 = subspace_distance(proj.basis(), k.u.leftCols(4));
  for (int t = 0; t < 50; ++t) REQUIRE(proj.update(g) == Info::Success);
  const double d1 = subspace_distance(proj.basis(), k.u.leftCols(4));
  INFO("distance before " << d0 << " after " << d1);
  CHECK(d0 > 0.5);
  CHECK(d1 <= 100 * ct::apply_tol<S>(30));
  CHECK(ct::orthonormality_error(proj.basis()) <= ct::apply_tol<S>(30));
  // A zero gradient carries no direction: the basis stays.
  const Matrix<S> before = proj.basis();
  REQUIRE(proj.update(Matrix<S>::Zero(30, 20)) == Info::Success);
  CHECK(proj.basis() == before);
}

TEMPLATE_TEST_CASE("online PCA tracks a change of the gradient subspace", "[lowrank]", float,
                   double) {
  using S = TestType;
  // Both gradients have σ = 10, 9, 8, 7, then 1/(1 + i); the second has fresh singular vectors,
  // so at the switch the largest principal angle to its top-4 subspace is large (tan θ₀ > 1 is
  // required below). From then on each step contracts tan θ by ρ <= (1 + g)/2 with
  // g = σ₅²/σ₄² = 0.04/49 (see RefreshPolicy::OnlinePca), so tan θ_t <= ρᵗ tan θ₀ at every step,
  // and 20 refreshes bring every principal angle below 1e-3 rad whenever tan θ₀ < 2²⁰·1e-3 ≈ 1e3.
  // The fixed normalisation η = 1/‖G‖_F² (‖G‖_F² ≈ 294 here) would contract by only
  // (1 + 0.04/294)/(1 + 49/294) ≈ 0.86 per step: 20 steps gain a factor 20, not 10⁶.
  const Index m = 48, n = 32, r = 4;
  const auto before = gapped(m, n, 21), after = gapped(m, n, 22);
  for (auto side : {lr::Side::Left, lr::Side::Right}) {
    INFO("side " << int(side));
    const bool left = side == lr::Side::Left;
    const Matrix<double> truth_before = left ? before.u.leftCols(r) : before.v.leftCols(r);
    const Matrix<double> truth = left ? after.u.leftCols(r) : after.v.leftCols(r);
    lr::GaLoreProjector<S> proj(m, n, r, {.side = side, .policy = lr::RefreshPolicy::OnlinePca});
    for (int t = 0; t < 3; ++t) REQUIRE(proj.update(before.a.template cast<S>()) == Info::Success);
    CHECK(max_angle_tangent(proj.basis(), truth_before) <= 100 * ct::apply_tol<S>(m));
    const double tan0 = max_angle_tangent(proj.basis(), truth);
    INFO("tan θ at the switch " << tan0);
    REQUIRE(tan0 > 1.0);
    REQUIRE(tan0 < 1e3);
    const double g = 0.04 / 49.0, rho = (1.0 + g) / 2.0;
    const Matrix<S> ga = after.a.template cast<S>();
    double bound = tan0, tan_t = tan0;
    for (int t = 1; t <= 20; ++t) {
      REQUIRE(proj.update(ga) == Info::Success);
      bound *= rho;
      tan_t = max_angle_tangent(proj.basis(), truth);
      INFO("refresh " << t << ": tan θ " << tan_t << " bound " << bound);
      CHECK(tan_t <= bound + 100 * ct::apply_tol<S>(m));
    }
    CHECK(std::atan(tan_t) <= 1e-3);
    CHECK(ct::orthonormality_error(proj.basis()) <= ct::apply_tol<S>(m));
  }
}

TEMPLATE_TEST_CASE("online PCA keeps an orthonormal basis when G has rank < r", "[lowrank]", float,
                   double) {
  using S = TestType;
  // G = 3 u₁v₁ᵀ + 2 u₂v₂ᵀ has rank 2 < r = 4, so two basis directions capture nothing (μ = 0) and
  // the step falls back to its floor η = 1000·r/‖G‖_F²: the basis must stay orthonormal, contain
  // range(G) and keep its other directions (span(P) ∩ range(G)⊥ is not touched by XXᵀ).
  const Index m = 30, n = 20, r = 4;
  const auto k =
      ct::known_svd(m, n, 41, [](Index i) { return i == 0 ? 3.0 : (i == 1 ? 2.0 : 0.0); });
  lr::GaLoreProjector<S> proj(m, n, r,
                              {.side = lr::Side::Left, .policy = lr::RefreshPolicy::OnlinePca});
  // Start from a basis that mixes range(G) with its complement.
  REQUIRE(proj.update(ct::gaussian_matrix<S>(m, n, 42)) == Info::Success);
  for (int t = 0; t < 40; ++t) REQUIRE(proj.update(k.a.template cast<S>()) == Info::Success);
  const Matrix<double> p = proj.basis().template cast<double>();
  CHECK(ct::orthonormality_error(p) <= ct::apply_tol<S>(m));
  // range(G) ⊂ span(P): ‖(I − PPᵀ) U₂‖ small.
  const Matrix<double> u2 = k.u.leftCols(2);
  const double missing = (u2 - p * (p.transpose() * u2)).norm();
  INFO("part of range(G) outside span(P): " << missing);
  CHECK(missing <= 100 * ct::apply_tol<S>(m));
}

TEMPLATE_TEST_CASE("online PCA follows a noisy gradient after a change of subspace", "[lowrank]",
                   float, double) {
  using S = TestType;
  // Each step sees the new gradient plus fresh Gaussian noise N_t with entries of standard
  // deviation 0.15, so ‖N_t‖₂ ≈ 0.15·(√48 + √32) ≈ 1.9 (Marchenko–Pastur edge) against σ₄ = 7.
  // The exact SVD of one noisy gradient is off by sin θ <= ‖N‖₂/(σ₄ − σ₅ − ‖N‖₂) ≈ 0.39 (Wedin);
  // online PCA must reach that accuracy within 10 refreshes of the switch and then stay there.
  const Index m = 48, n = 32, r = 4;
  const auto before = gapped(m, n, 31), after = gapped(m, n, 32);
  const Matrix<double> truth = after.u.leftCols(r);
  lr::GaLoreProjector<S> proj(m, n, r,
                              {.side = lr::Side::Left, .policy = lr::RefreshPolicy::OnlinePca});
  REQUIRE(proj.update(before.a.template cast<S>()) == Info::Success);
  REQUIRE(max_angle_tangent(proj.basis(), truth) > 1.0);
  double worst = 0;
  for (std::uint64_t t = 1; t <= 40; ++t) {
    const Matrix<double> noisy = after.a + 0.15 * ct::gaussian_matrix<double>(m, n, 500 + t);
    REQUIRE(proj.update(noisy.cast<S>()) == Info::Success);
    const double sin_t = std::sin(std::atan(max_angle_tangent(proj.basis(), truth)));
    if (t >= 10) worst = std::max(worst, sin_t);
  }
  INFO("largest sin θ over refreshes 10..40: " << worst);
  CHECK(worst <= 0.39);
}

TEMPLATE_TEST_CASE("the DCT policy picks the DCT columns most aligned with G", "[lowrank]", float,
                   double) {
  using S = TestType;
  const Index m = 32, n = 20;
  // The orthonormal DCT-II matrix of R^m written out independently of the library.
  Matrix<double> dct(m, m);
  for (Index k = 0; k < m; ++k) {
    for (Index i = 0; i < m; ++i) {
      dct(i, k) = (k == 0 ? std::sqrt(1.0 / m) : std::sqrt(2.0 / m)) *
                  std::cos(std::numbers::pi * (2.0 * i + 1.0) * k / (2.0 * m));
    }
  }
  REQUIRE(ct::orthonormality_error(dct) <= 1e-13);
  // G = 5 d_3 v₁ᵀ + 4 d_17 v₂ᵀ + 3 d_8 v₃ᵀ + small noise: the chosen columns are 3, 17, 8.
  const Matrix<double> v = ct::orthogonal_matrix(n, 4).leftCols(3);
  Matrix<double> g = 5 * dct.col(3) * v.col(0).transpose() + 4 * dct.col(17) * v.col(1).transpose() +
                     3 * dct.col(8) * v.col(2).transpose();
  g += 0.01 * ct::gaussian_matrix<double>(m, n, 6);
  lr::GaLoreProjector<S> proj(m, n, 3, {.side = lr::Side::Left, .policy = lr::RefreshPolicy::Dct});
  REQUIRE(proj.update(g.cast<S>()) == Info::Success);
  REQUIRE(proj.dct_indices() == std::vector<Index>{3, 17, 8});
  for (Index j = 0; j < 3; ++j) {
    CHECK(ct::rel_err(proj.basis().col(j), Vector<double>(dct.col(proj.dct_indices()[j]))) <=
          ct::apply_tol<S>(m));
  }
  // Right side: the transpose problem selects the same columns of the DCT of R^m.
  lr::GaLoreProjector<S> right(n, m, 3, {.side = lr::Side::Right, .policy = lr::RefreshPolicy::Dct});
  REQUIRE(right.update(Matrix<S>(g.transpose().cast<S>())) == Info::Success);
  CHECK(right.dct_indices() == std::vector<Index>{3, 17, 8});
}

TEMPLATE_TEST_CASE("a refresh with an unchanged gradient changes nothing", "[lowrank]", float,
                   double) {
  using S = TestType;
  // σ distinct down to rank 6 so the top-6 singular vectors are unique up to sign.
  const auto k = ct::known_svd(28, 22, 13, [](Index i) { return i < 6 ? 6.0 - double(i) : 0.0; });
  const Matrix<S> g = k.a.template cast<S>();
  for (auto side : {lr::Side::Left, lr::Side::Right}) {
    for (auto policy : kPolicies) {
      for (auto transport : {lr::MomentTransport::Rotate, lr::MomentTransport::Keep}) {
        INFO("side " << int(side) << " policy " << int(policy) << " transport " << int(transport));
        lr::GaLoreProjector<S> proj(28, 22, 4, {.side = side, .policy = policy, .update_gap = 1,
                                                .transport = transport});
        REQUIRE(proj.update(g) == Info::Success);
        const Matrix<S> p0 = proj.basis();
        const Matrix<S> r0 = proj.project(g);
        Matrix<S> m = r0, v = r0.cwiseAbs2();
        REQUIRE(proj.update(g) == Info::Success);
        CHECK(proj.refreshed());
        CHECK(proj.refreshes() == 2);
        // Same basis (sign-aligned), C = I, same projection, moments untouched.
        const double tol = 10 * ct::apply_tol<S>(28);
        CHECK(ct::rel_err(proj.basis(), p0) <= tol);
        CHECK(ct::rel_err(proj.change_of_basis(), Matrix<double>(Matrix<double>::Identity(4, 4))) <= tol);
        CHECK(ct::rel_err(proj.project(g), r0) <= tol);
        CHECK_FALSE(proj.transport(m, v));
        CHECK(ct::rel_err(m, r0) <= tol);
        CHECK(ct::rel_err(v, Matrix<S>(r0.cwiseAbs2())) <= tol);
      }
    }
  }
}

TEMPLATE_TEST_CASE("moment transport re-expresses state in the new basis", "[lowrank]", float,
                   double) {
  using S = TestType;
  const Matrix<S> g1 = ct::gaussian_matrix<S>(18, 12, 1);
  const Matrix<S> g2 = ct::gaussian_matrix<S>(18, 12, 2);
  for (auto side : {lr::Side::Left, lr::Side::Right}) {
    lr::GaLoreProjector<S> proj(18, 12, 3, {.side = side, .policy = lr::RefreshPolicy::ExactSvd,
                                            .update_gap = 1});
    REQUIRE(proj.update(g1) == Info::Success);
    const Matrix<double> p_old = proj.basis().template cast<double>();
    const Matrix<S> m0 = ct::gaussian_matrix<S>(proj.projected_rows(), proj.projected_cols(), 3);
    const Matrix<S> v0 = m0.cwiseAbs2();
    Matrix<S> m = m0, v = v0;
    REQUIRE(proj.update(g2) == Info::Success);
    REQUIRE_FALSE(proj.transport(m, v));
    const Matrix<double> p_new = proj.basis().template cast<double>();
    const Matrix<double> c = p_new.transpose() * p_old;
    CHECK(ct::rel_err(proj.change_of_basis(), c) <= ct::apply_tol<S>(18));
    // The lifted moment is the projection of the old full-space moment onto the new subspace.
    const Matrix<double> md = m0.template cast<double>(), vd = v0.template cast<double>();
    const bool left = side == lr::Side::Left;
    const Matrix<double> full_old = left ? Matrix<double>(p_old * md) : Matrix<double>(md * p_old.transpose());
    const Matrix<double> full_new = left ? Matrix<double>(p_new * m.template cast<double>())
                                         : Matrix<double>(m.template cast<double>() * p_new.transpose());
    const Matrix<double> projected = left ? Matrix<double>(p_new * p_new.transpose() * full_old)
                                          : Matrix<double>(full_old * p_new * p_new.transpose());
    CHECK(ct::rel_err(full_new, projected) <= 10 * ct::apply_tol<S>(18));
    const Matrix<double> c2 = c.cwiseAbs2();
    const Matrix<double> vref = left ? Matrix<double>(c2 * vd) : Matrix<double>(vd * c2.transpose());
    CHECK(ct::rel_err(v, vref) <= 10 * ct::apply_tol<S>(18));
    CHECK((v.array() >= 0).all());
  }
  // Keep leaves the state alone; Reset zeroes it and says so.
  for (auto transport : {lr::MomentTransport::Keep, lr::MomentTransport::Reset}) {
    lr::GaLoreProjector<S> proj(18, 12, 3, {.policy = lr::RefreshPolicy::ExactSvd, .update_gap = 1,
                                            .transport = transport});
    REQUIRE(proj.update(g1) == Info::Success);
    Matrix<S> m = Matrix<S>::Ones(proj.projected_rows(), proj.projected_cols()), v = m;
    REQUIRE(proj.update(g2) == Info::Success);
    const bool reset = proj.transport(m, v);
    CHECK(reset == (transport == lr::MomentTransport::Reset));
    CHECK(m.isConstant(transport == lr::MomentTransport::Reset ? S(0) : S(1)));
  }
}

TEST_CASE("GaLoreProjector rejects bad input and stays unchanged", "[lowrank]") {
  CHECK_THROWS_AS(lr::GaLoreProjector<double>(10, 8, 0), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreProjector<double>(10, 8, 9), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreProjector<double>(10, 8, 2, {.update_gap = 0}), std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreProjector<double>(10, 8, 2, {.subspace_iterations = -1}),
                  std::invalid_argument);
  CHECK_THROWS_AS(lr::GaLoreProjector<double>(10, 8, 2, {.online_pca_step = 0}),
                  std::invalid_argument);
  try {
    lr::GaLoreProjector<double>(10, 8, 9);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("rank") != std::string::npos);
    CHECK(what.find("9") != std::string::npos);
  }
  lr::GaLoreProjector<double> proj(10, 8, 2, {.update_gap = 1});
  Matrix<double> r(10, 2), out(10, 8);
  CHECK_THROWS_AS(proj.project(Matrix<double>::Ones(10, 8), r), curvop::AssertionError);
  const Matrix<double> g = ct::gaussian_matrix<double>(10, 8, 1);
  REQUIRE(proj.update(g) == Info::Success);
  const Matrix<double> p = proj.basis();
  Matrix<double> bad = g;
  bad(2, 3) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS((void)proj.update(bad), curvop::InvalidInput);
  CHECK_THROWS_AS((void)proj.update(Matrix<double>::Ones(8, 10)), curvop::DimensionMismatch);
  CHECK(proj.basis() == p);
  CHECK(proj.steps() == 1);
  CHECK(proj.refreshes() == 1);
  CHECK_THROWS_AS(proj.project(Matrix<double>::Ones(10, 7), r), curvop::AssertionError);
  CHECK_THROWS_AS(proj.project_back(Matrix<double>::Ones(3, 2), out), curvop::AssertionError);
}
