// SPDX-License-Identifier: MIT
// Low-rank family benchmarks.
//
// * randomized_svd of m x n float matrices with a decaying spectrum σ_i = 1/(1 + i) at rank r,
//   oversampling 10, q power iterations, one thread: time, achieved GFLOP/s against the
//   in-process SGEMM roofline (flop_fraction; (2q + 2) products of 2·m·n·l flops dominate), and
//   `error_ratio` = ‖A − U S Vᵀ‖_F / optimal rank-r error (known in closed form). Baseline beside
//   it: Eigen's BDCSVD (the full SVD that GaLore's reference calls). bench/lowrank_sklearn.py
//   runs scikit-learn's randomized_svd on the very same matrices (written by this binary when
//   CURVOP_LOWRANK_DUMP_DIR is set) for the side-by-side table.
// * GaLore refresh per policy (1024 x 1024, r = 32): exact SVD, randomized SVD, warm subspace
//   iteration, online PCA, DCT selection.
// * GaLoreProjector project / project_back, both sides: 2·m·n·r flops over m·n reads or writes
//   of G (4·(m·n + r·(m + n)) bytes; project against the read roof, project_back, which writes
//   the m x n lift, against the triad). At r = 8 the intensity is 4 flop/byte, near this
//   machine's ridge point, so both flop_fraction and bw_fraction are reported.
// * LowRankPerturbation apply (regenerating the factors) against a dense GEMM with the stored E,
//   and the population average (accumulate_update: N members regenerated, then one m x Nr x n
//   GEMM, 2·m·n·N·r flops + N·r·(m + n) Gaussian draws) against the same GEMM on factors generated
//   beforehand (the regeneration overhead is the difference), as fractions of the GEMM roofline.
// * BDCSVD of 4096 x 4096 (the full SVD behind GaLore's reference refresh) takes minutes on one
//   thread: it runs once (one iteration, one repetition) and only without CURVOP_BENCH_QUICK.
//
// With CURVOP_BENCH_QUICK set (CI), only small sizes are registered.
#include <curvop/lowrank.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <string>

#include "support/roofline.hpp"

namespace lr = curvop::lowrank;
using curvop::Index;
using curvop::Matrix;
using curvop::Vector;

CURVOP_BENCH_ROOFLINE();

namespace {

bool quick() { return std::getenv("CURVOP_BENCH_QUICK") != nullptr; }

/// A = D_m S₁ diag(σ) S₂ D_nᵀ (first min(m, n) columns of each DCT-II basis, random signs S₁, S₂),
/// σ_i = 1/(1 + i). The randomized SVD's error distribution depends only on σ (Ω is Gaussian), so
/// the structured singular vectors do not favour it; they avoid an O(n³) QR per matrix.
const Matrix<float>& decaying_matrix(Index m, Index n) {
  static std::mutex mu;
  static std::map<std::pair<Index, Index>, Matrix<float>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find({m, n});
  if (it != cache.end()) return it->second;
  const Index p = std::min(m, n);
  const curvop::random::CounterRng rng(2024, 1);
  Matrix<float> left(m, p), right(p, n);
  Vector<float> col_m(m), col_n(n);
  for (Index k = 0; k < p; ++k) {
    lr::detail::dct_column<float>(m, k, col_m);
    lr::detail::dct_column<float>(n, k, col_n);
    const float sign_l = static_cast<float>(rng.rademacher(static_cast<std::uint64_t>(k)));
    const float sign_r = static_cast<float>(rng.rademacher(static_cast<std::uint64_t>(p + k)));
    left.col(k) = (sign_l / static_cast<float>(1 + k)) * col_m;
    right.row(k) = sign_r * col_n.transpose();
  }
  Matrix<float> a(m, n);
  a.noalias() = left * right;
  if (const char* dir = std::getenv("CURVOP_LOWRANK_DUMP_DIR")) {
    const std::string path = std::string(dir) + "/lowrank_" + std::to_string(m) + "x" +
                             std::to_string(n) + ".f32";
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(a.data()),
              static_cast<std::streamsize>(a.size() * sizeof(float)));
  }
  return cache.emplace(std::make_pair(m, n), std::move(a)).first->second;
}

double optimal_error(Index m, Index n, Index r) {
  double s = 0;
  for (Index i = r; i < std::min(m, n); ++i) s += 1.0 / ((1.0 + double(i)) * (1.0 + double(i)));
  return std::sqrt(s);
}

double svd_error(const Matrix<float>& a, const Matrix<float>& u, const Vector<float>& s,
                 const Matrix<float>& v) {
  Matrix<float> resid = a;
  resid.noalias() -= u * (s.asDiagonal() * v.transpose());
  return resid.cast<double>().norm();
}

