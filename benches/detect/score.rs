//! Running the detector over a scenario and scoring it: recall, false
//! alerts, delays, and the reference detectors held to the same budget
//! (the ideal and clairvoyant CUSUMs, Lorden's bound).

use super::*;

pub(crate) fn run(sc: &Scenario) -> Run {
    run_feed(sc, &sc.evs, 256)
}

/// Feeds records in the given order, advancing to the highest event time
/// seen after every `batch` records, as the engine does.
pub(crate) fn run_feed(sc: &Scenario, evs: &[Ev], batch: usize) -> Run {
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

/// Per minute: the rate `b` and the KL rate `I` of a change from `b` to `b + e`.
pub(crate) fn kl_rate(b: f64, e: f64) -> f64 {
    (b + e) * (1.0 + e / b).ln() - e
}

/// The threshold of the ideal detector: `ln(gamma I)` holds a CUSUM's false
/// alerts to one per `gamma` (100 weeks) if the background is exactly the
/// Poisson it assumes, plus `slack`, calibrated on the real background.
pub(crate) fn ideal_threshold(b: f64, e: f64, slack: f64) -> f64 {
    let gamma = 100.0 * WEEK as f64 / MIN as f64;
    ((gamma * kl_rate(b, e)).ln() + slack).max(0.0)
}

/// The complainants a series counts, per minute, as `(time, ln(1 + e / b(t)))`
/// for the fresh authors (not seen in the series within the hour, as the
/// detector counts them) from `from`, with `b(t)` the background's true
/// rate ([`Scenario::intensity`]).
pub(crate) fn ideal_steps(
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
pub(crate) fn cusum(steps: &[(i64, f64)], e: f64, h: f64, from: i64, first_only: bool) -> Vec<i64> {
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
pub(crate) fn ideal(
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

pub(crate) fn score(sc: &Scenario, run: &Run, out: &mut Score, explain: bool) {
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

pub(crate) fn verbose() -> bool {
    std::env::var_os("KEMALA_BENCH_VERBOSE").is_some()
}

pub(crate) fn s_of(topic: u16, region: u16) -> usize {
    let slot = if region == JATENG {
        0
    } else {
        1 + REGION_CODES.iter().position(|&c| c == region).unwrap_or(0)
    };
    series(topic as usize, slot)
}

pub(crate) fn pct(n: usize, d: usize) -> String {
    if d == 0 {
        "   -  ".into()
    } else {
        format!("{:5.1}% ({n}/{d})", 100.0 * n as f64 / d as f64)
    }
}

pub(crate) fn quantile(v: &mut [i64], q: f64) -> Option<i64> {
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
pub(crate) fn lorden(l: &Label) -> i64 {
    let b = l.base_per_hour.max(1e-6) / 60.0;
    let e = l.excess_per_hour / 60.0;
    (ideal_threshold(b, e, 0.0) / kl_rate(b, e) * MIN as f64) as i64
}

pub(crate) fn mins(ms: Option<i64>) -> String {
    ms.map_or("-".into(), |ms| {
        format!("{:.1} min", ms as f64 / MIN as f64)
    })
}
