#!/usr/bin/env bash
# bench/stages.sh: time trident's later stages on the benchmark capture (flows, hosts,
# classify every host, ingest into the embedded store with records (the default: counts, flows,
# hosts, traffic, predictions) and counts only, ingest into a local Redis), one core, hyperfine
# medians, and write bench/out/stages.md. Redis: database REDIS_DB (default 15) of
# 127.0.0.1:6379 is flushed before each run and after the last; -R skips Redis. The peers for these stages are measured by bench/run.sh
# (nfstream builds flows with statistics) and bench/classify.sh (networkML).
# usage: bench/stages.sh [-t TRIDENT] [-r RUNS] [-c CORE] [-d REDIS_DB] [-R]
# needs: hyperfine, capinfos, redis-cli (unless -R)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
trident="" runs=5 core=1 rdb=15 redis=1
while getopts "t:r:c:d:R" o; do
  case $o in
    t) trident=$OPTARG ;; r) runs=$OPTARG ;; c) core=$OPTARG ;; d) rdb=$OPTARG ;; R) redis=0 ;;
    *) exit 2 ;;
  esac
done
cap="$repo/bench/out/bench.pcap"
[ -f "$cap" ] || { echo "build the capture first: bench/run.sh (or shared/bench/make-capture.sh $cap)" >&2; exit 2; }
if [ -z "$trident" ]; then
  (cd "$repo" && cargo build --release -q --bin trident)
  trident="${CARGO_TARGET_DIR:-$repo/target}/release/trident"
fi
packets=$(capinfos -c -M "$cap" | awk -F': *' '/Number of packets/ {print $2}')
data=$(mktemp -d)
trap 'rm -rf "$data"; [ "$redis" = 0 ] || redis-cli -n "$rdb" flushdb >/dev/null' EXIT
json="$repo/bench/out/stages.json"
# Each benchmark gets its own --prepare (hyperfine takes one for all or one per command).
args=()
bench() { args+=(-n "$1" --prepare "$2" "taskset -c $core $trident $3"); }
bench "flows" true "flows -q --format none $cap"
bench "hosts" true "hosts -q --format json $cap"
bench "classify (every host)" true "classify $cap"
bench "ingest (embedded, with records)" "rm -rf $data/idx" \
  "ingest -q -j 1 --data-dir $data/idx --sensor bench $cap"
bench "ingest (embedded, counts only)" "rm -rf $data/idx" \
  "ingest -q -j 1 --no-flows --no-hosts --data-dir $data/idx --sensor bench $cap"
if [ "$redis" = 1 ]; then
  redis-cli -n "$rdb" ping >/dev/null || { echo "no Redis on 127.0.0.1:6379 (-R to skip)" >&2; exit 2; }
  bench "ingest (Redis, potiron layout)" "redis-cli -n $rdb flushdb" \
    "ingest -q -j 1 --store redis://127.0.0.1:6379/$rdb --sensor bench $cap"
fi
hyperfine -N -w 1 -r "$runs" --export-json "$json" "${args[@]}" >&2
out="$repo/bench/out/stages.md"
{
  echo "| stage | median wall s | packets/s |"
  echo "|---|---:|---:|"
  python3 - "$json" "$packets" "$trident" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
packets, trident = int(sys.argv[2]), sys.argv[3]
for r in results:
    print(f"| {r['command']} | {r['median']:.3f} | {packets / r['median'] / 1e6:.2f} M |")
PY
  echo
  echo "Commands (CAP = bench/out/bench.pcap, each under \`taskset -c $core\`, $runs runs):"
  echo
  echo '```sh'
  echo "trident flows -q --format none CAP"
  echo "trident hosts -q --format json CAP"
  echo "trident classify CAP"
  echo "trident ingest -q -j 1 --data-dir DIR --sensor bench CAP   # DIR emptied before each run"
  echo "trident ingest -q -j 1 --no-flows --no-hosts --data-dir DIR --sensor bench CAP"
  [ "$redis" = 0 ] || echo "trident ingest -q -j 1 --store redis://127.0.0.1:6379/$rdb --sensor bench CAP   # flushdb before each run"
  echo '```'
} > "$out"
cat "$out"
