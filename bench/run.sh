#!/usr/bin/env bash
# bench/run.sh: measure trident against its peers on the shared benchmark capture, in one run
# on one machine, and write bench/out/decode.md (the decoding section of BENCHMARKS.md).
#
# usage: bench/run.sh [-n RUNS] [-s SLOW_RUNS] [-c CORE] [-o OUT.md] [-t TRIDENT] [--install-peers]
#   -n RUNS         runs per command; wall time is the median (default 5)
#   -s SLOW_RUNS    runs for the slow peers, tshark and nfstream (default 2)
#   -c CORE         the CPU core every measured process is pinned to with taskset (default 1)
#   -o OUT.md       where to write the report (default bench/out/decode.md; BENCHMARKS.md quotes it)
#   -t TRIDENT      measure this trident binary instead of building one (cargo build --release)
#   --install-peers try `apt-get install -y libndpi-bin` and `pip install nfstream` when the
#                   optional peers are missing (a failed install is noted in the report)
# env: TRIDENT_SHARED  the shared data folder (default: ../shared beside the repository)
#      CARGO_TARGET_DIR respected when building trident
#
# What it does, idempotently:
#   1. builds bench/out/bench.pcap with $TRIDENT_SHARED/bench/make-capture.sh (skipped when it
#      exists) and bench/out/bench-x4.pcap (the capture 4 times, mergecap -a);
#   2. builds trident in release;
#   3. times each command with hyperfine (median of RUNS, one warm-up run so every tool reads
#      from the page cache) and measures its peak RSS with GNU time -v (median of up to 3
#      runs), each process pinned to CORE;
#   4. runs trident on the 4x capture to show that peak memory does not grow with input size;
#   5. writes the report: machine, capture, one row per command, the exact commands.
#
# needs: cargo (unless -t), hyperfine, GNU time (/usr/bin/time), taskset, jq, sha256sum, and from Debian's
#        wireshark-common / tshark / tcpdump packages: mergecap, editcap, capinfos, tshark,
#        tcpdump. Optional peers: ndpiReader (libndpi-bin), nfstream (pip).
set -euo pipefail

RUNS=5
SLOW_RUNS=2
CORE=1
INSTALL=0
TRIDENT_BIN=""
RSS_RUNS_MAX=3
repo=$(cd "$(dirname "$0")/.." && pwd)
OUT_MD="$repo/bench/out/decode.md"

while [ $# -gt 0 ]; do
  case "$1" in
    -n) RUNS=${2:?-n needs a number}; shift 2 ;;
    -s) SLOW_RUNS=${2:?-s needs a number}; shift 2 ;;
    -c) CORE=${2:?-c needs a core number}; shift 2 ;;
    -o) OUT_MD=${2:?-o needs a path}; shift 2 ;;
    -t) TRIDENT_BIN=${2:?-t needs a path}; shift 2 ;;
    --install-peers) INSTALL=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

shared=${TRIDENT_SHARED:-$repo/../shared}
if [ ! -x "$shared/bench/make-capture.sh" ] && [ ! -f "$shared/bench/make-capture.sh" ]; then
  echo "bench/run.sh: $shared/bench/make-capture.sh not found (set TRIDENT_SHARED)" >&2
  exit 1
fi
shared=$(cd "$shared" && pwd)

for tool in hyperfine /usr/bin/time taskset jq sha256sum mergecap editcap capinfos tshark tcpdump; do
  command -v "$tool" > /dev/null || { echo "bench/run.sh: $tool is required but not installed" >&2; exit 1; }
done
if ! taskset -c "$CORE" true 2> /dev/null; then
  echo "bench/run.sh: cannot pin to core $CORE (machine has $(nproc) cores); use -c" >&2
  exit 1
fi

out="$repo/bench/out"
mkdir -p "$out/results"
cap="$out/bench.pcap"
cap4="$out/bench-x4.pcap"
notes=()   # lines for the report's notes section

# 1. The capture.
if [ ! -s "$cap" ]; then
  echo "building $cap ..." >&2
  bash "$shared/bench/make-capture.sh" "$cap.tmp" >&2
  mv "$cap.tmp" "$cap"
