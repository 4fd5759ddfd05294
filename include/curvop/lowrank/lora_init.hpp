// SPDX-License-Identifier: MIT
// Gradient-informed LoRA initialisations (LoRA-GA, LoRA-One) and the standard LoRA initialisation
// they are compared against.
#ifndef CURVOP_LOWRANK_LORA_INIT_HPP
#define CURVOP_LOWRANK_LORA_INIT_HPP

#include <Eigen/SVD>
#include <cmath>
#include <cstdint>
#include <curvop/lowrank/randomized_svd.hpp>
#include <curvop/random.hpp>
#include <string>

namespace curvop::lowrank {

/// LoRA adapters for a weight W (m x n, out x in): the adapted layer uses
/// \f$ W_{\mathrm{eff}} = W + s\, B A \f$ with B (m x r), A (r x n) and s = `scaling` (the LoRA
/// multiplier, α/r in LoRA, α/√r in rsLoRA).
template <class S>
struct LoraInit {
  Matrix<S> a;  ///< A, r x n
  Matrix<S> b;  ///< B, m x r
  S scaling = S(1);  ///< s
  /// True when the method subtracts s·B·A from W so that the initial output is unchanged
  /// (LoRA-GA); false when W is left as is (LoRA-One, standard LoRA whose B = 0).
  bool offset_required = false;
  /// The singular values of the gradient that the initialisation used (empty for standard LoRA).
  Vector<S> singular_values;
  /// `Success`, or `NumericalIssue` when the SVD failed (the factors are then unusable).
  Info info = Info::Success;

  /// The change to add to W: −s·B·A when `offset_required`, else zero (m x n).
  /// **Cost:** 2·m·n·r flops.
  [[nodiscard]] Matrix<S> weight_offset() const {
    if (!offset_required) return Matrix<S>::Zero(b.rows(), a.cols());
    return -scaling * (b * a);
  }
  /// W += `weight_offset()` in place, without the m x n temporary.
  void fold_into(MutRef<S> w) const {
    curvop::detail::require_conformant(w.rows() == b.rows() && w.cols() == a.cols(),
                                       "lowrank::LoraInit::fold_into: W must be m x n", w,
                                       detail::Shape{b.rows(), a.cols()});
    if (offset_required) w.noalias() -= scaling * (b * a);
  }
};

/// How the singular vectors of the gradient are computed.
enum class SvdMethod {
  Exact,      ///< Eigen's BDCSVD of G: O(m·n·min(m, n))
  Randomized  ///< `randomized_svd` (as the references, which call `torch.svd_lowrank`)
};

/// The two published LoRA-GA scalings (REFERENCES.md: they do not produce the same adapters).
enum class LoraGaConvention {
  /// The authors' code (Outsider565/LoRA-GA): A = c·V_{:,1:r}ᵀ, B = c·U_{:,r+1:2r},
  /// c = m^{1/4}/√γ, no singular values. The first SGD step of the adapters then moves W_eff
  /// along −η s² c² G_{2r}, the best rank-2r approximation of G: this is the paper's claim and
  /// what the tests check. Default, and the oracle of this library.
  Original,
  /// Upstream PEFT (huggingface/peft `lora_ga_init`): A = V_{:,1:r}ᵀ, B = c·U_{:,r+1:2r}
  /// diag(σ_{r+1..2r}).
  Peft
};

/// Options of `lora_ga_init`.
struct LoraGaOptions {
  double scaling = 1.0;  ///< s, the LoRA multiplier (> 0)
  double gamma = 16.0;   ///< γ of the "stable" scale c = m^{1/4}/√γ (> 0); reference default 16
  LoraGaConvention convention = LoraGaConvention::Original;
  SvdMethod svd = SvdMethod::Randomized;
  RandomizedSvdOptions randomized{};  ///< used when svd = Randomized

  void validate() const {
    curvop::detail::require_argument(std::isfinite(scaling) && scaling > 0,
                                     "lowrank::LoraGaOptions", "scaling must be > 0", scaling);
    curvop::detail::require_argument(std::isfinite(gamma) && gamma > 0, "lowrank::LoraGaOptions",
                                     "gamma must be > 0", gamma);
    randomized.validate();
  }
};

/// Options of `lora_one_init`.
struct LoraOneOptions {
  double scaling = 1.0;  ///< s, the LoRA multiplier (> 0)
  double gamma = 128.0;  ///< γ of the "stable" scale (> 0); reference default 128
  SvdMethod svd = SvdMethod::Randomized;
  RandomizedSvdOptions randomized{};  ///< used when svd = Randomized

