//! What HTTP handlers can see of a running engine: the configuration, the
//! index reader, the metrics, the source's status, the pipeline's progress
//! counters, the alert store and the trackers.
//!
//! `app` builds it and the pipeline updates its counters; `http` only reads
//! it. It lives in a module of its own, below both, so that neither has to
//! import the other to name it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64};
use std::sync::{Arc, Mutex};

use crate::alert::AlertStore;
use crate::config::{ApiToken, Config};
use crate::index::IndexHandle;
use crate::model::Lost;
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

/// A fault that keeps the engine from being ready: since when (wall clock,
/// ms), and what the operator should read.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub since_ms: i64,
    pub detail: String,
    /// Attempts to recover so far (index writes).
    pub attempts: u32,
}

/// The pipeline's faults and its ledger of lost messages, as HTTP shows
/// them. The pipeline writes; status, readiness and metrics read.
#[derive(Default)]
pub struct Health {
    inner: Mutex<HealthState>,
}

#[derive(Clone, Debug, Default)]
pub struct HealthState {
    /// The index cannot be written (a full disk, an I/O error).
    pub index_write: Option<Fault>,
    /// Messages were lost and `kafka.offset_reset` is `fail`: ingest stopped.
    pub halted: Option<Fault>,
    /// Every gap so far, committed or not.
    pub lost: Lost,
}

impl Health {
    pub fn get(&self) -> HealthState {
        self.inner.lock().map(|h| h.clone()).unwrap_or_default()
    }

    pub fn update(&self, f: impl FnOnce(&mut HealthState)) {
        if let Ok(mut h) = self.inner.lock() {
            f(&mut h);
        }
    }
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
    pub health: Arc<Health>,
    /// The named API tokens, with their secrets.
    pub tokens: Vec<ApiToken>,
}
