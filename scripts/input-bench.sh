#!/usr/bin/env bash
# The input paths of `train` side by side: default (kept in memory after the first pass), --in-memory and --stream,
# LR on 200,000 synthetic rows (gen-data --rows 200000 --eval-rows 20000), 5 epochs, interleaved, REPS rounds (3).
# WORKERS=W sets --workers (1, as in docs/benchmarks.md); EPOCHS=1 times the first pass alone: default's filling pass
# against a --stream pass (--in-memory's rate leaves out its loading). Prints one line per run (flags, round, examples/s, eval
# logloss, training seconds, load average at its start), then per flag set the median examples/s and its ratio to
# --in-memory's. About 1.5 minutes on a quiet 2-core host (gen-data ~10 s, nine runs of 5-10 s with the JVM start).
#   ./mvnw -B -ntp -q -pl cli -am package -DskipTests && scripts/input-bench.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${REPS:-3}"
workers="${WORKERS:-1}"
epochs="${EPOCHS:-5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$here/shadowsync" gen-data --out "$out/d200k" --rows 200000 --eval-rows 20000 > /dev/null 2>&1
for rep in $(seq 1 "$reps"); do
  for kind in default in-memory stream; do
    flags=()
    [ "$kind" != default ] && flags=("--$kind")
    load="$(cut -d' ' -f1 /proc/loadavg)"
    s="$out/$kind-$rep.json"
    "$here/shadowsync" train --model lr --train "$out/d200k/train.tsv" --eval "$out/d200k/eval.tsv" --epochs "$epochs" \
        --workers "$workers" --no-progress --summary-json "$s" ${flags[@]+"${flags[@]}"} > /dev/null 2> "$out/$kind-$rep.err"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], round(d['examples_per_sec']), round(d['eval']['logloss'], 4), round(d['seconds'], 2), 'load', sys.argv[4])" \
        "$s" "$kind" "$rep" "$load" | tee -a "$out/runs"
  done
done
python3 - "$out/runs" <<'PY'
import statistics, sys
rates = {}
for line in open(sys.argv[1]):
    kind, _, rate = line.split()[:3]
    rates.setdefault(kind, []).append(float(rate))
base = statistics.median(rates["in-memory"])
for kind in ("default", "in-memory", "stream"):
    m = statistics.median(rates[kind])
    print(f"{kind:10s} median {m:,.0f} ex/s  {m / base:.2f}x of --in-memory  (runs: {' / '.join(f'{r:,.0f}' for r in rates[kind])})")
PY
