// SPDX-License-Identifier: MIT
// Runs the K-FAC section of the tour on its own (the tour's main file includes the same header).
#include "tour/kfac.hpp"

int main() {
  curvop_tour::kfac_section();
  return 0;
}
