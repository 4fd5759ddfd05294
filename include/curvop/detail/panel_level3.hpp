// SPDX-License-Identifier: MIT
// Level-3 kernels on a tall-skinny column-major panel W (`rows` x m, leading dimension ld, float
// or double) for the set-up of M-FAC's static operator and the Cholesky QR of randomized SVD:
//
//   panel_gram:           K += WᵀW (lower triangle, double), plus the row sums of squares of W
//                         and a finiteness check, in one read of W (a float W may be widened
//                         to double while it is packed);
//   panel_solve_right_lt: W ← W L⁻ᵀ (L lower triangular m x m), in place.
//
// Why not Eigen's SYRK and TRSM: with m = 16…256 columns and thousands of rows, both reach only
// about half of Eigen's own GEMM rate (measured at d = 2^20, m = 64: 0.45–0.51 for the rank-k
// update, 0.44–0.49 for the triangular solve; 0.2–0.3 at m = 16), because their blocking is
// tuned for large square operands: 64 = 48 + 16 leaves a quarter of the rows to a narrow edge
// kernel, and at m = 16 the whole solve runs in the diagonal-block code.
//
// Both kernels pack a block of rows into an L2-resident buffer, so that a register tile reads
// only contiguous memory. Working on W in place would not do: with a power-of-two leading
// dimension every column of a block maps to the same cache set, and eight columns would evict
// each other.
//
// - The Gram kernel packs 4-column panels (groups of `width` rows, one register per column) and
//   checks finiteness and sums the squares of each row while packing. A 4 x 4 tile of K keeps 16
//   registers of partial sums over the rows (lanes = rows), does 16 FMAs per 8 loads, and reduces
//   across lanes into double once per block.
// - The solve packs groups of rows with all m columns and runs forward substitution along the
//   columns for 3 row groups and 4 columns at a time: v_j = (w_j − Σ_{k<j} L_jk v_k) / L_jj.
//   That is 12 FMAs per 3 loads and 4 broadcasts, and the same recurrence as a textbook TRSM.
//
// Sums within a block are in S, across blocks in double (the caller's accumulator). Within one
// build the result depends only on the panel, never on threads. The kernels need AVX2 + FMA
// (`CURVOP_DETAIL_COLUMN_KERNELS_AVX2`); callers fall back to Eigen's products without them.
#ifndef CURVOP_DETAIL_PANEL_LEVEL3_HPP
#define CURVOP_DETAIL_PANEL_LEVEL3_HPP

#include <algorithm>
#include <curvop/config.hpp>
#include <curvop/detail/column_kernels.hpp>
#include <vector>

#if defined(CURVOP_DETAIL_COLUMN_KERNELS_AVX2)
#define CURVOP_DETAIL_PANEL_LEVEL3 1

