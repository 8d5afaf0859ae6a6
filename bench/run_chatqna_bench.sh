#!/usr/bin/env bash
# ChatQnA on one node with the built-in services and the bundled corpus:
# non-streaming query throughput and latency (wrk, 1 and 32 connections) and
# time to first token of streamed answers (curl's time_starttransfer, median
# of 50 sequential requests). Loopback only, bounded durations.
# Usage: bench/run_chatqna_bench.sh [BUILD_DIR]   (env: DURATION=10)
set -euo pipefail
BUILD_DIR=${1:-/work/build-bench}
DURATION=${DURATION:-10}
SRC=$(cd "$(dirname "$0")/.." && pwd)
NODE=$(find "$BUILD_DIR" -type f -name opea-node -perm -u+x | head -n1)
[ -n "$NODE" ] || { echo "opea-node not found under $BUILD_DIR" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 2; }
work=$(mktemp -d /tmp/opea-chatqna-bench.XXXXXX)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT
sed "s/log_level: info/log_level: warn/" "$SRC/examples/chatqna/chatqna.yaml" |
  sed "s#corpus: examples/chatqna/corpus#corpus: $SRC/examples/chatqna/corpus#" > "$work/chatqna.yaml"
"$NODE" --config "$work/chatqna.yaml" --http-port 0 --data-dir "$work/data" > "$work/node.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 400); do
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/node.log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/node.log"; exit 1; }
  read -r -t 0.05 <> <(:) || true
done
url="http://127.0.0.1:$port/v1/chatqna"
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"messages": "How does the supervisor restart a crashed service?", "stream": false}'
LUA
curl -sf "$url" -H 'Content-Type: application/json' \
  -d '{"messages": "How does the supervisor restart a crashed service?", "stream": false}' > /dev/null
for c in 1 32; do
  wrk -t1 -c$c -d${DURATION}s --latency -s "$work/post.lua" "$url" > "$work/wrk-$c.txt"
  rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk-$c.txt")
  p50=$(awk '$1=="50%" {print $2}' "$work/wrk-$c.txt")
  p99=$(awk '$1=="99%" {print $2}' "$work/wrk-$c.txt")
  echo "non-streaming ChatQnA, $c connection(s): $rps req/s, p50 $p50, p99 $p99"
done
for i in $(seq 1 50); do
  curl -s -o /dev/null -w '%{time_starttransfer} %{time_total}\n' "$url" \
    -H 'Content-Type: application/json' -d '{"messages": "What does the reranker do?"}'
done | sort -n > "$work/ttft.txt"
ttft=$(awk 'NR==25 {printf "%.3f", $1*1000}' "$work/ttft.txt")
total=$(sort -k2 -n "$work/ttft.txt" | awk 'NR==25 {printf "%.3f", $2*1000}')
echo "streamed ChatQnA: time to first token p50 ${ttft} ms, whole answer p50 ${total} ms"
