#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Turns mfac_bench's Google Benchmark JSON (--benchmark_repetitions=N
# --benchmark_report_aggregates_only=true) into the README's markdown tables (medians), and
# optionally a plot of IHVP time against d·m.
#
#   /usr/bin/python3 bench/mfac_table.py results.json [plot.png]
import json
import re
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        name = b.get("run_name", b["name"]).replace("/real_time", "").replace("/manual_time", "")
        rows[name] = b
    return rows


def ms(b):
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ns")]
    return b["real_time"] * scale


def parse(name):
    if name.startswith("BM_Mfac_SmallIhvp"):
        return None
    m = re.match(r"BM_Mfac_(\w+?)(?:<(.+?)>)?/(\d+)/(\d+)/(\d+)$", name)
    if not m:
        return None
    op, storage, logd, mm, t = m.groups()
    return op, (storage or "float").replace("Eigen::", ""), int(logd), int(mm), int(t)


def main():
    rows = load(sys.argv[1])
    roof = {k: v.get("GBps") for k, v in rows.items() if k.startswith("BM_Roofline")}
    print("Roofline of this run (GB/s): " +
          ", ".join(f"{k.replace('BM_Roofline_', '').replace('/iterations:1', '')} = {v:.1f}"
                    for k, v in sorted(roof.items()) if v))
    print()
    print("| operation | storage | d | m | threads | time (ms) | fraction of roofline | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    parsed = {}
    for name, b in rows.items():
        p = parse(name)
        if p:
            parsed[p] = b
    for key in sorted(parsed, key=lambda p: (p[0], p[2], p[3], p[4], p[1])):
        op, storage, logd, m, t = key
        b = parsed[key]
        if "bw_fraction" in b:
            frac = f"{b['bw_fraction']:.2f} read / {b.get('triad_fraction', 0):.2f} triad"
        elif "flop_fraction" in b:
            frac = f"{b['flop_fraction']:.2f} GEMM"
        else:
            frac = ""
        ratio = ""
        if op == "Ihvp":
            base = parsed.get(("EigenGemvIhvp", "float", logd, m, t))
            if base:
                ratio = f"{ms(base) / ms(b):.2f}x vs Eigen GEMV"
            if storage != "float" and ("Ihvp", "float", logd, m, t) in parsed:
                ratio += f", {ms(parsed[('Ihvp', 'float', logd, m, t)]) / ms(b):.2f}x vs float"
        elif op in ("PushApplyInverse", "Push") and storage != "float":
            f32 = parsed.get((op, "float", logd, m, t))
            if f32:
                ratio = f"{ms(f32) / ms(b):.2f}x vs float"
        elif op == "Setup":
            rec = parsed.get(("RecursionSetup", "float", logd, m, 1))
            if rec and t == 1:
                ratio = f"{ms(rec) / ms(b):.1f}x vs BLAS-2 recursion"
        print(f"| {op} | {storage} | 2^{logd} | {m} | {t} | {ms(b):.2f} | {frac} | {ratio} |")
    small = {k: v for k, v in rows.items() if k.startswith("BM_Mfac_SmallIhvp")}
    if small:
        print()
        print("| d | m | M-FAC IHVP (us) | dense Cholesky solve (us) | speed-up |")
        print("|---|---|---|---|---|")
        for k in sorted(small):
            d, m, dense = (int(x) for x in k.split("/")[1:4])
            if dense:
                continue
            mf = small[k]
            dn = small.get(f"BM_Mfac_SmallIhvp/{d}/{m}/1")
            if dn:
                print(f"| {d} | {m} | {ms(mf) * 1e3:.1f} | {ms(dn) * 1e3:.1f} | "
                      f"{ms(dn) / ms(mf):.0f}x |")
    if len(sys.argv) > 2:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        for storage in ("float", "bfloat16", "half"):
            for t in (1, 2):
                pts = sorted((2 ** k[2] * k[3], ms(b)) for k, b in parsed.items()
                             if k[0] == "Ihvp" and k[1] == storage and k[4] == t)
                if pts:
                    ax.loglog(*zip(*pts), "o-", label=f"{storage}, {t} thread(s)")
        ax.set_xlabel("d·m")
        ax.set_ylabel("IHVP time (ms)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
