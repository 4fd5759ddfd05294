// SPDX-License-Identifier: MIT
// Test matrices of the low-rank family with a prescribed singular spectrum, so that the optimal
// rank-r error is known in closed form (no reference SVD is needed).
#ifndef CURVOP_TESTS_LOWRANK_SUPPORT_SPECTRUM_HPP
#define CURVOP_TESTS_LOWRANK_SUPPORT_SPECTRUM_HPP

#include <cmath>
#include <cstdint>

#include "support/rng.hpp"

namespace curvop::test {

/// A = U diag(σ) Vᵀ (m x n) with U, V Haar-like orthonormal factors from `seed`.
struct KnownSvd {
  Matrix<double> a;  ///< A in double
  Matrix<double> u;  ///< m x p, p = min(m, n)
  Vector<double> s;  ///< σ, non-increasing
  Matrix<double> v;  ///< n x p

  /// √Σ_{i>r} σ_i²: the optimal rank-r Frobenius error (Eckart–Young).
  double optimal_error(Index r) const {
    return std::sqrt(s.tail(s.size() - r).squaredNorm());
  }
  /// The best rank-r approximation U_r Σ_r V_rᵀ.
  Matrix<double> truncated(Index r) const {
    return u.leftCols(r) * s.head(r).asDiagonal() * v.leftCols(r).transpose();
  }
};

/// A matrix with singular values sigma(i), i = 0..min(m, n) - 1.
template <class F>
KnownSvd known_svd(Index m, Index n, std::uint64_t seed, F&& sigma) {
  const Index p = std::min(m, n);
  KnownSvd k;
  k.u = orthogonal_matrix(m, seed).leftCols(p);
  k.v = orthogonal_matrix(n, seed + 1000).leftCols(p);
  k.s.resize(p);
  for (Index i = 0; i < p; ++i) k.s(i) = sigma(i);
  k.a = k.u * k.s.asDiagonal() * k.v.transpose();
  return k;
}

/// Polynomially decaying spectrum σ_i = 1/(1 + i): a slow decay, the hard case for sketching.
inline KnownSvd decaying(Index m, Index n, std::uint64_t seed) {
  return known_svd(m, n, seed, [](Index i) { return 1.0 / (1.0 + static_cast<double>(i)); });
}

/// ‖QᵀQ − I‖_max, in double.
template <class M>
double orthonormality_error(const M& q) {
  const Matrix<double> qd = q.template cast<double>();
  return (qd.transpose() * qd - Matrix<double>::Identity(qd.cols(), qd.cols())).cwiseAbs().maxCoeff();
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_LOWRANK_SUPPORT_SPECTRUM_HPP
