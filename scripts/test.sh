#!/usr/bin/env bash
# Quick start, command 2: installs the Debian packages, builds, and runs the
# whole test suite (unit, integration with real processes on loopback,
# examples), then builds the libraries and the unit tests a second time with
# AddressSanitizer + UBSan (build-asan/) and runs those too: any sanitizer
# report fails the run.
#   OPEA_SKIP_SANITIZERS=1  skips the second build (a quicker local run).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${OPEA_JOBS:-$(nproc)}"
scripts/setup.sh
scripts/build.sh
(cd build && ctest -j"$jobs" --output-on-failure --timeout 300)

if [ "${OPEA_SKIP_SANITIZERS:-0}" = "1" ]; then exit 0; fi
scripts/sanitizers.sh