  void validate() const {
    curvop::detail::require_argument(std::isfinite(scaling) && scaling > 0,
                                     "lowrank::LoraOneOptions", "scaling must be > 0", scaling);
    curvop::detail::require_argument(std::isfinite(gamma) && gamma > 0,
                                     "lowrank::LoraOneOptions", "gamma must be > 0", gamma);
    randomized.validate();
  }
};

namespace detail {

template <class S>
SvdResult<S> gradient_svd(const ConstRef<S>& g, Index k, SvdMethod method,
                          const RandomizedSvdOptions& ro) {
  if (method == SvdMethod::Randomized) return randomized_svd(g, k, ro);
  SvdResult<S> out;
  Eigen::BDCSVD<Matrix<S>> svd(g, Eigen::ComputeThinU | Eigen::ComputeThinV);
  if (svd.info() != Eigen::Success) {
    out.info = Info::NumericalIssue;
    return out;
  }
  out.u = svd.matrixU().leftCols(k);
  out.s = svd.singularValues().head(k);
  out.v = svd.matrixV().leftCols(k);
  return out;
}

template <class S>
void check_lora_args(const ConstRef<S>& g, Index rank, Index needed, const char* where) {
  curvop::detail::require_argument(rank >= 1, where, "rank must be >= 1", rank);
  const Index mn = std::min(g.rows(), g.cols());
  curvop::detail::require_argument(
      needed <= mn, where,
      "rank must satisfy " + std::string(needed == rank ? "r" : "2r") +
          " <= min(rows, cols) = " + std::to_string(mn),
      rank);
  curvop::detail::require_finite(g, where);
}

}  // namespace detail

/// LoRA-GA: adapters whose first update follows the full gradient's best low-rank direction.
///
/// With G = ∇_W L (m x n, averaged over a few batches) and its SVD G = U Σ Vᵀ, and
/// c = m^{1/4}/√γ (`Original` convention):
/// \f[ A = c\,V_{:,1:r}^T, \quad B = c\,U_{:,r+1:2r}, \quad W \leftarrow W - s B A. \f]
/// The adapters' gradients are ∂L/∂A = s BᵀG and ∂L/∂B = s G Aᵀ, so one SGD step of rate η
/// changes W_eff by −η s² (BBᵀG + GAᵀA) + O(η²) = −η s² c² (U_{r+1:2r}U_{r+1:2r}ᵀ G + G V_{1:r}V_{1:r}ᵀ)
/// = −η s² c² G_{2r}, the rank-2r truncated SVD of G: the first step of LoRA is the best
/// rank-2r approximation of the first step of full fine-tuning. `offset_required` is true: fold
/// −s·B·A into W (`fold_into`) so that the initial output is unchanged. `Peft` convention: see
/// `LoraGaConvention`.
///
/// \param g     the gradient, m x n (finite; else `InvalidInput`)
/// \param rank  r, with 2r <= min(m, n) (else `std::invalid_argument`)
///
/// **Cost:** one (randomized) SVD of G at rank 2r, plus O((m + n)·r).
/// **Reference:** S. Wang, L. Yu, J. Li, "LoRA-GA: Low-rank adaptation with gradient
/// approximation", NeurIPS 2024; code Outsider565/LoRA-GA and huggingface/peft (`lora_ga_init`).
template <class S>
[[nodiscard]] LoraInit<S> lora_ga_init(const ConstRef<S>& g, Index rank,
                                       const LoraGaOptions& options = {}) {
  options.validate();
  detail::check_lora_args<S>(g, rank, 2 * rank, "lowrank::lora_ga_init");
  LoraInit<S> out;
  out.scaling = static_cast<S>(options.scaling);
  out.offset_required = true;
  SvdResult<S> svd = detail::gradient_svd<S>(g, 2 * rank, options.svd, options.randomized);
  if (svd.info != Info::Success) {
    out.info = svd.info;
    return out;
  }
  const S c = static_cast<S>(std::pow(static_cast<double>(g.rows()), 0.25) /
                             std::sqrt(options.gamma));
  out.singular_values = svd.s;
  if (options.convention == LoraGaConvention::Original) {
    out.a = c * svd.v.leftCols(rank).transpose();
    out.b = c * svd.u.middleCols(rank, rank);
  } else {
    out.a = svd.v.leftCols(rank).transpose();
    out.b = c * (svd.u.middleCols(rank, rank) * svd.s.segment(rank, rank).asDiagonal());
  }
  return out;
}

/// LoRA-One: adapters equal to one rank-r step of full-batch gradient descent.
///
/// With the SVD of −G = U Σ Vᵀ (σ₁ the largest singular value):
/// \f[ B = \frac{U_r \sqrt{Σ_r}}{\sqrt{σ_1 γ}}, \qquad A = \frac{\sqrt{Σ_r} V_r^T}{\sqrt{σ_1 γ}},
///     \qquad s B A = -\frac{s}{γ σ_1} G_r, \f]
/// so W_eff = W − (s/(γσ₁)) G_r is one gradient step restricted to the best rank-r subspace,
/// and B and A are balanced (BᵀB = AAᵀ = Σ_r/(γσ₁)). W is not modified (`offset_required` is
/// false). The reference's README writes Diag(S) where its code uses √S/√σ₁; this follows the
/// code.
///
/// \param g     the gradient, m x n (finite; else `InvalidInput`)
/// \param rank  r, 1 <= r <= min(m, n)
///
/// **Cost:** one (randomized) SVD of G at rank r, plus O((m + n)·r).
/// **Reference:** Y. Zhang, F. Liu, Y. Chen, "One-step full gradient suffices for low-rank
/// fine-tuning, provably and efficiently" (LoRA-One), ICML 2025; code YuanheZ/LoRA-One.
template <class S>
[[nodiscard]] LoraInit<S> lora_one_init(const ConstRef<S>& g, Index rank,
                                        const LoraOneOptions& options = {}) {
  options.validate();
  detail::check_lora_args<S>(g, rank, rank, "lowrank::lora_one_init");
  LoraInit<S> out;
  out.scaling = static_cast<S>(options.scaling);
  out.offset_required = false;
  // SVD of G and negate U: the SVD of −G is (−U) Σ Vᵀ.
  SvdResult<S> svd = detail::gradient_svd<S>(g, rank, options.svd, options.randomized);
  if (svd.info != Info::Success) {
    out.info = svd.info;
    return out;
  }
  out.singular_values = svd.s;
  out.a.resize(rank, g.cols());
  out.b.resize(g.rows(), rank);
  const double s1 = static_cast<double>(svd.s(0));
  if (!(s1 > 0)) {  // G = 0: no direction; LoRA-One then reduces to zero adapters
    out.a.setZero();
    out.b.setZero();
    return out;
  }
  const Vector<S> w =
      (svd.s.template cast<double>().array() / (s1 * options.gamma)).sqrt().matrix().template cast<S>();
  out.b = -(svd.u * w.asDiagonal());
  out.a = w.asDiagonal() * svd.v.transpose();
  return out;
}

/// The standard LoRA initialisation (Hu et al. 2021, PEFT default): B = 0 and A with entries
/// uniform in [−1/√n, 1/√n] (PyTorch's Kaiming-uniform with a = √5 on an r x n matrix), drawn
/// from the counter-based generator with `seed`. The initial output is unchanged because B = 0.
/// \param m, n  shape of W; \param rank r, 1 <= r <= min(m, n)
/// **Cost:** O(r·n).
template <class S>
[[nodiscard]] LoraInit<S> lora_standard_init(Index m, Index n, Index rank, double scaling = 1.0,
                                             std::uint64_t seed = 0) {
  curvop::detail::require_argument(m >= 1 && n >= 1, "lowrank::lora_standard_init",
                                   "m and n must be >= 1",
                                   std::to_string(m) + "x" + std::to_string(n));
  curvop::detail::require_argument(rank >= 1 && rank <= std::min(m, n),
                                   "lowrank::lora_standard_init",
                                   "rank must be in [1, min(m, n)]", rank);
  curvop::detail::require_argument(std::isfinite(scaling) && scaling > 0,
                                   "lowrank::lora_standard_init", "scaling must be > 0", scaling);
  LoraInit<S> out;
  out.scaling = static_cast<S>(scaling);
  out.b = Matrix<S>::Zero(m, rank);
  out.a.resize(rank, n);
  const random::CounterRng rng(seed, 0x4C4F5241ULL);  // "LORA"
  const double bound = 1.0 / std::sqrt(static_cast<double>(n));
  for (Index j = 0; j < n; ++j) {
    for (Index i = 0; i < rank; ++i) {
      const auto c = static_cast<std::uint64_t>(j * rank + i);
      out.a(i, j) = static_cast<S>(bound * (2.0 * rng.uniform(c) - 1.0));
    }
  }
  return out;
}

}  // namespace curvop::lowrank

#endif  // CURVOP_LOWRANK_LORA_INIT_HPP
