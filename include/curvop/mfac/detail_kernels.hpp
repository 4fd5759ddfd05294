// SPDX-License-Identifier: MIT
// Internals of M-FAC: the O(d·m) passes over a gradient window (d x m, column-major, one gradient
// per column) in float, double, bfloat16 or half storage, row-blocked and optionally OpenMP-split.
//
// Every pass walks the rows of the window in chunks of `chunk_rows(d)` rows, so that the slice of
// the d-long vectors it touches (x for Wᵀx, y for W c) stays in L1 while all m columns stream by:
// each window element is read exactly once and each vector element once (Eigen's column-major
// GEMV re-reads y once per column, twice the traffic at m = 64).
//
// Reductions (Wᵀx) are deterministic: the chunks are grouped into a fixed number of super-chunks
// that depends on (d, m) only, each super-chunk sums its chunks in order into a double
// accumulator, and the super-chunks are summed in order. The result is therefore bit-for-bit the
// same for any thread count, and the long sums are accumulated blockwise in double: float
// storage loses no digits to a d = 10⁶ recursion.
//
// With one or two vectors (the optimizer's and the IHVP's case) the chunk goes through the fused
// kernels of curvop/detail/column_kernels.hpp, which convert 16-bit storage in registers: a pass
// moves 2 bytes per element and nothing else. With more right-hand sides, float and double
// windows use Eigen's products and 16-bit windows convert one column segment (chunk_rows values,
// a few KiB) into an L1 buffer at a time.
#ifndef CURVOP_MFAC_DETAIL_KERNELS_HPP
#define CURVOP_MFAC_DETAIL_KERNELS_HPP

#include <Eigen/Core>
#include <algorithm>
#include <bit>
#include <concepts>
#include <cstdint>
#include <curvop/config.hpp>
#include <curvop/detail/column_kernels.hpp>
#include <type_traits>
#include <vector>
#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

namespace curvop::mfac {

/// True for the 16-bit storage types of a gradient window (`Eigen::bfloat16`, `Eigen::half`).
template <class T>
inline constexpr bool is_half_precision_v =
    std::is_same_v<T, Eigen::bfloat16> || std::is_same_v<T, Eigen::half>;

/// Storage types a gradient window accepts: float, double, `Eigen::bfloat16`, `Eigen::half`.
template <class T>
concept WindowStorage = std::floating_point<T> || is_half_precision_v<T>;

}  // namespace curvop::mfac

namespace curvop::mfac::detail {

static_assert(sizeof(Eigen::bfloat16) == 2 && std::is_standard_layout_v<Eigen::bfloat16>);
static_assert(sizeof(Eigen::half) == 2 && std::is_standard_layout_v<Eigen::half>);

/// Rows per chunk of a pass: 8192 rows keep a 32 KiB (float) slice of x / y in L1/L2 and give
/// each column segment 16-32 KiB of contiguous memory for the hardware prefetchers (measured at
/// d = 2^20, m = 64: 2048 rows reached 0.83 of the read roof at 1 thread, 8192 rows 1.0).
/// Small d uses one chunk.
inline Index chunk_rows(Index d) { return std::max<Index>(1, std::min<Index>(d, 8192)); }

/// Number of super-chunks of the deterministic reduction (a function of the chunk count only).
inline Index super_chunks(Index chunks) { return std::min<Index>(chunks, 32); }

/// dst[i] = S(src[i]) for i < n, vectorised for the 16-bit types.
template <class S, class T>
inline void load(const T* src, S* dst, Index n) {
  if constexpr (std::is_same_v<T, Eigen::bfloat16>) {
    // A bfloat16 is the top half of a float: shift the bits up (exact).
    const auto* p = reinterpret_cast<const std::uint16_t*>(src);
    for (Index i = 0; i < n; ++i) {
      const float f = std::bit_cast<float>(static_cast<std::uint32_t>(p[i]) << 16);
      dst[i] = static_cast<S>(f);
    }
  } else if constexpr (std::is_same_v<T, Eigen::half>) {
    Index i = 0;
#if defined(__F16C__) && defined(__AVX__)
    if constexpr (std::is_same_v<S, float>) {
      for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
      }
    }
#endif
    for (; i < n; ++i) dst[i] = static_cast<S>(static_cast<float>(src[i]));
  } else {
    for (Index i = 0; i < n; ++i) dst[i] = static_cast<S>(src[i]);
  }
}

