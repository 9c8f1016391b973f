//! TLS ClientHello: SNI, ALPN, versions, and the JA3 and JA4 fingerprints.
//!
//! The record and the ClientHello body are read with tls-parser. Extensions are walked here as
//! plain type/length/data triples, and only the ones a fingerprint needs are decoded with
//! tls-parser's per-extension parsers: its list parser stops at the first extension whose
//! contents it rejects, and a fingerprint needs every extension type in order.
//!
//! A ClientHello cut by the segment end (post-quantum key shares make them larger than one
//! segment) still yields its SNI and ALPN when those come before the cut; such a hint has
//! [`TlsHint::truncated`] set and no fingerprints, because a fingerprint of part of the
//! extensions would be a wrong fingerprint, not a partial one.
//!
//! # JA3
//!
//! `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, decimal values
//! joined by `-`, GREASE values (RFC 8701: both bytes equal and of the form `0x?a`) removed
//! from ciphers, extensions and curves, as tshark 4.0 computes `tls.handshake.ja3_full`.
//!
//! # JA4
//!
//! FoxIO's JA4 (technical_details/JA4.md): `t`, the version (highest of supported_versions,
//! else the ClientHello version), `d`/`i` for SNI present or not, two-digit cipher and
//! extension counts, the first and last characters of the first ALPN value, then the first 12
//! hex digits of the SHA-256 of the sorted cipher list, and of the sorted extension list
//! without SNI and ALPN followed by `_` and the signature algorithms in wire order.

use std::fmt::Write as _;

use md5::{Digest as _, Md5};
use sha2::Sha256;
use tls_parser::{
    TlsExtension, TlsMessage, TlsMessageHandshake, parse_tls_extension,
    parse_tls_handshake_client_hello, parse_tls_plaintext,
};

use super::text::display;
use super::{MAX_TLS_ALPN, TlsHint};

/// Record header: type, version, length.
const RECORD_HEADER_LEN: usize = 5;
/// Handshake header: type and 24-bit length.
const HANDSHAKE_HEADER_LEN: usize = 4;
/// Record content type of a handshake.
pub(crate) const CONTENT_HANDSHAKE: u8 = 0x16;
/// Record content type of ChangeCipherSpec.
pub(crate) const CONTENT_CHANGE_CIPHER_SPEC: u8 = 0x14;
/// A whole ChangeCipherSpec record: header and its one-byte body. TLS 1.3 clients in
/// middlebox-compatibility mode send it in front of the second ClientHello after a
/// HelloRetryRequest (RFC 8446 section D.4), in the same segment.
const CHANGE_CIPHER_SPEC_LEN: usize = RECORD_HEADER_LEN + 1;
/// Handshake type of a ClientHello.
const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// The highest record minor version accepted (TLS 1.3 records say 0x0301..0x0303; 0x0304 is
/// seen from some stacks).
const MAX_RECORD_MINOR: u8 = 4;
/// Extension header: type and length.
const EXTENSION_HEADER_LEN: usize = 4;
/// Extensions walked; the type space allows 65 536 but real hellos carry under 30.
const MAX_EXTENSIONS: usize = 128;
/// Values kept per list (ciphers, curves, signature algorithms, versions); a 16 KiB record
/// holds at most 8 000 ciphers, and fingerprints of that many would be noise.
const MAX_LIST: usize = 512;
/// JA4 counts are two digits.
const JA4_MAX_COUNT: usize = 99;
/// Hex digits of each JA4 hash.
const JA4_HASH_LEN: usize = 12;
/// JA4's placeholder for an empty list's hash.
const JA4_EMPTY_HASH: &str = "000000000000";

/// Extension types used.
const EXT_SERVER_NAME: u16 = 0x0000;
const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_ALPN: u16 = 0x0010;
const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;

