// SPDX-License-Identifier: MIT
// Tolerances of the test suite: the only place they are defined. They scale with epsilon, the
// inner dimension of the computation and the condition number.
#ifndef CURVOP_TESTS_SUPPORT_TOLERANCE_HPP
#define CURVOP_TESTS_SUPPORT_TOLERANCE_HPP

#include <Eigen/Core>
#include <algorithm>
#include <limits>

namespace curvop::test {

template <class S>
constexpr double eps() {
  return static_cast<double>(std::numeric_limits<S>::epsilon());
}

/// Relative error in the Frobenius norm, ‖a − ref‖ / max(‖ref‖, tiny), computed in double.
template <class A, class B>
double rel_err(const Eigen::MatrixBase<A>& a, const Eigen::MatrixBase<B>& ref) {
  const auto ad = a.template cast<double>().eval();
  const auto rd = ref.template cast<double>().eval();
  return (ad - rd).norm() / std::max(rd.norm(), 1e-300);
}

/// Forward error bound of a product with inner dimension k: 10·k·eps.
template <class S>
double apply_tol(double k) {
  return 10.0 * std::max(k, 1.0) * eps<S>();
}

/// Error bound of a solve with inner dimension k and condition number kappa: 10·k·κ·eps.
template <class S>
double inverse_tol(double k, double kappa) {
  return 10.0 * std::max(k, 1.0) * std::max(kappa, 1.0) * eps<S>();
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_SUPPORT_TOLERANCE_HPP
