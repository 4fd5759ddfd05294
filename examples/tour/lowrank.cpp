// SPDX-License-Identifier: MIT
// The tour's lowrank section in a translation unit of its own, so the sections compile in parallel.
#include "tour/sections.hpp"
#include "tour/lowrank.hpp"

void curvop_tour::run_lowrank() { lowrank_section(); }
