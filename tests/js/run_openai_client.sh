#!/usr/bin/env bash
# Runs the official `openai` npm SDK (installed into tests/js/node_modules by
# scripts/setup.sh) against a real opea-node serving ChatQnA.
# Usage: run_openai_client.sh OPEA_NODE_BINARY SOURCE_DIR
set -euo pipefail
node_bin=$1 src=$2
command -v node >/dev/null || { echo "run_openai_client: node is not installed (scripts/setup.sh installs it)"; exit 1; }
js="$src/tests/js"
[ -d "$js/node_modules/openai" ] ||
  { echo "run_openai_client: the openai SDK is not installed in $js (run scripts/setup.sh)"; exit 1; }
work=$(mktemp -d)
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
cat > "$work/node.yaml" <<YAML
node: {name: js, log_level: warn}
services:
  embedding: {builtin: embedding, params: {dimension: 384}}
  retriever: {builtin: retriever, params: {index: chatqna}}
  rerank: {builtin: rerank, params: {top_n: 4, dimension: 384}}
  llm: {builtin: llm, params: {backend: extractive, max_tokens: 96}}
megaservices:
  - {name: chatqna, route: /v1/chatqna, api: chatqna,
     flows: [embedding >> retriever >> rerank >> llm, retriever >> llm]}
dataprep: {embedding: embedding, retriever: retriever, corpus: "$src/examples/chatqna/corpus"}
YAML
"$node_bin" --config "$work/node.yaml" --http-port 0 --data-dir "$work/data" > "$work/out" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 200); do
  port=$(sed -n 's/^listening on .*:\([0-9]*\)$/\1/p' "$work/out")
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/out"; exit 1; }
  read -r -t 0.05 <> <(:) || true   # bounded wait for the node to print its port
done
[ -n "$port" ] || { echo "opea-node did not start"; cat "$work/out"; exit 1; }
node "$js/openai_client.mjs" "http://127.0.0.1:$port/v1"
