// SPDX-License-Identifier: MIT
// symmetric_eigen: reconstruction, orthonormality, ascending order, known spectra, bad input.
#include <curvop/matrix_functions/eigh.hpp>

#include <limits>

#include "support/catch.hpp"
#include "support/rng.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
using curvop::Vector;
namespace ct = curvop::test;

TEMPLATE_TEST_CASE("symmetric_eigen reproduces a known spectrum and reconstructs A", "[eigh]",
                   float, double) {
  using S = TestType;
  for (Index n : {1, 2, 17, 96}) {
    // A = Q diag(ev) Qᵀ with ev geometric over [1e-2, 1e2]: the eigenvalues are known exactly.
    const Matrix<double> q = ct::orthogonal_matrix(n, 100 + static_cast<std::uint64_t>(n));
    Vector<double> ev(n);
    for (Index i = 0; i < n; ++i) ev(i) = std::pow(10.0, -2.0 + 4.0 * double(i) / double(std::max<Index>(n - 1, 1)));
    const Matrix<double> ad = q * ev.asDiagonal() * q.transpose();
    const Matrix<S> a = (0.5 * (ad + ad.transpose())).cast<S>();
    const auto e = curvop::symmetric_eigen<S>(a);
    REQUIRE(e.info == Info::Success);
    REQUIRE(e.values.size() == n);
    REQUIRE(e.vectors.rows() == n);
    REQUIRE(e.vectors.cols() == n);
    // Eigenvalue error is absolute, O(n eps ‖A‖₂) with ‖A‖₂ = 100.
    const double vtol = ct::apply_tol<S>(double(n)) * 100.0;
    for (Index i = 0; i < n; ++i) {
      INFO("n = " << n << ", i = " << i);
      CHECK(std::abs(double(e.values(i)) - ev(i)) <= vtol);
      if (i > 0) CHECK(e.values(i) >= e.values(i - 1));
    }
    const Matrix<S> qtq = e.vectors.transpose() * e.vectors;
    const double orth = ct::rel_err(qtq, Matrix<S>::Identity(n, n));
    const Matrix<S> rec = e.vectors * e.values.asDiagonal() * e.vectors.transpose();
    const double recon = ct::rel_err(rec, a);
    INFO("n = " << n << ", orthogonality " << orth << ", reconstruction " << recon);
    CHECK(orth <= ct::apply_tol<S>(double(n)));
    CHECK(recon <= ct::apply_tol<S>(double(n)));
  }
}

TEMPLATE_TEST_CASE("symmetric_eigen handles repeated and zero eigenvalues", "[eigh]", float,
                   double) {
  using S = TestType;
  const Index n = 40;
  const Matrix<double> q = ct::orthogonal_matrix(n, 7);
  Vector<double> ev = Vector<double>::Zero(n);
  ev.tail(20).setConstant(3.0);  // rank 20, one eigenvalue of multiplicity 20 and 0 of 20
  const Matrix<S> a = (q * ev.asDiagonal() * q.transpose()).cast<S>();
  const auto e = curvop::symmetric_eigen<S>(a);
  REQUIRE(e.info == Info::Success);
  const double tol = ct::apply_tol<S>(double(n)) * 3.0;
  for (Index i = 0; i < n; ++i) CHECK(std::abs(double(e.values(i)) - ev(i)) <= tol);
  const Matrix<S> rec = e.vectors * e.values.asDiagonal() * e.vectors.transpose();
  CHECK(ct::rel_err(rec, a) <= ct::apply_tol<S>(double(n)));
  CHECK(ct::rel_err(Matrix<S>(e.vectors.transpose() * e.vectors), Matrix<S>::Identity(n, n)) <=
        ct::apply_tol<S>(double(n)));
}

TEMPLATE_TEST_CASE("symmetric_eigen reads only the lower triangle", "[eigh]", float, double) {
  using S = TestType;
  const Matrix<S> a = ct::spd_matrix<S>(12, 3);
  Matrix<S> garbage = a;
  garbage.template triangularView<Eigen::StrictlyUpper>().setConstant(S(1e3));
  const auto e1 = curvop::symmetric_eigen<S>(a);
  const auto e2 = curvop::symmetric_eigen<S>(garbage);
  REQUIRE(e2.info == Info::Success);
  CHECK(ct::rel_err(e2.values, e1.values) <= ct::apply_tol<S>(12));
}

TEMPLATE_TEST_CASE("symmetric_eigenvalues matches the values of symmetric_eigen", "[eigh]", float,
                   double) {
  using S = TestType;
  const Matrix<S> a = ct::spd_matrix<S>(30, 5, 0.1, 50.0);
  const auto full = curvop::symmetric_eigen<S>(a);
  const auto vals = curvop::symmetric_eigenvalues<S>(a);
  REQUIRE(vals.info == Info::Success);
  CHECK(vals.vectors.size() == 0);
  CHECK(ct::rel_err(vals.values, full.values) <= ct::apply_tol<S>(30));
}

TEMPLATE_TEST_CASE("symmetric_eigen reports bad input without throwing or NaN", "[eigh]", float,
                   double) {
  using S = TestType;
  Matrix<S> a = ct::spd_matrix<S>(6, 1);
  a(4, 2) = std::numeric_limits<S>::quiet_NaN();
  const auto e = curvop::symmetric_eigen<S>(a);
  CHECK(e.info == Info::InvalidInput);
  CHECK(e.values.allFinite());
  CHECK(e.vectors.allFinite());
  CHECK(e.vectors == Matrix<S>::Identity(6, 6));
  a(4, 2) = S(0);
  a(1, 5) = std::numeric_limits<S>::infinity();  // upper triangle: not read
  CHECK(curvop::symmetric_eigen<S>(a).info == Info::Success);
  const Matrix<S> rect(3, 4);
  CHECK_THROWS_AS(curvop::symmetric_eigen<S>(rect), curvop::DimensionMismatch);
  const auto empty = curvop::symmetric_eigen<S>(Matrix<S>(0, 0));
  CHECK(empty.info == Info::Success);
  CHECK(empty.values.size() == 0);
}
