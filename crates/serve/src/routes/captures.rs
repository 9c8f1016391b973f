//! Captures: upload (streamed to disk, sniffed, size-limited), list, progress, delete,
//! and on-demand classification of a capture or a host.

use std::path::PathBuf;

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use http_body_util::BodyExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use trident_index::records::{Capture, Prediction};
use utoipa::IntoParams;

use crate::captures::{CaptureInfo, CaptureStatus, new_upload_id, valid_upload_id};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::ingest::{classify_file, now_string};
use crate::sniff::{SNIFF_LEN, sniff};
use crate::state::{AppState, redis_counts_only};

/// A capture ingested otherwise than by upload, as the API shows it.
fn from_store(c: Capture) -> CaptureInfo {
    CaptureInfo {
        id: c.id.to_string(),
        name: c.name,
        sha256: Some(c.sha256),
        sensor: Some(c.sensor),
        size: c.size,
        packets: Some(c.packets),
        flows: Some(c.flows),
        hosts: Some(c.hosts),
        status: CaptureStatus::Done,
        progress: 1.0,
        bytes_read: c.size,
        error: None,
        uploaded_at: c.ingested_at.clone(),
        ingested_at: Some(c.ingested_at),
        store_id: Some(c.id),
    }
}

/// Every capture: uploads (whatever their state) and files ingested otherwise.
#[utoipa::path(get, path = "/api/v1/captures", tag = "captures",
    responses(
        (status = 200, description = "Captures, oldest first", body = [CaptureInfo]),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<CaptureInfo>>> {
    let stored = state.read(|c| Ok(c.sqlite()?.captures()?)).await?;
    let uploads = state.inner.uploads.all();
    let mut out: Vec<CaptureInfo> = stored
        .into_iter()
        .filter(|c| !uploads.iter().any(|u| u.store_id == Some(c.id)))
        .map(from_store)
        .collect();
    out.extend(uploads);
    out.sort_by(|a, b| a.uploaded_at.cmp(&b.uploaded_at).then(a.id.cmp(&b.id)));
    Ok(Json(out))
}

/// Query of an upload.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct UploadParams {
    /// The file's name, kept as metadata (the stored file is named by the server).
    #[param(schema_with = crate::params::name_schema)]
    name: Option<String>,
    /// The sensor to file the counts under (default: potiron's convention from `name`).
    #[param(schema_with = crate::params::sensor_schema)]
    sensor: Option<String>,
}

/// Longest accepted name or sensor, in characters.
const MAX_NAME: usize = 255;
/// Longest accepted sensor, in characters.
const MAX_SENSOR: usize = 128;

fn clean_text(param: &str, s: &str, max: usize) -> ApiResult<String> {
    let n = s.chars().count();
    if n == 0 || n > max {
        return Err(ApiError::param(
            param,
            format!("must be 1 to {max} characters"),
        ));
    }
    if s.chars().any(|c| c.is_control()) {
        return Err(ApiError::param(
            param,
            "must not contain control characters",
        ));
    }
    Ok(s.to_owned())
}

/// Bytes between two flushes of the upload counter into metrics.
const WRITE_CHUNK_HINT: usize = 1 << 20;

