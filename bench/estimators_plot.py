#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Turns estimators_bench JSON (Google Benchmark, medians) into the README's tables and the
error-against-products plot.

Usage: /usr/bin/python3 bench/estimators_plot.py estimators.json [plot.png]
"""
import json
import sys
from collections import defaultdict

TRACE = {0: "Hutchinson", 1: "Hutch++", 2: "XTrace"}
DIAG = {0: "Hutchinson", 1: "XDiag"}
SPEC = {0: "flat [1, 2]", 1: "decaying 1/i²"}


def args(name):
    out = {}
    for part in name.split("/")[1:]:
        if ":" in part:
            k, v = part.split(":", 1)
            try:
                out[k] = int(v)
            except ValueError:
                pass
    return out


def main():
    data = json.load(open(sys.argv[1]))["benchmarks"]
    med = [b for b in data if b.get("aggregate_name", "median") == "median"]
    errors = defaultdict(dict)  # (kind, method, spectrum) -> {m: err}
    timing = []
    for b in med:
        name = b["run_name"] if "run_name" in b else b["name"]
        a = args(name)
        if "TraceError" in name and a.get("n", 0) == 0:
            errors[("trace", TRACE[a["method"]], SPEC[a["spectrum"]])][a["matvecs"]] = b["rel_error"]
        elif "DiagonalError" in name:
            errors[("diagonal", DIAG[a["method"]], SPEC[a["spectrum"]])][a["matvecs"]] = b["rel_error"]
        elif "Trace_Blocked" in name or "TopEigenpairs" in name:
            timing.append((name, b))
    budgets = sorted({m for v in errors.values() for m in v})
    print("| quantity | estimator | spectrum | " + " | ".join(f"m = {m}" for m in budgets) + " |")
    print("|---|---|---|" + "---|" * len(budgets))
    for (kind, meth, spec), v in sorted(errors.items()):
        print(f"| {kind} | {meth} | {spec} | " + " | ".join(f"{v[m]:.1e}" for m in budgets) + " |")
    print()
    base = next((b["real_time"] for n, b in timing if "probes:64/block:1" in n), None)
    print("| kernel | time (ms) | fraction of roofline | ratio to one probe per call |")
    print("|---|---|---|---|")
    for name, b in timing:
        if "Trace_Blocked" in name:
            frac = (f"{b['bw_fraction']:.2f} of read bw" if "block:1/" in name
                    else f"{b['flop_fraction']:.2f} of DGEMM")
            print(f"| {name} | {b['real_time']:.1f} | {frac} | {base / b['real_time']:.2f}x |")
        else:
            print(f"| {name} ({b['matvecs']:.0f} products, err {b['max_rel_err']:.0e}) | "
                  f"{b['real_time']:.1f} | {b['bw_fraction']:.2f} of read bw | |")
    if len(sys.argv) > 2:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
        for ax, spec in zip(axes, SPEC.values()):
            for (kind, meth, s), v in sorted(errors.items()):
                if s != spec:
                    continue
                ms = sorted(v)
                ax.loglog(ms, [v[m] for m in ms], "o-" if kind == "trace" else "s--",
                          label=f"{kind}: {meth}")
            ax.set_title(spec)
            ax.set_xlabel("matrix-vector products")
            ax.grid(True, which="both", alpha=0.3)
        axes[0].set_ylabel("mean relative error (20 seeds)")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(sys.argv[2], dpi=120)


if __name__ == "__main__":
    main()
