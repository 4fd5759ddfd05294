// SPDX-License-Identifier: MIT
// Deterministic test matrices from the library's counter-based generator (bit-reproducible in
// any language that implements splitmix64).
#ifndef CURVOP_TESTS_SUPPORT_RNG_HPP
#define CURVOP_TESTS_SUPPORT_RNG_HPP

#include <Eigen/QR>
#include <cstdint>
#include <curvop/random.hpp>

namespace curvop::test {

/// rows x cols matrix of standard normals; `seed` selects the matrix.
template <class S>
Matrix<S> gaussian_matrix(Index rows, Index cols, std::uint64_t seed) {
  return random::probes<double>(rows, cols, random::Distribution::Gaussian, seed, 0, 7)
      .template cast<S>();
}

/// n x n orthogonal matrix (Q of the QR of a Gaussian matrix).
inline Matrix<double> orthogonal_matrix(Index n, std::uint64_t seed) {
  Eigen::HouseholderQR<Matrix<double>> qr(gaussian_matrix<double>(n, n, seed));
  return qr.householderQ() * Matrix<double>::Identity(n, n);
}

/// Symmetric positive definite n x n matrix with eigenvalues spread geometrically over [lo, hi].
template <class S>
Matrix<S> spd_matrix(Index n, std::uint64_t seed, double lo = 1.0, double hi = 10.0) {
  const Matrix<double> q = orthogonal_matrix(n, seed);
  Vector<double> ev(n);
  for (Index i = 0; i < n; ++i) {
    const double t = n > 1 ? static_cast<double>(i) / static_cast<double>(n - 1) : 0.0;
    ev(i) = lo * std::pow(hi / lo, t);
  }
  Matrix<double> a = q * ev.asDiagonal() * q.transpose();
  a = 0.5 * (a + a.transpose()).eval();
  return a.cast<S>();
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_SUPPORT_RNG_HPP
