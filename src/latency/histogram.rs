//! Response-time histograms: HdrHistogram in milliseconds at three
//! significant figures, with the exact maximum beside it, so quantiles are
//! within 0.1% and the maximum is exact.

use std::mem::size_of;

use hdrhistogram::Histogram;

/// A latency histogram with its exact maximum.
pub(super) struct LatencyHistogram {
    pub(super) hist: Histogram<u64>,
    pub(super) max_ms: u64,
}

impl LatencyHistogram {
    pub(super) fn new(high_ms: u64) -> LatencyHistogram {
        // Invariant: low = 1, high >= 2 and 3 significant figures are always
        // valid bounds, so this cannot fail.
        let hist =
            Histogram::new_with_bounds(1, high_ms.max(2), 3).expect("valid histogram bounds");
        LatencyHistogram { hist, max_ms: 0 }
    }

    pub(super) fn record(&mut self, ms: u64) {
        self.hist.saturating_record(ms);
        self.max_ms = self.max_ms.max(ms);
    }

    /// p50, p90, p99 and max in seconds. hdrhistogram returns the highest
    /// value equivalent to the nearest-rank sample (within 0.1% at three
    /// significant figures); it is capped by the exact maximum.
    pub(super) fn quantiles(&self) -> Option<(f64, f64, f64, f64)> {
        if self.hist.is_empty() {
            return None;
        }
        let q = |p: f64| self.hist.value_at_quantile(p).min(self.max_ms) as f64 / 1000.0;
        Some((q(0.5), q(0.9), q(0.99), self.max_ms as f64 / 1000.0))
    }

    pub(super) fn bytes(&self) -> usize {
        size_of::<Self>() + self.hist.distinct_values() * size_of::<u64>()
    }
}
