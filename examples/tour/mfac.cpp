// SPDX-License-Identifier: MIT
// The tour's mfac section in a translation unit of its own, so the sections compile in parallel.
#include "tour/sections.hpp"
#include "tour/mfac.hpp"

void curvop_tour::run_mfac() { mfac_section(); }
