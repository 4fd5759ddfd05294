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
  // Oja's rule on a fixed Ĝ is subspace iteration on I + ηĜĜᵀ: the distance contracts by
  // (1 + η σ₅²/‖G‖²)/(1 + η σ₄²/‖G‖²) ≈ 0.87 per step here (‖G‖² ≈ 296, η = 1). The first update
  // is an exact SVD of a *different* gradient, so the iteration has to move.
  const auto k = gapped(30, 20, 9);
  const Matrix<S> g = k.a.template cast<S>();
  lr::GaLoreProjector<S> proj(30, 20, 4,
                              {.side = lr::Side::Left, .policy = lr::RefreshPolicy::OnlinePca});
  REQUIRE(proj.update(ct::gaussian_matrix<S>(30, 20, 1)) == Info::Success);
  const double d0 = subspace_distance(proj.basis(), k.u.leftCols(4));
  for (int t = 0; t < 200; ++t) REQUIRE(proj.update(g) == Info::Success);
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
