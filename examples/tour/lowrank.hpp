// SPDX-License-Identifier: MIT
// The low-rank section of the tour: randomized SVD against a full SVD; GaLore-Adam (every refresh
// policy) against full Adam on the small MLP on the real digits data and on a synthetic
// matrix-regression problem; LoRA-GA / LoRA-One against the standard LoRA initialisation.
#ifndef CURVOP_EXAMPLES_TOUR_LOWRANK_HPP
#define CURVOP_EXAMPLES_TOUR_LOWRANK_HPP

#include <Eigen/QR>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <optional>
#include <curvop/lowrank.hpp>
#include <string>
#include <vector>

#include "support/datasets.hpp"
#include "support/mlp.hpp"

namespace curvop_tour {

namespace lowrank_detail {

namespace lr = curvop::lowrank;
using Mat = Eigen::MatrixXd;

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// Plain (full-state) Adam on one matrix: the baseline GaLore is compared with.
struct Adam {
  explicit Adam(lr::AdamOptions opt) : o(opt) {}
  lr::AdamOptions o;
  Mat m, v;
  int t = 0;
  void step(Mat& w, const Mat& g) {
    if (m.size() == 0) {
      m = Mat::Zero(g.rows(), g.cols());
      v = m;
    }
    ++t;
    m = o.beta1 * m + (1 - o.beta1) * g;
    v = o.beta2 * v + (1 - o.beta2) * g.cwiseAbs2();
    const double c1 = 1 / (1 - std::pow(o.beta1, t)), c2 = 1 / std::sqrt(1 - std::pow(o.beta2, t));
    w.array() -= o.lr * (c1 * m.array()) / (c2 * v.array().sqrt() + o.eps);
  }
  curvop::Index state_size() const { return m.size() + v.size(); }
};

inline const char* policy_name(lr::RefreshPolicy p) {
  switch (p) {
    case lr::RefreshPolicy::ExactSvd: return "exact SVD";
    case lr::RefreshPolicy::RandomizedSvd: return "randomized SVD";
    case lr::RefreshPolicy::SubspaceIteration: return "warm subspace it.";
    case lr::RefreshPolicy::OnlinePca: return "online PCA";
    case lr::RefreshPolicy::Dct: return "DCT columns";
  }
  return "?";
}

inline constexpr lr::RefreshPolicy kPolicies[] = {
    lr::RefreshPolicy::ExactSvd, lr::RefreshPolicy::RandomizedSvd,
    lr::RefreshPolicy::SubspaceIteration, lr::RefreshPolicy::OnlinePca, lr::RefreshPolicy::Dct};

struct RunResult {
  double loss = 0, accuracy = 0, seconds = 0;
  curvop::Index state = 0;
};

/// Full-batch training of the tanh MLP (64 → hidden → 10) on the standardised digits data, every
/// layer with GaLore-Adam at `rank` (policy given) or with full Adam (policy empty).
inline RunResult train_digits(const curvop_examples::Split& data, const lr::RefreshPolicy* policy,
                              int steps, curvop::Index rank, int hidden) {
  curvop_examples::Mlp net({64, hidden, 10}, 7);
  const lr::AdamOptions adam{.lr = 1e-2};
  std::vector<Adam> full(net.layers(), Adam(adam));
  std::vector<lr::GaLoreAdam<double>> galore;
  if (policy) {
    for (const auto& w : net.weights()) {
      const curvop::Index r = std::min<curvop::Index>(rank, std::min(w.rows(), w.cols()));
      // GaLore's α = 1 here: the comparison is at equal learning rate.
      galore.emplace_back(w.rows(), w.cols(), r,
                          lr::GaLoreOptions{.policy = *policy, .update_gap = 25}, adam);
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) {
    const auto tape = net.forward(data.x_train);
    const auto grads = net.backward(tape, data.y_train);
    for (std::size_t l = 0; l < net.layers(); ++l) {
      if (policy) {
        if (galore[l].step(net.weights()[l], grads.dw[l]) != curvop::Info::Success) {
          std::printf("    (refresh failed at step %d; the previous basis was kept)\n", s);
        }
      } else {
        full[l].step(net.weights()[l], grads.dw[l]);
      }
    }
  }
  RunResult r;
  r.seconds = seconds_since(t0);
  r.loss = net.loss(data.x_train, data.y_train);
  r.accuracy = net.accuracy(data.x_test, data.y_test);
  for (std::size_t l = 0; l < net.layers(); ++l) {
    r.state += policy ? galore[l].state_size() : 2 * net.weights()[l].size();
  }
  return r;
}

/// A matrix-regression problem L(W) = ‖W X − Y‖²/(2N), Y = W* X + noise, with W* of decaying
/// spectrum (m x n) and Gaussian inputs X (n x N). The gradient (W X − Y)Xᵀ/N = W C − B uses the
/// precomputed C = XXᵀ/N and B = YXᵀ/N, so a step costs O(m·n²) whatever N.
struct Regression {
  Mat x, y, w_star, c, b;
  static Regression make(curvop::Index m, curvop::Index n, curvop::Index samples, double decay) {
    Regression p;
    const Mat u = curvop::random::gaussian<double>(m, m, 1).householderQr().householderQ() *
                  Mat::Identity(m, std::min(m, n));
    const Mat v = curvop::random::gaussian<double>(n, n, 2).householderQr().householderQ() *
                  Mat::Identity(n, std::min(m, n));
    Eigen::VectorXd s(std::min(m, n));
    for (curvop::Index i = 0; i < s.size(); ++i) s(i) = 3.0 * std::pow(1.0 + double(i), -decay);
    p.w_star = u * s.asDiagonal() * v.transpose();
    p.x = curvop::random::gaussian<double>(n, samples, 3);
    p.y = p.w_star * p.x + 0.01 * curvop::random::gaussian<double>(m, samples, 4);
    p.c = p.x * p.x.transpose() / double(samples);
    p.b = p.y * p.x.transpose() / double(samples);
    return p;
  }
  double loss(const Mat& w) const { return 0.5 * (w * x - y).squaredNorm() / double(x.cols()); }
  Mat grad(const Mat& w) const { return w * c - b; }
};

inline RunResult train_regression(const Regression& p, const lr::RefreshPolicy* policy, int steps,
                                  curvop::Index rank) {
  Mat w = Mat::Zero(p.w_star.rows(), p.w_star.cols());
  const lr::AdamOptions adam{.lr = 2e-2};
  Adam full(adam);
  std::optional<lr::GaLoreAdam<double>> galore;
  if (policy) {
    galore.emplace(w.rows(), w.cols(), rank, lr::GaLoreOptions{.policy = *policy, .update_gap = 20},
                   adam);
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (int s = 0; s < steps; ++s) {
    const Mat g = p.grad(w);
    if (policy) {
      (void)galore->step(w, g);
    } else {
      full.step(w, g);
    }
  }
  RunResult r;
  r.seconds = seconds_since(t0);
  r.loss = p.loss(w);
  r.state = policy ? galore->state_size() : 2 * w.size();
  return r;
}

/// LoRA fine-tuning of W0 towards W0 + Δ (Δ of rank 4) on the regression loss: adapters trained by
/// Adam; the loss after `checkpoints` steps for one initialisation.
inline std::vector<double> train_lora(const Regression& p, const Mat& w0, const lr::LoraInit<double>& init,
                                      const std::vector<int>& checkpoints) {
  Mat a = init.a, b = init.b, base = w0;
  init.fold_into(base);
  const double s = init.scaling;
  Adam adam_a(lr::AdamOptions{.lr = 1e-2}), adam_b(lr::AdamOptions{.lr = 1e-2});
  std::vector<double> out;
  int step = 0;
  for (int stop : checkpoints) {
    for (; step < stop; ++step) {
      const Mat g = p.grad(base + s * b * a);
      const Mat ga = s * b.transpose() * g, gb = s * g * a.transpose();
      adam_a.step(a, ga);
      adam_b.step(b, gb);
    }
    out.push_back(p.loss(base + s * b * a));
  }
  return out;
}

}  // namespace lowrank_detail

/// The tour's low-rank section (about 5 s in Release).
inline void lowrank_section() {
  using namespace lowrank_detail;
  std::printf("== Low-rank projections (curvop::lowrank) ==\n\n");

  // 1. Randomized SVD against the full SVD on a 600 x 400 matrix with σ_i = 3/(1 + i)^0.8.
  {
    const Regression p = Regression::make(600, 400, 1, 0.8);
    const Eigen::MatrixXf a = p.w_star.cast<float>();
    const curvop::Index r = 20;
    auto t0 = std::chrono::steady_clock::now();
    const auto rs = lr::randomized_svd(a, r, {.oversampling = 10, .power_iterations = 4});
    const double t_rand = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    Eigen::BDCSVD<Eigen::MatrixXf> full(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const double t_full = seconds_since(t0);
    const Eigen::MatrixXf approx = rs.u * rs.s.asDiagonal() * rs.v.transpose();
    const double opt = full.singularValues().tail(400 - r).cast<double>().norm();
    std::printf("randomized_svd, 600 x 400 float, rank %ld (p = 10, q = 4):\n", long(r));
    std::printf("  error / optimal rank-r error = %.5f   time %.1f ms (BDCSVD: %.1f ms, %.0fx)\n\n",
                (a - approx).cast<double>().norm() / opt, 1e3 * t_rand, 1e3 * t_full,
                t_full / t_rand);
  }

  // 2. GaLore-Adam on the MLP and the real digits data.
  {
    const auto data = curvop_examples::digits();
    const auto split = curvop_examples::split_every(curvop_examples::standardized(data.x), data.y, 5);
    const int steps = 100, hidden = 64;
    const curvop::Index rank = 8;
    std::printf("GaLore-Adam, tanh MLP 64-%d-10 on digits (1437 train / 360 test), %d full-batch "
                "steps, rank %ld, refresh every 25:\n", hidden, steps, long(rank));
    std::printf("  %-24s %10s %10s %12s %9s\n", "optimizer", "train loss", "test acc",
                "state floats", "time ms");
    const RunResult adam = train_digits(split, nullptr, steps, rank, hidden);
    std::printf("  %-24s %10.4f %9.1f%% %12ld %9.1f\n", "Adam (full)", adam.loss,
                100 * adam.accuracy, long(adam.state), 1e3 * adam.seconds);
    for (auto pol : kPolicies) {
      const RunResult g = train_digits(split, &pol, steps, rank, hidden);
      std::printf("  GaLore %-17s %10.4f %9.1f%% %12ld %9.1f\n", policy_name(pol), g.loss,
                  100 * g.accuracy, long(g.state), 1e3 * g.seconds);
    }
    std::printf("\n");
  }

  // 3. LoRA initialisations on a matrix-regression fine-tuning task.
  {
    const Regression p = Regression::make(96, 64, 512, 1.0);
    // "Pre-trained" W0 misses a rank-4 correction Δ of W*: W0 = W* − Δ.
    const Mat delta = 0.5 * curvop::random::gaussian<double>(96, 4, 8) *
                      curvop::random::gaussian<double>(4, 64, 9) / 8.0;
    const Mat w0 = p.w_star - delta;
    const Mat g = p.grad(w0);
    const curvop::Index r = 4;
    const std::vector<int> at = {0, 10, 50, 200};
    std::printf("LoRA rank %ld on a 96 x 64 regression, adapters trained by Adam (lr 1e-2):\n",
                long(r));
    std::printf("  %-28s %10s %10s %10s %10s\n", "initialisation", "step 0", "step 10",
                "step 50", "step 200");
    auto row = [&](const char* name, const lr::LoraInit<double>& init) {
      const auto l = train_lora(p, w0, init, at);
      std::printf("  %-28s %10.4f %10.4f %10.4f %10.4f\n", name, l[0], l[1], l[2], l[3]);
    };
    row("standard (B = 0)", lr::lora_standard_init<double>(96, 64, r, 1.0, 3));
    row("LoRA-GA (original scale)", lr::lora_ga_init<double>(g, r, {.gamma = 16}));
    row("LoRA-One (gamma = 128, ref.)", lr::lora_one_init<double>(g, r));
    row("LoRA-One (gamma = 1)", lr::lora_one_init<double>(g, r, {.gamma = 1}));
    std::printf("  (loss of W0: %.4f; noise floor ~ %.6f)\n\n", p.loss(w0), p.loss(p.w_star));
  }
}

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_LOWRANK_HPP
