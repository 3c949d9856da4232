#!/usr/bin/env python3
"""Collects the runs of scripts/compression-grid.sh into a table and a chart.

    compression-grid.py OUT [--png FILE]

Reads OUT/summaries/CELL.json (CELL = MODEL-NET-nN-ALGORITHM-CODEC-rREP, a ':' in the codec written '_', as the
grid script names them) and writes:
  OUT/grid.tsv  one line per run: model, network, N, algorithm, codec, rep, bytes per round and compression ratio
                (trainer 0's), rounds/s (the trainers' mean rounds over the training seconds), mean round ms,
                examples/s, worker wait fraction, eval logloss, eval accuracy (the MLP's; empty for DLRM), the
                1-minute load average when the run started (OUT/load.tsv);
  OUT/grid.md   one markdown table per model x network, N = 4 and 8 rows, the median of a cell's repetitions
                (marked with their count), and a table of every repetition where a cell has more than one;
  OUT/compression-grid.png (or --png FILE) where matplotlib is installed: rounds/s and the eval metric against
                bytes per round, one panel per model x network x N, a colour per algorithm, a marker per codec.
"""
import json
import os
import re
import statistics
import sys

CELL = re.compile(r"^(?P<model>[a-z0-9]+)-(?P<net>[a-z0-9.]+)-n(?P<n>\d+)-(?P<alg>.+)-(?P<codec>[^-]+)-r(?P<rep>\d+)$")
COLUMNS = ["model", "network", "n", "algorithm", "codec", "rep", "bytes_per_round", "compression_ratio",
           "rounds_per_sec", "mean_round_ms", "examples_per_sec", "worker_wait_fraction", "eval_logloss",
           "eval_accuracy", "load1"]
# the order of rows and legends: as the grid script runs them; anything else after, alphabetically
ALGORITHMS = ["s-ma", "s-bmuf", "s-easgd", "s-gossip"]
CODECS = ["none", "fp16", "bf16", "int8", "int8:stochastic", "topk:0.01"]
NETWORKS = ["100mbit", "1gbit"]


def metric_of(model):
    """The eval metric a model's table shows: accuracy for the classifier, logloss for CTR."""
    return "eval_accuracy" if model == "mlp" else "eval_logloss"


def row_of(cell, summary):
    """One TSV row from a cell's name and its train summary."""
    m = CELL.match(cell)
    if m is None:
        raise ValueError(f"{cell}: not a grid cell name (MODEL-NET-nN-ALGORITHM-CODEC-rREP)")
    sync = summary["sync"]
    rounds = sync["rounds_per_trainer"]
    seconds = summary["seconds"]
    ev = summary.get("eval", {})
    return {
        "model": m["model"], "network": m["net"], "n": int(m["n"]), "algorithm": m["alg"],
        "codec": m["codec"].replace("_", ":"), "rep": int(m["rep"]),
        "bytes_per_round": sync["bytes_per_round"][0],
        "compression_ratio": sync["compression_ratio"][0],
        "rounds_per_sec": sum(rounds) / len(rounds) / seconds,
        "mean_round_ms": sum(sync["mean_round_ms"]) / len(sync["mean_round_ms"]),
        "examples_per_sec": summary["examples_per_sec"],
        "worker_wait_fraction": summary.get("worker_wait_fraction"),
        "eval_logloss": ev.get("logloss"),
        "eval_accuracy": ev.get("accuracy") if m["model"] == "mlp" else None,
        "load1": None,
    }


def read_rows(out):
    """Every run's row, with the 1-minute load average when it started from OUT/load.tsv (a rerun's: the last)."""
    loads = {}
    if os.path.exists(os.path.join(out, "load.tsv")):
        with open(os.path.join(out, "load.tsv")) as f:
            for line in f:
                cell, _, load = line.rstrip("\n").split("\t")
                loads[cell] = float(load.split()[0])
    d = os.path.join(out, "summaries")
    rows = []
    for name in sorted(os.listdir(d)):
        if name.endswith(".json"):
            with open(os.path.join(d, name)) as f:
                row = row_of(name[:-len(".json")], json.load(f))
            row["load1"] = loads.get(name[:-len(".json")])
            rows.append(row)
    return rows


def order(value, known):
    return (known.index(value), "") if value in known else (len(known), value)


def cell_key(r):
    return (r["model"], order(r["network"], NETWORKS), r["n"], order(r["algorithm"], ALGORITHMS),
            order(r["codec"], CODECS))


def cells(rows):
    """The rows grouped by cell (everything but rep), in the grid's order, each cell's median of every number."""
    groups = {}
    for r in rows:
        groups.setdefault(cell_key(r), []).append(r)
    result = []
    for key in sorted(groups):
        reps = sorted(groups[key], key=lambda r: r["rep"])
        med = dict(reps[0])
        for c in COLUMNS[6:]:
            values = [r[c] for r in reps if r[c] is not None]
            med[c] = statistics.median(values) if values else None
        med["reps"] = reps
        result.append(med)
    return result


def fmt(value, column):
    if value is None:
        return ""
    if column in ("bytes_per_round", "examples_per_sec"):
        return f"{value:,.0f}"
    if column == "compression_ratio":
        return f"{value:.1f}"
    if column == "rounds_per_sec":
        return f"{value:.1f}" if value < 10 else f"{value:.0f}"
    if column in ("mean_round_ms", "load1"):
        return f"{value:.1f}"
    return f"{value:.4f}"