// args: m, n, r, q, orthonormalizer (0 Householder, 1 CholeskyQR2)
void BM_RandomizedSvd(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), r = state.range(2), q = state.range(3);
  const auto orth = state.range(4) ? lr::Orthonormalizer::CholeskyQR2 : lr::Orthonormalizer::Householder;
  curvop::bench::set_threads(1);
  const Matrix<float>& a = decaying_matrix(m, n);
  const lr::RandomizedSvdOptions opt{.oversampling = 10, .power_iterations = q, .orthonormalizer = orth};
  lr::SvdResult<float> res;
  for (auto _ : state) {
    res = lr::randomized_svd(a, r, opt);
    benchmark::DoNotOptimize(res.u.data());
    benchmark::ClobberMemory();
  }
  const double l = double(std::min<Index>(r + 10, std::min(m, n)));
  curvop::bench::report_flops<float>(state, (2.0 * double(q) + 2.0) * 2.0 * double(m) * double(n) * l,
                                     1024, 1);
  state.counters["error_ratio"] = svd_error(a, res.u, res.s, res.v) / optimal_error(m, n, r);
}

void BM_BDCSVD(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), r = state.range(2);
  curvop::bench::set_threads(1);
  const Matrix<float>& a = decaying_matrix(m, n);
  Matrix<float> u, v;
  Vector<float> s;
  for (auto _ : state) {
    Eigen::BDCSVD<Matrix<float>> svd(a, Eigen::ComputeThinU | Eigen::ComputeThinV);
    u = svd.matrixU().leftCols(r);
    v = svd.matrixV().leftCols(r);
    s = svd.singularValues().head(r);
    benchmark::DoNotOptimize(u.data());
  }
  state.counters["error_ratio"] = svd_error(a, u, s, v) / optimal_error(m, n, r);
}

// args: n (square), r, policy. Times one refresh of a projector that has already seen one
// gradient (so the warm start has a basis to start from); G changes slightly between refreshes.
void BM_GaLore_Refresh(benchmark::State& state) {
  const Index n = state.range(0), r = state.range(1);
  const auto policy = static_cast<lr::RefreshPolicy>(state.range(2));
  curvop::bench::set_threads(1);
  const Matrix<float>& a = decaying_matrix(n, n);
  const Matrix<float> a2 = a + 1e-3f * curvop::random::gaussian<float>(n, n, 5) / std::sqrt(float(n));
  lr::GaLoreProjector<float> proj(n, n, r, {.policy = policy, .update_gap = 1});
  if (proj.update(a) != curvop::Info::Success) state.SkipWithError("refresh failed");
  bool flip = false;
  for (auto _ : state) {
    benchmark::DoNotOptimize(proj.update(flip ? a : a2));
    flip = !flip;
  }
  const Matrix<double> p = proj.basis().cast<double>();
  // Captured energy ‖PᵀG‖²/‖G_r‖² (1 for the exact top-r subspace).
  const double opt = [&] {
    double s = 0;
    for (Index i = 0; i < r; ++i) s += 1.0 / ((1.0 + double(i)) * (1.0 + double(i)));
    return s;
  }();
  state.counters["captured"] = (a.cast<double>() * p).squaredNorm() / opt;
}

// args: m, n, r, side (0 left, 1 right), back (0 project, 1 project_back)
void BM_GaLore_Project(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), r = state.range(2);
  const auto side = state.range(3) ? lr::Side::Right : lr::Side::Left;
  const bool back = state.range(4) != 0;
  curvop::bench::set_threads(1);
  const Matrix<float> g = curvop::random::gaussian<float>(m, n, 3);
  lr::GaLoreProjector<float> proj(m, n, r, {.side = side, .policy = lr::RefreshPolicy::Dct});
  if (proj.update(g) != curvop::Info::Success) state.SkipWithError("refresh failed");
  Matrix<float> low(proj.projected_rows(), proj.projected_cols());
  proj.project(g, low);
  Matrix<float> full(m, n);
  for (auto _ : state) {
    if (back) {
      proj.project_back(low, full);
      benchmark::DoNotOptimize(full.data());
    } else {
      proj.project(g, low);
      benchmark::DoNotOptimize(low.data());
    }
    benchmark::ClobberMemory();
  }
  const double mn = double(m) * double(n), small = double(low.size()) + double(proj.basis().size());
  curvop::bench::report_flops<float>(state, 2.0 * mn * double(r), 1024, 1);
  // Bytes: project reads G and writes R; project_back reads N, P and writes W (a write-allocate
  // pass, against the triad).
  const double bytes = 4.0 * (mn + small);
  curvop::bench::report_bandwidth(state, bytes, back ? curvop::bench::Roof::Triad : curvop::bench::Roof::Read, 1);
}

