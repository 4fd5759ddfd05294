// SPDX-License-Identifier: MIT
// M-FAC dynamic operator: the damped empirical Fisher of the last m gradients (a sliding window),
// with O(d·m) IHVPs, an O(m²) update per gradient, and the fused push-and-precondition step.
#ifndef CURVOP_MFAC_SLIDING_WINDOW_HPP
#define CURVOP_MFAC_SLIDING_WINDOW_HPP

#include <cmath>
#include <curvop/concepts.hpp>
#include <curvop/mfac/detail_cholesky.hpp>
#include <curvop/mfac/detail_kernels.hpp>
#include <curvop/mfac/empirical_fisher.hpp>

namespace curvop::mfac {

/// Options of `SlidingWindowFisher`.
struct WindowOptions {
  /// In-place O(m²) updates of the m x m factor between two refactorisations from scratch
  /// (O(m³), bounds the drift of the updates); 0 means "every `capacity` pushes", which keeps
  /// the amortised cost O(m²) per push.
  Index refresh_every = 0;

  /// Throws `std::invalid_argument` for refresh_every < 0.
  void validate() const {
    curvop::detail::require_argument(refresh_every >= 0, "mfac::WindowOptions",
                                     "refresh_every must be >= 0", refresh_every);
  }
};

/// The damped empirical Fisher of the n most recent gradients, n ≤ m = `capacity()`:
/// \f[ F = \lambda I + \tfrac{1}{n} G G^\top, \qquad G = [g_{t-n+1}, \dots, g_t] \in
///     \mathbb{R}^{d\times n}, \f]
/// `push(g)` adds the newest gradient and, once the window is full, evicts the oldest.
///
/// **Normalisation while filling.** With n < m gradients held, F is normalised by n, the number
/// held, so F is always the mean outer product of real gradients. The reference code keeps 1/m
/// from the first step (empty slots count as zero gradients), which under-weights the first
/// m − 1 gradients against the damping by a factor n/m; results agree once the window is full.
///
/// **Algorithm.** The window is a ring buffer of m columns in `Storage`. The state beside it is
/// K = GᵀG (m x m, double, by slot; a push replaces one row and column with exact dot products,
/// so K never drifts) and the Cholesky factor L of M = nλI + K in age order (oldest first).
/// Woodbury gives F⁻¹x = λ⁻¹(x − G M⁻¹ Gᵀx): one pass for Gᵀx, an O(n²) solve, one pass for
/// G c. When a full window evicts its oldest gradient, L loses its first row and column (a
/// rank-one update of the trailing factor: stable, no downdate) and gains a last one (a forward
/// substitution): O(m²) in place of the reference's O(m³) LU per push. Every `refresh_every`
/// updates (default m) L is recomputed from K, which bounds the rounding drift; while the window
/// fills, the shift nλ changes with n and L is recomputed at each push (O(n³), m times).
///
/// **Storage.** `Storage` = float, double, `Eigen::bfloat16` or `Eigen::half`; arithmetic is in
/// S, the 16-bit types are converted on the fly, so every pass moves half the bytes of float.
/// A 16-bit window holds gradients rounded to 8 (bfloat16) or 11 (half) significant bits: the
/// operator is then exactly that of the rounded gradients (relative perturbation of G ≈ 2⁻⁹
/// resp. 2⁻¹² per entry); half overflows above 65504, bfloat16 has float's range.
///
/// Operator contract: `x` is `cols() x k`, `y` is `rows() x k` (k ≥ 1, preallocated,
/// overwritten, not aliased); `apply*` are const and thread-safe; state changes only in `push`,
/// `push_and_apply_inverse`, `set_damping` and `reset`.
///
/// **Cost:** memory d·m·sizeof(Storage) + 2m² doubles. `push`: one pass over the window (the
/// new gradient is written in the same pass) + O(m²) amortised. `apply_inverse`: two passes +
/// O(n²k). `push_and_apply_inverse`: two passes (the reference needs three) + O(m²).
///
/// **Reference:** Frantar, Kurtic, Alistarh, NeurIPS 2021, §4 (dynamic algorithm) and
/// IST-DASLab/M-FAC `optim.py` (`HInvFastUpMulti`).
/// \tparam S float or double (the arithmetic)
/// \tparam Storage float, double, Eigen::bfloat16 or Eigen::half (the window)
template <class S, WindowStorage Storage = S>
class SlidingWindowFisher {
  static_assert(std::floating_point<S>, "SlidingWindowFisher: S must be float or double");

