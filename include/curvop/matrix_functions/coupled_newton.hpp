// SPDX-License-Identifier: MIT
// The coupled Newton iteration for the inverse p-th root of a symmetric positive definite matrix:
// GEMMs only, stopped on its residual, keeping the best iterate.
#ifndef CURVOP_MATRIX_FUNCTIONS_COUPLED_NEWTON_HPP
#define CURVOP_MATRIX_FUNCTIONS_COUPLED_NEWTON_HPP

#include <cmath>
#include <curvop/config.hpp>
#include <limits>

namespace curvop::detail {

/// Outcome of `coupled_newton_inverse_root`.
struct NewtonReport {
  Info info = Info::Success;  ///< Success, NoConvergence (tolerance not reached) or NumericalIssue
  int iterations = 0;         ///< iterations run
  double error = std::numeric_limits<double>::infinity();  ///< best max|M − I| reached
};

/// \f$ P = M^p \f$ by repeated squaring (⌊log₂p⌋ + popcount(p) − 1 GEMMs). `sq` and `tmp` are
/// n x n workspaces.
template <class S>
void integer_power(const Matrix<S>& m, int p, Matrix<S>& out, Matrix<S>& sq, Matrix<S>& tmp) {
  bool first = true;
  sq = m;
  for (int e = p;;) {
    if (e & 1) {
      if (first) {
        out = sq;
        first = false;
      } else {
        tmp.noalias() = out * sq;
        out.swap(tmp);
      }
    }
    e >>= 1;
    if (e == 0) break;
    tmp.noalias() = sq * sq;
    sq.swap(tmp);
  }
}

/// Inverse p-th root \f$ X \approx A^{-1/p} \f$ of a symmetric positive definite `a` by the coupled
/// Newton iteration, written into `x`.
///
/// With \f$ \alpha = -1/p \f$, \f$ z = (p+1)/(2\|A\|_F) \f$, \f$ X_0 = z^{1/p} I \f$,
/// \f$ M_0 = z A \f$: \f$ M' = (1-\alpha) I + \alpha M,\; X \leftarrow X M',\;
/// M \leftarrow M'^p M \f$. The invariant \f$ M_k = X_k^p A \f$ holds, and M → I quadratically
/// once the spectrum of M is within (0, 1]; before that small eigenvalues grow by (1 + 1/p)^p per
/// step, so the count is about log(κ)/log((1+1/p)^p) + 6. Stops when max|M − I| ≤ `tol`, when the
/// error grows by more than 1.2x (round-off has taken over: the best iterate is kept), when it
/// stops halving below 1e-2 (the round-off floor), or after `max_iter` steps. M and X are
/// re-symmetrised each step (they are polynomials in A, so symmetric in exact arithmetic).
///
/// **Cost:** per iteration 2 + ⌊log₂p⌋ + popcount(p) − 1 GEMMs of size n (4 for p = 4, 3 for
/// p = 2), memory 6n².
///
/// **Reference:** C.-H. Guo and N. J. Higham, "A Schur–Newton method for the matrix p-th root and
/// its inverse", SIAM J. Matrix Anal. Appl. 28(3), 2006 (the coupled iteration (2.8) and its
/// starting scale); Anil et al., "Scalable Second Order Optimization for Deep Learning", 2020
/// (stopping when the error grows).
template <class S>
NewtonReport coupled_newton_inverse_root(const Matrix<S>& a, int p, double tol, int max_iter,
                                         Matrix<S>& x) {
  const Index n = a.rows();
  NewtonReport rep;
  const double fro = static_cast<double>(a.norm());
  if (!(fro > 0.0) || !std::isfinite(fro)) {
    rep.info = Info::NumericalIssue;
    x.setIdentity(n, n);
    return rep;
  }
  const double alpha = -1.0 / p;
  const double z = (p + 1.0) / (2.0 * fro);
  Matrix<S> m = (static_cast<S>(z) * a).eval();
  Matrix<S> mp(n, n), pw(n, n), sq(n, n), tmp(n, n), xcur(n, n);
  double x_scale = std::pow(z, 1.0 / p);  // X_0 = x_scale I, applied lazily in the first step
  bool x_is_scalar = true;
  x = Matrix<S>::Identity(n, n) * static_cast<S>(x_scale);
  double prev = std::numeric_limits<double>::infinity();
  for (int k = 1; k <= max_iter; ++k) {
    mp = static_cast<S>(alpha) * m;
    mp.diagonal().array() += static_cast<S>(1.0 - alpha);
    if (x_is_scalar) {
      xcur = static_cast<S>(x_scale) * mp;
      x_is_scalar = false;
    } else {
      tmp.noalias() = xcur * mp;
      xcur.swap(tmp);
    }
    integer_power(mp, p, pw, sq, tmp);
    tmp.noalias() = pw * m;
    m = S(0.5) * (tmp + tmp.transpose());
    xcur = (S(0.5) * (xcur + xcur.transpose())).eval();
    const double err =
        static_cast<double>((m - Matrix<S>::Identity(n, n)).cwiseAbs().maxCoeff());
    rep.iterations = k;
    if (!std::isfinite(err)) break;
    if (err < rep.error) {
      rep.error = err;
      x = xcur;
    } else if (err > 1.2 * rep.error) {
      break;
    }
    if (err <= tol) break;
    if (rep.error < 1e-2 && err > 0.5 * prev) break;
    prev = err;
  }
  if (!std::isfinite(rep.error)) {
    rep.info = Info::NumericalIssue;
  } else if (rep.error > tol) {
    rep.info = Info::NoConvergence;
  }
  return rep;
}

}  // namespace curvop::detail

#endif  // CURVOP_MATRIX_FUNCTIONS_COUPLED_NEWTON_HPP
