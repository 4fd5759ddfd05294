// SPDX-License-Identifier: MIT
// Prints the shapes and class balance of the two embedded datasets (a check that embedding works).
#include <iostream>

#include "support/datasets.hpp"

int main() {
  const auto bc = curvop_examples::breast_cancer();
  const auto dg = curvop_examples::digits();
  std::cout << "breast cancer: " << bc.x.rows() << " x " << bc.x.cols() << ", benign "
            << bc.y.sum() << "\n";
  std::cout << "digits: " << dg.x.rows() << " x " << dg.x.cols() << ", max pixel "
            << dg.x.maxCoeff() << "\n";
  return (bc.x.rows() == 569 && bc.x.cols() == 30 && dg.x.rows() == 1797 && dg.x.cols() == 64) ? 0 : 1;
}
