// SPDX-License-Identifier: MIT
// K-FAC for one layer: the damped Kronecker-factored curvature A ⊗ G on vec(W), its inverse,
// EKFAC's eigenvalue correction and KFC's convolution factors.
#ifndef CURVOP_KFAC_KFAC_HPP
#define CURVOP_KFAC_KFAC_HPP

#include <cmath>
#include <curvop/concepts.hpp>
#include <curvop/kfac/covariance.hpp>
#include <curvop/kfac/detail_linalg.hpp>
#include <curvop/kfac/ekfac.hpp>
#include <curvop/kfac/factor.hpp>
#include <curvop/kfac/options.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace curvop::kfac {

/// K-FAC curvature of one layer z = W ã with W of shape d_out × d_in (d_in = in_dim + 1 when
/// `Options::bias`, the bias being W's last column and ã = [a; 1]).
///
/// **Statistics.** From a batch of N activations a_n (rows of `activations`, N × in_dim) and
/// per-example output gradients g_n = ∂ℓ_n/∂z (rows of `output_grads`, N × d_out; the gradient
/// of the example's own loss, *not* of the batch mean: multiply a mean-loss gradient by N),
/// `update` folds the batch statistics
/// \f[ A_b = \frac1N \sum_n \tilde a_n \tilde a_n^T, \qquad G_b = \frac1N \sum_n g_n g_n^T \f]
/// into bias-corrected running averages A, G (`RunningCovariance`, decay `Options::ema`).
/// The Fisher block of vec(W) is approximated by A ⊗ G in DESIGN.md's convention
/// \f$ (A \otimes G)\operatorname{vec}(X) = \operatorname{vec}(G X A) \f$.
///
/// **Convolutions (KFC).** `update_conv` takes im2col patches (N·T × c_in·k_h·k_w, T spatial
/// locations per example) and output gradients (N·T × c_out) and uses kfac-jax's scale:
/// \f$ A_b = \frac{1}{NT}\sum_{n,t} \tilde a_{n,t}\tilde a_{n,t}^T \f$,
/// \f$ G_b = \frac{1}{N}\sum_{n,t} g_{n,t} g_{n,t}^T \f$, i.e. the block is \f$ T\cdot(\bar A
/// \otimes \bar G) \f$ with both factors averaged over the N·T locations, the factor T folded into
/// G (KFC's spatial homogeneity and uncorrelated-derivatives assumptions make this the Fisher of
/// a weight shared over T locations). T = 1 is the dense layer.
///
/// **Damping and inverse.** `compute()` turns A, G into the operator C this object applies:
/// - `Tikhonov` / `PiAdjusted` (see `Damping`): \f$ C = \hat A \otimes \hat G \f$, inverses
///   \f$ \hat A^{-1}, \hat G^{-1} \f$ precomputed by Cholesky, so
///   \f$ C^{-1}\operatorname{vec}(V) = \operatorname{vec}(\hat G^{-1} V \hat A^{-1}) \f$:
///   `apply_inverse` is two GEMMs.
/// - `Exact`: \f$ C = A \otimes G + \lambda I = (Q_A \otimes Q_G)\operatorname{diag}(\operatorname{vec} D)
///   (Q_A \otimes Q_G)^T \f$ with \f$ D = d_G d_A^T + \lambda \f$ (d_out × d_in), and
///   \f$ C^{-1}\operatorname{vec}(V) = \operatorname{vec}(Q_G [(Q_G^T V Q_A) \oslash D] Q_A^T) \f$:
///   four GEMMs.
///
/// **EKFAC, in every damping mode.** `update_eigenvalues` replaces the Kronecker-factored
/// eigenvalues by a running average S of the per-example second moments in the Kronecker
/// eigenbasis \f$ Q_A \otimes Q_G \f$ of the factors of the last `compute()`
/// (`eigenbasis_second_moments`), and from then on C is the corrected operator
/// \f[ C = (Q_A \otimes Q_G)\operatorname{diag}(\operatorname{vec}(S + \lambda))
///     (Q_A \otimes Q_G)^T \f]
/// whatever `Options::mode` is: the correction leaves no Kronecker structure to damp factor by
/// factor, so λ is added to the corrected eigenvalues (George et al. 2018, Alg. 1). `Exact`
/// computes the eigenbasis at every `compute()`; `Tikhonov`/`PiAdjusted` compute it at the first
/// `update_eigenvalues` after a `compute()`, from the damped factors Â = A + δ_A I and
/// Ĝ = G + δ_G I of that `compute()` (a shift by a multiple of I leaves the eigenvectors
/// unchanged; d_A = eig(Â) − δ_A), so plain K-FAC pays nothing for it. `compute()` starts a new
/// basis and drops S, returning to the mode's K-FAC operator until the next
/// `update_eigenvalues`.
///
/// Before the first `compute()` the factors are taken as zero: C = λ I in every mode (and the
/// eigenbasis is the identity).
///
/// **Robustness.** Non-finite input throws `InvalidInput` and changes nothing; wrong shapes throw
/// `DimensionMismatch`; a statistic that overflows, or a factor that cannot be inverted (the
/// ladder: Cholesky, + jitter, in double; for `Exact` the eigensolver in S then in double) gives
/// `Info::NumericalIssue` and the previous operator stays in use, so the output never has a NaN
/// that the input did not have.
///
/// The operator models `InvertibleOperator` (and `DiagonalExtractable`, symmetric) on vectors of
/// length d_out·d_in (k right-hand sides per call, y overwritten; `apply*` are const and
/// thread-safe). `precondition(V)` is the same inverse on the d_out × d_in matrix V.
///
/// **Cost:** `update` N(d_in² + d_out²) flops (two symmetric rank-N updates written in place
/// into the stored lower triangles, `RunningCovariance`); `compute()`
/// O(d_in³ + d_out³); `apply`/`apply_inverse` 2·d_out·d_in·(d_out + d_in)·k flops (factored) or
/// twice that (`Exact`), with d_out·d_in·k (factored) or 2·d_out·d_in·k (`Exact`) scalars of
/// temporaries. Memory: 5 d_in² + 5 d_out² scalars (factors, scratch, damped factors, inverses).
///
/// **Reference:** J. Martens, R. Grosse, "Optimizing Neural Networks with Kronecker-factored
/// Approximate Curvature", ICML 2015 (§6.3: π-damping); R. Grosse, J. Martens, "A
/// Kronecker-factored approximate Fisher matrix for convolution layers", ICML 2016 (KFC);
/// T. George et al., NeurIPS 2018 (EKFAC).
/// \tparam S float or double
template <class S>
class KFac {
 public:
  using Scalar = S;
  static constexpr bool is_symmetric = true;

