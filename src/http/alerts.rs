//! `/api/alerts`: the list with its filters, the Server-Sent Events stream,
//! and acknowledgement by token. Alerts go out in their wire format, the
//! one webhooks carry too.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;

use super::{parse_query, time_param, ApiError, AppState};
use crate::alert::wire::{alert_json, AlertJson};
use crate::alert::{AlertKind, AlertState};
use crate::config::TokenRole;
use crate::timestamp::rfc3339;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct AlertParams {
    state: Option<String>,
    topic: Option<String>,
    region: Option<String>,
    since: Option<String>,
    kind: Option<String>,
    limit: Option<usize>,
}

pub(super) async fn alerts(
    State(s): State<AppState>,
    q: Result<Query<AlertParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AlertJson>>, ApiError> {
    let p = parse_query(q)?;
    let state = match p.state.as_deref() {
        None | Some("") | Some("all") => None,
        Some("firing") => Some(AlertState::Firing),
        Some("resolved") => Some(AlertState::Resolved),
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "`state` is `{o}`: use firing, resolved or all"
            )))
        }
    };
    let kind = match p.kind.as_deref() {
        None | Some("") => None,
        Some("spike") => Some(AlertKind::Spike),
        Some("overdue") => Some(AlertKind::Overdue),
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "`kind` is `{o}`: use spike or overdue"
            )))
        }
    };
    let region: Option<u16> = match p.region.as_deref() {
        None | Some("") => None,
        Some("jateng") => Some(0),
        Some(r) => Some(s.config.find_region(r).map(|code| code.0).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown region `{r}`; give a BPS code, a slug or `jateng`"
            ))
        })?),
    };
    let since = time_param("since", p.since.as_deref())?;
    let limit = p.limit.unwrap_or(100).min(s.config.engine.http.max_limit);
    let list = s.alerts.list(|a| {
        state.is_none_or(|st| a.state == st)
            && kind.is_none_or(|k| a.kind == k)
            && p.topic
                .as_deref()
                .is_none_or(|t| t.is_empty() || a.topic.as_deref() == Some(t))
            && region.is_none_or(|r| a.region == r)
            && since.is_none_or(|ms| {
                a.detected_at_ms >= ms || a.resolved_at_ms.is_some_and(|r| r >= ms)
            })
    });
    Ok(Json(
        list.iter()
            .take(limit)
            .map(|a| alert_json(a, &s.region_names))
            .collect(),
    ))
}