 public:
  using Scalar = S;
  using StorageScalar = Storage;
  static constexpr bool is_symmetric = true;

  /// An empty window for gradients of length `dim`, holding at most `capacity` of them.
  /// Throws `std::invalid_argument` for dim < 1, capacity < 1, damping ≤ 0 or bad options.
  SlidingWindowFisher(Index dim, Index capacity, S damping, WindowOptions options = {})
      : m_damping(damping), m_options(options) {
    curvop::detail::require_argument(dim >= 1, "mfac::SlidingWindowFisher", "dim must be >= 1",
                                     dim);
    curvop::detail::require_argument(capacity >= 1, "mfac::SlidingWindowFisher",
                                     "capacity must be >= 1", capacity);
    check_damping(damping);
    options.validate();
    m_w.resize(dim, capacity);
    m_k.setZero(capacity, capacity);
    m_l.setZero(capacity, capacity);
  }

  Index rows() const { return m_w.rows(); }
  Index cols() const { return m_w.rows(); }
  /// n, the number of gradients held (≤ capacity).
  Index size() const { return m_n; }
  /// m, the most gradients held.
  Index capacity() const { return m_w.cols(); }
  S damping() const { return m_damping; }
  /// `NumericalIssue` if the last refactorisation failed (the previous factor stays in use).
  Info info() const { return m_info; }
  const WindowOptions& options() const { return m_options; }

  /// The i-th oldest gradient held (i = 0 is the oldest, size() − 1 the newest), converted to S.
  Vector<S> gradient(Index i) const {
    CURVOP_ASSERT(i >= 0 && i < m_n, "mfac::SlidingWindowFisher::gradient: index out of range");
    Vector<S> g(rows());
    detail::load(m_w.col(slot_of_age(i)).data(), g.data(), rows());
    return g;
  }

  /// Empties the window (keeps its memory and λ).
  void reset() {
    m_n = 0;
    m_start = 0;
    m_since_refresh = 0;
    m_info = Info::Success;
  }

  /// Sets λ without a pass over the window: refactorises nλI + K (O(m³)). Throws
  /// `std::invalid_argument` for λ ≤ 0; returns `NumericalIssue` (λ unchanged) if the factor fails.
  [[nodiscard]] Info set_damping(S damping) {
    check_damping(damping);
    const S old = m_damping;
    m_damping = damping;
    if (refactorize() != Info::Success) {
      m_damping = old;
      return Info::NumericalIssue;
    }
    return Info::Success;
  }

  /// Replaces the window by the columns of G (dim x n, n ≤ capacity, oldest first) in one
  /// blocked pass: K = ĜᵀĜ by symmetric rank-k updates (level 3), then one factorisation. The
  /// same operator as n pushes, at the cost of one set-up. Throws like `push` (window unchanged),
  /// and `DimensionMismatch` for n > capacity.
  [[nodiscard]] Info assign(const ConstRef<S>& gradients) {
    const Index n = gradients.cols();
    curvop::detail::require_conformant(gradients.rows() == rows() && n <= capacity(),
                                       "mfac::SlidingWindowFisher::assign: gradients must be "
                                       "dim x n with n <= capacity",
                                       gradients, m_w);
    curvop::detail::require_finite(gradients, "mfac::SlidingWindowFisher::assign");
    Matrix<S> stored(rows(), n);
    for (Index j = 0; j < n; ++j) {
      detail::write_column(m_w.data(), m_w.rows(), j, gradients.col(j).data(), rows());
      detail::load(m_w.col(j).data(), stored.col(j).data(), rows());
    }
    Matrix<double> k;
    Vector<S> row_sq;
    detail::gram(stored, k, row_sq);
    m_k.topLeftCorner(n, n) = k;
    m_n = n;
    m_start = 0;
    return refactorize();
  }