  /// A layer with `in_dim` inputs (without the bias) and `out_dim` outputs.
  /// Throws `std::invalid_argument` for dimensions < 1 or invalid options.
  KFac(Index in_dim, Index out_dim, Options options = {})
      : m_opts(options), m_in_raw(in_dim), m_out(out_dim) {
    m_opts.validate();
    detail_require_dims(in_dim, out_dim);
    m_in = in_dim + (m_opts.bias ? 1 : 0);
    m_a = RunningCovariance<S>(m_in);
    m_g = RunningCovariance<S>(m_out);
    reset_operator();
  }

  // ---- shape and state -------------------------------------------------------------------

  /// d_out · d_in: the length of vec(W).
  Index rows() const { return m_out * m_in; }
  Index cols() const { return m_out * m_in; }
  /// Inputs without the bias (`in_dim` of the constructor).
  Index in_dim() const { return m_in_raw; }
  /// d_in: columns of W (in_dim + 1 with a bias).
  Index weight_cols() const { return m_in; }
  /// d_out: rows of W.
  Index out_dim() const { return m_out; }
  const Options& options() const { return m_opts; }
  /// Outcome of the last `compute()` (or `update*` that reported a problem).
  Info info() const { return m_info; }

  /// The running average A (d_in × d_in), undamped: a symmetric copy assembled from the stored
  /// lower triangle (`a_statistic().lower()` reads it without a copy).
  Matrix<S> a() const { return m_a.value(); }
  /// The running average G (d_out × d_out), undamped (a copy, as `a()`).
  Matrix<S> g() const { return m_g.value(); }
  /// The running averages with their weights and update counts.
  const RunningCovariance<S>& a_statistic() const { return m_a; }
  const RunningCovariance<S>& g_statistic() const { return m_g; }

