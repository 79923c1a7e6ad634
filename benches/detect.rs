//! Quality and cost of the spike detector on synthetic complaint traffic.
//!
//! `cargo bench --bench detect` (about 40 s in release) or `-- --quick` (one
//! seed per group, four weeks each). Each seed generates, by itself, six
//! weeks of background for 17 topics × 36 regions (35 regencies/cities and
//! unknown): about 2000 complaints an hour province-wide with a daily and
//! weekly rhythm per topic, day-level and hour-level overdispersion (gamma
//! multipliers, CV 0.25 and 0.2), slow trends (−30% to +50% over the run), a
//! rainy-season swing for floods, a fifth of the (topic, region) series
//! nearly silent (one tweet a week), retweet cascades (50–500 retweets of one
//! complaint), ranters (one author posting 5–20 times within the hour), 5% of
//! complaints with a second topic, and arrival disorder (0.3% of records
//! arrive 2–10 minutes late). Into the weeks after the first two (which are
//! learning only) it injects labelled spikes of distinct new authors, 2×–20×
//! the series' seasonal baseline (with a floor of 12 an hour, so that "3×"
//! means something in a silent series), lasting 10 minutes to 6 hours, in
//! busy (≥ 10/h), medium and quiet (< 0.5/h) series, plus multi-region
//! incidents (3–8 regions of one topic at once, 3×–10×, 1–4 h).
//!
//! Parameters are the library defaults unless `KEMALA_DETECT_BUCKET`,
//! `KEMALA_DETECT_WINDOW`, `KEMALA_DETECT_MIN_COUNT`, `KEMALA_DETECT_P_VALUE`
//! or `KEMALA_DETECT_MAX_ALERTS_PER_SERIES_WEEK` override the matching
//! `[detect]` key (and `KEMALA_DETECT_SET=name=value,...` a few internal
//! ones, see `params`). They were tuned on the `tune` seeds
//! (1–3); the `report` seeds (101–103) only measure. Figures per group:
//! * recall for spikes ≥3× lasting ≥15 min (target ≥ 95%), by band and by
//!   series volume. A spike counts as detected when an alert of its series
//!   fires between its onset and 15 minutes after its end (or was already
//!   firing at its onset);
//! * false alerts per 100 (topic, region) series per week (target ≤ 1): a
//!   regional alert is false unless a spike of its series began before it
//!   fired and ended at most 4 h before; a province-wide alert is false
//!   unless such a spike of its topic exists in any region;
//! * detection delay (event time, onset → `detected_at`) for spikes ≥5×, by
//!   excess rate and series volume, next to the floor that `min_count`
//!   imposes (when the 5th spike author posts) and to two references for
//!   what any detector could do at the same false-alert budget: Lorden's
//!   first-order bound, and an *ideal detector*, the CUSUM that knows each
//!   series' background rate and each spike's size exactly, with its
//!   threshold calibrated on the seed's own background so that its false
//!   alerts stay within the budget;
//! * re-firing, resolution lag, onset accuracy; multi-region incidents: one
//!   province-wide alert listing the regions, and pages (alerts without a
//!   parent) per incident;
//! * throughput (records/s through `observe` + `advance`, retweets included)
//!   and memory (`approx_bytes`).
//!
//! `KEMALA_BENCH_VERBOSE=1` explains every false alert and missed spike of
//! the tune seeds (never of the report seeds).
//!
//! Then the same detector runs on real count series with independently
//! labelled events, next to two simple references, scored with NAB's method
//! (see `detect/real.rs` and `benches/data/series/README.md`).
//! `KEMALA_BENCH_ONLY=synthetic` or `=real` runs one part only.

use std::collections::HashMap;
use std::time::Instant;

#[path = "detect/real.rs"]
mod real;

use kemala::detect::{AlertEvent, Detector, DetectorParams, Observation, JATENG};
use kemala::model::{Record, RegionCode, TopicId};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// Monday 2024-01-01 00:00 WIB.
const T0: i64 = 1_704_067_200_000 - 7 * HOUR;
const NUM_TOPICS: usize = 17;
const NUM_SLOTS: usize = 36; // slot 0 = unknown region
const LEARN_WEEKS: i64 = 2;
const SPIKE_FLOOR_PER_HOUR: f64 = 12.0;
const PROVINCE_PER_HOUR: f64 = 2000.0;

const TOPICS: [(&str, f64); NUM_TOPICS] = [
    ("flood", 0.15),
    ("landslide", 0.02),
    ("illegal_fees", 0.06),
    ("elderly_neglect", 0.02),
    ("road_damage", 0.12),
    ("garbage", 0.10),
    ("water", 0.06),
    ("electricity", 0.06),
    ("health", 0.07),
    ("education", 0.05),
    ("transport", 0.05),
    ("traffic", 0.10),
    ("crime", 0.05),
    ("fire", 0.01),
    ("drought", 0.01),
    ("street_lighting", 0.03),
    ("civil_registration", 0.04),
];

const REGION_CODES: [u16; 35] = [
    3301, 3302, 3303, 3304, 3305, 3306, 3307, 3308, 3309, 3310, 3311, 3312, 3313, 3314, 3315, 3316,
    3317, 3318, 3319, 3320, 3321, 3322, 3323, 3324, 3325, 3326, 3327, 3328, 3329, 3371, 3372, 3373,
    3374, 3375, 3376,
];

/// Human activity by local hour of day (mean about 1).
const DAILY: [f64; 24] = [
    0.35, 0.2, 0.12, 0.1, 0.2, 0.45, 0.8, 1.15, 1.4, 1.5, 1.45, 1.35, 1.25, 1.3, 1.3, 1.3, 1.3,
    1.35, 1.4, 1.5, 1.55, 1.4, 1.05, 0.65,
];

// ---- random helpers ------------------------------------------------------

fn poisson(rng: &mut SmallRng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda > 30.0 {
        let x = lambda + lambda.sqrt() * normal(rng);
        return x.round().max(0.0) as u32;
    }
    let limit = (-lambda).exp();
    let (mut k, mut p) = (0, rng.random::<f64>());
    while p > limit {
        k += 1;
        p *= rng.random::<f64>();
    }
    k
}

fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Gamma with mean 1 and the given shape (Marsaglia–Tsang; shape >= 1).
fn gamma1(rng: &mut SmallRng, shape: f64) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = normal(rng);
        let v = (1.0 + c * x).powi(3);
        if v <= 0.0 {
            continue;
        }
        let u: f64 = rng.random();
        if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
            return d * v / shape;
        }
    }
}

fn log_uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

// ---- the synthetic world -------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    Busy,
    Medium,
    Quiet,
}

struct World {
    /// Mean complaints an hour per series (topic * 36 + slot).
    base: Vec<f64>,
    /// Relative change over the whole run, per series.
    trend: Vec<f64>,
    class: Vec<Class>,
    weeks: i64,
}

