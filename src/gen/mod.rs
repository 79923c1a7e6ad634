//! Synthetic, deterministic tweet traffic for `kemala demo`, the integration
//! tests and the benchmarks.
//!
//! The [`Generator`] is an endless iterator of Kafka payloads that look like
//! what the engine reads in production: Twitter API v2 filtered-stream
//! envelopes and API v1.1 statuses, mixed, about citizen complaints in
//! Central Java. Each payload comes with its [`Truth`] (what the tweet is
//! about, where, in which language, whom it answers), so tests can score the
//! engine's classification, geolocation, reply matching and spike detection
//! against known answers.
//!
//! What it models:
//! - **Event time, not wall time.** Original tweets arrive as a Poisson
//!   process (sampled by thinning) whose rate follows a daily rhythm in WIB
//!   (UTC+7: quiet 00:00–05:00, peaks mid-morning and evening), a weekly
//!   rhythm (weekends lower) and the [`Burst`]s. Consumers decide how fast to
//!   replay it; nothing here reads the clock.
//! - **Who and where.** Regions are weighted by population and Twitter use
//!   (Kota Semarang about 18%, then Solo, Kudus, Brebes, Cilacap, Banyumas,
//!   Demak…); about 8% of tweets carry no locatable cue at all. A tweet names
//!   its place by region name or alias, a kecamatan, a landmark, only its
//!   author's profile location, coordinates, a Twitter place, or not at all.
//!   Authors come from a fixed pool with skewed (zipf-like) activity.
//! - **What.** All topics of `topics.toml` with realistic, partly seasonal
//!   shares, from hand-written Indonesian, Javanese (ngoko, krama, ngapak),
//!   mixed and English templates with slang, politeness markers, hashtags and
//!   mentions, plus 10% off-topic chatter. The text is deliberately written
//!   independently of the topics' keywords, so classification is a real test.
//! - **Reactions.** Retweets of recent tweets (including a few viral
//!   cascades), official replies from the responsible agency after a
//!   log-normal delay (median about 3 h, a tail past 48 h), some forwards by
//!   the governor, and a small share of malformed messages of every reject
//!   reason the decoder knows.
//! - **Incidents** (for live traffic, [`Generator::schedule_incidents`]): at
//!   regular event times, a fixed number of extra complainants a minute
//!   report one (topic, region) of a rotation for a few minutes, and the
//!   agency on call answers them within minutes.
//!
//! Determinism: everything flows from one `SmallRng` seeded with
//! [`GenOptions::seed`] and from the configuration's order, so the same seed,
//! options and configuration give byte-identical payloads.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::config::{AgencyKind, Config, RegionKind};

mod dates;
mod malformed;
mod options;
mod payload;
mod random;
mod reactions;
mod tables;
mod templates;
#[cfg(test)]
mod tests;
mod text;

use options::IncidentsRt;
pub use options::{Burst, GenOptions, Incident, Incidents};
use payload::*;
use random::*;
use reactions::*;
use tables::*;
use templates::*;
use text::*;

const SECOND_MS: i64 = 1000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Western Indonesian Time is UTC+7, all year.
const WIB_OFFSET_MS: i64 = 7 * HOUR_MS;
/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z).
const TWITTER_EPOCH_MS: i64 = 1_288_834_974_657;

/// Share of original tweets that are chatter rather than complaints.
const OFF_TOPIC_SHARE: f64 = 0.10;
/// Share of original tweets without any locatable cue.
const UNKNOWN_REGION_SHARE: f64 = 0.08;
/// Share of complaints that also touch a second topic.
const SECOND_TOPIC_SHARE: f64 = 0.06;
/// Citizen accounts in the pool.
const N_AUTHORS: usize = 30_000;
/// Most reactions (replies, retweets) waiting for their event time. Beyond
/// it new reactions are dropped, which only matters at event-time rates far
/// above real life; it keeps memory bounded whatever the options.
const MAX_PENDING: usize = 250_000;
/// Share of retweets that belong to viral cascades.
const VIRAL_SHARE: f64 = 0.25;
/// Share of replied complaints that the governor forwards first.
const FORWARD_SHARE: f64 = 0.12;
/// Share of replies whose `created_at` precedes the complaint, as found in
/// imported records; the engine must count them, not crash.
const SKEWED_REPLY_SHARE: f64 = 0.0005;
/// The filtered-stream rule that matched, as the v2 envelope reports it.
const RULE_ID: &str = "1745000000000000001";

