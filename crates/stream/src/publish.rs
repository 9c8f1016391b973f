//! The publishing side: a bounded queue in front of a worker thread that owns the broker
//! connection, retries with backoff, and waits for the broker's confirmation.
//!
//! Memory is bounded by `queue_batches × batch` records: when the broker is unreachable the
//! worker keeps retrying (logging each failure with the wait before the next attempt), the
//! queue fills, and then [`Publisher::publish`] blocks. Nothing is spilled to disk: the
//! producers here (decode, flows, capture) can all be paused or replayed, and capture keeps
//! writing its own pcapng files while blocked in publish only if its kernel buffer holds.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::StreamError;
use crate::backoff::Backoff;
use crate::record::Record;

/// A broker connection that can send batches of records.
pub trait Transport: Send {
    /// Opens (or reopens) the connection and declares what it needs.
    ///
    /// # Errors
    /// The broker is unreachable or refused.
    fn connect(&mut self) -> Result<(), StreamError>;
    /// Sends one batch. It may stay unconfirmed until [`Transport::confirm`].
    ///
    /// # Errors
    /// The connection failed; the batch must be sent again after reconnecting.
    fn send(&mut self, batch: &[Record]) -> Result<(), StreamError>;
    /// Waits until the broker has confirmed everything sent so far.
    ///
    /// # Errors
    /// The connection failed or the broker refused a message: everything unconfirmed must
    /// be sent again.
    fn confirm(&mut self) -> Result<(), StreamError> {
        Ok(())
    }
    /// A description for log lines (URL without password, stream or queue).
    fn describe(&self) -> String;
}

/// How a [`Publisher`] batches and queues.
#[derive(Debug, Clone, Copy)]
pub struct PublisherOptions {
    /// Records per broker message.
    pub batch: usize,
    /// Batches held in memory while the broker is slow or unreachable.
    pub queue_batches: usize,
    /// Batches sent before waiting for the broker's confirmation.
    pub confirm_every: usize,
    /// Give up (error) after the broker has been unreachable this long; `None`: retry for
    /// ever (the producer blocks once the queue is full).
    pub give_up_after: Option<Duration>,
}

impl Default for PublisherOptions {
    fn default() -> Self {
        PublisherOptions {
            batch: crate::DEFAULT_BATCH,
            queue_batches: 64,
            confirm_every: 32,
            give_up_after: None,
        }
    }
}

/// What a publisher did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PublishStats {
    /// Records confirmed by the broker.
    pub records: u64,
    /// Batches confirmed.
    pub batches: u64,
    /// Failed attempts (each followed by a reconnect and a resend).
    pub retries: u64,
}

/// Publishes records in batches through a worker thread.
pub struct Publisher {
    buf: Vec<Record>,
    batch: usize,
    tx: Option<SyncSender<Vec<Record>>>,
    worker: Option<JoinHandle<Result<PublishStats, StreamError>>>,
}

impl Publisher {
    /// Starts the worker. It connects lazily, on the first batch.
    #[must_use]
    pub fn start(transport: Box<dyn Transport>, options: PublisherOptions) -> Self {
        let batch = options.batch.max(1);
        let (tx, rx) = sync_channel(options.queue_batches.max(1));
        let worker = std::thread::Builder::new()
            .name("trident-publish".into())
            .spawn(move || work(transport, &rx, options))
            .ok();
        Publisher {
            buf: Vec::with_capacity(batch),
            batch,
            tx: Some(tx),
            worker,
        }
    }

    /// Queues one record; blocks while the queue is full.
    ///
    /// # Errors
    /// The worker stopped (it gave up on the broker): [`Publisher::finish`] says why.
    pub fn publish(&mut self, record: Record) -> Result<(), StreamError> {
        self.buf.push(record);
        if self.buf.len() >= self.batch {
            self.send_buf()?;
        }
        Ok(())
    }

