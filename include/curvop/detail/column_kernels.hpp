// SPDX-License-Identifier: MIT
// Fused kernels over a panel of a tall-skinny column-major matrix: `rows` consecutive rows of m
// columns with leading dimension ld, stored as float, double, Eigen::half or Eigen::bfloat16 and
// computed in S (float or double):
//
//   panel_dots:  out_j   = Σ_i W_ij x_i            (Wᵀx, one or two right-hand sides)
//   panel_axpy:  y_i    += Σ_j W_ij c_j            (W c)
//
// Both read each element of W exactly once, convert it in a register (16-bit storage costs no
// extra pass through memory or cache) and keep the panel's slice of x or y in L1. Columns are
// taken eight (or four) at a time so that one load of x or y serves several columns, with enough
// independent accumulators to hide the FMA latency. These are the inner loops of the O(n·r)
// passes of `LowRankPlusDiagonal` and of the M-FAC windows, where Eigen's GEMV either re-reads y
// once per column panel or needs W converted into a buffer first.
//
// The vector path needs AVX2, FMA and F16C (x86-64-v3); for 16-bit storage it uses 512-bit
// registers where the build targets AVX-512F (x86-64-v4, -march=native on AVX-512 machines).
// Without AVX2 a scalar loop that the compiler vectorises computes the same sums. Within one build the result depends only on the
// panel (never on threads or the caller's blocking), so passes stay bit-reproducible.
#ifndef CURVOP_DETAIL_COLUMN_KERNELS_HPP
#define CURVOP_DETAIL_COLUMN_KERNELS_HPP

#include <Eigen/Core>
#include <cstdint>
#include <curvop/config.hpp>
#include <type_traits>
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>
#define CURVOP_DETAIL_COLUMN_KERNELS_AVX2 1
#endif

