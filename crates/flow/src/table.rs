//! The flow table: shards of (hash map + LRU list in a slab), expiry, eviction, flush.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use sha2::{Digest, Sha256};
use trident_decode::{Packet, Timestamp, Transport, TunnelKind, tcp_flags};

use crate::feature::{Builtin, FlowFeature, PacketView};
use crate::key::{FragmentKey, packet_ports};
use crate::record::proto_name;
use crate::{
    DEFAULT_ACTIVE_TIMEOUT_SECS, DEFAULT_CLOSE_LINGER_SECS, DEFAULT_IDLE_TIMEOUT_SECS,
    DEFAULT_MAX_FLOWS, DEFAULT_SHARDS, Direction, EndReason, FlowKey, FlowRecord, MAX_SHARDS,
    MAX_TRACKED_FRAGMENTS, SCAN_INTERVAL_NS,
};

type Hasher = foldhash::fast::RandomState;

/// No slot: the end of an LRU list.
const NIL: u32 = u32::MAX;
/// Hex digits of the stable flow id (64 bits of SHA-256).
const ID_BYTES: usize = 8;
/// IP protocols whose key carries ports.
const PORT_PROTOCOLS: [u8; 3] = [6, 17, 136];
/// ICMP and ICMPv6, whose key may carry the echo identifier.
const ICMP_PROTOCOLS: [u8; 2] = [1, 58];

/// What the table is allowed to hold and when flows end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlowConfig {
    /// A flow with no packet for this long ends.
    pub idle_timeout: Duration,
    /// A flow older than this ends at its next packet, which starts a new flow.
    pub active_timeout: Duration,
    /// How long a closed TCP flow (both FINs, or a RST) keeps collecting stragglers.
    pub close_linger: Duration,
    /// Most flows held at once (at least one per shard).
    pub max_flows: usize,
    /// Number of shards (1 to [`MAX_SHARDS`]).
    pub shards: usize,
    /// Whether VLAN ids are part of the flow key (the default). Turn off for captures of
    /// routed traffic on a trunk, where a conversation's two directions travel on different
    /// VLANs (router on a stick) and would otherwise be two half flows.
    pub vlan_in_key: bool,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            idle_timeout: Duration::from_secs(DEFAULT_IDLE_TIMEOUT_SECS),
            active_timeout: Duration::from_secs(DEFAULT_ACTIVE_TIMEOUT_SECS),
            close_linger: Duration::from_secs(DEFAULT_CLOSE_LINGER_SECS),
            max_flows: DEFAULT_MAX_FLOWS,
            shards: DEFAULT_SHARDS,
            vlan_in_key: true,
        }
    }
}

impl FlowConfig {
    /// Sets the idle timeout.
    #[must_use]
    pub const fn with_idle_timeout(mut self, d: Duration) -> Self {
        self.idle_timeout = d;
        self
    }
    /// Sets the active timeout.
    #[must_use]
    pub const fn with_active_timeout(mut self, d: Duration) -> Self {
        self.active_timeout = d;
        self
    }
    /// Sets the TCP close linger.
    #[must_use]
    pub const fn with_close_linger(mut self, d: Duration) -> Self {
        self.close_linger = d;
        self
    }
    /// Sets the flow bound.
    #[must_use]
    pub const fn with_max_flows(mut self, n: usize) -> Self {
        self.max_flows = n;
        self
    }
    /// Sets the shard count.
    #[must_use]
    pub const fn with_shards(mut self, n: usize) -> Self {
        self.shards = n;
        self
    }
    /// Sets whether VLAN ids are part of the flow key.
    #[must_use]
    pub const fn with_vlan_in_key(mut self, on: bool) -> Self {
        self.vlan_in_key = on;
        self
    }
}

/// Timeouts in nanoseconds, saturated to `i64`.
#[derive(Debug, Clone, Copy)]
struct Limits {
    idle: i64,
    active: i64,
    linger: i64,
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Counters of one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableStats {
    /// Packets offered to [`FlowTable::process`].
    pub packets: u64,
    /// Packets without an IP header (ARP, LLDP, STP, ...), which belong to no flow.
    pub non_ip_packets: u64,
    /// Flows started.
    pub flows: u64,
    /// Flows ended because the table was full.
    pub evicted: u64,
    /// Later IP fragments joined to their datagram's flow by the first fragment's ports.
    pub fragments_joined: u64,
    /// Later IP fragments whose first fragment was not seen (or forgotten): keyed on
    /// addresses and protocol alone.
    pub fragments_unjoined: u64,
    /// Most flows held at once.
    pub peak_flows: u64,
}

/// The shard a key belongs to, among `shards` (clamped to 1..=[`MAX_SHARDS`]).
///
/// A fixed function of the key (a multiply-xorshift mix of its packed words), independent
/// of the process, platform and hasher versions, so shard assignment, and with it which
/// flow a full shard evicts, is reproducible.
#[must_use]
pub fn shard_index(key: &FlowKey, shards: usize) -> usize {
    let shards = shards.clamp(1, MAX_SHARDS) as u64;
    (key.stable_hash() % shards) as usize
}

/// A flow being built.
#[derive(Debug, Clone)]
struct FlowState {
    key: FlowKey,
    /// Whether the originator is the key's `lo` endpoint.
    orig_is_lo: bool,
    first: Timestamp,
    last: Timestamp,
    /// Set when the flow closed (both FINs, or a RST): when, and how.
    closed: Option<(Timestamp, EndReason)>,
    fin: [bool; 2],
    /// Initial sequence number of each side's first SYN (port-reuse detection).
    syn_seq: [Option<u32>; 2],
    tunnel: Option<TunnelKind>,
    features: Builtin,
}

impl FlowState {
    fn direction(&self, src_is_lo: bool) -> Direction {
        if src_is_lo == self.orig_is_lo {
            Direction::Orig
        } else {
            Direction::Resp
        }
    }

