// SPDX-License-Identifier: MIT
// K-FAC bad input: options, shapes, non-finite data (state unchanged), overflow, factors that
// are not positive definite (Info and the previous operator), and hot-path assertions.
#include <curvop/functions.hpp>
#include <curvop/kfac.hpp>
#include <limits>
#include <string>

#include "kfac/support/dense_kfac.hpp"
#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
namespace kf = curvop::kfac;
namespace ct = curvop::test;

namespace {

// Message of the std::invalid_argument thrown by f (empty when none).
template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return {};
}

// Everything observable about a KFac, to check "unchanged".
template <class S>
struct Snapshot {
  Matrix<S> a, g, applied, inverted;
  double wa, wg;
  explicit Snapshot(const kf::KFac<S>& k) : a(k.a()), g(k.g()), wa(k.a_statistic().weight()),
                                            wg(k.g_statistic().weight()) {
    const Matrix<S> x = ct::gaussian_matrix<S>(k.cols(), 2, 999);
    applied = curvop::apply(k, x);
    inverted = curvop::apply_inverse(k, x);
  }
  bool operator==(const Snapshot& o) const {
    return a == o.a && g == o.g && wa == o.wa && wg == o.wg && applied == o.applied &&
           inverted == o.inverted;
  }
};

}  // namespace

TEST_CASE("bad options and dimensions throw invalid_argument naming them", "[kfac][errors]") {
  using K = kf::KFac<double>;
  CHECK(message_of([] { K(3, 2, {.damping = 0.0}); }).find("damping must be > 0") !=
        std::string::npos);
  CHECK(message_of([] { K(3, 2, {.damping = -1.0}); }).find("(got -1)") != std::string::npos);
  CHECK(message_of([] { K(3, 2, {.damping = std::numeric_limits<double>::quiet_NaN()}); })
            .find("damping") != std::string::npos);
  CHECK(message_of([] { K(3, 2, {.ema = 1.0}); }).find("ema must be in [0, 1)") !=
        std::string::npos);
  CHECK(message_of([] { K(3, 2, {.ema = -0.1}); }).find("ema") != std::string::npos);
  CHECK(message_of([] { K(3, 2, {.min_damping = -1.0}); }).find("min_damping") !=
        std::string::npos);
  CHECK(message_of([] { K(3, 2, {.mode = static_cast<kf::Damping>(7)}); }).find("mode") !=
        std::string::npos);
  CHECK(message_of([] { K(0, 2); }).find("in_dim must be >= 1 (got 0)") != std::string::npos);
  CHECK(message_of([] { K(3, -1); }).find("out_dim must be >= 1 (got -1)") != std::string::npos);
  K k(3, 2);
  CHECK_THROWS_AS(k.set_damping(0.0), std::invalid_argument);
  CHECK(k.options().damping == 1e-3);
  k.set_damping(0.5);
  CHECK(k.options().damping == 0.5);
  CHECK(k.damping() == 1e-3);  // in effect only after compute()
  REQUIRE(k.compute() == Info::Success);
  CHECK(k.damping() == 0.5);
}

