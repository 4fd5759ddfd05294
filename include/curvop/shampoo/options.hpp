// SPDX-License-Identifier: MIT
// Options of the Shampoo preconditioner: variant (Shampoo, Shampoo², one-sided), statistics,
// epsilon, root method, blocking and grafting.
#ifndef CURVOP_SHAMPOO_OPTIONS_HPP
#define CURVOP_SHAMPOO_OPTIONS_HPP

#include <cmath>
#include <curvop/config.hpp>
#include <curvop/matrix_functions/root_options.hpp>

namespace curvop::shampoo {

/// Which Kronecker preconditioner is applied to a matrix gradient G (rows x cols), with
/// \f$ L = \sum G G^\top \f$ and \f$ R = \sum G^\top G \f$ (or their EMAs).
enum class Variant {
  /// \f$ L^{-1/4} G R^{-1/4} \f$ (Gupta et al. 2018): the inverse square root of the Kronecker
  /// approximation \f$ (L \otimes R)^{1/2} \f$ of the AdaGrad matrix.
  Shampoo,
  /// \f$ L^{-1/2} G R^{-1/2} \f$ (Morwani et al. 2025): the square of Shampoo's approximation,
  /// \f$ L \otimes R \f$, is one power-iteration step towards the Frobenius-optimal Kronecker
  /// approximation of \f$ E[\mathrm{vec}(G)\mathrm{vec}(G)^\top] \f$ (see nearest_kronecker.hpp).
  ShampooSquared,
  /// One-sided \f$ L^{-1/2} G \f$ (ASGO, An et al. 2025): only the left factor is kept, so the
  /// memory and root cost of the (larger) right factor disappear.
  OneSided
};

/// The direction whose per-block Frobenius norm the Shampoo direction is rescaled to.
enum class Grafting {
  None,     ///< the raw Shampoo direction
  Sgd,      ///< ‖G‖ (the SGD step)
  AdaGrad,  ///< ‖G ⊘ (√(Σ G²) + ε_g)‖
  Adam      ///< ‖G ⊘ (√v̂ + ε_g)‖, v = β_g v + (1 − β_g) G², v̂ = v/(1 − β_gᵗ) (RMSProp, no momentum)
};

/// Options of `Shampoo<S>`; an aggregate built with designated initializers, checked by
/// `validate()` in the constructor.
struct Options {
  /// Shampoo (exponent 1/4 per side), Shampoo² (1/2 per side) or one-sided (left only, 1/2).
  Variant variant = Variant::Shampoo;
  /// Override of the root order p (inverse p-th roots); 0 keeps the variant's (4, 2, 2).
  int root_order = 0;
  /// Statistics: 1 keeps plain sums \f$ L_t = L_{t-1} + G G^\top \f$ (original Shampoo); β₂ < 1
  /// keeps the EMA \f$ L_t = β_2 L_{t-1} + (1-β_2) G G^\top \f$, used bias-corrected,
  /// \f$ L_t / (1 - β_2^t) \f$.
  double beta2 = 1.0;
  /// Regularisation of each factor before its root: \f$ (L + \epsilon I)^{-1/p} \f$.
  double epsilon = 1e-6;
  /// ε absolute or relative to each factor's λ_max (default: relative, so scale invariant).
  EpsilonMode epsilon_mode = EpsilonMode::RelativeToMax;
  /// Root method of the factors: eigendecomposition (default) or coupled Newton.
  RootMethod root_method = RootMethod::Eigendecomposition;
  /// Coupled Newton iteration limit.
  int newton_max_iterations = 100;
  /// A factor root whose residual exceeds this is not accepted as is (see `inverse_root`).
  double max_residual = 0.1;
  /// Run the jitter/double rungs of the fallback ladder before keeping the previous root.
  bool root_fallback = true;
  /// For `Shampoo<float>`: compute the roots in double (statistics stay float). Float roots of a
  /// factor with κ = λ_max/ε = 1e6 have residuals of order 0.1; in double they are exact.
  bool roots_in_double = true;
  /// Dimensions above this are split into blocks of at most `max_block` (FB's blocking): each
  /// block of G gets its own L and R, and all roots are computed as one batch.
  Index max_block = 1024;
  /// Grafting of the direction's per-block norm.
  Grafting grafting = Grafting::None;
  /// Adam grafting: decay β_g of the second moment.
  double graft_beta2 = 0.999;
  /// AdaGrad/Adam grafting: ε_g added to the square root.
  double graft_epsilon = 1e-8;

  /// The inverse root order p of the factors.
  [[nodiscard]] int order() const {
    if (root_order > 0) return root_order;
    return variant == Variant::Shampoo ? 4 : 2;
  }

  /// The options passed to `inverse_root_batch`.
  [[nodiscard]] RootOptions root_options() const {
    return RootOptions{.method = root_method,
                       .epsilon = epsilon,
                       .epsilon_mode = epsilon_mode,
                       .max_iterations = newton_max_iterations,
                       .max_residual = max_residual,
                       .fallback = root_fallback};
  }

  /// Throws `std::invalid_argument` naming the offending option.
  void validate() const {
    constexpr const char* where = "shampoo::Options";
    curvop::detail::require_argument(root_order >= 0, where, "root_order must be >= 0", root_order);
    curvop::detail::require_argument(beta2 > 0.0 && beta2 <= 1.0, where, "beta2 must be in (0, 1]",
                             beta2);
    curvop::detail::require_argument(max_block >= 1, where, "max_block must be >= 1", max_block);
    curvop::detail::require_argument(graft_beta2 > 0.0 && graft_beta2 < 1.0, where,
                             "graft_beta2 must be in (0, 1)", graft_beta2);
    curvop::detail::require_argument(std::isfinite(graft_epsilon) && graft_epsilon > 0.0, where,
                             "graft_epsilon must be finite and > 0", graft_epsilon);
    root_options().validate();
  }
};

}  // namespace curvop::shampoo

#endif  // CURVOP_SHAMPOO_OPTIONS_HPP
