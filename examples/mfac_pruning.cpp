// SPDX-License-Identifier: MIT
// M-FAC pruning on the breast-cancer dataset: a logistic regression and a small tanh MLP, pruned
// to 50/75/90% sparsity with Optimal-Brain-Surgeon scores from the empirical Fisher (with the
// compensating update of the remaining weights) and with magnitude pruning.
#include <cstdio>

#include "tour/mfac.hpp"

using namespace curvop_tour::mfac_detail;

int main() {
  const auto data = curvop_examples::breast_cancer();
  const auto split = curvop_examples::split_every(curvop_examples::standardized(data.x), data.y, 5);
  const Eigen::Index n = split.x_train.cols();

  // 1. Logistic regression (30 weights + bias), trained to convergence by Newton's method.
  const Logistic train{&split.x_train, &split.y_train}, test{&split.x_test, &split.y_test};
  const Eigen::VectorXd dense = train.fit_newton(1e-2);
  std::vector<Eigen::Index> weights(30);
  std::iota(weights.begin(), weights.end(), Eigen::Index(0));
  const auto lr_grads = [&](const Eigen::VectorXd& w) { return train.sample_gradients(w, 0, n); };
  std::printf("logistic regression: 30 weights, F from %ld per-sample gradients\n",
              static_cast<long>(n));
  std::printf("  dense               train loss %.4f  test acc %.3f\n", train.loss(dense),
              test.accuracy(dense));
  for (double s : {0.5, 0.75, 0.9}) {
    Eigen::VectorXd wm = dense, w1 = dense, w4 = dense;
    magnitude_prune(wm, weights, std::llround(s * 30));
    obs_prune_gradual(w1, weights, s, 1, 1e-3, lr_grads);
    obs_prune_gradual(w4, weights, s, 4, 1e-3, lr_grads);
    std::printf("  %2.0f%% magnitude       train loss %.4f  test acc %.3f\n", 100 * s,
                train.loss(wm), test.accuracy(wm));
    std::printf("  %2.0f%% M-FAC one-shot  train loss %.4f  test acc %.3f\n", 100 * s,
                train.loss(w1), test.accuracy(w1));
    std::printf("  %2.0f%% M-FAC 4 steps   train loss %.4f  test acc %.3f\n", 100 * s,
                train.loss(w4), test.accuracy(w4));
  }

  // 2. A 30-16-2 tanh MLP (512 weights + 18 biases) trained by full-batch gradient descent, pruned
  //    with the block-diagonal Fisher (blocks of 128 weights), the form used for large models.
  curvop_examples::Mlp mlp({30, 16, 2}, 7);
  for (int it = 0; it < 1500; ++it) {
    const auto tape = mlp.forward(split.x_train);
    const auto g = mlp.backward(tape, split.y_train);
    for (std::size_t l = 0; l < mlp.layers(); ++l) mlp.weights()[l] -= 0.5 * g.dw[l];
  }
  // Weight coordinates of the flat parameter vector (the bias is each layer's last column).
  std::vector<Eigen::Index> mlp_weights;
  {
    Eigen::Index o = 0;
    for (const auto& w : mlp.weights()) {
      for (Eigen::Index j = 0; j + 1 < w.cols(); ++j)
        for (Eigen::Index i = 0; i < w.rows(); ++i) mlp_weights.push_back(o + j * w.rows() + i);
      o += w.size();
    }
  }
  // Per-sample gradients from one batched backward pass: dW_l for sample i is δ_l(:, i) a_l(:, i)ᵀ.
  const auto mlp_grads = [&](const Eigen::VectorXd& flat) {
    curvop_examples::Mlp m2 = mlp;
    m2.set_flat(flat);
    const auto tape = m2.forward(split.x_train);
    const auto g = m2.backward(tape, split.y_train);
    Eigen::MatrixXd out(m2.parameters(), n);
    for (Eigen::Index i = 0; i < n; ++i) {
      Eigen::Index o = 0;
      for (std::size_t l = 0; l < m2.layers(); ++l) {
        const Eigen::MatrixXd dw = g.delta[l].col(i) * tape.a[l].col(i).transpose();
        out.col(i).segment(o, dw.size()) = dw.reshaped();
        o += dw.size();
      }
    }
    return out;
  };
  const auto eval = [&](const Eigen::VectorXd& flat, const Eigen::MatrixXd& x,
                        const Eigen::VectorXi& y, bool acc) {
    curvop_examples::Mlp m2 = mlp;
    m2.set_flat(flat);
    return acc ? m2.accuracy(x, y) : m2.loss(x, y);
  };
  const Eigen::VectorXd mlp_dense = mlp.flat();
  const auto nw = static_cast<double>(mlp_weights.size());
  std::printf("MLP 30-16-2: %zu weights, block-diagonal F (blocks of 128)\n", mlp_weights.size());
  std::printf("  dense               train loss %.4f  test acc %.3f\n",
              eval(mlp_dense, split.x_train, split.y_train, false),
              eval(mlp_dense, split.x_test, split.y_test, true));
  for (double s : {0.5, 0.75, 0.9}) {
    Eigen::VectorXd wm = mlp_dense, wo = mlp_dense;
    magnitude_prune(wm, mlp_weights, std::llround(s * nw));
    obs_prune_gradual(wo, mlp_weights, s, 4, 1e-3, mlp_grads, 128);
    std::printf("  %2.0f%% magnitude       train loss %.4f  test acc %.3f\n", 100 * s,
                eval(wm, split.x_train, split.y_train, false),
                eval(wm, split.x_test, split.y_test, true));
    std::printf("  %2.0f%% M-FAC 4 steps   train loss %.4f  test acc %.3f\n", 100 * s,
                eval(wo, split.x_train, split.y_train, false),
                eval(wo, split.x_test, split.y_test, true));
  }
  return 0;
}
