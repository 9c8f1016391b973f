//! DHCPv4 (BOOTP) messages. Options are read with dhcproto's borrowed, lazily decoded
//! `v4::borrowed::Message`.
//!
//! The borrowed message iterates options as raw code/data pairs (joining RFC 3396 split
//! options), so a hint costs no allocation beyond the fields it keeps, and one malformed
//! option does not lose the others, which the owned `v4::Message::decode` would (it fails the
//! whole message).
//!
//! The fixed BOOTP fields the hint keeps (op, xid, ciaddr, yiaddr, chaddr) are read in place
//! here, so a message cut by the snap length before its options (captures with a 96-byte snap
//! length are common) still yields the client's MAC; dhcproto's message needs all 240 bytes.
//!
//! # Guards
//!
//! `borrowed::Message::chaddr()` slices `hlen` bytes without checking them against the buffer,
//! so it is not used. Option 81 is decoded with dhcproto only when it has its three fixed bytes
//! (its decoder subtracts 3 from the length unchecked).

use std::net::Ipv4Addr;

use dhcproto::v4::borrowed::Message;
use dhcproto::v4::{DhcpOption as OwnedOption, OptionCode};

use super::text::{display, display_stringz};
use super::{DhcpHint, MAX_DHCP_PARAMS};
use crate::MacAddr;

/// Offsets in the BOOTP header (RFC 2131 section 2).
const XID_OFFSET: usize = 4;
const CIADDR_OFFSET: usize = 12;
const YIADDR_OFFSET: usize = 16;
const CHADDR_OFFSET: usize = 28;
/// Bytes up to the end of an Ethernet `chaddr`: the least a hint needs.
const MIN_LEN: usize = CHADDR_OFFSET + 6;
/// BOOTP op codes.
const BOOTREQUEST: u8 = 1;
const BOOTREPLY: u8 = 2;
/// Options looked at before giving up (a 64 KiB payload holds at most ~32 000 two-byte options).
const MAX_OPTIONS: usize = 256;
/// Option 81's flags, RCODE1 and RCODE2 bytes before the name.
const FQDN_FIXED_LEN: usize = 3;
/// Option 81 flag E: the name is in DNS wire format, not ASCII.
const FQDN_FLAG_E: u8 = 0x04;

/// Option codes kept.
const OPT_HOSTNAME: u8 = 12;
const OPT_REQUESTED_IP: u8 = 50;
const OPT_MESSAGE_TYPE: u8 = 53;
const OPT_PARAM_REQUEST: u8 = 55;
const OPT_VENDOR_CLASS: u8 = 60;
const OPT_CLIENT_FQDN: u8 = 81;

/// Reads a DHCPv4 message from a UDP 67/68 payload; `None` when it is cut before the end of the
/// client MAC or its op is neither request nor reply. Options are read when the whole fixed
/// header and magic cookie (240 bytes) are present.
pub(crate) fn parse(payload: &[u8]) -> Option<DhcpHint> {
    if payload.len() < MIN_LEN {
        return None;
    }
    let op = *payload.first()?;
    if op != BOOTREQUEST && op != BOOTREPLY {
        return None;
    }
    let u32_at = |at: usize| -> Option<[u8; 4]> { payload.get(at..)?.first_chunk::<4>().copied() };
    let mut hint = DhcpHint {
        op,
        message_type: None,
        xid: u32::from_be_bytes(u32_at(XID_OFFSET)?),
        client_mac: MacAddr::from_slice(payload.get(CHADDR_OFFSET..)?)?,
        client_ip: Ipv4Addr::from(u32_at(CIADDR_OFFSET)?),
        your_ip: Ipv4Addr::from(u32_at(YIADDR_OFFSET)?),
        hostname: None,
        vendor_class: None,
        param_request_list: Vec::new(),
        requested_ip: None,
        client_fqdn: None,
    };
    let Ok(msg) = Message::new(payload) else {
        return Some(hint);
    };
    for opt in msg.opts().take(MAX_OPTIONS) {
        let data = opt.data();
        match u8::from(opt.code()) {
            OPT_MESSAGE_TYPE => hint.message_type = data.first().copied(),
            OPT_HOSTNAME => hint.hostname = Some(display_stringz(data)),
            OPT_VENDOR_CLASS => hint.vendor_class = Some(display_stringz(data)),
            OPT_PARAM_REQUEST => {
                hint.param_request_list = data.get(..MAX_DHCP_PARAMS).unwrap_or(data).to_vec();
            }
            OPT_REQUESTED_IP => {
                hint.requested_ip = data.first_chunk::<4>().map(|b| Ipv4Addr::from(*b));
            }
            OPT_CLIENT_FQDN => hint.client_fqdn = client_fqdn(opt),
            _ => {}
        }
    }
    Some(hint)
}

