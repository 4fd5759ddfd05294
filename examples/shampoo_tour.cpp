// SPDX-License-Identifier: MIT
// Runs the matrix-functions and Shampoo section of the tour on its own (the tour's main file
// includes the same header).
#include "tour/shampoo.hpp"

int main() {
  curvop_tour::shampoo_section();
  return 0;
}
