#!/usr/bin/env bash
# potiron (CIRCL, tshark + Python + Redis) and `trident ingest --store redis://` side by side,
# in one run, on the same capture, each into its own database of one private Redis server;
# then a key-by-key comparison of the two databases.
#
# usage: POTIRON_DIR=/path/to/potiron-checkout bench/potiron.sh [-t trident] [-c capture] [-p port]
#   POTIRON_DIR  a checkout of github.com/CIRCL/potiron (tested at 7e9fc33, its 2019 HEAD); it
#                is used in place and not copied; nothing of it is kept in this repository.
#   -c capture   default bench/out/bench.pcap (787,464 packets, made by
#                ../shared/bench/make-capture.sh when absent)
#   VENV         python venv for potiron (default /tmp/potiron-venv, created with redis-py 3.5.3,
#                the version the goldens in ../shared/potiron used)
# writes bench/out/potiron/potiron.md (+ hyperfine JSON, the comparison)
# needs: tshark, redis-server, redis-cli, hyperfine, python3 (venv + pip)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${POTIRON_DIR:?set POTIRON_DIR to a checkout of github.com/CIRCL/potiron}"
POTIRON_DIR=$(cd "$POTIRON_DIR" && pwd)
[ -e "$POTIRON_DIR/bin/parse_pcap_files.py" ] || { echo "no bin/parse_pcap_files.py in $POTIRON_DIR" >&2; exit 2; }
command -v tshark >/dev/null || { echo "potiron needs tshark on PATH" >&2; exit 2; }
trident=$PWD/target/release/trident; cap=bench/out/bench.pcap; port=16391
while getopts t:c:p: o; do
  case $o in t) trident=$(realpath "$OPTARG") ;; c) cap=$OPTARG ;; p) port=$OPTARG ;; *) exit 2 ;; esac
done
venv=${VENV:-/tmp/potiron-venv}
work=$PWD/bench/out/potiron; mkdir -p "$work"
[ -e "$cap" ] || bash ../shared/bench/make-capture.sh "$cap"
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q 'redis==3.5.3'; }

# potiron takes sensor and day from the file name: PREFIX-SENSOR-INSTANCE-YYYYMMDDhhmmss.
# trident reads the same convention, so both see sensor `bench-potiron-1`.
name=bench-potiron-1-20211222000000.cap
ln -sf "$(realpath "$cap")" "$work/$name"
packets=$(capinfos -M -c -T "$work/$name" 2>/dev/null | awk -F'\t' 'NR==2 {print $2}')

sock=$work/redis.sock
redis-server --port "$port" --bind 127.0.0.1 --unixsocket "$sock" --unixsocketperm 700 \
  --save '' --appendonly no --dir "$work" > "$work/redis.log" 2>&1 &
rpid=$!
trap 'kill $rpid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do redis-cli -s "$sock" ping >/dev/null 2>&1 && break; sleep 0.1; done

# potiron always writes database 0 (redis.Redis(unix_socket_path=...)); trident gets db 1.
# Both skip a file already imported, so each run starts from an empty database.
potiron_cmd="env TZ=UTC POTIRON_HOME=$POTIRON_DIR/ PYTHONPATH=$POTIRON_DIR $venv/bin/python $POTIRON_DIR/bin/parse_pcap_files.py -c -u $sock -i $work/$name"
trident_cmd="$trident ingest -q --store redis://127.0.0.1:$port/1 $work/$name"
trident1_cmd="$trident ingest -q -j 1 --store redis://127.0.0.1:$port/1 $work/$name"
(cd "$work" && hyperfine -N --runs "${POTIRON_RUNS:-3}" --export-json potiron.json \
  --prepare "redis-cli -s $sock -n 0 flushdb" "$potiron_cmd")
(cd "$work" && hyperfine -N --warmup 1 --runs 5 --export-json trident.json \
  --prepare "redis-cli -s $sock -n 1 flushdb" "$trident_cmd" "$trident1_cmd")
# The Redis server's own CPU time per ingest (utime + stime of redis-server from /proc, in
# clock ticks), 3 runs each, databases emptied first: the server's work is a floor under any
# client's wall time, whatever the client does.
server_cpu() {  # db, command...
  local db=$1; shift
  redis-cli -s "$sock" -n "$db" flushdb >/dev/null
  local t0 t1
  t0=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
  "$@" >/dev/null 2>&1
  t1=$(awk '{print $14 + $15}' "/proc/$rpid/stat")
  echo $((t1 - t0))
}
: > "$work/server.txt"
for _ in 1 2 3; do
  echo "potiron $(cd "$work" && server_cpu 0 $potiron_cmd)" >> "$work/server.txt"
  echo "trident $(cd "$work" && server_cpu 1 $trident1_cmd)" >> "$work/server.txt"
