// SPDX-License-Identifier: MIT
// The panel kernels of curvop/detail against plain Eigen products in double: the fused column
// kernels (Wᵀx and W c for every storage type) and the packed level-3 kernels (WᵀW with row sums
// of squares and the finiteness check, W L⁻ᵀ). Shapes cover every edge of the register tiles and
// of the packed blocks. The same file is also built for AVX-512 (tests/CMakeLists.txt), where the
// column kernels use 512-bit registers; that build skips itself on a CPU without AVX-512.
#include <Eigen/Cholesky>
#include <curvop/detail/column_kernels.hpp>
#include <curvop/detail/panel_level3.hpp>
#include <limits>
#include <type_traits>
#include <vector>

#include "support/catch.hpp"
#include "support/rng.hpp"

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
namespace cd = curvop::detail;
namespace ct = curvop::test;

namespace {

/// False when this build uses instructions the CPU lacks (only the AVX-512 build can).
bool cpu_runs_this_build() {
#if defined(__AVX512F__)
  return __builtin_cpu_supports("avx512f");
#else
  return true;
#endif
}

template <class T>
Matrix<T> stored(const Matrix<float>& a) {
  return a.unaryExpr([](float v) { return static_cast<T>(v); });
}

template <class T>
Matrix<double> widened(const Matrix<T>& a) {
  return a.unaryExpr([](const T& v) { return static_cast<double>(static_cast<float>(v)); });
}

}  // namespace

TEMPLATE_TEST_CASE("panel_dots and panel_axpy equal Eigen's products for every storage type",
                   "[detail]", float, double, Eigen::half, Eigen::bfloat16) {
  if (!cpu_runs_this_build()) return;
  using T = TestType;
  // Double storage is computed in double, every other storage type in float.
  using S = std::conditional_t<std::is_same_v<T, double>, double, float>;
  for (const Index rows : {1, 7, 8, 9, 31, 100, 1027}) {
    for (const Index m : {1, 3, 4, 8, 9, 13, 17}) {
      const Matrix<T> w = stored<T>(ct::gaussian_matrix<float>(rows, m, 1));
      const Matrix<double> wd = widened(w);
      const Vector<S> x = ct::gaussian_matrix<S>(rows, 1, 2);
      const Vector<S> x2 = ct::gaussian_matrix<S>(rows, 1, 3);
      const double scale = std::sqrt(double(rows)) * 4.0;
      // One and two right-hand sides.
      const S* xs[2] = {x.data(), x2.data()};
      Vector<S> out(m);
      cd::panel_dots<1>(w.data(), rows, rows, m, xs, out.data(), m);
      const Vector<double> ref = wd.transpose() * x.template cast<double>();
      const Vector<double> ref2 = wd.transpose() * x2.template cast<double>();
      CHECK((out.template cast<double>() - ref).cwiseAbs().maxCoeff() <= 1e-5 * scale);
      Matrix<S> out2(m, 2);
      cd::panel_dots<2>(w.data(), rows, rows, m, xs, out2.data(), m);
      CHECK((out2.col(0).template cast<double>() - ref).cwiseAbs().maxCoeff() <= 1e-5 * scale);
      CHECK((out2.col(1).template cast<double>() - ref2).cwiseAbs().maxCoeff() <= 1e-5 * scale);
      // y += W c.
      const Vector<S> c = ct::gaussian_matrix<S>(m, 1, 4);
      Vector<S> y = x;
      cd::panel_axpy(w.data(), rows, rows, m, c.data(), y.data());
      const Vector<double> yref = x.template cast<double>() + wd * c.template cast<double>();
      CHECK((y.template cast<double>() - yref).cwiseAbs().maxCoeff() <=
            1e-5 * std::sqrt(double(m)) * 4.0);
    }
  }
}

#if defined(CURVOP_DETAIL_PANEL_LEVEL3)
TEMPLATE_TEST_CASE("panel_gram equals WᵀW with the row sums of squares", "[detail]", float,
                   double) {
  if (!cpu_runs_this_build()) return;
  using S = TestType;
  const double tol = std::is_same_v<S, float> ? 2e-6 : 1e-14;
  // m covers the 3 x 4 tile edges; rows cover the group tail and several packed blocks.
  for (const Index m : {1, 2, 3, 4, 5, 6, 7, 11, 64, 130}) {
    for (const Index rows : {Index{1}, Index{5}, Index{8}, Index{13}, Index{64}, Index{777},
                             cd::level3_block_rows<S>(m) * 2 + 9}) {
      const Matrix<S> w = ct::gaussian_matrix<S>(rows, m, 10 + static_cast<std::uint64_t>(m));
      const Matrix<double> wd = w.template cast<double>();
      Matrix<double> k = Matrix<double>::Constant(m, m, 0.5);  // the kernel adds into k
      Vector<S> row_sq(rows);
      std::vector<S> buffer;
      REQUIRE(cd::panel_gram(w.data(), rows, rows, m, k.data(), m, row_sq.data(), buffer));
      const Matrix<double> ref = (wd.transpose() * wd).array() + 0.5;
      const Matrix<double> err = (k - ref).template triangularView<Eigen::Lower>();
      CHECK(err.cwiseAbs().maxCoeff() <= tol * double(rows) + 1e-15);
      const Vector<double> rsq_ref = wd.rowwise().squaredNorm();
      CHECK((row_sq.template cast<double>() - rsq_ref).cwiseAbs().maxCoeff() <=
            tol * double(m) * 8);
    }
  }
}

