//! Spike detection per (topic, region) in event time: counts, baselines and
//! the alert lifecycle.
//!
//! The detector is a pure state machine. It sees [`Record`]s and event-time
//! watermarks, never the wall clock, and does no I/O, so the same calls give
//! the same alerts with the same ids and timestamps, live or replayed.
//!
//! # What is counted
//! Complaints only (`is_complaint`, never a retweet), once per topic they
//! carry, in one-minute buckets (the `bucket` key) per (topic, region) and per
//! (topic, `jateng`), the province-wide series. A record of unknown region
//! counts only province-wide. The unit is the **complainant**: an author
//! counts in a bucket only if this series has not seen them within
//! `author_memory` (1 h), so a ranter posting twenty times is one voice and a
//! retweet cascade is none. The count is deterministic whatever the arrival
//! order within a bucket: a closed bucket's entries are sorted before use.
//!
//! # Lateness
//! A bucket `[s, s + bucket)` is closed and evaluated once `advance` is given
//! a watermark `>= s + bucket + allowed_lateness` (2 min). A record whose
//! bucket is already closed is dropped and counted in
//! [`DetectorStats::late`]. The state is a function of the sequence of
//! `observe`/`advance` calls only; how many buckets one `advance` closes does
//! not matter, and the order of records that are not late does not matter.
//! [`Detector::observe`] says which records were too late; a rebuild that
//! replays the others from the same start, in event-time order and in any
//! batches, reaches exactly the live state, alerts and ids (the bench checks
//! this on millions of records). Replaying the too-late ones too changes
//! only what they would have changed.
//! Drive it with the highest event time seen (or a lower, robust watermark);
//! timestamps from the future must be clamped before they reach the
//! watermark, and a watermark jump longer than `max_catch_up` (14 days) skips
//! ahead instead of closing every bucket in between.
//!
//! # The baseline
//! Expected complainants per bucket = level × hour-of-week profile (see
//! [`baseline`]): learned online with forgetting, shrunk to the topic's
//! province-wide rhythm for quiet series, widened by the level's own
//! uncertainty and by learned overdispersion. Learning lags evaluation by one
//! window and skips every bucket that fell within a pending or firing alert
//! (and feed outages), so a spike never teaches the baseline that it is
//! normal. Only the hour-of-week profile sees those buckets, capped at twice
//! what it expected: a burst that comes back at the same hour every week
//! becomes part of the rhythm instead of firing every week. A level shift is
//! different: after `relearn_after` (24 h) of firing or of being pending,
//! the level of the last hours (up to the ring's four) is adopted at once as
//! the new normal, with little weight so that what follows refines it, and
//! learning resumes. The alert then resolves, and the new normal does not
//! fire again: a plateau is one alert.
//!
//! # The test
//! At each closed bucket, for windows of 5 min, 15 min, 1 h and 4 h (derived
//! from the `window` key: ⅓×, 1×, 4×, 16×) ending at that bucket: `S`
//! distinct complainants against `M` expected. The score is
//! `-log10 P(X >= S)` for a negative binomial with mean `M`. A window is a
//! candidate only with `S >= min_count` and `S >= min_ratio × M`, so 0 versus
//! 0 and 3 versus 1 never fire. Short windows make strong spikes fast; long
//! windows catch a 3× rise in a series that sees a few complaints an hour.
//!
//! The alert fires when the best score reaches the series' **bar**: the
//! significance floor `-log10(p_value / number of windows)` (Bonferroni over
//! the windows), or higher where the series' **alert budget** asks for it
//! (see [`budget`]). Real tweet volumes are wilder than any count model: each
//! series keeps the record of its own excursions over the last weeks, and
//! its bar is the score it exceeded about `max_alerts_per_series_week` times
//! a week (per series; agencies can name their own number). A tame series
//! never notices; a wild one pages only for what stands out in its own
//! history.
//! Every alert carries its `rank` there: the share of the series' earlier
//! excursions that stayed lower.
//!
//! The alert lifecycle and incidents are in [`lifecycle`], the alert
//! budget in [`budget`], the tuning in [`DetectorParams`].

