// SPDX-License-Identifier: MIT
// The M-FAC section of the tour: Optimal-Brain-Surgeon pruning of a logistic regression and
// M-FAC-preconditioned SGD on the raw (badly scaled) breast-cancer features. The helpers here are
// shared with examples/mfac_pruning.cpp and examples/mfac_optimizer.cpp.
#ifndef CURVOP_EXAMPLES_TOUR_MFAC_HPP
#define CURVOP_EXAMPLES_TOUR_MFAC_HPP

#include <Eigen/Cholesky>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <curvop/mfac.hpp>
#include <numeric>
#include <vector>

#include "support/datasets.hpp"
#include "support/mlp.hpp"

namespace curvop_tour {

namespace mfac_detail {

/// Binary logistic regression on column samples x (features x n), labels y ∈ {0, 1}; the last
/// parameter is the bias. Loss L(w) = mean log(1 + exp(−s·(wᵀx̃))) with s = ±1, x̃ = [x; 1].
struct Logistic {
  const Eigen::MatrixXd* x;
  const Eigen::VectorXi* y;

  Eigen::Index dim() const { return x->rows() + 1; }
  Eigen::VectorXd margins(const Eigen::VectorXd& w) const {
    const Eigen::Index f = x->rows();
    return (x->transpose() * w.head(f)).array() + w(f);
  }
  double loss(const Eigen::VectorXd& w) const {
    const Eigen::VectorXd z = margins(w);
    double s = 0;
    for (Eigen::Index i = 0; i < z.size(); ++i) {
      const double t = (*y)(i) == 1 ? -z(i) : z(i);  // log(1 + e^t), stably
      s += t > 0 ? t + std::log1p(std::exp(-t)) : std::log1p(std::exp(t));
    }
    return s / static_cast<double>(z.size());
  }
  double accuracy(const Eigen::VectorXd& w) const {
    const Eigen::VectorXd z = margins(w);
    int ok = 0;
    for (Eigen::Index i = 0; i < z.size(); ++i) ok += ((z(i) > 0) == ((*y)(i) == 1));
    return static_cast<double>(ok) / static_cast<double>(z.size());
  }
  /// Per-sample gradients (dim x n) for the samples in [first, first + count).
  Eigen::MatrixXd sample_gradients(const Eigen::VectorXd& w, Eigen::Index first,
                                   Eigen::Index count) const {
    const Eigen::Index f = x->rows();
    Eigen::MatrixXd g(f + 1, count);
    for (Eigen::Index j = 0; j < count; ++j) {
      const Eigen::Index i = (first + j) % x->cols();
      const double z = x->col(i).dot(w.head(f)) + w(f);
      const double r = 1.0 / (1.0 + std::exp(-z)) - (*y)(i);
      g.col(j).head(f) = r * x->col(i);
      g(f, j) = r;
    }
    return g;
  }
  Eigen::VectorXd gradient(const Eigen::VectorXd& w) const {
    return sample_gradients(w, 0, x->cols()).rowwise().mean();
  }
  /// Newton's method with a small ridge (α‖w‖²/2) to a converged dense model.
  Eigen::VectorXd fit_newton(double ridge, int iterations = 30) const {
    const Eigen::Index d = dim(), n = x->cols();
    Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
    Eigen::MatrixXd xt(d, n);
    xt.topRows(d - 1) = *x;
    xt.row(d - 1).setOnes();
    for (int it = 0; it < iterations; ++it) {
      const Eigen::VectorXd z = xt.transpose() * w;
      const Eigen::ArrayXd p = 1.0 / (1.0 + (-z.array()).exp());
      const Eigen::VectorXd r = p - y->cast<double>().array();
      const Eigen::VectorXd g = xt * r / double(n) + ridge * w;
      Eigen::MatrixXd h = xt * (p * (1 - p)).matrix().asDiagonal() * xt.transpose() / double(n);
      h.diagonal().array() += ridge;
      w -= h.ldlt().solve(g);
    }
    return w;
  }
};

/// Zeroes the `count` entries of smallest magnitude among `active` (indices into w).
inline void magnitude_prune(Eigen::VectorXd& w, const std::vector<Eigen::Index>& active,
                            Eigen::Index count) {
  std::vector<Eigen::Index> idx = active;
  std::stable_sort(idx.begin(), idx.end(),
                   [&](Eigen::Index a, Eigen::Index b) { return std::abs(w(a)) < std::abs(w(b)); });
  for (Eigen::Index t = 0; t < count; ++t) w(idx[static_cast<std::size_t>(t)]) = 0;
}

/// M-FAC OBS pruning of the `prunable` coordinates of w down to `target` sparsity in `steps`
/// recomputations (the reference's gradual schedule with geometric density): at each step the
/// empirical Fisher of the still-unpruned prunable weights is rebuilt from fresh per-sample
/// gradients (`grads(w)`, d x n), pruned with obs_prune, and the compensation written back.
/// `block` > 0 uses BlockFisher with that block size.
template <class GradFn>
void obs_prune_gradual(Eigen::VectorXd& w, const std::vector<Eigen::Index>& prunable,
                       double target, int steps, double damping, GradFn&& grads,
                       Eigen::Index block = 0) {
  std::vector<Eigen::Index> alive = prunable;
  const double total = static_cast<double>(prunable.size());
  for (int s = 1; s <= steps; ++s) {
    const double density = std::pow(1.0 - target, static_cast<double>(s) / steps);
    const auto keep = static_cast<Eigen::Index>(std::llround(density * total));
    const Eigen::Index count = static_cast<Eigen::Index>(alive.size()) - keep;
    if (count <= 0) continue;
    const Eigen::MatrixXd g = grads(w);
    const auto na = static_cast<Eigen::Index>(alive.size());
    Eigen::MatrixXd ga(na, g.cols());
    Eigen::VectorXd wa(na);
    for (Eigen::Index i = 0; i < na; ++i) {
      ga.row(i) = g.row(alive[static_cast<std::size_t>(i)]);
      wa(i) = w(alive[static_cast<std::size_t>(i)]);
    }
    // λ relative to the mean curvature, so one value fits models of any scale.
    const double lam = damping * std::max(ga.squaredNorm() / double(na * ga.cols()), 1e-300);
    Eigen::Array<bool, Eigen::Dynamic, 1> mask;
    if (block > 0) {
      const curvop::mfac::BlockFisher<double> f(ga, lam, block);
      mask = curvop::mfac::obs_prune(f, wa, count);
    } else {
      const curvop::mfac::EmpiricalFisher<double> f(std::move(ga), lam);
      mask = curvop::mfac::obs_prune(f, wa, count);
    }
    std::vector<Eigen::Index> next;
    for (Eigen::Index i = 0; i < na; ++i) {
      w(alive[static_cast<std::size_t>(i)]) = wa(i);
      if (!mask(i)) next.push_back(alive[static_cast<std::size_t>(i)]);
    }
    alive = std::move(next);
  }
}

/// Step sizes of the optimizer comparison: the largest of 10^k, 3·10^k that do not diverge for
/// each method on the raw breast-cancer features (found by a sweep in examples/mfac_optimizer).
inline constexpr double kSgdRate = 1e-5, kMomentumRate = 1e-5, kMfacRate = 3e-3,
                        kMfacDamping = 1e-4;

/// One run of mini-batch SGD variants on a logistic regression; returns the loss after each
/// step. kind: 0 = SGD, 1 = SGD with momentum 0.9, 2 = M-FAC-preconditioned SGD.
struct RunResult {
  std::vector<double> loss;
  double seconds = 0;
  double accuracy = 0;
};
inline RunResult run_optimizer(const Logistic& lr, int kind, int steps, double rate,
                               Eigen::Index batch, Eigen::Index window, double damping) {
  const Eigen::Index d = lr.dim(), n = lr.x->cols();
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d), v = Eigen::VectorXd::Zero(d);
  curvop::mfac::SlidingWindowFisher<double> fisher(d, window, damping);
  Eigen::VectorXd step(d);
  RunResult r;
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < steps; ++t) {
    const Eigen::VectorXd g = lr.sample_gradients(w, (t * batch) % n, batch).rowwise().mean();
    if (kind == 0) {
      w -= rate * g;
    } else if (kind == 1) {
      v = 0.9 * v + g;
      w -= rate * v;
    } else {
      if (fisher.push_and_apply_inverse(g, step) != curvop::Info::Success) break;
      w -= rate * step;
    }
    r.loss.push_back(lr.loss(w));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.accuracy = lr.accuracy(w);
  return r;
}

}  // namespace mfac_detail

