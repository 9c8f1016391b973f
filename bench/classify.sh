#!/usr/bin/env bash
# bench/classify.sh: time `trident classify --compat networkml` and networkML 0.6.19 side by
# side, in one run on one machine, on the networkML golden pcaps and on a ~34,000-packet
# capture merged from the corpus, and check that both print the same result.
#
# usage: bench/classify.sh [-n RUNS] [-c CORE] [--install-networkml] [CAPTURE...]
#   -n RUNS              trident runs per capture; wall time is the median (default 10)
#   -c CORE              CPU core every measured process is pinned to (default 1)
#   --install-networkml  create bench/out/networkml-venv (pyenv Python 3.8 + pip install
#                        networkml==0.6.19) when no networkML is found
#   CAPTURE...           extra Ethernet captures to measure (e.g. Two-IOT161012-node5.pcap)
# env: TRIDENT_SHARED    the shared data folder (default: ../shared beside the repository)
#      NETWORKML         a networkml executable (default: bench/out/networkml-venv/bin/networkml,
#                        then `networkml` on PATH); networkML needs tshark on PATH
#      CARGO_TARGET_DIR  respected when building trident
#
# networkML is timed once per capture (a run takes seconds; it is retried when it fails by
# chance, see below), trident RUNS times with
# hyperfine. networkML's result JSON is taken from its log line
# `INFO:networkml.algorithms.host_footprint:{...}` and compared byte for byte with trident's
# `--format json` output. Writes bench/out/classify.md and prints it.
set -euo pipefail

RUNS=10
CORE=1
INSTALL=0
EXTRA=()
while [ $# -gt 0 ]; do
    case "$1" in
        -n) RUNS="$2"; shift 2 ;;
        -c) CORE="$2"; shift 2 ;;
        --install-networkml) INSTALL=1; shift ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
        *) EXTRA+=("$(realpath "$1")"); shift ;;
    esac
done

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${TRIDENT_SHARED:-$ROOT/../shared}"
OUT="$ROOT/bench/out/classify"
mkdir -p "$OUT"
GOLDEN="$SHARED/networkml/golden"
[ -d "$GOLDEN/pcaps" ] || { echo "classify.sh: no goldens at $GOLDEN (set TRIDENT_SHARED)" >&2; exit 2; }

# trident, release build.
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
(cd "$ROOT" && cargo build --release -q -p trident-cli)
TRIDENT="$TARGET/release/trident"

# networkML.
VENV="$ROOT/bench/out/networkml-venv"
NETWORKML="${NETWORKML:-}"
if [ -z "$NETWORKML" ] && [ -x "$VENV/bin/networkml" ]; then NETWORKML="$VENV/bin/networkml"; fi
if [ -z "$NETWORKML" ] && command -v networkml >/dev/null; then NETWORKML="$(command -v networkml)"; fi
if [ -z "$NETWORKML" ] && [ "$INSTALL" = 1 ]; then
    PY38="$(pyenv root 2>/dev/null)/versions/3.8.18/bin/python"
    [ -x "$PY38" ] || PY38="$(command -v python3.8 || true)"
    if [ -n "$PY38" ] && "$PY38" -m venv "$VENV" && "$VENV/bin/pip" install -q networkml==0.6.19; then
        NETWORKML="$VENV/bin/networkml"
    else
        echo "classify.sh: could not install networkml 0.6.19 (needs Python 3.8); timing trident only" >&2
    fi
fi
[ -n "$NETWORKML" ] || echo "classify.sh: networkML not found (try --install-networkml); timing trident only" >&2

# The ~34k-packet capture: Ethernet captures of the corpus that networkML can read (no GRE,
# every frame with both MAC addresses), merged in time order.
MERGE="$OUT/corpus-merge.pcap"
if [ ! -s "$MERGE" ]; then
    C="$SHARED/corpus"
    mergecap -F pcap -w "$MERGE" \
        "$C/pcapplusplus/tls2.pcap" "$C/pcap-parser/wireshark_samples-test.pcapng" \
        "$C/pcapplusplus/many-protocols.pcap" "$C/ndpi/alexa-app.pcapng" "$C/ndpi/1kxun.pcap" \
        "$C/ndpi/telegram.pcap" "$C/ndpi/teams.pcap" "$C/ndpi/coap_mqtt.pcap" \
        "$C/ndpi/nest_log_sink.pcap" "$C/ndpi/sites.pcapng" "$C/ndpi/443-firefox.pcap" \
        "$C/ndpi/srvloc.pcap" "$C/ndpi/quic.pcap" "$C/ndpi/iphone.pcap" "$C/ndpi/android.pcap" \
        "$C/ndpi/no_sni.pcap" "$C/ndpi/tls_with_huge_ch.pcapng" "$C/ndpi/youtube_quic.pcap" \
        "$C/ndpi/netbios.pcap" "$C/ndpi/tplink_shp.pcap" "$C/ndpi/stun.pcap" "$C/ndpi/http_ipv6.pcap"
