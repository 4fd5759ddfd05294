// SPDX-License-Identifier: MIT
// GaLore-Adam with every refresh policy against full Adam, on a synthetic matrix-regression
// problem and on the small MLP on the real digits data; then the README snippet's basic usage.
#include <cstdio>

#include "tour/lowrank.hpp"

namespace lr = curvop::lowrank;

// README snippet: a randomized SVD and one GaLore-Adam step on one weight matrix.
void readme_snippet() {
  const Eigen::MatrixXf a = curvop::random::gaussian<float>(500, 300, 1);
  const auto svd = lr::randomized_svd(a, 10, {.oversampling = 10, .power_iterations = 4});
  // svd.u (500 x 10), svd.s (10), svd.v (300 x 10): A ≈ U diag(s) Vᵀ.

  Eigen::MatrixXf w = Eigen::MatrixXf::Zero(500, 300);
  lr::GaLoreAdam<float> opt(500, 300, /*rank=*/16,
                            {.policy = lr::RefreshPolicy::SubspaceIteration, .update_gap = 200},
                            {.lr = 1e-3, .scale = 0.25});
  const Eigen::MatrixXf grad = a;  // dL/dW from your backward pass
  if (opt.step(w, grad) != curvop::Info::Success) std::puts("refresh failed, old basis kept");
  std::printf("README snippet: σ1 ≈ %.3f, optimizer state %ld floats (Adam: %ld)\n\n",
              double(svd.s(0)), long(opt.state_size()), long(2 * w.size()));
}

int main() {
  using namespace curvop_tour::lowrank_detail;
  readme_snippet();

  const Regression p = Regression::make(256, 192, 1024, 0.6);
  const int steps = 300;
  const curvop::Index rank = 32;
  std::printf("Matrix regression 256 x 192 (σ_i(W*) = 3/(1+i)^0.6), %d Adam steps, GaLore rank "
              "%ld, refresh every 20; loss at W = 0: %.4f\n", steps, long(rank),
              p.loss(Mat::Zero(256, 192)));
  std::printf("  %-24s %10s %12s %9s\n", "optimizer", "loss", "state floats", "time ms");
  const RunResult adam = train_regression(p, nullptr, steps, rank);
  std::printf("  %-24s %10.5f %12ld %9.1f\n", "Adam (full)", adam.loss, long(adam.state),
              1e3 * adam.seconds);
  for (auto pol : kPolicies) {
    const RunResult g = train_regression(p, &pol, steps, rank);
    std::printf("  GaLore %-17s %10.5f %12ld %9.1f\n", policy_name(pol), g.loss, long(g.state),
                1e3 * g.seconds);
  }
  std::printf("\n");

  const auto data = curvop_examples::digits();
  const auto split = curvop_examples::split_every(curvop_examples::standardized(data.x), data.y, 5);
  const int dsteps = 150;
  std::printf("tanh MLP 64-64-10 on digits, %d full-batch steps, GaLore rank 8:\n", dsteps);
  std::printf("  %-24s %10s %10s %12s %9s\n", "optimizer", "train loss", "test acc",
              "state floats", "time ms");
  const RunResult da = train_digits(split, nullptr, dsteps, 8, 64);
  std::printf("  %-24s %10.4f %9.1f%% %12ld %9.1f\n", "Adam (full)", da.loss, 100 * da.accuracy,
              long(da.state), 1e3 * da.seconds);
  for (auto pol : kPolicies) {
    const RunResult g = train_digits(split, &pol, dsteps, 8, 64);
    std::printf("  GaLore %-17s %10.4f %9.1f%% %12ld %9.1f\n", policy_name(pol), g.loss,
                100 * g.accuracy, long(g.state), 1e3 * g.seconds);
  }
  return 0;
}