fi
if [ ! -s "$cap4" ] || [ "$cap4" -ot "$cap" ]; then
  echo "building $cap4 ..." >&2
  mergecap -a -F pcap -w "$cap4.tmp" "$cap" "$cap" "$cap" "$cap"
  mv "$cap4.tmp" "$cap4"
fi
cap_sha=$(sha256sum "$cap" | cut -d' ' -f1)
expected_sha=$(grep -m1 -oE '[0-9a-f]{64}' "$shared/bench/make-capture.sh" || true)
if [ -n "$expected_sha" ] && [ "$cap_sha" != "$expected_sha" ]; then
  notes+=("The capture's sha256 differs from the one make-capture.sh documents ($expected_sha): the corpus changed, so figures are not comparable with shared/bench/PEERS.md.")
fi
cap_bytes=$(stat -c %s "$cap")
cap4_bytes=$(stat -c %s "$cap4")
cap_packets=$(capinfos -c -M "$cap" | awk -F': *' '/Number of packets/ {print $2}')
cap4_packets=$(capinfos -c -M "$cap4" | awk -F': *' '/Number of packets/ {print $2}')

# 2. trident, release build.
if [ -n "$TRIDENT_BIN" ]; then
  trident=$(cd "$(dirname "$TRIDENT_BIN")" && pwd)/$(basename "$TRIDENT_BIN")
  built="given with -t"
else
  command -v cargo > /dev/null || { echo "bench/run.sh: cargo is required to build trident (or use -t)" >&2; exit 1; }
  echo "building trident (release) ..." >&2
  (cd "$repo" && cargo build --release --quiet -p trident-cli --bin trident)
  trident="${CARGO_TARGET_DIR:-$repo/target}/release/trident"
  built="\`cargo build --release\`"
fi
[ -x "$trident" ] || { echo "bench/run.sh: $trident was not built" >&2; exit 1; }

# trident must see every packet capinfos counts, or its packets/s would be flattered.
trident_packets=$("$trident" decode --format none "$cap" 2>&1 >/dev/null | sed -n 's/.* files, \([0-9]*\) packets.*/\1/p' | head -1 || true)
if [ "$trident_packets" != "$cap_packets" ]; then
  notes+=("trident's summary counts ${trident_packets:-?} packets, capinfos $cap_packets: throughput uses capinfos' count.")
fi

# Optional peers.
if ! command -v ndpiReader > /dev/null && [ "$INSTALL" = 1 ]; then
  echo "installing libndpi-bin ..." >&2
  if ! apt-get install -y libndpi-bin > "$out/install-ndpi.log" 2>&1; then
    notes+=("\`apt-get install -y libndpi-bin\` failed (see bench/out/install-ndpi.log): ndpiReader not measured.")
  fi
fi
command -v ndpiReader > /dev/null || notes+=("ndpiReader is not installed (Debian: libndpi-bin): not measured.")
have_nfstream=0
if python3 -c 'import nfstream' 2> /dev/null; then
  have_nfstream=1
elif [ "$INSTALL" = 1 ]; then
  echo "installing nfstream ..." >&2
  if pip install nfstream > "$out/install-nfstream.log" 2>&1 && python3 -c 'import nfstream' 2> /dev/null; then
    have_nfstream=1
  else
    notes+=("\`pip install nfstream\` failed (see bench/out/install-nfstream.log): nfstream not measured.")
  fi
fi
[ "$have_nfstream" = 1 ] || notes+=("nfstream is not installed (pip install nfstream): not measured.")
cat > "$out/nfstream_count.py" << 'EOF'
"""Iterate every flow of a capture with nfstream, as shared/bench/PEERS.md measured it."""
import sys
from nfstream import NFStreamer
flows = sum(1 for _ in NFStreamer(source=sys.argv[1], statistical_analysis=True, n_meters=1))
print(flows)
EOF

