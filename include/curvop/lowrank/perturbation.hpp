// SPDX-License-Identifier: MIT
// LowRankPerturbation<S>: EGGROLL's low-rank evolution-strategies perturbations, regenerated from
// (seed, member) instead of stored, applied in O(r(m + n)) per vector.
#ifndef CURVOP_LOWRANK_PERTURBATION_HPP
#define CURVOP_LOWRANK_PERTURBATION_HPP

#include <cmath>
#include <cstdint>
#include <curvop/concepts.hpp>
#include <curvop/random.hpp>
#include <string>

namespace curvop::lowrank {

/// Options of `LowRankPerturbation`.
struct PerturbationOptions {
  double sigma = 1e-2;     ///< σ: the weight perturbation of member i is σ·E_i (> 0)
  bool antithetic = true;  ///< members 2k and 2k + 1 are ±E (mirrored sampling)
  std::uint64_t seed = 0;  ///< seed of the population (one per generation, typically)

  void validate() const {
    curvop::detail::require_argument(std::isfinite(sigma) && sigma > 0,
                                     "lowrank::PerturbationOptions", "sigma must be > 0", sigma);
  }
};

/// A population of rank-r perturbations of an m x n weight matrix, as in EGGROLL:
/// \f[ E_i = \frac{1}{\sqrt r} A_i B_i^T, \qquad A_i \in \mathbb{R}^{m\times r},
///     B_i \in \mathbb{R}^{n\times r} \text{ with i.i.d. } N(0, 1) \text{ entries}, \f]
/// so each entry of E_i has mean 0 and variance 1 for any r (the 1/√r keeps the scale of a
/// full-rank Gaussian perturbation). Member i perturbs W to W + σE_i. Nothing is stored: A_i
/// and B_i are regenerated from (seed, i) by the counter-based generator, bit-identically for
/// any thread count, call order or block size. With `antithetic`, member 2k + 1 is −E_{2k}.
///
/// The evolution-strategies update is the fitness-weighted average
/// \f[ \widehat{\nabla} = \frac{1}{N} \sum_{i} f_i E_i = \frac{1}{N\sqrt r}
///     [f_1 A_1, \dots, f_N A_N]\,[B_1, \dots, B_N]^T, \f]
/// which `accumulate_update` forms as one m x Nr x n GEMM (the estimate of σ·∇ of the smoothed
/// fitness; EGGROLL's step is W ← W + α·that).
///
/// **Cost:** `apply` on k vectors: r(m + n) Gaussian draws + 2r(m + n)k flops, memory r(m + n);
/// `accumulate_update`: N·r(m + n) draws + 2·m·n·N·r flops.
/// **Reference:** B. Sarkar et al., "Evolution strategies at the hyperscale" (EGGROLL), 2025;
/// T. Salimans et al., "Evolution strategies as a scalable alternative to RL", 2017 (antithetic
/// sampling, seed-based reconstruction).
/// \tparam S float or double
template <class S>
class LowRankPerturbation {
 public:
  using Scalar = S;

  /// A population for m x n weights at rank r (1 <= r <= min(m, n)).
  LowRankPerturbation(Index rows, Index cols, Index rank, PerturbationOptions options = {})
      : m_rows(rows), m_cols(cols), m_rank(rank), m_options(options) {
    m_options.validate();
    curvop::detail::require_argument(rows >= 1 && cols >= 1, "lowrank::LowRankPerturbation",
                                     "rows and cols must be >= 1",
                                     std::to_string(rows) + "x" + std::to_string(cols));
    curvop::detail::require_argument(rank >= 1 && rank <= std::min(rows, cols),
                                     "lowrank::LowRankPerturbation",
                                     "rank must be in [1, min(rows, cols)]", rank);
  }

  Index rows() const { return m_rows; }
  Index cols() const { return m_cols; }
  Index rank() const { return m_rank; }
  S sigma() const { return static_cast<S>(m_options.sigma); }
  const PerturbationOptions& options() const { return m_options; }

  /// Regenerates the factors of member i: a = A_i (m x r), b = B_i (n x r), with the antithetic
  /// sign folded into a. E_i = a bᵀ/√r.
  void factors(std::uint64_t member, MutRef<S> a, MutRef<S> b) const {
    CURVOP_ASSERT(a.rows() == m_rows && a.cols() == m_rank && b.rows() == m_cols &&
                      b.cols() == m_rank,
                  "LowRankPerturbation::factors: a must be rows x rank, b cols x rank");
    const std::uint64_t base = m_options.antithetic ? member / 2 : member;
    const auto first = base * static_cast<std::uint64_t>(m_rank);
    random::fill_probes<S>(a, random::Distribution::Gaussian, m_options.seed, first, kStreamA);
    random::fill_probes<S>(b, random::Distribution::Gaussian, m_options.seed, first, kStreamB);
    if (m_options.antithetic && (member % 2 == 1)) a = -a;
  }

