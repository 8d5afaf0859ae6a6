#!/usr/bin/env bash
# Quick start, command 1: installs the Debian packages, builds, and starts a
# ChatQnA node on port 8888 (built-in embedding, retriever, rerank and an
# extractive answerer; the bundled corpus is ingested on first start; no
# external server needed). Extra arguments go to opea-node (e.g. --http-port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
config="${OPEA_CONFIG:-examples/chatqna/chatqna.yaml}"
echo "starting: build/nodes/opea-node --config $config $*"
exec build/nodes/opea-node --config "$config" "$@"
