// SPDX-License-Identifier: MIT
// Test matrices of the estimator tests: symmetric matrices with a prescribed spectrum, and
// helpers for statistics over seeds.
#ifndef CURVOP_TESTS_ESTIMATORS_SUPPORT_MATRICES_HPP
#define CURVOP_TESTS_ESTIMATORS_SUPPORT_MATRICES_HPP

#include <cmath>
#include <vector>

#include "support/rng.hpp"

namespace curvop::test {

/// Q diag(ev) Qᵀ with a random orthogonal Q (seeded), symmetrised.
inline Matrix<double> with_spectrum(const Vector<double>& ev, std::uint64_t seed) {
  const Matrix<double> q = orthogonal_matrix(ev.size(), seed);
  Matrix<double> a = q * ev.asDiagonal() * q.transpose();
  return 0.5 * (a + a.transpose());
}

/// Eigenvalues 1/i^p, i = 1..n (a decaying spectrum: 1/i² is the benchmark case).
inline Vector<double> decaying(Index n, double p) {
  Vector<double> ev(n);
  for (Index i = 0; i < n; ++i) ev(i) = std::pow(double(i + 1), -p);
  return ev;
}

/// Mean and sample standard deviation of a list of numbers.
struct Stats {
  double mean = 0, sd = 0;
};
inline Stats stats(const std::vector<double>& x) {
  Stats s;
  for (double v : x) s.mean += v;
  s.mean /= double(x.size());
  for (double v : x) s.sd += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(s.sd / double(x.size() - 1));
  return s;
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_ESTIMATORS_SUPPORT_MATRICES_HPP
