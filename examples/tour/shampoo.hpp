// SPDX-License-Identifier: MIT
// The matrix-functions and Shampoo part of the tour: robust inverse roots with their certificates,
// Shampoo (grafted to SGD's step length) against SGD on the real 8x8 digits, and how far Shampoo's
// Kronecker factors are from the Frobenius-optimal ones.
#ifndef CURVOP_EXAMPLES_TOUR_SHAMPOO_HPP
#define CURVOP_EXAMPLES_TOUR_SHAMPOO_HPP

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <curvop/matrix_functions.hpp>
#include <curvop/random.hpp>
#include <curvop/shampoo.hpp>
#include <numeric>
#include <vector>

#include "support/datasets.hpp"
#include "support/mlp.hpp"

namespace curvop_tour {

namespace shampoo_demo {

/// A symmetric matrix with eigenvalues geometric over [1/kappa, 1] (deterministic).
inline Eigen::MatrixXd conditioned(Eigen::Index n, double kappa, std::uint64_t seed) {
  const Eigen::MatrixXd g = curvop::random::gaussian<double>(n, n, seed);
  const Eigen::HouseholderQR<Eigen::MatrixXd> qr(g);
  const Eigen::MatrixXd q = qr.householderQ() * Eigen::MatrixXd::Identity(n, n);
  Eigen::VectorXd ev(n);
  for (Eigen::Index i = 0; i < n; ++i) ev(i) = std::pow(kappa, -1.0 + double(i) / double(n - 1));
  return q * ev.asDiagonal() * q.transpose();
}

/// Trains the MLP {64, 32, 10} for `epochs` epochs; `shampoo` false is plain SGD, true is Shampoo
/// (variant v) with Adam grafting. Returns the test accuracy and prints the training loss.
inline double train(const curvop_examples::Split& d, bool shampoo, curvop::shampoo::Variant v,
                    int epochs, double lr) {
  curvop_examples::Mlp net({64, 32, 10}, 7);
  std::vector<curvop::shampoo::Shampoo<double>> sh;
  for (const auto& w : net.weights()) {
    sh.emplace_back(w.rows(), w.cols(),
                    curvop::shampoo::Options{.variant = v, .epsilon = 1e-4,
                                             .grafting = curvop::shampoo::Grafting::Adam});
  }
  const Eigen::Index n = d.x_train.cols(), batch = 64;
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  long step = 0;
  for (int e = 0; e < epochs; ++e) {
    const curvop::random::CounterRng rng(2024, static_cast<std::uint64_t>(e));
    std::iota(order.begin(), order.end(), Eigen::Index(0));
    std::sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
      return rng.bits(static_cast<std::uint64_t>(a)) < rng.bits(static_cast<std::uint64_t>(b));
    });
    for (Eigen::Index b0 = 0; b0 + batch <= n; b0 += batch, ++step) {
      Eigen::MatrixXd x(d.x_train.rows(), batch);
      Eigen::VectorXi y(batch);
      for (Eigen::Index i = 0; i < batch; ++i) {
        x.col(i) = d.x_train.col(order[static_cast<std::size_t>(b0 + i)]);
        y(i) = d.y_train(order[static_cast<std::size_t>(b0 + i)]);
      }
      const auto g = net.backward(net.forward(x), y);
      for (std::size_t l = 0; l < net.layers(); ++l) {
        if (!shampoo) {
          net.weights()[l] -= lr * g.dw[l];
          continue;
        }
        sh[l].update(g.dw[l]);
        // Roots every 5 steps: a failed root keeps the previous one, so the loop never stops.
        if (step % 5 == 0) (void)sh[l].compute();
        net.weights()[l] -= lr * sh[l].precondition(g.dw[l]);
      }
    }
    if (e == epochs - 1 || e % 2 == 1) {
      std::printf(" %.3f", net.loss(d.x_train, d.y_train));
    }
  }
  return net.accuracy(d.x_test, d.y_test);
}

}  // namespace shampoo_demo

