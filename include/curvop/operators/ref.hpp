// SPDX-License-Identifier: MIT
// Explicit references to operators: composites store operands by value unless given a cref.
#ifndef CURVOP_OPERATORS_REF_HPP
#define CURVOP_OPERATORS_REF_HPP

#include <curvop/functions.hpp>

namespace curvop {

/// A non-owning reference to an operator, forwarding every capability it has. The referenced
/// operator must outlive the reference (and every composite holding it). Composites store their
/// operands by value; `cref(op)` is the explicit way to share a large operator instead.
///
/// Cost: that of the referenced operator.
template <LinearOperator Op>
class OperatorRef {
 public:
  using Scalar = scalar_t<Op>;
  static constexpr bool is_symmetric = is_symmetric_v<Op>;

  explicit OperatorRef(const Op& op) : m_op(&op) {}

  Index rows() const { return m_op->rows(); }
  Index cols() const { return m_op->cols(); }
  /// The referenced operator.
  const Op& get() const { return *m_op; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const { m_op->apply(x, y); }
  void apply_add(const ConstRef<Scalar>& x, MutRef<Scalar> y, Scalar alpha) const
    requires AccumulatingOperator<Op>
  {
    m_op->apply_add(x, y, alpha);
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires TransposableOperator<Op>
  {
    m_op->apply_transpose(x, y);
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires InvertibleOperator<Op>
  {
    m_op->apply_inverse(x, y);
  }
  Vector<Scalar> diagonal() const
    requires DiagonalExtractable<Op>
  {
    return m_op->diagonal();
  }

 private:
  const Op* m_op;
};

/// An explicit reference to `op` (which must outlive every use of the reference).
template <LinearOperator Op>
[[nodiscard]] OperatorRef<Op> cref(const Op& op) {
  return OperatorRef<Op>(op);
}
/// References to temporaries would dangle: refused at compile time.
template <LinearOperator Op>
void cref(const Op&&) = delete;

}  // namespace curvop

#endif  // CURVOP_OPERATORS_REF_HPP