fn series(topic: usize, slot: usize) -> usize {
    topic * NUM_SLOTS + slot
}

fn region_code(slot: usize) -> u16 {
    if slot == 0 {
        JATENG
    } else {
        REGION_CODES[slot - 1]
    }
}

impl World {
    fn new(rng: &mut SmallRng, weeks: i64) -> World {
        let mut region_share = vec![0.0; NUM_SLOTS];
        region_share[0] = 0.25;
        let mut rest: Vec<f64> = (0..35).map(|_| rng.random_range(0.4..2.0)).collect();
        let semarang = REGION_CODES.iter().position(|&c| c == 3374).unwrap();
        let solo = REGION_CODES.iter().position(|&c| c == 3372).unwrap();
        rest[semarang] = 0.0;
        rest[solo] = 0.0;
        let sum: f64 = rest.iter().sum();
        for (i, w) in rest.iter().enumerate() {
            region_share[i + 1] = 0.57 * w / sum;
        }
        region_share[semarang + 1] = 0.12;
        region_share[solo + 1] = 0.06;
        let mut base = vec![0.0; NUM_TOPICS * NUM_SLOTS];
        let mut class = vec![Class::Medium; NUM_TOPICS * NUM_SLOTS];
        let mut trend = vec![0.0; NUM_TOPICS * NUM_SLOTS];
        for (t, &(_, share)) in TOPICS.iter().enumerate() {
            for (slot, &rs) in region_share.iter().enumerate() {
                let s = series(t, slot);
                let mut rate = PROVINCE_PER_HOUR * share * rs * rng.random_range(0.6..1.6);
                if slot > 0 && rng.random::<f64>() < 0.2 {
                    rate = 1.0 / 168.0; // one a week
                }
                base[s] = rate;
                class[s] = if rate >= 10.0 {
                    Class::Busy
                } else if rate >= 0.5 {
                    Class::Medium
                } else {
                    Class::Quiet
                };
                trend[s] = rng.random_range(-0.3..0.5);
            }
        }
        World {
            base,
            trend,
            class,
            weeks,
        }
    }

    /// The noise-free expected rate per hour of series `s` at time `t`.
    fn rate(&self, s: usize, t: i64) -> f64 {
        let topic = s / NUM_SLOTS;
        let local = t + 7 * HOUR;
        let hours = (local - T0 - 7 * HOUR) as f64 / HOUR as f64;
        let hod = local.rem_euclid(DAY) as f64 / HOUR as f64;
        // Linear interpolation between hour centres.
        let x = hod - 0.5;
        let i = x.floor();
        let frac = x - i;
        let h0 = (i as i64).rem_euclid(24) as usize;
        let h1 = (h0 + 1) % 24;
        let shape = |h: usize| -> f64 {
            let mut f = DAILY[h];
            match TOPICS[topic].0 {
                "traffic" | "transport" if (6..=8).contains(&h) || (16..=18).contains(&h) => {
                    f *= 1.7
                }
                "flood" if (14..=20).contains(&h) => f *= 1.4,
                "street_lighting" if h >= 18 || h <= 1 => f *= 1.8,
                "crime" if h >= 21 || h <= 2 => f *= 1.6,
                _ => {}
            }
            f
        };
        let daily = shape(h0) * (1.0 - frac) + shape(h1) * frac;
        let dow = (local - T0 - 7 * HOUR).div_euclid(DAY).rem_euclid(7);
        let weekend = dow >= 5;
        let weekly = match TOPICS[topic].0 {
            "illegal_fees" | "civil_registration" | "education" | "health" if weekend => 0.55,
            "traffic" | "transport" if weekend => 0.8,
            "garbage" if dow == 0 => 1.3,
            _ if weekend => 0.9,
            _ => 1.0,
        };
        let progress = hours / (self.weeks * 168) as f64;
        let trend = 1.0 + self.trend[s] * progress;
        let season = if TOPICS[topic].0 == "flood" {
            1.0 + 0.25 * (std::f64::consts::TAU * hours / (10.0 * 24.0)).sin()
        } else {
            1.0
        };
        self.base[s] * daily * weekly * trend * season
    }
}

/// One record as generated, compact: turned into a `Record` when fed.
#[derive(Clone, Copy)]
struct Ev {
    arrival: i64,
    created: i64,
    id: u64,
    author: u64,
    retweet_of: u64,
    region: u16,
    topic: u8,
    topic2: u8,
}

const NO_TOPIC: u8 = u8::MAX;
/// The share of background complaints that name a second topic, at random.
const SECOND_TOPIC: f64 = 0.05;
/// Spike authors are numbered from here: new, distinct people.
const SPIKE_AUTHORS: u64 = 1 << 60;

#[derive(Clone, Debug)]
struct Label {
    topic: u16,
    region: u16,
    class: Class,
    onset: i64,
    end: i64,
    mult: f64,
    /// Spike complainants an hour on top of the baseline.
    excess_per_hour: f64,
    /// The series' own seasonal rate at onset (complaints an hour).
    base_per_hour: f64,
    /// The multi-region incident it belongs to.
    incident: Option<usize>,
    /// When the 5th spike author posted (the floor any min_count=5 detector has).
    fifth: Option<i64>,
    /// The delays of the reference detectors of [`ideal`]: knowing the
    /// seasonal rate, and knowing the true rate (clairvoyant).
    ideal: [Option<i64>; 2],
}

struct Incident {
    topic: u16,
    regions: Vec<u16>,
    start: i64,
    end: i64,
}

struct Scenario {
    evs: Vec<Ev>,
    /// The background's realized noise (day × hour multiplier), per hour and series.
    noise: Vec<f32>,
    labels: Vec<Label>,
    incidents: Vec<Incident>,
    world: World,
    start_scoring: i64,
    end: i64,
}

impl Scenario {
    /// The rate per hour of the background complaints series `s` counts at
    /// `t`: its own, and the second topics of its region's other series. With
    /// `noise`, the true rate (the realized day and hour multipliers
    /// included); without, the seasonal rate, the best a baseline can learn.
    fn intensity(&self, s: usize, t: i64, noise: bool) -> f64 {
        let n = self.world.base.len();
        let hour = ((t - T0) / HOUR) as usize;
        let of = |u: usize| {
            let m = if noise {
                self.noise[hour * n + u] as f64
            } else {
                1.0
            };
            self.world.rate(u, t) * m
        };
        let (topic, slot) = (s / NUM_SLOTS, s % NUM_SLOTS);
        let others: f64 = (0..NUM_TOPICS)
            .filter(|&u| u != topic)
            .map(|u| of(series(u, slot)))
            .sum();
        of(s) + SECOND_TOPIC / NUM_TOPICS as f64 * others
    }
}

struct Gen {
    rng: SmallRng,
    next_id: u64,
    evs: Vec<Ev>,
}

