//! The one error type at the HTTP edge.
//!
//! Every handler returns `Result<_, ApiError>`; the error becomes `{"error", "detail"}` with
//! the status docs/API.md gives. Internal failures are logged with their cause and answered
//! with a fixed sentence, so no path, SQL or library message reaches a client.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use trident_index::IndexError;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code: `bad_request`, `unauthorized`, `not_found`,
    /// `conflict`, `too_large`, `unsupported_media_type`, `not_implemented`, `unavailable`
    /// or `internal`.
    pub error: String,
    /// What went wrong, for a person; names the parameter or value at fault.
    pub detail: String,
}

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// A parameter or body failed validation (400).
    #[error("{0}")]
    BadRequest(String),
    /// No or a wrong token (401).
    #[error("{0}")]
    Unauthorized(String),
    /// The thing named does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than allowed (413).
    #[error("{0}")]
    TooLarge(String),
    /// An upload that is not a capture (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The configured store cannot answer this route (501), e.g. hosts from Redis.
    #[error("{0}")]
    NotImplemented(String),
    /// The server is shutting down or overloaded (503).
    #[error("{0}")]
    Unavailable(String),
    /// Anything else (500); the cause is logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 naming a parameter and what is wrong with it.
    #[must_use]
    pub fn param(name: &str, problem: impl std::fmt::Display) -> Self {
        ApiError::BadRequest(format!("parameter `{name}`: {problem}"))
    }

    /// A 500 whose cause goes to the log only.
    #[must_use]
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// The HTTP status and the machine-readable code.
    #[must_use]
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::NotImplemented(_) => (StatusCode::NOT_IMPLEMENTED, "not_implemented"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<IndexError> for ApiError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Unsupported(what) => ApiError::NotImplemented(what),
            other => ApiError::internal(other),
        }
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("blocking task failed: {e}"))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> Self {
        // serde's message names the parameter ("missing field `field`", "invalid digit ...").
        let text = e.body_text();
        let text = text
            .strip_prefix("Failed to deserialize query string: ")
            .unwrap_or(&text);
        ApiError::BadRequest(format!("query string: {text}"))
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> Self {
        ApiError::BadRequest(format!("path: {}", e.body_text()))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        let detail = match self {
            ApiError::Internal(cause) => {
                tracing::error!(%cause, "internal error answering a request");
                "something went wrong on the server; the server log has the details".to_owned()
            }
            ApiError::BadRequest(d)
            | ApiError::Unauthorized(d)
            | ApiError::NotFound(d)
            | ApiError::Conflict(d)
            | ApiError::TooLarge(d)
            | ApiError::UnsupportedMediaType(d)
            | ApiError::NotImplemented(d)
            | ApiError::Unavailable(d) => d,
        };
        let mut resp = (
            status,
            Json(ErrorBody {
                error: code.to_owned(),
                detail,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        resp
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;
