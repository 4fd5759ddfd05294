// SPDX-License-Identifier: MIT
// A Hessian-vector product by finite differences of a user's gradient, for users without
// automatic differentiation.
#ifndef CURVOP_ESTIMATORS_FINITE_DIFFERENCE_HPP
#define CURVOP_ESTIMATORS_FINITE_DIFFERENCE_HPP

#include <cmath>
#include <concepts>
#include <curvop/concepts.hpp>
#include <utility>

namespace curvop {

/// The difference scheme of `FiniteDifferenceHvp`.
enum class DifferenceScheme {
  Central,  ///< (g(x + h v) − g(x − h v)) / 2h: error O(h²) + O(ε/h), 2 gradients per product
  Forward   ///< (g(x + h v) − g(x)) / h: error O(h) + O(ε/h), 1 gradient per product
};

/// Options of `finite_difference_hvp`.
struct FiniteDifferenceOptions {
  /// Central (default, more accurate) or forward (half the gradient calls).
  DifferenceScheme scheme = DifferenceScheme::Central;
  /// Relative step η: the step along a direction v is h = η·(1 + ‖x‖)/‖v‖, so that the point
  /// moves by η relative to the scale of x. 0 selects the step that balances truncation against
  /// rounding for a gradient of unit-scale third (second) derivatives: ε^(1/3) for central
  /// differences (6e-6 in double, 5e-3 in float), ε^(1/2) for forward (1.5e-8, 3.5e-4).
  double relative_step = 0.0;

  /// Throws `std::invalid_argument` naming the option, the rule and the value.
  void validate() const {
    detail::require_argument(std::isfinite(relative_step) && relative_step >= 0 &&
                                 relative_step < 1,
                             "estimators::FiniteDifferenceOptions",
                             "relative_step must be in [0, 1) (0: automatic)", relative_step);
  }
};

/// The symmetric operator H v ≈ (g(x₀ + h v) − g(x₀ − h v)) / 2h from a gradient callback g at a
/// fixed point x₀ (or the forward scheme), one column at a time.
///
/// Error: the central scheme has truncation error \f$ \frac{h^2}{6}\|\nabla^3 L[v,v,v]\| \f$
/// and rounding error about \f$ \varepsilon\|g\|/h \f$ per unit ‖v‖; h ∝ ε^{1/3} balances them,
/// giving about ε^{2/3} relative accuracy (1e-10 in double). The result is only symmetric to that
/// accuracy; the operator declares `is_symmetric` because the Hessian it approximates is.
///
/// The gradient is called as `grad(const Vector<S>& x, Vector<S>& g)` (g has size n on entry),
/// from the calling thread only. A zero column gives a zero product without a gradient call.
///
/// **Cost:** 2 gradient evaluations per column (central) or 1 (forward; g(x₀) is computed once at
/// construction); O(n) extra memory.
/// **Reference:** Nocedal, Wright, "Numerical Optimization", 2nd ed., §8.1 (finite-difference
/// Hessian-vector products and their step size).
template <class S, class G>
class FiniteDifferenceHvp {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  FiniteDifferenceHvp(G grad, Vector<S> x0, const FiniteDifferenceOptions& options)
      : m_grad(std::move(grad)), m_x0(std::move(x0)), m_options(options) {
    m_options.validate();
    detail::require_finite(m_x0, "finite_difference_hvp: x0");
    const double eps = Eigen::NumTraits<S>::epsilon();
    m_eta = m_options.relative_step > 0
                ? m_options.relative_step
                : (m_options.scheme == DifferenceScheme::Central ? std::cbrt(eps) : std::sqrt(eps));
    if (m_options.scheme == DifferenceScheme::Forward) {
      m_g0.resize(m_x0.size());
      m_grad(m_x0, m_g0);
      detail::require_finite(m_g0, "finite_difference_hvp: gradient at x0");
    }
  }

  Index rows() const { return m_x0.size(); }
  Index cols() const { return m_x0.size(); }
  /// The point x₀ of the Hessian.
  const Vector<S>& point() const { return m_x0; }
  /// The relative step η in use.
  double relative_step() const { return m_eta; }

  /// y ≈ H x, column by column (x is n x k, y preallocated n x k).
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    const Index n = rows();
    Vector<S> xp(n), gp(n), gm(n);
    const double scale = 1.0 + static_cast<double>(m_x0.norm());
    for (Index j = 0; j < x.cols(); ++j) {
      const double nv = static_cast<double>(x.col(j).norm());
      if (nv == 0) {
        y.col(j).setZero();
        continue;
      }
      const S h = static_cast<S>(m_eta * scale / nv);
      xp = m_x0 + h * x.col(j);
      m_grad(std::as_const(xp), gp);
      if (m_options.scheme == DifferenceScheme::Central) {
        xp = m_x0 - h * x.col(j);
        m_grad(std::as_const(xp), gm);
        y.col(j) = (gp - gm) / (S(2) * h);
      } else {
        y.col(j) = (gp - m_g0) / h;
      }
    }
  }

 private:
  G m_grad;
  Vector<S> m_x0;
  Vector<S> m_g0;
  FiniteDifferenceOptions m_options;
  double m_eta = 0;
};

/// The finite-difference Hessian-vector product of `grad` at x0 as a symmetric operator, ready
/// for every estimator: `estimate_trace(finite_difference_hvp<double>(grad, x0), ...)`.
/// \throws std::invalid_argument for bad options, InvalidInput for a non-finite x0 (or gradient
///         at x0 with the forward scheme)
template <class S, class G>
  requires std::invocable<G&, const Vector<S>&, Vector<S>&>
[[nodiscard]] FiniteDifferenceHvp<S, std::decay_t<G>> finite_difference_hvp(
    G&& grad, Vector<S> x0, const FiniteDifferenceOptions& options = {}) {
  return FiniteDifferenceHvp<S, std::decay_t<G>>(std::forward<G>(grad), std::move(x0), options);
}

}  // namespace curvop

#endif  // CURVOP_ESTIMATORS_FINITE_DIFFERENCE_HPP
