//! Records through real brokers, and AntiNex-compatible transport and datasets.
//!
//! trident's stages produce records (one per packet, per flow, per host update). This crate
//! moves them between machines through a broker and lands them in a sink, with
//! **at-least-once delivery into idempotent sinks**: every [`Record`] carries a stable id
//! derived from what it describes (a packet's source and frame number; a flow's key, first
//! timestamp and sequence), a consumer acknowledges a message only after the sink has made
//! its records durable, and the sink ignores ids it already holds. Killing a consumer or the
//! broker therefore loses nothing (unacknowledged messages are delivered again) and doubles
//! nothing (the redelivered ids are already in the sink).
//!
//! Two brokers are spoken natively:
//!
//! * **Redis Streams** ([`redis_streams`]): `XADD` with an approximate `MAXLEN`, consumer
//!   groups with `XACK`, and `XAUTOCLAIM` of entries left pending by a consumer that died.
//! * **RabbitMQ** ([`amqp`], through lapin): a durable exchange and queue, persistent
//!   messages, batched publisher confirms, manual acknowledgements and a prefetch window.
//!
//! Records travel in batches (one broker message holds up to [`DEFAULT_BATCH`] records as
//! newline-separated JSON, see [`wire`]): a broker round trip per record would cap the rate
//! far below what a capture produces.
//!
//! A publisher never grows without bound: records wait in a bounded in-memory queue while
//! the broker is unreachable (the worker retries with exponential backoff and logs each
//! failure), and once that queue is full, [`Publisher::publish`] **blocks** until the broker
//! is back. Capture keeps its own files meanwhile, so blocking loses no packets on disk.
//!
//! A message that cannot be decoded is never a crash: it is counted and copied with its
//! reason to a dead-letter stream or queue (`<name>.dead`), then acknowledged.
//!
//! [`antinex`] speaks AntiNex network-pipeline's transport (`NEW_PACKETS`, the kombu
//! envelope on a Redis list or on RabbitMQ), its packet JSON, and its flattened CSV datasets.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod amqp;
pub mod antinex;
mod backoff;
pub mod consume;
pub mod dataset;
mod error;
pub mod publish;
pub mod record;
pub mod redis_list;
pub mod redis_streams;
pub mod sink;
pub mod wire;

pub use consume::{ConsumeOptions, ConsumeStats, Decoder, consume};
pub use error::StreamError;
pub use publish::{PublishStats, Publisher, PublisherOptions};
pub use record::{Record, RecordKind};
pub use sink::{DatasetSink, RecordSink, SqliteSink};

/// Records per broker message unless configured otherwise.
pub const DEFAULT_BATCH: usize = 256;

/// Where records go or come from: a broker URL plus the name of the stream or queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The broker.
    pub broker: Broker,
    /// Redis: the stream key (or list key for AntiNex); RabbitMQ: the exchange, routing key
    /// and queue name.
    pub name: String,
}

/// A broker kind with its connection URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broker {
    /// `redis://host:port[/db]` (or `unix://`).
    Redis(String),
    /// `amqp://user:pass@host:port/vhost`.
    Amqp(String),
}

/// The stream, exchange and queue name used unless one is given.
pub const DEFAULT_NAME: &str = "trident.records";

impl Endpoint {
    /// Parses a broker URL; `name` is the stream or queue.
    ///
    /// # Errors
    /// The URL's scheme is neither Redis nor AMQP.
    pub fn parse(url: &str, name: &str) -> Result<Self, StreamError> {
        let broker = if url.starts_with("redis://")
            || url.starts_with("rediss://")
            || url.starts_with("unix://")
        {
            Broker::Redis(url.to_owned())
        } else if url.starts_with("amqp://") || url.starts_with("amqps://") {
            Broker::Amqp(url.to_owned())
        } else {
            return Err(StreamError::Url(format!(
                "{url}: expected redis://host:port[/db] or amqp://user:pass@host:port/vhost"
            )));
        };
        Ok(Endpoint {
            broker,
            name: name.to_owned(),
        })
    }

    /// The URL with any password replaced by `***`, for log lines.
    #[must_use]
    pub fn display_url(&self) -> String {
        let url = match &self.broker {
            Broker::Redis(u) | Broker::Amqp(u) => u,
        };
        redact(url)
    }
}

/// Replaces the password of `scheme://user:pass@host` with `***`.
#[must_use]
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let Some(at) = rest.find('@') else {
        return url.to_owned();
    };
    match rest[..at].find(':') {
        Some(colon) => format!(
            "{}{}:***{}",
            &url[..scheme_end + 3],
            &rest[..colon],
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_redact() {
        let e = Endpoint::parse("amqp://guest:guest@127.0.0.1:5672/%2f", "q").unwrap();
        assert!(matches!(e.broker, Broker::Amqp(_)));
        assert_eq!(e.display_url(), "amqp://guest:***@127.0.0.1:5672/%2f");
        assert!(Endpoint::parse("http://x", "q").is_err());
        assert_eq!(
            redact("redis://127.0.0.1:6379/5"),
            "redis://127.0.0.1:6379/5"
        );
    }
}