/// True for the 16 GREASE values of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa).
#[must_use]
pub(crate) fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// True when `payload` starts like a TLS handshake record holding a ClientHello; the cheap
/// test [`super::hint`] runs before parsing.
#[must_use]
pub(crate) fn looks_like_client_hello(payload: &[u8]) -> bool {
    matches!(
        payload,
        [CONTENT_HANDSHAKE, 3, minor, _, _, HANDSHAKE_CLIENT_HELLO, ..] if *minor <= MAX_RECORD_MINOR
    )
}

/// What the ClientHello offers, GREASE removed except where noted.
#[derive(Debug, Default)]
struct Offer {
    legacy_version: u16,
    ciphers: Vec<u16>,
    /// Extension types in wire order.
    extensions: Vec<u16>,
    curves: Vec<u16>,
    /// Point formats are one byte each and have no GREASE values.
    point_formats: Vec<u8>,
    signature_algorithms: Vec<u16>,
    supported_versions: Vec<u16>,
    sni: Option<String>,
    /// ALPN values as raw bytes (JA4 looks at the bytes, not the display text).
    alpn: Vec<Vec<u8>>,
}

/// Parses a ClientHello at the start of a TCP payload, or right after a ChangeCipherSpec
/// record there.
pub(crate) fn parse(payload: &[u8]) -> Option<TlsHint> {
    let payload = match payload.split_at_checked(CHANGE_CIPHER_SPEC_LEN) {
        Some(([CONTENT_CHANGE_CIPHER_SPEC, 3, _, 0, 1, 1], rest)) => rest,
        _ => payload,
    };
    if !looks_like_client_hello(payload) {
        return None;
    }
    // The whole record first; if it is cut, the part of the handshake message present.
    let (offer, truncated) = match parse_tls_plaintext(payload) {
        Ok((_, record)) => {
            let hello = record.msg.into_iter().find_map(|m| match m {
                TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) => Some(ch),
                _ => None,
            })?;
            let mut offer = offer_from(hello.version.0, &hello.ciphers);
            let complete = walk_extensions(hello.ext.unwrap_or(&[]), &mut offer);
            (offer, !complete)
        }
        Err(_) => partial_offer(payload)?,
    };
    Some(hint_from(offer, truncated))
}

fn offer_from(version: u16, ciphers: &[tls_parser::TlsCipherSuiteID]) -> Offer {
    Offer {
        legacy_version: version,
        ciphers: ciphers
            .iter()
            .map(|c| c.0)
            .filter(|&c| !is_grease(c))
            .take(MAX_LIST)
            .collect(),
        ..Offer::default()
    }
}

/// The offer of a ClientHello whose record or handshake message is cut. Uses tls-parser on the
/// bytes present: its ClientHello parser accepts a body whose extension block is incomplete
/// (it returns no extensions and leaves the block unparsed), and the complete extensions in
/// that block are then walked here.
fn partial_offer(payload: &[u8]) -> Option<(Offer, bool)> {
    let (record_header, record_body) = payload.split_first_chunk::<RECORD_HEADER_LEN>()?;
    let record_len = usize::from(u16::from_be_bytes([record_header[3], record_header[4]]));
    // Bytes past the record belong to the next record, not to this handshake message.
    let record_body = record_body.get(..record_len).unwrap_or(record_body);
    let (header, body) = record_body.split_first_chunk::<HANDSHAKE_HEADER_LEN>()?;
    let hello_len =
        usize::from(header[1]) << 16 | usize::from(header[2]) << 8 | usize::from(header[3]);
    let body = body.get(..hello_len).unwrap_or(body);
    let (rest, hello) = parse_tls_handshake_client_hello(body).ok()?;
    let mut offer = offer_from(hello.version.0, &hello.ciphers);
    let block = match hello.ext {
        Some(ext) => ext,
        // The extension block's length is there but not all of its bytes.
        None => rest.get(2..).unwrap_or(&[]),
    };
    walk_extensions(block, &mut offer);
    Some((offer, true))
}