impl Gen {
    fn arrival(&mut self, created: i64) -> i64 {
        let u: f64 = self.rng.random();
        let delay = if u < 0.97 {
            self.rng.random_range(0..10_000)
        } else if u < 0.997 {
            self.rng.random_range(10_000..100_000)
        } else {
            self.rng.random_range(120_000..600_000)
        };
        created + delay
    }

    fn push(&mut self, created: i64, author: u64, topic: u8, region: u16, retweet_of: u64) -> u64 {
        self.next_id += 1;
        // Background complaints sometimes name a second topic; labelled spike
        // records never do, so that every spike stays in its own series.
        let spike = author >= SPIKE_AUTHORS;
        let topic2 = if retweet_of == 0 && !spike && self.rng.random::<f64>() < SECOND_TOPIC {
            self.rng.random_range(0..NUM_TOPICS as u8)
        } else {
            NO_TOPIC
        };
        let ev = Ev {
            arrival: self.arrival(created),
            created,
            id: self.next_id,
            author,
            retweet_of,
            region,
            topic,
            topic2: if topic2 == topic { NO_TOPIC } else { topic2 },
        };
        self.evs.push(ev);
        self.next_id
    }

    /// A background author of a region: Zipf-like over 50 000, so a few post a lot.
    fn author(&mut self, slot: usize) -> u64 {
        let n: f64 = 50_000.0;
        let s = 0.8;
        let u: f64 = self.rng.random();
        let k = ((n.powf(1.0 - s) - 1.0) * u + 1.0)
            .powf(1.0 / (1.0 - s))
            .floor() as u64;
        ((slot as u64) << 40) | k
    }
}

fn scenario(seed: u64, weeks: i64) -> Scenario {
    let mut rng = SmallRng::seed_from_u64(seed);
    let world = World::new(&mut rng, weeks);
    let mut g = Gen {
        rng,
        next_id: 0,
        evs: Vec::with_capacity((PROVINCE_PER_HOUR * 1.3 * (weeks * 168) as f64) as usize),
    };
    let end = T0 + weeks * WEEK;
    let n = world.base.len();
    let mut day_mult = vec![1.0; n];
    let mut hour_mult = vec![1.0; n];
    let mut noise = Vec::with_capacity(n * (weeks * 168) as usize);
    let slot_ms = 10 * MIN;
    let mut t = T0;
    while t < end {
        if (t - T0) % DAY == 0 {
            for m in &mut day_mult {
                *m = gamma1(&mut g.rng, 16.0);
            }
        }
        if (t - T0) % HOUR == 0 {
            for m in &mut hour_mult {
                *m = gamma1(&mut g.rng, 25.0);
            }
            noise.extend(day_mult.iter().zip(&hour_mult).map(|(d, h)| (d * h) as f32));
        }
        for s in 0..n {
            let lambda = world.rate(s, t + slot_ms / 2)
                * day_mult[s]
                * hour_mult[s]
                * (slot_ms as f64 / HOUR as f64);
            for _ in 0..poisson(&mut g.rng, lambda) {
                let created = t + g.rng.random_range(0..slot_ms);
                let slot = s % NUM_SLOTS;
                let author = g.author(slot);
                g.push(created, author, (s / NUM_SLOTS) as u8, region_code(slot), 0);
            }
        }
        t += slot_ms;
    }

    // Ranters: one author, 5-20 complaints within the hour, about 3 a day.
    for _ in 0..(weeks * 21) {
        let s = g.rng.random_range(0..n);
        let at = T0 + g.rng.random_range(0..weeks * WEEK - 2 * HOUR);
        let author = g.author(s % NUM_SLOTS);
        for _ in 0..g.rng.random_range(5..=20) {
            let created = at + g.rng.random_range(0..HOUR);
            g.push(
                created,
                author,
                (s / NUM_SLOTS) as u8,
                region_code(s % NUM_SLOTS),
                0,
            );
        }
    }
    // Retweet cascades: about 15 a day, 50-500 retweets decaying over hours.
    for _ in 0..(weeks * 105) {
        let s = g.rng.random_range(0..n);
        let at = T0 + g.rng.random_range(0..weeks * WEEK - 6 * HOUR);
        let (topic, region) = ((s / NUM_SLOTS) as u8, region_code(s % NUM_SLOTS));
        let author = g.author(s % NUM_SLOTS);
        let original = g.push(at, author, topic, region, 0);
        let count = log_uniform(&mut g.rng, 50.0, 500.0) as u64;
        let tau = g.rng.random_range(10.0..90.0) * MIN as f64;
        for _ in 0..count {
            let u: f64 = g.rng.random::<f64>().max(1e-12);
            let created = at + (-u.ln() * tau) as i64;
            let fan = (1u64 << 50) | g.rng.random_range(0..10_000_000u64);
            g.push(created, fan, topic, region, original);
        }
    }

    // Labelled spikes, in the scored weeks, never two in one series within 8 h.
    let start_scoring = T0 + LEARN_WEEKS * WEEK;
    let mut busy_until: HashMap<usize, i64> = HashMap::new();
    let mut labels = Vec::new();
    let by_class = |c: Class| -> Vec<usize> {
        (0..n)
            .filter(|&s| s % NUM_SLOTS != 0 && world.class[s] == c)
            .collect()
    };
    let pools = [
        by_class(Class::Busy),
        by_class(Class::Medium),
        by_class(Class::Quiet),
    ];
    let scored_weeks = weeks - LEARN_WEEKS;
    let mut spike_author = SPIKE_AUTHORS;
    let mut add_spike = |g: &mut Gen,
                         labels: &mut Vec<Label>,
                         s: usize,
                         onset: i64,
                         dur: i64,
                         mult: f64,
                         incident: Option<usize>| {
        let b_onset = world.rate(s, onset);
        let b_eff = b_onset.max(SPIKE_FLOOR_PER_HOUR);
        let excess_per_hour = mult * b_eff - b_onset;
        let count = poisson(&mut g.rng, excess_per_hour * dur as f64 / HOUR as f64);
        let mut times: Vec<i64> = (0..count)
            .map(|_| onset + g.rng.random_range(0..dur))
            .collect();
        times.sort_unstable();
        for &created in &times {
            spike_author += 1;
            g.push(
                created,
                spike_author,
                (s / NUM_SLOTS) as u8,
                region_code(s % NUM_SLOTS),
                0,
            );
        }
        labels.push(Label {
            topic: (s / NUM_SLOTS) as u16,
            region: region_code(s % NUM_SLOTS),
            class: world.class[s],
            onset,
            end: onset + dur,
            mult,
            excess_per_hour,
            base_per_hour: b_onset,
            fifth: times.get(4).copied(),
            ideal: [None; 2],
            incident,
        });
    };
    let num_spikes = 70 * scored_weeks;
    let mut placed = 0;
    while placed < num_spikes {
        let u: f64 = g.rng.random();
        let pool = if u < 0.4 {
            &pools[0]
        } else if u < 0.75 {
            &pools[1]
        } else {
            &pools[2]
        };
        if pool.is_empty() {
            continue;
        }
        let s = pool[g.rng.random_range(0..pool.len())];
        let dur = log_uniform(&mut g.rng, 10.0, 360.0).round() as i64 * MIN;
        let onset = start_scoring + g.rng.random_range(0..scored_weeks * WEEK - dur - 6 * HOUR);
        if busy_until.get(&s).is_some_and(|&until| onset < until) {
            continue;
        }
        busy_until.insert(s, onset + dur + 8 * HOUR);
        let mult = log_uniform(&mut g.rng, 2.0, 20.0);
        add_spike(&mut g, &mut labels, s, onset, dur, mult, None);
        placed += 1;
    }
    // Multi-region incidents: 3-8 regions of one topic within 20 minutes.
    let mut incidents = Vec::new();
    for _ in 0..(3 * scored_weeks) {
        let topic = [0usize, 1, 7, 6][g.rng.random_range(0..4)];
        let k = g.rng.random_range(3..=8);
        let onset = start_scoring + g.rng.random_range(0..scored_weeks * WEEK - 12 * HOUR);
        let dur = g.rng.random_range(60..=240) * MIN;
        let mut regions = Vec::new();
        let mut tries = 0;
        while regions.len() < k && tries < 200 {
            tries += 1;
            let slot = g.rng.random_range(1..NUM_SLOTS);
            let s = series(topic, slot);
            if regions.contains(&region_code(slot))
                || busy_until.get(&s).is_some_and(|&u| onset < u)
            {
                continue;
            }
            busy_until.insert(s, onset + dur + 8 * HOUR);
            let start = onset + g.rng.random_range(0..20 * MIN);
            let mult = g.rng.random_range(3.0..10.0);
            add_spike(
                &mut g,
                &mut labels,
                s,
                start,
                dur,
                mult,
                Some(incidents.len()),
            );
            regions.push(region_code(slot));
        }
        regions.sort_unstable();
        incidents.push(Incident {
            topic: topic as u16,
            regions,
            start: onset,
            end: onset + 20 * MIN + dur,
        });
    }

    let mut evs = g.evs;
    evs.sort_unstable_by_key(|e| (e.arrival, e.id));
    Scenario {
        evs,
        noise,
        labels,
        incidents,
        world,
        start_scoring,
        end,
    }
}

