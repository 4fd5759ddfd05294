// SPDX-License-Identifier: MIT
// The operator algebra: sums, products, scaling, shifts, transposes and lazy inverses, with the
// compile-time simplifications of STYLE.md §5 and the operator sugar (+, -, *).
#ifndef CURVOP_OPERATORS_COMPOSITE_HPP
#define CURVOP_OPERATORS_COMPOSITE_HPP

#include <concepts>
#include <curvop/functions.hpp>
#include <curvop/operators/diagonal.hpp>
#include <tuple>
#include <type_traits>
#include <utility>

namespace curvop {

namespace detail {
template <class First, class... Rest>
inline constexpr bool same_scalar_v =
    (std::same_as<typename First::Scalar, typename Rest::Scalar> && ...);

template <class Op>
concept TransposeDerivable = TransposableOperator<Op> || is_symmetric_v<Op>;
}  // namespace detail

// ------------------------------------------------------------------------------------------------
/// Sum A₁ + A₂ + … of operators of one shape.
///
/// `apply` calls the first operand's `apply` and then `apply_add` on the others (a temporary per
/// operand that lacks `apply_add`). Symmetric when every operand is. `Sum(Sum, x)` flattens.
/// There is no exact inverse of a sum in general: solve with CG through `EigenAdaptor`.
///
/// Cost: the operands' costs; no extra memory unless an operand lacks `apply_add`.
template <LinearOperator... Ops>
  requires(sizeof...(Ops) >= 1 && detail::same_scalar_v<Ops...>)
class Sum {
 public:
  using Scalar = typename std::tuple_element_t<0, std::tuple<Ops...>>::Scalar;
  static constexpr bool is_symmetric = (is_symmetric_v<Ops> && ...);

  explicit Sum(Ops... ops) : m_ops(std::move(ops)...) {
    const auto& first = std::get<0>(m_ops);
    std::apply(
        [&](const auto&... op) {
          (detail::require_conformant(op.rows() == first.rows() && op.cols() == first.cols(),
                                      "Sum: operands must have one shape", first, op),
           ...);
        },
        m_ops);
  }

  Index rows() const { return std::get<0>(m_ops).rows(); }
  Index cols() const { return std::get<0>(m_ops).cols(); }
  /// The operands, in order.
  const std::tuple<Ops...>& operands() const { return m_ops; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    std::apply(
        [&](const auto& first, const auto&... rest) {
          first.apply(x, y);
          (::curvop::apply_add(rest, x, y, Scalar(1)), ...);
        },
        m_ops);
  }
  void apply_add(const ConstRef<Scalar>& x, MutRef<Scalar> y, Scalar alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    std::apply([&](const auto&... op) { (::curvop::apply_add(op, x, y, alpha), ...); }, m_ops);
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires(detail::TransposeDerivable<Ops> && ...)
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    Matrix<Scalar> t(cols(), x.cols());
    y.setZero();
    std::apply(
        [&](const auto&... op) {
          ((::curvop::apply_transpose(op, x, t), y += t), ...);
        },
        m_ops);
  }
  Vector<Scalar> diagonal() const
    requires(DiagonalExtractable<Ops> && ...)
  {
    return std::apply([](const auto&... op) { return Vector<Scalar>((op.diagonal() + ...)); },
                      m_ops);
  }

 private:
  std::tuple<Ops...> m_ops;
};

namespace detail {
template <class Op>
auto sum_terms(const Op& op) {
  return std::tuple<Op>(op);
}
template <class... Ops>
auto sum_terms(const Sum<Ops...>& s) {
  return s.operands();
}
template <class... Ops>
Sum<Ops...> make_sum(std::tuple<Ops...>&& t) {
  return std::make_from_tuple<Sum<Ops...>>(std::move(t));
}
}  // namespace detail

/// A₁ + A₂ + …, flattening nested sums.
template <LinearOperator... Ops>
  requires(sizeof...(Ops) >= 1 && detail::same_scalar_v<Ops...>)
[[nodiscard]] auto sum(const Ops&... ops) {
  return detail::make_sum(std::tuple_cat(detail::sum_terms(ops)...));
}

// ------------------------------------------------------------------------------------------------
/// Product A·B (B applied first).
///
/// `apply` is A (B x) through one temporary; the inverse, when both factors have one, is
/// B⁻¹ A⁻¹ (and `inverse(a * b)` simplifies to `inverse(b) * inverse(a)`).
///
/// Cost: the two operands' costs plus a temporary of b.rows() x k.
template <LinearOperator A, LinearOperator B>
  requires std::same_as<scalar_t<A>, scalar_t<B>>
class Product {
 public:
  using Scalar = scalar_t<A>;

