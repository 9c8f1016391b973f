//! How a flow's full record is kept in `flow_records.record`.
//!
//! Ingest writes format 2 ([`super::flowbin`]): the record's JSON value in a compact binary
//! form, written straight from the record. Stores written before it hold format 1 (below)
//! or plain JSON text, and both still read; format 1 is also the fallback for a record
//! format 2 cannot hold (none of today's flows).
//!
//! # Format 1
//! The record's JSON, LZ4-compressed against a fixed dictionary of the keys flow records
//! have.
//!
//! A flow record's JSON is about 1.1 KB, most of it the same ~80 key names in the same order
//! in every record, so a dictionary holding them lets LZ4 encode each record as references
//! into it: about a third of the size, at a cost far below what the smaller database saves in
//! B-tree pages, WAL frames and checkpoints. LZ4 (not zstd or gzip) because the point is
//! speed: it compresses and decompresses at GB/s.
//!
//! Format of a stored value: TEXT is plain JSON (stores written before compression); a BLOB
//! starts with a format byte, [`FORMAT_LZ4_DICT_V1`], then LZ4's block format with the
//! uncompressed length prepended, compressed with [`DICT_V1`]. The dictionary of a format
//! byte never changes: a different dictionary takes a new format byte.

use crate::error::IndexError;

use serde_json::{Map, Value};

use super::flowbin::{self, FORMAT_BIN_V2};

/// Format byte: LZ4 block with prepended size, dictionary [`DICT_V1`].
pub const FORMAT_LZ4_DICT_V1: u8 = 1;

/// The dictionary of [`FORMAT_LZ4_DICT_V1`]: flow records' keys in the order trident writes
/// them, with typical values (a TCP flow with its SYN fingerprints and HTTP/TLS names, then
/// the keys of UDP, ICMP, DNS, DHCP, SSDP and mDNS flows). LZ4 finds matches nearest the
/// end best, so the most common keys come last.
pub const DICT_V1: &str = concat!(
    r#""dns_queries":[{"name":"","qtype":"A"}],"dhcp":[{"client_mac":"","hostname":"","vendor_class":"","requested_ip":"","assigned_ip":"","fingerprint":""}],"#,
    r#""ssdp_server":"","ssdp_location":"http://","mdns_names":["._tcp.local"],"icmp_id":0,"tunnel":"","vlan":1,"vlan_inner":1,"#,
    r#""tls_sni":"","tls_ja3":"","tls_ja4":"t13d","http_host":"","http_user_agent":"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/","#,
    r#"{"id":"0000000000000000","first_ts":"2020-01-01T00:00:00.000000000Z","last_ts":"2020-01-01T00:00:00.000000000Z","duration_ms":0.0,"end_reason":"idle","conn_state":"SF","ip_version":4,"protocol":17,"proto":"udp","#,
    r#""orig_ip":"192.168.1.1","orig_port":53,"resp_ip":"10.0.0.1","resp_port":53,"orig_mac":"00:00:00:00:00:00","resp_mac":"ff:ff:ff:ff:ff:ff","#,
    r#"{"id":"0000000000000000","first_ts":"2020-01-01T00:00:00.000000000Z","last_ts":"2020-01-01T00:00:00.000000000Z","duration_ms":0.0,"end_reason":"fin","conn_state":"SF","ip_version":4,"protocol":6,"proto":"tcp","#,
    r#""orig_ip":"192.168.0.1","orig_port":49152,"resp_ip":"10.0.0.1","resp_port":443,"orig_mac":"00:00:00:00:00:00","resp_mac":"00:00:00:00:00:00","#,
    r#""orig_pkts":1,"resp_pkts":1,"orig_bytes":60,"resp_bytes":60,"orig_ip_bytes":40,"resp_ip_bytes":40,"orig_payload_bytes":0,"resp_payload_bytes":0,"orig_ttl":64,"resp_ttl":128,"#,
    r#""orig_size_min_bytes":60,"orig_size_max_bytes":60,"orig_size_mean_bytes":60.0,"orig_size_std_bytes":0.0,"resp_size_min_bytes":60,"resp_size_max_bytes":60,"resp_size_mean_bytes":60.0,"resp_size_std_bytes":0.0,"#,
    r#""orig_iat_min_ms":0.0,"orig_iat_max_ms":0.0,"orig_iat_mean_ms":0.0,"orig_iat_std_ms":0.0,"resp_iat_min_ms":0.0,"resp_iat_max_ms":0.0,"resp_iat_mean_ms":0.0,"resp_iat_std_ms":0.0,"#,
    r#""orig_syn_pkts":1,"orig_ack_pkts":0,"orig_fin_pkts":0,"orig_rst_pkts":0,"orig_psh_pkts":0,"orig_urg_pkts":0,"orig_ece_pkts":0,"orig_cwr_pkts":0,"#,
    r#""resp_syn_pkts":1,"resp_ack_pkts":0,"resp_fin_pkts":0,"resp_rst_pkts":0,"resp_psh_pkts":0,"resp_urg_pkts":0,"resp_ece_pkts":0,"resp_cwr_pkts":0,"#,
    r#""tcp_synack_ms":0.0,"tcp_ack_ms":0.0,"tcp_rtt_ms":0.0,"orig_syn":"4:64:1460:65535,4:mss,nop,ws,nop,nop,ts,sok,eol:df","resp_synack":"4:64:1460:65535,4:mss,sok,ts,nop,ws:df","#,
);

