// SPDX-License-Identifier: MIT
// The tour's shampoo section in a translation unit of its own, so the sections compile in parallel.
#include "tour/sections.hpp"
#include "tour/shampoo.hpp"

void curvop_tour::run_shampoo() { shampoo_section(); }
