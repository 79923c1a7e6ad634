//! The HTTP API: [`router`] over the engine's [`Shared`] state, one module
//! per resource with its request and response types and its handler tests,
//! and one [`ApiError`].
//!
//! Handlers only read: the index reader, the metrics, the alert store and
//! the shared status. Search runs on the blocking pool, since a tantivy
//! query is CPU work.
//!
//! Every request is held to [`limits`]: a body of at most
//! [`MAX_BODY_BYTES`], and a response that starts within
//! [`HANDLER_TIMEOUT`]. The readers' routes pass through `auth` (open
//! unless configured otherwise); `serve` adds the connection-level limits.

mod agencies;
mod alerts;
mod auth;
mod page;
mod search;
mod serve;
mod status;
#[cfg(test)]
mod testing;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, Request};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::index::search::SearchError;
use crate::state::Shared;
use crate::timestamp;

pub use search::SearchParams;
pub use serve::{serve, HEADER_READ_TIMEOUT, MAX_HEAD_BYTES, WRITE_STALL_TIMEOUT};

/// The largest request body: no route needs more.
pub const MAX_BODY_BYTES: u64 = 16 * 1024;
/// A response must begin within this (streams may then take their time).
pub const HANDLER_TIMEOUT: Duration = Duration::from_secs(60);

type AppState = Arc<Shared>;

/// The one error type of every handler.
#[derive(Debug)]
pub enum ApiError {
    /// The client's mistake: 400 with a message that says what to fix.
    BadRequest(String),
    /// Ours: 500 with a generic body, logged once.
    Internal(anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(msg) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": msg })),
            )
                .into_response(),
            ApiError::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(serde_json::json!({ "error": "internal error" })),
                )
                    .into_response()
            }
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadRequest(m) => ApiError::BadRequest(m),
            SearchError::Internal(e) => ApiError::Internal(e),
        }
    }
}

pub fn router(state: AppState) -> Router {
    // What analysts read: citizens' handles and texts.
    let readers = Router::new()
        .route("/", get(page::index))
        .route("/api/search", get(search::search))
        .route("/api/search/export", get(search::export))
        .route("/api/histogram", get(search::histogram))
        .route("/api/meta", get(page::meta))
        .route("/api/agencies", get(agencies::agencies))
        .route("/api/alerts", get(alerts::alerts))
        .route("/api/alerts/stream", get(alerts::alerts_stream))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_reader,
        ));
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(status::readyz))
        .route("/metrics", get(status::metrics))
        .route("/api/status", get(status::status))
        .route("/api/alerts/{id}/ack", post(alerts::ack))
        .merge(readers)
        .layer(middleware::from_fn(limits))
        .with_state(state)
}

/// Refuses bodies over [`MAX_BODY_BYTES`] (413) and answers 503 when a
/// handler has not begun its response within [`HANDLER_TIMEOUT`].
async fn limits(req: Request, next: Next) -> Response {
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if length.is_some_and(|n| n > MAX_BODY_BYTES) {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(serde_json::json!({
                "error": format!("request bodies are limited to {MAX_BODY_BYTES} bytes")
            })),
        )
            .into_response();
    }
    match tokio::time::timeout(HANDLER_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({
                "error": format!("no answer within {} s; narrow the request", HANDLER_TIMEOUT.as_secs())
            })),
        )
            .into_response(),
    }
}

/// A query string, or a 400 that says which parameter is wrong.
fn parse_query<T>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

/// A `from`, `to` or `since` parameter, if given: a day or an RFC 3339 time.
fn time_param(param: &str, v: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(v) = v.filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match timestamp::parse(v) {
        Some((ms, _)) => Ok(Some(ms)),
        None => Err(ApiError::BadRequest(format!(
            "`{param}` is `{v}`: write a date as 2026-01-31 or a time as 2026-01-31T08:00:00Z"
        ))),
    }
}
