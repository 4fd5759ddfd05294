// SPDX-License-Identifier: MIT
// Internal wrapper of the few LAPACK routines curvop calls (?syevd, ?potrf), through the Fortran
// symbols themselves so that no LAPACKE header is needed.
#ifndef CURVOP_DETAIL_LAPACK_HPP
#define CURVOP_DETAIL_LAPACK_HPP

#include <curvop/config.hpp>

#if defined(CURVOP_USE_LAPACK)
#include <algorithm>
#include <cstddef>
#include <limits>
#include <type_traits>
#include <vector>

// Fortran LAPACK, LP64 integers (Debian's reference LAPACK and OpenBLAS). The trailing
// std::size_t arguments are the hidden lengths of the CHARACTER arguments that gfortran passes by
// value (since GCC 8); declaring them keeps the call ABI-correct.
extern "C" {
void ssyevd_(const char* jobz, const char* uplo, const int* n, float* a, const int* lda, float* w,
             float* work, const int* lwork, int* iwork, const int* liwork, int* info,
             std::size_t jobz_len, std::size_t uplo_len);
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda,
             double* w, double* work, const int* lwork, int* iwork, const int* liwork, int* info,
             std::size_t jobz_len, std::size_t uplo_len);
void spotrf_(const char* uplo, const int* n, float* a, const int* lda, int* info,
             std::size_t uplo_len);
void dpotrf_(const char* uplo, const int* n, double* a, const int* lda, int* info,
             std::size_t uplo_len);
}
#endif

namespace curvop::detail::lapack {

/// True when curvop was built with `CURVOP_USE_LAPACK` (LAPACK routines are available).
inline constexpr bool available =
#if defined(CURVOP_USE_LAPACK)
    true;
#else
    false;
#endif

#if defined(CURVOP_USE_LAPACK)

/// In-place symmetric eigendecomposition by divide and conquer (?syevd) of the n x n column-major
/// matrix `a` (leading dimension `lda`), reading its lower triangle. On return `w` holds the
/// eigenvalues in ascending order and, when `vectors` is true, `a` the orthonormal eigenvectors.
/// Returns LAPACK's INFO (0 on success, > 0 when the algorithm failed to converge).
/// Cost: ~(4/3 + 8/3 with vectors) n^3 flops, workspace 1 + 6n + 2n^2 scalars and 3 + 5n ints.
template <class S>
int syevd(bool vectors, Index n, S* a, Index lda, S* w) {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                "lapack::syevd: float or double only");
  if (n == 0) return 0;
  if (n > std::numeric_limits<int>::max() / 4) return -1;
  const char jobz = vectors ? 'V' : 'N';
  const char uplo = 'L';
  const int in = static_cast<int>(n);
  const int ilda = static_cast<int>(lda);
  int info = 0;
  // Workspace query first: LAPACK returns the optimal sizes in work[0] and iwork[0].
  S wq = 0;
  int iwq = 0;
  int lwork = -1;
  int liwork = -1;
  if constexpr (std::is_same_v<S, float>) {
    ssyevd_(&jobz, &uplo, &in, a, &ilda, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  } else {
    dsyevd_(&jobz, &uplo, &in, a, &ilda, w, &wq, &lwork, &iwq, &liwork, &info, 1, 1);
  }
  if (info != 0) return info;
  lwork = std::max(1, static_cast<int>(wq));
  liwork = std::max(1, iwq);
  std::vector<S> work(static_cast<std::size_t>(lwork));
  std::vector<int> iwork(static_cast<std::size_t>(liwork));
  if constexpr (std::is_same_v<S, float>) {
    ssyevd_(&jobz, &uplo, &in, a, &ilda, w, work.data(), &lwork, iwork.data(), &liwork, &info, 1,
            1);
  } else {
    dsyevd_(&jobz, &uplo, &in, a, &ilda, w, work.data(), &lwork, iwork.data(), &liwork, &info, 1,
            1);
  }
  return info;
}

/// In-place Cholesky factorisation (?potrf) of the lower triangle of the n x n matrix `a`:
/// A = L Lᵀ with L left in the lower triangle (the strict upper triangle is not referenced).
/// Returns LAPACK's INFO (0 on success, k > 0 when the leading minor of order k is not positive
/// definite). Cost: n^3/3 flops, no extra memory.
template <class S>
int potrf(Index n, S* a, Index lda) {
  static_assert(std::is_same_v<S, float> || std::is_same_v<S, double>,
                "lapack::potrf: float or double only");
  if (n == 0) return 0;
  const char uplo = 'L';
  const int in = static_cast<int>(n);
  const int ilda = static_cast<int>(lda);
  int info = 0;
  if constexpr (std::is_same_v<S, float>) {
    spotrf_(&uplo, &in, a, &ilda, &info, 1);
  } else {
    dpotrf_(&uplo, &in, a, &ilda, &info, 1);
  }
  return info;
}

#endif  // CURVOP_USE_LAPACK

}  // namespace curvop::detail::lapack

#endif  // CURVOP_DETAIL_LAPACK_HPP
