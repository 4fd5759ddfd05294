// SPDX-License-Identifier: MIT
// Stochastic Lanczos quadrature: tr f(A) and the log-determinant against
// Eigen::SelfAdjointEigenSolver, exactness on few distinct eigenvalues, the spectral density's
// mass, reproducibility and bad input.
#include <Eigen/Eigenvalues>
#include <curvop/estimators/slq.hpp>
#include <curvop/operators/dense.hpp>
#include <curvop/operators/diagonal.hpp>
#include <curvop/operators/function.hpp>
#include <limits>

#include "estimators/support/matrices.hpp"
#include "support/catch.hpp"
#include "support/tolerance.hpp"

using namespace curvop;
using curvop::test::apply_tol;

TEMPLATE_TEST_CASE("SLQ log-determinant matches the dense eigensolver", "[estimators]", float,
                   double) {
  using S = TestType;
  const Index n = 150;
  const Matrix<double> a = test::spd_matrix<double>(n, 13, 1.0, 10.0);
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(a);
  const double truth = es.eigenvalues().array().log().sum();
  const SymmetricDense<S> op(a.cast<S>());
  const auto e = estimate_logdet(op, SlqOptions{.lanczos_steps = 20, .num_probes = 64});
  INFO("logdet " << e.value << " ± " << e.standard_error << " truth " << truth);
  CHECK(e.info == Info::Success);
  CHECK(e.matvecs == 64 * 20);
  // Quadrature error: log on [1, 10] with 20 Gauss nodes is below 1e-10 relative (κ = 10), so
  // the error is the Monte Carlo one: within 4 standard errors.
  CHECK(std::abs(double(e.value) - truth) <= 4 * double(e.standard_error) + 1e-6 * truth);
  CHECK(double(e.standard_error) < 0.01 * truth);
}

TEST_CASE("SLQ is exact for Rademacher probes on a diagonal with few distinct values",
          "[estimators]") {
  // vᵀ f(D) v = Σ f(d_i) for v_i = ±1, and Lanczos on 4 distinct values closes after 4 steps,
  // where Gauss quadrature integrates f exactly on the 4-point spectral measure.
  const Index n = 64;
  Vector<double> d(n);
  for (Index i = 0; i < n; ++i) d(i) = 0.5 + double(i % 4);
  const Diagonal<double> op(d);
  const auto e = estimate_trace_function(
      op, [](double t) { return std::exp(-t) + t * t; },
      SlqOptions{.lanczos_steps = 10, .num_probes = 3});
  const double truth = (d.array().exp().inverse() + d.array().square()).sum();
  CHECK(std::abs(e.value - truth) <= 100 * apply_tol<double>(n) * truth);
  CHECK(e.standard_error <= 100 * apply_tol<double>(n) * truth);
  CHECK(e.matvecs == 3 * 4);  // each probe stopped after its 4 steps
}

TEST_CASE("SLQ trace function, adaptive stopping and block-size independence", "[estimators]") {
  const Index n = 120;
  const Matrix<double> a = test::with_spectrum(test::decaying(n, 0.5), 3);
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(a);
  const double truth = es.eigenvalues().array().sqrt().sum();
  const SymmetricDense<double> op(a);
  auto f = [](double t) { return std::sqrt(std::max(t, 0.0)); };
  const auto e = estimate_trace_function(
      op, f, SlqOptions{.lanczos_steps = 25, .num_probes = 400, .rel_tol = 0.01});
  INFO("tr sqrt(A) " << e.value << " ± " << e.standard_error << " after " << e.samples
                     << " truth " << truth);
  CHECK(e.info == Info::Success);
  CHECK(e.samples < 400);
  CHECK(e.standard_error <= 0.01 * e.value);
  CHECK(std::abs(e.value - truth) <= 4 * e.standard_error);
  for (Index b : {1, 5, 32}) {
    const auto g = estimate_trace_function(
        op, f, SlqOptions{.lanczos_steps = 25, .num_probes = 400, .block_size = b,
                          .rel_tol = 0.01});
    CHECK(g.samples == e.samples);
    CHECK(std::abs(g.value - e.value) <= 1e-10 * e.value);
  }
  const auto never = estimate_trace_function(
      op, f, SlqOptions{.lanczos_steps = 5, .num_probes = 6, .rel_tol = 1e-12});
  CHECK(never.info == Info::NoConvergence);
}

TEST_CASE("the spectral density puts the right mass on each cluster", "[estimators]") {
  // 70% of the eigenvalues near 1, 30% near 10.
  const Index n = 200;
  Vector<double> ev(n);
  for (Index i = 0; i < n; ++i) ev(i) = i < 140 ? 1.0 + 0.001 * double(i) : 10.0 + 0.01 * double(i);
  const SymmetricDense<double> op(test::with_spectrum(ev, 8));
  const auto d = spectral_density(op, SlqOptions{.lanczos_steps = 30, .num_probes = 32,
                                                 .grid_points = 2000});
  REQUIRE(d.grid.size() == 2000);
  const double h = d.grid(1) - d.grid(0);
  double total = 0, low = 0;
  for (Index i = 0; i < d.grid.size(); ++i) {
    total += d.density(i) * h;
    if (d.grid(i) < 5.5) low += d.density(i) * h;
  }
  INFO("mass " << total << ", below 5.5: " << low << ", sigma " << d.sigma);
  // Riemann sum of a density smoothed far wider than the grid step: within 1e-3 of 1.
  CHECK(std::abs(total - 1.0) <= 1e-3);
  // Mass of a cluster: a Monte Carlo average of 32 probes of the fraction 0.7; each probe's
  // Gauss weight on the cluster has sd about √(2·0.7·0.3/n) = 0.046, so 32 probes give 0.008.
  CHECK(std::abs(low - 0.7) <= 4 * 0.008);
  CHECK(d.matvecs == 32 * 30);
  CHECK(d.quadratures.size() == 32);
  for (const auto& q : d.quadratures) CHECK(std::abs(q.weights.sum() - 1.0) <= 1e-12);
}

TEST_CASE("SLQ flags and rejects bad input", "[estimators]") {
  const Index n = 30;
  Vector<double> ev = Vector<double>::LinSpaced(n, -1.0, 3.0);
  const SymmetricDense<double> indefinite(test::with_spectrum(ev, 1));
  const auto l = estimate_logdet(indefinite, SlqOptions{.lanczos_steps = 10, .num_probes = 4});
  CHECK(l.info == Info::NumericalIssue);
  CHECK(std::isnan(l.value));
  CHECK_THROWS_AS(estimate_logdet(indefinite, SlqOptions{.lanczos_steps = 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(spectral_density(indefinite, SlqOptions{.num_probes = 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(spectral_density(indefinite, SlqOptions{.grid_points = 1}),
                  std::invalid_argument);
  CHECK_THROWS_AS(spectral_density(indefinite, SlqOptions{.sigma = -1}), std::invalid_argument);
  const auto bad = function_operator<double>(
      n, n,
      [](const ConstRef<double>& x, MutRef<double> y) {
        y = x;
        y(2, 0) = std::numeric_limits<double>::quiet_NaN();
      },
      symmetric);
  CHECK_THROWS_AS(spectral_density(bad), InvalidInput);
  CHECK_THROWS_AS(estimate_logdet(bad), InvalidInput);
}
