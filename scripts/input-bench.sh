#!/usr/bin/env bash
# The input paths of `train` side by side: default on the plain file (loaded before training), --in-memory, --stream,
# and default on a gzip copy of the file ("kept": kept in memory after its first pass), LR on 200,000 synthetic rows
# (gen-data --rows 200000 --eval-rows 20000), 5 epochs, interleaved, REPS rounds (3). WORKERS=W sets --workers (1, as in
# docs/benchmarks.md); EPOCHS=1 times one pass. Prints one line per run (path, round, examples/s, eval logloss, training
# seconds from the summary, the whole command's wall seconds — JVM start to exit, loading included —, load average at
# its start), then per path the median examples/s and wall seconds and their ratios to --in-memory's. About 1.5 minutes
# on a quiet 2-core host (gen-data ~10 s, twelve runs of 2-5 s with the JVM start).
#   ./mvnw -B -ntp -q -pl cli -am package -DskipTests && scripts/input-bench.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${REPS:-3}"
workers="${WORKERS:-1}"
epochs="${EPOCHS:-5}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"$here/shadowsync" gen-data --out "$out/d200k" --rows 200000 --eval-rows 20000 > /dev/null 2>&1
gzip -c "$out/d200k/train.tsv" > "$out/d200k/train.tsv.gz"
for rep in $(seq 1 "$reps"); do
  for kind in default in-memory stream kept; do
    flags=()
    data="$out/d200k/train.tsv"
    case "$kind" in
      in-memory|stream) flags=("--$kind") ;;
      kept) data="$out/d200k/train.tsv.gz" ;;
    esac
    load="$(cut -d' ' -f1 /proc/loadavg)"
    s="$out/$kind-$rep.json"
    t0="$(date +%s.%N)"
    "$here/shadowsync" train --model lr --train "$data" --eval "$out/d200k/eval.tsv" --epochs "$epochs" \
        --workers "$workers" --no-progress --summary-json "$s" ${flags[@]+"${flags[@]}"} > /dev/null 2> "$out/$kind-$rep.err"
    t1="$(date +%s.%N)"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], round(d['examples_per_sec']), round(d['eval']['logloss'], 4), round(d['seconds'], 2), round(float(sys.argv[6]) - float(sys.argv[5]), 2), 'load', sys.argv[4])" \
        "$s" "$kind" "$rep" "$load" "$t0" "$t1" | tee -a "$out/runs"
  done
done
python3 - "$out/runs" <<'PY'
import statistics, sys
rates, walls = {}, {}
for line in open(sys.argv[1]):
    kind, _, rate, _, _, wall = line.split()[:6]
    rates.setdefault(kind, []).append(float(rate))
    walls.setdefault(kind, []).append(float(wall))
base, base_wall = statistics.median(rates["in-memory"]), statistics.median(walls["in-memory"])
for kind in ("default", "in-memory", "stream", "kept"):
    m, w = statistics.median(rates[kind]), statistics.median(walls[kind])
    print(f"{kind:10s} median {m:,.0f} ex/s  {m / base:.2f}x of --in-memory  (runs: {' / '.join(f'{r:,.0f}' for r in rates[kind])})"
          f"   whole command {w:.2f} s  {w / base_wall:.2f}x  (runs: {' / '.join(f'{x:.2f}' for x in walls[kind])})")
PY
