//! The synthetic world: six weeks of complaints per seed for 17 topics ×
//! 36 regions with rhythms, overdispersion, trends, silent series, retweet
//! cascades and ranters, and the labelled spikes and incidents injected
//! into it.

use super::*;

// ---- random helpers ------------------------------------------------------

pub(crate) fn poisson(rng: &mut SmallRng, lambda: f64) -> u32 {
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

pub(crate) fn normal(rng: &mut SmallRng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Gamma with mean 1 and the given shape (Marsaglia–Tsang; shape >= 1).
pub(crate) fn gamma1(rng: &mut SmallRng, shape: f64) -> f64 {
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

pub(crate) fn log_uniform(rng: &mut SmallRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + rng.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

pub(crate) fn series(topic: usize, slot: usize) -> usize {
    topic * NUM_SLOTS + slot
}

pub(crate) fn region_code(slot: usize) -> u16 {
    if slot == 0 {
        JATENG
    } else {
        REGION_CODES[slot - 1]
    }
}

impl World {
    pub(crate) fn new(rng: &mut SmallRng, weeks: i64) -> World {
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
    pub(crate) fn rate(&self, s: usize, t: i64) -> f64 {
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

pub(crate) const NO_TOPIC: u8 = u8::MAX;
/// The share of background complaints that name a second topic, at random.
pub(crate) const SECOND_TOPIC: f64 = 0.05;
/// Spike authors are numbered from here: new, distinct people.
pub(crate) const SPIKE_AUTHORS: u64 = 1 << 60;

impl Scenario {
    /// The rate per hour of the background complaints series `s` counts at
    /// `t`: its own, and the second topics of its region's other series. With
    /// `noise`, the true rate (the realized day and hour multipliers
    /// included); without, the seasonal rate, the best a baseline can learn.
    pub(crate) fn intensity(&self, s: usize, t: i64, noise: bool) -> f64 {
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

impl Gen {
    pub(crate) fn arrival(&mut self, created: i64) -> i64 {
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

    pub(crate) fn push(
        &mut self,
        created: i64,
        author: u64,
        topic: u8,
        region: u16,
        retweet_of: u64,
    ) -> u64 {
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
    pub(crate) fn author(&mut self, slot: usize) -> u64 {
        let n: f64 = 50_000.0;
        let s = 0.8;
        let u: f64 = self.rng.random();
        let k = ((n.powf(1.0 - s) - 1.0) * u + 1.0)
            .powf(1.0 / (1.0 - s))
            .floor() as u64;
        ((slot as u64) << 40) | k
    }
}

pub(crate) fn scenario(seed: u64, weeks: i64) -> Scenario {
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