  Product(A a, B b) : m_a(std::move(a)), m_b(std::move(b)) {
    detail::require_conformant(m_a.cols() == m_b.rows(),
                               "Product: a.cols() must equal b.rows()", m_a, m_b);
  }

  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_b.cols(); }
  const A& lhs() const { return m_a; }
  const B& rhs() const { return m_b; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    Matrix<Scalar> t(m_b.rows(), x.cols());
    m_b.apply(x, t);
    m_a.apply(t, y);
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires detail::TransposeDerivable<A> && detail::TransposeDerivable<B>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    Matrix<Scalar> t(m_a.cols(), x.cols());
    ::curvop::apply_transpose(m_a, x, t);
    ::curvop::apply_transpose(m_b, t, y);
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires InvertibleOperator<A> && InvertibleOperator<B>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    Matrix<Scalar> t(m_a.cols(), x.cols());
    m_a.apply_inverse(x, t);
    m_b.apply_inverse(t, y);
  }

 private:
  A m_a;
  B m_b;
};

/// A·B (B applied first).
template <LinearOperator A, LinearOperator B>
[[nodiscard]] Product<A, B> product(const A& a, const B& b) {
  return Product<A, B>(a, b);
}

// ------------------------------------------------------------------------------------------------
/// s·A for a scalar s.
///
/// Inverse (1/s)·A⁻¹; `scaled(s, scaled(t, a))` folds into `scaled(s·t, a)`; scaling a
/// `Diagonal` or `ScaledIdentity` gives the same kind.
///
/// Cost: A's apply plus one pass over y; `apply_add` passes the scale on to A's `apply_add`.
template <LinearOperator A>
class Scaled {
 public:
  using Scalar = scalar_t<A>;
  static constexpr bool is_symmetric = is_symmetric_v<A>;

  Scaled(Scalar s, A a) : m_s(s), m_a(std::move(a)) {}

  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_a.cols(); }
  Scalar scale() const { return m_s; }
  const A& operand() const { return m_a; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_a.apply(x, y);
    y *= m_s;
  }
  void apply_add(const ConstRef<Scalar>& x, MutRef<Scalar> y, Scalar alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    ::curvop::apply_add(m_a, x, y, alpha * m_s);
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires detail::TransposeDerivable<A>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    ::curvop::apply_transpose(m_a, x, y);
    y *= m_s;
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires InvertibleOperator<A>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    m_a.apply_inverse(x, y);
    y /= m_s;
  }
  Vector<Scalar> diagonal() const
    requires DiagonalExtractable<A>
  {
    return m_s * m_a.diagonal();
  }

 private:
  Scalar m_s;
  A m_a;
};

/// s·A.
template <LinearOperator A>
[[nodiscard]] Scaled<A> scaled(scalar_t<A> s, const A& a) {
  return Scaled<A>(s, a);
}
/// s·(t·A) = (s·t)·A.
template <LinearOperator A>
[[nodiscard]] Scaled<A> scaled(scalar_t<A> s, const Scaled<A>& a) {
  return Scaled<A>(s * a.scale(), a.operand());
}
/// s·diag(d) = diag(s·d).
template <class S>
[[nodiscard]] Diagonal<S> scaled(S s, const Diagonal<S>& a) {
  return Diagonal<S>(s * a.diagonal());
}
/// s·(t·I) = (s·t)·I.
template <class S>
[[nodiscard]] ScaledIdentity<S> scaled(S s, const ScaledIdentity<S>& a) {
  return ScaledIdentity<S>(a.rows(), s * a.scale());
}
/// s·I.
template <class S>
[[nodiscard]] ScaledIdentity<S> scaled(S s, const Identity<S>& a) {
  return ScaledIdentity<S>(a.rows(), s);
}