# 3. Measure. Each entry: name|runs|command, a command line for sh (paths quoted) that runs
# the tool itself (redirections apply to it; `env` sets variables), so that both hyperfine
# and GNU time see the tool and no wrapper shell: a shell's own RSS would hide a small tool's.
pin="taskset -c $CORE"
q() { printf '%q' "$1"; }
qt=$(q "$trident")
qc=$(q "$cap")
cmds=(
  "trident decode --format none|$RUNS|$qt decode -q --format none $qc"
  "trident decode --format ndjson|$RUNS|$qt decode -q --format ndjson $qc > /dev/null"
  "trident decode --no-hints --format none|$RUNS|$qt decode -q --no-hints --format none $qc"
  "tcpdump -nn (TZ=UTC)|$RUNS|env TZ=UTC tcpdump -nn -r $qc > /dev/null 2>&1"
)
if command -v ndpiReader > /dev/null; then
  cmds+=("ndpiReader -q|$RUNS|ndpiReader -i $qc -q > /dev/null 2>&1")
fi
cmds+=("tshark, 5 fields|$SLOW_RUNS|tshark -n -r $qc --disable-protocol vnc -T fields -e frame.number -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport > /dev/null 2>&1")
if [ "$have_nfstream" = 1 ]; then
  cmds+=("nfstream (statistics, 1 meter)|$SLOW_RUNS|python3 $(q "$out/nfstream_count.py") $qc > /dev/null 2>&1")
fi

# Median of numbers on stdin.
median() { sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2] + a[NR/2+1]) / 2}'; }

