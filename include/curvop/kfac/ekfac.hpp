// SPDX-License-Identifier: MIT
// EKFAC's eigenvalue correction: second moments of per-example gradients in the Kronecker
// eigenbasis, computed with batch-wide GEMMs and without materialising per-example gradients.
#ifndef CURVOP_KFAC_EKFAC_HPP
#define CURVOP_KFAC_EKFAC_HPP

#include <algorithm>
#include <curvop/config.hpp>

namespace curvop::kfac {

/// Largest number of locations T per example for which `eigenbasis_second_moments` uses the
/// pair form (one GEMM over all location pairs of the batch) rather than one T-inner GEMM per
/// example; see there.
inline constexpr Index kEkfacPairMaxLocations = 3;

namespace detail {

/// Rotated rows, transposed so that every location is a contiguous column:
/// \f$ \hat A^T = Q_A^T \tilde A^T \f$ (d_in × rows) and \f$ \hat G^T = Q_G^T G^T \f$
/// (d_out × rows). The bias column of Ã is all ones: it adds Q_A's last row to every column.
template <class S>
void rotate_transposed(const ConstRef<S>& activations, const ConstRef<S>& output_grads,
                       const Matrix<S>& qa, const Matrix<S>& qg, bool bias, Matrix<S>& at,
                       Matrix<S>& gt) {
  const Index m = activations.cols();
  at.noalias() = qa.topRows(m).transpose() * activations.transpose();
  if (bias) at.colwise() += qa.row(m).transpose();
  gt.noalias() = qg.transpose() * output_grads.transpose();
}

/// Pair form of Σ_n (Ĝ_nᵀ Â_n)^{⊙2} added to s, for examples of T locations (columns nT …
/// nT + T − 1 of at, gt), `chunk` examples per GEMM.
template <class S>
void add_pair_moments(const Matrix<S>& at, const Matrix<S>& gt, Index locations, Index chunk,
                      Matrix<S>& s) {
  const Index t = locations;
  const Index pairs = t * (t + 1) / 2;
  const Index n = at.cols() / t;
  Matrix<S> u(gt.rows(), std::min(chunk, n) * pairs), v(at.rows(), std::min(chunk, n) * pairs);
  for (Index e0 = 0; e0 < n; e0 += chunk) {
    const Index b = std::min(chunk, n - e0);
    Index c = 0;
    for (Index e = e0; e < e0 + b; ++e) {
      const Index r = e * t;
      for (Index i = 0; i < t; ++i) {
        // The off-diagonal pairs (i, j) and (j, i) are one column with weight 2.
        u.col(c) = gt.col(r + i).cwiseAbs2();
        v.col(c++) = at.col(r + i).cwiseAbs2();
        for (Index j = i + 1; j < t; ++j, ++c) {
          u.col(c) = S(2) * gt.col(r + i).cwiseProduct(gt.col(r + j));
          v.col(c) = at.col(r + i).cwiseProduct(at.col(r + j));
        }
      }
    }
    s.noalias() += u.leftCols(c) * v.leftCols(c).transpose();
  }
}

/// Per-example form: R_n = Ĝ_nᵀ Â_n by one T-inner GEMM on contiguous column blocks, squared
/// into s.
template <class S>
void add_example_moments(const Matrix<S>& at, const Matrix<S>& gt, Index locations,
                         Matrix<S>& s) {
  const Index t = locations;
  const Index n = at.cols() / t;
  Matrix<S> r(gt.rows(), at.rows());
  for (Index e = 0; e < n; ++e) {
    r.noalias() = gt.middleCols(e * t, t) * at.middleCols(e * t, t).transpose();
    s.array() += r.array().square();
  }
}

/// `eigenbasis_second_moments` with the form chosen by the caller (tests compare the forms):
/// `pair_chunk` > 0 selects the pair form with that many examples per GEMM, 0 the per-example
/// form (T > 1 only; T = 1 always uses the one-GEMM form).
template <class S>
Matrix<S> eigenbasis_second_moments_with(const ConstRef<S>& activations,
                                         const ConstRef<S>& output_grads, const Matrix<S>& qa,
                                         const Matrix<S>& qg, bool bias, Index locations,
                                         Index pair_chunk) {
  const Index rows = activations.rows();
  const Index n = rows / locations;
  Matrix<S> at(qa.rows(), rows), gt(qg.rows(), rows);
  rotate_transposed<S>(activations, output_grads, qa, qg, bias, at, gt);
  Matrix<S> s;
  if (locations == 1) {
    s.noalias() = gt.cwiseAbs2() * at.cwiseAbs2().transpose();
  } else {
    s.setZero(qg.rows(), qa.rows());
    if (pair_chunk > 0) {
      add_pair_moments<S>(at, gt, locations, pair_chunk, s);
    } else {
      add_example_moments<S>(at, gt, locations, s);
    }
  }
  s *= S(1) / static_cast<S>(n);
  return s;
}

}  // namespace detail

/// The EKFAC scales of one batch: for per-example gradients
/// \f$ \nabla W_n = \sum_{t=1}^{T} g_{n,t}\, \tilde a_{n,t}^T \f$ (T = `locations`; T = 1 for a
/// dense layer) and orthonormal bases Q_A (d_in × d_in), Q_G (d_out × d_out),
/// \f[ S = \frac1N \sum_{n=1}^{N} \left(Q_G^T\, \nabla W_n\, Q_A\right)^{\odot 2}
///     \quad (d_{out} \times d_{in}), \f]
/// the diagonal of the empirical Fisher \f$ \frac1N\sum_n \operatorname{vec}(\nabla W_n)
/// \operatorname{vec}(\nabla W_n)^T \f$ in the basis \f$ Q_A \otimes Q_G \f$, which is the
/// Frobenius-optimal diagonal in that basis (George et al. 2018, Eq. 9).
///
/// The whole batch is rotated once, \f$ \hat a_{n,t} = Q_A^T \tilde a_{n,t} \f$,
/// \f$ \hat g_{n,t} = Q_G^T g_{n,t} \f$ (two GEMMs), so that
/// \f$ Q_G^T \nabla W_n Q_A = \sum_t \hat g_{n,t} \hat a_{n,t}^T \f$. Squaring entrywise,
/// \f[ \Big(\sum_t \hat g_{n,t} \hat a_{n,t}^T\Big)^{\odot 2}
///     = \sum_{t, t'} (\hat g_{n,t} \odot \hat g_{n,t'}) (\hat a_{n,t} \odot \hat a_{n,t'})^T
///     = \sum_{t \le t'} c_{tt'} (\hat g_{n,t} \odot \hat g_{n,t'})
///       (\hat a_{n,t} \odot \hat a_{n,t'})^T, \f]
/// c = 1 on the diagonal and 2 off it: S is one GEMM \f$ U V^T / N \f$ whose inner dimension runs
/// over all N·T(T+1)/2 location pairs of the batch (the *pair form*, in chunks of examples so
/// that U and V stay near 2^20 scalars). For T = 1 this is \f$ S = \frac1N (\hat G^{\odot 2})^T
/// \hat A^{\odot 2} \f$; nothing of size N × d_out × d_in is ever formed (alecwangcq's
/// reference materialises it). The pair form does (T + 1)/2 times the flops of forming each
/// \f$ Q_G^T \nabla W_n Q_A \f$ by its own T-inner GEMM, but as one large GEMM instead of N
/// GEMMs with inner dimension T (which are bound by writing and re-reading the d_out × d_in
/// result); it is used for T ≤ `kEkfacPairMaxLocations` (3), the per-example GEMMs above that,
/// where their inner dimension makes them efficient and the pair form's extra flops dominate.
/// Measured (one core of a Xeon, AVX2, N·T ≥ 64 rows, d_in ∈ {72, 288, 576}, d_out ∈ {32, 64,
/// 128}), time of the pair form / the per-example form: 0.52–0.86 at T = 2, 0.77–1.02 at T = 3,
/// 0.86–1.07 at T = 4, 1.4–2.1 at T = 8, 7–12 at T = 64.
///
/// \param activations N·T × m rows (example-major: example n owns rows nT … nT + T − 1);
///        \f$ \tilde a = [a, 1] \f$ when `bias` (then d_in = m + 1), else a
/// \param output_grads N·T × d_out, per-example output gradients ∂ℓ_n/∂z (no 1/N factor)
/// **Cost:** rotations 2NT(d_in² + d_out²) flops; then T = 1: 2N·d_in·d_out; 1 < T ≤ 3 (pair
/// form): N·T(T+1)·d_in·d_out; T > 3: 2N·T·d_in·d_out + N·d_in·d_out. Extra memory
/// N·T·(d_in + d_out) + d_in·d_out, plus about 2^20 scalars for the pair form's chunks.
/// **Reference:** T. George, C. Laurent, X. Bouthillier, N. Ballas, P. Vincent, "Fast
/// Approximate Natural Gradient Descent in a Kronecker-factored Eigenbasis", NeurIPS 2018.
template <class S>
Matrix<S> eigenbasis_second_moments(const ConstRef<S>& activations,
                                    const ConstRef<S>& output_grads, const Matrix<S>& qa,
                                    const Matrix<S>& qg, bool bias, Index locations) {
  Index chunk = 0;
  if (locations > 1 && locations <= kEkfacPairMaxLocations) {
    const Index pairs = locations * (locations + 1) / 2;
    const Index width = std::max<Index>(1, qa.rows() + qg.rows());
    chunk = std::max<Index>(1, (Index(1) << 20) / (width * pairs));
  }
  return detail::eigenbasis_second_moments_with<S>(activations, output_grads, qa, qg, bias,
                                                   locations, chunk);
}

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_EKFAC_HPP