/// Prints the matrix-functions and Shampoo section of the tour (about a second in Release).
inline void shampoo_section() {
  using Clock = std::chrono::steady_clock;
  std::printf("== Matrix functions and Shampoo ==\n");
  std::printf("Inverse 4th roots (what Shampoo needs) of a 256x256 matrix with condition 1e8,\n"
              "each with its residual ||X^4 A - I||_F/sqrt(n) and an Info:\n");
  const Eigen::MatrixXd a = shampoo_demo::conditioned(256, 1e8, 3);
  for (auto m : {curvop::RootMethod::Eigendecomposition, curvop::RootMethod::CoupledNewton}) {
    const auto t0 = Clock::now();
    const auto r = curvop::inverse_root<double>(a, 4, curvop::RootOptions{.method = m});
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    std::printf("  %-18s residual %.1e  info %-8s  %2d iterations  %6.1f ms\n",
                m == curvop::RootMethod::Eigendecomposition ? "eigendecomposition"
                                                            : "coupled Newton",
                r.residual, curvop::to_string(r.info), r.iterations, ms);
  }
  // A singular statistic (rank 10 of 64) with epsilon 0 has no inverse root: the fallback ladder
  // regularises it instead of returning NaN, and says so.
  Eigen::MatrixXd g = curvop::random::gaussian<double>(64, 10, 5);
  const auto s = curvop::inverse_root<double>(g * g.transpose(), 4);
  std::printf("Singular 64x64 statistic, epsilon 0: info %s, fallback %s (shift %.1e), finite: %s\n",
              curvop::to_string(s.info), curvop::to_string(s.fallback), s.epsilon,
              s.root.allFinite() ? "yes" : "no");

  std::printf("\nMLP 64-32-10 on the 8x8 digits, 8 epochs, batch 64; Shampoo's step length is\n"
              "grafted from Adam, its roots refreshed every 5 steps; learning rates are the best of\n"
              "a small sweep (SGD 0.4, Shampoo 0.03). Training loss every 2 epochs:\n");
  const auto d0 = curvop_examples::digits();
  const auto data =
      curvop_examples::split_every(curvop_examples::standardized(d0.x), d0.y, 5);
  struct Run {
    const char* name;
    bool shampoo;
    curvop::shampoo::Variant v;
  };
  for (const Run& run : {Run{"SGD      ", false, curvop::shampoo::Variant::Shampoo},
                         Run{"Shampoo  ", true, curvop::shampoo::Variant::Shampoo},
                         Run{"Shampoo^2", true, curvop::shampoo::Variant::ShampooSquared},
                         Run{"one-sided", true, curvop::shampoo::Variant::OneSided}}) {
    const auto t0 = Clock::now();
    std::printf("  %s loss", run.name);
    const double acc = shampoo_demo::train(data, run.shampoo, run.v, 8, run.shampoo ? 0.03 : 0.4);
    std::printf("  test accuracy %.3f  (%.2f s)\n", acc,
                std::chrono::duration<double>(Clock::now() - t0).count());
  }

  // Shampoo's factors L = E[G Gᵀ], R = E[Gᵀ G] are one power-iteration step towards the
  // Frobenius-optimal Kronecker approximation of E[vec(G) vec(G)ᵀ]; more steps converge.
  std::printf("\nKronecker approximation of E[vec(G)vec(G)^T] for 200 gradients G = A Z B + noise\n"
              "(12x8), relative Frobenius error after k power-iteration steps:\n ");
  const Eigen::MatrixXd am = shampoo_demo::conditioned(12, 30.0, 8);
  const Eigen::MatrixXd bm = shampoo_demo::conditioned(8, 10.0, 9);
  std::vector<Eigen::MatrixXd> gs;
  for (std::uint64_t i = 0; i < 200; ++i) {
    gs.push_back(am * curvop::random::gaussian<double>(12, 8, 100 + i) * bm +
                 0.05 * curvop::random::gaussian<double>(12, 8, 900 + i));
  }
  for (int k : {1, 2, 5, 50}) {
    const auto kr = curvop::shampoo::nearest_kronecker<double>(
        gs, curvop::shampoo::KroneckerOptions{.max_iterations = k, .tolerance = 0.0});
    std::printf(" k=%d: %.4f%s", k, kr.relative_error, k == 1 ? " (Shampoo's L, R)" : "");
  }
  std::printf("\n\n");
}

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_SHAMPOO_HPP
