//! kombu's Redis transport, as AntiNex network-pipeline uses it: a list named after the
//! queue (`NEW_PACKETS`), producers `LPUSH` a kombu JSON envelope, consumers pop from the
//! right. The binding set `_kombu.binding.<exchange>` is written too, so kombu consumers
//! route to the queue.
//!
//! kombu pops with `BRPOP`, which loses a message if the consumer dies before processing
//! it. trident pops with `BLMOVE` into a per-consumer processing list and removes the item
//! only once the sink committed it; a restarted consumer of the same name first replays
//! its processing list.

use std::time::Duration;

use redis::Value;

use crate::StreamError;
use crate::antinex::kombu;
use crate::consume::{Delivery, Source, Tag};
use crate::publish::Transport;
use crate::record::Record;

/// Connection timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

fn connect(url: &str) -> Result<redis::Connection, StreamError> {
    let client = redis::Client::open(url).map_err(|e| StreamError::redis("opening the URL", e))?;
    let conn = client
        .get_connection_with_timeout(CONNECT_TIMEOUT)
        .map_err(|e| StreamError::redis("connecting", e))?;
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| StreamError::redis("setting the read timeout", e))?;
    Ok(conn)
}

/// Publishes AntiNex envelopes (records of kind `antinex`) the way kombu does.
pub struct ListPublisher {
    url: String,
    queue: String,
    conn: Option<redis::Connection>,
}

impl ListPublisher {
    /// A publisher to queue (and exchange, and routing key) `queue`.
    #[must_use]
    pub fn new(url: &str, queue: &str) -> Self {
        ListPublisher {
            url: url.to_owned(),
            queue: queue.to_owned(),
            conn: None,
        }
    }
}

impl Transport for ListPublisher {
    fn connect(&mut self) -> Result<(), StreamError> {
        self.conn = None;
        let mut conn = connect(&self.url)?;
        // routing_key \x06\x16 pattern \x06\x16 queue, as kombu's Redis transport binds.
        let member = format!("{q}\x06\x16\x06\x16{q}", q = self.queue);
        redis::cmd("SADD")
            .arg(format!("_kombu.binding.{}", self.queue))
            .arg(member)
            .query::<Value>(&mut conn)
            .map_err(|e| StreamError::redis("SADD binding", e))?;
        self.conn = Some(conn);
        Ok(())
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), StreamError> {
        let conn = self
            .conn
            .as_mut()
            .ok_or_else(|| StreamError::Stopped("not connected".into()))?;
        let mut pipe = redis::pipe();
        for r in batch {
            pipe.cmd("LPUSH")
                .arg(&self.queue)
                .arg(kombu::encode_message(r, &self.queue))
                .ignore();
        }
        pipe.query::<()>(conn)
            .map_err(|e| StreamError::redis(format!("LPUSH {}", self.queue), e))
    }

    fn describe(&self) -> String {
        format!("{} list {}", crate::redact(&self.url), self.queue)
    }
}

/// Consumes a kombu queue list reliably (see the module documentation).
pub struct ListConsumer {
    url: String,
    queue: String,
    processing: String,
    conn: Option<redis::Connection>,
    replay: Vec<Vec<u8>>,
}

impl ListConsumer {
    /// Consumes `queue` as consumer `name`.
    ///
    /// # Errors
    /// Redis is unreachable.
    pub fn open(url: &str, queue: &str, name: &str) -> Result<Self, StreamError> {
        let mut c = ListConsumer {
            url: url.to_owned(),
            queue: queue.to_owned(),
            processing: format!("{queue}.trident.processing.{name}"),
            conn: None,
            replay: Vec::new(),
        };
        c.reconnect()?;
        Ok(c)
    }

    fn conn(&mut self) -> Result<&mut redis::Connection, StreamError> {
        self.conn
            .as_mut()
            .ok_or_else(|| StreamError::Stopped("not connected".into()))
    }
}

impl Source for ListConsumer {
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StreamError> {
        let mut items: Vec<Vec<u8>> = Vec::new();
        if !self.replay.is_empty() {
            let n = self.replay.len().min(max);
            items.extend(self.replay.drain(..n));
        } else {
            let (q, p) = (self.queue.clone(), self.processing.clone());
            let conn = self.conn()?;
            let first: Option<Vec<u8>> = redis::cmd("BLMOVE")
                .arg(&q)
                .arg(&p)
                .arg("RIGHT")
                .arg("LEFT")
                .arg(wait.as_secs_f64().max(0.01))
                .query(conn)
                .map_err(|e| StreamError::redis(format!("BLMOVE {q}"), e))?;
            if let Some(first) = first {
                items.push(first);
                if max > 1 {
                    let mut pipe = redis::pipe();
                    for _ in 1..max {
                        pipe.cmd("LMOVE").arg(&q).arg(&p).arg("RIGHT").arg("LEFT");
                    }
                    let more: Vec<Option<Vec<u8>>> = pipe
                        .query(conn)
                        .map_err(|e| StreamError::redis(format!("LMOVE {q}"), e))?;
                    items.extend(more.into_iter().flatten());
                }
            }
        }
        Ok(items
            .into_iter()
            .map(|payload| Delivery {
                tag: Tag::ListItem(payload.clone()),
                origin: self.queue.clone(),
                payload,
            })
            .collect())
    }

    fn ack(&mut self, tags: &[Tag]) -> Result<(), StreamError> {
        let p = self.processing.clone();
        let mut pipe = redis::pipe();
        for t in tags {
            if let Tag::ListItem(item) = t {
                pipe.cmd("LREM").arg(&p).arg(-1).arg(&item[..]).ignore();
            }
        }
        pipe.query::<()>(self.conn()?)
            .map_err(|e| StreamError::redis(format!("LREM {p}"), e))
    }

    fn dead_letter(
        &mut self,
        origin: &str,
        reason: &str,
        payload: &[u8],
    ) -> Result<(), StreamError> {
        let dead = format!("{}.dead", self.queue);
        let entry = serde_json::json!({
            "reason": reason,
            "origin": origin,
            "payload": String::from_utf8_lossy(payload),
        })
        .to_string();
        redis::cmd("LPUSH")
            .arg(&dead)
            .arg(entry)
            .query::<Value>(self.conn()?)
            .map_err(|e| StreamError::redis(format!("LPUSH {dead}"), e))?;
        Ok(())
    }

    fn reconnect(&mut self) -> Result<(), StreamError> {
        self.conn = None;
        let mut conn = connect(&self.url)?;
        // Items moved but not acknowledged by an earlier run (or before the failure):
        // oldest first (the processing list is pushed on the left).
        let mut held: Vec<Vec<u8>> = redis::cmd("LRANGE")
            .arg(&self.processing)
            .arg(0)
            .arg(-1)
            .query(&mut conn)
            .map_err(|e| StreamError::redis(format!("LRANGE {}", self.processing), e))?;
        held.reverse();
        self.replay = held;
        self.conn = Some(conn);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("{} list {}", crate::redact(&self.url), self.queue)
    }
}