/// One message for Kafka, and what it really is.
#[derive(Clone, Debug, PartialEq)]
pub struct Generated {
    pub payload: Vec<u8>,
    pub truth: Truth,
}

/// The ground truth of one generated message.
///
/// For retweets and replies, `topics`, `region_code` (and for retweets
/// `lang`) are those of the original complaint: what the conversation is
/// about. `region_code` is the region the tweet is about; whether the tweet
/// says so in its text, its place, its coordinates or only its author's
/// profile location varies, and 0 means it carries no cue at all.
#[derive(Clone, Debug, PartialEq)]
pub enum Truth {
    Tweet {
        id: u64,
        /// As the payload's `created_at` says, so whole seconds.
        created_at_ms: i64,
        author_id: String,
        /// Topic ids of `topics.toml`; empty for chatter.
        topics: Vec<String>,
        /// BPS code; 0 = unknown.
        region_code: u16,
        /// "id", "jv", "en" or "mixed".
        lang: &'static str,
        retweet_of: Option<u64>,
        reply_to: Option<u64>,
        /// Written by an agency's (or the governor's) account.
        official: bool,
        /// An original tweet produced by a burst's extra rate.
        in_burst: bool,
    },
    /// A message the engine must reject, with the reason it should give:
    /// "empty", "not_json", "not_tweet", "missing_id", "missing_text",
    /// "bad_created_at", "not_utf8", "oversized" or "too_deep".
    Malformed { reason: &'static str },
}

impl Truth {
    /// An original tweet: neither a retweet nor a reply, nor malformed.
    pub fn is_original(&self) -> bool {
        matches!(
            self,
            Truth::Tweet {
                retweet_of: None,
                reply_to: None,
                ..
            }
        )
    }

    /// A citizen's complaint: an original tweet with at least one topic.
    pub fn is_complaint(&self) -> bool {
        matches!(self, Truth::Tweet { retweet_of: None, reply_to: None, official: false, topics, .. } if !topics.is_empty())
    }
}

/// The reject reasons, in the order malformed messages cycle through them.
const MALFORMED: [&str; 9] = [
    "empty",
    "not_json",
    "not_tweet",
    "missing_id",
    "missing_text",
    "bad_created_at",
    "not_utf8",
    "oversized",
    "too_deep",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
enum Lang {
    Id,
    Jv,
    Mixed,
    En,
}

impl Lang {
    fn as_str(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::Jv => "jv",
            Lang::Mixed => "mixed",
            Lang::En => "en",
        }
    }
}

struct BurstRt {
    topic: u16,
    region: u16,
    start_ms: f64,
    end_ms: f64,
    excess: f64,
}

/// The next original tweet, already accepted by thinning.
#[derive(Clone, Copy)]
struct Arrival {
    t: f64,
    cause: Cause,
}

/// What produced an arrival: the ordinary rate, a burst's extra rate (its
/// index), or a scheduled incident (its number).
#[derive(Clone, Copy)]
enum Cause {
    Base,
    Burst(usize),
    Incident(u64),
}

/// How a tweet says where it is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PlaceMode {
    Name,
    Subdistrict,
    Landmark,
    UserLocation,
    Coordinates,
    TwitterPlace,
    NameAndCoordinates,
    Nothing,
}

