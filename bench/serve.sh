#!/usr/bin/env bash
# Load test of `trident serve`: the hosts and top endpoints under wrk, on an index of about
# 10 M packets (N time-shifted copies of the benchmark capture), while an ingest of one more
# copy runs in the background. Queries vary (sorts, filters, pages, fields, days) so the
# server's answer cache does not make every request a hit.
# usage: bench/serve.sh [-t trident] [-n copies] [-d seconds]    writes bench/out/serve.md
# needs: wrk, editcap (wireshark-common), python3; bench/out/bench.pcap (bench/run.sh makes it)
set -euo pipefail
cd "$(dirname "$0")/.."
trident=target/release/trident; copies=13; secs=15
while getopts t:n:d: o; do
  case $o in t) trident=$OPTARG ;; n) copies=$OPTARG ;; d) secs=$OPTARG ;; *) exit 2 ;; esac
done
out=bench/out; work=$out/serve; mkdir -p "$work"
[ -e "$out/bench.pcap" ] || bash ../shared/bench/make-capture.sh "$out/bench.pcap"
for k in $(seq 0 "$copies"); do
  [ -e "$work/shift$k.pcap" ] || editcap -F pcap -t $((k * 86400 * 400)) "$out/bench.pcap" "$work/shift$k.pcap"
done
data=$work/data
if [ ! -e "$data/index.sqlite" ]; then
  files=(); for k in $(seq 0 $((copies - 1))); do files+=("$work/shift$k.pcap"); done
  /usr/bin/time -f '%e s, %M KiB peak' -o "$work/ingest.time" "$trident" ingest --data-dir "$data" "${files[@]}"
fi
port=18480
"$trident" serve --listen 127.0.0.1:$port --data-dir "$data" > "$work/serve.log" 2>&1 &
srv=$!
trap 'kill $srv 2>/dev/null; kill ${ing:-0} 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/api/v1/health" >/dev/null && break; sleep 0.2; done
python3 - "$port" "$work" <<'PY'
import json, sys, urllib.request
port, work = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}"
s = json.load(urllib.request.urlopen(base + "/api/v1/summary"))
sensors = json.load(urllib.request.urlopen(base + "/api/v1/sensors"))
days = sorted({d for x in sensors for d in x["days"]})
hosts = json.load(urllib.request.urlopen(base + "/api/v1/hosts?limit=200"))["items"]
vendors = sorted({h["vendor"] for h in hosts if h.get("vendor")})[:20]
sorts = ["last_seen", "first_seen", "packets", "bytes", "role", "confidence", "vendor", "os", "mac", "ip"]
hp = []
for so in sorts:
    for order in ("asc", "desc"):
        for off in (0, 50, 100, 200, 500):
            hp.append(f"/api/v1/hosts?sort={so}&order={order}&offset={off}&limit=50")
for v in vendors:
    hp.append("/api/v1/hosts?vendor=" + urllib.request.quote(v))
for q in ("10.", "192.168", "apple", "intel", "00:", "google"):
    hp.append("/api/v1/hosts?q=" + q)
for sub in ("10.0.0.0/8", "192.168.0.0/16", "172.16.0.0/12"):
    hp.append("/api/v1/hosts?subnet=" + urllib.request.quote(sub, safe=""))
tp = []
for f in ("dport", "sport", "ipsrc", "ipdst", "protocol", "ipttl", "length", "dns_query", "tls_sni"):
    for d in days[:: max(1, len(days) // 40)]:
        tp.append(f"/api/v1/top?field={f}&day={d}&limit=10")
# Cached: a fixed set of queries, repeated (the server's answer cache serves the repeats).
for name, paths in (("hosts-cached", hp), ("top-cached", tp)):
    with open(f"{work}/{name}.lua", "w") as fh:
        fh.write("local paths = {\n" + ",\n".join(json.dumps(p) for p in paths) + "\n}\n")
        fh.write("request = function()\n  return wrk.format(\"GET\", paths[math.random(#paths)])\nend\n")
    print(f"{name}: {len(paths)} distinct queries")
# Uncached: every request a random sort, order and page of the hosts (or field and day of
# top), so almost every request misses the cache and runs its query.
total = s["hosts"]
fields = ["dport", "sport", "ipsrc", "ipdst", "protocol", "ipttl", "length", "dns_query", "tls_sni"]
with open(f"{work}/hosts-uncached.lua", "w") as fh:
    fh.write("local sorts = {" + ",".join(json.dumps(x) for x in sorts) + "}\n")
    fh.write("request = function()\n  local o = math.random(2) == 1 and 'asc' or 'desc'\n"
             f"  local p = '/api/v1/hosts?limit=50&sort=' .. sorts[math.random(#sorts)] .. '&order=' .. o .. '&offset=' .. math.random(0, {max(total - 50, 1)})\n"
             "  return wrk.format('GET', p)\nend\n")
with open(f"{work}/top-uncached.lua", "w") as fh:
    fh.write("local fields = {" + ",".join(json.dumps(x) for x in fields) + "}\n")
    fh.write("local days = {" + ",".join(json.dumps(d) for d in days) + "}\n")
    fh.write("request = function()\n"
             "  local p = '/api/v1/top?limit=10&field=' .. fields[math.random(#fields)] .. '&day=' .. days[math.random(#days)]\n"
             "  return wrk.format('GET', p)\nend\n")
print(f"uncached: hosts {len(sorts) * 2 * max(total - 50, 1)} and top {len(fields) * len(days)} possible queries")
with open(f"{work}/summary.json", "w") as fh:
    json.dump({"packets": s["packets"], "hosts": s["hosts"], "flows": s["flows"], "days": len(days)}, fh)
PY
# an ingest of one more copy runs while wrk measures
"$trident" ingest --force --data-dir "$data" "$work/shift$copies.pcap" > "$work/bg-ingest.log" 2>&1 &
ing=$!
for name in hosts-cached top-cached hosts-uncached top-uncached; do
  wrk -t2 -c16 -d"${secs}s" --latency -s "$work/$name.lua" "http://127.0.0.1:$port" > "$work/wrk-$name.txt"
done
python3 - "$work" "$copies" "$secs" <<'PY' > "$out/serve.md"
import json, re, sys
work, copies, secs = sys.argv[1], sys.argv[2], sys.argv[3]
s = json.load(open(f"{work}/summary.json"))
print(f"Index: {s['packets']:,} packets ({copies} time-shifted copies of bench.pcap), {s['hosts']:,} hosts, "
      f"{s['flows']:,} flows, {s['days']} days; an ingest of one more copy running during the measurement.\n")
print("| route | queries | req/s | p50 | p99 |\n| --- | --- | ---: | ---: | ---: |")
for name in ("hosts-cached", "top-cached", "hosts-uncached", "top-uncached"):
    t = open(f"{work}/wrk-{name}.txt").read()
    rps = re.search(r"Requests/sec:\s+([\d.]+)", t).group(1)
    p50 = re.search(r"50%\s+(\S+)", t).group(1)
    p99 = re.search(r"99%\s+(\S+)", t).group(1)
    route, kind = name.split("-")
    print(f"| `/api/v1/{route}` | {kind} | {float(rps):,.0f} | {p50} | {p99} |")
print(f"\nCommand: `wrk -t2 -c16 -d{secs}s --latency -s bench/out/serve/NAME.lua http://127.0.0.1:18480`")
PY
cat "$out/serve.md"