    /// Whether this flow must end before a packet at `ts` from `dir` can join it.
    fn ends_before(
        &self,
        ts: Timestamp,
        dir: Direction,
        tcp: Option<&trident_decode::TcpInfo>,
        lim: Limits,
    ) -> Option<EndReason> {
        let bare_syn =
            tcp.filter(|t| t.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN);
        // A bare SYN whose sequence number differs from the first SYN this side sent opens a
        // new connection; the same number again is a retransmitted attempt (Windows retries a
        // refused SYN so), which tshark and zeek keep in the same conversation too.
        let first_syn = self.syn_seq.get(dir.index()).copied().flatten();
        let syn = bare_syn.map(|t| (t.seq, first_syn));
        let retry = matches!(syn, Some((seq, Some(first))) if seq == first);
        let reused = matches!(syn, Some((seq, Some(first))) if seq != first);
        if let Some((since, reason)) = self.closed {
            if (syn.is_some() && !retry) || ts.0.saturating_sub(since.0) > lim.linger {
                return Some(reason);
            }
        }
        if ts.0.saturating_sub(self.last.0) > lim.idle {
            return Some(EndReason::Idle);
        }
        if ts.0.saturating_sub(self.first.0) > lim.active {
            return Some(EndReason::Active);
        }
        reused.then_some(EndReason::Reused)
    }

    /// Adds a packet; returns true when this packet closed the flow.
    fn update(&mut self, view: &PacketView<'_, '_>, first: bool) -> bool {
        if first {
            self.features.on_init(view);
        } else {
            self.features.on_update(view);
        }
        self.first = self.first.min(view.ts);
        self.last = self.last.max(view.ts);
        let Some(t) = view.tcp() else { return false };
        let d = view.dir.index();
        if t.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN {
            if let Some(s @ None) = self.syn_seq.get_mut(d) {
                *s = Some(t.seq);
            }
            // A retried attempt reopens a flow its RST had closed.
            self.closed = None;
        }
        if t.flags & tcp_flags::FIN != 0 {
            if let Some(f) = self.fin.get_mut(d) {
                *f = true;
            }
        }
        if self.closed.is_some() {
            return false;
        }
        let reason = if t.flags & tcp_flags::RST != 0 {
            EndReason::Rst
        } else if self.fin == [true, true] {
            EndReason::Fin
        } else {
            return false;
        };
        self.closed = Some((view.ts, reason));
        true
    }

