// SPDX-License-Identifier: MIT
// The K-FAC part of the tour, and the small training harness it shares with
// examples/mlp_digits_training.cpp: the MLP of examples/support/mlp.hpp on the real 8x8 digits,
// trained by SGD, Adam, K-FAC (pi-damped) and EKFAC.
#ifndef CURVOP_EXAMPLES_TOUR_KFAC_HPP
#define CURVOP_EXAMPLES_TOUR_KFAC_HPP

#include <chrono>
#include <cmath>
#include <cstdio>
#include <curvop/kfac.hpp>
#include <curvop/operators/kronecker.hpp>
#include <curvop/random.hpp>
#include <functional>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "support/datasets.hpp"
#include "support/mlp.hpp"

namespace curvop_tour {

namespace kfac_demo {

using curvop_examples::Mlp;

/// One optimizer step on a mini-batch (columns of x, labels y); `step` counts from 0.
using Step = std::function<void(Mlp& net, const Eigen::MatrixXd& x, const Eigen::VectorXi& y,
                                long step)>;

/// Loss and accuracy after each epoch, and the seconds spent in the optimizer's steps.
struct Curve {
  std::string name;
  std::vector<double> train_loss, test_accuracy;
  double seconds = 0;
};

/// The digits, standardised, split 4:1 (every 5th sample to the test set).
inline curvop_examples::Split digits_split() {
  const auto d = curvop_examples::digits();
  return curvop_examples::split_every(curvop_examples::standardized(d.x), d.y, 5);
}

/// Trains a fresh MLP {64, hidden, 10} (seed 7) for `epochs` epochs of shuffled mini-batches.
inline Curve train(const std::string& name, const curvop_examples::Split& data, const Step& step,
                   int epochs, int batch, int hidden) {
  Mlp net({64, hidden, 10}, 7);
  Curve c{name, {}, {}, 0.0};
  const Eigen::Index n = data.x_train.cols();
  std::vector<Eigen::Index> order(static_cast<std::size_t>(n));
  long s = 0;
  for (int e = 0; e < epochs; ++e) {
    // Deterministic shuffle: sort by a counter-based key of (epoch, sample).
    const curvop::random::CounterRng rng(2024, static_cast<std::uint64_t>(e));
    std::iota(order.begin(), order.end(), Eigen::Index(0));
    std::sort(order.begin(), order.end(), [&](Eigen::Index a, Eigen::Index b) {
      return rng.bits(static_cast<std::uint64_t>(a)) < rng.bits(static_cast<std::uint64_t>(b));
    });
    const auto t0 = std::chrono::steady_clock::now();
    for (Eigen::Index b0 = 0; b0 + batch <= n; b0 += batch) {
      Eigen::MatrixXd x(data.x_train.rows(), batch);
      Eigen::VectorXi y(batch);
      for (int i = 0; i < batch; ++i) {
        const Eigen::Index j = order[static_cast<std::size_t>(b0 + i)];
        x.col(i) = data.x_train.col(j);
        y(i) = data.y_train(j);
      }
      step(net, x, y, s++);
    }
    c.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    c.train_loss.push_back(net.loss(data.x_train, data.y_train));
    c.test_accuracy.push_back(net.accuracy(data.x_test, data.y_test));
  }
  return c;
}

/// Plain SGD, W ← W − lr·∇L.
inline Step sgd(double lr) {
  return [lr](Mlp& net, const Eigen::MatrixXd& x, const Eigen::VectorXi& y, long) {
    const auto g = net.backward(net.forward(x), y);
    for (std::size_t l = 0; l < net.layers(); ++l) net.weights()[l] -= lr * g.dw[l];
  };
}

/// Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8), bias-corrected.
inline Step adam(double lr) {
  struct State {
    std::vector<Eigen::MatrixXd> m, v;
  };
  auto st = std::make_shared<State>();
  return [lr, st](Mlp& net, const Eigen::MatrixXd& x, const Eigen::VectorXi& y, long s) {
    const auto g = net.backward(net.forward(x), y);
    if (st->m.empty()) {
      for (const auto& w : net.weights()) {
        st->m.push_back(Eigen::MatrixXd::Zero(w.rows(), w.cols()));
        st->v.push_back(Eigen::MatrixXd::Zero(w.rows(), w.cols()));
      }
    }
    const double t = static_cast<double>(s + 1);
    const double c1 = 1.0 - std::pow(0.9, t), c2 = 1.0 - std::pow(0.999, t);
    for (std::size_t l = 0; l < net.layers(); ++l) {
      st->m[l] = 0.9 * st->m[l] + 0.1 * g.dw[l];
      st->v[l] = 0.999 * st->v[l] + 0.001 * g.dw[l].cwiseAbs2();
      net.weights()[l].array() -=
          lr * (st->m[l].array() / c1) / ((st->v[l].array() / c2).sqrt() + 1e-8);
    }
  };
}

/// Labels sampled from the model's own predictive distribution (column i of p), so that the
/// output gradients give the true Fisher rather than the empirical one.
inline Eigen::VectorXi sample_labels(const Eigen::MatrixXd& p, long step) {
  const curvop::random::CounterRng rng(99, static_cast<std::uint64_t>(step));
  Eigen::VectorXi y(p.cols());
  for (Eigen::Index i = 0; i < p.cols(); ++i) {
    double u = rng.uniform(static_cast<std::uint64_t>(i)), acc = 0;
    Eigen::Index k = 0;
    for (; k + 1 < p.rows(); ++k) {
      acc += p(k, i);
      if (u < acc) break;
    }
    y(i) = static_cast<int>(k);
  }
  return y;
}

/// K-FAC (or EKFAC with `ekfac`): per layer a `KFac` on W_l (out × (in + 1), the MLP's inputs
/// already carry the bias row), factors from sampled-label output gradients every step, the
/// damped operator refreshed every `refresh` steps, W ← W − ν·lr·C⁻¹∇L with kfac-pytorch's KL
/// clipping ν = min(1, sqrt(kl_clip / Σ_l lr²⟨C⁻¹∇L, ∇L⟩)) (kl_clip = 0: ν = 1).
inline Step kfac(double lr, double damping, bool ekfac, int refresh, double kl_clip) {
  struct State {
    std::vector<curvop::kfac::KFac<double>> k;
  };
  auto st = std::make_shared<State>();
  return [=](Mlp& net, const Eigen::MatrixXd& x, const Eigen::VectorXi& y, long s) {
    const auto tape = net.forward(x);
    const auto g = net.backward(tape, y);
    const auto fisher = net.backward(tape, sample_labels(tape.p, s));
    if (st->k.empty()) {
      const auto mode = ekfac ? curvop::kfac::Damping::Exact : curvop::kfac::Damping::PiAdjusted;
      for (const auto& w : net.weights()) {
        st->k.emplace_back(w.cols(), w.rows(),
                           curvop::kfac::Options{.damping = damping, .mode = mode, .ema = 0.95});
      }
    }
    std::vector<Eigen::MatrixXd> delta(net.layers());
    double quad = 0;
    for (std::size_t l = 0; l < net.layers(); ++l) {
      auto& k = st->k[l];
      const Eigen::MatrixXd acts = tape.a[l].transpose();
      const Eigen::MatrixXd outg = fisher.delta[l].transpose();
      // A rejected batch or a failed refresh keeps the previous operator (info() says why).
      if (k.update(acts, outg) == curvop::Info::Success) {
        if (s % refresh == 0) (void)k.compute();
        if (ekfac) (void)k.update_eigenvalues(acts, outg);
      }
      delta[l] = k.precondition(g.dw[l]);
      quad += lr * lr * delta[l].cwiseProduct(g.dw[l]).sum();
    }
    const double nu = kl_clip > 0 && quad > 0 ? std::min(1.0, std::sqrt(kl_clip / quad)) : 1.0;
    for (std::size_t l = 0; l < net.layers(); ++l) net.weights()[l] -= nu * lr * delta[l];
  };
}

/// Prints the last epoch of each curve as a table row.
inline void print_summary(const std::vector<Curve>& curves) {
  std::printf("  %-10s %10s %10s %10s\n", "optimizer", "train loss", "test acc", "seconds");
  for (const auto& c : curves) {
    std::printf("  %-10s %10.4f %9.1f%% %10.3f\n", c.name.c_str(), c.train_loss.back(),
                100.0 * c.test_accuracy.back(), c.seconds);
  }
}

}  // namespace kfac_demo

/// The K-FAC section of the tour: one layer's K-FAC operator composed with `curvop::kron`, then
/// a short training run of SGD, Adam, K-FAC and EKFAC on the real digits.
inline void kfac_section() {
  using namespace kfac_demo;
  std::printf("== K-FAC: Kronecker-factored curvature (curvop::kfac) ==\n");
  const auto data = digits_split();
  // One layer 64 -> 32 with bias: statistics from a batch, pi-damped operator, and the same
  // operator rebuilt as kron(Â, Ĝ) from the factors, which compose with the operator algebra.
  Mlp net({64, 32, 10}, 7);
  const auto tape = net.forward(data.x_train.leftCols(256));
  const auto fisher = net.backward(tape, sample_labels(tape.p, 0));
  curvop::kfac::KFac<double> k(64, 32, {.damping = 1e-3, .bias = true});
  if (k.update(data.x_train.leftCols(256).transpose(), fisher.delta[0].transpose()) !=
          curvop::Info::Success ||
      k.compute() != curvop::Info::Success) {
    std::printf("  K-FAC refresh failed: %s\n", curvop::to_string(k.info()));
    return;
  }
  const auto c = curvop::kron(k.damped_a(), k.damped_g());
  const Eigen::MatrixXd v = curvop::random::gaussian<double>(k.cols(), 1, 1);
  const Eigen::MatrixXd p1 = curvop::apply_inverse(k, v), p2 = curvop::apply_inverse(c, v);
  std::printf("  layer 64(+1) -> 32: C = A (x) G on %ld weights, pi-damped: damping A %.2e, G %.2e\n",
              static_cast<long>(k.rows()), k.damping_a(), k.damping_g());
  std::printf("  |C^-1 v - kron(A^, G^)^-1 v| / |C^-1 v| = %.1e   log det C = %.1f\n",
              (p1 - p2).norm() / p1.norm(), k.logdet());
  // Training: 8 epochs of mini-batches of 64.
  std::vector<Curve> curves;
  curves.push_back(train("SGD", data, sgd(0.2), 8, 64, 64));
  curves.push_back(train("Adam", data, adam(3e-3), 8, 64, 64));
  curves.push_back(train("K-FAC", data, kfac(0.2, 1e-2, false, 5, 1e-2), 8, 64, 64));
  curves.push_back(train("EKFAC", data, kfac(0.2, 1e-2, true, 5, 1e-2), 8, 64, 64));
  std::printf("  MLP 64-64-10 on the 8x8 digits (1437 train / 360 test), 8 epochs:\n");
  print_summary(curves);
}

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_KFAC_HPP
