//! DNS and mDNS messages, read with hickory-proto's wire decoders.
//!
//! hickory's `Message::from_vec` is all or nothing: one record it cannot decode (an unknown
//! EDNS option, a malformed SVCB) throws away the questions too. For a hint the questions are
//! what matters, so this module walks the message itself with hickory's pieces (`Header`,
//! `Query`, `Name`, `RData`) and keeps whatever decoded before the first failure.
//!
//! # Guards
//!
//! hickory follows a compression pointer by recursing, and only requires each pointer to point
//! before the name it is in. A message built as a chain of pointers, each pointing two bytes
//! back, therefore recurses once per two bytes: some 32 000 frames for a 64 KiB TCP message,
//! enough to overflow a thread's stack (an abort, not a panic), and quadratic work if many
//! names walk the same chain. So before hickory reads any name, [`name_wire_len`] walks it
//! without recursion and refuses names with more than [`MAX_NAME_POINTERS`] pointers. The
//! number of questions and records read is capped as well ([`MAX_DNS_QUESTIONS`],
//! [`MAX_RECORDS_SCANNED`]), and messages are read only up to 64 KiB so every offset fits the
//! `u16` hickory's decoder uses.

use std::fmt::Write as _;

use hickory_proto::op::{Header, MessageType, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable, BinDecoder, Restrict};

use super::text::push_display;
use super::{DnsHint, DnsQuestion, DnsRecord, MAX_DNS_QUESTIONS, MAX_DNS_RECORDS};

/// The fixed DNS header.
const HEADER_LEN: usize = 12;
/// DNS over TCP prefixes each message with its length.
const TCP_LENGTH_PREFIX: usize = 2;
/// Messages are read up to this length: hickory's decoder addresses bytes with `u16`.
const MAX_MESSAGE_LEN: usize = u16::MAX as usize;
/// Records looked at (kept or skipped, e.g. OPT) before giving up on the rest.
pub(crate) const MAX_RECORDS_SCANNED: usize = 2 * MAX_DNS_RECORDS;
/// Compression pointers followed in one name; real names use one or two.
pub(crate) const MAX_NAME_POINTERS: usize = 16;
/// Labels in one name: 255 bytes of name hold at most 127 one-byte labels.
const MAX_NAME_LABELS: usize = 128;
/// The two top bits of a length byte that mark a compression pointer.
const POINTER_MARK: u8 = 0xc0;
/// Record types whose data is rendered as text.
const TYPE_A: u16 = 1;
const TYPE_NS: u16 = 2;
const TYPE_CNAME: u16 = 5;
const TYPE_PTR: u16 = 12;
const TYPE_TXT: u16 = 16;
const TYPE_AAAA: u16 = 28;
const TYPE_SRV: u16 = 33;
/// EDNS pseudo-record: not a resource record, not kept.
const TYPE_OPT: u16 = 41;
/// Bytes of SRV data before the target name (priority, weight, port).
const SRV_FIXED_LEN: usize = 6;

/// A DNS message carried directly in a UDP payload.
pub(crate) fn parse_udp(payload: &[u8], mdns: bool) -> Option<DnsHint> {
    parse_message(payload, mdns)
}

/// The first DNS message of a TCP segment, after its two-byte length prefix. A message cut by
/// the segment end is read as far as it goes.
pub(crate) fn parse_tcp(payload: &[u8]) -> Option<DnsHint> {
    let (prefix, rest) = payload.split_first_chunk::<TCP_LENGTH_PREFIX>()?;
    let len = usize::from(u16::from_be_bytes(*prefix));
    if len < HEADER_LEN {
        // Not the start of a message: a continuation segment or something else on port 53.
        return None;
    }
    parse_message(rest.get(..len).unwrap_or(rest), false)
}

fn parse_message(msg: &[u8], mdns: bool) -> Option<DnsHint> {
    let msg = msg.get(..MAX_MESSAGE_LEN).unwrap_or(msg);
    let mut dec = BinDecoder::new(msg);
    let header = Header::read(&mut dec).ok()?;
    let mut hint = DnsHint {
        mdns,
        id: header.id(),
        response: header.message_type() == MessageType::Response,
        opcode: u8::from(header.op_code()),
        rcode: header.response_code().low(),
        questions: Vec::new(),
        answers: Vec::new(),
    };

    let question_count = usize::from(header.query_count());
    hint.questions
        .reserve_exact(question_count.min(MAX_DNS_QUESTIONS));
    for _ in 0..question_count {
        if hint.questions.len() >= MAX_DNS_QUESTIONS || name_wire_len(msg, dec.index()).is_none() {
            // The records lie beyond questions we will not read.
            return Some(hint);
        }
        let Ok(query) = Query::read(&mut dec) else {
            return Some(hint);
        };
        hint.questions.push(DnsQuestion {
            name: name_text(query.name()),
            qtype: u16::from(query.query_type()),
        });
    }

    let record_count = usize::from(header.answer_count())
        + usize::from(header.name_server_count())
        + usize::from(header.additional_count());
    hint.answers
        .reserve_exact(record_count.min(MAX_DNS_RECORDS));
    for _ in 0..record_count.min(MAX_RECORDS_SCANNED) {
        if hint.answers.len() >= MAX_DNS_RECORDS {
            break;
        }
        match read_record(msg, &mut dec) {
            Some(Some(record)) => hint.answers.push(record),
            Some(None) => {}
            None => break,
        }
    }
    Some(hint)
}

