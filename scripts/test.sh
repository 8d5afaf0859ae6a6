#!/usr/bin/env bash
# Quick start, command 2: installs the Debian packages, builds, and runs the
# whole test suite (unit, integration with real processes on loopback, examples).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
cd build
ctest -j"${OPEA_JOBS:-$(nproc)}" --output-on-failure --timeout 300
