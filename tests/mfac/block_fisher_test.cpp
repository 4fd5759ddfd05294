// SPDX-License-Identifier: MIT
// mfac::BlockFisher against the dense block-diagonal Fisher, and OBS pruning (obs_scores,
// obs_prune) against a dense Optimal-Brain-Surgeon computation.
#include <curvop/functions.hpp>
#include <curvop/mfac/block_fisher.hpp>
#include <curvop/mfac/empirical_fisher.hpp>
#include <curvop/mfac/pruning.hpp>

#include "mfac/support/dense_fisher.hpp"
#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
using curvop::mfac::BlockFisher;
using curvop::mfac::EmpiricalFisher;
namespace ct = curvop::test;

namespace {
/// blockdiag of λI + G_b G_bᵀ/m over contiguous row blocks of size b.
Matrix<double> dense_block_fisher(const Matrix<double>& g, double lam, Index b) {
  const Index d = g.rows();
  Matrix<double> f = Matrix<double>::Zero(d, d);
  for (Index r0 = 0; r0 < d; r0 += b) {
    const Index n = std::min(b, d - r0);
    f.block(r0, r0, n, n) = ct::dense_fisher(g.middleRows(r0, n), lam);
  }
  return f;
}
}  // namespace

TEMPLATE_TEST_CASE("BlockFisher matches the dense block-diagonal Fisher", "[mfac]", float, double) {
  using S = TestType;
  // Blocks larger than m (Woodbury), smaller than m (explicit inverse), a short last block, one
  // block covering everything, and blocks of one coordinate.
  for (const auto& [d, m, b] : {std::tuple<Index, Index, Index>{70, 6, 16}, {45, 12, 8},
                                {30, 4, 30}, {30, 4, 100}, {9, 3, 1}, {50, 10, 10}}) {
    const double lam = 0.1;
    const Matrix<S> g = ct::gaussian_matrix<S>(d, m, 100 + static_cast<std::uint64_t>(d + b));
    const BlockFisher<S> op(g, static_cast<S>(lam), b);
    REQUIRE(op.info() == curvop::Info::Success);
    REQUIRE(op.blocks() == (d + b - 1) / b);
    const Matrix<double> f = dense_block_fisher(g.template cast<double>(), lam, b);
    const double kappa = ct::spd_condition(f);
    const double tol = ct::inverse_tol<S>(double(std::min(d, b) + m), kappa);
    INFO("d=" << d << " m=" << m << " B=" << b << " kappa=" << kappa);
    Matrix<S> x(d, 3);
    x.leftCols(2) = ct::gaussian_matrix<S>(d, 2, 7);
    x.col(2) = g.col(0);
    const Matrix<double> xd = x.template cast<double>();
    CHECK(ct::rel_err(curvop::apply(op, x), f * xd) <= tol);
    const Matrix<double> ref = ct::dense_solve(f, x);
    const Matrix<S> y = curvop::apply_inverse(op, x);
    CHECK(ct::rel_err(xd / lam - y.template cast<double>(), xd / lam - ref) <= tol);
    const Matrix<double> finv = f.inverse();
    CHECK(ct::rel_err(op.diagonal(), f.diagonal()) <= ct::apply_tol<S>(double(m)));
    CHECK(ct::rel_err(op.inverse_diagonal(), finv.diagonal()) <= tol);
    for (Index i = 0; i < d; i += 3) {
      for (Index j = 0; j < d; j += 4) {
        CHECK(std::abs(static_cast<double>(op.inverse_entry(i, j)) - finv(i, j)) <=
              tol * finv.diagonal().maxCoeff());
      }
    }
  }
}

TEST_CASE("BlockFisher rejects bad input", "[mfac]") {
  const Matrix<double> g = ct::gaussian_matrix<double>(10, 3, 1);
  CHECK_THROWS_AS(BlockFisher<double>(g, 1.0, 0), std::invalid_argument);
  CHECK_THROWS_AS(BlockFisher<double>(g, 1.0, -4), std::invalid_argument);
  CHECK_THROWS_AS(BlockFisher<double>(g, 0.0, 4), std::invalid_argument);
  CHECK_THROWS_AS(BlockFisher<double>(Matrix<double>(10, 0), 1.0, 4), std::invalid_argument);
  try {
    BlockFisher<double> f(g, 1.0, 0);
    FAIL("no throw");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("block_size") != std::string::npos);
  }
  Matrix<double> bad = g;
  bad(9, 2) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(BlockFisher<double>(bad, 1.0, 4), curvop::InvalidInput);
  const BlockFisher<double> op(g, 1.0, 4);
  Matrix<double> x(11, 1), y(10, 1);
  x.setOnes();
  CHECK_THROWS_AS(op.apply_inverse(x, y), curvop::AssertionError);
}

