#!/usr/bin/env bash
# Builds the libraries and the unit-test binaries with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ (-O0, line tables only, no
# benchmarks, examples or integration tests: they need the whole node built
# twice) and runs every unit test case under them. Any report fails the run:
# ASan and UBSan abort the test process (halt_on_error), which CTest counts
# as a failure. The only suppressions (tests/sanitizers/ubsan.supp, with
# their reason) are CAF's null empty spawn-argument tuple in its own header.
# -O0: compiles about 1.6x faster than -O1 with both sanitizers, and the unit
# tests' run time is dominated by process start-up, not by optimisation.
# Usage: scripts/sanitizers.sh   (after scripts/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${OPEA_JOBS:-$(nproc)}"
root="$(pwd)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Sanitize \
  -DCMAKE_CXX_FLAGS_SANITIZE="-O0 -g1" \
  -DOPEA_SANITIZE=ON -DOPEA_BUILD_BENCH=OFF -DOPEA_BUILD_EXAMPLES=OFF \
  -DOPEA_BUILD_INTEGRATION_TESTS=OFF >/dev/null
# Only the unit-test binaries and what they link (not opea-node or the test
# service): the whole test command must stay under 30 minutes on 2 cores.
cmake --build build-asan -j"$jobs" --target opea_unit_tests
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:detect_stack_use_after_return=0:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:suppressions=${root}/tests/sanitizers/ubsan.supp"
export LSAN_OPTIONS="suppressions=${root}/tests/sanitizers/lsan.supp"
cd build-asan
ctest -j"$jobs" --output-on-failure --timeout 300