    /// The record of this flow, ended for `reason` (a closed flow keeps its close reason
    /// when it idles out or the input ends).
    fn finish(self, reason: EndReason) -> FlowRecord {
        let reason = match (self.closed, reason) {
            (Some((_, closed)), EndReason::Idle | EndReason::End | EndReason::Evicted) => closed,
            _ => reason,
        };
        let (orig, resp) = if self.orig_is_lo {
            (self.key.lo(), self.key.hi())
        } else {
            (self.key.hi(), self.key.lo())
        };
        let protocol = self.key.protocol();
        let mut r = FlowRecord::blank(orig.ip, resp.ip);
        r.id = stable_id(&self.key, self.first);
        r.first_ts = self.first;
        r.last_ts = self.last;
        r.duration_ms = self.last.0.saturating_sub(self.first.0) as f64 / 1e6;
        r.end_reason = reason;
        r.protocol = protocol;
        r.proto = proto_name(protocol);
        if PORT_PROTOCOLS.contains(&protocol) {
            r.orig_port = Some(orig.port);
            r.resp_port = Some(resp.port);
        } else if ICMP_PROTOCOLS.contains(&protocol) && orig.port == resp.port && orig.port != 0 {
            r.icmp_id = Some(orig.port);
        }
        let [outer, inner] = self.key.vlan();
        r.vlan = (outer != 0).then_some(outer);
        r.vlan_inner = (inner != 0).then_some(inner);
        r.tunnel = self.tunnel.map(TunnelKind::name);
        self.features.on_expire(&mut r);
        r
    }
}

/// The stable id: 64 bits of SHA-256 over the key's canonical bytes and the first
/// timestamp, as 16 lower-case hex digits.
fn stable_id(key: &FlowKey, first: Timestamp) -> String {
    let mut h = Sha256::new();
    h.update(key.stable_bytes());
    h.update(first.0.to_be_bytes());
    let digest = h.finalize();
    let mut out = String::with_capacity(ID_BYTES * 2);
    for b in digest.iter().take(ID_BYTES) {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// Lower-case hex digits.
const HEX: [u8; 16] = *b"0123456789abcdef";

/// A slab slot: a flow and its LRU links.
#[derive(Debug, Clone)]
struct Slot {
    flow: Option<FlowState>,
    prev: u32,
    next: u32,
    /// Bumped each time the slot is freed, so stale references in the close queue are
    /// recognised.
    generation: u32,
}

/// One shard: a key → slot map and an LRU list threaded through the slab (head = least
/// recently active).
#[derive(Debug)]
struct Shard {
    map: HashMap<FlowKey, u32, Hasher>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    len: usize,
    capacity: usize,
    /// Closed TCP flows in close order: (slot, generation, close time).
    closing: VecDeque<(u32, u32, Timestamp)>,
}

impl Shard {
    fn new(capacity: usize) -> Self {
        Shard {
            map: HashMap::default(),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            len: 0,
            capacity: capacity.max(1),
            closing: VecDeque::new(),
        }
    }

    fn slot(&self, ix: u32) -> Option<&Slot> {
        self.slots.get(ix as usize)
    }

    fn slot_mut(&mut self, ix: u32) -> Option<&mut Slot> {
        self.slots.get_mut(ix as usize)
    }

    fn flow(&self, ix: u32) -> Option<&FlowState> {
        self.slot(ix).and_then(|s| s.flow.as_ref())
    }

    fn unlink(&mut self, ix: u32) {
        let Some((prev, next)) = self.slot(ix).map(|s| (s.prev, s.next)) else {
            return;
        };
        match self.slot_mut(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.slot_mut(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
        if let Some(s) = self.slot_mut(ix) {
            s.prev = NIL;
            s.next = NIL;
        }
    }

    fn push_back(&mut self, ix: u32) {
        let old_tail = self.tail;
        if let Some(s) = self.slot_mut(ix) {
            s.prev = old_tail;
            s.next = NIL;
        }
        match self.slot_mut(old_tail) {
            Some(t) => t.next = ix,
            None => self.head = ix,
        }
        self.tail = ix;
    }

    fn touch(&mut self, ix: u32) {
        if self.tail != ix {
            self.unlink(ix);
            self.push_back(ix);
        }
    }

    fn remove(&mut self, ix: u32) -> Option<FlowState> {
        self.unlink(ix);
        let slot = self.slot_mut(ix)?;
        let flow = slot.flow.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.map.remove(&flow.key);
        self.free.push(ix);
        self.len -= 1;
        Some(flow)
    }

    fn insert(&mut self, flow: FlowState) -> u32 {
        let key = flow.key;
        let ix = match self.free.pop() {
            Some(ix) => {
                if let Some(s) = self.slot_mut(ix) {
                    s.flow = Some(flow);
                }
                ix
            }
            None => {
                let ix = u32::try_from(self.slots.len()).unwrap_or(NIL);
                self.slots.push(Slot {
                    flow: Some(flow),
                    prev: NIL,
                    next: NIL,
                    generation: 0,
                });
                ix
            }
        };
        self.push_back(ix);
        self.map.insert(key, ix);
        self.len += 1;
        ix
    }

    /// Ends idle flows (from the cold end of the LRU list) and closed flows whose linger
    /// passed, as of `now`, into `batch`.
    fn expire(&mut self, now: Timestamp, lim: Limits, batch: &mut Vec<(FlowState, EndReason)>) {
        while let Some(f) = self.flow(self.head) {
            if now.0.saturating_sub(f.last.0) <= lim.idle {
                break;
            }
            let head = self.head;
            match self.remove(head) {
                Some(f) => batch.push((f, EndReason::Idle)),
                None => break,
            }
        }
        while let Some(&(ix, generation, since)) = self.closing.front() {
            // Stale entries: the slot was reused, or the flow reopened (and maybe closed
            // again later, with its own entry further back).
            let live = self.slot(ix).is_some_and(|s| {
                s.generation == generation
                    && s.flow.as_ref().and_then(|f| f.closed).map(|c| c.0) == Some(since)
            });
            if live && now.0.saturating_sub(since.0) <= lim.linger {
                break;
            }
            self.closing.pop_front();
            if live {
                if let Some(f) = self.remove(ix) {
                    let reason = f.closed.map_or(EndReason::Idle, |c| c.1);
                    batch.push((f, reason));
                }
            }
        }
    }
}

/// Remembers the ports of recent first fragments, first in first out.
#[derive(Debug, Default)]
struct FragmentPorts {
    map: HashMap<FragmentKey, (u16, u16), Hasher>,
    order: VecDeque<FragmentKey>,
}

impl FragmentPorts {
    fn remember(&mut self, key: FragmentKey, ports: (u16, u16)) {
        if self.map.insert(key, ports).is_none() {
            self.order.push_back(key);
            if self.order.len() > MAX_TRACKED_FRAGMENTS {
                if let Some(old) = self.order.pop_front() {
                    self.map.remove(&old);
                }
            }
        }
    }

    fn get(&self, key: &FragmentKey) -> Option<(u16, u16)> {
        self.map.get(key).copied()
    }
}

/// The flow table. Feed it packets in capture order with [`FlowTable::process`]; ended
/// flows are appended to the caller's vector; call [`FlowTable::flush`] at the end of the
/// input for the rest.
#[derive(Debug)]
pub struct FlowTable {
    shards: Vec<Shard>,
    limits: Limits,
    vlan_in_key: bool,
    fragments: FragmentPorts,
    last_sweep: Option<Timestamp>,
    stats: TableStats,
    held: usize,
    batch: Vec<(FlowState, EndReason)>,
}

impl Default for FlowTable {
    fn default() -> Self {
        Self::new(FlowConfig::default())
    }
}

impl FlowTable {
    /// An empty table. `max_flows` is split evenly over the shards (the first shards take
    /// the remainder), and the shard count is lowered to `max_flows` when that is smaller,
    /// so the table never holds more than `max_flows` flows.
    #[must_use]
    pub fn new(config: FlowConfig) -> Self {
        let max = config.max_flows.max(1);
        let n = config.shards.clamp(1, MAX_SHARDS).min(max);
        let shards = (0..n)
            .map(|i| Shard::new(max / n + usize::from(i < max % n)))
            .collect();
        FlowTable {
            shards,
            limits: Limits {
                idle: nanos(config.idle_timeout),
                active: nanos(config.active_timeout),
                linger: nanos(config.close_linger),
            },
            vlan_in_key: config.vlan_in_key,
            fragments: FragmentPorts::default(),
            last_sweep: None,
            stats: TableStats::default(),
            held: 0,
            batch: Vec::new(),
        }
    }

    /// Counters so far.
    #[must_use]
    pub fn stats(&self) -> TableStats {
        self.stats
    }

    /// Flows held now.
    #[must_use]
    pub fn len(&self) -> usize {
        self.held
    }

    /// True when no flow is held.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.held == 0
    }

    /// Adds one packet captured at `ts` with `wire_len` bytes on the wire. Flows that end
    /// because of it (timeouts reached by its timestamp, a closed flow it cannot join, an
    /// eviction to make room for it) are appended to `out`.
    pub fn process(
        &mut self,
        ts: Timestamp,
        wire_len: u32,
        pkt: &Packet<'_>,
        out: &mut Vec<FlowRecord>,
    ) {
        self.stats.packets += 1;
        self.sweep_if_due(ts, out);
        let Some(ip) = &pkt.ip else {
            self.stats.non_ip_packets += 1;
            return;
        };
        let frag = FragmentKey::of(ip);
        let mut frag_ports = None;
        if let Some(fk) = frag {
            if ip.is_later_fragment() {
                frag_ports = self.fragments.get(&fk);
                if frag_ports.is_some() {
                    self.stats.fragments_joined += 1;
                } else {
                    self.stats.fragments_unjoined += 1;
                }
            } else if let Some(ports) = packet_ports(pkt) {
                self.fragments.remember(fk, ports);
            }
        }
        let Some((mut key, src_is_lo)) = FlowKey::from_packet(pkt, frag_ports) else {
            return;
        };
        if !self.vlan_in_key {
            key = key.without_vlan();
        }
        let (ip_len, payload_len) = PacketView::lengths(pkt);
        let tcp = match &pkt.transport {
            Some(Transport::Tcp(t)) => Some(t),
            _ => None,
        };
        let shard_ix = shard_index(&key, self.shards.len());
        let lim = self.limits;
        let Some(shard) = self.shards.get_mut(shard_ix) else {
            return;
        };
        let mut view = PacketView {
            ts,
            dir: Direction::Orig,
            wire_len,
            ip_len,
            payload_len,
            packet: pkt,
        };
        if let Some(&ix) = shard.map.get(&key) {
            let ended = match shard.flow(ix) {
                Some(f) => {
                    view.dir = f.direction(src_is_lo);
                    f.ends_before(ts, view.dir, tcp, lim)
                }
                None => None,
            };
            match ended {
                None => {
                    let mut closed_now = false;
                    let mut generation = 0;
                    if let Some(slot) = shard.slot_mut(ix) {
                        generation = slot.generation;
                        if let Some(f) = slot.flow.as_mut() {
                            closed_now = f.update(&view, false);
                        }
                    }
                    if closed_now {
                        shard.closing.push_back((ix, generation, ts));
                    }
                    shard.touch(ix);
                    return;
                }
                Some(reason) => {
                    if let Some(f) = shard.remove(ix) {
                        self.held -= 1;
                        out.push(f.finish(reason));
                    }
                }
            }
        }
        // A new flow. Make room first.
        if shard.len >= shard.capacity {
            let head = shard.head;
            if let Some(f) = shard.remove(head) {
                self.held -= 1;
                self.stats.evicted += 1;
                out.push(f.finish(EndReason::Evicted));
            }
        }
        // A flow first seen at a SYN/ACK is the SYN sender's.
        let synack = tcp.is_some_and(|t| {
            t.flags & (tcp_flags::SYN | tcp_flags::ACK) == (tcp_flags::SYN | tcp_flags::ACK)
        });
        let orig_is_lo = if synack { !src_is_lo } else { src_is_lo };
        let mut flow = FlowState {
            key,
            orig_is_lo,
            first: ts,
            last: ts,
            closed: None,
            fin: [false; 2],
            syn_seq: [None; 2],
            tunnel: pkt.tunnel.map(|t| t.kind),
            features: Builtin::default(),
        };
        view.dir = flow.direction(src_is_lo);
        let closed_now = flow.update(&view, true);
        let ix = shard.insert(flow);
        if closed_now {
            let generation = shard.slot(ix).map_or(0, |s| s.generation);
            shard.closing.push_back((ix, generation, ts));
        }
        self.held += 1;
        self.stats.flows += 1;
        self.stats.peak_flows = self.stats.peak_flows.max(self.held as u64);
    }

    /// Sweeps for idle and closed flows when packet time has moved at least
    /// [`SCAN_INTERVAL_NS`] since the last sweep.
    fn sweep_if_due(&mut self, ts: Timestamp, out: &mut Vec<FlowRecord>) {
        match self.last_sweep {
            Some(last) if ts.0.saturating_sub(last.0).saturating_abs() < SCAN_INTERVAL_NS => {}
            Some(_) => self.expire(ts, out),
            None => self.last_sweep = Some(ts),
        }
    }

    /// Ends every flow that is idle, or closed past its linger, as of `now`, appending
    /// them to `out` sorted by (last packet, first packet, key). [`FlowTable::process`]
    /// calls this as packet time advances; call it yourself to expire on a clock of your
    /// own (a live capture whose traffic stopped).
    pub fn expire(&mut self, now: Timestamp, out: &mut Vec<FlowRecord>) {
        self.last_sweep = Some(now);
        let mut batch = std::mem::take(&mut self.batch);
        for shard in &mut self.shards {
            shard.expire(now, self.limits, &mut batch);
        }
        self.held -= batch.len();
        batch.sort_by_key(|a| (a.0.last, a.0.first, a.0.key));
        out.extend(batch.drain(..).map(|(f, reason)| f.finish(reason)));
        self.batch = batch;
    }

    /// Ends every flow held (the input is over), appending them to `out` sorted by (first
    /// packet, key). Flows closed by FIN or RST keep that reason; the rest end with
    /// [`EndReason::End`].
    pub fn flush(&mut self, out: &mut Vec<FlowRecord>) {
        let mut all: Vec<FlowState> = Vec::with_capacity(self.held);
        for shard in &mut self.shards {
            all.extend(shard.slots.drain(..).filter_map(|s| s.flow));
            shard.map.clear();
            shard.free.clear();
            shard.closing.clear();
            shard.head = NIL;
            shard.tail = NIL;
            shard.len = 0;
        }
        self.held = 0;
        all.sort_by_key(|a| (a.first, a.key));
        out.extend(all.into_iter().map(|f| f.finish(EndReason::End)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{IpAddr, Ipv4Addr};
    use trident_decode::{IpInfo, TcpInfo, UdpInfo};

    const A: [u8; 4] = [192, 168, 1, 10];
    const B: [u8; 4] = [93, 184, 216, 34];
    const SEC: i64 = 1_000_000_000;

    fn ip(src: [u8; 4], dst: [u8; 4], protocol: u8, total_len: u32) -> IpInfo {
        IpInfo {
            src: IpAddr::V4(Ipv4Addr::from(src)),
            dst: IpAddr::V4(Ipv4Addr::from(dst)),
            ttl: 64,
            dscp: 0,
            ecn: 0,
            id: Some(1),
            dont_fragment: true,
            more_fragments: false,
            reserved_flag: false,
            fragment_offset: 0,
            protocol,
            total_len,
            header_len: 20,
            flow_label: 0,
        }
    }

    fn tcp(
        src: ([u8; 4], u16),
        dst: ([u8; 4], u16),
        flags: u16,
        seq: u32,
        len: u32,
    ) -> Packet<'static> {
        Packet {
            ip: Some(ip(src.0, dst.0, 6, 40 + len)),
            transport: Some(Transport::Tcp(TcpInfo {
                src_port: src.1,
                dst_port: dst.1,
                seq,
                flags,
                header_len: 20,
                window: 1000,
                ..TcpInfo::default()
            })),
            ..Packet::default()
        }
    }

    fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), len: u32) -> Packet<'static> {
        Packet {
            ip: Some(ip(src.0, dst.0, 17, 28 + len)),
            transport: Some(Transport::Udp(UdpInfo {
                src_port: src.1,
                dst_port: dst.1,
                length: (8 + len) as u16,
            })),
            ..Packet::default()
        }
    }

    fn at(s: f64) -> Timestamp {
        Timestamp((s * SEC as f64) as i64)
    }

    /// Feeds (time, packet) pairs, then flushes; returns every record in output order.
    fn run(table: &mut FlowTable, pkts: &[(f64, Packet<'static>)]) -> Vec<FlowRecord> {
        let mut out = Vec::new();
        for (t, p) in pkts {
            let wire = p.ip.map_or(60, |i| i.total_len + 14);
            table.process(at(*t), wire, p, &mut out);
        }
        table.flush(&mut out);
        out
    }

    const S: u16 = tcp_flags::SYN;
    const SA: u16 = tcp_flags::SYN | tcp_flags::ACK;
    const AK: u16 = tcp_flags::ACK;
    const FA: u16 = tcp_flags::FIN | tcp_flags::ACK;
    const R: u16 = tcp_flags::RST;

    fn handshake_and_close(t0: f64, sport: u16) -> Vec<(f64, Packet<'static>)> {
        handshake_with_isn(t0, sport, 100)
    }

    /// A whole connection: handshake, 100 bytes up, 1000 down, FINs both ways, last ACK.
    fn handshake_with_isn(t0: f64, sport: u16, isn: u32) -> Vec<(f64, Packet<'static>)> {
        let c = (A, sport);
        let s = (B, 80);
        vec![
            (t0, tcp(c, s, S, isn, 0)),
            (t0 + 0.010, tcp(s, c, SA, 500, 0)),
            (t0 + 0.012, tcp(c, s, AK, isn + 1, 0)),
            (t0 + 0.020, tcp(c, s, AK | tcp_flags::PSH, isn + 1, 100)),
            (t0 + 0.030, tcp(s, c, AK, 501, 1000)),
            (t0 + 0.040, tcp(c, s, FA, isn + 101, 0)),
            (t0 + 0.050, tcp(s, c, FA, 1501, 0)),
            (t0 + 0.060, tcp(c, s, AK, isn + 102, 0)),
        ]
    }

    #[test]
    fn tcp_connection_is_one_flow_with_handshake_and_counts() {
        let mut t = FlowTable::default();
        let out = run(&mut t, &handshake_and_close(10.0, 40000));
        assert_eq!(out.len(), 1);
        let r = &out[0];
        assert_eq!(r.orig_ip, IpAddr::V4(Ipv4Addr::from(A)));
        assert_eq!((r.orig_port, r.resp_port), (Some(40000), Some(80)));
        assert_eq!((r.orig_pkts, r.resp_pkts), (5, 3));
        assert_eq!((r.orig_payload_bytes, r.resp_payload_bytes), (100, 1000));
        // Five orig packets of 40 bytes plus one of 140 in IP; +14 on the wire each.
        assert_eq!(r.orig_ip_bytes, 4 * 40 + 140);
        assert_eq!(r.orig_bytes, r.orig_ip_bytes + 5 * 14);
        assert_eq!((r.orig_syn_pkts, r.resp_syn_pkts), (1, 1));
        assert_eq!((r.orig_fin_pkts, r.resp_fin_pkts), (1, 1));
        assert_eq!(r.orig_ack_pkts, 4);
        assert_eq!(r.end_reason, EndReason::Fin);
        assert_eq!(r.conn_state, crate::ConnState::SF);
        let close = |a: Option<f64>, b: f64| a.is_some_and(|a| (a - b).abs() < 1e-6);
        assert!(close(r.tcp_synack_ms, 10.0), "{:?}", r.tcp_synack_ms);
        assert!(close(r.tcp_ack_ms, 2.0), "{:?}", r.tcp_ack_ms);
        assert!(close(r.tcp_rtt_ms, 12.0), "{:?}", r.tcp_rtt_ms);
        assert!(close(Some(r.duration_ms), 60.0));
        // Orig packets at 0, 12, 20, 40, 60 ms: gaps 12, 8, 20, 20.
        assert!(close(r.orig_iat_min_ms, 8.0));
        assert!(close(r.orig_iat_max_ms, 20.0));
        assert!(close(r.orig_iat_mean_ms, 15.0));
        assert_eq!(r.orig_size_max_bytes, Some(140));
        assert_eq!(r.resp_size_min_bytes, Some(40));
        assert_eq!(r.id.len(), 16);
    }

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = run(&mut FlowTable::default(), &handshake_and_close(10.0, 40000));
        let b = run(&mut FlowTable::default(), &handshake_and_close(10.0, 40000));
        let c = run(&mut FlowTable::default(), &handshake_and_close(11.0, 40000));
        assert_eq!(a[0].id, b[0].id);
        assert_ne!(a[0].id, c[0].id);
    }

    #[test]
    fn synack_first_is_turned_round() {
        let mut t = FlowTable::default();
        let out = run(&mut t, &handshake_and_close(1.0, 40000)[1..]);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].orig_ip, IpAddr::V4(Ipv4Addr::from(A)));
        assert_eq!(out[0].resp_port, Some(80));
        assert_eq!((out[0].orig_pkts, out[0].resp_pkts), (4, 3));
    }

    #[test]
    fn idle_timeout_splits_and_sweeps() {
        let mut t =
            FlowTable::new(FlowConfig::default().with_idle_timeout(Duration::from_secs(30)));
        let c = (A, 5353);
        let s = (B, 53);
        let mut out = Vec::new();
        t.process(at(0.0), 60, &udp(c, s, 10), &mut out);
        t.process(at(29.0), 60, &udp(s, c, 10), &mut out);
        assert!(out.is_empty());
        // 30 s after the last packet is not yet idle; just past it is.
        t.process(at(59.0), 60, &udp(c, s, 10), &mut out);
        assert!(out.is_empty());
        t.process(at(89.5), 60, &udp((A, 1), (B, 2), 10), &mut out);
        assert_eq!(
            out.len(),
            1,
            "the sweep at 89.5 s ends the flow last seen at 59 s"
        );
        assert_eq!(out[0].end_reason, EndReason::Idle);
        assert_eq!(out[0].packets(), 3);
        assert_eq!(out[0].conn_state, crate::ConnState::SF);
        // A packet of an idle flow that no sweep has reached yet also starts a new flow.
        t.process(at(150.0), 60, &udp((A, 1), (B, 2), 10), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].end_reason, EndReason::Idle);
        t.flush(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].end_reason, EndReason::End);
        assert_eq!(out[2].conn_state, crate::ConnState::S0);
        assert_eq!(t.stats().flows, 3);
        assert!(t.is_empty());
    }

