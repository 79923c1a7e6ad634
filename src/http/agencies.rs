//! `/api/agencies`: per agency, the complaints routed to it, answered and
//! open, and how fast it answers (exact quantiles from its histogram).

use std::sync::atomic::Ordering;

use axum::extract::State;
use axum::Json;
use serde::Serialize;

use super::{ApiError, AppState};

#[derive(Serialize)]
pub(super) struct Quantiles {
    p50: Option<f64>,
    p90: Option<f64>,
    p99: Option<f64>,
    max: Option<f64>,
}

#[derive(Serialize)]
pub(super) struct AgencyResponse {
    id: String,
    name: String,
    complaints: u64,
    answered: u64,
    open: u64,
    evicted: u64,
    over_target: u64,
    oldest_open_seconds: Option<f64>,
    /// Answers this agency gave (forwards included), and their times.
    responses: u64,
    response_seconds: Quantiles,
    within_target_ratio: Option<f64>,
}

/// Per agency: complaints routed to it, answered, open, and how fast it answers.
pub(super) async fn agencies(
    State(s): State<AppState>,
) -> Result<Json<Vec<AgencyResponse>>, ApiError> {
    let wm = s.progress.watermark_ms.load(Ordering::Relaxed);
    let stats = s
        .trackers
        .latency
        .lock()
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("latency state poisoned")))?
        .agency_stats(wm);
    Ok(Json(
        stats
            .into_iter()
            .map(|st| {
                let a = &s.config.agencies[st.agency.0 as usize];
                AgencyResponse {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    complaints: st.complaints,
                    answered: st.answered,
                    open: st.open,
                    evicted: st.evicted,
                    over_target: st.over_target,
                    oldest_open_seconds: st.oldest_open_seconds,
                    responses: st.responses,
                    response_seconds: Quantiles {
                        p50: st.p50,
                        p90: st.p90,
                        p99: st.p99,
                        max: st.max,
                    },
                    within_target_ratio: st.within_target_ratio,
                }
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use crate::http::testing::TestApp;

    #[tokio::test]
    async fn every_agency_with_its_counts_and_quantiles() {
        let app = TestApp::new();
        let body = app.ok_json("/api/agencies").await;
        let list = body.as_array().unwrap();
        assert_eq!(list.len(), app.state.config.agencies.len());
        for a in list {
            assert!(a["id"].is_string() && a["name"].is_string(), "{a}");
            for q in ["p50", "p90", "p99", "max"] {
                assert!(a["response_seconds"].get(q).is_some(), "{a}");
            }
        }
        // The test tweets' complaints are routed, and none is answered.
        let complaints: u64 = list.iter().map(|a| a["complaints"].as_u64().unwrap()).sum();
        let open: u64 = list.iter().map(|a| a["open"].as_u64().unwrap()).sum();
        assert!(complaints > 0);
        assert_eq!(open, complaints);
        assert!(list.iter().all(|a| a["answered"] == 0));
    }
}
