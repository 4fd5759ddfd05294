// SPDX-License-Identifier: MIT
// mfac::EmpiricalFisher against the dense λI + GGᵀ/m solved in double.
#include <curvop/functions.hpp>
#include <curvop/mfac/empirical_fisher.hpp>

#include "mfac/support/dense_fisher.hpp"
#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
using curvop::mfac::EmpiricalFisher;
namespace ct = curvop::test;

namespace {
struct Case {
  Index d, m;
  double damping;
};
// m = 1, m < d, m > d (GGᵀ singular), and a small damping (κ ~ 10⁴).
constexpr Case kCases[] = {{40, 1, 0.1}, {50, 8, 0.5}, {12, 30, 0.2}, {200, 64, 0.05},
                           {64, 16, 1e-3}};
}  // namespace

TEMPLATE_TEST_CASE("EmpiricalFisher matches the dense damped Fisher", "[mfac]", float, double) {
  using S = TestType;
  std::uint64_t seed = 10;
  for (const auto& c : kCases) {
    const Matrix<S> g = ct::gaussian_matrix<S>(c.d, c.m, ++seed);
    const Matrix<double> f = ct::dense_fisher(g, static_cast<S>(c.damping));
    const double kappa = ct::spd_condition(f);
    const EmpiricalFisher<S> op(g, static_cast<S>(c.damping));
    REQUIRE(op.info() == curvop::Info::Success);
    REQUIRE(op.rows() == c.d);
    REQUIRE(op.size() == c.m);
    const double lam = static_cast<double>(op.damping());

    // Random right-hand sides (k = 3) and vectors inside the span of G (G a).
    Matrix<S> x(c.d, 5);
    x.leftCols(3) = ct::gaussian_matrix<S>(c.d, 3, ++seed);
    x.rightCols(2) = g * ct::gaussian_matrix<S>(c.m, 2, ++seed);
    const Matrix<S> fx = curvop::apply(op, x);
    const double e_apply = ct::rel_err(fx, f * x.template cast<double>());
    INFO("d=" << c.d << " m=" << c.m << " kappa=" << kappa << " apply err " << e_apply);
    // apply goes through V Lᵀ L Vᵀ: V carries the rounding of a solve with L (κ(L) = √κ).
    CHECK(e_apply <= ct::inverse_tol<S>(double(c.d + c.m), std::sqrt(kappa)));

    const Matrix<S> y = curvop::apply_inverse(op, x);
    const Matrix<double> ref = ct::dense_solve(f, x);
    // The correction λ⁻¹x − F⁻¹x, where the information of G lives.
    const Matrix<double> corr = x.template cast<double>() / lam - y.template cast<double>();
    const Matrix<double> corr_ref = x.template cast<double>() / lam - ref;
    const double e_corr = ct::rel_err(corr, corr_ref);
    INFO("correction err " << e_corr);
    CHECK(e_corr <= ct::inverse_tol<S>(double(c.d + c.m), kappa));
    // Column by column equals the block call to rounding (GEMV and GEMM kernels round
    // differently; in-span columns cancel in x − VVᵀx, so the bound carries κ).
    for (Index j = 0; j < x.cols(); ++j) {
      const Matrix<S> yj = curvop::apply_inverse(op, Matrix<S>(x.col(j)));
      CHECK(ct::rel_err(yj, y.col(j)) <= ct::inverse_tol<S>(double(c.d + c.m), kappa));
    }

    // Round trip F F⁻¹ x = x.
    const Matrix<S> back = curvop::apply(op, y);
    CHECK(ct::rel_err(back, x) <= ct::inverse_tol<S>(double(c.d + c.m), kappa));

    // Diagonals and entries against the dense matrix and its inverse.
    const Matrix<double> finv = f.ldlt().solve(Matrix<double>::Identity(c.d, c.d));
    CHECK(ct::rel_err(op.diagonal(), f.diagonal()) <= ct::apply_tol<S>(double(c.m)));
    const Vector<S> dinv = op.inverse_diagonal();
    // diag F⁻¹ = λ⁻¹(1 − ‖V_i‖²): relative to λ⁻¹, the absolute error is that of ‖V_i‖² ≤ 1.
    CHECK((dinv.template cast<double>() - finv.diagonal()).cwiseAbs().maxCoeff() * lam <=
          ct::inverse_tol<S>(double(c.m), kappa));
    for (Index i : {Index(0), c.d / 2, c.d - 1}) {
      for (Index j : {Index(0), c.d / 3, c.d - 1}) {
        CHECK(std::abs(static_cast<double>(op.inverse_entry(i, j)) - finv(i, j)) * lam <=
              ct::inverse_tol<S>(double(c.m), kappa));
      }
    }
  }
}

