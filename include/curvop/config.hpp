// SPDX-License-Identifier: MIT
// Basic types, status codes, exceptions and the hot-path assertion of curvop.
#ifndef CURVOP_CONFIG_HPP
#define CURVOP_CONFIG_HPP

#include <Eigen/Core>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace curvop {

/// Index type of every dimension (Eigen's, signed).
using Index = Eigen::Index;
/// Dynamic column-major matrix: the currency of every operator.
template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
/// Dynamic column vector.
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
/// Input block: binds matrices, vectors, Maps and blocks; copies non-contiguous input.
template <class S>
using ConstRef = Eigen::Ref<const Matrix<S>>;
/// Output block: preallocated by the caller, overwritten, never resized.
template <class S>
using MutRef = Eigen::Ref<Matrix<S>>;

/// Outcome of a data-dependent numerical step (factorisation, iteration). Returned
/// `[[nodiscard]]` by `compute()`/`update()` and readable through `info()`.
enum class Info {
  Success,         ///< the step succeeded
  NumericalIssue,  ///< a factor was not positive definite, or a result was not finite
  NoConvergence,   ///< an iteration stopped before its tolerance
  InvalidInput     ///< the input was rejected; state is unchanged
};

/// Human-readable name of an `Info` value.
inline const char* to_string(Info info) noexcept {
  switch (info) {
    case Info::Success: return "Success";
    case Info::NumericalIssue: return "NumericalIssue";
    case Info::NoConvergence: return "NoConvergence";
    case Info::InvalidInput: return "InvalidInput";
  }
  return "Unknown";
}

/// Shapes that do not conform (composite construction, update arguments). The message names
/// both shapes.
class DimensionMismatch : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Non-finite or otherwise unusable data given to a mutator. The object that threw is
/// unchanged (strong exception guarantee).
class InvalidInput : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// Thrown by `CURVOP_ASSERT` when `CURVOP_ASSERT_THROWS` is defined (the tests define it).
class AssertionError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace detail {

/// "rows x cols" of anything with rows() and cols().
template <class A>
std::string shape(const A& a) {
  return std::to_string(a.rows()) + "x" + std::to_string(a.cols());
}

[[noreturn]] inline void assertion_failed(const char* cond, std::string_view msg,
                                          const char* file, int line) {
  std::ostringstream os;
  os << file << ":" << line << ": curvop assertion '" << cond << "' failed: " << msg;
#ifdef CURVOP_ASSERT_THROWS
  throw AssertionError(os.str());
#else
  std::fprintf(stderr, "%s\n", os.str().c_str());
  std::abort();
#endif
}

/// Throws `DimensionMismatch` with both shapes when `ok` is false.
template <class A, class B>
void require_conformant(bool ok, std::string_view what, const A& a, const B& b) {
  if (!ok) {
    throw DimensionMismatch(std::string(what) + ": shapes do not conform (" + shape(a) +
                            " and " + shape(b) + ")");
  }
}

/// Throws `std::invalid_argument` naming the argument, the rule and the value.
template <class T>
void require_argument(bool ok, std::string_view where, std::string_view rule, const T& value) {
  if (!ok) {
    std::ostringstream os;
    os << where << ": " << rule << " (got " << value << ")";
    throw std::invalid_argument(os.str());
  }
}

/// Throws `InvalidInput` unless every entry of `x` is finite.
template <class Derived>
void require_finite(const Eigen::DenseBase<Derived>& x, std::string_view what) {
  if (!x.derived().allFinite()) {
    throw InvalidInput(std::string(what) + ": input has a non-finite entry (NaN or Inf)");
  }
}

}  // namespace detail
}  // namespace curvop

/// Hot-path precondition. Active unless `NDEBUG`; prints and aborts, or throws
/// `curvop::AssertionError` when `CURVOP_ASSERT_THROWS` is defined.
#ifdef NDEBUG
#define CURVOP_ASSERT(cond, msg) static_cast<void>(0)
#else
#define CURVOP_ASSERT(cond, msg) \
  ((cond) ? static_cast<void>(0)  \
          : ::curvop::detail::assertion_failed(#cond, (msg), __FILE__, __LINE__))
#endif

#endif  // CURVOP_CONFIG_HPP
