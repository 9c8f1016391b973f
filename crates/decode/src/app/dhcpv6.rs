//! DHCPv6 messages, read with dhcproto's `v6::Message`.
//!
//! # Guards
//!
//! dhcproto 0.14's v6 option decoder trusts option lengths in ways that can panic or recurse
//! without bound on hostile input, so a message is checked by [`safe_options_len`] before
//! dhcproto sees it, and only the prefix of options that passed is handed over:
//!
//! - StatusCode (13), VendorClass (16) and VendorOpts (17) compute `len - 2` / `len - 4`
//!   unchecked: an overflow panic in debug builds, a wrap in release.
//! - Preference, ElapsedTime, ServerUnicast, ReconfMsg, RapidCommit and ReconfAccept read a
//!   fixed size whatever the length says, so a wrong length desynchronises the walk; such an
//!   option ends the safe prefix.
//! - Container options (IA_NA, IA_TA, IAADDR, IA_PD, IAPREFIX, VendorOpts, RelayMsg) are
//!   decoded recursively: nesting deeper than [`MAX_NESTING`] ends the safe prefix.
//! - DomainSearchList (24) reads DNS names that may hold compression pointers, which hickory
//!   follows recursively: each name must pass [`super::dns::name_wire_len`].
//!
//! Relay messages (RELAY-FORW/RELAY-REPL) carry the client's message in option 9; the hint
//! describes the innermost message, found by walking the relay options here (dhcproto would
//! decode option 9 as another relay message).

use std::net::Ipv6Addr;

use dhcproto::v6::{DhcpOption, Message};
use dhcproto::{Decodable, Decoder};

use super::text::{display, hex};
use super::{Dhcpv6Hint, MAX_DHCPV6_ADDRESSES, MAX_DHCPV6_OPTION_REQUESTS};

/// Message type and transaction id of a client/server message.
const CLIENT_HEADER_LEN: usize = 4;
/// Message type, hop count, link address and peer address of a relay message.
const RELAY_HEADER_LEN: usize = 34;
/// Option code and length.
const OPTION_HEADER_LEN: usize = 4;
/// Nesting of container options (and relay hops) accepted.
pub(crate) const MAX_NESTING: usize = 8;
/// Options looked at per level before giving up.
const MAX_OPTIONS: usize = 256;
/// Relay message types.
const RELAY_FORW: u8 = 12;
const RELAY_REPL: u8 = 13;

/// Option codes with special handling.
const OPT_IA_NA: u16 = 3;
const OPT_IA_TA: u16 = 4;
const OPT_IAADDR: u16 = 5;
const OPT_PREFERENCE: u16 = 7;
const OPT_ELAPSED_TIME: u16 = 8;
const OPT_RELAY_MSG: u16 = 9;
const OPT_AUTH: u16 = 11;
const OPT_UNICAST: u16 = 12;
const OPT_STATUS_CODE: u16 = 13;
const OPT_RAPID_COMMIT: u16 = 14;
const OPT_VENDOR_CLASS: u16 = 16;
const OPT_VENDOR_OPTS: u16 = 17;
const OPT_RECONF_MSG: u16 = 19;
const OPT_RECONF_ACCEPT: u16 = 20;
const OPT_DNS_SERVERS: u16 = 23;
const OPT_DOMAIN_LIST: u16 = 24;
const OPT_IA_PD: u16 = 25;
const OPT_IAPREFIX: u16 = 26;
const OPT_CLIENT_FQDN: u16 = 39;

/// Reads a DHCPv6 message from a UDP 546/547 payload.
pub(crate) fn parse(payload: &[u8]) -> Option<Dhcpv6Hint> {
    let mut msg = payload;
    let mut relayed = false;
    for _ in 0..=MAX_NESTING {
        let msg_type = *msg.first()?;
        if msg_type != RELAY_FORW && msg_type != RELAY_REPL {
            let mut hint = parse_client(msg)?;
            hint.relayed = relayed;
            return Some(hint);
        }
        msg = relay_message(msg.get(RELAY_HEADER_LEN..)?)?;
        relayed = true;
    }
    None
}

