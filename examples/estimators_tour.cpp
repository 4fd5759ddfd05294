// SPDX-License-Identifier: MIT
// Runs the estimators section of the tour on its own (the tour's main file includes the same
// section).
#include "tour/estimators.hpp"

int main() {
  curvop_tour::estimators_section();
  return 0;
}
