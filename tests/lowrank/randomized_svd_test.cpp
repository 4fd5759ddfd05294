// SPDX-License-Identifier: MIT
// Randomized range finder, randomized SVD and warm-started subspace iteration against matrices of
// known spectrum (closed-form optimal errors, Eckart–Young).
#include <curvop/lowrank/randomized_svd.hpp>
#include <curvop/operators/dense.hpp>
#include <curvop/operators/function.hpp>

#include "lowrank/support/spectrum.hpp"
#include "support/catch.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
namespace lr = curvop::lowrank;
namespace ct = curvop::test;

namespace {

template <class S>
double svd_error(const Matrix<double>& a, const lr::SvdResult<S>& r) {
  const Matrix<double> approx = r.u.template cast<double>() *
                                r.s.template cast<double>().asDiagonal() *
                                r.v.template cast<double>().transpose();
  return (a - approx).norm();
}

}  // namespace

TEMPLATE_TEST_CASE("randomized_svd is exact on matrices of rank <= r", "[lowrank]", float, double) {
  using S = TestType;
  // Rank 6 (σ = 6, 5, ..., 1, then zeros), asked for rank 6 and 8, tall and wide.
  for (auto [m, n] : {std::pair<Index, Index>{120, 80}, {70, 150}}) {
    const auto k = ct::known_svd(m, n, 11, [](Index i) { return i < 6 ? 6.0 - double(i) : 0.0; });
    const Matrix<S> a = k.a.template cast<S>();
    for (Index r : {6, 8}) {
      for (auto orth : {lr::Orthonormalizer::Householder, lr::Orthonormalizer::CholeskyQR2}) {
        INFO(m << "x" << n << " rank " << r << " orth " << int(orth));
        const auto res = lr::randomized_svd(a, r, {.power_iterations = 2, .orthonormalizer = orth});
        REQUIRE(res.info == curvop::Info::Success);
        REQUIRE(res.u.rows() == m);
        REQUIRE(res.u.cols() == r);
        REQUIRE(res.v.rows() == n);
        REQUIRE(res.v.cols() == r);
        // Exact up to rounding: backward error of the products and QRs, inner dimension max(m, n).
        const double tol = ct::apply_tol<S>(double(std::max(m, n)));
        INFO("error " << svd_error(k.a, res) / k.a.norm());
        CHECK(svd_error(k.a, res) <= tol * k.a.norm());
        CHECK(ct::rel_err(res.s.head(6), k.s.head(6)) <= tol);
        CHECK(ct::orthonormality_error(res.u) <= tol);
        CHECK(ct::orthonormality_error(res.v) <= tol);
        // The singular subspaces are the true ones: ‖U_6 U_6ᵀ − U U ᵀ‖ small.
        const Matrix<double> pu = res.u.leftCols(6).template cast<double>() *
                                  res.u.leftCols(6).template cast<double>().transpose();
        CHECK((pu - k.u.leftCols(6) * k.u.leftCols(6).transpose()).norm() <= 10 * tol);
      }
    }
  }
}

TEMPLATE_TEST_CASE("randomized_svd is within (1 + eps) of the optimal rank-r error", "[lowrank]",
                   float, double) {
  using S = TestType;
  // σ_i = 1/(1 + i): a slowly decaying spectrum. With r = 10, l = r + p = 20 and q = 4 power
  // iterations, Gu (2015, Theorem 5.7) bounds the excess squared error of the rank-r truncation by
  // r·C²·σ_{r+1}²·(σ_{l+1}/σ_r)^{4q}, where C is a modest constant with high probability; here
  // (σ_21/σ_10)^16 = (10/21)^16 = 7e-6, so ‖A − Â_r‖_F / ‖A − A_r‖_F − 1 is of order 1e-5·C².
  // We require eps = 1e-3, which also covers float rounding (eps_f·‖A‖_F / ‖A − A_r‖_F ~ 1e-6).
  const auto k = ct::decaying(200, 160, 3);
  const Matrix<S> a = k.a.template cast<S>();
  const Index r = 10;
  const double opt = k.optimal_error(r);
  for (std::uint64_t seed : {0u, 1u, 2u}) {
    const auto res = lr::randomized_svd(a, r, {.oversampling = 10, .power_iterations = 4, .seed = seed});
    const double ratio = svd_error(k.a, res) / opt;
    INFO("seed " << seed << " ratio " << ratio);
    CHECK(ratio >= 1.0 - 1e-6);  // Eckart–Young: nothing beats the truncated SVD
    CHECK(ratio <= 1.0 + 1e-3);
    // Ritz values of the leading singular values converge at the same rate.
    CHECK(ct::rel_err(res.s, k.s.head(r)) <= 1e-3);
    CHECK(ct::orthonormality_error(res.u) <= ct::apply_tol<S>(200));
    CHECK(ct::orthonormality_error(res.v) <= ct::apply_tol<S>(200));
  }
  // Without power iterations the same sketch is measurably worse: the iterations matter.
  const auto plain = lr::randomized_svd(a, r, {.oversampling = 10, .power_iterations = 0});
  CHECK(svd_error(k.a, plain) / opt > 1.0 + 1e-3);
}