pub(super) async fn alerts_stream(
    State(s): State<AppState>,
) -> axum::response::sse::Sse<
    impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let rx = s.alerts.subscribe();
    let names = s.region_names.clone();
    let stream = futures::stream::unfold((rx, names), |(mut rx, names)| async move {
        loop {
            match rx.recv().await {
                Ok(a) => {
                    let event = match a.state {
                        AlertState::Firing => "firing",
                        AlertState::Resolved => "resolved",
                    };
                    let data = serde_json::to_string(&alert_json(&a, &names)).unwrap_or_default();
                    return Some((
                        Ok(Event::default().event(event).id(a.id.clone()).data(data)),
                        (rx, names),
                    ));
                }
                // A slow reader misses some changes; the list endpoint has them all.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Acknowledges an alert with an `ack` token; records the token's name and
/// writes one audit line per attempt.
pub(super) async fn ack(
    State(s): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let token = match super::auth::check(&s.tokens, &headers, TokenRole::Ack) {
        Ok(t) => t,
        Err(denied) => {
            tracing::warn!(target: "kemala::audit", alert = %id, refused = ?denied, "acknowledgement refused");
            return denied.into_response();
        }
    };
    let at = rfc3339(Utc::now().timestamp_millis());
    match s.alerts.ack(&id, &token.name, &at) {
        Some(a) => {
            tracing::info!(target: "kemala::audit", alert = %id, by = %token.name, at = %at, "alert acknowledged");
            Json(alert_json(&a, &s.region_names)).into_response()
        }
        None => {
            tracing::info!(target: "kemala::audit", alert = %id, by = %token.name, "acknowledgement of an unknown alert");
            (
                StatusCode::NOT_FOUND,
                Json(serde_json::json!({"error": format!("no alert `{id}`")})),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};

    use crate::http::testing::{TestApp, ALERT_ID, READ_TOKEN, TOKEN};

    #[tokio::test]
    async fn acknowledging_needs_an_ack_token_and_records_its_name() {
        let app = TestApp::new();
        let ack = |token: Option<&str>, id: &str| {
            let mut r = Request::post(format!("/api/alerts/{id}/ack"));
            if let Some(t) = token {
                r = r.header("authorization", format!("Bearer {t}"));
            }
            r.body(Body::empty()).unwrap()
        };
        assert_eq!(
            app.send(ack(None, ALERT_ID)).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.send(ack(Some("tebakan"), ALERT_ID)).await.0,
            StatusCode::FORBIDDEN
        );
        let (status, _, body) = app.send(ack(Some(READ_TOKEN), ALERT_ID)).await;
        assert_eq!(
            status,
            StatusCode::FORBIDDEN,
            "a reader may not acknowledge"
        );
        assert!(body.contains("`analysts` may only read"), "{body}");
        assert_eq!(
            app.send(ack(Some(TOKEN), "no-such-alert")).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, _, body) = app.send(ack(Some(TOKEN), ALERT_ID)).await;
        assert_eq!(status, StatusCode::OK);
        let a: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(a["acked_by"], "bpbd-oncall", "the token's name");
        let (_, list) = app.json("/api/alerts").await;
        assert_eq!(list[0]["acked_by"], "bpbd-oncall");
        assert!(
            !list.to_string().contains(&TOKEN[..4]),
            "no part of the secret"
        );
    }
    /// A log sink for one test.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_acknowledgement_attempt_writes_an_audit_line_with_the_token_name() {
        let log = Captured::default();
        let sink = log.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(move || sink.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let app = TestApp::new();
                for (token, id) in [
                    (READ_TOKEN, ALERT_ID),
                    (TOKEN, "no-such-alert"),
                    (TOKEN, ALERT_ID),
                ] {
                    let r = Request::post(format!("/api/alerts/{id}/ack"))
                        .header("authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap();
                    app.send(r).await;
                }
            });
        });
        let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
        let audit: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("kemala::audit"))
            .collect();
        assert_eq!(audit.len(), 3, "{text}");
        assert!(
            audit[0].contains("acknowledgement refused") && audit[0].contains("analysts"),
            "{}",
            audit[0]
        );
        assert!(
            audit[1].contains("unknown alert") && audit[1].contains("by=bpbd-oncall"),
            "{}",
            audit[1]
        );
        assert!(
            audit[2].contains("alert acknowledged") && audit[2].contains("by=bpbd-oncall"),
            "{}",
            audit[2]
        );
        assert!(
            audit[2].contains(&format!("alert={ALERT_ID}")),
            "{}",
            audit[2]
        );
        for secret in [TOKEN, READ_TOKEN] {
            assert!(!text.contains(&secret[..8]), "a secret in the log: {text}");
        }
    }

    #[tokio::test]
    async fn alerts_are_listed_and_filtered() {
        let app = TestApp::new();
        let body = app.ok_json("/api/alerts?state=firing&kind=spike").await;
        let a = &body[0];
        assert_eq!(body.as_array().unwrap().len(), 1);
        assert_eq!(a["id"], ALERT_ID);
        assert_eq!(a["state"], "firing");
        assert_eq!(a["kind"], "spike");
        assert_eq!(a["region"]["code"], "3321");
        assert_eq!(a["region"]["name"], "Kabupaten Demak");
        assert_eq!(a["started_at"], "2026-01-05T01:00:00Z");
        assert_eq!(a["sample_tweet_ids"][0], "1");
        assert_eq!(a["rank"], 0.95, "a spike's rank in its series' history");
        for q in [
            "state=resolved",
            "kind=overdue",
            "region=jateng",
            "topic=garbage",
        ] {
            let body = app.ok_json(&format!("/api/alerts?{q}")).await;
            assert_eq!(body, serde_json::json!([]), "{q}");
        }
        app.assert_bad_requests(
            "/api/alerts",
            &[
                ("state=open", "`state` is `open`"),
                ("kind=flood", "`kind` is `flood`"),
                ("region=atlantis", "unknown region `atlantis`"),
                ("since=kemarin", "`since` is `kemarin`"),
                ("colour=red", "colour"),
            ],
        )
        .await;
    }
}
