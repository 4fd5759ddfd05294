// SPDX-License-Identifier: MIT
// Counter-based seeded random numbers and probe blocks (Rademacher, Gaussian), reproducible for
// any thread count and any block size.
#ifndef CURVOP_RANDOM_HPP
#define CURVOP_RANDOM_HPP

#include <cmath>
#include <cstdint>
#include <curvop/config.hpp>
#include <numbers>

namespace curvop::random {

/// The splitmix64 finaliser (Steele, Lea, Flood 2014): a bijection of 64-bit words whose outputs
/// for consecutive inputs pass BigCrush. Used here as a counter-based generator:
/// the n-th number of stream `key` is `splitmix64(key + n·γ)` with γ the golden-ratio constant,
/// so any number can be computed without the ones before it.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// A counter-based generator: `bits(n)` is a pure function of (seed, stream, n).
///
/// Two generators with different `stream` numbers and the same seed are independent; use one
/// stream per purpose (probes, sketches, initial vectors) so adding one never shifts another.
class CounterRng {
 public:
  explicit constexpr CounterRng(std::uint64_t seed, std::uint64_t stream = 0) noexcept
      : m_key(splitmix64(seed ^ splitmix64(stream + 0x632BE59BD9B4E019ULL))) {}

  /// 64 random bits for counter n.
  constexpr std::uint64_t bits(std::uint64_t n) const noexcept {
    return splitmix64(m_key + n * 0x9E3779B97F4A7C15ULL);
  }
  /// Uniform in the open interval (0, 1), 53 bits.
  double uniform(std::uint64_t n) const noexcept {
    return (static_cast<double>(bits(n) >> 11) + 0.5) * 0x1.0p-53;
  }
  /// ±1 with probability 1/2 each.
  double rademacher(std::uint64_t n) const noexcept { return (bits(n) >> 63) ? 1.0 : -1.0; }
  /// Standard normal number n: the cosine half (n even) or the sine half (n odd) of the Box–Muller
  /// pair `gaussian_pair(n / 2)`. Entry n depends on nothing but n.
  double gaussian(std::uint64_t n) const noexcept {
    const GaussianPair z = gaussian_pair(n / 2);
    return (n & 1U) != 0 ? z.sine : z.cosine;
  }

  /// Standard normal numbers 2p and 2p + 1 (see `gaussian`) at the cost of one.
  ///
  /// Box–Muller: for independent uniforms u₁, u₂ (counters 2p and 2p + 1), ρ = √(−2 ln u₁) and
  /// θ = 2πu₂ make ρ cos θ and ρ sin θ two independent N(0, 1) numbers (ρ² is χ²₂-distributed and
  /// θ uniform, independent of it). Using both halves halves the logarithms and square roots, and
  /// compilers fuse cos and sin of one angle into one sincos call.
  struct GaussianPair {
    double cosine, sine;
  };
  GaussianPair gaussian_pair(std::uint64_t p) const noexcept {
    const double rho = std::sqrt(-2.0 * std::log(uniform(2 * p)));
    const double theta = 2.0 * std::numbers::pi * uniform(2 * p + 1);
    return {rho * std::cos(theta), rho * std::sin(theta)};
  }

 private:
  std::uint64_t m_key;
};

/// Distribution of probe vectors.
enum class Distribution {
  Rademacher,  ///< entries ±1: E[v vᵀ] = I, minimal variance for Hutchinson on the diagonal
  Gaussian     ///< entries N(0, 1): rotation invariant (needed by XTrace's resphering)
};

namespace detail {
/// Calls fill(j, base_j) for every column j of `out` (n x k), base_j = (first_probe + j)·n being
/// the counter of its first entry; columns are shared among OpenMP threads for large blocks.
template <class S, class F>
void for_each_probe(Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> out,
                    std::uint64_t first_probe, F&& fill) {
  const auto n = static_cast<std::uint64_t>(out.rows());
  const Index k = out.cols();
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(static) if (out.size() > 65536)
#endif
  for (Index j = 0; j < k; ++j) fill(j, (first_probe + static_cast<std::uint64_t>(j)) * n);
}
}  // namespace detail

/// Fills the columns of `out` (n x k) with probes number first_probe, ..., first_probe + k - 1 of
/// the stream (seed, stream). Probe j, entry i is a pure function of (seed, stream, j, i, n): the
/// same whatever the block size k, the order of calls or the thread count.
template <class S>
void fill_probes(Eigen::Ref<Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>> out,
                 Distribution dist, std::uint64_t seed, std::uint64_t first_probe = 0,
                 std::uint64_t stream = 0) {
  const CounterRng rng(seed, stream);
  if (dist == Distribution::Rademacher) {
    detail::for_each_probe<S>(out, first_probe, [&](Index j, std::uint64_t base) {
      for (Index i = 0; i < out.rows(); ++i) {
        out(i, j) = static_cast<S>(rng.rademacher(base + static_cast<std::uint64_t>(i)));
      }
    });
  } else {
    // Whole Box–Muller pairs where both halves land in the column, `gaussian` at odd ends.
    detail::for_each_probe<S>(out, first_probe, [&](Index j, std::uint64_t base) {
      const Index rows = out.rows();
      Index i = 0;
      if ((base & 1U) != 0 && rows > 0) {
        out(0, j) = static_cast<S>(rng.gaussian(base));
        i = 1;
      }
      for (; i + 1 < rows; i += 2) {
        const auto z = rng.gaussian_pair((base + static_cast<std::uint64_t>(i)) / 2);
        out(i, j) = static_cast<S>(z.cosine);
        out(i + 1, j) = static_cast<S>(z.sine);
      }
      if (i < rows) out(i, j) = static_cast<S>(rng.gaussian(base + static_cast<std::uint64_t>(i)));
    });
  }
}

/// Returns k probes of length n (see `fill_probes`).
template <class S>
[[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> probes(
    Index n, Index k, Distribution dist, std::uint64_t seed, std::uint64_t first_probe = 0,
    std::uint64_t stream = 0) {
  Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> out(n, k);
  fill_probes<S>(out, dist, seed, first_probe, stream);
  return out;
}

/// k Rademacher probes of length n.
template <class S>
[[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> rademacher(
    Index n, Index k, std::uint64_t seed, std::uint64_t first_probe = 0) {
  return probes<S>(n, k, Distribution::Rademacher, seed, first_probe);
}

/// k standard Gaussian probes of length n.
template <class S>
[[nodiscard]] Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic> gaussian(
    Index n, Index k, std::uint64_t seed, std::uint64_t first_probe = 0) {
  return probes<S>(n, k, Distribution::Gaussian, seed, first_probe);
}

}  // namespace curvop::random

#endif  // CURVOP_RANDOM_HPP
