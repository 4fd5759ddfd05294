// SPDX-License-Identifier: MIT
// mfac::SlidingWindowFisher against the dense λI + GGᵀ/n of the gradients it holds, against a
// freshly built EmpiricalFisher after each of 10⁴ pushes (the drift of the in-place updates), its
// 16-bit storage, and its bad-input rules.
#include <curvop/functions.hpp>
#include <curvop/mfac/empirical_fisher.hpp>
#include <curvop/mfac/sliding_window.hpp>
#include <deque>

#include "mfac/support/dense_fisher.hpp"
#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
using curvop::Vector;
using curvop::mfac::EmpiricalFisher;
using curvop::mfac::SlidingWindowFisher;
using curvop::mfac::WindowOptions;
namespace ct = curvop::test;

namespace {
template <class S>
Matrix<S> held(const std::deque<Vector<S>>& win) {
  Matrix<S> g(win.front().size(), static_cast<Index>(win.size()));
  for (std::size_t j = 0; j < win.size(); ++j) g.col(static_cast<Index>(j)) = win[j];
  return g;
}
}  // namespace

TEMPLATE_TEST_CASE("SlidingWindowFisher equals the dense Fisher of its window at every push",
                   "[mfac]", float, double) {
  using S = TestType;
  for (const auto& [d, cap, lam] : {std::tuple<Index, Index, double>{30, 6, 0.1},
                                    {10, 16, 0.05}, {25, 1, 0.5}}) {
    SlidingWindowFisher<S> op(d, cap, static_cast<S>(lam));
    REQUIRE(op.size() == 0);
    REQUIRE(op.capacity() == cap);
    std::deque<Vector<S>> win;
    const Matrix<S> gs = ct::gaussian_matrix<S>(d, 3 * cap + 2, 77 + static_cast<std::uint64_t>(d));
    const Matrix<S> x = ct::gaussian_matrix<S>(d, 2, 78);
    // Empty window: F = λI.
    CHECK(ct::rel_err(curvop::apply_inverse(op, x), x / static_cast<S>(lam)) <= ct::apply_tol<S>(1));
    for (Index t = 0; t < gs.cols(); ++t) {
      const Vector<S> g = gs.col(t);
      win.push_back(g);
      if (static_cast<Index>(win.size()) > cap) win.pop_front();
      Vector<S> y(d);
      if (t % 2 == 0) {
        REQUIRE(op.push_and_apply_inverse(g, y) == Info::Success);
      } else {
        REQUIRE(op.push(g) == Info::Success);
        op.apply_inverse(g, y);
      }
      REQUIRE(op.size() == static_cast<Index>(win.size()));
      const Matrix<S> gw = held(win);
      const Matrix<double> f = ct::dense_fisher(gw, static_cast<S>(lam));  // normalised by n
      const double kappa = ct::spd_condition(f);
      const double tol = ct::inverse_tol<S>(double(d + cap), kappa);
      INFO("d=" << d << " cap=" << cap << " t=" << t << " kappa=" << kappa);
      // F⁻¹g for the gradient just pushed (inside the span: the hard case), via its correction.
      const Vector<double> ref = ct::dense_solve(f, g);
      const Vector<double> gd = g.template cast<double>();
      CHECK(ct::rel_err(gd / lam - y.template cast<double>(), gd / lam - ref) <= tol);
      const Matrix<S> yx = curvop::apply_inverse(op, x);
      const Matrix<double> rx = ct::dense_solve(f, x);
      const Matrix<double> xd = x.template cast<double>();
      CHECK(ct::rel_err(xd / lam - yx.template cast<double>(), xd / lam - rx) <= tol);
      CHECK(ct::rel_err(curvop::apply(op, x), f * xd) <= ct::apply_tol<S>(double(d + cap)));
      CHECK(ct::rel_err(op.diagonal(), f.diagonal()) <= ct::apply_tol<S>(double(cap)));
      for (Index i = 0; i < op.size(); ++i) CHECK(op.gradient(i) == win[static_cast<std::size_t>(i)]);
    }
  }
}

