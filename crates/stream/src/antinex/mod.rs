//! AntiNex network-pipeline compatibility: its transport ([`kombu`]), its packet JSON
//! ([`packet`]) and its flattened CSV ([`flatten`]).
//!
//! Two levels, chosen by the caller:
//!
//! * [`Compat::Antinex`]: AntiNex's names, layer keys, column names, column order and fill
//!   values, with **correct values**: `ip_len` is the IPv4 total length, `tcp_seq` the
//!   sequence number, `udp_len` the UDP length, `icmp_code` the ICMP code, `dns_default_*`
//!   the DNS header's fields; a CSV has one fixed header (so it can be appended to) and
//!   integers stay integers.
//! * [`Compat::AntinexBugs`]: additionally AntiNex's known defects, reproduced on purpose
//!   so its published models and datasets line up. The list:
//!   1. stale-key fields: `ip_len` holds the last non-zero of (len, id, flags, frag, ttl,
//!      proto, chksum), in practice the IPv4 checksum; `tcp_seq` the last non-zero of (seq,
//!      ack, dataofs, reserved, flags, window, chksum); `udp_len` of (len, chksum);
//!      `icmp_code` of (code, chksum, id); `icmp_ptr` of (ptr, reserved);
//!   2. DNS is never serialised: the layer holds scapy's class defaults
//!      (`dns_default_*`), and layers after DNS are lost;
//!   3. the ten `*_id` placeholder columns (with `ipvsix_id`, not `ipv6_id`) are always
//!      empty;
//!   4. `tcp_fields_options.NOP` and `.SAckOK` are always empty, `Timestamp` keeps TSval
//!      only (both levels: these are names and values of AntiNex's schema);
//!   5. the CSV column set is only what the traffic produced (plus the placeholders), and
//!      a numeric column with any empty cell is written as floats (`3269735087.0`), as
//!      pandas does;
//!   6. `idx` is the row's position since the writer started, and the whole file is
//!      rewritten at each save.

pub mod flatten;
pub mod kombu;
pub mod packet;

/// The queue, exchange and routing key AntiNex uses.
pub const NEW_PACKETS: &str = "NEW_PACKETS";

/// AntiNex compatibility level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compat {
    /// Names and layout, correct values.
    Antinex,
    /// Names, layout and AntiNex's defects.
    AntinexBugs,
}

impl Compat {
    /// True for [`Compat::AntinexBugs`].
    #[must_use]
    pub const fn bugs(self) -> bool {
        matches!(self, Compat::AntinexBugs)
    }
}
