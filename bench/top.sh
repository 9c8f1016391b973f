#!/usr/bin/env bash
# `trident top` on an index of about 100 M packets: N time-shifted copies of the benchmark
# capture (787,464 packets each; copy k shifted by k days with `editcap -t`, alternately
# sensor bench-a / bench-b), ingested into the embedded store with `--no-flows --no-hosts`
# (only the per-day counts this benchmark queries: flows and hosts would make the ingest
# take far longer and are not read by `top`), and R of them into a private Redis.
# Then hyperfine times `trident top` for the busiest day of one sensor (and a median day,
# --per-protocol, --month) against both stores.
# usage: bench/top.sh [-t trident] [-n copies] [-r redis_copies] [-p redis_port]
#        writes bench/out/top/top.md and hyperfine JSON files next to it
# needs: editcap (wireshark-common), hyperfine, redis-server, redis-cli, python3, GNU time;
#        bench/out/bench.pcap (made from ../shared/bench/make-capture.sh when absent)
set -euo pipefail
cd "$(dirname "$0")/.."
trident=target/release/trident; copies=128; rcopies=16; rport=16390
while getopts t:n:r:p: o; do
  case $o in t) trident=$OPTARG ;; n) copies=$OPTARG ;; r) rcopies=$OPTARG ;; p) rport=$OPTARG ;; *) exit 2 ;; esac
done
out=bench/out; work=$out/top; mkdir -p "$work"
[ -e "$out/bench.pcap" ] || bash ../shared/bench/make-capture.sh "$out/bench.pcap"
data=$work/data
sensor() { if (( $1 % 2 == 0 )); then echo bench-a; else echo bench-b; fi; }
shifted() { editcap -F pcap -t $(($1 * 86400)) "$out/bench.pcap" "$work/shift$1.pcap"; }

# Ingest copies 0..max-1 into STORE-ARGS; the next copy is shifted while one is ingested.
# Copies already ingested are skipped by trident itself (same content hash), so an
# interrupted run resumes.
ingest_all() {
  local max=$1 log=$2; shift 2
  : > "$log"
  shifted 0
  for k in $(seq 0 $((max - 1))); do
    if (( k + 1 < max )); then shifted $((k + 1)) & fi
    "$trident" ingest -q --sensor "$(sensor "$k")" "$@" "$work/shift$k.pcap" >> "$log" 2>&1
    rm -f "$work/shift$k.pcap"
    wait
  done
}

if [ ! -e "$work/embedded.done" ]; then
  /usr/bin/time -f '%e s, %M KiB peak' -o "$work/ingest-embedded.time" \
    bash -c "set -euo pipefail; $(declare -f sensor shifted ingest_all); out=$out work=$work trident=$trident; ingest_all $copies $work/ingest-embedded.log --no-flows --no-hosts --data-dir $data"
  touch "$work/embedded.done"
fi