namespace curvop::detail {

/// Rows per packed block: the block (rows x m values of S) stays within about 384 KiB, well
/// inside a 1 MiB L2, and holds a whole number of register groups.
template <class S>
inline Index level3_block_rows(Index m) {
  constexpr Index w = Lanes<S>::width;
  const Index r = (Index{384} * 1024 / static_cast<Index>(sizeof(S))) / std::max<Index>(m, 1);
  return std::max<Index>(8 * w, r / w * w);
}

/// Packs rows [r0, r0 + rows) of W into `p` (groups of `width` rows, zero-padded).
template <class S>
inline void pack_rows(const S* w, Index ld, Index r0, Index rows, Index m, S* p) {
  using L = Lanes<S>;
  constexpr Index wd = L::width;
  const Index full = rows / wd;
  for (Index c = 0; c < m; ++c) {
    const S* src = w + c * ld + r0;
    for (Index g = 0; g < full; ++g) L::store(p + (g * m + c) * wd, L::load(src + g * wd));
    if (full * wd < rows) {
      S* dst = p + (full * m + c) * wd;
      for (Index l = 0; l < wd; ++l) dst[l] = full * wd + l < rows ? src[full * wd + l] : S(0);
    }
  }
}

/// Writes packed rows back into W (the inverse of `pack_rows`).
template <class S>
inline void unpack_rows(const S* p, Index rows, Index m, S* w, Index ld, Index r0) {
  using L = Lanes<S>;
  constexpr Index wd = L::width;
  const Index full = rows / wd;
  for (Index c = 0; c < m; ++c) {
    S* dst = w + c * ld + r0;
    for (Index g = 0; g < full; ++g) L::store(dst + g * wd, L::load(p + (g * m + c) * wd));
    for (Index i = full * wd; i < rows; ++i) dst[i] = p[(full * m + c) * wd + (i - full * wd)];
  }
}

/// Packs rows [r0, r0 + rows) of W (stored as T, packed as S: float → double widens exactly) for
/// the Gram kernel: panels of 4 columns (the last one zero-padded), each panel a run of groups of
/// `width` rows, each group 4 registers:
///   p[((cb · groups + g) · 4 + q) · width + l] = W(r0 + g · width + l, 4 · cb + q).
/// Adds the row sums of squares into row_sq (length rows; skipped when null) and returns false if
/// an entry is NaN or ±Inf: v − v is 0 for a finite v and NaN otherwise, so the sum of all of them
/// stays 0 only if every entry is finite (huge finite values, whose squares overflow, pass).
template <class S, class T>
inline bool pack_gram_panels(const T* w, Index ld, Index r0, Index rows, Index m, S* p,
                             S* row_sq) {
  using L = Lanes<S>;
  using V = typename L::V;
  constexpr Index wd = L::width;
  const Index groups = (rows + wd - 1) / wd, full = rows / wd;
  const Index panels = (m + 3) / 4;
  const V minus_one = L::broadcast(S(-1));
  V bad = L::zero();
  bool finite = true;
  for (Index cb = 0; cb < panels; ++cb) {
    const Index q_end = std::min<Index>(4, m - 4 * cb);
    const T* src[4];
    for (Index q = 0; q < 4; ++q) src[q] = w + (4 * cb + std::min(q, q_end - 1)) * ld + r0;
    S* dst = p + cb * groups * 4 * wd;
    for (Index g = 0; g < full; ++g, dst += 4 * wd) {
      V sq = row_sq != nullptr ? L::load(row_sq + g * wd) : L::zero();
      for (Index q = 0; q < 4; ++q) {
        V v = L::zero();
        if (q < q_end) {
          v = L::load(src[q] + g * wd);
          bad = L::add(bad, L::fma(v, minus_one, v));
          sq = L::fma(v, v, sq);
        }
        L::store(dst + q * wd, v);
      }
      if (row_sq != nullptr) L::store(row_sq + g * wd, sq);
    }
    if (full < groups) {
      for (Index q = 0; q < 4; ++q) {
        for (Index l = 0; l < wd; ++l) {
          const Index i = full * wd + l;
          const S v = (q < q_end && i < rows) ? static_cast<S>(src[q][i]) : S(0);
          finite = finite && (v - v) == S(0);
          if (q < q_end && i < rows && row_sq != nullptr) row_sq[i] += v * v;
          dst[q * wd + l] = v;
        }
      }
    }
  }
  return finite && L::sum(bad) == S(0);
}

/// Adds Σ over `groups` packed groups of a_p b_q into k(ia + p, jb + q) (p, q < 4, clipped to
/// the m x m matrix), for the 4-column panels a and b: 16 FMAs per 8 loads into 16 registers of
/// partial sums, reduced across lanes into double once at the end.
template <class S>
inline void gram_tile(const S* a, const S* b, Index groups, Index m, Index ia, Index jb,
                      double* k, Index ldk) {
  using L = Lanes<S>;
  using V = typename L::V;
  constexpr Index wd = L::width;
  V c00 = L::zero(), c01 = L::zero(), c02 = L::zero(), c03 = L::zero();
  V c10 = L::zero(), c11 = L::zero(), c12 = L::zero(), c13 = L::zero();
  V c20 = L::zero(), c21 = L::zero(), c22 = L::zero(), c23 = L::zero();
  V c30 = L::zero(), c31 = L::zero(), c32 = L::zero(), c33 = L::zero();
  for (Index g = 0; g < groups; ++g, a += 4 * wd, b += 4 * wd) {
    const V b0 = L::load(b), b1 = L::load(b + wd), b2 = L::load(b + 2 * wd),
            b3 = L::load(b + 3 * wd);
    V x = L::load(a);
    c00 = L::fma(x, b0, c00), c01 = L::fma(x, b1, c01), c02 = L::fma(x, b2, c02),
    c03 = L::fma(x, b3, c03);
    x = L::load(a + wd);
    c10 = L::fma(x, b0, c10), c11 = L::fma(x, b1, c11), c12 = L::fma(x, b2, c12),
    c13 = L::fma(x, b3, c13);
    x = L::load(a + 2 * wd);
    c20 = L::fma(x, b0, c20), c21 = L::fma(x, b1, c21), c22 = L::fma(x, b2, c22),
    c23 = L::fma(x, b3, c23);
    x = L::load(a + 3 * wd);
    c30 = L::fma(x, b0, c30), c31 = L::fma(x, b1, c31), c32 = L::fma(x, b2, c32),
    c33 = L::fma(x, b3, c33);
  }
  const V c[4][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23},
                     {c30, c31, c32, c33}};
  for (Index p = 0; p < 4 && ia + p < m; ++p) {
    for (Index q = 0; q < 4 && jb + q < m; ++q) {
      k[(ia + p) + (jb + q) * ldk] += static_cast<double>(L::sum(c[p][q]));
    }
  }
}

