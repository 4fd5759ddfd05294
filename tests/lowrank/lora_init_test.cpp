// SPDX-License-Identifier: MIT
// LoRA-GA and LoRA-One initialisations against the known SVD of the gradient, and LoRA-GA's
// first-step property checked with finite-difference gradients of a real loss.
#include <curvop/lowrank/lora_init.hpp>

#include "lowrank/support/spectrum.hpp"
#include "support/catch.hpp"
#include "support/tolerance.hpp"

using curvop::Index;
using curvop::Info;
using curvop::Matrix;
using curvop::Vector;
namespace lr = curvop::lowrank;
namespace ct = curvop::test;

namespace {

// G of rank 10 with distinct singular values (unique singular vectors up to sign). Rank 10 keeps
// the randomized path (sketch of 2r + 10 >= 10 columns) exact to rounding, so both SVD methods are
// held to the same tolerance; the randomized SVD's accuracy on full-rank spectra is tested in
// randomized_svd_test.cpp.
ct::KnownSvd distinct(Index m, Index n, std::uint64_t seed) {
  return ct::known_svd(m, n, seed, [](Index i) { return i < 10 ? 8.0 / (1.0 + double(i)) : 0.0; });
}

// Least squares L(W) = ‖W X − Y‖² / (2N): gradient (W X − Y) Xᵀ / N.
struct LeastSquares {
  Matrix<double> x, y;
  double loss(const Matrix<double>& w) const {
    return 0.5 * (w * x - y).squaredNorm() / double(x.cols());
  }
  Matrix<double> grad(const Matrix<double>& w) const {
    return (w * x - y) * x.transpose() / double(x.cols());
  }
};

}  // namespace

TEMPLATE_TEST_CASE("LoRA-GA (original convention) matches the singular vectors of G", "[lowrank]",
                   float, double) {
  using S = TestType;
  const auto k = distinct(24, 18, 3);
  const Index r = 3;
  const double gamma = 16, s = 2;
  const double c2 = std::sqrt(24.0) / gamma;  // c² = m^{1/2}/γ
  for (auto method : {lr::SvdMethod::Exact, lr::SvdMethod::Randomized}) {
    INFO("method " << int(method));
    const auto init = lr::lora_ga_init<S>(k.a.template cast<S>(), r,
                                          {.scaling = s, .gamma = gamma, .svd = method});
    REQUIRE(init.info == Info::Success);
    REQUIRE(init.a.rows() == r);
    REQUIRE(init.a.cols() == 18);
    REQUIRE(init.b.rows() == 24);
    REQUIRE(init.b.cols() == r);
    CHECK(init.offset_required);
    // Sign-free checks: AᵀA = c² V_{1:r}V_{1:r}ᵀ and BBᵀ = c² U_{r+1:2r}U_{r+1:2r}ᵀ.
    const Matrix<double> a = init.a.template cast<double>(), b = init.b.template cast<double>();
    const double tol = 10 * ct::apply_tol<S>(24);
    CHECK(ct::rel_err(Matrix<double>(a.transpose() * a),
                      Matrix<double>(c2 * k.v.leftCols(r) * k.v.leftCols(r).transpose())) <= tol);
    CHECK(ct::rel_err(Matrix<double>(b * b.transpose()),
                      Matrix<double>(c2 * k.u.middleCols(r, r) * k.u.middleCols(r, r).transpose())) <= tol);
    // The first-order direction s²(BBᵀG + GAᵀA) is s²c² times the best rank-2r approximation.
    const Matrix<double> dir = s * s * (b * b.transpose() * k.a + k.a * a.transpose() * a);
    CHECK(ct::rel_err(dir, Matrix<double>(s * s * c2 * k.truncated(2 * r))) <= tol);
    CHECK(ct::rel_err(init.singular_values, k.s.head(2 * r)) <= tol);
    // The weight offset keeps the initial output: W + offset + s·B·A = W.
    Matrix<S> w = ct::gaussian_matrix<S>(24, 18, 8);
    const Matrix<S> w0 = w;
    init.fold_into(w);
    CHECK(ct::rel_err(Matrix<S>(w + init.scaling * init.b * init.a), w0) <= ct::apply_tol<S>(24));
    CHECK(ct::rel_err(init.weight_offset(), Matrix<double>(-s * b * a)) <= ct::apply_tol<S>(24));
  }
}