TEMPLATE_TEST_CASE("randomized_svd is exact through the blocked products of a large matrix",
                   "[lowrank]", float, double) {
  using S = TestType;
  // 2100 x 700: A·x is formed in row blocks and Aᵀx as (xᵀA)ᵀ (curvop/detail/dense_products.hpp).
  // A rank-6 matrix: exact.
  const Index m = 2100, n = 700;
  const Matrix<double> low = ct::gaussian_matrix<double>(m, 6, 63) *
                             ct::gaussian_matrix<double>(n, 6, 64).transpose();
  const auto res = lr::randomized_svd(Matrix<S>(low.cast<S>()), 6, {.power_iterations = 1});
  REQUIRE(res.info == curvop::Info::Success);
  const double tol = ct::apply_tol<S>(double(m));
  CHECK(svd_error(low, res) <= tol * low.norm());
  CHECK(ct::orthonormality_error(res.u) <= tol);
  CHECK(ct::orthonormality_error(res.v) <= tol);
}

TEMPLATE_TEST_CASE("the small SVD of the Rayleigh-Ritz step matches a dense SVD", "[lowrank]",
                   float, double) {
  using S = TestType;
  // Bᵀ of full rank and of rank 4 < l = 12 (a sketch larger than the rank of A).
  const Index n = 90, l = 12, k = 8;
  for (Index rank : {l, Index(4)}) {
    INFO("rank " << rank);
    const auto known = ct::known_svd(n, l, 81, [&](Index i) {
      return i < rank ? std::pow(0.5, static_cast<double>(i)) : 0.0;
    });
    const Matrix<S> bt = known.a.template cast<S>();
    const Matrix<double> btd = bt.template cast<double>();
    Matrix<S> u_small, v;
    Vector<S> s;
    lr::detail::small_svd(bt, k, u_small, s, v);
    REQUIRE(s.size() == k);
    REQUIRE(u_small.rows() == l);
    REQUIRE(v.rows() == n);
    const double tol = ct::apply_tol<S>(double(n));
    Vector<double> s_ref = Vector<double>::Zero(k);
    const Index top = std::min(k, rank);
    s_ref.head(top) = known.s.head(top);
    CHECK((s.template cast<double>() - s_ref).cwiseAbs().maxCoeff() <= tol);
    CHECK(ct::orthonormality_error(u_small) <= tol);
    CHECK(ct::orthonormality_error(v) <= tol);
    // B = Ũ Σ Vᵀ restricted to the top `top` triplets reproduces the best rank-`top` part of B.
    const Matrix<double> approx = u_small.template cast<double>().leftCols(top) *
                                  s.template cast<double>().head(top).asDiagonal() *
                                  v.template cast<double>().leftCols(top).transpose();
    const Matrix<double> best = known.truncated(top).transpose();
    CHECK((approx - best).norm() <= tol * btd.norm());
  }
}

TEMPLATE_TEST_CASE("randomized_svd is reproducible from its seed", "[lowrank]", float, double) {
  using S = TestType;
  const Matrix<S> a = ct::decaying(90, 70, 5).a.cast<S>();
  const auto r1 = lr::randomized_svd(a, 5, {.seed = 42});
  const auto r2 = lr::randomized_svd(a, 5, {.seed = 42});
  CHECK(r1.u == r2.u);
  CHECK(r1.s == r2.s);
  CHECK(r1.v == r2.v);
  const Matrix<S> q1 = lr::randomized_range_finder(a, 5, {.seed = 42});
  const Matrix<S> q3 = lr::randomized_range_finder(a, 5, {.seed = 43});
  CHECK((q1 - q3).norm() > 1e-2);  // another sketch, another basis
}

