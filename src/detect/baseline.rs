//! The learned "normal" of one series: level × hour-of-week profile, plus
//! overdispersion.
//!
//! * **Level** is a Gamma posterior with forgetting: `a` discounted counts
//!   over `b` discounted exposure-hours (hours weighted by the profile), plus
//!   a prior of `prior_count` authors in `prior_hours`. Its mean is the rate
//!   per hour at profile factor 1, and its shape `a + a0` says how much the
//!   level is known: a key with a week of data is sure of it, a key seen for
//!   a day is not, and the negative-binomial test widens accordingly.
//! * **Profile**: 168 hour-of-week factors (mean 1) built from three layers
//!   of evidence, each shrunk to the one below by pseudo-counts: the key's own
//!   hour-of-week ratios to its level (memory of weeks), its own hour-of-day
//!   ratios (memory of days; so a new key learns the daily rhythm within
//!   days), and the parent's profile (the topic's province-wide series, whose parent is all
//!   complaints). A quiet series that sees a tweet a week thus borrows the
//!   rhythm of its topic, and a busy one learns its own.
//! * **Dispersion** `phi` is the squared coefficient of variation of the rate
//!   beyond Poisson, a method-of-moments estimate on hourly counts, shrunk to a
//!   prior. Tweets are overdispersed; a Poisson test would page all night.
//!
//! Learning happens per hour from the buckets the detector allows (not
//! during an alert, not during a feed outage), and counts are winsorized so
//! that a sub-threshold burst cannot drag the level up. The hour-of-week
//! sums alone also take the buckets an alert blocked, capped at
//! `blocked_cap` times what was expected, so that a weekly recurring burst
//! is learned as rhythm while a one-off burst barely moves it. A level shift
//! that lasted `relearn_after` is adopted at once ([`Baseline::adopt`]).

pub(crate) const HOW: usize = 168;

/// Learning constants, derived once from `DetectorParams`.
#[derive(Clone, Debug)]
pub(crate) struct Learn {
    pub buckets_per_hour: f64,
    /// Per-hour decay of the level sums.
    pub delta_level: f64,
    /// Per-hour decay of the dispersion sums.
    pub delta_disp: f64,
    /// Per-visit decay of the hour-of-day sums (one visit a day).
    pub rho_day: f32,
    /// Per-visit decay of the hour-of-week sums (one visit a week).
    pub rho_week: f32,
    pub k_day: f32,
    pub k_week: f32,
    pub prior_count: f64,
    pub prior_hours: f64,
    pub phi_prior: f64,
    pub phi_prior_weight: f64,
    pub phi_min: f64,
    pub phi_max: f64,
    /// Exposure-hours of level data before profiles and dispersion learn
    /// (before that, the level itself is still a guess).
    pub min_hours_for_shape: f64,
    /// Exposure-hours of weight the level keeps when it adopts a new one.
    pub adopt_hours: f64,
    /// Buckets an alert kept from learning still reach the hour-of-week
    /// sums, capped at this multiple of what was expected (0: not at all).
    pub blocked_cap: f64,
}

#[derive(Clone, Debug)]
pub(crate) struct Baseline {
    a: f64,
    b: f64,
    disp_num: f64,
    disp_den: f64,
    cd: [f32; 24],
    ed: [f32; 24],
    cw: Box<[f32; HOW]>,
    ew: Box<[f32; HOW]>,
    /// Normalized hour-of-week factors, refreshed every few hours.
    pub prof: Box<[f32; HOW]>,
    /// The current hour's learnable count, exposure and bucket count.
    pub hc: f64,
    pub he: f64,
    pub hi: u32,
    /// The same for the buckets an alert kept from learning.
    bc: f64,
    be: f64,
    bi: u32,
    /// Cached posterior mean of the level, per hour at factor 1.
    pub rate: f64,
    /// Cached overdispersion.
    pub phi: f64,
}

impl Baseline {
    pub fn new(parent_prof: &[f32; HOW], l: &Learn) -> Baseline {
        Baseline {
            a: 0.0,
            b: 0.0,
            disp_num: 0.0,
            disp_den: 0.0,
            cd: [0.0; 24],
            ed: [0.0; 24],
            cw: Box::new([0.0; HOW]),
            ew: Box::new([0.0; HOW]),
            prof: Box::new(*parent_prof),
            hc: 0.0,
            he: 0.0,
            hi: 0,
            bc: 0.0,
            be: 0.0,
            bi: 0,
            rate: l.prior_count / l.prior_hours,
            phi: l.phi_prior,
        }
    }

    /// The profile factor at an hour-of-week slot and the fraction of the
    /// way to the next slot (linear interpolation between slot centres).
    #[inline]
    pub fn factor(&self, slot: usize, frac: f32) -> f32 {
        let next = if slot + 1 == HOW { 0 } else { slot + 1 };
        self.prof[slot] * (1.0 - frac) + self.prof[next] * frac
    }

