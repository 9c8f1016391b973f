//! Redis Streams: `XADD … MAXLEN ~ N`, consumer groups, `XACK`, and `XAUTOCLAIM` of entries
//! a dead consumer left pending.
//!
//! One stream entry holds one batch: field `n` (the record count) and `d` (the batch in
//! [`crate::wire`] format, one JSON line per record; a batch of one is one record per
//! entry). `MAXLEN ~` bounds the stream's memory; entries trimmed before a group read them
//! are lost to that group, so the bound must exceed the backlog consumers may build up (the
//! default holds [`DEFAULT_MAXLEN`] batches).
//!
//! Both sides pipeline: the publisher writes each `XADD` without waiting for its reply and
//! reads the replies when the [`crate::Publisher`] confirms (every
//! [`crate::PublisherOptions::confirm_every`] batches, or when idle), so a batch counts as
//! published only once Redis has answered for it; the consumer writes `XACK` without
//! waiting and reads its reply together with the next command's. A lost `XACK` reply only
//! means a redelivery, which the idempotent sink absorbs.

use std::time::{Duration, Instant};

use redis::Value;

use crate::StreamError;
use crate::consume::{Delivery, Source, Tag};
use crate::publish::Transport;
use crate::record::Record;
use crate::wire;

/// Stream entries kept (approximately) unless configured otherwise.
pub const DEFAULT_MAXLEN: u64 = 100_000;
/// Entries a consumer may leave pending this long before another one claims them.
pub const DEFAULT_CLAIM_IDLE: Duration = Duration::from_secs(30);
/// How often a consumer looks for entries to claim.
const CLAIM_EVERY: Duration = Duration::from_secs(1);
/// Connection timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Entries kept in a dead-letter stream.
const DEAD_MAXLEN: u64 = 100_000;

/// A stream entry: its id and its `d` field (`None` when the entry was trimmed).
type Entry = (String, Option<Vec<u8>>);

/// `XADD`s a publisher writes before it reads their replies even if not asked to confirm.
const MAX_IN_FLIGHT: usize = 64;

/// Appends one RESP bulk string.
fn push_bulk(out: &mut Vec<u8>, arg: &[u8]) {
    out.push(b'$');
    out.extend_from_slice(arg.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(arg);
    out.extend_from_slice(b"\r\n");
}

fn connect(url: &str, read_timeout: Option<Duration>) -> Result<redis::Connection, StreamError> {
    let client = redis::Client::open(url).map_err(|e| StreamError::redis("opening the URL", e))?;
    let conn = client
        .get_connection_with_timeout(CONNECT_TIMEOUT)
        .map_err(|e| StreamError::redis("connecting", e))?;
    conn.set_read_timeout(read_timeout)
        .map_err(|e| StreamError::redis("setting the read timeout", e))?;
    conn.set_write_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| StreamError::redis("setting the write timeout", e))?;
    Ok(conn)
}

/// Publishes batches with pipelined `XADD`s.
pub struct StreamPublisher {
    url: String,
    key: String,
    maxlen: u64,
    conn: Option<redis::Connection>,
    /// The batch's records in wire format.
    buf: Vec<u8>,
    /// The whole `XADD` command in RESP.
    packed: Vec<u8>,
    /// `XADD`s written whose replies are not read yet.
    in_flight: usize,
}

impl StreamPublisher {
    /// A publisher to stream `key` on the Redis at `url`, trimming to about `maxlen` entries.
    #[must_use]
    pub fn new(url: &str, key: &str, maxlen: u64) -> Self {
        StreamPublisher {
            url: url.to_owned(),
            key: key.to_owned(),
            maxlen,
            conn: None,
            buf: Vec::new(),
            packed: Vec::new(),
            in_flight: 0,
        }
    }
}