def write_tsv(rows, path):
    with open(path, "w") as f:
        f.write("\t".join(COLUMNS) + "\n")
        for r in sorted(rows, key=lambda r: (cell_key(r), r["rep"])):
            f.write("\t".join("" if r[c] is None else str(r[c]) for c in COLUMNS) + "\n")


def markdown(rows):
    lines = []
    grouped = cells(rows)
    for model in sorted({c["model"] for c in grouped}):
        metric = metric_of(model)
        label = "eval accuracy" if metric == "eval_accuracy" else "eval logloss"
        for net in sorted({c["network"] for c in grouped if c["model"] == model}, key=lambda n: order(n, NETWORKS)):
            lines.append(f"{model.upper()}, {net} (bytes per round and ratio: trainer 0)")
            lines.append("")
            lines.append(f"| N | algorithm | codec | bytes/round | ratio | rounds/s | examples/s | {label} | load |")
            lines.append("|---|---|---|---:|---:|---:|---:|---:|---:|")
            for c in grouped:
                if c["model"] == model and c["network"] == net:
                    mark = f" (median of {len(c['reps'])})" if len(c["reps"]) > 1 else ""
                    lines.append(f"| {c['n']} | {c['algorithm']} | `{c['codec']}`{mark} | "
                                 + " | ".join(fmt(c[k], k) for k in
                                              ("bytes_per_round", "compression_ratio", "rounds_per_sec",
                                               "examples_per_sec", metric, "load1")) + " |")
            lines.append("")
    repeated = [c for c in grouped if len(c["reps"]) > 1]
    if repeated:
        lines.append("Every repetition of the cells run more than once (in the order they ran):")
        lines.append("")
        lines.append("| model | network | N | algorithm | codec | rounds/s | examples/s | eval metric | load |")
        lines.append("|---|---|---|---|---|---|---|---|---|")
        for c in repeated:
            metric = metric_of(c["model"])
            lines.append(f"| {c['model'].upper()} | {c['network']} | {c['n']} | {c['algorithm']} | `{c['codec']}` | "
                         + " | ".join(" / ".join(fmt(r[k], k) for r in c["reps"])
                                      for k in ("rounds_per_sec", "examples_per_sec", metric, "load1")) + " |")
        lines.append("")
    return "\n".join(lines)


def chart(rows, path):
    """rounds/s and the eval metric against bytes per round; returns False where matplotlib is missing."""
    try:
        import matplotlib
    except ImportError:
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    grouped = cells(rows)
    models = sorted({c["model"] for c in grouped})
    panels = sorted({(c["network"], c["n"]) for c in grouped}, key=lambda p: (order(p[0], NETWORKS), p[1]))
    algorithms = sorted({c["algorithm"] for c in grouped}, key=lambda a: order(a, ALGORITHMS))
    codecs = sorted({c["codec"] for c in grouped}, key=lambda k: order(k, CODECS))
    colours = dict(zip(algorithms, plt.rcParams["axes.prop_cycle"].by_key()["color"] * 4))
    markers = dict(zip(codecs, ["o", "s", "D", "^", "v", "*", "P", "X"] * 4))
    chart_rows = [(m, k) for m in models for k in ("rounds_per_sec", metric_of(m))]
    fig, axes = plt.subplots(len(chart_rows), len(panels), figsize=(4.2 * len(panels), 3.2 * len(chart_rows)),
                             squeeze=False)
    for i, (model, key) in enumerate(chart_rows):
        for j, (net, n) in enumerate(panels):
            ax = axes[i][j]
            for c in grouped:
                if c["model"] == model and c["network"] == net and c["n"] == n and c[key] is not None:
                    ax.scatter(c["bytes_per_round"], c[key], color=colours[c["algorithm"]],
                               marker=markers[c["codec"]], s=36)
            ax.set_xscale("log")
            ax.grid(True, which="both", alpha=0.3)
            if key == "rounds_per_sec":
                ax.set_yscale("log")
            ax.set_title(f"{model.upper()}, {net}, N = {n}", fontsize=9)
            ax.set_ylabel({"rounds_per_sec": "rounds/s", "eval_logloss": "eval logloss",
                           "eval_accuracy": "eval accuracy"}[key], fontsize=8)
            if i == len(chart_rows) - 1:
                ax.set_xlabel("bytes per round (trainer 0)", fontsize=8)
            ax.tick_params(labelsize=7)
    handles = ([plt.Line2D([], [], color=colours[a], marker="o", linestyle="", label=a) for a in algorithms]
               + [plt.Line2D([], [], color="grey", marker=markers[k], linestyle="", label=k) for k in codecs])
    fig.legend(handles=handles, loc="upper center", ncol=(len(handles) + 1) // 2, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.6 / (3.2 * len(chart_rows))))
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def main(argv):
    if len(argv) not in (2, 4) or (len(argv) == 4 and argv[2] != "--png"):
        print("usage: compression-grid.py OUT [--png FILE]", file=sys.stderr)
        return 2
    out = argv[1]
    png = argv[3] if len(argv) == 4 else os.path.join(out, "compression-grid.png")
    rows = read_rows(out)
    if not rows:
        print(f"compression-grid.py: no summaries in {out}/summaries", file=sys.stderr)
        return 2
    write_tsv(rows, os.path.join(out, "grid.tsv"))
    with open(os.path.join(out, "grid.md"), "w") as f:
        f.write(markdown(rows))
    drawn = chart(rows, png)
    print(f"{len(rows)} runs: {out}/grid.tsv, {out}/grid.md" + (f", {png}" if drawn else
                                                               " (no chart: matplotlib is not installed)"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