struct RegionInfo {
    code: u16,
    /// Share of all original tweets.
    share: f64,
    /// Names usable in text: the official name and its aliases.
    names: Vec<String>,
    /// The everyday name ("Demak", "Solo"), for profiles and hashtags.
    short: String,
    /// `short` is a context alias, which locates only after "di" & co.
    short_is_context: bool,
    /// Names that are also ordinary words; used only after "di".
    context_aliases: Vec<String>,
    subdistricts: Vec<String>,
    places: Vec<String>,
    /// The region's own handles and those of agencies serving only it.
    handles: Vec<String>,
    lat: f64,
    lon: f64,
    radius_km: f64,
    /// Banyumasan ("ngapak") Javanese is spoken here.
    ngapak: bool,
    v1_place: V1Place,
    v2_place: V2Place,
    place_id: String,
    /// Citizens living here.
    authors: Vec<u32>,
    /// A local news account that retweets a lot.
    info_account: u32,
}

struct TopicInfo {
    id: String,
    text: Option<&'static TopicText>,
    /// The configured (Indonesian) name, for topics without templates.
    name: String,
    weight: f64,
    season: [f64; 12],
    /// The responsible agency per region index; the last entry is for
    /// tweets of unknown region.
    agency: Vec<Option<u16>>,
}

/// An official account, shaped like a citizen's for the payload writers.
struct AgencyInfo {
    user: Author,
}

struct Author {
    id: u64,
    username: String,
    name: String,
    location: String,
    /// Region index, or `NO_REGION`.
    region: u16,
    /// `location` names `region`.
    locatable: bool,
    followers: u32,
    verified: bool,
}

struct Tables {
    regions: Vec<RegionInfo>,
    /// Cumulative shares of `regions`; what is left is the unknown region.
    region_cdf: Vec<f64>,
    topics: Vec<TopicInfo>,
    agencies: Vec<AgencyInfo>,
    governor: Option<u16>,
    channel: Option<u16>,
    authors: Vec<Author>,
    /// Citizens whose profile names no region.
    unknown_authors: Vec<u32>,
    /// Handle → (user id, display name), for mention entities.
    handle_ids: HashMap<String, (u64, String)>,
    max_message_bytes: usize,
}

/// What a retweet or reply needs to know of the tweet it reacts to.
struct Original {
    id: u64,
    /// Exact event time, ms.
    at_ms: i64,
    author: u32,
    text: Box<str>,
    lang: Lang,
    lang_hint: &'static str,
    topics: [u16; 2],
    n_topics: u8,
    /// Region index, or `NO_REGION`.
    region: u16,
}

struct Pending {
    at_ms: i64,
    seq: u64,
    what: Reaction,
}

/// A mention or hashtag found in a text, with char and byte offsets.
#[derive(Clone, Copy)]
struct Ent {
    mention: bool,
    start: usize,
    end: usize,
    bstart: usize,
    bend: usize,
}

/// Everything a payload writer needs about one tweet.
struct Out<'a> {
    id: u64,
    at_ms: i64,
    text: &'a str,
    author: &'a Author,
    lang_hint: &'a str,
    conversation_id: u64,
    /// (tweet id, user id, screen name) of the tweet replied to.
    reply: Option<(u64, u64, &'a str)>,
    geo: Geo,
    /// For a retweet: the retweeted tweet and its author.
    retweet: Option<(&'a Original, &'a Author)>,
}

/// The traffic generator: an endless, deterministic iterator of payloads.
pub struct Generator {
    t: Tables,
    rng: SmallRng,
    opts: GenOptions,
    bursts: Vec<BurstRt>,
    /// Upper bound of the arrival rate, per ms, for thinning.
    lambda_max: f64,
    cursor: f64,
    next: Option<Arrival>,
    heap: BinaryHeap<Pending>,
    seq: u64,
    last_id: u64,
    last_event_ms: i64,
    malformed_count: usize,
    /// Cached topic CDF for the month containing `[month_from, month_until)`.
    month_from: i64,
    month_until: i64,
    topic_cdf: Vec<f64>,
    topic_share: Vec<f64>,
    /// Expected retweets per original tweet.
    rt_per_tweet: f64,
    incidents: Option<IncidentsRt>,
    text: String,
    ents: Vec<Ent>,
}

