#!/bin/bash
# Validation of `shadowsync simulate` against measurement on this host (docs/simulator.md): calibrate the DLRM job as
# it is measured (one JVM, emulated network 1gbit / 100us, --in-memory), measure it at N trainers for s-ma, s-easgd,
# fr-ma K = 1 and 10, sync-sgd, async-ps (steady-state examples/s from --metrics), and `launch --local 2 --ps 2`
# (4 processes over loopback), then predict the same configurations and print predicted, measured and their ratio
# per case. Usage: scripts/sim-validate.sh [N ...] (default: 1 2 4 8). Writes under $OUT (default /tmp/sim-validate);
# CALIBRATE=0 keeps a costs.json already there (PAIRED=0), KEEP=1 the measurements (new rounds numbered after
# theirs), LAUNCH=0 skips launch --local,
# MEASURE=0 only predicts (against $OUT/measured.tsv), SIMULATE_FLAGS adds simulate flags (a what-if).
# Every case runs REPS times (default 3; the rounds interleaved), its figure the median. PAIRED=1 (the default)
# calibrates again at the start of every round and predicts that round's runs from that round's costs (the host's
# speed drifts by 10-20 % over half an hour on a shared VM; a prediction and the measurement it is judged against are
# then taken minutes, not half an hour, apart): a case's ratio is the median of its rounds' predicted / measured.
# PAIRED=0 calibrates once, first. Each run trains PER_TRAINER examples per trainer (default 100000; N = 8: 800,000:
# long enough that the measured window, the last 60 %, is past the JIT's warm-up); calibrate runs the job as 1 and 2
# trainers and as launch --local 1 with the same budget (CAL_REPS times each, default 3), and the launch is measured
# with it too. About 12 minutes a round on an idle 2-core host (much longer on a loaded one); run it on a quiet host:
# the load average and the CPU time the hypervisor took from this VM (steal, % of both cores) are printed beside
# every measurement.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/sim-validate}
NS=("${@:-1 2 4 8}")
NS=(${NS[*]})
PER_TRAINER=${PER_TRAINER:-100000}
mkdir -p "$OUT"
# KEEP=1: add to the measurements already there (MEASURE=0 keeps them: it predicts against them)
[ "${KEEP:-0}" = 1 ] || [ "${MEASURE:-1}" = 0 ] || rm -f "$OUT/measured.tsv" "$OUT"/costs.[0-9]*.json
[ -f "$OUT/ctr/train.tsv" ] || ./shadowsync gen-data --out "$OUT/ctr" --rows 60000 --eval-rows 1000 >/dev/null
job=(jobs/dlrm-synthetic.yaml --train "$OUT/ctr/train.tsv" --eval "$OUT/ctr/eval.tsv" --in-memory)
net=(--net-bandwidth 1gbit --net-latency 100us)
PAIRED=${PAIRED:-1}
CAL_REPS=${CAL_REPS:-3}
# calibrate FILE: the same runs as measured below (PER_TRAINER examples a trainer, steady state = the last 60 %), as 1 and 2 trainers
calibrate() {
  echo "calibrating into $1 (load $(cut -d' ' -f1 /proc/loadavg))" >&2
  ./shadowsync calibrate "${job[@]}" "${net[@]}" --out "$1" --reps "$CAL_REPS" --calibrate-examples "$PER_TRAINER" --launch 2>&1 | grep -E "run|step|wake|gRPC" >&2
}
if [ "$PAIRED" = 0 ] && { [ "${CALIBRATE:-1}" = 1 ] || [ ! -f "$OUT/costs.json" ]; }; then  # CALIBRATE=0: keep $OUT/costs.json
  calibrate "$OUT/costs.json"
