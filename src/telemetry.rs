//! Every metric kemala exports, and one function per event that records it.
//!
//! Label values come only from bounded, configured sets: topic ids, region
//! slugs, agency ids, language codes and reject reasons. Free text never
//! becomes a label. Hot paths record per batch, not per tweet.

use prometheus::{
    Encoder, Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec,
    IntGauge, IntGaugeVec, Opts, Registry, TextEncoder,
};

/// Response-time buckets: 1 minute to 7 days.
pub const RESPONSE_BUCKETS: [f64; 14] = [
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 43200.0, 86400.0, 129600.0,
    172800.0, 345600.0, 604800.0,
];

use crate::model::Reject;

pub struct Metrics {
    pub registry: Registry,
    pub messages: IntCounterVec,
    pub rejected: IntCounterVec,
    pub redelivered: IntCounter,
    pub complaints: IntCounterVec,
    pub by_language: IntCounterVec,
    pub event_time_lag: Gauge,
    pub watermark: Gauge,
    pub consumer_lag: IntGaugeVec,
    pub index_documents: IntGauge,
    pub index_commits: IntCounter,
    pub commit_seconds: Histogram,
    pub batch_seconds: Histogram,
    pub search_seconds: HistogramVec,
    pub dead_letter_failures: IntCounter,
    pub overdue_firing: IntGaugeVec,
    pub alerts_firing: IntGaugeVec,
    pub alerts_total: IntCounterVec,
    pub alert_deliveries: IntCounterVec,
    pub alert_retries: IntCounterVec,
    pub alert_outbox: IntGauge,
    pub agency_response: HistogramVec,
    pub agency_open: IntGaugeVec,
    pub agency_oldest_open: GaugeVec,
    pub agency_over_target: IntCounterVec,
    pub latency_data_errors: IntCounterVec,
    pub latency_evicted: IntCounter,
    pub state_bytes: IntGaugeVec,
    pub detect_late: IntCounter,
    pub future_timestamps: IntCounter,
}

fn reg<T: prometheus::core::Collector + Clone + 'static>(r: &Registry, c: T) -> T {
    r.register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

