// SPDX-License-Identifier: MIT
// nearest_kronecker against a dense SVD of the Van Loan rearrangement, the one-step identity with
// Shampoo's statistics, exact Kronecker products, and bad input.
#include <curvop/operators/dense.hpp>
#include <curvop/shampoo.hpp>

#include <Eigen/Eigenvalues>
#include <limits>
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

/// Gradients G = A Z B with fixed A (rows x rows), B (cols x cols) plus noise: H is close to, but
/// not exactly, a Kronecker product, and ℛ(H) has a clear gap after its top singular value.
template <class S>
std::vector<Matrix<S>> samples(Index rows, Index cols, int n, std::uint64_t seed) {
  const Matrix<double> a = ct::spd_matrix<double>(rows, seed, 0.5, 3.0);
  const Matrix<double> b = ct::spd_matrix<double>(cols, seed + 1, 0.2, 2.0);
  std::vector<Matrix<S>> gs;
  for (int s = 0; s < n; ++s) {
    const Matrix<double> z = ct::gaussian_matrix<double>(rows, cols, seed + 10 + std::uint64_t(s));
    const Matrix<double> noise = ct::gaussian_matrix<double>(rows, cols, seed + 500 + std::uint64_t(s));
    gs.push_back((a * z * b + 0.3 * noise).cast<S>());
  }
  return gs;
}

Matrix<double> dense_h(const std::vector<Matrix<double>>& gs) {
  const Index d = gs[0].size();
  Matrix<double> h = Matrix<double>::Zero(d, d);
  for (const auto& g : gs) h += g.reshaped() * g.reshaped().transpose();
  return h / double(gs.size());
}

/// Top singular triple of ℛ through the eigendecomposition of ℛᵀℛ (dense, double).
struct Top {
  Matrix<double> left, right;
  double sigma;
};
Top dense_top(const Matrix<double>& rh, Index rows, Index cols) {
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(rh.transpose() * rh);
  const Vector<double> v = es.eigenvectors().col(es.eigenvectors().cols() - 1);
  const double sigma = std::sqrt(es.eigenvalues()(es.eigenvalues().size() - 1));
  Matrix<double> l = v.reshaped(rows, rows);
  Matrix<double> r = (rh * v / sigma).reshaped(cols, cols);
  if (l.trace() < 0) l = -l;
  if (r.trace() < 0) r = -r;
  return {l, r, sigma};
}

template <class S>
std::vector<Matrix<double>> to_double(const std::vector<Matrix<S>>& gs) {
  std::vector<Matrix<double>> out;
  for (const auto& g : gs) out.push_back(g.template cast<double>());
  return out;
}

}  // namespace

TEST_CASE("van_loan_rearrangement maps R ⊗ L to vec(R) vec(L)ᵀ", "[shampoo][kronecker]") {
  const Matrix<double> l = ct::gaussian_matrix<double>(3, 3, 1);
  const Matrix<double> r = ct::gaussian_matrix<double>(4, 4, 2);
  Matrix<double> k(12, 12);
  for (Index j = 0; j < 4; ++j)
    for (Index j2 = 0; j2 < 4; ++j2) k.block(3 * j, 3 * j2, 3, 3) = r(j, j2) * l;
  const Matrix<double> rh = cs::van_loan_rearrangement<double>(k, 3, 4);
  CHECK(ct::rel_err(rh, Matrix<double>(r.reshaped() * l.reshaped().transpose())) <= 1e-15);
  CHECK_THAT(rh.norm(), Catch::Matchers::WithinRel(k.norm(), 1e-14));
  CHECK_THROWS_AS(cs::van_loan_rearrangement<double>(k, 3, 3), curvop::DimensionMismatch);
}

TEMPLATE_TEST_CASE("one step from the identity reproduces Shampoo's L and R", "[shampoo][kronecker]",
                   float, double) {
  using S = TestType;
  const Index rows = 5, cols = 4;
  const auto gs = samples<S>(rows, cols, 9, 10);
  const auto k1 = cs::nearest_kronecker<S>(gs, cs::KroneckerOptions{.max_iterations = 1,
                                                                    .tolerance = 0.0});
  CHECK(k1.info == Info::Success);
  CHECK(k1.iterations == 1);
  cs::Shampoo<S> sh(rows, cols);
  for (const auto& g : gs) sh.update(g);
  const Matrix<S> l = sh.left_statistic(0), r = sh.right_statistic(0);
  CHECK(ct::rel_err(k1.left, Matrix<S>(l / l.norm())) <= ct::apply_tol<S>(9 * cols));
  CHECK(ct::rel_err(k1.right, Matrix<S>(r / r.norm())) <= ct::apply_tol<S>(9 * rows));
  // σ is the least-squares scale of L ⊗ R: ⟨H, R̂ ⊗ L̂⟩ computed densely.
  const Matrix<double> h = dense_h(to_double(gs));
  const Matrix<double> rl = cs::van_loan_rearrangement<double>(h, rows, cols);
  const double sigma = k1.right.template cast<double>().reshaped().dot(
      rl * k1.left.template cast<double>().reshaped());
  CHECK_THAT(k1.sigma, Catch::Matchers::WithinRel(sigma, 100 * ct::eps<S>()));
}