  /// Sets λ (validated like `Options::damping`); takes effect at the next `compute()`.
  void set_damping(double damping) {
    Options o = m_opts;
    o.damping = damping;
    o.validate();
    m_opts = o;
  }
  /// λ of the operator currently in use (set at the last successful `compute()`).
  double damping() const { return m_lambda; }

  // ---- mutators --------------------------------------------------------------------------

  /// Folds a dense layer's batch into A and G (see the class comment).
  /// \param activations N × in_dim (one example per row)
  /// \param output_grads N × out_dim, per-example output gradients ∂ℓ_n/∂z
  /// \return `Success`, or `NumericalIssue` when a statistic overflowed (nothing changed).
  /// Throws `DimensionMismatch` (shapes) or `InvalidInput` (non-finite entries), nothing changed.
  [[nodiscard]] Info update(const ConstRef<S>& activations, const ConstRef<S>& output_grads) {
    check_batch("KFac::update", activations, output_grads, 1, false);
    const S inv_n = S(1) / static_cast<S>(activations.rows());
    return fold("KFac::update", activations, output_grads, inv_n, inv_n);
  }

  /// Folds a convolution's batch (KFC): `patches` is N·T × (c_in·k_h·k_w) im2col rows,
  /// example-major (example n owns rows nT … nT + T − 1), `output_grads` N·T × c_out.
  /// A_b = Σ ããᵀ/(N·T), G_b = Σ g gᵀ/N (the class comment explains the scale).
  [[nodiscard]] Info update_conv(const ConstRef<S>& patches, const ConstRef<S>& output_grads,
                                 Index locations) {
    check_batch("KFac::update_conv", patches, output_grads, locations, false);
    const S inv_rows = S(1) / static_cast<S>(patches.rows());
    const S inv_n = static_cast<S>(locations) * inv_rows;
    return fold("KFac::update_conv", patches, output_grads, inv_rows, inv_n);
  }

  /// Replaces the running averages by given factors (e.g. all-reduced across workers), with
  /// weight 1. Each is symmetrised, (F + Fᵀ)/2. Throws `DimensionMismatch` or `InvalidInput`
  /// (non-finite), nothing changed. Call `compute()` to use them.
  void set_factors(const ConstRef<S>& a, const ConstRef<S>& g) {
    curvop::detail::require_conformant(a.rows() == m_in && a.cols() == m_in,
                               "KFac::set_factors: A must be d_in x d_in", a,
                               Matrix<S>(m_in, m_in));
    curvop::detail::require_conformant(g.rows() == m_out && g.cols() == m_out,
                               "KFac::set_factors: G must be d_out x d_out", g,
                               Matrix<S>(m_out, m_out));
    curvop::detail::require_finite(a, "KFac::set_factors (A)");
    curvop::detail::require_finite(g, "KFac::set_factors (G)");
    Matrix<S> as = S(0.5) * (a + a.transpose());
    Matrix<S> gs = S(0.5) * (g + g.transpose());
    m_a.assign(std::move(as));
    m_g.assign(std::move(gs));
  }

  /// Refreshes the damped operator from the current A, G and λ (the rule of `Options::mode`),
  /// dropping any EKFAC correction (the basis changes).
  /// On failure returns `NumericalIssue` and keeps the previous operator (and its λ and S).
  [[nodiscard]] Info compute() {
    m_info = m_opts.mode == Damping::Exact ? compute_exact() : compute_factored();
    return m_info;
  }

