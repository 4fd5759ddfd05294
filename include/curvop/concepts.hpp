// SPDX-License-Identifier: MIT
// The linear-operator concept every curvop operator models, and its capability concepts.
#ifndef CURVOP_CONCEPTS_HPP
#define CURVOP_CONCEPTS_HPP

#include <concepts>
#include <curvop/config.hpp>
#include <type_traits>

namespace curvop {

/// A linear operator A (rows() x cols()) with `apply(x, y)`: y = A x.
///
/// Contract of every model:
/// - `x` is `cols() x k`, `y` is `rows() x k`, k >= 1 (several right-hand sides in one call);
///   `y` is preallocated and overwritten; `x` and `y` never alias.
/// - `apply*` are `const` and safe to call from several threads at once (no mutable caches);
///   state changes only in named mutators (`push`, `update`, `compute`).
/// - `Scalar` is `float` or `double`.
template <class Op>
concept LinearOperator =
    std::floating_point<typename Op::Scalar> &&
    requires(const Op& op, const ConstRef<typename Op::Scalar>& x, MutRef<typename Op::Scalar> y) {
      { op.rows() } -> std::convertible_to<Index>;
      { op.cols() } -> std::convertible_to<Index>;
      op.apply(x, y);
    };

/// Capability: y = Aᵀ x through `apply_transpose(x, y)`.
template <class Op>
concept TransposableOperator =
    LinearOperator<Op> &&
    requires(const Op& op, const ConstRef<typename Op::Scalar>& x, MutRef<typename Op::Scalar> y) {
      op.apply_transpose(x, y);
    };

/// Capability: y = A⁻¹ x through `apply_inverse(x, y)` (the IHVP of a curvature operator).
template <class Op>
concept InvertibleOperator =
    LinearOperator<Op> &&
    requires(const Op& op, const ConstRef<typename Op::Scalar>& x, MutRef<typename Op::Scalar> y) {
      op.apply_inverse(x, y);
    };

/// Capability: y += alpha A x through `apply_add(x, y, alpha)` without a temporary.
template <class Op>
concept AccumulatingOperator =
    LinearOperator<Op> && requires(const Op& op, const ConstRef<typename Op::Scalar>& x,
                                   MutRef<typename Op::Scalar> y, typename Op::Scalar alpha) {
      op.apply_add(x, y, alpha);
    };

/// Capability: the diagonal of A as a vector through `diagonal()`.
template <class Op>
concept DiagonalExtractable = LinearOperator<Op> && requires(const Op& op) {
  { op.diagonal() } -> std::convertible_to<Vector<typename Op::Scalar>>;
};

namespace detail {
template <class Op>
constexpr bool symmetric_flag() {
  if constexpr (requires { Op::is_symmetric; }) {
    return static_cast<bool>(Op::is_symmetric);
  } else {
    return false;
  }
}
}  // namespace detail

/// Property: A = Aᵀ, opted into with `static constexpr bool is_symmetric = true;`.
template <class Op>
inline constexpr bool is_symmetric_v = detail::symmetric_flag<std::remove_cvref_t<Op>>();

/// The scalar type of an operator.
template <LinearOperator Op>
using scalar_t = typename Op::Scalar;

namespace detail {

/// True when x (cols x k) and y (rows x k) fit an operator of the given shape.
template <class X, class Y>
bool conformant(Index rows, Index cols, const X& x, const Y& y) {
  return x.rows() == cols && y.rows() == rows && x.cols() == y.cols() && x.cols() >= 1;
}

}  // namespace detail
}  // namespace curvop

/// The size precondition of `apply*` on an operator `op` of shape rows x cols.
#define CURVOP_ASSERT_APPLY(op_rows, op_cols, x, y)                         \
  CURVOP_ASSERT(::curvop::detail::conformant((op_rows), (op_cols), (x), (y)), \
                "apply: x must be cols() x k and y rows() x k with k >= 1")

#endif  // CURVOP_CONCEPTS_HPP