  /// y = σ·E_i x (x is n x k, y is m x k): the change of a layer's output under member i.
  void apply(std::uint64_t member, const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(m_rows, m_cols, x, y);
    Matrix<S> a(m_rows, m_rank), b(m_cols, m_rank);
    factors(member, a, b);
    const Matrix<S> t = b.transpose() * x;  // r x k
    y.noalias() = (sigma() / std::sqrt(static_cast<S>(m_rank))) * (a * t);
  }
  /// y += alpha·σ·E_i x: the perturbed forward pass y = W x + σE_i x without forming E_i.
  void apply_add(std::uint64_t member, const ConstRef<S>& x, MutRef<S> y, S alpha) const {
    CURVOP_ASSERT_APPLY(m_rows, m_cols, x, y);
    Matrix<S> a(m_rows, m_rank), b(m_cols, m_rank);
    factors(member, a, b);
    const Matrix<S> t = b.transpose() * x;
    y.noalias() += (alpha * sigma() / std::sqrt(static_cast<S>(m_rank))) * (a * t);
  }
  /// y = σ·E_iᵀ x (x is m x k, y is n x k).
  void apply_transpose(std::uint64_t member, const ConstRef<S>& x, MutRef<S> y) const {
    CURVOP_ASSERT_APPLY(m_cols, m_rows, x, y);
    Matrix<S> a(m_rows, m_rank), b(m_cols, m_rank);
    factors(member, a, b);
    const Matrix<S> t = a.transpose() * x;
    y.noalias() = (sigma() / std::sqrt(static_cast<S>(m_rank))) * (b * t);
  }

  /// The dense unit perturbation E_i (m x n), for tests and small layers. **Cost:** 2·m·n·r.
  [[nodiscard]] Matrix<S> to_dense(std::uint64_t member) const {
    Matrix<S> a(m_rows, m_rank), b(m_cols, m_rank);
    factors(member, a, b);
    return (a * b.transpose()) / std::sqrt(static_cast<S>(m_rank));
  }

  /// out += alpha · (1/N) Σ_{i<N} f_i E_{first + i}, with N = fitness.size(): the population
  /// update, as one GEMM over the stacked factors. Throws `DimensionMismatch` when out is not
  /// m x n or fitness is empty, `InvalidInput` when a fitness is not finite (out unchanged).
  void accumulate_update(const ConstRef<S>& fitness, MutRef<S> out, S alpha,
                         std::uint64_t first_member = 0) const {
    curvop::detail::require_conformant(out.rows() == m_rows && out.cols() == m_cols,
                                       "lowrank::LowRankPerturbation::accumulate_update: out must "
                                       "be rows x cols",
                                       out, fitness);
    curvop::detail::require_conformant(fitness.cols() == 1 && fitness.rows() >= 1,
                                       "lowrank::LowRankPerturbation::accumulate_update: fitness "
                                       "must be a non-empty column",
                                       fitness, fitness);
    curvop::detail::require_finite(fitness, "lowrank::LowRankPerturbation::accumulate_update");
    const Index n = fitness.rows();
    Matrix<S> fa(m_rows, n * m_rank), bs(m_cols, n * m_rank);
    for (Index i = 0; i < n; ++i) {
      factors(first_member + static_cast<std::uint64_t>(i), fa.middleCols(i * m_rank, m_rank),
              bs.middleCols(i * m_rank, m_rank));
      fa.middleCols(i * m_rank, m_rank) *= fitness(i, 0);
    }
    const S c = alpha / (static_cast<S>(n) * std::sqrt(static_cast<S>(m_rank)));
    out.noalias() += c * (fa * bs.transpose());
  }

  /// A view of member i as a `LinearOperator` (y = σE_i x), regenerating its factors in every
  /// `apply`; it holds a pointer to the population, which must outlive it.
  class Member {
   public:
    using Scalar = S;
    Member(const LowRankPerturbation* population, std::uint64_t member)
        : m_pop(population), m_member(member) {}
    Index rows() const { return m_pop->rows(); }
    Index cols() const { return m_pop->cols(); }
    void apply(const ConstRef<S>& x, MutRef<S> y) const { m_pop->apply(m_member, x, y); }
    void apply_add(const ConstRef<S>& x, MutRef<S> y, S alpha) const {
      m_pop->apply_add(m_member, x, y, alpha);
    }
    void apply_transpose(const ConstRef<S>& x, MutRef<S> y) const {
      m_pop->apply_transpose(m_member, x, y);
    }

   private:
    const LowRankPerturbation* m_pop;
    std::uint64_t m_member;
  };
  /// Member i as an operator (see `Member`).
  [[nodiscard]] Member member(std::uint64_t i) const { return Member(this, i); }

 private:
  static constexpr std::uint64_t kStreamA = 0x4547474C41ULL;  // "EGGLA"
  static constexpr std::uint64_t kStreamB = 0x4547474C42ULL;  // "EGGLB"
  Index m_rows, m_cols, m_rank;
  PerturbationOptions m_options;
};

}  // namespace curvop::lowrank

#endif  // CURVOP_LOWRANK_PERTURBATION_HPP
