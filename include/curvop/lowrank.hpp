// SPDX-License-Identifier: MIT
// Family header of the low-rank projections: randomized SVD, Projection, GaLore projector and
// GaLore-Adam, LoRA-GA / LoRA-One initialisation, EGGROLL low-rank perturbations.
#ifndef CURVOP_LOWRANK_HPP
#define CURVOP_LOWRANK_HPP

#include <curvop/lowrank/galore_adam.hpp>
#include <curvop/lowrank/galore_projector.hpp>
#include <curvop/lowrank/lora_init.hpp>
#include <curvop/lowrank/perturbation.hpp>
#include <curvop/lowrank/projection.hpp>
#include <curvop/lowrank/randomized_svd.hpp>

#endif  // CURVOP_LOWRANK_HPP
