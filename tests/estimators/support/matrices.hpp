// SPDX-License-Identifier: MIT
// Test matrices of the estimator tests: symmetric matrices with a prescribed spectrum, a
// control variate that counts its products, and helpers for statistics over seeds.
#ifndef CURVOP_TESTS_ESTIMATORS_SUPPORT_MATRICES_HPP
#define CURVOP_TESTS_ESTIMATORS_SUPPORT_MATRICES_HPP

#include <cmath>
#include <curvop/operators/function.hpp>
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

/// diag(A) as a symmetric operator with no diagonal() member (so an estimator needs products
/// with unit vectors for its trace or diagonal) that adds the number of columns of every block
/// it is applied to into *columns: the control variate of the control_matvecs tests.
inline auto counting_diagonal(const Matrix<double>& a, Index* columns) {
  const Matrix<double> c = Matrix<double>(a.diagonal().asDiagonal());
  return function_operator<double>(
      a.rows(), a.cols(),
      [c, columns](const ConstRef<double>& x, MutRef<double> y) {
        *columns += x.cols();
        y.noalias() = c * x;
      },
      symmetric);
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_ESTIMATORS_SUPPORT_MATRICES_HPP
