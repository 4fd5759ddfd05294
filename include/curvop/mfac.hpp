// SPDX-License-Identifier: MIT
// The M-FAC family: damped empirical Fisher operators (static, block-diagonal, sliding window)
// with matrix-free inverse-Hessian-vector products, and Optimal-Brain-Surgeon pruning.
#ifndef CURVOP_MFAC_HPP
#define CURVOP_MFAC_HPP

#include <curvop/mfac/block_fisher.hpp>
#include <curvop/mfac/empirical_fisher.hpp>
#include <curvop/mfac/pruning.hpp>
#include <curvop/mfac/sliding_window.hpp>

#endif  // CURVOP_MFAC_HPP
