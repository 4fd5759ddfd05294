// SPDX-License-Identifier: MIT
// Shampoo against the dense formulas in double: directions of the three variants, EMA with bias
// correction, blocking, grafting, keeping the previous root, and bad input.
#include <curvop/functions.hpp>
#include <curvop/shampoo.hpp>

#include <Eigen/Eigenvalues>
#include <limits>
#include <string>
#include <vector>

#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
using curvop::Vector;
namespace cs = curvop::shampoo;
namespace ct = curvop::test;

namespace {

/// (A + ε λ_max(A) I)^{-1/p} by a dense eigendecomposition in double (ε relative).
Matrix<double> dense_root(const Matrix<double>& a, int p, double eps_rel) {
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(a);
  const double lmax = es.eigenvalues().maxCoeff();
  Vector<double> d = (es.eigenvalues().array().max(0.0) + eps_rel * lmax).pow(-1.0 / p);
  return es.eigenvectors() * d.asDiagonal() * es.eigenvectors().transpose();
}

/// Gradients with a column and row scale spread over two decades, so L and R are far from
/// isotropic.
template <class S>
std::vector<Matrix<S>> gradients(Index rows, Index cols, int count, std::uint64_t seed) {
  std::vector<Matrix<S>> gs;
  Vector<double> rs(rows), csc(cols);
  for (Index i = 0; i < rows; ++i) rs(i) = std::pow(10.0, double(i % 5) / 4.0);
  for (Index j = 0; j < cols; ++j) csc(j) = std::pow(10.0, -double(j % 3) / 2.0);
  for (int t = 0; t < count; ++t) {
    Matrix<double> g = ct::gaussian_matrix<double>(rows, cols, seed + std::uint64_t(t));
    gs.push_back((rs.asDiagonal() * g * csc.asDiagonal()).cast<S>());
  }
  return gs;
}

}  // namespace

TEMPLATE_TEST_CASE("Shampoo, Shampoo² and one-sided directions match the dense formula",
                   "[shampoo]", float, double) {
  using S = TestType;
  const Index rows = 12, cols = 7;
  const auto gs = gradients<S>(rows, cols, 5, 100);
  Matrix<double> l = Matrix<double>::Zero(rows, rows), r = Matrix<double>::Zero(cols, cols);
  for (const auto& g : gs) {
    const Matrix<double> gd = g.template cast<double>();
    l += gd * gd.transpose();
    r += gd.transpose() * gd;
  }
  const Matrix<S> probe = ct::gaussian_matrix<S>(rows, cols, 999);
  const Matrix<double> pd = probe.template cast<double>();
  const double eps = 1e-6;
  for (auto variant : {cs::Variant::Shampoo, cs::Variant::ShampooSquared, cs::Variant::OneSided}) {
    for (auto method : {curvop::RootMethod::Eigendecomposition, curvop::RootMethod::CoupledNewton}) {
      cs::Shampoo<S> sh(rows, cols, cs::Options{.variant = variant, .epsilon = eps,
                                                .root_method = method});
      for (const auto& g : gs) sh.update(g);
      REQUIRE(sh.compute() == Info::Success);
      const int p = variant == cs::Variant::Shampoo ? 4 : 2;
      Matrix<double> ref = dense_root(l, p, eps) * pd;
      if (variant != cs::Variant::OneSided) ref = (ref * dense_root(r, p, eps)).eval();
      const Matrix<S> dir = sh.precondition(probe);
      // The roots' condition numbers are κ^{1/p} ≤ 1e3 (κ ≤ 1/ε); Newton's round-off floor is
      // κ·eps of the factor itself, and float Shampoo computes its roots in double.
      const double err = ct::rel_err(dir, ref);
      INFO("variant " << int(variant) << ", method " << int(method) << ": error " << err);
      CHECK(err <= std::max(ct::inverse_tol<S>(double(rows), 1e3),
                            ct::inverse_tol<double>(double(rows), 1.0 / eps)));
      CHECK(ct::rel_err(sh.left_statistic(0), l) <= ct::apply_tol<S>(double(5 * cols)));
      if (variant != cs::Variant::OneSided) {
        CHECK(ct::rel_err(sh.right_statistic(0), r) <= ct::apply_tol<S>(double(5 * rows)));
      } else {
        CHECK(sh.right_root(0).size() == 0);
      }
    }
  }
}

