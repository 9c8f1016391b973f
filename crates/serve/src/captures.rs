//! Uploaded captures: streamed to `<data-dir>/uploads/<id>.<ext>`, then ingested in the
//! background by one worker task, with their state kept beside them in `<id>.json` so a
//! restarted server lists them and resumes unfinished ingests.
//!
//! A file name sent by the client is metadata only: the stored file is always named by a
//! random id chosen here, so no request can name a path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};

/// The uploads directory inside the data directory.
pub const UPLOADS_DIR: &str = "uploads";

/// Length of an upload id in hex digits.
pub(crate) const UPLOAD_ID_LEN: usize = 16;

/// Where a capture is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaptureStatus {
    /// Received, waiting for the ingest worker.
    Queued,
    /// Being read into the store.
    Ingesting,
    /// In the store.
    Done,
    /// The same bytes were already in the store; nothing was added.
    Skipped,
    /// Could not be ingested (`error` says why).
    Failed,
}

/// A capture as the API shows it: an upload (id of 16 hex digits) or a file ingested
/// otherwise, e.g. by `trident ingest` (id: the store's number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CaptureInfo {
    /// The capture's id in this API.
    pub id: String,
    /// The file name given at upload (metadata only) or the ingested file's base name.
    pub name: String,
    /// SHA-256 of its bytes, once known.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sha256: Option<String>,
    /// The sensor its counts are filed under.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sensor: Option<String>,
    /// Size in bytes.
    pub size: u64,
    /// Packets read, once ingested.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub packets: Option<u64>,
    /// Flows stored for it, once ingested.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub flows: Option<u64>,
    /// Hosts stored for it, once ingested.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hosts: Option<u64>,
    /// Where it is in its life.
    pub status: CaptureStatus,
    /// Ingest progress, 0 to 1 (`bytes_read / size`).
    pub progress: f64,
    /// Bytes of the file the ingest has read so far.
    pub bytes_read: u64,
    /// Why ingestion failed, or what damage was met (counted up to the damage).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// When it was received (RFC 3339 UTC; for files ingested otherwise, when ingested).
    pub uploaded_at: String,
    /// When it was ingested (RFC 3339 UTC).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ingested_at: Option<String>,
    /// The store's number for it, once ingested.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub store_id: Option<i64>,
}

/// One upload the server knows of.
pub(crate) struct Entry {
    pub(crate) info: CaptureInfo,
    /// Stored file name inside the uploads directory (`<id>.<ext>`).
    pub(crate) file: String,
    /// Bytes read by the ingest, updated while it runs.
    pub(crate) read: Arc<AtomicU64>,
}

/// The registry of uploads and the worker's queue.
pub(crate) struct Uploads {
    dir: Option<PathBuf>,
    map: Mutex<BTreeMap<String, Entry>>,
    tx: mpsc::UnboundedSender<String>,
    rx: Mutex<Option<mpsc::UnboundedReceiver<String>>>,
    started: AtomicBool,
}

/// The stored manifest of an upload (its [`CaptureInfo`] and file name).
#[derive(Serialize, Deserialize)]
struct Manifest {
    info: CaptureInfo,
    file: String,
}

