//! `/api/alerts`: the list with its filters, the Server-Sent Events stream,
//! and acknowledgement by token. Alerts go out in their wire format, the
//! one webhooks carry too.

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::Deserialize;

use super::{parse_query, time_param, ApiError, AppState};
use crate::alert::wire::{alert_json, AlertJson};
use crate::alert::{AlertKind, AlertState};
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

pub(super) async fn ack(
    State(s): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let tokens = &s.config.engine.http.api_tokens;
    let Some(token) = token else {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "send `Authorization: Bearer <token>`; tokens are set in http.api_tokens or KEMALA_API_TOKENS"}))).into_response();
    };
    if !tokens.iter().any(|t| t == token) {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "that token is not one of http.api_tokens"})),
        )
            .into_response();
    }
    // Name the acknowledger by a prefix of its token, never the whole secret.
    let who = format!("token:{}", token.chars().take(4).collect::<String>());
    match s
        .alerts
        .ack(&id, &who, &rfc3339(Utc::now().timestamp_millis()))
    {
        Some(a) => Json(alert_json(&a, &s.region_names)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("no alert `{id}`")})),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};

    use crate::http::testing::{TestApp, ALERT_ID, TOKEN};

    #[tokio::test]
    async fn acknowledging_needs_a_configured_token() {
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
        assert_eq!(
            app.send(ack(Some(TOKEN), "no-such-alert")).await.0,
            StatusCode::NOT_FOUND
        );
        let (status, _, body) = app.send(ack(Some(TOKEN), ALERT_ID)).await;
        assert_eq!(status, StatusCode::OK);
        let a: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(a["acked_by"], "token:raha", "only a prefix of the token");
        let (_, list) = app.json("/api/alerts").await;
        assert_eq!(list[0]["acked_by"], "token:raha");
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