TEST_CASE("LoRA-GA's first SGD step follows the rank-2r approximation of the full gradient",
          "[lowrank]") {
  // A real loss, adapter gradients by central finite differences (independent of the formula),
  // one SGD step of rate η on A and B, and the resulting change of W_eff.
  const Index m = 9, n = 7, r = 2, samples = 40;
  const LeastSquares ls{ct::gaussian_matrix<double>(n, samples, 1),
                        ct::gaussian_matrix<double>(m, samples, 2)};
  const Matrix<double> w0 = 0.3 * ct::gaussian_matrix<double>(m, n, 3);
  const Matrix<double> g = ls.grad(w0);
  const double s = 1.5;
  const auto init = lr::lora_ga_init<double>(g, r, {.scaling = s, .gamma = 4, .svd = lr::SvdMethod::Exact});
  Matrix<double> base = w0;
  init.fold_into(base);
  auto eff = [&](const Matrix<double>& a, const Matrix<double>& b) -> Matrix<double> {
    return base + s * b * a;
  };
  REQUIRE(ct::rel_err(eff(init.a, init.b), w0) <= 1e-14);  // output unchanged at start
  const double h = 1e-6;
  Matrix<double> ga(r, n), gb(m, r);
  for (Index i = 0; i < ga.size(); ++i) {
    Matrix<double> ap = init.a, am = init.a;
    ap(i) += h;
    am(i) -= h;
    ga(i) = (ls.loss(eff(ap, init.b)) - ls.loss(eff(am, init.b))) / (2 * h);
  }
  for (Index i = 0; i < gb.size(); ++i) {
    Matrix<double> bp = init.b, bm = init.b;
    bp(i) += h;
    bm(i) -= h;
    gb(i) = (ls.loss(eff(init.a, bp)) - ls.loss(eff(init.a, bm))) / (2 * h);
  }
  const double eta = 1e-5;
  const Matrix<double> dw = eff(init.a - eta * ga, init.b - eta * gb) - w0;
  // Best rank-2r approximation of G by an SVD computed here.
  Eigen::JacobiSVD<Matrix<double>> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
  const Matrix<double> g2r = svd.matrixU().leftCols(2 * r) *
                             svd.singularValues().head(2 * r).asDiagonal() *
                             svd.matrixV().leftCols(2 * r).transpose();
  const double c2 = std::sqrt(double(m)) / 4.0;
  // O(η) second-order term and O(h²) finite-difference error: both far below 1e-4.
  INFO("error " << ct::rel_err(dw, Matrix<double>(-eta * s * s * c2 * g2r)));
  CHECK(ct::rel_err(dw, Matrix<double>(-eta * s * s * c2 * g2r)) <= 1e-4);
  // and it is a better first step than the rank-2r-restricted alternatives: its cosine with G is
  // that of G_{2r}, ‖G_{2r}‖/‖G‖.
  const double cosine = -dw.cwiseProduct(g).sum() / (dw.norm() * g.norm());
  CHECK_THAT(cosine, Catch::Matchers::WithinRel(g2r.norm() / g.norm(), 1e-4));
}

TEMPLATE_TEST_CASE("LoRA-GA PEFT convention scales B by the singular values", "[lowrank]", float,
                   double) {
  using S = TestType;
  const auto k = distinct(20, 16, 4);
  const Index r = 2;
  const auto init = lr::lora_ga_init<S>(k.a.template cast<S>(), r,
                                        {.convention = lr::LoraGaConvention::Peft,
                                         .svd = lr::SvdMethod::Exact});
  REQUIRE(init.info == Info::Success);
  const Matrix<double> a = init.a.template cast<double>(), b = init.b.template cast<double>();
  const double c2 = std::sqrt(20.0) / 16.0;
  const Matrix<double> us = k.u.middleCols(r, r) * k.s.segment(r, r).asDiagonal();
  const double tol = 10 * ct::apply_tol<S>(20);
  CHECK(ct::rel_err(Matrix<double>(a.transpose() * a),
                    Matrix<double>(k.v.leftCols(r) * k.v.leftCols(r).transpose())) <= tol);
  CHECK(ct::rel_err(Matrix<double>(b * b.transpose()), Matrix<double>(c2 * us * us.transpose())) <= tol);
}