impl Generator {
    /// Builds the tables from the configuration. Agencies without
    /// `user_ids` get a stable synthetic id derived from their `id` (see
    /// [`synthetic_user_id`]), used for every tweet of theirs; agencies
    /// without handles use their `id` as a screen name.
    pub fn new(config: &Config, opts: GenOptions) -> Generator {
        let opts = opts.sanitized();
        let mut rng = SmallRng::seed_from_u64(opts.seed);
        let t = Tables::build(config, &mut rng);
        let mut bursts = Vec::new();
        for b in &opts.bursts {
            let topic = t.topics.iter().position(|x| x.id == b.topic);
            let region = t.regions.iter().position(|r| r.code == b.region_code);
            if let (Some(topic), Some(region)) = (topic, region) {
                if b.duration_ms > 0 && b.multiplier > 1.0 {
                    bursts.push(BurstRt {
                        topic: topic as u16,
                        region: region as u16,
                        start_ms: b.start_ms as f64,
                        end_ms: (b.start_ms + b.duration_ms) as f64,
                        excess: b.multiplier - 1.0,
                    });
                }
            }
        }
        let per_ms = opts.mean_tweets_per_hour / HOUR_MS as f64;
        let mut burst_bound = 0.0;
        for b in &bursts {
            let max_share = (0..12)
                .map(|m| t.topic_share_in_month(m)[b.topic as usize])
                .fold(0.0, f64::max);
            burst_bound += b.excess * max_share * t.regions[b.region as usize].share;
        }
        let lambda_max = per_ms * DAILY_MAX * WEEKLY_MAX * (1.0 + burst_bound) * 1.0001;
        // Retweets are a share of all tweets, replies included: about
        // (1 - off-topic) × reply_ratio × (1 + forwards) replies per original.
        let rr = opts.retweet_ratio;
        let replies_per_tweet = (1.0 - OFF_TOPIC_SHARE) * opts.reply_ratio * (1.0 + FORWARD_SHARE);
        let n_topics = t.topics.len();
        Generator {
            rng,
            bursts,
            lambda_max,
            cursor: opts.start_ms as f64,
            next: None,
            heap: BinaryHeap::new(),
            seq: 0,
            last_id: 0,
            last_event_ms: opts.start_ms,
            malformed_count: 0,
            month_from: i64::MAX,
            month_until: i64::MIN,
            topic_cdf: vec![0.0; n_topics],
            topic_share: vec![0.0; n_topics],
            rt_per_tweet: rr * (1.0 + replies_per_tweet) / (1.0 - rr),
            incidents: None,
            text: String::with_capacity(512),
            ents: Vec::with_capacity(8),
            opts,
            t,
        }
    }

    /// The event time of the most recently emitted tweet (the start time
    /// before the first).
    pub fn event_time_ms(&self) -> i64 {
        self.last_event_ms
    }

    /// Reactions (replies, retweets) scheduled but not yet emitted.
    pub fn pending(&self) -> usize {
        self.heap.len()
    }