// ---- running and scoring -------------------------------------------------

struct AlertSeen {
    topic: u16,
    region: u16,
    started: i64,
    detected: i64,
    resolved: Option<i64>,
    parent: Option<String>,
    regions: Vec<u16>,
    observed: f64,
    expected: f64,
    window_seconds: u64,
    score: f64,
}

struct Run {
    events: Vec<AlertEvent>,
    /// Ids of the records dropped as too late.
    late_ids: Vec<u64>,
    alerts: Vec<AlertSeen>,
    records: usize,
    seconds: f64,
    bytes: usize,
    late: u64,
    keys: usize,
}

fn run(sc: &Scenario) -> Run {
    run_feed(sc, &sc.evs, 256)
}

/// Feeds records in the given order, advancing to the highest event time
/// seen after every `batch` records, as the engine does.
fn run_feed(sc: &Scenario, evs: &[Ev], batch: usize) -> Run {
    let mut det = Detector::new(params(), NUM_TOPICS);
    let mut events = Vec::new();
    let mut rec = Record {
        topics: Vec::with_capacity(2),
        ..Record::default()
    };
    let mut watermark = i64::MIN;
    let mut late_ids = Vec::new();
    let started = Instant::now();
    for batch in evs.chunks(batch) {
        for e in batch {
            rec.id = e.id;
            rec.created_at_ms = e.created;
            rec.author = e.author;
            rec.topics.clear();
            rec.topics.push(TopicId(e.topic as u16));
            if e.topic2 != NO_TOPIC {
                rec.topics.push(TopicId(e.topic2 as u16));
            }
            rec.region = RegionCode(e.region);
            rec.is_complaint = e.retweet_of == 0;
            rec.retweet_of = (e.retweet_of != 0).then_some(e.retweet_of);
            if det.observe(&rec) == Observation::Late {
                late_ids.push(e.id);
            }
            watermark = watermark.max(e.created);
        }
        det.advance(watermark, &mut events);
    }
    det.advance(sc.end + HOUR, &mut events);
    let seconds = started.elapsed().as_secs_f64();

    let mut alerts: Vec<AlertSeen> = Vec::new();
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for e in &events {
        let a = e.alert();
        let i = *by_id.entry(a.id.clone()).or_insert_with(|| {
            alerts.push(AlertSeen {
                topic: a.topic,
                region: a.region,
                started: a.started_at_ms,
                detected: a.detected_at_ms,
                resolved: None,
                parent: None,
                regions: Vec::new(),
                observed: a.observed,
                expected: a.expected,
                window_seconds: a.window_seconds,
                score: a.score,
            });
            alerts.len() - 1
        });
        alerts[i].parent = a.parent.clone();
        alerts[i].regions = a.regions.clone();
        if let AlertEvent::Resolved(a) = e {
            alerts[i].resolved = a.resolved_at_ms;
        }
    }
    let stats = det.stats();
    Run {
        events,
        late_ids,
        alerts,
        records: evs.len(),
        seconds,
        bytes: det.approx_bytes(),
        late: stats.late,
        keys: stats.keys,
    }
}

/// Pooled figures of one group of seeds.
#[derive(Default)]
struct Score {
    weeks: f64,
    /// False alerts of the reference detectors on the regional series' background.
    ideal_false: [usize; 2],
    /// Their threshold slacks per seed, per class of series.
    ideal_slack: [Vec<[f64; 3]>; 2],
    regional_series: f64,
    province_series: f64,
    /// (label, detected, delay in ms if detected by a new alert)
    outcomes: Vec<(Label, bool, Option<i64>)>,
    fragments: Vec<usize>,
    /// |started_at - true onset| of the first alert of each detected spike.
    onset_error: Vec<i64>,
    resolve_lag: Vec<i64>,
    false_regional: usize,
    false_province: usize,
    incidents: usize,
    incidents_detected: usize,
    incident_region_recall: (usize, usize),
    incident_pages: Vec<usize>,
    records: usize,
    seconds: f64,
    bytes: usize,
    late: u64,
    keys: usize,
}

/// Per minute: the rate `b` and the KL rate `I` of a change from `b` to `b + e`.
fn kl_rate(b: f64, e: f64) -> f64 {
    (b + e) * (1.0 + e / b).ln() - e
}

/// The threshold of the ideal detector: `ln(gamma I)` holds a CUSUM's false
/// alerts to one per `gamma` (100 weeks) if the background is exactly the
/// Poisson it assumes, plus `slack`, calibrated on the real background.
fn ideal_threshold(b: f64, e: f64, slack: f64) -> f64 {
    let gamma = 100.0 * WEEK as f64 / MIN as f64;
    ((gamma * kl_rate(b, e)).ln() + slack).max(0.0)
}

