//! The server's shared state: where the data is, a pool of store connections, the upload
//! registry, the metrics and the token.
//!
//! SQLite calls block, so every store call runs on tokio's blocking pool
//! ([`AppState::read`], [`AppState::write`]). Readers come from a small pool of read
//! connections (WAL mode lets them run beside the one writer); the writer, used by the
//! ingest worker, removals and on-demand classification, is one connection behind a mutex.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use trident_index::{RedisStore, SqliteStore, Store};

use axum::body::Bytes;
use axum::response::{IntoResponse, Response};

use crate::cache::AnswerCache;
use crate::captures::Uploads;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;

/// Where the served data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The embedded store in this data directory (uploads go to `<dir>/uploads`).
    Dir(PathBuf),
    /// A Redis server in potiron's layout: counts only (top, series, parallel).
    Redis(String),
}

/// How the server is set up.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The data.
    pub source: DataSource,
    /// The token every route but `/metrics` and `/api/v1/health` needs; `None` on loopback.
    pub token: Option<String>,
    /// Largest accepted upload in bytes.
    pub max_upload_bytes: u64,
}

/// Read connections kept open between requests; more are opened under load and closed
/// when the pool is full.
const MAX_IDLE_READERS: usize = 8;

/// The state every handler receives (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) opts: ServeOptions,
    readers: Mutex<Vec<SqliteStore>>,
    #[allow(clippy::vec_box)] // pooled as boxes: a Conn moves them in and out cheaply
    redis: Mutex<Vec<Box<RedisStore>>>,
    writer: Mutex<Option<SqliteStore>>,
    pub(crate) uploads: Uploads,
    pub(crate) metrics: Metrics,
    pub(crate) cache: AnswerCache,
}

/// A read connection of either kind, lent for one call.
pub(crate) enum Conn {
    Sqlite(SqliteStore),
    Redis(Box<RedisStore>),
}

impl Conn {
    /// The count queries' view of the connection.
    pub(crate) fn store(&mut self) -> &mut dyn Store {
        match self {
            Conn::Sqlite(s) => s,
            Conn::Redis(r) => r.as_mut(),
        }
    }

    /// The embedded store, or the 501 saying Redis keeps counts only.
    pub(crate) fn sqlite(&mut self) -> ApiResult<&mut SqliteStore> {
        match self {
            Conn::Sqlite(s) => Ok(s),
            Conn::Redis(_) => Err(redis_counts_only()),
        }
    }
}

/// The error for routes a Redis store cannot answer.
pub(crate) fn redis_counts_only() -> ApiError {
    ApiError::NotImplemented(
        "this server reads a Redis store, which keeps counts only (top, series, parallel); \
         hosts, flows, traffic, predictions and captures need the embedded store (--data-dir)"
            .to_owned(),
    )
}

impl AppState {
    /// Opens the store once (creating the embedded one and its uploads directory if
    /// needed) and builds the state.
    ///
    /// # Errors
    /// The store cannot be opened or the uploads directory created.
    pub fn new(opts: ServeOptions) -> Result<Self, ApiError> {
        let (readers, redis, writer) = match &opts.source {
            DataSource::Dir(dir) => {
                let w = SqliteStore::open(dir).map_err(|e| {
                    ApiError::internal(format!("opening the store in {}: {e}", dir.display()))
                })?;
                (Vec::new(), Vec::new(), Some(w))
            }
            DataSource::Redis(url) => {
                let r = RedisStore::open(url)
                    .map_err(|e| ApiError::internal(format!("connecting to {url}: {e}")))?;
                (Vec::new(), vec![Box::new(r)], None)
            }
        };
        let uploads = match &opts.source {
            DataSource::Dir(dir) => Uploads::open(&dir.join(crate::captures::UPLOADS_DIR))?,
            DataSource::Redis(_) => Uploads::disabled(),
        };
        Ok(AppState {
            inner: Arc::new(Inner {
                opts,
                readers: Mutex::new(readers),
                redis: Mutex::new(redis),
                writer: Mutex::new(writer),
                uploads,
                metrics: Metrics::new(),
                cache: AnswerCache::new(),
            }),
        })
    }

    /// The data directory, for the embedded store.
    #[must_use]
    pub fn data_dir(&self) -> Option<&Path> {
        match &self.inner.opts.source {
            DataSource::Dir(d) => Some(d),
            DataSource::Redis(_) => None,
        }
    }