/// Upload a capture (the raw file as the body); it is ingested in the background.
#[utoipa::path(post, path = "/api/v1/captures", tag = "captures", params(UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream",
        description = "The capture: pcap (either byte order, micro- or nanosecond), pcapng, or either compressed with gzip or zstd"),
    responses(
        (status = 202, description = "Received and queued for ingestion", body = CaptureInfo),
        (status = 400, description = "A parameter is invalid or the body was cut", body = ErrorBody),
        (status = 413, description = "Larger than the server's upload limit", body = ErrorBody),
        (status = 415, description = "Not a capture", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn upload(
    State(state): State<AppState>,
    q: Result<Query<UploadParams>, QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<CaptureInfo>)> {
    let Query(p) = q?;
    let Some(dir) = state.inner.uploads.dir().map(PathBuf::from) else {
        return Err(redis_counts_only());
    };
    let metrics = &state.inner.metrics;
    let name = p
        .name
        .as_deref()
        .map(|n| clean_text("name", n, MAX_NAME))
        .transpose()?;
    // Only the last path component of a client's name is kept, and only as metadata.
    let name = name.map(|n| {
        n.rsplit(['/', '\\'])
            .find(|c| !c.is_empty())
            .unwrap_or("upload")
            .to_owned()
    });
    let sensor = p
        .sensor
        .as_deref()
        .map(|s| clean_text("sensor", s, MAX_SENSOR))
        .transpose()?;
    let max = state.inner.opts.max_upload_bytes;
    let too_large = || {
        ApiError::TooLarge(format!(
            "the upload is larger than this server's limit of {} MiB (--max-upload-mb)",
            max / (1024 * 1024)
        ))
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        metrics.upload("too_large");
        return Err(too_large());
    }
    let id = new_upload_id()?;
    let name = name.unwrap_or_else(|| format!("upload-{id}"));
    let mut body = body;
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_LEN);
    let mut file: Option<(tokio::fs::File, PathBuf, String)> = None;
    let mut size = 0u64;
    let mut unflushed = 0usize;
    let result: ApiResult<()> = async {
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                if is_length_limit(&e) {
                    too_large()
                } else {
                    ApiError::BadRequest(format!("the upload was cut short: {e}"))
                }
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            size += data.len() as u64;
            if size > max {
                return Err(too_large());
            }
            unflushed += data.len();
            if unflushed >= WRITE_CHUNK_HINT {
                metrics.upload_bytes.inc_by(unflushed as u64);
                unflushed = 0;
            }
            if file.is_none() {
                head.extend_from_slice(&data);
                if head.len() < SNIFF_LEN {
                    continue;
                }
                let kind = sniff(&head).map_err(ApiError::UnsupportedMediaType)?;
                let stored = format!("{id}.{}", kind.ext());
                let tmp = dir.join(format!("{stored}.part"));
                let mut f = tokio::fs::File::create(&tmp)
                    .await
                    .map_err(|e| ApiError::internal(format!("creating {}: {e}", tmp.display())))?;
                f.write_all(&head).await.map_err(ApiError::internal)?;
                file = Some((f, tmp, stored));
                continue;
            }
            if let Some((f, _, _)) = file.as_mut() {
                f.write_all(&data).await.map_err(ApiError::internal)?;
            }
        }
        Ok(())
    }
    .await;
    metrics.upload_bytes.inc_by(unflushed as u64);
    if let Err(e) = result {
        if let Some((_, tmp, _)) = &file {
            let _ = tokio::fs::remove_file(tmp).await;
        }
        metrics.upload(match e {
            ApiError::TooLarge(_) => "too_large",
            ApiError::UnsupportedMediaType(_) => "not_a_capture",
            _ => "failed",
        });
        return Err(e);
    }
    let Some((mut f, tmp, stored)) = file else {
        metrics.upload("not_a_capture");
        return Err(ApiError::UnsupportedMediaType(
            sniff(&head)
                .err()
                .unwrap_or_else(|| "not a capture".to_owned()),
        ));
    };
    f.flush().await.map_err(ApiError::internal)?;
    f.sync_all().await.map_err(ApiError::internal)?;
    drop(f);
    tokio::fs::rename(&tmp, dir.join(&stored))
        .await
        .map_err(|e| ApiError::internal(format!("renaming {}: {e}", tmp.display())))?;
    let info = CaptureInfo {
        id: id.clone(),
        name,
        sha256: None,
        sensor,
        size,
        packets: None,
        flows: None,
        hosts: None,
        status: CaptureStatus::Queued,
        progress: 0.0,
        bytes_read: 0,
        error: None,
        uploaded_at: now_string(),
        ingested_at: None,
        store_id: None,
    };
    let uploads = &state.inner.uploads;
    let state2 = state.clone();
    let info2 = info.clone();
    tokio::task::spawn_blocking(move || state2.inner.uploads.add(info2, stored)).await??;
    metrics.upload("accepted");
    Ok((StatusCode::ACCEPTED, Json(uploads.get(&id).unwrap_or(info))))
}

/// True when a body error is tower-http's length limit.
fn is_length_limit(e: &axum::Error) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        src = s.source();
    }
    false
}

/// A capture id in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct CaptureId {
    /// An upload's id (16 hex digits) or a stored file's number.
    #[param(pattern = "^([0-9a-f]{16}|[1-9][0-9]{0,17})$")]
    id: String,
}

/// Where a capture id points.
enum Target {
    Upload(String),
    Stored(i64),
}

fn target(id: &str) -> ApiResult<Target> {
    if valid_upload_id(id) {
        return Ok(Target::Upload(id.to_owned()));
    }
    if !id.is_empty()
        && id.len() <= 18
        && id.bytes().all(|b| b.is_ascii_digit())
        && !id.starts_with('0')
    {
        if let Ok(n) = id.parse::<i64>() {
            return Ok(Target::Stored(n));
        }
    }
    Err(ApiError::param(
        "id",
        format!("{id:?} is not a capture id (16 hex digits, or a stored file's number)"),
    ))
}

