//! RabbitMQ through lapin: a durable exchange bound to a durable queue of the same name,
//! persistent messages, publisher confirms awaited per group of batches, manual acks and a
//! prefetch window.
//!
//! lapin is asynchronous; each connection here owns a one-worker tokio runtime and the
//! blocking calls of [`Transport`] and [`Source`] wait on it, so the rest of trident stays
//! synchronous. The worker thread keeps heartbeats going between calls.

use std::pin::Pin;
use std::time::Duration;

use futures_core::Stream;
use lapin::PublisherConfirm;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};

use crate::StreamError;
use crate::antinex;
use crate::consume::{Delivery, Source, Tag};
use crate::publish::Transport;
use crate::record::{Record, RecordKind};
use crate::wire;

/// How long a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The names and exchange type of a topology.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Exchange name.
    pub exchange: String,
    /// Exchange type: direct for trident, topic for AntiNex (kombu declares a topic
    /// exchange when a routing key is set).
    pub kind: ExchangeKind,
    /// Routing key.
    pub routing_key: String,
    /// Queue name.
    pub queue: String,
}

impl Topology {
    /// trident's: a direct exchange, its queue and routing key all named `name`.
    #[must_use]
    pub fn trident(name: &str) -> Self {
        Topology {
            exchange: name.to_owned(),
            kind: ExchangeKind::Direct,
            routing_key: name.to_owned(),
            queue: name.to_owned(),
        }
    }
    /// AntiNex's: a topic exchange, its queue and routing key all named `name`
    /// (`NEW_PACKETS`).
    #[must_use]
    pub fn antinex(name: &str) -> Self {
        Topology {
            kind: ExchangeKind::Topic,
            ..Topology::trident(name)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, StreamError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| StreamError::io("tokio runtime", e))
}

/// Connects and declares the exchange, the queue and their binding.
async fn open(url: &str, t: &Topology) -> Result<(Connection, Channel), StreamError> {
    let conn = tokio::time::timeout(
        CONNECT_TIMEOUT,
        Connection::connect(url, ConnectionProperties::default()),
    )
    .await
    .map_err(|_| StreamError::Stopped(format!("connecting timed out after {CONNECT_TIMEOUT:?}")))?
    .map_err(|e| StreamError::amqp("connecting", e))?;
    let ch = conn
        .create_channel()
        .await
        .map_err(|e| StreamError::amqp("opening a channel", e))?;
    ch.exchange_declare(
        t.exchange.as_str().into(),
        t.kind.clone(),
        ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .map_err(|e| StreamError::amqp(format!("declaring exchange {}", t.exchange), e))?;
    ch.queue_declare(
        t.queue.as_str().into(),
        QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    )
    .await
    .map_err(|e| StreamError::amqp(format!("declaring queue {}", t.queue), e))?;
    ch.queue_bind(
        t.queue.as_str().into(),
        t.exchange.as_str().into(),
        t.routing_key.as_str().into(),
        QueueBindOptions::default(),
        FieldTable::default(),
    )
    .await
    .map_err(|e| StreamError::amqp(format!("binding queue {}", t.queue), e))?;
    Ok((conn, ch))
}

/// Publishes batches (trident) or single envelopes (AntiNex) with confirms.
pub struct AmqpPublisher {
    url: String,
    topology: Topology,
    confirms: Vec<PublisherConfirm>,
    conn: Option<(Connection, Channel)>,
    // Last: the connection is dropped while its runtime still runs.
    rt: Option<tokio::runtime::Runtime>,
}

impl AmqpPublisher {
    /// A publisher to `topology` on the broker at `url`.
    #[must_use]
    pub fn new(url: &str, topology: Topology) -> Self {
        AmqpPublisher {
            url: url.to_owned(),
            topology,
            rt: None,
            conn: None,
            confirms: Vec::new(),
        }
    }
}

fn persistent(content_type: &str) -> BasicProperties {
    BasicProperties::default()
        .with_delivery_mode(2)
        .with_content_type(content_type.into())
        .with_content_encoding("utf-8".into())
}

impl Transport for AmqpPublisher {
    fn connect(&mut self) -> Result<(), StreamError> {
        self.conn = None;
        self.confirms.clear();
        if self.rt.is_none() {
            self.rt = Some(runtime()?);
        }
        let Some(rt) = &self.rt else {
            return Err(StreamError::Stopped("no runtime".into()));
        };
        let (url, t) = (&self.url, &self.topology);
        let opened = rt.block_on(async {
            let (conn, ch) = open(url, t).await?;
            ch.confirm_select(ConfirmSelectOptions::default())
                .await
                .map_err(|e| StreamError::amqp("enabling publisher confirms", e))?;
            Ok::<_, StreamError>((conn, ch))
        })?;
        self.conn = Some(opened);
        Ok(())
    }

    fn send(&mut self, batch: &[Record]) -> Result<(), StreamError> {
        let (Some(rt), Some((_, ch))) = (&self.rt, &self.conn) else {
            return Err(StreamError::Stopped("not connected".into()));
        };
        let t = &self.topology;
        let confirms = &mut self.confirms;
        rt.block_on(async {
            let publish = |body: Vec<u8>, props: BasicProperties| async move {
                ch.basic_publish(
                    t.exchange.as_str().into(),
                    t.routing_key.as_str().into(),
                    BasicPublishOptions::default(),
                    &body,
                    props,
                )
                .await
                .map_err(|e| StreamError::amqp(format!("publishing to {}", t.exchange), e))
            };
            if batch.iter().all(|r| r.kind == RecordKind::Antinex) {
                // AntiNex processors expect one packet envelope per message.
                for r in batch {
                    let props =
                        persistent("application/json").with_message_id(r.id.as_str().into());
                    confirms.push(publish(antinex::kombu::amqp_body(r), props).await?);
                }
            } else {
                let props = persistent("application/x-ndjson");
                confirms.push(publish(wire::encode(batch), props).await?);
            }
            Ok(())
        })
    }

    fn confirm(&mut self) -> Result<(), StreamError> {
        let Some(rt) = &self.rt else {
            return Err(StreamError::Stopped("not connected".into()));
        };
        let confirms = std::mem::take(&mut self.confirms);
        rt.block_on(async {
            for c in confirms {
                let conf = c
                    .await
                    .map_err(|e| StreamError::amqp("waiting for a publisher confirm", e))?;
                if conf.is_nack() {
                    return Err(StreamError::Nack);
                }
            }
            Ok(())
        })
    }

    fn describe(&self) -> String {
        format!(
            "{} exchange {}",
            crate::redact(&self.url),
            self.topology.exchange
        )
    }
}

/// Consumes a queue with manual acks and a prefetch window.
pub struct AmqpConsumer {
    url: String,
    topology: Topology,
    prefetch: u16,
    tag: String,
    conn: Option<(Connection, Channel, lapin::Consumer)>,
    // Last: the connection is dropped while its runtime still runs.
    rt: tokio::runtime::Runtime,
}

impl AmqpConsumer {
    /// Consumes the queue of `topology`, at most `prefetch` messages unacknowledged.
    ///
    /// # Errors
    /// The broker is unreachable or refused the declarations.
    pub fn open(
        url: &str,
        topology: Topology,
        prefetch: u16,
        tag: &str,
    ) -> Result<Self, StreamError> {
        let mut c = AmqpConsumer {
            url: url.to_owned(),
            topology,
            prefetch,
            tag: tag.to_owned(),
            rt: runtime()?,
            conn: None,
        };
        c.reconnect()?;
        Ok(c)
    }
}

/// The next item of a stream.
async fn next<S: Stream + Unpin>(s: &mut S) -> Option<S::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *s).poll_next(cx)).await
}

