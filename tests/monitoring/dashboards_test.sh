#!/usr/bin/env bash
# The Grafana dashboards of monitoring/grafana against real data:
#  (a) every dashboard JSON and provisioning file is valid (check_dashboards.py validate);
#  (b) a ChatQnA node (plus a megaservice whose remote model server is down, so
#      that errors, retries, an open breaker and rejections exist) and a real
#      3-node cluster (examples/cluster/cluster.yaml on free ports) are scraped
#      every second by a real Prometheus server (Debian's prometheus package);
#  (c) they serve JSON and streamed ChatQnA requests for a few seconds, and a
#      cluster member is killed and restarted meanwhile;
#  (d) every template variable and every panel expression of every dashboard,
#      evaluated through Prometheus' HTTP API with the variables at "All",
#      returns data (check_dashboards.py evaluate), and `promtool check
#      metrics` accepts each cluster member's live /metrics.
# Usage: dashboards_test.sh OPEA_NODE_BINARY SOURCE_DIR [--keep] [--load-seconds N]
#   --keep: after the checks, keep the nodes, the load and Prometheus running
#   (e.g. for monitoring/grafana/render_dashboard.py) until Ctrl-C.
set -euo pipefail
node_bin=$1 src=$2
shift 2
keep=0 load_seconds=8
while [ $# -gt 0 ]; do
  case $1 in
    --keep) keep=1 ;;
    --load-seconds) load_seconds=$2; shift ;;
    *) echo "usage: $0 OPEA_NODE_BINARY SOURCE_DIR [--keep] [--load-seconds N]" >&2; exit 2 ;;
  esac
  shift
done
for tool in prometheus promtool curl python3; do
  command -v "$tool" >/dev/null || { echo "dashboards_test: $tool is not installed (scripts/setup.sh)"; exit 1; }
done
grafana=$src/monitoring/grafana
check() { python3 "$grafana/check_dashboards.py" "$@"; }
t0=$SECONDS

# (a) The files alone.
check validate "$grafana"

