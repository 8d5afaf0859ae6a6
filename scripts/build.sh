#!/usr/bin/env bash
# Configures and builds opea-cpp in ./build (optimised, with line-table debug info; tests and
# examples on).
# Usage: scripts/build.sh [extra cmake -D options]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${OPEA_JOBS:-$(nproc)}"
# Debug info as line tables only (-g1: file:line in backtraces and profiles):
# full -g makes this template-heavy build about 1.6x slower to compile
# (measured on runtime/megaservice/megaservice.cpp: -g 31 s, -g1 20 s, -g0 16 s).
cmake -S . -B build -DCMAKE_BUILD_TYPE="${OPEA_BUILD_TYPE:-RelWithDebInfo}" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" "$@" >/dev/null
cmake --build build -j"$jobs"
