// SPDX-License-Identifier: MIT
// A small multi-layer perceptron with hand-written forward and backward passes in Eigen, shared by
// the examples (K-FAC, Shampoo, estimators, GaLore). Samples are columns.
//
// Layer l maps a_l (in_l + 1 rows: the input with a constant 1 appended for the bias) to
// z_l = W_l a_l (out_l rows), W_l is out_l x (in_l + 1) with the bias as its last column, and
// h_l = tanh(z_l) for hidden layers; the last layer's z is the logits of a softmax cross-entropy
// loss L = (1/n) Σ_i −log p_{y_i}(x_i).
#ifndef CURVOP_EXAMPLES_SUPPORT_MLP_HPP
#define CURVOP_EXAMPLES_SUPPORT_MLP_HPP

#include <Eigen/Core>
#include <cmath>
#include <cstdint>
#include <curvop/random.hpp>
#include <stdexcept>
#include <vector>

namespace curvop_examples {

class Mlp {
 public:
  /// What the forward pass keeps for the backward pass.
  struct Tape {
    std::vector<Eigen::MatrixXd> a;  ///< a_l: layer inputs with the bias row, (in_l + 1) x n
    std::vector<Eigen::MatrixXd> z;  ///< z_l: pre-activations, out_l x n
    Eigen::MatrixXd p;               ///< softmax probabilities, classes x n
  };
  /// Gradients of the loss.
  struct Grads {
    std::vector<Eigen::MatrixXd> dw;  ///< dL/dW_l = (1/n) δ_l a_lᵀ, out_l x (in_l + 1)
    /// δ_l = ∂ℓ_i/∂z_l per example (without the 1/n): the "output gradients" K-FAC's G factor is
    /// built from (G = (1/n) δ δᵀ), out_l x n.
    std::vector<Eigen::MatrixXd> delta;
  };

  /// sizes = {inputs, hidden..., classes}; weights ~ N(0, 1/fan_in) from `seed`, biases 0.
  Mlp(std::vector<int> sizes, std::uint64_t seed) : m_sizes(std::move(sizes)) {
    if (m_sizes.size() < 2) throw std::invalid_argument("Mlp: need at least two layer sizes");
    for (std::size_t l = 0; l + 1 < m_sizes.size(); ++l) {
      const int in = m_sizes[l], out = m_sizes[l + 1];
      Eigen::MatrixXd w = curvop::random::gaussian<double>(out, in + 1, seed, 0) / std::sqrt(in);
      w.col(in).setZero();
      m_w.push_back(std::move(w));
      seed = curvop::random::splitmix64(seed);
    }
  }

  std::size_t layers() const { return m_w.size(); }
  const std::vector<int>& sizes() const { return m_sizes; }
  std::vector<Eigen::MatrixXd>& weights() { return m_w; }
  const std::vector<Eigen::MatrixXd>& weights() const { return m_w; }

  /// Number of parameters (weights and biases).
  Eigen::Index parameters() const {
    Eigen::Index n = 0;
    for (const auto& w : m_w) n += w.size();
    return n;
  }
  /// All parameters stacked layer by layer (each W_l column-major).
  Eigen::VectorXd flat() const {
    Eigen::VectorXd v(parameters());
    Eigen::Index o = 0;
    for (const auto& w : m_w) {
      v.segment(o, w.size()) = w.reshaped();
      o += w.size();
    }
    return v;
  }
  void set_flat(const Eigen::VectorXd& v) {
    Eigen::Index o = 0;
    for (auto& w : m_w) {
      w.reshaped() = v.segment(o, w.size());
      o += w.size();
    }
  }
  /// Gradients stacked like `flat()`.
  static Eigen::VectorXd flatten(const std::vector<Eigen::MatrixXd>& dw) {
    Eigen::Index n = 0;
    for (const auto& w : dw) n += w.size();
    Eigen::VectorXd v(n);
    Eigen::Index o = 0;
    for (const auto& w : dw) {
      v.segment(o, w.size()) = w.reshaped();
      o += w.size();
    }
    return v;
  }