TEMPLATE_TEST_CASE("the EMA statistics are bias-corrected", "[shampoo]", float, double) {
  using S = TestType;
  const auto gs = gradients<S>(6, 5, 3, 7);
  const double beta = 0.9;
  cs::Shampoo<S> sh(6, 5, cs::Options{.beta2 = beta});
  sh.update(gs[0]);
  // After one step the corrected EMA is exactly the first outer product.
  const Matrix<double> g0 = gs[0].template cast<double>();
  CHECK(ct::rel_err(sh.left_statistic(0), Matrix<double>(g0 * g0.transpose())) <=
        ct::apply_tol<S>(5));
  sh.update(gs[1]);
  sh.update(gs[2]);
  Matrix<double> ema = Matrix<double>::Zero(5, 5);
  for (const auto& g : gs) {
    const Matrix<double> gd = g.template cast<double>();
    ema = beta * ema + (1 - beta) * gd.transpose() * gd;
  }
  ema /= 1.0 - beta * beta * beta;
  CHECK(sh.steps() == 3);
  CHECK(ct::rel_err(sh.right_statistic(0), ema) <= ct::apply_tol<S>(18));
}

TEMPLATE_TEST_CASE("blocked Shampoo equals the per-block dense computation", "[shampoo]", float,
                   double) {
  using S = TestType;
  const Index rows = 11, cols = 9, mb = 4;  // row blocks 4, 4, 3; column blocks 4, 4, 1
  const auto gs = gradients<S>(rows, cols, 6, 300);
  for (auto variant : {cs::Variant::Shampoo, cs::Variant::OneSided}) {
    cs::Shampoo<S> sh(rows, cols, cs::Options{.variant = variant, .max_block = mb});
    REQUIRE(sh.blocking().size() == 9);
    for (const auto& g : gs) sh.update(g);
    REQUIRE(sh.compute() == Info::Success);
    const Matrix<S> probe = ct::gaussian_matrix<S>(rows, cols, 5);
    const Matrix<S> dir = sh.precondition(probe);
    Matrix<double> ref(rows, cols);
    for (Index k = 0; k < sh.blocking().size(); ++k) {
      const auto rseg = sh.blocking().row_segment(k);
      const auto cseg = sh.blocking().col_segment(k);
      Matrix<double> l = Matrix<double>::Zero(rseg.size, rseg.size);
      Matrix<double> r = Matrix<double>::Zero(cseg.size, cseg.size);
      for (const auto& g : gs) {
        const Matrix<double> gb =
            g.template cast<double>().block(rseg.start, cseg.start, rseg.size, cseg.size);
        l += gb * gb.transpose();
        r += gb.transpose() * gb;
      }
      const Matrix<double> pb =
          probe.template cast<double>().block(rseg.start, cseg.start, rseg.size, cseg.size);
      Matrix<double> d = dense_root(l, variant == cs::Variant::OneSided ? 2 : 4, 1e-6) * pb;
      if (variant != cs::Variant::OneSided) d = (d * dense_root(r, 4, 1e-6)).eval();
      ref.block(rseg.start, cseg.start, rseg.size, cseg.size) = d;
    }
    const double err = ct::rel_err(dir, ref);
    INFO("variant " << int(variant) << ": error " << err);
    CHECK(err <= ct::inverse_tol<S>(double(mb), 1e3));
  }
}

