#!/usr/bin/env bash
# --compress-rows on a quiet host (about 5 minutes): the parameter-server row lane's rows/s and bytes per row with each
# row codec (PsBench: one shard in this JVM, 26 tables of dim 16, 4 client threads, the trainer-like step of pulls and
# pushes), then the DLRM job (jobs/dlrm-synthetic.yaml: 2 trainers, 2 in-process shards) once per codec: eval
# logloss, examples/s and the summary's row bytes and ratio. Prints JSON lines (PsBench) and one line per DLRM run.
# Expected: bytes_per_row 64 (none), 32 (fp16, bf16), 20 (int8: 16 bytes and a scale) on the lane; ratios 1, 2, 2,
# 3.2; eval logloss within run-to-run spread (about ±0.005) of none's for fp16 and bf16, int8 a little above at most.
# Flags given go to every DLRM run (e.g. --examples 200000 to shorten it).
#   ./mvnw -B -ntp -q -pl cli,bench -am package -DskipTests && ./shadowsync gen-data --out data/ctr && scripts/row-codec-bench.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
codecs="${CODECS:-none,fp16,bf16,int8}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
# row lane: 4 codecs x (1 warm-up + 3 reps) x 1 s of the train op
"$java" --add-modules jdk.incubator.vector -cp "$here/bench/target/benchmarks.jar" io.shadowsync.bench.PsBench \
  --ops train --calls lane --reps 3 --rep-ms 1000 --row-codecs "$codecs" 2>/dev/null
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
for c in ${codecs//,/ }; do
  s="$out/$c.json"
  "$here/shadowsync" train "$here/jobs/dlrm-synthetic.yaml" --train "$here/data/ctr/train.tsv" --eval "$here/data/ctr/eval.tsv" \
    --compress-rows "$c" --no-progress --save "$out/m" --summary-json "$s" "$@" > /dev/null
  python3 -c "
import json, sys
d = json.load(open(sys.argv[1])); r = d.get('rows', {})
print('dlrm', sys.argv[2], 'examples/s', d['examples_per_sec'], 'eval_logloss', round(d['eval']['logloss'], 4),
      'rows_pulled', r.get('pulled'), 'bytes_pulled', r.get('bytes_pulled'), 'bytes_pushed', r.get('bytes_pushed'),
      'ratio', r.get('compression_ratio'))" "$s" "$c"
done
echo "load $(cut -d' ' -f1-3 /proc/loadavg)"
