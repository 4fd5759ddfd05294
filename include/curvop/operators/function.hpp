// SPDX-License-Identifier: MIT
// An operator from a user's callable: how users plug in their own Hessian-vector products.
#ifndef CURVOP_OPERATORS_FUNCTION_HPP
#define CURVOP_OPERATORS_FUNCTION_HPP

#include <concepts>
#include <curvop/concepts.hpp>
#include <type_traits>
#include <utility>

namespace curvop {

/// A rows x cols operator whose `apply(x, y)` calls `fn(x, y)`.
///
/// `fn` has the signature `void(const ConstRef<S>& x, MutRef<S> y)`, receives all k right-hand
/// sides at once (x is cols x k) and must overwrite y (rows x k). It must be safe to call from
/// several threads at once if the operator is (the library never calls it concurrently unless
/// the user does). Symmetry is a compile-time property: pass the tag `curvop::symmetric` to
/// `function_operator` so that algorithms can derive `apply_transpose` from `apply`.
///
/// Cost: that of `fn`.
/// \tparam S float or double
/// \tparam F the callable's type (stored by value)
/// \tparam Symmetric whether A = Aᵀ is known at compile time
template <class S, class F, bool Symmetric = false>
class FunctionOperator {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = Symmetric;

  FunctionOperator(Index rows, Index cols, F fn) : m_rows(rows), m_cols(cols), m_fn(std::move(fn)) {
    detail::require_argument(rows >= 0, "function_operator", "rows must be >= 0", rows);
    detail::require_argument(cols >= 0, "function_operator", "cols must be >= 0", cols);
    detail::require_argument(!Symmetric || rows == cols, "function_operator",
                             "a symmetric operator must be square; rows", rows);
  }

  Index rows() const { return m_rows; }
  Index cols() const { return m_cols; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_fn(x, y);
  }

  /// The stored callable.
  const F& function() const { return m_fn; }

 private:
  Index m_rows;
  Index m_cols;
  F m_fn;
};

/// Tag that declares a wrapped callable symmetric: `function_operator<S>(n, n, fn, symmetric)`.
struct SymmetricTag {
  explicit constexpr SymmetricTag() = default;
};
/// The tag value.
inline constexpr SymmetricTag symmetric{};

/// Wraps `fn(const ConstRef<S>&, MutRef<S>)` as a general rows x cols operator.
template <class S, class F>
  requires std::invocable<const F&, const ConstRef<S>&, MutRef<S>>
[[nodiscard]] FunctionOperator<S, std::decay_t<F>> function_operator(Index rows, Index cols,
                                                                     F&& fn) {
  return FunctionOperator<S, std::decay_t<F>>(rows, cols, std::forward<F>(fn));
}

/// Wraps `fn` as an operator known to be symmetric (a Hessian-vector product, say), so that
/// `is_symmetric_v` holds and `apply_transpose`, CG and the symmetric estimators accept it.
/// rows must equal cols (`std::invalid_argument` otherwise).
template <class S, class F>
  requires std::invocable<const F&, const ConstRef<S>&, MutRef<S>>
[[nodiscard]] FunctionOperator<S, std::decay_t<F>, true> function_operator(Index rows, Index cols,
                                                                           F&& fn, SymmetricTag) {
  return FunctionOperator<S, std::decay_t<F>, true>(rows, cols, std::forward<F>(fn));
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_FUNCTION_HPP
