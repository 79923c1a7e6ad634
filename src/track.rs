//! The stateful stages: the latency tracker and (when wired) the spike
//! detector, fed with the records of indexed tweets, and the mapping of
//! their events to metrics and alerts.
//!
//! Both state machines are pure and run on event time. They are fed by the
//! pipeline thread after each batch, and rebuilt on start by replaying the
//! index's records in event-time order, so their state always agrees with
//! what the index holds (and a crash loses nothing the index kept). HTTP
//! reads them under a short lock, never across an await.

use std::sync::{Arc, Mutex};

use crate::alert::{AlertKind, AlertState, AlertStore, StoredAlert};
use crate::config::Config;
use crate::latency::{LatencyEvent, Tracker};
use crate::model::Record;
use crate::telemetry::Metrics;

pub struct Trackers {
    pub latency: Arc<Mutex<Tracker>>,
    alerts: Arc<AlertStore>,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
}

impl Trackers {
    pub fn new(config: Arc<Config>, alerts: Arc<AlertStore>, metrics: Arc<Metrics>) -> Trackers {
        Trackers {
            latency: Arc::new(Mutex::new(Tracker::new(
                &config.engine.latency,
                &config.agencies,
            ))),
            alerts,
            metrics,
            config,
        }
    }

    /// How far back the index must be replayed to rebuild every state.
    pub fn rebuild_horizon_ms(&self) -> i64 {
        self.config.engine.latency.horizon.0.as_millis() as i64
    }

    /// Feeds records (in arrival order) and moves event time to `watermark_ms`.
    pub fn feed(&self, records: &[Record], watermark_ms: i64) {
        let mut events = Vec::new();
        if let Ok(mut t) = self.latency.lock() {
            for r in records {
                t.observe(r, &mut events);
            }
            t.advance(watermark_ms, &mut events);
        }
        self.on_latency(events);
    }

    fn agency_id(&self, a: crate::model::AgencyId) -> &str {
        &self.config.agencies[a.0 as usize].id
    }

    fn on_latency(&self, events: Vec<LatencyEvent>) {
        let m = &self.metrics;
        for e in events {
            match e {
                LatencyEvent::Answered {
                    responder,
                    topic,
                    latency_ms,
                    ..
                } => {
                    let topic =
                        topic.map_or("none", |t| self.config.topics[t.0 as usize].id.as_str());
                    m.agency_response
                        .with_label_values(&[self.agency_id(responder), topic])
                        .observe(latency_ms as f64 / 1000.0);
                }
                LatencyEvent::OverTarget { agency, .. } => m
                    .agency_over_target
                    .with_label_values(&[self.agency_id(agency)])
                    .inc(),
                LatencyEvent::DataError { kind } => m
                    .latency_data_errors
                    .with_label_values(&[kind.as_str()])
                    .inc(),
                LatencyEvent::Evicted { count } => m.latency_evicted.inc_by(count),
                LatencyEvent::Overdue {
                    group_id,
                    agency,
                    count,
                    oldest_created_at_ms,
                    started_at_ms,
                    resolved,
                } => {
                    let id = self.agency_id(agency).to_string();
                    let name = &self.config.agencies[agency.0 as usize].name;
                    let target = self.config.engine.latency.target;
                    let watermark = self
                        .latency
                        .lock()
                        .map_or(started_at_ms, |t| t.watermark_ms());
                    self.alerts.apply(StoredAlert {
                        id: format!("overdue-{group_id:016x}"),
                        kind: AlertKind::Overdue,
                        topic: None,
                        region: 0,
                        state: if resolved { AlertState::Resolved } else { AlertState::Firing },
                        severity: if count >= 10 { "critical".into() } else { "warning".into() },
                        started_at_ms,
                        detected_at_ms: started_at_ms,
                        resolved_at_ms: resolved.then_some(watermark),
                        observed: count as f64,
                        expected: 0.0,
                        window_seconds: target.0.as_secs(),
                        score: count as f64,
                        agencies: vec![id],
                        sample_tweet_ids: Vec::new(),
                        top_terms: Vec::new(),
                        regions: Vec::new(),
                        parent: None,
                        summary: if resolved {
                            format!("{name}: no complaints past the {target} target any more")
                        } else {
                            format!(
                                "{name}: {count} complaint(s) unanswered past the {target} target, the oldest from {}",
                                crate::http::rfc3339(oldest_created_at_ms)
                            )
                        },
                        acked_by: None,
                        acked_at: None,
                    });
                }
            }
        }
    }

    /// Refreshes the gauges that describe current state.
    pub fn refresh_gauges(&self, watermark_ms: i64) {
        let Ok(t) = self.latency.lock() else { return };
        let m = &self.metrics;
        for s in t.agency_stats(watermark_ms) {
            let id = self.agency_id(s.agency);
            m.agency_open.with_label_values(&[id]).set(s.open as i64);
            m.agency_oldest_open
                .with_label_values(&[id])
                .set(s.oldest_open_seconds.unwrap_or(0.0));
        }
        m.state_bytes
            .with_label_values(&["latency"])
            .set(t.approx_bytes() as i64);
        drop(t);
        m.alerts_firing.reset();
        for ((topic, region), n) in self.alerts.firing_counts() {
            let slug = if region == 0 {
                "jateng".to_string()
            } else {
                self.config
                    .regions
                    .iter()
                    .find(|r| r.code.parse::<u16>().ok() == Some(region))
                    .map_or_else(|| "unknown".into(), |r| r.slug.clone())
            };
            m.alerts_firing
                .with_label_values(&[&topic, &slug])
                .set(n as i64);
        }
    }
}
