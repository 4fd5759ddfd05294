// SPDX-License-Identifier: MIT
// Family header: Shampoo (blocking, grafting, Shampoo², one-sided) and the Frobenius-optimal
// Kronecker approximation.
#ifndef CURVOP_SHAMPOO_HPP
#define CURVOP_SHAMPOO_HPP

#include <curvop/shampoo/options.hpp>
#include <curvop/shampoo/blocking.hpp>
#include <curvop/shampoo/preconditioner.hpp>
#include <curvop/shampoo/shampoo.hpp>
#include <curvop/shampoo/nearest_kronecker.hpp>

#endif  // CURVOP_SHAMPOO_HPP