TEMPLATE_TEST_CASE("EmpiricalFisher keeps float accuracy at large d", "[mfac]", float) {
  // d = 2¹⁸: the dots are accumulated per 2048-row chunk in float and across chunks in double,
  // so the error stays near the per-chunk bound instead of growing with d. The reference is an
  // independent double Woodbury (GᵀG by Eigen in double, LDLT).
  using S = TestType;
  const Index d = Index(1) << 18, m = 16;
  const double lam = 0.5;
  const Matrix<S> g = ct::gaussian_matrix<S>(d, m, 5);
  const Matrix<S> x = ct::gaussian_matrix<S>(d, 1, 6);
  const EmpiricalFisher<S> op(g, static_cast<S>(lam));
  Matrix<S> y(d, 1);
  op.apply_inverse(x, y);
  const Matrix<double> gd = g.template cast<double>();
  Matrix<double> mm = gd.transpose() * gd;
  mm.diagonal().array() += m * lam;
  const Matrix<double> corr_ref = gd * mm.ldlt().solve(gd.transpose() * x.template cast<double>()) / lam;
  const Matrix<double> corr = x.template cast<double>() / lam - y.template cast<double>();
  const double err = ct::rel_err(corr, corr_ref);
  INFO("correction err " << err);
  // κ(M) ≈ 2·d/(mλ)·... is ~ 1 + d/(mλ) ≈ 3·10⁴ for Gaussian G; the chunked sums keep the error
  // at chunk length (2048) × eps scale, far below the d·eps of a plain float recursion.
  CHECK(err <= ct::inverse_tol<S>(2048, 10.0));
}

TEST_CASE("EmpiricalFisher rejects bad input", "[mfac]") {
  const Matrix<double> g = ct::gaussian_matrix<double>(10, 3, 1);
  CHECK_THROWS_AS(EmpiricalFisher<double>(g, 0.0), std::invalid_argument);
  CHECK_THROWS_AS(EmpiricalFisher<double>(g, -1.0), std::invalid_argument);
  CHECK_THROWS_AS(EmpiricalFisher<double>(g, std::numeric_limits<double>::infinity()),
                  std::invalid_argument);
  CHECK_THROWS_AS(EmpiricalFisher<double>(Matrix<double>(10, 0), 1.0), std::invalid_argument);
  CHECK_THROWS_AS(EmpiricalFisher<double>(Matrix<double>(0, 3), 1.0), std::invalid_argument);
  try {
    EmpiricalFisher<double> f(g, -2.0);
    FAIL("no throw");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("damping") != std::string::npos);
    CHECK(msg.find("-2") != std::string::npos);
  }
  Matrix<double> bad = g;
  bad(4, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(EmpiricalFisher<double>(bad, 1.0), curvop::InvalidInput);
  bad(4, 1) = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(EmpiricalFisher<double>(bad, 1.0), curvop::InvalidInput);

  const EmpiricalFisher<double> op(g, 1.0);
  Matrix<double> x(9, 1), y(10, 1);
  x.setOnes();
  CHECK_THROWS_AS(op.apply_inverse(x, y), curvop::AssertionError);
  CHECK_THROWS_AS(op.apply(x, y), curvop::AssertionError);
  CHECK_THROWS_AS(op.inverse_entry(10, 0), curvop::AssertionError);
}

TEST_CASE("EmpiricalFisher models the operator concepts", "[mfac]") {
  STATIC_REQUIRE(curvop::InvertibleOperator<EmpiricalFisher<float>>);
  STATIC_REQUIRE(curvop::DiagonalExtractable<EmpiricalFisher<double>>);
  STATIC_REQUIRE(curvop::is_symmetric_v<EmpiricalFisher<double>>);
}
