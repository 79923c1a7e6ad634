//! What HTTP handlers can see of a running engine: the configuration, the
//! index reader, the metrics, the source's status, the pipeline's progress
//! counters, the alert store and the trackers.
//!
//! `app` builds it and the pipeline updates its counters; `http` only reads
//! it. It lives in a module of its own, below both, so that neither has to
//! import the other to name it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::Arc;

use crate::alert::AlertStore;
use crate::config::Config;
use crate::index::IndexHandle;
use crate::source::kafka::SourceState;
use crate::telemetry::Metrics;
use crate::track::Trackers;

/// Counters the rest of the engine (status, demo throttling, tests) reads.
#[derive(Default)]
pub struct Progress {
    /// Messages handled by the pipeline, whatever the outcome.
    pub processed: AtomicU64,
    pub indexed: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    /// Messages covered by the last index commit.
    pub committed: AtomicU64,
    pub watermark_ms: AtomicI64,
    pub commits: AtomicU64,
}

/// What HTTP handlers can see.
pub struct Shared {
    pub config: Arc<Config>,
    pub index: IndexHandle,
    pub metrics: Arc<Metrics>,
    pub source: Arc<SourceState>,
    pub progress: Arc<Progress>,
    pub bootstrap: String,
    pub embedded_broker: bool,
    pub ready: AtomicBool,
    pub alerts: Arc<AlertStore>,
    pub trackers: Arc<Trackers>,
    /// BPS code → region name.
    pub region_names: HashMap<u16, String>,
}
