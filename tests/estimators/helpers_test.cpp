// SPDX-License-Identifier: MIT
// Finite-difference Hessian-vector products against an analytic Hessian, and the
// diagonal-curvature helpers (AdaHessian averaging and RMS denominator, Sophia clipping) against
// their formulas written out by hand.
#include <curvop/estimators/diagonal_curvature.hpp>
#include <curvop/estimators/finite_difference.hpp>
#include <curvop/estimators/trace.hpp>
#include <curvop/functions.hpp>
#include <limits>

#include "estimators/support/matrices.hpp"
#include "support/catch.hpp"
#include "support/tolerance.hpp"

using namespace curvop;
using curvop::test::rel_err;

namespace {
// L(x) = ½ xᵀAx + ¼ Σ x_i⁴: gradient Ax + x³, Hessian A + 3 diag(x²).
struct Quartic {
  Matrix<double> a;
  void operator()(const Vector<double>& x, Vector<double>& g) const {
    g = a * x + x.array().cube().matrix();
  }
  Matrix<double> hessian(const Vector<double>& x) const {
    return a + Matrix<double>((3.0 * x.array().square()).matrix().asDiagonal());
  }
};
}  // namespace

TEST_CASE("finite-difference HVPs match the analytic Hessian", "[estimators]") {
  const Index n = 40;
  const Quartic f{test::spd_matrix<double>(n, 2)};
  const Vector<double> x0 = random::gaussian<double>(n, 1, 3);
  const Matrix<double> h = f.hessian(x0);
  const Matrix<double> v = random::gaussian<double>(n, 3, 4);
  const auto central = finite_difference_hvp<double>(f, x0);
  STATIC_REQUIRE(is_symmetric_v<decltype(central)>);
  const Matrix<double> hv = apply(central, v);
  INFO("central rel err " << rel_err(hv, h * v));
  // ε^(2/3) ≈ 4e-11 times the scale of the third derivative (6·max|x|, about 15 here) relative
  // to ‖H‖: 1e-8 leaves a margin of 10.
  CHECK(rel_err(hv, h * v) <= 1e-8);
  const auto forward = finite_difference_hvp<double>(
      f, x0, FiniteDifferenceOptions{.scheme = DifferenceScheme::Forward});
  INFO("forward rel err " << rel_err(apply(forward, v), h * v));
  // ε^(1/2) ≈ 1.5e-8 times the same scale: 1e-5.
  CHECK(rel_err(apply(forward, v), h * v) <= 1e-5);
  // A zero column is a zero product.
  Matrix<double> z = Matrix<double>::Zero(n, 1);
  CHECK(apply(central, z).isZero(0.0));
  // The estimators take it: the trace of the Hessian by Hutch++.
  const auto t = estimate_trace(central, TraceOptions{.method = TraceMethod::HutchPlusPlus,
                                                      .max_matvecs = 3 * n});
  CHECK(std::abs(t.value - h.trace()) <= 1e-6 * h.trace());
}

