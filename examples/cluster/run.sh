#!/usr/bin/env bash
# Starts the 3-node ChatQnA cluster of cluster.yaml on this machine and waits;
# Ctrl-C stops all three. Usage: examples/cluster/run.sh [BUILD_DIR]
# Extra flags for every node can follow a "--", e.g. run.sh build -- --data-dir /tmp/c
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${1:-$SRC/build}
shift || true
[ "${1:-}" = "--" ] && shift
NODE=$(find "$BUILD_DIR" -type f -name opea-node -perm -u+x | head -n1)
[ -n "$NODE" ] || { echo "opea-node not found under $BUILD_DIR (run scripts/build.sh)" >&2; exit 2; }
cd "$SRC"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
for n in n1 n2 n3; do
  "$NODE" --config examples/cluster/cluster.yaml --node "$n" "$@" &
  pids+=($!)
done
echo "cluster starting: ChatQnA at http://127.0.0.1:8888/v1/chatqna, members at http://127.0.0.1:8888/v1/cluster"
wait
