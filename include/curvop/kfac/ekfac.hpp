// SPDX-License-Identifier: MIT
// EKFAC's eigenvalue correction: second moments of per-example gradients in the Kronecker
// eigenbasis, computed without materialising the per-example gradients of dense layers.
#ifndef CURVOP_KFAC_EKFAC_HPP
#define CURVOP_KFAC_EKFAC_HPP

#include <curvop/config.hpp>

namespace curvop::kfac {

/// The EKFAC scales of one batch: for per-example gradients
/// \f$ \nabla W_n = \sum_{t=1}^{T} g_{n,t}\, \tilde a_{n,t}^T \f$ (T = `locations`; T = 1 for a
/// dense layer) and orthonormal bases Q_A (d_in × d_in), Q_G (d_out × d_out),
/// \f[ S = \frac1N \sum_{n=1}^{N} \left(Q_G^T\, \nabla W_n\, Q_A\right)^{\odot 2}
///     \quad (d_{out} \times d_{in}), \f]
/// the diagonal of the empirical Fisher \f$ \frac1N\sum_n \operatorname{vec}(\nabla W_n)
/// \operatorname{vec}(\nabla W_n)^T \f$ in the basis \f$ Q_A \otimes Q_G \f$, which is the
/// Frobenius-optimal diagonal in that basis (George et al. 2018, Eq. 9).
///
/// For T = 1 the rotated per-example gradient is the outer product \f$ \hat g_n \hat a_n^T \f$
/// with \f$ \hat g_n = Q_G^T g_n,\ \hat a_n = Q_A^T \tilde a_n \f$, whose square is
/// \f$ \hat g_n^{\odot 2} (\hat a_n^{\odot 2})^T \f$, so S is one GEMM
/// \f$ S = \frac1N (\hat G^{\odot 2})^T \hat A^{\odot 2} \f$ with nothing of size
/// N × d_out × d_in ever formed (alecwangcq's reference materialises it). For T > 1 each
/// example's rotated gradient \f$ \hat G_n^T \hat A_n \f$ (T-inner GEMM) is formed one at a time.
///
/// \param activations N·T × m rows (example-major: example n owns rows nT … nT + T − 1);
///        \f$ \tilde a = [a, 1] \f$ when `bias` (then d_in = m + 1), else a
/// \param output_grads N·T × d_out, per-example output gradients ∂ℓ_n/∂z (no 1/N factor)
/// **Cost:** T = 1: 2N(d_in² + d_out²) + 2N·d_in·d_out flops; T > 1: the same rotations plus
/// 2N·T·d_in·d_out; extra memory N·T·(d_in + d_out) + d_in·d_out.
/// **Reference:** T. George, C. Laurent, X. Bouthillier, N. Ballas, P. Vincent, "Fast
/// Approximate Natural Gradient Descent in a Kronecker-factored Eigenbasis", NeurIPS 2018.
template <class S>
Matrix<S> eigenbasis_second_moments(const ConstRef<S>& activations,
                                    const ConstRef<S>& output_grads, const Matrix<S>& qa,
                                    const Matrix<S>& qg, bool bias, Index locations) {
  const Index m = activations.cols();
  const Index rows = activations.rows();
  const Index n = rows / locations;
  // Rotated activations Â = Ã Q_A (rows × d_in): the bias column of Ã is all ones, so it adds
  // the last row of Q_A to every row.
  Matrix<S> ahat = activations * qa.topRows(m);
  if (bias) ahat.rowwise() += qa.row(m);
  Matrix<S> ghat = output_grads * qg;  // rows × d_out
  const S inv_n = S(1) / static_cast<S>(n);
  if (locations == 1) {
    ahat = ahat.array().square().matrix();
    ghat = ghat.array().square().matrix();
    Matrix<S> s = inv_n * (ghat.transpose() * ahat);
    return s;
  }
  Matrix<S> s = Matrix<S>::Zero(qg.rows(), qa.rows());
  Matrix<S> r(qg.rows(), qa.rows());
  for (Index e = 0; e < n; ++e) {
    r.noalias() = ghat.middleRows(e * locations, locations).transpose() *
                  ahat.middleRows(e * locations, locations);
    s.array() += r.array().square();
  }
  s *= inv_n;
  return s;
}

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_EKFAC_HPP
