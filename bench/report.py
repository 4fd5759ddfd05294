#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn Google Benchmark JSON files into the README's markdown tables and an SVG plot.

    /usr/bin/python3 bench/report.py build/bench/operators.json [more.json ...] \
        [--plot out.svg --plot-filter REGEX --plot-x-arg 0]

For each file: a table of the medians (the `_median` aggregate when the run used
--benchmark_repetitions, else the single run) with time, the achieved rate and the fraction of
the roofline measured in the same process (bw_fraction / flop_fraction counters), followed by
the roofline rows themselves. `--ratio A B` adds the ratio of the times of benchmarks whose names
match the regexes A and B with the same arguments (A's time / B's time): a baseline run beside it.
The plot (matplotlib, if installed; skipped otherwise) shows time against the first argument for
each benchmark whose name matches --plot-filter.
"""
import argparse
import json
import re
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name", b["name"])
        agg = b.get("aggregate_name")
        if agg and agg != "median":
            continue
        rows[name] = b  # the median overrides a single run of the same name
    return data.get("context", {}), rows


def fmt_time(b):
    return f"{b['real_time']:.4g} {b.get('time_unit', 'ns')}"


def fmt(x):
    return f"{x:.3g}" if isinstance(x, (int, float)) else str(x)


def split(name):
    parts = name.split("/")
    return parts[0], "/".join(p for p in parts[1:] if p not in ("real_time",) and not p.startswith("iterations"))


def table(rows):
    out = ["| benchmark | args | time (median) | rate | fraction of roofline | roofline |",
           "|---|---|---|---|---|---|"]
    for name, b in rows.items():
        base, args = split(name)
        if base.startswith("BM_Roofline"):
            continue
        if "GFLOPs" in b:
            rate, frac, roof = f"{b['GFLOPs']:.3g} GFLOP/s", b.get("flop_fraction", ""), f"{b.get('roof_GFLOPs', 0):.3g} GFLOP/s GEMM"
        elif "GBps" in b:
            rate, frac, roof = f"{b['GBps']:.3g} GB/s", b.get("bw_fraction", ""), f"{b.get('roof_GBps', 0):.3g} GB/s"
        else:
            rate, frac, roof = "", "", ""
        frac = f"{100 * frac:.0f}%" if isinstance(frac, (int, float)) else frac
        out.append(f"| {base} | {args} | {fmt_time(b)} | {rate} | {frac} | {roof} |")
    roofs = [(n, b) for n, b in rows.items() if n.startswith("BM_Roofline")]
    if roofs:
        out.append("")
        out.append("| roofline (same process) | threads | GB/s |")
        out.append("|---|---|---|")
        for n, b in roofs:
            base, args = split(n)
            out.append(f"| {base.replace('BM_Roofline_', '')} | {args} | {b.get('GBps', 0):.3g} |")
    return "\n".join(out)


def ratios(rows, pairs):
    out = []
    for a, b in pairs:
        ra, rb = re.compile(a), re.compile(b)
        a_rows = {split(n)[1]: r for n, r in rows.items() if ra.search(split(n)[0])}
        b_rows = {split(n)[1]: r for n, r in rows.items() if rb.search(split(n)[0])}
        common = [k for k in a_rows if k in b_rows]
        if not common:
            continue
        out.append(f"\n| args | {a} | {b} | ratio |")
        out.append("|---|---|---|---|")
        for k in common:
            ta, tb = a_rows[k]["real_time"], b_rows[k]["real_time"]
            out.append(f"| {k} | {fmt_time(a_rows[k])} | {fmt_time(b_rows[k])} | {ta / tb:.3g} |")
    return "\n".join(out)


def plot(all_rows, path, pattern, arg_index):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(matplotlib not installed: no plot written to {path})", file=sys.stderr)
        return
    series = {}
    rx = re.compile(pattern)
    for name, b in all_rows.items():
        base, args = split(name)
        if not rx.search(base):
            continue
        parts = args.split("/")
        try:
            x = float(parts[arg_index])
        except (IndexError, ValueError):
            continue
        label = base + ("/" + "/".join(p for i, p in enumerate(parts) if i != arg_index) if len(parts) > 1 else "")
        series.setdefault(label, []).append((x, b["real_time"], b.get("time_unit", "ns")))
    if not series:
        print("(no benchmark matched the plot filter)", file=sys.stderr)
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for label, pts in sorted(series.items()):
        pts.sort()
        ax.loglog([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
    unit = next(iter(series.values()))[0][2]
    ax.set_xlabel(f"argument {arg_index}")
    ax.set_ylabel(f"time ({unit}, median)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    print(f"wrote {path}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="+")
    p.add_argument("--ratio", nargs=2, action="append", default=[], metavar=("A", "B"))
    p.add_argument("--plot")
    p.add_argument("--plot-filter", default=".")
    p.add_argument("--plot-x-arg", type=int, default=0)
    a = p.parse_args()
    merged = {}
    for f in a.files:
        ctx, rows = load(f)
        merged.update(rows)
        print(f"### {f}\n")
        print(f"Machine: {ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, "
              f"load average {', '.join(fmt(x) for x in ctx.get('load_avg', []))}; "
              f"run {ctx.get('date', '?')}.\n")
        print(table(rows))
        r = ratios(rows, a.ratio)
        if r:
            print(r)
        print()
    if a.plot:
        plot(merged, a.plot, a.plot_filter, a.plot_x_arg)


if __name__ == "__main__":
    main()