TEST_CASE("panel_gram widens a float panel to double while packing", "[detail]") {
  if (!cpu_runs_this_build()) return;
  for (const Index m : {1, 5, 13, 138}) {
    for (const Index rows : {Index{3}, Index{97}, Index{4096}}) {
      const Matrix<float> w = ct::gaussian_matrix<float>(rows, m, 30);
      const Matrix<double> wd = w.cast<double>();
      Matrix<double> k = Matrix<double>::Zero(m, m);
      std::vector<double> buffer;
      REQUIRE(cd::panel_gram(w.data(), rows, rows, m, k.data(), m, static_cast<double*>(nullptr),
                             buffer));
      // Products of floats are exact in double: only the double sums round.
      const Matrix<double> err =
          (k - wd.transpose() * wd).template triangularView<Eigen::Lower>();
      CHECK(err.cwiseAbs().maxCoeff() <= 1e-13 * double(rows));
    }
  }
  Matrix<float> w = ct::gaussian_matrix<float>(50, 3, 31);
  w(49, 1) = std::numeric_limits<float>::infinity();
  Matrix<double> k = Matrix<double>::Zero(3, 3);
  std::vector<double> buffer;
  CHECK_FALSE(cd::panel_gram(w.data(), 50, 50, 3, k.data(), 3, static_cast<double*>(nullptr), buffer));
}

TEMPLATE_TEST_CASE("panel_gram finds a NaN or Inf anywhere, including the tail rows", "[detail]",
                   float, double) {
  if (!cpu_runs_this_build()) return;
  using S = TestType;
  const Index rows = 1000, m = 5;  // 1000 = whole groups + a tail for float (8) and double (4)
  for (const S bad : {std::numeric_limits<S>::quiet_NaN(), std::numeric_limits<S>::infinity(),
                      -std::numeric_limits<S>::infinity()}) {
    for (const Index i : {Index{0}, Index{517}, Index{999}}) {
      for (const Index j : {Index{0}, Index{4}}) {
        Matrix<S> w = ct::gaussian_matrix<S>(rows, m, 3);
        w(i, j) = bad;
        Matrix<double> k = Matrix<double>::Zero(m, m);
        Vector<S> row_sq(rows);
        std::vector<S> buffer;
        CHECK_FALSE(cd::panel_gram(w.data(), rows, rows, m, k.data(), m, row_sq.data(), buffer));
      }
    }
  }
  // Huge finite values are finite: their squares overflow, the check does not.
  Matrix<S> w = ct::gaussian_matrix<S>(rows, m, 3);
  w(3, 2) = std::numeric_limits<S>::max();
  Matrix<double> k = Matrix<double>::Zero(m, m);
  Vector<S> row_sq(rows);
  std::vector<S> buffer;
  CHECK(cd::panel_gram(w.data(), rows, rows, m, k.data(), m, row_sq.data(), buffer));
}

TEMPLATE_TEST_CASE("panel_solve_right_lt equals a triangular solve in double", "[detail]", float,
                   double) {
  if (!cpu_runs_this_build()) return;
  using S = TestType;
  const double tol = std::is_same_v<S, float> ? 1e-5 : 1e-13;
  for (const Index m : {1, 2, 3, 4, 5, 7, 9, 16, 64, 67}) {
    // L: the Cholesky factor of a well-conditioned SPD matrix (condition 100).
    const Matrix<double> a = ct::spd_matrix<double>(m, 7, 1.0, 100.0);
    const Matrix<double> l = a.llt().matrixL();
    const Matrix<S> nl = (-l).template cast<S>();
    const Vector<S> inv_diag = l.diagonal().cwiseInverse().template cast<S>();
    for (const Index rows : {Index{1}, Index{8}, Index{23}, Index{24}, Index{25}, Index{100},
                             cd::level3_block_rows<S>(m) + 41}) {
      // A window inside a taller matrix: leading dimension > rows.
      const Index ld = rows + 5;
      Matrix<S> big = ct::gaussian_matrix<S>(ld, m, 20);
      const Matrix<S> before = big;
      std::vector<S> buffer;
      cd::panel_solve_right_lt(big.data() + 2, ld, rows, m, nl.data(), inv_diag.data(), buffer);
      const Matrix<double> ref =
          l.template triangularView<Eigen::Lower>()
              .solve(before.middleRows(2, rows).template cast<double>().transpose())
              .transpose();
      const Matrix<double> got = big.middleRows(2, rows).template cast<double>();
      CHECK((got - ref).cwiseAbs().maxCoeff() <= tol * (1.0 + ref.cwiseAbs().maxCoeff()));
      // Rows outside the panel are untouched.
      CHECK(big.topRows(2) == before.topRows(2));
      CHECK(big.bottomRows(ld - 2 - rows) == before.bottomRows(ld - 2 - rows));
    }
  }
}
#endif
