//! The daily and weekly rhythm of traffic, and the small random draws the
//! generator makes (uniform picks, CDFs, zipf-like activity, log-normal
//! delays, points near a centre).

use super::*;

/// Relative volume by hour of the day in WIB, at the middle of each hour.
pub(super) const DAILY: [f64; 24] = [
    0.35, 0.20, 0.12, 0.10, 0.15, 0.35, 0.70, 1.10, 1.45, 1.60, 1.60, 1.45, 1.25, 1.20, 1.20, 1.20,
    1.25, 1.30, 1.35, 1.55, 1.65, 1.50, 1.10, 0.65,
];
pub(super) const DAILY_SUM: f64 = 24.37;
pub(super) const DAILY_MAX: f64 = 1.65 * 24.0 / DAILY_SUM;
/// Relative volume by day of the week, Monday first.
pub(super) const WEEKLY: [f64; 7] = [1.08, 1.06, 1.05, 1.04, 1.00, 0.90, 0.87];
pub(super) const WEEKLY_SUM: f64 = 7.0;
pub(super) const WEEKLY_MAX: f64 = 1.08 * 7.0 / WEEKLY_SUM;

/// The combined daily and weekly factor at `t_ms` (averages to 1).
pub(super) fn rhythm(t_ms: i64) -> f64 {
    let local = t_ms + WIB_OFFSET_MS;
    let day = local.div_euclid(DAY_MS);
    let h = local.rem_euclid(DAY_MS) as f64 / HOUR_MS as f64 - 0.5;
    let (i, f) = if h < 0.0 {
        (23, h + 1.0)
    } else {
        (h as usize, h.fract())
    };
    let d = DAILY[i] * (1.0 - f) + DAILY[(i + 1) % 24] * f;
    // 1970-01-01 was a Thursday.
    let dow = (day + 3).rem_euclid(7) as usize;
    d * 24.0 / DAILY_SUM * WEEKLY[dow] * 7.0 / WEEKLY_SUM
}

// ---- Small random helpers -------------------------------------------------

pub(super) fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn one<'a>(rng: &mut SmallRng, items: &'a [String]) -> &'a str {
    &items[rng.random_range(0..items.len())]
}

pub(super) fn pick_cdf(rng: &mut SmallRng, cdf: &[f64]) -> u16 {
    let total = *cdf.last().unwrap_or(&0.0);
    let u = rng.random::<f64>() * total;
    cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1) as u16
}

/// Half uniform, half 1/rank: a few very active accounts and a long tail.
pub(super) fn pick_zipfish(rng: &mut SmallRng, n: usize) -> usize {
    if rng.random_bool(0.5) {
        rng.random_range(0..n)
    } else {
        let x = (n as f64).powf(rng.random::<f64>());
        (x as usize).saturating_sub(1).min(n - 1)
    }
}

pub(super) fn lognormal(rng: &mut SmallRng, median: f64, sigma: f64) -> f64 {
    // Box–Muller.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// A uniform point within `radius_km` of a centre, as (lon, lat).
pub(super) fn point_near(rng: &mut SmallRng, lat: f64, lon: f64, radius_km: f64) -> (f64, f64) {
    let d = radius_km * rng.random::<f64>().sqrt();
    let a = rng.random::<f64>() * std::f64::consts::TAU;
    let dlat = d * a.sin() / 111.32;
    let dlon = d * a.cos() / (111.32 * lat.to_radians().cos());
    (round5(lon + dlon), round5(lat + dlat))
}

pub(super) fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// What the platform claims the language is.
pub(super) fn lang_hint(rng: &mut SmallRng, lang: Lang) -> &'static str {
    // Cumulative shares, and the hint for whatever is left.
    let (shares, rest): (&[(f64, &'static str)], &'static str) = match lang {
        Lang::Id => (&[(0.95, "in")], "und"),
        Lang::Jv => (&[(0.55, "in"), (0.85, "und")], "tl"),
        Lang::Mixed => (&[(0.8, "in")], "und"),
        Lang::En => (&[(0.9, "en")], "in"),
    };
    by_share(rng.random(), shares, rest)
}

/// The value of the first cumulative share that `u` falls below, else `rest`.
pub(super) fn by_share<T: Copy>(u: f64, shares: &[(f64, T)], rest: T) -> T {
    shares
        .iter()
        .find(|(p, _)| u < *p)
        .map_or(rest, |&(_, v)| v)
}
