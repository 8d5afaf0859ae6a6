#!/usr/bin/env bash
# The HTTP benchmarks of the issue's performance section, in one run, on loopback:
#   (a)  raw Boost.Beast hello world (the ceiling)             wrk -c32, -c1
#   (b)  opea-node, 3-node linear DAG of in-process built-ins   wrk POST -c32, -c1
#   (c0) the three HTTP microservices called directly in sequence
#        by opea-bench-sequential (the ceiling of (c))          32 and 1 chains
#   (c)  opea-node, the same DAG with the 3 services external   wrk POST -c32, -c1
#        HTTP microservices (three opea-test-service processes)
# then prints a summary (req/s, p50, p99) and the target ratios b/a and c/c0.
#
# Usage: bench/run_http_bench.sh [BUILD_DIR]          (default: /work/build-bench)
# Environment:
#   DURATION=10     seconds per load run (bounded; every run is one wrk/client call)
#   WRK_THREADS=1   wrk -t
#   PIN=0           1 = pin the servers to CPU 0 and the load generator to CPU 1
#                   (taskset). Default: nothing pinned; the OS spreads the
#                   server(s) and the load generator over both cores.
#   OUT_DIR=...     where raw outputs and logs go (default: a fresh mktemp -d)
#   ONLY="a b c"    which parts to run (a = hello, b = in-process, c = c0 + c)
#   SCHED_POLICY=, SCHED_THREADS=   node.scheduler.policy / max_threads of the
#                   generated opea-node configs (default: unset = node defaults,
#                   i.e. spinning with one worker per hardware thread)
#   IO_THREADS=     node.http.io_threads of the generated configs (default:
#                   unset = the node's default 0, the scheduler's workers run
#                   the HTTP I/O; 1 = one I/O thread of its own, as before)
#   IO_WORKERS=     node.http.io_workers (default: unset = the node's, 1)
#   NODE_BIN=...    an opea-node binary to use instead of BUILD_DIR's (A/B runs)
# Needs: wrk, and the targets opea-bench-beast-hello, opea-bench-sequential,
# opea-node and opea-test-service built (Release) in BUILD_DIR.
set -euo pipefail

BUILD_DIR=${1:-${BUILD_DIR:-/work/build-bench}}
DURATION=${DURATION:-10}
WRK_THREADS=${WRK_THREADS:-1}
PIN=${PIN:-0}
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/opea-http-bench.XXXXXX)}
mkdir -p "$OUT_DIR"

find_bin() {
  local name=$1 found
  found=$(find "$BUILD_DIR" -type f -name "$name" -perm -u+x 2>/dev/null | head -n1)
  if [[ -z "$found" ]]; then
    echo "run_http_bench: $name not found under $BUILD_DIR (build it first)" >&2
    exit 2
  fi
  echo "$found"
}
HELLO=$(find_bin opea-bench-beast-hello)
SEQ=$(find_bin opea-bench-sequential)
NODE=${NODE_BIN:-$(find_bin opea-node)}
ONLY=${ONLY:-a b c}
SCHED_POLICY=${SCHED_POLICY:-}
SCHED_THREADS=${SCHED_THREADS:-}
IO_THREADS=${IO_THREADS:-}
IO_WORKERS=${IO_WORKERS:-}
want() { [[ " $ONLY " == *" $1 "* ]]; }
SVC=$(find_bin opea-test-service)
command -v wrk >/dev/null || { echo "run_http_bench: wrk not installed" >&2; exit 2; }

SERVER_PIN=()
CLIENT_PIN=()
if [[ "$PIN" == 1 ]]; then
  SERVER_PIN=(taskset -c 0)
  CLIENT_PIN=(taskset -c 1)
fi

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start NAME CMD...: starts a server in the background, waits for its
# "listening on HOST:PORT" line and sets PORT.
start() {
  local name=$1; shift
  local log="$OUT_DIR/$name.log"
  "${SERVER_PIN[@]}" "$@" >"$log" 2>&1 &
  PIDS+=($!)
  local pid=$!
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/^listening on [^ ]*:\([0-9][0-9]*\).*/\1/p' "$log" | head -n1)
    if [[ -n "$PORT" ]]; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "run_http_bench: $name did not start; its log:" >&2
  cat "$log" >&2
  exit 1
}

stop_all() { cleanup; }

# A wrk script that POSTs a small JSON body.
LUA="$OUT_DIR/post.lua"
cat >"$LUA" <<'EOF'
wrk.method = "POST"
wrk.body = '{"text":"hello"}'
wrk.headers["Content-Type"] = "application/json"
EOF