TEMPLATE_TEST_CASE("power iteration converges to the dense SVD of the rearrangement",
                   "[shampoo][kronecker]", float, double) {
  using S = TestType;
  const Index rows = 6, cols = 4;
  const auto gs = samples<S>(rows, cols, 12, 20);
  const Matrix<double> h = dense_h(to_double(gs));
  const Matrix<double> rh = cs::van_loan_rearrangement<double>(h, rows, cols);
  const Top top = dense_top(rh, rows, cols);
  const double tol = std::is_same_v<S, float> ? 1e-5 : 1e-12;
  const auto k = cs::nearest_kronecker<S>(gs, cs::KroneckerOptions{.max_iterations = 500,
                                                                   .tolerance = tol});
  INFO("iterations " << k.iterations << ", sigma " << k.sigma << " vs " << top.sigma);
  CHECK(k.info == Info::Success);
  CHECK(k.iterations > 2);
  // Singular vectors are accurate to the stopping tolerance plus round-off of the products.
  const double vtol = 10 * tol + ct::apply_tol<S>(12 * rows * cols);
  CHECK(ct::rel_err(k.left, top.left) <= vtol);
  CHECK(ct::rel_err(k.right, top.right) <= vtol);
  CHECK_THAT(k.sigma, Catch::Matchers::WithinRel(top.sigma, vtol));
  // The reported error equals the dense ‖H − σ R̂ ⊗ L̂‖_F / ‖H‖_F.
  Matrix<double> approx(rows * cols, rows * cols);
  const Matrix<double> ld = k.left.template cast<double>(), rd = k.right.template cast<double>();
  for (Index j = 0; j < cols; ++j)
    for (Index j2 = 0; j2 < cols; ++j2)
      approx.block(rows * j, rows * j2, rows, rows) = k.sigma * rd(j, j2) * ld;
  const double err = (h - approx).norm() / h.norm();
  CHECK_THAT(k.relative_error, Catch::Matchers::WithinRel(err, std::sqrt(vtol)));
  // The one-step (Shampoo²) approximation is worse than the converged one, never better.
  const auto k1 = cs::nearest_kronecker<S>(gs, cs::KroneckerOptions{.max_iterations = 1,
                                                                    .tolerance = 0});
  CHECK(k1.relative_error >= k.relative_error - vtol);
  // The operator form gives the same answer.
  const curvop::Dense<S> op(h.cast<S>());
  const auto ko = cs::nearest_kronecker(op, rows, cols, cs::KroneckerOptions{.max_iterations = 500,
                                                                             .tolerance = tol});
  CHECK(ct::rel_err(ko.left, top.left) <= vtol);
  CHECK(ct::rel_err(ko.right, top.right) <= vtol);
  CHECK_THAT(ko.relative_error, Catch::Matchers::WithinRel(err, std::sqrt(vtol)));
}

TEMPLATE_TEST_CASE("an exact Kronecker product is recovered exactly", "[shampoo][kronecker]", float,
                   double) {
  using S = TestType;
  const Index rows = 4, cols = 3;
  const Matrix<double> l0 = ct::spd_matrix<double>(rows, 3, 0.1, 5.0);
  const Matrix<double> r0 = ct::spd_matrix<double>(cols, 4, 1.0, 2.0);
  Matrix<double> k(rows * cols, rows * cols);
  for (Index j = 0; j < cols; ++j)
    for (Index j2 = 0; j2 < cols; ++j2) k.block(rows * j, rows * j2, rows, rows) = r0(j, j2) * l0;
  const curvop::Dense<S> op(k.cast<S>());
  const auto a = cs::nearest_kronecker(op, rows, cols);
  CHECK(a.info == Info::Success);
  CHECK(ct::rel_err(a.left, Matrix<double>(l0 / l0.norm())) <= ct::apply_tol<S>(rows * cols));
  CHECK(ct::rel_err(a.right, Matrix<double>(r0 / r0.norm())) <= ct::apply_tol<S>(rows * cols));
  CHECK_THAT(a.sigma, Catch::Matchers::WithinRel(l0.norm() * r0.norm(), 10 * ct::eps<S>()));
  CHECK(a.relative_error <= std::sqrt(ct::apply_tol<S>(rows * cols)));
}

TEMPLATE_TEST_CASE("nearest_kronecker rejects bad input", "[shampoo][kronecker]", float, double) {
  using S = TestType;
  std::vector<Matrix<S>> gs = samples<S>(3, 2, 3, 1);
  CHECK_THROWS_AS(cs::nearest_kronecker<S>(std::vector<Matrix<S>>{}), std::invalid_argument);
  auto bad = gs;
  bad[1] = Matrix<S>::Zero(2, 3);
  CHECK_THROWS_AS(cs::nearest_kronecker<S>(bad), curvop::DimensionMismatch);
  bad = gs;
  bad[2](1, 1) = std::numeric_limits<S>::quiet_NaN();
  CHECK_THROWS_AS(cs::nearest_kronecker<S>(bad), curvop::InvalidInput);
  using curvop::test::contains_text;
  CHECK_THROWS_WITH(cs::nearest_kronecker<S>(gs, {.max_iterations = 0}),
                    contains_text("max_iterations"));
  CHECK_THROWS_WITH(cs::nearest_kronecker<S>(gs, {.tolerance = -1.0}), contains_text("tolerance"));
  const curvop::Dense<S> op(Matrix<S>::Identity(5, 5));
  CHECK_THROWS_AS(cs::nearest_kronecker(op, 3, 2), curvop::DimensionMismatch);
  // The zero curvature: σ = 0 and a zero error, no NaN.
  const auto z = cs::nearest_kronecker<S>(std::vector<Matrix<S>>{Matrix<S>::Zero(3, 2)});
  CHECK(z.sigma == 0.0);
  CHECK(z.left.allFinite());
  CHECK(z.right.allFinite());
  CHECK(z.relative_error == 0.0);
}
