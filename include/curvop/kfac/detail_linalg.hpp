// SPDX-License-Identifier: MIT
// K-FAC internals: the symmetric eigendecomposition and the SPD inverse, each with the fallback
// ladder of DESIGN.md §5 (jitter, then double, then report failure so the caller keeps the
// previous factor). No stability promise.
#ifndef CURVOP_KFAC_DETAIL_LINALG_HPP
#define CURVOP_KFAC_DETAIL_LINALG_HPP

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <curvop/config.hpp>
#include <curvop/matrix_functions/eigh.hpp>
#include <limits>
#include <type_traits>
#include <utility>

namespace curvop::kfac::detail {

/// Eigenvalues (ascending) and orthonormal eigenvectors of a symmetric matrix.
template <class S>
struct Eigh {
  Vector<S> values;
  Matrix<S> vectors;
  Info info = Info::Success;
};

/// The one place K-FAC calls a symmetric eigensolver: `curvop::symmetric_eigen` (LAPACK's
/// ?syevd with `CURVOP_USE_LAPACK`, Eigen's solver otherwise), plus a finiteness check.
template <class S>
Eigh<S> symmetric_eigen(const Matrix<S>& a) {
  Eigh<S> out;
  SymmetricEigen<S> es = curvop::symmetric_eigen<S>(a);
  if (es.info != Info::Success) {
    out.info = Info::NumericalIssue;
    return out;
  }
  out.values = std::move(es.values);
  out.vectors = std::move(es.vectors);
  if (!out.values.allFinite() || !out.vectors.allFinite()) out.info = Info::NumericalIssue;
  return out;
}

/// The eigendecomposition with the ladder: in S, then in double (cast back).
template <class S>
Eigh<S> robust_symmetric_eigen(const Matrix<S>& a) {
  Eigh<S> e = symmetric_eigen<S>(a);
  if (e.info == Info::Success || std::is_same_v<S, double>) return e;
  Eigh<double> d = symmetric_eigen<double>(a.template cast<double>());
  Eigh<S> out;
  out.info = d.info;
  if (d.info == Info::Success) {
    out.values = d.values.template cast<S>();
    out.vectors = d.vectors.template cast<S>();
  }
  return out;
}

/// Inverse of a symmetric positive definite matrix M by Cholesky, and the log-determinant.
template <class S>
struct SpdInverse {
  Matrix<S> matrix;   ///< the matrix actually inverted (M + jitter·I)
  Matrix<S> inverse;  ///< its inverse, exactly symmetric
  double logdet = 0;  ///< log det(M + jitter·I)
  double jitter = 0;  ///< the shift the ladder had to add (0 when the first try succeeded)
  Info info = Info::Success;
};

template <class T>
bool cholesky_inverse(const Matrix<T>& m, Matrix<T>& inv, double& logdet) {
  Eigen::LLT<Matrix<T>> llt(m);
  if (llt.info() != Eigen::Success) return false;
  const auto diag = llt.matrixLLT().diagonal();
  if (!diag.allFinite() || (diag.array() <= T(0)).any()) return false;
  inv = llt.solve(Matrix<T>::Identity(m.rows(), m.cols()));
  inv = (T(0.5) * (inv + inv.transpose())).eval();
  if (!inv.allFinite()) return false;
  logdet = 2.0 * diag.template cast<double>().array().log().sum();
  return true;
}

/// SPD inverse with the ladder: M in S; M + jitter·I in S; M + jitter·I in double; failure.
/// jitter = 100·eps_S·max(mean |diag M|, smallest normal) scales with the matrix.
template <class S>
SpdInverse<S> robust_spd_inverse(const Matrix<S>& m) {
  SpdInverse<S> out;
  if (!m.allFinite()) {
    out.info = Info::NumericalIssue;
    return out;
  }
  if (cholesky_inverse<S>(m, out.inverse, out.logdet)) {
    out.matrix = m;
    return out;
  }
  const double mean_diag =
      m.rows() > 0 ? m.diagonal().template cast<double>().cwiseAbs().mean() : 0.0;
  const double jitter = 100.0 * static_cast<double>(std::numeric_limits<S>::epsilon()) *
                        std::max(mean_diag, static_cast<double>(std::numeric_limits<S>::min()));
  Matrix<S> shifted = m;
  shifted.diagonal().array() += static_cast<S>(jitter);
  if (cholesky_inverse<S>(shifted, out.inverse, out.logdet)) {
    out.matrix = std::move(shifted);
    out.jitter = jitter;
    return out;
  }
  Matrix<double> inv_d;
  double logdet = 0;
  if (!std::is_same_v<S, double> &&
      cholesky_inverse<double>(shifted.template cast<double>(), inv_d, logdet) &&
      inv_d.template cast<S>().allFinite()) {
    out.inverse = inv_d.template cast<S>();
    out.logdet = logdet;
    out.matrix = std::move(shifted);
    out.jitter = jitter;
    return out;
  }
  out.info = Info::NumericalIssue;
  return out;
}

}  // namespace curvop::kfac::detail

#endif  // CURVOP_KFAC_DETAIL_LINALG_HPP