impl Metrics {
    pub fn new() -> Metrics {
        let r = Registry::new();
        let m = Metrics {
            messages: reg(
                &r,
                IntCounterVec::new(Opts::new("kemala_messages_total", "Kafka messages processed, by result."), &["result"]).unwrap(),
            ),
            rejected: reg(
                &r,
                IntCounterVec::new(
                    Opts::new("kemala_messages_rejected_total", "Messages dead-lettered, by reason."),
                    &["reason"],
                )
                .unwrap(),
            ),
            redelivered: reg(
                &r,
                IntCounter::new(
                    "kemala_messages_redelivered_total",
                    "Messages Kafka delivered again that the index already covered (after a restart or rebalance).",
                )
                .unwrap(),
            ),
            complaints: reg(
                &r,
                IntCounterVec::new(
                    Opts::new("kemala_complaints_total", "Complaints indexed, by topic and region."),
                    &["topic", "region"],
                )
                .unwrap(),
            ),
            by_language: reg(
                &r,
                IntCounterVec::new(Opts::new("kemala_tweets_by_language_total", "Tweets indexed, by detected language."), &["lang"]).unwrap(),
            ),
            event_time_lag: reg(
                &r,
                Gauge::new(
                    "kemala_event_time_lag_seconds",
                    "Wall-clock time minus the newest event time indexed.",
                )
                .unwrap(),
            ),
            watermark: reg(
                &r,
                Gauge::new("kemala_event_time_watermark_seconds", "Newest event time indexed, as a Unix timestamp.").unwrap(),
            ),
            consumer_lag: reg(
                &r,
                IntGaugeVec::new(
                    Opts::new("kemala_kafka_consumer_lag", "Messages between the index's offset and the partition's high watermark."),
                    &["partition"],
                )
                .unwrap(),
            ),
            index_documents: reg(&r, IntGauge::new("kemala_index_documents", "Documents in the index.").unwrap()),
            index_commits: reg(&r, IntCounter::new("kemala_index_commits_total", "Index commits.").unwrap()),
            commit_seconds: reg(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new("kemala_index_commit_duration_seconds", "Time to commit the index and store the offsets.")
                        .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0]),
                )
                .unwrap(),
            ),
            batch_seconds: reg(
                &r,
                Histogram::with_opts(
                    HistogramOpts::new("kemala_batch_duration_seconds", "Time to decode, enrich and index one batch.")
                        .buckets(vec![0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0]),
                )
                .unwrap(),
            ),
            search_seconds: reg(
                &r,
                HistogramVec::new(
                    HistogramOpts::new("kemala_search_duration_seconds", "Search request latency, by endpoint.")
                        .buckets(vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]),
                    &["endpoint"],
                )
                .unwrap(),
            ),
            dead_letter_failures: reg(
                &r,
                IntCounter::new("kemala_dead_letter_failures_total", "Dead-letter deliveries that failed and will be retried.").unwrap(),
            ),
            overdue_firing: reg(
                &r,
                IntGaugeVec::new(
                    Opts::new("kemala_overdue_alerts_firing", "1 while the agency has complaints past the response target unanswered."),
                    &["agency"],
                )
                .unwrap(),
            ),
            alerts_firing: reg(
                &r,
                IntGaugeVec::new(Opts::new("kemala_alerts_firing", "Alerts firing now, by topic and region."), &["topic", "region"]).unwrap(),
            ),
            alerts_total: reg(
                &r,
                IntCounterVec::new(
                    Opts::new("kemala_alerts_total", "Alerts fired, by topic, region and severity."),
                    &["topic", "region", "severity"],
                )
                .unwrap(),
            ),
            alert_deliveries: reg(
                &r,
                IntCounterVec::new(
                    Opts::new("kemala_alert_deliveries_total", "Alert delivery attempts, by target and result."),
                    &["target", "result"],
                )
                .unwrap(),
            ),
            alert_retries: reg(
                &r,
                IntCounterVec::new(Opts::new("kemala_alert_delivery_retries_total", "Alert deliveries scheduled for a retry."), &["target"]).unwrap(),
            ),
            alert_outbox: reg(&r, IntGauge::new("kemala_alert_outbox_pending", "Alert notifications not yet delivered.").unwrap()),
            agency_response: reg(
                &r,
                HistogramVec::new(
                    HistogramOpts::new("kemala_agency_response_seconds", "Time from a complaint to the agency's first answer (event time).")
                        .buckets(RESPONSE_BUCKETS.to_vec()),
                    &["agency", "topic"],
                )
                .unwrap(),
            ),
            agency_open: reg(
                &r,
                IntGaugeVec::new(Opts::new("kemala_agency_open_complaints", "Complaints waiting for the agency's answer."), &["agency"]).unwrap(),
            ),
            agency_oldest_open: reg(
                &r,
                GaugeVec::new(
                    Opts::new("kemala_agency_oldest_open_seconds", "Age of the agency's oldest unanswered complaint, in event time."),
                    &["agency"],
                )
                .unwrap(),
            ),
            agency_over_target: reg(
                &r,
                IntCounterVec::new(
                    Opts::new("kemala_agency_over_target_total", "Complaints that passed the response target unanswered."),
                    &["agency"],
                )
                .unwrap(),
            ),
            latency_data_errors: reg(
                &r,
                IntCounterVec::new(
                    Opts::new("kemala_latency_data_errors_total", "Replies that could not count towards response times, by kind."),
                    &["kind"],
                )
                .unwrap(),
            ),
            latency_evicted: reg(
                &r,
                IntCounter::new("kemala_latency_evicted_total", "Open complaints forgotten after the latency horizon.").unwrap(),
            ),
            state_bytes: reg(
                &r,
                IntGaugeVec::new(Opts::new("kemala_state_bytes", "Approximate memory of in-memory state, by component."), &["component"]).unwrap(),
            ),
            detect_late: reg(
                &r,
                IntCounter::new(
                    "kemala_detect_late_total",
                    "Complaints that arrived after the spike detector closed their minute.",
                )
                .unwrap(),
            ),
            future_timestamps: reg(
                &r,
                IntCounter::new(
                    "kemala_future_timestamps_total",
                    "Tweets dated more than an hour ahead of the clock; indexed, but they do not move event time.",
                )
                .unwrap(),
            ),
            registry: r,
        };
        // Pre-create the fixed label sets so dashboards see zeros, not gaps.
        for result in ["indexed", "duplicate", "rejected"] {
            m.messages.with_label_values(&[result]);
        }
        for reason in Reject::ALL {
            m.rejected.with_label_values(&[reason.as_str()]);
        }
        for target in ["webhook", "alertmanager"] {
            for result in ["success", "failure"] {
                m.alert_deliveries.with_label_values(&[target, result]);
            }
            m.alert_retries.with_label_values(&[target]);
        }
        m
    }

    pub fn record_rejects(&self, reason: Reject, n: u64) {
        self.rejected
            .with_label_values(&[reason.as_str()])
            .inc_by(n);
        self.messages.with_label_values(&["rejected"]).inc_by(n);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let enc = TextEncoder::new();
        // Encoding into a Vec cannot fail for well-formed metrics.
        let _ = enc.encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}
