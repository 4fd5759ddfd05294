// SPDX-License-Identifier: MIT
// The tour's sections, one translation unit each (examples/tour/*.cpp): each wraps the
// `*_section()` of its header, which the family's stand-alone examples also include.
#ifndef CURVOP_EXAMPLES_TOUR_SECTIONS_HPP
#define CURVOP_EXAMPLES_TOUR_SECTIONS_HPP

namespace curvop_tour {

void run_foundation();
void run_mfac();
void run_kfac();
void run_shampoo();
void run_estimators();
void run_lowrank();

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_SECTIONS_HPP