  /// Forward pass on x (inputs x n).
  Tape forward(const Eigen::MatrixXd& x) const {
    Tape t;
    Eigen::MatrixXd h = x;
    for (std::size_t l = 0; l < m_w.size(); ++l) {
      Eigen::MatrixXd a(h.rows() + 1, h.cols());
      a.topRows(h.rows()) = h;
      a.row(h.rows()).setOnes();
      Eigen::MatrixXd z = m_w[l] * a;
      t.a.push_back(std::move(a));
      if (l + 1 < m_w.size()) h = z.array().tanh().matrix();
      t.z.push_back(std::move(z));
    }
    const Eigen::MatrixXd& logits = t.z.back();
    const Eigen::RowVectorXd mx = logits.colwise().maxCoeff();
    t.p = (logits.rowwise() - mx).array().exp().matrix();
    t.p.array().rowwise() /= t.p.colwise().sum().array();
    return t;
  }

  /// Mean cross-entropy of a forward pass against labels y.
  static double loss(const Tape& t, const Eigen::VectorXi& y) {
    double s = 0;
    for (Eigen::Index i = 0; i < y.size(); ++i) s -= std::log(std::max(t.p(y(i), i), 1e-300));
    return s / static_cast<double>(y.size());
  }
  double loss(const Eigen::MatrixXd& x, const Eigen::VectorXi& y) const {
    return loss(forward(x), y);
  }
  /// Fraction of samples whose most probable class is the label.
  double accuracy(const Eigen::MatrixXd& x, const Eigen::VectorXi& y) const {
    const Tape t = forward(x);
    int ok = 0;
    for (Eigen::Index i = 0; i < y.size(); ++i) {
      Eigen::Index k;
      t.p.col(i).maxCoeff(&k);
      ok += (k == y(i));
    }
    return static_cast<double>(ok) / static_cast<double>(y.size());
  }

  /// Backward pass for labels y (the empirical Fisher and the gradient use the true labels; pass
  /// labels sampled from `t.p` for K-FAC's true-Fisher statistics).
  Grads backward(const Tape& t, const Eigen::VectorXi& y) const {
    const auto n = static_cast<double>(y.size());
    Grads g;
    g.dw.resize(m_w.size());
    g.delta.resize(m_w.size());
    Eigen::MatrixXd d = t.p;
    for (Eigen::Index i = 0; i < y.size(); ++i) d(y(i), i) -= 1.0;
    for (std::size_t l = m_w.size(); l-- > 0;) {
      g.dw[l] = d * t.a[l].transpose() / n;
      g.delta[l] = d;
      if (l > 0) {
        const Eigen::Index in = m_w[l].cols() - 1;
        const Eigen::MatrixXd back = m_w[l].leftCols(in).transpose() * d;
        d = back.array() * (1.0 - t.z[l - 1].array().tanh().square());
      }
    }
    return g;
  }

 private:
  std::vector<int> m_sizes;
  std::vector<Eigen::MatrixXd> m_w;
};

/// Inputs as columns (features x n) from a samples-as-rows dataset, and a deterministic split
/// into train and test sets (every k-th sample to test).
struct Split {
  Eigen::MatrixXd x_train, x_test;
  Eigen::VectorXi y_train, y_test;
};
inline Split split_every(const Eigen::MatrixXd& x_rows, const Eigen::VectorXi& y, int k) {
  Split s;
  const Eigen::Index n = x_rows.rows();
  const Eigen::Index nt = (n + k - 1) / k;
  s.x_test.resize(x_rows.cols(), nt);
  s.y_test.resize(nt);
  s.x_train.resize(x_rows.cols(), n - nt);
  s.y_train.resize(n - nt);
  Eigen::Index a = 0, b = 0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (i % k == 0) {
      s.x_test.col(b) = x_rows.row(i).transpose();
      s.y_test(b++) = y(i);
    } else {
      s.x_train.col(a) = x_rows.row(i).transpose();
      s.y_train(a++) = y(i);
    }
  }
  return s;
}

}  // namespace curvop_examples

#endif  // CURVOP_EXAMPLES_SUPPORT_MLP_HPP
