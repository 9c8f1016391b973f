//! A small cache of JSON answers for the hot read routes (`top`, `hosts`).
//!
//! An answer is kept with the store version it was computed at. The version is the pair
//! (this server's own write generation, a signature of the `files` table); the signature is
//! re-read at most every [`SIGNATURE_TTL`], so files ingested by another process (a
//! `trident ingest` beside the server) show within that delay, and every write made by this
//! server (upload ingest, delete, on-demand classification) shows at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;

/// How long a read of the files signature is trusted.
pub(crate) const SIGNATURE_TTL: Duration = Duration::from_millis(500);

/// Most answers kept; the cache is emptied when full (the hot set refills it at once).
const MAX_ENTRIES: usize = 4096;

/// A store version: this server's write generation and the files signature.
pub(crate) type Version = (u64, (i64, i64));

/// The cache.
pub(crate) struct AnswerCache {
    generation: AtomicU64,
    signature: Mutex<(Instant, Option<(i64, i64)>)>,
    answers: Mutex<HashMap<String, (Version, Bytes)>>,
}

impl AnswerCache {
    pub(crate) fn new() -> Self {
        AnswerCache {
            generation: AtomicU64::new(0),
            signature: Mutex::new((Instant::now(), None)),
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// Marks a write by this server: every kept answer is stale.
    pub(crate) fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The files signature if read recently enough.
    pub(crate) fn fresh_signature(&self) -> Option<(i64, i64)> {
        let g = self
            .signature
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        g.1.filter(|_| g.0.elapsed() < SIGNATURE_TTL)
    }

    /// Records a newly read files signature.
    pub(crate) fn set_signature(&self, sig: (i64, i64)) {
        *self
            .signature
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (Instant::now(), Some(sig));
    }

    /// The version answers are computed at now, given the files signature.
    pub(crate) fn version(&self, sig: (i64, i64)) -> Version {
        (self.generation.load(Ordering::SeqCst), sig)
    }

    /// A kept answer for `key` at `version`.
    pub(crate) fn get(&self, key: &str, version: Version) -> Option<Bytes> {
        let m = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        m.get(key)
            .filter(|(v, _)| *v == version)
            .map(|(_, b)| b.clone())
    }

    /// Keeps an answer.
    pub(crate) fn put(&self, key: String, version: Version, body: Bytes) {
        let mut m = self
            .answers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() >= MAX_ENTRIES {
            m.clear();
        }
        m.insert(key, (version, body));
    }
}