done
# the last run of each left its database in place: compare them
"$venv/bin/python" - "$sock" > "$work/compare.txt" <<'PY'
import collections, sys
import redis
def dump(db):
    # bytes, not text: trident keeps each file's contribution as a gzip blob (for --force)
    r = redis.Redis(unix_socket_path=sys.argv[1], db=db)
    out = {}
    for k in r.scan_iter(count=10000):
        t = r.type(k).decode()
        if t == "zset":
            v = dict(r.zrange(k, 0, -1, withscores=True))
        elif t == "set":
            v = set(r.smembers(k))
        elif t == "hash":
            v = r.hgetall(k)
        elif t == "list":
            v = r.lrange(k, 0, -1)
        else:
            v = r.get(k)
        out[k] = (t, v)
    return out
pot, tri = dump(0), dump(1)
kind = lambda k: (lambda s: s.rsplit(":", 1)[-1] if ":" in s else s)(k.decode("utf-8", "replace"))
both = pot.keys() & tri.keys()
equal = [k for k in both if pot[k] == tri[k]]
diff = sorted(k for k in both if pot[k] != tri[k])
print(f"potiron keys: {len(pot)}; trident keys: {len(tri)}; in both: {len(both)}; "
      f"equal: {len(equal)}; different: {len(diff)}; only potiron: {len(pot.keys() - tri.keys())}; "
      f"only trident: {len(tri.keys() - pot.keys())}")
members = sum(len(v[1]) for v in pot.values() if v[0] == "zset")
same_members = sum(1 for k in both if pot[k][0] == "zset" for m, s in pot[k][1].items() if tri[k][1].get(m) == s)
print(f"zset members in potiron: {members}; equal (member and score) in trident: {same_members}")
per = collections.Counter(kind(k) for k in diff)
print("different keys by kind:", dict(sorted(per.items())))
for k in diff[:10]:
        a, b = pot[k], tri[k]
        if a[0] == b[0] == "zset":
            d = {m: (a[1].get(m), b[1].get(m)) for m in a[1].keys() | b[1].keys() if a[1].get(m) != b[1].get(m)}
            print(f"  {k}: {len(d)} members differ, e.g. {dict(list(d.items())[:3])}")
        else:
            print(f"  {k}: potiron {a!r:.200} / trident {b!r:.200}")
for k in sorted(pot.keys() - tri.keys())[:10]:
    print("  only potiron:", k)
for k in sorted(tri.keys() - pot.keys())[:10]:
    print("  only trident:", k)
PY
cat "$work/compare.txt"
python3 - "$work" "$packets" "$potiron_cmd" "$trident_cmd" "$trident1_cmd" <<'PY' | tee "$work/potiron.md"
import json, sys
work, packets, pc, tc, t1 = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]
pr = json.load(open(f"{work}/potiron.json"))["results"][0]
p, pc = pr["median"], pr["user"] + pr["system"]
t = json.load(open(f"{work}/trident.json"))["results"]
print(f"capture: {packets:,} packets\n")
print("CPU s = user + system of the command and its children (tshark for potiron); the Redis")
print("server's own time is in neither.\n")
print("| ingest into Redis | median wall s | packets/s (wall) | wall ratio | CPU s | packets per CPU s | CPU ratio |")
print("|---|---:|---:|---:|---:|---:|---:|")
print(f"| potiron `parse_pcap_files.py` | {p:.2f} | {packets / p:,.0f} | 1 | {pc:.2f} | {packets / pc:,.0f} | 1 |")
for r, label in zip(t, ("trident (all cores)", "trident -j 1")):
    m, c = r["median"], r["user"] + r["system"]
    print(f"| {label} | {m:.3f} | {packets / m:,.0f} | {p / m:.1f}x | {c:.2f} | {packets / c:,.0f} | {pc / c:.1f}x |")
ticks = __import__("os").sysconf("SC_CLK_TCK")
srv = {}
for line in open(f"{work}/server.txt"):
    who, n = line.split()
    srv.setdefault(who, []).append(int(n) / ticks)
med = lambda v: sorted(v)[len(v) // 2]
print("\nThe Redis server's own CPU s per ingest (median of 3, from /proc): "
      f"potiron {med(srv['potiron']):.2f}, trident -j 1 {med(srv['trident']):.2f}. "
      f"trident's wall time cannot drop below the server's, so against potiron's "
      f"{p:.2f} s the wall ratio is at most {p / med(srv['trident']):.0f}x in this layout.")
print("\n" + open(f"{work}/compare.txt").read())
PY