/// Reads one resource record. `None` when the message ends or is malformed here;
/// `Some(None)` for an OPT pseudo-record, which is skipped.
fn read_record(msg: &[u8], dec: &mut BinDecoder<'_>) -> Option<Option<DnsRecord>> {
    name_wire_len(msg, dec.index())?;
    let name = Name::read(dec).ok()?;
    let rtype = dec.read_u16().ok()?.unverified(/* any type is valid */);
    let _class = dec.read_u16().ok()?;
    let ttl = dec.read_u32().ok()?.unverified(/* any TTL is valid */);
    let rdlen = dec.read_u16().ok()?.unverified(/* checked by read_slice below */);
    let rdata_start = dec.index();
    dec.read_slice(usize::from(rdlen)).ok()?;
    if rtype == TYPE_OPT {
        return Some(None);
    }
    Some(Some(DnsRecord {
        name: name_text(&name),
        rtype,
        ttl,
        data: rdata_text(msg, rdata_start, rtype, rdlen),
    }))
}

/// The record data as text for the types [`DnsRecord::data`] documents; empty otherwise or
/// when the data does not decode.
fn rdata_text(msg: &[u8], start: usize, rtype: u16, rdlen: u16) -> String {
    let name_at = match rtype {
        TYPE_A | TYPE_AAAA | TYPE_TXT => None,
        TYPE_NS | TYPE_CNAME | TYPE_PTR => Some(start),
        TYPE_SRV => Some(start + SRV_FIXED_LEN),
        _ => return String::new(),
    };
    if let Some(at) = name_at
        && name_wire_len(msg, at).is_none()
    {
        return String::new();
    }
    let Ok(start) = u16::try_from(start) else {
        return String::new();
    };
    if usize::from(start) > msg.len() {
        return String::new();
    }
    // `clone(index)` slices the message at `index`, checked just above.
    let mut rdec = BinDecoder::new(msg).clone(start);
    let Ok(rdata) = RData::read(&mut rdec, RecordType::from(rtype), Restrict::new(rdlen)) else {
        return String::new();
    };
    let mut out = String::new();
    match rdata {
        RData::A(a) => {
            let _ = write!(out, "{}", a.0);
        }
        RData::AAAA(a) => {
            let _ = write!(out, "{}", a.0);
        }
        RData::NS(n) => out = name_text(&n.0),
        RData::CNAME(n) => out = name_text(&n.0),
        RData::PTR(n) => out = name_text(&n.0),
        RData::SRV(s) => {
            let _ = write!(out, "{} {} {} ", s.priority(), s.weight(), s.port());
            out.push_str(&name_text(s.target()));
        }
        RData::TXT(t) => {
            for (i, s) in t.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                push_display(&mut out, s);
            }
        }
        _ => {}
    }
    out
}

/// A name as tshark prints it: labels joined by dots, no trailing dot, bytes escaped as in
/// [`super::text`], and `<Root>` for the root name.
pub(crate) fn name_text(name: &Name) -> String {
    if name.num_labels() == 0 {
        return "<Root>".to_owned();
    }
    let mut out = String::with_capacity(name.len());
    for (i, label) in name.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_display(&mut out, label);
    }
    out
}

