#!/usr/bin/env bash
# Brings up a private Faucet network for trident's SDN tests (see README.md here).
#
# Usage: net-up.sh DIR PREFIX
#   DIR     an empty directory for every file of this run (OVS db, logs, faucet.yaml, sockets)
#   PREFIX  2-8 characters, unique per run: names every namespace and interface
#
# Layout (all names start with PREFIX):
#   netns PREFIX-sw   ovsdb-server + ovs-vswitchd (userspace, --disable-system), bridge
#                     PREFIX-br (netdev, dp_id 1, name sw1 in faucet.yaml) and Faucet on
#                     127.0.0.1:6653 of that namespace (so parallel runs never share a port
#                     nor the datapath's fixed "ovs-netdev" tap)
#   netns PREFIX-h1..h3  hosts 10.0.0.1-3/24, MAC 02:54:00:00:00:0N (not 0e:00:00:00:00:01:
#                     that is Faucet's own faucet_mac, dropped as a source), eth0 on veth,
#                     OpenFlow ports 1-3, VLAN 100
#   PREFIX-mir        the collector NIC, in the caller's namespace: the far end of OpenFlow
#                     port 4 (output_only, Faucet's mirror port)
# Files in DIR: faucet.yaml (only file of DIR/conf, faucetconfrpc's config_dir),
#   faucet.sock (FAUCET_EVENT_SOCK; outside conf/, faucetconfrpc copies that dir),
#   *.log, *.pid. Tear down with net-down.sh DIR PREFIX.
set -euo pipefail
D=$1
P=$2
NAME=net-up
. "$(dirname "$0")/lib.sh"
net_init
BR=$P-br

cat > "$D/conf/faucet.yaml" <<YAML
vlans:
  office:
    vid: 100
    description: "trident test hosts"
dps:
  sw1:
    dp_id: 1
    hardware: "Open vSwitch"
    interfaces:
      1:
        name: "h1"
        native_vlan: office
      2:
        name: "h2"
        native_vlan: office
      3:
        name: "h3"
        native_vlan: office
      4:
        name: "mirror"
        description: "trident collector"
        output_only: true
        mirror: []
YAML

net_switch
net_bridge "$BR" 1
for i in 1 2 3; do net_host $i "$BR" $i; done
# Mirror port 4: switch end in the switch namespace, collector end here.
net_collector "$P-p4" "$BR" 4
net_faucet "$BR"
