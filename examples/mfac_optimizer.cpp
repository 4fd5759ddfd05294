// SPDX-License-Identifier: MIT
// M-FAC-preconditioned SGD against SGD and SGD with momentum: logistic regression on the raw
// breast-cancer features, whose scales span five orders of magnitude (a badly conditioned
// problem). Each method uses the largest step size of a 10^k / 3·10^k sweep that does not
// diverge; prints the training loss against step and the wall time.
#include <cstdio>

#include "tour/mfac.hpp"

using namespace curvop_tour::mfac_detail;

int main() {
  const auto data = curvop_examples::breast_cancer();
  const Eigen::MatrixXd x = data.x.transpose();  // raw features as columns
  const Logistic lr{&x, &data.y};
  const int steps = 400;
  const Eigen::Index batch = 32, window = 16;
  const char* names[] = {"SGD", "SGD + momentum 0.9", "M-FAC SGD (m = 16)"};
  std::printf("logistic regression on raw breast-cancer features (d = %ld, batch %ld)\n",
              static_cast<long>(lr.dim()), static_cast<long>(batch));
  std::vector<RunResult> best(3);
  std::vector<double> best_rate(3, 0.0), best_damping(3, 0.0);
  for (int kind = 0; kind < 3; ++kind) {
    double best_loss = INFINITY;
    for (double damping : kind == 2 ? std::vector<double>{1e-4, 1e-3, 1e-2, 1e-1}
                                    : std::vector<double>{kMfacDamping}) {
      for (int e = -9; e <= 0; ++e) {
        for (double c : {1.0, 3.0}) {
          const double rate = c * std::pow(10.0, e);
          const RunResult r = run_optimizer(lr, kind, steps, rate, batch, window, damping);
          const double final_loss =
              r.loss.size() == std::size_t(steps) ? r.loss.back() : INFINITY;
          if (std::isfinite(final_loss) && final_loss < best_loss) {
            best_loss = final_loss;
            best[static_cast<std::size_t>(kind)] = r;
            best_rate[static_cast<std::size_t>(kind)] = rate;
            best_damping[static_cast<std::size_t>(kind)] = damping;
          }
        }
      }
    }
  }
  std::printf("M-FAC damping chosen by the sweep: %.0e\n", best_damping[2]);
  std::printf("%-22s %-8s", "method", "rate");
  for (int s : {1, 10, 50, 100, 200, 400}) std::printf("  step %-4d", s);
  std::printf("  accuracy  time\n");
  for (std::size_t k = 0; k < 3; ++k) {
    std::printf("%-22s %-8.0e", names[k], best_rate[k]);
    for (int s : {1, 10, 50, 100, 200, 400}) std::printf("  %-9.4f", best[k].loss[static_cast<std::size_t>(s - 1)]);
    std::printf("  %.3f     %.1f ms\n", best[k].accuracy, 1e3 * best[k].seconds);
  }
  std::printf("\nThe tour's section:\n");
  curvop_tour::mfac_section();
  return 0;
}