# peak_rss_kib RUNS COMMAND: median peak RSS (KiB) of the pinned command over RUNS runs.
peak_rss_kib() {
  local runs=$1 cmd=$2 i
  for ((i = 0; i < runs; i++)); do
    eval "/usr/bin/time -v -o $(q "$out/results/time.txt") $pin $cmd" || true
    awk -F': *' '/Maximum resident set size/ {print $2}' "$out/results/time.txt"
  done | median
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
rows=()
trident_wall=""
for entry in "${cmds[@]}"; do
  name=${entry%%|*}
  rest=${entry#*|}
  runs=${rest%%|*}
  cmd=${rest#*|}
  slug=$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-' | tr -s '-')
  echo "measuring: $name ($runs runs)" >&2
  warmup=1
  rss_runs=$(( runs < RSS_RUNS_MAX ? runs : RSS_RUNS_MAX ))
  if [ "$runs" -lt "$RUNS" ]; then
    warmup=0    # slow peers: one pass over 150 MB warms the page cache well enough
    rss_runs=1
  fi
  hyperfine --style none --warmup "$warmup" --runs "$runs" --export-json "$out/results/$slug.json" \
    "$pin $cmd" > /dev/null
  wall=$(jq -r '.results[0].median' "$out/results/$slug.json")
  wmin=$(jq -r '.results[0].min' "$out/results/$slug.json")
  wmax=$(jq -r '.results[0].max' "$out/results/$slug.json")
  rss=$(peak_rss_kib "$rss_runs" "$cmd")
  if [ -z "$trident_wall" ]; then trident_wall=$wall; fi
  rows+=("$name|$runs|$wall|$wmin|$wmax|$rss|$cmd")
done

# 4. Peak memory against input size.
echo "measuring peak RSS on the 4x capture ..." >&2
qc4=$(q "$cap4")
rss_1x=$(peak_rss_kib "$RSS_RUNS_MAX" "$qt decode -q --format none $qc")
rss_4x=$(peak_rss_kib "$RSS_RUNS_MAX" "$qt decode -q --format none $qc4")
rss_1x_nd=$(peak_rss_kib "$RSS_RUNS_MAX" "$qt decode -q --format ndjson $qc > /dev/null")
rss_4x_nd=$(peak_rss_kib "$RSS_RUNS_MAX" "$qt decode -q --format ndjson $qc4 > /dev/null")

# 5. Report.
cpu_model=$(lscpu | awk -F': *' '/^Model name/ {print $2; exit}')
rev=$(cd "$repo" && git rev-parse --short HEAD 2> /dev/null || echo unknown)
dirty=$(cd "$repo" && git status --porcelain 2> /dev/null | grep -q . && echo " (with uncommitted changes)" || true)
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/run.sh\` (rerun it to refresh; figures move from machine to machine, so"
  echo "compare tools by ratio within one run). Every process is pinned to one core"
  echo "(\`taskset -c $CORE\`) and reads the capture from the page cache (one warm-up run first)."
  echo "Wall time is hyperfine's median over the runs shown, start-up included; peak RSS is GNU"
  echo "time's maximum resident set size (median of up to $RSS_RUNS_MAX runs)."
  echo
  echo "## Machine"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- CPU: $cpu_model, $(nproc) cores online"
  echo "- kernel: $(uname -sr)"
  echo "- load average (1, 5, 15 min) before / after measuring: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- trident: commit $rev$dirty, $built"
  echo "- peers: $(tcpdump --version 2>&1 | head -1); $(tshark --version 2> /dev/null | head -1 | sed 's/ (Git.*//')$(command -v ndpiReader > /dev/null && echo "; nDPI $(dpkg-query -W -f '${Version}' libndpi-bin 2> /dev/null || echo '?') (ndpiReader)")$([ "$have_nfstream" = 1 ] && echo "; nfstream $(python3 -c 'import nfstream; print(nfstream.__version__)' 2> /dev/null)")"
  echo
  echo "## Capture"
  echo
  echo "\`bench/out/bench.pcap\`, built by \`shared/bench/make-capture.sh\` from the corpus:"
  echo "$cap_packets packets, $cap_bytes bytes, sha256 \`$cap_sha\`."
  echo
  echo "## Results"
  echo
  echo "Throughput is packets (from capinfos) and file bytes divided by the median wall time."
  echo "The ratio is the tool's wall time over \`trident decode --format none\`'s."
  echo
  echo "| tool | runs | median wall s (min–max) | packets/s | MB/s | peak RSS MiB | × trident |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for r in "${rows[@]}"; do
    IFS='|' read -r name runs wall wmin wmax rss _ <<< "$r"
    awk -v n="$name" -v runs="$runs" -v w="$wall" -v lo="$wmin" -v hi="$wmax" -v rss="$rss" \
        -v p="$cap_packets" -v b="$cap_bytes" -v t="$trident_wall" 'BEGIN {
      pps = p / w
      if (pps >= 1e6) pps_s = sprintf("%.2f M", pps / 1e6); else pps_s = sprintf("%.1f k", pps / 1e3)
      printf "| %s | %d | %.3f (%.3f–%.3f) | %s | %.1f | %.1f | %.1f |\n", n, runs, w, lo, hi, pps_s, b / w / 1e6, rss / 1024, w / t
    }'
  done
  echo
  echo "## Peak memory does not grow with the input"
  echo
  echo "trident streams: memory is one read buffer per open file, whatever the file's size."
  echo
  echo "| capture | packets | bytes | \`--format none\` peak RSS MiB | \`--format ndjson\` peak RSS MiB |"
  echo "|---|---:|---:|---:|---:|"
  echo "| bench.pcap | $cap_packets | $cap_bytes | $(mib "$rss_1x") | $(mib "$rss_1x_nd") |"
  echo "| bench-x4.pcap (\`mergecap -a\` of it 4 times) | $cap4_packets | $cap4_bytes | $(mib "$rss_4x") | $(mib "$rss_4x_nd") |"
  echo
  if [ ${#notes[@]} -gt 0 ]; then
    echo "## Notes"
    echo
    for n in "${notes[@]}"; do echo "- $n"; done
    echo
  fi
  echo "## Commands"
  echo
  echo "Each was run as \`taskset -c $CORE <command>\` under hyperfine and under \`/usr/bin/time -v\`;"
  echo "\`CAP\` is bench/out/bench.pcap, \`trident\` the release binary."
  echo
  echo '```sh'
  for r in "${rows[@]}"; do
    IFS='|' read -r _ _ _ _ _ _ cmd <<< "$r"
    cmd=${cmd//"$qc"/CAP}
    cmd=${cmd//"$qt"/trident}
    cmd=${cmd//"$(q "$out/nfstream_count.py")"/bench/out/nfstream_count.py}
    echo "$cmd"
  done
  echo "mergecap -a -F pcap -w bench-x4.pcap CAP CAP CAP CAP"
  echo '```'
  echo
  echo "\`bench/out/nfstream_count.py\` iterates \`NFStreamer(source=CAP, statistical_analysis=True, n_meters=1)\`."
} > "$OUT_MD"
echo "wrote $OUT_MD" >&2
