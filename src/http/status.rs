//! Liveness, readiness, Prometheus metrics and `/api/status`: what the
//! engine is connected to, how far it got, where a restart resumes, what
//! keeps it from being ready, and which messages were lost.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Serialize;

use super::AppState;
use crate::state::Shared;
use crate::telemetry::NotReady;
use crate::timestamp::rfc3339;

/// A fault that keeps the engine from being ready.
struct Fault {
    reason: NotReady,
    since_ms: i64,
    detail: String,
}

/// The faults holding readiness down now.
fn faults(s: &Shared) -> Vec<Fault> {
    let mut out = Vec::new();
    let broker = s
        .source
        .broker
        .lock()
        .map(|b| b.clone())
        .unwrap_or_default();
    if let Some(since_ms) = broker.unreachable_since_ms {
        out.push(Fault {
            reason: NotReady::KafkaUnreachable,
            since_ms,
            detail: format!(
                "no Kafka broker at `{}` has answered since {} ({}); search still answers from the index, and ingest resumes by itself when a broker answers",
                s.bootstrap,
                rfc3339(since_ms),
                broker.last_error.unwrap_or_default()
            ),
        });
    }
    let h = s.health.get();
    for (reason, f) in [
        (NotReady::IndexWriteError, h.index_write),
        (NotReady::MessagesLost, h.halted),
    ] {
        if let Some(f) = f {
            out.push(Fault {
                reason,
                since_ms: f.since_ms,
                detail: f.detail,
            });
        }
    }
    out
}

/// Ready: started, consuming, and no fault.
fn is_ready(s: &Shared, faults: &[Fault]) -> bool {
    s.ready.load(Ordering::Relaxed)
        && s.source.consuming.load(Ordering::Relaxed)
        && faults.is_empty()
}

pub(super) async fn readyz(State(s): State<AppState>) -> Response {
    let faults = faults(&s);
    if is_ready(&s, &faults) {
        (StatusCode::OK, "ready").into_response()
    } else if faults.is_empty() {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    } else {
        let reasons: Vec<&str> = faults.iter().map(|f| f.reason.as_str()).collect();
        (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {} (see /api/status)", reasons.join(", ")),
        )
            .into_response()
    }
}

pub(super) async fn metrics(State(s): State<AppState>) -> Response {
    let faults = faults(&s);
    for reason in NotReady::ALL {
        let on = faults.iter().any(|f| f.reason == reason);
        s.metrics
            .not_ready
            .with_label_values(&[reason.as_str()])
            .set(i64::from(on));
    }
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
    /// As `/readyz` answers.
    ready: bool,
    /// What keeps the engine from being ready, each with what to do.
    problems: Vec<ProblemJson>,
    /// Messages lost to broker retention.
    lost: LostJson,
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
pub(super) struct ProblemJson {
    reason: &'static str,
    since: String,
    detail: String,
}

#[derive(Serialize)]
pub(super) struct LostJson {
    total: i64,
    /// `topic/partition` → messages lost.
    by_partition: BTreeMap<String, i64>,
    /// The latest gaps, oldest first.
    gaps: Vec<GapJson>,
}

#[derive(Serialize)]
pub(super) struct GapJson {
    topic: String,
    partition: i32,
    first_offset: i64,
    last_offset: i64,
    count: i64,
    detected_at: String,
}

fn lost_json(lost: &crate::model::Lost) -> LostJson {
    LostJson {
        total: lost.total(),
        by_partition: lost
            .totals
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |(p, n)| (format!("{t}/{p}"), *n)))
            .collect(),
        gaps: lost
            .gaps
            .iter()
            .map(|g| GapJson {
                topic: g.topic.clone(),
                partition: g.partition,
                first_offset: g.from,
                last_offset: g.to - 1,
                count: g.count(),
                detected_at: g.detected_at.clone(),
            })
            .collect(),
    }
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
    let faults = faults(&s);
    Json(StatusResponse {
        version: env!("CARGO_PKG_VERSION"),
        ready: is_ready(&s, &faults),
        lost: lost_json(&s.health.get().lost),
        problems: faults
            .into_iter()
            .map(|f| ProblemJson {
                reason: f.reason.as_str(),
                since: rfc3339(f.since_ms),
                detail: f.detail,
            })
            .collect(),
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
    async fn faults_make_the_engine_not_ready_and_say_why() {
        use crate::model::Gap;
        use crate::state::Fault;
        let app = TestApp::new();
        app.state.source.consuming.store(true, Ordering::Relaxed);
        let body = app.ok_json("/api/status").await;
        assert_eq!(body["ready"], true);
        assert_eq!(body["problems"], serde_json::json!([]));
        assert_eq!(body["lost"]["total"], 0);
        if let Ok(mut b) = app.state.source.broker.lock() {
            b.unreachable_since_ms = Some(1_767_571_200_000);
            b.last_error = Some("Local: Timed out".into());
        }
        app.state.health.update(|h| {
            h.index_write = Some(Fault {
                since_ms: 1_767_571_260_000,
                detail: "cannot commit the index: No space left on device".into(),
                attempts: 3,
            });
            h.lost.record(Gap {
                topic: "tweets".into(),
                partition: 3,
                from: 100,
                to: 350,
                detected_at: "2026-01-05T00:02:00Z".into(),
            });
        });
        let (status, _, text) = app.get("/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            text,
            "not ready: kafka_unreachable, index_write_error (see /api/status)"
        );
        let body = app.ok_json("/api/status").await;
        assert_eq!(body["ready"], false);
        assert_eq!(body["problems"][0]["reason"], "kafka_unreachable");
        assert_eq!(body["problems"][0]["since"], "2026-01-05T00:00:00Z");
        assert!(body["problems"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("Timed out"));
        assert_eq!(body["problems"][1]["reason"], "index_write_error");
        assert!(body["problems"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("No space left"));
        assert_eq!(body["lost"]["total"], 250);
        assert_eq!(body["lost"]["by_partition"]["tweets/3"], 250);
        assert_eq!(body["lost"]["gaps"][0]["first_offset"], 100);
        assert_eq!(body["lost"]["gaps"][0]["last_offset"], 349);
        let metrics = app.ok_text("/metrics", "text/plain").await;
        for (reason, v) in [
            ("kafka_unreachable", 1),
            ("index_write_error", 1),
            ("messages_lost", 0),
        ] {
            assert!(
                metrics.contains(&format!("kemala_not_ready{{reason=\"{reason}\"}} {v}")),
                "{reason}"
            );
        }
    }

    #[tokio::test]
    async fn metrics_are_prometheus_text() {
        let app = TestApp::new();
        let body = app.ok_text("/metrics", "text/plain; version=0.0.4").await;
        assert!(body.contains("kemala_messages_total{result=\"indexed\"} 0"));
    }
}
