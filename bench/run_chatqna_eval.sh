#!/usr/bin/env bash
# ChatQnA answer quality on tests/data/chatqna_eval.json, asked over HTTP as a
# user asks it: starts a node on examples/chatqna/chatqna.yaml (the bundled
# corpus, ingested on start, as scripts/start.sh serves it) plus a
# "retrieval" megaservice (embedding >> retriever on /v1/retrieval, for
# hit@1 / hit@4), then runs opea-bench-chatqna-eval against it.
#
# Usage: bench/run_chatqna_eval.sh [BUILD_DIR]   (default: build; env SHOW=N
#        prints the first N misses of each kind per half)
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-$SRC/build}
NODE=$(find "$BUILD_DIR" -type f -name opea-node -perm -u+x | head -n1)
EVAL=$(find "$BUILD_DIR" -type f -name opea-bench-chatqna-eval -perm -u+x | head -n1)
[ -n "$NODE" ] && [ -n "$EVAL" ] ||
  { echo "opea-node and opea-bench-chatqna-eval must be built under $BUILD_DIR" >&2; exit 2; }
work=$(mktemp -d /tmp/opea-chatqna-eval.XXXXXX)
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
# The bundled config, its corpus path made absolute, with a retrieval
# megaservice added at the end of its megaservices list (before dataprep:).
sed -e "s#corpus: examples/chatqna/corpus#corpus: $SRC/examples/chatqna/corpus#" \
  -e '/^dataprep:/i\  - {name: retrieval, route: /v1/retrieval, flows: [embedding >> retriever]}' \
  "$SRC/examples/chatqna/chatqna.yaml" >"$work/node.yaml"
mkfifo "$work/out"
"$NODE" --config "$work/node.yaml" --http-port 0 --data-dir "$work/data" >"$work/out" 2>&1 &
pid=$!
port=""
while IFS= read -r line; do
  if [[ "$line" =~ ^listening\ on\ .*:([0-9]+)$ ]]; then port=${BASH_REMATCH[1]}; break; fi
done <"$work/out"
[ -n "$port" ] || { echo "the node did not start" >&2; exit 1; }
cat "$work/out" >/dev/null &
"$EVAL" "http://127.0.0.1:$port/v1/chatqna" --retrieval "http://127.0.0.1:$port/v1/retrieval" \
  --show "${SHOW:-0}"
