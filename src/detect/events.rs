//! What the detector says: alerts, their lifecycle events, what became of
//! each observed record, and its counters.

use serde::{Deserialize, Serialize};

use crate::model::stable_hash;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Pending,
    Firing,
    Resolved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

/// A spike of complaints about one topic in one region (or province-wide).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// A hash of (topic, region, onset): stable across replays and restarts.
    pub id: String,
    /// The topic's index in `topics.toml`.
    pub topic: u16,
    /// The region's BPS code; [`super::JATENG`] (0) for the province-wide series.
    pub region: u16,
    pub state: AlertState,
    pub severity: Severity,
    /// Estimated onset (event time, ms).
    pub started_at_ms: i64,
    /// Event time at which it fired: the end of the bucket that fired it.
    pub detected_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
    /// Distinct complainants in the window, at the strongest evaluation so far.
    pub observed: f64,
    /// What the baseline expected in that window.
    pub expected: f64,
    pub window_seconds: u64,
    /// `-log10` of the tail probability (strongest so far).
    pub score: f64,
    /// Where that score ranks among the series' own excursions of the last
    /// weeks: the share of them that stayed lower (1: its highest).
    pub rank: f64,
    /// Ids of a few tweets by distinct authors in the spike, earliest first.
    pub sample_tweet_ids: Vec<u64>,
    /// For a province-wide alert: the regions that fired during it.
    pub regions: Vec<u16>,
    /// For a regional alert: the id of the province-wide incident it belongs to.
    pub parent: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", content = "alert", rename_all = "lowercase")]
pub enum AlertEvent {
    Fired(Alert),
    Updated(Alert),
    Resolved(Alert),
}

impl AlertEvent {
    pub fn alert(&self) -> &Alert {
        match self {
            AlertEvent::Fired(a) | AlertEvent::Updated(a) | AlertEvent::Resolved(a) => a,
        }
    }
}

/// What [`super::Detector::observe`] did with a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observation {
    /// Counted in its bucket.
    Counted,
    /// Not a complaint, a retweet, or no (known) topic.
    Ignored,
    /// Its bucket was already closed: dropped, and counted in [`DetectorStats::late`].
    Late,
}

/// Counters for telemetry; per-record failures are counted here, never logged.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DetectorStats {
    /// Records given to `observe`.
    pub records: u64,
    /// Complaints counted (accepted into an open bucket).
    pub counted: u64,
    /// Not complaints, retweets, or without a topic.
    pub ignored: u64,
    /// Too late: their bucket was already closed.
    pub late: u64,
    /// Topic ids at or beyond `num_topics`.
    pub unknown_topic: u64,
    /// Regional entries dropped because `max_regions` was reached.
    pub region_overflow: u64,
    /// Entries dropped by a watermark jump beyond `max_catch_up`.
    pub skipped: u64,
    pub buckets_closed: u64,
    pub outage_buckets: u64,
    pub alerts_fired: u64,
    /// (topic, region) series tracked.
    pub keys: usize,
}

/// The stable alert id: FNV-1a of (topic, region, onset).
pub fn alert_id(topic: u16, region: u16, started_at_ms: i64) -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(b"kemala/spike/");
    bytes.extend_from_slice(&topic.to_le_bytes());
    bytes.extend_from_slice(&region.to_le_bytes());
    bytes.extend_from_slice(&started_at_ms.to_le_bytes());
    format!("{:016x}", stable_hash(&bytes))
}
