#!/usr/bin/env bash
# Quick start, command 1: installs the Debian packages, builds, and starts a
# node serving the example megaservice (in-process services, no external
# server needed). Extra arguments go to opea-node (e.g. --http-port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
config="${OPEA_CONFIG:-examples/hello/hello.yaml}"
echo "starting: build/nodes/opea-node --config $config $*"
echo "try:      curl -s localhost:8888/v1/hello -H 'Content-Type: application/json' -d '{\"text\":\"world\"}'"
exec build/nodes/opea-node --config "$config" "$@"
