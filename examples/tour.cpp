// SPDX-License-Identifier: MIT
// The curvop tour: the main job. Each section shows one family on embedded real data or a
// synthetic problem, and prints what it computed against a dense or classical baseline. The
// sections live in examples/tour/ (a header each, shared with the family's examples, and a
// translation unit each, so that they compile in parallel).
#include <chrono>
#include <cstdio>

#include <curvop/version.hpp>

#include "tour/sections.hpp"

int main() {
  std::printf("curvop %d.%d.%d tour\n\n", CURVOP_VERSION_MAJOR, CURVOP_VERSION_MINOR,
              CURVOP_VERSION_PATCH);
  const auto t0 = std::chrono::steady_clock::now();
  curvop_tour::run_foundation();
  curvop_tour::run_mfac();
  curvop_tour::run_kfac();
  curvop_tour::run_shampoo();
  curvop_tour::run_estimators();
  curvop_tour::run_lowrank();
  std::printf("tour done in %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return 0;
}