/// Adds the lower triangle (and some entries above it) of WᵀW for rows [0, rows) of the panel
/// at w (stored as T, computed in S: float, or double for a float or double panel) into k
/// (m x m, column-major, leading dimension ldk), and the row sums of squares into row_sq (length
/// rows, overwritten; may be null). `buffer` is scratch. Returns false, with k and row_sq
/// unspecified, if W has a NaN or ±Inf entry.
///
/// Blocks of rows are packed into 4-column panels; each lower-triangle tile (4 x 4 entries, each
/// a register of partial sums over the rows) then streams two contiguous panels of the block.
template <class T, class S>
bool panel_gram(const T* w, Index ld, Index rows, Index m, double* k, Index ldk, S* row_sq,
                std::vector<S>& buffer) {
  constexpr Index wd = Lanes<S>::width;
  const Index panels = (m + 3) / 4;
  const Index block = level3_block_rows<S>(4 * panels);
  buffer.resize(static_cast<std::size_t>(panels * ((std::min(block, rows) + wd - 1) / wd) * 4 * wd));
  if (row_sq != nullptr) std::fill(row_sq, row_sq + rows, S(0));
  for (Index r0 = 0; r0 < rows; r0 += block) {
    const Index n = std::min(block, rows - r0);
    S* const sq = row_sq == nullptr ? nullptr : row_sq + r0;
    if (!pack_gram_panels(w, ld, r0, n, m, buffer.data(), sq)) {
      return false;
    }
    const Index groups = (n + wd - 1) / wd;
    for (Index jb = 0; jb < panels; ++jb) {
      const S* b = buffer.data() + jb * groups * 4 * wd;
      for (Index ib = jb; ib < panels; ++ib) {
        gram_tile(buffer.data() + ib * groups * 4 * wd, b, groups, m, 4 * ib, 4 * jb, k, ldk);
      }
    }
  }
  return true;
}