/// The name in option 81 (RFC 4702): DNS wire format when flag E is set, else ASCII.
/// Without a trailing dot, as tshark prints `dhcp.fqdn.name`.
fn client_fqdn(opt: dhcproto::v4::borrowed::DhcpOption<'_>) -> Option<String> {
    let data = opt.data();
    let flags = *data.first()?;
    let name = data.get(FQDN_FIXED_LEN..)?;
    if flags & FQDN_FLAG_E == 0 {
        let text = display_stringz(name);
        return Some(text.strip_suffix('.').map(str::to_owned).unwrap_or(text));
    }
    if name.is_empty() {
        return Some(String::new());
    }
    // A partial name (RFC 4702 section 2.3.1) has no root label, which hickory refuses; its
    // labels are shown as they are.
    let partial = wire_labels_text(name);
    debug_assert_eq!(opt.code(), OptionCode::ClientFQDN);
    match opt.into_option() {
        Ok(OwnedOption::ClientFQDN(fqdn)) => Some(super::dns::name_text(fqdn.domain())),
        _ => Some(partial),
    }
}

/// Labels of an uncompressed wire-format name that may lack its root label.
fn wire_labels_text(mut wire: &[u8]) -> String {
    let mut out = String::new();
    while let Some((&len, rest)) = wire.split_first() {
        if len == 0 {
            break;
        }
        let Some((label, rest)) = rest.split_at_checked(usize::from(len)) else {
            break;
        };
        if !out.is_empty() {
            out.push('.');
        }
        out.push_str(&display(label));
        wire = rest;
    }
    out
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
pub(crate) mod tests {
    use super::*;

    /// A DISCOVER as RFC 2131 lays it out: op 1, htype 1, hlen 6, xid, chaddr, the magic
    /// cookie, then options 53, 12, 60, 55, 50, 81 and the end option.
    pub(crate) fn discover() -> Vec<u8> {
        let mut m = vec![1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0x80, 0];
        m.extend_from_slice(&[0; 16]); // ciaddr, yiaddr, siaddr, giaddr
        m.extend_from_slice(&[0x00, 0x1b, 0x21, 0x3a, 0x4f, 0x5c]);
        m.extend_from_slice(&[0; 10 + 64 + 128]);
        m.extend_from_slice(&[99, 130, 83, 99]);
        m.extend_from_slice(&[53, 1, 1]);
        m.extend_from_slice(b"\x0c\x07laptop1");
        m.extend_from_slice(b"\x3c\x08MSFT 5.0");
        m.extend_from_slice(&[55, 4, 1, 3, 6, 15]);
        m.extend_from_slice(&[50, 4, 192, 168, 1, 20]);
        m.extend_from_slice(b"\x51\x0c\x04\x00\x00\x07laptop1\x00");
        m.push(255);
        m
    }

    #[test]
    fn discover_fields() {
        let h = parse(&discover()).expect("valid DISCOVER");
        assert_eq!(h.op, 1);
        assert_eq!(h.message_type, Some(1));
        assert_eq!(h.xid, 0xdead_beef);
        assert_eq!(h.client_mac.to_string(), "00:1b:21:3a:4f:5c");
        assert_eq!(h.client_ip, Ipv4Addr::UNSPECIFIED);
        assert_eq!(h.hostname.as_deref(), Some("laptop1"));
        assert_eq!(h.vendor_class.as_deref(), Some("MSFT 5.0"));
        assert_eq!(h.param_request_list, [1, 3, 6, 15]);
        assert_eq!(h.fingerprint(), "1,3,6,15");
        assert_eq!(h.requested_ip, Some(Ipv4Addr::new(192, 168, 1, 20)));
        assert_eq!(h.client_fqdn.as_deref(), Some("laptop1"));
    }

    #[test]
    fn ascii_and_partial_fqdn() {
        let mut m = discover();
        let at = m.len() - 15; // start of option 81
        m.truncate(at);
        m.extend_from_slice(b"\x51\x0d\x00\x00\x00host.lan.\x00\xff");
        let h = parse(&m).expect("valid");
        assert_eq!(h.client_fqdn.as_deref(), Some("host.lan"));

        let mut m = discover();
        m.truncate(at);
        m.extend_from_slice(b"\x51\x08\x04\x00\x00\x04host\xff");
        let h = parse(&m).expect("valid");
        assert_eq!(h.client_fqdn.as_deref(), Some("host"));
    }

    #[test]
    fn short_fqdn_option_does_not_panic() {
        let mut m = discover();
        let at = m.len() - 15;
        m.truncate(at);
        m.extend_from_slice(&[81, 1, 4, 255]);
        let h = parse(&m).expect("valid");
        assert_eq!(h.client_fqdn, None);
    }

    #[test]
    fn large_hlen_does_not_panic() {
        let mut m = discover();
        m[2] = 255;
        m.truncate(240);
        let h = parse(&m).expect("fixed header present");
        assert_eq!(h.client_mac.to_string(), "00:1b:21:3a:4f:5c");
    }

    #[test]
    fn every_prefix_is_safe() {
        let full = discover();
        for n in 0..=full.len() {
            let h = parse(&full[..n]);
            if n < MIN_LEN {
                assert!(h.is_none(), "prefix {n}");
                continue;
            }
            let h = h.expect("through chaddr");
            assert_eq!(h.xid, 0xdead_beef);
            assert_eq!(h.client_mac.to_string(), "00:1b:21:3a:4f:5c");
            if n < 240 {
                assert_eq!(h.message_type, None, "no options before the cookie");
            } else if n > 242 {
                assert_eq!(h.message_type, Some(1), "prefix {n}");
            }
        }
    }

    #[test]
    fn bad_op_is_not_dhcp() {
        let mut m = discover();
        m[0] = 7;
        assert!(parse(&m).is_none());
    }
}
