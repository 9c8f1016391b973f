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
FAUCET_VENV=${TRIDENT_FAUCET_ROOT:-/opt/trident-faucet}/faucet
SW=$P-sw
BR=$P-br
[ -d "$D" ] || { echo "net-up: $D is not a directory" >&2; exit 2; }
for tool in ovsdb-server ovs-vswitchd ovs-vsctl ip; do
  command -v $tool >/dev/null || { echo "net-up: $tool missing (run .ci/setup.d/40-faucet.sh)" >&2; exit 2; }
done
[ -x "$FAUCET_VENV/bin/faucet" ] || { echo "net-up: $FAUCET_VENV/bin/faucet missing (run .ci/setup.d/40-faucet.sh)" >&2; exit 2; }
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

# The switch namespace, with loopback for OpenFlow.
ip netns add "$SW"
ip -n "$SW" link set lo up
# The switch's ends of the veths are OVS ports, not hosts: without IPv6 the kernel sends
# nothing of its own (router solicitations, MLD) out of them into the hosts or the collector.
noipv6() { ip netns exec "$SW" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"; }
in_sw() { ip netns exec "$SW" env OVS_RUNDIR="$D" OVS_DBDIR="$D" OVS_LOGDIR="$D" OVS_SYSCONFDIR="$D" "$@"; }
vsctl() { in_sw ovs-vsctl --db=unix:"$D/db.sock" "$@"; }

in_sw ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
in_sw ovsdb-server --remote=punix:"$D/db.sock" --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
  --pidfile="$D/ovsdb-server.pid" --log-file="$D/ovsdb-server.log" --detach "$D/conf.db"
vsctl --no-wait init
in_sw ovs-vswitchd unix:"$D/db.sock" --disable-system --pidfile="$D/ovs-vswitchd.pid" \
  --log-file="$D/ovs-vswitchd.log" --detach
vsctl add-br "$BR" -- set bridge "$BR" datapath_type=netdev \
  other-config:datapath-id=0000000000000001 protocols=OpenFlow13 fail_mode=secure

for i in 1 2 3; do
  ns=$P-h$i
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
  vsctl add-port "$BR" "$P-p$i" -- set interface "$P-p$i" ofport_request=$i
done
# Mirror port 4: switch end in the switch namespace, collector end here. No IPv6 on the
# collector end, so nothing of its own shows up in a capture.
ip link add "$P-p4" type veth peer name "$P-mir"
ip link set "$P-p4" netns "$SW"
noipv6 "$P-p4"
ip -n "$SW" link set "$P-p4" up
sysctl -qw "net.ipv6.conf.$P-mir.disable_ipv6=1"
ip link set "$P-mir" up
vsctl add-port "$BR" "$P-p4" -- set interface "$P-p4" ofport_request=4

# Faucet, inside the switch namespace (its ports 6653 and 9302 are private to it).
ip netns exec "$SW" env PATH="$FAUCET_VENV/bin:$PATH" \
  FAUCET_CONFIG="$D/conf/faucet.yaml" FAUCET_EVENT_SOCK="$D/faucet.sock" \
  FAUCET_CONFIG_STAT_RELOAD=1 FAUCET_EVENT_SOCK_HEARTBEAT=5 \
  FAUCET_LOG="$D/faucet.log" FAUCET_EXCEPTION_LOG="$D/faucet_exception.log" \
  FAUCET_PROMETHEUS_ADDR=127.0.0.1 FAUCET_PROMETHEUS_PORT=9302 \
  setsid "$FAUCET_VENV/bin/faucet" --ryu-ofp-listen-host=127.0.0.1 --ryu-ofp-tcp-listen-port=6653 \
  </dev/null >"$D/faucet.out" 2>&1 &
echo $! > "$D/faucet.pid"
vsctl set-controller "$BR" tcp:127.0.0.1:6653

# Wait for the switch to connect (Faucet needs a few seconds to start).
for _ in $(seq 1 150); do
  if vsctl --columns=is_connected list controller 2>/dev/null | grep -q true; then
    echo "net-up: switch $BR connected to Faucet"
    exit 0
  fi
  sleep 0.2
done
echo "net-up: switch did not connect to Faucet within 30 s; see $D/faucet.log" >&2
exit 1
