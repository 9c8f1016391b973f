#!/usr/bin/env bash
# bench/attack-traffic.sh: generate one labelled capture session of benign and attack traffic
# between network-namespace hosts, for trident's flow-level attack model (BENCHMARKS.md,
# "Attack model"). Run it twice with different seeds for a train and a test session.
#
# usage: bench/attack-traffic.sh [--seed N] [--small] OUT_PREFIX
#   --seed N   seeds the order, sizes and timings of everything (default 1)
#   --small    a short session (~3,000 packets, ~40 s) for the bundled test sample
#   writes OUT_PREFIX.pcap (tcpdump on the bridge, snaplen 192) and OUT_PREFIX.labels.csv
#
# Needs root (ip netns) and Debian 12 packages:
#   apt-get install -y --no-install-recommends iproute2 tcpdump nmap hping3 hydra \
#     dnsmasq-base busybox netcat-openbsd curl iputils-ping
#
# Topology: namespaces atk-sw (bridge br0, where tcpdump listens), atk-srv 10.77.0.10 (busybox
# httpd :80 with files, busybox httpd :8080 with basic auth on /secret/, dnsmasq :53 for
# *.lab.test, nc file sink :9000), atk-c1 10.77.0.11 and atk-c2 10.77.0.12 (benign clients),
# atk-att 10.77.0.66 (the attacker; it sends nothing but attacks). Nothing leaves the
# namespaces: no host has a route out, the bridge has no uplink.
#
# Benign (both clients, from before the first attack to after the last, random pauses): HTTP
# downloads of files of random sizes, DNS lookups, ping, nc uploads, logins with the right
# password on :8080, and hard negatives: logins with a wrong password (401, as brute force
# gets) and connections to closed ports (refused, as a scan gets).
# Attacks (the attacker, one after another in a seeded order, each bounded in packets and
# time by the tool's own options and by `timeout`): nmap SYN scan, nmap UDP scan, nmap XMAS
# scan, hping3 SYN flood (--count), hydra HTTP basic-auth brute force (a finite word list).
#
# Labels come from the generator's own knowledge, never at random: each attack writes one
# line `start,end,src,dst,label` (epoch seconds; the window opens before the tool starts and
# closes 1 s after it exits), and a flow is that attack when its originator is src, its
# responder dst, and its first packet inside the window. Everything else is benign.
set -euo pipefail

SEED=1
SMALL=0
while [ $# -gt 0 ]; do
    case "$1" in
        --seed) SEED="$2"; shift 2 ;;
        --small) SMALL=1; shift ;;
        -h|--help) sed -n '2,31p' "$0"; exit 0 ;;
        -*) echo "attack-traffic.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--seed N] [--small] OUT_PREFIX" >&2; exit 2; }
OUT="$1"
[ "$(id -u)" = 0 ] || { echo "attack-traffic.sh: needs root (ip netns)" >&2; exit 1; }
for t in ip tcpdump nmap hping3 hydra dnsmasq busybox nc curl ping timeout; do
    command -v "$t" >/dev/null || { echo "attack-traffic.sh: $t is missing (see the apt line in the header)" >&2; exit 1; }
done
mkdir -p "$(dirname "$OUT")"
PCAP="$OUT.pcap"
LABELS="$OUT.labels.csv"
RANDOM=$SEED

SRV=10.77.0.10
C1=10.77.0.11
C2=10.77.0.12
ATT=10.77.0.66
NS=(atk-sw atk-srv atk-c1 atk-c2 atk-att)
WORK="$(mktemp -d /tmp/atk-traffic.XXXXXX)"
PIDS=()