/// Walks the extension block, filling `offer`. Returns true when the block was walked to its
/// end (false when it is cut or malformed part way).
fn walk_extensions(mut block: &[u8], offer: &mut Offer) -> bool {
    for _ in 0..MAX_EXTENSIONS {
        if block.is_empty() {
            return true;
        }
        let Some((header, rest)) = block.split_first_chunk::<EXTENSION_HEADER_LEN>() else {
            return false;
        };
        let ext_type = u16::from_be_bytes([header[0], header[1]]);
        let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
        let Some(whole) = block.get(..EXTENSION_HEADER_LEN + len) else {
            return false;
        };
        let Some(next) = rest.get(len..) else {
            return false;
        };
        block = next;
        if is_grease(ext_type) {
            continue;
        }
        offer.extensions.push(ext_type);
        if matches!(
            ext_type,
            EXT_SERVER_NAME
                | EXT_SUPPORTED_GROUPS
                | EXT_EC_POINT_FORMATS
                | EXT_SIGNATURE_ALGORITHMS
                | EXT_ALPN
                | EXT_SUPPORTED_VERSIONS
        ) && let Ok((_, ext)) = parse_tls_extension(whole)
        {
            record_extension(ext, offer);
        }
    }
    block.is_empty()
}

fn record_extension(ext: TlsExtension<'_>, offer: &mut Offer) {
    let keep = |v: u16| !is_grease(v);
    match ext {
        TlsExtension::SNI(names) => {
            // Host name entries (type 0); tshark shows the first.
            if let Some((_, name)) = names.iter().find(|(t, _)| t.0 == 0) {
                offer.sni = Some(display(name));
            }
        }
        TlsExtension::EllipticCurves(groups) => {
            offer.curves = groups
                .iter()
                .map(|g| g.0)
                .filter(|&g| keep(g))
                .take(MAX_LIST)
                .collect();
        }
        TlsExtension::EcPointFormats(formats) => {
            offer.point_formats = formats.iter().copied().take(MAX_LIST).collect();
        }
        TlsExtension::SignatureAlgorithms(algs) => {
            offer.signature_algorithms = algs
                .iter()
                .copied()
                .filter(|&a| keep(a))
                .take(MAX_LIST)
                .collect();
        }
        TlsExtension::ALPN(protocols) => {
            offer.alpn = protocols
                .iter()
                .take(MAX_TLS_ALPN)
                .map(|p| p.to_vec())
                .collect();
        }
        TlsExtension::SupportedVersions(versions) => {
            offer.supported_versions = versions
                .iter()
                .map(|v| v.0)
                .filter(|&v| keep(v))
                .take(MAX_LIST)
                .collect();
        }
        _ => {}
    }
}

fn hint_from(offer: Offer, truncated: bool) -> TlsHint {
    let (ja3, ja3_hash, ja4) = if truncated {
        (String::new(), String::new(), String::new())
    } else {
        let ja3 = ja3_string(&offer);
        let hash = hex_digest(&Md5::digest(ja3.as_bytes()));
        let ja4 = ja4_string(&offer);
        (ja3, hash, ja4)
    };
    TlsHint {
        sni: offer.sni,
        alpn: offer.alpn.iter().map(|p| display(p)).collect(),
        legacy_version: offer.legacy_version,
        supported_versions: offer.supported_versions,
        ja3,
        ja3_hash,
        ja4,
        truncated,
    }
}

fn ja3_string(o: &Offer) -> String {
    let mut s = String::new();
    let _ = write!(s, "{},", o.legacy_version);
    push_dashed(&mut s, &o.ciphers);
    s.push(',');
    push_dashed(&mut s, &o.extensions);
    s.push(',');
    push_dashed(&mut s, &o.curves);
    s.push(',');
    push_dashed(&mut s, &o.point_formats);
    s
}

fn push_dashed<T: std::fmt::Display>(s: &mut String, values: &[T]) {
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        let _ = write!(s, "{v}");
    }
}