TEMPLATE_TEST_CASE("wrong shapes throw DimensionMismatch and change nothing", "[kfac][errors]",
                   float, double) {
  using S = TestType;
  kf::KFac<S> k(4, 3, {.mode = kf::Damping::Exact, .bias = true});
  REQUIRE(k.update(ct::gaussian_matrix<S>(8, 4, 1), ct::gaussian_matrix<S>(8, 3, 2)) ==
          Info::Success);
  REQUIRE(k.compute() == Info::Success);
  const Snapshot<S> before(k);
  using DM = curvop::DimensionMismatch;
  CHECK_THROWS_AS(k.update(ct::gaussian_matrix<S>(8, 5, 1), ct::gaussian_matrix<S>(8, 3, 2)), DM);
  CHECK_THROWS_AS(k.update(ct::gaussian_matrix<S>(8, 4, 1), ct::gaussian_matrix<S>(8, 2, 2)), DM);
  CHECK_THROWS_AS(k.update(ct::gaussian_matrix<S>(8, 4, 1), ct::gaussian_matrix<S>(7, 3, 2)), DM);
  CHECK_THROWS_AS(k.update(Matrix<S>(0, 4), Matrix<S>(0, 3)), DM);
  CHECK_THROWS_AS(k.update_conv(ct::gaussian_matrix<S>(9, 4, 1), ct::gaussian_matrix<S>(9, 3, 2), 2),
                  DM);
  CHECK_THROWS_AS(k.update_conv(ct::gaussian_matrix<S>(8, 4, 1), ct::gaussian_matrix<S>(8, 3, 2), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(k.update_eigenvalues(ct::gaussian_matrix<S>(8, 3, 1), ct::gaussian_matrix<S>(8, 3, 2)),
                  DM);
  CHECK_THROWS_AS(k.set_factors(Matrix<S>::Identity(4, 4), Matrix<S>::Identity(3, 3)), DM);
  CHECK_THROWS_AS(k.set_factors(Matrix<S>::Identity(5, 5), Matrix<S>::Identity(2, 2)), DM);
  CHECK_THROWS_AS(k.precondition(Matrix<S>::Zero(5, 3)), DM);
  Matrix<S> out(3, 4);
  CHECK_THROWS_AS(k.precondition(Matrix<S>::Zero(3, 5), out), DM);
  CHECK(Snapshot<S>(k) == before);
  // Hot-path sizes are assertions.
  Matrix<S> y(k.rows(), 1);
  CHECK_THROWS_AS(k.apply(Matrix<S>::Zero(k.cols() + 1, 1), y), curvop::AssertionError);
  CHECK_THROWS_AS(k.apply_inverse(Matrix<S>::Zero(k.cols(), 2), y), curvop::AssertionError);
}

TEMPLATE_TEST_CASE("non-finite input throws InvalidInput and leaves the state unchanged",
                   "[kfac][errors]", float, double) {
  using S = TestType;
  const S nan = std::numeric_limits<S>::quiet_NaN();
  const S inf = std::numeric_limits<S>::infinity();
  for (auto mode : {kf::Damping::PiAdjusted, kf::Damping::Exact}) {
    kf::KFac<S> k(4, 3, {.mode = mode});
    REQUIRE(k.update(ct::gaussian_matrix<S>(8, 4, 1), ct::gaussian_matrix<S>(8, 3, 2)) ==
            Info::Success);
    REQUIRE(k.compute() == Info::Success);
    // EKFAC is available in every mode (the factored ones compute the basis here).
    REQUIRE(k.update_eigenvalues(ct::gaussian_matrix<S>(8, 4, 1), ct::gaussian_matrix<S>(8, 3, 2)) ==
            Info::Success);
    const Snapshot<S> before(k);
    Matrix<S> x = ct::gaussian_matrix<S>(8, 4, 3), g = ct::gaussian_matrix<S>(8, 3, 4);
    x(5, 2) = nan;
    CHECK_THROWS_AS(k.update(x, g), curvop::InvalidInput);
    CHECK_THROWS_AS(k.update_conv(x, g, 2), curvop::InvalidInput);
    CHECK_THROWS_AS(k.update_eigenvalues(x, g), curvop::InvalidInput);
    x(5, 2) = 0;
    g(7, 0) = -inf;
    CHECK_THROWS_AS(k.update(x, g), curvop::InvalidInput);
    CHECK_THROWS_AS(k.update_eigenvalues(x, g), curvop::InvalidInput);
    Matrix<S> bad = Matrix<S>::Identity(4, 4);
    bad(1, 2) = inf;
    CHECK_THROWS_AS(k.set_factors(bad, Matrix<S>::Identity(3, 3)), curvop::InvalidInput);
    CHECK(Snapshot<S>(k) == before);
    CHECK(k.compute() == Info::Success);
    CHECK(Snapshot<S>(k).inverted.allFinite());
  }
}

TEST_CASE("a statistic that overflows gives NumericalIssue and changes nothing", "[kfac][errors]") {
  kf::KFac<float> k(4, 3);
  REQUIRE(k.update(ct::gaussian_matrix<float>(8, 4, 1), ct::gaussian_matrix<float>(8, 3, 2)) ==
          Info::Success);
  const Snapshot<float> before(k);
  // Finite entries whose squares exceed float's range (3.4e38).
  const Matrix<float> x = Matrix<float>::Constant(8, 4, 1e25f);
  CHECK(k.update(x, ct::gaussian_matrix<float>(8, 3, 2)) == Info::NumericalIssue);
  CHECK(Snapshot<float>(k) == before);
  CHECK(k.update_conv(x, ct::gaussian_matrix<float>(8, 3, 2), 2) == Info::NumericalIssue);
  CHECK(Snapshot<float>(k) == before);
}

TEST_CASE("near overflow the update takes the checked route and gives the exact statistic",
          "[kfac][errors]") {
  // Columns of 8 entries of 4e18: ‖x_j‖² = 1.3e38 exceeds the in-place route's a-priori bound
  // (float max / 8 = 4.3e37), but the batch statistic xᵀx/8 = 1.6e37 is representable: the
  // scratch route computes it and commits it.
  const double rho = 0.5;
  kf::KFac<float> k(4, 3, {.ema = rho, .bias = true});
  const Matrix<float> x0 = ct::gaussian_matrix<float>(8, 4, 1);
  const Matrix<float> g0 = ct::gaussian_matrix<float>(8, 3, 2);
  REQUIRE(k.update(x0, g0) == Info::Success);
  Matrix<float> x = Matrix<float>::Constant(8, 4, 4e18f);
  x(3, 1) = -4e18f;
  REQUIRE(k.update(x, g0) == Info::Success);
  const Matrix<double> a0 = ct::second_moment(ct::with_bias(x0.cast<double>(), true), 8.0);
  const Matrix<double> a1 = ct::second_moment(ct::with_bias(x.cast<double>(), true), 8.0);
  const Matrix<double> aref = (rho * a0 + a1) / (rho + 1.0);
  INFO("err " << ct::rel_err(k.a(), aref));
  CHECK(ct::rel_err(k.a(), aref) <= ct::apply_tol<float>(8.0));
  CHECK(k.a() == k.a().transpose());
  CHECK(k.compute() == Info::Success);
}

TEMPLATE_TEST_CASE("a factor that is not positive definite keeps the previous operator",
                   "[kfac][errors]", float, double) {
  using S = TestType;
  kf::KFac<S> k(4, 3, {.damping = 1e-2, .mode = kf::Damping::PiAdjusted});
  REQUIRE(k.update(ct::gaussian_matrix<S>(16, 4, 1), ct::gaussian_matrix<S>(16, 3, 2)) ==
          Info::Success);
  REQUIRE(k.compute() == Info::Success);
  const Snapshot<S> before(k);
  // An indefinite A (e.g. a corrupted all-reduce): no jitter or precision rescues it.
  Matrix<S> a = Matrix<S>::Identity(4, 4);
  a(0, 0) = S(-5);
  k.set_factors(a, Matrix<S>::Identity(3, 3));
  CHECK(k.compute() == Info::NumericalIssue);
  CHECK(k.info() == Info::NumericalIssue);
  const Snapshot<S> after(k);
  CHECK(after.applied == before.applied);
  CHECK(after.inverted == before.inverted);
  CHECK(after.inverted.allFinite());
  // Exact damping clamps the negative eigenvalue at zero instead: still a valid operator.
  kf::KFac<S> e(4, 3, {.damping = 1e-2, .mode = kf::Damping::Exact});
  e.set_factors(a, Matrix<S>::Identity(3, 3));
  CHECK(e.compute() == Info::Success);
  CHECK(e.eigenvalues_a().minCoeff() == S(0));
  CHECK(curvop::apply_inverse(e, ct::gaussian_matrix<S>(12, 1, 3)).allFinite());
}

TEMPLATE_TEST_CASE("a singular factor is rescued by the jitter rung of the ladder",
                   "[kfac][errors]", float, double) {
  using S = TestType;
  // λ = 1e-300: √λ = 1e-150 vanishes in float and is negligible in double next to A's scale,
  // so Â = vvᵀ (rank one) is singular to working precision; the ladder adds a jitter of
  // 100·eps·mean|diag|, reports it through damping_a(), and the operator stays consistent.
  kf::KFac<S> k(4, 3, {.damping = 1e-300, .mode = kf::Damping::Tikhonov, .min_damping = 0.0});
  Matrix<S> v = ct::gaussian_matrix<S>(4, 1, 5);
  k.set_factors(v * v.transpose(), Matrix<S>::Identity(3, 3));
  REQUIRE(k.compute() == Info::Success);
  CHECK(k.damping_a() > 1e-100);
  const Matrix<S> x = ct::gaussian_matrix<S>(12, 2, 6);
  const Matrix<S> z = curvop::apply_inverse(k, x);
  REQUIRE(z.allFinite());
  // κ(Â) ≈ |v|²/jitter ≈ 1/(100 eps): the round trip loses all but ~2 digits by design.
  CHECK(ct::rel_err(curvop::apply(k, z), x) <= 0.5);
}