TEMPLATE_TEST_CASE("randomized_range_finder returns an orthonormal basis of the range",
                   "[lowrank]", float, double) {
  using S = TestType;
  const auto k = ct::known_svd(100, 60, 9, [](Index i) { return i < 12 ? 1.0 / (1.0 + i) : 0.0; });
  const Matrix<S> a = k.a.template cast<S>();
  const Matrix<S> q = lr::randomized_range_finder(a, 8, {.oversampling = 4, .power_iterations = 1});
  REQUIRE(q.rows() == 100);
  REQUIRE(q.cols() == 12);
  CHECK(ct::orthonormality_error(q) <= ct::apply_tol<S>(100));
  // l = 12 = rank(A): the range is captured exactly, ‖A − QQᵀA‖ at rounding level.
  const Matrix<double> qd = q.template cast<double>();
  CHECK((k.a - qd * (qd.transpose() * k.a)).norm() <= ct::apply_tol<S>(100) * k.a.norm());
  // l is clipped to min(m, n).
  const Matrix<S> full = lr::randomized_range_finder(a, 60, {.oversampling = 10});
  CHECK(full.cols() == 60);
  CHECK(ct::orthonormality_error(full) <= ct::apply_tol<S>(100));
}

TEMPLATE_TEST_CASE("randomized_svd accepts operators with apply_transpose or symmetry",
                   "[lowrank]", float, double) {
  using S = TestType;
  const auto k = ct::decaying(80, 50, 21);
  const Matrix<S> a = k.a.template cast<S>();
  const lr::RandomizedSvdOptions opt{.power_iterations = 3, .seed = 7};
  const auto from_matrix = lr::randomized_svd(a, 6, opt);
  const auto from_dense = lr::randomized_svd(curvop::Dense<S>(a), 6, opt);
  const double tol = ct::apply_tol<S>(80);
  CHECK(ct::rel_err(from_dense.s, from_matrix.s) <= tol);
  CHECK(ct::rel_err(from_dense.u * from_dense.s.asDiagonal() * from_dense.v.transpose(),
                    from_matrix.u * from_matrix.s.asDiagonal() * from_matrix.v.transpose()) <= tol);
  // A symmetric operator known only through apply (a Hessian-vector product, say).
  const Matrix<double> h = k.a.transpose() * k.a;  // 50 x 50, eigenvalues σ_i²
  const Matrix<S> hs = h.cast<S>();
  const auto hvp = curvop::function_operator<S>(
      50, 50, [&](const curvop::ConstRef<S>& x, curvop::MutRef<S> y) { y.noalias() = hs * x; },
      curvop::symmetric);
  const auto eig = lr::randomized_svd(hvp, 5, opt);
  REQUIRE(eig.info == curvop::Info::Success);
  Vector<double> top(5);
  for (Index i = 0; i < 5; ++i) top(i) = k.s(i) * k.s(i);
  CHECK(ct::rel_err(eig.s, top) <= 1e-4);
  // An operator returning NaN is reported through info, not by throwing.
  const auto bad = curvop::function_operator<S>(
      50, 50,
      [](const curvop::ConstRef<S>& x, curvop::MutRef<S> y) {
        y.setConstant(std::numeric_limits<S>::quiet_NaN());
        (void)x;
      },
      curvop::symmetric);
  CHECK(lr::randomized_svd(bad, 5, opt).info == curvop::Info::NumericalIssue);
}

TEMPLATE_TEST_CASE("CholeskyQR2 falls back on rank-deficient blocks and stays orthonormal",
                   "[lowrank]", float, double) {
  using S = TestType;
  // Rank 3 but a sketch of 13 columns: Y = AΩ has 10 null directions, CholQR cannot factor it.
  const auto k = ct::known_svd(60, 40, 4, [](Index i) { return i < 3 ? 3.0 - double(i) : 0.0; });
  const Matrix<S> a = k.a.template cast<S>();
  const Matrix<S> q = lr::randomized_range_finder(a, 3, {.oversampling = 10});
  CHECK(ct::orthonormality_error(q) <= ct::apply_tol<S>(60));
  const Matrix<double> qd = q.template cast<double>();
  CHECK((k.a - qd * (qd.transpose() * k.a)).norm() <= ct::apply_tol<S>(60) * k.a.norm());
  // Both orthonormalisers give the same truncated SVD.
  const auto h = lr::randomized_svd(a, 3, {.orthonormalizer = lr::Orthonormalizer::Householder});
  const auto c = lr::randomized_svd(a, 3, {.orthonormalizer = lr::Orthonormalizer::CholeskyQR2});
  CHECK(ct::rel_err(h.s, c.s) <= ct::apply_tol<S>(60));
}