fn ja4_string(o: &Offer) -> String {
    let version = o
        .supported_versions
        .iter()
        .copied()
        .max()
        .unwrap_or(o.legacy_version);
    let sni = if o.extensions.contains(&EXT_SERVER_NAME) {
        'd'
    } else {
        'i'
    };
    let mut s = String::with_capacity(36);
    s.push('t');
    s.push_str(ja4_version(version));
    s.push(sni);
    let _ = write!(
        s,
        "{:02}{:02}",
        o.ciphers.len().min(JA4_MAX_COUNT),
        o.extensions.len().min(JA4_MAX_COUNT)
    );
    let (first, last) = ja4_alpn_chars(o.alpn.first().map(Vec::as_slice));
    s.push(first);
    s.push(last);
    s.push('_');

    let mut ciphers = o.ciphers.clone();
    ciphers.sort_unstable();
    s.push_str(&ja4_hash(&hex_list(&ciphers)));
    s.push('_');

    let mut exts: Vec<u16> = o
        .extensions
        .iter()
        .copied()
        .filter(|&e| e != EXT_SERVER_NAME && e != EXT_ALPN)
        .collect();
    exts.sort_unstable();
    let mut ext_text = hex_list(&exts);
    if !ext_text.is_empty() && !o.signature_algorithms.is_empty() {
        ext_text.push('_');
        ext_text.push_str(&hex_list(&o.signature_algorithms));
    }
    s.push_str(&ja4_hash(&ext_text));
    s
}

/// JA4's two-character version code.
fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

/// First and last characters of the first ALPN value; `00` when there is none or it is
/// empty; when either end byte is not ASCII alphanumeric, the first and last hex digits of the
/// value instead.
fn ja4_alpn_chars(first: Option<&[u8]>) -> (char, char) {
    let Some((&a, rest)) = first.and_then(<[u8]>::split_first) else {
        return ('0', '0');
    };
    let b = rest.last().copied().unwrap_or(a);
    if a.is_ascii_alphanumeric() && b.is_ascii_alphanumeric() {
        (char::from(a), char::from(b))
    } else {
        (hex_digit(a >> 4), hex_digit(b & 0x0f))
    }
}

fn hex_digit(nibble: u8) -> char {
    char::from_digit(u32::from(nibble & 0x0f), 16).unwrap_or('0')
}

/// `0a0b,1301,...`: four lower-case hex digits per value, comma-joined.
fn hex_list(values: &[u16]) -> String {
    let mut s = String::with_capacity(values.len() * 5);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
    s
}

/// First 12 hex digits of SHA-256, or the zero placeholder for an empty list.
fn ja4_hash(text: &str) -> String {
    if text.is_empty() {
        return JA4_EMPTY_HASH.to_owned();
    }
    let mut h = hex_digest(&Sha256::digest(text.as_bytes()));
    h.truncate(JA4_HASH_LEN);
    h
}

fn hex_digest(bytes: &[u8]) -> String {
    super::text::hex(bytes)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)] // tests panic by design
pub(crate) mod tests {
    use super::*;

