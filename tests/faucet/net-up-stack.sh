#!/usr/bin/env bash
# Brings up a private two-switch Faucet *stack* for trident's stacked remote-mirroring test
# (crates/sdn/tests/faucet_stack.rs; see README.md here).
#
# Usage: net-up-stack.sh DIR PREFIX   (tear down with net-down.sh DIR PREFIX)
#
# Layout (all names start with PREFIX):
#   netns PREFIX-sw   ovsdb-server + ovs-vswitchd (userspace, --disable-system), bridges
#                     PREFIX-b1 (dp_id 1, "sw1", stack root: priority 1) and PREFIX-b2
#                     (dp_id 2, "sw2"), Faucet on 127.0.0.1:6653 of that namespace
#   stack link        veth PREFIX-s1 (sw1 port 4) <-> PREFIX-s2 (sw2 port 1), both in PREFIX-sw
#   netns PREFIX-h1   host h1 on sw1 port 1; PREFIX-h2 / PREFIX-h3: h2 on sw2 port 2, h3 on
#                     sw2 port 4 (10.0.0.N/24, MAC 02:54:00:00:00:0N, VLAN 100)
#   PREFIX-mir        the collector NIC, in the caller's namespace: far end of sw1 port 3
#                     (the root's mirror port)
#   netns PREFIX-lb   the loopback plug of sw2 port 3: the far end of that port's veth sends
#                     every frame it receives straight back (tc ingress u32 + mirred
#                     redirect to itself), so what sw2 outputs on port 3 comes back in on
#                     port 3, as with a physical loopback plug
# faucet.yaml is what a user has before trident: both mirror ports `output_only`, no tunnel.
set -euo pipefail
D=$1
P=$2
FAUCET_VENV=${TRIDENT_FAUCET_ROOT:-/opt/trident-faucet}/faucet
SW=$P-sw
[ -d "$D" ] || { echo "net-up-stack: $D is not a directory" >&2; exit 2; }
for tool in ovsdb-server ovs-vswitchd ovs-vsctl ip tc; do
  command -v $tool >/dev/null || { echo "net-up-stack: $tool missing (run .ci/setup.d/40-faucet.sh)" >&2; exit 2; }
done
[ -x "$FAUCET_VENV/bin/faucet" ] || { echo "net-up-stack: $FAUCET_VENV/bin/faucet missing (run .ci/setup.d/40-faucet.sh)" >&2; exit 2; }
D=$(cd "$D" && pwd)
mkdir -p "$D/conf"

cat > "$D/conf/faucet.yaml" <<YAML
vlans:
  office:
    vid: 100
    description: "trident test hosts"
dps:
  sw1:
    dp_id: 1
    hardware: "Open vSwitch"
    stack:
      priority: 1
    interfaces:
      1:
        name: "h1"
        native_vlan: office
      3:
        name: "collector"
        output_only: true
        mirror: []
      4:
        name: "to-sw2"
        stack:
          dp: sw2
          port: 1
  sw2:
    dp_id: 2
    hardware: "Open vSwitch"
    interfaces:
      1:
        name: "to-sw1"
        stack:
          dp: sw1
          port: 4
      2:
        name: "h2"
        native_vlan: office
      3:
        name: "loopback-plug"
        output_only: true
        mirror: []
      4:
        name: "h3"
        native_vlan: office
YAML