  /// EKFAC: folds one batch's per-example second moments in the eigenbasis of the last
  /// `compute()`'s factors into the running scales S (decay `Options::ema`, bias-corrected,
  /// reset by `compute()`), and uses C = (Q_A ⊗ Q_G) diag(vec(S + λ)) (Q_A ⊗ Q_G)ᵀ at once, in
  /// every damping mode (class comment). Arguments as `update` (locations = 1) or
  /// `update_conv` (T > 1). Before the first `compute()` the basis is the identity (S is then
  /// the diagonal empirical Fisher).
  /// \return `Success`; `NumericalIssue` when S overflowed or the factored modes' deferred
  /// eigendecomposition failed (nothing changed). Throws `DimensionMismatch` / `InvalidInput`
  /// (non-finite entries), nothing changed.
  /// **Cost:** the rotations and the scales (`eigenbasis_second_moments`); in the factored modes
  /// the first call after a `compute()` adds the two eigendecompositions, O(d_in³ + d_out³).
  [[nodiscard]] Info update_eigenvalues(const ConstRef<S>& activations,
                                        const ConstRef<S>& output_grads, Index locations = 1) {
    check_batch("KFac::update_eigenvalues", activations, output_grads, locations, true);
    // The factored modes' basis is computed here, once per compute(), and committed together
    // with S below: a failure leaves everything as it was.
    std::shared_ptr<const Matrix<S>> qa = m_qa, qg = m_qg;
    Vector<S> da, dg;
    if (!m_basis_current) {
      detail::Eigh<S> ea = detail::robust_symmetric_eigen<S>(m_ahat->matrix());
      if (ea.info != Info::Success) return Info::NumericalIssue;
      detail::Eigh<S> eg = detail::robust_symmetric_eigen<S>(m_ghat->matrix());
      if (eg.info != Info::Success) return Info::NumericalIssue;
      da = (ea.values.array() - static_cast<S>(m_shift_a)).cwiseMax(S(0));
      dg = (eg.values.array() - static_cast<S>(m_shift_g)).cwiseMax(S(0));
      qa = std::make_shared<const Matrix<S>>(std::move(ea.vectors));
      qg = std::make_shared<const Matrix<S>>(std::move(eg.vectors));
    }
    Matrix<S> sb = eigenbasis_second_moments<S>(activations, output_grads, *qa, *qg, m_opts.bias,
                                                locations);
    const double w = m_opts.ema * m_s_weight + 1.0;
    Matrix<S> s = m_s_weight > 0
                      ? Matrix<S>(static_cast<S>(1.0 - 1.0 / w) * m_s + static_cast<S>(1.0 / w) * sb)
                      : sb;
    if (!s.allFinite()) return Info::NumericalIssue;
    if (!m_basis_current) {
      m_qa = std::move(qa);
      m_qg = std::move(qg);
      m_da = std::move(da);
      m_dg = std::move(dg);
      m_basis_current = true;
    }
    m_s = std::move(s);
    m_s_weight = w;
    set_eigen_scales(m_s, m_lambda);
    m_logdet = m_logdet_exact;
    return Info::Success;
  }

  /// Whether the EKFAC correction is in use (an `update_eigenvalues` since the last successful
  /// `compute`): C is then the corrected operator in every mode.
  bool corrected() const { return m_s_weight > 0; }

  // ---- operator --------------------------------------------------------------------------