TEST_CASE("finite-difference HVP rejects bad input", "[estimators]") {
  const Quartic f{Matrix<double>::Identity(3, 3)};
  CHECK_THROWS_AS(finite_difference_hvp<double>(f, Vector<double>::Zero(3),
                                                FiniteDifferenceOptions{.relative_step = 1.0}),
                  std::invalid_argument);
  Vector<double> bad = Vector<double>::Zero(3);
  bad(1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(finite_difference_hvp<double>(f, bad), InvalidInput);
}

TEMPLATE_TEST_CASE("AdaHessian spatial averaging, EMA and RMS denominator", "[estimators]", float,
                   double) {
  using S = TestType;
  Vector<S> d(6);
  d << 1, -3, 2, -4, 0, 6;
  const Diagonal<S> est(d);
  const auto avg = spatial_average(est, 3);
  Vector<S> want(6);
  want << 2, 2, 2, S(10) / 3, S(10) / 3, S(10) / 3;
  CHECK(rel_err(avg.diagonal(), want) <= test::apply_tol<S>(3));
  CHECK(spatial_average(est, 1).diagonal() == d.cwiseAbs());
  // Two steps of the squared EMA from zero, then AdaHessian's bias-corrected denominator.
  const double beta = 0.9;
  Diagonal<S> v(Vector<S>::Zero(6));
  v = curvature_ema(v, avg, beta, EmaKind::Squared);
  v = curvature_ema(v, est, beta, EmaKind::Squared);
  const Vector<double> vd =
      0.9 * 0.1 * want.template cast<double>().cwiseAbs2() + 0.1 * d.template cast<double>().cwiseAbs2();
  CHECK(rel_err(v.diagonal(), vd) <= test::apply_tol<S>(4));
  const auto den = rms_preconditioner(v, 2, beta, 1.0, 1e-4);
  const Vector<double> den_want = (vd / (1 - beta * beta)).cwiseSqrt().array() + 1e-4;
  CHECK(rel_err(den.diagonal(), den_want) <= test::apply_tol<S>(4));
  // Its apply_inverse is the AdaHessian direction m ⊘ denom.
  const Vector<S> m = Vector<S>::Ones(6);
  CHECK(rel_err(apply_inverse(den, m), den_want.cwiseInverse()) <= test::apply_tol<S>(4));
  const auto half = rms_preconditioner(v, 2, beta, 0.5, 0.0);
  CHECK(rel_err(half.diagonal(), (vd / (1 - beta * beta)).array().pow(0.25).matrix()) <=
        test::apply_tol<S>(4));
  // Linear EMA.
  const auto lin = curvature_ema(Diagonal<S>(Vector<S>::Ones(6)), est, 0.5);
  CHECK(rel_err(lin.diagonal(), (0.5 * (Vector<double>::Ones(6) + d.template cast<double>()))) <=
        test::apply_tol<S>(2));
}

TEMPLATE_TEST_CASE("Sophia's clipped direction", "[estimators]", float, double) {
  using S = TestType;
  Vector<S> m(5), h(5);
  m << 0.5, -0.5, 2.0, 0.1, -0.1;
  h << 1.0, 1.0, 1.0, -2.0, 0.0;
  const auto u = sophia_direction(m, Diagonal<S>(h), 0.8, 1e-12);
  Vector<S> want(5);
  // 0.5/0.8; −0.5/0.8; 2/0.8 clipped to 1; negative and zero curvature: m/ε clipped to ±1.
  want << S(0.625), S(-0.625), 1, 1, -1;
  CHECK(rel_err(u, want) <= test::apply_tol<S>(1));
}

TEST_CASE("diagonal-curvature helpers reject bad input and leave the state unchanged",
          "[estimators]") {
  const Diagonal<double> state(Vector<double>::Constant(4, 2.0));
  Vector<double> bad = Vector<double>::Ones(4);
  bad(2) = std::numeric_limits<double>::quiet_NaN();
  Diagonal<double> v = state;
  CHECK_THROWS_AS(v = curvature_ema(v, Diagonal<double>(bad), 0.9), InvalidInput);
  CHECK(v.diagonal() == state.diagonal());  // the caller's average is untouched
  CHECK_THROWS_AS(curvature_ema(v, Diagonal<double>(Vector<double>::Ones(3)), 0.9),
                  DimensionMismatch);
  CHECK_THROWS_AS(curvature_ema(v, state, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(spatial_average(state, 3), std::invalid_argument);
  CHECK_THROWS_AS(spatial_average(state, 0), std::invalid_argument);
  CHECK_THROWS_AS(spatial_average(Diagonal<double>(bad), 2), InvalidInput);
  CHECK_THROWS_AS(rms_preconditioner(state, 0, 0.9), std::invalid_argument);
  CHECK_THROWS_AS(rms_preconditioner(state, 1, 0.9, 2.0), std::invalid_argument);
  CHECK_THROWS_AS(sophia_direction(Vector<double>::Ones(4), state, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(sophia_direction(bad, state, 1.0), InvalidInput);
  CHECK_THROWS_AS(sophia_direction(Vector<double>::Ones(3), state, 1.0), DimensionMismatch);
}
