//! Where Faucet events come from.
//!
//! * [`run_socket`]: Faucet's event socket. Faucet is the server and accepts one client;
//!   we connect, read `\n`-terminated lines (buffering a line cut across reads, which
//!   Poseidon's adapter does not), and on EOF or error reconnect with exponential backoff
//!   (100 ms doubling to 5 s, reset once connected). With a heartbeat interval configured
//!   (`FAUCET_EVENT_SOCK_HEARTBEAT`), silence for three intervals means Faucet is gone
//!   without closing the socket, and we reconnect.
//! * [`run_rabbit`]: RabbitMQ, as Poseidon's event adapter publishes: exchange
//!   `topic_recs` (topic), routing key `FAUCET.Event`, one event per message body.

use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, watch};

use crate::config::RabbitConfig;
use crate::error::SdnError;

/// Lines longer than this are dropped as malformed (Faucet's events are a few hundred
/// bytes; a stack topology with many DPs a few kilobytes).
pub const MAX_LINE: usize = 1 << 20;
/// First reconnect delay.
pub const BACKOFF_MIN: Duration = Duration::from_millis(100);
/// Longest reconnect delay.
pub const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// What a source hands the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// One line or message body.
    Line(Vec<u8>),
    /// A line that could not be read whole (too long, cut by a disconnect).
    Broken(&'static str),
    /// Connected to the source (description).
    Connected(String),
    /// Lost the source (why).
    Disconnected(String),
}