/// Tour section: prune a logistic regression on breast cancer with M-FAC OBS vs magnitude, and
/// train it on raw features with M-FAC-preconditioned SGD vs SGD.
inline void mfac_section() {
  using namespace mfac_detail;
  std::printf("\n== M-FAC: empirical-Fisher inverse (Woodbury, O(d·m)) ==\n");
  const auto data = curvop_examples::breast_cancer();
  const auto split = curvop_examples::split_every(curvop_examples::standardized(data.x), data.y, 5);
  const Logistic train{&split.x_train, &split.y_train}, test{&split.x_test, &split.y_test};
  const Eigen::VectorXd dense = train.fit_newton(1e-2);
  std::vector<Eigen::Index> weights(30);
  std::iota(weights.begin(), weights.end(), Eigen::Index(0));
  const auto per_sample = [&](const Eigen::VectorXd& w) {
    return train.sample_gradients(w, 0, split.x_train.cols());
  };
  std::printf("pruning a logistic regression (30 weights, %ld per-sample gradients)\n",
              static_cast<long>(split.x_train.cols()));
  std::printf("  dense: train loss %.4f, test accuracy %.3f\n", train.loss(dense),
              test.accuracy(dense));
  std::printf("  %-9s %-22s %-22s\n", "sparsity", "magnitude loss / acc", "M-FAC OBS loss / acc");
  for (double s : {0.5, 0.75, 0.9}) {
    Eigen::VectorXd wm = dense, wo = dense;
    magnitude_prune(wm, weights, std::llround(s * 30));
    obs_prune_gradual(wo, weights, s, 4, 1e-3, per_sample);
    std::printf("  %-9.2f %.4f / %.3f         %.4f / %.3f\n", s, train.loss(wm), test.accuracy(wm),
                train.loss(wo), test.accuracy(wo));
  }

  // Optimizer: the raw features span five orders of magnitude, so plain SGD must take tiny
  // steps; the M-FAC preconditioner rescales them from the last 16 gradients.
  const Eigen::MatrixXd xr = data.x.transpose();
  const Logistic raw{&xr, &data.y};
  std::printf("training on raw features (batch 32, 400 steps): loss at step 50 / 100 / 400\n");
  const char* names[] = {"SGD", "SGD + momentum", "M-FAC SGD (m = 16)"};
  const double rates[] = {kSgdRate, kMomentumRate, kMfacRate};
  for (int kind = 0; kind < 3; ++kind) {
    const RunResult r = run_optimizer(raw, kind, 400, rates[kind], 32, 16, kMfacDamping);
    std::printf("  %-20s %.4f / %.4f / %.4f   accuracy %.3f   %.1f ms\n", names[kind], r.loss[49],
                r.loss[99], r.loss.back(), r.accuracy, 1e3 * r.seconds);
  }
}

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_MFAC_HPP
