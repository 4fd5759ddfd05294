// SPDX-License-Identifier: MIT
// The tour's kfac section in a translation unit of its own, so the sections compile in parallel.
#include "tour/sections.hpp"
#include "tour/kfac.hpp"

void curvop_tour::run_kfac() { kfac_section(); }
