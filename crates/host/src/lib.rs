//! Host inventory: flow records in, one [`HostRecord`] per device out.
//!
//! # A pure fold
//!
//! [`HostInventory`] reads nothing and writes nothing: [`HostInventory::add`] folds one
//! [`FlowRecord`] into per-endpoint accumulators, [`HostInventory::add_packet`] folds what a
//! packet says outside IP flows (ARP claims, DHCPv6), and [`HostInventory::finish`] turns
//! them into records, sorted. Everything a host record says comes from its flows: addresses and
//! MACs from the flow endpoints, services from which side answered, names and fingerprints
//! from the application hints, the OS guess from the originator's SYN. So the same flows
//! give the same hosts, whatever order they arrive in, and the stage can run on flows from
//! any source (a live table, a file of flows, a test).
//!
//! # Who is a host
//!
//! A host is a unicast MAC address, with every unicast IP address it sent from. A MAC that
//! sends from addresses in many foreign networks is a router (see
//! [`ROUTER_MIN_FOREIGN_NETWORKS`]): the router keeps its local addresses, and every foreign
//! address behind it becomes a host of its own, keyed by IP and marked with
//! [`HostRecord::behind_router`]. Captures without link-layer addresses (raw IP, tunnels
//! without an inner Ethernet header) give one host per IP address. A MAC that never sent an
//! IP packet but appears as an ARP sender (or a DHCP/DHCPv6 client) is a host too, with the
//! IPv4 addresses it claimed, marked [`HostRecord::link_only`].
//!
//! Networks are /24s (IPv4) and /64s (IPv6). An address is *foreign* to a MAC when it is
//! not private, shared, link-local, loopback or unique-local, and no other MAC in the
//! capture sends from its network: the LAN's own subnets are shared by its hosts, while the
//! Internet's addresses all arrive through the gateway's MAC. A host's IPv6 privacy
//! addresses share one /64, so they never make it a router; a gateway forwarding replies
//! from a handful of remote networks does.
//!
//! # Attribution
//!
//! - Traffic: a flow's originator sent `orig_*` and received `resp_*`; its responder the
//!   reverse.
//! - Services offered: TCP ports a host answered a SYN on with a SYN/ACK; UDP ports it
//!   answered from. Services used: the same ports seen from the client's side.
//! - DNS names resolved, TLS SNI/JA3/JA4, HTTP User-Agents: the originator's (clients
//!   start flows; a capture starting mid-flow is the exception that zeek's flip handles).
//! - mDNS names and SSDP SERVER/LOCATION: the originator's (the announcing device).
//! - DHCP: by the client MAC inside the DHCP message (`chaddr`), whatever the addresses.
//! - DHCPv6: a client message by its Ethernet source, a server's ADVERTISE/REPLY by its
//!   Ethernet destination (the addresses a REPLY assigns are the client's); a relayed
//!   message by the Ethernet address inside a DUID-LL/LLT.
//! - ARP: the sender hardware and protocol addresses of requests and replies (probes from
//!   `0.0.0.0` show the MAC, not an address).
//! - OS: the most frequent SYN fingerprint the host sent as originator (see [`os`]).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod inventory;
pub mod os;
pub mod oui;
mod record;

pub use inventory::{HostInventory, InventoryStats};
pub use os::{Basis, OsGuess};
pub use record::{COLUMNS, HostRecord, Service};

pub use trident_flow::FlowRecord;

/// A MAC that sent from addresses in at least this many foreign networks is a router.
/// Three, not one or two: a host with a public address and a VPN or tunnel address should
/// not turn into a router, and a real gateway forwards far more remote networks than that.
pub const ROUTER_MIN_FOREIGN_NETWORKS: usize = 3;
/// Most IP addresses kept per host record (and per MAC while folding).
pub const MAX_ADDRS_PER_HOST: usize = 64;
/// Most distinct names kept per list per host (DNS queries, SNI, mDNS names, ...).
pub const MAX_NAMES_PER_HOST: usize = 64;
/// Most services kept per list per host.
pub const MAX_SERVICES_PER_HOST: usize = 128;
/// Most distinct SYN fingerprints counted per host for the OS guess.
pub const MAX_FINGERPRINTS_PER_HOST: usize = 16;
/// Most (MAC, IP) endpoints folded; beyond it new endpoints are counted in
/// [`InventoryStats::endpoints_dropped`] and not kept, so memory stays bounded.
pub const MAX_ENDPOINTS: usize = 1 << 18;
