// SPDX-License-Identifier: MIT
// The estimators section of the tour: the Hessian of logistic regression on the breast-cancer
// data, reached only through Hessian-vector products; its trace, diagonal, top eigenvalues and
// log-determinant by each estimator against the exact values.
#ifndef CURVOP_EXAMPLES_TOUR_ESTIMATORS_HPP
#define CURVOP_EXAMPLES_TOUR_ESTIMATORS_HPP

#include <Eigen/Eigenvalues>
#include <cmath>
#include <cstdio>
#include <curvop/estimators.hpp>
#include <curvop/operators/function.hpp>

#include "support/datasets.hpp"

namespace curvop_tour {

namespace estimators_detail {

/// L2-regularised logistic regression, L(w) = (1/n) Σ log(1 + exp(−y_i x_iᵀw)) + (λ/2)‖w‖²,
/// y ∈ {−1, +1}, with a bias column appended to the standardised features.
struct Logistic {
  Eigen::MatrixXd x;  // n x d
  Eigen::VectorXd y;  // ±1
  double lambda = 1e-3;

  static Logistic breast_cancer() {
    const auto data = curvop_examples::breast_cancer();
    Logistic l;
    const Eigen::MatrixXd z = curvop_examples::standardized(data.x);
    l.x.resize(z.rows(), z.cols() + 1);
    l.x << z, Eigen::VectorXd::Ones(z.rows());
    l.y = (2 * data.y.cast<double>().array() - 1).matrix();
    return l;
  }
  Eigen::Index dim() const { return x.cols(); }
  /// σ(m)(1 − σ(m)) per sample at w: the Hessian's sample weights.
  Eigen::VectorXd curvature(const Eigen::VectorXd& w) const {
    const Eigen::ArrayXd m = (x * w).array();
    const Eigen::ArrayXd p = 1.0 / (1.0 + (-m).exp());
    return (p * (1 - p)).matrix();
  }
  Eigen::VectorXd gradient(const Eigen::VectorXd& w) const {
    const Eigen::ArrayXd m = (y.array() * (x * w).array());
    const Eigen::ArrayXd s = -y.array() / (1.0 + m.exp());
    return x.transpose() * s.matrix() / double(x.rows()) + lambda * w;
  }
  /// A few Newton steps (on the dense Hessian: training is not the point here).
  Eigen::VectorXd fit() const {
    Eigen::VectorXd w = Eigen::VectorXd::Zero(dim());
    for (int it = 0; it < 12; ++it) {
      const Eigen::VectorXd s = curvature(w);
      const Eigen::MatrixXd h = x.transpose() * s.asDiagonal() * x / double(x.rows()) +
                                lambda * Eigen::MatrixXd::Identity(dim(), dim());
      w -= h.ldlt().solve(gradient(w));
    }
    return w;
  }
};

/// The Hessian at w as a matrix-free symmetric operator: H v = Xᵀ(s ⊙ Xv)/n + λv.
inline auto logistic_hvp(const Logistic& l, const Eigen::VectorXd& w) {
  const Eigen::VectorXd s = l.curvature(w) / double(l.x.rows());
  return curvop::function_operator<double>(
      l.dim(), l.dim(),
      [&l, s](const curvop::ConstRef<double>& v, curvop::MutRef<double> hv) {
        const Eigen::MatrixXd xv = l.x * v;
        hv.noalias() = l.x.transpose() * (s.asDiagonal() * xv);
        hv += l.lambda * v;
      },
      curvop::symmetric);
}

}  // namespace estimators_detail

/// Prints the estimators part of the tour.
inline void estimators_section() {
  using namespace curvop;
  using estimators_detail::Logistic;
  std::printf("\n== Stochastic estimators: a Hessian seen only through Hessian-vector products ==\n");
  const Logistic lr = Logistic::breast_cancer();
  const Eigen::VectorXd w = lr.fit();
  const auto hvp = estimators_detail::logistic_hvp(lr, w);
  const Eigen::MatrixXd h = to_dense(hvp);  // the exact reference, for the comparison only
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(h);
  const Eigen::VectorXd ev = es.eigenvalues();
  std::printf("logistic regression on breast cancer (569 x 30 + bias), Hessian %ld x %ld, "
              "eigenvalues in [%.2e, %.2e]\n",
              static_cast<long>(h.rows()), static_cast<long>(h.cols()), ev(0), ev(ev.size() - 1));

  std::printf("\ntrace (exact %.6f): mean relative error over 20 seeds at two budgets\n",
              h.trace());
  std::printf("  %-11s %14s %14s\n", "method", "12 products", "24 products");
  for (auto m : {TraceMethod::Hutchinson, TraceMethod::HutchPlusPlus, TraceMethod::XTrace}) {
    double err[2] = {0, 0};
    for (int b = 0; b < 2; ++b) {
      for (std::uint64_t s = 0; s < 20; ++s) {
        const auto e =
            estimate_trace(hvp, TraceOptions{.method = m, .max_matvecs = 12 * (b + 1), .seed = s});
        err[b] += std::abs(e.value - h.trace()) / h.trace() / 20;
      }
    }
    const char* name = m == TraceMethod::Hutchinson      ? "Hutchinson"
                       : m == TraceMethod::HutchPlusPlus ? "Hutch++"
                                                         : "XTrace";
    std::printf("  %-11s %14.2e %14.2e\n", name, err[0], err[1]);
  }
  const auto adaptive =
      estimate_trace(hvp, TraceOptions{.max_matvecs = 5000, .rel_tol = 0.02, .block_size = 8});
  std::printf("  Hutchinson until its standard error is 2%%: %.5f ± %.5f after %ld probes (%s)\n",
              adaptive.value, adaptive.standard_error, static_cast<long>(adaptive.samples),
              to_string(adaptive.info));

  std::printf("\ndiagonal, 20 products each (relative error in the 2-norm):\n");
  for (auto m : {DiagonalMethod::Hutchinson, DiagonalMethod::XDiag}) {
    const auto d = estimate_diagonal(hvp, DiagonalOptions{.method = m, .max_matvecs = 20});
    std::printf("  %-11s rel err %.2e   reported rel std.err %.2e\n",
                m == DiagonalMethod::XDiag ? "XDiag" : "Hutchinson",
                (d.value - h.diagonal()).norm() / h.diagonal().norm(),
                d.standard_error.norm() / d.value.norm());
  }

  const auto top = top_eigenpairs(hvp, 3, EigenOptions{.tol = 1e-10});
  std::printf("\ntop 3 eigenvalues by Lanczos (%ld products):", static_cast<long>(top.matvecs));
  for (Eigen::Index i = 0; i < 3; ++i) {
    std::printf("  %.6e (rel err %.1e)", top.values(i),
                std::abs(top.values(i) - ev(ev.size() - 1 - i)) / ev(ev.size() - 1 - i));
  }
  std::printf("\n");

  const double logdet = ev.array().log().sum();
  const auto ld = estimate_logdet(hvp, SlqOptions{.lanczos_steps = 20, .num_probes = 32});
  std::printf("log det H by SLQ (%ld products): %.4f ± %.4f, exact %.4f\n",
              static_cast<long>(ld.matvecs), ld.value, ld.standard_error, logdet);
}

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_ESTIMATORS_HPP
