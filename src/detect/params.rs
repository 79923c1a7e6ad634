//! The detector's tuning: every `[detect]` key, with the tuned values as
//! defaults, turned into the numbers the detector works with.

use super::*;

/// Tuning of the detector. Take it from the config with
/// [`DetectorParams::from_config`]; the defaults are the tuned values.
#[derive(Clone, Debug, PartialEq)]
pub struct DetectorParams {
    /// Bucket width (`bucket`). Must divide an hour; otherwise 1 minute.
    pub bucket_ms: i64,
    /// The main window in buckets (`window`): resolution is judged on it and
    /// learning lags by it.
    pub window_buckets: u32,
    /// The windows tested, in buckets, ascending.
    pub windows: Vec<u32>,
    /// Minimum distinct complainants in a window before it can fire (`min_count`).
    pub min_count: u32,
    /// Total tail probability to fire, shared by the windows (`p_value`).
    pub p_value: f64,
    /// Tail probability that makes a key pending (and freezes its learning).
    pub pending_p_value: f64,
    /// Observed must also be at least this multiple of expected to fire.
    pub min_ratio: f64,
    /// A firing alert stays elevated while the window holds at least
    /// `max(stay_min_count, stay_ratio × expected)` complainants.
    pub stay_ratio: f64,
    pub stay_min_count: u32,
    /// Resolve after this long below the stay level.
    pub resolve_after_ms: i64,
    /// How long after a bucket's end records are still accepted into it.
    pub allowed_lateness_ms: i64,
    /// History a key (since its first complaint) and the detector need before firing.
    pub warmup_ms: i64,
    /// An author counts again in a series only after this long.
    pub author_memory_ms: i64,
    /// After firing this long, the new level is learned as normal.
    pub relearn_after_ms: i64,
    /// Half-life of the level.
    pub level_half_life_ms: i64,
    /// Half-life of the dispersion estimate.
    pub dispersion_half_life_ms: i64,
    /// Per-day decay of the hour-of-day profile sums.
    pub day_memory: f64,
    /// Per-week decay of the hour-of-week profile sums.
    pub week_memory: f64,
    /// Pseudo-counts that shrink the hour-of-day profile to the parent's.
    pub day_prior: f64,
    /// Pseudo-counts that shrink the hour-of-week profile to the hour-of-day one.
    pub week_prior: f64,
    /// The prior of a new key: `prior_count` complainants in `prior_hours`.
    pub prior_count: f64,
    pub prior_hours: f64,
    /// Prior overdispersion (squared coefficient of variation) and its weight.
    pub dispersion_prior: f64,
    pub dispersion_prior_weight: f64,
    pub dispersion_min: f64,
    pub dispersion_max: f64,
    /// Observed/expected ratio (with `3 × min_count` observed) that makes an alert critical.
    pub critical_ratio: f64,
    /// Regions of one topic firing at once that make a province-wide incident.
    pub incident_min_regions: usize,
    /// Sample tweet ids kept per alert.
    pub max_samples: usize,
    /// Distinct region codes tracked; beyond that, records count province-wide only.
    pub max_regions: usize,
    /// Offset of local time (WIB, UTC+7) for the hour-of-week profile.
    pub utc_offset_ms: i64,
    /// Profiles are renormalized every this many hours.
    pub profile_refresh_hours: u32,
    /// A run of buckets without any complaint where the province expected
    /// this many in total is a feed outage, and is not learned.
    pub outage_min_expected: f64,
    /// The longest watermark jump closed bucket by bucket.
    pub max_catch_up_ms: i64,
}

impl Default for DetectorParams {
    fn default() -> Self {
        DetectorParams::from_config(&DetectConfig::default())
    }
}

impl DetectorParams {
    /// The parameters for a `[detect]` section; keys it lacks take defaults.
    pub fn from_config(c: &DetectConfig) -> Self {
        let mut bucket_ms = c.bucket.0.as_millis() as i64;
        if !(1000..=HOUR_MS).contains(&bucket_ms) || HOUR_MS % bucket_ms != 0 {
            bucket_ms = 60_000;
        }
        let window_ms = c.window.0.as_millis() as i64;
        let w = ((window_ms + bucket_ms / 2) / bucket_ms).clamp(1, 24 * HOUR_MS / bucket_ms) as u32;
        let mut windows = vec![(w / 3).max(1), w, 4 * w, 16 * w];
        windows.dedup();
        let min_count = c.min_count.max(1);
        DetectorParams {
            bucket_ms,
            window_buckets: w,
            windows,
            min_count,
            p_value: c.p_value.clamp(1e-300, 0.5),
            pending_p_value: 1e-3,
            min_ratio: 1.5,
            stay_ratio: 1.5,
            stay_min_count: min_count.div_ceil(2),
            resolve_after_ms: 30 * 60_000,
            allowed_lateness_ms: 2 * 60_000,
            warmup_ms: DAY_MS,
            author_memory_ms: HOUR_MS,
            relearn_after_ms: 12 * HOUR_MS,
            level_half_life_ms: 3 * DAY_MS,
            dispersion_half_life_ms: 7 * DAY_MS,
            day_memory: 0.9,
            week_memory: 0.75,
            day_prior: 10.0,
            week_prior: 20.0,
            prior_count: 1.0,
            prior_hours: 1.0,
            dispersion_prior: 0.1,
            dispersion_prior_weight: 20.0,
            dispersion_min: 0.01,
            dispersion_max: 2.0,
            critical_ratio: 5.0,
            incident_min_regions: 3,
            max_samples: 5,
            max_regions: 64,
            utc_offset_ms: 7 * HOUR_MS,
            profile_refresh_hours: 6,
            outage_min_expected: 10.0,
            max_catch_up_ms: 14 * DAY_MS,
        }
    }

    pub(super) fn learn(&self) -> Learn {
        let half = |ms: i64| 0.5f64.powf(HOUR_MS as f64 / ms.max(HOUR_MS) as f64);
        Learn {
            buckets_per_hour: (HOUR_MS / self.bucket_ms) as f64,
            delta_level: half(self.level_half_life_ms),
            delta_disp: half(self.dispersion_half_life_ms),
            rho_day: self.day_memory as f32,
            rho_week: self.week_memory as f32,
            k_day: self.day_prior as f32,
            k_week: self.week_prior as f32,
            prior_count: self.prior_count.max(1e-3),
            prior_hours: self.prior_hours.max(1e-3),
            phi_prior: self.dispersion_prior,
            phi_prior_weight: self.dispersion_prior_weight,
            phi_min: self.dispersion_min,
            phi_max: self.dispersion_max,
            min_hours_for_shape: 24.0,
        }
    }
}
