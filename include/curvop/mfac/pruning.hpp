// SPDX-License-Identifier: MIT
// Optimal Brain Surgeon pruning with an M-FAC inverse: saliency scores and one-shot pruning with
// the compensating update of the remaining weights.
#ifndef CURVOP_MFAC_PRUNING_HPP
#define CURVOP_MFAC_PRUNING_HPP

#include <algorithm>
#include <concepts>
#include <curvop/concepts.hpp>
#include <numeric>
#include <vector>

namespace curvop::mfac {

/// An invertible curvature operator that also gives all of diag(F⁻¹) (`EmpiricalFisher`,
/// `BlockFisher`).
template <class F>
concept InverseDiagonalOperator = InvertibleOperator<F> && requires(const F& f) {
  { f.inverse_diagonal() } -> std::convertible_to<Vector<typename F::Scalar>>;
};

/// Optimal-Brain-Surgeon saliencies \f$ \rho_k = w_k^2 / (2 [F^{-1}]_{kk}) \f$: the increase of
/// the quadratic model ½ δᵀFδ when weight k is set to zero and the others move optimally.
///
/// **Cost:** one `inverse_diagonal()` (one pass over the M-FAC factor) + O(d).
/// **Reference:** B. Hassibi, D. Stork, "Second order derivatives for network pruning: Optimal
/// Brain Surgeon", NIPS 1992; Frantar et al., NeurIPS 2021, §3 (M-FAC pruning).
template <InverseDiagonalOperator F>
Vector<typename F::Scalar> obs_scores(const F& fisher,
                                      const Eigen::Ref<const Vector<typename F::Scalar>>& w) {
  using S = typename F::Scalar;
  curvop::detail::require_conformant(w.size() == fisher.cols(), "mfac::obs_scores: w", w,
                                     Vector<S>(fisher.cols()));
  const Vector<S> dinv = fisher.inverse_diagonal();
  return (w.array().square() / (S(2) * dinv.array())).matrix();
}

/// Prunes the `count` weights of lowest OBS saliency (ties: lower index first), all at once:
/// \f[ e_k = -w_k / [F^{-1}]_{kk} \ (k \text{ pruned}),\ e_k = 0 \text{ otherwise},\qquad
///     w \leftarrow w + F^{-1} e,\qquad w_k \leftarrow 0 \ (k \text{ pruned}). \f]
/// The compensation is the WoodFisher/M-FAC approximation that ignores the interaction of the
/// pruned weights (exact OBS for count = 1). Returns the mask, true where a weight was pruned.
/// Throws `DimensionMismatch` for a wrong length and `std::invalid_argument` for count outside
/// [0, d].
///
/// **Cost:** one `inverse_diagonal()` + one `apply_inverse` + O(d log d).
/// **Reference:** Frantar et al., NeurIPS 2021, §3 and IST-DASLab/M-FAC `main_prun.py`.
template <InverseDiagonalOperator F>
Eigen::Array<bool, Eigen::Dynamic, 1> obs_prune(const F& fisher,
                                                Eigen::Ref<Vector<typename F::Scalar>> w,
                                                Index count) {
  using S = typename F::Scalar;
  const Index d = fisher.cols();
  curvop::detail::require_conformant(w.size() == d, "mfac::obs_prune: w", w, Vector<S>(d));
  curvop::detail::require_argument(count >= 0 && count <= d, "mfac::obs_prune",
                                   "count must be in [0, d]", count);
  const Vector<S> dinv = fisher.inverse_diagonal();
  const Vector<S> score = (w.array().square() / (S(2) * dinv.array())).matrix();
  std::vector<Index> order(static_cast<std::size_t>(d));
  std::iota(order.begin(), order.end(), Index(0));
  const auto less = [&](Index a, Index b) {
    return score(a) < score(b) || (score(a) == score(b) && a < b);
  };
  std::nth_element(order.begin(), order.begin() + count, order.end(), less);
  Eigen::Array<bool, Eigen::Dynamic, 1> mask = Eigen::Array<bool, Eigen::Dynamic, 1>::Zero(d);
  Vector<S> e = Vector<S>::Zero(d);
  for (Index t = 0; t < count; ++t) {
    const Index k = order[static_cast<std::size_t>(t)];
    mask(k) = true;
    e(k) = -w(k) / dinv(k);
  }
  if (count == 0) return mask;
  Vector<S> delta(d);
  fisher.apply_inverse(e, delta);
  w += delta;
  for (Index k = 0; k < d; ++k) {
    if (mask(k)) w(k) = S(0);
  }
  return mask;
}

}  // namespace curvop::mfac

#endif  // CURVOP_MFAC_PRUNING_HPP