// args: m, n, r, k, dense (0: regenerate-and-apply, 1: stored dense E, the baseline)
void BM_Perturbation_Apply(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), r = state.range(2), k = state.range(3);
  const bool dense = state.range(4) != 0;
  curvop::bench::set_threads(1);
  const lr::LowRankPerturbation<float> pop(m, n, r, {.sigma = 0.01f, .seed = 1});
  const Matrix<float> e = dense ? Matrix<float>(0.01f * pop.to_dense(3)) : Matrix<float>();
  const Matrix<float> x = curvop::random::gaussian<float>(n, k, 2);
  Matrix<float> y(m, k);
  for (auto _ : state) {
    if (dense) {
      y.noalias() = e * x;
    } else {
      pop.apply(3, x, y);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

// args: m, n, r, N (members), stored (0: accumulate_update regenerates the factors, 1: the same
// GEMM on factors generated outside the loop, the lower bound)
void BM_Perturbation_Update(benchmark::State& state) {
  const Index m = state.range(0), n = state.range(1), r = state.range(2), members = state.range(3);
  const bool stored = state.range(4) != 0;
  curvop::bench::set_threads(1);
  const lr::LowRankPerturbation<float> pop(m, n, r, {.sigma = 0.01f, .seed = 1});
  const Vector<float> fitness = curvop::random::gaussian<float>(members, 1, 4);
  Matrix<float> fa, bs;
  if (stored) {
    fa.resize(m, members * r);
    bs.resize(n, members * r);
    for (Index i = 0; i < members; ++i) {
      pop.factors(static_cast<std::uint64_t>(i), fa.middleCols(i * r, r), bs.middleCols(i * r, r));
      fa.middleCols(i * r, r) *= fitness(i);
    }
  }
  Matrix<float> out = Matrix<float>::Zero(m, n);
  const float c = 1e-3f / (float(members) * std::sqrt(float(r)));
  for (auto _ : state) {
    if (stored) {
      out.noalias() += c * (fa * bs.transpose());
    } else {
      pop.accumulate_update(fitness, out, 1e-3f);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  const double flops = 2.0 * double(m) * double(n) * double(members * r);
  curvop::bench::report_flops<float>(state, flops, 1024, 1);
  state.counters["draws"] = benchmark::Counter(double(members * r * (m + n)),
                                               benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  const bool q = quick();
  auto* svd = benchmark::RegisterBenchmark("BM_RandomizedSvd<float>", BM_RandomizedSvd);
  svd->ArgNames({"m", "n", "r", "q", "cholqr"})->Unit(benchmark::kMillisecond)->UseRealTime();
  auto* full = benchmark::RegisterBenchmark("BM_BDCSVD<float>", BM_BDCSVD);
  full->ArgNames({"m", "n", "r"})->Unit(benchmark::kMillisecond)->UseRealTime();
  if (q) {
    svd->Args({512, 512, 16, 4, 1})->Args({512, 512, 16, 4, 0});
    full->Args({256, 256, 16});
  } else {
    for (Index qi : {4, 7}) {
      for (Index ch : {1, 0}) {
        svd->Args({2048, 2048, 64, qi, ch})->Args({4096, 4096, 128, qi, ch})->Args({1024, 4096, 64, qi, ch});
      }
    }
    full->Args({2048, 2048, 64})->Args({1024, 4096, 64})->Iterations(1);
    // Minutes per run: one repetition whatever --benchmark_repetitions says (the side-by-side
    // script reads the single run when there is no median).
    benchmark::RegisterBenchmark("BM_BDCSVD<float>", BM_BDCSVD)
        ->ArgNames({"m", "n", "r"})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Args({4096, 4096, 128})
        ->Iterations(1)
        ->Repetitions(1);
  }
  auto* refresh = benchmark::RegisterBenchmark("BM_GaLore_Refresh<float>", BM_GaLore_Refresh);
  refresh->ArgNames({"n", "r", "policy"})->Unit(benchmark::kMillisecond)->UseRealTime();
  const Index rn = q ? 256 : 1024, rr = q ? 16 : 32;
  for (Index p = 0; p < 5; ++p) refresh->Args({rn, rr, p});
  auto* proj = benchmark::RegisterBenchmark("BM_GaLore_Project<float>", BM_GaLore_Project);
  proj->ArgNames({"m", "n", "r", "right", "back"})->Unit(benchmark::kMicrosecond)->UseRealTime();
  const Index pm = q ? 512 : 4096;
  for (Index r : {Index(8), Index(128)}) {
    for (Index side : {0, 1}) {
      for (Index back : {0, 1}) proj->Args({pm, pm, r, side, back});
    }
  }
  auto* pert = benchmark::RegisterBenchmark("BM_Perturbation_Apply<float>", BM_Perturbation_Apply);
  pert->ArgNames({"m", "n", "r", "k", "dense"})->Unit(benchmark::kMicrosecond)->UseRealTime();
  const Index pn = q ? 512 : 4096;
  for (Index dense : {0, 1}) pert->Args({pn, pn, 4, 1, dense})->Args({pn, pn, 4, 64, dense});
  auto* upd = benchmark::RegisterBenchmark("BM_Perturbation_Update<float>", BM_Perturbation_Update);
  upd->ArgNames({"m", "n", "r", "N", "stored"})->Unit(benchmark::kMillisecond)->UseRealTime();
  for (Index stored : {0, 1}) upd->Args({pn, pn, 4, q ? 16 : 64, stored});
}

[[maybe_unused]] const bool registered = (register_all(), true);

}  // namespace