/// The data of the first RelayMsg option among `options`.
fn relay_message(mut options: &[u8]) -> Option<&[u8]> {
    for _ in 0..MAX_OPTIONS {
        let (code, data, rest) = split_option(options)?;
        if code == OPT_RELAY_MSG {
            return Some(data);
        }
        options = rest;
    }
    None
}

fn parse_client(msg: &[u8]) -> Option<Dhcpv6Hint> {
    let options = msg.get(CLIENT_HEADER_LEN..)?;
    let safe = CLIENT_HEADER_LEN + safe_options_len(options, 0);
    let message = Message::decode(&mut Decoder::new(msg.get(..safe)?)).ok()?;
    let mut hint = Dhcpv6Hint {
        message_type: *msg.first()?,
        xid: message.xid_num(),
        ..Dhcpv6Hint::default()
    };
    for opt in message.opts().iter() {
        match opt {
            DhcpOption::ClientId(duid) => hint.client_duid = Some(hex(duid)),
            DhcpOption::ORO(oro) => {
                hint.option_request = oro
                    .opts
                    .iter()
                    .take(MAX_DHCPV6_OPTION_REQUESTS)
                    .map(|&c| u16::from(c))
                    .collect();
            }
            DhcpOption::VendorClass(vc) => {
                let mut text = vc.num.to_string();
                if let Some(first) = vc.data.first() {
                    text.push(' ');
                    text.push_str(&display(first));
                }
                hint.vendor_class = Some(text);
            }
            DhcpOption::IANA(ia) => push_addresses(&mut hint.addresses, ia.opts.iter()),
            DhcpOption::IATA(ia) => push_addresses(&mut hint.addresses, ia.opts.iter()),
            DhcpOption::Unknown(u) if u16::from(u.code()) == OPT_CLIENT_FQDN => {
                hint.fqdn = client_fqdn(u.data());
            }
            _ => {}
        }
    }
    Some(hint)
}

fn push_addresses<'a>(out: &mut Vec<Ipv6Addr>, opts: impl Iterator<Item = &'a DhcpOption>) {
    for opt in opts {
        if let DhcpOption::IAAddr(a) = opt
            && out.len() < MAX_DHCPV6_ADDRESSES
        {
            out.push(a.addr);
        }
    }
}

/// The name of a Client FQDN option (RFC 4704): a flags byte, then the name in DNS wire
/// format, uncompressed, possibly partial (no root label). Without the trailing dot.
fn client_fqdn(data: &[u8]) -> Option<String> {
    let (_flags, mut wire) = data.split_first()?;
    let mut out = String::new();
    while let Some((&len, rest)) = wire.split_first() {
        if len == 0 {
            break;
        }
        let (label, rest) = rest.split_at_checked(usize::from(len))?;
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&display(label));
        wire = rest;
    }
    Some(out)
}

/// Splits the first option off `options`: (code, data, rest).
fn split_option(options: &[u8]) -> Option<(u16, &[u8], &[u8])> {
    let (header, rest) = options.split_first_chunk::<OPTION_HEADER_LEN>()?;
    let code = u16::from_be_bytes([header[0], header[1]]);
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let (data, rest) = rest.split_at_checked(len)?;
    Some((code, data, rest))
}

/// How many leading bytes of `options` dhcproto can decode without panicking or recursing
/// past [`MAX_NESTING`]: the options up to (not including) the first that fails a check.
pub(crate) fn safe_options_len(options: &[u8], depth: usize) -> usize {
    let mut rest = options;
    let mut safe = 0;
    for _ in 0..MAX_OPTIONS {
        let Some((code, data, next)) = split_option(rest) else {
            break;
        };
        if !option_is_safe(code, data, depth) {
            break;
        }
        safe += OPTION_HEADER_LEN + data.len();
        rest = next;
    }
    safe
}