namespace {
/// Dense OBS: scores w²/(2 [F⁻¹]_kk), prune the `count` lowest (ties by index), w + F⁻¹e.
struct DenseObs {
  Vector<double> w;
  Eigen::Array<bool, Eigen::Dynamic, 1> mask;
  Vector<double> scores;
};
DenseObs dense_obs(const Matrix<double>& f, const Vector<double>& w, Index count) {
  const Matrix<double> finv = f.inverse();
  const Index d = w.size();
  DenseObs r;
  r.scores = (w.array().square() / (2.0 * finv.diagonal().array())).matrix();
  std::vector<Index> idx(static_cast<std::size_t>(d));
  for (Index i = 0; i < d; ++i) idx[static_cast<std::size_t>(i)] = i;
  std::stable_sort(idx.begin(), idx.end(),
                   [&](Index a, Index b) { return r.scores(a) < r.scores(b); });
  r.mask = Eigen::Array<bool, Eigen::Dynamic, 1>::Zero(d);
  Vector<double> e = Vector<double>::Zero(d);
  for (Index t = 0; t < count; ++t) {
    const Index k = idx[static_cast<std::size_t>(t)];
    r.mask(k) = true;
    e(k) = -w(k) / finv(k, k);
  }
  r.w = w + finv * e;
  for (Index k = 0; k < d; ++k)
    if (r.mask(k)) r.w(k) = 0;
  return r;
}
}  // namespace

TEMPLATE_TEST_CASE("obs_prune matches a dense Optimal-Brain-Surgeon step", "[mfac]", float,
                   double) {
  using S = TestType;
  const Index d = 40, m = 10;
  const double lam = 0.2;
  const Matrix<S> g = ct::gaussian_matrix<S>(d, m, 21);
  const Vector<S> w0 = ct::gaussian_matrix<S>(d, 1, 22);
  const EmpiricalFisher<S> full(g, static_cast<S>(lam));
  const BlockFisher<S> blocked(g, static_cast<S>(lam), 16);
  const Matrix<double> f_full = ct::dense_fisher(g, lam);
  const Matrix<double> f_block = dense_block_fisher(g.template cast<double>(), lam, 16);
  auto check = [&](const auto& op, const Matrix<double>& f) {
    const double tol = ct::inverse_tol<S>(double(d), ct::spd_condition(f));
    for (Index count : {Index(0), Index(1), Index(10), Index(30), d}) {
      INFO("count " << count);
      const DenseObs ref = dense_obs(f, w0.template cast<double>(), count);
      CHECK(ct::rel_err(curvop::mfac::obs_scores(op, w0), ref.scores) <= tol);
      Vector<S> w = w0;
      const auto mask = curvop::mfac::obs_prune(op, w, count);
      CHECK(mask.count() == count);
      CHECK((mask == ref.mask).all());
      CHECK(ct::rel_err(w, ref.w) <= tol);
      for (Index k = 0; k < d; ++k)
        if (mask(k)) CHECK(w(k) == S(0));
    }
  };
  check(full, f_full);
  check(blocked, f_block);

  // count = 1 is exact OBS: the pruned weight lands on zero by itself, and the quadratic model's
  // increase ½δᵀFδ equals the score.
  Vector<S> w = w0;
  const Vector<S> scores = curvop::mfac::obs_scores(full, w0);
  Index k;
  scores.minCoeff(&k);
  const auto mask = curvop::mfac::obs_prune(full, w, 1);
  REQUIRE(mask(k));
  const Vector<double> delta = (w - w0).template cast<double>();
  const double increase = 0.5 * delta.dot(f_full * delta);
  CHECK_THAT(increase, Catch::Matchers::WithinRel(static_cast<double>(scores(k)),
                                                  ct::inverse_tol<S>(double(d), ct::spd_condition(f_full))));
}

TEST_CASE("obs_prune rejects bad input", "[mfac]") {
  const Matrix<double> g = ct::gaussian_matrix<double>(10, 3, 1);
  const EmpiricalFisher<double> op(g, 1.0);
  Vector<double> w = Vector<double>::Ones(10), w_short = Vector<double>::Ones(9);
  CHECK_THROWS_AS(curvop::mfac::obs_prune(op, w_short, 2), curvop::DimensionMismatch);
  CHECK_THROWS_AS(curvop::mfac::obs_scores(op, w_short), curvop::DimensionMismatch);
  CHECK_THROWS_AS(curvop::mfac::obs_prune(op, w, 11), std::invalid_argument);
  CHECK_THROWS_AS(curvop::mfac::obs_prune(op, w, -1), std::invalid_argument);
  CHECK((w.array() == 1.0).all());
}
