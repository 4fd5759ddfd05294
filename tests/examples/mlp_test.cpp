// SPDX-License-Identifier: MIT
// The examples' MLP: its backward pass against central finite differences of its loss.
#include "examples/support/mlp.hpp"

#include "support/catch.hpp"

TEST_CASE("MLP gradient matches central finite differences", "[examples][mlp]") {
  curvop_examples::Mlp net({5, 7, 4, 3}, 11);
  const Eigen::MatrixXd x = curvop::random::gaussian<double>(5, 9, 3);
  Eigen::VectorXi y(9);
  for (int i = 0; i < 9; ++i) y(i) = i % 3;
  const auto tape = net.forward(x);
  const Eigen::VectorXd g = curvop_examples::Mlp::flatten(net.backward(tape, y).dw);
  const Eigen::VectorXd w0 = net.flat();
  Eigen::VectorXd fd(w0.size());
  const double h = 1e-6;
  for (Eigen::Index i = 0; i < w0.size(); ++i) {
    Eigen::VectorXd w = w0;
    w(i) += h;
    net.set_flat(w);
    const double lp = net.loss(x, y);
    w(i) -= 2 * h;
    net.set_flat(w);
    const double lm = net.loss(x, y);
    fd(i) = (lp - lm) / (2 * h);
  }
  net.set_flat(w0);
  INFO("max |g - fd| = " << (g - fd).cwiseAbs().maxCoeff());
  // Central differences: truncation O(h²) ≈ 1e-12, rounding O(eps/h) ≈ 1e-10.
  REQUIRE((g - fd).cwiseAbs().maxCoeff() < 1e-8);
  REQUIRE(g.norm() > 1e-3);
}