fi
# the CPU time the hypervisor gave to other guests while this one wanted it (steal), in ticks of both cores, and all ticks
ticks() { awk '/^cpu /{t=0; for (i=2;i<=9;i++) t+=$i; print $9, t}' /proc/stat; }
steal_since() { ticks | awk -v s0="$1" -v t0="$2" '{ printf "%.1f", ($2 > t0) ? 100 * ($1 - s0) / ($2 - t0) : 0 }'; }

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
# KEEP=1: the new rounds are numbered after those already in measured.tsv, each with its own costs.R.json
first_round=$(( $( [ -f "$OUT/measured.tsv" ] && awk -F'\t' 'NF >= 6 && $6 > m { m = $6 } END { print m + 0 }' "$OUT/measured.tsv" || echo 0) + 1 ))
for rep in $(seq "$first_round" $((first_round + REPS - 1))); do
if [ "$PAIRED" = 1 ] && [ "${MEASURE:-1}" = 1 ]; then calibrate "$OUT/costs.$rep.json"; fi
for n in "${NS[@]}"; do
  [ "${MEASURE:-1}" = 1 ] || break  # MEASURE=0: predict only, against the measurements in $OUT/measured.tsv
  for spec in "s-ma" "s-easgd" "fr-ma --sync-every 1" "fr-ma --sync-every 10" "sync-sgd" "async-ps"; do
    rm -f "$OUT/m.jsonl"
    read -r s0 t0 < <(ticks)
    # shellcheck disable=SC2086
    ./shadowsync train "${job[@]}" "${net[@]}" --save "$OUT/m.model" --summary-json "$OUT/s.json" --no-progress \
        --examples $((PER_TRAINER * n)) --trainers "$n" --sync $spec --metrics "$OUT/m.jsonl" --log-every 1 >/dev/null 2>&1
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$spec" "$n" "$(steady "$OUT/m.jsonl" "$OUT/s.json")" "$(cut -d' ' -f1 /proc/loadavg)" "$rep" "$(steal_since "$s0" "$t0")" >> "$OUT/measured.tsv"
    echo "measured: $(tail -1 "$OUT/measured.tsv")" >&2
  done
done
# launch --local 2 --ps 2: PER_TRAINER examples a trainer, as calibrated, with the data in memory as calibrated. LAUNCH=0 skips it.
if [ "${LAUNCH:-1}" = 1 ] && [ "${MEASURE:-1}" = 1 ]; then
  rm -f "$OUT"/m*.jsonl
  read -r s0 t0 < <(ticks)
  ./shadowsync launch --local 2 --ps 2 jobs/dlrm-synthetic.yaml --train "$OUT/ctr/train.tsv" --eval "$OUT/ctr/eval.tsv" --in-memory --no-progress \
      --examples $((PER_TRAINER * 2)) --rendezvous-timeout 300 --save "$OUT/l.model" --summary-json "$OUT/s.json" --metrics "$OUT/m.jsonl" --log-every 1 >/dev/null 2>&1
  cat "$OUT"/m*.jsonl > "$OUT/all.jsonl"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "launch --local" 2 "$(steady "$OUT/all.jsonl" "$OUT/s.json")" "$(cut -d' ' -f1 /proc/loadavg)" "$rep" "$(steal_since "$s0" "$t0")" >> "$OUT/measured.tsv"
  echo "measured: $(tail -1 "$OUT/measured.tsv")" >&2
fi
done