TEMPLATE_TEST_CASE("subspace_iteration refines a warm start", "[lowrank]", float, double) {
  using S = TestType;
  const auto k = ct::decaying(120, 90, 31);
  const Index r = 8;
  // The true top-r basis of A is a fixed point: zero or more iterations return it.
  const Matrix<S> a = k.a.template cast<S>();
  const Matrix<S> u_true = k.u.leftCols(r).template cast<S>();
  for (Index it : {0, 2}) {
    const auto res = lr::subspace_iteration(a, u_true, it);
    REQUIRE(res.info == curvop::Info::Success);
    CHECK(ct::rel_err(res.s, k.s.head(r)) <= ct::apply_tol<S>(120));
    CHECK(ct::orthonormality_error(res.u) <= ct::apply_tol<S>(120));
  }
  // A drifted matrix A' = A + 0.02·N: from A's basis, iterations reduce the distance to A''s
  // optimal error monotonically in expectation; two steps beat zero steps.
  const Matrix<double> drift = ct::gaussian_matrix<double>(120, 90, 77) * (0.02 / std::sqrt(90.0));
  const Matrix<double> a2 = k.a + drift;
  const Matrix<S> a2s = a2.cast<S>();
  Eigen::JacobiSVD<Matrix<double>> exact(a2);
  const double opt = std::sqrt(exact.singularValues().tail(90 - r).squaredNorm());
  const auto r0 = lr::subspace_iteration(a2s, u_true, 0);
  const auto r3 = lr::subspace_iteration(a2s, u_true, 3);
  const double e0 = svd_error(a2, r0) / opt, e3 = svd_error(a2, r3) / opt;
  INFO("ratio after 0 steps " << e0 << ", after 3 steps " << e3);
  CHECK(e3 < e0);
  CHECK(e3 <= 1.0 + 1e-3);
  // A basis that is not orthonormal is re-orthonormalised first.
  const Matrix<S> skewed = u_true * (Matrix<S>::Identity(r, r) + Matrix<S>::Constant(r, r, S(0.1)));
  const auto rs = lr::subspace_iteration(a, skewed, 0);
  CHECK(ct::rel_err(rs.s, k.s.head(r)) <= 10 * ct::apply_tol<S>(120));
}

TEST_CASE("randomized SVD rejects bad arguments with clear errors", "[lowrank]") {
  const Matrix<double> a = ct::gaussian_matrix<double>(20, 10, 1);
  CHECK_THROWS_AS(lr::randomized_svd(a, 0), std::invalid_argument);
  CHECK_THROWS_AS(lr::randomized_svd(a, 11), std::invalid_argument);
  CHECK_THROWS_AS(lr::randomized_range_finder(a, 11), std::invalid_argument);
  CHECK_THROWS_AS(lr::randomized_svd(a, 3, {.oversampling = -1}), std::invalid_argument);
  CHECK_THROWS_AS(lr::randomized_svd(a, 3, {.power_iterations = -2}), std::invalid_argument);
  try {
    (void)lr::randomized_svd(a, 11);
    FAIL("no exception");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("rank") != std::string::npos);
    CHECK(what.find("11") != std::string::npos);
    CHECK(what.find("10") != std::string::npos);
  }
  Matrix<double> bad = a;
  bad(3, 4) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(lr::randomized_svd(bad, 3), curvop::InvalidInput);
  CHECK_THROWS_AS(lr::randomized_range_finder(bad, 3), curvop::InvalidInput);
  const Matrix<double> q0 = Matrix<double>::Identity(20, 3);
  CHECK_THROWS_AS(lr::subspace_iteration(a, Matrix<double>(Matrix<double>::Identity(19, 3)), 1),
                  curvop::DimensionMismatch);
  CHECK_THROWS_AS(lr::subspace_iteration(a, q0, -1), std::invalid_argument);
  CHECK_THROWS_AS(lr::subspace_iteration(a, Matrix<double>(Matrix<double>::Identity(20, 11)), 1),
                  std::invalid_argument);
  CHECK_THROWS_AS(lr::subspace_iteration(bad, q0, 1), curvop::InvalidInput);
  STATIC_REQUIRE(lr::SketchableOperator<curvop::Dense<double>>);
  STATIC_REQUIRE_FALSE(lr::SketchableOperator<Matrix<double>>);
}
