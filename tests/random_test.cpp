// SPDX-License-Identifier: MIT
// Counter-based probes: reproducible, independent of block size, with the right moments.
#include <curvop/random.hpp>

#include <cmath>
#include <numbers>

#include "support/catch.hpp"

using curvop::Index;
using curvop::Matrix;
namespace cr = curvop::random;

TEST_CASE("splitmix64 matches its published reference values", "[random]") {
  // First outputs of the reference splitmix64 generator seeded with 0 (state += γ before mixing),
  // as produced by Vigna's C reference implementation.
  std::uint64_t state = 0;
  auto next = [&] {
    const std::uint64_t z = cr::splitmix64(state);
    state += 0x9E3779B97F4A7C15ULL;
    return z;
  };
  CHECK(next() == 0xE220A8397B1DCDAFULL);
  CHECK(next() == 0x6E789E6AA1B965F4ULL);
  CHECK(next() == 0x06C45D188009454FULL);
}

TEMPLATE_TEST_CASE("probes do not depend on the block size", "[random]", float, double) {
  const Index n = 37;
  for (auto dist : {cr::Distribution::Rademacher, cr::Distribution::Gaussian}) {
    const Matrix<TestType> all = cr::probes<TestType>(n, 12, dist, 42);
    for (Index block : {1, 5, 12}) {
      for (Index j0 = 0; j0 < 12; j0 += block) {
        const Index b = std::min<Index>(block, 12 - j0);
        const Matrix<TestType> part =
            cr::probes<TestType>(n, b, dist, 42, static_cast<std::uint64_t>(j0));
        REQUIRE(part == all.middleCols(j0, b));
      }
    }
  }
}

TEST_CASE("different seeds and streams give different probes", "[random]") {
  const Matrix<double> a = cr::gaussian<double>(50, 2, 1);
  const Matrix<double> b = cr::gaussian<double>(50, 2, 2);
  const Matrix<double> c = cr::probes<double>(50, 2, cr::Distribution::Gaussian, 1, 0, 1);
  CHECK((a - b).norm() > 1.0);
  CHECK((a - c).norm() > 1.0);
  CHECK(cr::gaussian<double>(50, 2, 1) == a);
}

TEST_CASE("Rademacher and Gaussian probes have unit second moments", "[random]") {
  const Index n = 200000;
  const Matrix<double> r = cr::rademacher<double>(n, 1, 9);
  CHECK((r.array().abs() == 1.0).all());
  // Mean of n i.i.d. ±1: standard deviation 1/sqrt(n) = 0.0022; 5 sigma bound.
  CHECK(std::abs(r.mean()) < 5.0 / std::sqrt(double(n)));
  const Matrix<double> g = cr::gaussian<double>(n, 1, 9);
  CHECK(std::abs(g.mean()) < 5.0 / std::sqrt(double(n)));
  // Var of the sample second moment of N(0,1) is 2/n.
  CHECK(std::abs(g.squaredNorm() / n - 1.0) < 5.0 * std::sqrt(2.0 / n));
  // Fourth moment 3 (distinguishes a Gaussian from a uniform or a sign): sd of the estimate is
  // sqrt(96/n) = 0.022.
  CHECK(std::abs(g.array().pow(4).mean() - 3.0) < 5.0 * std::sqrt(96.0 / n));
}

TEST_CASE("Gaussian probes are the halves of Box-Muller pairs, entry by counter", "[random]") {
  const cr::CounterRng rng(42, 3);
  // Odd lengths and offsets make pairs straddle column boundaries; every entry must still be the
  // generator's number for its counter.
  for (Index n : {1, 2, 7, 36}) {
    for (std::uint64_t first : {0U, 1U, 5U}) {
      const Matrix<double> g = cr::probes<double>(n, 4, cr::Distribution::Gaussian, 42, first, 3);
      for (Index j = 0; j < 4; ++j) {
        for (Index i = 0; i < n; ++i) {
          const auto column = first + static_cast<std::uint64_t>(j);
          const std::uint64_t c =
              column * static_cast<std::uint64_t>(n) + static_cast<std::uint64_t>(i);
          REQUIRE(g(i, j) == rng.gaussian(c));
        }
      }
    }
  }
  // Closed form of the pair from its two uniforms: z₀² + z₁² = −2 ln u₁, angle 2πu₂.
  for (std::uint64_t p : {0U, 1U, 17U, 123456U}) {
    const double z0 = rng.gaussian(2 * p), z1 = rng.gaussian(2 * p + 1);
    CHECK(z0 * z0 + z1 * z1 == Approx(-2.0 * std::log(rng.uniform(2 * p))).epsilon(1e-12));
    double angle = std::atan2(z1, z0);
    if (angle < 0) angle += 2.0 * std::numbers::pi;
    CHECK(angle == Approx(2.0 * std::numbers::pi * rng.uniform(2 * p + 1)).epsilon(1e-12));
  }
}

TEST_CASE("the two halves of a Box-Muller pair are independent", "[random]") {
  // Even and odd entries of one long probe are the cosine and sine halves of the same pairs.
  const Index n = 400000;
  const Matrix<double> g = cr::gaussian<double>(n, 1, 11);
  const auto pairs = g.reshaped(2, n / 2);
  const Eigen::ArrayXd z0 = pairs.row(0).transpose().array(), z1 = pairs.row(1).transpose().array();
  const double count = double(n / 2);
  // E[z₀z₁] = 0 with sd 1/√N; E[z₀²z₁²] = 1 with sd √((E z⁴)² − 1) / √N = √8/√N (it would be
  // E z⁴ = 3 if the halves were equal, and far from 1 if they shared their radius only).
  CHECK(std::abs((z0 * z1).mean()) < 5.0 / std::sqrt(count));
  CHECK(std::abs((z0.square() * z1.square()).mean() - 1.0) < 5.0 * std::sqrt(8.0 / count));
  CHECK(std::abs(z0.square().mean() - 1.0) < 5.0 * std::sqrt(2.0 / count));
  CHECK(std::abs(z1.square().mean() - 1.0) < 5.0 * std::sqrt(2.0 / count));
}
