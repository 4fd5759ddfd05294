// SPDX-License-Identifier: MIT
// LowRankPerturbation<S> (EGGROLL): regeneration from the seed, products against the dense E_i,
// the population update against an explicit sum, the unit-variance normalisation.
#include <curvop/lowrank/perturbation.hpp>

#include "support/catch.hpp"
#include "support/properties.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
namespace lr = curvop::lowrank;
namespace ct = curvop::test;

TEMPLATE_TEST_CASE("a perturbation regenerated from its seed is bit-identical", "[lowrank]", float,
                   double) {
  using S = TestType;
  const lr::LowRankPerturbation<S> pop(30, 20, 3, {.sigma = 0.1, .seed = 17});
  const lr::LowRankPerturbation<S> again(30, 20, 3, {.sigma = 0.1, .seed = 17});
  Matrix<S> a1(30, 3), b1(20, 3), a2(30, 3), b2(20, 3);
  pop.factors(5, a1, b1);
  again.factors(5, a2, b2);
  CHECK(a1 == a2);
  CHECK(b1 == b2);
  CHECK(pop.to_dense(5) == again.to_dense(5));
  const Matrix<S> x = ct::gaussian_matrix<S>(20, 4, 1);
  Matrix<S> y1(30, 4), y2(30, 4);
  pop.apply(5, x, y1);
  again.apply(5, x, y2);
  CHECK(y1 == y2);
  // Other members and other seeds differ.
  CHECK((pop.to_dense(4) - pop.to_dense(6)).norm() > S(1));
  const lr::LowRankPerturbation<S> other(30, 20, 3, {.sigma = 0.1, .seed = 18});
  CHECK((pop.to_dense(5) - other.to_dense(5)).norm() > S(1));
  // Antithetic pairs: E_{2k+1} = −E_{2k} exactly; without antithetic sampling they differ.
  CHECK(pop.to_dense(5) == Matrix<S>(-pop.to_dense(4)));
  const lr::LowRankPerturbation<S> plain(30, 20, 3, {.antithetic = false, .seed = 17});
  CHECK((plain.to_dense(5) + plain.to_dense(4)).norm() > S(1));
}

TEMPLATE_TEST_CASE("perturbation products match the dense sigma E_i", "[lowrank]", float, double) {
  using S = TestType;
  const lr::LowRankPerturbation<S> pop(25, 40, 4, {.sigma = 0.3, .seed = 2});
  for (std::uint64_t i : {0u, 1u, 9u}) {
    Matrix<S> a(25, 4), b(40, 4);
    pop.factors(i, a, b);
    // E_i from the factors, in double: σ a bᵀ/√r.
    const Matrix<double> ref =
        0.3 * (a.template cast<double>() * b.template cast<double>().transpose()) / 2.0;
    CHECK(ct::rel_err(pop.to_dense(i), Matrix<double>(ref / 0.3)) <= ct::apply_tol<S>(4));
    ct::check_operator({.name = "LowRankPerturbation::Member"}, pop.member(i), ref);
  }
}

TEMPLATE_TEST_CASE("the population update equals the fitness-weighted mean of E_i", "[lowrank]",
                   float, double) {
  using S = TestType;
  const lr::LowRankPerturbation<S> pop(12, 9, 2, {.sigma = 0.05, .seed = 99});
  Vector<S> f(6);
  f << S(1), S(-0.5), S(2), S(0.25), S(-1), S(3);
  Matrix<S> out = Matrix<S>::Ones(12, 9);
  pop.accumulate_update(f, out, S(0.7), 10);
  Matrix<double> ref = Matrix<double>::Ones(12, 9);
  for (Index i = 0; i < 6; ++i) {
    ref += 0.7 / 6.0 * double(f(i)) * pop.to_dense(10 + std::uint64_t(i)).template cast<double>();
  }
  CHECK(ct::rel_err(out, ref) <= ct::apply_tol<S>(12));
}

TEST_CASE("perturbation entries have unit variance for any rank", "[lowrank]") {
  // E_i(0, 0) = (1/√r) Σ_k a_k b_k over independent members: mean 0, variance 1. For r = 4 its
  // fourth moment is (9r + 3r(r − 1))/r² = 4.5, so the sample second moment over N = 2000 has
  // standard deviation √(3.5/N) = 0.042; we allow 4σ = 0.17, and 4·√(1/N) = 0.09 for the mean.
  for (Index r : {1, 4}) {
    const lr::LowRankPerturbation<double> pop(8, 8, r, {.antithetic = false, .seed = 5});
    const int n = 2000;
    double s1 = 0, s2 = 0;
    for (int i = 0; i < n; ++i) {
      const double e = pop.to_dense(std::uint64_t(i))(0, 0);
      s1 += e;
      s2 += e * e;
    }
    INFO("rank " << r << " mean " << s1 / n << " second moment " << s2 / n);
    CHECK(std::abs(s1 / n) < 0.09);
    CHECK(std::abs(s2 / n - 1.0) < 0.17 * (r == 1 ? 1.5 : 1.0));  // r = 1: kurtosis 9, σ = 0.063
  }
}

TEST_CASE("perturbation rejects bad arguments and leaves the output unchanged", "[lowrank]") {
  CHECK_THROWS_AS(lr::LowRankPerturbation<double>(10, 5, 0), std::invalid_argument);
  CHECK_THROWS_AS(lr::LowRankPerturbation<double>(10, 5, 6), std::invalid_argument);
  CHECK_THROWS_AS(lr::LowRankPerturbation<double>(10, 5, 2, {.sigma = 0}), std::invalid_argument);
  CHECK_THROWS_AS(lr::LowRankPerturbation<double>(0, 5, 1), std::invalid_argument);
  const lr::LowRankPerturbation<double> pop(10, 5, 2);
  Matrix<double> out = Matrix<double>::Ones(10, 5);
  Vector<double> f = Vector<double>::Ones(3);
  f(1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(pop.accumulate_update(f, out, 1.0), curvop::InvalidInput);
  CHECK(out == Matrix<double>::Ones(10, 5));
  Matrix<double> wrong(5, 10);
  CHECK_THROWS_AS(pop.accumulate_update(Vector<double>::Ones(3), wrong, 1.0),
                  curvop::DimensionMismatch);
  CHECK_THROWS_AS(pop.accumulate_update(Vector<double>(0), out, 1.0), curvop::DimensionMismatch);
  Matrix<double> y(10, 1);
  CHECK_THROWS_AS(pop.apply(0, Matrix<double>::Ones(4, 1), y), curvop::AssertionError);
}
