# Shared by net-up.sh and net-up-stack.sh (sourced, not run): the switch namespace with its
# userspace Open vSwitch, hosts and the collector on veths, Faucet, and the wait for the
# switches to connect. Callers set D (the run's directory), P (the prefix) and NAME (for
# messages), then call net_init.

# net_init TOOL...: checks the tools (beyond OVS's and ip) and Faucet, makes D absolute and
# D/conf, sets SW (the switch namespace) and FAUCET_VENV.
net_init() {
  FAUCET_VENV=${TRIDENT_FAUCET_ROOT:-/opt/trident-faucet}/faucet
  SW=$P-sw
  [ -d "$D" ] || { echo "$NAME: $D is not a directory" >&2; exit 2; }
  for tool in ovsdb-server ovs-vswitchd ovs-vsctl ip "$@"; do
    command -v "$tool" >/dev/null || { echo "$NAME: $tool missing (run .ci/setup.d/40-faucet.sh)" >&2; exit 2; }
  done
  [ -x "$FAUCET_VENV/bin/faucet" ] || { echo "$NAME: $FAUCET_VENV/bin/faucet missing (run .ci/setup.d/40-faucet.sh)" >&2; exit 2; }
  D=$(cd "$D" && pwd)
  mkdir -p "$D/conf"
}

# The switch's ends of the veths are OVS ports, not hosts: without IPv6 the kernel sends
# nothing of its own (router solicitations, MLD) out of them into the hosts or the collector.
noipv6() { ip netns exec "$SW" sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1"; }
in_sw() { ip netns exec "$SW" env OVS_RUNDIR="$D" OVS_DBDIR="$D" OVS_LOGDIR="$D" OVS_SYSCONFDIR="$D" "$@"; }
vsctl() { in_sw ovs-vsctl --db=unix:"$D/db.sock" "$@"; }

# net_switch: the switch namespace (loopback up, for OpenFlow) with ovsdb-server and a
# userspace ovs-vswitchd (--disable-system: no kernel module) in it.
net_switch() {
  ip netns add "$SW"
  ip -n "$SW" link set lo up
  in_sw ovsdb-tool create "$D/conf.db" /usr/share/openvswitch/vswitch.ovsschema
  in_sw ovsdb-server --remote=punix:"$D/db.sock" --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
    --pidfile="$D/ovsdb-server.pid" --log-file="$D/ovsdb-server.log" --detach "$D/conf.db"
  vsctl --no-wait init
  in_sw ovs-vswitchd unix:"$D/db.sock" --disable-system --pidfile="$D/ovs-vswitchd.pid" \
    --log-file="$D/ovs-vswitchd.log" --detach
}

# net_bridge BR N: a netdev bridge with datapath id N (one digit), OpenFlow 1.3, fail secure.
net_bridge() {
  vsctl add-br "$1" -- set bridge "$1" datapath_type=netdev \
    other-config:datapath-id=000000000000000"$2" protocols=OpenFlow13 fail_mode=secure
}

# net_port LINK BR PORT: LINK (in the switch namespace) becomes OpenFlow port PORT of BR.
net_port() {
  noipv6 "$1"
  ip -n "$SW" link set "$1" up
  vsctl add-port "$2" "$1" -- set interface "$1" ofport_request="$3"
}

# net_host I BR PORT: host I in namespace PREFIX-hI, 10.0.0.I/24, MAC 02:54:00:00:00:0I (not
# 0e:00:00:00:00:01: that is Faucet's own faucet_mac, dropped as a source), eth0 on a veth
# whose switch end PREFIX-pI is OpenFlow port PORT of BR.
net_host() {
  local i=$1 ns=$P-h$1
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "$P-p$i" type veth peer name "$P-e$i"
  ip link set "$P-e$i" netns "$ns"
  ip -n "$ns" link set "$P-e$i" name eth0
  ip -n "$ns" link set eth0 address "02:54:00:00:00:0$i"
  ip -n "$ns" addr add "10.0.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip link set "$P-p$i" netns "$SW"
  net_port "$P-p$i" "$2" "$3"
}

# net_collector LINK BR PORT: the collector NIC PREFIX-mir, in the caller's namespace, is the
# far end of LINK, OpenFlow port PORT of BR. No IPv6 on it, so nothing of its own shows up
# in a capture.
net_collector() {
  ip link add "$1" type veth peer name "$P-mir"
  ip link set "$1" netns "$SW"
  sysctl -qw "net.ipv6.conf.$P-mir.disable_ipv6=1"
  ip link set "$P-mir" up
  net_port "$1" "$2" "$3"
}

# net_faucet BR...: Faucet inside the switch namespace (its ports 6653 and 9302 are private
# to it, so parallel runs never share a port nor the datapath's fixed "ovs-netdev" tap),
# reading D/conf/faucet.yaml, events on D/faucet.sock; then waits up to 30 s for every
# bridge to connect.
net_faucet() {
  ip netns exec "$SW" env PATH="$FAUCET_VENV/bin:$PATH" \
    FAUCET_CONFIG="$D/conf/faucet.yaml" FAUCET_EVENT_SOCK="$D/faucet.sock" \
    FAUCET_CONFIG_STAT_RELOAD=1 FAUCET_EVENT_SOCK_HEARTBEAT=5 \
    FAUCET_LOG="$D/faucet.log" FAUCET_EXCEPTION_LOG="$D/faucet_exception.log" \
    FAUCET_PROMETHEUS_ADDR=127.0.0.1 FAUCET_PROMETHEUS_PORT=9302 \
    setsid "$FAUCET_VENV/bin/faucet" --ryu-ofp-listen-host=127.0.0.1 --ryu-ofp-tcp-listen-port=6653 \
    </dev/null >"$D/faucet.out" 2>&1 &
  echo $! > "$D/faucet.pid"
  local br
  for br in "$@"; do vsctl set-controller "$br" tcp:127.0.0.1:6653; done
  for _ in $(seq 1 150); do
    if [ "$(vsctl --columns=is_connected list controller 2>/dev/null | grep -c true)" = "$#" ]; then
      echo "$NAME: $* connected to Faucet"
      return 0
    fi
    sleep 0.2
  done
  echo "$NAME: the switches did not connect to Faucet within 30 s; see $D/faucet.log" >&2
  exit 1
}
