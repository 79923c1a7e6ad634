//! What the generator is asked for: the options of a fixed feed (volume,
//! shares, bursts) and the schedule of live incidents.

use super::dates::DEFAULT_START_MS;
use super::{FORWARD_SHARE, HOUR_MS, MINUTE_MS, OFF_TOPIC_SHARE};

/// What to generate. See [`GenOptions::default`] and [`GenOptions::demo`].
#[derive(Clone, Debug, PartialEq)]
pub struct GenOptions {
    pub seed: u64,
    /// Event time of the first tweet (ms since epoch, UTC).
    pub start_ms: i64,
    /// Province-wide average volume of original tweets per hour of event
    /// time, before the daily and weekly rhythm (which average to 1).
    pub mean_tweets_per_hour: f64,
    /// Share of tweets that are retweets.
    pub retweet_ratio: f64,
    /// Share of complaints that get an official reply.
    pub reply_ratio: f64,
    /// Share of messages that are malformed.
    pub malformed_ratio: f64,
    /// Share of tweets in the API v1.1 format (the rest are v2).
    pub v1_ratio: f64,
    pub bursts: Vec<Burst>,
}

/// A surge of one topic in one region: between `start_ms` and
/// `start_ms + duration_ms` that (topic, region) pair arrives `multiplier`
/// times as often. A burst naming a topic or region the configuration does
/// not have is ignored.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    /// A topic id of `topics.toml`.
    pub topic: String,
    /// A BPS region code, such as 3321 for Kab. Demak.
    pub region_code: u16,
    pub start_ms: i64,
    pub duration_ms: i64,
    pub multiplier: f64,
}

impl Default for GenOptions {
    /// Seed 42 from Monday 2026-01-05 00:00 UTC, 2000 tweets an hour, and a
    /// tenfold flood burst in Kab. Demak from 6 h to 8 h of event time.
    fn default() -> Self {
        let start = DEFAULT_START_MS;
        GenOptions {
            seed: 42,
            start_ms: start,
            mean_tweets_per_hour: 2000.0,
            retweet_ratio: 0.10,
            reply_ratio: 0.5,
            malformed_ratio: 0.002,
            v1_ratio: 0.3,
            bursts: vec![Burst {
                topic: "flood".into(),
                region_code: 3321,
                start_ms: start + 6 * HOUR_MS,
                duration_ms: 2 * HOUR_MS,
                multiplier: 10.0,
            }],
        }
    }
}

impl GenOptions {
    /// Out-of-range options clamped rather than trusted: a share is 0..=1,
    /// and a non-positive volume becomes a trickle.
    pub(super) fn sanitized(mut self) -> GenOptions {
        let share = |x: f64| {
            if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        self.retweet_ratio = share(self.retweet_ratio).min(0.95);
        self.reply_ratio = share(self.reply_ratio);
        self.malformed_ratio = share(self.malformed_ratio);
        self.v1_ratio = share(self.v1_ratio);
        if !(self.mean_tweets_per_hour.is_finite() && self.mean_tweets_per_hour > 1e-3) {
            self.mean_tweets_per_hour = 1e-3;
        }
        self
    }

    /// Messages (retweets, replies, forwards and malformed ones included)
    /// per original tweet, on average: what turns a message rate into
    /// [`GenOptions::mean_tweets_per_hour`].
    pub fn messages_per_original(&self) -> f64 {
        let o = self.clone().sanitized();
        let replies = (1.0 - OFF_TOPIC_SHARE) * o.reply_ratio * (1.0 + FORWARD_SHARE);
        (1.0 + replies) / (1.0 - o.retweet_ratio) / (1.0 - o.malformed_ratio.min(0.99))
    }

    /// As [`Default`], but with two bursts right after the spike
    /// detector's 24-hour warm-up, for tests that replay a fixed feed with
    /// known spikes: a 12× flood in Kab. Demak from 30 h to 32 h of event
    /// time, and a smaller 10× illegal-fees burst in Kab. Brebes from 32 h
    /// to 33 h 30 min (a rarer topic, so fewer tweets). (`kemala demo`
    /// generates live traffic with [`Incidents`] instead.)
    pub fn demo() -> Self {
        let mut o = GenOptions::default();
        let start = o.start_ms;
        o.bursts = vec![
            Burst {
                topic: "flood".into(),
                region_code: 3321,
                start_ms: start + 30 * HOUR_MS,
                duration_ms: 120 * MINUTE_MS,
                multiplier: 12.0,
            },
            Burst {
                topic: "illegal_fees".into(),
                region_code: 3329,
                start_ms: start + 32 * HOUR_MS,
                duration_ms: 90 * MINUTE_MS,
                multiplier: 10.0,
            },
        ];
        o
    }
}

/// Incidents on a schedule, for live traffic (see
/// [`Generator::schedule_incidents`]): from `first_ms`, one every
/// `every_ms` of event time, each lasting `duration_ms`, during which
/// `per_minute` extra complainants a minute report it. The extra rate is
/// absolute, not a multiple of the usual one: an incident is as loud at
/// 03:00 WIB as at noon, in a quiet regency as in Kota Semarang.
/// Incidents follow the rotation of `assets/gen/templates.toml`
/// (`[[incident]]`): a flood in Kab. Demak, illegal fees at the Samsat in
/// Kab. Brebes, a neglected elderly person in Kota Semarang, and so on.
#[derive(Clone, Debug, PartialEq)]
pub struct Incidents {
    pub first_ms: i64,
    pub every_ms: i64,
    pub duration_ms: i64,
    pub per_minute: f64,
}

/// One incident of a schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// Its place in the schedule, from 0.
    pub number: u64,
    /// What happens, in a few English words ("a flood").
    pub what: String,
    /// A topic id of `topics.toml`.
    pub topic: String,
    /// A BPS region code.
    pub region_code: u16,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// A schedule as the generator runs it.
pub(super) struct IncidentsRt {
    pub(super) first_ms: f64,
    pub(super) every_ms: f64,
    pub(super) duration_ms: f64,
    /// Extra arrivals per ms of one incident.
    pub(super) per_ms: f64,
    /// The rotation: what, topic index, region index.
    pub(super) kinds: Vec<(&'static str, u16, u16)>,
}

impl IncidentsRt {
    /// The numbers of the incidents under way at `t`, if any.
    pub(super) fn active(&self, t: f64) -> Option<(u64, u64)> {
        let x = t - self.first_ms;
        if x < 0.0 {
            return None;
        }
        let hi = (x / self.every_ms).floor();
        let lo = ((x - self.duration_ms) / self.every_ms).floor() + 1.0;
        let lo = lo.max(0.0);
        (lo <= hi).then_some((lo as u64, hi as u64))
    }
}