impl Uploads {
    /// Opens the uploads directory, loading the manifests found there; unfinished ingests
    /// are queued again.
    pub(crate) fn open(dir: &Path) -> ApiResult<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| ApiError::internal(format!("creating {}: {e}", dir.display())))?;
        let (tx, rx) = mpsc::unbounded_channel();
        let mut map = BTreeMap::new();
        let listing = std::fs::read_dir(dir)
            .map_err(|e| ApiError::internal(format!("listing {}: {e}", dir.display())))?;
        let mut names: Vec<PathBuf> = listing.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names {
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(mut m) = serde_json::from_str::<Manifest>(&text) else {
                tracing::warn!(path = %path.display(), "ignoring an unreadable upload manifest");
                continue;
            };
            if !valid_upload_id(&m.info.id) || !dir.join(&m.file).is_file() {
                continue;
            }
            if matches!(
                m.info.status,
                CaptureStatus::Queued | CaptureStatus::Ingesting
            ) {
                m.info.status = CaptureStatus::Queued;
                m.info.progress = 0.0;
                m.info.bytes_read = 0;
                let _ = tx.send(m.info.id.clone());
            }
            map.insert(
                m.info.id.clone(),
                Entry {
                    info: m.info,
                    file: m.file,
                    read: Arc::new(AtomicU64::new(0)),
                },
            );
        }
        Ok(Uploads {
            dir: Some(dir.to_owned()),
            map: Mutex::new(map),
            tx,
            rx: Mutex::new(Some(rx)),
            started: AtomicBool::new(false),
        })
    }

    /// A registry that accepts nothing (Redis store).
    pub(crate) fn disabled() -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        Uploads {
            dir: None,
            map: Mutex::new(BTreeMap::new()),
            tx,
            rx: Mutex::new(Some(rx)),
            started: AtomicBool::new(true),
        }
    }

    /// The uploads directory, when uploads are accepted.
    pub(crate) fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// Takes the worker's queue, once.
    pub(crate) fn take_queue(&self) -> Option<mpsc::UnboundedReceiver<String>> {
        if self.started.swap(true, Ordering::SeqCst) {
            return None;
        }
        self.rx
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a received upload, saves its manifest and queues it.
    pub(crate) fn add(&self, info: CaptureInfo, file: String) -> ApiResult<()> {
        self.save(&info, &file)?;
        let id = info.id.clone();
        self.lock().insert(
            id.clone(),
            Entry {
                info,
                file,
                read: Arc::new(AtomicU64::new(0)),
            },
        );
        self.tx
            .send(id)
            .map_err(|_| ApiError::Unavailable("the ingest worker has stopped".to_owned()))
    }

    /// The current view of an upload, progress included.
    pub(crate) fn get(&self, id: &str) -> Option<CaptureInfo> {
        self.lock().get(id).map(view)
    }

    /// Every upload, oldest first.
    pub(crate) fn all(&self) -> Vec<CaptureInfo> {
        let mut v: Vec<CaptureInfo> = self.lock().values().map(view).collect();
        v.sort_by(|a, b| a.uploaded_at.cmp(&b.uploaded_at).then(a.id.cmp(&b.id)));
        v
    }

    /// The stored file's path and the progress counter of an upload.
    pub(crate) fn file_of(&self, id: &str) -> Option<(PathBuf, Arc<AtomicU64>)> {
        let dir = self.dir.as_ref()?;
        self.lock()
            .get(id)
            .map(|e| (dir.join(&e.file), Arc::clone(&e.read)))
    }

    /// Changes an upload's state and saves its manifest.
    pub(crate) fn update(&self, id: &str, f: impl FnOnce(&mut CaptureInfo)) {
        let saved = {
            let mut map = self.lock();
            let Some(e) = map.get_mut(id) else {
                return;
            };
            f(&mut e.info);
            (e.info.clone(), e.file.clone())
        };
        if let Err(e) = self.save(&saved.0, &saved.1) {
            tracing::warn!(id, error = %e, "saving an upload manifest");
        }
    }

    /// Forgets an upload and deletes its file and manifest; returns what it was.
    pub(crate) fn remove(&self, id: &str) -> ApiResult<Option<CaptureInfo>> {
        let Some(dir) = self.dir.as_ref() else {
            return Ok(None);
        };
        let Some(e) = self.lock().remove(id) else {
            return Ok(None);
        };
        for p in [dir.join(&e.file), dir.join(format!("{id}.json"))] {
            match std::fs::remove_file(&p) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(ApiError::internal(format!(
                        "removing {}: {err}",
                        p.display()
                    )));
                }
            }
        }
        Ok(Some(e.info))
    }

    fn save(&self, info: &CaptureInfo, file: &str) -> ApiResult<()> {
        let Some(dir) = self.dir.as_ref() else {
            return Ok(());
        };
        let m = Manifest {
            info: info.clone(),
            file: file.to_owned(),
        };
        let text = serde_json::to_vec_pretty(&m).map_err(ApiError::internal)?;
        let tmp = dir.join(format!("{}.json.tmp", info.id));
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, dir.join(format!("{}.json", info.id))))
            .map_err(|e| ApiError::internal(format!("writing the manifest of {}: {e}", info.id)))
    }
}

fn view(e: &Entry) -> CaptureInfo {
    let mut info = e.info.clone();
    if info.status == CaptureStatus::Ingesting {
        info.bytes_read = e.read.load(Ordering::Relaxed).min(info.size);
        info.progress = if info.size == 0 {
            0.0
        } else {
            // Never 1 before the store has the file.
            (info.bytes_read as f64 / info.size as f64).min(0.99)
        };
    }
    info
}

/// True for an id this server gives uploads (16 lower-case hex digits).
pub(crate) fn valid_upload_id(id: &str) -> bool {
    id.len() == UPLOAD_ID_LEN && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// A fresh random upload id.
pub(crate) fn new_upload_id() -> ApiResult<String> {
    let mut b = [0u8; UPLOAD_ID_LEN / 2];
    getrandom::fill(&mut b).map_err(|e| ApiError::internal(format!("random id: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}
