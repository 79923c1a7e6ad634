//! The alert budget of one series: how high its score must go to fire, so
//! that it alerts about `per_week` times a week at most, however wild it is.
//!
//! A model of counts is never the truth. Tweets come in news-driven bursts,
//! heavy tails and level shifts that no negative binomial foresees, so a test
//! that is exact for a tame series pages every few hours on a wild one.
//! Instead of trusting the model's tail, each series keeps the record of its
//! own **excursions**: at each of [`LEVELS`] score levels (geometric, from
//! the pending score up past the score's cap), how many separate times its
//! score reached that level. Two visits to a level count as one excursion
//! unless the score stayed below it for `gap` buckets in between (the time an
//! alert takes to resolve), and a firing alert holds the levels it reached:
//! one alert, one excursion. The counts are kept per week for the last
//! [`SLOTS`] weeks, with the hours the series was armed in each.
//!
//! The **calibrated threshold** is the larger of two estimates of the score
//! that the series exceeds `per_week` times a week:
//! * empirical: the lowest score reached by at most `per_week × weeks`
//!   excursions of the history, interpolated between levels: had it been the
//!   threshold, the series would have stayed within its budget;
//! * an exponential tail fitted to the excursions (its scale from the median
//!   excursion, which one giant event cannot inflate), solved for the same
//!   count. It extrapolates beyond a short history, where the empirical bar
//!   would let every new near-record through, and takes over when a series
//!   has many excursions of much the same height.
//!
//! A young series is judged as if it had `min_weeks` of history, so that one
//! early event does not silence it for weeks. The detector never lets the
//! threshold go below its significance floor, and it raises the pending
//! score (which freezes learning) by as much as the budget raised the bar.
//!
//! The **rank** of a score is the share of the series' other excursions in
//! that history that stayed below it: 0.9 means higher than nine of its ten
//! bumps of the last weeks.
//!
//! Everything here is a function of the scores the detector computes, which
//! are a function of the records: a replay or a rebuild gives the same
//! thresholds. The history spans at most four weeks, within the index's
//! rebuild horizon. A series keeps about 0.8 KiB for it.

/// Score levels at which excursions are counted, from the pending score
/// (3) past the score's cap (10^4).
pub(crate) const LEVELS: usize = 48;
/// Weeks of history: the current one and the three before.
pub(crate) const SLOTS: usize = 4;
/// Ratio between consecutive levels.
const RATIO: f64 = 1.19;

const WEEK_HOURS: f64 = 168.0;
/// Excursions needed before their tail is extrapolated.
const MIN_EXCURSIONS: f64 = 5.0;

#[derive(Clone, Debug)]
pub(crate) struct Budget {
    /// Alerts a week the series may send.
    per_week: f64,
    /// A young series is judged as if it had this many weeks of history.
    min_weeks: f64,
    /// The lowest level (the pending score).
    base: f64,
    /// Per week slot (`week % SLOTS`), excursions that reached each level.
    counts: [[u16; LEVELS]; SLOTS],
    /// Per week slot, the hours the series was armed.
    hours: [u16; SLOTS],
    /// The week of the newest slot.
    week: i64,
    /// Per level, the last bucket in which the score reached it.
    last: [i64; LEVELS],
    /// The calibrated threshold (before the floor), refreshed on change.
    threshold: f64,
}

impl Budget {
    pub fn new(per_week: f64, min_weeks: f64, base: f64) -> Budget {
        Budget {
            per_week: per_week.max(1e-6),
            min_weeks: min_weeks.max(0.0),
            base: base.max(1e-3),
            counts: [[0; LEVELS]; SLOTS],
            hours: [0; SLOTS],
            week: i64::MIN,
            last: [i64::MIN; LEVELS],
            threshold: 0.0,
        }
    }

    pub fn level(&self, j: usize) -> f64 {
        self.base * RATIO.powi(j as i32)
    }

    /// The calibrated threshold: scores at or above it are within budget.
    pub fn threshold(&self) -> f64 {
        self.threshold
    }

    /// Moves to the week of `week`, forgetting slots older than the history.
    fn roll(&mut self, week: i64) {
        if self.week == i64::MIN {
            self.week = week;
        } else if week - self.week >= SLOTS as i64 {
            // A long silence: everything is forgotten.
            self.counts = [[0; LEVELS]; SLOTS];
            self.hours = [0; SLOTS];
            self.week = week;
        }
        while self.week < week {
            self.week += 1;
            let s = self.week.rem_euclid(SLOTS as i64) as usize;
            self.counts[s] = [0; LEVELS];
            self.hours[s] = 0;
        }
    }