/// Forward substitution across columns j0 … j0 + B − 1 for P consecutive packed row groups at p:
/// v_j = (w_j − Σ_{k<j} L_jk v_k) · (1 / L_jj), with nl = −L (m x m, column-major) and inv_diag
/// = 1 / diag(L). Columns k < j0 already hold v.
template <int P, int B, class S>
inline void solve_tile(S* p, Index m, Index j0, const S* nl, const S* inv_diag) {
  static_assert(P >= 1 && P <= 3 && B >= 1 && B <= 4, "solve_tile: at most 3 x 4");
  using L = Lanes<S>;
  using V = typename L::V;
  constexpr Index wd = L::width;
  const Index step = m * wd;
  S* p0 = p;
  S* p1 = p + step;
  S* p2 = p + 2 * step;
  V c00 = L::load(p0 + j0 * wd), c01 = c00, c02 = c00, c03 = c00;
  V c10 = c00, c11 = c00, c12 = c00, c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00;
  if constexpr (B > 1) c01 = L::load(p0 + (j0 + 1) * wd);
  if constexpr (B > 2) c02 = L::load(p0 + (j0 + 2) * wd);
  if constexpr (B > 3) c03 = L::load(p0 + (j0 + 3) * wd);
  if constexpr (P > 1) {
    c10 = L::load(p1 + j0 * wd);
    if constexpr (B > 1) c11 = L::load(p1 + (j0 + 1) * wd);
    if constexpr (B > 2) c12 = L::load(p1 + (j0 + 2) * wd);
    if constexpr (B > 3) c13 = L::load(p1 + (j0 + 3) * wd);
  }
  if constexpr (P > 2) {
    c20 = L::load(p2 + j0 * wd);
    if constexpr (B > 1) c21 = L::load(p2 + (j0 + 1) * wd);
    if constexpr (B > 2) c22 = L::load(p2 + (j0 + 2) * wd);
    if constexpr (B > 3) c23 = L::load(p2 + (j0 + 3) * wd);
  }
  for (Index k = 0; k < j0; ++k) {
    const S* col = nl + k * m + j0;  // −L(j0 + q, k), q < B
    const V x0 = L::load(p0 + k * wd);
    const V x1 = P > 1 ? L::load(p1 + k * wd) : x0;
    const V x2 = P > 2 ? L::load(p2 + k * wd) : x0;
    V l = L::broadcast(col[0]);
    c00 = L::fma(l, x0, c00);
    if constexpr (P > 1) c10 = L::fma(l, x1, c10);
    if constexpr (P > 2) c20 = L::fma(l, x2, c20);
    if constexpr (B > 1) {
      l = L::broadcast(col[1]);
      c01 = L::fma(l, x0, c01);
      if constexpr (P > 1) c11 = L::fma(l, x1, c11);
      if constexpr (P > 2) c21 = L::fma(l, x2, c21);
    }
    if constexpr (B > 2) {
      l = L::broadcast(col[2]);
      c02 = L::fma(l, x0, c02);
      if constexpr (P > 1) c12 = L::fma(l, x1, c12);
      if constexpr (P > 2) c22 = L::fma(l, x2, c22);
    }
    if constexpr (B > 3) {
      l = L::broadcast(col[3]);
      c03 = L::fma(l, x0, c03);
      if constexpr (P > 1) c13 = L::fma(l, x1, c13);
      if constexpr (P > 2) c23 = L::fma(l, x2, c23);
    }
  }
  // The B x B diagonal block: finish column j0 + q, then remove it from the later columns.
  V c[3][4] = {{c00, c01, c02, c03}, {c10, c11, c12, c13}, {c20, c21, c22, c23}};
  S* base[3] = {p0, p1, p2};
  for (int q = 0; q < B; ++q) {
    const V inv = L::broadcast(inv_diag[j0 + q]);
    for (int r = 0; r < P; ++r) {
      c[r][q] = L::fma(c[r][q], inv, L::zero());
      L::store(base[r] + (j0 + q) * wd, c[r][q]);
    }
    for (int q2 = q + 1; q2 < B; ++q2) {
      const V l = L::broadcast(nl[(j0 + q) * m + j0 + q2]);
      for (int r = 0; r < P; ++r) c[r][q2] = L::fma(l, c[r][q], c[r][q2]);
    }
  }
}

template <int P, class S>
inline void solve_tile_b(Index b, S* p, Index m, Index j0, const S* nl, const S* inv_diag) {
  switch (b) {
    case 1: return solve_tile<P, 1>(p, m, j0, nl, inv_diag);
    case 2: return solve_tile<P, 2>(p, m, j0, nl, inv_diag);
    case 3: return solve_tile<P, 3>(p, m, j0, nl, inv_diag);
    default: return solve_tile<P, 4>(p, m, j0, nl, inv_diag);
  }
}

/// W ← W L⁻ᵀ for rows [0, rows) of the panel at w, in place, given nl = −L (m x m lower,
/// column-major) and inv_diag = 1 / diag(L). `buffer` is scratch.
template <class S>
void panel_solve_right_lt(S* w, Index ld, Index rows, Index m, const S* nl, const S* inv_diag,
                          std::vector<S>& buffer) {
  constexpr Index wd = Lanes<S>::width;
  const Index block = level3_block_rows<S>(m);
  buffer.resize(static_cast<std::size_t>(((std::min(block, rows) + wd - 1) / wd) * wd * m));
  for (Index r0 = 0; r0 < rows; r0 += block) {
    const Index n = std::min(block, rows - r0);
    pack_rows<S>(w, ld, r0, n, m, buffer.data());
    const Index groups = (n + wd - 1) / wd;
    for (Index g = 0; g < groups; g += 3) {
      S* p = buffer.data() + g * m * wd;
      const Index pg = std::min<Index>(3, groups - g);
      for (Index j0 = 0; j0 < m; j0 += 4) {
        const Index b = std::min<Index>(4, m - j0);
        switch (pg) {
          case 1: solve_tile_b<1>(b, p, m, j0, nl, inv_diag); break;
          case 2: solve_tile_b<2>(b, p, m, j0, nl, inv_diag); break;
          default: solve_tile_b<3>(b, p, m, j0, nl, inv_diag); break;
        }
      }
    }
    unpack_rows<S>(buffer.data(), n, m, w, ld, r0);
  }
}

}  // namespace curvop::detail

#endif  // CURVOP_DETAIL_COLUMN_KERNELS_AVX2
#endif  // CURVOP_DETAIL_PANEL_LEVEL3_HPP