/// True when dhcproto decodes this option exactly over `data`, without underflow, and any
/// options nested in it are safe too.
fn option_is_safe(code: u16, data: &[u8], depth: usize) -> bool {
    let nested = |fixed: usize| -> bool {
        if depth >= MAX_NESTING {
            return false;
        }
        data.get(fixed..)
            .is_some_and(|inner| safe_options_len(inner, depth + 1) == inner.len())
    };
    match code {
        OPT_PREFERENCE | OPT_RECONF_MSG => data.len() == 1,
        OPT_ELAPSED_TIME => data.len() == 2,
        OPT_UNICAST => data.len() == 16,
        OPT_RAPID_COMMIT | OPT_RECONF_ACCEPT => data.is_empty(),
        OPT_STATUS_CODE => data.len() >= 2,
        OPT_VENDOR_CLASS => data.len() >= 4,
        OPT_AUTH => data.len() >= 11,
        OPT_DNS_SERVERS => data.len() % 16 == 0,
        OPT_IA_NA | OPT_IA_PD => nested(12),
        OPT_IA_TA | OPT_VENDOR_OPTS => nested(4),
        OPT_IAADDR => nested(24),
        OPT_IAPREFIX => nested(25),
        OPT_RELAY_MSG => nested(RELAY_HEADER_LEN),
        OPT_DOMAIN_LIST => names_are_safe(data),
        _ => true,
    }
}

