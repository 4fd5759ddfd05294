// SPDX-License-Identifier: MIT
// Family header: symmetric eigendecomposition and matrix functions (inverse p-th roots, square
// roots), single and batched.
#ifndef CURVOP_MATRIX_FUNCTIONS_HPP
#define CURVOP_MATRIX_FUNCTIONS_HPP

#include <curvop/matrix_functions/eigh.hpp>
#include <curvop/matrix_functions/root_options.hpp>
#include <curvop/matrix_functions/coupled_newton.hpp>
#include <curvop/matrix_functions/inverse_root.hpp>
#include <curvop/matrix_functions/batch.hpp>

#endif  // CURVOP_MATRIX_FUNCTIONS_HPP