// ------------------------------------------------------------------------------------------------
/// A + σI (the damped operator of most curvature approximations).
///
/// Symmetric when A is. `shifted` of a `Diagonal`/`ScaledIdentity`/`Identity` gives the same
/// kind with the shift folded in; `shifted(shifted(a, s), t)` is `shifted(a, s + t)`. No exact
/// inverse in general (structured operators that have one, such as `LowRankPlusDiagonal`,
/// overload `shifted`).
///
/// Cost: A's apply plus one pass over x and y.
template <LinearOperator A>
class Shifted {
 public:
  using Scalar = scalar_t<A>;
  static constexpr bool is_symmetric = is_symmetric_v<A>;

  Shifted(A a, Scalar sigma) : m_a(std::move(a)), m_sigma(sigma) {
    detail::require_conformant(m_a.rows() == m_a.cols(), "Shifted: operator must be square", m_a,
                               m_a);
  }

  Index rows() const { return m_a.rows(); }
  Index cols() const { return m_a.cols(); }
  /// σ.
  Scalar shift() const { return m_sigma; }
  const A& operand() const { return m_a; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_a.apply(x, y);
    y.noalias() += m_sigma * x;
  }
  void apply_add(const ConstRef<Scalar>& x, MutRef<Scalar> y, Scalar alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    ::curvop::apply_add(m_a, x, y, alpha);
    y.noalias() += (alpha * m_sigma) * x;
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires detail::TransposeDerivable<A>
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    ::curvop::apply_transpose(m_a, x, y);
    y.noalias() += m_sigma * x;
  }
  Vector<Scalar> diagonal() const
    requires DiagonalExtractable<A>
  {
    return m_a.diagonal().array() + m_sigma;
  }

 private:
  A m_a;
  Scalar m_sigma;
};

/// A + σI.
template <LinearOperator A>
[[nodiscard]] Shifted<A> shifted(const A& a, scalar_t<A> sigma) {
  return Shifted<A>(a, sigma);
}
/// (A + sI) + tI = A + (s + t)I.
template <LinearOperator A>
[[nodiscard]] Shifted<A> shifted(const Shifted<A>& a, scalar_t<A> sigma) {
  return Shifted<A>(a.operand(), a.shift() + sigma);
}
/// diag(d) + σI = diag(d + σ).
template <class S>
[[nodiscard]] Diagonal<S> shifted(const Diagonal<S>& a, S sigma) {
  return Diagonal<S>(a.diagonal().array() + sigma);
}
/// sI + σI = (s + σ)I.
template <class S>
[[nodiscard]] ScaledIdentity<S> shifted(const ScaledIdentity<S>& a, S sigma) {
  return ScaledIdentity<S>(a.rows(), a.scale() + sigma);
}
/// I + σI = (1 + σ)I.
template <class S>
[[nodiscard]] ScaledIdentity<S> shifted(const Identity<S>& a, S sigma) {
  return ScaledIdentity<S>(a.rows(), S(1) + sigma);
}

// ------------------------------------------------------------------------------------------------
/// Aᵀ as an operator: `apply` is A's `apply_transpose` (or `apply` when A is symmetric).
///
/// `transposed(a)` of a symmetric operator is `a` itself and `transposed(transposed(a))` is `a`,
/// so this type only appears for non-symmetric operators. Its inverse needs A's
/// `apply_inverse_transpose` (Dense has one).
///
/// Cost: A's `apply_transpose`.
template <LinearOperator A>
  requires TransposableOperator<A>
class Transposed {
 public:
  using Scalar = scalar_t<A>;

  explicit Transposed(A a) : m_a(std::move(a)) {}

