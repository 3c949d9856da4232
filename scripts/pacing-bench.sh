#!/usr/bin/env bash
# The self-paced shadow against no synchronization (docs/benchmarks.md, "Input and sync pacing defaults"): the MLP
# (hidden 256,128) on 60,000 rows of a dense 32-feature CSV, 4 trainers x 1 worker, emulated 1 Gbit/s + 0.5 ms,
# default flags; 3 interleaved rounds of none / s-ma / s-bmuf / s-easgd / fr-ma --sync-every 1. Prints every run's
# examples/s, sync rounds per trainer and the sync threads' share of their trainers' CPU (summary sync.cpu_share),
# then the medians and their ratios to none's.
#   scripts/pacing-bench.sh [OUT_DIR=/tmp/pacing-bench] [ROUNDS=3]
# BW=100mbit sets the emulated bandwidth (1gbit); EXTRA='--epochs 5' adds flags to every run (longer runs: the
# default one-epoch runs last 1.5-2 s, and none's spread between rounds is wider than a 5 % effect).
# About 2 minutes on an idle 2-core host (15 runs of a few seconds each, JVM start and CSV load included).
# Expected there: s-ma, s-bmuf and s-easgd >= 0.95x of none, their cpu_share <= ~0.05; fr-ma --sync-every 1 below
# none (how far depends on how much of the round the other trainers' workers fill, see docs/benchmarks.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/pacing-bench}"
rounds="${2:-3}"
mkdir -p "$out"
[ -f "$out/dense.csv" ] || python3 "$here/scripts/dense-csv.py" "$out/dense.csv" 60000 32 7
configs=("none" "s-ma" "s-bmuf" "s-easgd" "fr-ma --sync-every 1")
: > "$out/runs.jsonl"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$rounds"); do
  for c in "${configs[@]}"; do
    # shellcheck disable=SC2086
    line=$("$here/shadowsync" train --model mlp --train "$out/dense.csv" --label-col label --trainers 4 --workers 1 \
      --net-bandwidth "${BW:-1gbit}" --net-latency 0.5ms --sync $c ${EXTRA:-} --no-progress 2>/dev/null | tail -1)
    printf '{"config":"%s","round":%d,"summary":%s}\n' "$c" "$i" "$line" >> "$out/runs.jsonl"
    python3 -c 'import json,sys; r=json.loads(sys.argv[1]); s=r["summary"]; y=s["sync"]
print("round %d  %-22s %10.0f ex/s  rounds/trainer %s  cpu_share %s" % (r["round"], r["config"], s["examples_per_sec"],
      y["rounds_per_trainer"], y.get("cpu_share")))' "$(tail -1 "$out/runs.jsonl")"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in runs: by.setdefault(r["config"], []).append(r["summary"])
base = statistics.median(s["examples_per_sec"] for s in by["none"])
print(f'\n| `--sync` | examples/s, runs | median | vs `none` | sync rounds per trainer (median) | sync CPU share (median) |')
print('|---|---|---|---|---|---|')
for c, ss in by.items():
    eps = [s["examples_per_sec"] for s in ss]
    med = statistics.median(eps)
    rounds = statistics.median(statistics.mean(s["sync"]["rounds_per_trainer"]) for s in ss)
    share = statistics.median(statistics.mean(s["sync"].get("cpu_share", [0])) for s in ss)
    print(f'| `{c}` | {" / ".join(f"{e:,.0f}" for e in eps)} | {med:,.0f} | {med / base:.2f}× | {rounds:.0f} | {share:.3f} |')
PY