    fn send_buf(&mut self) -> Result<(), StreamError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.buf, Vec::with_capacity(self.batch));
        let Some(tx) = &self.tx else {
            return Err(StreamError::Stopped("already finished".into()));
        };
        match tx.try_send(batch) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(batch)) => {
                tracing::debug!("publish queue full; waiting for the broker");
                tx.send(batch)
                    .map_err(|_| StreamError::Stopped("the publisher's worker ended".into()))
            }
            Err(TrySendError::Disconnected(_)) => {
                Err(StreamError::Stopped("the publisher's worker ended".into()))
            }
        }
    }

    /// Queues one record without ever blocking, for a producer that must not stall (a
    /// live capture): when the record completes a batch and the queue is full, that whole
    /// batch is dropped. Returns the number of records dropped (0 when queued). The queue
    /// still bounds memory to `queue_batches × batch` records.
    ///
    /// # Errors
    /// The worker stopped (it gave up on the broker): [`Publisher::finish`] says why.
    pub fn publish_or_drop(&mut self, record: Record) -> Result<usize, StreamError> {
        self.buf.push(record);
        if self.buf.len() >= self.batch {
            return self.try_send_buf();
        }
        Ok(0)
    }

    /// Hands a partly filled batch to the worker without blocking (so records do not
    /// wait for a full batch when traffic is light); when the queue is full the batch is
    /// dropped. Returns the number of records dropped.
    ///
    /// # Errors
    /// The worker stopped.
    pub fn flush_or_drop(&mut self) -> Result<usize, StreamError> {
        self.try_send_buf()
    }

    fn try_send_buf(&mut self) -> Result<usize, StreamError> {
        if self.buf.is_empty() {
            return Ok(0);
        }
        let batch = std::mem::replace(&mut self.buf, Vec::with_capacity(self.batch));
        let Some(tx) = &self.tx else {
            return Err(StreamError::Stopped("already finished".into()));
        };
        match tx.try_send(batch) {
            Ok(()) => Ok(0),
            Err(TrySendError::Full(batch)) => Ok(batch.len()),
            Err(TrySendError::Disconnected(_)) => {
                Err(StreamError::Stopped("the publisher's worker ended".into()))
            }
        }
    }

    /// Sends what is buffered, waits until the broker confirmed everything, and stops.
    ///
    /// # Errors
    /// The worker gave up on the broker, or could not be started.
    pub fn finish(mut self) -> Result<PublishStats, StreamError> {
        let sent = self.send_buf();
        self.tx = None;
        let stats = match self.worker.take() {
            Some(w) => w
                .join()
                .map_err(|_| StreamError::Stopped("the publisher's worker panicked".into()))?,
            None => Err(StreamError::Stopped(
                "could not start the worker thread".into(),
            )),
        };
        // The worker's own error explains a failed send best.
        let stats = stats?;
        sent?;
        Ok(stats)
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// The worker loop: send, confirm every `confirm_every` batches (or when idle), and on any
/// failure reconnect with backoff and resend everything unconfirmed.
fn work(
    mut transport: Box<dyn Transport>,
    rx: &Receiver<Vec<Record>>,
    options: PublisherOptions,
) -> Result<PublishStats, StreamError> {
    let mut stats = PublishStats::default();
    let mut unconfirmed: Vec<Vec<Record>> = Vec::new();
    let mut connected = false;
    let mut backoff = Backoff::new();
    let mut down_since: Option<Instant> = None;
    let mut closed = false;
    // Batches of `unconfirmed` already sent on the current connection.
    let mut sent = 0usize;
    loop {
        // Take the next batch unless the channel is closed and drained.
        let next = if closed {
            None
        } else if unconfirmed.is_empty() {
            match rx.recv() {
                Ok(b) => Some(b),
                Err(_) => {
                    closed = true;
                    None
                }
            }
        } else {
            match rx.recv_timeout(Duration::from_millis(5)) {
                Ok(b) => Some(b),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    closed = true;
                    None
                }
            }
        };
        let must_confirm = next.is_none() || unconfirmed.len() + 1 >= options.confirm_every;
        if let Some(b) = next {
            unconfirmed.push(b);
        }
        if closed && unconfirmed.is_empty() {
            return Ok(stats);
        }
        // Send the newest batch (or everything, after a reconnect), then maybe confirm.
        let attempt = (|| -> Result<(), StreamError> {
            if !connected {
                transport.connect()?;
                connected = true;
                sent = 0;
            }
            while let Some(b) = unconfirmed.get(sent) {
                transport.send(b)?;
                sent += 1;
            }
            if must_confirm {
                transport.confirm()?;
            }
            Ok(())
        })();
        match attempt {
            Ok(()) => {
                if down_since.take().is_some() {
                    tracing::warn!("broker {} reachable again", transport.describe());
                }
                backoff.reset();
                if must_confirm {
                    sent = 0;
                    for b in unconfirmed.drain(..) {
                        stats.records += b.len() as u64;
                        stats.batches += 1;
                    }
                }
            }
            Err(e) => {
                connected = false;
                stats.retries += 1;
                let since = *down_since.get_or_insert_with(Instant::now);
                if let Some(limit) = options.give_up_after
                    && since.elapsed() >= limit
                {
                    return Err(e);
                }
                let wait = backoff.next_wait();
                tracing::warn!(
                    "broker {} unreachable: {e}; retrying in {} ms ({} records waiting to be confirmed)",
                    transport.describe(),
                    wait.as_millis(),
                    unconfirmed.iter().map(Vec::len).sum::<usize>()
                );
                eprintln!(
                    "trident: broker {} unreachable: {e}; retrying in {} ms",
                    transport.describe(),
                    wait.as_millis()
                );
                std::thread::sleep(wait);
            }
        }
    }
}