/// Reads Faucet's event socket until `stop` turns true, reconnecting as needed.
pub async fn run_socket(
    path: PathBuf,
    heartbeat: Option<Duration>,
    tx: mpsc::Sender<Input>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        if *stop.borrow() {
            return;
        }
        let stream = tokio::select! {
            s = UnixStream::connect(&path) => s,
            _ = stop.changed() => return,
        };
        match stream {
            Ok(stream) => {
                backoff = BACKOFF_MIN;
                if tx
                    .send(Input::Connected(format!("socket {}", path.display())))
                    .await
                    .is_err()
                {
                    return;
                }
                let why = read_lines(stream, heartbeat, &tx, &mut stop).await;
                match why {
                    None => return,
                    Some(why) => {
                        if tx.send(Input::Disconnected(why)).await.is_err() {
                            return;
                        }
                    }
                }
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), %e, "event socket connect failed");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

/// Reads lines until the connection ends (`Some(why)`) or we are stopped (`None`).
async fn read_lines(
    stream: UnixStream,
    heartbeat: Option<Duration>,
    tx: &mpsc::Sender<Input>,
    stop: &mut watch::Receiver<bool>,
) -> Option<String> {
    let mut reader = BufReader::with_capacity(64 * 1024, stream);
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut skipping = false;
    let silence = heartbeat.map(|h| h * 3);
    loop {
        let read = async {
            match silence {
                Some(d) => tokio::time::timeout(d, reader.read_until(b'\n', &mut buf))
                    .await
                    .unwrap_or_else(|_| {
                        Err(std::io::Error::new(
                            std::io::ErrorKind::TimedOut,
                            "no event or heartbeat for three heartbeat intervals",
                        ))
                    }),
                None => reader.read_until(b'\n', &mut buf).await,
            }
        };
        let n = tokio::select! {
            r = read => r,
            _ = stop.changed() => return None,
        };
        match n {
            Ok(0) => {
                if !buf.is_empty() && !skipping {
                    let _ = tx.send(Input::Broken("truncated_line")).await;
                }
                return Some("end of stream".into());
            }
            Ok(_) => {
                if buf.last() != Some(&b'\n') {
                    // Partial line so far; read_until returns only at `\n` or EOF, so this
                    // is EOF on the next call. Guard the length meanwhile.
                    if buf.len() > MAX_LINE {
                        buf.clear();
                        skipping = true;
                    }
                    continue;
                }
                if skipping || buf.len() > MAX_LINE {
                    skipping = false;
                    buf.clear();
                    if tx.send(Input::Broken("line_too_long")).await.is_err() {
                        return None;
                    }
                    continue;
                }
                let line = std::mem::take(&mut buf);
                let trimmed = trim(&line);
                if trimmed.is_empty() {
                    continue;
                }
                if tx.send(Input::Line(trimmed.to_vec())).await.is_err() {
                    return None;
                }
            }
            Err(e) => return Some(e.to_string()),
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    b.get(start..end).unwrap_or_default()
}

/// Consumes Faucet events from RabbitMQ until `stop`, reconnecting with backoff.
pub async fn run_rabbit(
    cfg: RabbitConfig,
    tx: mpsc::Sender<Input>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = BACKOFF_MIN;
    loop {
        if *stop.borrow() {
            return;
        }
        let res = tokio::select! {
            r = consume_rabbit(&cfg, &tx, &mut backoff) => r,
            _ = stop.changed() => return,
        };
        let why = match res {
            Ok(()) => "consumer ended".to_string(),
            Err(e) => e.to_string(),
        };
        tracing::warn!(why, "RabbitMQ input lost; reconnecting");
        if tx.send(Input::Disconnected(why)).await.is_err() {
            return;
        }
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

fn rabbit_err(what: &str) -> impl Fn(lapin::Error) -> SdnError + '_ {
    move |e| SdnError::Rabbit {
        what: what.to_string(),
        detail: e.to_string(),
    }
}

async fn consume_rabbit(
    cfg: &RabbitConfig,
    tx: &mpsc::Sender<Input>,
    backoff: &mut Duration,
) -> Result<(), SdnError> {
    use lapin::options::{
        BasicAckOptions, BasicConsumeOptions, ExchangeDeclareOptions, QueueBindOptions,
        QueueDeclareOptions,
    };
    use lapin::types::FieldTable;

    let conn = lapin::Connection::connect(&cfg.uri, lapin::ConnectionProperties::default())
        .await
        .map_err(rabbit_err("connect"))?;
    let ch = conn
        .create_channel()
        .await
        .map_err(rabbit_err("create channel"))?;
    // As the adapter and Poseidon declare it (pika defaults: not durable).
    ch.exchange_declare(
        cfg.exchange.as_str().into(),
        lapin::ExchangeKind::Topic,
        ExchangeDeclareOptions::default(),
        FieldTable::default(),
    )
    .await
    .map_err(rabbit_err("declare exchange"))?;
    let (qname, qopts) = if cfg.queue.is_empty() {
        (
            String::new(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..QueueDeclareOptions::default()
            },
        )
    } else {
        (
            cfg.queue.clone(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
        )
    };
    let q = ch
        .queue_declare(qname.as_str().into(), qopts, FieldTable::default())
        .await
        .map_err(rabbit_err("declare queue"))?;
    let qname = q.name().to_string();
    for key in [cfg.routing_key.clone(), format!("{}.#", cfg.routing_key)] {
        ch.queue_bind(
            qname.as_str().into(),
            cfg.exchange.as_str().into(),
            key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(rabbit_err("bind queue"))?;
    }
    let mut consumer = ch
        .basic_consume(
            qname.as_str().into(),
            "trident-sdn".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(rabbit_err("consume"))?;
    *backoff = BACKOFF_MIN;
    if tx
        .send(Input::Connected(format!(
            "rabbitmq {} queue {qname}",
            cfg.exchange
        )))
        .await
        .is_err()
    {
        return Ok(());
    }
    loop {
        let next = std::future::poll_fn(|cx| {
            futures_core::Stream::poll_next(std::pin::Pin::new(&mut consumer), cx)
        })
        .await;
        let Some(delivery) = next else {
            return Ok(());
        };
        let delivery = delivery.map_err(rabbit_err("delivery"))?;
        let body = trim(&delivery.data).to_vec();
        delivery
            .ack(BasicAckOptions::default())
            .await
            .map_err(rabbit_err("ack"))?;
        if tx.send(Input::Line(body)).await.is_err() {
            return Ok(());
        }
    }
}
