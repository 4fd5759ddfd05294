#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns kfac_bench's Google Benchmark JSON (run with --benchmark_repetitions=3
--benchmark_report_aggregates_only=true) into the README's markdown tables: medians, the fraction
of the GEMM roofline measured in the same run, and each kernel's time ratio to its baseline.

Usage: /usr/bin/python3 bench/kfac_table.py kfac_bench.json
"""
import json
import re
import sys

BASELINE = {
    "ApplyInverse": "CholeskySolveBaseline",
    "Update": "UpdateSyrkBaseline",
}


def load(path):
    rows = {}
    for b in json.load(open(path))["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        m = re.match(r"BM_KFac_(\w+)<(\w+)>/(\d+)/(\d+)(?:/(\d+))?", b["run_name"])
        if not m:
            continue
        kernel, scalar, n, t, mode = m.groups()
        rows[(kernel, scalar, int(n), int(t), mode)] = b
    return rows


def ms(b):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def main(path):
    rows = load(path)
    print("| kernel | scalar | n | threads | time (ms) | fraction of GEMM rate | baseline time / kernel time |")
    print("|---|---|---|---|---|---|---|")
    for (kernel, scalar, n, t, mode), b in sorted(rows.items()):
        if kernel in ("Compute",) or kernel.endswith("Baseline"):
            continue
        frac = b.get("flop_fraction")
        base = rows.get((BASELINE.get(kernel, ""), scalar, n, t, mode))
        ratio = f"{ms(base) / ms(b):.2f}" if base else "-"
        frac_s = f"{frac:.2f}" if frac is not None else "-"
        print(f"| {kernel} | {scalar} | {n} | {t} | {ms(b):.2f} | {frac_s} | {ratio} |")
    print()
    print("| compute() (float, 1 thread) | n | time (ms) | ratio to one apply_inverse |")
    print("|---|---|---|---|")
    for (kernel, scalar, n, t, mode), b in sorted(rows.items()):
        if kernel != "Compute":
            continue
        name = {"1": "PiAdjusted (2 Cholesky inverses)", "2": "Exact (2 eigendecompositions)"}[mode]
        ap = rows.get(("ApplyInverse" if mode == "1" else "ApplyInverseExact", scalar, n, 1, None))
        ratio = f"{ms(b) / ms(ap):.1f}" if ap else "-"
        print(f"| {name} | {n} | {ms(b):.1f} | {ratio} |")


if __name__ == "__main__":
    main(sys.argv[1])