    /// Records the score of one armed bucket `now` (in week `week`): each
    /// level it reached counts an excursion unless it was reached within the
    /// last `gap` buckets. While an alert fires, `hold` is its score so far:
    /// the levels below it stay reached, so that one alert is one excursion.
    pub fn observe(&mut self, score: f64, hold: f64, now: i64, week: i64, gap: i64) {
        self.roll(week);
        let s = self.week.rem_euclid(SLOTS as i64) as usize;
        let mut changed = false;
        for j in 0..LEVELS {
            if score < self.level(j) {
                if hold >= self.level(j) && self.last[j] != i64::MIN {
                    self.last[j] = now;
                    continue;
                }
                break;
            }
            if self.last[j] == i64::MIN || now - self.last[j] > gap {
                self.counts[s][j] = self.counts[s][j].saturating_add(1);
                changed = true;
            }
            self.last[j] = now;
        }
        if changed {
            self.refresh();
        }
    }

    /// Closes an armed hour of week `week`.
    pub fn close_hour(&mut self, week: i64) {
        self.roll(week);
        let s = self.week.rem_euclid(SLOTS as i64) as usize;
        self.hours[s] = self.hours[s].saturating_add(1);
        self.refresh();
    }

    /// The highest level at or below `score`.
    #[cfg(test)]
    fn levels_below(&self, score: f64) -> usize {
        (0..LEVELS)
            .rev()
            .find(|&j| self.level(j) <= score)
            .unwrap_or(0)
    }

    /// Excursions over the history that reached level `j`.
    fn total(&self, j: usize) -> f64 {
        self.counts.iter().map(|c| c[j] as f64).sum()
    }

    /// The score reached by at most `n` of the excursions in the history,
    /// interpolated between levels; infinite if every level is reached by
    /// more.
    fn reached_by(&self, n: f64) -> f64 {
        let mut above = self.total(0);
        if above <= n {
            return self.level(0);
        }
        for j in 1..LEVELS {
            let m = self.total(j);
            if m <= n {
                // Between level j - 1 (too many) and level j (few enough).
                let f = (above - n) / (above - m);
                return self.level(j - 1) + f * (self.level(j) - self.level(j - 1));
            }
            above = m;
        }
        f64::INFINITY
    }

    fn refresh(&mut self) {
        let weeks = self.hours.iter().map(|&h| h as f64).sum::<f64>() / WEEK_HOURS;
        let allowed = self.per_week * weeks.max(self.min_weeks);
        // What the history says directly: few enough excursions went higher.
        let empirical = self.reached_by(allowed);
        // What an exponential tail says, with the scale of the median
        // excursion: it extrapolates beyond a short history, where the
        // empirical bar would let every new near-record through.
        let n = self.total(0);
        let tail = if n >= MIN_EXCURSIONS && n > allowed {
            let theta = (self.reached_by(n / 2.0) - self.base) / std::f64::consts::LN_2;
            self.base + theta.max(0.0) * (n / allowed).ln()
        } else {
            self.base
        };
        self.threshold = empirical.max(tail);
    }

    /// The share of the series' earlier excursions (not the one under way at
    /// `now`) that stayed below `score`; 1 when it has none.
    pub fn rank(&self, score: f64, now: i64, gap: i64) -> f64 {
        let earlier = |j: usize| {
            let live = self.last[j] != i64::MIN && now - self.last[j] <= gap;
            (self.total(j) - live as u8 as f64).max(0.0)
        };
        let all = earlier(0);
        if all <= 0.0 || score < self.level(0) {
            return if all <= 0.0 { 1.0 } else { 0.0 };
        }
        // Interpolate the excursions reaching `score` between levels.
        let x = (score / self.base).ln() / RATIO.ln();
        let j = (x.floor() as usize).min(LEVELS - 1);
        let lo = earlier(j);
        let hi = if j + 1 < LEVELS { earlier(j + 1) } else { 0.0 };
        let f = (score - self.level(j)) / (self.level(j) * (RATIO - 1.0));
        let reaching = lo + (hi - lo) * f.clamp(0.0, 1.0);
        (1.0 - reaching / all).clamp(0.0, 1.0)
    }

