#!/usr/bin/env bash
# bench/capture.sh: capture to disk from a `tcpreplay --topspeed` replay into a veth pair,
# side by side in one run: `trident capture --headers-only`, `tcpdump -w` (the same replay,
# one after the other), and AntiNex's capture loop (scapy `sniff(iface=..., prn=...)` turning
# each frame into its layer dicts and a JSON envelope, as AntiNex's agents do, but without
# publishing it, which only flatters scapy). Writes bench/out/capture.md.
#
# usage: bench/capture.sh [-r RUNS] [-l LIMIT] [-o OUT.md]
#   -r RUNS    replays per capturing tool; the report gives the median (default 3)
#   -l LIMIT   packets per replay (tcpreplay --limit; default: the whole capture, 787,464)
#   -o OUT.md  report (default bench/out/capture.md)
# env: TRIDENT (default $CARGO_TARGET_DIR/release/trident, else target/release/trident),
#      SCAPY_PYTHON (a python with scapy; default: a venv in /tmp/trident-scapy-venv, made
#      with `pip install scapy` when missing), SCAPY_SECONDS (how long scapy listens, 15).
# Needs root (veth pair, network namespace), tcpreplay, tcpdump, python3-venv.
#
# Setup: veth trcap0 (root namespace, replay side) <-> trcap1 (namespace trident-capbench,
# capture side), MTU 9000, IPv6 off, so nothing but the replay crosses it. Each tool starts on
# trcap1, the replay runs, the tool is stopped with SIGINT one second after the replay, and
# its own end-of-capture statistics give packets received and dropped by the kernel.
# "reached the interface" is trcap1's rx counter: frames the replay put on the wire
# (tcpreplay cannot send frames longer than the MTU; it counts them as failed).
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=3
LIMIT=
OUT=bench/out/capture.md
while [ $# -gt 0 ]; do
  case "$1" in
    -r) RUNS=$2; shift 2 ;;
    -l) LIMIT=$2; shift 2 ;;
    -o) OUT=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "bench/capture.sh needs root (veth, netns)" >&2; exit 1; }
for t in tcpreplay tcpdump ip python3; do
  command -v "$t" >/dev/null || { echo "$t is required" >&2; exit 1; }
done
TARGET=${CARGO_TARGET_DIR:-target}
TRIDENT=${TRIDENT:-$TARGET/release/trident}
[ -x "$TRIDENT" ] || cargo build --release -q -p trident-cli
PCAP=bench/out/bench.pcap
mkdir -p bench/out "$(dirname "$OUT")"
[ -s "$PCAP" ] || "${TRIDENT_SHARED:-../shared}"/bench/make-capture.sh "$PCAP"
SCAPY_PYTHON=${SCAPY_PYTHON:-/tmp/trident-scapy-venv/bin/python}
if ! "$SCAPY_PYTHON" -c 'import scapy' 2>/dev/null; then
  python3 -m venv /tmp/trident-scapy-venv
  /tmp/trident-scapy-venv/bin/pip install -q scapy
  SCAPY_PYTHON=/tmp/trident-scapy-venv/bin/python
fi
SCAPY_SECONDS=${SCAPY_SECONDS:-15}

