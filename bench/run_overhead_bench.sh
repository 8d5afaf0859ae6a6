#!/usr/bin/env bash
# The overhead figure Dapr publishes, on our setup: latency added by one
# megaservice hop to an HTTP service, and by one remote hop, at a fixed rate
# with a 1 KB payload, plus the node's CPU per 1,000 requests/s.
#
#   direct : client -> echo (opea-test-service)
#   hop    : client -> opea-node (megaservice, one `kind: http` service) -> echo
#   remote : client -> member a (megaservice) -> member b (hosts the service) -> echo
#
# Added latency = hop - direct (the megaservice hop) and remote - hop (the
# remote hop), per percentile (p50, p90, p99; medians over RUNS rounds, the
# three targets interleaved in each round). CPU: utime+stime of the node
# process(es) over a run, from /proc, per 1,000 requests/s. TRACING=1 points
# every node at an OTLP receiver (the echo service, which answers 200) at
# 100 % sampling, for the tracing-on figure.
#
# Usage: bench/run_overhead_bench.sh [BUILD_DIR]
#   env: RATE=1000 SECONDS_PER_RUN=10 WARMUP=2 BYTES=1024 RUNS=3 TRACING=0
set -euo pipefail
BUILD_DIR=${1:-build}
RATE=${RATE:-1000}
SECS=${SECONDS_PER_RUN:-10}
WARMUP=${WARMUP:-2}
BYTES=${BYTES:-1024}
RUNS=${RUNS:-3}
TRACING=${TRACING:-0}
find_bin() { find "$BUILD_DIR" -type f -name "$1" -perm -u+x | head -n1; }
NODE=$(find_bin opea-node); SVC=$(find_bin opea-test-service); RATEBIN=$(find_bin opea-bench-rate)
for b in "$NODE" "$SVC" "$RATEBIN"; do [ -n "$b" ] || { echo "binaries missing under $BUILD_DIR" >&2; exit 2; }; done
work=$(mktemp -d /tmp/opea-overhead.XXXXXX)
# `start` runs in a command substitution (a subshell): the processes are
# known by their pid files.
cleanup() {
  for f in "$work"/*.pid; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Starts "$@" with output in $work/$name.out; waits for its "listening on" line; prints the port.
start() {
  local name=$1; shift
  "$@" > "$work/$name.out" 2>&1 &
  echo $! > "$work/$name.pid"
  for _ in $(seq 1 200); do
    if grep -q "^listening on " "$work/$name.out"; then
      grep -m1 "^listening on " "$work/$name.out" | sed 's/.*://'; return
    fi
    sleep 0.05
  done
  echo "$name did not start" >&2; cat "$work/$name.out" >&2; exit 1
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo $t; }

echo_port=$(start echo "$SVC" --host 127.0.0.1 --port 0 --route /v1/echo:echo --route /v1/traces:echo)
echo_url="http://127.0.0.1:$echo_port/v1/echo"
tracing=""
[ "$TRACING" = 1 ] && tracing="tracing: {endpoint: \"http://127.0.0.1:$echo_port\", schedule_delay: 1000},"
cat > "$work/hop.yaml" <<YAML
node: {name: hop, log_level: warn, $tracing}
services:
  echo: {kind: http, url: "$echo_url"}
megaservices:
  - {name: m, route: /v1/m, flows: [echo]}
YAML
hop_port=$(start hop "$NODE" --config "$work/hop.yaml" --http-port 0 --data-dir "$work/hop-data")
pa=$(free_port); pb=$(free_port)
cat > "$work/cluster.yaml" <<YAML
node: {log_level: info, $tracing}
cluster: {name: overhead, nodes: {a: {host: 127.0.0.1, port: $pa}, b: {host: 127.0.0.1, port: $pb}}}
services:
  echo: {kind: http, url: "$echo_url", run_on: [b]}
megaservices:
  - {name: m, route: /v1/m, serve_on: [a], flows: [echo]}
YAML
a_port=$(start a "$NODE" --config "$work/cluster.yaml" --node a --http-port 0 --data-dir "$work/a")
b_port=$(start b "$NODE" --config "$work/cluster.yaml" --node b --http-port 0 --data-dir "$work/b")
for _ in $(seq 1 200); do grep -q "member b joined" "$work/a.out" && break; sleep 0.05; done
grep -q "member b joined" "$work/a.out" || { echo "cluster did not form" >&2; cat "$work/a.out" >&2; exit 1; }
hop_pid=$(cat "$work/hop.pid"); a_pid=$(cat "$work/a.pid"); b_pid=$(cat "$work/b.pid")
hz=$(getconf CLK_TCK)

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS rounds x ${SECS}s at $RATE req/s, ${BYTES} B body, tracing=$TRACING"
declare -A res
run() {  # name url pids...
  local name=$1 url=$2; shift 2
  local t0 t1 out
  t0=$(cpu_ticks "$@")
  out=$("$RATEBIN" --url "$url" --rate "$RATE" --duration "$SECS" --warmup "$WARMUP" --bytes "$BYTES" | tail -n1)
  t1=$(cpu_ticks "$@")
  local vcpu
  vcpu=$(python3 -c "print(round(($t1-$t0)/$hz/($SECS+$WARMUP)/($RATE/1000.0), 4))")
  echo "$name: $out vcpu_per_1000rps=$vcpu"
  res[$name]+="$out vcpu=$vcpu;"
}
for r in $(seq 1 "$RUNS"); do
  run direct "$echo_url" "$hop_pid"
  run hop "http://127.0.0.1:$hop_port/v1/m" "$hop_pid"
  run remote "http://127.0.0.1:$a_port/v1/m" "$a_pid" "$b_pid"
done
python3 - "$RUNS" <<PY
import re, statistics, sys
rows = {}
for name, text in (("direct", """${res[direct]}"""), ("hop", """${res[hop]}"""), ("remote", """${res[remote]}""")):
    runs = [r for r in text.split(";") if r.strip()]
    def med(key):
        return statistics.median(float(re.search(key + r"=([0-9.]+)", r).group(1)) for r in runs)
    rows[name] = {k: med(k) for k in ("p50_ms", "p90_ms", "p99_ms", "vcpu")}
print("\nmedians (ms; vCPU per 1,000 req/s of the node processes):")
for n, v in rows.items():
    print(f"  {n:7s} p50 {v['p50_ms']:.3f}  p90 {v['p90_ms']:.3f}  p99 {v['p99_ms']:.3f}  vcpu {v['vcpu']:.4f}")
def added(a, b):
    return "  ".join(f"{p} +{rows[a][p] - rows[b][p]:.3f}" for p in ("p50_ms", "p90_ms", "p99_ms"))
print("megaservice hop added:", added("hop", "direct"), f" vCPU/1k rps {rows['hop']['vcpu']:.4f} (hop node)")
print("remote hop added:     ", added("remote", "hop"), f" vCPU/1k rps {rows['remote']['vcpu'] - rows['hop']['vcpu']:.4f} (a+b minus the one-node hop)")
PY
