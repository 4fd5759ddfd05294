// SPDX-License-Identifier: MIT
// Umbrella header: includes every public header of curvop.
#ifndef CURVOP_CURVOP_HPP
#define CURVOP_CURVOP_HPP

#include <curvop/version.hpp>
#include <curvop/config.hpp>
#include <curvop/concepts.hpp>
#include <curvop/functions.hpp>
#include <curvop/random.hpp>
#include <curvop/operators.hpp>
#include <curvop/eigen/adaptor.hpp>
#include <curvop/matrix_functions.hpp>
#include <curvop/mfac.hpp>
#include <curvop/kfac.hpp>
#include <curvop/shampoo.hpp>
#include <curvop/estimators.hpp>
#include <curvop/lowrank.hpp>

#endif  // CURVOP_CURVOP_HPP
