#!/bin/bash
# Validation of `shadowsync simulate` against measurement on this host (docs/simulator.md): calibrate the DLRM job as
# it is measured (one JVM, emulated network 1gbit / 100us, --in-memory), measure it at N trainers for s-ma, s-easgd,
# fr-ma K = 1 and 10, sync-sgd, async-ps (steady-state examples/s from --metrics), and `launch --local 2 --ps 2`
# (4 processes over loopback), then predict the same configurations and print predicted, measured and their ratio
# per case. Usage: scripts/sim-validate.sh [N ...] (default: 1 2 4 8). Writes under $OUT (default /tmp/sim-validate);
# CALIBRATE=0 keeps a costs.json already there, KEEP=1 the measurements, LAUNCH=0 skips launch --local,
# MEASURE=0 only predicts (against $OUT/measured.tsv), SIMULATE_FLAGS adds simulate flags (a what-if).
# Every case runs REPS times (default 3; the rounds interleaved), its figure the median. Each run trains PER_TRAINER examples per trainer (default 100000; N = 8: 800,000: long enough that the measured
# window, the last 60 %, is past the JIT's warm-up); calibrate runs the job as 1 and 2 trainers and as launch --local 1
# with the same budget, and the launch is measured with it too. About 10 minutes a round on an idle 2-core host (much longer on a loaded
# one); run it on a quiet host: the load average is printed beside every measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/sim-validate}
NS=("${@:-1 2 4 8}")
NS=(${NS[*]})
PER_TRAINER=${PER_TRAINER:-100000}
mkdir -p "$OUT"
# KEEP=1: add to the measurements already there (MEASURE=0 keeps them: it predicts against them)
[ "${KEEP:-0}" = 1 ] || [ "${MEASURE:-1}" = 0 ] || rm -f "$OUT/measured.tsv"
[ -f "$OUT/ctr/train.tsv" ] || ./shadowsync gen-data --out "$OUT/ctr" --rows 60000 --eval-rows 1000 >/dev/null
job=(jobs/dlrm-synthetic.yaml --train "$OUT/ctr/train.tsv" --eval "$OUT/ctr/eval.tsv" --in-memory)
net=(--net-bandwidth 1gbit --net-latency 100us)
if [ "${CALIBRATE:-1}" = 1 ] || [ ! -f "$OUT/costs.json" ]; then  # CALIBRATE=0: keep $OUT/costs.json
  echo "calibrating (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  # the same runs as measured below (PER_TRAINER examples a trainer, steady state = the last 60 %), as 1 and 2 trainers
  ./shadowsync calibrate "${job[@]}" "${net[@]}" --out "$OUT/costs.json" --reps 3 --calibrate-examples "$PER_TRAINER" --launch 2>&1 | grep -E "run|step|wake|gRPC" >&2
fi

# steady-state examples/s: each trainer's examples/s over the last 60 % of its --metrics records, summed; and the summary's
steady() {
  python3 - "$1" "$2" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
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
print("%.0f\t%.0f" % (tot, json.load(open(sys.argv[2]))['examples_per_sec']))
PY
}

# REPS rounds over every case (interleaved, so that a change in the host's state spreads over all cases); each case's
# figure is the median of its runs
REPS=${REPS:-3}
for rep in $(seq 1 "$REPS"); do
for n in "${NS[@]}"; do
  [ "${MEASURE:-1}" = 1 ] || break  # MEASURE=0: predict only, against the measurements in $OUT/measured.tsv
  for spec in "s-ma" "s-easgd" "fr-ma --sync-every 1" "fr-ma --sync-every 10" "sync-sgd" "async-ps"; do
    rm -f "$OUT/m.jsonl"
    # shellcheck disable=SC2086
    ./shadowsync train "${job[@]}" "${net[@]}" --save "$OUT/m.model" --summary-json "$OUT/s.json" --no-progress \
        --examples $((PER_TRAINER * n)) --trainers "$n" --sync $spec --metrics "$OUT/m.jsonl" --log-every 1 >/dev/null 2>&1
    printf '%s\t%s\t%s\t%s\n' "$spec" "$n" "$(steady "$OUT/m.jsonl" "$OUT/s.json")" "$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/measured.tsv"
    echo "measured: $(tail -1 "$OUT/measured.tsv")" >&2
  done