TEMPLATE_TEST_CASE("SlidingWindowFisher stays equal to a fresh EmpiricalFisher over 10^4 pushes",
                   "[mfac]", float, double) {
  // The in-place O(m²) updates of the Cholesky factor (drop the oldest, append the newest)
  // accumulate rounding; a refactorisation every `refresh_every` pushes bounds it. Checked with
  // the default period (m) and with refreshing switched off (10⁹), which shows the updates alone
  // are stable: the error after 10⁴ pushes stays at the level of a fresh factorisation.
  using S = TestType;
  const Index d = 24, cap = 8, pushes = 10000;
  const S lam = S(0.05);
  for (Index refresh : {Index(0), Index(1000000000)}) {
    SlidingWindowFisher<S> op(d, cap, lam, WindowOptions{.refresh_every = refresh});
    std::deque<Vector<S>> win;
    const Matrix<S> x = ct::gaussian_matrix<S>(d, 1, 5);
    double worst = 0, worst_fresh = 0;
    for (Index t = 0; t < pushes; ++t) {
      // Gradients of varying scale (a factor 10 up and down) stress the updates.
      const double scale = std::pow(10.0, std::sin(0.37 * static_cast<double>(t)));
      const Vector<S> g = (ct::gaussian_matrix<double>(d, 1, 1000 + static_cast<std::uint64_t>(t)) *
                           scale).template cast<S>();
      win.push_back(g);
      if (static_cast<Index>(win.size()) > cap) win.pop_front();
      REQUIRE(op.push(g) == Info::Success);
      if (t % 7 != 0 && t < pushes - 50) continue;
      const EmpiricalFisher<S> fresh(held(win), lam);
      const Vector<S> yw = curvop::apply_inverse(op, x);
      const Vector<S> yf = curvop::apply_inverse(fresh, x);
      const Matrix<double> f = ct::dense_fisher(held(win), lam);
      const Vector<double> ref = ct::dense_solve(f, x);
      const Vector<double> xd = x.template cast<double>() / static_cast<double>(lam);
      worst = std::max(worst, ct::rel_err(xd - yw.template cast<double>(), xd - ref) /
                                  ct::spd_condition(f));
      worst_fresh = std::max(worst_fresh, ct::rel_err(xd - yf.template cast<double>(), xd - ref) /
                                              ct::spd_condition(f));
    }
    INFO("refresh=" << refresh << " worst err/kappa: window " << worst << ", fresh " << worst_fresh);
    CHECK(worst <= ct::inverse_tol<S>(double(d + cap), 1.0));
    // No drift: the window is as accurate as a factorisation from scratch, up to a factor 10.
    CHECK(worst <= 10.0 * std::max(worst_fresh, ct::eps<S>()));
  }
}

TEMPLATE_TEST_CASE("16-bit window storage is the operator of the rounded gradients", "[mfac]",
                   Eigen::bfloat16, Eigen::half) {
  using T = TestType;
  const Index d = 400, cap = 8;
  const float lam = 0.05f;
  SlidingWindowFisher<float, T> low(d, cap, lam);
  SlidingWindowFisher<float> full(d, cap, lam);
  const Matrix<float> gs = ct::gaussian_matrix<float>(d, 12, 31);
  const Matrix<float> x = ct::gaussian_matrix<float>(d, 1, 32);
  double worst_vs_float = 0, worst_kappa = 0;
  for (Index t = 0; t < gs.cols(); ++t) {
    Vector<float> y16(d), y32(d);
    REQUIRE(low.push_and_apply_inverse(gs.col(t), y16) == Info::Success);
    REQUIRE(full.push_and_apply_inverse(gs.col(t), y32) == Info::Success);
    // The window holds exactly the rounded gradients.
    const Vector<float> rounded = gs.col(t).template cast<T>().template cast<float>();
    REQUIRE(low.gradient(low.size() - 1) == rounded);
    Matrix<float> gr(d, low.size());
    for (Index i = 0; i < low.size(); ++i) gr.col(i) = low.gradient(i);
    const Matrix<double> f = ct::dense_fisher(gr, lam);
    const double kappa = ct::spd_condition(f);
    const double tol = ct::inverse_tol<float>(double(d + cap), kappa);
    const Vector<double> gd = rounded.template cast<double>();
    // push_and_apply_inverse preconditions the stored (rounded) gradient.
    CHECK(ct::rel_err(gd / lam - y16.template cast<double>(), gd / lam - ct::dense_solve(f, gd)) <=
          tol);
    worst_kappa = std::max(worst_kappa, kappa);
    const Vector<float> yx = curvop::apply_inverse(low, x);
    const Vector<double> xd = x.template cast<double>();
    CHECK(ct::rel_err(xd / lam - yx.template cast<double>(), xd / lam - ct::dense_solve(f, x)) <=
          tol);
    worst_vs_float = std::max(worst_vs_float, ct::rel_err(y16, y32));
  }
  // Against float storage: each gradient entry moves by at most u = 2⁻⁹ (bfloat16) or 2⁻¹²
  // (half) relative, so the preconditioned step moves by at most about 2κ·u relative (first-order
  // perturbation of F⁻¹ĝ with ĝ in the window's span).
  const double u = std::is_same_v<T, Eigen::bfloat16> ? 0x1p-9 : 0x1p-12;
  INFO("step rel. difference to float storage " << worst_vs_float << ", kappa " << worst_kappa);
  CHECK(worst_vs_float <= 2.0 * worst_kappa * u);
  CHECK(worst_vs_float > 0.0);
}

