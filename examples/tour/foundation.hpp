// SPDX-License-Identifier: MIT
// Tour, part 1: compose a structured SPD operator and solve with it through Eigen's CG, with and
// without a structured preconditioner, against a dense Cholesky solve.
#ifndef CURVOP_EXAMPLES_TOUR_FOUNDATION_HPP
#define CURVOP_EXAMPLES_TOUR_FOUNDATION_HPP

#include <Eigen/Cholesky>
#include <Eigen/QR>
#include <chrono>
#include <cstdio>
#include <curvop/curvop.hpp>

namespace curvop_tour {

namespace detail {
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
/// SPD n x n with eigenvalues spread geometrically over [lo, hi] (Q from a QR of Gaussians).
inline Eigen::MatrixXd spd(Eigen::Index n, std::uint64_t seed, double lo, double hi) {
  const Eigen::MatrixXd g = curvop::random::gaussian<double>(n, n, seed);
  const Eigen::MatrixXd q = Eigen::HouseholderQR<Eigen::MatrixXd>(g).householderQ();
  Eigen::VectorXd ev(n);
  for (Eigen::Index i = 0; i < n; ++i) ev(i) = lo * std::pow(hi / lo, double(i) / double(n - 1));
  return q * ev.asDiagonal() * q.transpose();
}
}  // namespace detail

inline void foundation_section() {
  using namespace curvop;
  using Clock = std::chrono::steady_clock;
  std::printf("== 1. Operators: a Kronecker-plus-low-rank SPD system, solved matrix-free ==\n");
  // M = A ⊗ B + U Uᵀ + σI: a K-FAC-like Kronecker block (κ(A ⊗ B) = 1e4), a rank-8 correction
  // and a little damping. The operator never forms the 3072 x 3072 matrix.
  const Index na = 64, nb = 48, r = 8;
  const double sigma = 1e-3;
  const Eigen::MatrixXd a = detail::spd(na, 1, 1e-2, 1.0), b = detail::spd(nb, 2, 1e-2, 1.0);
  const Eigen::MatrixXd u = curvop::random::gaussian<double>(na * nb, r, 3) / std::sqrt(double(na * nb));
  const auto K = kron(symmetric_dense(a), symmetric_dense(b));
  const auto M = shifted(K + low_rank<double>(u), sigma);
  using MOp = std::remove_cvref_t<decltype(M)>;
  const Eigen::VectorXd rhs = curvop::random::gaussian<double>(na * nb, 1, 4);
  std::printf("operator: shifted(kron(A, B) + U Uᵀ, σ), n = %ld, symmetric: %s\n",
              static_cast<long>(M.rows()), is_symmetric_v<MOp> ? "yes" : "no");

  // Dense reference: form the matrix and factorise it.
  auto t0 = Clock::now();
  const Eigen::MatrixXd md = to_dense(M);
  const Eigen::LLT<Eigen::MatrixXd> llt(md);
  const Eigen::VectorXd xd = llt.solve(rhs);
  const double t_dense = detail::seconds_since(t0);

  const EigenAdaptor<MOp> A(M);
  auto report = [&](const char* what, const Eigen::VectorXd& x, long iters, double secs) {
    const Eigen::VectorXd res = rhs - apply(M, x);
    std::printf("  %-38s iterations %5ld  residual %.2e  error vs dense %.2e  time %7.1f ms\n", what,
                iters, res.norm() / rhs.norm(), (x - xd).norm() / xd.norm(), 1e3 * secs);
  };
  std::printf("  %-38s %16s  residual %.2e  %22s  time %7.1f ms\n", "dense Cholesky (forms the matrix)",
              "", (rhs - md * xd).norm() / rhs.norm(), "", 1e3 * t_dense);

  t0 = Clock::now();
  Eigen::ConjugateGradient<EigenAdaptor<MOp>, Eigen::Lower | Eigen::Upper, Eigen::IdentityPreconditioner> cg;
  cg.setTolerance(1e-8);
  cg.setMaxIterations(20000);
  cg.compute(A);
  const Eigen::VectorXd x0 = cg.solve(rhs);
  report("CG, no preconditioner", x0, cg.iterations(), detail::seconds_since(t0));

  // The structured preconditioner: the damped Kronecker part alone, inverted factor by factor
  // ((A + √σ I)⁻¹ ⊗ (B + √σ I)⁻¹); the rank-8 correction then costs CG about 8 extra steps.
  t0 = Clock::now();
  const double s = std::sqrt(sigma);
  const auto Q = kron(symmetric_dense(Eigen::MatrixXd(a + s * Eigen::MatrixXd::Identity(na, na))),
                      symmetric_dense(Eigen::MatrixXd(b + s * Eigen::MatrixXd::Identity(nb, nb))));
  using QOp = std::remove_cvref_t<decltype(Q)>;
  Eigen::ConjugateGradient<EigenAdaptor<MOp>, Eigen::Lower | Eigen::Upper, OperatorPreconditioner<QOp>> pcg;
  pcg.setTolerance(1e-8);
  pcg.setMaxIterations(20000);
  pcg.compute(A);
  pcg.preconditioner().attach(Q);
  const Eigen::VectorXd x1 = pcg.solve(rhs);
  report("CG, Kronecker preconditioner", x1, pcg.iterations(), detail::seconds_since(t0));
  std::printf("\n");
}

}  // namespace curvop_tour

#endif  // CURVOP_EXAMPLES_TOUR_FOUNDATION_HPP