TEMPLATE_TEST_CASE("the preconditioner is a linear operator on vec(G): the dense Kronecker "
                   "formula, and precondition() without grafting", "[shampoo]", float, double) {
  using S = TestType;
  using P = cs::Preconditioner<S>;
  STATIC_REQUIRE(curvop::LinearOperator<P>);
  STATIC_REQUIRE(curvop::DiagonalExtractable<P>);
  STATIC_REQUIRE(curvop::is_symmetric_v<P>);
  const Index rows = 11, cols = 9;
  const auto gs = gradients<S>(rows, cols, 6, 400);
  // max_block 4: row blocks 4, 4, 3 and column blocks 4, 4, 1; 16: one block (P = kron(R̂, L̂)).
  for (Index mb : {Index(16), Index(4)}) {
    for (auto variant : {cs::Variant::Shampoo, cs::Variant::ShampooSquared,
                         cs::Variant::OneSided}) {
      cs::Shampoo<S> sh(rows, cols, cs::Options{.variant = variant, .max_block = mb});
      for (const auto& g : gs) sh.update(g);
      REQUIRE(sh.compute() == Info::Success);
      const P pre = sh.preconditioner();
      REQUIRE(pre.rows() == rows * cols);
      // Dense reference in double: entry (i + rows·j, i' + rows·j') is L̂_b(i, i')·R̂_b(j, j') when
      // both entries lie in block b (DESIGN.md's kron(R̂_b, L̂_b)), 0 otherwise.
      const int p = variant == cs::Variant::Shampoo ? 4 : 2;
      Matrix<double> dense = Matrix<double>::Zero(rows * cols, rows * cols);
      for (Index k = 0; k < sh.blocking().size(); ++k) {
        const auto rs = sh.blocking().row_segment(k);
        const auto cs_ = sh.blocking().col_segment(k);
        Matrix<double> l = Matrix<double>::Zero(rs.size, rs.size);
        Matrix<double> r = Matrix<double>::Zero(cs_.size, cs_.size);
        for (const auto& g : gs) {
          const Matrix<double> gb =
              g.template cast<double>().block(rs.start, cs_.start, rs.size, cs_.size);
          l += gb * gb.transpose();
          r += gb.transpose() * gb;
        }
        const Matrix<double> lr = dense_root(l, p, 1e-6);
        const Matrix<double> rr = variant == cs::Variant::OneSided
                                      ? Matrix<double>(Matrix<double>::Identity(cs_.size, cs_.size))
                                      : dense_root(r, p, 1e-6);
        for (Index j = 0; j < cs_.size; ++j)
          for (Index jj = 0; jj < cs_.size; ++jj)
            for (Index i = 0; i < rs.size; ++i)
              for (Index ii = 0; ii < rs.size; ++ii)
                dense(rs.start + i + rows * (cs_.start + j),
                      rs.start + ii + rows * (cs_.start + jj)) = lr(i, ii) * rr(j, jj);
        // Each block as a Kronecker operator on vec(G_b).
        const Matrix<double> kb = curvop::to_dense(pre.block(k)).template cast<double>();
        Matrix<double> kref(rs.size * cs_.size, rs.size * cs_.size);
        for (Index a = 0; a < cs_.size; ++a)
          for (Index b = 0; b < cs_.size; ++b)
            kref.block(a * rs.size, b * rs.size, rs.size, rs.size) = rr(a, b) * lr;
        CHECK(ct::rel_err(kb, kref) <= ct::inverse_tol<S>(double(mb), 1e3));
      }
      const Matrix<S> x = ct::gaussian_matrix<S>(rows * cols, 3, 401);
      const Matrix<S> y = curvop::apply(pre, x);
      const double err = ct::rel_err(y, (dense * x.template cast<double>()).eval());
      INFO("max_block " << mb << " variant " << int(variant) << ": error " << err);
      // The roots have κ ≤ 1e3 (κ(L)^{1/p} with κ(L) ≤ 1/ε); float roots come from double.
      CHECK(err <= ct::inverse_tol<S>(double(mb), 1e3));
      CHECK(ct::rel_err(pre.diagonal(), dense.diagonal().eval()) <=
            ct::inverse_tol<S>(double(mb), 1e3));
      // vec(precondition(G)) for each column, to the last bit of the same products.
      for (Index j = 0; j < x.cols(); ++j) {
        const Matrix<S> g = Eigen::Map<const Matrix<S>>(x.col(j).data(), rows, cols);
        const Matrix<S> dir = sh.precondition(g);
        CHECK(ct::rel_err(y.col(j), dir.reshaped()) <= ct::apply_tol<S>(double(rows + cols)));
      }
      // A snapshot: a later compute() replaces the state's roots, not the operator's.
      sh.update(gs[0] * S(10));
      REQUIRE(sh.compute() == Info::Success);
      CHECK(curvop::apply(pre, x) == y);
      CHECK(ct::rel_err(curvop::apply(sh.preconditioner(), x), y) > 1e-3);
    }
  }
}

