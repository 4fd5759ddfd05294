// SPDX-License-Identifier: MIT
// M-FAC internals: 16-bit conversions against Eigen's scalar ones, the row-blocked passes against
// plain products, and bit-for-bit equality of every pass across thread counts (OpenMP builds).
#include <curvop/mfac/detail_kernels.hpp>
#include <curvop/mfac/empirical_fisher.hpp>
#include <curvop/mfac/sliding_window.hpp>
#if defined(CURVOP_USE_OPENMP)
#include <omp.h>
#endif

#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Matrix;
using curvop::Vector;
namespace md = curvop::mfac::detail;
namespace ct = curvop::test;

TEMPLATE_TEST_CASE("16-bit load and store match Eigen's scalar conversions", "[mfac]",
                   Eigen::bfloat16, Eigen::half) {
  using T = TestType;
  // Values across the range, including ties of the rounding, subnormals and the largest finite
  // values of each type.
  Vector<float> v = ct::gaussian_matrix<float>(4099, 1, 3);
  v.head(1000) *= 1e-6f;
  v.segment(1000, 1000) *= 3e3f;
  for (Index i = 2000; i < 2100; ++i) {
    const auto bits = std::bit_cast<std::uint32_t>(1.0f + static_cast<float>(i) * 0x1p-10f);
    v(i) = std::bit_cast<float>((bits & 0xFFFF0000u) | 0x8000u);  // exact bfloat16 ties
  }
  v(2100) = 0.0f;
  v(2101) = -0.0f;
  v(2102) = 65504.0f;
  v(2103) = 1e-7f;
  Vector<T> ours(v.size());
  md::store(v.data(), ours.data(), v.size());
  for (Index i = 0; i < v.size(); ++i) {
    const T ref = static_cast<T>(v(i));
    REQUIRE(Eigen::numext::bit_cast<std::uint16_t>(ours(i)) ==
            Eigen::numext::bit_cast<std::uint16_t>(ref));
  }
  Vector<float> back(v.size());
  md::load(ours.data(), back.data(), v.size());
  for (Index i = 0; i < v.size(); ++i) REQUIRE(back(i) == static_cast<float>(ours(i)));
  Vector<double> backd(v.size());
  md::load(ours.data(), backd.data(), v.size());
  CHECK(backd == back.cast<double>());
}

TEMPLATE_TEST_CASE("row-blocked passes equal plain products", "[mfac]", float, double,
                   Eigen::bfloat16, Eigen::half) {
  using T = TestType;
  using S = std::conditional_t<std::is_same_v<T, double>, double, float>;
  // Several 8192-row chunks and a short last one; m = 7 and m = 21 cover the fused kernels'
  // groups of eight and four columns and single ones; k = 1 and 2 take the fused kernels, k = 3
  // the general path.
  const Index d = 20001;
  const Index m = GENERATE(Index(7), Index(21));
  const Index k = GENERATE(Index(1), Index(2), Index(3));
  CAPTURE(m, k);
  const Matrix<T> w = ct::gaussian_matrix<float>(d, m, 1).cast<T>();
  const Matrix<S> ws = w.template cast<S>();
  const Matrix<S> x = ct::gaussian_matrix<S>(d, k, 2);
  const md::WindowView<T> view{w.data(), d, m, d};
  Matrix<double> out(m, k);
  md::dots<S>(view, x, out);
  const Matrix<double> ref = ws.template cast<double>().transpose() * x.template cast<double>();
  CHECK(ct::rel_err(out, ref) <= ct::apply_tol<S>(2048));
  // The fused form with the stored copy of a column as the extra right-hand side (push).
  Matrix<double> out_hat(m, 2);
  md::dots<S>(view, x.leftCols(1), out_hat, /*xhat_col=*/m - 1);
  CHECK(ct::rel_err(out_hat.col(0), ref.col(0)) <= ct::apply_tol<S>(2048));
  const Matrix<double> ref_hat = ws.template cast<double>().transpose() * ws.col(m - 1).template cast<double>();
  CHECK(ct::rel_err(out_hat.col(1), ref_hat) <= ct::apply_tol<S>(2048));
  const Matrix<S> c = ct::gaussian_matrix<S>(m, k, 3);
  Matrix<S> y(d, k);
  md::combine<S>(view, x, c, S(0.5), S(-2), y);
  const Matrix<double> yref = 0.5 * x.template cast<double>() -
                              2.0 * ws.template cast<double>() * c.template cast<double>();
  CHECK(ct::rel_err(y, yref) <= ct::apply_tol<S>(m));
  Vector<S> sq(d);
  md::row_squares<S>(view, sq);
  CHECK(ct::rel_err(sq, ws.rowwise().squaredNorm()) <= ct::apply_tol<S>(m));
}

#if defined(CURVOP_USE_OPENMP)
TEST_CASE("M-FAC passes give the same bits with 1 and 2 threads", "[mfac]") {
  const Index d = 70000, m = 9;
  const Matrix<float> g = ct::gaussian_matrix<float>(d, m, 4);
  const Matrix<float> x = ct::gaussian_matrix<float>(d, 2, 5);
  auto run = [&](int threads) {
    omp_set_num_threads(threads);
    const curvop::mfac::EmpiricalFisher<float> f(g, 0.1f);
    Matrix<float> y(d, 2), z(d, 2);
    f.apply_inverse(x, y);
    f.apply(x, z);
    curvop::mfac::SlidingWindowFisher<float, Eigen::bfloat16> s(d, 4, 0.1f);
    Vector<float> p(d);
    for (Index t = 0; t < m; ++t) REQUIRE(s.push_and_apply_inverse(g.col(t), p) == curvop::Info::Success);
    Matrix<float> all(d, 6);
    all << y, z, p, f.inverse_diagonal();
    return all;
  };
  const Matrix<float> one = run(1), two = run(2);
  omp_set_num_threads(2);
  CHECK(one == two);
}
#endif