TEMPLATE_TEST_CASE("LoRA-One is one rank-r gradient step", "[lowrank]", float, double) {
  using S = TestType;
  const auto k = distinct(22, 15, 6);
  const Index r = 4;
  const double s = 2, gamma = 128;
  for (auto method : {lr::SvdMethod::Exact, lr::SvdMethod::Randomized}) {
    const auto init = lr::lora_one_init<S>(k.a.template cast<S>(), r,
                                           {.scaling = s, .gamma = gamma, .svd = method});
    REQUIRE(init.info == Info::Success);
    CHECK_FALSE(init.offset_required);
    CHECK(init.weight_offset().isZero());
    const Matrix<double> a = init.a.template cast<double>(), b = init.b.template cast<double>();
    const double tol = 10 * ct::apply_tol<S>(22);
    // s·B·A = −s/(γσ₁)·G_r: a gradient step restricted to the best rank-r subspace.
    CHECK(ct::rel_err(Matrix<double>(s * b * a), Matrix<double>(-s / (gamma * k.s(0)) * k.truncated(r))) <= tol);
    // Balanced factors: BᵀB = AAᵀ = Σ_r/(γσ₁).
    const Matrix<double> bal = (k.s.head(r) / (gamma * k.s(0))).asDiagonal();
    CHECK(ct::rel_err(Matrix<double>(b.transpose() * b), bal) <= tol);
    CHECK(ct::rel_err(Matrix<double>(a * a.transpose()), bal) <= tol);
  }
  // A zero gradient gives zero adapters rather than a division by zero.
  const auto zero = lr::lora_one_init<S>(Matrix<S>::Zero(6, 5), 2, {.svd = lr::SvdMethod::Exact});
  CHECK(zero.a.isZero());
  CHECK(zero.b.isZero());
}

TEST_CASE("standard LoRA init: B = 0 and a bounded, reproducible A", "[lowrank]") {
  const auto init = lr::lora_standard_init<double>(12, 25, 3, 2.0, 7);
  CHECK(init.b.isZero());
  CHECK(init.a.cwiseAbs().maxCoeff() <= 1.0 / 5.0);
  CHECK(init.a.cwiseAbs().maxCoeff() > 0.1);
  CHECK(init.a == lr::lora_standard_init<double>(12, 25, 3, 2.0, 7).a);
  CHECK_FALSE(init.offset_required);
  CHECK_THROWS_AS(lr::lora_standard_init<double>(12, 25, 13), std::invalid_argument);
}

TEST_CASE("LoRA initialisations reject bad input", "[lowrank]") {
  const Matrix<double> g = ct::gaussian_matrix<double>(10, 7, 1);
  CHECK_THROWS_AS(lr::lora_ga_init<double>(g, 0), std::invalid_argument);
  CHECK_THROWS_AS(lr::lora_ga_init<double>(g, 4), std::invalid_argument);  // 2r = 8 > 7
  CHECK_NOTHROW(lr::lora_ga_init<double>(g, 3));
  CHECK_THROWS_AS(lr::lora_one_init<double>(g, 8), std::invalid_argument);
  CHECK_THROWS_AS(lr::lora_ga_init<double>(g, 2, {.gamma = 0}), std::invalid_argument);
  CHECK_THROWS_AS(lr::lora_one_init<double>(g, 2, {.scaling = -1}), std::invalid_argument);
  try {
    (void)lr::lora_ga_init<double>(g, 4);
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("2r") != std::string::npos);
  }
  Matrix<double> bad = g;
  bad(1, 1) = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_AS(lr::lora_ga_init<double>(bad, 2), curvop::InvalidInput);
  CHECK_THROWS_AS(lr::lora_one_init<double>(bad, 2), curvop::InvalidInput);
  const auto init = lr::lora_ga_init<double>(g, 2);
  Matrix<double> wrong(7, 10);
  CHECK_THROWS_AS(init.fold_into(wrong), curvop::DimensionMismatch);
}