    pub const fn heap_bytes() -> usize {
        std::mem::size_of::<Budget>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GAP: i64 = 30;

    /// A budget of one a week, and a series armed for `hours`.
    fn armed(hours: u32) -> Budget {
        let mut b = Budget::new(1.0, 2.0, 3.0);
        for _ in 0..hours {
            b.close_hour(0);
        }
        b
    }

    /// One excursion peaking at `peak` at bucket `at` (and quiet after).
    fn excursion(b: &mut Budget, at: i64, peak: f64) {
        b.observe(peak * 0.6, 0.0, at, 0, GAP);
        b.observe(peak, 0.0, at + 1, 0, GAP);
    }

    #[test]
    fn a_series_without_excursions_keeps_the_lowest_level() {
        let b = armed(300);
        assert_eq!(b.threshold(), b.level(0));
        assert_eq!(b.rank(20.0, 0, GAP), 1.0);
    }

    #[test]
    fn the_bar_is_what_few_enough_excursions_reached() {
        // Two weeks judged (young): two excursions allowed. Three of them
        // above 40: the bar goes past the third highest.
        let mut b = armed(100);
        for (i, peak) in [50.0, 60.0, 45.0, 8.0].into_iter().enumerate() {
            excursion(&mut b, 1000 * i as i64, peak);
        }
        let bar = b.threshold();
        assert!(bar > 45.0 && bar < 60.0, "bar {bar}");
        // A fourth week of history allows four: the bar falls back.
        for _ in 0..(4 * 168 - 100) {
            b.close_hour(0);
        }
        assert!(b.threshold() < 8.0, "bar {}", b.threshold());
    }

    #[test]
    fn many_excursions_of_one_height_are_extrapolated_past() {
        // Forty excursions at about 8: a ninth at 8.5 is not news.
        let mut b = armed(100);
        for i in 0..40 {
            excursion(&mut b, 1000 * i, 8.0 + 0.01 * i as f64);
        }
        assert!(b.threshold() > 12.0, "bar {}", b.threshold());
    }

    #[test]
    fn one_alert_is_one_excursion_and_pauses_count_again() {
        let mut b = armed(1000);
        // Firing: the score falls and rises again, the alert holds it.
        b.observe(20.0, 0.0, 0, 0, GAP);
        for t in 1..200 {
            b.observe(if t % 50 < 40 { 4.0 } else { 20.0 }, 20.0, t, 0, GAP);
        }
        assert_eq!(b.total(b.levels_below(20.0)), 1.0);
        // Without the hold, the same scores are five excursions at 20.
        let mut c = armed(1000);
        for t in 0..200 {
            c.observe(
                if t % 50 < 40 && t > 0 { 4.0 } else { 20.0 },
                0.0,
                t,
                0,
                GAP,
            );
        }
        assert_eq!(c.total(c.levels_below(20.0)), 5.0);
    }

    #[test]
    fn rank_is_a_share_that_grows_with_the_score() {
        let mut b = armed(300);
        for (i, peak) in [4.0, 6.0, 9.0, 15.0, 30.0, 80.0].into_iter().enumerate() {
            excursion(&mut b, 1000 * i as i64, peak);
        }
        let now = 100_000;
        let mut last = -1.0;
        for s in [0.0, 3.0, 5.0, 7.0, 10.0, 20.0, 50.0, 100.0, 1e4] {
            let r = b.rank(s, now, GAP);
            assert!((0.0..=1.0).contains(&r) && r >= last, "rank({s}) = {r}");
            last = r;
        }
        assert_eq!(b.rank(1e4, now, GAP), 1.0);
        assert!(b.rank(3.0, now, GAP) < 0.1);
        // The excursion under way does not count against itself.
        b.observe(120.0, 0.0, now, 0, GAP);
        assert_eq!(b.rank(120.0, now, GAP), 1.0);
    }

    #[test]
    fn the_history_forgets_weeks_beyond_its_slots() {
        let mut b = armed(400);
        for i in 0..5 {
            excursion(&mut b, 1000 * i, 40.0);
        }
        assert!(b.threshold() > 30.0);
        for week in 1..=SLOTS as i64 {
            for _ in 0..168 {
                b.close_hour(week);
            }
        }
        assert_eq!(b.total(0), 0.0);
        assert_eq!(b.threshold(), b.level(0));
    }
}
