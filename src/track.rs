//! The stateful stages: the spike detector and the latency tracker, fed with
//! the records of indexed tweets, and the mapping of their events to metrics
//! and alerts.
//!
//! Both state machines are pure and run on event time. They are fed by the
//! pipeline thread after each batch, and rebuilt on start by replaying the
//! index's records in event-time order, so their state always agrees with
//! what the index holds (and a crash loses nothing the index kept). HTTP
//! reads them under a short lock, never across an await.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use crate::alert::{AlertKind, AlertState, AlertStore, StoredAlert};
use crate::config::Config;
use crate::detect::{AlertEvent, Detector, DetectorParams, Observation, Severity};
use crate::enrich::Enricher;
use crate::latency::{LatencyEvent, Tracker};
use crate::model::{Record, RegionCode, TopicId};
use crate::telemetry::Metrics;

/// How many recent complaints keep their terms, for an alert's `top_terms`.
const RECENT_TERMS: usize = 100_000;
/// Records observed per hold of the latency state's lock (see `Trackers::feed`).
const FEED_SLICE: usize = 128;

#[derive(Default)]
struct RecentTerms {
    by_id: HashMap<u64, Vec<String>>,
    order: VecDeque<u64>,
}

pub struct Trackers {
    pub latency: Arc<Mutex<Tracker>>,
    pub detector: Mutex<Detector>,
    terms: Mutex<RecentTerms>,
    enricher: Arc<Enricher>,
    alerts: Arc<AlertStore>,
    metrics: Arc<Metrics>,
    config: Arc<Config>,
}

impl Trackers {
    pub fn new(
        config: Arc<Config>,
        enricher: Arc<Enricher>,
        alerts: Arc<AlertStore>,
        metrics: Arc<Metrics>,
    ) -> Trackers {
        // Each series' alert budget, from the agencies it is routed to: a
        // function of the config, fixed for the detector's life.
        let mut params = DetectorParams::from_config(&config.engine.detect);
        let codes = config
            .regions
            .iter()
            .filter_map(|r| r.code.parse::<u16>().ok());
        for region in std::iter::once(0).chain(codes) {
            for topic in 0..config.topics.len() as u16 {
                let agencies = routed_agencies(&config, &enricher, topic, region);
                let budget = config.series_budget(agencies.iter().map(String::as_str));
                if budget != params.max_alerts_per_series_week {
                    params.series_budgets.insert((topic, region), budget);
                }
            }
        }
        Trackers {
            latency: Arc::new(Mutex::new(Tracker::new(
                &config.engine.latency,
                &config.agencies,
            ))),
            detector: Mutex::new(Detector::new(params, config.topics.len())),
            terms: Mutex::new(RecentTerms::default()),
            enricher,
            alerts,
            metrics,
            config,
        }
    }

    /// Counts a record in the detector; true when it came too late to count:
    /// its bucket was closed, or its own partition, whose newest event time
    /// was `partition_newest_ms`, had already moved past it. The index keeps
    /// that flag for rebuilds.
    pub fn observe(&self, r: &Record, partition_newest_ms: i64) -> bool {
        let late = self
            .detector
            .lock()
            .map(|mut d| d.observe_behind(r, partition_newest_ms) == Observation::Late)
            .unwrap_or(false);
        if late {
            self.metrics.detect_late.inc();
        }
        late
    }

    /// Remembers a complaint's content terms, for `top_terms`.
    pub fn remember_terms(&self, id: u64, terms: Vec<String>) {
        let Ok(mut t) = self.terms.lock() else { return };
        if t.by_id.insert(id, terms).is_none() {
            t.order.push_back(id);
        }
        while t.order.len() > RECENT_TERMS {
            if let Some(old) = t.order.pop_front() {
                t.by_id.remove(&old);
            }
        }
    }

    fn top_terms(&self, ids: &[u64]) -> Vec<String> {
        let Ok(t) = self.terms.lock() else {
            return Vec::new();
        };
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in ids {
            for term in t.by_id.get(id).into_iter().flatten() {
                *counts.entry(term.as_str()).or_default() += 1;
            }
        }
        let mut v: Vec<(&str, usize)> = counts.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        v.into_iter().take(5).map(|(t, _)| t.to_string()).collect()
    }

    /// Rebuilds both state machines from the index's records, in event time.
    pub fn rebuild(&self, records: &[(Record, bool)], watermark_ms: i64) {
        if let Ok(mut d) = self.detector.lock() {
            for (r, late) in records {
                if !late {
                    d.observe(r);
                }
            }
        }
        let plain: Vec<Record> = records.iter().map(|(r, _)| r.clone()).collect();
        self.feed(&plain, watermark_ms);
    }

    /// How far back the index must be replayed to rebuild every state.
    pub fn rebuild_horizon_ms(&self) -> i64 {
        self.config.engine.latency.horizon.0.as_millis() as i64
    }

    /// Feeds records (in arrival order) to the latency tracker and moves
    /// event time to `watermark_ms` for both state machines. (The detector
    /// saw each record already, through [`Trackers::observe`].)
    pub fn feed(&self, records: &[Record], watermark_ms: i64) {
        let mut events = Vec::new();
        // Searches read this state too (a hit's open or answered status), and
        // this runs at background priority: hold the lock for a short slice
        // at a time, so a search never waits behind a whole batch.
        for slice in records.chunks(FEED_SLICE) {
            if let Ok(mut t) = self.latency.lock() {
                for r in slice {
                    t.observe(r, &mut events);
                }
            }
        }
        if let Ok(mut t) = self.latency.lock() {
            t.advance(watermark_ms, &mut events);
        }
        self.on_latency(events);
        let mut spikes = Vec::new();
        if let Ok(mut d) = self.detector.lock() {
            d.advance(watermark_ms, &mut spikes);
        }
        self.on_spikes(spikes);
    }

