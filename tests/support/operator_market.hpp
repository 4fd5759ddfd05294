// SPDX-License-Identifier: MIT
// The operator market (after CoLA): builders of structured operators' ingredients in scalar S
// together with the same numbers in double, so that each test builds an operator and its dense
// reference independently. SPD spectra lie in [1, 10] (κ ≤ 10).
#ifndef CURVOP_TESTS_SUPPORT_OPERATOR_MARKET_HPP
#define CURVOP_TESTS_SUPPORT_OPERATOR_MARKET_HPP

#include <cstdint>

#include "support/properties.hpp"
#include "support/rng.hpp"

namespace curvop::test {

/// A matrix in the operator's scalar and the same values in double.
template <class S>
struct Ingredient {
  Matrix<S> s;
  Matrix<double> d;
};

template <class S>
Ingredient<S> ingredient(const Matrix<double>& m) {
  Ingredient<S> i{m.cast<S>(), {}};
  i.d = i.s.template cast<double>();
  return i;
}

/// SPD n x n with eigenvalues in [1, 10].
template <class S>
Ingredient<S> spd(Index n, std::uint64_t seed) {
  return ingredient<S>(spd_matrix<double>(n, seed, 1.0, 10.0));
}

/// General m x n with entries N(0, 1/n); square ones are shifted by 3I (well conditioned:
/// the spectrum of a Gaussian/sqrt(n) matrix lies in a disc of radius ~1).
template <class S>
Ingredient<S> general(Index m, Index n, std::uint64_t seed) {
  Matrix<double> a = gaussian_matrix<double>(m, n, seed) / std::sqrt(static_cast<double>(n));
  if (m == n) a += 3.0 * Matrix<double>::Identity(n, n);
  return ingredient<S>(a);
}

/// A vector with entries in [1, 10].
template <class S>
Ingredient<S> positive_vector(Index n, std::uint64_t seed) {
  const Matrix<double> u = gaussian_matrix<double>(n, 1, seed);
  return ingredient<S>(Matrix<double>(1.0 + 9.0 * (0.5 + 0.5 * u.array().tanh())));
}

/// A Gaussian n x k matrix scaled by `scale`.
template <class S>
Ingredient<S> gaussian(Index n, Index k, std::uint64_t seed, double scale = 1.0) {
  return ingredient<S>(scale * gaussian_matrix<double>(n, k, seed));
}

}  // namespace curvop::test

#endif  // CURVOP_TESTS_SUPPORT_OPERATOR_MARKET_HPP