/// The complainants a series counts, per minute, as `(time, ln(1 + e / b(t)))`
/// for the fresh authors (not seen in the series within the hour, as the
/// detector counts them) from `from`, with `b(t)` the background's true
/// rate ([`Scenario::intensity`]).
fn ideal_steps(
    sc: &Scenario,
    noise: bool,
    s: usize,
    e: f64,
    recs: &[(i64, u64)],
    from: i64,
    to: i64,
) -> Vec<(i64, f64)> {
    let mut seen: HashMap<u64, i64> = HashMap::new();
    let start = recs.partition_point(|r| r.0 < from - HOUR);
    let mut out = Vec::new();
    for &(t, author) in &recs[start..] {
        if t >= to {
            break;
        }
        let fresh = seen.get(&author).is_none_or(|&at| t - at >= HOUR);
        seen.insert(author, t);
        if t >= from && fresh {
            let b = sc.intensity(s, t, noise).max(1e-6) / 60.0;
            out.push((t, (1.0 + e / b).ln()));
        }
    }
    out
}

/// Runs a CUSUM over steps from `from`: the times at which it reaches `h`
/// (restarting from zero after each).
fn cusum(steps: &[(i64, f64)], e: f64, h: f64, from: i64, first_only: bool) -> Vec<i64> {
    let (mut stat, mut last) = (0.0f64, from);
    let mut alarms = Vec::new();
    for &(t, step) in steps {
        stat = (stat - e * (t - last) as f64 / MIN as f64).max(0.0) + step;
        last = t;
        if stat >= h {
            alarms.push(t);
            if first_only {
                break;
            }
            stat = 0.0;
        }
    }
    alarms
}

/// The ideal detector: for each spike, the CUSUM that knows the series'
/// background rate `b(t)` (the generator's own, with the realized noise, so
/// the background is exactly the Poisson process it assumes) and the spike's
/// excess `e` exactly: the optimal test for that change (Lorden, Moustakides).
/// No detector that must learn `b` and does not know `e` can do better.
/// Its threshold is `ln(gamma I)` plus a slack (negative if it can), the
/// smallest (in steps of 0.25) that holds its false alerts to the budget on the scored background
/// of the regional series of a class, each watched by the CUSUM for the
/// smallest 5x spike the bench injects there. Returns the slack per class,
/// the ideal delays of the labels (in order) and the false alerts.
fn ideal(
    sc: &Scenario,
    noise: bool,
    records: &HashMap<(u16, u16), Vec<(i64, u64)>>,
) -> ([f64; 3], Vec<Option<i64>>, usize) {
    let weeks = (sc.end - sc.start_scoring) as f64 / WEEK as f64;
    let class_of = |c: Class| c as usize;
    let none = Vec::new();
    let mut watched = Vec::new();
    for topic in 0..NUM_TOPICS {
        for slot in 1..NUM_SLOTS {
            let s = series(topic, slot);
            let recs = records
                .get(&(topic as u16, region_code(slot)))
                .unwrap_or(&none);
            let background: Vec<(i64, u64)> = recs
                .iter()
                .copied()
                .filter(|r| r.1 < SPIKE_AUTHORS)
                .collect();
            let base = sc.world.base[s];
            let e = (5.0 * base.max(SPIKE_FLOOR_PER_HOUR) - base) / 60.0;
            let h = ideal_threshold(base.max(1e-6) / 60.0, e, 0.0);
            watched.push((
                class_of(sc.world.class[s]),
                e,
                h,
                ideal_steps(sc, noise, s, e, &background, sc.start_scoring, sc.end),
            ));
        }
    }
    // Each class of series (busy, medium, quiet) is held to the budget on
    // its own, so that noisy busy series do not slow the quiet ones.
    let mut slacks = [-12.0; 3];
    let mut total = 0;
    for (class, slack) in slacks.iter_mut().enumerate() {
        let mine: Vec<_> = watched.iter().filter(|w| w.0 == class).collect();
        let budget = mine.len() as f64 * weeks / 100.0;
        loop {
            let alarms: usize = mine
                .iter()
                .map(|(_, e, h, steps)| cusum(steps, *e, h + *slack, sc.start_scoring, false).len())
                .sum();
            if alarms as f64 <= budget || *slack >= 30.0 {
                total += alarms;
                break;
            }
            *slack += 0.25;
        }
    }
    let delays = sc
        .labels
        .iter()
        .map(|l| {
            let s = s_of(l.topic, l.region);
            let e = l.excess_per_hour / 60.0;
            let slack = slacks[class_of(l.class)];
            let h = ideal_threshold(l.base_per_hour.max(1e-6) / 60.0, e, slack);
            let recs = records.get(&(l.topic, l.region)).unwrap_or(&none);
            let steps = ideal_steps(sc, noise, s, e, recs, l.onset, l.end);
            cusum(&steps, e, h, l.onset, true)
                .first()
                .map(|t| t - l.onset)
        })
        .collect();
    (slacks, delays, total)
}