    fn on_spikes(&self, events: Vec<AlertEvent>) {
        for e in events {
            let fired = matches!(e, AlertEvent::Fired(_));
            let a = match e {
                AlertEvent::Fired(a) | AlertEvent::Updated(a) | AlertEvent::Resolved(a) => a,
            };
            let topic = &self.config.topics[a.topic as usize];
            let region_slug = self.region_slug(a.region);
            let severity = match a.severity {
                Severity::Warning => "warning",
                Severity::Critical => "critical",
            };
            if fired {
                self.metrics
                    .alerts_total
                    .with_label_values(&[&topic.id, &region_slug, severity])
                    .inc();
            }
            let agencies = routed_agencies(&self.config, &self.enricher, a.topic, a.region);
            let place = if a.region == 0 {
                "Jawa Tengah".to_string()
            } else {
                self.region_name(a.region)
            };
            let state = match a.state {
                crate::detect::AlertState::Resolved => AlertState::Resolved,
                _ => AlertState::Firing,
            };
            self.alerts.apply(StoredAlert {
                summary: format!(
                    "{} di {place}: {:.0} pelapor dalam {} menit, biasanya {:.1}",
                    topic.name,
                    a.observed,
                    a.window_seconds / 60,
                    a.expected
                ),
                id: a.id,
                kind: AlertKind::Spike,
                topic: Some(topic.id.clone()),
                region: a.region,
                state,
                severity: severity.into(),
                started_at_ms: a.started_at_ms,
                detected_at_ms: a.detected_at_ms,
                resolved_at_ms: a.resolved_at_ms,
                observed: a.observed,
                expected: a.expected,
                window_seconds: a.window_seconds,
                score: a.score,
                rank: Some(a.rank),
                agencies,
                top_terms: self.top_terms(&a.sample_tweet_ids),
                sample_tweet_ids: a.sample_tweet_ids,
                regions: a.regions,
                parent: a.parent,
                acked_by: None,
                acked_at: None,
            });
        }
    }

    fn region_slug(&self, code: u16) -> String {
        if code == 0 {
            return "jateng".into();
        }
        self.config
            .regions
            .iter()
            .find(|r| r.code.parse::<u16>().ok() == Some(code))
            .map_or_else(|| "unknown".into(), |r| r.slug.clone())
    }

    fn region_name(&self, code: u16) -> String {
        self.config
            .regions
            .iter()
            .find(|r| r.code.parse::<u16>().ok() == Some(code))
            .map_or_else(|| "unknown".into(), |r| r.name.clone())
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
                        rank: None,
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
                                crate::timestamp::rfc3339(oldest_created_at_ms)
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
        m.overdue_firing.reset();
        for agency in self.alerts.overdue_agencies() {
            m.overdue_firing.with_label_values(&[&agency]).set(1);
        }
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

/// The agencies a (topic, region) series' alerts go to: the one routing
/// sends this topic and region to, then the topic's own provincial agency.
fn routed_agencies(config: &Config, enricher: &Enricher, topic: u16, region: u16) -> Vec<String> {
    let mut agencies: Vec<String> = Vec::new();
    let routed = enricher.route(&[TopicId(topic)], RegionCode(region));
    for id in routed
        .into_iter()
        .map(|id| config.agencies[id.0 as usize].id.clone())
        .chain(config.topics[topic as usize].agencies.first().cloned())
    {
        if !agencies.contains(&id) {
            agencies.push(id);
        }
    }
    agencies
}

/// Words that say nothing about what a complaint is about.
const STOP_TERMS: &[&str] = &[
    "yang",
    "dan",
    "di",
    "ke",
    "dari",
    "ini",
    "itu",
    "dengan",
    "untuk",
    "tidak",
    "sudah",
    "belum",
    "mohon",
    "tolong",
    "segera",
    "kami",
    "saya",
    "kita",
    "sini",
    "lagi",
    "banget",
    "pak",
    "bu",
    "min",
    "admin",
    "ada",
    "juga",
    "karena",
    "masih",
    "sangat",
    "bisa",
    "akan",
    "para",
    "warga",
    "terima",
    "kasih",
    "nggih",
    "matur",
    "nuwun",
    "wis",
    "ora",
    "sing",
    "karo",
    "neng",
    "lan",
    "the",
    "and",
    "please",
    "#kemalajateng",
    "apa",
    "kapan",
    "gimana",
    "dong",
    "nih",
    "tapi",
    "kalau",
    "jadi",
    "sama",
    "buat",
    "harus",
    "hari",
    "sejak",
];

/// The content terms of an analysed complaint, for `top_terms`.
pub fn content_terms(tokens: &[crate::text::Token]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens {
        let term = match t.kind {
            crate::text::TokenKind::Mention => continue,
            crate::text::TokenKind::Hashtag => &t.raw,
            crate::text::TokenKind::Word => &t.term,
        };
        if term.chars().count() < 3
            || term.chars().all(|c| c.is_ascii_digit())
            || STOP_TERMS.contains(&term.as_str())
        {
            continue;
        }
        if !out.iter().any(|o| o == term) {
            out.push(term.clone());
        }
    }
    out
}
