#!/usr/bin/env bash
# Federated LR and DLRM on generated clicks (docs/federated.md, "Models with embedding tables"): the four runs of
# its table, each summary in $OUT/*.json and one line per run on stdout. About 5 minutes on a quiet 2-core host.
# Expected: LR eval logloss ≈ 0.517 (AUC ≈ 0.73) with and without --secure-agg (equal to ~8 digits), DLRM ≈ 0.526.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/federated-tables}
mkdir -p "$OUT"
[ -f "$OUT/ctr/train.tsv" ] || ./shadowsync gen-data --out "$OUT/ctr" --rows 200000 --eval-rows 50000 --seed 1234 >/dev/null
common=(--train "$OUT/ctr/train.tsv" --eval "$OUT/ctr/eval.tsv" --clients 20 --fraction 0.5 --rounds 10 --lr 0.2 --batch 128 --seed 1)
run() {
  local name=$1; shift
  ./shadowsync federate "$@" "${common[@]}" --summary-json "$OUT/$name.json" >/dev/null 2>"$OUT/$name.log"
  python3 - "$OUT/$name.json" "$name" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); r = d["rounds"]
print(f"{sys.argv[2]}: eval logloss {d['eval']['logloss']:.4f} auc {d['eval']['auc']:.3f}, "
      f"upload/round {d['upload_bytes'] / r / 1e6:.1f} MB, download/round {d['download_bytes'] / r / 1e6:.1f} MB, {d['seconds']:.1f} s")
PY
}
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
run lr18 --model lr --hash-bits 18
run lr16 --model lr --hash-bits 16
run lr16-secure --model lr --hash-bits 16 --secure-agg
run dlrm --model dlrm --emb-rows 10000 --emb-dim 16