TEMPLATE_TEST_CASE("SlidingWindowFisher set_damping and reset", "[mfac]", float, double) {
  using S = TestType;
  const Index d = 20, cap = 5;
  SlidingWindowFisher<S> a(d, cap, S(0.1)), b(d, cap, S(0.3));
  const Matrix<S> gs = ct::gaussian_matrix<S>(d, 7, 3);
  for (Index t = 0; t < 7; ++t) {
    REQUIRE(a.push(gs.col(t)) == Info::Success);
    REQUIRE(b.push(gs.col(t)) == Info::Success);
  }
  REQUIRE(a.set_damping(S(0.3)) == Info::Success);
  CHECK(a.damping() == S(0.3));
  const Matrix<S> x = ct::gaussian_matrix<S>(d, 2, 4);
  const Matrix<double> f = ct::dense_fisher(gs.rightCols(cap), 0.3);
  const Matrix<double> ref = ct::dense_solve(f, x);
  const Matrix<double> xd = x.template cast<double>() / 0.3;
  const double tol = ct::inverse_tol<S>(double(d + cap), ct::spd_condition(f));
  CHECK(ct::rel_err(xd - curvop::apply_inverse(a, x).template cast<double>(), xd - ref) <= tol);
  CHECK(ct::rel_err(curvop::apply_inverse(a, x), curvop::apply_inverse(b, x)) <= tol);
  a.reset();
  CHECK(a.size() == 0);
  CHECK(a.capacity() == cap);
  CHECK(ct::rel_err(curvop::apply_inverse(a, x), x / S(0.3)) <= ct::apply_tol<S>(1));
  REQUIRE(a.push(gs.col(0)) == Info::Success);
  const Matrix<double> f1 = ct::dense_fisher(gs.leftCols(1), 0.3);
  CHECK(ct::rel_err(curvop::apply(a, x), f1 * x.template cast<double>()) <= ct::apply_tol<S>(d));
}