/// dst[i] = T(src[i]) rounded to nearest even, for finite src.
template <class T, class S>
inline void store(const S* src, T* dst, Index n) {
  if constexpr (std::is_same_v<T, Eigen::bfloat16>) {
    auto* p = reinterpret_cast<std::uint16_t*>(dst);
    for (Index i = 0; i < n; ++i) {
      // Round to nearest even on the 16 dropped bits (inputs are finite: checked by the caller).
      const std::uint32_t u = std::bit_cast<std::uint32_t>(static_cast<float>(src[i]));
      p[i] = static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
    }
  } else if constexpr (std::is_same_v<T, Eigen::half>) {
    Index i = 0;
#if defined(__F16C__) && defined(__AVX__)
    if constexpr (std::is_same_v<S, float>) {
      for (; i + 8 <= n; i += 8) {
        const __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i), h);
      }
    }
#endif
    for (; i < n; ++i) dst[i] = Eigen::half(static_cast<float>(src[i]));
  } else {
    for (Index i = 0; i < n; ++i) dst[i] = static_cast<T>(src[i]);
  }
}

/// A read-only view of the first `cols` columns of a column-major window (leading dimension ld).
template <class T>
struct WindowView {
  const T* data;
  Index rows;
  Index cols;
  Index ld;
  const T* col(Index j) const { return data + j * ld; }
};

/// Runs body(r0, rows, super) over every chunk, grouped in super-chunks; super-chunks run in
/// parallel with OpenMP (static schedule), chunks of one super-chunk in order.
template <class Body>
void for_chunks(Index d, Body&& body) {
  const Index r = chunk_rows(d);
  const Index chunks = (d + r - 1) / r;
  const Index supers = super_chunks(chunks);
#if defined(CURVOP_USE_OPENMP)
#pragma omp parallel for schedule(static) if (supers > 1 && d >= 16384)
#endif
  for (Index s = 0; s < supers; ++s) {
    const Index c0 = s * chunks / supers, c1 = (s + 1) * chunks / supers;
    for (Index c = c0; c < c1; ++c) {
      const Index r0 = c * r;
      body(r0, std::min(r, d - r0), s);
    }
  }
}

/// out = Wᵀ X (cols x k, double), accumulated per chunk in S and across chunks in double.
/// Deterministic for any thread count. `xhat_col`, when >= 0, names a column of W whose own
/// converted values are used as one extra right-hand side (the stored copy of a gradient just
/// written): then out has k + 1 columns and the last is Wᵀ w_{xhat_col}.
/// `write`, when not null, is a column of W (one of the `cols` read) into which x.col(0) is
/// stored, converted to T, chunk by chunk just before the chunk is read: the fused push, one pass.
/// `hat_only` skips the products with x (out then has the one column Wᵀ w_{xhat_col}).
template <class S, class T>
void dots(const WindowView<T>& w, const ConstRef<S>& x, Eigen::Ref<Matrix<double>> out,
          Index xhat_col = -1, T* write = nullptr, bool hat_only = false) {
  const Index m = w.cols, k = hat_only ? 0 : x.cols();
  const Index kk = k + (xhat_col >= 0 ? 1 : 0);
  CURVOP_ASSERT(out.rows() == m && out.cols() == kk, "mfac::dots: output shape");
  if (m == 0) return;
  const Index d = w.rows;
  const Index r = chunk_rows(d);
  const Index supers = super_chunks((d + r - 1) / r);
  std::vector<Matrix<double>> acc(static_cast<std::size_t>(supers));
  for_chunks(d, [&](Index r0, Index rows, Index s) {
    Matrix<double>& a = acc[static_cast<std::size_t>(s)];
    if (a.size() == 0) a.setZero(m, kk);
    if (write != nullptr) store(x.col(0).data() + r0, write + r0, rows);
    if (kk <= 2 && k <= 1) {
      // One or two vectors (x and/or the stored gradient): the fused kernel converts 16-bit
      // storage in registers and reads the window once.
      Vector<S> hat;
      const S* rhs[2] = {nullptr, nullptr};
      if (k == 1) rhs[0] = x.col(0).data() + r0;
      if (kk > k) {
        hat.resize(rows);
        load(w.col(xhat_col) + r0, hat.data(), rows);
        rhs[k] = hat.data();
      }
      Matrix<S> part(m, kk);
      if (kk == 1) {
        curvop::detail::panel_dots<1>(w.data + r0, w.ld, rows, m, rhs, part.data(), m);
      } else {
        curvop::detail::panel_dots<2>(w.data + r0, w.ld, rows, m, rhs, part.data(), m);
      }
      a += part.template cast<double>();
    } else if constexpr (!is_half_precision_v<T> && std::is_same_v<S, T>) {
      const Eigen::Map<const Matrix<S>, 0, Eigen::OuterStride<>> wc(w.data + r0, rows, m,
                                                                   Eigen::OuterStride<>(w.ld));
      Matrix<S> part(m, kk);
      if (k > 0) part.leftCols(k).noalias() = wc.transpose() * x.middleRows(r0, rows);
      if (kk > k) part.col(k).noalias() = wc.transpose() * wc.col(xhat_col);
      a += part.template cast<double>();
    } else {
      // Column at a time: convert a segment into an L1 buffer, then dot it with each rhs.
      Vector<S> buf(rows), hat;
      if (kk > k) {
        hat.resize(rows);
        load(w.col(xhat_col) + r0, hat.data(), rows);
      }
      for (Index j = 0; j < m; ++j) {
        load(w.col(j) + r0, buf.data(), rows);
        for (Index c = 0; c < k; ++c) a(j, c) += static_cast<double>(buf.dot(x.col(c).segment(r0, rows)));
        if (kk > k) a(j, k) += static_cast<double>(buf.dot(hat));
      }
    }
  });
  out.setZero();
  for (const auto& a : acc) {
    if (a.size() != 0) out += a;
  }
}

