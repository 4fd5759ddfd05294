// SPDX-License-Identifier: MIT
// Dense references for the M-FAC tests: F = λI + GGᵀ/n formed and solved in double.
#ifndef CURVOP_TESTS_MFAC_SUPPORT_DENSE_FISHER_HPP
#define CURVOP_TESTS_MFAC_SUPPORT_DENSE_FISHER_HPP

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <curvop/config.hpp>

namespace curvop::test {

/// λI + GGᵀ/n in double (n = number of columns of G).
template <class D>
Matrix<double> dense_fisher(const Eigen::MatrixBase<D>& g, double damping) {
  const Matrix<double> gd = g.template cast<double>();
  Matrix<double> f = gd * gd.transpose() / static_cast<double>(gd.cols());
  f.diagonal().array() += damping;
  return f;
}

/// F⁻¹ x by a dense LDLᵀ solve in double.
template <class X>
Matrix<double> dense_solve(const Matrix<double>& f, const Eigen::MatrixBase<X>& x) {
  return f.ldlt().solve(x.template cast<double>().eval());
}

/// 2-norm condition number of an SPD matrix.
inline double spd_condition(const Matrix<double>& f) {
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(f, Eigen::EigenvaluesOnly);
  return es.eigenvalues().maxCoeff() / es.eigenvalues().minCoeff();
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_MFAC_SUPPORT_DENSE_FISHER_HPP