# to_ms VALUE_WITH_UNIT (wrk prints e.g. 812.00us, 1.23ms, 1.01s)
to_ms() {
  awk -v v="$1" 'BEGIN {
    n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
    if (u == "us") n /= 1000; else if (u == "s") n *= 1000; else if (u == "m") n *= 60000;
    printf "%.3f", n }'
}

ROWS=()
declare -A RPS P50 P99

# wrk_run KEY LABEL CONNS URL [LUA]
wrk_run() {
  local key=$1 label=$2 conns=$3 url=$4 lua=${5:-}
  local out="$OUT_DIR/wrk-$key.txt"
  local args=(-t"$WRK_THREADS" -c"$conns" -d"${DURATION}s" --latency)
  [[ -n "$lua" ]] && args+=(-s "$lua")
  echo "== $label: wrk ${args[*]} $url" >&2
  "${CLIENT_PIN[@]}" wrk "${args[@]}" "$url" >"$out" 2>&1
  cat "$out" >&2
  local rps p50 p99 bad
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  bad=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
  local errs
  errs=$(awk '/Socket errors:/ {print}' "$out")
  RPS[$key]=$rps; P50[$key]=$p50; P99[$key]=$p99
  ROWS+=("$(printf '%-52s %5s %12s %9s %9s  %s' "$label" "$conns" "$rps" "$p50" "$p99" \
            "${bad:+non-2xx=$bad }${errs:+$errs}")")
}

# seq_run KEY LABEL CONNS URLS
seq_run() {
  local key=$1 label=$2 conns=$3 urls=$4
  local out="$OUT_DIR/seq-$key.txt"
  echo "== $label: opea-bench-sequential --urls $urls --connections $conns --duration $DURATION" >&2
  "${CLIENT_PIN[@]}" "$SEQ" --urls "$urls" --connections "$conns" --duration "$DURATION" \
    --warmup 1 >"$out" 2>&1
  cat "$out" >&2
  local line rps p50 p99 errs
  line=$(grep '^RESULT' "$out")
  rps=$(sed -n 's/.*chains_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
  p50=$(sed -n 's/.*p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.*p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  errs=$(sed -n 's/.*errors=\([0-9]*\).*/\1/p' <<<"$line")
  RPS[$key]=$rps; P50[$key]=$p50; P99[$key]=$p99
  ROWS+=("$(printf '%-52s %5s %12s %9s %9s  %s' "$label" "$conns" "$rps" "$p50" "$p99" \
            "$( [[ "$errs" != 0 ]] && echo "errors=$errs")")")
}

sched_yaml() {
  [[ -z "$SCHED_POLICY$SCHED_THREADS" ]] && return 0
  echo "  scheduler:"
  [[ -n "$SCHED_POLICY" ]] && echo "    policy: $SCHED_POLICY"
  [[ -n "$SCHED_THREADS" ]] && echo "    max_threads: $SCHED_THREADS"
  return 0
}

node_config() {
  # node_config FILE S1 S2 S3: the three services' YAML bodies (one line each).
  cat >"$1" <<EOF
node:
  name: bench
  http: {host: 127.0.0.1, port: 0$([[ -n $IO_THREADS ]] && echo ", io_threads: $IO_THREADS")$([[ -n $IO_WORKERS ]] && echo ", io_workers: $IO_WORKERS")}
  log_level: warn
$(sched_yaml)
services:
  s1: $2
  s2: $3
  s3: $4
megaservices:
  - name: bench
    route: /v1/bench
    flows:
      - s1 >> s2 >> s3
EOF
}

echo "results and logs: $OUT_DIR" >&2
echo "machine: $(nproc) CPUs, $(uname -sr); pinning: $([[ $PIN == 1 ]] && echo 'servers CPU0, load CPU1' || echo none)" >&2

echo "node: $NODE; scheduler: policy=${SCHED_POLICY:-default} threads=${SCHED_THREADS:-default}; io_threads=${IO_THREADS:-default} io_workers=${IO_WORKERS:-default}" >&2

# (a) raw Beast hello world
if want a; then
start beast "$HELLO" --port 0 --threads 1
wrk_run a32 "(a) raw Beast hello world, 1 thread" 32 "http://127.0.0.1:$PORT/"
wrk_run a1 "(a) raw Beast hello world, 1 thread" 1 "http://127.0.0.1:$PORT/"
stop_all
fi

# (b) opea-node, three in-process built-ins
if want b; then
node_config "$OUT_DIR/inproc.yaml" \
  '{builtin: append, params: {suffix: " s1"}}' \
  '{builtin: append, params: {suffix: " s2"}}' \
  '{builtin: append, params: {suffix: " s3"}}'
start node-inproc "$NODE" --config "$OUT_DIR/inproc.yaml"
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"text":"hello"}' \
  "http://127.0.0.1:$PORT/v1/bench" >"$OUT_DIR/check-b.json"
echo "(b) check: $(cat "$OUT_DIR/check-b.json")" >&2
wrk_run b32 "(b) opea-node, 3 in-process services" 32 "http://127.0.0.1:$PORT/v1/bench" "$LUA"
wrk_run b1 "(b) opea-node, 3 in-process services" 1 "http://127.0.0.1:$PORT/v1/bench" "$LUA"
stop_all
fi

# (c) three external HTTP microservices
if want c; then
start svc1 "$SVC" --host 127.0.0.1 --port 0 --route "/v1/s1:append: s1"
P1=$PORT
start svc2 "$SVC" --host 127.0.0.1 --port 0 --route "/v1/s2:append: s2"
P2=$PORT
start svc3 "$SVC" --host 127.0.0.1 --port 0 --route "/v1/s3:append: s3"
P3=$PORT
URLS="http://127.0.0.1:$P1/v1/s1,http://127.0.0.1:$P2/v1/s2,http://127.0.0.1:$P3/v1/s3"
seq_run c0_32 "(c0) direct sequential calls s1,s2,s3 (ceiling)" 32 "$URLS"
seq_run c0_1 "(c0) direct sequential calls s1,s2,s3 (ceiling)" 1 "$URLS"
node_config "$OUT_DIR/http.yaml" \
  "{kind: http, url: \"http://127.0.0.1:$P1/v1/s1\"}" \
  "{kind: http, url: \"http://127.0.0.1:$P2/v1/s2\"}" \
  "{kind: http, url: \"http://127.0.0.1:$P3/v1/s3\"}"
start node-http "$NODE" --config "$OUT_DIR/http.yaml"
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"text":"hello"}' \
  "http://127.0.0.1:$PORT/v1/bench" >"$OUT_DIR/check-c.json"
