//! The alert object on the wire: what `GET /api/alerts`, the SSE stream and
//! every webhook body carry.
//!
//! It belongs to `alert` because the dispatcher signs and sends it; HTTP
//! serves the same object, so a receiver sees one shape wherever it reads
//! an alert.

use std::collections::HashMap;

use serde::Serialize;

use super::{AlertKind, AlertState, StoredAlert};
use crate::timestamp::rfc3339;

/// A region as an alert names it: the province is `jateng`.
#[derive(Serialize)]
pub struct RegionRef {
    code: String,
    name: String,
}

/// The alert object of the API (and of webhooks).
#[derive(Serialize)]
pub struct AlertJson {
    id: String,
    kind: AlertKind,
    topic: Option<String>,
    region: RegionRef,
    state: AlertState,
    severity: String,
    started_at: String,
    detected_at: String,
    resolved_at: Option<String>,
    observed: f64,
    expected: f64,
    window_seconds: u64,
    score: f64,
    agencies: Vec<String>,
    sample_tweet_ids: Vec<String>,
    top_terms: Vec<String>,
    regions: Vec<RegionRef>,
    parent: Option<String>,
    summary: String,
    acked_by: Option<String>,
    acked_at: Option<String>,
}

fn region_ref_named(names: &HashMap<u16, String>, code: u16) -> RegionRef {
    if code == 0 {
        RegionRef {
            code: "jateng".into(),
            name: "Provinsi Jawa Tengah".into(),
        }
    } else {
        RegionRef {
            code: code.to_string(),
            name: names
                .get(&code)
                .cloned()
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

pub fn alert_json(a: &StoredAlert, names: &HashMap<u16, String>) -> AlertJson {
    AlertJson {
        id: a.id.clone(),
        kind: a.kind,
        topic: a.topic.clone(),
        region: region_ref_named(names, a.region),
        state: a.state,
        severity: a.severity.clone(),
        started_at: rfc3339(a.started_at_ms),
        detected_at: rfc3339(a.detected_at_ms),
        resolved_at: a.resolved_at_ms.map(rfc3339),
        observed: a.observed,
        expected: a.expected,
        window_seconds: a.window_seconds,
        score: a.score,
        agencies: a.agencies.clone(),
        sample_tweet_ids: a.sample_tweet_ids.iter().map(u64::to_string).collect(),
        top_terms: a.top_terms.clone(),
        regions: a
            .regions
            .iter()
            .map(|r| region_ref_named(names, *r))
            .collect(),
        parent: a.parent.clone(),
        summary: a.summary.clone(),
        acked_by: a.acked_by.clone(),
        acked_at: a.acked_at.clone(),
    }
}
