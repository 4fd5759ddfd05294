// SPDX-License-Identifier: MIT
// The two real datasets of the examples, parsed from the CSV text embedded in the binary
// (examples/data/, licence and provenance in examples/data/README.md).
#ifndef CURVOP_EXAMPLES_SUPPORT_DATASETS_HPP
#define CURVOP_EXAMPLES_SUPPORT_DATASETS_HPP

#include <Eigen/Core>
#include <curvop_data/breast_cancer.hpp>
#include <curvop_data/digits.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace curvop_examples {

/// Features X (samples x features, one sample per row) and integer labels y.
struct Dataset {
  Eigen::MatrixXd x;
  Eigen::VectorXi y;
  int classes = 0;
};

namespace detail {
inline std::vector<std::vector<double>> parse_csv(const char* text, bool skip_header) {
  std::istringstream in(text);
  std::string line;
  std::vector<std::vector<double>> rows;
  bool first = true;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (first && skip_header) {
      first = false;
      continue;
    }
    first = false;
    std::vector<double> row;
    std::istringstream cells(line);
    std::string cell;
    while (std::getline(cells, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

inline Dataset to_dataset(const std::vector<std::vector<double>>& rows, int classes) {
  if (rows.empty()) throw std::runtime_error("dataset: no rows");
  const auto n = static_cast<Eigen::Index>(rows.size());
  const auto f = static_cast<Eigen::Index>(rows[0].size()) - 1;
  Dataset d;
  d.x.resize(n, f);
  d.y.resize(n);
  d.classes = classes;
  for (Eigen::Index i = 0; i < n; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i)];
    if (static_cast<Eigen::Index>(r.size()) != f + 1) throw std::runtime_error("dataset: ragged row");
    for (Eigen::Index j = 0; j < f; ++j) d.x(i, j) = r[static_cast<std::size_t>(j)];
    d.y(i) = static_cast<int>(r[static_cast<std::size_t>(f)]);
  }
  return d;
}
}  // namespace detail

/// UCI Breast Cancer Wisconsin (Diagnostic): 569 x 30 raw features (their scales span five
/// orders of magnitude), labels 0 = malignant, 1 = benign.
inline Dataset breast_cancer() {
  return detail::to_dataset(detail::parse_csv(curvop_data::breast_cancer_csv, true), 2);
}

/// UCI optical digits (test set): 1797 x 64 pixel intensities 0..16, labels 0..9.
inline Dataset digits() {
  return detail::to_dataset(detail::parse_csv(curvop_data::digits_csv, false), 10);
}

/// Columns standardised to zero mean and unit variance (constant columns left at zero).
inline Eigen::MatrixXd standardized(const Eigen::MatrixXd& x) {
  Eigen::MatrixXd z = x.rowwise() - x.colwise().mean();
  for (Eigen::Index j = 0; j < z.cols(); ++j) {
    const double sd = std::sqrt(z.col(j).squaredNorm() / static_cast<double>(z.rows()));
    if (sd > 0) z.col(j) /= sd;
  }
  return z;
}

}  // namespace curvop_examples

#endif  // CURVOP_EXAMPLES_SUPPORT_DATASETS_HPP