impl Transport for StreamPublisher {
    fn connect(&mut self) -> Result<(), StreamError> {
        self.conn = None;
        self.in_flight = 0;
        self.conn = Some(connect(&self.url, Some(Duration::from_secs(10)))?);
        Ok(())
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), StreamError> {
        if self.in_flight >= MAX_IN_FLIGHT {
            self.confirm()?;
        }
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StreamError::Stopped("not connected".into()))?;
        self.buf.clear();
        for r in batch {
            wire::encode_into(&mut self.buf, r);
        }
        // XADD key MAXLEN ~ maxlen * n N d DATA, packed by hand: the batch is copied once.
        self.packed.clear();
        self.packed.extend_from_slice(b"*10\r\n");
        for arg in [
            &b"XADD"[..],
            self.key.as_bytes(),
            b"MAXLEN",
            b"~",
            self.maxlen.to_string().as_bytes(),
            b"*",
            b"n",
            batch.len().to_string().as_bytes(),
            b"d",
            &self.buf,
        ] {
            push_bulk(&mut self.packed, arg);
        }
        conn.send_packed_command(&self.packed)
            .map_err(|e| StreamError::redis(format!("XADD {}", self.key), e))?;
        self.in_flight += 1;
        Ok(())
    }

    fn confirm(&mut self) -> Result<(), StreamError> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StreamError::Stopped("not connected".into()))?;
        while self.in_flight > 0 {
            let reply = conn
                .recv_response()
                .and_then(Value::extract_error)
                .map_err(|e| StreamError::redis(format!("XADD {}", self.key), e));
            self.in_flight -= 1;
            reply?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("{} stream {}", crate::redact(&self.url), self.key)
    }
}

/// Reads a stream as one consumer of a consumer group.
pub struct StreamConsumer {
    url: String,
    key: String,
    group: String,
    name: String,
    claim_idle: Duration,
    conn: Option<redis::Connection>,
    /// Reading our own pending entries (after a restart) from this id; `None` once done.
    pending_from: Option<String>,
    last_claim: Instant,
    claim_cursor: String,
    /// `XACK`s written whose replies are not read yet.
    acks_in_flight: usize,
}

impl StreamConsumer {
    /// Joins (creating if needed) `group` on stream `key` as consumer `name`. Entries other
    /// consumers left pending longer than `claim_idle` are claimed.
    ///
    /// # Errors
    /// Redis is unreachable or the group cannot be created.
    pub fn open(
        url: &str,
        key: &str,
        group: &str,
        name: &str,
        claim_idle: Duration,
    ) -> Result<Self, StreamError> {
        let mut c = StreamConsumer {
            url: url.to_owned(),
            key: key.to_owned(),
            group: group.to_owned(),
            name: name.to_owned(),
            claim_idle,
            conn: None,
            pending_from: Some("0".into()),
            last_claim: Instant::now()
                .checked_sub(CLAIM_EVERY)
                .unwrap_or_else(Instant::now),
            claim_cursor: "0-0".into(),
            acks_in_flight: 0,
        };
        c.reconnect()?;
        Ok(c)
    }