    /// Adds one learnable bucket to the current hour.
    #[inline]
    pub fn learn_bucket(&mut self, count: u32, factor: f32, l: &Learn) {
        self.hc += count as f64;
        self.he += factor as f64 / l.buckets_per_hour;
        self.hi += 1;
    }

    /// Adds one bucket of the current hour that an alert kept from learning.
    #[inline]
    pub fn learn_blocked(&mut self, count: u32, factor: f32, l: &Learn) {
        self.bc += count as f64;
        self.be += factor as f64 / l.buckets_per_hour;
        self.bi += 1;
    }

    /// The size parameter of the predictive negative binomial: the level's
    /// own uncertainty (Gamma shape) plus the learned overdispersion.
    pub fn nb_size(&self, l: &Learn) -> f64 {
        1.0 / (1.0 / (self.a + l.prior_count) + self.phi)
    }

    /// Closes an hour: updates level, dispersion and profile sums.
    /// `slot` is the hour-of-week; `robust` turns on winsorizing of the
    /// level's input (once the level is trusted).
    pub fn close_hour(&mut self, slot: usize, robust: bool, l: &Learn) {
        let idle = self.hi as f64 / l.buckets_per_hour;
        let shaped = self.b >= l.min_hours_for_shape;
        if self.hi > 0 {
            let e = self.rate * self.he;
            let mut c = self.hc;
            if robust {
                let sd = (e * (1.0 + self.phi * e)).sqrt();
                c = c.min(e + 4.0 * sd + 3.0);
            }
            self.a = l.delta_level * self.a + c;
            self.b = l.delta_level * self.b + self.he;
            if shaped {
                self.disp_num = l.delta_disp * self.disp_num + (c - e) * (c - e) - e;
                self.disp_den = l.delta_disp * self.disp_den + e * e;
                // Profile sums take the raw count: a profile that is wrong
                // (too low at night, say) must be able to learn its way out.
                let (raw, expo) = (self.hc as f32, (self.rate * idle) as f32);
                let h = slot % 24;
                self.cd[h] = l.rho_day * self.cd[h] + raw;
                self.ed[h] = l.rho_day * self.ed[h] + expo;
            }
        } else {
            self.a *= l.delta_level;
            self.b *= l.delta_level;
            self.disp_num *= l.delta_disp;
            self.disp_den *= l.delta_disp;
        }
        let blocked = if l.blocked_cap > 0.0 { self.bi } else { 0 };
        if shaped && self.hi + blocked > 0 {
            // The hour-of-week sums also see what an alert kept from the
            // level, capped: a burst that comes back at the same hour every
            // week becomes part of the rhythm instead of firing every week,
            // and a one-off burst moves it little.
            let capped = self.bc.min(l.blocked_cap * self.rate * self.be);
            let raw = (self.hc + capped) as f32;
            let expo = (self.rate * (self.hi + blocked) as f64 / l.buckets_per_hour) as f32;
            self.cw[slot] = l.rho_week * self.cw[slot] + raw;
            self.ew[slot] = l.rho_week * self.ew[slot] + expo;
        }
        self.rate = (self.a + l.prior_count) / (self.b + l.prior_hours);
        self.phi = ((self.disp_num + l.phi_prior * l.phi_prior_weight)
            / (self.disp_den + l.phi_prior_weight))
            .clamp(l.phi_min, l.phi_max);
        self.hc = 0.0;
        self.he = 0.0;
        self.hi = 0;
        self.bc = 0.0;
        self.be = 0.0;
        self.bi = 0;
    }

    /// Adopts a level `ratio` times the current one (only ever higher), with
    /// at most `adopt_hours` of weight, so that what follows refines it fast.
    pub fn adopt(&mut self, ratio: f64, l: &Learn) {
        if !(ratio > 1.0 && ratio.is_finite()) || l.adopt_hours <= 0.0 {
            return;
        }
        let rate = self.rate * ratio;
        self.b = self.b.min(l.adopt_hours);
        self.a = (rate * (self.b + l.prior_hours) - l.prior_count).max(0.0);
        self.rate = (self.a + l.prior_count) / (self.b + l.prior_hours);
    }

    /// Rebuilds the normalized profile from the sums and the parent's profile.
    pub fn refresh(&mut self, parent: &[f32; HOW], l: &Learn) {
        let mut raw = [0f32; HOW];
        let mut total = 0f32;
        for (h, r) in raw.iter_mut().enumerate() {
            // Ratios are to the level, shrunk to the parent's factor, so a
            // parent still learning cannot distort them.
            let d = (self.cd[h % 24] + l.k_day * parent[h]) / (self.ed[h % 24] + l.k_day);
            *r = (self.cw[h] + l.k_week * d) / (self.ew[h] + l.k_week);
            total += *r;
        }
        let mean = (total / HOW as f32).max(1e-6);
        for (p, r) in self.prof.iter_mut().zip(raw) {
            *p = (r / mean).clamp(0.01, 100.0);
        }
    }

    pub const fn heap_bytes() -> usize {
        3 * HOW * std::mem::size_of::<f32>()
    }
}
