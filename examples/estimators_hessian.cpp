// SPDX-License-Identifier: MIT
// Hessians reached only through Hessian-vector products: logistic regression on the
// breast-cancer data (an exact HVP) and a small tanh MLP on the digits data (a finite-difference
// HVP of its hand-written gradient). For each: trace, diagonal and top eigenvalues by every
// estimator against the exact values, with errors and product counts, and the spectral density
// by stochastic Lanczos quadrature (a PNG through matplotlib when /usr/bin/python3 has it, a CSV
// always).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <curvop/estimators.hpp>
#include <fstream>
#include <string>

#include "support/mlp.hpp"
#include "tour/estimators.hpp"

namespace {

using namespace curvop;

template <class Op>
void report(const char* title, const Op& hvp, const Eigen::MatrixXd& h, Index budget) {
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> es(h);
  const Eigen::VectorXd ev = es.eigenvalues();
  const Index n = h.rows();
  std::printf("\n%s: n = %ld, eigenvalues in [%.3e, %.3e]\n", title, static_cast<long>(n), ev(0),
              ev(n - 1));
  std::printf("  trace, exact %.6e\n", h.trace());
  for (auto m : {TraceMethod::Hutchinson, TraceMethod::HutchPlusPlus, TraceMethod::XTrace}) {
    const auto e = estimate_trace(hvp, TraceOptions{.method = m, .max_matvecs = budget});
    std::printf("    %-11s %13.6e  rel err %8.2e  std.err %8.2e  products %ld\n",
                m == TraceMethod::Hutchinson      ? "Hutchinson"
                : m == TraceMethod::HutchPlusPlus ? "Hutch++"
                                                  : "XTrace",
                e.value, std::abs(e.value - h.trace()) / std::abs(h.trace()), e.standard_error,
                static_cast<long>(e.matvecs));
  }
  const auto adaptive = estimate_trace(
      hvp, TraceOptions{.method = TraceMethod::HutchPlusPlus, .max_matvecs = 4 * budget,
                        .rel_tol = 0.01});
  std::printf("    Hutch++ to 1%% std.err: %.6e after %ld products (%s)\n", adaptive.value,
              static_cast<long>(adaptive.matvecs), to_string(adaptive.info));
  std::printf("  diagonal\n");
  for (auto m : {DiagonalMethod::Hutchinson, DiagonalMethod::XDiag}) {
    const auto d = estimate_diagonal(hvp, DiagonalOptions{.method = m, .max_matvecs = budget});
    std::printf("    %-11s rel err %8.2e  reported rel std.err %8.2e  products %ld\n",
                m == DiagonalMethod::XDiag ? "XDiag" : "Hutchinson",
                (d.value - h.diagonal()).norm() / h.diagonal().norm(),
                d.standard_error.norm() / d.value.norm(), static_cast<long>(d.matvecs));
  }
  Eigen::VectorXd mag = ev;  // the exact eigenvalues, largest magnitude first
  std::sort(mag.data(), mag.data() + n, [](double a, double b) { return std::abs(a) > std::abs(b); });
  std::printf("  top 3 eigenvalues (largest |λ|), exact %.6e %.6e %.6e\n", mag(0), mag(1), mag(2));
  for (auto method : {EigenMethod::Lanczos, EigenMethod::PowerIteration}) {
    const auto p = top_eigenpairs(
        hvp, 3, EigenOptions{.method = method, .which = Which::LargestMagnitude, .tol = 1e-6,
                              .max_matvecs = 600});
    std::printf("    %-15s %.6e %.6e %.6e  max rel err %8.2e  products %ld (%s)\n",
                method == EigenMethod::Lanczos ? "Lanczos" : "power iteration", p.values(0),
                p.values(1), p.values(2),
                ((p.values - mag.head(3)).cwiseAbs().array() / mag.head(3).cwiseAbs().array()).maxCoeff(),
                static_cast<long>(p.matvecs), to_string(p.info));
  }
}

void write_density(const std::string& stem, const SpectralDensity<double>& d) {
  std::ofstream out(stem + ".csv");
  out << "eigenvalue,density\n";
  for (Index i = 0; i < d.grid.size(); ++i) out << d.grid(i) << "," << d.density(i) << "\n";
}

}  // namespace