namespace curvop::detail {

/// The value of a stored element in the compute scalar S (16-bit types go through float).
template <class S, class T>
inline S stored_value(const T& v) {
  if constexpr (std::is_same_v<T, Eigen::half> || std::is_same_v<T, Eigen::bfloat16>) {
    return static_cast<S>(static_cast<float>(v));
  } else {
    return static_cast<S>(v);
  }
}

#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
/// One AVX register of S and the loads that widen each storage type into it.
template <class S>
struct Lanes;

template <>
struct Lanes<float> {
  using V = __m256;
  static constexpr Index width = 8;
  static V zero() { return _mm256_setzero_ps(); }
  static V broadcast(float a) { return _mm256_set1_ps(a); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static V load(const Eigen::half* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  }
  static V load(const Eigen::bfloat16* p) {
    // A bfloat16 is the upper half of a float: widen to 32 bits and shift (exact).
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(u, 16));
  }
  static float sum(V v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

template <>
struct Lanes<double> {
  using V = __m256d;
  static constexpr Index width = 4;
  static V zero() { return _mm256_setzero_pd(); }
  static V broadcast(double a) { return _mm256_set1_pd(a); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm256_add_pd(a, b); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static V load(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
  static V load(const Eigen::half* p) {
    return _mm256_cvtps_pd(_mm_cvtph_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  static V load(const Eigen::bfloat16* p) {
    const __m128i u = _mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p)));
    return _mm256_cvtps_pd(_mm_castsi128_ps(_mm_slli_epi32(u, 16)));
  }
  static double sum(V v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
  }
};
#endif

#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2) && defined(__AVX512F__)
/// One AVX-512 register of S and its widening loads. Where the build targets AVX-512, the panel
/// kernels use these for 16-bit storage: the same sums with half the instructions per element.
/// At one thread the widening instructions, not the FMAs, had filled the out-of-order window and
/// limited how many cache misses one core kept in flight. Measured on this Zen 4 (M-FAC IHVP,
/// d = 2^20, m = 64, 1 thread, both builds interleaved): bfloat16 15.2/14.8 → 13.6/12.8 ms, half
/// 14.3/13.9 → 12.8/12.7 ms; but a float window went 23.7/22.1 → 27.4/28.6 ms, so float and
/// double storage keep 256-bit registers.
template <class S>
struct Lanes512;

template <>
struct Lanes512<float> {
  using V = __m512;
  static constexpr Index width = 16;
  static V zero() { return _mm512_setzero_ps(); }
  static V broadcast(float a) { return _mm512_set1_ps(a); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static V load(const Eigen::half* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }
  static V load(const Eigen::bfloat16* p) {
    const __m512i u =
        _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    return _mm512_castsi512_ps(_mm512_slli_epi32(u, 16));
  }
  static float sum(V v) {
    return Lanes<float>::sum(
        _mm256_add_ps(_mm512_castps512_ps256(v),
                      _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
};

template <>
struct Lanes512<double> {
  using V = __m512d;
  static constexpr Index width = 8;
  static V zero() { return _mm512_setzero_pd(); }
  static V broadcast(double a) { return _mm512_set1_pd(a); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static V add(V a, V b) { return _mm512_add_pd(a, b); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static V load(const float* p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
  static V load(const Eigen::half* p) {
    return _mm512_cvtps_pd(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static V load(const Eigen::bfloat16* p) {
    const __m256i u = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm512_cvtps_pd(_mm256_castsi256_ps(_mm256_slli_epi32(u, 16)));
  }
  static double sum(V v) {
    return Lanes<double>::sum(
        _mm256_add_pd(_mm512_castpd512_pd256(v), _mm512_extractf64x4_pd(v, 1)));
  }
};

/// The register type of the panel kernels for compute scalar S and storage T: 512-bit for 16-bit
/// storage where the build targets AVX-512, 256-bit otherwise (see `Lanes512`).
template <class S, class T>
using PanelLanes = std::conditional_t<std::is_same_v<T, Eigen::half> ||
                                          std::is_same_v<T, Eigen::bfloat16>,
                                      Lanes512<S>, Lanes<S>>;
#elif defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
template <class S, class T>
using PanelLanes = Lanes<S>;
#endif

/// out[g·K + c] = Σ_i W(i, g) x_c(i) for G columns starting at w (leading dimension ld), K
/// right-hand sides, G·K ≤ 8: one load of each x_c per G columns, G·K independent accumulators.
/// The accumulators are named variables, not an array: GCC keeps an array of vectors in memory
/// and the loop then runs at the speed of store-to-load forwarding (a third of the FMA rate).
template <int G, int K, class S, class T>
inline void dots_group(const T* w, Index ld, Index rows, const S* const* x, S* out) {
  static_assert(G >= 1 && K >= 1 && G * K <= 8, "dots_group: at most eight accumulators");
  Index i = 0;
#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
  using L = PanelLanes<S, T>;
  using V = typename L::V;
  V a0 = L::zero(), a1 = L::zero(), a2 = L::zero(), a3 = L::zero();
  V a4 = L::zero(), a5 = L::zero(), a6 = L::zero(), a7 = L::zero();
  const S* x0 = x[0];
  const S* x1 = K > 1 ? x[1] : x[0];
  for (; i + L::width <= rows; i += L::width) {
    if constexpr (K == 1) {
      const V xv = L::load(x0 + i);
      a0 = L::fma(L::load(w + i), xv, a0);
      if constexpr (G > 1) a1 = L::fma(L::load(w + ld + i), xv, a1);
      if constexpr (G > 2) a2 = L::fma(L::load(w + 2 * ld + i), xv, a2);
      if constexpr (G > 3) a3 = L::fma(L::load(w + 3 * ld + i), xv, a3);
      if constexpr (G > 4) a4 = L::fma(L::load(w + 4 * ld + i), xv, a4);
      if constexpr (G > 5) a5 = L::fma(L::load(w + 5 * ld + i), xv, a5);
      if constexpr (G > 6) a6 = L::fma(L::load(w + 6 * ld + i), xv, a6);
      if constexpr (G > 7) a7 = L::fma(L::load(w + 7 * ld + i), xv, a7);
    } else {
      static_assert(K == 2, "dots_group: one or two right-hand sides");
      const V xa = L::load(x0 + i), xb = L::load(x1 + i);
      const V v0 = L::load(w + i);
      a0 = L::fma(v0, xa, a0);
      a1 = L::fma(v0, xb, a1);
      if constexpr (G > 1) {
        const V v1 = L::load(w + ld + i);
        a2 = L::fma(v1, xa, a2);
        a3 = L::fma(v1, xb, a3);
      }
      if constexpr (G > 2) {
        const V v2 = L::load(w + 2 * ld + i);
        a4 = L::fma(v2, xa, a4);
        a5 = L::fma(v2, xb, a5);
      }
      if constexpr (G > 3) {
        const V v3 = L::load(w + 3 * ld + i);
        a6 = L::fma(v3, xa, a6);
        a7 = L::fma(v3, xb, a7);
      }
    }
  }
  const V acc[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
  for (int q = 0; q < G * K; ++q) out[q] = L::sum(acc[q]);
#else
  for (int q = 0; q < G * K; ++q) out[q] = S(0);
#endif
  for (; i < rows; ++i) {
    for (int g = 0; g < G; ++g) {
      const S wv = stored_value<S>(w[g * ld + i]);
      for (int c = 0; c < K; ++c) out[g * K + c] += wv * x[c][i];
    }
  }
}

/// out (m x K, column-major with leading dimension ldo) = W_panelᵀ [x_0 … x_{K-1}] for the
/// panel of `rows` rows and m columns at w; K is 1 or 2.
template <int K, class S, class T>
inline void panel_dots(const T* w, Index ld, Index rows, Index m, const S* const* x, S* out,
                       Index ldo) {
  static_assert(K == 1 || K == 2, "panel_dots: one or two right-hand sides");
  constexpr int G = K == 1 ? 8 : 4;
  S part[G * K];
  Index j = 0;
  for (; j + G <= m; j += G) {
    dots_group<G, K>(w + j * ld, ld, rows, x, part);
    for (int g = 0; g < G; ++g)
      for (int c = 0; c < K; ++c) out[c * ldo + j + g] = part[g * K + c];
  }
  for (; j < m; ++j) {
    dots_group<1, K>(w + j * ld, ld, rows, x, part);
    for (int c = 0; c < K; ++c) out[c * ldo + j] = part[c];
  }
}

/// y(i) += Σ_{g<G} c_g W(i, g) for G ≤ 8 columns starting at w (coefficients in named
/// registers, for the reason given at `dots_group`).
template <int G, class S, class T>
inline void axpy_group(const T* w, Index ld, Index rows, const S* c, S* y) {
  static_assert(G >= 1 && G <= 8, "axpy_group: at most eight columns");
  Index i = 0;
#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
  using L = PanelLanes<S, T>;
  using V = typename L::V;
  const V c0 = L::broadcast(c[0]);
  const V c1 = L::broadcast(G > 1 ? c[1] : S(0));
  const V c2 = L::broadcast(G > 2 ? c[2] : S(0));
  const V c3 = L::broadcast(G > 3 ? c[3] : S(0));
  const V c4 = L::broadcast(G > 4 ? c[4] : S(0));
  const V c5 = L::broadcast(G > 5 ? c[5] : S(0));
  const V c6 = L::broadcast(G > 6 ? c[6] : S(0));
  const V c7 = L::broadcast(G > 7 ? c[7] : S(0));
  for (; i + L::width <= rows; i += L::width) {
    // Two interleaved partial sums halve the dependency chain through y.
    V s0 = L::fma(L::load(w + i), c0, L::load(y + i));
    V s1 = L::zero();
    if constexpr (G > 1) s1 = L::fma(L::load(w + ld + i), c1, s1);
    if constexpr (G > 2) s0 = L::fma(L::load(w + 2 * ld + i), c2, s0);
    if constexpr (G > 3) s1 = L::fma(L::load(w + 3 * ld + i), c3, s1);
    if constexpr (G > 4) s0 = L::fma(L::load(w + 4 * ld + i), c4, s0);
    if constexpr (G > 5) s1 = L::fma(L::load(w + 5 * ld + i), c5, s1);
    if constexpr (G > 6) s0 = L::fma(L::load(w + 6 * ld + i), c6, s0);
    if constexpr (G > 7) s1 = L::fma(L::load(w + 7 * ld + i), c7, s1);
    L::store(y + i, L::add(s0, s1));
  }
#endif
  for (; i < rows; ++i) {
    S s = y[i];
    for (int g = 0; g < G; ++g) s += c[g] * stored_value<S>(w[g * ld + i]);
    y[i] = s;
  }
}

/// y += W_panel c for the panel of `rows` rows and m columns at w (one right-hand side).
template <class S, class T>
inline void panel_axpy(const T* w, Index ld, Index rows, Index m, const S* c, S* y) {
  Index j = 0;
  for (; j + 8 <= m; j += 8) axpy_group<8>(w + j * ld, ld, rows, c + j, y);
  for (; j + 4 <= m; j += 4) axpy_group<4>(w + j * ld, ld, rows, c + j, y);
  for (; j < m; ++j) axpy_group<1>(w + j * ld, ld, rows, c + j, y);
}

}  // namespace curvop::detail

#endif  // CURVOP_DETAIL_COLUMN_KERNELS_HPP
