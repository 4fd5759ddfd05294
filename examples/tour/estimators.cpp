// SPDX-License-Identifier: MIT
// The tour's estimators section in a translation unit of its own, so the sections compile in parallel.
#include "tour/sections.hpp"
#include "tour/estimators.hpp"

void curvop_tour::run_estimators() { estimators_section(); }