/// Walks the name at `start` without following pointers recursively, and returns the bytes it
/// occupies at `start` (up to and including its root label or first pointer). `None` when the
/// name runs off the message, uses a reserved label type, points forward, or has more than
/// [`MAX_NAME_POINTERS`] pointers or [`MAX_NAME_LABELS`] labels: hickory then either fails
/// on it too or would recurse too deep, so it is not handed to hickory.
pub(crate) fn name_wire_len(msg: &[u8], start: usize) -> Option<usize> {
    let mut pos = start;
    let mut segment_start = start;
    let mut wire_len = None;
    let mut pointers = 0;
    let mut labels = 0;
    loop {
        let len = *msg.get(pos)?;
        if len == 0 {
            // Without a pointer the name ends here; `pos` never went below `start`.
            return Some(wire_len.unwrap_or_else(|| pos + 1 - start));
        }
        match len & POINTER_MARK {
            0 => {
                labels += 1;
                if labels > MAX_NAME_LABELS {
                    return None;
                }
                pos += 1 + usize::from(len);
            }
            POINTER_MARK => {
                pointers += 1;
                if pointers > MAX_NAME_POINTERS {
                    return None;
                }
                let low = *msg.get(pos + 1)?;
                let target = usize::from(len & !POINTER_MARK) << 8 | usize::from(low);
                // hickory requires each pointer to point before the name part it ends.
                if target >= segment_start {
                    return None;
                }
                if wire_len.is_none() {
                    wire_len = Some(pos + 2 - start);
                }
                pos = target;
                segment_start = target;
            }
            _ => return None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
pub(crate) mod tests {
    use super::*;

    /// A query for `www.example.com` A, id 0x1234, RD set: RFC 1035 section 4.1 layout.
    pub(crate) fn query() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00");
        m.extend_from_slice(&[0, 1, 0, 1]);
        m
    }

    /// The response to [`query`]: a CNAME to `web.example.com` (compressed) and its A record,
    /// plus an OPT record in the additional section.
    pub(crate) fn response() -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1];
        m.extend_from_slice(b"\x03www\x07example\x03com\x00");
        m.extend_from_slice(&[0, 1, 0, 1]);
        // www.example.com CNAME web.example.com, TTL 300: owner is a pointer to offset 12.
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 6]);
        m.extend_from_slice(b"\x03web\xc0\x10");
        // web.example.com A 192.0.2.7, TTL 60: owner points at the CNAME target (offset 45).
        m.extend_from_slice(&[0xc0, 45, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7]);
        // OPT: root owner, type 41, class = UDP size 1232.
        m.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
        m
    }

    #[test]
    fn query_fields() {
        let h = parse_udp(&query(), false).expect("valid query");
        assert_eq!(h.id, 0x1234);
        assert!(!h.response);
        assert_eq!(h.opcode, 0);
        assert_eq!(h.rcode, 0);
        assert_eq!(h.questions.len(), 1);
        assert_eq!(h.questions[0].name, "www.example.com");
        assert_eq!(h.questions[0].qtype, 1);
        assert!(h.answers.is_empty());
    }

    #[test]
    fn response_records_follow_pointers_and_skip_opt() {
        let h = parse_udp(&response(), false).expect("valid response");
        assert!(h.response);
        assert_eq!(h.answers.len(), 2, "{:?}", h.answers);
        assert_eq!(h.answers[0].name, "www.example.com");
        assert_eq!(h.answers[0].rtype, 5);
        assert_eq!(h.answers[0].ttl, 300);
        assert_eq!(h.answers[0].data, "web.example.com");
        assert_eq!(h.answers[1].name, "web.example.com");
        assert_eq!(h.answers[1].data, "192.0.2.7");
        assert_eq!(h.answers[1].ttl, 60);
    }

    #[test]
    fn srv_txt_and_aaaa_render() {
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 3, 0, 0, 0, 0];
        // _http._tcp.local SRV 0 5 8080 host.local
        m.extend_from_slice(b"\x05_http\x04_tcp\x05local\x00");
        m.extend_from_slice(&[0, 33, 0x80, 1, 0, 0, 0, 120, 0, 13, 0, 0, 0, 5, 0x1f, 0x90]);
        m.extend_from_slice(b"\x04host\xc0\x17");
        // host.local (the SRV target, offset 46) TXT "a=1" "b"
        m.extend_from_slice(&[0xc0, 46, 0, 16, 0, 1, 0, 0, 0, 1, 0, 6]);
        m.extend_from_slice(b"\x03a=1\x01b");
        // host.local AAAA 2001:db8::1
        m.extend_from_slice(&[0xc0, 46, 0, 28, 0, 1, 0, 0, 0, 1, 0, 16]);
        m.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let h = parse_udp(&m, true).expect("valid mDNS response");
        assert!(h.mdns);
        let data: Vec<&str> = h.answers.iter().map(|r| r.data.as_str()).collect();
        assert_eq!(data, ["0 5 8080 host.local", "a=1 b", "2001:db8::1"]);
        assert_eq!(h.answers[1].name, "host.local");
    }

    #[test]
    fn tcp_length_prefix() {
        let q = query();
        let mut framed = (q.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&q);
        let h = parse_tcp(&framed).expect("framed query");
        assert_eq!(h.questions[0].name, "www.example.com");
        // A length below the header size is not a message start.
        assert!(parse_tcp(&[0, 5, 1, 2, 3, 4, 5]).is_none());
    }

    #[test]
    fn root_and_escaped_names() {
        let mut m = vec![0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0, 0, 2, 0, 1]);
        m.extend_from_slice(b"\x05a\x1ab c\x01d\x00\x00\x01\x00\x01");
        let h = parse_udp(&m, false).expect("valid");
        assert_eq!(h.questions[0].name, "<Root>");
        assert_eq!(h.questions[1].name, "a\\032b c.d");
    }

    #[test]
    fn every_prefix_is_safe_and_keeps_what_is_complete() {
        let full = response();
        for n in 0..=full.len() {
            let h = parse_udp(&full[..n], false);
            if n < HEADER_LEN {
                assert!(h.is_none(), "prefix {n}");
                continue;
            }
            let h = h.expect("header present");
            // Whatever was kept is a prefix of the full decode.
            let all = parse_udp(&full, false).expect("full");
            assert!(h.questions.len() <= all.questions.len());
            assert_eq!(h.questions[..], all.questions[..h.questions.len()]);
            assert_eq!(h.answers[..], all.answers[..h.answers.len()], "prefix {n}");
        }
    }

    #[test]
    fn pointer_chain_is_refused_without_deep_recursion() {
        // One question (the root name at offset 12), then two records. The first record's
        // data is a chain of 29 000 pointers, each pointing at the one before it and the first
        // at the root name; the second record's owner points at the last link. Handed to
        // hickory, that name would recurse 29 000 times.
        const LINKS: u16 = 29_000;
        let mut m = vec![0, 0, 0x84, 0, 0, 1, 0, 2, 0, 0, 0, 0];
        m.extend_from_slice(&[0, 0, 1, 0, 1]);
        let rdlen = 2 * LINKS;
        m.extend_from_slice(&[0, 0x03, 0xe7, 0, 1, 0, 0, 0, 0]);
        m.extend_from_slice(&rdlen.to_be_bytes());
        let chain_start = m.len() as u16;
        for i in 0..LINKS {
            let target = if i == 0 {
                12
            } else {
                chain_start + 2 * (i - 1)
            };
            m.extend_from_slice(&(0xc000 | target).to_be_bytes());
        }
        let last = chain_start + 2 * (LINKS - 1);
        assert!(name_wire_len(&m, usize::from(last)).is_none());
        m.extend_from_slice(&(0xc000 | last).to_be_bytes());
        m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 0, 0, 1]);
        let h = parse_udp(&m, false).expect("header");
        assert_eq!(h.questions.len(), 1);
        assert_eq!(h.answers.len(), 1, "the chained record is dropped");
        assert_eq!(h.answers[0].rtype, 999);
    }

    #[test]
    fn pointer_loops_and_forward_pointers_are_refused() {
        let mut m = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]); // points at itself
        assert!(parse_udp(&m, false).expect("header").questions.is_empty());
        let mut m = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(&[0xc0, 14, 0, 0, 1, 0, 1]); // points forward
        assert!(parse_udp(&m, false).expect("header").questions.is_empty());
    }

    /// Random messages assembled from name pieces (labels, pointers anywhere, root bytes)
    /// and record fields: hickory must never be handed a name it would recurse deeply on, and
    /// nothing may panic.
    #[test]
    fn random_name_soup_never_panics() {
        const ROUNDS: usize = 20_000;
        const MAX_PIECES: u64 = 40;
        let mut seed = 0x00d5_5eed_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..ROUNDS {
            let mut m = vec![
                0,
                0,
                0x84,
                0,
                0,
                (next() % 4) as u8,
                0,
                (next() % 8) as u8,
                0,
                0,
                0,
                1,
            ];
            for _ in 0..next() % MAX_PIECES {
                match next() % 5 {
                    0 => {
                        let len = next() % 8;
                        m.push(len as u8);
                        m.extend((0..len).map(|_| b'a' + (next() % 26) as u8));
                    }
                    1 => {
                        let target = next() % (m.len() as u64 + 8);
                        m.extend_from_slice(&(0xc000 | target as u16).to_be_bytes());
                    }
                    2 => m.push(0),
                    3 => m.extend_from_slice(&[
                        0,
                        [1u8, 5, 12, 16, 28, 33, 41][(next() % 7) as usize],
                    ]),
                    _ => m.extend_from_slice(&[0, 1, 0, 0, 0, 9, 0, (next() % 12) as u8]),
                }
            }
            let _ = parse_udp(&m, next() % 2 == 0);
        }
    }

    #[test]
    fn question_and_record_caps() {
        let mut m = vec![0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0];
        for _ in 0..100 {
            m.extend_from_slice(b"\x01a\x00\x00\x01\x00\x01");
        }
        let h = parse_udp(&m, false).expect("header");
        assert_eq!(h.questions.len(), MAX_DNS_QUESTIONS);

        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0];
        for _ in 0..100 {
            m.extend_from_slice(&[0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1]);
        }
        let h = parse_udp(&m, false).expect("header");
        assert_eq!(h.answers.len(), MAX_DNS_RECORDS);
    }
}