  Index rows() const { return m_a.cols(); }
  Index cols() const { return m_a.rows(); }
  const A& operand() const { return m_a; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_a.apply_transpose(x, y);
  }
  void apply_transpose(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    m_a.apply(x, y);
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const
    requires requires(const A& a, const ConstRef<Scalar>& u, MutRef<Scalar> v) {
      a.apply_inverse_transpose(u, v);
    }
  {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    m_a.apply_inverse_transpose(x, y);
  }
  Vector<Scalar> diagonal() const
    requires DiagonalExtractable<A>
  {
    return m_a.diagonal();
  }

 private:
  A m_a;
};

/// Aᵀ: A itself when symmetric, the operand of a `Transposed`, else a `Transposed` view.
template <LinearOperator A>
  requires detail::TransposeDerivable<A>
[[nodiscard]] auto transposed(const A& a) {
  if constexpr (is_symmetric_v<A>) {
    return a;
  } else {
    return Transposed<A>(a);
  }
}
template <LinearOperator A>
[[nodiscard]] A transposed(const Transposed<A>& a) {
  return a.operand();
}

// ------------------------------------------------------------------------------------------------
/// A⁻¹ as an operator: a lazy view whose `apply` is A's `apply_inverse` and whose
/// `apply_inverse` is A's `apply` (for APIs that want a preconditioner as the operator).
///
/// `inverse(inverse(a))` gives back `a`'s type; structured operators overload `inverse` with
/// their closed forms (`Diagonal`, `ScaledIdentity`, `Scaled`, `Product`, `Kronecker`, …).
///
/// Cost: A's `apply_inverse`.
template <InvertibleOperator A>
class Inverse {
 public:
  using Scalar = scalar_t<A>;
  static constexpr bool is_symmetric = is_symmetric_v<A>;

  explicit Inverse(A a) : m_a(std::move(a)) {}

  Index rows() const { return m_a.cols(); }
  Index cols() const { return m_a.rows(); }
  const A& operand() const { return m_a; }

  void apply(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    m_a.apply_inverse(x, y);
  }
  void apply_inverse(const ConstRef<Scalar>& x, MutRef<Scalar> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    m_a.apply(x, y);
  }

 private:
  A m_a;
};

/// The lazy inverse view of A.
template <InvertibleOperator A>
[[nodiscard]] Inverse<A> inverse(const A& a) {
  return Inverse<A>(a);
}
/// (A⁻¹)⁻¹ = A.
template <InvertibleOperator A>
[[nodiscard]] A inverse(const Inverse<A>& a) {
  return a.operand();
}
/// diag(d)⁻¹ = diag(1/d).
template <class S>
[[nodiscard]] Diagonal<S> inverse(const Diagonal<S>& a) {
  return Diagonal<S>(a.diagonal().cwiseInverse());
}
/// (sI)⁻¹ = (1/s)I.
template <class S>
[[nodiscard]] ScaledIdentity<S> inverse(const ScaledIdentity<S>& a) {
  return ScaledIdentity<S>(a.rows(), S(1) / a.scale());
}
/// I⁻¹ = I.
template <class S>
[[nodiscard]] Identity<S> inverse(const Identity<S>& a) {
  return a;
}
/// (sA)⁻¹ = (1/s)A⁻¹.
template <InvertibleOperator A>
[[nodiscard]] auto inverse(const Scaled<A>& a) {
  return scaled(scalar_t<A>(1) / a.scale(), inverse(a.operand()));
}
/// (AB)⁻¹ = B⁻¹A⁻¹.
template <InvertibleOperator A, InvertibleOperator B>
[[nodiscard]] auto inverse(const Product<A, B>& p) {
  auto ib = inverse(p.rhs());
  auto ia = inverse(p.lhs());
  return Product<decltype(ib), decltype(ia)>(std::move(ib), std::move(ia));
}

// ------------------------------------------------------------------------------------------------
// Sugar, defined only for operators (Eigen types fail the concept, so Eigen expressions are never
// hijacked). `op * eigen_matrix` is deliberately not defined: write `apply(op, x)`.

/// A + B.
template <LinearOperator A, LinearOperator B>
[[nodiscard]] auto operator+(const A& a, const B& b) {
  return sum(a, b);
}
/// −A.
template <LinearOperator A>
[[nodiscard]] auto operator-(const A& a) {
  return scaled(scalar_t<A>(-1), a);
}
/// A − B.
template <LinearOperator A, LinearOperator B>
[[nodiscard]] auto operator-(const A& a, const B& b) {
  return sum(a, scaled(scalar_t<B>(-1), b));
}
/// A·B (B applied first).
template <LinearOperator A, LinearOperator B>
[[nodiscard]] auto operator*(const A& a, const B& b) {
  return product(a, b);
}
/// s·A.
template <LinearOperator A>
[[nodiscard]] auto operator*(scalar_t<A> s, const A& a) {
  return scaled(s, a);
}
/// A·s.
template <LinearOperator A>
[[nodiscard]] auto operator*(const A& a, scalar_t<A> s) {
  return scaled(s, a);
}

}  // namespace curvop

#endif  // CURVOP_OPERATORS_COMPOSITE_HPP
