//! The packet envelope (`{data, created, source}`) and kombu's message envelope around it.
//!
//! On a Redis list kombu stores `{"body": base64(envelope JSON), "content-encoding":
//! "utf-8", "content-type": "application/json", "headers": {}, "properties":
//! {"body_encoding": "base64", "delivery_info": {"exchange", "routing_key"},
//! "delivery_mode": 2, "delivery_tag": <uuid>, "priority": 0}}`; on RabbitMQ the message
//! body is the envelope JSON itself.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::record::{Record, RecordKind};

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
#[must_use]
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(B64[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional, whitespace ignored).
///
/// # Errors
/// A character outside the alphabet, with its position.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0u32;
    for (i, c) in text.bytes().enumerate() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            c if c.is_ascii_whitespace() => continue,
            _ => return Err(format!("base64: byte {c:#04x} at offset {i}")),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// A UUID-shaped tag derived from `seed` (kombu's delivery tags are UUIDs; deriving it from
/// the record id keeps republishing deterministic).
#[must_use]
pub fn uuid_from(seed: &str) -> String {
    let d = Sha256::digest(seed.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// A packet envelope: `created` (`YYYY-MM-DD HH:MM:SS`), the layer dict, the source name,
/// and trident's record id (AntiNex's processor ignores extra keys; trident's consumer uses
/// it to stay idempotent).
#[must_use]
pub fn envelope(id: &str, created: &str, source: &str, data: Map<String, Value>) -> Record {
    let body = json!({
        "created": created,
        "data": Value::Object(data),
        "source": source,
        "trident_id": id,
    })
    .to_string();
    Record {
        id: id.to_owned(),
        kind: RecordKind::Antinex,
        body,
    }
}

/// The body of an AMQP message for a record: the envelope itself.
#[must_use]
pub fn amqp_body(r: &Record) -> Vec<u8> {
    r.body.clone().into_bytes()
}

/// The Redis list item for a record, as kombu's Redis transport writes it.
#[must_use]
pub fn encode_message(r: &Record, queue: &str) -> Vec<u8> {
    json!({
        "body": base64_encode(r.body.as_bytes()),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": {},
        "properties": {
            "body_encoding": "base64",
            "delivery_info": {"exchange": queue, "routing_key": queue},
            "delivery_mode": 2,
            "delivery_tag": uuid_from(&r.id),
            "priority": 0,
        },
    })
    .to_string()
    .into_bytes()
}

/// A record from a broker message: a kombu envelope (Redis list) or a bare packet envelope
/// (RabbitMQ). Its id is, in order of preference, the envelope's `trident_id`, kombu's
/// delivery tag, or a digest of the envelope (identical envelopes then count once).
///
/// # Errors
/// Why the message is not an AntiNex packet envelope.
pub fn decode_message(body: &[u8]) -> Result<Record, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(outer) = v else {
        return Err("not a JSON object".into());
    };
    let (envelope_text, kombu_tag) = if let (Some(b), Some(Value::Object(props))) =
        (outer.get("body"), outer.get("properties"))
    {
        let Value::String(b) = b else {
            return Err("kombu body is not a string".into());
        };
        let text = match props.get("body_encoding").and_then(Value::as_str) {
            Some("base64") => {
                let raw = base64_decode(b)?;
                String::from_utf8(raw).map_err(|e| format!("kombu body is not UTF-8: {e}"))?
            }
            _ => b.clone(),
        };
        let tag = props
            .get("delivery_tag")
            .and_then(Value::as_str)
            .map(str::to_owned);
        (text, tag)
    } else {
        (
            String::from_utf8(body.to_vec()).map_err(|e| format!("not UTF-8: {e}"))?,
            None,
        )
    };
    let env: Value =
        serde_json::from_str(&envelope_text).map_err(|e| format!("envelope is not JSON: {e}"))?;
    let Some(obj) = env.as_object() else {
        return Err("envelope is not a JSON object".into());
    };
    if !obj.get("data").is_some_and(Value::is_object) {
        return Err("envelope has no \"data\" object".into());
    }
    let id = match (obj.get("trident_id").and_then(Value::as_str), kombu_tag) {
        (Some(id), _) => id.to_owned(),
        (None, Some(tag)) => format!("kombu:{tag}"),
        (None, None) => {
            let d = Sha256::digest(envelope_text.as_bytes());
            let h: String = d[..16].iter().map(|x| format!("{x:02x}")).collect();
            format!("sha256:{h}")
        }
    };
    Ok(Record {
        id,
        kind: RecordKind::Antinex,
        body: envelope_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
        assert!(base64_decode("a*b").is_err());
    }

    #[test]
    fn kombu_round_trip_and_rejects() {
        let mut data = Map::new();
        data.insert("ether".into(), json!({"dst": "00:00:00:00:00:00"}));
        let r = envelope("p:x#1", "2018-01-28 22:58:15", "localdev", data);
        let msg = encode_message(&r, "NEW_PACKETS");
        let back = decode_message(&msg).unwrap();
        assert_eq!(back, r);
        assert_eq!(decode_message(&amqp_body(&r)).unwrap(), r);
        assert!(decode_message(b"{}").is_err());
        assert!(decode_message(b"[1]").is_err());
        assert!(decode_message(b"\xff").is_err());
        let u = uuid_from("x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
    }
}
