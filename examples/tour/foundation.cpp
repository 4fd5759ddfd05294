// SPDX-License-Identifier: MIT
// The tour's foundation section in a translation unit of its own, so the sections compile in parallel.
#include "tour/sections.hpp"
#include "tour/foundation.hpp"

void curvop_tour::run_foundation() { foundation_section(); }
