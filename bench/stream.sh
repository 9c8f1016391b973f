#!/usr/bin/env bash
# bench/stream.sh: publish + consume throughput and latency through the real brokers, and
# memory under a broker outage; writes bench/out/stream.md (the streaming section of
# BENCHMARKS.md).
#
# usage: bench/stream.sh [-n RECORDS] [-r RUNS] [-o OUT.md] [-p]
#   -n RECORDS  records per throughput run (default 1000000)
#   -r RUNS     runs per broker; the report gives the median (default 3)
#   -o OUT.md   where to write the report (default bench/out/stream.md)
#   -p          priority (root): run the Redis measurements against a private redis-server
#               (same settings as the machine's: no RDB, no AOF) started by this script, with
#               this script's scheduler autogroup at nice -10, restored on exit. On a machine
#               shared with compilers, every session gets an equal CPU share (autogroups), so
#               without -p the figures measure the share, not trident; -p measures capacity.
# env: TRIDENT (a trident binary for the outage run; default: a release build),
#      REDIS_URL (default redis://127.0.0.1:6379/5), AMQP_URL (default
#      amqp://guest:guest@127.0.0.1:5672/%2f), CARGO_TARGET_DIR respected.
#
# What it measures (crates/stream/examples/throughput.rs, built in release):
#   1. Redis Streams: one publisher thread (XADD MAXLEN ~, 256 records per entry) and one
#      consumer (XREADGROUP in a group, XACK per fetch), records of a decoded packet's size
#      (~330 B of JSON); records/s = records consumed / wall time from first publish to last ack;
#   2. RabbitMQ: the same through a durable direct exchange and queue, persistent messages,
#      publisher confirms awaited every 32 batches, manual acks, prefetch 512;
#   3. the same again into the SQLite record store (INSERT OR IGNORE per record);
#   4. latency (publish to consumer, p50/p99/max) with the publisher paced at half the
#      target rate (150k/s Redis, 50k/s RabbitMQ);
#   5. memory under a broker outage: `trident decode --publish` towards a port where no broker
#      answers, peak RSS after 20 s of retries (the bounded queue holds 64 x 256 records);
#   6. the same in the example (`throughput outage 1000000 5`): RSS before, while the broker is
#      down (publish blocks once the queue is full), and after redis-server starts on the port
#      and the publisher drains all 1,000,000 records.
set -euo pipefail
cd "$(dirname "$0")/.."

N=1000000
RUNS=3
OUT=bench/out/stream.md
PRIO=0
while [ $# -gt 0 ]; do
  case "$1" in
    -n) N=$2; shift 2 ;;
    -r) RUNS=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    -p) PRIO=1; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/5}
