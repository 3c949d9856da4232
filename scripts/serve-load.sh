#!/usr/bin/env bash
# Load test of `shadowsync serve` over loopback: serves MODEL with batching on (--max-batch 64 --max-wait-us 500) and
# off (--max-batch 1), and for each runs scripts/ServeLoad.java (single-example requests, closed loop) at
# concurrency 1, 8 and 32 for SECONDS each. Usage: scripts/serve-load.sh MODEL BODY.json [SECONDS]
set -euo pipefail
model=$1 body=$2 seconds=${3:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
java=${JAVA_HOME:+$JAVA_HOME/bin/}java
for flags in "--max-batch 64 --max-wait-us 500" "--max-batch 1"; do
  log=$(mktemp)
  "$here/shadowsync" serve --model-file "$model" --port 0 $flags 2>"$log" &
  pid=$!
  trap 'kill -TERM $pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do grep -q "listening on" "$log" && break; sleep 0.2; done
  url=$(grep -o 'http://[^ ]*' "$log" | head -1)
  [ -n "$url" ] || { cat "$log" >&2; exit 1; }
  echo "serve $flags"
  "$java" "$here/scripts/ServeLoad.java" "$url/v1/score" "$body" "$seconds" 1 8 32
  curl -s "$url/metrics" | grep -E '^shadowsync_serve_(forward_calls|batched_examples)_total' || true
  kill -TERM $pid
  wait $pid || true
  trap - EXIT
  rm -f "$log"
done
