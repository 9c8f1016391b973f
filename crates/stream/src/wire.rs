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
    // The common case: the whole message is text and every line takes the fast path.
    if let Ok(text) = std::str::from_utf8(body) {
        records.reserve(text.len() / 256);
        if text
            .split('\n')
            .filter(|l| !l.is_empty())
            .all(|l| fast_line(l).map(|r| records.push(r)).is_some())
        {
            return (records, bad);
        }
        records.clear();
    }
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
        if let Some(r) = fast_line(text) {
            records.push(r);
            continue;
        }
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

/// The line exactly as [`encode_into`] writes it, with an id free of escapes: the id and kind
/// are sliced out and the record is checked to be one JSON object, without building the
/// line's structure. Anything else (other key order, whitespace, escaped ids, invalid JSON)
/// returns `None` and takes the general path, which accepts or rejects it with a reason.
fn fast_line(line: &str) -> Option<Record> {
    let rest = line.strip_prefix("{\"id\":\"")?;
    let end = rest.find(['"', '\\'])?;
    if rest.as_bytes().get(end) != Some(&b'"') || end == 0 {
        return None;
    }
    let id = &rest[..end];
    if id.bytes().any(|b| b < 0x20) {
        return None;
    }
    let rest = rest[end..].strip_prefix("\",\"kind\":\"")?;
    let end = rest.find('"')?;
    let kind = RecordKind::from_name(&rest[..end])?;
    let body = rest[end..]
        .strip_prefix("\",\"record\":")?
        .strip_suffix('}')?;
    // No whitespace around the object: the general path trims it.
    if !body.starts_with('{') || !body.ends_with('}') {
        return None;
    }
    // One complete JSON object and nothing after it.
    serde_json::from_str::<serde::de::IgnoredAny>(body).ok()?;
    Some(Record {
        id: id.to_owned(),
        kind,
        body: body.to_owned(),
    })
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

    #[test]
    fn fast_path_agrees_with_the_general_one() {
        let lines = [
            r#"{"id":"p:a#1","kind":"packet","record":{"a":1}}"#,
            r#"{"id":"p:a#1","kind":"packet","record":{"a":1},"id":"other"}"#,
            r#"{"id":"p:a#1","kind":"packet","record":{"a":1}}}"#,
            r#"{"id":"p:a#1","kind":"packet","record":{"a":1} }"#,
            r#"{"id":"p:a#1","kind":"packet","record":{"a":}"#,
            r#"{"id":"p:a#1","kind":"packet","record":[1]}"#,
            r#"{"id":"","kind":"packet","record":{}}"#,
            r#"{"id":"p\"q","kind":"flow","record":{}}"#,
            r#"{"id":"p","kind":"nope","record":{}}"#,
            r#"{"kind":"packet","id":"x","record":{"b":"}"}}"#,
        ];
        for l in lines {
            let general = serde_json::from_str::<Line<'_>>(l).ok().and_then(|x| {
                let kind = RecordKind::from_name(&x.kind)?;
                (!x.id.is_empty() && x.record.get().starts_with('{')).then(|| Record {
                    id: x.id,
                    kind,
                    body: x.record.get().to_owned(),
                })
            });
            if let Some(fast) = fast_line(l) {
                assert_eq!(Some(fast), general, "{l}");
            }
            assert_eq!(decode(l.as_bytes()).0.first().cloned(), general, "{l}");
        }
    }
}