mod baseline;
mod budget;
mod events;
mod lifecycle;
pub mod nab;
mod params;
mod stats;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::model::{Record, RegionCode};
use baseline::{Baseline, Learn, HOW};
use budget::Budget;
use lifecycle::{placeholder, severity};

pub use events::{alert_id, Alert, AlertEvent, AlertState, DetectorStats, Observation, Severity};
pub use params::DetectorParams;

/// The region code of the province-wide series.
pub const JATENG: u16 = 0;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const WEEK_MS: i64 = 7 * DAY_MS;

#[derive(Clone, Copy, Debug)]
struct Entry {
    topic: u16,
    region: u16,
    author: u64,
    created_at_ms: i64,
    id: u64,
}

#[derive(Clone, Copy, Debug)]
struct Eval {
    window: usize,
    observed: u32,
    expected: f64,
    score: f64,
}

#[derive(Debug)]
struct Firing {
    alert: Alert,
    onset: i64,
    fired: i64,
    /// Consecutive buckets below the stay level.
    quiet: u32,
    /// Fired in the bucket being closed: emit `Fired`.
    new: bool,
    /// Changed since last emitted: emit `Updated`.
    dirty: bool,
}

#[derive(Debug)]
enum Phase {
    Idle,
    /// Elevated since `since`, last at or above the pending score at `last`.
    Pending {
        last: i64,
        since: i64,
    },
    Firing(Box<Firing>),
}

#[derive(Debug)]
struct Key {
    topic: u16,
    region: u16,
    /// Bucket of its first complaint.
    first: i64,
    ring_c: Box<[u32]>,
    ring_mu: Box<[f32]>,
    sum_c: Vec<u32>,
    sum_mu: Vec<f64>,
    /// New complainants in the bucket being closed.
    fresh: u32,
    /// Author → last bucket seen, pruned to `author_memory`.
    seen: HashMap<u64, i64>,
    /// Recent (bucket, tweet id) of new complainants, for samples.
    samples: VecDeque<(i64, u64)>,
    base: Baseline,
    phase: Phase,
    /// Last bucket in which learning was blocked by an alert.
    blocked: i64,
    /// Bucket in which its last alert resolved (onsets come after it).
    last_resolved: i64,
    /// Its own excursions, and the score its alert budget asks for.
    budget: Box<Budget>,
}

impl Key {
    fn is_firing(&self) -> bool {
        matches!(self.phase, Phase::Firing(_))
    }
}