fn score(sc: &Scenario, run: &Run, out: &mut Score, explain: bool) {
    let scored = |a: &AlertSeen| a.detected >= sc.start_scoring && a.detected < sc.end;
    // The records of each labelled series, for the ideal detector.
    let mut records: HashMap<(u16, u16), Vec<(i64, u64)>> = HashMap::new();
    for e in sc.evs.iter().filter(|e| e.retweet_of == 0) {
        for topic in [e.topic, e.topic2] {
            if topic != NO_TOPIC {
                let v = records.entry((topic as u16, e.region)).or_default();
                v.push((e.created, e.author));
            }
        }
    }
    for v in records.values_mut() {
        v.sort_unstable();
    }
    let mut ideal_delays = vec![[None; 2]; sc.labels.len()];
    for (k, noise) in [false, true].into_iter().enumerate() {
        let (slack, delays, alarms) = ideal(sc, noise, &records);
        out.ideal_false[k] += alarms;
        out.ideal_slack[k].push(slack);
        for (d, v) in ideal_delays.iter_mut().zip(delays) {
            d[k] = v;
        }
    }
    let mut by_key: HashMap<(u16, u16), Vec<&AlertSeen>> = HashMap::new();
    for a in run.alerts.iter().filter(|a| scored(a)) {
        by_key.entry((a.topic, a.region)).or_default().push(a);
    }
    let tail = 4 * HOUR;
    for (l, &ideal) in sc.labels.iter().zip(&ideal_delays) {
        let alerts = by_key
            .get(&(l.topic, l.region))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let new = alerts
            .iter()
            .filter(|a| a.detected >= l.onset && a.detected <= l.end + 15 * MIN)
            .map(|a| a.detected)
            .min();
        let ongoing = alerts
            .iter()
            .any(|a| a.detected < l.onset && a.resolved.is_none_or(|r| r > l.onset));
        let detected = new.is_some() || ongoing;
        if explain && !detected && l.mult >= 3.0 && l.end - l.onset >= 15 * MIN {
            let s = s_of(l.topic, l.region);
            println!(
                "  missed: {} {} ({:?}, {:.2}/h mean, {:.2}/h at onset) {:.1}x for {} min at day {:.2}",
                TOPICS[l.topic as usize].0,
                l.region,
                l.class,
                sc.world.base[s],
                sc.world.rate(s, l.onset),
                l.mult,
                (l.end - l.onset) / MIN,
                (l.onset - T0) as f64 / DAY as f64
            );
        }
        out.outcomes.push((
            Label { ideal, ..l.clone() },
            detected,
            new.map(|d| d - l.onset),
        ));
        if detected {
            let fragments: Vec<&&AlertSeen> = alerts
                .iter()
                .filter(|a| a.detected >= l.onset && a.detected <= l.end + tail)
                .collect();
            out.fragments.push(fragments.len());
            if let Some(first) = fragments.first() {
                out.onset_error.push((first.started - l.onset).abs());
            }
            if let Some(r) = fragments.first().and_then(|a| a.resolved) {
                out.resolve_lag.push(r - l.end);
            }
        }
    }
    for a in run.alerts.iter().filter(|a| scored(a)) {
        let explained = sc.labels.iter().any(|l| {
            l.topic == a.topic
                && (a.region == JATENG || l.region == a.region)
                && a.detected >= l.onset
                && a.detected <= l.end + tail
        });
        if !explained {
            if explain {
                let slot = (s_of(a.topic, a.region)) % NUM_SLOTS;
                let series = series(a.topic as usize, slot);
                println!(
                    "  false: {} {:>4} ({:?}, {:.2}/h) day {:.2} wib {:02}h: {} vs {:.2} in {} s, score {:.1}",
                    TOPICS[a.topic as usize].0,
                    a.region,
                    sc.world.class[series],
                    sc.world.base[series],
                    (a.detected - T0) as f64 / DAY as f64,
                    ((a.detected - T0) % DAY) / HOUR,
                    a.observed,
                    a.expected,
                    a.window_seconds,
                    a.score
                );
            }
            if explain {
                let from = a.detected - a.window_seconds as i64 * 1000;
                let mut kinds: HashMap<String, usize> = HashMap::new();
                for e in &sc.evs {
                    let here = a.region == JATENG || e.region == a.region;
                    if here
                        && e.created >= from
                        && e.created < a.detected
                        && (e.topic as u16 == a.topic || e.topic2 as u16 == a.topic)
                    {
                        let two = if e.topic2 as u16 == a.topic {
                            "/2nd"
                        } else {
                            ""
                        };
                        let kind = if e.retweet_of != 0 {
                            "rt".to_string()
                        } else if e.author >= SPIKE_AUTHORS {
                            format!("spike{}{two}", e.region)
                        } else {
                            format!("bg{}{two}", e.region)
                        };
                        *kinds.entry(kind).or_default() += 1;
                    }
                }
                let mut kinds: Vec<_> = kinds.into_iter().collect();
                kinds.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
                let total: usize = kinds
                    .iter()
                    .filter(|(k, _)| k != "rt")
                    .map(|(_, n)| n)
                    .sum();
                let rate: f64 = (0..NUM_SLOTS)
                    .filter(|&slot| a.region == JATENG || region_code(slot) == a.region)
                    .map(|slot| {
                        sc.world
                            .rate(series(a.topic as usize, slot), a.detected - 5 * MIN)
                    })
                    .sum();
                println!(
                    "     total {total}, world rate {rate:.1}/h {:?}",
                    &kinds[..kinds.len().min(6)]
                );
            }
            if a.region == JATENG {
                out.false_province += 1;
            } else {
                out.false_regional += 1;
            }
        }
    }
    for inc in &sc.incidents {
        out.incidents += 1;
        let province: Vec<&AlertSeen> = run
            .alerts
            .iter()
            .filter(|a| a.topic == inc.topic && a.region == JATENG)
            .filter(|a| a.detected >= inc.start && a.detected <= inc.end + 15 * MIN)
            .collect();
        if let Some(p) = province.first() {
            out.incidents_detected += 1;
            let listed = inc.regions.iter().filter(|r| p.regions.contains(r)).count();
            out.incident_region_recall.0 += listed;
        }
        out.incident_region_recall.1 += inc.regions.len();
        let pages = run
            .alerts
            .iter()
            .filter(|a| a.topic == inc.topic && a.parent.is_none())
            .filter(|a| a.detected >= inc.start && a.detected <= inc.end + 15 * MIN)
            .count();
        out.incident_pages.push(pages);
    }
    let scored_weeks = (sc.end - sc.start_scoring) as f64 / WEEK as f64;
    out.weeks += scored_weeks;
    out.regional_series = (NUM_TOPICS * (NUM_SLOTS - 1)) as f64;
    out.province_series = NUM_TOPICS as f64;
    out.records += run.records;
    out.seconds += run.seconds;
    out.bytes = out.bytes.max(run.bytes);
    out.late += run.late;
    out.keys = out.keys.max(run.keys);
    let _ = &sc.world;
}

fn verbose() -> bool {
    std::env::var_os("KEMALA_BENCH_VERBOSE").is_some()
}

fn s_of(topic: u16, region: u16) -> usize {
    let slot = if region == JATENG {
        0
    } else {
        1 + REGION_CODES.iter().position(|&c| c == region).unwrap_or(0)
    };
    series(topic as usize, slot)
}

fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "   -  ".into()
    } else {
        format!("{:5.1}% ({n}/{d})", 100.0 * n as f64 / d as f64)
    }
}

fn quantile(v: &mut [i64], q: f64) -> Option<i64> {
    if v.is_empty() {
        return None;
    }
    v.sort_unstable();
    Some(v[((v.len() - 1) as f64 * q).round() as usize])
}

/// Lorden's bound for a spike, in ms: any detector whose false alerts come
/// at most once per `gamma` in a series needs, in expectation and to first
/// order, `ln(gamma I) / I` to detect a change of Kullback-Leibler rate `I`
/// (see [`kl_rate`]; `gamma` = 100 weeks, the budget of one false alert per
/// 100 series-weeks). It assumes a Poisson background and ignores that
/// counts are whole (a spike cannot be seen before its first tweets), so it
/// is optimistic.
fn lorden(l: &Label) -> i64 {
    let b = l.base_per_hour.max(1e-6) / 60.0;
    let e = l.excess_per_hour / 60.0;
    (ideal_threshold(b, e, 0.0) / kl_rate(b, e) * MIN as f64) as i64
}

fn mins(ms: Option<i64>) -> String {
    ms.map_or("-".into(), |ms| {
        format!("{:.1} min", ms as f64 / MIN as f64)
    })
}