AMQP_URL=${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p "$(dirname "$OUT")"

cargo build --release -q -p trident-stream --example throughput
BIN=$TARGET/release/examples/throughput
# The outage run needs a trident binary; $TRIDENT, else a release build.
if [ -z "${TRIDENT:-}" ]; then
  if cargo build --release -q -p trident-cli; then
    TRIDENT=$TARGET/release/trident
  else
    echo "trident-cli did not build: the decode --publish outage run is skipped" >&2
    TRIDENT=/nonexistent
  fi
fi

# median of the records_per_s field over RUNS runs; echoes the median run's whole line
median_run() {
  local lines=()
  for _ in $(seq 1 "$RUNS"); do lines+=("$("$BIN" "$@")"); done
  printf '%s\n' "${lines[@]}" | awk '{for(i=1;i<=NF;i++) if($i ~ /^records_per_s=/){split($i,a,"="); print a[2], $0}}' \
    | sort -n | awk -v m=$(( (RUNS + 1) / 2 )) 'NR==m{ $1=""; sub(/^ /,""); print }'
}
field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1==k{print $2}'; }

STORE=$(mktemp -d)
REDIS_PID=
cleanup() {
  [ -n "$REDIS_PID" ] && kill "$REDIS_PID" 2>/dev/null
  [ "$PRIO" = 1 ] && echo 0 > /proc/self/autogroup 2>/dev/null
  rm -rf "$STORE"
}
trap cleanup EXIT
mode="fair share (no -p): the machine's Redis"
if [ "$PRIO" = 1 ]; then
  echo -10 > /proc/self/autogroup || { echo "-p needs root and CONFIG_SCHED_AUTOGROUP" >&2; exit 1; }
  RPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  mkdir -p "$STORE/redis"
  redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$STORE/redis" >/dev/null &
  REDIS_PID=$!
  for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  REDIS_URL=redis://127.0.0.1:$RPORT/0
  mode="priority (-p): autogroup nice -10, a private redis-server (no RDB, no AOF) in that group; RabbitMQ is the machine's, outside it"
fi
redis_tp=$(median_run "$REDIS_URL" "$N")
amqp_tp=$(median_run "$AMQP_URL" "$N")
rm -rf "$STORE"/*; redis_store=$("$BIN" "$REDIS_URL" "$N" --store "$STORE/r")
amqp_store=$("$BIN" "$AMQP_URL" "$N" --store "$STORE/a")
redis_lat=$("$BIN" "$REDIS_URL" 1500000 150000)
amqp_lat=$("$BIN" "$AMQP_URL" 500000 50000)
outage_line=$("$BIN" outage 1000000 5 2>/dev/null)

# memory bounded under an outage: nothing listens on the port
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PCAP=$(ls bench/out/bench.pcap "${TRIDENT_SHARED:-../shared}"/corpus/pcapplusplus/tls2.pcap 2>/dev/null | head -1 || true)
outage="not measured (no capture found, or no trident binary)"
if [ -n "$PCAP" ] && [ -x "$TRIDENT" ]; then
  ( /usr/bin/time -f '%M' -o "$STORE/rss" timeout -s INT 20 "$TRIDENT" decode -q --publish "redis://127.0.0.1:$PORT/0" "$PCAP" >/dev/null 2>"$STORE/err" || true )
  outage="peak RSS $(tail -1 "$STORE/rss" 2>/dev/null || echo "?") KB after 20 s of retries against an unreachable broker ($(grep -c unreachable "$STORE/err" || true) retry log lines); decoding blocked once the queue was full"
fi

row() { # name line
  printf '| %s | %s | %s | %s | %s |\n' "$1" "$(field "$2" records)" "$(field "$2" records_per_s)" "$(field "$2" p50_ms)" "$(field "$2" p99_ms)"
}
{
  echo "## Streaming through brokers"
  echo
  echo "Measured $(date -u +%Y-%m-%d) at load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), shared with other jobs;"
  echo "$(redis-server --version | awk '{print $1, $2, $3}'), RabbitMQ $(rabbitmqctl version 2>/dev/null || echo '?')."
  echo "Mode: $mode."
  echo "Records are ~330 B JSON packet records, 256 per broker message; one publisher thread, one consumer."
  echo "Throughput is the median of $RUNS runs: records consumed and acknowledged / wall time from the first publish to the last ack."
  echo
  echo "| run | records | records/s | p50 latency ms | p99 latency ms |"
  echo "|---|---:|---:|---:|---:|"
  row "Redis Streams, publish + consume (target ≥ 300k/s)" "$redis_tp"
  row "RabbitMQ with confirms, publish + consume (target ≥ 100k/s)" "$amqp_tp"
  row "Redis Streams into the SQLite record store" "$redis_store"
  row "RabbitMQ into the SQLite record store" "$amqp_store"
  row "Redis Streams paced at 150k/s (latency)" "$redis_lat"
  row "RabbitMQ paced at 50k/s (latency)" "$amqp_lat"
  echo
  echo "Broker outage: $outage."
  echo
  echo "Broker outage, bounded queue: $outage_line"
  echo
  echo "Raw lines:"
  echo
  echo '```'
  printf '%s\n' "$redis_tp" "$amqp_tp" "$redis_store" "$amqp_store" "$redis_lat" "$amqp_lat" "$outage_line"
  echo '```'
} > "$OUT"
cat "$OUT"
