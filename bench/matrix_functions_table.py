#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Markdown tables of the matrix_functions and shampoo benchmarks from Google Benchmark JSON.

Usage: /usr/bin/python3 bench/matrix_functions_table.py mf.json [shampoo.json]
Reads the median aggregates (run with --benchmark_repetitions=3
--benchmark_report_aggregates_only=true) and prints the README's tables.
"""
import json
import re
import sys


def medians(path):
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        out[b["run_name"]] = b
    return out


def ms(b, which="real_time"):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    return b[which] * scale


def roots_table(m):
    rows = {}
    for name, b in m.items():
        g = re.match(r"BM_(\w+)<(\w+)(?:, \w+)?>/(\d+)/(\d+)(?:/(\d+))?", name)
        if not g:
            continue
        kind, scalar, n, t, extra = g.groups()
        key = (scalar, int(n), int(t))
        r = rows.setdefault(key, {})
        if kind == "Eigh_Configured":
            r["eigh"] = ms(b)
            r["eigh_cpu"] = ms(b, "cpu_time")
        elif kind == "Eigh_Eigen":
            r["eigen_eigh"] = ms(b)
            r["eigen_eigh_cpu"] = ms(b, "cpu_time")
        elif kind == "InverseRoot_Eigh" and extra == "0":
            r["root"] = ms(b)
            r["vs"] = b.get("vs_syevd")
        elif kind == "InverseRoot_Eigh" and extra == "1":
            r["root_eigen"] = ms(b)
        elif kind == "InverseRoot_Newton":
            r["newton"] = ms(b)
            r["newton_frac"] = b.get("flop_fraction")
            r["iters"] = b.get("iterations")
    print("| scalar | n | threads | ?syevd (ms) | Eigen SAES (ms) | SAES / syevd (cpu) | root via syevd (ms) "
          "| root / bare syevd | root via SAES (ms) | Newton (ms) | Newton iters | Newton GEMM fraction "
          "| Newton / syevd root |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    f = lambda v, fmt: (fmt % v) if v is not None else "—"
    for key in sorted(rows):
        r = rows[key]
        if "root" not in r and "eigh" not in r:
            continue
        ratio = (r["eigen_eigh_cpu"] / r["eigh_cpu"]
                 if "eigen_eigh" in r and "eigh" in r else None)
        nr = r["newton"] / r["root"] if "newton" in r and "root" in r else None
        print("| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            key[0], key[1], key[2], f(r.get("eigh"), "%.1f"), f(r.get("eigen_eigh"), "%.1f"),
            f(ratio, "%.2f×"), f(r.get("root"), "%.1f"), f(r.get("vs"), "%.2f×"),
            f(r.get("root_eigen"), "%.1f"), f(r.get("newton"), "%.1f"), f(r.get("iters"), "%d"),
            f(r.get("newton_frac"), "%.2f"), f(nr, "%.2f×")))


def blocks_table(m):
    res = {}
    for name, b in m.items():
        g = re.match(r"BM_InverseRoot_Blocks<(\w+), (\w+)>/(\d+)/(\d+)/(\d+)/(\d+)", name)
        if g:
            s, batched, n, count, t, method = g.groups()
            res[(s, method, int(t), batched == "true")] = ms(b)
    if not res:
        return
    print()
    print("| scalar | method | threads | loop of single calls (ms) | one batch call (ms) | speed-up |")
    print("|---|---|---|---|---|---|")
    for (s, method, t, batched) in sorted(res):
        if batched:
            continue
        loop = res[(s, method, t, False)]
        batch = res.get((s, method, t, True))
        print("| %s | %s | %d | %.1f | %s | %s |" % (
            s, "eigh" if method == "0" else "Newton", t, loop,
            "%.1f" % batch if batch else "—", "%.2f×" % (loop / batch) if batch else "—"))


def shampoo_table(m):
    print()
    print("| benchmark | scalar | size | threads | time (ms) | GEMM fraction | other |")
    print("|---|---|---|---|---|---|---|")
    for name in sorted(m):
        b = m[name]
        g = re.match(r"BM_(Shampoo_\w+|NearestKronecker_\w+)<(\w+)>/([\d/]+)", name)
        if not g:
            continue
        kind, s, args = g.groups()
        frac = b.get("flop_fraction")
        other = ""
        if "blocks" in b:
            other = "%d blocks" % b["blocks"]
        print("| %s | %s | %s | %s | %.2f | %s | %s |" % (
            kind, s, args.rsplit("/", 1)[0], int(b.get("threads", 1)), ms(b),
            "%.2f" % frac if frac is not None else "—", other))


def roofline(m):
    for name, b in sorted(m.items()):
        if name.startswith("BM_Roofline"):
            print("%s: %.1f GB/s" % (name, b.get("GBps", 0)))


if __name__ == "__main__":
    for i, path in enumerate(sys.argv[1:]):
        m = medians(path)
        roofline(m)
        if any(k.startswith("BM_Shampoo") for k in m):
            shampoo_table(m)
        else:
            roots_table(m)
            blocks_table(m)
        print()
