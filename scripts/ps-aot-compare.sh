#!/usr/bin/env bash
# Whether an AOT cache (JDK 25: classes loaded and linked ahead of time, and method profiles, from a training run)
# speeds the JVMs of a job up: first one run of each form records its cache (train: one cache; launch --local 2 --ps 2:
# one for the trainers, one for the servers, through SHADOWSYNC_TRAINER_JAVA_OPTS and SHADOWSYNC_PS_JAVA_OPTS), then
# scripts/ps-job-compare.sh runs train and launch without and with them, interleaved (kinds train, train-alt, launch,
# alt). Build the jar first: a cache names the jar and its time, and a JVM given the cache of another jar runs without
# it (with a warning). Flags after the job file go to every run, e.g. --epochs 3. REPS (default 3) as in
# ps-job-compare.sh; CPU=1 adds the CPU seconds by thread group.
#   ./shadowsync gen-data --out data/ctr && scripts/ps-aot-compare.sh jobs/dlrm-synthetic.yaml --epochs 3
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
job="${1:-jobs/dlrm-synthetic.yaml}"
shift || true
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
JAVA_OPTS="-XX:AOTCacheOutput=$dir/train.aot" "$here/shadowsync" train "$job" --no-progress --save "$dir/m" "$@" > /dev/null 2> "$dir/log" \
  || { cat "$dir/log" >&2; exit 1; }
# each child JVM writes its cache as it exits, after trainer 0's summary, and the JVM's lines about it come after that
# summary on stdout, so launch reports a job without a summary here: what counts is that the caches were written
SHADOWSYNC_TRAINER_JAVA_OPTS="-XX:AOTCacheOutput=$dir/trainer-%p.aot" SHADOWSYNC_PS_JAVA_OPTS="-XX:AOTCacheOutput=$dir/ps-%p.aot" \
  "$here/shadowsync" launch --local 2 --ps 2 "$job" --no-progress --rendezvous-timeout 600 --save "$dir/m" "$@" > /dev/null 2> "$dir/log" || true
trainer="$(ls "$dir"/trainer-*.aot 2> /dev/null | head -1)"
ps="$(ls "$dir"/ps-*.aot 2> /dev/null | head -1)"
[ -n "$trainer" ] && [ -n "$ps" ] || { cat "$dir/log" >&2; echo "no AOT cache was written" >&2; exit 1; }
rm -f "$dir/m"
echo "AOT caches: $dir/train.aot $trainer $ps" >&2
TRAIN_ALT="JAVA_OPTS='-XX:AOTCache=$dir/train.aot'" \
ALT="SHADOWSYNC_TRAINER_JAVA_OPTS='-XX:AOTCache=$trainer' SHADOWSYNC_PS_JAVA_OPTS='-XX:AOTCache=$ps'" \
KINDS="train train-alt launch alt" "$here/scripts/ps-job-compare.sh" "$job" "$@"