  /// Adds g (dim x 1) as the newest gradient, evicting the oldest once the window is full.
  /// Throws `DimensionMismatch` for a wrong length and `InvalidInput` for a non-finite entry,
  /// leaving the window exactly as it was. Returns `NumericalIssue` if the small factor could not
  /// be rebuilt (then the previous factor stays in use). Cost: one pass + O(m²) amortised.
  [[nodiscard]] Info push(const ConstRef<S>& g) {
    check_gradient(g);
    const Index slot = next_slot();
    Matrix<double> s(std::min(m_n + 1, capacity()), 1);
    write_and_dot(g, slot, s);
    return integrate(slot, s.col(0));
  }

  /// The optimizer step: pushes g, then y = F⁻¹ĝ with the new window, where ĝ is g as the
  /// window stores it (ĝ = g for float and double storage; g rounded to 16 bits otherwise). The
  /// dot products of ĝ with the window are those of the push, so the step reads the window
  /// twice in all. Preconditioning ĝ rather than g keeps the vector in the span of the window:
  /// the rounding error g − ĝ, which lies outside it, would otherwise be amplified by λ⁻¹.
  /// Same errors as `push` (y is untouched when it throws).
  [[nodiscard]] Info push_and_apply_inverse(const ConstRef<S>& g, MutRef<S> y) {
    check_gradient(g);
    curvop::detail::require_conformant(y.rows() == rows() && y.cols() == 1,
                                       "mfac::SlidingWindowFisher::push_and_apply_inverse: y", y,
                                       g);
    const Index slot = next_slot();
    Matrix<double> s(std::min(m_n + 1, capacity()), 1);
    write_and_dot(g, slot, s);
    const Info info = integrate(slot, s.col(0));
    // ĝ = G e_slot, so F⁻¹ĝ = λ⁻¹(ĝ − G M⁻¹Gᵀĝ) = −λ⁻¹ G (M⁻¹Gᵀĝ − e_slot): one pass over G.
    solve_in_place(s);
    s(slot, 0) -= 1.0;
    const Matrix<S> cs = s.template cast<S>();
    detail::combine<S>(view(m_n), g, cs, S(0), -S(1) / m_damping, y);
    return info;
  }

  /// y = F x = λx + G Gᵀx / n. Cost: two passes.
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    if (m_n == 0) {
      y = m_damping * x;
      return;
    }
    Matrix<double> s(m_n, x.cols());
    detail::dots<S>(view(m_n), x, s);
    const Matrix<S> c = (s / static_cast<double>(m_n)).template cast<S>();
    detail::combine<S>(view(m_n), x, c, m_damping, S(1), y);
  }