fn report(name: &str, seeds: &[u64], s: &Score) {
    println!(
        "\n== {name} seeds {seeds:?}: {:.0} scored weeks ==",
        s.weeks
    );
    let recall = |f: &dyn Fn(&Label) -> bool| {
        let sel: Vec<_> = s.outcomes.iter().filter(|(l, _, _)| f(l)).collect();
        pct(sel.iter().filter(|(_, d, _)| *d).count(), sel.len())
    };
    println!(
        "recall, spikes >=3x lasting >=15 min:   {}   (target >= 95%)",
        recall(&|l| l.mult >= 3.0 && l.end - l.onset >= 15 * MIN)
    );
    for class in [Class::Busy, Class::Medium, Class::Quiet] {
        println!(
            "   in {:<6} series (>=3x, >=15 min):  {}",
            format!("{class:?}").to_lowercase(),
            recall(&|l| l.class == class && l.mult >= 3.0 && l.end - l.onset >= 15 * MIN)
        );
    }
    println!("recall by multiplier band (all durations | >=15 min):");
    for (lo, hi) in [(2.0f64, 3.0f64), (3.0, 5.0), (5.0, 10.0), (10.0, 20.01)] {
        println!(
            "   {lo:>4.0}x-{:<4.0}x  {:<22} | {}",
            hi.floor(),
            recall(&|l| l.mult >= lo && l.mult < hi),
            recall(&|l| l.mult >= lo && l.mult < hi && l.end - l.onset >= 15 * MIN)
        );
    }
    println!(
        "   short (<15 min) spikes, all bands: {}",
        recall(&|l| l.end - l.onset < 15 * MIN)
    );
    println!(
        "   regional parts of multi-region incidents (>=3x, >=15 min): {}",
        recall(&|l| l.incident.is_some() && l.mult >= 3.0 && l.end - l.onset >= 15 * MIN)
    );
    let series_weeks = (s.regional_series + s.province_series) * s.weeks;
    let fa = s.false_regional + s.false_province;
    println!(
        "false alerts per 100 series per week:   {:.2}   (target <= 1; {} false of all series: {} regional, {} province-wide)",
        100.0 * fa as f64 / series_weeks,
        fa,
        s.false_regional,
        s.false_province
    );
    println!(
        "   regional series: {:.2}, province-wide series: {:.2} per 100 series-weeks",
        100.0 * s.false_regional as f64 / (s.regional_series * s.weeks),
        100.0 * s.false_province as f64 / (s.province_series * s.weeks)
    );
    let mut delays: Vec<i64> = s
        .outcomes
        .iter()
        .filter(|(l, _, _)| l.mult >= 5.0)
        .filter_map(|(_, _, d)| *d)
        .collect();
    let mut bound: Vec<i64> = s
        .outcomes
        .iter()
        .filter(|(l, _, d)| l.mult >= 5.0 && d.is_some())
        .filter_map(|(l, _, _)| l.fifth.map(|f| f - l.onset))
        .collect();
    println!(
        "delay, spikes >=5x (onset -> detected_at): median {}, p90 {}   (target median <= 2 min; n = {})",
        mins(quantile(&mut delays, 0.5)),
        mins(quantile(&mut delays, 0.9)),
        delays.len()
    );
    println!(
        "   floor set by min_count (5th spike author posts): median {}, p90 {}",
        mins(quantile(&mut bound, 0.5)),
        mins(quantile(&mut bound, 0.9))
    );
    let mut bounds: Vec<i64> = s
        .outcomes
        .iter()
        .filter(|(l, _, _)| l.mult >= 5.0)
        .map(|(l, _, _)| lorden(l))
        .collect();
    for (k, name) in [
        "ideal detector (knows the seasonal rate and each spike's size)",
        "clairvoyant detector (also knows every hour's random noise)",
    ]
    .into_iter()
    .enumerate()
    {
        let mut d: Vec<i64> = s
            .outcomes
            .iter()
            .filter(|(l, _, _)| l.mult >= 5.0)
            .map(|(l, _, _)| l.ideal[k].unwrap_or(i64::MAX))
            .collect();
        let under2 = d.iter().filter(|&&d| d <= 2 * MIN).count();
        println!(
            "   {name}: median {}, p90 {}; {} within 2 min. Held to {:.2} false alerts per 100 regional series-weeks by threshold slacks (busy, medium, quiet, per seed) of {:?} nats",
            mins(quantile(&mut d, 0.5)),
            mins(quantile(&mut d, 0.9)),
            pct(under2, d.len()),
            100.0 * s.ideal_false[k] as f64 / (s.regional_series * s.weeks),
            s.ideal_slack[k],
        );
    }
    let under2 = bounds.iter().filter(|&&d| d <= 2 * MIN).count();
    println!(
        "   Lorden's first-order bound at that budget (Poisson background; optimistic): median {}, p90 {}; {} under 2 min",
        mins(quantile(&mut bounds, 0.5)),
        mins(quantile(&mut bounds, 0.9)),
        pct(under2, bounds.len())
    );
    for (lo, hi) in [
        (0.0, 60.0),
        (60.0, 120.0),
        (120.0, 300.0),
        (300.0, f64::INFINITY),
    ] {
        let mut d: Vec<i64> = s
            .outcomes
            .iter()
            .filter(|(l, _, _)| l.mult >= 5.0 && l.excess_per_hour >= lo && l.excess_per_hour < hi)
            .filter_map(|(_, _, d)| *d)
            .collect();
        println!(
            "   excess {:>3.0}-{:<3} complainants/h: median {}, p90 {} (n = {})",
            lo,
            if hi.is_finite() {
                format!("{hi:.0}")
            } else {
                "   ".into()
            },
            mins(quantile(&mut d, 0.5)),
            mins(quantile(&mut d, 0.9)),
            d.len()
        );
    }
    for class in [Class::Busy, Class::Medium, Class::Quiet] {
        let mut d: Vec<i64> = s
            .outcomes
            .iter()
            .filter(|(l, _, _)| l.mult >= 5.0 && l.class == class)
            .filter_map(|(_, _, d)| *d)
            .collect();
        let reference = |k: usize| {
            let mut v: Vec<i64> = s
                .outcomes
                .iter()
                .filter(|(l, _, _)| l.mult >= 5.0 && l.class == class)
                .map(|(l, _, _)| l.ideal[k].unwrap_or(i64::MAX))
                .collect();
            mins(quantile(&mut v, 0.5))
        };
        println!(
            "   {:<6}: median {}, p90 {} (n = {}); ideal: median {}, clairvoyant {}",
            format!("{class:?}").to_lowercase(),
            mins(quantile(&mut d, 0.5)),
            mins(quantile(&mut d, 0.9)),
            d.len(),
            reference(0),
            reference(1),
        );
    }
    let mut lag = s.resolve_lag.clone();
    let frag_mean = s.fragments.iter().sum::<usize>() as f64 / s.fragments.len().max(1) as f64;
    println!(
        "alerts per detected spike: {:.3} (1 = no re-firing); resolved after spike end: median {}, p90 {}",
        frag_mean,
        mins(quantile(&mut lag, 0.5)),
        mins(quantile(&mut lag, 0.9))
    );
    let mut onset = s.onset_error.clone();
    println!(
        "onset estimate (started_at vs true onset): median error {}, p90 {}",
        mins(quantile(&mut onset, 0.5)),
        mins(quantile(&mut onset, 0.9))
    );
    let mut pages: Vec<i64> = s.incident_pages.iter().map(|&p| p as i64).collect();
    println!(
        "incidents (3-8 regions at once): {} as one province-wide alert; regions listed {}; pages (alerts without parent) per incident: median {}, max {}",
        pct(s.incidents_detected, s.incidents),
        pct(s.incident_region_recall.0, s.incident_region_recall.1),
        quantile(&mut pages, 0.5).unwrap_or(0),
        pages.iter().max().copied().unwrap_or(0)
    );
    println!(
        "throughput: {:.2} M records/s ({} records in {:.2} s); memory {:.1} MiB for {} series; {} late records dropped",
        s.records as f64 / s.seconds / 1e6,
        s.records,
        s.seconds,
        s.bytes as f64 / (1024.0 * 1024.0),
        s.keys,
        s.late
    );
}

