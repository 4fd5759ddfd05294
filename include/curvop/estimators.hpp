// SPDX-License-Identifier: MIT
// The stochastic estimators family: trace, diagonal, extreme eigenpairs, spectral density and
// tr f(A) of any operator from products only; finite-difference HVPs; diagonal-curvature helpers.
#ifndef CURVOP_ESTIMATORS_HPP
#define CURVOP_ESTIMATORS_HPP

#include <curvop/estimators/common.hpp>
#include <curvop/estimators/diagonal.hpp>
#include <curvop/estimators/diagonal_curvature.hpp>
#include <curvop/estimators/eigenpairs.hpp>
#include <curvop/estimators/finite_difference.hpp>
#include <curvop/estimators/slq.hpp>
#include <curvop/estimators/trace.hpp>

#endif  // CURVOP_ESTIMATORS_HPP