echo "(c) check: $(cat "$OUT_DIR/check-c.json")" >&2
wrk_run c32 "(c) opea-node, 3 external HTTP services" 32 "http://127.0.0.1:$PORT/v1/bench" "$LUA"
wrk_run c1 "(c) opea-node, 3 external HTTP services" 1 "http://127.0.0.1:$PORT/v1/bench" "$LUA"
stop_all
fi

ratio() { awk -v x="$1" -v y="$2" 'BEGIN { if (y > 0) printf "%.1f", 100 * x / y; else print "n/a" }'; }
verdict() { awk -v x="$1" -v op="$2" -v t="$3" 'BEGIN {
  ok = (op == ">=") ? (x + 0 >= t + 0) : (x + 0 < t + 0); print ok ? "PASS" : "MISS" }'; }

{
  echo
  echo "Summary (wrk -t$WRK_THREADS, ${DURATION}s per run; latency in ms; pinning: $([[ $PIN == 1 ]] && echo on || echo none);"
  echo "  node scheduler: policy=${SCHED_POLICY:-default(spinning)} threads=${SCHED_THREADS:-default($(nproc))}, io_threads=${IO_THREADS:-default(0)}, io_workers=${IO_WORKERS:-default(1)})"
  printf '%-52s %5s %12s %9s %9s\n' "scenario" "conns" "req/s" "p50 ms" "p99 ms"
  for r in "${ROWS[@]}"; do echo "$r"; done
  echo
  echo "Targets:"
  if want a && want b; then
    ba=$(ratio "${RPS[b32]}" "${RPS[a32]}")
    echo "  b/a at 32 connections        = $ba %   (target >= 70 %)   $(verdict "$ba" ">=" 70)"
  fi
  if want b; then
    echo "  (b) p99 at 32 connections    = ${P99[b32]} ms (target < 1.5 ms) $(verdict "${P99[b32]}" "<" 1.5)"
    echo "  (b) p50 at 1 connection      = ${P50[b1]} ms"
  fi
  if want c; then
    cc=$(ratio "${RPS[c32]}" "${RPS[c0_32]}")
    echo "  c/c0 at 32 connections       = $cc %   (target >= 70 %)   $(verdict "$cc" ">=" 70)"
    echo "  (c) p50 at 1 connection      = ${P50[c1]} ms (direct calls: ${P50[c0_1]} ms)"
  fi
  echo "  OPEA Python reference (from the issue, not run here): ~500 req/s @32, ~3 ms p50 @1"
} | tee "$OUT_DIR/summary.txt"
