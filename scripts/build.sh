#!/usr/bin/env bash
# Configures and builds opea-cpp in ./build (Release with debug info, tests and examples on).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${OPEA_JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE="${OPEA_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build build -j"$jobs"