    #[test]
    fn active_timeout_splits_a_busy_flow() {
        let cfg = FlowConfig::default()
            .with_active_timeout(Duration::from_secs(10))
            .with_idle_timeout(Duration::from_secs(5));
        let mut t = FlowTable::new(cfg);
        let pkts: Vec<_> = (0..25)
            .map(|i| (f64::from(i), udp((A, 1000), (B, 2000), 1)))
            .collect();
        let out = run(&mut t, &pkts);
        // First flow: packets at 0..=10 s (10 s is not past the 10 s limit); then 11..=21;
        // then 22..=24 flushed.
        let counts: Vec<u64> = out.iter().map(FlowRecord::packets).collect();
        assert_eq!(counts, vec![11, 11, 3]);
        let reasons: Vec<_> = out.iter().map(|r| r.end_reason).collect();
        assert_eq!(
            reasons,
            vec![EndReason::Active, EndReason::Active, EndReason::End]
        );
        assert!(out.iter().all(|r| r.duration_ms <= 10_000.0));
    }

    #[test]
    fn fin_close_keeps_stragglers_and_new_syn_starts_a_new_flow() {
        let mut pkts = handshake_and_close(0.0, 40000);
        // A retransmitted final ACK 1 s later stays in the flow (linger is 5 s).
        pkts.push((1.0, tcp((A, 40000), (B, 80), AK, 202, 0)));
        // The same ports reused 2 s later by a new connection (new initial sequence number).
        pkts.extend(handshake_with_isn(2.0, 40000, 90_000));
        let mut t = FlowTable::default();
        let out = run(&mut t, &pkts);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].packets(), 9);
        assert_eq!(out[0].end_reason, EndReason::Fin);
        assert_eq!(out[1].packets(), 8);
        assert_ne!(out[0].id, out[1].id);
    }

    #[test]
    fn closed_flow_ends_after_linger() {
        let mut t = FlowTable::default();
        let mut out = Vec::new();
        let c = (A, 40000);
        let s = (B, 80);
        t.process(at(0.0), 60, &tcp(c, s, S, 1, 0), &mut out);
        t.process(at(0.1), 60, &tcp(s, c, R | AK, 0, 0), &mut out);
        t.process(at(3.0), 60, &udp((A, 1), (B, 2), 1), &mut out);
        assert!(out.is_empty(), "within the linger");
        t.process(at(5.2), 60, &udp((A, 1), (B, 2), 1), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].end_reason, EndReason::Rst);
        assert_eq!(out[0].conn_state, crate::ConnState::REJ);
        // A late packet of that connection after the linger is a new (midstream) flow.
        t.process(at(6.0), 60, &tcp(c, s, AK, 2, 0), &mut out);
        t.flush(&mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].conn_state, crate::ConnState::OTH);
    }

    #[test]
    fn port_reuse_with_new_isn_splits() {
        let c = (A, 40000);
        let s = (B, 80);
        let pkts = vec![
            (0.0, tcp(c, s, S, 100, 0)),
            (1.0, tcp(c, s, S, 100, 0)),  // retransmission: same flow
            (2.0, tcp(c, s, S, 9999, 0)), // new ISN: new flow
        ];
        let out = run(&mut FlowTable::default(), &pkts);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].end_reason, EndReason::Reused);
        assert_eq!(out[0].orig_syn_pkts, 2);
        assert_eq!(out[0].conn_state, crate::ConnState::S0);
    }

    #[test]
    fn full_table_evicts_least_recently_active() {
        let mut t = FlowTable::new(FlowConfig::default().with_max_flows(3).with_shards(1));
        let mut out = Vec::new();
        for port in 1..=3u16 {
            t.process(
                at(f64::from(port) * 0.1),
                60,
                &udp((A, port), (B, 53), 1),
                &mut out,
            );
        }
        // Touch flow 1 so flow 2 is the coldest.
        t.process(at(0.5), 60, &udp((B, 53), (A, 1), 1), &mut out);
        t.process(at(0.6), 60, &udp((A, 4), (B, 53), 1), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].orig_port, Some(2));
        assert_eq!(out[0].end_reason, EndReason::Evicted);
        assert_eq!(t.stats().evicted, 1);
        assert_eq!(t.len(), 3);
        for port in 5..100u16 {
            t.process(at(1.0), 60, &udp((A, port), (B, 53), 1), &mut out);
            assert!(t.len() <= 3);
        }
        assert_eq!(t.stats().peak_flows, 3);
    }

    #[test]
    fn bound_holds_across_shards() {
        let mut t = FlowTable::new(FlowConfig::default().with_max_flows(10).with_shards(4));
        let mut out = Vec::new();
        for port in 0..1000u16 {
            t.process(at(1.0), 60, &udp((A, port), (B, 53), 1), &mut out);
            assert!(t.len() <= 10);
        }
        assert_eq!(out.len() as u64, t.stats().evicted);
        assert_eq!(out.len() + t.len(), 1000);
    }

    #[test]
    fn expiry_order_is_deterministic() {
        // Flows ending in one sweep come out sorted by last packet, whatever their shard.
        let mut t = FlowTable::new(FlowConfig::default().with_idle_timeout(Duration::from_secs(1)));
        let mut out = Vec::new();
        for (i, port) in [9u16, 3, 7, 1, 5].iter().enumerate() {
            t.process(
                at(i as f64 * 0.01),
                60,
                &udp((A, *port), (B, 53), 1),
                &mut out,
            );
        }
        t.process(at(10.0), 60, &udp((A, 2), (B, 2), 1), &mut out);
        let ports: Vec<_> = out.iter().map(|r| r.orig_port).collect();
        assert_eq!(ports, [9, 3, 7, 1, 5].map(Some).to_vec());
        // Flush orders by first packet.
        let mut t = FlowTable::default();
        let mut out = Vec::new();
        for (i, port) in [9u16, 3, 7].iter().enumerate() {
            t.process(
                at(5.0 - i as f64),
                60,
                &udp((A, *port), (B, 53), 1),
                &mut out,
            );
        }
        t.flush(&mut out);
        let ports: Vec<_> = out.iter().map(|r| r.orig_port).collect();
        assert_eq!(ports, vec![Some(7), Some(3), Some(9)]);
    }

    #[test]
    fn later_fragments_join_their_flow() {
        let c = ([10, 0, 0, 1], 5000);
        let s = ([10, 0, 0, 2], 6000);
        let mut first = udp(c, s, 1472);
        if let Some(ip) = first.ip.as_mut() {
            ip.more_fragments = true;
            ip.id = Some(77);
        }
        let mut later = Packet {
            ip: Some(ip(c.0, s.0, 17, 548)),
            ..Packet::default()
        };
        if let Some(ip) = later.ip.as_mut() {
            ip.fragment_offset = 1480;
            ip.id = Some(77);
        }
        let mut orphan = later.clone();
        if let Some(ip) = orphan.ip.as_mut() {
            ip.id = Some(78);
        }
        let mut t = FlowTable::default();
        let out = run(&mut t, &[(0.0, first), (0.0, later), (0.1, orphan)]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].orig_pkts, 2);
        assert_eq!(out[0].orig_payload_bytes, 1472 + 528);
        assert_eq!(out[1].orig_port, Some(0));
        assert_eq!(t.stats().fragments_joined, 1);
        assert_eq!(t.stats().fragments_unjoined, 1);
    }

    #[test]
    fn non_ip_is_counted_not_flowed() {
        let mut t = FlowTable::default();
        let out = run(&mut t, &[(0.0, Packet::default())]);
        assert!(out.is_empty());
        assert_eq!(t.stats().non_ip_packets, 1);
    }

    #[test]
    fn shard_index_is_fixed() {
        // The function is part of the contract (parallel drivers rely on it): pin it.
        let (k, _) = FlowKey::new(
            crate::Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(A)),
                port: 1,
            },
            crate::Endpoint {
                ip: IpAddr::V4(Ipv4Addr::from(B)),
                port: 2,
            },
            17,
            [0, 0],
        );
        let i = shard_index(&k, 16);
        assert!(i < 16);
        assert_eq!(shard_index(&k, 16), i);
        assert_eq!(shard_index(&k, 1), 0);
        // Keys spread: 1000 flows touch every one of 16 shards.
        let mut seen = [false; 16];
        for p in 0..1000u16 {
            let (k, _) = FlowKey::new(
                crate::Endpoint {
                    ip: IpAddr::V4(Ipv4Addr::from(A)),
                    port: p,
                },
                crate::Endpoint {
                    ip: IpAddr::V4(Ipv4Addr::from(B)),
                    port: 53,
                },
                17,
                [0, 0],
            );
            seen[shard_index(&k, 16)] = true;
        }
        assert!(seen.iter().all(|s| *s));
    }

    #[test]
    fn refused_syn_retried_with_same_isn_is_one_flow() {
        let c = (A, 50202);
        let s = (B, 57648);
        let mut pkts = Vec::new();
        for i in 0..3 {
            // Each retry comes 3 s after the last: past the linger from the first RST.
            pkts.push((f64::from(i) * 3.0, tcp(c, s, S, 7, 0)));
            pkts.push((f64::from(i) * 3.0 + 0.1, tcp(s, c, R | AK, 0, 0)));
        }
        pkts.push((9.0, tcp(c, s, S, 8, 0))); // another ISN: a new attempt
        let out = run(&mut FlowTable::default(), &pkts);
        assert_eq!(out.len(), 2);
        assert_eq!((out[0].orig_pkts, out[0].resp_pkts), (3, 3));
        assert_eq!(out[0].conn_state, crate::ConnState::REJ);
        assert_eq!(out[1].orig_pkts, 1);
    }

    #[test]
    fn vlan_in_key_is_optional() {
        let mut there = udp((A, 1), (B, 2), 1);
        there.vlans.push(1506);
        let mut back = udp((B, 2), (A, 1), 1);
        back.vlans.push(1906);
        let pkts = [(0.0, there), (0.1, back)];
        assert_eq!(run(&mut FlowTable::default(), &pkts).len(), 2);
        let mut t = FlowTable::new(FlowConfig::default().with_vlan_in_key(false));
        let out = run(&mut t, &pkts);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].vlan, None);
    }

    #[test]
    fn memory_per_flow_matches_the_documented_bound() {
        // DEFAULT_MAX_FLOWS' documentation promises under 700 bytes per flow: the slab slot
        // plus the map entry (key and index) plus the hash map's control byte, at most.
        let per_flow = std::mem::size_of::<Slot>() + std::mem::size_of::<(FlowKey, u32)>() + 1;
        println!("{per_flow} bytes per flow");
        assert!(per_flow < 700, "{per_flow} bytes per flow");
    }
}