list=$(IFS=,; echo "${NS[*]}")
# predict FILE TAG: every case from the costs in FILE, into $OUT/p*.TAG.json
predict() {
  # SIMULATE_FLAGS: more simulate flags for a what-if, e.g. SIMULATE_FLAGS="--quantum 4ms"
  # shellcheck disable=SC2206
  local sim=(./shadowsync simulate "${job[@]}" --costs "$1" --trainers-per-host 0 ${SIMULATE_FLAGS:-})
  "${sim[@]}" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --algorithms s-ma,s-easgd,sync-sgd,async-ps --summary-json "$OUT/p.$2.json" >/dev/null 2>&1
  "${sim[@]}" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --algorithms fr-ma --sync-every 1 --summary-json "$OUT/p1.$2.json" >/dev/null 2>&1
  "${sim[@]}" --trainers "$list" --bandwidth 1gbit --latency 100us --in-process --algorithms fr-ma --sync-every 10 --summary-json "$OUT/p10.$2.json" >/dev/null 2>&1
  "${sim[@]}" --trainers 2 --bandwidth inf --latency 0 --servers-on-host --ps-shards 2 --summary-json "$OUT/pl.$2.json" >/dev/null 2>&1
}
rm -f "$OUT"/p*.*.json
# round 0: the one calibration of PAIRED=0 (or of an older run); round R: the calibration at the start of round R
if [ -f "$OUT/costs.json" ]; then predict "$OUT/costs.json" 0; fi
for f in "$OUT"/costs.*.json; do
  [ -f "$f" ] || continue
  r=${f##*/costs.}; predict "$f" "${r%.json}"
done

python3 - "$OUT" <<'PY'
import glob, json, os, statistics, sys
out = sys.argv[1]
pred, costs = {}, {}  # pred[(round, case, N)]; costs[round]
for path in glob.glob(out + "/p*.*.json"):
    f, rnd = os.path.basename(path).split(".")[:2]
    key = {"p": None, "p1": "fr-ma --sync-every 1", "p10": "fr-ma --sync-every 10", "pl": "launch --local"}[f]
    for r in json.load(open(path))["results"]:
        pred[(int(rnd), key or r["algorithm"], r["trainers"])] = r["examples_per_sec"]
for path in glob.glob(out + "/costs*.json"):
    b = os.path.basename(path)
    costs[0 if b == "costs.json" else int(b.split(".")[1])] = json.load(open(path))
if not costs:
    sys.exit("no costs.json or costs.R.json in " + out)
for rnd in sorted(costs):
    c = costs[rnd]
    print("%s at load %.1f: step %.2f ms wall, %.2f ms CPU (workers %.2f ms), varying by %.2f, compute only %.2f ms%s"
          % ("calibrated" if rnd == 0 else "round %d calibrated" % rnd, c["machine"]["load_average"], c["step"]["wall"]["median"] * 1e3,
             c["step"]["cpu"]["median"] * 1e3, c["step"]["worker_cpu"]["median"] * 1e3,
             (c["step"].get("step_cv") or {"median": float("nan")})["median"], c["compute_step"]["median"] * 1e3,
             "; launched step %.2f ms" % (c["launched"]["wall"]["median"] * 1e3) if c.get("launched") else ""))
runs = {}
for line in open(out + "/measured.tsv"):
    cols = line.rstrip("\n").split("\t")
    spec, n, steady, whole, load = cols[:5]
    rnd = int(cols[5]) if len(cols) > 5 and int(cols[5]) in costs else min(costs)
    steal = cols[6] if len(cols) > 6 else "-"
    runs.setdefault((spec, int(n)), []).append((float(steady), float(whole), load, rnd, steal))
first = min(r[3] for rs in runs.values() for r in rs)  # the first round measured: its calibration predicts every round below
paired = len({r[3] for rs in runs.values() for r in rs}) > 1
print("| case | N | predicted ex/s (median) | measured ex/s (steady, median) | predicted / measured%s | runs: measured (predicted / measured) | measured (whole run, median) | load average | steal %% |"
      % (" (median of the rounds')" if paired else ""))
print("|---|---|---:|---:|---:|---|---:|---:|---:|")
within = within_first = total = 0
for (spec, n), rs in runs.items():
    def ratio(rnd_of):
        """the median over the case's runs of predicted (from the costs of round rnd_of(run)) / measured"""
        rr = [pred[(rnd_of(r), spec, n)] / r[0] for r in rs if (rnd_of(r), spec, n) in pred and r[0] > 0]
        return statistics.median(rr) if rr else float("nan")
    steady = statistics.median(r[0] for r in rs)
    whole = statistics.median(r[1] for r in rs)
    ps = [pred[(r[3], spec, n)] for r in rs if (r[3], spec, n) in pred]
    own, one = ratio(lambda r: r[3]), ratio(lambda r: first)
    total += 1
    within += abs(own - 1) <= 0.15
    within_first += abs(one - 1) <= 0.15
    name = spec.replace("fr-ma --sync-every ", "fr-ma K = ").replace("launch --local", "launch --local --ps 2 (s-ma)")
    each = " / ".join("{:,}".format(int(r[0])) + (" (%.2f)" % (pred[(r[3], spec, n)] / r[0]) if (r[3], spec, n) in pred and r[0] > 0 else "") for r in rs)
    print("| %s | %d | %s | %s | %.2f | %s | %s | %s | %s |" % (name, n, "{:,.0f}".format(statistics.median(ps)) if ps else "-", "{:,}".format(int(steady)),
                                                               own, each, "{:,}".format(int(whole)), " / ".join(r[2] for r in rs), " / ".join(r[4] for r in rs)))
print("%d of %d cases within 15 %%" % (within, total))
if paired:
    print("%d of %d within 15 %% with round %d's calibration predicting every round" % (within_first, total, first))
PY