/// The longest record's JSON format 1 reads (a flow record is about 1 KB).
const MAX_RECORD_BYTES: u64 = 16 << 20;

/// Bytes before the LZ4 block: the format byte and the uncompressed length (u32 LE).
const HEADER_LEN: usize = 5;

/// Encodes a flow record's JSON for `flow_records.record`, using `buf` as scratch space
/// (kept between calls, so neither the output nor its zeroing is paid per record), and
/// returns the encoded bytes.
pub fn encode<'a>(json: &[u8], buf: &'a mut Vec<u8>) -> &'a [u8] {
    let need = HEADER_LEN + lz4_flex::block::get_maximum_output_size(json.len());
    if buf.len() < need {
        buf.resize(need, 0);
    }
    let (head, body) = buf.split_at_mut(HEADER_LEN);
    head[0] = FORMAT_LZ4_DICT_V1;
    // A record over 4 GiB cannot come from one flow; the length field would wrap.
    head[1..].copy_from_slice(&u32::try_from(json.len()).unwrap_or(u32::MAX).to_le_bytes());
    match lz4_flex::block::compress_into_with_dict(json, body, DICT_V1.as_bytes()) {
        Ok(n) => buf.get(..HEADER_LEN + n).unwrap_or_default(),
        // Not reached: `body` holds the worst case. Kept as the allocating path.
        Err(_) => {
            let mut out = vec![FORMAT_LZ4_DICT_V1];
            out.extend_from_slice(&lz4_flex::block::compress_prepend_size_with_dict(
                json,
                DICT_V1.as_bytes(),
            ));
            *buf = out;
            buf
        }
    }
}

/// Encodes a flow for `flow_records.record` in format 2, or in format 1 if format 2
/// cannot hold it, using `buf` (and `json`, for format 1) as scratch space kept between
/// calls; returns the encoded bytes.
///
/// # Errors
/// The record cannot be written as JSON either.
pub fn encode_record<'a, T: serde::Serialize>(
    record: &T,
    buf: &'a mut Vec<u8>,
    json: &mut Vec<u8>,
) -> Result<&'a [u8], serde_json::Error> {
    if flowbin::encode(record, buf).is_ok() {
        return Ok(buf);
    }
    json.clear();
    serde_json::to_writer(&mut *json, record)?;
    Ok(encode(json, buf))
}

/// Decodes a stored `flow_records.record` (plain JSON text, or a BLOB of format 1 or 2)
/// into the flow's JSON object.
///
/// # Errors
/// An unknown format byte, a corrupt value, or a value that is not an object; the message
/// names the flow's rowid.
pub fn decode(
    stored: rusqlite::types::ValueRef<'_>,
    rowid: i64,
) -> Result<Map<String, Value>, IndexError> {
    use rusqlite::types::ValueRef;
    let bad = |why: String| IndexError::Incompatible(format!("flow record {rowid}: {why}"));
    match stored {
        ValueRef::Text(t) => object(serde_json::from_slice(t).map_err(|e| e.to_string())),
        ValueRef::Blob(b) => decode_blob(b),
        other => Err(format!("stored as {:?}", other.data_type())),
    }
    .map_err(bad)
}

