#!/usr/bin/env bash
# Faucet SDN integration tests (crates/sdn/tests/faucet_*.rs, tests/faucet/): Open vSwitch
# (userspace datapath, no kernel module needed), Faucet and faucetconfrpc from PyPI in two
# virtualenvs (they cannot share one: faucetconfrpc pins its own Faucet fork), openssl for
# throw-away certificates, iproute2 for namespaces. Starts nothing: each test brings up and
# tears down its own switch, hosts, Faucet and faucetconfrpc (see tests/faucet/README.md).
# Idempotent; run as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

FAUCET_VERSION=1.10.12
FAUCETCONFRPC_VERSION=0.55.79
ROOT=${TRIDENT_FAUCET_ROOT:-/opt/trident-faucet}
PY=/usr/bin/python3

need=()
command -v ovs-vswitchd >/dev/null || need+=(openvswitch-switch)
command -v ovsdb-server >/dev/null || need+=(openvswitch-switch)
command -v ip >/dev/null || need+=(iproute2)
command -v openssl >/dev/null || need+=(openssl)
command -v ping >/dev/null || need+=(iputils-ping)
command -v tcpdump >/dev/null || need+=(tcpdump)
[ -x "$PY" ] || need+=(python3)
"$PY" -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq "${need[@]}"
fi
# The Debian package may start the system OVS where an init system exists; the tests never
# use it (each runs its own ovsdb-server/ovs-vswitchd inside a private network namespace).

venv() { # venv NAME PACKAGE VERSION
  local dir=$ROOT/$1 marker=$ROOT/$1/.trident-$2-$3
  [ -e "$marker" ] && return 0
  rm -rf "$dir"
  "$PY" -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$2==$3"
  touch "$marker"
}
mkdir -p "$ROOT"
venv faucet faucet "$FAUCET_VERSION"
venv confrpc faucetconfrpc "$FAUCETCONFRPC_VERSION"

ovs-vswitchd --version | head -1
"$ROOT/faucet/bin/pip" show faucet 2>/dev/null | grep -E '^(Name|Version)' | tr '\n' ' '; echo
"$ROOT/confrpc/bin/pip" show faucetconfrpc 2>/dev/null | grep -E '^(Name|Version)' | tr '\n' ' '; echo
