// SPDX-License-Identifier: MIT
// Trains the MLP of examples/support/mlp.hpp (64-64-10, tanh, softmax cross-entropy) on the
// real 8x8 handwritten digits with SGD, Adam, K-FAC, EKFAC and Shampoo; prints loss and accuracy
// per epoch and the wall time of each optimizer, writes the curves to a CSV file and, where
// /usr/bin/python3 with matplotlib is available, a plot.
//
// Usage: mlp_digits_training [output-directory]   (default: the current directory)
#include <cstdio>
#include <cstdlib>
#include <curvop/shampoo.hpp>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tour/kfac.hpp"

namespace {

using curvop_examples::Mlp;
using namespace curvop_tour::kfac_demo;

// Shampoo per layer (p = 4 on each side), roots refreshed every `refresh` steps, the step's
// norm grafted to Adam's.
Step shampoo(double lr, int refresh) {
  struct State {
    std::vector<curvop::shampoo::Shampoo<double>> s;
  };
  auto st = std::make_shared<State>();
  return [=](Mlp& net, const Eigen::MatrixXd& x, const Eigen::VectorXi& y, long step) {
    const auto g = net.backward(net.forward(x), y);
    if (st->s.empty()) {
      for (const auto& w : net.weights()) {
        st->s.emplace_back(w.rows(), w.cols(),
                           curvop::shampoo::Options{.beta2 = 0.999,
                                                    .epsilon = 1e-6,
                                                    .grafting = curvop::shampoo::Grafting::Adam});
      }
    }
    for (std::size_t l = 0; l < net.layers(); ++l) {
      auto& s = st->s[l];
      s.update(g.dw[l]);
      if (step % refresh == 0) (void)s.compute();
      net.weights()[l] -= lr * s.precondition(g.dw[l]);
    }
  };
}

const char* kPlotScript = R"PY(import csv, sys
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit(3)
rows = list(csv.DictReader(open(sys.argv[1])))
fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
for name in dict.fromkeys(r["optimizer"] for r in rows):
    rs = [r for r in rows if r["optimizer"] == name]
    e = [int(r["epoch"]) for r in rs]
    a.plot(e, [float(r["train_loss"]) for r in rs], label=name)
    b.plot(e, [100 * float(r["test_accuracy"]) for r in rs], label=name)
a.set_yscale("log"); a.set_xlabel("epoch"); a.set_ylabel("train loss"); a.legend()
b.set_xlabel("epoch"); b.set_ylabel("test accuracy (%)"); b.set_ylim(80, 100); b.legend()
fig.suptitle("MLP 64-64-10 on the 8x8 digits")
fig.tight_layout(); fig.savefig(sys.argv[2], dpi=120)
)PY";

}  // namespace

int main(int argc, char** argv) {
  const std::string dir = argc > 1 ? argv[1] : ".";
  const auto data = digits_split();
  const int epochs = 15, batch = 64, hidden = 64;
  std::printf("MLP 64-%d-10 on the 8x8 digits: %ld train / %ld test samples, batch %d, %d epochs\n",
              hidden, static_cast<long>(data.x_train.cols()), static_cast<long>(data.x_test.cols()),
              batch, epochs);
  std::vector<Curve> curves;
  curves.push_back(train("SGD", data, sgd(0.2), epochs, batch, hidden));
  curves.push_back(train("Adam", data, adam(3e-3), epochs, batch, hidden));
  curves.push_back(train("K-FAC", data, kfac(0.2, 1e-2, false, 5, 1e-2), epochs, batch, hidden));
  curves.push_back(train("EKFAC", data, kfac(0.2, 1e-2, true, 5, 1e-2), epochs, batch, hidden));
  curves.push_back(train("Shampoo", data, shampoo(3e-3, 5), epochs, batch, hidden));

  std::printf("\n%-6s", "epoch");
  for (const auto& c : curves) std::printf(" %17s", c.name.c_str());
  std::printf("\n%-6s", "");
  for (std::size_t i = 0; i < curves.size(); ++i) std::printf(" %8s %8s", "loss", "acc");
  std::printf("\n");
  for (int e = 0; e < epochs; ++e) {
    std::printf("%-6d", e + 1);
    for (const auto& c : curves) {
      std::printf(" %8.4f %7.1f%%", c.train_loss[static_cast<std::size_t>(e)],
                  100.0 * c.test_accuracy[static_cast<std::size_t>(e)]);
    }
    std::printf("\n");
  }
  std::printf("\nafter %d epochs:\n", epochs);
  print_summary(curves);

  const std::string csv = dir + "/mlp_digits_training.csv";
  std::ofstream out(csv);
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", csv.c_str());
    return 1;
  }
  out << "optimizer,epoch,train_loss,test_accuracy,seconds\n";
  for (const auto& c : curves) {
    for (int e = 0; e < epochs; ++e) {
      out << c.name << ',' << e + 1 << ',' << c.train_loss[static_cast<std::size_t>(e)] << ','
          << c.test_accuracy[static_cast<std::size_t>(e)] << ',' << c.seconds << '\n';
    }
  }
  out.close();
  std::printf("curves: %s\n", csv.c_str());

  // The plot is optional: only where Debian's python3 with matplotlib is installed.
  const std::string script = dir + "/mlp_digits_training_plot.py";
  const std::string png = dir + "/mlp_digits_training.png";
  std::ofstream(script) << kPlotScript;
  const std::string cmd = "test -x /usr/bin/python3 && /usr/bin/python3 '" + script + "' '" + csv +
                          "' '" + png + "' 2>/dev/null";
  if (std::system(cmd.c_str()) == 0) {
    std::printf("plot:   %s\n", png.c_str());
  } else {
    std::printf("plot:   skipped (no /usr/bin/python3 with matplotlib)\n");
  }
  return 0;
}
