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
// The vector path needs AVX2, FMA and F16C (x86-64-v3); without them a scalar loop that the
// compiler vectorises computes the same sums. Within one build the result depends only on the
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

/// out[g·K + c] = Σ_i W(i, g) x_c(i) for G columns starting at w (leading dimension ld), K
/// right-hand sides. G·K vector accumulators, one load of each x_c per G columns.
template <int G, int K, class S, class T>
inline void dots_group(const T* w, Index ld, Index rows, const S* const* x, S* out) {
  Index i = 0;
#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
  using L = Lanes<S>;
  typename L::V acc[G][K];
  for (int g = 0; g < G; ++g)
    for (int c = 0; c < K; ++c) acc[g][c] = L::zero();
  for (; i + L::width <= rows; i += L::width) {
    typename L::V xv[K];
    for (int c = 0; c < K; ++c) xv[c] = L::load(x[c] + i);
    for (int g = 0; g < G; ++g) {
      const typename L::V wv = L::load(w + g * ld + i);
      for (int c = 0; c < K; ++c) acc[g][c] = L::fma(wv, xv[c], acc[g][c]);
    }
  }
  for (int g = 0; g < G; ++g)
    for (int c = 0; c < K; ++c) out[g * K + c] = L::sum(acc[g][c]);
#else
  for (int g = 0; g < G; ++g)
    for (int c = 0; c < K; ++c) out[g * K + c] = S(0);
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

/// y(i) += Σ_{g<G} c_g W(i, g) for G columns starting at w.
template <int G, class S, class T>
inline void axpy_group(const T* w, Index ld, Index rows, const S* c, S* y) {
  Index i = 0;
#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
  using L = Lanes<S>;
  typename L::V cv[G];
  for (int g = 0; g < G; ++g) cv[g] = L::broadcast(c[g]);
  for (; i + L::width <= rows; i += L::width) {
    // Two interleaved partial sums halve the dependency chain through y.
    typename L::V s0 = L::load(y + i), s1 = L::zero();
    for (int g = 0; g + 1 < G; g += 2) {
      s0 = L::fma(L::load(w + g * ld + i), cv[g], s0);
      s1 = L::fma(L::load(w + (g + 1) * ld + i), cv[g + 1], s1);
    }
    if constexpr (G % 2 == 1) s0 = L::fma(L::load(w + (G - 1) * ld + i), cv[G - 1], s0);
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
