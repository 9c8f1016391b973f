#!/usr/bin/env bash
# bench/ingest_ab.sh: paired runs of two trident binaries (say, before and after a change) on
# the embedded ingest of the benchmark capture, alternating A and B so that both see the same
# machine; each run under `taskset -c CORE` with GNU time. Prints median user, system and
# CPU (user + system) seconds and wall seconds of each, and the CPU ratio B/A.
# usage: bench/ingest_ab.sh -a TRIDENT_A -b TRIDENT_B [-n PAIRS] [-c CORE] [-- INGEST_ARGS...]
# needs: GNU time (/usr/bin/time), taskset
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
a="" b="" n=9 core=1
while getopts "a:b:n:c:" o; do
  case $o in
    a) a=$OPTARG ;; b) b=$OPTARG ;; n) n=$OPTARG ;; c) core=$OPTARG ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$a" ] && [ -n "$b" ] || { echo "usage: $0 -a TRIDENT_A -b TRIDENT_B [-n PAIRS] [-c CORE] [-- ARGS]" >&2; exit 2; }
cap="$repo/bench/out/bench.pcap"
[ -f "$cap" ] || { echo "build the capture first: shared/bench/make-capture.sh $cap" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for _ in $(seq "$n"); do
  for side in a b; do
    bin=$a; [ "$side" = b ] && bin=$b
    rm -rf "$work/idx"
    /usr/bin/time -f "%U %S %e" -o "$work/t" taskset -c "$core" "$bin" ingest -q -j 1 \
      --data-dir "$work/idx" --sensor bench "$@" "$cap"
    cat "$work/t" >> "$work/$side"
  done
done
median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
echo "| binary | user s | system s | CPU s | wall s |"
echo "|---|---:|---:|---:|---:|"
for side in a b; do
  bin=$a; [ "$side" = b ] && bin=$b
  u=$(awk '{print $1}' "$work/$side" | median)
  s=$(awk '{print $2}' "$work/$side" | median)
  c=$(awk '{print $1 + $2}' "$work/$side" | median)
  w=$(awk '{print $3}' "$work/$side" | median)
  echo "$c" > "$work/cpu_$side"
  echo "| $side: \`$bin\` | $u | $s | $c | $w |"
done
echo
echo "medians of $n alternating runs each, taskset -c $core; CPU ratio B/A: $(awk -v a="$(cat "$work/cpu_a")" -v b="$(cat "$work/cpu_b")" 'BEGIN {printf "%.3f", b / a}')"
