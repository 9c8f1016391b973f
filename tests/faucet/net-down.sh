#!/usr/bin/env bash
# Tears down what net-up.sh (or net-up-stack.sh) DIR PREFIX started: processes from
# DIR/*.pid, the namespaces PREFIX-* (their veths go with them) and any PREFIX-* link left
# here. Safe to run twice.
set -uo pipefail
D=$1
P=$2
for pidfile in "$D"/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile" 2>/dev/null) || continue
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
done
sleep 0.3
for pidfile in "$D"/*.pid; do
  [ -e "$pidfile" ] || continue
  pid=$(cat "$pidfile" 2>/dev/null) || continue
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  rm -f "$pidfile"
done
for ns in $(ip netns list | awk '{print $1}' | grep -E "^$P-(sw|lb|h[0-9]+)$"); do
  ip netns del "$ns"
done
for link in $(ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1 | grep -E "^$P-"); do
  ip link del "$link" 2>/dev/null
done
exit 0
