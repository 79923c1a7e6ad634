//! The HTTP API: [`router`] over the engine's [`Shared`] state, one module
//! per resource with its request and response types and its handler tests,
//! and one [`ApiError`].
//!
//! Handlers only read: the index reader, the metrics, the alert store and
//! the shared status. Search runs on the blocking pool, since a tantivy
//! query is CPU work.

mod agencies;
mod alerts;
mod page;
mod search;
mod status;
#[cfg(test)]
mod testing;

use std::sync::Arc;

use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::index::search::SearchError;
use crate::state::Shared;
use crate::timestamp;

pub use search::SearchParams;

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
    Router::new()
        .route("/", get(page::index))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(status::readyz))
        .route("/metrics", get(status::metrics))
        .route("/api/status", get(status::status))
        .route("/api/search", get(search::search))
        .route("/api/search/export", get(search::export))
        .route("/api/histogram", get(search::histogram))
        .route("/api/meta", get(page::meta))
        .route("/api/agencies", get(agencies::agencies))
        .route("/api/alerts", get(alerts::alerts))
        .route("/api/alerts/stream", get(alerts::alerts_stream))
        .route("/api/alerts/{id}/ack", post(alerts::ack))
        .with_state(state)
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
