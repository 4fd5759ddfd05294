// SPDX-License-Identifier: MIT
// K-FAC family: Kronecker-factored curvature per layer (K-FAC, EKFAC, KFC convolutions).
#ifndef CURVOP_KFAC_HPP
#define CURVOP_KFAC_HPP

#include <curvop/kfac/covariance.hpp>
#include <curvop/kfac/ekfac.hpp>
#include <curvop/kfac/factor.hpp>
#include <curvop/kfac/kfac.hpp>
#include <curvop/kfac/options.hpp>

#endif  // CURVOP_KFAC_HPP