    /// The options the state was built with.
    #[must_use]
    pub fn options(&self) -> &ServeOptions {
        &self.inner.opts
    }

    fn take_conn(&self) -> ApiResult<Conn> {
        match &self.inner.opts.source {
            DataSource::Dir(dir) => {
                let pooled = self
                    .inner
                    .readers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop();
                match pooled {
                    Some(s) => Ok(Conn::Sqlite(s)),
                    None => SqliteStore::open_read_only(dir)
                        .map(Conn::Sqlite)
                        .map_err(ApiError::internal),
                }
            }
            DataSource::Redis(url) => {
                let pooled = self
                    .inner
                    .redis
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .pop();
                match pooled {
                    Some(r) => Ok(Conn::Redis(r)),
                    None => RedisStore::open(url)
                        .map(|r| Conn::Redis(Box::new(r)))
                        .map_err(|e| {
                            ApiError::Unavailable(format!(
                                "the Redis store is unreachable: {}",
                                redis_reason(&e)
                            ))
                        }),
                }
            }
        }
    }

    fn give_back(&self, conn: Conn) {
        match conn {
            Conn::Sqlite(s) => {
                let mut pool = self
                    .inner
                    .readers
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if pool.len() < MAX_IDLE_READERS {
                    pool.push(s);
                }
            }
            Conn::Redis(r) => {
                let mut pool = self
                    .inner
                    .redis
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if pool.len() < MAX_IDLE_READERS {
                    pool.push(r);
                }
            }
        }
    }

    /// Runs `f` with a read connection on the blocking pool. A connection whose call
    /// failed is dropped rather than returned to the pool.
    pub(crate) async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> ApiResult<T> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = state.take_conn()?;
            let r = f(&mut conn);
            if !matches!(r, Err(ApiError::Internal(_) | ApiError::Unavailable(_))) {
                state.give_back(conn);
            }
            r
        })
        .await?
    }

    /// Runs `f` with the writable embedded store on the blocking pool (one at a time).
    pub(crate) async fn write<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut SqliteStore) -> ApiResult<T> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || state.write_blocking(f)).await?
    }

    /// [`AppState::write`] for code already on a blocking thread.
    pub(crate) fn write_blocking<T, F>(&self, f: F) -> ApiResult<T>
    where
        F: FnOnce(&mut SqliteStore) -> ApiResult<T>,
    {
        let mut guard = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let r = match guard.as_mut() {
            Some(w) => f(w),
            None => Err(redis_counts_only()),
        };
        // Whatever was written, cached answers may be stale now.
        self.inner.cache.bump();
        r
    }

    /// A JSON answer from the cache when the store has not changed since it was computed,
    /// else computed by `compute` (and kept). Only successful answers are kept.
    pub(crate) async fn cached<F, Fut>(&self, key: String, compute: F) -> ApiResult<Response>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = ApiResult<Bytes>>,
    {
        let cache = &self.inner.cache;
        let sig = match cache.fresh_signature() {
            Some(s) => s,
            None => {
                let s = self.read_signature().await?;
                cache.set_signature(s);
                s
            }
        };
        let version = cache.version(sig);
        let body = match cache.get(&key, version) {
            Some(b) => b,
            None => {
                let b = compute().await?;
                cache.put(key, version, b.clone());
                b
            }
        };
        Ok((
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response())
    }

    /// A signature of the store's contents that changes when a file is added or removed.
    async fn read_signature(&self) -> ApiResult<(i64, i64)> {
        self.read(|c| match c {
            Conn::Sqlite(s) => {
                let files = s.files()?;
                let packets: u64 = files.iter().map(|f| f.3).sum();
                Ok((
                    i64::try_from(files.len()).unwrap_or(i64::MAX),
                    i64::try_from(packets).unwrap_or(i64::MAX),
                ))
            }
            // Redis is written by others (potiron, `trident ingest`): answers live one
            // second at most.
            Conn::Redis(_) => {
                let secs = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                Ok((i64::try_from(secs).unwrap_or(0), 0))
            }
        })
        .await
    }
}

/// A Redis error's kind without its internals (addresses are fine, they came from the
/// operator's own `--store`).
fn redis_reason(e: &trident_index::IndexError) -> String {
    match e {
        trident_index::IndexError::Redis(r) => format!("{:?}", r.kind()),
        _ => "connection failed".to_owned(),
    }
}