ip netns add "$SW"
ip -n "$SW" link set lo up
noipv6() { ip netns exec "$SW" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"; }
in_sw() { ip netns exec "$SW" env OVS_RUNDIR="$D" OVS_DBDIR="$D" OVS_LOGDIR="$D" OVS_SYSCONFDIR="$D" "$@"; }
vsctl() { in_sw ovs-vsctl --db=unix:"$D/db.sock" "$@"; }

in_sw ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
in_sw ovsdb-server --remote=punix:"$D/db.sock" --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
  --pidfile="$D/ovsdb-server.pid" --log-file="$D/ovsdb-server.log" --detach "$D/conf.db"
vsctl --no-wait init
in_sw ovs-vswitchd unix:"$D/db.sock" --disable-system --pidfile="$D/ovs-vswitchd.pid" \
  --log-file="$D/ovs-vswitchd.log" --detach
for n in 1 2; do
  vsctl add-br "$P-b$n" -- set bridge "$P-b$n" datapath_type=netdev \
    other-config:datapath-id=000000000000000$n protocols=OpenFlow13 fail_mode=secure
done

# host I on bridge BR, OpenFlow port PORT
host() {
  local i=$1 br=$2 port=$3 ns=$P-h$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$P-p$i" type veth peer name "$P-e$i"
  ip link set "$P-e$i" netns "$ns"
  ip -n "$ns" link set "$P-e$i" name eth0
  ip -n "$ns" link set eth0 address "02:54:00:00:00:0$i"
  ip -n "$ns" addr add "10.0.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip link set "$P-p$i" netns "$SW"
  noipv6 "$P-p$i"
  ip -n "$SW" link set "$P-p$i" up
  vsctl add-port "$br" "$P-p$i" -- set interface "$P-p$i" ofport_request="$port"
}
host 1 "$P-b1" 1
host 2 "$P-b2" 2
host 3 "$P-b2" 4

# The stack link.
ip -n "$SW" link add "$P-s1" type veth peer name "$P-s2"
for l in "$P-s1" "$P-s2"; do noipv6 "$l"; ip -n "$SW" link set "$l" up; done
vsctl add-port "$P-b1" "$P-s1" -- set interface "$P-s1" ofport_request=4
vsctl add-port "$P-b2" "$P-s2" -- set interface "$P-s2" ofport_request=1

# The collector NIC on sw1 port 3 (no IPv6: nothing of its own in a capture).
ip link add "$P-c3" type veth peer name "$P-mir"
ip link set "$P-c3" netns "$SW"
noipv6 "$P-c3"
ip -n "$SW" link set "$P-c3" up
sysctl -qw "net.ipv6.conf.$P-mir.disable_ipv6=1"
ip link set "$P-mir" up
vsctl add-port "$P-b1" "$P-c3" -- set interface "$P-c3" ofport_request=3

# The loopback plug on sw2 port 3.
ip netns add "$P-lb"
ip link add "$P-l3" type veth peer name "$P-lbe"
ip link set "$P-lbe" netns "$P-lb"
ip netns exec "$P-lb" sysctl -qw "net.ipv6.conf.$P-lbe.disable_ipv6=1"
ip -n "$P-lb" link set "$P-lbe" up
ip netns exec "$P-lb" tc qdisc add dev "$P-lbe" ingress
ip netns exec "$P-lb" tc filter add dev "$P-lbe" parent ffff: protocol all u32 match u32 0 0 \
  action mirred egress redirect dev "$P-lbe"
ip link set "$P-l3" netns "$SW"
noipv6 "$P-l3"
ip -n "$SW" link set "$P-l3" up
vsctl add-port "$P-b2" "$P-l3" -- set interface "$P-l3" ofport_request=3

ip netns exec "$SW" env PATH="$FAUCET_VENV/bin:$PATH" \
  FAUCET_CONFIG="$D/conf/faucet.yaml" FAUCET_EVENT_SOCK="$D/faucet.sock" \
  FAUCET_CONFIG_STAT_RELOAD=1 FAUCET_EVENT_SOCK_HEARTBEAT=5 \
  FAUCET_LOG="$D/faucet.log" FAUCET_EXCEPTION_LOG="$D/faucet_exception.log" \
  FAUCET_PROMETHEUS_ADDR=127.0.0.1 FAUCET_PROMETHEUS_PORT=9302 \
  setsid "$FAUCET_VENV/bin/faucet" --ryu-ofp-listen-host=127.0.0.1 --ryu-ofp-tcp-listen-port=6653 \
  </dev/null >"$D/faucet.out" 2>&1 &
echo $! > "$D/faucet.pid"
for n in 1 2; do vsctl set-controller "$P-b$n" tcp:127.0.0.1:6653; done

# Wait for both switches to connect.
for _ in $(seq 1 150); do
  if [ "$(vsctl --columns=is_connected list controller 2>/dev/null | grep -c true)" = 2 ]; then
    echo "net-up-stack: $P-b1 and $P-b2 connected to Faucet"
    exit 0
  fi
  sleep 0.2
done
echo "net-up-stack: the switches did not connect to Faucet within 30 s; see $D/faucet.log" >&2
exit 1