/// True when every name in a DomainSearchList can be read by hickory without deep recursion
/// (see [`super::dns::name_wire_len`]), up to the end of the option.
fn names_are_safe(data: &[u8]) -> bool {
    let mut at = 0;
    while at < data.len() {
        match super::dns::name_wire_len(data, at) {
            Some(len) => at += len,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
pub(crate) mod tests {
    use super::*;

    /// A SOLICIT laid out as RFC 8415 section 8 and 21 describe: type 1, xid 0x0a0b0c, then
    /// Client Identifier (DUID-LL), ORO (23, 24, 39), Elapsed Time, IA_NA holding one IAADDR,
    /// Client FQDN `pc1.example` and Vendor Class (enterprise 311, "MSFT 5.0").
    pub(crate) fn solicit() -> Vec<u8> {
        let mut m = vec![1, 0x0a, 0x0b, 0x0c];
        m.extend_from_slice(&[0, 1, 0, 10, 0, 3, 0, 1, 0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x5c]);
        m.extend_from_slice(&[0, 6, 0, 6, 0, 23, 0, 24, 0, 39]);
        m.extend_from_slice(&[0, 8, 0, 2, 0, 0]);
        m.extend_from_slice(&[0, 3, 0, 40, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        m.extend_from_slice(&[0, 5, 0, 24, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0]);
        m.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0, 0]);
        m.extend_from_slice(b"\x00\x27\x00\x0e\x00\x03pc1\x07example\x00");
        m.extend_from_slice(&[0, 16, 0, 14, 0, 0, 1, 0x37, 0, 8]);
        m.extend_from_slice(b"MSFT 5.0");
        m
    }

    #[test]
    fn solicit_fields() {
        let h = parse(&solicit()).expect("valid SOLICIT");
        assert_eq!(h.message_type, 1);
        assert_eq!(h.xid, 0x0a0b0c);
        assert_eq!(h.client_duid.as_deref(), Some("00030001001b213a4f5c"));
        assert_eq!(h.option_request, [23, 24, 39]);
        assert_eq!(
            h.addresses,
            ["2001:db8::42".parse::<Ipv6Addr>().expect("addr")]
        );
        assert_eq!(h.fqdn.as_deref(), Some("pc1.example"));
        assert_eq!(h.vendor_class.as_deref(), Some("311 MSFT 5.0"));
        assert!(!h.relayed);
    }

    #[test]
    fn relay_forward_yields_the_inner_message() {
        let inner = solicit();
        let mut m = vec![RELAY_FORW, 0];
        m.extend_from_slice(&[0; 32]);
        m.extend_from_slice(&[0, 18, 0, 2, 0xab, 0xcd]); // interface-id
        m.extend_from_slice(&OPT_RELAY_MSG.to_be_bytes());
        m.extend_from_slice(&(inner.len() as u16).to_be_bytes());
        m.extend_from_slice(&inner);
        let h = parse(&m).expect("relayed SOLICIT");
        assert!(h.relayed);
        assert_eq!(h.xid, 0x0a0b0c);
        assert_eq!(h.option_request, [23, 24, 39]);
    }

    #[test]
    fn underflowing_lengths_end_the_safe_prefix() {
        for code in [OPT_STATUS_CODE, OPT_VENDOR_CLASS, OPT_VENDOR_OPTS] {
            let mut m = vec![1, 0, 0, 1];
            m.extend_from_slice(&[0, 6, 0, 2, 0, 23]);
            m.extend_from_slice(&code.to_be_bytes());
            m.extend_from_slice(&[0, 1, 0xff]);
            m.extend_from_slice(&[0, 1, 0, 2, 0xaa, 0xbb]);
            let h = parse(&m).expect("header");
            assert_eq!(h.option_request, [23], "code {code}");
            assert_eq!(
                h.client_duid, None,
                "options after the bad one are not read"
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused() {
        // VendorOpts inside VendorOpts, 2000 deep.
        let mut inner: Vec<u8> = Vec::new();
        for _ in 0..2000 {
            let mut o = vec![0, 17];
            o.extend_from_slice(&((inner.len() + 4) as u16).to_be_bytes());
            o.extend_from_slice(&[0, 0, 0, 9]);
            o.extend_from_slice(&inner);
            inner = o;
        }
        let mut m = vec![1, 0, 0, 2];
        m.extend_from_slice(&inner);
        assert_eq!(safe_options_len(&m[4..], 0), 0);
        let h = parse(&m).expect("header");
        assert_eq!(h.xid, 2);
    }

    /// Random option trees built from the option codes with special handling, with lengths
    /// that are sometimes wrong: dhcproto must never see one that makes it panic.
    #[test]
    fn random_option_trees_never_panic() {
        const ROUNDS: usize = 20_000;
        const CODES: [u16; 20] = [
            OPT_IA_NA,
            OPT_IA_TA,
            OPT_IAADDR,
            OPT_PREFERENCE,
            OPT_ELAPSED_TIME,
            OPT_RELAY_MSG,
            OPT_AUTH,
            OPT_UNICAST,
            OPT_STATUS_CODE,
            OPT_RAPID_COMMIT,
            OPT_VENDOR_CLASS,
            OPT_VENDOR_OPTS,
            OPT_RECONF_MSG,
            OPT_RECONF_ACCEPT,
            OPT_DNS_SERVERS,
            OPT_DOMAIN_LIST,
            OPT_IA_PD,
            OPT_IAPREFIX,
            OPT_CLIENT_FQDN,
            56,
        ];
        let mut seed = 0x0dd0_5eed_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        fn options(next: &mut dyn FnMut() -> u64, depth: usize) -> Vec<u8> {
            let mut out = Vec::new();
            for _ in 0..(next() % 4) {
                let code = CODES[(next() % CODES.len() as u64) as usize];
                let mut data: Vec<u8> = (0..next() % 30).map(|_| next() as u8).collect();
                if depth < 12 && next() % 2 == 0 {
                    data.extend(options(next, depth + 1));
                }
                let len = match next() % 4 {
                    0 => (next() % 64) as u16, // often wrong
                    _ => data.len() as u16,
                };
                out.extend_from_slice(&code.to_be_bytes());
                out.extend_from_slice(&len.to_be_bytes());
                out.extend_from_slice(&data);
            }
            out
        }
        for _ in 0..ROUNDS {
            let msg_type = [1u8, 3, 7, 11, 12, 13][(next() % 6) as usize];
            let mut m = vec![msg_type, 0, 0, 1];
            if msg_type >= RELAY_FORW {
                m.extend_from_slice(&[0; 32]);
            }
            m.extend(options(&mut next, 0));
            let _ = parse(&m);
        }
    }

    #[test]
    fn every_prefix_is_safe() {
        let full = solicit();
        let all = parse(&full).expect("full");
        for n in 0..=full.len() {
            let h = parse(&full[..n]);
            if n < CLIENT_HEADER_LEN {
                assert!(h.is_none());
                continue;
            }
            let h = h.expect("header");
            assert_eq!(h.xid, all.xid);
            assert!(h.addresses.len() <= all.addresses.len());
        }
    }
}