int main() {
  using curvop_tour::estimators_detail::Logistic;
  // 1. Logistic regression: the exact Hessian-vector product H v = Xᵀ(s ⊙ Xv)/n + λv.
  const Logistic lr = Logistic::breast_cancer();
  const Eigen::VectorXd w = lr.fit();
  const auto lr_hvp = curvop_tour::estimators_detail::logistic_hvp(lr, w);
  report("logistic regression, breast cancer", lr_hvp, to_dense(lr_hvp), 24);

  // 2. MLP 64-16-10 on 600 digits, trained briefly by gradient descent; its HVP is a central
  // difference of the hand-written gradient (no automatic differentiation anywhere).
  const auto digits = curvop_examples::digits();
  const Index ns = 400;
  const Eigen::MatrixXd xs = (digits.x.topRows(ns) / 16.0).transpose();
  const Eigen::VectorXi ys = digits.y.head(ns);
  curvop_examples::Mlp net({64, 16, 10}, 7);
  for (int step = 0; step < 150; ++step) {
    const auto g = net.backward(net.forward(xs), ys);
    net.set_flat(net.flat() - 0.5 * curvop_examples::Mlp::flatten(g.dw));
  }
  std::printf("\nMLP 64-16-10 on %ld digits: loss %.4f, accuracy %.3f\n", static_cast<long>(ns),
              net.loss(xs, ys), net.accuracy(xs, ys));
  auto grad = [&net, &xs, &ys](const Vector<double>& theta, Vector<double>& g) {
    curvop_examples::Mlp copy = net;
    copy.set_flat(theta);
    g = curvop_examples::Mlp::flatten(copy.backward(copy.forward(xs), ys).dw);
  };
  const auto mlp_hvp = finite_difference_hvp<double>(grad, net.flat());
  // The exact reference: the same HVP on every unit vector (n products), symmetrised.
  Eigen::MatrixXd hm = to_dense(mlp_hvp);
  hm = (0.5 * (hm + hm.transpose())).eval();
  report("MLP Hessian (finite-difference HVP), digits", mlp_hvp, hm, 60);

  // 3. Spectral densities by SLQ.
  const auto d_lr = spectral_density(lr_hvp, SlqOptions{.lanczos_steps = 25, .num_probes = 16});
  const auto d_mlp = spectral_density(mlp_hvp, SlqOptions{.lanczos_steps = 40, .num_probes = 8});
  write_density("estimators_density_logistic", d_lr);
  write_density("estimators_density_mlp", d_mlp);
  std::printf("\nspectral densities (%ld and %ld products) written to "
              "estimators_density_{logistic,mlp}.csv\n",
              static_cast<long>(d_lr.matvecs), static_cast<long>(d_mlp.matvecs));
  if (std::system("/usr/bin/python3 -c 'import matplotlib' > /dev/null 2>&1") == 0) {
    const int rc = std::system(
        "/usr/bin/python3 - <<'EOF'\n"
        "import csv, matplotlib\n"
        "matplotlib.use('Agg')\n"
        "import matplotlib.pyplot as plt\n"
        "fig, ax = plt.subplots(1, 2, figsize=(10, 3.5))\n"
        "for a, (stem, title) in zip(ax, [('logistic', 'logistic regression, breast cancer'),\n"
        "                                  ('mlp', 'MLP 64-16-10, digits')]):\n"
        "    rows = list(csv.DictReader(open(f'estimators_density_{stem}.csv')))\n"
        "    a.semilogy([float(r['eigenvalue']) for r in rows],\n"
        "               [max(float(r['density']), 1e-8) for r in rows])\n"
        "    a.set_title(title); a.set_xlabel('eigenvalue'); a.set_ylabel('density (SLQ)')\n"
        "fig.tight_layout(); fig.savefig('estimators_density.png', dpi=120)\n"
        "EOF\n");
    if (rc == 0) std::printf("plot: estimators_density.png\n");
  } else {
    std::printf("(matplotlib not found: plot the CSV files yourself)\n");
  }
  return 0;
}
