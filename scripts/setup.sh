#!/usr/bin/env bash
# Installs every Debian bookworm package opea-cpp needs to build, test and benchmark.
# Idempotent: packages already present are skipped by apt. Needs root (or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config git
  libcaf-dev
  protobuf-compiler libprotobuf-dev
  prometheus-cpp-dev
  libspdlog-dev libfmt-dev
  catch2
  libboost-dev
  nlohmann-json3-dev
  libyaml-cpp-dev
  libcli11-dev
  libhnswlib-dev
  libxapian-dev         # the retriever's lexical (BM25) index, with Snowball stemmers
  libssl-dev
  libtcmalloc-minimal4  # opea-node's allocator (OPEA_TCMALLOC)
  libbenchmark-dev
  curl wrk
  prometheus            # promtool (the tests check /metrics) and the server the dashboards test queries
  python3               # the stand-in external HTTP microservice of the integration tests
  python3-matplotlib    # monitoring/grafana/render_dashboard.py draws a dashboard into a PNG
)

# Node.js and npm run the real `openai` SDK client test; the machines of this
# project may already ship them from another repository.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The `openai` SDK that the JavaScript client test runs (tests/js), from the
# npm registry, the only one besides Debian's: installed here, not by the test.
js_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/js"
if [ ! -d "$js_dir/node_modules/openai" ]; then
  echo "setup: npm install in tests/js (the openai SDK of the JavaScript client test)"
  (cd "$js_dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error >/dev/null)
fi
