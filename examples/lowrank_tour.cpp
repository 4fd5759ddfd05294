// SPDX-License-Identifier: MIT
// Runs the low-rank section of the tour on its own (the tour's main file includes the same
// section).
#include "tour/lowrank.hpp"

int main() {
  curvop_tour::lowrank_section();
  return 0;
}
