#!/usr/bin/env bash
# The same DLRM job in one JVM (train) and as 4 JVMs (launch --local 2 --ps 2), interleaved, REPS times each; with
# OLD=/path/to/other/checkout/shadowsync, that checkout's launch too (e.g. the commit before the row streams); with
# STREAM=1, launch --ps-rows stream too (the rows on gRPC streams instead of the servers' row lanes); with
# ALT="VAR='value' ...", launch once more under those environment variables, as kind alt (e.g. the child JVMs' flags:
# ALT="SHADOWSYNC_PS_JAVA_OPTS='-XX:+UseSerialGC'"); TRAIN_ALT likewise runs train once more, as kind train-alt (e.g.
# TRAIN_ALT="JAVA_OPTS='-XX:AOTCache=train.aot'"); kind colocate is launch --colocate (each shard inside its trainer's
# JVM: 2 JVMs, not 4); KINDS='launch alt' runs only the kinds named (e.g. KINDS='train launch colocate').
# Flags after the job file go to every run (e.g. --epochs 3). With CPU=1 each run's CPU seconds by process and thread
# group follow its line (scripts/thread-cpu.py: JIT compilers, gRPC transport, workers...).
# Prints one line per run: kind, rep, examples/s, eval logloss, worker wait fraction, training seconds, load average
# at the start.
#   ./shadowsync gen-data --out data/ctr && scripts/ps-job-compare.sh [JOB.yaml [FLAGS...]]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
job="${1:-jobs/dlrm-synthetic.yaml}"
shift || true
reps="${REPS:-3}"
out="$(mktemp -d)"
kinds="train launch"
[ "${STREAM:-0}" = 1 ] && kinds="$kinds stream"
[ -n "${OLD:-}" ] && kinds="$kinds old"
[ -n "${TRAIN_ALT:-}" ] && kinds="$kinds train-alt"
[ -n "${ALT:-}" ] && kinds="$kinds alt"
kinds="${KINDS:-$kinds}"
for rep in $(seq 1 "$reps"); do
  for kind in $kinds; do
    load="$(cut -d' ' -f1 /proc/loadavg)"
    s="$out/$kind-$rep.json"
    case $kind in
      train) "$here/shadowsync" train "$job" --no-progress --save "$out/m" --summary-json "$s" "$@" > /dev/null 2>&1 & ;;
      train-alt) ( eval "export $TRAIN_ALT"; exec "$here/shadowsync" train "$job" --no-progress --save "$out/m" --summary-json "$s" "$@" ) > /dev/null 2>&1 & ;;
      launch) "$here/shadowsync" launch --local 2 --ps 2 "$job" --no-progress --rendezvous-timeout 600 --save "$out/m" --summary-json "$s" "$@" > /dev/null 2>&1 & ;;
      stream) "$here/shadowsync" launch --local 2 --ps 2 "$job" --ps-rows stream --no-progress --rendezvous-timeout 600 --save "$out/m" --summary-json "$s" "$@" > /dev/null 2>&1 & ;;
      alt) ( eval "export $ALT"; exec "$here/shadowsync" launch --local 2 --ps 2 "$job" --no-progress --rendezvous-timeout 600 --save "$out/m" --summary-json "$s" "$@" ) > /dev/null 2>&1 & ;;
      colocate) "$here/shadowsync" launch --local 2 --ps 2 --colocate "$job" --no-progress --rendezvous-timeout 600 --save "$out/m" --summary-json "$s" "$@" > /dev/null 2>&1 & ;;
      old) "$OLD" launch --local 2 --ps 2 "$job" --no-progress --rendezvous-timeout 600 --save "$out/m" --summary-json "$s" "$@" > /dev/null 2>&1 & ;;
    esac
    pid=$!
    if [ "${CPU:-0}" = 1 ]; then python3 "$here/scripts/thread-cpu.py" "$pid" > "$out/cpu"; fi
    wait "$pid"
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sys.argv[2], sys.argv[3], d['examples_per_sec'], round(d['eval']['logloss'], 4), d['worker_wait_fraction'], d['seconds'], 'load', sys.argv[4])" "$s" "$kind" "$rep" "$load"
    if [ "${CPU:-0}" = 1 ]; then cat "$out/cpu"; fi
  done
done
rm -rf "$out"