done
# launch --local 2 --ps 2: PER_TRAINER examples a trainer, as calibrated, with the data in memory as calibrated. LAUNCH=0 skips it.
if [ "${LAUNCH:-1}" = 1 ] && [ "${MEASURE:-1}" = 1 ]; then
  rm -f "$OUT"/m*.jsonl
  ./shadowsync launch --local 2 --ps 2 jobs/dlrm-synthetic.yaml --train "$OUT/ctr/train.tsv" --eval "$OUT/ctr/eval.tsv" --in-memory --no-progress \
      --examples $((PER_TRAINER * 2)) --rendezvous-timeout 300 --save "$OUT/l.model" --summary-json "$OUT/s.json" --metrics "$OUT/m.jsonl" --log-every 1 >/dev/null 2>&1
  cat "$OUT"/m*.jsonl > "$OUT/all.jsonl"
  printf '%s\t%s\t%s\t%s\n' "launch --local" 2 "$(steady "$OUT/all.jsonl" "$OUT/s.json")" "$(cut -d' ' -f1 /proc/loadavg)" >> "$OUT/measured.tsv"
  echo "measured: $(tail -1 "$OUT/measured.tsv")" >&2
fi
done

list=$(IFS=,; echo "${NS[*]}")
# SIMULATE_FLAGS: more simulate flags for a what-if, e.g. SIMULATE_FLAGS="--quantum 4ms"
# shellcheck disable=SC2206
sim=(./shadowsync simulate "${job[@]}" --costs "$OUT/costs.json" --trainers-per-host 0 ${SIMULATE_FLAGS:-})
"${sim[@]}" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --algorithms s-ma,s-easgd,sync-sgd,async-ps --summary-json "$OUT/p.json" >/dev/null 2>&1
"${sim[@]}" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --algorithms fr-ma --sync-every 1 --summary-json "$OUT/p1.json" >/dev/null 2>&1
"${sim[@]}" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --algorithms fr-ma --sync-every 10 --summary-json "$OUT/p10.json" >/dev/null 2>&1
"${sim[@]}" --trainers 2 --bandwidth inf --latency 0 --servers-on-host --ps-shards 2 --summary-json "$OUT/pl.json" >/dev/null 2>&1

python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
pred = {}
for f, key in (("p.json", None), ("p1.json", "fr-ma --sync-every 1"), ("p10.json", "fr-ma --sync-every 10"), ("pl.json", "launch --local")):
    for r in json.load(open(out + "/" + f))["results"]:
        pred[(key or r["algorithm"], r["trainers"])] = r["examples_per_sec"]
costs = json.load(open(out + "/costs.json"))
print("calibrated at load %.1f: step %.2f ms wall, %.2f ms CPU (workers %.2f ms), %.3f cores a process, compute only %.2f ms"
      % (costs["machine"]["load_average"], costs["step"]["wall"]["median"] * 1e3, costs["step"]["cpu"]["median"] * 1e3,
         costs["step"]["worker_cpu"]["median"] * 1e3, costs["step"].get("process_cpu_cores", {"median": 0})["median"],
         costs["compute_step"]["median"] * 1e3))
print("| case | N | predicted ex/s | measured ex/s (steady, median) | predicted / measured | runs (steady) | measured (whole run, median) | load average |")
print("|---|---|---:|---:|---:|---|---:|---:|")
import statistics
runs = {}
for line in open(out + "/measured.tsv"):
    spec, n, steady, whole, load = line.rstrip("\n").split("\t")
    runs.setdefault((spec, int(n)), []).append((float(steady), float(whole), load))
within = total = 0
for (spec, n), rs in runs.items():
    steady = statistics.median(r[0] for r in rs)
    whole = statistics.median(r[1] for r in rs)
    p = pred.get((spec, n))
    ratio = p / steady if p and steady > 0 else float("nan")
    total += 1
    within += abs(ratio - 1) <= 0.15
    name = spec.replace("fr-ma --sync-every ", "fr-ma K = ").replace("launch --local", "launch --local --ps 2 (s-ma)")
    each = " / ".join("{:,}".format(int(r[0])) for r in rs)
    print("| %s | %d | %s | %s | %.2f | %s | %s | %s |" % (name, n, "{:,.0f}".format(p) if p else "-", "{:,}".format(int(steady)), ratio, each,
                                                         "{:,}".format(int(whole)), " / ".join(r[2] for r in rs)))
print("%d of %d cases within 15 %%" % (within, total))
PY
