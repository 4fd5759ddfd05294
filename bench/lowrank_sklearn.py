#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""curvop's randomized_svd against scikit-learn's, side by side, on the very same matrices.

1. Runs the C++ benchmark binary (bench/lowrank_bench.cpp) on the randomized-SVD and BDCSVD
   cases with CURVOP_LOWRANK_DUMP_DIR set, so that it writes each test matrix
   (σ_i = 1/(1 + i), float32, column-major) to that folder, and keeps its JSON.
2. Loads each matrix and times sklearn.utils.extmath.randomized_svd on it with the same rank,
   oversampling (10) and power iterations, with its default normaliser ('auto' = LU) and with QR;
   the error ‖A − U S Vᵀ‖_F / optimal rank-r error is computed in float64 exactly like the C++.
3. Prints the markdown table of medians (time ratio sklearn / curvop > 1 means curvop is faster)
   and writes everything to --out. Eigen's BDCSVD (the full SVD) is timed on 2048², 1024 x 4096
   and 4096² (one run of a few minutes for the last); --quick (CI smoke) runs 512² and a 256²
   BDCSVD only.

Run with one thread each, under the shared benchmark lock:
  flock /tmp/curvop-bench.lock env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
    /usr/bin/python3 bench/lowrank_sklearn.py --bench build/lowrank-bench/bench/lowrank_bench \\
    --out lowrank_sklearn.json
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.utils.extmath import randomized_svd


def optimal_error(m, n, r):
    i = np.arange(r, min(m, n), dtype=np.float64)
    return float(np.sqrt(np.sum(1.0 / (1.0 + i) ** 2)))


def run_cpp(binary, dump_dir, repetitions, quick):
    out = os.path.join(dump_dir, "curvop.json")
    env = dict(os.environ, CURVOP_LOWRANK_DUMP_DIR=dump_dir, OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1")
    if quick:
        env["CURVOP_BENCH_QUICK"] = "1"
    cmd = [binary, "--benchmark_filter=RandomizedSvd|BDCSVD", f"--benchmark_out={out}",
           "--benchmark_out_format=json", f"--benchmark_repetitions={repetitions}",
           "--benchmark_report_aggregates_only=true"]
    subprocess.run(cmd, env=env, check=True, stdout=sys.stderr)
    with open(out) as f:
        return json.load(f)


def parse_args_of(name):
    # "BM_RandomizedSvd<float>/m:2048/n:2048/r:64/q:4/cholqr:1/real_time"
    fields = {}
    for part in name.split("/")[1:]:
        if ":" in part:
            k, v = part.split(":")
            fields[k] = int(v)
    return fields


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", required=True, help="path of the lowrank_bench binary")
    ap.add_argument("--out", default="lowrank_sklearn.json")
    ap.add_argument("--repetitions", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="CURVOP_BENCH_QUICK sizes")
    ap.add_argument("--keep", help="folder for the dumped matrices (default: a temporary one)")
    a = ap.parse_args()

    dump = a.keep or tempfile.mkdtemp(prefix="curvop_lowrank_")
    os.makedirs(dump, exist_ok=True)
    cpp = run_cpp(a.bench, dump, a.repetitions, a.quick)

    rows = {}
    # Medians of the repeated runs; a benchmark registered with one repetition (BDCSVD of 4096²,
    # minutes per run) has no aggregates, and its single run stands in for the median.
    has_median = {b["run_name"] for b in cpp["benchmarks"] if b.get("aggregate_name") == "median"}
    for b in cpp["benchmarks"]:
        single = b.get("run_type") == "iteration" and b["run_name"] not in has_median
        if b.get("aggregate_name") != "median" and not single:
            continue
        f = parse_args_of(b["run_name"])
        scale = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9, "s": 1.0}[b["time_unit"]]
        key = (f["m"], f["n"], f["r"], f.get("q", -1))
        entry = rows.setdefault(key, {})
        if b["run_name"].startswith("BM_BDCSVD"):
            entry["bdcsvd_s"] = b["real_time"] * scale
            entry["bdcsvd_err"] = b["error_ratio"]
        else:
            tag = "cholqr" if f["cholqr"] else "householder"
            entry[f"curvop_{tag}_s"] = b["real_time"] * scale
            entry[f"curvop_{tag}_err"] = b["error_ratio"]
            entry[f"curvop_{tag}_flop_fraction"] = b.get("flop_fraction")

    for (m, n, r, q), entry in sorted(rows.items()):
        if q < 0:
            continue
        path = os.path.join(dump, f"lowrank_{m}x{n}.f32")
        a_mat = np.fromfile(path, dtype=np.float32).reshape((n, m)).T  # column-major m x n
        opt = optimal_error(m, n, r)
        for norm in ("auto", "QR"):
            times = []
            for rep in range(a.repetitions):
                t0 = time.perf_counter()
                u, s, vt = randomized_svd(a_mat, r, n_oversamples=10, n_iter=q,
                                          power_iteration_normalizer=norm, random_state=rep)
                times.append(time.perf_counter() - t0)
            err = np.linalg.norm(a_mat.astype(np.float64) - (u.astype(np.float64) * s) @ vt) / opt
            entry[f"sklearn_{norm}_s"] = statistics.median(times)
            entry[f"sklearn_{norm}_err"] = float(err)

    # Attach the BDCSVD baseline (q = -1 rows) to every q of the same size.
    for (m, n, r, q), entry in rows.items():
        base = rows.get((m, n, r, -1))
        if q >= 0 and base:
            entry.update(base)

    print("| m x n | r | q | curvop (CholQR2) | error ratio | sklearn LU (auto) | error ratio | "
          "sklearn / curvop | sklearn QR | curvop Householder | BDCSVD | BDCSVD / curvop |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (m, n, r, q), e in sorted(rows.items()):
        if q < 0 or "curvop_cholqr_s" not in e:
            continue
        c = e["curvop_cholqr_s"]
        bd = e.get("bdcsvd_s")
        print(f"| {m} x {n} | {r} | {q} | {1e3 * c:.0f} ms | {e['curvop_cholqr_err']:.5f} | "
              f"{1e3 * e['sklearn_auto_s']:.0f} ms | {e['sklearn_auto_err']:.5f} | "
              f"{e['sklearn_auto_s'] / c:.2f}x | {1e3 * e['sklearn_QR_s']:.0f} ms | "
              f"{1e3 * e.get('curvop_householder_s', float('nan')):.0f} ms | "
              + (f"{bd:.1f} s | {bd / c:.0f}x |" if bd else "— | — |"))
    with open(a.out, "w") as f:
        json.dump({"rows": [dict(zip(("m", "n", "r", "q"), k), **v) for k, v in sorted(rows.items())],
                   "curvop_context": cpp.get("context", {})}, f, indent=1)


if __name__ == "__main__":
    main()