cleanup() {
    set +e
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    for n in "${NS[@]}"; do
        # Whatever a namespace still runs was started by this script.
        for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        ip netns del "$n" 2>/dev/null
    done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

in_ns() { local n="$1"; shift; ip netns exec "$n" "$@"; }
now() { date +%s.%N | cut -c1-16; }
rnd() { echo $(( $1 + RANDOM % ($2 - $1 + 1) )); }   # inclusive range
pause() { sleep "$(( RANDOM % $1 )).$(( RANDOM % 10 ))"; }

# --- topology ---------------------------------------------------------------------------
for n in "${NS[@]}"; do ip netns del "$n" 2>/dev/null || true; ip netns add "$n"; done
in_ns atk-sw ip link add br0 type bridge
in_ns atk-sw ip link set br0 up
in_ns atk-sw sysctl -qw net.ipv6.conf.all.disable_ipv6=1
i=0
for pair in "atk-srv $SRV" "atk-c1 $C1" "atk-c2 $C2" "atk-att $ATT"; do
    set -- $pair
    i=$((i + 1))
    ip link add "v$i" netns "$1" type veth peer name "p$i" netns atk-sw
    in_ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
    in_ns "$1" ip link set lo up
    in_ns "$1" ip addr add "$2/24" dev "v$i"
    in_ns "$1" ip link set "v$i" up
    in_ns atk-sw ip link set "p$i" master br0 up
done
# The victim answers every probe at once (the default rate limit makes a UDP scan take minutes).
in_ns atk-srv sysctl -qw net.ipv4.icmp_ratelimit=0

# --- services on the server ---------------------------------------------------------------
mkdir -p "$WORK/www" "$WORK/auth/secret"
for f in $(seq 1 12); do head -c "$(rnd 200 400000)" /dev/urandom > "$WORK/www/f$f.bin"; done
echo "<html>hello</html>" > "$WORK/www/index.html"
echo "<html>admin</html>" > "$WORK/auth/secret/index.html"
echo "/secret:admin:correct-horse" > "$WORK/auth.conf"
in_ns atk-srv busybox httpd -f -p "$SRV:80" -h "$WORK/www" & PIDS+=($!)
in_ns atk-srv busybox httpd -f -p "$SRV:8080" -h "$WORK/auth" -c "$WORK/auth.conf" & PIDS+=($!)
in_ns atk-srv dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
    --listen-address="$SRV" --address=/lab.test/$SRV --pid-file="$WORK/dnsmasq.pid" \
    --user=root --log-facility=/dev/null & PIDS+=($!)
in_ns atk-srv bash -c 'while :; do nc -l -p 9000 -q 1 >/dev/null 2>&1 || sleep 0.2; done' & PIDS+=($!)
sleep 1

in_ns atk-sw tcpdump -i br0 -s 192 -U -w "$PCAP" -Z root 2>"$WORK/tcpdump.err" & TCPDUMP=$!
PIDS+=($TCPDUMP)
for _ in $(seq 50); do [ -s "$PCAP" ] && break; sleep 0.1; done
sleep 1

# --- benign clients -------------------------------------------------------------------------
benign() {
    local seed="$1" stop="$2"
    RANDOM=$seed
    while [ ! -e "$stop" ]; do
        case $(( RANDOM % 8 )) in
            0|1) timeout 20 curl -s -o /dev/null "http://$SRV/f$(rnd 1 12).bin" ;;
            2) timeout 5 busybox nslookup "h$(rnd 1 40).lab.test" "$SRV" >/dev/null 2>&1 ;;
            3) timeout 10 ping -c "$(rnd 1 4)" -i 0.3 -q "$SRV" >/dev/null ;;
            4) head -c "$(rnd 1000 200000)" /dev/urandom | timeout 10 nc -N "$SRV" 9000 ;;
            5) timeout 5 curl -s -o /dev/null -u admin:correct-horse "http://$SRV:8080/secret/" ;;
            # Hard negatives: a mistyped password, and a service that is not there.
            6) timeout 5 curl -s -o /dev/null -u "admin:typo$RANDOM" "http://$SRV:8080/secret/" ;;
            7) timeout 5 curl -s -o /dev/null "http://$SRV:$(rnd 81 99)/" ;;
        esac
        pause 2
    done
}

# The clients run until the attacks are over (and a few seconds more).
STOP="$WORK/stop-benign"
# Full sessions: two loops per client and a longer quiet lead-in and gaps, so benign flows
# are not swamped by the scans' thousands.
if [ "$SMALL" = 1 ]; then LOOPS=1; GAP=5; else LOOPS=2; GAP=12; fi
BENIGN=()
for l in $(seq "$LOOPS"); do
    for c in 1 2; do
        (ip netns exec "atk-c$c" bash -c "$(declare -f benign rnd pause); SRV=$SRV; benign $((SEED * 7 + l * 2 + c)) $STOP") &
        BENIGN+=($!); PIDS+=($!)
    done
done

# --- attacks --------------------------------------------------------------------------------
echo "start,end,src,dst,label" > "$LABELS"
if [ "$SMALL" = 1 ]; then
    PORTS=$(rnd 100 200); UPORTS=$(rnd 40 80); FLOOD=$(rnd 200 300); WORDS=$(rnd 25 40)
else
    PORTS=$(rnd 600 1000); UPORTS=$(rnd 150 300); FLOOD=$(rnd 1500 3000); WORDS=$(rnd 120 250)
fi
for w in $(seq "$WORDS"); do echo "guess$((RANDOM * w))"; done > "$WORK/words.txt"
TIMING=$(rnd 3 4)

attack() {
    local label="$1"; shift
    local start end
    start=$(now)
    (cd "$WORK" && timeout 120 ip netns exec atk-att "$@") >/dev/null 2>&1 || true
    sleep 1
    end=$(now)
    echo "$start,$end,$ATT,$SRV,$label" >> "$LABELS"
    echo "attack-traffic.sh: $label $start-$end" >&2
}

ORDER=(syn-scan udp-scan xmas-scan syn-flood brute-force)
for i in $(seq $((${#ORDER[@]} - 1)) -1 1); do      # seeded Fisher-Yates
    j=$(( RANDOM % (i + 1) )); t=${ORDER[$i]}; ORDER[$i]=${ORDER[$j]}; ORDER[$j]=$t
done
pause "$GAP"
for a in "${ORDER[@]}"; do
    case "$a" in
        syn-scan) attack syn-scan nmap -n -Pn -sS -T"$TIMING" --max-retries 1 --host-timeout 100s \
                      -p "1-$PORTS" "$SRV" ;;
        udp-scan) attack udp-scan nmap -n -Pn -sU -T"$TIMING" --max-retries 1 --host-timeout 100s \
                      -p "1-$UPORTS" "$SRV" ;;
        xmas-scan) attack xmas-scan nmap -n -Pn -sX -T"$TIMING" --max-retries 1 --host-timeout 100s \
                      -p "1-$PORTS" "$SRV" ;;
        syn-flood) attack syn-flood hping3 -q -S -p 80 --count "$FLOOD" -i u"$(rnd 800 3000)" "$SRV" ;;
        brute-force) attack brute-force hydra -I -l admin -P "$WORK/words.txt" -t "$(rnd 2 4)" \
                      -s 8080 "$SRV" http-get /secret/ ;;
    esac
    pause "$GAP"
done

sleep 3
touch "$STOP"
wait "${BENIGN[@]}" 2>/dev/null || true
sleep 2
kill "$TCPDUMP" 2>/dev/null || true
wait "$TCPDUMP" 2>/dev/null || true
grep -E "packets (captured|dropped)" "$WORK/tcpdump.err" >&2 || true
echo "attack-traffic.sh: wrote $PCAP and $LABELS (seed $SEED)" >&2
