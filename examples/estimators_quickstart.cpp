// SPDX-License-Identifier: MIT
// README snippet of the estimators family: wrap a Hessian-vector product, then ask for its trace,
// diagonal, top eigenvalues and log-determinant (here the Gauss-Newton Hessian XᵀX/n + λI of a
// least-squares fit on the breast-cancer features, so the exact values can be printed beside).
#include <cstdio>
#include <curvop/estimators.hpp>
#include <curvop/operators/function.hpp>

#include "support/datasets.hpp"

int main() {
  const Eigen::MatrixXd x = curvop_examples::standardized(curvop_examples::breast_cancer().x);
  const double n = double(x.rows()), lambda = 1e-2;
  // Any callable y = H v on several columns at once becomes a symmetric operator.
  const auto hvp = curvop::function_operator<double>(
      x.cols(), x.cols(),
      [&](const curvop::ConstRef<double>& v, curvop::MutRef<double> hv) {
        hv.noalias() = x.transpose() * (x * v) / n;
        hv += lambda * v;
      },
      curvop::symmetric);

  const auto tr = curvop::estimate_trace(
      hvp, {.method = curvop::TraceMethod::XTrace, .max_matvecs = 20, .seed = 1});
  const auto adaptive = curvop::estimate_trace(hvp, {.max_matvecs = 5000, .rel_tol = 0.01});
  const auto diag = curvop::estimate_diagonal(
      hvp, {.method = curvop::DiagonalMethod::XDiag, .max_matvecs = 40});
  const auto top = curvop::top_eigenpairs(hvp, 3);
  const auto logdet = curvop::estimate_logdet(hvp, {.lanczos_steps = 15, .num_probes = 16});

  const Eigen::MatrixXd h = curvop::to_dense(hvp);  // exact values, for comparison only
  std::printf("trace   %.4f ± %.4f (%ld products), exact %.4f\n", tr.value, tr.standard_error,
              static_cast<long>(tr.matvecs), h.trace());
  std::printf("trace   %.4f ± %.4f by Hutchinson to 1%% after %ld products (%s)\n",
              adaptive.value, adaptive.standard_error, static_cast<long>(adaptive.matvecs),
              curvop::to_string(adaptive.info));
  std::printf("diag    rel err %.2e (reported %.2e) after %ld products\n",
              (diag.value - h.diagonal()).norm() / h.diagonal().norm(),
              diag.standard_error.norm() / diag.value.norm(), static_cast<long>(diag.matvecs));
  std::printf("top     %.4f %.4f %.4f (%ld products)\n", top.values(0), top.values(1),
              top.values(2), static_cast<long>(top.matvecs));
  std::printf("logdet  %.3f ± %.3f, exact %.3f\n", logdet.value, logdet.standard_error,
              Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(h).eigenvalues().array().log().sum());
  return 0;
}