TEST_CASE("SlidingWindowFisher rejects bad input and leaves the window unchanged", "[mfac]") {
  using S = double;
  CHECK_THROWS_AS(SlidingWindowFisher<S>(10, 0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(SlidingWindowFisher<S>(0, 3, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(SlidingWindowFisher<S>(10, 3, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(SlidingWindowFisher<S>(10, 3, -1e-5), std::invalid_argument);
  CHECK_THROWS_AS(SlidingWindowFisher<S>(10, 3, 1.0, WindowOptions{.refresh_every = -1}),
                  std::invalid_argument);
  try {
    SlidingWindowFisher<S> w(10, 0, 1.0);
    FAIL("no throw");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("capacity") != std::string::npos);
  }

  const Index d = 12, cap = 4;
  SlidingWindowFisher<S, Eigen::bfloat16> op(d, cap, 0.2);
  const Matrix<S> gs = ct::gaussian_matrix<S>(d, 6, 8);
  for (Index t = 0; t < 6; ++t) REQUIRE(op.push(gs.col(t)) == Info::Success);
  const Matrix<S> x = ct::gaussian_matrix<S>(d, 1, 9);
  const Matrix<S> before = curvop::apply_inverse(op, x);
  std::vector<Vector<S>> grads_before;
  for (Index i = 0; i < op.size(); ++i) grads_before.push_back(op.gradient(i));
  auto unchanged = [&] {
    REQUIRE(op.size() == cap);
    for (Index i = 0; i < op.size(); ++i) CHECK(op.gradient(i) == grads_before[static_cast<std::size_t>(i)]);
    CHECK(curvop::apply_inverse(op, x) == before);
    CHECK(op.damping() == 0.2);
  };
  for (double bad : {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    Vector<S> g = gs.col(0);
    g(d - 1) = bad;
    CHECK_THROWS_AS((void)op.push(g), curvop::InvalidInput);
    unchanged();
    Vector<S> y = Vector<S>::Constant(d, 7.0);
    CHECK_THROWS_AS((void)op.push_and_apply_inverse(g, y), curvop::InvalidInput);
    CHECK((y.array() == 7.0).all());
    unchanged();
  }
  CHECK_THROWS_AS((void)op.push(Vector<S>::Ones(d + 1)), curvop::DimensionMismatch);
  unchanged();
  Vector<S> y_short(d - 1);
  CHECK_THROWS_AS((void)op.push_and_apply_inverse(gs.col(0), y_short), curvop::DimensionMismatch);
  unchanged();
  CHECK_THROWS_AS((void)op.set_damping(0.0), std::invalid_argument);
  CHECK_THROWS_AS((void)op.set_damping(std::numeric_limits<double>::quiet_NaN()),
                  std::invalid_argument);
  unchanged();
  Matrix<S> y_bad(d, 2);
  CHECK_THROWS_AS(op.apply_inverse(x, y_bad), curvop::AssertionError);
  CHECK_THROWS_AS(op.gradient(cap), curvop::AssertionError);
}

TEST_CASE("SlidingWindowFisher models the operator concepts", "[mfac]") {
  STATIC_REQUIRE(curvop::InvertibleOperator<SlidingWindowFisher<float, Eigen::bfloat16>>);
  STATIC_REQUIRE(curvop::DiagonalExtractable<SlidingWindowFisher<double>>);
  STATIC_REQUIRE(curvop::is_symmetric_v<SlidingWindowFisher<float, Eigen::half>>);
}

TEMPLATE_TEST_CASE("SlidingWindowFisher assign equals pushing the same gradients", "[mfac]",
                   float, Eigen::bfloat16) {
  using T = TestType;
  const Index d = 50, cap = 6;
  const Matrix<float> gs = ct::gaussian_matrix<float>(d, 4, 12);
  SlidingWindowFisher<float, T> a(d, cap, 0.1f), b(d, cap, 0.1f);
  for (Index t = 0; t < 4; ++t) REQUIRE(a.push(gs.col(t)) == Info::Success);
  REQUIRE(b.assign(gs) == Info::Success);
  REQUIRE(b.size() == 4);
  for (Index i = 0; i < 4; ++i) CHECK(a.gradient(i) == b.gradient(i));
  const Matrix<float> x = ct::gaussian_matrix<float>(d, 2, 13);
  Matrix<double> f(d, 4);
  for (Index i = 0; i < 4; ++i) f.col(i) = b.gradient(i).template cast<double>();
  const double tol = ct::inverse_tol<float>(double(d + cap), ct::spd_condition(ct::dense_fisher(f, 0.1)));
  CHECK(ct::rel_err(curvop::apply_inverse(a, x), curvop::apply_inverse(b, x)) <= tol);
  // Then it keeps sliding like any window.
  REQUIRE(b.push(gs.col(0)) == Info::Success);
  REQUIRE(b.push(gs.col(1)) == Info::Success);
  REQUIRE(b.push(gs.col(2)) == Info::Success);
  CHECK(b.size() == cap);
  CHECK(b.gradient(0) == a.gradient(1));
  CHECK_THROWS_AS((void)b.assign(ct::gaussian_matrix<float>(d, cap + 1, 1)), curvop::DimensionMismatch);
  CHECK(b.size() == cap);
}
