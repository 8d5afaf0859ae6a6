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
# The example ChatQnA node as users start it (its corpus path is relative to
# the repository); port and data directory are the test's. Its output comes
# through a FIFO: the script waits for the "listening on" line (30 s at most
# per line), then keeps draining it into $work/out.
mkfifo "$work/fifo"
(cd "$src" && exec "$node_bin" --config examples/chatqna/chatqna.yaml --http-port 0 \
   --data-dir "$work/data") > "$work/fifo" 2>&1 &
pid=$!
exec 3< "$work/fifo"
port=""
while IFS= read -r -t 30 -u 3 line; do
  printf '%s\n' "$line" >> "$work/out"
  case $line in "listening on "*) port=${line##*:}; break ;; esac
done
[ -n "$port" ] || { echo "opea-node did not start"; cat "$work/out"; exit 1; }
cat <&3 >> "$work/out" &
node "$js/openai_client.mjs" "http://127.0.0.1:$port/v1"