/// The spike detector. One task owns it; see the module docs.
pub struct Detector {
    p: DetectorParams,
    learn: Learn,
    num_topics: usize,
    fire_score: f64,
    pending_score: f64,
    /// Index of the main window in `p.windows`.
    main_window: usize,
    mask: i64,
    ring_len: usize,
    open: BTreeMap<i64, Vec<Entry>>,
    spare: Vec<Vec<Entry>>,
    /// The first bucket not yet closed.
    next: Option<i64>,
    /// The first bucket ever closed.
    origin: Option<i64>,
    keys: Vec<Key>,
    index: HashMap<(u16, u16), usize>,
    jateng: Vec<Option<usize>>,
    regional: Vec<Vec<usize>>,
    regions_seen: Vec<u16>,
    global: Baseline,
    outage: Vec<bool>,
    /// The current run of buckets without any complaint, and what the
    /// province expected in it.
    empty_run: Option<i64>,
    empty_run_expected: f64,
    stats: DetectorStats,
    events: Vec<(u16, u16, AlertEvent)>,
    candidates: Vec<(i64, u64)>,
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Detector {
    pub fn new(params: DetectorParams, num_topics: usize) -> Detector {
        let mut p = params;
        // The hour-of-week profile needs buckets that tile an hour.
        if !(1000..=HOUR_MS).contains(&p.bucket_ms) || HOUR_MS % p.bucket_ms != 0 {
            p.bucket_ms = 60_000;
        }
        p.windows.retain(|w| *w > 0);
        p.windows.sort_unstable();
        p.windows.dedup();
        if p.windows.is_empty() {
            p.windows.push(p.window_buckets.max(1));
        }
        p.window_buckets = p.window_buckets.max(1);
        let max_window = (*p.windows.last().unwrap_or(&1)).max(p.window_buckets) as usize;
        let ring_len = (max_window + 1).next_power_of_two();
        let learn = p.learn();
        let n = p.windows.len() as f64;
        let flat = [1.0f32; HOW];
        Detector {
            fire_score: -(p.p_value / n).log10(),
            pending_score: -p.pending_p_value.clamp(1e-300, 0.5).log10(),
            main_window: p
                .windows
                .iter()
                .position(|&w| w == p.window_buckets)
                .unwrap_or(0),
            mask: ring_len as i64 - 1,
            ring_len,
            global: Baseline::new(&flat, &learn),
            learn,
            num_topics,
            open: BTreeMap::new(),
            spare: Vec::new(),
            next: None,
            origin: None,
            keys: Vec::new(),
            index: HashMap::new(),
            jateng: vec![None; num_topics],
            regional: vec![Vec::new(); num_topics],
            regions_seen: Vec::new(),
            outage: vec![false; ring_len],
            empty_run: None,
            empty_run_expected: 0.0,
            stats: DetectorStats::default(),
            events: Vec::new(),
            candidates: Vec::new(),
            p,
        }
    }

    pub fn params(&self) -> &DetectorParams {
        &self.p
    }

    pub fn stats(&self) -> DetectorStats {
        DetectorStats {
            keys: self.keys.len(),
            ..self.stats.clone()
        }
    }

    /// The event time up to which buckets are closed (exclusive), if any.
    pub fn closed_until_ms(&self) -> Option<i64> {
        self.next.map(|b| b * self.p.bucket_ms)
    }

    /// Counts one record. Only complaints that are not retweets, carry a
    /// topic and are not placed outside Central Java matter (an `outside`
    /// complaint counts in no series, `jateng` included); a record whose
    /// bucket is closed is counted as late.
    ///
    /// The answer lets the engine remember which records were too late: a
    /// rebuild that replays only the others, in any order, reaches exactly
    /// the live state.
    pub fn observe(&mut self, r: &Record) -> Observation {
        self.observe_behind(r, i64::MIN)
    }

    /// Like [`Detector::observe`], but the record is also late when a
    /// watermark of `source_ms` would have closed its bucket: pass the
    /// newest event time of the record's own source (its Kafka partition),
    /// and lateness depends on that source's data alone, not on how far
    /// other sources have run ahead.
    pub fn observe_behind(&mut self, r: &Record, source_ms: i64) -> Observation {
        self.stats.records += 1;
        if !r.is_complaint
            || r.retweet_of.is_some()
            || r.topics.is_empty()
            || r.region == RegionCode::OUTSIDE
        {
            self.stats.ignored += 1;
            return Observation::Ignored;
        }
        let bucket = r.created_at_ms.div_euclid(self.p.bucket_ms);
        let source_limit = source_ms
            .saturating_sub(self.p.allowed_lateness_ms)
            .div_euclid(self.p.bucket_ms);
        if bucket < source_limit || self.next.is_some_and(|next| bucket < next) {
            self.stats.late += 1;
            return Observation::Late;
        }
        let region = if r.region.is_known() {
            r.region.0
        } else {
            JATENG
        };
        let spare = &mut self.spare;
        let entries = self
            .open
            .entry(bucket)
            .or_insert_with(|| spare.pop().unwrap_or_default());
        let mut any = false;
        for (i, t) in r.topics.iter().enumerate() {
            if t.0 as usize >= self.num_topics {
                self.stats.unknown_topic += 1;
                continue;
            }
            if r.topics[..i].contains(t) {
                continue;
            }
            any = true;
            let e = Entry {
                topic: t.0,
                region: JATENG,
                author: r.author,
                created_at_ms: r.created_at_ms,
                id: r.id,
            };
            entries.push(e);
            if region != JATENG {
                entries.push(Entry { region, ..e });
            }
        }
        if any {
            self.stats.counted += 1;
            Observation::Counted
        } else {
            self.stats.ignored += 1;
            Observation::Ignored
        }
    }

    /// Closes every bucket that ends at least `allowed_lateness` before the
    /// watermark, in order, and appends the lifecycle events they cause.
    pub fn advance(&mut self, watermark_ms: i64, out: &mut Vec<AlertEvent>) {
        let limit = watermark_ms
            .saturating_sub(self.p.allowed_lateness_ms)
            .div_euclid(self.p.bucket_ms);
        let mut next = match self.next {
            Some(n) => n,
            None => match self.open.keys().next() {
                Some(&first) if first < limit => first,
                _ => return,
            },
        };
        let max_gap = (self.p.max_catch_up_ms / self.p.bucket_ms).max(self.ring_len as i64);
        if limit - next > max_gap {
            let skip_to = limit - max_gap;
            while let Some(entry) = self.open.first_entry() {
                if *entry.key() >= skip_to {
                    break;
                }
                let v = entry.remove();
                self.stats.skipped += v.len() as u64;
            }
            next = skip_to;
            self.forget_windows();
        }
        while next < limit {
            self.close(next, out);
            next += 1;
        }
        self.next = Some(next);
    }

    /// After a watermark jump: the windows would span the gap, so they
    /// restart empty, and the buckets of the jump are not learned.
    fn forget_windows(&mut self) {
        for key in &mut self.keys {
            key.ring_c.fill(0);
            key.ring_mu.fill(0.0);
            key.sum_c.fill(0);
            key.sum_mu.fill(0.0);
        }
        self.outage.fill(true);
    }

    /// The alerts firing now, ordered by topic and region.
    pub fn firing(&self) -> Vec<Alert> {
        let mut v: Vec<Alert> = self
            .keys
            .iter()
            .filter_map(|k| match &k.phase {
                Phase::Firing(f) => Some(f.alert.clone()),
                _ => None,
            })
            .collect();
        v.sort_by_key(|a| (a.topic, a.region));
        v
    }

    /// Keys that are elevated but not (yet) significant, as
    /// `(topic, region)`; their learning is frozen.
    pub fn pending(&self) -> Vec<(u16, u16)> {
        let mut v: Vec<(u16, u16)> = self
            .keys
            .iter()
            .filter(|k| matches!(k.phase, Phase::Pending { .. }))
            .map(|k| (k.topic, k.region))
            .collect();
        v.sort_unstable();
        v
    }

    /// What the baseline expects for a series at an event time, in distinct
    /// complainants per hour (for display next to an alert, and for tests).
    /// `None` for a series never seen.
    pub fn expected_per_hour(&self, topic: u16, region: u16, at_ms: i64) -> Option<f64> {
        let k = *self.index.get(&(topic, region))?;
        let (slot, frac) = self.slot_of(at_ms.div_euclid(self.p.bucket_ms));
        let base = &self.keys[k].base;
        Some(base.rate * base.factor(slot, frac) as f64)
    }

    /// The score a series must reach to fire now: the significance floor,
    /// or higher where its alert budget asks for more. `None` for a series
    /// never seen.
    pub fn bar(&self, topic: u16, region: u16) -> Option<f64> {
        let k = *self.index.get(&(topic, region))?;
        Some(self.fire_score.max(self.keys[k].budget.threshold()))
    }

    /// An estimate of the heap and inline memory the detector holds.
    pub fn approx_bytes(&self) -> usize {
        use std::mem::size_of;
        let nw = self.p.windows.len();
        let mut total = size_of::<Self>()
            + self.keys.capacity() * size_of::<Key>()
            + self.index.capacity() * (size_of::<(u16, u16)>() + size_of::<usize>() + 1)
            + self.outage.len()
            + self.regions_seen.capacity() * 2
            + Baseline::heap_bytes();
        for k in &self.keys {
            total += self.ring_len * (size_of::<u32>() + size_of::<f32>())
                + nw * (size_of::<u32>() + size_of::<f64>())
                + k.seen.capacity() * (size_of::<u64>() + size_of::<i64>() + 1)
                + k.samples.capacity() * size_of::<(i64, u64)>()
                + Baseline::heap_bytes()
                + Budget::heap_bytes();
            if let Phase::Firing(f) = &k.phase {
                total += size_of::<Firing>()
                    + f.alert.id.capacity()
                    + f.alert.sample_tweet_ids.capacity() * 8
                    + f.alert.regions.capacity() * 2
                    + f.alert.parent.as_ref().map_or(0, |s| s.capacity());
            }
        }
        for v in self.open.values().chain(self.spare.iter()) {
            total += v.capacity() * size_of::<Entry>() + 48;
        }
        total
    }

    // ---- closing a bucket -------------------------------------------------

    fn close(&mut self, now: i64, out: &mut Vec<AlertEvent>) {
        self.stats.buckets_closed += 1;
        if self.origin.is_none() {
            self.origin = Some(now);
        }
        let mut entries = self.open.remove(&now).unwrap_or_default();
        let (slot, frac) = self.slot_of(now);
        let global_mu =
            self.global.rate * self.global.factor(slot, frac) as f64 / self.learn.buckets_per_hour;
        self.outage[(now & self.mask) as usize] = false;
        if entries.is_empty() {
            let start = *self.empty_run.get_or_insert(now);
            self.empty_run_expected += global_mu;
            if self.empty_run_expected >= self.p.outage_min_expected {
                // Silence where the province expected this much is a feed
                // outage: none of it is learned (learning lags, so the start
                // of the run is still unlearned).
                for b in start.max(now - self.ring_len as i64 + 1)..=now {
                    let pos = (b & self.mask) as usize;
                    if !self.outage[pos] {
                        self.stats.outage_buckets += 1;
                    }
                    self.outage[pos] = true;
                }
                // The silence stays an outage until a complaint arrives.
                self.empty_run = Some(now);
            }
        } else {
            self.empty_run = None;
            self.empty_run_expected = 0.0;
        }

        entries.sort_unstable_by_key(|e| (e.topic, e.region, e.author, e.created_at_ms, e.id));
        let mut i = 0;
        while i < entries.len() {
            let (topic, region) = (entries[i].topic, entries[i].region);
            let mut j = i + 1;
            while j < entries.len() && entries[j].topic == topic && entries[j].region == region {
                j += 1;
            }
            match self.key_for(topic, region, now) {
                Some(k) => self.count_group(k, &entries[i..j], now),
                None => self.stats.region_overflow += (j - i) as u64,
            }
            i = j;
        }
        entries.clear();
        self.spare.push(entries);

        for k in 0..self.keys.len() {
            self.step_key(k, now, slot, frac);
        }
        self.incidents(now);
        self.finish_bucket(now);
        self.learn_lagged(now);

        self.events.sort_by_key(|(t, r, _)| (*t, *r));
        out.extend(self.events.drain(..).map(|(_, _, e)| e));
    }

    fn key_for(&mut self, topic: u16, region: u16, now: i64) -> Option<usize> {
        if let Some(&k) = self.index.get(&(topic, region)) {
            return Some(k);
        }
        if region != JATENG && !self.regions_seen.contains(&region) {
            if self.regions_seen.len() >= self.p.max_regions {
                return None;
            }
            self.regions_seen.push(region);
        }
        // Entries are sorted, so the province-wide key of a topic exists
        // before any of its regional keys.
        let parent_prof = if region == JATENG {
            *self.global.prof
        } else {
            let j = self.jateng[topic as usize]?;
            *self.keys[j].base.prof
        };
        let nw = self.p.windows.len();
        let k = self.keys.len();
        self.keys.push(Key {
            topic,
            region,
            first: now,
            ring_c: vec![0; self.ring_len].into_boxed_slice(),
            ring_mu: vec![0.0; self.ring_len].into_boxed_slice(),
            sum_c: vec![0; nw],
            sum_mu: vec![0.0; nw],
            fresh: 0,
            seen: HashMap::new(),
            samples: VecDeque::new(),
            base: Baseline::new(&parent_prof, &self.learn),
            phase: Phase::Idle,
            blocked: i64::MIN,
            last_resolved: i64::MIN,
            budget: Box::new(Budget::new(
                *self
                    .p
                    .series_budgets
                    .get(&(topic, region))
                    .unwrap_or(&self.p.max_alerts_per_series_week),
                self.p.budget_min_weeks,
                self.pending_score,
            )),
        });
        self.index.insert((topic, region), k);
        if region == JATENG {
            self.jateng[topic as usize] = Some(k);
        } else {
            self.regional[topic as usize].push(k);
        }
        Some(k)
    }

    /// Counts the new complainants of one key in the bucket being closed.
    fn count_group(&mut self, k: usize, group: &[Entry], now: i64) {
        let memory = (self.p.author_memory_ms / self.p.bucket_ms).max(1);
        let cap = 4 * self.p.max_samples.max(1);
        let key = &mut self.keys[k];
        self.candidates.clear();
        let mut a = 0;
        while a < group.len() {
            let first = group[a];
            let mut b = a + 1;
            while b < group.len() && group[b].author == first.author {
                b += 1;
            }
            let is_new = match key.seen.insert(first.author, now) {
                Some(prev) => now - prev >= memory,
                None => true,
            };
            if is_new {
                key.fresh += 1;
                self.candidates.push((first.created_at_ms, first.id));
            }
            a = b;
        }
        self.candidates.sort_unstable();
        for &(_, id) in &self.candidates {
            key.samples.push_back((now, id));
            if key.samples.len() > cap {
                key.samples.pop_front();
            }
        }
    }

    fn armed(&self, key: &Key, now: i64) -> bool {
        armed(&self.p, self.ring_len, self.origin, key.first, now)
    }

    /// The week of a bucket (local time), for the budget's history.
    fn week_of(&self, bucket: i64) -> i64 {
        (bucket * self.p.bucket_ms + self.p.utc_offset_ms).div_euclid(WEEK_MS)
    }

    /// Two visits of a score level are one excursion unless the score stayed
    /// below it this long in between: as long as an alert takes to resolve.
    fn excursion_gap(&self) -> i64 {
        (self.p.resolve_after_ms / self.p.bucket_ms).max(1)
    }

    /// Pushes the bucket into a key's windows and runs its state machine.
    fn step_key(&mut self, k: usize, now: i64, slot: usize, frac: f32) {
        let armed = self.armed(&self.keys[k], now);
        let (week, gap) = (self.week_of(now), self.excursion_gap());
        let learn = &self.learn;
        let p = &self.p;
        let key = &mut self.keys[k];
        let c = std::mem::take(&mut key.fresh);
        let mu =
            (key.base.rate * key.base.factor(slot, frac) as f64 / learn.buckets_per_hour) as f32;
        for (wi, &w) in p.windows.iter().enumerate() {
            let old = ((now - w as i64) & self.mask) as usize;
            key.sum_c[wi] -= key.ring_c[old];
            key.sum_mu[wi] -= key.ring_mu[old] as f64;
        }
        let pos = (now & self.mask) as usize;
        key.ring_c[pos] = c;
        key.ring_mu[pos] = mu;
        for wi in 0..p.windows.len() {
            key.sum_c[wi] += c;
            key.sum_mu[wi] += mu as f64;
        }

        let mut best: Option<Eval> = None;
        if armed {
            let r = key.base.nb_size(learn);
            for (wi, (&s, &m)) in key.sum_c.iter().zip(&key.sum_mu).enumerate() {
                // A window that still holds a resolved alert's buckets would
                // fire it again: only windows wholly after it count.
                let clean = now - p.windows[wi] as i64 >= key.last_resolved;
                let m = m.max(0.0);
                if clean && s >= p.min_count && s as f64 >= p.min_ratio * m {
                    let score = stats::nb_upper_tail_score(s, m, r);
                    if best.is_none_or(|b| score > b.score) {
                        best = Some(Eval {
                            window: wi,
                            observed: s,
                            expected: m,
                            score,
                        });
                    }
                }
            }
        }
        let score = best.map_or(0.0, |b| b.score);
        // The bar this series must clear: significance, raised by its own
        // record so that it stays within its alert budget. Pending (which
        // freezes learning) moves up with it.
        let fire_at = self.fire_score.max(key.budget.threshold());
        let pending_at = self.pending_score + (fire_at - self.fire_score);
        if armed {
            let hold = match &key.phase {
                Phase::Firing(f) => f.alert.score,
                _ => 0.0,
            };
            key.budget.observe(score, hold, now, week, gap);
        }
        let relearn = (p.relearn_after_ms / p.bucket_ms).max(1);
        let mut adopt_now = false;
        if !key.is_firing() && score >= fire_at {
            if let Some(eval) = best {
                self.fire(k, now, eval, None);
            }
            return;
        }
        match &mut key.phase {
            Phase::Idle => {
                if score >= pending_at {
                    key.phase = Phase::Pending {
                        last: now,
                        since: now,
                    };
                    key.blocked = now;
                }
            }
            Phase::Pending { last, since } => {
                if score >= pending_at {
                    *last = now;
                }
                let (last, elevated) = (*last, now - *since);
                if now - last >= p.window_buckets as i64 {
                    key.phase = Phase::Idle;
                }
                if elevated < relearn {
                    key.blocked = now;
                }
                // Elevated for so long without firing: the new level is the
                // series' normal now.
                adopt_now = elevated == relearn;
            }
            Phase::Firing(f) => {
                if let Some(eval) = best.filter(|e| e.score > f.alert.score) {
                    let a = &mut f.alert;
                    a.observed = eval.observed as f64;
                    a.expected = round3(eval.expected);
                    a.window_seconds = (p.windows[eval.window] as i64 * p.bucket_ms / 1000) as u64;
                    a.score = round3(eval.score);
                    a.rank = round3(key.budget.rank(eval.score, now, gap));
                    let sev = severity(p, a);
                    if sev > a.severity {
                        a.severity = sev;
                        f.dirty = true;
                    }
                }
                let wi = self.main_window;
                let s = key.sum_c[wi] as f64;
                let stay = (p.stay_min_count as f64).max(p.stay_ratio * key.sum_mu[wi]);
                f.quiet = if s >= stay { 0 } else { f.quiet + 1 };
                if f.alert.sample_tweet_ids.len() < p.max_samples {
                    for &(b, id) in &key.samples {
                        let ids = &mut f.alert.sample_tweet_ids;
                        if b >= f.onset && ids.len() < p.max_samples && !ids.contains(&id) {
                            ids.push(id);
                        }
                    }
                }
                let firing = now - f.fired;
                if firing < relearn {
                    key.blocked = now;
                }
                // A plateau this long is the new normal: learn its level at
                // once, so that it resolves and does not fire again.
                adopt_now = firing == relearn;
            }
        }
        if adopt_now {
            adopt(key, now, relearn, self.mask, learn);
        }
    }

    /// Resolves quiet alerts and queues this bucket's events.
    fn finish_bucket(&mut self, now: i64) {
        let resolve = (self.p.resolve_after_ms / self.p.bucket_ms).max(1) as u32;
        let end = (now + 1) * self.p.bucket_ms;
        for key in &mut self.keys {
            let Phase::Firing(f) = &mut key.phase else {
                continue;
            };
            if f.quiet >= resolve {
                let mut alert = std::mem::replace(&mut f.alert, placeholder());
                alert.state = AlertState::Resolved;
                alert.resolved_at_ms = Some(end);
                self.events
                    .push((key.topic, key.region, AlertEvent::Resolved(alert)));
                key.phase = Phase::Idle;
                key.last_resolved = now;
            } else if f.new {
                f.new = false;
                f.dirty = false;
                self.events
                    .push((key.topic, key.region, AlertEvent::Fired(f.alert.clone())));
            } else if f.dirty {
                f.dirty = false;
                self.events
                    .push((key.topic, key.region, AlertEvent::Updated(f.alert.clone())));
            }
        }
    }

    // ---- learning ---------------------------------------------------------

    /// Learns the bucket one window back, if no alert touched it since, and
    /// closes the hour when that bucket ends one.
    fn learn_lagged(&mut self, now: i64) {
        let j = now - self.p.window_buckets as i64;
        let Some(origin) = self.origin else { return };
        if j < origin {
            return;
        }
        let (slot, frac) = self.slot_of(j);
        let pos = (j & self.mask) as usize;
        let outage = self.outage[pos];
        if !outage {
            let total: u32 = self
                .jateng
                .iter()
                .flatten()
                .map(|&k| self.keys[k].ring_c[pos])
                .sum();
            let f = self.global.factor(slot, frac);
            self.global.learn_bucket(total, f, &self.learn);
            for key in &mut self.keys {
                if j >= key.first {
                    let f = key.base.factor(slot, frac);
                    if key.blocked < j {
                        key.base.learn_bucket(key.ring_c[pos], f, &self.learn);
                    } else {
                        key.base.learn_blocked(key.ring_c[pos], f, &self.learn);
                    }
                }
            }
        }
        let end = (j + 1) * self.p.bucket_ms + self.p.utc_offset_ms;
        if end.rem_euclid(HOUR_MS) != 0 {
            return;
        }
        let hour_slot = (((j * self.p.bucket_ms + self.p.utc_offset_ms).div_euclid(HOUR_MS) + 72)
            .rem_euclid(HOW as i64)) as usize;
        let warm = (self.p.warmup_ms / self.p.bucket_ms).max(1);
        self.global
            .close_hour(hour_slot, j - origin >= warm, &self.learn);
        let memory = (self.p.author_memory_ms / self.p.bucket_ms).max(1);
        let week = self.week_of(now);
        for key in &mut self.keys {
            let robust = j - key.first >= warm;
            key.base.close_hour(hour_slot, robust, &self.learn);
            if armed(&self.p, self.ring_len, self.origin, key.first, now) {
                key.budget.close_hour(week);
            }
            key.seen.retain(|_, last| now - *last < memory);
            // Recompute the window sums of expectations so float error cannot drift.
            for (wi, &w) in self.p.windows.iter().enumerate() {
                key.sum_mu[wi] = (0..w as i64)
                    .map(|b| key.ring_mu[((now - b) & self.mask) as usize] as f64)
                    .sum();
            }
        }
        let hour_abs = end.div_euclid(HOUR_MS);
        if hour_abs % self.p.profile_refresh_hours.max(1) as i64 == 0 {
            let flat = [1.0f32; HOW];
            self.global.refresh(&flat, &self.learn);
            // Province-wide keys first: they are the regional keys' parents.
            for pass in [true, false] {
                for k in 0..self.keys.len() {
                    if (self.keys[k].region == JATENG) != pass {
                        continue;
                    }
                    let parent = self.parent_prof(k).copied().unwrap_or(flat);
                    self.keys[k].base.refresh(&parent, &self.learn);
                }
            }
        }
    }

    fn parent_prof(&self, k: usize) -> Option<&[f32; HOW]> {
        let key = &self.keys[k];
        if key.region == JATENG {
            Some(&self.global.prof)
        } else {
            self.jateng[key.topic as usize].map(|j| &*self.keys[j].base.prof)
        }
    }

    /// Hour-of-week slot (Monday 00:00 local = 0) and the interpolation
    /// fraction toward the next slot, at the middle of a bucket.
    fn slot_of(&self, bucket: i64) -> (usize, f32) {
        let mid = bucket * self.p.bucket_ms + self.p.bucket_ms / 2 + self.p.utc_offset_ms;
        let x = mid as f64 / HOUR_MS as f64 - 0.5;
        let i = x.floor();
        let slot = ((i as i64 + 72).rem_euclid(HOW as i64)) as usize;
        (slot, (x - i) as f32)
    }
}

/// Whether a key may fire: it, and the detector, have a warm-up of history.
fn armed(p: &DetectorParams, ring_len: usize, origin: Option<i64>, first: i64, now: i64) -> bool {
    let warm = (p.warmup_ms / p.bucket_ms).max(ring_len as i64);
    now - first >= warm && origin.is_some_and(|o| now - o >= warm)
}

/// Makes the level of the last `span` buckets (at most the ring) the key's
/// normal: a level shift that lasted `relearn_after` is learned at once
/// instead of over the level's half-life.
fn adopt(key: &mut Key, now: i64, span: i64, mask: i64, learn: &Learn) {
    let span = span.min(mask).min(now - key.first).max(1);
    let (mut c, mut mu) = (0.0, 0.0);
    for b in now - span + 1..=now {
        let pos = (b & mask) as usize;
        c += key.ring_c[pos] as f64;
        mu += key.ring_mu[pos] as f64;
    }
    if mu > 0.0 {
        key.base.adopt(c / mu, learn);
    }
}