    fn conn(&mut self) -> Result<&mut redis::Connection, StreamError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StreamError::Stopped("not connected".into()))
    }

    /// Sends `cmd`, reads the replies of the `XACK`s written before it, then its own.
    fn request(&mut self, cmd: &redis::Cmd, what: &str) -> Result<Value, StreamError> {
        let in_flight = std::mem::take(&mut self.acks_in_flight);
        let key = &self.key;
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StreamError::Stopped("not connected".into()))?;
        conn.send_packed_command(&cmd.get_packed_command())
            .map_err(|e| StreamError::redis(format!("{what} {key}"), e))?;
        for _ in 0..in_flight {
            // A failed XACK means a redelivery, which the sink absorbs.
            if let Err(e) = conn.recv_response().and_then(Value::extract_error) {
                if e.is_io_error() || e.is_timeout() {
                    return Err(StreamError::redis(format!("XACK {key}"), e));
                }
                tracing::warn!("XACK {key} failed: {e}; those entries will be delivered again");
            }
        }
        conn.recv_response()
            .and_then(Value::extract_error)
            .map_err(|e| StreamError::redis(format!("{what} {key}"), e))
    }

    fn read(
        &mut self,
        max: usize,
        block: Option<Duration>,
        from: &str,
    ) -> Result<Vec<Entry>, StreamError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(&self.group)
            .arg(&self.name)
            .arg("COUNT")
            .arg(max);
        if let Some(b) = block {
            cmd.arg("BLOCK").arg(b.as_millis().max(1) as u64);
        }
        cmd.arg("STREAMS").arg(&self.key).arg(from);
        let v = self.request(&cmd, "XREADGROUP")?;
        // [[key, [[id, [field, value, ...]], ...]]] or nil on timeout.
        let mut out = Vec::new();
        if let Some(streams) = into_array(v) {
            for s in streams {
                if let Some(entries) = into_array(s).and_then(|kv| kv.into_iter().nth(1)) {
                    parse_entries(entries, &mut out);
                }
            }
        }
        Ok(out)
    }

    fn claim(&mut self, max: usize) -> Result<Vec<Entry>, StreamError> {
        let mut cmd = redis::cmd("XAUTOCLAIM");
        cmd.arg(&self.key)
            .arg(&self.group)
            .arg(&self.name)
            .arg(self.claim_idle.as_millis() as u64)
            .arg(&self.claim_cursor)
            .arg("COUNT")
            .arg(max);
        let v = self.request(&cmd, "XAUTOCLAIM")?;
        let mut out = Vec::new();
        if let Some(parts) = into_array(v) {
            let mut parts = parts.into_iter();
            if let Some(next) = parts.next().as_ref().and_then(as_text) {
                self.claim_cursor = next;
            }
            if let Some(entries) = parts.next() {
                parse_entries(entries, &mut out);
            }
        }
        if !out.is_empty() {
            tracing::info!(
                "claimed {} entries left pending by another consumer",
                out.len()
            );
        }
        Ok(out)
    }

    fn deliveries(&self, entries: Vec<Entry>, acks: &mut Vec<Tag>) -> Vec<Delivery> {
        let mut out = Vec::with_capacity(entries.len());
        for (id, data) in entries {
            match data {
                Some(payload) => out.push(Delivery {
                    tag: Tag::Entry(id.clone()),
                    origin: format!("{}/{id}", self.key),
                    payload,
                }),
                // Trimmed or deleted before it was read: nothing to deliver, just ack it.
                None => acks.push(Tag::Entry(id)),
            }
        }
        out
    }
}

fn into_array(v: Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(a) | Value::Set(a) => Some(a),
        _ => None,
    }
}

fn as_bytes(v: &Value) -> Option<&[u8]> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.as_bytes()),
        _ => None,
    }
}

fn into_bytes(v: Value) -> Option<Vec<u8>> {
    match v {
        Value::BulkString(b) => Some(b),
        Value::SimpleString(s) => Some(s.into_bytes()),
        _ => None,
    }
}

fn as_text(v: &Value) -> Option<String> {
    as_bytes(v).map(|b| String::from_utf8_lossy(b).into_owned())
}

/// Entries as (id, the `d` field if present), taking the payloads without copying them.
fn parse_entries(v: Value, out: &mut Vec<Entry>) {
    let Some(entries) = into_array(v) else { return };
    out.reserve(entries.len());
    for e in entries {
        let Some(parts) = into_array(e) else { continue };
        let mut parts = parts.into_iter();
        let Some(id) = parts.next().as_ref().and_then(as_text) else {
            continue;
        };
        let mut data = None;
        if let Some(fields) = parts.next().and_then(into_array) {
            let mut fields = fields.into_iter();
            while let (Some(k), Some(val)) = (fields.next(), fields.next()) {
                if as_bytes(&k) == Some(b"d") {
                    data = into_bytes(val);
                }
            }
            // An entry without a `d` field is malformed, not missing: deliver it empty so
            // it is dead-lettered.
            if data.is_none() {
                data = Some(Vec::new());
            }
        }
        out.push((id, data));
    }
}