  /// y = F⁻¹ x = λ⁻¹(x − G M⁻¹ Gᵀx), M = nλI + GᵀG. Cost: two passes + O(n²k).
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(cols(), rows(), x, y);
    const S inv = S(1) / m_damping;
    if (m_n == 0) {
      y = inv * x;
      return;
    }
    Matrix<double> s(m_n, x.cols());
    detail::dots<S>(view(m_n), x, s);
    solve_in_place(s);
    const Matrix<S> c = s.template cast<S>();
    detail::combine<S>(view(m_n), x, c, inv, -inv, y);
  }

  /// diag F = λ + (1/n) Σⱼ G_ij². Cost: one pass.
  Vector<S> diagonal() const {
    Vector<S> r = Vector<S>::Zero(rows());
    if (m_n == 0) return Vector<S>::Constant(rows(), m_damping);
    detail::row_squares<S>(view(m_n), r);
    return ((r / static_cast<S>(m_n)).array() + m_damping).matrix();
  }

 private:
  static constexpr bool half_storage = is_half_precision_v<Storage>;

  static void check_damping(S damping) {
    curvop::detail::require_argument(damping > S(0) && std::isfinite(damping),
                                     "mfac::SlidingWindowFisher", "damping must be > 0 and finite",
                                     damping);
  }
  void check_gradient(const ConstRef<S>& g) const {
    curvop::detail::require_conformant(g.rows() == rows() && g.cols() == 1,
                                       "mfac::SlidingWindowFisher: gradient must be dim x 1", g,
                                       m_w);
    curvop::detail::require_finite(g, "mfac::SlidingWindowFisher::push");
  }

  /// Writes g into `slot` and sets s = Gᵀĝ over the columns held after the push, in one pass.
  void write_and_dot(const ConstRef<S>& g, Index slot, Matrix<double>& s) {
    detail::dots<S>(view(s.rows()), g, s, slot, m_w.col(slot).data(), /*hat_only=*/true);
  }

  detail::WindowView<Storage> view(Index cols) const {
    return {m_w.data(), m_w.rows(), cols, m_w.rows()};
  }
  Index next_slot() const { return m_n < capacity() ? m_n : m_start; }
  Index slot_of_age(Index age) const { return (m_start + age) % capacity(); }
  Index refresh_period() const {
    return m_options.refresh_every > 0 ? m_options.refresh_every : capacity();
  }

  /// Builds L from K: M(p, q) = K(slot p, slot q) + nλ δ_pq in age order.
  Info refactorize() {
    m_since_refresh = 0;
    if (m_n == 0) return m_info = Info::Success;
    Matrix<double> a(m_n, m_n);
    for (Index q = 0; q < m_n; ++q) {
      for (Index p = 0; p < m_n; ++p) a(p, q) = m_k(slot_of_age(p), slot_of_age(q));
    }
    a.diagonal().array() += static_cast<double>(m_n) * static_cast<double>(m_damping);
    m_info = detail::factorize(a, m_l) ? Info::Success : Info::NumericalIssue;
    return m_info;
  }

  /// Records the new gradient in `slot` (already written) with its K row (slot order).
  Info integrate(Index slot, const Eigen::Ref<const Vector<double>>& krow) {
    const Index cols = krow.size();
    for (Index j = 0; j < cols; ++j) {
      m_k(slot, j) = krow(j);
      m_k(j, slot) = krow(j);
    }
    if (m_n < capacity()) {
      ++m_n;
      return refactorize();
    }
    // Full window: the gradient at age 0 (slot m_start) was just replaced.
    const Index m = capacity();
    detail::drop_first(m_l, m);
    m_start = (m_start + 1) % m;
    Vector<double> b(m - 1);
    for (Index p = 0; p + 1 < m; ++p) b(p) = m_k(slot_of_age(p), slot);
    const double c = m_k(slot, slot) + static_cast<double>(m) * static_cast<double>(m_damping);
    if (!detail::append(m_l, m - 1, b, c) || ++m_since_refresh >= refresh_period()) {
      return refactorize();
    }
    return m_info = Info::Success;
  }

  /// s (slot order, n x k) ← M⁻¹ s.
  void solve_in_place(Matrix<double>& s) const {
    Matrix<double> a(m_n, s.cols());
    for (Index p = 0; p < m_n; ++p) a.row(p) = s.row(slot_of_age(p));
    const auto l = m_l.topLeftCorner(m_n, m_n);
    l.template triangularView<Eigen::Lower>().solveInPlace(a);
    l.transpose().template triangularView<Eigen::Upper>().solveInPlace(a);
    for (Index p = 0; p < m_n; ++p) s.row(slot_of_age(p)) = a.row(p);
  }

  Matrix<Storage> m_w;
  Matrix<double> m_k;
  Matrix<double> m_l;
  Index m_n = 0;
  Index m_start = 0;
  Index m_since_refresh = 0;
  S m_damping;
  WindowOptions m_options;
  Info m_info = Info::Success;
};

}  // namespace curvop::mfac

#endif  // CURVOP_MFAC_SLIDING_WINDOW_HPP
