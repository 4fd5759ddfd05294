// SPDX-License-Identifier: MIT
// GaLoreAdam<S>: Adam(W) run in the projected space of a GaLoreProjector, for one weight matrix.
#ifndef CURVOP_LOWRANK_GALORE_ADAM_HPP
#define CURVOP_LOWRANK_GALORE_ADAM_HPP

#include <cmath>
#include <curvop/lowrank/galore_projector.hpp>

namespace curvop::lowrank {

/// Hyper-parameters of the Adam step of `GaLoreAdam` (PyTorch's AdamW names and defaults).
struct AdamOptions {
  double lr = 1e-3;            ///< η
  double beta1 = 0.9;          ///< β₁, in [0, 1)
  double beta2 = 0.999;        ///< β₂, in [0, 1)
  double eps = 1e-8;           ///< ε, > 0
  double weight_decay = 0.0;   ///< decoupled (AdamW) weight decay λ, >= 0
  double scale = 1.0;          ///< GaLore's α multiplying the lifted update (reference: 0.25)

  /// Throws `std::invalid_argument` naming the first bad field.
  void validate() const {
    const char* w = "lowrank::AdamOptions";
    curvop::detail::require_argument(std::isfinite(lr) && lr > 0, w, "lr must be > 0", lr);
    curvop::detail::require_argument(beta1 >= 0 && beta1 < 1, w, "beta1 must be in [0, 1)", beta1);
    curvop::detail::require_argument(beta2 >= 0 && beta2 < 1, w, "beta2 must be in [0, 1)", beta2);
    curvop::detail::require_argument(eps > 0, w, "eps must be > 0", eps);
    curvop::detail::require_argument(weight_decay >= 0, w, "weight_decay must be >= 0",
                                     weight_decay);
    curvop::detail::require_argument(std::isfinite(scale) && scale > 0, w, "scale must be > 0",
                                     scale);
  }
};

/// GaLore-Adam for one m x n weight W: at step t with gradient G,
/// \f[ R = \mathrm{project}(G),\quad M \leftarrow β_1 M + (1-β_1) R,\quad
///     V \leftarrow β_2 V + (1-β_2) R \circ R, \f]
/// \f[ N = \frac{M/(1-β_1^t)}{\sqrt{V/(1-β_2^t)} + ε},\qquad
///     W \leftarrow W - η\,α\,\mathrm{project\_back}(N) - η λ W. \f]
/// M and V live in the projected space (r x n or m x r): the optimizer state is 2·r·max-side
/// scalars instead of Adam's 2·m·n. When the projector refreshes, M and V are transported into
/// the new basis as `GaLoreOptions::transport` says (rotated by default; `Reset` also restarts
/// the bias correction t).
///
/// With r = min(m, n) and a basis that is a signed permutation (e.g. after a first gradient
/// whose singular vectors are coordinate vectors) it is exactly Adam, since Adam commutes with
/// signed permutations of the coordinates; for a general basis it is Adam in rotated coordinates.
///
/// Errors: `step` throws `DimensionMismatch` for W or G not m x n and `InvalidInput` for a
/// non-finite G (W, the moments and the projector unchanged); it returns the projector's
/// `NumericalIssue` when a refresh fails, in which case the step is still taken in the previous
/// basis (or skipped, W unchanged, when there is no basis yet).
///
/// **Cost:** per step, `project` and `project_back` (2·m·n·r flops each) plus O(m·n) for the
/// update, plus the refresh cost every T steps; memory 2·(projected size) + the basis.
/// **Reference:** J. Zhao et al., "GaLore", ICML 2024 (Algorithm 2); D. P. Kingma, J. Ba,
/// "Adam", ICLR 2015; I. Loshchilov, F. Hutter, "Decoupled weight decay", ICLR 2019.
/// \tparam S float or double
template <class S>
class GaLoreAdam {
 public:
  using Scalar = S;

  GaLoreAdam(Index rows, Index cols, Index rank, GaLoreOptions projector = {},
             AdamOptions adam = {})
      : m_proj(rows, cols, rank, projector), m_adam(adam) {
    m_adam.validate();
    m_m.setZero(m_proj.projected_rows(), m_proj.projected_cols());
    m_v.setZero(m_proj.projected_rows(), m_proj.projected_cols());
    m_n.resize(m_proj.projected_rows(), m_proj.projected_cols());
  }

  /// One optimizer step on W (m x n, updated in place) with gradient G (m x n).
  [[nodiscard]] Info step(MutRef<S> w, const ConstRef<S>& g) {
    curvop::detail::require_conformant(w.rows() == m_proj.rows() && w.cols() == m_proj.cols(),
                                       "lowrank::GaLoreAdam::step: W must be rows x cols", w,
                                       detail::Shape{m_proj.rows(), m_proj.cols()});
    // The projector checks G's shape and finiteness before it changes anything.
    const Info info = m_proj.update(g);
    if (!m_proj.initialized()) return info;
    if (m_proj.transport(m_m, m_v)) m_t = 0;
    ++m_t;
    m_proj.project(g, m_n);  // R, reusing the buffer of N
    const S b1 = static_cast<S>(m_adam.beta1), b2 = static_cast<S>(m_adam.beta2);
    m_m = b1 * m_m + (S(1) - b1) * m_n;
    m_v = b2 * m_v + (S(1) - b2) * m_n.cwiseAbs2();
    const double t = static_cast<double>(m_t);
    const S c1 = static_cast<S>(1.0 / (1.0 - std::pow(m_adam.beta1, t)));
    const S c2 = static_cast<S>(1.0 / std::sqrt(1.0 - std::pow(m_adam.beta2, t)));
    const S eps = static_cast<S>(m_adam.eps);
    m_n = (c1 * m_m.array()) / (c2 * m_v.array().sqrt() + eps);
    if (m_adam.weight_decay > 0) w *= static_cast<S>(1.0 - m_adam.lr * m_adam.weight_decay);
    m_proj.project_back_add(m_n, w, static_cast<S>(-m_adam.lr * m_adam.scale));
    return info;
  }

  const GaLoreProjector<S>& projector() const { return m_proj; }
  const AdamOptions& adam_options() const { return m_adam; }
  /// Sets the learning rate (schedules); throws like `AdamOptions::validate`.
  void set_lr(double lr) {
    AdamOptions a = m_adam;
    a.lr = lr;
    a.validate();
    m_adam = a;
  }
  /// First moment M (projected shape).
  const Matrix<S>& first_moment() const { return m_m; }
  /// Second moment V (projected shape).
  const Matrix<S>& second_moment() const { return m_v; }
  /// Steps since the start (or since the last `Reset` transport): the t of the bias correction.
  Index bias_step() const { return m_t; }
  /// Scalars of optimizer state: M, V and the basis P (Adam on W would hold 2·m·n).
  Index state_size() const {
    return m_m.size() + m_v.size() + m_proj.basis_dim() * m_proj.rank();
  }

 private:
  GaLoreProjector<S> m_proj;
  AdamOptions m_adam;
  Matrix<S> m_m, m_v, m_n;
  Index m_t = 0;
};

}  // namespace curvop::lowrank

#endif  // CURVOP_LOWRANK_GALORE_ADAM_HPP