work=$(mktemp -d)
pids=()
cleanup() {
  local rc=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then
    for f in "$work"/*.out; do [ -f "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 15 "$f"; }; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_ports() {  # free_ports N: N ports free on 127.0.0.1 right now
  python3 -c 'import socket,sys
ss=[socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in ss])' "$1"
}

# start_node NAME ARGS...: starts opea-node ARGS from the source directory (the
# example configs' corpus paths are relative to it), waits for its "listening
# on host:port" line (30 s at most per line) and sets $port; its output goes
# to $work/NAME.out. Sets $last_pid.
start_node() {
  local name=$1 fd line
  shift
  mkfifo "$work/$name.fifo"
  (cd "$src" && exec "$node_bin" "$@") > "$work/$name.fifo" 2>&1 &
  last_pid=$!
  pids+=("$last_pid")
  exec {fd}< "$work/$name.fifo"
  port=""
  while IFS= read -r -t 30 -u "$fd" line; do
    printf '%s\n' "$line" >> "$work/$name.out"
    case $line in "listening on "*) port=${line##*:}; break ;; esac
  done
  [ -n "$port" ] || { echo "opea-node $name did not start"; exec {fd}<&-; exit 1; }
  cat <&"$fd" >> "$work/$name.out" &
  exec {fd}<&-
}

# (b) A ChatQnA node as examples/chatqna/chatqna.yaml, with a circuit breaker,
# a bulkhead and retries on its llm, and a second megaservice, docsum, whose
# remote model server is down (nothing listens on its port): its calls fail,
# are retried, open its breaker and are rejected.
read -r dead_port < <(free_ports 1)
cat > "$work/chatqna.yaml" <<EOF
node: {name: chatqna, log_level: warn}
services:
  embedding: {builtin: embedding, params: {dimension: 384}}
  retriever: {builtin: retriever, params: {index: chatqna}}
  rerank: {builtin: rerank, params: {top_n: 4, dimension: 384}}
  llm:
    builtin: llm
    params: {backend: extractive, max_tokens: 96}
    circuit_breaker: {failures: 5, open_ms: 5000}
    bulkhead: {max_in_flight: 8, max_queue: 32}
    retry: {attempts: 2, backoff_ms: 10}
  remote-llm:
    kind: http
    url: http://127.0.0.1:$dead_port/v1/chat/completions
    service_type: llm
    timeout_ms: 1000
    circuit_breaker: {failures: 3, open_ms: 1000}
    bulkhead: {max_in_flight: 4, max_queue: 4}
    retry: {attempts: 2, backoff_ms: 10}
megaservices:
  - name: chatqna
    route: /v1/chatqna
    api: chatqna
    flows:
      - embedding >> retriever >> rerank >> llm
      - retriever >> llm
  - name: docsum
    route: /v1/docsum
    flows: [remote-llm]
dataprep: {embedding: embedding, retriever: retriever, corpus: examples/chatqna/corpus}
EOF
start_node chatqna --config "$work/chatqna.yaml" --http-port 0 --data-dir "$work/chatqna-data"
single=$port

# The 3-node cluster of examples/cluster/cluster.yaml, on free ports.
read -r c1 c2 c3 h1 h2 h3 < <(free_ports 6)
sed -e "s/port: 7101, http_port: 8888/port: $c1, http_port: $h1/" \
    -e "s/port: 7102, http_port: 8889/port: $c2, http_port: $h2/" \
    -e "s/port: 7103, http_port: 8890/port: $c3, http_port: $h3/" \
    -e "s/log_level: info/log_level: warn/" \
    "$src/examples/cluster/cluster.yaml" > "$work/cluster.yaml"
grep -q "port: $c3, http_port: $h3" "$work/cluster.yaml" ||
  { echo "examples/cluster/cluster.yaml changed: its member ports are not 7101-7103/8888-8890"; exit 1; }
start_node n1 --config "$work/cluster.yaml" --node n1 --data-dir "$work/cluster-data"
start_node n2 --config "$work/cluster.yaml" --node n2 --data-dir "$work/cluster-data"
start_node n3 --config "$work/cluster.yaml" --node n3 --data-dir "$work/cluster-data"
n3_pid=$last_pid
# n1 sees both replicas of every stateless service (bounded: 10 s).
for _ in $(seq 100); do
  [ "$(curl -s "http://127.0.0.1:$h1/v1/cluster" | grep -o '"state":"up"' | wc -l)" -eq 2 ] && break
  sleep 0.1
done
[ "$(curl -s "http://127.0.0.1:$h1/v1/cluster" | grep -o '"state":"up"' | wc -l)" -eq 2 ] ||
  { echo "the cluster did not form: $(curl -s "http://127.0.0.1:$h1/v1/cluster")"; exit 1; }

# promtool accepts each cluster member's live exposition.
for h in "$h1" "$h2" "$h3"; do
  curl -sf "http://127.0.0.1:$h/metrics" > "$work/metrics-$h.txt"
  promtool check metrics < "$work/metrics-$h.txt" ||
    { echo "promtool check metrics: the /metrics of the cluster member on port $h"; exit 1; }
done

# A Prometheus server scraping all four every second. It cannot listen on
# port 0: a free port is picked, and picked again if taken meanwhile.
cat > "$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: opea-node
    metrics_path: /metrics
    static_configs:
      - targets: ["127.0.0.1:$single", "127.0.0.1:$h1", "127.0.0.1:$h2", "127.0.0.1:$h3"]
EOF
prom=""
for attempt in 1 2 3 4 5; do
  read -r pport < <(free_ports 1)
  rm -rf "$work/tsdb"
  prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn > "$work/prometheus.out" 2>&1 &
  ppid_=$!
  for _ in $(seq 150); do
    kill -0 "$ppid_" 2>/dev/null || break
    if curl -sf "http://127.0.0.1:$pport/-/ready" >/dev/null; then prom="http://127.0.0.1:$pport"; break; fi
    sleep 0.1
  done
  if [ -n "$prom" ] && kill -0 "$ppid_" 2>/dev/null; then pids+=("$ppid_"); break; fi
  prom=""
  kill "$ppid_" 2>/dev/null || true
  wait "$ppid_" 2>/dev/null || true
  echo "prometheus did not start on port $pport (attempt $attempt): $(tail -n 2 "$work/prometheus.out")"
done
[ -n "$prom" ] || { echo "prometheus did not start"; exit 1; }
echo "prometheus at $prom; chatqna node :$single; cluster n1 :$h1 n2 :$h2 n3 :$h3"

# Polls `expr` (a PromQL expression) until Prometheus answers it with a
# non-empty result, `secs` seconds at most.
await() {
  local secs=$1 expr=$2 i
  for ((i = 0; i < secs * 5; i++)); do
    if curl -sf "$prom/api/v1/query" --data-urlencode "query=$expr" | grep -q '"result":\[{'; then return 0; fi
    sleep 0.2
  done
  echo "timed out after ${secs}s waiting for Prometheus: $expr"
  return 1
}
await 20 'count(up{job="opea-node"} == 1) == 4'

# (c) Load: JSON and streamed ChatQnA on the node and on the cluster, and the
# failing docsum; each loop one request at a time.
questions=("How do I add a route to a megaservice?" "What happens when a cluster member dies?"
           "Which metrics does a node export?" "How does the circuit breaker work?")
load_until=$((SECONDS + load_seconds))
[ "$keep" -eq 1 ] && load_until=$((SECONDS + 1000000))
load() {  # load URL_PATH_PORT STREAM(true|false)
  local url=$1 stream=$2 i=0
  while [ "$SECONDS" -lt "$load_until" ]; do
    curl -s -N -o /dev/null --max-time 10 "$url" -H 'Content-Type: application/json' \
      -d "{\"messages\": \"${questions[i++ % ${#questions[@]}]}\", \"stream\": $stream}" || true
  done
}
load "http://127.0.0.1:$single/v1/chatqna" false & pids+=($!)
load "http://127.0.0.1:$single/v1/chatqna" false & pids+=($!)
load "http://127.0.0.1:$single/v1/chatqna" true & pids+=($!)
load "http://127.0.0.1:$h1/v1/chatqna" false & pids+=($!)
load "http://127.0.0.1:$h1/v1/chatqna" true & pids+=($!)
(while [ "$SECONDS" -lt "$load_until" ]; do
   curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$single/v1/docsum" \
     -H 'Content-Type: application/json' -d '{"text": "a long document"}' || true
   sleep 0.2
 done) & pids+=($!)
curl -s -o /dev/null "http://127.0.0.1:$single/v1/chatqna" -H 'Content-Type: application/json' -d '{"messages": '
# A member dies mid-load and comes back: n1 sees it down, then up again.
sleep $((load_seconds / 2))
{ kill -9 "$n3_pid"; wait "$n3_pid"; } 2>/dev/null || true
sleep 1.5
start_node n3-again --config "$work/cluster.yaml" --node n3 --data-dir "$work/cluster-data"
if [ "$keep" -eq 0 ]; then
  while [ "$SECONDS" -lt "$load_until" ]; do sleep 0.2; done
  # One more scrape of every node after the load.
  end_ms=$(($(date +%s%3N) + 1000))
  await 20 "min(timestamp(opea_build_info)) * 1000 > $end_ms"
fi
await 20 'count(up{job="opea-node"} == 1) == 4'

# (d) Every variable and panel expression has data.
rc=0
check evaluate --prometheus "$prom" "$grafana" || rc=1
echo "dashboards_test: $((SECONDS - t0)) s"
if [ "$keep" -eq 1 ]; then
  echo "kept running (Ctrl-C stops): Prometheus $prom, nodes chatqna :$single, n1 :$h1, n2 :$h2, n3 :$h3"
  wait
fi
exit "$rc"