/// Y = a·X + b·W C (X, Y: d x k; C: cols x k). Each chunk of Y is written once.
template <class S, class T>
void combine(const WindowView<T>& w, const ConstRef<S>& x, const ConstRef<S>& c, S a, S b,
             MutRef<S> y) {
  const Index m = w.cols, k = x.cols();
  const Vector<S> bc = k == 1 ? Vector<S>(b * c.col(0)) : Vector<S>();
  for_chunks(w.rows, [&](Index r0, Index rows, Index) {
    auto yc = y.middleRows(r0, rows);
    yc.noalias() = a * x.middleRows(r0, rows);
    if (m == 0) return;
    if (k == 1) {
      curvop::detail::panel_axpy(w.data + r0, w.ld, rows, m, bc.data(), y.col(0).data() + r0);
    } else if constexpr (!is_half_precision_v<T> && std::is_same_v<S, T>) {
      const Eigen::Map<const Matrix<S>, 0, Eigen::OuterStride<>> wc(w.data + r0, rows, m,
                                                                   Eigen::OuterStride<>(w.ld));
      yc.noalias() += wc * (b * c);
    } else {
      Vector<S> buf(rows);
      for (Index j = 0; j < m; ++j) {
        load(w.col(j) + r0, buf.data(), rows);
        for (Index q = 0; q < k; ++q) yc.col(q).noalias() += (b * c(j, q)) * buf;
      }
    }
  });
}

/// Writes x (length d) into column j of the window, converting to T.
template <class T, class S>
void write_column(T* w, Index ld, Index j, const S* x, Index d) {
  for_chunks(d, [&](Index r0, Index rows, Index) { store(x + r0, w + j * ld + r0, rows); });
}

/// out_i = Σ_j W_ij² (the row sums of squares), d-vector.
template <class S, class T>
void row_squares(const WindowView<T>& w, MutRef<S> out) {
  for_chunks(w.rows, [&](Index r0, Index rows, Index) {
    auto oc = out.col(0).segment(r0, rows);
    oc.setZero();
    Vector<S> buf(rows);
    for (Index j = 0; j < w.cols; ++j) {
      load(w.col(j) + r0, buf.data(), rows);
      oc.array() += buf.array().square();
    }
  });
}

}  // namespace curvop::mfac::detail

#endif  // CURVOP_MFAC_DETAIL_KERNELS_HPP
