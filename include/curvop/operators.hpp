// SPDX-License-Identifier: MIT
// Family header: every operator and the operator algebra.
#ifndef CURVOP_OPERATORS_HPP
#define CURVOP_OPERATORS_HPP

#include <curvop/operators/any_operator.hpp>
#include <curvop/operators/block_diagonal.hpp>
#include <curvop/operators/composite.hpp>
#include <curvop/operators/dense.hpp>
#include <curvop/operators/diagonal.hpp>
#include <curvop/operators/function.hpp>
#include <curvop/operators/kronecker.hpp>
#include <curvop/operators/low_rank.hpp>
#include <curvop/operators/ref.hpp>

#endif  // CURVOP_OPERATORS_HPP
