// SPDX-License-Identifier: MIT
// The README's first snippet: compose operators, solve, and plug in your own Hessian-vector
// product. Exits non-zero if an identity fails.
#include <cstdio>
#include <curvop/curvop.hpp>

int main() {
  using namespace curvop;
  // K-FAC-like Kronecker block of a 4 x 3 layer: A (3 x 3, inputs) ⊗ G (4 x 4, output gradients).
  Matrix<double> a(3, 3), g(4, 4);
  a << 2, 1, 0, 1, 2, 1, 0, 1, 2;
  g = Matrix<double>::Identity(4, 4) * 3.0;
  const auto F = shifted(kron(symmetric_dense(a), symmetric_dense(g)), 0.1);  // A ⊗ G + 0.1 I
  const auto P = inverse(kron(symmetric_dense(a), symmetric_dense(g)));        // (A ⊗ G)⁻¹, factor-wise

  const Vector<double> v = Vector<double>::Ones(12);  // vec(V), V is 4 x 3
  const Vector<double> fv = apply(F, v);               // F v, never forming the 12 x 12 matrix
  const Vector<double> pv = apply(P, v);               // vec(G⁻¹ V A⁻¹)

  // Your own Hessian-vector product, as a symmetric operator.
  const auto H = function_operator<double>(
      12, 12, [&](const ConstRef<double>& x, MutRef<double> y) { F.apply(x, y); }, curvop::symmetric);
  const double diff = (apply(H, v) - fv).norm();
  // And as the matrix of Eigen's CG, preconditioned by P's structure.
  const EigenAdaptor<decltype(H)> Hm(H);
  Eigen::ConjugateGradient<EigenAdaptor<decltype(H)>, Eigen::Lower | Eigen::Upper,
                           Eigen::IdentityPreconditioner>
      cg(Hm);
  const Vector<double> x = cg.solve(fv);

  std::printf("|F v| = %.4f, |P v| = %.4f, |Hv - Fv| = %.1e, CG error %.1e in %ld iterations\n",
              fv.norm(), pv.norm(), diff, (x - v).norm(), static_cast<long>(cg.iterations()));
  return diff == 0.0 && (x - v).norm() < 1e-8 ? 0 : 1;
}
