#!/usr/bin/env bash
# ChatQnA on one node with the built-in services: non-streaming query
# throughput and latency (wrk, 1 and 32 connections) and time to first token
# of streamed answers (curl's time_starttransfer, median of 50 sequential
# requests). Loopback only, bounded durations.
#
# The index (default): CHUNKS=10000 generated chunks plus the bundled corpus
# (21 documents, 42 chunks, so the question still finds its answer among
# 10k distractors). The generated documents are written by
# `opea-bench-ingest --write-corpus DIR --chunks N` (deterministic, seed 42,
# English-like text, chunked with the config's 1500/100) and ingested with
# `opea-node --config ... --data-dir ... ingest DIR examples/chatqna/corpus`
# before the node starts (the node then skips its own corpus ingestion, the
# store not being empty). CHUNKS=0: the bundled corpus only, ingested by the
# node on start, as the first numbers in BENCHMARKS.md were measured.
#
# Usage: bench/run_chatqna_bench.sh [BUILD_DIR]   (env: DURATION=10 CHUNKS=10000 IO_THREADS=)
set -euo pipefail
BUILD_DIR=${1:-/work/build-bench}
DURATION=${DURATION:-10}
CHUNKS=${CHUNKS:-10000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
NODE=$(find "$BUILD_DIR" -type f -name opea-node -perm -u+x | head -n1)
[ -n "$NODE" ] || { echo "opea-node not found under $BUILD_DIR" >&2; exit 2; }
if [ "$CHUNKS" -gt 0 ]; then
  INGEST=$(find "$BUILD_DIR" -type f -name opea-bench-ingest -perm -u+x | head -n1)
  [ -n "$INGEST" ] || { echo "opea-bench-ingest not found under $BUILD_DIR" >&2; exit 2; }
fi
command -v wrk >/dev/null || { echo "wrk not installed" >&2; exit 2; }
work=$(mktemp -d /tmp/opea-chatqna-bench.XXXXXX)
# On exit: stop the node and drop the generated corpus and the index (logs and
# wrk outputs stay in $work).
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work/corpus" "$work/data"
}
trap cleanup EXIT
# IO_THREADS=N sets node.http.io_threads (A/B runs; default: the node's).
sed "s/log_level: info/log_level: warn/" "$SRC/examples/chatqna/chatqna.yaml" |
  sed "s#corpus: examples/chatqna/corpus#corpus: $SRC/examples/chatqna/corpus#" |
  sed "s#^    port: 8888 .*#&${IO_THREADS:+\n    io_threads: $IO_THREADS}#" > "$work/chatqna.yaml"
if [ "$CHUNKS" -gt 0 ]; then
  "$INGEST" --config "$work/chatqna.yaml" --write-corpus "$work/corpus" --chunks "$CHUNKS"
  start=$(date +%s.%N)
  "$NODE" --config "$work/chatqna.yaml" --data-dir "$work/data" \
    ingest "$work/corpus" "$SRC/examples/chatqna/corpus" > "$work/ingest.log"
  end=$(date +%s.%N)
  total=$(sed -n 's/^done: \([0-9]*\) documents, \([0-9]*\) chunks.*/\2/p' "$work/ingest.log")
  docs=$(sed -n 's/^done: \([0-9]*\) documents.*/\1/p' "$work/ingest.log")
  awk -v n="$total" -v d="$docs" -v s="$start" -v e="$end" 'BEGIN {
    printf "index: %d chunks from %d documents, opea-node ingest took %.1f s (%.0f chunks/s)\n",
      n, d, e - s, n / (e - s) }'
else
  echo "index: the bundled corpus only (ingested by the node on start)"
fi
"$NODE" --config "$work/chatqna.yaml" --http-port 0 --data-dir "$work/data" > "$work/node.log" 2>&1 &
pid=$!
start=$(date +%s.%N)
port=""
# Up to 120 s: the node reopens the store first, and `opea-node ingest` leaves
# the changes since the last snapshot in the log, which the open replays.
for _ in $(seq 1 2400); do
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/node.log")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/node.log"; exit 1; }
  read -r -t 0.05 <> <(:) || true
done
[ -n "$port" ] || { echo "opea-node did not listen within 120 s" >&2; cat "$work/node.log"; exit 1; }
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "node listening after %.1f s\n", e - s }'
url="http://127.0.0.1:$port/v1/chatqna"
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"messages": "How does the supervisor restart a crashed service?", "stream": false}'
LUA
curl -sf "$url" -H 'Content-Type: application/json' \
  -d '{"messages": "How does the supervisor restart a crashed service?", "stream": false}' \
  > "$work/answer.json"
echo "answer cites: $(grep -o 'Sources: [^"]*' "$work/answer.json" | sed 's/^Sources: //')"
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