# Days to query: the busiest day of sensor bench-a (most packets counted) and a median one.
read -r busy median packets <<<"$(python3 - "$data/index.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("SELECT day, SUM(count) FROM counts WHERE field = 'protocol' AND sensor = 'bench-a' GROUP BY day ORDER BY 2 DESC, 1").fetchall()
total = db.execute("SELECT SUM(packets) FROM files").fetchone()[0]
f = lambda d: f"{d // 10000:04}-{d // 100 % 100:02}-{d % 100:02}"
print(f(rows[0][0]), f(rows[len(rows) // 2][0]), total)
PY
)"
month=${busy%-*}
echo "index: $packets packets; busiest day of bench-a $busy, median day $median"
python3 - "$data/index.sqlite" "${busy//-/}" > "$work/busy-rows.txt" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
d = int(sys.argv[2])
for f in ("dport", "ipsrc"):
    n = db.execute("SELECT COUNT(*), COUNT(DISTINCT file_id) FROM counts WHERE field = ? AND day = ? AND sensor = 'bench-a'", (f, d)).fetchone()
    print(f"{f}: {n[0]} rows from {n[1]} files on {d}")
print("counts rows in total:", db.execute("SELECT COUNT(*) FROM counts").fetchone()[0])
PY
cat "$work/busy-rows.txt"

# Redis: a private server, no persistence; combined keys (potiron's -ck) so that
# --per-protocol can be answered (a plain top sums the per-protocol keys).
rdir=$work/redis; mkdir -p "$rdir"
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --dir "$rdir" --daemonize no > "$rdir/server.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
store=redis://127.0.0.1:$rport/0
if [ "$(redis-cli -p "$rport" dbsize)" = 0 ]; then
  /usr/bin/time -f '%e s, %M KiB peak' -o "$work/ingest-redis.time" \
    bash -c "set -euo pipefail; $(declare -f sensor shifted ingest_all); out=$out work=$work trident=$trident; ingest_all $rcopies $work/ingest-redis.log --combined-keys --store $store"
fi
redis-cli -p "$rport" info memory | grep -E '^used_memory_human|^used_memory_rss_human' | tr -d '\r' > "$work/redis-memory.txt"
redis-cli -p "$rport" dbsize > "$work/redis-keys.txt"

run() { # name, then the trident arguments after `top`
  local name=$1; shift
  hyperfine -N --warmup 3 --runs 30 --export-json "$work/$name.json" "$trident top $*" > "$work/$name.txt" 2>&1
}
run emb-dport-busy --data-dir "$data" --field dport --sensor bench-a --day "$busy"
run emb-ipsrc-busy --data-dir "$data" --field ipsrc --sensor bench-a --day "$busy"
run emb-dport-busy-pp --data-dir "$data" --field dport --sensor bench-a --day "$busy" --per-protocol
run emb-dport-median --data-dir "$data" --field dport --sensor bench-a --day "$median"
run emb-dport-month --data-dir "$data" --field dport --sensor bench-a --month "$month"
run emb-ipsrc-month --data-dir "$data" --field ipsrc --sensor bench-a --month "$month"
run redis-dport-busy --store "$store" --field dport --sensor bench-a --day "$busy"
run redis-ipsrc-busy --store "$store" --field ipsrc --sensor bench-a --day "$busy"
run redis-dport-busy-pp --store "$store" --field dport --sensor bench-a --day "$busy" --per-protocol
run redis-dport-median --store "$store" --field dport --sensor bench-a --day "$median"
run redis-dport-month --store "$store" --field dport --sensor bench-a --month "$month"
run redis-ipsrc-month --store "$store" --field ipsrc --sensor bench-a --month "$month"
# The embedded and Redis answers must agree (Redis holds the same copies when rcopies = copies).
"$trident" top --data-dir "$data" --field dport --sensor bench-a --day "$busy" --format json > "$work/answer-embedded.json"
"$trident" top --store "$store" --field dport --sensor bench-a --day "$busy" --format json > "$work/answer-redis.json"

python3 - "$work" "$packets" "$copies" "$rcopies" "$busy" "$median" "$month" <<'PY'
import json, os, sys
work, packets, copies, rcopies, busy, median, month = sys.argv[1:]
def med(n):
    r = json.load(open(f"{work}/{n}.json"))["results"][0]
    return r["median"] * 1000
rows = [
    ("dport, busiest day", "dport-busy"), ("ipsrc, busiest day", "ipsrc-busy"),
    ("dport --per-protocol, busiest day", "dport-busy-pp"), ("dport, median day", "dport-median"),
    ("dport, --month", "dport-month"), ("ipsrc, --month", "ipsrc-month"),
]
with open(f"{work}/top.md", "w") as fh:
    fh.write(f"Index: {int(packets):,} packets ({copies} copies) embedded, {rcopies} copies in Redis; "
             f"sensor bench-a, busiest day {busy}, median day {median}, month {month}\n\n")
    fh.write("| query | embedded median ms | Redis median ms |\n|---|---:|---:|\n")
    for label, n in rows:
        fh.write(f"| {label} | {med('emb-' + n):.1f} | {med('redis-' + n):.1f} |\n")
    for f in ("ingest-embedded.time", "ingest-redis.time", "redis-memory.txt", "redis-keys.txt", "busy-rows.txt"):
        p = f"{work}/{f}"
        if os.path.exists(p):
            fh.write(f"\n{f}: " + open(p).read().strip().replace("\n", "; ") + "\n")
    same = open(f"{work}/answer-embedded.json").read() == open(f"{work}/answer-redis.json").read()
    fh.write(f"\nembedded and Redis answers identical: {same}\n")
print(open(f"{work}/top.md").read())
PY