    /// From now on, also generates the incidents of `schedule` (replacing
    /// any earlier schedule). The same options, items taken and schedule
    /// give the same output. A live feed calls this once it has caught up
    /// with the wall clock, so that incidents start at times it can announce.
    /// Incidents whose rotation entry names a topic or region the
    /// configuration lacks are skipped; with none left, nothing changes.
    pub fn schedule_incidents(&mut self, schedule: Incidents) {
        let kinds: Vec<(&'static str, u16, u16)> = templates()
            .incident
            .iter()
            .filter_map(|i| {
                let topic = self.t.topics.iter().position(|x| x.id == i.topic)?;
                let region = self.t.regions.iter().position(|r| r.code == i.region)?;
                Some((i.what.as_str(), topic as u16, region as u16))
            })
            .collect();
        let per_minute = if schedule.per_minute.is_finite() {
            schedule.per_minute.max(0.0)
        } else {
            0.0
        };
        if kinds.is_empty() || per_minute == 0.0 {
            return;
        }
        let rt = IncidentsRt {
            first_ms: schedule.first_ms as f64,
            every_ms: schedule.every_ms.max(SECOND_MS) as f64,
            duration_ms: schedule.duration_ms.max(SECOND_MS) as f64,
            per_ms: per_minute / MINUTE_MS as f64,
            kinds,
        };
        if let Some(old) = self.incidents.take() {
            self.lambda_max -= old.per_ms * (old.duration_ms / old.every_ms).ceil() * 1.0001;
        }
        self.lambda_max += rt.per_ms * (rt.duration_ms / rt.every_ms).ceil() * 1.0001;
        self.incidents = Some(rt);
        // The next arrival was drawn without the incidents: draw it again
        // from the last emitted event time (a Poisson process forgets).
        if self.next.take().is_some() {
            self.cursor = self.last_event_ms as f64;
        }
    }

    /// Incident `number` of the schedule, if one is set.
    pub fn incident(&self, number: u64) -> Option<Incident> {
        let s = self.incidents.as_ref()?;
        let (what, topic, region) = s.kinds[(number % s.kinds.len() as u64) as usize];
        let start = s.first_ms + number as f64 * s.every_ms;
        Some(Incident {
            number,
            what: what.to_string(),
            topic: self.t.topics[topic as usize].id.clone(),
            region_code: self.t.regions[region as usize].code,
            start_ms: start as i64,
            end_ms: (start + s.duration_ms) as i64,
        })
    }

    fn next_id(&mut self, at_ms: i64) -> u64 {
        // Snowflake-like: time in the high bits, then a fixed worker and a
        // sequence; strictly increasing, so unique over the whole stream.
        let base = (((at_ms - TWITTER_EPOCH_MS).max(0) as u64) << 22) | (0x15b << 12);
        let id = base.max(self.last_id + 1);
        self.last_id = id;
        id
    }

    fn ensure_month(&mut self, t_ms: i64) {
        if t_ms >= self.month_from && t_ms < self.month_until {
            return;
        }
        let (month, from, until) = dates::wib_month(t_ms);
        self.month_from = from;
        self.month_until = until;
        self.topic_share = self.t.topic_share_in_month(month);
        let mut acc = 0.0;
        for (c, s) in self.topic_cdf.iter_mut().zip(&self.topic_share) {
            acc += s;
            *c = acc;
        }
    }

    /// The arrival rate per ms at `t`, and each burst's extra part of it.
    fn rate(&mut self, t: f64) -> (f64, f64) {
        let base = self.opts.mean_tweets_per_hour / HOUR_MS as f64 * rhythm(t as i64);
        let mut extra = 0.0;
        if !self.bursts.is_empty() {
            self.ensure_month(t as i64);
            for b in &self.bursts {
                if t >= b.start_ms && t < b.end_ms {
                    extra += base
                        * b.excess
                        * self.topic_share[b.topic as usize]
                        * self.t.regions[b.region as usize].share;
                }
            }
        }
        (base, extra)
    }

    /// Draws the next arrival of the (thinned) Poisson process.
    fn arrival(&mut self) -> Arrival {
        if let Some(a) = self.next {
            return a;
        }
        let a = {
            loop {
                let u: f64 = self.rng.random();
                self.cursor += -(1.0 - u).ln() / self.lambda_max;
                let t = self.cursor;
                let (base, extra) = self.rate(t);
                let v: f64 = self.rng.random::<f64>() * self.lambda_max;
                if v >= base + extra {
                    // Beyond the usual and burst rates: an incident's, if any.
                    let Some(s) = &self.incidents else { continue };
                    let Some((lo, hi)) = s.active(t) else {
                        continue;
                    };
                    let k = ((v - base - extra) / s.per_ms).floor();
                    if k >= (hi - lo + 1) as f64 {
                        continue;
                    }
                    break Arrival {
                        t,
                        cause: Cause::Incident(lo + k as u64),
                    };
                }
                let mut burst = None;
                if v >= base {
                    // Which burst's extra rate produced it.
                    let mut acc = base;
                    for (i, b) in self.bursts.iter().enumerate() {
                        if t >= b.start_ms && t < b.end_ms {
                            acc += base
                                * b.excess
                                * self.topic_share[b.topic as usize]
                                * self.t.regions[b.region as usize].share;
                            if v < acc {
                                burst = Some(i);
                                break;
                            }
                        }
                    }
                    if burst.is_none() {
                        burst = self
                            .bursts
                            .iter()
                            .rposition(|b| t >= b.start_ms && t < b.end_ms);
                    }
                }
                break Arrival {
                    t,
                    cause: burst.map_or(Cause::Base, Cause::Burst),
                };
            }
        };
        self.next = Some(a);
        a
    }

    fn schedule(&mut self, at_ms: i64, what: Reaction) {
        if self.heap.len() >= MAX_PENDING {
            return;
        }
        self.seq += 1;
        self.heap.push(Pending {
            at_ms,
            seq: self.seq,
            what,
        });
    }

    fn original(&mut self, a: Arrival) -> Generated {
        let at_ms = a.t.floor() as i64;
        self.last_event_ms = at_ms;
        let id = self.next_id(at_ms);
        self.ensure_month(at_ms);
        let rng = &mut self.rng;
        let t = &self.t;

        // What and where.
        let (region, topics, in_burst) = match a.cause {
            Cause::Burst(i) => {
                let b = &self.bursts[i];
                (b.region, [b.topic, u16::MAX], true)
            }
            Cause::Incident(k) => {
                let s = self
                    .incidents
                    .as_ref()
                    .expect("incident arrivals need a schedule");
                let (_, topic, region) = s.kinds[(k % s.kinds.len() as u64) as usize];
                (region, [topic, u16::MAX], true)
            }
            Cause::Base => {
                let u: f64 = rng.random();
                let region = t
                    .region_cdf
                    .iter()
                    .position(|&c| u < c)
                    .map_or(NO_REGION, |r| r as u16);
                let mut topics = [u16::MAX; 2];
                if !t.topics.is_empty() && !rng.random_bool(OFF_TOPIC_SHARE) {
                    topics[0] = pick_cdf(rng, &self.topic_cdf);
                    if t.topics.len() > 1 && rng.random_bool(SECOND_TOPIC_SHARE) {
                        let second = pick_cdf(rng, &self.topic_cdf);
                        if second != topics[0] {
                            topics[1] = second;
                        }
                    }
                }
                (region, topics, false)
            }
        };
        let n_topics = topics.iter().filter(|&&x| x != u16::MAX).count() as u8;

        // Who.
        let author = if region == NO_REGION {
            t.unknown_authors[rng.random_range(0..t.unknown_authors.len())]
        } else {
            let pool = &t.regions[region as usize].authors;
            if pool.is_empty() || rng.random_bool(0.12) {
                pick_zipfish(rng, t.authors.len()) as u32
            } else if in_burst {
                // Many different people report a disaster.
                pool[rng.random_range(0..pool.len())]
            } else {
                pool[pick_zipfish(rng, pool.len())]
            }
        };
        let lang = by_share(
            rng.random(),
            &[(0.70, Lang::Id), (0.85, Lang::Jv), (0.95, Lang::Mixed)],
            Lang::En,
        );
        let mode = if region == NO_REGION {
            PlaceMode::Nothing
        } else {
            let m = by_share(
                rng.random(),
                &[
                    (0.30, PlaceMode::Name),
                    (0.50, PlaceMode::Subdistrict),
                    (0.65, PlaceMode::Landmark),
                    (0.80, PlaceMode::UserLocation),
                    (0.88, PlaceMode::Coordinates),
                    (0.95, PlaceMode::TwitterPlace),
                ],
                PlaceMode::NameAndCoordinates,
            );
            // Only the profile can place it if the profile names this region.
            let au = &t.authors[author as usize];
            if m == PlaceMode::UserLocation && !(au.locatable && au.region == region) {
                PlaceMode::Name
            } else {
                m
            }
        };
        let geo = match mode {
            PlaceMode::Coordinates | PlaceMode::NameAndCoordinates => {
                let r = &t.regions[region as usize];
                let (lon, lat) = point_near(rng, r.lat, r.lon, r.radius_km / 3.0);
                if mode == PlaceMode::Coordinates && rng.random_bool(0.5) {
                    Geo::PointAndPlace(lon, lat, region)
                } else {
                    Geo::Point(lon, lat)
                }
            }
            PlaceMode::TwitterPlace => Geo::Place(region),
            _ => Geo::None,
        };
        let local_hour = ((at_ms + WIB_OFFSET_MS).rem_euclid(DAY_MS) / HOUR_MS) as u32;
        let ctx = Compose {
            region,
            topics,
            n_topics,
            lang,
            mode,
            local_hour,
        };
        t.compose(rng, &mut self.text, &ctx);
        let lang_hint = lang_hint(rng, lang);
        let v1 = rng.random_bool(self.opts.v1_ratio);

        let text = std::mem::take(&mut self.text);
        let author_ref = &self.t.authors[author as usize];
        scan_entities(&text, &mut self.ents);
        let out = Out {
            id,
            at_ms,
            text: &text,
            author: author_ref,
            lang_hint,
            conversation_id: id,
            reply: None,
            geo,
            retweet: None,
        };
        let payload = self.t.write(&out, &self.ents, v1);

        // Reactions.
        let complaint = n_topics > 0;
        let rt_count = self.retweet_count(complaint, in_burst);
        let reply = complaint && self.rng.random_bool(self.opts.reply_ratio);
        let mut truth_topics = Vec::with_capacity(n_topics as usize);
        for &k in &topics[..n_topics as usize] {
            truth_topics.push(self.t.topics[k as usize].id.clone());
        }
        if rt_count > 0 || reply {
            let orig = Arc::new(Original {
                id,
                at_ms,
                author,
                text: text.as_str().into(),
                lang,
                lang_hint,
                topics,
                n_topics,
                region,
            });
            if rt_count > 0 {
                self.schedule_retweets(&orig, rt_count);
            }
            if reply {
                let urgent = matches!(a.cause, Cause::Incident(_));
                self.schedule_replies(&orig, urgent);
            }
        }
        self.text = text;
        Generated {
            payload,
            truth: Truth::Tweet {
                id,
                created_at_ms: at_ms - at_ms.rem_euclid(SECOND_MS),
                author_id: self.t.authors[author as usize].id.to_string(),
                topics: truth_topics,
                region_code: self.t.region_code(region),
                lang: lang.as_str(),
                retweet_of: None,
                reply_to: None,
                official: false,
                in_burst,
            },
        }
    }
}

impl Iterator for Generator {
    type Item = Generated;

