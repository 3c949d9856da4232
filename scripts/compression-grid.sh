#!/usr/bin/env bash
# The compression benchmark grid (docs/benchmarks.md, "Compressed synchronization"): every shadow algorithm x every
# codec x N trainers x emulated network x model, one `shadowsync train` in one JVM per cell, W = 1 per trainer,
# rounds back to back (--sync-interval-ms 0 --sync-cpu 1). Builds nothing: run `./shadowsync --help` (or the Maven
# package) first. Cells whose summary exists are skipped, so an interrupted grid resumes where it stopped. Order:
# repetition, network, N, model, algorithm, codec (a grid cut short has both models on the first network).
#   scripts/compression-grid.sh [OUT]            (OUT: /tmp/compression-grid)
# Per cell OUT/runs/CELL/ is its --run-dir (metrics.jsonl, summary.json, job.yaml), OUT/summaries/CELL.json its
# --summary-json, OUT/logs/CELL.log its stderr, OUT/load.tsv the load average when it started. At the end
# scripts/compression-grid.py writes OUT/grid.tsv and OUT/grid.md (one table per model x network) and, where
# matplotlib is installed, OUT/compression-grid.png.
# Environment (defaults in brackets): MODELS [dlrm mlp], NETS [100mbit 1gbit], NS [4 8],
# ALGS [s-ma s-bmuf s-easgd s-gossip], CODECS [none fp16 bf16 int8 int8:stochastic topk:0.01], REPS [1],
# LATENCY [0.5ms], DLRM_EXAMPLES [50000] (of `gen-data --rows 100000`, written to OUT/ctr if missing),
# MLP_EXAMPLES [60000: one pass of Fashion-MNIST's training set], FASHION [/usr/share/datasets/fashion-mnist],
# CELL_TIMEOUT [600 s; a cell past it is recorded in OUT/failed.tsv and the grid goes on], PYTHON [/usr/bin/python3].
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-/tmp/compression-grid}"
models="${MODELS:-dlrm mlp}"
nets="${NETS:-100mbit 1gbit}"
ns="${NS:-4 8}"
algs="${ALGS:-s-ma s-bmuf s-easgd s-gossip}"
codecs="${CODECS:-none fp16 bf16 int8 int8:stochastic topk:0.01}"
reps="${REPS:-1}"
latency="${LATENCY:-0.5ms}"
dlrm_examples="${DLRM_EXAMPLES:-50000}"
mlp_examples="${MLP_EXAMPLES:-60000}"
fashion="${FASHION:-/usr/share/datasets/fashion-mnist}"
cell_timeout="${CELL_TIMEOUT:-600}"
jar="$here/cli/target/shadowsync.jar"
[ -f "$jar" ] || { echo "compression-grid: $jar is missing; build it first (./mvnw -pl cli -am package -DskipTests)" >&2; exit 2; }
mkdir -p "$out/runs" "$out/summaries" "$out/logs"

if [[ " $models " == *" dlrm "* ]]; then
  if [ ! -f "$out/ctr/train.tsv" ]; then
    "$here/shadowsync" gen-data --out "$out/ctr" --rows 100000 --eval-rows 20000 --seed 1234 > /dev/null 2>&1
  fi
  # the main DLRM job without its own data paths, model file and summary (every cell names its own)
  grep -v -E '^(train|eval|save|summary-json):' "$here/jobs/dlrm-synthetic.yaml" > "$out/dlrm.yaml"
fi

model_flags() { # model -> the flags that pick its job and data
  case $1 in
    dlrm) echo "$out/dlrm.yaml --train $out/ctr/train.tsv --eval $out/ctr/eval.tsv --examples $dlrm_examples" ;;
    mlp) echo "--model mlp --format idx --train $fashion/train-images-idx3-ubyte.gz
          --train-labels $fashion/train-labels-idx1-ubyte.gz --eval $fashion/t10k-images-idx3-ubyte.gz
          --eval-labels $fashion/t10k-labels-idx1-ubyte.gz --idx-mean 0.2860 --idx-std 0.3530 --in-memory --shuffle
          --examples $mlp_examples" ;;
    *) echo "compression-grid: unknown model '$1' in MODELS (dlrm, mlp)" >&2; exit 2 ;;
  esac
}

total=0; for m in $models; do for net in $nets; do for n in $ns; do for a in $algs; do for c in $codecs; do
  for r in $(seq 1 "$reps"); do total=$((total + 1)); done; done; done; done; done; done
i=0
for rep in $(seq 1 "$reps"); do
for net in $nets; do
  for n in $ns; do
    for model in $models; do
      flags="$(model_flags "$model")"
      for alg in $algs; do
        for codec in $codecs; do
          i=$((i + 1))
          cell="$model-$net-n$n-$alg-${codec//:/_}-r$rep"
          summary="$out/summaries/$cell.json"
          [ -f "$summary" ] && continue
          load="$(cut -d' ' -f1-3 /proc/loadavg)"
          printf '%s\t%s\t%s\n' "$cell" "$(date -u +%H:%M:%S)" "$load" >> "$out/load.tsv"
          echo "[$i/$total] $cell (load $load)" >&2
          rm -rf "$out/runs/$cell"
          rc=0
          # shellcheck disable=SC2086
          timeout "$cell_timeout" "$here/shadowsync" train $flags --trainers "$n" --workers 1 --sync "$alg" \
              --compress "$codec" --net-bandwidth "$net" --net-latency "$latency" --sync-interval-ms 0 --sync-cpu 1 \
              --no-progress --run-dir "$out/runs/$cell" --summary-json "$summary.tmp" \
              > /dev/null 2> "$out/logs/$cell.log" || rc=$?
          if [ "$rc" != 0 ]; then
            printf '%s\texit %s\t%s\n' "$cell" "$rc" "$(tail -1 "$out/logs/$cell.log")" >> "$out/failed.tsv"
            rm -f "$summary.tmp"
            continue
          fi
          mv "$summary.tmp" "$summary"
        done
      done
    done
  done
done
done
python="${PYTHON:-python3}"
[ -z "${PYTHON:-}" ] && [ -x /usr/bin/python3 ] && python=/usr/bin/python3  # Debian's, with python3-matplotlib
"$python" "$here/scripts/compression-grid.py" "$out"
