//! The detector on real count series with independently labelled events
//! (`benches/data/series/`, see its README): kemala next to two simple
//! reference detectors, scored with NAB's method.
//!
//! Each series is replayed the way a user would feed it: one (topic,
//! region) flood series, each count `c` of a bucket becoming `c` complaints
//! by distinct new authors spread evenly over the bucket, fed through
//! `observe` and `advance` in event time (hourly series over 60 one-minute
//! buckets, 5-minute series over five). A series' own clock is read as
//! local time (WIB), so its daily rhythm falls on the hours it has. A series
//! runs in a detector of its own, and only its regional alerts count. NYC
//! taxi passengers (a tune series) are replayed in tens, to keep it fast.
//!
//! Figures per detector and set:
//! * NAB's standard-profile score (`kemala::detect::nab`: windows as
//!   labelled, binary detections, the first 15% of each series
//!   probationary), normalized over the set;
//! * events detected: `up` events (see the README) with a detection in their
//!   window, not counting events in a series' first 24 hours, before any new
//!   series may alert;
//! * false alerts per series-week: detections outside every window, over the
//!   whole length of the series;
//! * median delay: from the labelled event time to the first detection in
//!   its window (negative when the detection came before the labelled time).
//!
//! The references, given the same counts bucket by bucket and the same 24
//! hours before they may detect, both against an **hourly baseline**: the
//! mean (and standard deviation) of the counts in the same hour of the day
//! over the previous 7 days.
//! * **z-score**: detects when `(count - mean) / max(sd, 1)` crosses a fixed
//!   threshold upwards;
//! * **Poisson CUSUM** for a `k`-fold rise: `S = max(0, S + count · ln k -
//!   (k - 1) · max(mean, 0.1))`, detects when `S` crosses `h` and re-arms once
//!   `S` is back at 0.
//!
//! Their thresholds (`z`; `k` and `h`) are chosen on the tune set, by the
//! same NAB score, from a small grid; the report set only measures.
//!
//! Then kemala again with other alert budgets (tune set) and without any
//! (both sets), to show what the budget does. `KEMALA_BENCH_VERBOSE=1`
//! explains every alert of the tune series (never of the report series),
//! `KEMALA_BENCH_REAL=tune` stops before the report set, and
//! `KEMALA_BENCH_STRESS=k` replaces the tune set by its tweet series with
//! counts times `k`: busier streams with the same bursts, as wild as busy
//! tweet volumes are, which the alert budget was tuned on too (k = 5, 20).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Instant;

use kemala::detect::nab::{self, STANDARD};
use kemala::detect::{AlertEvent, Detector, DetectorParams};
use kemala::model::{Record, RegionCode, TopicId};

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
const WEEK: i64 = 7 * DAY;
/// Local time (WIB) is UTC+7: a series' clock is read as WIB.
const WIB: i64 = 7 * HOUR;
/// The region each replayed series is given.
const REGION: u16 = 3321;
/// Detectors may not detect in a series' first day.
const WARMUP: i64 = DAY;
/// NYC taxi passengers (about 16,000 per half hour) are replayed in tens,
/// to keep the bench fast; every other series is replayed as it is.
const TAXI_SCALE: u32 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dir {
    Up,
    Down,
    Unclear,
}

struct Event {
    at: i64,
    dir: Dir,
    what: String,
    /// The window that holds it.
    window: usize,
}

struct Series {
    name: String,
    tune: bool,
    gran: i64,
    /// Bucket starts (ms, the series' clock read as WIB) and counts.
    times: Vec<i64>,
    counts: Vec<u32>,
    /// Inclusive row ranges.
    windows: Vec<(usize, usize)>,
    events: Vec<Event>,
}

impl Series {
    fn weeks(&self) -> f64 {
        (self.times[self.times.len() - 1] + self.gran - self.times[0]) as f64 / WEEK as f64
    }

    /// The row whose bucket holds `t` (the last row starting at or before it).
    fn row_of(&self, t: i64) -> usize {
        self.times.partition_point(|&s| s <= t).saturating_sub(1)
    }

    /// Events that count for recall: rises after the warm-up.
    fn scorable(&self) -> impl Iterator<Item = &Event> {
        let from = self.times[0] + WARMUP;
        self.events
            .iter()
            .filter(move |e| e.dir == Dir::Up && e.at >= from)
    }
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/data/series")
}

