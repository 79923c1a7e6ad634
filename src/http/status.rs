//! Liveness, readiness, Prometheus metrics and `/api/status`: what the
//! engine is connected to, how far it got, and where a restart resumes.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Serialize;

use super::AppState;
use crate::timestamp::rfc3339;

pub(super) async fn readyz(State(s): State<AppState>) -> Response {
    let ready = s.ready.load(Ordering::Relaxed) && s.source.consuming.load(Ordering::Relaxed);
    if ready {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

pub(super) async fn metrics(State(s): State<AppState>) -> Response {
    let wm = s.progress.watermark_ms.load(Ordering::Relaxed);
    if wm > 0 {
        s.metrics.watermark.set(wm as f64 / 1000.0);
        s.metrics
            .event_time_lag
            .set((Utc::now().timestamp_millis() - wm) as f64 / 1000.0);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

#[derive(Serialize)]
pub(super) struct StatusResponse {
    version: &'static str,
    kafka: KafkaStatus,
    watermark: Option<String>,
    counts: Counts,
    /// The spike detector's own counters.
    detector: Option<crate::detect::DetectorStats>,
}

#[derive(Serialize)]
pub(super) struct KafkaStatus {
    bootstrap: String,
    embedded: bool,
    topics: Vec<String>,
    group_id: String,
    dead_letter_topic: String,
    assigned_partitions: BTreeMap<String, Vec<i32>>,
    lag: BTreeMap<String, i64>,
    /// The offsets stored in the index's last commit: where a restart resumes.
    index_offsets: crate::model::Offsets,
}

#[derive(Serialize)]
pub(super) struct Counts {
    processed: u64,
    indexed: u64,
    duplicates: u64,
    rejected: u64,
    committed: u64,
    commits: u64,
    index_documents: u64,
}

pub(super) async fn status(State(s): State<AppState>) -> Json<StatusResponse> {
    let p = &s.progress;
    let wm = p.watermark_ms.load(Ordering::Relaxed);
    let k = &s.config.engine.kafka;
    Json(StatusResponse {
        version: env!("CARGO_PKG_VERSION"),
        kafka: KafkaStatus {
            bootstrap: s.bootstrap.clone(),
            embedded: s.embedded_broker,
            topics: k.topics.clone(),
            group_id: k.group_id.clone(),
            dead_letter_topic: k.dead_letter_topic.clone(),
            assigned_partitions: s
                .source
                .assigned
                .lock()
                .map(|a| a.clone())
                .unwrap_or_default(),
            lag: s
                .source
                .lag
                .lock()
                .map(|l| {
                    l.iter()
                        .map(|((t, p), v)| (format!("{t}/{p}"), *v))
                        .collect()
                })
                .unwrap_or_default(),
            index_offsets: s
                .source
                .index_offsets
                .lock()
                .map(|o| o.clone())
                .unwrap_or_default(),
        },
        watermark: (wm > 0).then(|| rfc3339(wm)),
        detector: s.trackers.detector.lock().ok().map(|d| d.stats()),
        counts: Counts {
            processed: p.processed.load(Ordering::Relaxed),
            indexed: p.indexed.load(Ordering::Relaxed),
            duplicates: p.duplicates.load(Ordering::Relaxed),
            rejected: p.rejected.load(Ordering::Relaxed),
            committed: p.committed.load(Ordering::Relaxed),
            commits: p.commits.load(Ordering::Relaxed),
            index_documents: s.index.num_docs(),
        },
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use axum::http::StatusCode;

    use crate::http::testing::{TestApp, TWEETS};

    #[tokio::test]
    async fn ready_only_once_consuming() {
        let app = TestApp::new();
        assert_eq!(app.get("/healthz").await.2, "ok");
        assert_eq!(app.get("/readyz").await.0, StatusCode::SERVICE_UNAVAILABLE);
        app.state.source.consuming.store(true, Ordering::Relaxed);
        let (status, _, body) = app.get("/readyz").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));
    }

    #[tokio::test]
    async fn status_reports_kafka_counts_and_watermark() {
        let app = TestApp::new();
        let body = app.ok_json("/api/status").await;
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["kafka"]["bootstrap"], "127.0.0.1:9092");
        assert_eq!(body["kafka"]["embedded"], true);
        assert_eq!(body["counts"]["index_documents"], TWEETS.len());
        assert!(body["watermark"].is_null(), "nothing committed yet");
        app.state
            .progress
            .watermark_ms
            .store(1_767_571_200_000, Ordering::Relaxed);
        let (_, body) = app.json("/api/status").await;
        assert_eq!(body["watermark"], "2026-01-05T00:00:00Z");
    }

    #[tokio::test]
    async fn metrics_are_prometheus_text() {
        let app = TestApp::new();
        let body = app.ok_text("/metrics", "text/plain; version=0.0.4").await;
        assert!(body.contains("kemala_messages_total{result=\"indexed\"} 0"));
    }
}
