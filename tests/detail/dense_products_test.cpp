// SPDX-License-Identifier: MIT
// The dense block products of curvop/detail/dense_products.hpp (Aᵀx as (xᵀA)ᵀ, A·x in row blocks,
// shared among OpenMP threads when enabled) against the same products in double.
#include <curvop/detail/dense_products.hpp>

#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
namespace cd = curvop::detail;
namespace ct = curvop::test;

TEMPLATE_TEST_CASE("products with the transpose of a large matrix match the dense ones",
                   "[detail]", float, double) {
  using S = TestType;
  // 640 x 520 = 332800 entries is above the 512² threshold at which Aᵀx is formed as (xᵀA)ᵀ; one
  // column (k = 1) keeps the plain product. Reference: the product in double.
  const Index m = 640, n = 520;
  const Matrix<S> a = ct::gaussian_matrix<S>(m, n, 61);
  for (Index k : {1, 3, 24}) {
    INFO("k " << k);
    const Matrix<S> x = ct::gaussian_matrix<S>(m, k, 62);
    Matrix<S> y(n, k);
    cd::transposed_product<S>(a, x, y);
    const Matrix<double> ref = a.template cast<double>().transpose() * x.template cast<double>();
    CHECK(ct::rel_err(y, ref) <= ct::apply_tol<S>(m));
  }
}

TEMPLATE_TEST_CASE("products with a tall matrix in row blocks match the dense ones", "[detail]",
                   float, double) {
  using S = TestType;
  // 2100 rows: four or more row blocks (512 in float, 256 in double for a 1 MiB L2) and a ragged
  // last one; 700 > 640 columns and k = 3, 24 take the blocked path, k = 1 and k = 300 (wider
  // than the thin-block limit) the plain product. Reference: double.
  const Index m = 2100, n = 700;
  const Matrix<S> a = ct::gaussian_matrix<S>(m, n, 71);
  for (Index k : {1, 3, 24, 300}) {
    INFO("k " << k);
    const Matrix<S> x = ct::gaussian_matrix<S>(n, k, 72);
    Matrix<S> y = Matrix<S>::Constant(m, k, S(7));
    cd::forward_product<S>(a, x, y);
    const Matrix<double> ref = a.template cast<double>() * x.template cast<double>();
    CHECK(ct::rel_err(y, ref) <= ct::apply_tol<S>(n));
  }
  // Into a column block of a larger matrix (an outer stride other than m): nothing else written.
  const Matrix<S> x = ct::gaussian_matrix<S>(n, 5, 73);
  Matrix<S> wide = Matrix<S>::Constant(m, 9, S(7));
  cd::forward_product<S>(a, x, wide.middleCols(2, 5));
  const Matrix<double> ref = a.template cast<double>() * x.template cast<double>();
  CHECK(ct::rel_err(wide.middleCols(2, 5), ref) <= ct::apply_tol<S>(n));
  CHECK((wide.leftCols(2).array() == S(7)).all());
  CHECK((wide.rightCols(2).array() == S(7)).all());
}