fn parse_time(s: &str) -> i64 {
    chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
        .unwrap_or_else(|e| panic!("bad timestamp `{s}`: {e}"))
        .and_utc()
        .timestamp_millis()
        - WIB
}

fn json(name: &str) -> serde_json::Value {
    let path = data_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("`{}`: {e}", path.display()))
}

fn load() -> Vec<Series> {
    let (labels, detail, dirs, split) = (
        json("labels.json"),
        json("events_detail.json"),
        json("directions.json"),
        json("split.json"),
    );
    let names = |part: &str| -> Vec<String> {
        split[part]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (tune, part) in [(true, "tune"), (false, "report")] {
        for name in names(part) {
            let path = data_dir().join(&name);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
            let (mut times, mut counts) = (Vec::new(), Vec::new());
            for line in text.lines().skip(1) {
                let (t, v) = line.split_once(',').expect("timestamp,value");
                times.push(parse_time(t));
                let v = v.trim().parse::<u32>().expect("an integer count");
                counts.push(if name.starts_with("nab/") {
                    (v + TAXI_SCALE / 2) / TAXI_SCALE
                } else {
                    v
                });
            }
            let gran = times.windows(2).map(|w| w[1] - w[0]).min().unwrap_or(HOUR);
            let mut s = Series {
                name: name.clone(),
                tune,
                gran,
                times,
                counts,
                windows: Vec::new(),
                events: Vec::new(),
            };
            let label = &labels[&name];
            for w in label["windows"].as_array().into_iter().flatten() {
                let (a, b) = (
                    parse_time(w[0].as_str().unwrap()),
                    parse_time(w[1].as_str().unwrap()),
                );
                let start = s.times.partition_point(|&t| t < a);
                let end = s.times.partition_point(|&t| t <= b) - 1;
                s.windows.push((start, end));
            }
            let details = detail[&name].as_array().cloned().unwrap_or_default();
            let directions = dirs[&name].as_array().cloned().unwrap_or_default();
            for (i, e) in label["events"].as_array().into_iter().flatten().enumerate() {
                let at = parse_time(e.as_str().unwrap());
                let row = s.row_of(at);
                let dir = match directions.get(i).and_then(|d| d.as_str()) {
                    Some("up") => Dir::Up,
                    Some("down") => Dir::Down,
                    _ => Dir::Unclear,
                };
                let window = s
                    .windows
                    .iter()
                    .position(|&(a, b)| row >= a && row <= b)
                    .unwrap_or_else(|| panic!("{name}: event {i} outside every window"));
                let what = details
                    .get(i)
                    .and_then(|d| d["what"].as_str())
                    .unwrap_or("")
                    .to_string();
                s.events.push(Event {
                    at,
                    dir,
                    what,
                    window,
                });
            }
            out.push(s);
        }
    }
    out
}

// ---- detectors ---------------------------------------------------------------

/// What a detector did on one series.
struct Detections {
    /// Detection times (ms).
    times: Vec<i64>,
    /// For kemala: a line per alert, to explain it.
    notes: Vec<String>,
    /// For kemala: the score the series had to reach, after each row.
    bars: Vec<f64>,
}

/// Replays a series through kemala's detector.
fn kemala(s: &Series, params: &DetectorParams) -> Detections {
    let mut det = Detector::new(params.clone(), 1);
    let mut events = Vec::new();
    let mut rec = Record {
        topics: vec![TopicId(0)],
        region: RegionCode(REGION),
        is_complaint: true,
        ..Record::default()
    };
    let mut id = 0u64;
    let mut bars = Vec::with_capacity(s.times.len());
    for (&t, &c) in s.times.iter().zip(&s.counts) {
        for k in 0..c as i64 {
            id += 1;
            rec.id = id;
            rec.author = id;
            rec.created_at_ms = t + k * s.gran / c as i64;
            det.observe(&rec);
        }
        if c > 0 {
            det.advance(rec.created_at_ms, &mut events);
        }
        bars.push(det.bar(0, REGION).unwrap_or(0.0));
    }
    let end = s.times[s.times.len() - 1] + s.gran + HOUR;
    det.advance(end, &mut events);
    let mut out = Detections {
        times: Vec::new(),
        notes: Vec::new(),
        bars,
    };
    for e in &events {
        if let AlertEvent::Fired(a) = e {
            if a.region != REGION {
                continue;
            }
            out.times.push(a.detected_at_ms);
            out.notes.push(format!(
                "{} vs {:.1} in {} min, score {:.1}, rank {:.2}",
                a.observed,
                a.expected,
                a.window_seconds / 60,
                a.score,
                a.rank,
            ));
        }
    }
    out
}

/// The mean and standard deviation of the counts in the same hour of the
/// day over the previous 7 days, per row (`None` before there is any).
fn hourly_baseline(s: &Series) -> Vec<Option<(f64, f64)>> {
    let mut past: HashMap<i64, VecDeque<(i64, f64)>> = HashMap::new();
    let mut out = Vec::with_capacity(s.times.len());
    for (&t, &c) in s.times.iter().zip(&s.counts) {
        let hour = (t + WIB).rem_euclid(DAY) / HOUR;
        let q = past.entry(hour).or_default();
        while q.front().is_some_and(|&(u, _)| u < t - WEEK) {
            q.pop_front();
        }
        out.push(if q.is_empty() {
            None
        } else {
            let n = q.len() as f64;
            let mean = q.iter().map(|&(_, v)| v).sum::<f64>() / n;
            let var = q.iter().map(|&(_, v)| (v - mean).powi(2)).sum::<f64>() / n;
            Some((mean, var.sqrt()))
        });
        q.push_back((t, c as f64));
    }
    out
}

#[derive(Clone, Copy, Debug)]
enum Reference {
    ZScore { z: f64 },
    Cusum { k: f64, h: f64 },
}

impl Reference {
    fn grid(zscore: bool) -> Vec<Reference> {
        if zscore {
            [2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0]
                .into_iter()
                .map(|z| Reference::ZScore { z })
                .collect()
        } else {
            let mut v = Vec::new();
            for k in [1.5, 2.0, 3.0, 5.0] {
                for h in [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0] {
                    v.push(Reference::Cusum { k, h });
                }
            }
            v
        }
    }

    fn describe(&self) -> String {
        match self {
            Reference::ZScore { z } => format!("z-score >= {z}"),
            Reference::Cusum { k, h } => format!("Poisson CUSUM, k = {k}, h = {h}"),
        }
    }

    fn run(&self, s: &Series, base: &[Option<(f64, f64)>]) -> Detections {
        let from = s.times[0] + WARMUP;
        let mut times = Vec::new();
        let (mut above, mut stat) = (false, 0.0f64);
        for ((&t, &c), b) in s.times.iter().zip(&s.counts).zip(base) {
            let Some((mean, sd)) = *b else { continue };
            let x = c as f64;
            let fire = match *self {
                Reference::ZScore { z } => {
                    let now = (x - mean) / sd.max(1.0) >= z;
                    let onset = now && !above;
                    above = now;
                    onset
                }
                Reference::Cusum { k, h } => {
                    stat = (stat + x * k.ln() - (k - 1.0) * mean.max(0.1)).max(0.0);
                    let onset = stat >= h && !above;
                    if onset {
                        above = true;
                    } else if stat == 0.0 {
                        above = false;
                    }
                    onset
                }
            };
            if fire && t + s.gran > from {
                times.push(t + s.gran);
            }
        }
        Detections {
            times,
            notes: Vec::new(),
            bars: Vec::new(),
        }
    }
}

// ---- scoring -----------------------------------------------------------------

#[derive(Default)]
struct Tally {
    raw: f64,
    null: f64,
    perfect: f64,
    up: usize,
    detected: usize,
    false_alerts: usize,
    weeks: f64,
    delays: Vec<i64>,
}

impl Tally {
    fn nab(&self) -> f64 {
        nab::normalized(self.raw, self.null, self.perfect)
    }

    fn add(&mut self, s: &Series, d: &Detections) -> SeriesScore {
        let rows: Vec<usize> = d.times.iter().map(|&t| s.row_of(t - 1)).collect();
        let scored = nab::score(s.times.len(), &s.windows, &rows, &STANDARD);
        self.raw += scored.raw;
        self.null += scored.null;
        self.perfect += scored.perfect;
        let inside = |t: i64, w: usize| {
            let (a, b) = s.windows[w];
            t > s.times[a] && t <= s.times[b] + s.gran
        };
        let mut one = SeriesScore {
            raw: scored.raw,
            ..SeriesScore::default()
        };
        for e in s.scorable() {
            one.up += 1;
            if let Some(&t) = d.times.iter().find(|&&t| inside(t, e.window)) {
                one.detected += 1;
                self.delays.push(t - e.at);
            }
        }
        one.false_alerts = d
            .times
            .iter()
            .filter(|&&t| !(0..s.windows.len()).any(|w| inside(t, w)))
            .count();
        self.up += one.up;
        self.detected += one.detected;
        self.false_alerts += one.false_alerts;
        self.weeks += s.weeks();
        one
    }

    fn line(&self, name: &str) -> String {
        let mut d = self.delays.clone();
        d.sort_unstable();
        let median = if d.is_empty() {
            "-".to_string()
        } else {
            hours(d[(d.len() - 1) / 2])
        };
        format!(
            "{name:<44} NAB {:6.1}   events {:>2}/{:<2} ({:5.1}%)   false alerts/series-week {:5.2}   median delay {median}",
            self.nab(),
            self.detected,
            self.up,
            100.0 * self.detected as f64 / self.up.max(1) as f64,
            self.false_alerts as f64 / self.weeks,
        )
    }
}

#[derive(Default)]
struct SeriesScore {
    raw: f64,
    up: usize,
    detected: usize,
    false_alerts: usize,
}

fn hours(ms: i64) -> String {
    if ms.abs() < 2 * HOUR {
        format!("{:.0} min", ms as f64 / MIN as f64)
    } else {
        format!("{:.1} h", ms as f64 / HOUR as f64)
    }
}

fn short(name: &str) -> &str {
    name.rsplit('/')
        .next()
        .unwrap_or(name)
        .trim_end_matches(".csv")
}

/// Chooses a reference's thresholds on the tune set by NAB score.
fn tune_reference(tune: &[&Series], bases: &[Vec<Option<(f64, f64)>>], zscore: bool) -> Reference {
    let mut best: Option<(f64, Reference)> = None;
    for r in Reference::grid(zscore) {
        let mut t = Tally::default();
        for (s, b) in tune.iter().zip(bases) {
            t.add(s, &r.run(s, b));
        }
        if best.is_none_or(|(score, _)| t.nab() > score) {
            best = Some((t.nab(), r));
        }
    }
    best.expect("a grid").1
}

/// An experiment on the tune set only: its tweet series with their counts
/// times `scale` (busier streams with the same bursts).
fn stress(all: &[Series], scale: u32) -> Vec<Series> {
    all.iter()
        .filter(|s| s.tune && s.name.starts_with("crisislex"))
        .map(|s| Series {
            name: format!("{} x{scale}", s.name),
            tune: true,
            gran: s.gran,
            times: s.times.clone(),
            counts: s.counts.iter().map(|c| c * scale).collect(),
            windows: s.windows.clone(),
            events: s
                .events
                .iter()
                .map(|e| Event {
                    at: e.at,
                    dir: e.dir,
                    what: e.what.clone(),
                    window: e.window,
                })
                .collect(),
        })
        .collect()
}

/// Runs kemala with `params` on a set: per-series lines if `lines`.
fn run_kemala(set: &[&Series], params: &DetectorParams, lines: bool, verbose: bool) -> Tally {
    let mut k = Tally::default();
    for s in set {
        let t = Instant::now();
        let d = kemala(s, params);
        let one = k.add(s, &d);
        if lines {
            println!(
                "   {:<34} {:>2} min buckets {:5.1} weeks: {}/{} events, {:>3} false alerts ({:.2}/week), NAB raw {:+.2} ({:.1}s)",
                short(&s.name),
                s.gran / MIN,
                s.weeks(),
                one.detected,
                one.up,
                one.false_alerts,
                one.false_alerts as f64 / s.weeks(),
                one.raw,
                t.elapsed().as_secs_f64()
            );
        }
        if verbose && s.tune {
            explain(s, &d);
        }
    }
    k
}

pub fn main(verbose: bool) {
    let started = Instant::now();
    let mut all = load();
    // `KEMALA_BENCH_STRESS=k`: the tune set's tweet series with counts
    // times k instead of the tune set (busier streams with the same bursts,
    // as wild as real busy tweet volumes), to tune on.
    if let Some(scale) = std::env::var("KEMALA_BENCH_STRESS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        let s = stress(&all, scale);
        all.retain(|s| !s.tune);
        all.splice(0..0, s);
    }
    let (tune, report): (Vec<&Series>, Vec<&Series>) = all.iter().partition(|s| s.tune);
    let base = |set: &[&Series]| -> Vec<Vec<Option<(f64, f64)>>> {
        set.iter().map(|s| hourly_baseline(s)).collect()
    };
    let (tune_base, report_base) = (base(&tune), base(&report));
    let zscore = tune_reference(&tune, &tune_base, true);
    let cusum = tune_reference(&tune, &tune_base, false);
    let params = crate::params();
    let budget = |b: f64| DetectorParams {
        max_alerts_per_series_week: b,
        ..params.clone()
    };
    println!(
        "\n== real series with labelled events (benches/data/series): kemala (budget {} alert a series-week) and two references, thresholds chosen on the tune set ==",
        params.max_alerts_per_series_week
    );
    // `KEMALA_BENCH_REAL=tune` stops before the report set.
    let only_tune = std::env::var("KEMALA_BENCH_REAL").is_ok_and(|v| v == "tune");
    for (name, set, bases) in [
        ("tune", &tune, &tune_base),
        ("report", &report, &report_base),
    ] {
        if only_tune && name == "report" {
            break;
        }
        let up: usize = set.iter().map(|s| s.scorable().count()).sum();
        let windows: usize = set.iter().map(|s| s.windows.len()).sum();
        let weeks: f64 = set.iter().map(|s| s.weeks()).sum();
        println!(
            "\n-- {name} set: {} series, {weeks:.0} series-weeks, {windows} windows, {up} rising events after the first day --",
            set.len()
        );
        let k = run_kemala(set, &params, true, verbose);
        let mut z = Tally::default();
        let mut c = Tally::default();
        for (s, b) in set.iter().zip(bases.iter()) {
            z.add(s, &zscore.run(s, b));
            c.add(s, &cusum.run(s, b));
        }
        println!("{}", k.line("kemala"));
        println!("{}", z.line(&format!("reference: {}", zscore.describe())));
        println!("{}", c.line(&format!("reference: {}", cusum.describe())));
        // What the budget does: other budgets on the tune set, none on both.
        let others: &[f64] = if name == "tune" { &[0.5, 2.0] } else { &[] };
        for &b in others {
            let t = run_kemala(set, &budget(b), false, false);
            println!("{}", t.line(&format!("kemala, budget {b} a series-week")));
        }
        let t = run_kemala(set, &budget(1e9), false, false);
        println!("{}", t.line("kemala without a budget"));
    }
    println!(
        "(real series: {:.1}s; delays from the labelled event time to the first detection in its window)",
        started.elapsed().as_secs_f64()
    );
}

/// Prints every alert of a tune series, and the events, in time order, with
/// the score the series had to reach.
fn explain(s: &Series, d: &Detections) {
    let t0 = s.times[0];
    let day = |t: i64| (t - t0) as f64 / DAY as f64;
    let bar = |t: i64| d.bars.get(s.row_of(t)).copied().unwrap_or(0.0);
    for &(a, b) in &s.windows {
        println!(
            "      window  day {:6.2} to {:6.2}",
            day(s.times[a]),
            day(s.times[b] + s.gran)
        );
    }
    for e in &s.events {
        println!(
            "      event   day {:6.2} {:?} {} (bar {:.1})",
            day(e.at),
            e.dir,
            e.what.chars().take(60).collect::<String>(),
            bar(e.at)
        );
    }
    for (&t, note) in d.times.iter().zip(&d.notes) {
        let inside = s
            .windows
            .iter()
            .any(|&(a, b)| t > s.times[a] && t <= s.times[b] + s.gran);
        let verdict = if inside { "in window" } else { "FALSE    " };
        println!(
            "      alert   day {:6.2} {verdict} {note} (bar before {:.1}, a day later {:.1})",
            day(t),
            bar(t - s.gran),
            bar(t + DAY)
        );
    }
}
