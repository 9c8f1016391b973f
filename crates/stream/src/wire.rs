//! trident's own message format: a batch of records as newline-separated JSON objects
//! `{"id":…,"kind":…,"record":{…}}`, one broker message per batch.
//!
//! Each line decodes on its own, so one damaged line is dead-lettered alone and the rest of
//! its message still lands.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::record::{Record, RecordKind};

/// Appends one record as a line.
pub fn encode_into(out: &mut Vec<u8>, r: &Record) {
    out.extend_from_slice(b"{\"id\":");
    // Writing to a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, &r.id);
    out.extend_from_slice(b",\"kind\":\"");
    out.extend_from_slice(r.kind.name().as_bytes());
    out.extend_from_slice(b"\",\"record\":");
    out.extend_from_slice(r.body.as_bytes());
    out.extend_from_slice(b"}\n");
}

/// A batch of records as one message body.
#[must_use]
pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::with_capacity(records.iter().map(|r| r.body.len() + 64).sum());
    for r in records {
        encode_into(&mut out, r);
    }
    out
}

#[derive(Deserialize)]
struct Line<'a> {
    id: String,
    kind: String,
    #[serde(borrow)]
    record: &'a RawValue,
}

/// A line that did not decode, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// 1-based line number within the message.
    pub line: usize,
    /// The line's bytes (lossily as text).
    pub text: String,
    /// Why it was rejected.
    pub reason: String,
}

/// Decodes a message body into its records and the lines that failed.
#[must_use]
pub fn decode(body: &[u8]) -> (Vec<Record>, Vec<BadLine>) {
    let mut records = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in body.split(|&b| b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let fail = |reason: String| BadLine {
            line: i + 1,
            text: String::from_utf8_lossy(line).into_owned(),
            reason,
        };
        let text = match std::str::from_utf8(line) {
            Ok(t) => t,
            Err(e) => {
                bad.push(fail(format!("not UTF-8: {e}")));
                continue;
            }
        };
        match serde_json::from_str::<Line<'_>>(text) {
            Ok(l) => match RecordKind::from_name(&l.kind) {
                Some(kind) if !l.id.is_empty() && l.record.get().starts_with('{') => {
                    records.push(Record {
                        id: l.id,
                        kind,
                        body: l.record.get().to_owned(),
                    });
                }
                Some(_) => bad.push(fail("empty id or record not an object".to_owned())),
                None => bad.push(fail(format!("unknown record kind {:?}", l.kind))),
            },
            Err(e) => bad.push(fail(format!("not a record: {e}"))),
        }
    }
    (records, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bad_lines() {
        let recs = vec![
            Record {
                id: "p:a\"b#1".into(),
                kind: RecordKind::Packet,
                body: r#"{"len":60}"#.into(),
            },
            Record {
                id: "f:x:0".into(),
                kind: RecordKind::Flow,
                body: r#"{"a":[1,2]}"#.into(),
            },
        ];
        let mut body = encode(&recs);
        body.extend_from_slice(
            b"garbage\n\xff\xfe\n{\"id\":\"x\",\"kind\":\"zz\",\"record\":{}}\n",
        );
        let (got, bad) = decode(&body);
        assert_eq!(got, recs);
        assert_eq!(bad.len(), 3);
        assert_eq!(bad[0].line, 3);
        for n in 0..body.len() {
            let _ = decode(&body[..n]);
        }
    }
}