fi

# The golden pcaps, gunzipped where stored compressed (networkML reads plain pcaps).
INPUTS=()
for p in "$GOLDEN"/pcaps/*; do
    case "$p" in
        *.gz) plain="$OUT/$(basename "${p%.gz}")"; [ -s "$plain" ] || gunzip -c "$p" > "$plain"; INPUTS+=("$plain") ;;
        *) INPUTS+=("$p") ;;
    esac
done
INPUTS+=("$MERGE" "${EXTRA[@]}")

pin() { taskset -c "$CORE" "$@"; }
REPORT="$OUT/classify.md"
{
    echo "# trident classify vs networkML 0.6.19"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), each process pinned to core $CORE."
    echo "trident: \`$TRIDENT classify --compat networkml --format json CAPTURE\`, median of $RUNS runs (hyperfine, one warm-up)."
    if [ -n "$NETWORKML" ]; then
        echo "networkML: \`$NETWORKML CAPTURE -o OUTDIR\` (one run; $("$NETWORKML" --help >/dev/null 2>&1 && echo "0.6.19"), tshark $(tshark --version | head -1 | awk '{print $3}'))."
    fi
    echo
    echo "| capture | packets | trident s | networkML s | speed-up | same result |"
    echo "| --- | ---: | ---: | ---: | ---: | --- |"
} > "$REPORT"

for cap in "${INPUTS[@]}"; do
    name="$(basename "$cap")"
    packets="$(capinfos -c -M "$cap" | awk -F: '/Number of packets/ {gsub(/ /,"",$2); print $2}')"
    hyperfine -N -w 1 -r "$RUNS" --export-json "$OUT/$name.hyperfine.json" \
        "taskset -c $CORE $TRIDENT classify --compat networkml --format json $cap" >/dev/null 2>&1
    t_trident="$(jq '.results[0].median' "$OUT/$name.hyperfine.json")"
    "$TRIDENT" classify --compat networkml --format json "$cap" > "$OUT/$name.trident.json" || true
    t_nml="-"; speed="-"; same="-"
    if [ -n "$NETWORKML" ]; then
        work="$OUT/$name.networkml"
        # networkML's CSV column order is random per run and a needed column that lands
        # first is dropped (reference §3.1), so a run can fail by chance: retry twice.
        for attempt in 1 2 3; do
            rm -rf "$work"; mkdir -p "$work"
            start="$(date +%s.%N)"
            (cd "$(dirname "$cap")" && pin "$NETWORKML" "$name" -o "$work" > "$work/stdout.log" 2> "$work/stderr.log") || true
            end="$(date +%s.%N)"
            grep '^INFO:networkml.algorithms.host_footprint:{' "$work/stderr.log" \
                | sed 's/^INFO:networkml.algorithms.host_footprint://' > "$work/result.json" || true
            [ -s "$work/result.json" ] && break
        done
        t_nml="$(echo "$end - $start" | bc -l | xargs printf '%.2f')"
        if [ -s "$work/result.json" ] && cmp -s "$work/result.json" "$OUT/$name.trident.json"; then
            same="identical"
        elif [ -s "$work/result.json" ]; then
            same="differs"
        else
            same="networkML failed ($(grep -m1 -o 'generated an exception: .*' "$work/stderr.log" || echo 'see its log'))"
        fi
        [ "${attempt:-1}" -gt 1 ] && same="$same (networkML run $attempt)"
        speed="$(echo "$t_nml / $t_trident" | bc -l | xargs printf '%.0fx')"
    fi
    printf '| %s | %s | %.4f | %s | %s | %s |\n' "$name" "$packets" "$t_trident" "$t_nml" "$speed" "$same" >> "$REPORT"
done
cat "$REPORT"
