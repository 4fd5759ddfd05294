// SPDX-License-Identifier: MIT
// A type-erased owning operator, for run-time heterogeneous lists (one preconditioner per layer).
#ifndef CURVOP_OPERATORS_ANY_OPERATOR_HPP
#define CURVOP_OPERATORS_ANY_OPERATOR_HPP

#include <memory>
#include <curvop/functions.hpp>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace curvop {

/// Any operator of scalar S behind one type: `AnyOperator<double> a = some_kfac_block;`.
///
/// It models every capability of the concept at compile time; whether the held operator really
/// has `apply_transpose` (or is symmetric), `apply_inverse` or `diagonal` is known at run time
/// (`has_transpose()`, `has_inverse()`, `has_diagonal()`), and calling a missing one throws
/// `std::logic_error` naming it. `diagonal()` falls back to probing (see `curvop::diagonal`).
/// The held operator is immutable and shared between copies (copies are cheap).
/// Algorithms stay templates: use this only where the operator type is chosen at run time.
///
/// Cost: the held operator's, plus one virtual call per apply.
template <class S>
class AnyOperator {
 public:
  using Scalar = S;

  template <LinearOperator Op>
    requires(!std::same_as<std::remove_cvref_t<Op>, AnyOperator> &&
             std::same_as<scalar_t<Op>, S>)
  AnyOperator(Op op)  // NOLINT(google-explicit-constructor): implicit, like std::function
      : m_impl(std::make_shared<const Model<Op>>(std::move(op))) {}

  Index rows() const { return m_impl->rows(); }
  Index cols() const { return m_impl->cols(); }
  bool has_transpose() const { return m_impl->has_transpose(); }
  bool has_inverse() const { return m_impl->has_inverse(); }
  bool has_diagonal() const { return m_impl->has_diagonal(); }
  /// True when the held operator declares `is_symmetric`.
  bool symmetric() const { return m_impl->symmetric(); }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_impl->apply(x, y);
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_impl->apply_add(x, y, alpha);
  }
  void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    m_impl->apply_transpose(x, y);
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    m_impl->apply_inverse(x, y);
  }
  Vector<S> diagonal() const { return m_impl->diagonal(); }

 private:
  struct Concept {
    virtual ~Concept() = default;
    virtual Index rows() const = 0;
    virtual Index cols() const = 0;
    virtual bool has_transpose() const = 0;
    virtual bool has_inverse() const = 0;
    virtual bool has_diagonal() const = 0;
    virtual bool symmetric() const = 0;
    virtual void apply(const ConstRef<S>& x, MutRef<S> y) const = 0;
    virtual void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const = 0;
    virtual void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const = 0;
    virtual void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const = 0;
    virtual Vector<S> diagonal() const = 0;
  };

  template <class Op>
  struct Model final : Concept {
    explicit Model(Op o) : op(std::move(o)) {}
    Index rows() const override { return op.rows(); }
    Index cols() const override { return op.cols(); }
    bool has_transpose() const override {
      return TransposableOperator<Op> || is_symmetric_v<Op>;
    }
    bool has_inverse() const override { return InvertibleOperator<Op>; }
    bool has_diagonal() const override { return DiagonalExtractable<Op>; }
    bool symmetric() const override { return is_symmetric_v<Op>; }
    void apply(const ConstRef<S>& x, MutRef<S> y) const override { op.apply(x, y); }
    void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const override {
      ::curvop::apply_add(op, x, y, alpha);
    }
    void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const override {
      if constexpr (TransposableOperator<Op> || is_symmetric_v<Op>) {
        ::curvop::apply_transpose(op, x, y);
      } else {
        throw std::logic_error("AnyOperator::apply_transpose: the held operator has no transpose");
      }
    }
    void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const override {
      if constexpr (InvertibleOperator<Op>) {
        op.apply_inverse(x, y);
      } else {
        throw std::logic_error("AnyOperator::apply_inverse: the held operator has no inverse");
      }
    }
    Vector<S> diagonal() const override { return ::curvop::diagonal(op); }
    Op op;
  };

  std::shared_ptr<const Concept> m_impl;
};

}  // namespace curvop

#endif  // CURVOP_OPERATORS_ANY_OPERATOR_HPP