/// The library defaults, or the `[detect]` keys given as `KEMALA_DETECT_*`
/// variables (e.g. `KEMALA_DETECT_BUCKET=30s`), to compare settings.
fn params() -> DetectorParams {
    let mut c = kemala::config::DetectConfig::default();
    let dur = |k: &str| {
        std::env::var(k)
            .ok()
            .and_then(|v| humantime::parse_duration(&v).ok())
    };
    if let Some(d) = dur("KEMALA_DETECT_BUCKET") {
        c.bucket = kemala::config::HumanDuration(d);
    }
    if let Some(d) = dur("KEMALA_DETECT_WINDOW") {
        c.window = kemala::config::HumanDuration(d);
    }
    if let Some(n) = std::env::var("KEMALA_DETECT_MIN_COUNT")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.min_count = n;
    }
    if let Some(p) = std::env::var("KEMALA_DETECT_P_VALUE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.p_value = p;
    }
    if let Some(b) = std::env::var("KEMALA_DETECT_MAX_ALERTS_PER_SERIES_WEEK")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.max_alerts_per_series_week = b;
    }
    let mut p = DetectorParams::from_config(&c);
    if let Ok(v) = std::env::var("KEMALA_DETECT_WINDOWS") {
        p.windows = v.split(',').filter_map(|w| w.trim().parse().ok()).collect();
    }
    // Internal parameters, to compare settings: `name=value,...`.
    for kv in std::env::var("KEMALA_DETECT_SET")
        .unwrap_or_default()
        .split(',')
    {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let v: f64 = v.trim().parse().expect("a number");
        match k.trim() {
            "relearn_after_h" => p.relearn_after_ms = (v * HOUR as f64) as i64,
            "adopt_hours" => p.adopt_hours = v,
            "blocked_profile_cap" => p.blocked_profile_cap = v,
            "budget_min_weeks" => p.budget_min_weeks = v,
            "dispersion_max" => p.dispersion_max = v,
            "dispersion_prior" => p.dispersion_prior = v,
            "dispersion_prior_weight" => p.dispersion_prior_weight = v,
            "dispersion_half_life_h" => p.dispersion_half_life_ms = (v * HOUR as f64) as i64,
            "level_half_life_h" => p.level_half_life_ms = (v * HOUR as f64) as i64,
            "pending_p_value" => p.pending_p_value = v,
            "min_ratio" => p.min_ratio = v,
            "resolve_after_min" => p.resolve_after_ms = (v * MIN as f64) as i64,
            other => panic!("unknown parameter `{other}`"),
        }
    }
    p
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (weeks, tune, held_out): (i64, &[u64], &[u64]) = if quick {
        (4, &[1], &[101])
    } else {
        (6, &[1, 2, 3], &[101, 102, 103])
    };
    println!(
        "kemala spike detector: {weeks} weeks per seed ({LEARN_WEEKS} learning, {} scored), 17 topics x 36 regions, ~{PROVINCE_PER_HOUR:.0} complaints/h",
        weeks - LEARN_WEEKS
    );
    println!("parameters: {:?}", params());
    let only = std::env::var("KEMALA_BENCH_ONLY").unwrap_or_default();
    for (name, seeds) in [("tune", tune), ("report", held_out)] {
        if only == "real" {
            break;
        }
        let mut total = Score::default();
        for &seed in seeds {
            let t = Instant::now();
            let sc = scenario(seed, weeks);
            let gen_s = t.elapsed().as_secs_f64();
            let r = run(&sc);
            let mut one = Score::default();
            score(&sc, &r, &mut one, verbose() && name == "tune");
            score(&sc, &r, &mut total, false);
            let fa = one.false_regional + one.false_province;
            let det = one.outcomes.iter().filter(|(_, d, _)| *d).count();
            println!(
                "seed {seed}: {} records ({:.1}s to generate, {:.1}s to detect), {} spikes ({} detected), {} alerts, {} false",
                sc.evs.len(),
                gen_s,
                r.seconds,
                sc.labels.len(),
                det,
                r.alerts.len(),
                fa
            );
        }
        // Rebuilds, as the engine does on start: records in event-time order
        // (from the index), in large batches. Replaying only the records live
        // counted (the index can remember which were too late) must give
        // exactly the live events; replaying all of them differs only where a
        // too-late record would have moved an onset.
        let sc = scenario(seeds[0], weeks);
        let live = run(&sc);
        let mut by_time: Vec<Ev> = sc.evs.clone();
        by_time.sort_unstable_by_key(|e| (e.created, e.id));
        let mut late = live.late_ids.clone();
        late.sort_unstable();
        let counted: Vec<Ev> = by_time
            .iter()
            .filter(|e| late.binary_search(&e.id).is_err())
            .copied()
            .collect();
        let exact = run_feed(&sc, &counted, 4096);
        let naive = run_feed(&sc, &by_time, 4096);
        let fired: Vec<&str> = live
            .events
            .iter()
            .filter(|e| matches!(e, AlertEvent::Fired(_)))
            .map(|e| e.alert().id.as_str())
            .collect();
        let kept = fired
            .iter()
            .filter(|id| naive.events.iter().any(|e| e.alert().id == **id))
            .count();
        println!(
            "rebuild of seed {} from time-ordered records without the {} too-late ones: {}; with them: {kept} of {} alert ids the same",
            seeds[0],
            late.len(),
            if exact.events == live.events { "identical events and ids" } else { "DIFFERENT EVENTS" },
            fired.len(),
        );
        report(name, seeds, &total);
    }
    if only != "synthetic" {
        real::main(verbose());
    }
}