impl Source for AmqpConsumer {
    fn fetch(&mut self, max: usize, wait: Duration) -> Result<Vec<Delivery>, StreamError> {
        let Some((_, _, consumer)) = &mut self.conn else {
            return Err(StreamError::Stopped("not connected".into()));
        };
        let queue = self.topology.queue.clone();
        self.rt.block_on(async {
            let mut out = Vec::new();
            let mut limit = wait;
            while out.len() < max {
                match tokio::time::timeout(limit, next(consumer)).await {
                    Err(_) => break,
                    Ok(None) => {
                        return Err(StreamError::Stopped(format!(
                            "consumer of {queue} cancelled"
                        )));
                    }
                    Ok(Some(Err(e))) => return Err(StreamError::amqp("consuming", e)),
                    Ok(Some(Ok(d))) => {
                        out.push(Delivery {
                            tag: Tag::Delivery(d.delivery_tag),
                            origin: format!("{queue}#{}", d.delivery_tag),
                            payload: d.data,
                        });
                        limit = Duration::ZERO;
                    }
                }
            }
            Ok(out)
        })
    }

    fn ack(&mut self, tags: &[Tag]) -> Result<(), StreamError> {
        let Some((_, ch, _)) = &self.conn else {
            return Err(StreamError::Stopped("not connected".into()));
        };
        let Some(max) = tags
            .iter()
            .filter_map(|t| match t {
                Tag::Delivery(n) => Some(*n),
                _ => None,
            })
            .max()
        else {
            return Ok(());
        };
        // Delivery tags grow on a channel: acking the largest with `multiple` acks all.
        self.rt.block_on(async {
            ch.basic_ack(max, BasicAckOptions { multiple: true })
                .await
                .map_err(|e| StreamError::amqp("basic.ack", e))
        })
    }

    fn dead_letter(
        &mut self,
        origin: &str,
        reason: &str,
        payload: &[u8],
    ) -> Result<(), StreamError> {
        let Some((_, ch, _)) = &self.conn else {
            return Err(StreamError::Stopped("not connected".into()));
        };
        let dead = format!("{}.dead", self.topology.queue);
        let body = serde_json::json!({
            "reason": reason,
            "origin": origin,
            "payload": String::from_utf8_lossy(payload),
        })
        .to_string();
        self.rt.block_on(async {
            ch.queue_declare(
                dead.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| StreamError::amqp(format!("declaring {dead}"), e))?;
            ch.basic_publish(
                "".into(),
                dead.as_str().into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                persistent("application/json"),
            )
            .await
            .map_err(|e| StreamError::amqp(format!("publishing to {dead}"), e))?;
            Ok(())
        })
    }

    fn reconnect(&mut self) -> Result<(), StreamError> {
        self.conn = None;
        let (url, t, prefetch, tag) = (&self.url, &self.topology, self.prefetch, &self.tag);
        let opened = self.rt.block_on(async {
            let (conn, ch) = open(url, t).await?;
            ch.basic_qos(prefetch, BasicQosOptions::default())
                .await
                .map_err(|e| StreamError::amqp("basic.qos", e))?;
            let consumer = ch
                .basic_consume(
                    t.queue.as_str().into(),
                    tag.as_str().into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(|e| StreamError::amqp(format!("consuming {}", t.queue), e))?;
            Ok::<_, StreamError>((conn, ch, consumer))
        })?;
        self.conn = Some(opened);
        Ok(())
    }

    fn describe(&self) -> String {
        format!("{} queue {}", crate::redact(&self.url), self.topology.queue)
    }
}
