//! Flows: decoded packets in, one [`FlowRecord`] per bidirectional conversation out.
//!
//! # Why the table is built this way
//!
//! A flow table sits on the per-packet path of every analysis trident does, and it holds
//! state for traffic an attacker may control, so four properties are designed in rather
//! than hoped for:
//!
//! - **Deterministic.** Time is the packets' timestamps, never the wall clock: idle and
//!   active timeouts and the TCP close linger are measured against the packet being
//!   processed, so replaying a capture gives the same flows, split at the same packets,
//!   written in the same order, with the same ids ([`FlowRecord::id`] is derived from the
//!   flow key and first timestamp). Flows that expire together are written sorted by
//!   (last packet, first packet, key); the flows left at the end are written sorted by
//!   (first packet, key). Hash-map iteration order is never observed.
//! - **Bounded.** The table holds at most [`FlowConfig::max_flows`] flows. When a shard is
//!   full, its least recently active flow is evicted (written with
//!   [`EndReason::Evicted`] and counted in [`TableStats::evicted`]); memory never grows
//!   with the input. Every per-flow list (DNS names, DHCP clients) is capped too.
//! - **Sharded.** Keys are spread over independent shards by a fixed, documented hash
//!   ([`shard_index`]), each with its own map, LRU list and capacity. A parallel driver
//!   can route packets to per-thread tables with the same function and get exactly the
//!   flows one table would produce.
//! - **Cheap per packet.** A packet costs one hash lookup, a few adds in the statistics
//!   and two pointer swaps in the LRU list; nothing is allocated unless the packet starts
//!   a flow's first application hint. Idle expiry walks each shard's LRU list from its
//!   cold end and stops at the first live flow, so it costs what it expires.
//!
//! # What a flow is
//!
//! Packets share a flow when they have the same [`FlowKey`]: protocol, the two endpoints
//! in canonical order, and the VLAN tags. TCP and UDP endpoints have ports, ICMP echo uses
//! the echo identifier, other protocols key on addresses alone. The originator is the
//! sender of the first packet, except that a TCP flow first seen at its SYN/ACK is turned
//! round (the SYN's sender is the originator, as zeek does). A flow ends when
//!
//! - no packet arrived for the idle timeout ([`EndReason::Idle`]);
//! - it has lasted the active timeout: its next packet starts a new flow
//!   ([`EndReason::Active`]);
//! - both sides sent FIN, or one sent RST, and then the close linger passed or a new SYN
//!   reused the ports ([`EndReason::Fin`], [`EndReason::Rst`]); the linger keeps the last
//!   ACK of a close, and duplicate RSTs, in the flow they belong to;
//! - a SYN with a different initial sequence number reuses the ports of a flow that was
//!   never closed ([`EndReason::Reused`]);
//! - the table was full ([`EndReason::Evicted`]) or the input ended ([`EndReason::End`]).
//!
//! Later IP fragments carry no ports; the table remembers the ports of recent first
//! fragments (at most [`MAX_TRACKED_FRAGMENTS`]) so the rest of a datagram joins its flow.
//!
//! # Features
//!
//! The measurements are small [`FlowFeature`] units (nfstream's `on_init` / `on_update` /
//! `on_expire` contract), composed statically in [`feature::Builtin`]; see [`feature`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod feature;
mod key;
mod record;
mod stats;
mod table;

pub use feature::{FlowFeature, PacketView};
pub use key::{Direction, Endpoint, FlowKey};
pub use record::{COLUMNS, ConnState, DhcpSummary, EndReason, FlowRecord, TcpFingerprint};
pub use stats::{OnlineStats, Summary};
pub use table::{FlowConfig, FlowTable, TableStats, shard_index};

/// Default idle timeout, seconds (nfstream's default).
pub const DEFAULT_IDLE_TIMEOUT_SECS: u64 = 120;
/// Default active timeout, seconds (nfstream's default).
pub const DEFAULT_ACTIVE_TIMEOUT_SECS: u64 = 1800;
/// Default time a TCP flow stays in the table after its close (both FINs or a RST), seconds:
/// long enough for the final ACK and retransmitted RSTs, short enough that a busy server's
/// closed connections do not fill the table (zeek's `tcp_close_delay` is the same).
pub const DEFAULT_CLOSE_LINGER_SECS: u64 = 5;
/// Default bound on flows held at once. A flow takes under 700 bytes in the table (slab
/// slot, map entry; more only while it holds application hints), so the default bounds the
/// table near 180 MB.
pub const DEFAULT_MAX_FLOWS: usize = 262_144;
/// Default number of shards.
pub const DEFAULT_SHARDS: usize = 16;
/// Largest number of shards accepted.
pub const MAX_SHARDS: usize = 1024;
/// How far packet time must move (either way) between two idle-expiry sweeps, nanoseconds.
/// While time moves forward, sweeps only free memory and write records earlier: which
/// packets share a flow is decided per packet and does not depend on them. When a capture's
/// time jumps back (merged captures, broken clocks), a flow a sweep already ended stays
/// ended and a late packet of it starts a new flow; the result is still the same on every
/// run.
pub const SCAN_INTERVAL_NS: i64 = 1_000_000_000;
/// Most distinct names kept per list per flow (DNS queries, mDNS names).
pub const MAX_NAMES_PER_FLOW: usize = 32;
/// Most DHCP clients summarised per flow.
pub const MAX_DHCP_CLIENTS_PER_FLOW: usize = 32;
/// Longest hint string kept, in characters (a User-Agent can be kilobytes).
pub const MAX_HINT_CHARS: usize = 512;
/// Most IP datagrams whose first fragment's ports are remembered at once.
pub const MAX_TRACKED_FRAGMENTS: usize = 4096;
