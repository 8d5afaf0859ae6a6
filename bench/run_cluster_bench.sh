#!/usr/bin/env bash
# A megaservice hop to a remote service actor vs the raw CAF remote round trip
# (two processes on loopback), at 1 and 32 requests in flight, for each
# configuration in CONFIGS (policy:threads, the same in both processes, plain
# BASP; policy:threads:tls for caf::openssl links with the node's TLS guard and
# certificates from scripts/make-cluster-certs.sh). Per configuration one server process runs; the four cases
# (raw@1, hop@1, raw@32, hop@32) are interleaved in each of RUNS rounds, so
# drift hits them equally. Prints every run, then a table of medians with
# ranges and the ratios the targets are checked on:
#   hop rps >= 70 % of raw rps (at 1 and at 32 in flight)
#   hop p50 at 1 in flight < 2x the raw p50 at 1 in flight
#
# Usage: bench/run_cluster_bench.sh [BUILD_DIR]
#   env: RUNS=3 SECONDS_PER_RUN=3 WARMUP=0.5 PORT=24310
#        CONFIGS="spinning:<nproc> spinning:<nproc>:tls sharing:<nproc> stealing:<nproc>"   (opea-node's default first)
# About 3 min with the defaults (four configurations).
set -euo pipefail
BUILD_DIR=${1:-/work/build-bench}
RUNS=${RUNS:-3}
SECS=${SECONDS_PER_RUN:-3}
WARMUP=${WARMUP:-0.5}
PORT=${PORT:-24310}
NPROC=$(nproc)
CONFIGS=${CONFIGS:-"spinning:$NPROC spinning:$NPROC:tls sharing:$NPROC stealing:$NPROC"}
SRC=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(find "$BUILD_DIR" -type f -name opea-bench-cluster -perm -u+x | head -n1)
[ -n "$BIN" ] || { echo "opea-bench-cluster not found under $BUILD_DIR" >&2; exit 2; }
work=$(mktemp -d /tmp/opea-cluster-bench.XXXXXX)
spid=""
stop_server() {
  if [ -n "$spid" ]; then
    exec 3>&-                          # closes the server's stdin: it exits
    kill "$spid" 2>/dev/null || true   # and SIGTERM in case it did not
    wait "$spid" 2>/dev/null || true
    spid=""
  fi
}
trap 'stop_server; rm -rf "$work"' EXIT

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $RUNS runs x ${SECS}s (+${WARMUP}s warm-up)"
: > "$work/results"
for conf in $CONFIGS; do
  policy=${conf%%:*}
  rest=${conf#*:}
  threads=${rest%%:*}
  tls=()
  if [[ "$conf" == *:tls ]]; then
    [ -d "$work/certs" ] || "$SRC/scripts/make-cluster-certs.sh" "$work/certs" server client > /dev/null
    tls=(--tls "$work/certs")
  fi
  rm -f "$work/ctl"
  mkfifo "$work/ctl"
  "$BIN" server --port "$PORT" --policy "$policy" --threads "$threads" "${tls[@]}" \
    < "$work/ctl" > "$work/server.log" 2>&1 &
  spid=$!
  exec 3> "$work/ctl"                  # holds the server's stdin open
  for _ in $(seq 1 100); do
    grep -q '^ready' "$work/server.log" && break
    kill -0 "$spid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.05
  done
  grep -q '^ready' "$work/server.log" || { cat "$work/server.log"; exit 1; }
  for run in $(seq 1 "$RUNS"); do
    for k in 1 32; do
      for mode in raw hop; do
        line=$("$BIN" client --port "$PORT" --mode "$mode" --inflight "$k" --seconds "$SECS" \
                 --warmup "$WARMUP" --policy "$policy" --threads "$threads" "${tls[@]}" |
                 grep '^RESULT' || true)
        [ -n "$line" ] || { echo "client $mode @$k ($conf) failed" >&2; exit 1; }
        echo "$line"
        echo "$conf $line" >> "$work/results"
      done
    done
  done
  stop_server
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# Table: medians (min-max) per configuration, mode and in-flight count.
awk '
function field(name,   i, kv) {
  for (i = 2; i <= NF; ++i) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  return ""
}
function median(list,   n, a, i, j, t) {
  n = split(list, a, " ")
  for (i = 1; i <= n; ++i) for (j = i + 1; j <= n; ++j) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
  lo[0] = a[1]; hi[0] = a[n]
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function cell(list, fmt,   m) {
  m = median(list)
  return sprintf(fmt " (" fmt "-" fmt ")", m, lo[0], hi[0])
}
{
  key = $1 SUBSEP field("mode") SUBSEP field("inflight")
  if (!($1 in seen)) { seen[$1] = 1; order[++nconf] = $1 }
  rps[key] = rps[key] " " field("rps"); p50[key] = p50[key] " " field("p50_us")
  p99[key] = p99[key] " " field("p99_us"); errs += field("errors")
}
END {
  printf "\n| policy:threads[:tls] | in flight | raw req/s | raw p50 us | raw p99 us | hop req/s | hop p50 us | hop p99 us | hop/raw req/s | hop p50 / raw p50 |\n"
  printf "|---|---|---|---|---|---|---|---|---|---|\n"
  for (c = 1; c <= nconf; ++c) {
    conf = order[c]
    for (k = 1; k <= 32; k += 31) {
      r = conf SUBSEP "raw" SUBSEP k; h = conf SUBSEP "hop" SUBSEP k
      rr = median(rps[r]); hr = median(rps[h]); rp = median(p50[r]); hp = median(p50[h])
      printf "| %s | %d | %s | %s | %s | %s | %s | %s | %.0f %% | %.2fx |\n", conf, k,
        cell(rps[r], "%.0f"), cell(p50[r], "%.0f"), cell(p99[r], "%.0f"),
        cell(rps[h], "%.0f"), cell(p50[h], "%.0f"), cell(p99[h], "%.0f"),
        100 * hr / rr, hp / rp
    }
  }
  printf "\ntargets: hop/raw req/s >= 70 %% (at 1 and 32); hop p50 / raw p50 at 1 in flight < 2x. errors: %d\n", errs
}' "$work/results"