    /// Builds a ClientHello record from its parts: legacy version 0x0303, 32-byte random,
    /// empty session id, the given ciphers, null compression, and the given extensions
    /// (type, data) in order (RFC 8446 section 4.1.2 layout).
    pub(crate) fn client_hello(ciphers: &[u16], extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x11; 32]);
        body.push(0);
        body.extend_from_slice(&((ciphers.len() * 2) as u16).to_be_bytes());
        for c in ciphers {
            body.extend_from_slice(&c.to_be_bytes());
        }
        body.extend_from_slice(&[1, 0]);
        let mut ext = Vec::new();
        for (t, d) in extensions {
            ext.extend_from_slice(&t.to_be_bytes());
            ext.extend_from_slice(&(d.len() as u16).to_be_bytes());
            ext.extend_from_slice(d);
        }
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(&body);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    fn sni(name: &str) -> Vec<u8> {
        let mut d = ((name.len() + 3) as u16).to_be_bytes().to_vec();
        d.push(0);
        d.extend_from_slice(&(name.len() as u16).to_be_bytes());
        d.extend_from_slice(name.as_bytes());
        d
    }

    fn u16_list(len_bytes: usize, values: &[u16]) -> Vec<u8> {
        let n = values.len() * 2;
        let mut d = if len_bytes == 1 {
            vec![n as u8]
        } else {
            (n as u16).to_be_bytes().to_vec()
        };
        for v in values {
            d.extend_from_slice(&v.to_be_bytes());
        }
        d
    }

    fn alpn(values: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for v in values {
            list.push(v.len() as u8);
            list.extend_from_slice(v);
        }
        let mut d = (list.len() as u16).to_be_bytes().to_vec();
        d.extend_from_slice(&list);
        d
    }

    /// The ClientHello of the example in FoxIO's JA4 specification
    /// (github.com/FoxIO-LLC/ja4, technical_details/JA4.md, sections "Cipher hash",
    /// "Extension hash" and "Raw Output"): the ciphers and extensions of its `JA4_ro` line in
    /// that order, ALPN h2, SNI present, supported_versions offering TLS 1.3, and the
    /// signature algorithms 0403,0804,0401,0503,0805,0501,0806,0601. GREASE values are added
    /// in front of the lists, as a browser sends them; JA4 must ignore them.
    pub(crate) fn ja4_spec_example() -> Vec<u8> {
        let ciphers = [
            0x2a2a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
            0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let sig = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let exts: Vec<(u16, Vec<u8>)> = vec![
            (0x3a3a, vec![]),
            (0x001b, vec![2, 0, 2]),
            (0x0000, sni("example.com")),
            (0x0033, vec![0, 0]),
            (0x0010, alpn(&[b"h2", b"http/1.1"])),
            (0x4469, vec![0, 3, 2, b'h', b'2']),
            (0x0017, vec![]),
            (0x002d, vec![1, 1]),
            (0x000d, u16_list(2, &sig)),
            (0x0005, vec![1, 0, 0, 0, 0]),
            (0x0023, vec![]),
            (0x0012, vec![]),
            (0x002b, u16_list(1, &[0x5a5a, 0x0304, 0x0303])),
            (0xff01, vec![0]),
            (0x000b, vec![1, 0]),
            (0x000a, u16_list(2, &[0x4a4a, 0x001d, 0x0017, 0x0018])),
            (0x0015, vec![0; 8]),
        ];
        client_hello(&ciphers, &exts)
    }

    #[test]
    fn ja4_matches_the_specification_example() {
        let h = parse(&ja4_spec_example()).expect("ClientHello");
        // Published value: JA4.md, "Example": JA4 = t13d1516h2_8daaf6152771_e5627efa2ab1.
        assert_eq!(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        assert_eq!(h.sni.as_deref(), Some("example.com"));
        assert_eq!(h.alpn, ["h2", "http/1.1"]);
        assert_eq!(h.supported_versions, [0x0304, 0x0303]);
        assert!(!h.truncated);
    }

    #[test]
    fn ja4_spec_intermediate_hashes() {
        // JA4.md gives the hash of the extension list without signature algorithms:
        // "0005,000a,...,ff01 = 6d807ffa2a79".
        assert_eq!(
            ja4_hash("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"),
            "6d807ffa2a79"
        );
        assert_eq!(ja4_hash(""), JA4_EMPTY_HASH);
    }

    #[test]
    fn ja4_alpn_rules_from_the_specification() {
        // JA4.md, "ALPN Extension Value" examples.
        assert_eq!(ja4_alpn_chars(Some(b"h2")), ('h', '2'));
        assert_eq!(ja4_alpn_chars(Some(b"http/1.1")), ('h', '1'));
        assert_eq!(ja4_alpn_chars(Some(b"h")), ('h', 'h'));
        assert_eq!(ja4_alpn_chars(Some(&[0xab])), ('a', 'b'));
        assert_eq!(ja4_alpn_chars(Some(&[0xab, 0xcd])), ('a', 'd'));
        assert_eq!(ja4_alpn_chars(Some(&[0x30, 0xab])), ('3', 'b'));
        assert_eq!(ja4_alpn_chars(Some(&[0x30, 0x31, 0xab, 0xcd])), ('3', 'd'));
        assert_eq!(ja4_alpn_chars(Some(&[0x30, 0xab, 0xcd, 0x31])), ('0', '1'));
        assert_eq!(ja4_alpn_chars(Some(b"")), ('0', '0'));
        assert_eq!(ja4_alpn_chars(None), ('0', '0'));
    }

    #[test]
    fn ja3_removes_grease_and_matches_md5() {
        let h = parse(&ja4_spec_example()).expect("ClientHello");
        assert_eq!(
            h.ja3,
            "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
             27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
        );
        // md5 of the string, independently: `printf %s "$ja3" | md5sum`.
        assert_eq!(h.ja3_hash.len(), 32);
        assert_eq!(h.ja3_hash, hex_digest(&Md5::digest(h.ja3.as_bytes())));
    }

    #[test]
    fn grease_values() {
        for v in [0x0a0a, 0x1a1a, 0x2a2a, 0xaaaa, 0xfafa] {
            assert!(is_grease(v));
        }
        for v in [0x0a1a, 0x1a0a, 0x1301, 0x0000, 0xabab] {
            assert!(!is_grease(v), "{v:04x}");
        }
    }

    #[test]
    fn no_extensions() {
        let h = parse(&client_hello(&[0x002f, 0x0035], &[])).expect("ClientHello");
        assert_eq!(h.ja3, "771,47-53,,,");
        assert_eq!(h.sni, None);
        // No extensions at all: JA4 counts 00 and its extension hash is the placeholder.
        assert!(h.ja4.starts_with("t12i0200"), "{}", h.ja4);
        assert!(h.ja4.ends_with("_000000000000"), "{}", h.ja4);
    }

    #[test]
    fn every_prefix_is_safe_and_sni_survives_a_late_cut() {
        let full = ja4_spec_example();
        let whole = parse(&full).expect("full");
        let sni_end = {
            // End of the SNI extension: find the name bytes.
            let at = full
                .windows(11)
                .position(|w| w == b"example.com")
                .expect("sni bytes");
            at + 11
        };
        for n in 0..full.len() {
            let h = parse(&full[..n]);
            if let Some(h) = &h {
                assert!(h.truncated, "prefix {n} is cut");
                assert!(h.ja3.is_empty() && h.ja4.is_empty());
                assert_eq!(h.legacy_version, 0x0303);
            }
            if n >= sni_end {
                let h = h.expect("cut after the SNI");
                assert_eq!(h.sni, whole.sni, "prefix {n}");
            }
        }
    }

    #[test]
    fn client_hello_after_change_cipher_spec() {
        let mut payload = vec![0x14, 0x03, 0x03, 0x00, 0x01, 0x01];
        payload.extend_from_slice(&ja4_spec_example());
        let h = parse(&payload).expect("second ClientHello");
        assert_eq!(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
        // A CCS record alone, or one with a longer body, is not followed by a hello here.
        assert!(parse(&payload[..6]).is_none());
        assert!(parse(&[0x14, 0x03, 0x03, 0x00, 0x02, 0x01, 0x01]).is_none());
    }

    #[test]
    fn not_a_client_hello() {
        assert!(parse(b"\x16\x03\x03\x00\x10\x02").is_none()); // ServerHello
        assert!(parse(b"\x17\x03\x03\x00\x10\x01").is_none()); // application data
        assert!(parse(b"\x16\x03\x07\x00\x10\x01").is_none()); // bad minor
        assert!(parse(b"\x16\x03").is_none());
    }
}
