// SPDX-License-Identifier: MIT
// The curvop tour: the main job. Each section shows one family on embedded real data or a
// synthetic problem, and prints what it computed against a dense or classical baseline.
#include <chrono>
#include <cstdio>

#include "tour/foundation.hpp"
#include "tour/mfac.hpp"
#include "tour/kfac.hpp"
#include "tour/shampoo.hpp"
#include "tour/estimators.hpp"
#include "tour/lowrank.hpp"

int main() {
  std::printf("curvop %d.%d.%d tour\n\n", CURVOP_VERSION_MAJOR, CURVOP_VERSION_MINOR,
              CURVOP_VERSION_PATCH);
  const auto t0 = std::chrono::steady_clock::now();
  curvop_tour::foundation_section();
  curvop_tour::mfac_section();
  curvop_tour::kfac_section();
  curvop_tour::shampoo_section();
  curvop_tour::estimators_section();
  curvop_tour::lowrank_section();
  std::printf("tour done in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}
