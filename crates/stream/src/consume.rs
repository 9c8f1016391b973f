//! The consuming side: fetch a batch of messages, decode them, hand the records to a sink,
//! and acknowledge the messages only once the sink has made them durable.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::StreamError;
use crate::antinex;
use crate::backoff::Backoff;
use crate::record::Record;
use crate::sink::RecordSink;
use crate::wire;

/// A broker message's acknowledgement handle.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tag {
    /// A Redis stream entry id.
    Entry(String),
    /// An AMQP delivery tag on the current channel.
    Delivery(u64),
    /// A Redis list item, as moved into this consumer's processing list.
    ListItem(Vec<u8>),
}

/// One message as fetched.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// How to acknowledge it.
    pub tag: Tag,
    /// Where it came from, for dead-letter entries and logs (entry id, delivery tag).
    pub origin: String,
    /// The message body.
    pub payload: Vec<u8>,
}

/// A broker queue or stream read by one consumer.
pub trait Source {
    /// Up to `max` messages, waiting at most `wait` for the first.
    ///
    /// # Errors
    /// The connection failed; call [`Source::reconnect`].
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StreamError>;
    /// Acknowledges messages: the broker will not deliver them again.
    ///
    /// # Errors
    /// The connection failed; the messages will be delivered again.
    fn ack(&mut self, tags: &[Tag]) -> Result<(), StreamError>;
    /// Copies a message that could not be decoded, with its reason, to the dead-letter
    /// stream or queue.
    ///
    /// # Errors
    /// The connection failed.
    fn dead_letter(
        &mut self,
        origin: &str,
        reason: &str,
        payload: &[u8],
    ) -> Result<(), StreamError>;
    /// Drops the connection and opens a new one (messages fetched and not acknowledged
    /// will be delivered again).
    ///
    /// # Errors
    /// The broker is still unreachable.
    fn reconnect(&mut self) -> Result<(), StreamError>;
    /// A description for log lines.
    fn describe(&self) -> String;
}

/// How message bodies become records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    /// trident's batches ([`wire`]).
    Native,
    /// AntiNex packet envelopes, bare (RabbitMQ) or inside kombu's envelope (Redis list).
    Antinex,
}

impl Decoder {
    /// The records of one message body, and the reasons the parts that failed did.
    #[must_use]
    pub fn decode(self, body: &[u8]) -> (Vec<Record>, Vec<(String, Vec<u8>)>) {
        match self {
            Decoder::Native => {
                if body.iter().all(u8::is_ascii_whitespace) {
                    return (
                        Vec::new(),
                        vec![("empty message (no records)".to_owned(), Vec::new())],
                    );
                }
                let (records, bad) = wire::decode(body);
                let bad = bad
                    .into_iter()
                    .map(|b| {
                        (
                            format!("line {}: {}", b.line, b.reason),
                            b.text.into_bytes(),
                        )
                    })
                    .collect();
                (records, bad)
            }
            Decoder::Antinex => match antinex::kombu::decode_message(body) {
                Ok(r) => (vec![r], Vec::new()),
                Err(reason) => (Vec::new(), vec![(reason, body.to_vec())]),
            },
        }
    }
}

/// When a consumer stops, and how it batches.
#[derive(Debug, Clone, Copy)]
pub struct ConsumeOptions {
    /// Messages fetched at once.
    pub fetch: usize,
    /// Longest wait for a message before committing what the sink holds.
    pub wait: Duration,
    /// Stop after this long without a message (`None`: run until stopped).
    pub idle_exit: Option<Duration>,
    /// Stop after this many records were taken by the sink.
    pub max_records: Option<u64>,
}

impl Default for ConsumeOptions {
    fn default() -> Self {
        ConsumeOptions {
            fetch: 64,
            wait: Duration::from_millis(500),
            idle_exit: None,
            max_records: None,
        }
    }
}

/// What a consumer did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConsumeStats {
    /// Messages fetched (redeliveries included).
    pub messages: u64,
    /// Records decoded.
    pub records: u64,
    /// Records new to the sink (the rest were already there).
    pub new_records: u64,
    /// Malformed messages or lines, dead-lettered.
    pub dead_lettered: u64,
    /// Reconnections after a failure.
    pub reconnects: u64,
}

/// Consumes until `stop` is set, the source stays idle for `idle_exit`, or `max_records`
/// records were taken. Messages are acknowledged after the sink committed their records.
///
/// # Errors
/// The sink failed (the broker failing is retried for ever, with a log line per attempt).
pub fn consume(
    source: &mut dyn Source,
    decoder: Decoder,
    sink: &mut dyn RecordSink,
    options: ConsumeOptions,
    stop: &AtomicBool,
) -> Result<ConsumeStats, StreamError> {
    let mut stats = ConsumeStats::default();
    let mut pending_acks: Vec<Tag> = Vec::new();
    let mut last_message = Instant::now();
    let mut backoff = Backoff::new();
    let mut records = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        if options.max_records.is_some_and(|m| stats.records >= m) {
            break;
        }
        let batch = match source.fetch(options.fetch, options.wait) {
            Ok(b) => b,
            Err(e) => {
                reconnect(source, &e, &mut backoff, stop, &mut stats);
                pending_acks.clear();
                continue;
            }
        };
        backoff.reset();
        if batch.is_empty() {
            if sink.commit()? {
                ack(source, &mut pending_acks);
            }
            if options
                .idle_exit
                .is_some_and(|d| last_message.elapsed() >= d)
            {
                break;
            }
            continue;
        }
        last_message = Instant::now();
        stats.messages += batch.len() as u64;
        records.clear();
        for d in batch {
            let (recs, bad) = decoder.decode(&d.payload);
            for (reason, payload) in bad {
                stats.dead_lettered += 1;
                tracing::warn!(
                    "dead-lettering part of {} ({}): {reason}",
                    d.origin,
                    source.describe()
                );
                if let Err(e) = source.dead_letter(&d.origin, &reason, &payload) {
                    tracing::warn!("could not dead-letter {}: {e}", d.origin);
                }
            }
            stats.records += recs.len() as u64;
            records.extend(recs);
            pending_acks.push(d.tag);
        }
        stats.new_records += sink.write(&records)?;
        if sink.committed() {
            ack(source, &mut pending_acks);
        }
    }
    if sink.commit()? {
        ack(source, &mut pending_acks);
    }
    Ok(stats)
}

fn ack(source: &mut dyn Source, tags: &mut Vec<Tag>) {
    if tags.is_empty() {
        return;
    }
    // A failed ack only means a redelivery, which the idempotent sink absorbs.
    if let Err(e) = source.ack(tags) {
        tracing::warn!(
            "ack failed on {}: {e}; those messages will be delivered again",
            source.describe()
        );
    }
    tags.clear();
}

fn reconnect(
    source: &mut dyn Source,
    err: &StreamError,
    backoff: &mut Backoff,
    stop: &AtomicBool,
    stats: &mut ConsumeStats,
) {
    let mut err = err.to_string();
    while !stop.load(Ordering::Relaxed) {
        let wait = backoff.next_wait();
        tracing::warn!(
            "broker {} unreachable: {err}; retrying in {} ms",
            source.describe(),
            wait.as_millis()
        );
        eprintln!(
            "trident: broker {} unreachable: {err}; retrying in {} ms",
            source.describe(),
            wait.as_millis()
        );
        std::thread::sleep(wait);
        match source.reconnect() {
            Ok(()) => {
                stats.reconnects += 1;
                eprintln!("trident: broker {} reachable again", source.describe());
                return;
            }
            Err(e) => err = e.to_string(),
        }
    }
}
