#!/bin/bash
# Validation of `shadowsync simulate` against measurement on this host (docs/simulator.md): calibrate, then measure
# the DLRM job in one JVM with the emulated network at N trainers (steady-state examples/s from --metrics), then
# predict the same configurations. Usage: scripts/sim-validate.sh [N ...] (default: 1 2 4 8). Writes under $OUT
# (default /tmp/sim-validate). Run on a quiet host: load average is printed beside every measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/sim-validate}
NS=("${@:-1 2 4 8}")
NS=(${NS[*]})
EX=${EX:-60000}
mkdir -p "$OUT"
[ -f "$OUT/ctr/train.tsv" ] || ./shadowsync gen-data --out "$OUT/ctr" --rows 60000 --eval-rows 1000 >/dev/null
data=(--train "$OUT/ctr/train.tsv" --eval "$OUT/ctr/eval.tsv")
net=(--net-bandwidth 1gbit --net-latency 100us)
./shadowsync calibrate jobs/dlrm-synthetic.yaml "${data[@]}" --out "$OUT/costs.json" --reps 3 --calibrate-examples 10000
echo "| algorithm | N | measured ex/s (steady) | measured (whole run) | load |"
for n in "${NS[@]}"; do
  for spec in "s-ma" "s-easgd" "fr-ma --sync-every 1" "fr-ma --sync-every 10" "sync-sgd" "async-ps"; do
    rm -f "$OUT/m.jsonl"
    # shellcheck disable=SC2086
    ./shadowsync train jobs/dlrm-synthetic.yaml "${data[@]}" "${net[@]}" --save "$OUT/m.model" --summary-json "$OUT/s.json" \
        --in-memory --no-progress --examples "$EX" --trainers "$n" --sync $spec --metrics "$OUT/m.jsonl" --log-every 1 >/dev/null 2>&1
    r=$(python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
recs = [json.loads(l) for l in open(out + '/m.jsonl') if l.strip()]
by = {}
for r in recs:
    if r.get('type', 'train') != 'eval' and 'trainer' in r and 'examples' in r and not r.get('final'):
        by.setdefault(r['trainer'], []).append(r)
tot = 0
for rs in by.values():
    end = rs[-1]
    mid = [r for r in rs if r['seconds'] >= 0.4 * end['seconds']][0]
    if end['seconds'] > mid['seconds']:
        tot += (end['examples'] - mid['examples']) / (end['seconds'] - mid['seconds'])
print("%.0f | %.0f" % (tot, json.load(open(out + '/s.json'))['examples_per_sec']))
PY
)
    echo "| $spec | $n | $r | $(cut -d' ' -f1 /proc/loadavg) |"
  done
done
list=$(IFS=,; echo "${NS[*]}")
common=(jobs/dlrm-synthetic.yaml "${data[@]}" --costs "$OUT/costs.json" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --trainers-per-host 0)
./shadowsync simulate "${common[@]}" --algorithms s-ma,s-easgd,sync-sgd,async-ps 2>&1 >/dev/null | grep '^|'
./shadowsync simulate "${common[@]}" --algorithms fr-ma --sync-every 1 2>&1 >/dev/null | grep '^| fr'
./shadowsync simulate "${common[@]}" --algorithms fr-ma --sync-every 10 2>&1 >/dev/null | grep '^| fr'