    fn next(&mut self) -> Option<Generated> {
        let mr = self.opts.malformed_ratio;
        if mr > 0.0 && self.rng.random_bool(mr) {
            return Some(self.malformed());
        }
        let a = self.arrival();
        if let Some(top) = self.heap.peek() {
            if (top.at_ms as f64) <= a.t.floor() {
                let p = self.heap.pop().expect("peeked");
                return Some(self.reaction(p));
            }
        }
        self.next = None;
        Some(self.original(a))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

/// The daily and weekly rhythm of traffic at `t_ms`: the share of the
/// average volume that arrives then (a tenth at 03:00 WIB, 1.6 in the
/// evening; it averages to 1 over a week).
pub fn daily_rhythm(t_ms: i64) -> f64 {
    rhythm(t_ms)
}

/// Convenience: the first `n` items.
pub fn generate(config: &Config, opts: GenOptions, n: usize) -> Vec<Generated> {
    Generator::new(config, opts).take(n).collect()
}

/// The stable user id of an agency configured without `user_ids`: 9 followed
/// by nine digits of the FNV-1a hash of its id (or handle), a range no
/// generated citizen uses.
pub fn synthetic_user_id(key: &str) -> u64 {
    9_000_000_000 + fnv1a(key.as_bytes()) % 1_000_000_000
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