fn no_capture(id: &str) -> ApiError {
    ApiError::NotFound(format!("no capture {id}"))
}

/// One capture; poll it for `status` and `progress`.
#[utoipa::path(get, path = "/api/v1/captures/{id}", tag = "captures", params(CaptureId),
    responses(
        (status = 200, description = "The capture", body = CaptureInfo),
        (status = 400, description = "Not a capture id", body = ErrorBody),
        (status = 404, description = "No such capture", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn get(
    State(state): State<AppState>,
    p: Result<Path<CaptureId>, PathRejection>,
) -> ApiResult<Json<CaptureInfo>> {
    let Path(CaptureId { id }) = p?;
    if state.inner.uploads.dir().is_none() {
        return Err(redis_counts_only());
    }
    match target(&id)? {
        Target::Upload(u) => state
            .inner
            .uploads
            .get(&u)
            .map(Json)
            .ok_or_else(|| no_capture(&id)),
        Target::Stored(n) => state
            .read(move |c| Ok(c.sqlite()?.capture(n)?))
            .await?
            .map(|c| Json(from_store(c)))
            .ok_or_else(|| no_capture(&id)),
    }
}

/// Deletes a capture: its uploaded file, and its counts, flows, hosts and predictions.
#[utoipa::path(delete, path = "/api/v1/captures/{id}", tag = "captures", params(CaptureId),
    responses(
        (status = 204, description = "Deleted"),
        (status = 400, description = "Not a capture id", body = ErrorBody),
        (status = 404, description = "No such capture", body = ErrorBody),
        (status = 409, description = "The capture is being ingested", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn delete(
    State(state): State<AppState>,
    p: Result<Path<CaptureId>, PathRejection>,
) -> ApiResult<StatusCode> {
    let Path(CaptureId { id }) = p?;
    if state.inner.uploads.dir().is_none() {
        return Err(redis_counts_only());
    }
    let store_id = match target(&id)? {
        Target::Upload(u) => {
            let info = state.inner.uploads.get(&u).ok_or_else(|| no_capture(&id))?;
            if info.status == CaptureStatus::Ingesting {
                return Err(ApiError::Conflict(format!(
                    "capture {id} is being ingested; delete it when its status is done or failed"
                )));
            }
            let s = state.clone();
            tokio::task::spawn_blocking(move || s.inner.uploads.remove(&u)).await??;
            // A skipped upload added nothing of its own: the stored file is another's.
            (info.status == CaptureStatus::Done)
                .then_some(info.store_id)
                .flatten()
        }
        Target::Stored(n) => {
            let found = state
                .read(move |c| Ok(c.sqlite()?.capture(n)?.is_some()))
                .await?;
            if !found {
                return Err(no_capture(&id));
            }
            Some(n)
        }
    };
    if let Some(n) = store_id {
        state.write(move |s| Ok(s.remove_file(n)?)).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Classifies the hosts of a capture again and stores each prediction in the history.
/// Needs the capture's file: uploads keep theirs; files ingested by `trident ingest` are
/// not kept by the server (409).
#[utoipa::path(post, path = "/api/v1/captures/{id}/classify", tag = "captures", params(CaptureId),
    responses(
        (status = 200, description = "One prediction per host of the capture", body = [Prediction]),
        (status = 400, description = "Not a capture id", body = ErrorBody),
        (status = 404, description = "No such capture", body = ErrorBody),
        (status = 409, description = "The capture's file is not kept or not ingested yet", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn classify(
    State(state): State<AppState>,
    p: Result<Path<CaptureId>, PathRejection>,
) -> ApiResult<Json<Vec<Prediction>>> {
    let Path(CaptureId { id }) = p?;
    if state.inner.uploads.dir().is_none() {
        return Err(redis_counts_only());
    }
    let (path, _sensor) = match target(&id)? {
        Target::Upload(u) => {
            let info = state.inner.uploads.get(&u).ok_or_else(|| no_capture(&id))?;
            if info.status != CaptureStatus::Done && info.status != CaptureStatus::Skipped {
                return Err(ApiError::Conflict(format!(
                    "capture {id} is not ingested yet (status {:?})",
                    info.status
                )));
            }
            let (path, _) = state
                .inner
                .uploads
                .file_of(&u)
                .ok_or_else(|| no_capture(&id))?;
            (path, info.sensor)
        }
        Target::Stored(n) => {
            let cap = state
                .read(move |c| Ok(c.sqlite()?.capture(n)?))
                .await?
                .ok_or_else(|| no_capture(&id))?;
            match upload_of(&state, &cap.sha256) {
                Some(x) => x,
                None => match readable_file(&state, n, cap.sha256).await? {
                    Some(p) => (p, None),
                    None => {
                        return Err(ApiError::Conflict(format!(
                            "capture {id} was ingested from a file that is no longer at its path unchanged; upload it to classify it on demand"
                        )));
                    }
                },
            }
        }
    };
    let s = state.clone();
    let preds = tokio::task::spawn_blocking(move || classify_file(&s, &path, None)).await??;
    Ok(Json(preds))
}

/// A capture ingested from disk (`serve --ingest`, `trident ingest`): its recorded path,
/// while the file there still has the content that was ingested.
async fn readable_file(state: &AppState, n: i64, sha256: String) -> ApiResult<Option<PathBuf>> {
    let Some(p) = state
        .read(move |c| Ok(c.sqlite()?.capture_path(n)?))
        .await?
    else {
        return Ok(None);
    };
    let check = p.clone();
    let now = tokio::task::spawn_blocking(move || trident_index::hash_file(&check).ok())
        .await
        .ok()
        .flatten()
        .map(|(sha, _)| sha);
    Ok((now.as_deref() == Some(sha256.as_str())).then_some(p))
}

/// The kept file (and sensor) of an upload with these bytes.
fn upload_of(state: &AppState, sha256: &str) -> Option<(PathBuf, Option<String>)> {
    let u = state
        .inner
        .uploads
        .all()
        .into_iter()
        .find(|u| u.sha256.as_deref() == Some(sha256))?;
    let (path, _) = state.inner.uploads.file_of(&u.id)?;
    Some((path, u.sensor))
}

/// A host key in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct HostKey {
    /// The host's key.
    key: String,
}

/// Classifies a host again from the kept captures it appears in (the newest first) and
/// stores the prediction in its history.
#[utoipa::path(post, path = "/api/v1/hosts/{key}/classify", tag = "records", params(HostKey),
    responses(
        (status = 200, description = "The new prediction", body = Prediction),
        (status = 404, description = "No such host", body = ErrorBody),
        (status = 409, description = "None of the host's captures is kept by the server or still unchanged at its ingested path, or the model gives it no prediction", body = ErrorBody),
        (status = 501, description = "The store keeps counts only (Redis)", body = ErrorBody),
    ))]
pub(crate) async fn classify_host(
    State(state): State<AppState>,
    k: Result<Path<HostKey>, PathRejection>,
) -> ApiResult<Json<Prediction>> {
    let Path(HostKey { key }) = k?;
    let k2 = key.clone();
    let detail = state
        .read(move |c| Ok(c.sqlite()?.host(&k2)?))
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no host {key}")))?;
    // The captures it appears in: those of its flows.
    let k3 = detail.summary.key.clone();
    let files: Vec<i64> = state
        .read(move |c| {
            let page = c.sqlite()?.flows(&trident_index::records::FlowFilter {
                host: Some(k3),
                limit: trident_index::records::MAX_PAGE,
                ..Default::default()
            })?;
            let mut ids: Vec<i64> = page.items.iter().map(|f| f.capture).collect();
            ids.dedup();
            Ok(ids)
        })
        .await?;
    let mut kept = Vec::new();
    for n in files {
        if let Some(c) = state.read(move |c| Ok(c.sqlite()?.capture(n)?)).await? {
            kept.push((n, c.sha256));
        }
    }
    let mut path = kept
        .iter()
        .find_map(|(_, s)| upload_of(&state, s))
        .map(|(p, _)| p);
    if path.is_none() {
        for (n, sha) in kept {
            if let Some(p) = readable_file(&state, n, sha).await? {
                path = Some(p);
                break;
            }
        }
    }
    let Some(path) = path else {
        return Err(ApiError::Conflict(format!(
            "none of the captures host {key} appears in is still readable by this server (uploads are kept; ingested files must stay at their path, unchanged); upload one to classify the host on demand"
        )));
    };
    let s = state.clone();
    let mac = detail
        .summary
        .mac
        .as_deref()
        .and_then(trident_index::records::parse_mac);
    let preds = tokio::task::spawn_blocking(move || classify_file(&s, &path, mac)).await??;
    let want = detail.summary.key;
    preds
        .into_iter()
        .find(|p| {
            trident_index::records::normalize_key(&p.host)
                == trident_index::records::normalize_key(&want)
        })
        .map(Json)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "the model gives host {key} no prediction (it sent no Ethernet frames of its own)"
            ))
        })
}
