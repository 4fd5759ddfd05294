// SPDX-License-Identifier: MIT
// Counter-based probes: reproducible, independent of block size, with the right moments.
#include <curvop/random.hpp>

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