impl Source for StreamConsumer {
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StreamError> {
        let mut acks = Vec::new();
        let mut out = Vec::new();
        if let Some(from) = self.pending_from.clone() {
            let entries = self.read(max, None, &from)?;
            match entries.last() {
                Some((last, _)) => self.pending_from = Some(last.clone()),
                None => self.pending_from = None,
            }
            out = self.deliveries(entries, &mut acks);
        }
        if out.is_empty() && self.last_claim.elapsed() >= CLAIM_EVERY {
            self.last_claim = Instant::now();
            let entries = self.claim(max)?;
            out = self.deliveries(entries, &mut acks);
        }
        if out.is_empty() && self.pending_from.is_none() {
            let entries = self.read(max, Some(wait), ">")?;
            out = self.deliveries(entries, &mut acks);
        }
        if !acks.is_empty() {
            self.ack(&acks)?;
        }
        Ok(out)
    }

    fn ack(&mut self, tags: &[Tag]) -> Result<(), StreamError> {
        let ids: Vec<&str> = tags
            .iter()
            .filter_map(|t| match t {
                Tag::Entry(id) => Some(id.as_str()),
                _ => None,
            })
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        // Written now, its reply read with the next command's (see the module docs).
        let packed = redis::cmd("XACK")
            .arg(&self.key)
            .arg(&self.group)
            .arg(&ids)
            .get_packed_command();
        let key = self.key.clone();
        self.conn()?
            .send_packed_command(&packed)
            .map_err(|e| StreamError::redis(format!("XACK {key}"), e))?;
        self.acks_in_flight += 1;
        Ok(())
    }

    fn dead_letter(
        &mut self,
        origin: &str,
        reason: &str,
        payload: &[u8],
    ) -> Result<(), StreamError> {
        let dead = format!("{}.dead", self.key);
        let mut cmd = redis::cmd("XADD");
        cmd.arg(&dead)
            .arg("MAXLEN")
            .arg("~")
            .arg(DEAD_MAXLEN)
            .arg("*")
            .arg("reason")
            .arg(reason)
            .arg("origin")
            .arg(origin)
            .arg("payload")
            .arg(payload);
        self.request(&cmd, "XADD to the dead letters of")?;
        Ok(())
    }

    fn reconnect(&mut self) -> Result<(), StreamError> {
        self.conn = None;
        self.acks_in_flight = 0;
        let mut conn = connect(&self.url, Some(Duration::from_secs(30)))?;
        let created: redis::RedisResult<Value> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(&self.key)
            .arg(&self.group)
            .arg("0")
            .arg("MKSTREAM")
            .query(&mut conn);
        if let Err(e) = created
            && e.code() != Some("BUSYGROUP")
        {
            return Err(StreamError::redis(format!("XGROUP CREATE {}", self.key), e));
        }
        self.conn = Some(conn);
        // Whatever we had fetched and not acknowledged is pending under our name.
        self.pending_from = Some("0".into());
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "{} stream {} group {} consumer {}",
            crate::redact(&self.url),
            self.key,
            self.group,
            self.name
        )
    }
}

impl Drop for StreamConsumer {
    /// Reads the replies of `XACK`s still in flight, so they are processed before the
    /// connection closes (briefly: a broker that does not answer within a second is left).
    fn drop(&mut self) {
        if self.acks_in_flight == 0 {
            return;
        }
        if let Some(conn) = self.conn.as_mut() {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(1)));
            for _ in 0..self.acks_in_flight {
                if conn.recv_response().is_err() {
                    break;
                }
            }
        }
    }
}