TEMPLATE_TEST_CASE("grafting rescales each block to the graft direction's norm", "[shampoo]",
                   float, double) {
  using S = TestType;
  const Index rows = 10, cols = 6;
  const auto gs = gradients<S>(rows, cols, 4, 500);
  for (auto graft : {cs::Grafting::Sgd, cs::Grafting::AdaGrad, cs::Grafting::Adam}) {
    const cs::Options o{.max_block = 5, .grafting = graft};
    cs::Shampoo<S> sh(rows, cols, o);
    cs::Shampoo<S> raw(rows, cols, cs::Options{.max_block = 5});
    Matrix<double> acc = Matrix<double>::Zero(rows, cols), v = acc;
    for (const auto& g : gs) {
      sh.update(g);
      raw.update(g);
      const Matrix<double> g2 = g.template cast<double>().cwiseAbs2();
      acc += g2;
      v = o.graft_beta2 * v + (1 - o.graft_beta2) * g2;
    }
    REQUIRE(sh.compute() == Info::Success);
    REQUIRE(raw.compute() == Info::Success);
    const Matrix<S>& g = gs.back();
    const Matrix<double> gd = g.template cast<double>();
    Matrix<double> graft_dir = gd;
    if (graft == cs::Grafting::AdaGrad) {
      graft_dir = gd.array() / (acc.array().sqrt() + o.graft_epsilon);
    } else if (graft == cs::Grafting::Adam) {
      const double c = 1.0 - std::pow(o.graft_beta2, 4.0);
      graft_dir = gd.array() / ((v.array() / c).sqrt() + o.graft_epsilon);
    }
    const Matrix<S> dir = sh.precondition(g);
    const Matrix<S> undirected = raw.precondition(g);
    for (Index k = 0; k < sh.blocking().size(); ++k) {
      const auto rs = sh.blocking().row_segment(k);
      const auto cseg = sh.blocking().col_segment(k);
      const Matrix<double> db = dir.template cast<double>().block(rs.start, cseg.start, rs.size, cseg.size);
      const Matrix<double> ub = undirected.template cast<double>().block(rs.start, cseg.start, rs.size, cseg.size);
      const double target = graft_dir.block(rs.start, cseg.start, rs.size, cseg.size).norm();
      INFO("grafting " << int(graft) << ", block " << k);
      CHECK_THAT(db.norm(), Catch::Matchers::WithinRel(target, 100 * ct::eps<S>()));
      // The direction is unchanged: only its norm.
      CHECK(ct::rel_err(db, Matrix<double>(ub * (target / ub.norm()))) <= 100 * ct::eps<S>());
    }
  }
}

TEMPLATE_TEST_CASE("a failed root keeps the previous one and says so", "[shampoo]", float,
                   double) {
  using S = TestType;
  const Index n = 16;
  // Newton with 3 iterations and no ladder: enough for a well-conditioned factor (the first
  // gradient is orthogonal, so L = R = I), not for κ = 1e6 after an ill-conditioned gradient.
  const cs::Options o{.epsilon = 0.0, .root_method = curvop::RootMethod::CoupledNewton,
                      .newton_max_iterations = 3, .root_fallback = false};
  cs::Shampoo<S> sh(n, n, o);
  const Matrix<S> q = ct::orthogonal_matrix(n, 3).cast<S>();
  sh.update(q);
  REQUIRE(sh.compute() == Info::Success);
  const Matrix<S> good_root = sh.left_root(0);
  CHECK(sh.reports()[0].left_fallback == curvop::Fallback::None);
  CHECK(ct::rel_err(good_root, Matrix<S>::Identity(n, n)) <= 1e-4);  // 3 Newton steps only
  Vector<double> sv(n);
  for (Index i = 0; i < n; ++i) sv(i) = std::pow(10.0, 3.0 * double(i) / double(n - 1));
  const Matrix<S> ill = (ct::orthogonal_matrix(n, 4) * sv.asDiagonal() *
                         ct::orthogonal_matrix(n, 5).transpose()).cast<S>();
  sh.update(ill);
  CHECK(sh.compute() == Info::NumericalIssue);
  CHECK(sh.info() == Info::NumericalIssue);
  CHECK(sh.reports()[0].left_kept);
  CHECK(sh.reports()[0].left_fallback == curvop::Fallback::Isotropic);
  CHECK(sh.left_root(0) == good_root);
  const Matrix<S> dir = sh.precondition(ill);
  CHECK(dir.allFinite());
}

