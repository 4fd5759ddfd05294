// SPDX-License-Identifier: MIT
// Family header: symmetric eigendecomposition and matrix functions (inverse p-th roots).
#ifndef CURVOP_MATRIX_FUNCTIONS_HPP
#define CURVOP_MATRIX_FUNCTIONS_HPP

#include <curvop/matrix_functions/eigh.hpp>

#endif  // CURVOP_MATRIX_FUNCTIONS_HPP