NS=trident-capbench
A=trcap0
B=trcap1
W=$(mktemp -d)
cleanup() {
  ip link del "$A" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
cleanup_net() { ip link del "$A" 2>/dev/null || true; ip netns del "$NS" 2>/dev/null || true; }
cleanup_net
ip netns add "$NS"
ip link add "$A" mtu 9000 type veth peer name "$B" mtu 9000
ip link set "$B" netns "$NS"
sysctl -qw "net.ipv6.conf.$A.disable_ipv6=1"
ip netns exec "$NS" sysctl -qw "net.ipv6.conf.$B.disable_ipv6=1"
ip link set "$A" up
ip netns exec "$NS" ip link set "$B" up
ip netns exec "$NS" ip link set lo up
sleep 1

rx() { ip netns exec "$NS" cat "/sys/class/net/$B/statistics/rx_packets"; }
replay() { # -> "pps sent failed"
  local out
  out=$(tcpreplay --topspeed ${LIMIT:+--limit="$LIMIT"} -i "$A" "$PCAP" 2>&1)
  local pps sent failed
  pps=$(echo "$out" | sed -n 's/.*Rated: [0-9.]* Bps, [0-9.]* Mbps, \([0-9.]*\) pps.*/\1/p' | head -1)
  sent=$(echo "$out" | sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' | head -1)
  failed=$(echo "$out" | sed -n 's/.*Failed packets: *\([0-9]*\).*/\1/p' | head -1)
  echo "${pps:-?} ${sent:-?} ${failed:-?}"
}

# One run of a tool: prints "received dropped_kernel reached pps sent failed".
run_trident() {
  rm -f "$W/t.pcapng"
  ip netns exec "$NS" "$TRIDENT" capture -i "$B" -w "$W/t.pcapng" --headers-only 2>"$W/t.err" &
  local pid=$! before
  sleep 2
  before=$(rx)
  local r; r=$(replay)
  sleep 1
  kill -INT $pid; wait $pid || true
  local line; line=$(grep 'packets written' "$W/t.err" | tail -1)
  local recv drop
  recv=$(echo "$line" | sed -n 's/.*received \([0-9]*\).*/\1/p')
  drop=$(echo "$line" | sed -n 's/.*dropped by kernel \([0-9]*\).*/\1/p')
  echo "${recv:-?} ${drop:-?} $(( $(rx) - before )) $r $(stat -c %s "$W/t.pcapng" 2>/dev/null || echo 0)"
}
run_tcpdump() {
  rm -f "$W/d.pcap"
  ip netns exec "$NS" tcpdump -i "$B" -w "$W/d.pcap" -B 32768 2>"$W/d.err" &
  local pid=$! before
  sleep 2
  before=$(rx)
  local r; r=$(replay)
  sleep 1
  kill -INT $pid; wait $pid || true
  local recv drop
  recv=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$W/d.err")
  drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$W/d.err")
  echo "${recv:-?} ${drop:-?} $(( $(rx) - before )) $r $(stat -c %s "$W/d.pcap" 2>/dev/null || echo 0)"
}
cat > "$W/sniff.py" <<'EOF'
# AntiNex network-pipeline's capture loop, without the broker: sniff(), then for every frame
# with an Ethernet layer, each layer's fields as a dict under its lower-cased class name and
# the {data, created, source} envelope serialised to JSON (what kombu would publish).
import json, sys, time
from scapy.all import sniff, Ether
iface, seconds = sys.argv[1], float(sys.argv[2])
n = 0
first = last = None
def to_dict(pkt):
    data = {}
    layer = pkt
    while layer:
        fields = {}
        for k, v in layer.fields.items():
            if isinstance(v, bytes):
                fields["hex_field_" + k] = v.hex()
            elif isinstance(v, (int, str, float)) or v is None:
                fields[k] = v
            else:
                fields[k] = str(v)
        data[type(layer).__name__.lower()] = fields
        layer = layer.payload if layer.payload else None
    return data
def handle(pkt):
    global n, first, last
    now = time.monotonic()
    if first is None:
        first = now
    last = now
    if Ether in pkt:
        json.dumps({"data": to_dict(pkt), "created": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "source": "localdev"})
    n += 1
print("ready", flush=True)
sniff(iface=iface, prn=handle, store=False, timeout=seconds)
span = (last - first) if first is not None and last > first else 0.0
print(f"packets={n} span_s={span:.3f} pps={n / span if span else 0:.0f}", flush=True)
EOF
run_scapy() {
  ip netns exec "$NS" "$SCAPY_PYTHON" "$W/sniff.py" "$B" "$SCAPY_SECONDS" >"$W/s.out" 2>"$W/s.err" &
  local pid=$!
  for _ in $(seq 100); do grep -q ready "$W/s.out" 2>/dev/null && break; sleep 0.1; done
  sleep 2
  local before; before=$(rx)
  local r; r=$(replay)
  wait $pid || true
  local line; line=$(grep '^packets=' "$W/s.out" || echo "packets=? span_s=? pps=?")
  echo "$line reached=$(( $(rx) - before )) replay=$r"
}

median_of() { sort -n | awk '{a[NR]=$0} END{print a[int((NR+1)/2)]}'; }

declare -a T D S
for i in $(seq 1 "$RUNS"); do
  T+=("$(run_trident)")
  D+=("$(run_tcpdump)")
done
S=("$(run_scapy)")

col() { printf '%s\n' "$@" | awk -v c="$COL" '{print $c}'; }
summ() { # name, lines...: median received / dropped / reached / pps
  local name=$1; shift
  local recv drop reach pps
  recv=$(COL=1 col "$@" | median_of); drop=$(COL=2 col "$@" | median_of)
  reach=$(COL=3 col "$@" | median_of); pps=$(COL=4 col "$@" | median_of)
  printf '| %s | %s | %s | %s | %s |\n' "$name" "$reach" "$recv" "$drop" "$pps"
}
trident_pps=$(COL=1 col "${T[@]}" | median_of)
replay_s=$(printf '%s\n' "${T[@]}" | awk '{print $5/$4}' | median_of)
scapy_pps=$(echo "${S[0]}" | sed -n 's/.*pps=\([0-9]*\).*/\1/p')
{
  echo "## Capture to disk at replay speed (\`bench/capture.sh -r $RUNS${LIMIT:+ -l $LIMIT}\`, $(date -u +%Y-%m-%d))"
  echo
  echo "\`tcpreplay --topspeed\` of bench/out/bench.pcap ($(stat -c %s "$PCAP") bytes) into a veth pair, captured on the"
  echo "far end inside a network namespace; load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores, shared."
  echo "Medians of $RUNS replays per tool, one tool at a time on the same replay."
  echo
  echo "| capture | frames reached the interface | received by the capture | dropped by the kernel | replay rate (pps) |"
  echo "|---|---:|---:|---:|---:|"
  summ "\`trident capture --headers-only\`" "${T[@]}"
  summ "\`tcpdump -w\` (-B 32768)" "${D[@]}"
  echo
  echo "AntiNex's capture loop (scapy $("$SCAPY_PYTHON" -c 'import scapy; print(scapy.__version__)') \`sniff(prn=...)\`, layer dicts + JSON envelope, no broker), one replay:"
  echo "\`${S[0]}\`."
  if [ -n "$scapy_pps" ] && [ "$scapy_pps" -gt 0 ] 2>/dev/null; then
    echo "trident received $trident_pps packets in a replay of ~${replay_s%.*} s; scapy processed $scapy_pps packets/s while saturated:"
    echo "trident's rate is $(awk -v t="$trident_pps" -v r="$replay_s" -v s="$scapy_pps" 'BEGIN{printf "%.0f", (t/r)/s}')× scapy's (target ≥ 100×)."
  fi
  echo
  echo "Raw lines (received dropped reached replay_pps sent failed file_bytes):"
  echo
  echo '```'
  printf 'trident %s\n' "${T[@]}"
  printf 'tcpdump %s\n' "${D[@]}"
  printf 'scapy %s\n' "${S[@]}"
  echo '```'
} > "$OUT"
cat "$OUT"
