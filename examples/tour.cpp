// SPDX-License-Identifier: MIT
// The curvop tour: the main job. Each section shows one family on embedded real data or a
// synthetic problem, and prints what it computed against a dense or classical baseline.
#include <cstdio>

#include "tour/foundation.hpp"

int main() {
  std::printf("curvop %d.%d.%d tour\n\n", CURVOP_VERSION_MAJOR, CURVOP_VERSION_MINOR,
              CURVOP_VERSION_PATCH);
  curvop_tour::foundation_section();
  return 0;
}
