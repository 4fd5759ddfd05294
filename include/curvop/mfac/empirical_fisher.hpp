// SPDX-License-Identifier: MIT
// M-FAC static operator: the damped empirical Fisher of m gradients, F = λI + GGᵀ/m, with
// O(d·m) inverse-Hessian-vector products, inverse diagonal and O(m) single inverse entries.
#ifndef CURVOP_MFAC_EMPIRICAL_FISHER_HPP
#define CURVOP_MFAC_EMPIRICAL_FISHER_HPP

#include <algorithm>
#include <cmath>
#include <curvop/concepts.hpp>
#include <curvop/detail/panel_level3.hpp>
#include <curvop/mfac/detail_cholesky.hpp>
#include <curvop/mfac/detail_kernels.hpp>
#include <utility>
#include <vector>

namespace curvop::mfac {

namespace detail {

/// K = GᵀG (m x m, double) and the row sums of squares of G, in one pass that also checks that
/// every entry is finite (returns false otherwise, with k and row_sq unspecified). Each chunk of
/// rows adds its Gram matrix, formed in S, into a per-super-chunk double accumulator
/// (deterministic for any thread count, accurate for long sums). With AVX2 the chunk goes through
/// the packed kernel of curvop/detail/panel_level3.hpp, otherwise through Eigen's rank-k update.
template <class S>
bool gram(const Matrix<S>& g, Matrix<double>& k, Vector<S>& row_sq) {
  const Index d = g.rows(), m = g.cols();
  const Index r = chunk_rows(d);
  const Index supers = super_chunks((d + r - 1) / r);
  std::vector<Matrix<double>> acc(static_cast<std::size_t>(supers));
  std::vector<std::vector<S>> buffers(static_cast<std::size_t>(supers));
  std::vector<char> finite(static_cast<std::size_t>(supers), 1);
  row_sq.resize(d);
  for_chunks(d, [&](Index r0, Index rows, Index s) {
    const auto su = static_cast<std::size_t>(s);
    Matrix<double>& a = acc[su];
    if (a.size() == 0) a.setZero(m, m);
#if defined(CURVOP_DETAIL_PANEL_LEVEL3)
    if (!curvop::detail::panel_gram(g.data() + r0, d, rows, m, a.data(), m, row_sq.data() + r0,
                                    buffers[su])) {
      finite[su] = 0;
    }
#else
    const auto gc = g.middleRows(r0, rows);
    if (!gc.allFinite()) finite[su] = 0;
    Matrix<S> part = Matrix<S>::Zero(m, m);
    part.template selfadjointView<Eigen::Lower>().rankUpdate(gc.transpose());
    a.template triangularView<Eigen::Lower>() += part.template cast<double>();
    row_sq.segment(r0, rows) = gc.rowwise().squaredNorm();
#endif
  });
  if (std::find(finite.begin(), finite.end(), 0) != finite.end()) return false;
  k.setZero(m, m);
  for (const auto& a : acc) {
    if (a.size() != 0) k += a;
  }
  k.template triangularView<Eigen::StrictlyUpper>() = k.transpose();
  return true;
}

/// V ← V L⁻ᵀ (V is d x m, L lower m x m), chunk by chunk (level 3, parallel over chunks): the
/// packed forward substitution of curvop/detail/panel_level3.hpp with AVX2, Eigen's triangular
/// solve otherwise.
template <class S>
void solve_right_lt(Matrix<S>& v, const Matrix<double>& l) {
  const Index d = v.rows(), m = v.cols();
#if defined(CURVOP_DETAIL_PANEL_LEVEL3)
  const Matrix<S> nl = (-l).template cast<S>();
  const Vector<S> inv_diag = l.diagonal().cwiseInverse().template cast<S>();
  const Index r = chunk_rows(d);
  std::vector<std::vector<S>> buffers(static_cast<std::size_t>(super_chunks((d + r - 1) / r)));
  for_chunks(d, [&](Index r0, Index rows, Index s) {
    curvop::detail::panel_solve_right_lt(v.data() + r0, d, rows, m, nl.data(), inv_diag.data(),
                                         buffers[static_cast<std::size_t>(s)]);
  });
#else
  const Matrix<S> ls = l.template cast<S>();
  for_chunks(d, [&](Index r0, Index rows, Index) {
    auto vc = v.middleRows(r0, rows);
    ls.transpose().template triangularView<Eigen::Upper>().template solveInPlace<Eigen::OnTheRight>(
        vc);
  });
#endif
}

}  // namespace detail

/// The damped empirical Fisher of m gradients (the static M-FAC operator):
/// \f[ F = \lambda I + \tfrac{1}{m} G G^\top, \qquad G = [g_1, \dots, g_m] \in \mathbb{R}^{d\times m} \f]
/// (one gradient per column, `damping` = λ > 0).
///
/// Set-up forms the Gram matrix K = GᵀG (blocked symmetric rank-k updates accumulated in double),
/// the Cholesky factor L Lᵀ = M = mλI + K (m x m, double) and the inverse factor
/// V = G L⁻ᵀ (a triangular solve with d right-hand sides, level 3), which overwrites G. Woodbury
/// then gives every query from V alone:
/// \f[ F^{-1} = \lambda^{-1}\left(I - G M^{-1} G^\top\right) = \lambda^{-1}\left(I - V V^\top\right),
///     \qquad F = \lambda I + \tfrac{1}{m} V L^\top L V^\top. \f]
/// This is the closed form of the reference code's Sherman–Morrison recursion (its rows
/// vᵢ/√qᵢ are the columns of V), computed with level-3 kernels instead of m² BLAS-2 passes, and
/// with M scaled by λ so that no λ⁻¹ = 10⁵ factors enter the small factorisation.
///
/// Operator contract: `x` is `cols() x k`, `y` is `rows() x k` (k ≥ 1, preallocated,
/// overwritten, not aliased); `apply*` are const and thread-safe.
///
/// **Cost:** set-up 2·d·m² flops + m³/3 (one pass over G for K, one for V); memory d·m (V
/// replaces G) + d + m². `apply_inverse`: two passes over V, 4·d·m·k flops. `apply`: the same plus
/// 2m²k. `inverse_diagonal`: one pass. `inverse_entry`: O(m).
///
/// **Reference:** E. Frantar, E. Kurtic, D. Alistarh, "M-FAC: Efficient Matrix-Free
/// Approximations of Second-Order Information", NeurIPS 2021, §3 (static algorithm).
/// \tparam S float or double
template <class S>
class EmpiricalFisher {
  static_assert(std::floating_point<S>, "EmpiricalFisher: S must be float or double");

 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  /// Builds F from G (d x m, one gradient per column; moved in and overwritten by V).
  /// Throws `std::invalid_argument` for damping ≤ 0 (or not finite) and an empty G,
  /// `curvop::InvalidInput` for a non-finite gradient entry. A factorisation that fails even
  /// with jitter (not expected: M ≥ mλI) sets `info()` to `NumericalIssue`.
  EmpiricalFisher(Matrix<S> gradients, S damping) : m_v(std::move(gradients)), m_damping(damping) {
    curvop::detail::require_argument(damping > S(0) && std::isfinite(damping),
                                     "mfac::EmpiricalFisher", "damping must be > 0 and finite",
                                     damping);
    curvop::detail::require_argument(m_v.rows() >= 1, "mfac::EmpiricalFisher",
                                     "gradients must have >= 1 row (the dimension d)",
                                     m_v.rows());
    curvop::detail::require_argument(m_v.cols() >= 1, "mfac::EmpiricalFisher",
                                     "gradients must have >= 1 column (one per gradient)",
                                     m_v.cols());
    const Index m = m_v.cols();
    Matrix<double> k;
    Vector<S> row_sq;
    if (!detail::gram(m_v, k, row_sq)) {
      throw InvalidInput("mfac::EmpiricalFisher: gradients: input has a non-finite entry (NaN or Inf)");
    }
    m_diag = (row_sq / static_cast<S>(m)).array() + damping;
    k.diagonal().array() += static_cast<double>(m) * static_cast<double>(damping);
    m_l.setZero(m, m);
    if (!detail::factorize(k, m_l)) {
      m_info = Info::NumericalIssue;
      m_v.setZero();
      return;
    }
    detail::solve_right_lt(m_v, m_l);
  }

