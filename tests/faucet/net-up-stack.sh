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
NAME=net-up-stack
. "$(dirname "$0")/lib.sh"
net_init tc

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

net_switch
net_bridge "$P-b1" 1
net_bridge "$P-b2" 2
net_host 1 "$P-b1" 1
net_host 2 "$P-b2" 2
net_host 3 "$P-b2" 4

# The stack link.
ip -n "$SW" link add "$P-s1" type veth peer name "$P-s2"
net_port "$P-s1" "$P-b1" 4
net_port "$P-s2" "$P-b2" 1

# The collector NIC on sw1 port 3.
net_collector "$P-c3" "$P-b1" 3

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
net_port "$P-l3" "$P-b2" 3

net_faucet "$P-b1" "$P-b2"
