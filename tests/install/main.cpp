// SPDX-License-Identifier: MIT
// Uses the installed curvop: composes operators and checks one identity, exiting non-zero on
// failure.
#include <cstdio>
#include <curvop/curvop.hpp>

int main() {
  using namespace curvop;
  const Matrix<double> a = Matrix<double>::Identity(3, 3) * 2.0;
  const Matrix<double> b = Matrix<double>::Identity(2, 2) * 4.0;
  const auto k = kron(symmetric_dense(a), symmetric_dense(b));
  const Vector<double> x = Vector<double>::LinSpaced(6, 1.0, 6.0);
  const Vector<double> y = apply_inverse(k, apply(k, x));
  const double err = (y - x).norm();
  std::printf("curvop %d.%d.%d installed: round-trip error %.1e\n", CURVOP_VERSION_MAJOR,
              CURVOP_VERSION_MINOR, CURVOP_VERSION_PATCH, err);
  return err < 1e-12 ? 0 : 1;
}