  Index rows() const { return m_v.rows(); }
  Index cols() const { return m_v.rows(); }
  /// m, the number of gradients.
  Index size() const { return m_v.cols(); }
  /// λ.
  S damping() const { return m_damping; }
  /// `Success`, or `NumericalIssue` if the m x m factorisation failed.
  Info info() const { return m_info; }
  /// V = G L⁻ᵀ (d x m): F⁻¹ = λ⁻¹(I − VVᵀ).
  const Matrix<S>& inverse_factor() const { return m_v; }
  /// L (m x m lower, double): L Lᵀ = mλI + GᵀG.
  const Matrix<double>& gram_factor() const { return m_l; }

  /// y = F x = λx + V Lᵀ L Vᵀ x / m. Cost: two passes over V.
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    const Index m = size();
    Matrix<double> s(m, x.cols());
    detail::dots<S>(view(), x, s);
    const Matrix<double> gs = m_l.template triangularView<Eigen::Lower>() * s;
    const Matrix<S> t =
        ((m_l.transpose().template triangularView<Eigen::Upper>() * gs) / static_cast<double>(m))
            .template cast<S>();
    detail::combine<S>(view(), x, t, m_damping, S(1), y);
  }

  /// y = F⁻¹ x = λ⁻¹(x − V Vᵀ x) (the IHVP). Cost: two passes over V.
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    CURVOP_ASSERT(m_info == Info::Success, "mfac::EmpiricalFisher: factorisation failed");
    Matrix<double> s(size(), x.cols());
    detail::dots<S>(view(), x, s);
    const Matrix<S> c = s.template cast<S>();
    const S inv = S(1) / m_damping;
    detail::combine<S>(view(), x, c, inv, -inv, y);
  }

  /// diag F = λ + (1/m) Σⱼ G_ij² (stored at set-up).
  const Vector<S>& diagonal() const { return m_diag; }

  /// diag F⁻¹ = λ⁻¹(1 − Σⱼ V_ij²), all d entries. Cost: one pass over V.
  ///
  /// Accuracy: the subtraction cancels where a coordinate is nearly explained by the gradients
  /// (Σⱼ V_ij² → 1 as λ → 0). The absolute error of the bracket is about eps(S)·m, so the
  /// relative error of entry i is about eps(S)·m / (1 − Σⱼ V_ij²) = eps(S)·m·λ⁻¹/(F⁻¹)_ii:
  /// in float with λ far below the gradients' scale, the smallest entries carry few digits. The
  /// cause is the float V itself, not the summation; build with S = double where such entries
  /// matter (OBS scores at λ ≪ ‖g‖²/m).
  Vector<S> inverse_diagonal() const {
    Vector<S> r(rows());
    detail::row_squares<S>(view(), r);
    return ((S(1) - r.array()) / m_damping).matrix();
  }

  /// [F⁻¹]_ij = λ⁻¹(δ_ij − Σₖ V_ik V_jk), accumulated in double. Cost: O(m).
  S inverse_entry(Index i, Index j) const {
    CURVOP_ASSERT(i >= 0 && i < rows() && j >= 0 && j < rows(),
                  "mfac::EmpiricalFisher::inverse_entry: index out of range");
    const double dot =
        m_v.row(i).template cast<double>().dot(m_v.row(j).template cast<double>());
    return static_cast<S>(((i == j ? 1.0 : 0.0) - dot) / static_cast<double>(m_damping));
  }

 private:
  detail::WindowView<S> view() const { return {m_v.data(), m_v.rows(), m_v.cols(), m_v.rows()}; }

  Matrix<S> m_v;
  Matrix<double> m_l;
  Vector<S> m_diag;
  S m_damping;
  Info m_info = Info::Success;
};

}  // namespace curvop::mfac

#endif  // CURVOP_MFAC_EMPIRICAL_FISHER_HPP