/// Decodes a `flow_records.record` BLOB (format 1 or 2) into the flow's JSON object.
///
/// # Errors
/// An unknown format byte, a corrupt value, or a value that is not an object.
pub fn decode_blob(b: &[u8]) -> Result<Map<String, Value>, String> {
    match b.split_first() {
        Some((&FORMAT_BIN_V2, rest)) => object(flowbin::decode(rest)),
        Some((&FORMAT_LZ4_DICT_V1, rest)) => {
            // The prepended length is checked before LZ4 allocates it: a damaged length
            // must not ask for gigabytes. LZ4 expands a byte to at most 255.
            let (len, block) = rest
                .split_first_chunk::<4>()
                .ok_or_else(|| "truncated LZ4 header".to_owned())?;
            let len = u64::from(u32::from_le_bytes(*len));
            if len > MAX_RECORD_BYTES || len > (block.len() as u64 + 1) * 255 {
                return Err(format!(
                    "LZ4 length {len} is impossible for a block of {} bytes",
                    block.len()
                ));
            }
            let raw =
                lz4_flex::block::decompress_size_prepended_with_dict(rest, DICT_V1.as_bytes())
                    .map_err(|e| format!("corrupt LZ4 block: {e}"))?;
            object(serde_json::from_slice(&raw).map_err(|e| e.to_string()))
        }
        Some((other, _)) => Err(format!("unknown record format {other}")),
        None => Err("empty record".to_owned()),
    }
}

fn object(v: Result<Value, String>) -> Result<Map<String, Value>, String> {
    match v? {
        Value::Object(m) => Ok(m),
        other => Err(format!("not an object but {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::types::ValueRef;

    #[test]
    fn round_trip_and_old_text_rows() {
        let json = br#"{"id":"46ad382d0128b81e","first_ts":"2011-03-18T19:06:08.859163000Z","proto":"tcp","orig_pkts":12,"http_host":"upload.wikimedia.org"}"#;
        let mut scratch = Vec::new();
        let out = encode(json, &mut scratch).to_vec();
        // The same bytes as LZ4's size-prepended block behind the format byte.
        let mut want = vec![FORMAT_LZ4_DICT_V1];
        want.extend(lz4_flex::block::compress_prepend_size_with_dict(
            json,
            DICT_V1.as_bytes(),
        ));
        assert_eq!(out, want);
        // A shorter record after a longer one: the scratch is longer than the output.
        let short = br#"{"id":"1"}"#;
        let out2 = encode(short, &mut scratch).to_vec();
        let parse = |j: &[u8]| -> Map<String, Value> { serde_json::from_slice(j).unwrap() };
        assert_eq!(decode(ValueRef::Blob(&out2), 3).unwrap(), parse(short));
        assert_eq!(out[0], FORMAT_LZ4_DICT_V1);
        assert!(out.len() < json.len(), "{} !< {}", out.len(), json.len());
        assert_eq!(decode(ValueRef::Blob(&out), 1).unwrap(), parse(json));
        assert_eq!(decode(ValueRef::Text(json), 2).unwrap(), parse(json));
        // Format 2 of the same value.
        let mut bin = Vec::new();
        let b = encode_record(&parse(json), &mut bin, &mut Vec::new()).unwrap();
        assert_eq!(b[0], FORMAT_BIN_V2);
        assert_eq!(decode(ValueRef::Blob(b), 4).unwrap(), parse(json));
        // What format 2 cannot hold goes to format 1, which serde_json refuses too.
        let tuple_keys: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(encode_record(&tuple_keys, &mut bin, &mut Vec::new()).is_err());
        // Not an object.
        let e = decode(ValueRef::Text(b"[1]"), 5).unwrap_err().to_string();
        assert!(
            e.contains("flow record 5") && e.contains("not an object"),
            "{e}"
        );
        let e = decode(ValueRef::Blob(&[9, 1, 2]), 7)
            .unwrap_err()
            .to_string();
        assert!(e.contains("flow record 7") && e.contains("format 9"), "{e}");
        // A damaged length is refused before anything is allocated for it.
        let mut huge = out.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        let e = decode(ValueRef::Blob(&huge), 9).unwrap_err().to_string();
        assert!(e.contains("impossible"), "{e}");
        let mut cut = out.clone();
        cut.truncate(out.len() / 2);
        assert!(decode(ValueRef::Blob(&cut), 8).is_err());
    }
}