  /// y = C x (x: d_out·d_in × k).
  void apply(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    if (eigen_form()) {
      eigen_sandwich(*m_scale, x, y);
    } else {
      sandwich(m_ghat->matrix(), m_ahat->matrix(), x, y);
    }
  }
  /// y = C⁻¹ x: the preconditioned direction (IHVP).
  void apply_inverse(const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    if (eigen_form()) {
      eigen_sandwich(*m_scale_inv, x, y);
    } else {
      sandwich(m_ghat->inverse(), m_ahat->inverse(), x, y);
    }
  }
  /// y += alpha C x.
  void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(rows(), cols(), x, y);
    Matrix<S> t(y.rows(), y.cols());
    apply(x, t);
    y += alpha * t;
  }

  /// The matrix form: out = C⁻¹ vec(V) reshaped, V and out d_out × d_in.
  void precondition(const ConstRef<S>& v, MutRef<S> out) const {
    curvop::detail::require_conformant(v.rows() == m_out && v.cols() == m_in,
                               "KFac::precondition: V must be d_out x d_in", v,
                               Matrix<S>(m_out, m_in));
    curvop::detail::require_conformant(out.rows() == m_out && out.cols() == m_in,
                               "KFac::precondition: output must be d_out x d_in", out,
                               Matrix<S>(m_out, m_in));
    if (eigen_form()) {
      const Matrix<S> t = (m_qg->transpose() * v * (*m_qa)).cwiseProduct(*m_scale_inv);
      out.noalias() = (*m_qg) * t * m_qa->transpose();
    } else {
      const Matrix<S> t = m_ghat->inverse() * v;
      out.noalias() = t * m_ahat->inverse();
    }
  }
  /// Returns C⁻¹ V as a d_out × d_in matrix.
  [[nodiscard]] Matrix<S> precondition(const ConstRef<S>& v) const {
    Matrix<S> out(m_out, m_in);
    precondition(v, out);
    return out;
  }

  /// diag(C), length d_out·d_in (vec order). Factored: diag Â ⊗ diag Ĝ; Exact or EKFAC:
  /// vec(Q_G^{⊙2} D (Q_A^{⊙2})ᵀ). Cost O(d_out·d_in) or two GEMMs.
  Vector<S> diagonal() const { return diagonal_of(false); }
  /// diag(C⁻¹): the per-weight inverse curvature (OBS-style saliencies), same cost.
  Vector<S> inverse_diagonal() const { return diagonal_of(true); }
  /// log det C: d_out·log det Â + d_in·log det Ĝ, or Σ log D (Exact or EKFAC).
  double logdet() const { return m_logdet; }

  // ---- the factors as operators ------------------------------------------------------------

  /// Â (d_in × d_in) with its inverse, for the factored modes: C = kron(Â, Ĝ) in DESIGN.md's
  /// convention. Throws `std::logic_error` when C is not a Kronecker product: in `Exact` mode,
  /// and while the EKFAC correction is in use (`corrected()`).
  const Factor<S>& damped_a() const {
    require_factored("damped_a");
    return *m_ahat;
  }
  /// Ĝ (d_out × d_out) with its inverse (factored modes only).
  const Factor<S>& damped_g() const {
    require_factored("damped_g");
    return *m_ghat;
  }
  /// The diagonal shifts actually added to A and G by the last factored `compute()` (including
  /// any jitter from the fallback ladder).
  double damping_a() const { return m_shift_a; }
  double damping_g() const { return m_shift_g; }
  /// The eigenbasis: eigenvectors Q_A (d_in × d_in) and Q_G (d_out × d_out), eigenvalues
  /// (clamped at 0, ascending), and the undamped scales in that basis (d_G d_Aᵀ, or EKFAC's S),
  /// d_out × d_in. Current in `Exact` mode, and in the factored modes once `update_eigenvalues`
  /// has run after the last `compute()` (before that they describe an earlier basis).
  const Matrix<S>& eigenvectors_a() const { return *m_qa; }
  const Matrix<S>& eigenvectors_g() const { return *m_qg; }
  const Vector<S>& eigenvalues_a() const { return m_da; }
  const Vector<S>& eigenvalues_g() const { return m_dg; }
  Matrix<S> scales() const { return (*m_scale).array() - static_cast<S>(m_lambda); }

 private:
  static void detail_require_dims(Index in_dim, Index out_dim) {
    curvop::detail::require_argument(in_dim >= 1, "kfac::KFac", "in_dim must be >= 1", in_dim);
    curvop::detail::require_argument(out_dim >= 1, "kfac::KFac", "out_dim must be >= 1", out_dim);
  }

  bool exact() const { return m_opts.mode == Damping::Exact; }
  // Whether C is applied in the eigenbasis: Exact mode, or an EKFAC correction in any mode.
  bool eigen_form() const { return exact() || corrected(); }

  void require_factored(const char* what) const {
    if (exact()) {
      throw std::logic_error(std::string("KFac::") + what +
                             ": the damped factors exist only for Tikhonov and PiAdjusted damping");
    }
    if (corrected()) {
      throw std::logic_error(std::string("KFac::") + what +
                             ": the EKFAC-corrected operator is not a Kronecker product (call "
                             "compute() to return to the damped factors)");
    }
  }

  void check_batch(const char* where, const ConstRef<S>& x, const ConstRef<S>& g,
                   Index locations, bool check_finite) const {
    curvop::detail::require_argument(locations >= 1, where, "locations must be >= 1", locations);
    curvop::detail::require_conformant(x.cols() == m_in_raw, std::string(where) +
                                   ": activations must have in_dim columns (in_dim = " +
                                   std::to_string(m_in_raw) + ")",
                               x, g);
    curvop::detail::require_conformant(g.cols() == m_out, std::string(where) +
                                   ": output_grads must have out_dim columns (out_dim = " +
                                   std::to_string(m_out) + ")",
                               x, g);
    curvop::detail::require_conformant(x.rows() == g.rows() && x.rows() >= 1,
                               std::string(where) + ": need the same number (>= 1) of rows", x,
                               g);
    curvop::detail::require_conformant(x.rows() % locations == 0,
                               std::string(where) + ": rows must be a multiple of locations = " +
                                   std::to_string(locations),
                               x, g);
    if (check_finite) {
      curvop::detail::require_finite(x, std::string(where) + " (activations)");
      curvop::detail::require_finite(g, std::string(where) + " (output_grads)");
    }
  }

  Info fold(const char* where, const ConstRef<S>& x, const ConstRef<S>& g, S scale_a,
            S scale_g) {
    // One read of each input decides everything before the state is touched: finiteness
    // (InvalidInput) and whether the in-place SYRKs provably cannot overflow.
    const auto pa = m_a.plan(x, m_opts.bias, scale_a, m_opts.ema);
    const auto pg = m_g.plan(g, false, scale_g, m_opts.ema);
    if (!pa.finite) curvop::detail::require_finite(x, std::string(where) + " (activations)");
    if (!pg.finite) curvop::detail::require_finite(g, std::string(where) + " (output_grads)");
    if (pa.in_place && pg.in_place) {
      m_a.update_in_place(x, m_opts.bias, pa, m_opts.ema);
      m_g.update_in_place(g, false, pg, m_opts.ema);
      return Info::Success;
    }
    // Near overflow: both statistics are formed in scratch before either is committed, so an
    // overflow in either leaves both unchanged.
    if (!m_a.prepare(x, m_opts.bias, pa) || !m_g.prepare(g, false, pg)) {
      m_info = Info::NumericalIssue;
      return m_info;
    }
    m_a.commit(m_opts.ema);
    m_g.commit(m_opts.ema);
    return Info::Success;
  }

  // The operator of zero factors: C = λ I in every mode.
  void reset_operator() {
    m_lambda = m_opts.damping;
    const double sl = std::sqrt(m_lambda);
    m_shift_a = sl;
    m_shift_g = sl;
    m_ahat = std::make_shared<const Factor<S>>(
        Matrix<S>(Matrix<S>::Identity(m_in, m_in) * static_cast<S>(sl)),
        Matrix<S>(Matrix<S>::Identity(m_in, m_in) * static_cast<S>(1.0 / sl)));
    m_ghat = std::make_shared<const Factor<S>>(
        Matrix<S>(Matrix<S>::Identity(m_out, m_out) * static_cast<S>(sl)),
        Matrix<S>(Matrix<S>::Identity(m_out, m_out) * static_cast<S>(1.0 / sl)));
    m_qa = std::make_shared<const Matrix<S>>(Matrix<S>::Identity(m_in, m_in));
    m_qg = std::make_shared<const Matrix<S>>(Matrix<S>::Identity(m_out, m_out));
    m_da = Vector<S>::Zero(m_in);
    m_dg = Vector<S>::Zero(m_out);
    m_basis_current = true;
    set_eigen_scales(Matrix<S>::Zero(m_out, m_in), m_lambda);
    m_logdet = static_cast<double>(rows()) * std::log(m_lambda);
  }

  // D = S + λ and 1/D, and Σ log D into m_logdet_exact (callers decide whether it is C's).
  void set_eigen_scales(const Matrix<S>& s, double lambda) {
    Matrix<S> d = s.array() + static_cast<S>(lambda);
    m_scale_inv = std::make_shared<const Matrix<S>>(d.cwiseInverse());
    m_logdet_exact = d.template cast<double>().array().log().sum();
    m_scale = std::make_shared<const Matrix<S>>(std::move(d));
  }

  Info compute_factored() {
    // The one symmetrisation of the statistics' stored lower triangles.
    const Matrix<S> a = m_a.value();
    const Matrix<S> g = m_g.value();
    const double lambda = m_opts.damping;
    const double sl = std::sqrt(lambda);
    double da = sl, dg = sl;
    if (m_opts.mode == Damping::PiAdjusted) {
      const double ta = static_cast<double>(a.trace()) / static_cast<double>(m_in);
      const double tg = static_cast<double>(g.trace()) / static_cast<double>(m_out);
      const double pi = (ta > 0 && tg > 0 && std::isfinite(ta / tg)) ? std::sqrt(ta / tg) : 1.0;
      da = std::max(pi * sl, m_opts.min_damping);
      dg = std::max(sl / pi, m_opts.min_damping);
    }
    Matrix<S> ad = a;
    ad.diagonal().array() += static_cast<S>(da);
    Matrix<S> gd = g;
    gd.diagonal().array() += static_cast<S>(dg);
    detail::SpdInverse<S> ia = detail::robust_spd_inverse<S>(ad);
    if (ia.info != Info::Success) return Info::NumericalIssue;
    detail::SpdInverse<S> ig = detail::robust_spd_inverse<S>(gd);
    if (ig.info != Info::Success) return Info::NumericalIssue;
    m_shift_a = da + ia.jitter;
    m_shift_g = dg + ig.jitter;
    m_logdet = static_cast<double>(m_out) * ia.logdet + static_cast<double>(m_in) * ig.logdet;
    m_ahat = std::make_shared<const Factor<S>>(std::move(ia.matrix), std::move(ia.inverse));
    m_ghat = std::make_shared<const Factor<S>>(std::move(ig.matrix), std::move(ig.inverse));
    m_lambda = lambda;
    // A new basis (computed on demand by update_eigenvalues); the old scales are stale.
    m_basis_current = false;
    m_s_weight = 0;
    m_s.resize(0, 0);
    return Info::Success;
  }

  Info compute_exact() {
    // The eigensolvers read only the lower triangles, which is all the statistics store.
    detail::Eigh<S> ea = detail::robust_symmetric_eigen<S>(m_a.lower());
    if (ea.info != Info::Success) return Info::NumericalIssue;
    detail::Eigh<S> eg = detail::robust_symmetric_eigen<S>(m_g.lower());
    if (eg.info != Info::Success) return Info::NumericalIssue;
    m_da = ea.values.cwiseMax(S(0));
    m_dg = eg.values.cwiseMax(S(0));
    m_qa = std::make_shared<const Matrix<S>>(std::move(ea.vectors));
    m_qg = std::make_shared<const Matrix<S>>(std::move(eg.vectors));
    m_lambda = m_opts.damping;
    m_s_weight = 0;
    m_s.resize(0, 0);
    m_basis_current = true;
    set_eigen_scales(m_dg * m_da.transpose(), m_lambda);
    m_logdet = m_logdet_exact;
    return Info::Success;
  }

  // y_j = vec(L X_j R) for every column j, with X_j the d_out × d_in reshape of x_j. The left
  // products of all columns are one GEMM when x is contiguous.
  void sandwich(const Matrix<S>& l, const Matrix<S>& r, const ConstRef<S>& x,
                MutRef<S> y) const {
    const Index k = x.cols();
    Matrix<S> t(m_out, m_in * k);
    left_all(l, false, x, t);
    for (Index j = 0; j < k; ++j) {
      Eigen::Map<Matrix<S>> yj(y.col(j).data(), m_out, m_in);
      yj.noalias() = t.middleCols(j * m_in, m_in) * r;
    }
  }

  // y_j = vec(Q_G [(Q_Gᵀ X_j Q_A) ⊙ M] Q_Aᵀ).
  void eigen_sandwich(const Matrix<S>& mult, const ConstRef<S>& x, MutRef<S> y) const {
    const Index k = x.cols();
    Matrix<S> t(m_out, m_in * k);
    left_all(*m_qg, true, x, t);
    Matrix<S> u(m_out, m_in);
    for (Index j = 0; j < k; ++j) {
      u.noalias() = t.middleCols(j * m_in, m_in) * (*m_qa);
      t.middleCols(j * m_in, m_in) = u.cwiseProduct(mult);
    }
    Matrix<S> v(m_out, m_in * k);
    v.noalias() = (*m_qg) * t;
    for (Index j = 0; j < k; ++j) {
      Eigen::Map<Matrix<S>> yj(y.col(j).data(), m_out, m_in);
      yj.noalias() = v.middleCols(j * m_in, m_in) * m_qa->transpose();
    }
  }

  // t = L X (or Lᵀ X) for X = [X_1 … X_k], the reshapes of x's columns.
  void left_all(const Matrix<S>& l, bool transpose, const ConstRef<S>& x, Matrix<S>& t) const {
    const Index k = x.cols();
    if (x.outerStride() == x.rows() || k == 1) {
      Eigen::Map<const Matrix<S>> xall(x.data(), m_out, m_in * k);
      if (transpose) {
        t.noalias() = l.transpose() * xall;
      } else {
        t.noalias() = l * xall;
      }
      return;
    }
    for (Index j = 0; j < k; ++j) {
      Eigen::Map<const Matrix<S>> xj(x.col(j).data(), m_out, m_in);
      if (transpose) {
        t.middleCols(j * m_in, m_in).noalias() = l.transpose() * xj;
      } else {
        t.middleCols(j * m_in, m_in).noalias() = l * xj;
      }
    }
  }

  Vector<S> diagonal_of(bool inverse) const {
    Matrix<S> d(m_out, m_in);
    if (eigen_form()) {
      const Matrix<S> qg2 = m_qg->array().square().matrix();
      const Matrix<S> qa2 = m_qa->array().square().matrix();
      d.noalias() = qg2 * (inverse ? *m_scale_inv : *m_scale) * qa2.transpose();
    } else {
      const Vector<S> da = inverse ? Vector<S>(m_ahat->inverse().diagonal())
                                   : Vector<S>(m_ahat->matrix().diagonal());
      const Vector<S> dg = inverse ? Vector<S>(m_ghat->inverse().diagonal())
                                   : Vector<S>(m_ghat->matrix().diagonal());
      d.noalias() = dg * da.transpose();
    }
    return d.reshaped();
  }

  Options m_opts;
  Index m_in_raw = 0, m_in = 0, m_out = 0;
  RunningCovariance<S> m_a, m_g;
  Info m_info = Info::Success;
  double m_lambda = 0, m_shift_a = 0, m_shift_g = 0, m_logdet = 0, m_logdet_exact = 0;
  // Factored modes. Shared, immutable: copies of a KFac share them until the next compute().
  std::shared_ptr<const Factor<S>> m_ahat, m_ghat;
  // Eigenbasis form (Exact, or EKFAC in any mode): bases, eigenvalues, D = scales + λ and 1/D,
  // and EKFAC's running S. m_basis_current: the basis belongs to the last compute()'s factors
  // (false in the factored modes until update_eigenvalues computes it).
  std::shared_ptr<const Matrix<S>> m_qa, m_qg, m_scale, m_scale_inv;
  Vector<S> m_da, m_dg;
  Matrix<S> m_s;
  double m_s_weight = 0;
  bool m_basis_current = true;
};

}  // namespace curvop::kfac

#endif  // CURVOP_KFAC_KFAC_HPP
