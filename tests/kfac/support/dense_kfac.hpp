// SPDX-License-Identifier: MIT
// Dense double-precision references for the K-FAC tests: Kronecker products, factor statistics,
// per-example gradients and the dense empirical Fisher, written from the definitions.
#ifndef CURVOP_TESTS_KFAC_SUPPORT_DENSE_KFAC_HPP
#define CURVOP_TESTS_KFAC_SUPPORT_DENSE_KFAC_HPP

#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <curvop/config.hpp>

namespace curvop::test {

/// The dense Kronecker product K = A ⊗ B (entry (i·p + k, j·q + l) = A(i, j)·B(k, l)), so that
/// K vec(X) = vec(B X Aᵀ).
inline Matrix<double> dense_kron(const Matrix<double>& a, const Matrix<double>& b) {
  Matrix<double> k(a.rows() * b.rows(), a.cols() * b.cols());
  for (Index i = 0; i < a.rows(); ++i)
    for (Index j = 0; j < a.cols(); ++j)
      k.block(i * b.rows(), j * b.cols(), b.rows(), b.cols()) = a(i, j) * b;
  return k;
}

/// Rows of x with a column of ones appended when `bias`.
inline Matrix<double> with_bias(const Matrix<double>& x, bool bias) {
  if (!bias) return x;
  Matrix<double> out(x.rows(), x.cols() + 1);
  out << x, Matrix<double>::Ones(x.rows(), 1);
  return out;
}

/// (1/n) Σ_rows r rᵀ by explicit sums over the rows.
inline Matrix<double> second_moment(const Matrix<double>& rows, double divisor) {
  Matrix<double> c = Matrix<double>::Zero(rows.cols(), rows.cols());
  for (Index i = 0; i < rows.rows(); ++i) c += rows.row(i).transpose() * rows.row(i);
  return c / divisor;
}

/// Per-example gradients ∇W_n = Σ_t g_{n,t} ã_{n,t}ᵀ (d_out × d_in), one per example.
inline std::vector<Matrix<double>> per_example_gradients(const Matrix<double>& acts_with_bias,
                                                         const Matrix<double>& grads,
                                                         Index locations) {
  const Index n = acts_with_bias.rows() / locations;
  std::vector<Matrix<double>> out;
  for (Index e = 0; e < n; ++e) {
    Matrix<double> w = Matrix<double>::Zero(grads.cols(), acts_with_bias.cols());
    for (Index t = 0; t < locations; ++t) {
      const Index r = e * locations + t;
      w += grads.row(r).transpose() * acts_with_bias.row(r);
    }
    out.push_back(std::move(w));
  }
  return out;
}

/// Condition number of a symmetric positive definite matrix.
inline double spd_condition(const Matrix<double>& a) {
  Eigen::SelfAdjointEigenSolver<Matrix<double>> es(a, Eigen::EigenvaluesOnly);
  return es.eigenvalues().maxCoeff() / es.eigenvalues().minCoeff();
}

/// Reshape of a vec into a rows × cols matrix and back.
inline Matrix<double> unvec(const Vector<double>& v, Index rows, Index cols) {
  return Eigen::Map<const Matrix<double>>(v.data(), rows, cols);
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_KFAC_SUPPORT_DENSE_KFAC_HPP
