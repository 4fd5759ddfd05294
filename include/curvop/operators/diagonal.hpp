// SPDX-License-Identifier: MIT
// Diagonal operators: Diagonal(d), Identity(n) and ScaledIdentity(n, s), with closed-form inverses.
#ifndef CURVOP_OPERATORS_DIAGONAL_HPP
#define CURVOP_OPERATORS_DIAGONAL_HPP

#include <curvop/concepts.hpp>
#include <utility>

namespace curvop {

/// D = diag(d). `apply` is d ⊙ x, `apply_inverse` x ⊘ d (entries of d must be non-zero for
/// the inverse; this is not checked because a zero gives the IEEE result, Inf).
///
/// Cost: n·k flops per apply, no extra memory.
template <class S>
class Diagonal {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  explicit Diagonal(Vector<S> d) : m_d(std::move(d)) {}

  Index rows() const { return m_d.size(); }
  Index cols() const { return m_d.size(); }
  /// The diagonal d.
  const Vector<S>& diagonal() const { return m_d; }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = m_d.asDiagonal() * x;
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * (m_d.asDiagonal() * x);
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = m_d.cwiseInverse().asDiagonal() * x;
  }

 private:
  Vector<S> m_d;
};

/// s·I of size n (s = 1 is the identity). Cost: n·k flops per apply.
template <class S>
class ScaledIdentity {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  ScaledIdentity(Index n, S s) : m_n(n), m_s(s) {
    detail::require_argument(n >= 0, "ScaledIdentity", "size must be >= 0", n);
  }

  Index rows() const { return m_n; }
  Index cols() const { return m_n; }
  /// The scale s.
  S scale() const { return m_s; }
  Vector<S> diagonal() const { return Vector<S>::Constant(m_n, m_s); }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = m_s * x;
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += (alpha * m_s) * x;
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() = (S(1) / m_s) * x;
  }

 private:
  Index m_n;
  S m_s;
};

/// The identity I of size n. Cost: one copy per apply.
template <class S>
class Identity {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  explicit Identity(Index n) : m_n(n) {
    detail::require_argument(n >= 0, "Identity", "size must be >= 0", n);
  }

  Index rows() const { return m_n; }
  Index cols() const { return m_n; }
  Vector<S> diagonal() const { return Vector<S>::Ones(m_n); }

  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y = x;
  }
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y.noalias() += alpha * x;
  }
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    y = x;
  }

 private:
  Index m_n;
};

/// The operator diag(d) from any Eigen vector expression. (`diagonal(op)` on an operator, in
/// functions.hpp, extracts a diagonal instead; Eigen types are never operators, so the two
/// overloads cannot be confused.)
template <class Derived>
  requires(Derived::ColsAtCompileTime == 1)
[[nodiscard]] Diagonal<typename Derived::Scalar> diagonal(const Eigen::MatrixBase<Derived>& d) {
  return Diagonal<typename Derived::Scalar>(d.eval());
}

/// The identity of size n.
template <class S>
[[nodiscard]] Identity<S> identity(Index n) {
  return Identity<S>(n);
}

/// s·I of size n.
template <class S>
[[nodiscard]] ScaledIdentity<S> scaled_identity(Index n, S s) {
  return ScaledIdentity<S>(n, s);
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_DIAGONAL_HPP
