#!/usr/bin/env bash
# s-easgd under top-k against float32 and int8 on the Fashion-MNIST MLP (docs/benchmarks.md, "s-easgd under top-k:
# the float32 last round"): the compression grid's s-easgd cells at 1 Gbit/s + 0.5 ms, N = 4 and 8, half a pass
# (30,000 images), two repetitions, 12 runs of `shadowsync train` (about 3-4 minutes on a quiet 2-core host).
# Builds nothing: build the CLI jar first (./mvnw -pl cli -am package -DskipTests).
#   scripts/easgd-topk.sh [OUT]      (OUT: /tmp/easgd-topk; cells already there are skipped)
# Writes OUT/grid.tsv and OUT/grid.md (scripts/compression-grid.py). Expected: topk:0.01 within ~0.02 accuracy of
# none at each N (it lost 0.09-0.31 before the float32 last round), int8 within ~0.01.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODELS=mlp NETS=1gbit NS="${NS:-4 8}" ALGS=s-easgd CODECS="${CODECS:-none int8 topk:0.01}" REPS="${REPS:-2}" \
  MLP_EXAMPLES="${MLP_EXAMPLES:-30000}" "$here/scripts/compression-grid.sh" "${1:-/tmp/easgd-topk}"