TEMPLATE_TEST_CASE("zero gradients and no updates give the identity preconditioner", "[shampoo]",
                   float, double) {
  using S = TestType;
  cs::Shampoo<S> sh(5, 3);
  const Matrix<S> g = ct::gaussian_matrix<S>(5, 3, 1);
  CHECK(sh.precondition(g) == g);  // before any update
  sh.update(Matrix<S>::Zero(5, 3));
  CHECK(sh.compute() == Info::Success);
  CHECK(sh.reports()[0].left_kept);
  CHECK(sh.precondition(g) == g);
}

TEMPLATE_TEST_CASE("Shampoo rejects bad input and leaves its state unchanged", "[shampoo]", float,
                   double) {
  using S = TestType;
  cs::Shampoo<S> sh(6, 4, cs::Options{.beta2 = 0.99, .max_block = 3, .grafting = cs::Grafting::Adam});
  const auto gs = gradients<S>(6, 4, 2, 40);
  sh.update(gs[0]);
  REQUIRE(sh.compute() == Info::Success);
  const Matrix<S> probe = gs[1];
  const Matrix<S> before = sh.precondition(probe);
  const Matrix<S> l_before = sh.left_statistic(1);
  Matrix<S> bad = gs[1];
  bad(4, 2) = std::numeric_limits<S>::quiet_NaN();
  CHECK_THROWS_AS(sh.update(bad), curvop::InvalidInput);
  bad(4, 2) = std::numeric_limits<S>::infinity();
  CHECK_THROWS_AS(sh.update(bad), curvop::InvalidInput);
  // Finite but overflowing statistics (float: 1e30² overflows; double: 1e200²).
  const S huge = std::is_same_v<S, float> ? S(1e30) : S(1e200);
  CHECK_THROWS_AS(sh.update(Matrix<S>::Constant(6, 4, huge)), curvop::InvalidInput);
  CHECK_THROWS_AS(sh.update(Matrix<S>(6, 5)), curvop::DimensionMismatch);
  CHECK_THROWS_AS(sh.update(Matrix<S>(5, 4)), curvop::DimensionMismatch);
  CHECK_THROWS_AS((void)sh.precondition(bad), curvop::InvalidInput);
  CHECK_THROWS_AS((void)sh.precondition(Matrix<S>(4, 6)), curvop::DimensionMismatch);
  CHECK(sh.steps() == 1);
  CHECK(sh.left_statistic(1) == l_before);
  CHECK(sh.precondition(probe) == before);
  auto message = [](const cs::Options& o, Index r = 3, Index c = 3) {
    try {
      cs::Shampoo<S> s(r, c, o);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no exception");
  };
  using curvop::test::contains_text;
  CHECK_THAT(message({}, 0, 3), contains_text("rows must be >= 1"));
  CHECK_THAT(message({}, 3, -1), contains_text("cols must be >= 1"));
  CHECK_THAT(message({.root_order = -1}), contains_text("root_order") && contains_text("got -1"));
  CHECK_THAT(message({.beta2 = 0.0}), contains_text("beta2"));
  CHECK_THAT(message({.beta2 = 1.5}), contains_text("beta2") && contains_text("got 1.5"));
  CHECK_THAT(message({.epsilon = -1.0}), contains_text("epsilon"));
  CHECK_THAT(message({.newton_max_iterations = 0}), contains_text("max_iterations"));
  CHECK_THAT(message({.max_block = 0}), contains_text("max_block"));
  CHECK_THAT(message({.graft_beta2 = 1.0}), contains_text("graft_beta2"));
  CHECK_THAT(message({.graft_epsilon = 0.0}), contains_text("graft_epsilon"));
  CHECK_THROWS_AS((void)sh.left_root(99), std::invalid_argument);
}
