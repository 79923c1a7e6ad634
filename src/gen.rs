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
//!
//! Determinism: everything flows from one `SmallRng` seeded with
//! [`GenOptions::seed`] and from the configuration's order, so the same seed,
//! options and configuration give byte-identical payloads.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::io::Write as _;
use std::sync::Arc;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::config::{AgencyKind, Config, RegionKind};

const SECOND_MS: i64 = 1000;
const MINUTE_MS: i64 = 60 * SECOND_MS;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Western Indonesian Time is UTC+7, all year.
const WIB_OFFSET_MS: i64 = 7 * HOUR_MS;
/// Twitter's snowflake epoch (2010-11-04T01:42:54.657Z).
const TWITTER_EPOCH_MS: i64 = 1_288_834_974_657;
/// 2026-01-05T00:00:00Z, a Monday.
const DEFAULT_START_MS: i64 = days_from_civil(2026, 1, 5) * DAY_MS;

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
    /// As [`Default`], but with bursts placed for the demo: right after the
    /// spike detector's 24-hour warm-up, so they show within the demo's
    /// first seconds of ingest: a 12× flood in Kab. Demak from 30 h to 32 h
    /// of event time, and a smaller 10× illegal-fees burst in Kab. Brebes
    /// from 32 h to 33 h 30 min (a rarer topic, so fewer tweets).
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

// ---- Tables built once from the configuration -----------------------------

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
    v1_place: String,
    v2_place: String,
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

const NO_REGION: u16 = u16::MAX;

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

// ---- Reactions waiting for their event time -------------------------------

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

enum Reaction {
    Reply {
        orig: Arc<Original>,
        agency: u16,
        created_ms: Option<i64>,
    },
    Forward {
        orig: Arc<Original>,
        agency: u16,
    },
    Retweet {
        orig: Arc<Original>,
        by: u32,
    },
}

struct Pending {
    at_ms: i64,
    seq: u64,
    what: Reaction,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ms, self.seq) == (other.at_ms, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so the max-heap pops the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_ms, other.seq).cmp(&(self.at_ms, self.seq))
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
    burst: Option<usize>,
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

#[derive(Clone, Copy, PartialEq)]
enum Geo {
    None,
    Point(f64, f64),
    Place(u16),
    PointAndPlace(f64, f64, u16),
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
    text: String,
    ents: Vec<Ent>,
}

impl Generator {
    /// Builds the tables from the configuration. Agencies without
    /// `user_ids` get a stable synthetic id derived from their `id` (see
    /// [`synthetic_user_id`]), used for every tweet of theirs; agencies
    /// without handles use their `id` as a screen name.
    pub fn new(config: &Config, mut opts: GenOptions) -> Generator {
        // Out-of-range options are clamped rather than trusted: a share is
        // 0..=1, and a non-positive volume becomes a trickle.
        let share = |x: f64| {
            if x.is_finite() {
                x.clamp(0.0, 1.0)
            } else {
                0.0
            }
        };
        opts.retweet_ratio = share(opts.retweet_ratio).min(0.95);
        opts.reply_ratio = share(opts.reply_ratio);
        opts.malformed_ratio = share(opts.malformed_ratio);
        opts.v1_ratio = share(opts.v1_ratio);
        if !(opts.mean_tweets_per_hour.is_finite() && opts.mean_tweets_per_hour > 1e-3) {
            opts.mean_tweets_per_hour = 1e-3;
        }
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
        let local = t_ms + WIB_OFFSET_MS;
        let (y, m, _) = civil_from_days(local.div_euclid(DAY_MS));
        let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
        self.month_from = days_from_civil(y, i64::from(m), 1) * DAY_MS - WIB_OFFSET_MS;
        self.month_until = days_from_civil(ny, i64::from(nm), 1) * DAY_MS - WIB_OFFSET_MS;
        self.topic_share = self.t.topic_share_in_month(m as usize - 1);
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
                    continue;
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
                break Arrival { t, burst };
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
        let (region, topics, in_burst) = match a.burst {
            Some(i) => {
                let b = &self.bursts[i];
                (b.region, [b.topic, u16::MAX], true)
            }
            None => {
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
        let lang = {
            let u: f64 = rng.random();
            if u < 0.70 {
                Lang::Id
            } else if u < 0.85 {
                Lang::Jv
            } else if u < 0.95 {
                Lang::Mixed
            } else {
                Lang::En
            }
        };
        let mode = if region == NO_REGION {
            PlaceMode::Nothing
        } else {
            let u: f64 = rng.random();
            let m = if u < 0.30 {
                PlaceMode::Name
            } else if u < 0.50 {
                PlaceMode::Subdistrict
            } else if u < 0.65 {
                PlaceMode::Landmark
            } else if u < 0.80 {
                PlaceMode::UserLocation
            } else if u < 0.88 {
                PlaceMode::Coordinates
            } else if u < 0.95 {
                PlaceMode::TwitterPlace
            } else {
                PlaceMode::NameAndCoordinates
            };
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
                self.schedule_replies(&orig);
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

    /// How many times a new original tweet will be retweeted.
    fn retweet_count(&mut self, complaint: bool, in_burst: bool) -> usize {
        let e = self.rt_per_tweet;
        if e <= 0.0 {
            return 0;
        }
        let rng = &mut self.rng;
        // Viral cascades: mean 175 retweets each; complaints, and burst
        // complaints above all, are likelier to go viral.
        let boost = if in_burst {
            6.0
        } else if complaint {
            1.1
        } else {
            0.2
        };
        let p_viral = (VIRAL_SHARE * e / 175.0 * boost).min(1.0);
        if rng.random_bool(p_viral) {
            return rng.random_range(50..=300);
        }
        let p_some = ((1.0 - VIRAL_SHARE) * e / 2.0).min(1.0);
        if !rng.random_bool(p_some) {
            return 0;
        }
        let mut k = 1;
        while k < 40 && rng.random_bool(0.5) {
            k += 1;
        }
        k
    }

    fn schedule_retweets(&mut self, orig: &Arc<Original>, n: usize) {
        let viral = n >= 50;
        for _ in 0..n {
            let delay = if viral {
                // Most within the hour, front-loaded.
                let mut d = -(1.0 - self.rng.random::<f64>()).ln() * 15.0 * MINUTE_MS as f64;
                if d > HOUR_MS as f64 {
                    d = self.rng.random::<f64>() * HOUR_MS as f64;
                }
                d as i64 + 5 * SECOND_MS
            } else {
                lognormal(&mut self.rng, 10.0 * MINUTE_MS as f64, 1.3).min(3.0 * DAY_MS as f64)
                    as i64
                    + 5 * SECOND_MS
            };
            let by = if orig.region != NO_REGION && self.rng.random_bool(0.25) {
                self.t.regions[orig.region as usize].info_account
            } else {
                pick_zipfish(&mut self.rng, N_AUTHORS.min(self.t.authors.len())) as u32
            };
            self.schedule(
                orig.at_ms + delay,
                Reaction::Retweet {
                    orig: orig.clone(),
                    by,
                },
            );
        }
    }

    fn schedule_replies(&mut self, orig: &Arc<Original>) {
        let region_slot = if orig.region == NO_REGION {
            self.t.regions.len()
        } else {
            orig.region as usize
        };
        let Some(agency) = self.t.topics[orig.topics[0] as usize].agency[region_slot] else {
            return;
        };
        if self.rng.random_bool(SKEWED_REPLY_SHARE) {
            // An imported record whose reply claims to precede the complaint.
            let created = orig.at_ms
                - orig.at_ms.rem_euclid(SECOND_MS)
                - self.rng.random_range(5..600) * SECOND_MS;
            let at = orig.at_ms + self.rng.random_range(1..60) * SECOND_MS;
            self.schedule(
                at,
                Reaction::Reply {
                    orig: orig.clone(),
                    agency,
                    created_ms: Some(created),
                },
            );
            return;
        }
        let mut latency = lognormal(&mut self.rng, 2.2 * HOUR_MS as f64, 1.7)
            .clamp(2.0 * MINUTE_MS as f64, 12.0 * DAY_MS as f64) as i64;
        // Agencies mostly answer in office hours: a reply that would land at
        // night usually waits for the next morning, which lifts the median
        // from 2.2 h to about 3 h.
        let at = orig.at_ms + latency;
        let local = at + WIB_OFFSET_MS;
        let hour = local.rem_euclid(DAY_MS) / HOUR_MS;
        if !(6..22).contains(&hour) && self.rng.random_bool(0.75) {
            let day = local.div_euclid(DAY_MS) + i64::from(hour >= 22);
            let morning =
                day * DAY_MS + 6 * HOUR_MS + 30 * MINUTE_MS + self.rng.random_range(0..3 * HOUR_MS)
                    - WIB_OFFSET_MS;
            latency = morning - orig.at_ms;
        }
        if let Some(gov) = self.t.governor {
            if gov != agency && self.rng.random_bool(FORWARD_SHARE) {
                let mut fwd = lognormal(&mut self.rng, 40.0 * MINUTE_MS as f64, 1.0)
                    .max(MINUTE_MS as f64) as i64;
                if fwd >= latency {
                    fwd = latency / 2;
                }
                self.schedule(
                    orig.at_ms + fwd,
                    Reaction::Forward {
                        orig: orig.clone(),
                        agency,
                    },
                );
            }
        }
        self.schedule(
            orig.at_ms + latency,
            Reaction::Reply {
                orig: orig.clone(),
                agency,
                created_ms: None,
            },
        );
    }

    fn reaction(&mut self, p: Pending) -> Generated {
        let at_ms = p.at_ms;
        self.last_event_ms = at_ms;
        let id = self.next_id(at_ms);
        let v1 = self.rng.random_bool(self.opts.v1_ratio);
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let (orig, official, lang, reply_to, retweet_of, created_ms, author, payload);
        match p.what {
            Reaction::Retweet { orig: o, by } => {
                let oa = &self.t.authors[o.author as usize];
                text.push_str("RT @");
                text.push_str(&oa.username);
                text.push_str(": ");
                text.push_str(&o.text);
                scan_entities(&text, &mut self.ents);
                let out = Out {
                    id,
                    at_ms,
                    text: &text,
                    author: &self.t.authors[by as usize],
                    lang_hint: o.lang_hint,
                    conversation_id: id,
                    reply: None,
                    geo: Geo::None,
                    retweet: Some((o.as_ref(), oa)),
                };
                payload = self.t.write(&out, &self.ents, v1);
                author = self.t.authors[by as usize].id;
                official = false;
                lang = o.lang;
                reply_to = None;
                retweet_of = Some(o.id);
                created_ms = at_ms;
                orig = o;
            }
            Reaction::Reply {
                orig: o,
                agency,
                created_ms: c,
            } => {
                let oa = &self.t.authors[o.author as usize];
                let local_hour = ((at_ms + WIB_OFFSET_MS).rem_euclid(DAY_MS) / HOUR_MS) as u32;
                self.t.reply_text(
                    &mut self.rng,
                    &mut text,
                    &oa.username,
                    o.topics[0],
                    local_hour,
                );
                let ag = &self.t.agencies[agency as usize];
                let created = c.unwrap_or(at_ms);
                payload = self
                    .t
                    .write_reply(&mut self.ents, id, created, &text, ag, &o, oa, v1);
                author = ag.user.id;
                official = true;
                lang = Lang::Id;
                reply_to = Some(o.id);
                retweet_of = None;
                created_ms = created;
                orig = o;
            }
            Reaction::Forward { orig: o, agency } => {
                let oa = &self.t.authors[o.author as usize];
                let gov = self.t.governor.expect("forwards need a governor");
                let ag = &self.t.agencies[agency as usize];
                let (tpl, l) = FORWARD[self.rng.random_range(0..FORWARD.len())];
                text.push('@');
                text.push_str(&oa.username);
                text.push(' ');
                push_template(&mut text, tpl, "{agency}", &ag.user.username);
                let g = &self.t.agencies[gov as usize];
                payload = self
                    .t
                    .write_reply(&mut self.ents, id, at_ms, &text, g, &o, oa, v1);
                author = g.user.id;
                official = true;
                lang = l;
                reply_to = Some(o.id);
                retweet_of = None;
                created_ms = at_ms;
                orig = o;
            }
        }
        self.text = text;
        let topics = orig.topics[..orig.n_topics as usize]
            .iter()
            .map(|&k| self.t.topics[k as usize].id.clone())
            .collect();
        Generated {
            payload,
            truth: Truth::Tweet {
                id,
                created_at_ms: created_ms - created_ms.rem_euclid(SECOND_MS),
                author_id: author.to_string(),
                topics,
                region_code: self.t.region_code(orig.region),
                lang: lang.as_str(),
                retweet_of,
                reply_to,
                official,
                in_burst: false,
            },
        }
    }

    fn malformed(&mut self) -> Generated {
        let reason = MALFORMED[self.malformed_count % MALFORMED.len()];
        self.malformed_count += 1;
        let rng = &mut self.rng;
        let id = self.last_id + 1;
        let when = format_v2_time(self.last_event_ms);
        let v: u32 = rng.random_range(0..3);
        let payload: Vec<u8> = match reason {
            "empty" => {
                let choices: [&[u8]; 3] = [b"", b"  \n", b"\n"];
                choices[v as usize].to_vec()
            }
            "not_json" => match v {
                0 => {
                    let full = format!(
                        r#"{{"data": {{"id": "{id}", "text": "Banjir lagi di Genuk, mohon bantuan", "author_id": "123", "created_at": "{when}"}}}}"#
                    );
                    let cut = rng.random_range(1..full.len() - 2);
                    full.as_bytes()[..cut].to_vec()
                }
                1 => b"<html><body><h1>502 Bad Gateway</h1></body></html>".to_vec(),
                _ => b"banjir lagi di kaligawe".to_vec(),
            },
            "not_tweet" => match v {
                0 => format!(r#"{{"delete": {{"status": {{"id": {id}, "id_str": "{id}", "user_id": 123456}}, "timestamp_ms": "{}"}}}}"#, self.last_event_ms).into_bytes(),
                1 => br#"{"errors": [{"title": "operational-disconnect", "disconnect_type": "UpstreamOperationalDisconnect", "detail": "This stream has been disconnected upstream for operational reasons.", "type": "https://api.twitter.com/2/problems/operational-disconnect"}]}"#.to_vec(),
                _ => br#"[{"keep": "alive"}]"#.to_vec(),
            },
            "missing_id" => match v {
                0 => format!(r#"{{"data": {{"text": "Jalan rusak di Ungaran", "author_id": "123", "created_at": "{when}"}}}}"#).into_bytes(),
                1 => format!(r#"{{"data": {{"id": "tweet-{id}", "text": "Sampah numpuk", "created_at": "{when}"}}}}"#).into_bytes(),
                _ => br#"{"text": "Lampu jalan mati", "created_at": "Mon Jan 05 07:00:00 +0000 2026", "user": {"id_str": "123", "screen_name": "warga"}}"#.to_vec(),
            },
            "missing_text" => match v {
                0 => format!(r#"{{"data": {{"id": "{id}", "author_id": "123", "created_at": "{when}"}}}}"#).into_bytes(),
                _ => format!(r#"{{"id_str": "{id}", "created_at": "Mon Jan 05 07:00:00 +0000 2026", "user": {{"id_str": "123"}}}}"#).into_bytes(),
            },
            "bad_created_at" => match v {
                0 => format!(r#"{{"data": {{"id": "{id}", "text": "Air PDAM mati", "created_at": "yesterday"}}}}"#).into_bytes(),
                1 => format!(r#"{{"data": {{"id": "{id}", "text": "Air PDAM mati", "created_at": "2026-13-45T25:61:00Z"}}}}"#).into_bytes(),
                _ => format!(r#"{{"id_str": "{id}", "text": "Macet total", "user": {{"id_str": "123"}}}}"#).into_bytes(),
            },
            "not_utf8" => {
                let mut p = format!(r#"{{"data": {{"id": "{id}", "text": "banjir "#).into_bytes();
                p.extend_from_slice(b"\xff\xfe");
                p.extend_from_slice(format!(r#"", "created_at": "{when}"}}}}"#).as_bytes());
                p
            }
            "oversized" => {
                let n = self.t.max_message_bytes.max(64 * 1024) + rng.random_range(1..8192);
                let mut p = format!(r#"{{"data": {{"id": "{id}", "created_at": "{when}", "text": ""#).into_bytes();
                let phrase = b"tolong banjir ";
                while p.len() < n {
                    p.extend_from_slice(phrase);
                }
                p.extend_from_slice(b"\"}}");
                p
            }
            _ => {
                // too_deep
                let depth = 4800 + rng.random_range(0..400);
                let mut p = Vec::with_capacity(depth * 8);
                if v == 0 {
                    p.resize(depth, b'[');
                    p.resize(depth * 2, b']');
                } else {
                    for _ in 0..depth {
                        p.extend_from_slice(b"{\"a\":");
                    }
                    p.push(b'1');
                    p.resize(p.len() + depth, b'}');
                }
                p
            }
        };
        Generated {
            payload,
            truth: Truth::Malformed { reason },
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

// ---- Rhythm ---------------------------------------------------------------

/// Relative volume by hour of the day in WIB, at the middle of each hour.
const DAILY: [f64; 24] = [
    0.35, 0.20, 0.12, 0.10, 0.15, 0.35, 0.70, 1.10, 1.45, 1.60, 1.60, 1.45, 1.25, 1.20, 1.20, 1.20,
    1.25, 1.30, 1.35, 1.55, 1.65, 1.50, 1.10, 0.65,
];
const DAILY_SUM: f64 = 24.37;
const DAILY_MAX: f64 = 1.65 * 24.0 / DAILY_SUM;
/// Relative volume by day of the week, Monday first.
const WEEKLY: [f64; 7] = [1.08, 1.06, 1.05, 1.04, 1.00, 0.90, 0.87];
const WEEKLY_SUM: f64 = 7.0;
const WEEKLY_MAX: f64 = 1.08 * 7.0 / WEEKLY_SUM;

/// The combined daily and weekly factor at `t_ms` (averages to 1).
fn rhythm(t_ms: i64) -> f64 {
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

fn pick<'a, T>(rng: &mut SmallRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn one(rng: &mut SmallRng, items: &[&'static str]) -> &'static str {
    items[rng.random_range(0..items.len())]
}

fn pick_cdf(rng: &mut SmallRng, cdf: &[f64]) -> u16 {
    let total = *cdf.last().unwrap_or(&0.0);
    let u = rng.random::<f64>() * total;
    cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1) as u16
}

/// Half uniform, half 1/rank: a few very active accounts and a long tail.
fn pick_zipfish(rng: &mut SmallRng, n: usize) -> usize {
    if rng.random_bool(0.5) {
        rng.random_range(0..n)
    } else {
        let x = (n as f64).powf(rng.random::<f64>());
        (x as usize).saturating_sub(1).min(n - 1)
    }
}

fn lognormal(rng: &mut SmallRng, median: f64, sigma: f64) -> f64 {
    // Box–Muller.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
    median * (sigma * z).exp()
}

/// A uniform point within `radius_km` of a centre, as (lon, lat).
fn point_near(rng: &mut SmallRng, lat: f64, lon: f64, radius_km: f64) -> (f64, f64) {
    let d = radius_km * rng.random::<f64>().sqrt();
    let a = rng.random::<f64>() * std::f64::consts::TAU;
    let dlat = d * a.sin() / 111.32;
    let dlon = d * a.cos() / (111.32 * lat.to_radians().cos());
    (round5(lon + dlon), round5(lat + dlat))
}

fn round5(x: f64) -> f64 {
    (x * 1e5).round() / 1e5
}

/// What the platform claims the language is.
fn lang_hint(rng: &mut SmallRng, lang: Lang) -> &'static str {
    let u: f64 = rng.random();
    match lang {
        Lang::Id => {
            if u < 0.95 {
                "in"
            } else {
                "und"
            }
        }
        Lang::Jv => {
            if u < 0.55 {
                "in"
            } else if u < 0.85 {
                "und"
            } else {
                "tl"
            }
        }
        Lang::Mixed => {
            if u < 0.8 {
                "in"
            } else {
                "und"
            }
        }
        Lang::En => {
            if u < 0.9 {
                "en"
            } else {
                "in"
            }
        }
    }
}

// ---- Building the tables --------------------------------------------------

/// Relative Twitter volume by region: population times Twitter use. Kota
/// Semarang gets about 18% of all tweets once the unknown share is set aside.
fn region_weight(code: u16) -> f64 {
    match code {
        3374 => 21.0,
        3372 => 7.5,
        3319 => 5.0,
        3329 => 4.5,
        3301 => 4.3,
        3302 => 4.2,
        3321 => 4.0,
        3322 => 3.5,
        3315 | 3318 | 3320 | 3310 => 3.0,
        3311 => 2.8,
        3324 | 3328 => 2.6,
        3327 => 2.4,
        3305 | 3308 | 3313 => 2.2,
        3309 => 2.0,
        3326 => 1.9,
        3375 | 3376 => 1.8,
        3314 => 1.7,
        3373 | 3312 | 3303 => 1.6,
        3304 | 3306 | 3316 | 3325 => 1.4,
        3307 | 3323 => 1.3,
        3371 => 1.2,
        3317 => 1.1,
        _ => 1.5,
    }
}

/// Regions of the Banyumasan dialect.
fn is_ngapak(code: u16) -> bool {
    matches!(
        code,
        3301 | 3302 | 3303 | 3304 | 3305 | 3327 | 3328 | 3329 | 3376
    )
}

fn strip_at(h: &str) -> &str {
    h.trim().trim_start_matches('@')
}

fn tag_word(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

fn find_topic_text(id: &str, name_en: &str) -> Option<&'static TopicText> {
    let id = id.to_ascii_lowercase();
    if let Some(t) = TOPIC_TEXTS
        .iter()
        .find(|t| t.key == id || t.alt.contains(&id.as_str()))
    {
        return Some(t);
    }
    let en = name_en.to_ascii_lowercase();
    TOPIC_TEXTS
        .iter()
        .find(|t| {
            id.split('_')
                .any(|w| w.len() > 3 && (t.key.contains(w) || t.alt.contains(&w)))
        })
        .or_else(|| {
            TOPIC_TEXTS.iter().find(|t| {
                en.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
                    w.len() > 3 && (t.key.split('_').any(|k| k == w) || t.alt.contains(&w))
                })
            })
        })
}

impl Tables {
    fn build(config: &Config, rng: &mut SmallRng) -> Tables {
        // Agencies.
        let mut agencies = Vec::with_capacity(config.agencies.len());
        let mut handle_ids: HashMap<String, (u64, String)> = HashMap::new();
        for a in &config.agencies {
            let handle = a
                .handles
                .first()
                .map(|h| strip_at(h).to_string())
                .unwrap_or_else(|| tag_word(&a.id.replace('-', "_")));
            let user_id = a
                .user_ids
                .first()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(|| synthetic_user_id(&a.id));
            for h in &a.handles {
                handle_ids
                    .entry(strip_at(h).to_string())
                    .or_insert((user_id, a.name.clone()));
            }
            agencies.push(AgencyInfo {
                user: Author {
                    id: user_id,
                    username: handle,
                    name: a.name.clone(),
                    location: "Jawa Tengah".to_string(),
                    region: NO_REGION,
                    locatable: false,
                    followers: 150_000,
                    verified: true,
                },
            });
        }
        let governor = config
            .agencies
            .iter()
            .position(|a| a.kind == AgencyKind::Governor)
            .map(|i| i as u16);
        let channel = config
            .agencies
            .iter()
            .position(|a| a.kind == AgencyKind::Channel)
            .map(|i| i as u16);

        // Regions.
        let total_w: f64 = config
            .regions
            .iter()
            .map(|r| region_weight(r.code.parse().unwrap_or(0)))
            .sum();
        let mut regions = Vec::with_capacity(config.regions.len());
        for r in &config.regions {
            let code: u16 = r.code.parse().unwrap_or(0);
            let bare = r
                .name
                .strip_prefix("Kabupaten ")
                .or_else(|| r.name.strip_prefix("Kota "))
                .unwrap_or(&r.name);
            // Names of the government ("Pemkab Demak") are not places.
            let institutional = |a: &&String| a.starts_with("Pemkab ") || a.starts_with("Pemkot ");
            let one_word = |a: &&String| a.len() >= 4 && !a.contains('.') && !a.contains(' ');
            // The everyday name: a one-word alias, else a capitalised context
            // alias ("Pati", "Tegal"), else the official name.
            let (short, short_is_context) = match r
                .aliases
                .iter()
                .filter(|a| !institutional(a))
                .find(one_word)
            {
                Some(a) => (a.clone(), false),
                None => match r.context_aliases.iter().find(one_word) {
                    Some(a) => (a.clone(), true),
                    None => (r.name.clone(), false),
                },
            };
            let mut names = vec![r.name.clone()];
            names.extend(r.aliases.iter().filter(|a| !institutional(a)).cloned());
            let mut handles: Vec<String> =
                r.handles.iter().map(|h| strip_at(h).to_string()).collect();
            for a in &config.agencies {
                if a.regions.len() == 1 && a.regions[0] == r.code {
                    for h in &a.handles {
                        let h = strip_at(h).to_string();
                        if !handles.contains(&h) {
                            handles.push(h);
                        }
                    }
                }
            }
            for h in &handles {
                handle_ids
                    .entry(h.clone())
                    .or_insert_with(|| (synthetic_user_id(h), format!("Pemerintah {}", r.name)));
            }
            // A Twitter place: the city, or the regency by its full name.
            let (pname, full) = match r.kind {
                RegionKind::Kota => (bare.to_string(), format!("{bare}, Indonesia")),
                RegionKind::Kabupaten => (r.name.clone(), format!("{}, Indonesia", r.name)),
            };
            let place_id = format!("{:016x}", fnv1a(r.code.as_bytes()) ^ 0x5a5a_0000_0000_0000);
            let half = (r.radius_km * 0.5).max(1.0);
            let dlat = half / 111.32;
            let dlon = half / (111.32 * r.lat.to_radians().cos());
            let (w, s, e, n) = (
                round5(r.lon - dlon),
                round5(r.lat - dlat),
                round5(r.lon + dlon),
                round5(r.lat + dlat),
            );
            let mut v2_place = Vec::new();
            v2_place.extend_from_slice(b"{\"id\":");
            push_json_str(&mut v2_place, &place_id);
            v2_place.extend_from_slice(b",\"full_name\":");
            push_json_str(&mut v2_place, &full);
            v2_place.extend_from_slice(b",\"name\":");
            push_json_str(&mut v2_place, &pname);
            let _ = write!(
                v2_place,
                ",\"country\":\"Indonesia\",\"country_code\":\"ID\",\"place_type\":\"{}\",\"geo\":{{\"type\":\"Feature\",\"bbox\":[{w},{s},{e},{n}],\"properties\":{{}}}}}}",
                if matches!(r.kind, RegionKind::Kota) { "city" } else { "admin" }
            );
            let mut v1_place = Vec::new();
            v1_place.extend_from_slice(b"{\"id\":");
            push_json_str(&mut v1_place, &place_id);
            let _ = write!(v1_place, ",\"url\":\"https://api.twitter.com/1.1/geo/id/{place_id}.json\",\"place_type\":\"{}\",\"name\":", if matches!(r.kind, RegionKind::Kota) { "city" } else { "admin" });
            push_json_str(&mut v1_place, &pname);
            v1_place.extend_from_slice(b",\"full_name\":");
            push_json_str(&mut v1_place, &full);
            let _ = write!(
                v1_place,
                ",\"country_code\":\"ID\",\"country\":\"Indonesia\",\"bounding_box\":{{\"type\":\"Polygon\",\"coordinates\":[[[{w},{s}],[{w},{n}],[{e},{n}],[{e},{s}]]]}},\"attributes\":{{}}}}"
            );
            regions.push(RegionInfo {
                code,
                share: region_weight(code) / total_w * (1.0 - UNKNOWN_REGION_SHARE),
                names,
                short,
                short_is_context,
                context_aliases: r
                    .context_aliases
                    .iter()
                    .filter(|a| a.chars().next().is_some_and(char::is_uppercase) && a.len() >= 4)
                    .cloned()
                    .collect(),
                subdistricts: r.subdistricts.clone(),
                places: r.places.clone(),
                handles,
                lat: r.lat,
                lon: r.lon,
                radius_km: r.radius_km.max(0.5),
                ngapak: is_ngapak(code),
                v1_place: String::from_utf8(v1_place).expect("ASCII and UTF-8 names"),
                v2_place: String::from_utf8(v2_place).expect("ASCII and UTF-8 names"),
                place_id,
                authors: Vec::new(),
                info_account: 0,
            });
        }
        let mut region_cdf = Vec::with_capacity(regions.len());
        let mut acc = 0.0;
        for r in &regions {
            acc += r.share;
            region_cdf.push(acc);
        }

        // Topics and who answers them.
        let mut topics = Vec::with_capacity(config.topics.len());
        for (k, td) in config.topics.iter().enumerate() {
            let text = find_topic_text(&td.id, &td.name_en);
            let mut agency = Vec::with_capacity(regions.len() + 1);
            for r in config
                .regions
                .iter()
                .map(|r| Some(r.code.as_str()))
                .chain([None])
            {
                agency.push(route(config, k, r));
            }
            topics.push(TopicInfo {
                id: td.id.clone(),
                text,
                name: td.name.clone(),
                weight: text.map_or(3.0, |t| t.weight),
                season: text.map_or([1.0; 12], |t| t.season),
                agency,
            });
        }

        // Citizens.
        let mut authors = Vec::with_capacity(N_AUTHORS + regions.len());
        let mut unknown_authors = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        for i in 0..N_AUTHORS {
            let u: f64 = rng.random::<f64>();
            // Slightly more profile-less accounts than unknown-region tweets.
            let region = if u < UNKNOWN_REGION_SHARE * 1.25 {
                NO_REGION
            } else {
                let v = rng.random::<f64>() * acc;
                region_cdf
                    .iter()
                    .position(|&c| v < c)
                    .unwrap_or(regions.len().saturating_sub(1)) as u16
            };
            let region = if regions.is_empty() {
                NO_REGION
            } else {
                region
            };
            let first = *pick(rng, FIRST_NAMES);
            let last = *pick(rng, LAST_NAMES);
            let short = if region == NO_REGION {
                ""
            } else {
                regions[region as usize].short.as_str()
            };
            let base = match rng.random_range(0..8) {
                0 => format!("{}{}{}", first, last, rng.random_range(10..100)),
                1 if !short.is_empty() => format!("{}_{}", first, tag_word(short)),
                2 => format!("mas{}", first),
                3 => format!("mbak_{}", first),
                4 => format!("{}_{}", first, last),
                5 if !short.is_empty() => {
                    format!("warga{}{}", tag_word(short), rng.random_range(1..1000))
                }
                6 => format!("{}{}", first.to_lowercase(), rng.random_range(80..100)),
                _ => format!("{}{}", first, &last[..3.min(last.len())]),
            };
            let mut base: String = base.chars().take(15).collect();
            if rng.random_bool(0.7) {
                base = base.to_lowercase();
            }
            let mut username = base.clone();
            let mut n = 2;
            while !taken.insert(username.to_lowercase()) {
                let suffix = n.to_string();
                let keep = 15 - suffix.len();
                username = format!("{}{}", base.chars().take(keep).collect::<String>(), suffix);
                n += 1;
            }
            let name = match rng.random_range(0..6) {
                0 if !short.is_empty() => format!("Warga {short}"),
                1 => first.to_string(),
                2 if !short.is_empty() => format!("{first} | {short}"),
                _ => format!("{first} {last}"),
            };
            let (location, locatable) = if region == NO_REGION {
                if rng.random_bool(0.5) {
                    (String::new(), false)
                } else {
                    (one(rng, OTHER_LOCATIONS).to_string(), false)
                }
            } else {
                let r = &regions[region as usize];
                let u: f64 = rng.random();
                if u < 0.35 {
                    (r.short.clone(), true)
                } else if u < 0.50 {
                    (format!("{}, Jawa Tengah", r.short), true)
                } else if u < 0.60 {
                    (format!("{}, Indonesia", r.short), true)
                } else if u < 0.70 && !r.subdistricts.is_empty() {
                    (format!("{}, {}", pick(rng, &r.subdistricts), r.short), true)
                } else if u < 0.80 {
                    (pick(rng, &r.names).clone(), true)
                } else if u < 0.92 {
                    (String::new(), false)
                } else {
                    (one(rng, OTHER_LOCATIONS).to_string(), false)
                }
            };
            let id = if rng.random_bool(0.6) {
                100_000_000 + i as u64 * 1000 + rng.random_range(0..1000)
            } else {
                1_100_000_000_000_000_000 + i as u64 * 1_000_000 + rng.random_range(0..1_000_000)
            };
            let followers = (10.0 * (1.0 / (1.0 - rng.random::<f64>() * 0.999)).powf(1.2)) as u32;
            let idx = authors.len() as u32;
            if region == NO_REGION || !locatable {
                unknown_authors.push(idx);
            }
            if region != NO_REGION {
                regions[region as usize].authors.push(idx);
            }
            authors.push(Author {
                id,
                username,
                name,
                location,
                region,
                locatable,
                followers,
                verified: false,
            });
        }
        // One local news account per region.
        for (ri, r) in regions.iter_mut().enumerate() {
            let base: String = format!("info{}", tag_word(&r.short).to_lowercase())
                .chars()
                .take(13)
                .collect();
            let mut username = base.clone();
            let mut n = 2;
            while !taken.insert(username.to_lowercase()) {
                username = format!("{base}{n}");
                n += 1;
            }
            let idx = authors.len() as u32;
            r.info_account = idx;
            authors.push(Author {
                id: 1_300_000_000_000_000_000 + ri as u64 * 7_919,
                username,
                name: format!("Info {}", r.short),
                location: format!("{}, Jawa Tengah", r.short),
                region: ri as u16,
                locatable: true,
                followers: 20_000 + rng.random_range(0..200_000),
                verified: false,
            });
        }
        if unknown_authors.is_empty() {
            unknown_authors.push(0);
        }
        Tables {
            regions,
            region_cdf,
            topics,
            agencies,
            governor,
            channel,
            authors,
            unknown_authors,
            handle_ids,
            max_message_bytes: config.engine.kafka.max_message_bytes,
        }
    }

    fn region_code(&self, region: u16) -> u16 {
        if region == NO_REGION {
            0
        } else {
            self.regions[region as usize].code
        }
    }

    /// Each topic's share of original tweets in a month (0 = January).
    fn topic_share_in_month(&self, month: usize) -> Vec<f64> {
        let w: Vec<f64> = self
            .topics
            .iter()
            .map(|t| t.weight * t.season[month % 12])
            .collect();
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return w;
        }
        w.iter()
            .map(|x| x / total * (1.0 - OFF_TOPIC_SHARE))
            .collect()
    }
}

/// The agency responsible for topic `k` in a region (None: unknown region),
/// chosen the way the engine routes: an agency of the topic covering exactly
/// this region, else the region's own government if the topic goes to
/// regions, else a province-wide agency of the topic, else the region's
/// government or the complaint channel. Agencies the engine could not
/// recognise as official (no handle and no user id) are passed over.
fn route(config: &Config, k: usize, region: Option<&str>) -> Option<u16> {
    let topic = &config.topics[k];
    let usable = |i: &usize| {
        let a = &config.agencies[*i];
        !a.handles.is_empty() || !a.user_ids.is_empty()
    };
    let candidates: Vec<usize> = topic
        .agencies
        .iter()
        .filter_map(|id| config.agencies.iter().position(|a| &a.id == id))
        .filter(usable)
        .collect();
    let regional = region.and_then(|code| {
        config
            .agencies
            .iter()
            .position(|a| {
                a.kind == AgencyKind::Regional && a.regions.len() == 1 && a.regions[0] == code
            })
            .filter(usable)
    });
    if let Some(code) = region {
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| config.agencies[i].regions.iter().any(|r| r == code))
        {
            return Some(i as u16);
        }
        if topic.route_to_region {
            if let Some(i) = regional {
                return Some(i as u16);
            }
        }
    }
    if let Some(&i) = candidates
        .iter()
        .find(|&&i| config.agencies[i].regions.is_empty())
    {
        return Some(i as u16);
    }
    regional
        .or_else(|| {
            config
                .agencies
                .iter()
                .position(|a| a.kind == AgencyKind::Channel)
                .filter(usable)
        })
        .map(|i| i as u16)
}

// ---- Composing text -------------------------------------------------------

#[derive(Clone, Copy)]
struct Compose {
    region: u16,
    topics: [u16; 2],
    n_topics: u8,
    lang: Lang,
    mode: PlaceMode,
    local_hour: u32,
}

fn greeting(lang: Lang, hour: u32) -> &'static str {
    let slot = match hour {
        4..=9 => 0,
        10..=14 => 1,
        15..=17 => 2,
        _ => 3,
    };
    match lang {
        Lang::Jv => [
            "Sugeng enjing",
            "Sugeng siang",
            "Sugeng sonten",
            "Sugeng dalu",
        ][slot],
        Lang::En => [
            "Good morning",
            "Good afternoon",
            "Good afternoon",
            "Good evening",
        ][slot],
        _ => [
            "Selamat pagi",
            "Selamat siang",
            "Selamat sore",
            "Selamat malam",
        ][slot],
    }
}

/// Appends `tpl` with `key` replaced by `value`.
fn push_template(out: &mut String, tpl: &str, key: &str, value: &str) {
    match tpl.find(key) {
        Some(i) => {
            out.push_str(&tpl[..i]);
            out.push_str(value);
            out.push_str(&tpl[i + key.len()..]);
        }
        None => out.push_str(tpl),
    }
}

fn push_sentence(out: &mut String, s: &str, greet: &str) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
    push_template(out, s, "{greet}", greet);
}

impl Tables {
    /// The place phrase, with its preposition, for the tweet's text.
    fn place_phrase(&self, rng: &mut SmallRng, c: &Compose, ngapak: bool, out: &mut String) {
        let textual = matches!(
            c.mode,
            PlaceMode::Name
                | PlaceMode::Subdistrict
                | PlaceMode::Landmark
                | PlaceMode::NameAndCoordinates
        );
        let jv = c.lang == Lang::Jv || (c.lang == Lang::Mixed && rng.random_bool(0.3));
        if !textual {
            let g = match c.lang {
                Lang::En => GENERIC_LOC_EN,
                _ if jv => GENERIC_LOC_JV,
                _ => GENERIC_LOC_ID,
            };
            out.push_str(one(rng, g));
            return;
        }
        let r = &self.regions[c.region as usize];
        let prep = match c.lang {
            Lang::En => one(rng, PREP_EN),
            _ if jv && ngapak => one(rng, PREP_NGAPAK),
            _ if jv => one(rng, PREP_JV),
            _ => one(rng, PREP_ID),
        };
        let mode = match c.mode {
            PlaceMode::Subdistrict if r.subdistricts.is_empty() => PlaceMode::Name,
            PlaceMode::Landmark if r.places.is_empty() => PlaceMode::Name,
            m => m,
        };
        match mode {
            PlaceMode::Subdistrict => {
                out.push_str(prep);
                out.push(' ');
                let s = pick(rng, &r.subdistricts).as_str();
                // Some are listed only as "Kec. X" (X is an ordinary word).
                let prefixed = s.starts_with("Kec. ") || s.starts_with("Kecamatan ");
                match rng.random_range(0..5) {
                    0 if c.lang != Lang::En && !prefixed => {
                        out.push_str("Kec. ");
                        out.push_str(s);
                    }
                    1 if c.lang != Lang::En && !prefixed => {
                        out.push_str("kecamatan ");
                        out.push_str(s);
                    }
                    2 => {
                        out.push_str(s);
                        out.push_str(", ");
                        out.push_str(&r.short);
                    }
                    _ => out.push_str(s),
                }
            }
            PlaceMode::Landmark => {
                out.push_str(prep);
                out.push(' ');
                out.push_str(pick(rng, &r.places).as_str());
                if rng.random_bool(0.35) {
                    out.push(' ');
                    out.push_str(&r.short);
                }
            }
            _ => {
                let u: f64 = rng.random();
                if u < 0.08 && !r.context_aliases.is_empty() && c.lang != Lang::En {
                    // An ambiguous name, placed by the preposition before it.
                    out.push_str(if jv { "nang " } else { "di " });
                    out.push_str(pick(rng, &r.context_aliases).as_str());
                } else if u < 0.55 && !r.short_is_context {
                    out.push_str(prep);
                    out.push(' ');
                    out.push_str(&r.short);
                } else {
                    out.push_str(prep);
                    out.push(' ');
                    out.push_str(pick(rng, &r.names).as_str());
                }
            }
        }
    }

    fn compose(&self, rng: &mut SmallRng, out: &mut String, c: &Compose) {
        for attempt in 0..3 {
            out.clear();
            self.compose_once(rng, out, c, attempt);
            if out.chars().count() <= 280 {
                return;
            }
        }
        // Still too long: cut at a character boundary.
        if let Some((i, _)) = out.char_indices().nth(279) {
            out.truncate(i);
        }
    }

    fn compose_once(&self, rng: &mut SmallRng, out: &mut String, c: &Compose, attempt: u32) {
        let ngapak =
            c.region != NO_REGION && self.regions[c.region as usize].ngapak && rng.random_bool(0.6);
        let complaint = c.n_topics > 0;
        let greet = greeting(c.lang, c.local_hour);
        let full = attempt == 0;
        // The mentions and hashtags, decided first so they may lead.
        let mut mentions: [&str; 3] = [""; 3];
        let mut nm = 0;
        let gov = self
            .governor
            .map(|g| self.agencies[g as usize].user.username.as_str());
        let topic0 = if complaint {
            Some(&self.topics[c.topics[0] as usize])
        } else {
            None
        };
        let located = c.region != NO_REGION;
        let p_gov = if complaint { 0.35 } else { 0.12 };
        if let Some(g) = gov {
            if rng.random_bool(p_gov) {
                mentions[nm] = g;
                nm += 1;
            }
        }
        if let Some(t) = topic0 {
            let slot = if located {
                c.region as usize
            } else {
                self.regions.len()
            };
            if let Some(a) = t.agency[slot] {
                let h = self.agencies[a as usize].user.username.as_str();
                if Some(a) != self.governor
                    && Some(a) != self.channel
                    && rng.random_bool(0.25)
                    && !mentions[..nm].contains(&h)
                {
                    mentions[nm] = h;
                    nm += 1;
                }
            }
            if located && rng.random_bool(0.2) {
                let hs = &self.regions[c.region as usize].handles;
                if !hs.is_empty() {
                    let h = pick(rng, hs).as_str();
                    if !mentions[..nm].contains(&h) {
                        mentions[nm] = h;
                        nm += 1;
                    }
                }
            }
            if nm < 3 && rng.random_bool(0.08) {
                if let Some(ch) = self.channel {
                    let h = self.agencies[ch as usize].user.username.as_str();
                    if !mentions[..nm].contains(&h) {
                        mentions[nm] = h;
                        nm += 1;
                    }
                }
            }
        }
        let lead = nm > 0 && rng.random_bool(0.4);
        if lead {
            for m in &mentions[..nm] {
                out.push('@');
                out.push_str(m);
                out.push(' ');
            }
        }
        let body_start = out.len();

        // Code-mixed tweets put the core in one language and the rest in
        // the other.
        let core_lang = match c.lang {
            Lang::Mixed if rng.random_bool(0.5) => Lang::Jv,
            Lang::Mixed => Lang::Id,
            l => l,
        };
        let rest_lang = match (c.lang, core_lang) {
            (Lang::Mixed, Lang::Jv) => Lang::Id,
            (Lang::Mixed, _) => Lang::Jv,
            (l, _) => l,
        };
        // Opening.
        let mut opened_with_comma = false;
        if full && rng.random_bool(if complaint { 0.35 } else { 0.1 }) {
            let open = match core_lang {
                Lang::Jv => one(rng, JV_OPEN),
                Lang::En => one(rng, EN_OPEN),
                _ => one(rng, ID_OPEN),
            };
            push_sentence(out, open, greeting(core_lang, c.local_hour));
            opened_with_comma = open.ends_with(',');
        }
        // Core sentence(s).
        let mut loc = String::new();
        self.place_phrase(rng, c, ngapak, &mut loc);
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        let core_start = out.len();
        match topic0 {
            None => {
                let tpl = match core_lang {
                    Lang::Jv => one(rng, CHATTER_JV),
                    Lang::En => one(rng, CHATTER_EN),
                    _ => one(rng, CHATTER_ID),
                };
                push_template(out, tpl, "{loc}", &loc);
                if c.lang == Lang::Mixed {
                    let tail = if core_lang == Lang::Jv {
                        "Keren pokoknya."
                    } else {
                        one(rng, CHATTER_JV_TAIL)
                    };
                    push_sentence(out, tail, greet);
                }
            }
            Some(t) => {
                self.core(rng, out, t, core_lang, ngapak, &loc);
                if c.n_topics > 1 {
                    // A second topic, placeless.
                    let t2 = &self.topics[c.topics[1] as usize];
                    let mut generic = String::new();
                    let c2 = Compose {
                        mode: PlaceMode::Nothing,
                        lang: core_lang,
                        ..*c
                    };
                    self.place_phrase(rng, &c2, ngapak, &mut generic);
                    out.push(' ');
                    self.core(rng, out, t2, core_lang, ngapak, &generic);
                }
            }
        }
        if opened_with_comma {
            decapitalize_after_comma(out, body_start, core_start);
        }
        if complaint {
            let t = topic0.expect("complaint");
            // Extra detail.
            if full && rng.random_bool(0.35) {
                match (rest_lang, t.text) {
                    (Lang::Id, Some(tt)) => push_sentence(out, one(rng, tt.extra), greet),
                    (Lang::Jv, _) => push_sentence(out, one(rng, JV_EXTRA), greet),
                    _ => {}
                }
            }
            // Request and thanks; a code-mixed tweet always has its request
            // in the other language.
            if c.lang == Lang::Mixed || rng.random_bool(0.75) {
                let req = match rest_lang {
                    Lang::Id => one(rng, ID_REQ),
                    Lang::Jv if ngapak => one(rng, NGAPAK_REQ),
                    Lang::Jv => one(rng, JV_REQ),
                    _ => one(rng, EN_REQ),
                };
                push_sentence(out, req, greet);
            }
            if full && rng.random_bool(0.3) {
                let close = match rest_lang {
                    Lang::Id => one(rng, ID_CLOSE),
                    Lang::Jv => one(rng, JV_CLOSE),
                    _ => one(rng, EN_CLOSE),
                };
                push_sentence(out, close, greet);
            }
        }
        if rng.random_bool(0.15) {
            out.push(' ');
            out.push_str(one(rng, EMOJI));
        }
        // Spelling: slang, all lowercase.
        if matches!(c.lang, Lang::Id | Lang::Mixed) && rng.random_bool(0.45) {
            let body: String = out[body_start..].to_string();
            out.truncate(body_start);
            apply_slang(rng, &body, out);
        }
        if rng.random_bool(0.12) {
            let lower = out[body_start..].to_lowercase();
            out.truncate(body_start);
            out.push_str(&lower);
        }
        // Trailing mentions and hashtags.
        if !lead {
            for m in &mentions[..nm] {
                out.push_str(" @");
                out.push_str(m);
            }
        }
        if complaint {
            if rng.random_bool(0.5) {
                out.push_str(" #KemalaJateng");
            }
            let t = topic0.expect("complaint");
            if let Some(tt) = t.text {
                if full && rng.random_bool(0.15) {
                    out.push_str(" #");
                    out.push_str(one(rng, tt.tags));
                }
                if let (Some(prefix), true) = (tt.region_tag, located) {
                    if full && rng.random_bool(0.15) && c.mode != PlaceMode::Nothing {
                        out.push_str(" #");
                        out.push_str(prefix);
                        out.push_str(&tag_word(&self.regions[c.region as usize].short));
                    }
                }
            }
            if full && rng.random_bool(0.03) {
                out.push_str(" #LaporGub");
            }
        } else if rng.random_bool(0.05) {
            out.push_str(" #KemalaJateng");
        }
        if full && located && c.mode != PlaceMode::Nothing && rng.random_bool(0.04) {
            out.push_str(" #");
            out.push_str(&tag_word(&self.regions[c.region as usize].short));
        }
    }

    /// One core complaint sentence of topic `t`.
    fn core(
        &self,
        rng: &mut SmallRng,
        out: &mut String,
        t: &TopicInfo,
        lang: Lang,
        ngapak: bool,
        loc: &str,
    ) {
        let Some(tt) = t.text else {
            // A configured topic this generator has no templates for.
            let tpl = match lang {
                Lang::En => "There is a problem with {name} {loc}.",
                Lang::Jv => "Wonten masalah {name} {loc}.",
                _ => "Ada masalah {name} {loc}, sudah lama dibiarkan.",
            };
            let mut s = String::new();
            push_template(&mut s, tpl, "{name}", &t.name.to_lowercase());
            push_template(out, &s, "{loc}", loc);
            return;
        };
        let tpl = match lang {
            Lang::Jv if ngapak && !tt.ngapak.is_empty() => one(rng, tt.ngapak),
            Lang::Jv => one(rng, tt.jv),
            Lang::En => one(rng, tt.en),
            Lang::Id | Lang::Mixed => one(rng, tt.id),
        };
        push_template(out, tpl, "{loc}", loc);
    }

    fn reply_text(
        &self,
        rng: &mut SmallRng,
        out: &mut String,
        to: &str,
        topic: u16,
        local_hour: u32,
    ) {
        out.push('@');
        out.push_str(to);
        out.push(' ');
        let sapa = *pick(rng, SAPA);
        let greet = greeting(Lang::Id, local_hour);
        let specific = self.topics[topic as usize]
            .text
            .filter(|_| rng.random_bool(0.55));
        match specific {
            Some(tt) => {
                if rng.random_bool(0.4) {
                    out.push_str("Terima kasih ");
                    out.push_str(sapa);
                    out.push_str(". ");
                }
                out.push_str(one(rng, tt.reply));
            }
            None => {
                let mut s = String::new();
                push_template(&mut s, one(rng, REPLY_GENERIC), "{sapa}", sapa);
                push_template(out, &s, "{greet}", greet);
            }
        }
        if rng.random_bool(0.3) {
            // The admin's initials.
            out.push_str(" ^");
            out.push(rng.random_range(b'A'..=b'Z') as char);
            out.push(rng.random_range(b'A'..=b'Z') as char);
        }
    }
}

/// After an opening such as "Pak," the core sentence goes on in lower case
/// ("Pak, mati lampu lagi"), and a core that opens politely itself drops the
/// opening ("Nyuwun sewu pak, ...").
fn decapitalize_after_comma(out: &mut String, body_start: usize, core_start: usize) {
    let core = &out[core_start..];
    let first_word = core.split([' ', ',']).next().unwrap_or("");
    if matches!(
        first_word,
        "Nyuwun" | "Ngapunten" | "Permisi" | "Mohon" | "Hello" | "Lapor"
    ) {
        out.replace_range(body_start..core_start, "");
        return;
    }
    let mut chars = first_word.chars();
    if let (Some(c0), Some(c1)) = (chars.next(), chars.next()) {
        if c0.is_ascii_uppercase()
            && c1.is_ascii_lowercase()
            && !matches!(
                first_word,
                "PPDB" | "PDAM" | "PLN" | "BPJS" | "TPS" | "PJU" | "BLT" | "BRT" | "KK" | "KTP"
            )
        {
            let lower = c0.to_ascii_lowercase();
            out.replace_range(core_start..core_start + 1, lower.encode_utf8(&mut [0; 4]));
        }
    }
}

/// Rewrites Indonesian words the way they are typed on Twitter.
fn apply_slang(rng: &mut SmallRng, body: &str, out: &mut String) {
    for (i, word) in body.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core_end = word.trim_end_matches([',', '.', '!', '?']).len();
        let (core, tail) = word.split_at(core_end);
        let subs = slang(core);
        if !subs.is_empty() && rng.random_bool(0.7) {
            out.push_str(one(rng, subs));
        } else {
            out.push_str(core);
        }
        out.push_str(tail);
    }
}

// ---- Entities -------------------------------------------------------------

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds @mentions and #hashtags, with offsets in chars (as Twitter counts
/// them) and in bytes.
fn scan_entities(text: &str, out: &mut Vec<Ent>) {
    out.clear();
    let b = text.as_bytes();
    let mut chars = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if (c == b'@' || c == b'#') && (i == 0 || !is_word_byte(b[i - 1])) {
            let mut j = i + 1;
            while j < b.len() && is_word_byte(b[j]) {
                j += 1;
            }
            let len = j - i - 1;
            if len > 0 && (c == b'#' || len <= 15) {
                out.push(Ent {
                    mention: c == b'@',
                    start: chars,
                    end: chars + len + 1,
                    bstart: i,
                    bend: j,
                });
                chars += len + 1;
                i = j;
                continue;
            }
        }
        if c & 0xC0 != 0x80 {
            chars += 1;
        }
        i += 1;
    }
}

// ---- JSON writing ---------------------------------------------------------

fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_u64_str(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    push_u64(out, n);
    out.push(b'"');
}

fn push_2(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// `2022-11-02T03:15:42.000Z`: v2 always reports whole seconds.
fn push_v2_time(out: &mut Vec<u8>, ms: i64) {
    let secs = ms.div_euclid(SECOND_MS);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400) as u32;
    out.push(b'"');
    push_u64(out, y as u64);
    out.push(b'-');
    push_2(out, m);
    out.push(b'-');
    push_2(out, d);
    out.push(b'T');
    push_2(out, s / 3600);
    out.push(b':');
    push_2(out, s / 60 % 60);
    out.push(b':');
    push_2(out, s % 60);
    out.extend_from_slice(b".000Z\"");
}

fn format_v2_time(ms: i64) -> String {
    let mut v = Vec::with_capacity(26);
    push_v2_time(&mut v, ms);
    String::from_utf8(v[1..v.len() - 1].to_vec()).expect("ASCII")
}

/// `Wed Nov 02 03:20:05 +0000 2022`.
fn push_v1_time(out: &mut Vec<u8>, ms: i64) {
    const DOW: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(SECOND_MS);
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let s = secs.rem_euclid(86_400) as u32;
    out.push(b'"');
    out.extend_from_slice(DOW[days.rem_euclid(7) as usize].as_bytes());
    out.push(b' ');
    out.extend_from_slice(MON[m as usize - 1].as_bytes());
    out.push(b' ');
    push_2(out, d);
    out.push(b' ');
    push_2(out, s / 3600);
    out.push(b':');
    push_2(out, s / 60 % 60);
    out.push(b':');
    push_2(out, s % 60);
    out.extend_from_slice(b" +0000 ");
    push_u64(out, y as u64);
    out.push(b'"');
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Keeps at most `max` chars of a text for a truncated display, cutting at
/// a space; returns the byte length kept.
fn cut_at_chars(text: &str, max: usize) -> usize {
    let Some((end, _)) = text.char_indices().nth(max) else {
        return text.len();
    };
    match text[..end].rfind(' ') {
        Some(sp) if sp > end / 2 => sp,
        _ => end,
    }
}

impl Tables {
    fn mention_of<'a>(
        &'a self,
        name: &str,
        extra: Option<(&str, u64, &'a str)>,
    ) -> Option<(u64, &'a str)> {
        if let Some((u, id, n)) = extra {
            if u == name {
                return Some((id, n));
            }
        }
        self.handle_ids.get(name).map(|(id, n)| (*id, n.as_str()))
    }

    fn push_entities_v2(
        &self,
        out: &mut Vec<u8>,
        text: &str,
        ents: &[Ent],
        extra: Option<(&str, u64, &str)>,
    ) {
        out.extend_from_slice(b",\"entities\":{");
        let mut first_group = true;
        for mention in [true, false] {
            let mut any = false;
            for e in ents.iter().filter(|e| e.mention == mention) {
                if !any {
                    if !first_group {
                        out.push(b',');
                    }
                    out.extend_from_slice(if mention {
                        b"\"mentions\":["
                    } else {
                        b"\"hashtags\":["
                    });
                    any = true;
                    first_group = false;
                } else {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"start\":");
                push_u64(out, e.start as u64);
                out.extend_from_slice(b",\"end\":");
                push_u64(out, e.end as u64);
                let name = &text[e.bstart + 1..e.bend];
                if mention {
                    out.extend_from_slice(b",\"username\":");
                    push_json_str(out, name);
                    if let Some((id, _)) = self.mention_of(name, extra) {
                        out.extend_from_slice(b",\"id\":");
                        push_u64_str(out, id);
                    }
                } else {
                    out.extend_from_slice(b",\"tag\":");
                    push_json_str(out, name);
                }
                out.push(b'}');
            }
            if any {
                out.push(b']');
            }
        }
        out.push(b'}');
    }

    /// v1.1 `entities`, keeping those that end within `limit_chars`.
    fn push_entities_v1(
        &self,
        out: &mut Vec<u8>,
        text: &str,
        ents: &[Ent],
        extra: Option<(&str, u64, &str)>,
        limit_chars: usize,
        url: Option<(usize, usize, &str, u64)>,
    ) {
        out.extend_from_slice(b"{\"hashtags\":[");
        let mut first = true;
        for e in ents.iter().filter(|e| !e.mention && e.end <= limit_chars) {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"{\"text\":");
            push_json_str(out, &text[e.bstart + 1..e.bend]);
            out.extend_from_slice(b",\"indices\":[");
            push_u64(out, e.start as u64);
            out.push(b',');
            push_u64(out, e.end as u64);
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"],\"user_mentions\":[");
        first = true;
        for e in ents.iter().filter(|e| e.mention && e.end <= limit_chars) {
            if !first {
                out.push(b',');
            }
            first = false;
            let name = &text[e.bstart + 1..e.bend];
            out.extend_from_slice(b"{\"screen_name\":");
            push_json_str(out, name);
            if let Some((id, n)) = self.mention_of(name, extra) {
                out.extend_from_slice(b",\"name\":");
                push_json_str(out, n);
                out.extend_from_slice(b",\"id\":");
                push_u64(out, id);
                out.extend_from_slice(b",\"id_str\":");
                push_u64_str(out, id);
            }
            out.extend_from_slice(b",\"indices\":[");
            push_u64(out, e.start as u64);
            out.push(b',');
            push_u64(out, e.end as u64);
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"],\"urls\":[");
        if let Some((s, e, tco, id)) = url {
            out.extend_from_slice(b"{\"url\":");
            push_json_str(out, tco);
            out.extend_from_slice(b",\"expanded_url\":\"https://twitter.com/i/web/status/");
            push_u64(out, id);
            out.extend_from_slice(
                b"\",\"display_url\":\"twitter.com/i/web/status/1\xe2\x80\xa6\",\"indices\":[",
            );
            push_u64(out, s as u64);
            out.push(b',');
            push_u64(out, e as u64);
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
    }

    fn push_user_v1(
        out: &mut Vec<u8>,
        id: u64,
        screen: &str,
        name: &str,
        location: &str,
        followers: u32,
        verified: bool,
    ) {
        out.extend_from_slice(b"{\"id\":");
        push_u64(out, id);
        out.extend_from_slice(b",\"id_str\":");
        push_u64_str(out, id);
        out.extend_from_slice(b",\"name\":");
        push_json_str(out, name);
        out.extend_from_slice(b",\"screen_name\":");
        push_json_str(out, screen);
        out.extend_from_slice(b",\"location\":");
        if location.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            push_json_str(out, location);
        }
        out.extend_from_slice(b",\"verified\":");
        out.extend_from_slice(if verified { b"true" } else { b"false" });
        out.extend_from_slice(b",\"followers_count\":");
        push_u64(out, u64::from(followers));
        out.push(b'}');
    }

    fn push_user_v2(
        out: &mut Vec<u8>,
        id: u64,
        username: &str,
        name: &str,
        location: &str,
        verified: bool,
    ) {
        out.extend_from_slice(b"{\"id\":");
        push_u64_str(out, id);
        out.extend_from_slice(b",\"name\":");
        push_json_str(out, name);
        out.extend_from_slice(b",\"username\":");
        push_json_str(out, username);
        if !location.is_empty() {
            out.extend_from_slice(b",\"location\":");
            push_json_str(out, location);
        }
        if verified {
            out.extend_from_slice(b",\"verified\":true");
        }
        out.push(b'}');
    }

    /// A citizen's tweet or retweet in either format.
    fn write(&self, o: &Out<'_>, ents: &[Ent], v1: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(if v1 { 1400 } else { 900 } + o.text.len() * 2);
        if v1 {
            self.write_v1(&mut out, o, ents);
        } else {
            self.write_v2(&mut out, o, ents);
        }
        out
    }

    fn write_v2(&self, out: &mut Vec<u8>, o: &Out<'_>, ents: &[Ent]) {
        let a = o.author;
        // Retweets shorten the "RT @user: ..." text as Twitter does.
        let (text, ents_cut) = match o.retweet {
            Some(_) if o.text.chars().count() > 140 => {
                let cut = cut_at_chars(o.text, 139);
                (format!("{}…", &o.text[..cut]), Some(cut))
            }
            _ => (String::new(), None),
        };
        let shown: &str = if ents_cut.is_some() { &text } else { o.text };
        out.extend_from_slice(b"{\"data\":{\"id\":");
        push_u64_str(out, o.id);
        out.extend_from_slice(b",\"text\":");
        push_json_str(out, shown);
        out.extend_from_slice(b",\"author_id\":");
        push_u64_str(out, a.id);
        out.extend_from_slice(b",\"created_at\":");
        push_v2_time(out, o.at_ms);
        out.extend_from_slice(b",\"conversation_id\":");
        push_u64_str(out, o.conversation_id);
        out.extend_from_slice(b",\"lang\":");
        push_json_str(out, o.lang_hint);
        if let Some((orig, _)) = o.retweet {
            out.extend_from_slice(b",\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":");
            push_u64_str(out, orig.id);
            out.extend_from_slice(b"}]");
        }
        out.extend_from_slice(b",\"edit_history_tweet_ids\":[");
        push_u64_str(out, o.id);
        out.push(b']');
        let extra = o
            .retweet
            .map(|(_, oa)| (oa.username.as_str(), oa.id, oa.name.as_str()));
        let kept: Vec<Ent>;
        let ents: &[Ent] = match ents_cut {
            Some(cut) => {
                kept = ents.iter().copied().filter(|e| e.bend <= cut).collect();
                &kept
            }
            None => ents,
        };
        if !ents.is_empty() {
            self.push_entities_v2(out, shown, ents, extra);
        }
        match o.geo {
            Geo::None => {}
            Geo::Point(lon, lat) => {
                let _ = write!(out, ",\"geo\":{{\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}");
            }
            Geo::Place(r) => {
                out.extend_from_slice(b",\"geo\":{\"place_id\":");
                push_json_str(out, &self.regions[r as usize].place_id);
                out.push(b'}');
            }
            Geo::PointAndPlace(lon, lat, r) => {
                out.extend_from_slice(b",\"geo\":{\"place_id\":");
                push_json_str(out, &self.regions[r as usize].place_id);
                let _ = write!(
                    out,
                    ",\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}"
                );
            }
        }
        out.extend_from_slice(b"},\"includes\":{\"users\":[");
        Self::push_user_v2(out, a.id, &a.username, &a.name, &a.location, a.verified);
        if let Some((_, oa)) = o.retweet {
            out.push(b',');
            Self::push_user_v2(
                out,
                oa.id,
                &oa.username,
                &oa.name,
                &oa.location,
                oa.verified,
            );
        }
        out.push(b']');
        if let Geo::Place(r) | Geo::PointAndPlace(_, _, r) = o.geo {
            out.extend_from_slice(b",\"places\":[");
            out.extend_from_slice(self.regions[r as usize].v2_place.as_bytes());
            out.push(b']');
        }
        if let Some((orig, oa)) = o.retweet {
            out.extend_from_slice(b",\"tweets\":[{\"id\":");
            push_u64_str(out, orig.id);
            out.extend_from_slice(b",\"text\":");
            push_json_str(out, &orig.text);
            out.extend_from_slice(b",\"author_id\":");
            push_u64_str(out, oa.id);
            out.extend_from_slice(b",\"created_at\":");
            push_v2_time(out, orig.at_ms);
            out.extend_from_slice(b",\"lang\":");
            push_json_str(out, orig.lang_hint);
            out.extend_from_slice(b"}]");
        }
        out.extend_from_slice(b"},\"matching_rules\":[{\"id\":\"");
        out.extend_from_slice(RULE_ID.as_bytes());
        out.extend_from_slice(b"\",\"tag\":\"kemala\"}]}");
    }

    fn write_v1(&self, out: &mut Vec<u8>, o: &Out<'_>, ents: &[Ent]) {
        let a = o.author;
        let extra = o
            .retweet
            .map(|(_, oa)| (oa.username.as_str(), oa.id, oa.name.as_str()));
        let n_chars = o.text.chars().count();
        out.extend_from_slice(b"{\"created_at\":");
        push_v1_time(out, o.at_ms);
        out.extend_from_slice(b",\"id\":");
        push_u64(out, o.id);
        out.extend_from_slice(b",\"id_str\":");
        push_u64_str(out, o.id);
        if let Some((orig, oa)) = o.retweet {
            // Classic retweets: the outer text is cut to 140 chars, the
            // whole original rides in `retweeted_status`.
            let (shown, limit) = if n_chars > 140 {
                let cut = cut_at_chars(o.text, 139);
                (
                    format!("{}…", &o.text[..cut]),
                    o.text[..cut].chars().count(),
                )
            } else {
                (o.text.to_string(), n_chars)
            };
            out.extend_from_slice(b",\"text\":");
            push_json_str(out, &shown);
            out.extend_from_slice(b",\"source\":\"<a href=\\\"http://twitter.com/download/android\\\" rel=\\\"nofollow\\\">Twitter for Android</a>\",\"truncated\":false,\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,\"in_reply_to_screen_name\":null,\"user\":");
            Self::push_user_v1(
                out,
                a.id,
                &a.username,
                &a.name,
                &a.location,
                a.followers,
                a.verified,
            );
            out.extend_from_slice(
                b",\"geo\":null,\"coordinates\":null,\"place\":null,\"retweeted_status\":",
            );
            let mut inner_ents = Vec::new();
            scan_entities(&orig.text, &mut inner_ents);
            let inner = Out {
                id: orig.id,
                at_ms: orig.at_ms,
                text: &orig.text,
                author: oa,
                lang_hint: orig.lang_hint,
                conversation_id: orig.id,
                reply: None,
                geo: Geo::None,
                retweet: None,
            };
            self.write_v1(out, &inner, &inner_ents);
            out.extend_from_slice(b",\"is_quote_status\":false,\"retweet_count\":0,\"favorite_count\":0,\"entities\":");
            self.push_entities_v1(out, o.text, ents, extra, limit, None);
        } else {
            let truncated = n_chars > 140;
            if truncated {
                let cut = cut_at_chars(o.text, 113);
                let kept = o.text[..cut].chars().count();
                let tco = format!("https://t.co/{}", short_code(o.id));
                let shown = format!("{}… {}", &o.text[..cut], tco);
                let url_start = kept + 2;
                let url_end = url_start + tco.len();
                out.extend_from_slice(b",\"text\":");
                push_json_str(out, &shown);
                out.extend_from_slice(b",\"display_text_range\":[0,");
                push_u64(out, (kept + 1) as u64);
                out.push(b']');
                self.push_v1_middle(out, o, true);
                out.extend_from_slice(b",\"extended_tweet\":{\"full_text\":");
                push_json_str(out, o.text);
                out.extend_from_slice(b",\"display_text_range\":[0,");
                push_u64(out, n_chars as u64);
                out.extend_from_slice(b"],\"entities\":");
                self.push_entities_v1(out, o.text, ents, extra, usize::MAX, None);
                out.extend_from_slice(b"},\"is_quote_status\":false,\"entities\":");
                self.push_entities_v1(
                    out,
                    o.text,
                    ents,
                    extra,
                    kept,
                    Some((url_start, url_end, &tco, o.id)),
                );
            } else {
                out.extend_from_slice(b",\"text\":");
                push_json_str(out, o.text);
                self.push_v1_middle(out, o, false);
                out.extend_from_slice(b",\"is_quote_status\":false,\"entities\":");
                self.push_entities_v1(out, o.text, ents, extra, usize::MAX, None);
            }
        }
        out.extend_from_slice(
            b",\"favorited\":false,\"retweeted\":false,\"filter_level\":\"low\",\"lang\":",
        );
        push_json_str(out, o.lang_hint);
        out.extend_from_slice(b",\"timestamp_ms\":");
        out.push(b'"');
        push_u64(out, o.at_ms.max(0) as u64);
        out.extend_from_slice(b"\"}");
    }

    /// The v1.1 fields between `text` and `entities` of a non-retweet.
    fn push_v1_middle(&self, out: &mut Vec<u8>, o: &Out<'_>, truncated: bool) {
        let a = o.author;
        out.extend_from_slice(b",\"source\":\"<a href=\\\"http://twitter.com/download/android\\\" rel=\\\"nofollow\\\">Twitter for Android</a>\",\"truncated\":");
        out.extend_from_slice(if truncated { b"true" } else { b"false" });
        match o.reply {
            Some((tid, uid, screen)) => {
                out.extend_from_slice(b",\"in_reply_to_status_id\":");
                push_u64(out, tid);
                out.extend_from_slice(b",\"in_reply_to_status_id_str\":");
                push_u64_str(out, tid);
                out.extend_from_slice(b",\"in_reply_to_user_id\":");
                push_u64(out, uid);
                out.extend_from_slice(b",\"in_reply_to_user_id_str\":");
                push_u64_str(out, uid);
                out.extend_from_slice(b",\"in_reply_to_screen_name\":");
                push_json_str(out, screen);
            }
            None => out.extend_from_slice(b",\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,\"in_reply_to_screen_name\":null"),
        }
        out.extend_from_slice(b",\"user\":");
        Self::push_user_v1(
            out,
            a.id,
            &a.username,
            &a.name,
            &a.location,
            a.followers,
            a.verified,
        );
        match o.geo {
            Geo::Point(lon, lat) | Geo::PointAndPlace(lon, lat, _) => {
                let _ = write!(
                    out,
                    ",\"geo\":{{\"type\":\"Point\",\"coordinates\":[{lat},{lon}]}},\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}"
                );
            }
            _ => out.extend_from_slice(b",\"geo\":null,\"coordinates\":null"),
        }
        out.extend_from_slice(b",\"place\":");
        match o.geo {
            Geo::Place(r) | Geo::PointAndPlace(_, _, r) => {
                out.extend_from_slice(self.regions[r as usize].v1_place.as_bytes());
            }
            _ => out.extend_from_slice(b"null"),
        }
    }

    /// An official reply (agency or governor) to a citizen's tweet.
    #[allow(clippy::too_many_arguments)]
    fn write_reply(
        &self,
        ents: &mut Vec<Ent>,
        id: u64,
        at_ms: i64,
        text: &str,
        ag: &AgencyInfo,
        orig: &Original,
        oa: &Author,
        v1: bool,
    ) -> Vec<u8> {
        scan_entities(text, ents);
        let author = &ag.user;
        let o = Out {
            id,
            at_ms,
            text,
            author,
            lang_hint: "in",
            conversation_id: orig.id,
            reply: Some((orig.id, oa.id, &oa.username)),
            geo: Geo::None,
            retweet: None,
        };
        let extra = Some((oa.username.as_str(), oa.id, oa.name.as_str()));
        let mut out = Vec::with_capacity(1200);
        if v1 {
            out.extend_from_slice(b"{\"created_at\":");
            push_v1_time(&mut out, at_ms);
            out.extend_from_slice(b",\"id\":");
            push_u64(&mut out, id);
            out.extend_from_slice(b",\"id_str\":");
            push_u64_str(&mut out, id);
            out.extend_from_slice(b",\"text\":");
            push_json_str(&mut out, text);
            self.push_v1_middle(&mut out, &o, false);
            out.extend_from_slice(b",\"is_quote_status\":false,\"entities\":");
            self.push_entities_v1(&mut out, text, ents, extra, usize::MAX, None);
            out.extend_from_slice(b",\"favorited\":false,\"retweeted\":false,\"filter_level\":\"low\",\"lang\":\"in\",\"timestamp_ms\":\"");
            push_u64(&mut out, at_ms.max(0) as u64);
            out.extend_from_slice(b"\"}");
        } else {
            out.extend_from_slice(b"{\"data\":{\"id\":");
            push_u64_str(&mut out, id);
            out.extend_from_slice(b",\"text\":");
            push_json_str(&mut out, text);
            out.extend_from_slice(b",\"author_id\":");
            push_u64_str(&mut out, author.id);
            out.extend_from_slice(b",\"created_at\":");
            push_v2_time(&mut out, at_ms);
            out.extend_from_slice(b",\"conversation_id\":");
            push_u64_str(&mut out, orig.id);
            out.extend_from_slice(b",\"in_reply_to_user_id\":");
            push_u64_str(&mut out, oa.id);
            out.extend_from_slice(b",\"referenced_tweets\":[{\"type\":\"replied_to\",\"id\":");
            push_u64_str(&mut out, orig.id);
            out.extend_from_slice(b"}],\"lang\":\"in\",\"edit_history_tweet_ids\":[");
            push_u64_str(&mut out, id);
            out.push(b']');
            if !ents.is_empty() {
                self.push_entities_v2(&mut out, text, ents, extra);
            }
            out.extend_from_slice(b"},\"includes\":{\"users\":[");
            Self::push_user_v2(
                &mut out,
                author.id,
                &author.username,
                &author.name,
                &author.location,
                true,
            );
            out.extend_from_slice(b"]},\"matching_rules\":[{\"id\":\"");
            out.extend_from_slice(RULE_ID.as_bytes());
            out.extend_from_slice(b"\",\"tag\":\"kemala\"}]}");
        }
        out
    }
}

/// A t.co-like code derived from a tweet id.
fn short_code(id: u64) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = fnv1a(&id.to_le_bytes());
    (0..10)
        .map(|_| {
            let c = ALPHA[(h % 62) as usize] as char;
            h /= 62;
            c
        })
        .collect()
}

// ---- Text: hand-written templates, independent of topics.toml -------------
//
// Every core template holds `{loc}` exactly once: it becomes a place phrase
// with its preposition ("di Sayung", "nang Purwokerto", "in Kudus") or, when
// the tweet names no place in its text, a placeless one ("di kampung kami").

/// The hand-written text of one complaint topic.
struct TopicText {
    /// The canonical id, and other ids or English-name words a configuration
    /// might use for the same topic.
    key: &'static str,
    alt: &'static [&'static str],
    /// Relative share among complaints, before the season.
    weight: f64,
    /// Multiplier per month, January first.
    season: [f64; 12],
    id: &'static [&'static str],
    jv: &'static [&'static str],
    ngapak: &'static [&'static str],
    en: &'static [&'static str],
    /// Short Indonesian follow-up sentences.
    extra: &'static [&'static str],
    tags: &'static [&'static str],
    /// What the responsible agency answers, after "@user ".
    reply: &'static [&'static str],
    /// Hashtag prefix joined to the region's short name ("BanjirDemak").
    region_tag: Option<&'static str>,
}

const FLAT: [f64; 12] = [1.0; 12];
const RAINY: [f64; 12] = [2.0, 2.0, 1.5, 1.0, 0.6, 0.4, 0.3, 0.25, 0.3, 0.6, 1.3, 1.8];
const DRY: [f64; 12] = [0.15, 0.15, 0.2, 0.4, 0.8, 1.5, 2.5, 3.5, 3.5, 2.0, 0.6, 0.2];

static TOPIC_TEXTS: [TopicText; 17] = [
    TopicText {
        key: "flood",
        alt: &["banjir", "floods", "flooding", "tidal"],
        weight: 10.0,
        season: RAINY,
        id: &[
            "Banjir lagi {loc}, air sudah sedengkul dan masuk ke rumah warga.",
            "Rumah kami kebanjiran lagi {loc}, air masuk sampai ruang tamu.",
            "Permukiman {loc} tergenang parah sejak subuh, motor banyak yang mogok.",
            "Air sungai meluap {loc}, warga mulai mengungsi ke masjid.",
            "Rob makin tinggi {loc}, sudah tiga hari air tidak surut.",
            "Tanggul jebol {loc}, air masuk ke permukiman warga.",
            "Got mampet jadi tiap hujan sebentar langsung banjir {loc}.",
            "Genangan air setinggi pinggang {loc}, warga tidak bisa keluar rumah.",
            "Pompa air mati, banjir {loc} tidak surut-surut dari semalam.",
            "Banjir bandang {loc}, beberapa rumah hanyut, mohon bantuan evakuasi.",
        ],
        jv: &[
            "Banjir maneh {loc}, banyune wis sak dengkul mlebu omah.",
            "Banyu munggah {loc}, omahku kebanjiran kabeh.",
            "Nyuwun sewu, griya kula {loc} kebanjiran, toyanipun sampun dugi dengkul.",
            "Kali ne luber {loc}, wis ping telu minggu iki banjir.",
            "Rob meneh {loc}, pekarangan karo omah kelem kabeh.",
        ],
        ngapak: &[
            "Banjir maning {loc}, banyune wis sedengkul, kepriwe kiye.",
            "Inyong kebanjiran maning {loc}, ora ana sing ngurusi.",
        ],
        en: &[
            "Flooding again {loc}, the water is knee-deep and getting into houses.",
            "The river overflowed {loc} and families are being evacuated.",
            "Houses {loc} are still flooded since this morning, the pumps are not working.",
        ],
        extra: &[
            "Sudah dua hari air belum surut.",
            "Banyak warga yang mengungsi.",
            "Tiap hujan pasti begini.",
            "Barang-barang warga rusak semua.",
        ],
        tags: &["Banjir", "InfoBanjir", "BanjirJateng"],
        reply: &[
            "Tim reaksi cepat sudah kami terjunkan ke lokasi untuk assessment dan evakuasi warga.",
            "Laporan diterima, perahu karet dan logistik sedang dikirim ke lokasi.",
            "Petugas sedang menyalakan pompa tambahan, mohon warga tetap waspada.",
        ],
        region_tag: Some("Banjir"),
    },
    TopicText {
        key: "landslide",
        alt: &["longsor", "landslides"],
        weight: 2.0,
        season: [1.8, 1.8, 1.5, 1.0, 0.6, 0.4, 0.3, 0.3, 0.4, 0.7, 1.3, 1.7],
        id: &[
            "Tebing longsor {loc}, jalan desa tertutup material tanah.",
            "Tanah longsor {loc} semalam, dua rumah tertimbun, mohon bantuan segera.",
            "Tanah bergerak {loc}, dinding rumah warga retak-retak, warga takut.",
            "Badan jalan amblas {loc} akibat longsor, kendaraan tidak bisa lewat.",
            "Longsor lagi {loc}, akses ke dusun terputus total.",
            "Ada retakan tanah memanjang {loc}, khawatir longsor kalau hujan deras.",
        ],
        jv: &[
            "Tebing jugrug {loc}, dalan ketutup lemah, ora iso diliwati.",
            "Nyuwun pirsa, wonten longsor {loc}, griya warga kaurug siti.",
            "Lemahe ambrol {loc}, omah sing cedhak tebing wis retak kabeh.",
        ],
        ngapak: &["Longsor maning {loc}, dalane ketutup lemah, inyong ora bisa mangkat."],
        en: &[
            "Landslide {loc} last night, two houses buried, please send help.",
            "The hillside collapsed {loc} and the village road is cut off.",
        ],
        extra: &[
            "Warga sekitar masih waspada.",
            "Hujan masih turun terus.",
            "Butuh alat berat segera.",
        ],
        tags: &["Longsor", "InfoLongsor"],
        reply: &[
            "Tim dan relawan sudah menuju lokasi longsor, alat berat sedang kami koordinasikan.",
            "Mohon warga menjauhi area rawan, petugas sedang melakukan assessment di lokasi.",
        ],
        region_tag: Some("Longsor"),
    },
    TopicText {
        key: "illegal_fees",
        alt: &["pungli", "illegal_levies", "illegal", "bribery", "extortion", "levies"],
        weight: 4.0,
        season: FLAT,
        id: &[
            "Ngurus STNK {loc} dimintai uang pelicin 200rb, katanya biar cepat.",
            "Ada pungli di Samsat {loc}, cek fisik dimintai bayaran tanpa kuitansi.",
            "Kena tilang damai {loc}, petugas minta uang damai 100rb.",
            "Pungutan liar di pasar {loc}, pedagang ditarik iuran tanpa kuitansi.",
            "Calo merajalela di kantor pajak kendaraan {loc}, yang lewat calo didahulukan.",
            "Mau ngurus BPKB {loc} malah disuruh bayar lebih, ini pungli bukan?",
            "Oknum perangkat desa {loc} minta jatah buat tanda tangan surat.",
        ],
        jv: &[
            "Ngurus STNK {loc} dijaluki duit pelicin, wani piro jare.",
            "Nyuwun sewu pak, wonten pungli {loc}, kedah mbayar tanpa kuitansi.",
            "Nek ora ngamplop ora dilayani, kui kedadean {loc}.",
        ],
        ngapak: &["Inyong dijaluki duit pas ngurus pajak motor {loc}, jerene ben cepet, kepriben kiye."],
        en: &[
            "Officers {loc} asked me for a bribe to process my vehicle registration.",
            "Illegal fees at the vehicle tax office {loc}, no receipt given.",
        ],
        extra: &["Tolong diusut tuntas.", "Sudah jadi rahasia umum.", "Saya punya buktinya."],
        tags: &["SaberPungli", "StopPungli"],
        reply: &[
            "Terima kasih laporannya, mohon kirimkan bukti dan waktu kejadian via DM untuk kami tindak lanjuti bersama Inspektorat.",
            "Laporan sudah kami teruskan ke unit terkait, petugas yang terbukti akan diberi sanksi.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "social_welfare",
        alt: &["elderly_neglect", "welfare", "social", "elderly", "neglected_elderly", "social_aid", "poverty"],
        weight: 5.0,
        season: FLAT,
        id: &[
            "Ada lansia terlantar {loc}, hidup sebatang kara di rumah reyot, mohon dibantu.",
            "Tetangga saya {loc} tidak mampu tapi tidak pernah dapat bansos, malah yang mampu dapat.",
            "Bansos PKH {loc} tidak tepat sasaran, mohon didata ulang.",
            "Ada ODGJ berkeliaran {loc}, meresahkan warga, tolong Dinsos.",
            "Ada mbah {loc} tinggal sendirian, rumahnya hampir roboh, tolong dibantu program RTLH.",
            "BLT belum cair {loc} padahal sudah terdaftar di DTKS.",
            "Banyak pengemis dan gelandangan {loc}, mohon ditertibkan dan dibina.",
        ],
        jv: &[
            "Simbah {loc} urip dhewe, omahe reyot, mesakke banget.",
            "Nyuwun tulung, wonten simbah sepuh {loc} gesang piyambak, griyanipun badhe ambruk.",
            "Bansos {loc} ora tepat sasaran, sing mlarat ora oleh.",
        ],
        ngapak: &["Ana simbah urip dhewekan {loc}, omahe reyot, mesakaken."],
        en: &[
            "An elderly woman {loc} lives alone in a collapsing house and needs help.",
            "Social aid {loc} is not reaching the poor families who need it.",
        ],
        extra: &[
            "Mohon Dinsos turun tangan.",
            "Kasihan sekali kondisinya.",
            "Sudah lapor ke kelurahan tapi belum ada tindakan.",
        ],
        tags: &["PeduliLansia", "Bansos"],
        reply: &[
            "Terima kasih atas kepeduliannya, petugas dan pendamping sosial akan segera melakukan kunjungan ke lokasi.",
            "Mohon informasikan alamat lengkap dan nama yang bersangkutan melalui DM agar dapat kami verifikasi.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "road_damage",
        alt: &["roads", "road", "damaged_roads", "road_damage", "infrastructure", "jalan_rusak"],
        weight: 14.0,
        season: [1.3, 1.3, 1.2, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8, 0.9, 1.1, 1.3],
        id: &[
            "Jalan {loc} rusak parah, banyak lubang besar, sudah makan korban.",
            "Jalan berlubang {loc} bikin motor jatuh tiap malam, mohon segera diperbaiki.",
            "Aspal {loc} mengelupas dan bergelombang, bahaya buat pengendara.",
            "Jembatan {loc} rusak, papannya sudah bolong-bolong.",
            "Jalan {loc} sudah kayak kolam ikan, lubangnya dalam-dalam.",
            "Kondisi jalan {loc} seperti offroad, sudah bertahun-tahun tidak diaspal.",
            "Lubang di jalan {loc} makin lebar, kemarin ada pengendara jatuh.",
        ],
        jv: &[
            "Dalan {loc} rusak parah, akeh jeglongan, wis suwe ora didandani.",
            "Nyuwun sewu pak, margi {loc} risak sanget, kathah jeglongan.",
            "Dalane bolong-bolong {loc}, bengi-bengi mbebayani.",
        ],
        ngapak: &["Dalan {loc} rusak banget, jeglongan gede-gede, kepriwe kiye pak."],
        en: &[
            "The road {loc} is full of potholes, someone already crashed there.",
            "Badly damaged road {loc}, it has not been repaired for years.",
        ],
        extra: &[
            "Sudah bertahun-tahun tidak diperbaiki.",
            "Tiap hari ada yang jatuh.",
            "Kalau malam tidak kelihatan lubangnya.",
        ],
        tags: &["JalanRusak", "InfrastrukturJateng"],
        reply: &[
            "Terima kasih informasinya, lokasi sudah masuk jadwal penambalan oleh tim UPT minggu ini.",
            "Tim kami akan segera melakukan pengecekan dan perbaikan darurat di lokasi.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "garbage",
        alt: &["waste", "trash", "sampah", "rubbish", "pollution"],
        weight: 9.0,
        season: FLAT,
        id: &[
            "Sampah menumpuk {loc} sudah seminggu tidak diangkut, baunya menyengat.",
            "TPS {loc} penuh, sampah meluber sampai ke trotoar.",
            "Banyak warga buang sampah sembarangan {loc}, tolong ditertibkan.",
            "Ada yang bakar sampah tiap sore {loc}, asapnya bikin sesak.",
            "Limbah pabrik dibuang ke sungai {loc}, airnya hitam dan bau.",
            "Truk sampah tidak datang lagi {loc}, sampah rumah tangga sudah numpuk.",
        ],
        jv: &[
            "Uwuh numpuk {loc}, mambu bacin, ora diangkut-angkut.",
            "Nyuwun sewu, sampah {loc} sampun seminggu boten dipundhut.",
            "Kaline reged kebak uwuh {loc}, mambune ra nguati.",
        ],
        ngapak: &["Uwuh {loc} numpuk, mambu banget, kepriben kiye."],
        en: &[
            "Garbage has piled up {loc} for a week and nobody collects it.",
            "Someone keeps dumping waste in the river {loc}, it smells awful.",
        ],
        extra: &[
            "Baunya sampai ke rumah warga.",
            "Banyak lalat dan tikus.",
            "Warga sudah tidak tahan.",
        ],
        tags: &["Sampah", "JatengBersih"],
        reply: &[
            "Terima kasih laporannya, armada pengangkut sampah akan kami kerahkan ke lokasi hari ini.",
            "Laporan sudah kami teruskan untuk penjadwalan pengangkutan dan penertiban.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "water",
        alt: &["water_supply", "clean_water", "pdam", "tap_water", "water_service"],
        weight: 8.0,
        season: [0.9, 0.9, 0.9, 1.0, 1.0, 1.1, 1.2, 1.3, 1.3, 1.1, 1.0, 0.9],
        id: &[
            "Air PDAM {loc} mati sudah tiga hari, warga susah mandi dan masak.",
            "Air PDAM {loc} keruh dan bau, tidak layak dipakai.",
            "Air tidak mengalir {loc} dari kemarin, tapi tagihan tetap naik.",
            "Pipa PDAM bocor {loc}, air terbuang percuma sejak pagi.",
            "Tekanan air kecil sekali {loc}, cuma menetes dari kran.",
            "Sudah bayar tagihan tapi air PDAM {loc} sering mati.",
        ],
        jv: &[
            "Banyu PDAM {loc} mati telung dina, ora mili blas.",
            "Toya PDAM {loc} buthek, boten saged dipun agem.",
            "Banyune ora mili {loc}, tagihane malah mundhak.",
        ],
        ngapak: &["Banyu PDAM {loc} mati maning, inyong ora bisa adus."],
        en: &[
            "No running water {loc} for three days, the PDAM does not answer.",
            "Tap water {loc} is brown and smells bad.",
        ],
        extra: &[
            "Tolong info kapan normal.",
            "Tagihannya tetap jalan.",
            "Kami harus beli air galon.",
        ],
        tags: &["PDAM", "AirMati"],
        reply: &[
            "Mohon maaf atas ketidaknyamanannya, sedang ada perbaikan pipa transmisi, aliran diperkirakan normal kembali malam ini.",
            "Mohon info nomor sambungan pelanggan via DM agar petugas kami dapat segera melakukan pengecekan.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "electricity",
        alt: &["power", "power_outage", "electric", "listrik", "pln"],
        weight: 9.0,
        season: [1.2, 1.2, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.2],
        id: &[
            "Mati lampu lagi {loc}, sudah lima jam belum nyala.",
            "Listrik padam {loc} tanpa pemberitahuan, kulkas dan pompa mati semua.",
            "Pemadaman bergilir {loc} hampir tiap hari, usaha kami rugi.",
            "Listrik byarpet terus {loc}, alat elektronik banyak yang rusak.",
            "Trafo meledak {loc}, sejak itu listrik belum menyala.",
            "Kabel listrik menjuntai rendah {loc}, bahaya buat anak-anak.",
            "Token listrik sudah diisi tapi listrik rumah {loc} tetap padam.",
        ],
        jv: &[
            "Mati lampu maneh {loc}, peteng kabeh wis rong jam.",
            "Listrike mati urip terus {loc}, piye iki PLN.",
            "Nyuwun sewu, listrik {loc} pejah wiwit enjing dereng murup.",
        ],
        ngapak: &["Listrike mati maning {loc}, peteng kabeh, kepriwe kiye."],
        en: &[
            "Power outage {loc} for five hours now, no information from PLN.",
            "The electricity keeps cutting out {loc}, our appliances got damaged.",
        ],
        extra: &[
            "Tidak ada pemberitahuan sebelumnya.",
            "Pekerjaan jadi terganggu.",
            "Sudah telepon 123 tapi belum ada petugas.",
        ],
        tags: &["PLN", "MatiLampu"],
        reply: &[
            "Mohon maaf atas ketidaknyamanannya kak, mohon info ID pelanggan atau nomor meter via DM agar dapat kami bantu cek.",
            "Gangguan sedang ditangani petugas kami di lapangan, mohon ditunggu.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "health",
        alt: &["health_services", "healthcare", "health_service", "kesehatan", "hospital"],
        weight: 6.0,
        season: [1.2, 1.2, 1.1, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.1],
        id: &[
            "Pasien BPJS ditolak RSUD {loc} dengan alasan kamar penuh.",
            "Antre di puskesmas {loc} dari subuh, dokternya baru datang jam 10.",
            "Obat di puskesmas {loc} kosong terus, pasien disuruh beli sendiri.",
            "Kartu BPJS saya nonaktif tiba-tiba, ditolak berobat di RS {loc}.",
            "Kasus DBD {loc} meningkat, mohon fogging segera.",
            "Rujukan BPJS dipersulit di puskesmas {loc}, harus bolak-balik.",
        ],
        jv: &[
            "Kula dipun tolak RSUD {loc}, jarene kamare kebak.",
            "Antre puskesmas {loc} suwe banget, dokter durung teka.",
            "Wong lara ditolak rumah sakit {loc}, mesakke.",
        ],
        ngapak: &["Inyong lara, puskesmas {loc} antrene suwe banget."],
        en: &[
            "My mother was refused treatment at the hospital {loc} even with BPJS.",
            "The clinic {loc} has run out of medicine again.",
        ],
        extra: &[
            "Pelayanannya sangat mengecewakan.",
            "Pasien sampai menunggu berjam-jam.",
            "Kasihan warga kecil.",
        ],
        tags: &["BPJS", "PelayananKesehatan"],
        reply: &[
            "Mohon maaf atas pelayanan yang kurang berkenan, mohon info nama pasien dan waktu kejadian via DM untuk kami tindak lanjuti dengan pihak RS.",
            "Laporan sudah kami teruskan ke Dinas Kesehatan untuk dilakukan evaluasi.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "education",
        alt: &["school", "schools", "pendidikan", "ppdb"],
        weight: 5.0,
        season: [0.8, 0.8, 0.9, 1.0, 1.5, 2.6, 2.2, 1.0, 0.9, 0.8, 0.8, 0.8],
        id: &[
            "PPDB zonasi {loc} tidak adil, rumah dekat sekolah malah tidak diterima.",
            "Server PPDB error terus, pendaftar {loc} tidak bisa daftar.",
            "Ijazah anak saya ditahan sekolah {loc} karena belum lunas SPP.",
            "Ada pungutan seragam dan buku di SMP negeri {loc}, katanya wajib.",
            "Dana KIP anak saya {loc} tidak cair-cair.",
            "Gedung sekolah {loc} atapnya bocor, murid belajar di teras.",
        ],
        jv: &[
            "PPDB zonasi {loc} ora adil, omah cedhak sekolah malah ora ketampa.",
            "Ijazah anakku ditahan sekolah {loc} merga durung lunas.",
            "Nyuwun pirsa, server PPDB {loc} eror terus.",
        ],
        ngapak: &["Anake inyong ora ketampa sekolah {loc}, jerene zonasi."],
        en: &[
            "The school zoning system {loc} is unfair, my child was rejected.",
            "A school {loc} is holding my son's diploma over unpaid fees.",
        ],
        extra: &["Kasihan anak-anak.", "Mohon Disdik turun tangan.", "Orang tua murid resah."],
        tags: &["PPDBJateng", "Pendidikan"],
        reply: &[
            "Terima kasih laporannya, mohon kirimkan nama sekolah dan data siswa via DM untuk kami koordinasikan dengan Dinas Pendidikan.",
            "Sekolah tidak diperkenankan menahan ijazah, laporan sudah kami teruskan untuk ditindaklanjuti.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "public_transport",
        alt: &["transport", "transit", "bus", "public_transit", "transportation"],
        weight: 4.0,
        season: FLAT,
        id: &[
            "Bus Trans Jateng {loc} telat terus, nunggu di halte bisa satu jam.",
            "Sopir BRT {loc} ugal-ugalan, penumpang sampai jatuh.",
            "Angkot {loc} ngetem lama banget, jadwal tidak jelas.",
            "Halte {loc} rusak dan tidak ada atapnya, penumpang kehujanan.",
            "Armada bus {loc} kurang, penumpang berdesakan tiap pagi.",
            "Terminal {loc} kumuh dan tidak terawat, tolong dibenahi.",
        ],
        jv: &[
            "Ngenteni bis {loc} suwe banget, wis sejam neng halte.",
            "Sopir bus {loc} ugal-ugalan, penumpange wedi.",
            "Nyuwun sewu, jadwal Trans Jateng {loc} boten jelas.",
        ],
        ngapak: &["Bis {loc} suwe temen, inyong telat mangkat kerja."],
        en: &[
            "The Trans Jateng bus {loc} is always late, I waited an hour at the stop.",
            "The bus driver {loc} was driving recklessly with passengers on board.",
        ],
        extra: &[
            "Penumpang jadi telat kerja.",
            "Mohon dievaluasi operatornya.",
            "Tiap hari seperti ini.",
        ],
        tags: &["TransJateng", "TransportasiUmum"],
        reply: &[
            "Terima kasih masukannya, mohon info nomor armada dan waktu kejadian agar dapat kami evaluasi dengan operator.",
            "Laporan sudah diteruskan ke Dishub untuk evaluasi jadwal dan pengemudi.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "traffic",
        alt: &["congestion", "traffic_jam", "macet", "lalu_lintas"],
        weight: 6.0,
        season: FLAT,
        id: &[
            "Macet total {loc}, sudah satu jam tidak bergerak.",
            "Lampu merah {loc} mati, lalu lintas semrawut.",
            "Parkir liar {loc} bikin jalan menyempit dan macet tiap sore.",
            "Pasar tumpah {loc} bikin macet parah tiap pagi.",
            "Padat merayap {loc}, tidak ada petugas yang mengatur.",
            "Antrean kendaraan mengular {loc} gara-gara putaran balik ditutup.",
        ],
        jv: &[
            "Macet banget {loc}, ora obah blas wis sejam.",
            "Nyuwun sewu, lalu lintas {loc} macet total, boten wonten petugas.",
            "Parkir sembarangan {loc} marai dalane ciut lan macet.",
        ],
        ngapak: &["Macet temen {loc}, ora obah-obah, kepriwe kiye."],
        en: &[
            "Total gridlock {loc}, we have not moved for an hour.",
            "The traffic light {loc} is broken and traffic is chaotic.",
        ],
        extra: &[
            "Mohon petugas diterjunkan.",
            "Tiap jam pulang kerja selalu begini.",
            "Banyak yang melawan arus.",
        ],
        tags: &["InfoLalin", "Macet"],
        reply: &[
            "Terima kasih infonya, petugas segera kami arahkan ke lokasi untuk pengaturan lalu lintas.",
            "Laporan diterima, lampu lalu lintas akan segera diperbaiki oleh tim teknis.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "crime",
        alt: &["security", "public_order", "theft", "kriminal"],
        weight: 4.0,
        season: FLAT,
        id: &[
            "Ada begal {loc} tadi malam, korban luka dan motornya dibawa kabur.",
            "Maling motor beraksi lagi {loc}, sudah tiga kali bulan ini.",
            "Jambret {loc} makin sering, mohon patroli ditingkatkan.",
            "Tawuran remaja {loc} tiap malam minggu, warga resah.",
            "Geng motor bawa sajam berkeliaran {loc}, warga takut keluar malam.",
            "Rumah tetangga {loc} dibobol maling saat ditinggal mudik.",
        ],
        jv: &[
            "Ana maling motor maneh {loc}, warga wis resah.",
            "Nyuwun sewu pak polisi, wonten begal {loc} dalu wau.",
            "Klitih meneh {loc}, bocah-bocah nggawa gaman.",
        ],
        ngapak: &["Ana maling maning {loc}, inyong wedi metu bengi."],
        en: &[
            "A motorbike was stolen {loc} again last night.",
            "Gang members with knives are roaming {loc} at night.",
        ],
        extra: &[
            "Mohon patroli ditingkatkan.",
            "Warga jadi takut keluar malam.",
            "Pelakunya belum tertangkap.",
        ],
        tags: &["Begal", "JatengAman"],
        reply: &[
            "Terima kasih informasinya, laporan sudah kami teruskan ke Polres setempat untuk peningkatan patroli.",
            "Mohon segera membuat laporan resmi ke Polsek terdekat agar dapat ditindaklanjuti.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "fire",
        alt: &["fires", "kebakaran", "wildfire"],
        weight: 2.0,
        season: [0.6, 0.6, 0.7, 0.9, 1.1, 1.3, 1.6, 1.8, 1.8, 1.4, 0.9, 0.6],
        id: &[
            "Kebakaran {loc}, api sudah membesar, mohon damkar segera datang!",
            "Rumah warga terbakar {loc} diduga karena korsleting.",
            "Tabung gas meledak {loc}, dapur rumah warga terbakar.",
            "Ada kebakaran lahan {loc}, asap tebal sampai ke permukiman.",
            "Gudang terbakar {loc}, damkar belum datang sudah setengah jam.",
        ],
        jv: &[
            "Ana kobongan {loc}, genine gedhe banget, tulung damkar!",
            "Omah tanggaku kobong {loc}, geni durung mati.",
        ],
        ngapak: &["Ana kobongan {loc}, genine gede temen!"],
        en: &[
            "Fire {loc}, the flames are spreading, please send the fire brigade!",
            "A house caught fire {loc}, probably a short circuit.",
        ],
        extra: &[
            "Warga berusaha memadamkan dengan ember.",
            "Asapnya tebal sekali.",
            "Semoga tidak ada korban.",
        ],
        tags: &["Kebakaran", "Damkar"],
        reply: &[
            "Unit pemadam kebakaran sudah kami berangkatkan ke lokasi, mohon warga menjauh dari titik api.",
            "Terima kasih laporannya, petugas damkar sedang dalam perjalanan.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "drought",
        alt: &["kekeringan", "dry_season", "water_shortage"],
        weight: 1.0,
        season: DRY,
        id: &[
            "Kekeringan {loc}, sumur warga sudah kering semua.",
            "Krisis air bersih {loc}, warga harus beli air jeriken mahal.",
            "Musim kemarau panjang {loc}, sawah gagal panen.",
            "Mohon dropping air bersih {loc}, sudah sebulan tidak hujan.",
            "Sumur kering {loc}, warga antre ambil air di mata air yang jauh.",
        ],
        jv: &[
            "Sumure asat kabeh {loc}, ora ana banyu.",
            "Ketiga dawa {loc}, sawahe garing, gagal panen.",
            "Nyuwun dropping toya {loc}, sumuripun sampun asat.",
        ],
        ngapak: &["Sumure inyong asat {loc}, banyu angel temen."],
        en: &[
            "Drought {loc}, all the village wells have dried up.",
            "We need clean water deliveries {loc}, the crops have failed.",
        ],
        extra: &[
            "Warga sangat membutuhkan bantuan.",
            "Ternak juga kehausan.",
            "Sudah berminggu-minggu begini.",
        ],
        tags: &["Kekeringan", "DroppingAir"],
        reply: &[
            "Terima kasih informasinya, dropping air bersih ke lokasi sudah kami jadwalkan besok pagi.",
            "Laporan sudah kami teruskan untuk distribusi air bersih ke lokasi.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "street_lighting",
        alt: &["street_lights", "streetlights", "street_light", "pju", "lighting"],
        weight: 4.0,
        season: FLAT,
        id: &[
            "Lampu jalan {loc} mati semua, gelap gulita dan rawan kecelakaan.",
            "PJU {loc} sudah sebulan padam, mohon diperbaiki.",
            "Penerangan jalan {loc} tidak ada, malam hari sangat gelap.",
            "Lampu PJU {loc} nyala siang hari tapi mati kalau malam.",
            "Tiang lampu jalan {loc} miring hampir roboh.",
        ],
        jv: &[
            "Lampu dalan {loc} mati kabeh, peteng ndhedhet.",
            "Nyuwun sewu, lampu PJU {loc} sampun sewulan pejah.",
        ],
        ngapak: &["Lampu dalan {loc} mati, peteng temen nek bengi."],
        en: &[
            "The street lights {loc} have been off for a month, it is pitch dark.",
            "No street lighting {loc}, it is dangerous at night.",
        ],
        extra: &[
            "Warga takut lewat malam hari.",
            "Sudah lapor ke kelurahan.",
            "Rawan kecelakaan.",
        ],
        tags: &["PJU", "LampuJalan"],
        reply: &[
            "Terima kasih laporannya, tim pemeliharaan PJU akan melakukan perbaikan di lokasi.",
            "Laporan sudah kami teruskan ke bidang PJU untuk segera ditangani.",
        ],
        region_tag: None,
    },
    TopicText {
        key: "civil_registration",
        alt: &["civil_registry", "population_admin", "id_card", "dukcapil", "adminduk", "population"],
        weight: 8.0,
        season: FLAT,
        id: &[
            "Blangko e-KTP {loc} habis terus, sudah tiga bulan belum jadi.",
            "Ngurus KK {loc} dipersulit, harus bolak-balik ke Disdukcapil.",
            "Akta kelahiran anak saya {loc} belum jadi padahal sudah dua bulan.",
            "Mau cetak ulang KTP {loc} antreannya panjang sekali, nomor habis jam 8.",
            "Pindah domisili {loc} prosesnya lama, NIK belum juga aktif.",
            "Server Dukcapil {loc} down terus, KTP tidak bisa dicetak.",
        ],
        jv: &[
            "Ngurus KTP {loc} suwe banget, blangkone entek terus.",
            "Nyuwun pirsa, akta lair anak kula {loc} dereng dados.",
            "KK-ku {loc} durung dadi, wis bola-bali mrana.",
        ],
        ngapak: &["Ngurus KTP {loc} angel temen, inyong wis bola-bali."],
        en: &[
            "The ID card office {loc} has run out of blank cards for months.",
            "My family card {loc} is still not processed after two months.",
        ],
        extra: &[
            "Padahal butuh untuk daftar kerja.",
            "Tolong dipercepat.",
            "Pelayanannya lambat sekali.",
        ],
        tags: &["Dukcapil", "eKTP"],
        reply: &[
            "Mohon maaf atas ketidaknyamanannya, blangko sudah tersedia, silakan datang ke kantor Disdukcapil dengan membawa KK asli.",
            "Mohon info NIK dan nomor antrean via DM agar dapat kami cek statusnya.",
        ],
        region_tag: None,
    },
];

/// Off-topic chatter: no complaint topic, though some use complaint words in
/// another sense ("banjir orderan", "jalan-jalan") to keep a classifier honest.
const CHATTER_ID: &[&str] = &[
    "Selamat pagi warga {loc}, semoga harinya menyenangkan.",
    "Ada rekomendasi warung bakso enak {loc}?",
    "Alhamdulillah hari ini cuaca cerah {loc}.",
    "Jalan-jalan sore {loc} enak banget, adem.",
    "Alhamdulillah banjir orderan hari ini, rezeki anak sholeh.",
    "Lagi banjir diskon di mall {loc}, buruan!",
    "Kangen suasana alun-alun {loc} waktu malam.",
    "Ada yang tahu jadwal konser {loc} minggu depan?",
    "Terima kasih pak, sekarang {loc} makin tertata dan bersih.",
    "Nonton bola bareng {loc} nanti malam, siapa ikut?",
    "Kuliner malam {loc} memang juara, nasi kucingnya mantap.",
    "Semoga pembangunan {loc} makin maju, semangat pak!",
    "Hati rasanya kebakaran lihat mantan sudah bahagia.",
    "Lagi antre beli martabak {loc}, ramai sekali.",
];
const CHATTER_JV: &[&str] = &[
    "Sugeng enjing lur, udane deres tenan {loc}.",
    "Mangan soto {loc} enak tenan, murah meneh.",
    "Matur nuwun pak, saiki {loc} tambah apik.",
    "Nongkrong karo kanca-kanca {loc}, seneng banget.",
];
/// Javanese tails that make Indonesian chatter code-mixed.
const CHATTER_JV_TAIL: &[&str] = &[
    "Mantep tenan lur.",
    "Ayo lur!",
    "Seneng banget aku.",
    "Apik tenan.",
];
const CHATTER_EN: &[&str] = &[
    "Beautiful sunset {loc} today.",
    "Any good coffee shops {loc}?",
    "Great food festival {loc} this weekend.",
];

/// Placeless location phrases, for tweets that name no place in the text.
const GENERIC_LOC_ID: &[&str] = &[
    "di sini",
    "di kampung kami",
    "di depan rumah",
    "di perumahan kami",
    "di RT kami",
    "di gang depan",
    "di lingkungan kami",
    "di desa kami",
];
const GENERIC_LOC_JV: &[&str] = &[
    "ing kampung kula",
    "nang ngarep omah",
    "ing desa kula",
    "neng kene",
    "nang gang ngarep",
];
const GENERIC_LOC_EN: &[&str] = &[
    "in our neighbourhood",
    "near my house",
    "in our village",
    "around here",
];

const PREP_ID: &[&str] = &[
    "di",
    "di",
    "di",
    "daerah",
    "di daerah",
    "wilayah",
    "sekitar",
];
const PREP_JV: &[&str] = &["ing", "neng", "nang", "ning", "ten"];
const PREP_NGAPAK: &[&str] = &["nang", "nang", "neng"];
const PREP_EN: &[&str] = &["in", "in", "near", "around"];

const ID_OPEN: &[&str] = &[
    "{greet} pak,",
    "{greet} min,",
    "Assalamualaikum pak,",
    "Lapor pak!",
    "Min,",
    "Pak Gub,",
    "Yth. Bapak Gubernur,",
    "Permisi min,",
    "Mohon izin lapor,",
    "Pak,",
];
const ID_REQ: &[&str] = &[
    "Mohon segera ditindaklanjuti.",
    "Tolong segera ditangani pak.",
    "Mohon perhatiannya pak.",
    "Mohon bantuannya.",
    "Tolong dong min, sudah lama banget.",
    "Kapan mau ditangani?",
    "Sudah lapor berkali-kali tapi belum ada respon.",
    "Mohon segera ada tindakan.",
    "Warga sudah resah, mohon segera ditangani.",
    "Tolong jangan cuma janji.",
];
const ID_CLOSE: &[&str] = &[
    "Terima kasih.",
    "Terima kasih pak.",
    "Makasih min.",
    "Terima kasih 🙏",
];
const JV_OPEN: &[&str] = &[
    "{greet} pak,",
    "Nyuwun sewu pak,",
    "Kulonuwun,",
    "Lur,",
    "Pak Gub,",
    "Ngapunten pak,",
];
const JV_REQ: &[&str] = &[
    "Nyuwun tulung enggal dipuntindakaken nggih pak.",
    "Tulung ndang diurus.",
    "Piye iki pak?",
    "Monggo dipun tindak lanjuti.",
    "Mbok ya ndang ditangani.",
    "Nyuwun pirsa kapan dipunatasi?",
];
const JV_CLOSE: &[&str] = &[
    "Matur nuwun.",
    "Matur nuwun nggih pak 🙏",
    "Suwun.",
    "Maturnuwun.",
];
const JV_EXTRA: &[&str] = &[
    "Wis suwe ora ana tindakan.",
    "Warga wis resah banget.",
    "Mesakke warga cilik.",
];
const NGAPAK_REQ: &[&str] = &[
    "Tulung ya pak, aja suwe-suwe.",
    "Kepriben kiye pak?",
    "Njaluk tulung ndang diurus.",
];
const EN_OPEN: &[&str] = &["{greet},", "Hello,", "Dear sir,", "Hi admin,"];
const EN_REQ: &[&str] = &[
    "Please fix this as soon as possible.",
    "Please help.",
    "Please take action.",
    "When will this be handled?",
];
const EN_CLOSE: &[&str] = &["Thank you.", "Thanks.", "Thank you in advance."];
const EMOJI: &[&str] = &["🙏", "😭", "😡", "🙏🙏", "😤", "⚠️", "😢"];

/// What an agency says when no topic-specific answer is picked.
const REPLY_GENERIC: &[&str] = &[
    "Terima kasih atas laporannya {sapa}. Laporan sudah kami teruskan ke petugas terkait untuk segera ditindaklanjuti.",
    "{greet} {sapa}, mohon maaf atas ketidaknyamanannya. Mohon informasikan alamat lengkap lokasi melalui DM agar dapat segera kami tangani.",
    "Baik {sapa}, aduan sudah kami terima dan diteruskan ke UPT terkait. Terima kasih 🙏",
    "Terima kasih {sapa}, tim kami sudah meluncur ke lokasi.",
    "Mohon maaf {sapa}, saat ini sedang dalam proses penanganan. Terima kasih atas kesabarannya.",
];
const SAPA: &[&str] = &["kak", "Bapak/Ibu", "Sdr.", "sobat", "kak", "Bapak/Ibu"];
/// The governor forwarding a complaint; `{agency}` is the responsible handle.
const FORWARD: &[(&str, Lang)] = &[
    (
        "Sudah saya teruskan ke @{agency}, mohon segera dicek dan ditindaklanjuti.",
        Lang::Id,
    ),
    ("@{agency} tolong dibantu nggih.", Lang::Mixed),
    ("Siap, @{agency} segera cek lokasi ya.", Lang::Id),
    (
        "@{agency} mohon ditindaklanjuti, kabari saya hasilnya.",
        Lang::Id,
    ),
    (
        "Matur nuwun laporannya. @{agency} tolong segera ditangani.",
        Lang::Mixed,
    ),
];

/// Indonesian words and their Twitter spellings.
fn slang(word: &str) -> &'static [&'static str] {
    match word {
        "yang" => &["yg"],
        "tidak" => &["gk", "ga", "gak", "tdk", "nggak"],
        "sudah" => &["udh", "sdh", "udah"],
        "tolong" => &["tlg"],
        "jalan" => &["jln", "jl"],
        "banget" => &["bgt"],
        "dengan" => &["dgn"],
        "untuk" => &["utk"],
        "belum" => &["blm"],
        "karena" => &["krn"],
        "kenapa" => &["knp"],
        "orang" => &["org"],
        "masih" => &["msh"],
        "tapi" => &["tp"],
        "juga" => &["jg"],
        "sekarang" => &["skrg"],
        "kalau" => &["kalo", "klo"],
        "saja" => &["aja"],
        "bisa" => &["bs"],
        "lagi" => &["lg"],
        "banyak" => &["byk"],
        "sama" => &["sm"],
        "pak" => &["pakk", "pak"],
        _ => &[],
    }
}

const FIRST_NAMES: &[&str] = &[
    "Agus", "Budi", "Dwi", "Eko", "Sri", "Wahyu", "Rina", "Siti", "Nur", "Tri", "Joko", "Bambang",
    "Dimas", "Putri", "Ayu", "Fajar", "Rizky", "Anisa", "Dewi", "Hendra", "Yuni", "Slamet",
    "Suryani", "Teguh", "Wulan", "Bayu", "Galih", "Laras", "Sekar", "Aditya", "Ilham", "Nanda",
    "Rizal", "Fitri", "Indah", "Arif", "Yoga", "Ratna", "Bagus", "Wahyuni", "Tika", "Danang",
    "Puji", "Heru", "Endah", "Yusuf", "Lukman", "Mega", "Novi", "Andi",
];
const LAST_NAMES: &[&str] = &[
    "Santoso",
    "Wibowo",
    "Saputra",
    "Hidayat",
    "Prasetyo",
    "Nugroho",
    "Setiawan",
    "Kurniawati",
    "Rahayu",
    "Lestari",
    "Susanto",
    "Wijaya",
    "Pratama",
    "Utomo",
    "Purnomo",
    "Handayani",
    "Sari",
    "Permana",
    "Firmansyah",
    "Maulana",
    "Widodo",
    "Haryanto",
    "Suharto",
    "Wulandari",
    "Ramadhan",
];
const OTHER_LOCATIONS: &[&str] = &[
    "Indonesia",
    "Jawa Tengah",
    "Jateng",
    "Bumi",
    "rumah",
    "🇮🇩",
    "Jateng Gayeng",
    "di hatimu",
    "Jakarta",
    "Yogyakarta",
];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn config() -> Config {
        Config::embedded().expect("bundled config must load")
    }

    fn tweet_id(t: &Truth) -> Option<u64> {
        match t {
            Truth::Tweet { id, .. } => Some(*id),
            Truth::Malformed { .. } => None,
        }
    }

    #[test]
    fn the_default_start_is_monday_5_january_2026() {
        let chrono_ms = chrono::DateTime::parse_from_rfc3339("2026-01-05T00:00:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(DEFAULT_START_MS, chrono_ms);
        assert_eq!(GenOptions::default().start_ms, chrono_ms);
        let mut v1 = Vec::new();
        push_v1_time(&mut v1, chrono_ms + 3_723_456);
        assert_eq!(v1, b"\"Mon Jan 05 01:02:03 +0000 2026\"");
        assert_eq!(
            format_v2_time(chrono_ms + 3_723_456),
            "2026-01-05T01:02:03.000Z"
        );
        for days in [-1000, 0, 11_016, 20_458, 30_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
    }

    #[test]
    fn the_rhythm_averages_to_one_over_a_week() {
        assert!((DAILY.iter().sum::<f64>() - DAILY_SUM).abs() < 1e-9);
        assert!((WEEKLY.iter().sum::<f64>() - WEEKLY_SUM).abs() < 1e-9);
        let steps = 7 * 24 * 60;
        let mean: f64 = (0..steps)
            .map(|i| rhythm(DEFAULT_START_MS + i * MINUTE_MS))
            .sum::<f64>()
            / steps as f64;
        assert!((mean - 1.0).abs() < 0.01, "mean rhythm {mean}");
        let max = (0..steps)
            .map(|i| rhythm(DEFAULT_START_MS + i * MINUTE_MS))
            .fold(0.0, f64::max);
        assert!(max <= DAILY_MAX * WEEKLY_MAX);
    }

    #[test]
    fn same_seed_same_bytes_different_seed_different_bytes() {
        let c = config();
        let a = generate(&c, GenOptions::default(), 5_000);
        let b = generate(&c, GenOptions::default(), 5_000);
        assert_eq!(a.len(), 5_000);
        assert!(a == b, "the same seed must give identical items");
        let other = generate(
            &c,
            GenOptions {
                seed: 43,
                ..GenOptions::default()
            },
            5_000,
        );
        let same = a
            .iter()
            .zip(&other)
            .filter(|(x, y)| x.payload == y.payload)
            .count();
        assert!(same < 50, "{same} identical payloads with another seed");
    }

    #[test]
    fn ids_are_unique_and_increase() {
        let c = config();
        let mut seen = HashSet::new();
        let mut last = 0;
        let mut n = 0;
        for g in Generator::new(&c, GenOptions::default()).take(200_000) {
            if let Some(id) = tweet_id(&g.truth) {
                assert!(seen.insert(id), "id {id} appears twice");
                assert!(id > last, "ids must increase in stream order");
                last = id;
                n += 1;
            }
        }
        assert!(n > 199_000);
    }

    #[test]
    fn original_tweets_never_go_back_in_event_time() {
        let c = config();
        let mut g = Generator::new(&c, GenOptions::default());
        let mut last = i64::MIN;
        let mut last_cursor = g.event_time_ms();
        for _ in 0..50_000 {
            let item = g.next().unwrap();
            if let Truth::Tweet {
                created_at_ms,
                retweet_of: None,
                reply_to: None,
                ..
            } = item.truth
            {
                assert!(created_at_ms >= last);
                last = created_at_ms;
            }
            assert!(g.event_time_ms() >= last_cursor);
            last_cursor = g.event_time_ms();
        }
    }

    /// (flood, Kab. Demak) original tweets between 6 h and 8 h of event time.
    fn demak_floods(opts: GenOptions) -> (usize, usize) {
        let c = config();
        let from = opts.start_ms + 6 * HOUR_MS;
        let until = opts.start_ms + 8 * HOUR_MS;
        let mut g = Generator::new(&c, opts);
        let (mut n, mut in_burst) = (0, 0);
        while g.event_time_ms() < until + HOUR_MS {
            if let Some(Generated {
                truth:
                    Truth::Tweet {
                        topics,
                        region_code,
                        created_at_ms,
                        retweet_of: None,
                        reply_to: None,
                        in_burst: b,
                        ..
                    },
                ..
            }) = g.next()
            {
                if b {
                    assert!(
                        (from..until).contains(&created_at_ms),
                        "burst tweet outside the window"
                    );
                    in_burst += 1;
                }
                if region_code == 3321
                    && topics.first().map(String::as_str) == Some("flood")
                    && (from..until).contains(&created_at_ms)
                {
                    n += 1;
                }
            }
        }
        (n, in_burst)
    }

    #[test]
    fn the_burst_multiplies_its_topic_and_region() {
        let (with, in_burst) = demak_floods(GenOptions::default());
        let (without, none) = demak_floods(GenOptions {
            bursts: Vec::new(),
            ..GenOptions::default()
        });
        assert_eq!(none, 0);
        assert!(in_burst > 0);
        assert!(without > 0, "some floods in Demak even without the burst");
        assert!(
            with >= 5 * without,
            "burst: {with} flood tweets in Demak, baseline {without}"
        );
    }

    #[test]
    fn the_demo_bursts_follow_the_detectors_warm_up() {
        let c = config();
        let g = Generator::new(&c, GenOptions::demo());
        assert_eq!(
            g.bursts.len(),
            2,
            "both demo bursts must name a configured topic and region"
        );
        let start = GenOptions::demo().start_ms;
        // The detector learns for 24 hours of event time before a key may
        // fire; the demo's bursts come after that, early in day two.
        assert!(g
            .bursts
            .iter()
            .all(|b| b.start_ms > (start + 26 * HOUR_MS) as f64
                && b.start_ms < (start + 36 * HOUR_MS) as f64));
        let g = Generator::new(&c, GenOptions::default());
        assert_eq!(g.bursts.len(), 1);
    }

    fn str_at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
        let mut v = v;
        for p in path {
            v = v.get(p)?;
        }
        v.as_str()
    }

    /// Checks one payload against its truth, in whichever format it is.
    fn check_shape(payload: &[u8], truth: &Truth) {
        let Truth::Tweet {
            id,
            author_id,
            retweet_of,
            reply_to,
            created_at_ms,
            ..
        } = truth
        else {
            unreachable!()
        };
        let v: Value = serde_json::from_slice(payload)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(payload)));
        let id_s = id.to_string();
        if let Some(d) = v.get("data") {
            assert_eq!(str_at(d, &["id"]), Some(id_s.as_str()));
            assert!(str_at(d, &["text"]).is_some_and(|t| !t.is_empty()));
            assert_eq!(str_at(d, &["author_id"]), Some(author_id.as_str()));
            let created = str_at(d, &["created_at"]).unwrap();
            assert_eq!(
                chrono::DateTime::parse_from_rfc3339(created)
                    .unwrap()
                    .timestamp_millis(),
                *created_at_ms
            );
            let users = v["includes"]["users"].as_array().unwrap();
            assert!(users.iter().any(|u| u["id"].as_str() == Some(author_id)));
            let refs: Vec<(&str, &str)> = d
                .get("referenced_tweets")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .map(|r| (r["type"].as_str().unwrap(), r["id"].as_str().unwrap()))
                        .collect()
                })
                .unwrap_or_default();
            let rt = retweet_of.map(|x| x.to_string());
            let re = reply_to.map(|x| x.to_string());
            assert_eq!(
                refs.iter().find(|r| r.0 == "retweeted").map(|r| r.1),
                rt.as_deref()
            );
            assert_eq!(
                refs.iter().find(|r| r.0 == "replied_to").map(|r| r.1),
                re.as_deref()
            );
            if let Some(re) = re {
                assert_eq!(str_at(d, &["conversation_id"]), Some(re.as_str()));
            }
            if let Some(pid) = str_at(d, &["geo", "place_id"]) {
                let places = v["includes"]["places"].as_array().unwrap();
                let p = places
                    .iter()
                    .find(|p| p["id"].as_str() == Some(pid))
                    .unwrap();
                assert!(p["full_name"].as_str().is_some());
                assert_eq!(p["geo"]["bbox"].as_array().unwrap().len(), 4);
            }
            for m in d
                .pointer("/entities/mentions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = str_at(d, &["text"]).unwrap();
                let (s, e) = (
                    m["start"].as_u64().unwrap() as usize,
                    m["end"].as_u64().unwrap() as usize,
                );
                let slice: String = text.chars().skip(s).take(e - s).collect();
                assert_eq!(slice, format!("@{}", m["username"].as_str().unwrap()));
            }
        } else {
            assert_eq!(str_at(&v, &["id_str"]), Some(id_s.as_str()));
            assert_eq!(v["id"].as_u64(), Some(*id));
            let full = str_at(&v, &["extended_tweet", "full_text"]).or(str_at(&v, &["text"]));
            assert!(full.is_some_and(|t| !t.is_empty()));
            assert_eq!(str_at(&v, &["user", "id_str"]), Some(author_id.as_str()));
            let created = str_at(&v, &["created_at"]).unwrap();
            let t = chrono::DateTime::parse_from_str(created, "%a %b %d %H:%M:%S %z %Y").unwrap();
            assert_eq!(t.timestamp_millis(), *created_at_ms);
            let rt = retweet_of.map(|x| x.to_string());
            let re = reply_to.map(|x| x.to_string());
            assert_eq!(
                v.pointer("/retweeted_status/id_str")
                    .and_then(Value::as_str),
                rt.as_deref()
            );
            assert_eq!(v["in_reply_to_status_id_str"].as_str(), re.as_deref());
            for m in v
                .pointer("/entities/user_mentions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let text = str_at(&v, &["text"]).unwrap();
                let ix = m["indices"].as_array().unwrap();
                let (s, e) = (
                    ix[0].as_u64().unwrap() as usize,
                    ix[1].as_u64().unwrap() as usize,
                );
                let slice: String = text.chars().skip(s).take(e - s).collect();
                assert_eq!(slice, format!("@{}", m["screen_name"].as_str().unwrap()));
            }
        }
    }

    /// What a malformed payload must look like for its reason.
    fn check_malformed(p: &[u8], reason: &str) {
        let json = std::str::from_utf8(p).map(serde_json::from_str::<Value>);
        match reason {
            "empty" => assert!(p.iter().all(u8::is_ascii_whitespace)),
            "oversized" => assert!(p.len() > 64 * 1024),
            "not_utf8" => {
                assert!(std::str::from_utf8(p).is_err() && p.windows(2).any(|w| w == b"\xff\xfe"))
            }
            "too_deep" => {
                let e = json.unwrap().unwrap_err();
                assert!(e.to_string().contains("recursion limit"), "{e}");
                assert!(p.len() > 9000 && p.len() <= 64 * 1024);
            }
            "not_json" => {
                let e = json.unwrap().unwrap_err();
                assert!(!e.to_string().contains("recursion limit"));
                assert!(!p.iter().all(u8::is_ascii_whitespace));
            }
            _ => {
                let v = json.unwrap().unwrap();
                match reason {
                    "not_tweet" => assert!(
                        !v.is_object()
                            || ["data", "id", "id_str", "text", "full_text"]
                                .iter()
                                .all(|k| v.get(k).is_none())
                    ),
                    "missing_id" => {
                        let d = v.get("data").unwrap_or(&v);
                        assert!(d
                            .get("id")
                            .is_none_or(|i| i.as_str().is_some_and(|s| s.parse::<u64>().is_err())));
                        assert!(d.get("id_str").is_none());
                    }
                    "missing_text" => {
                        let d = v.get("data").unwrap_or(&v);
                        assert!(
                            d.get("text").is_none() && d.get("id").or(d.get("id_str")).is_some()
                        );
                    }
                    "bad_created_at" => {
                        let d = v.get("data").unwrap_or(&v);
                        assert!(d.get("text").is_some());
                        if let Some(s) = d.get("created_at").and_then(Value::as_str) {
                            assert!(chrono::DateTime::parse_from_rfc3339(s).is_err());
                        }
                    }
                    other => panic!("unknown reason {other}"),
                }
            }
        }
    }

    #[test]
    fn every_payload_has_the_shape_its_truth_says() {
        let c = config();
        let opts = GenOptions {
            malformed_ratio: 0.02,
            ..GenOptions::default()
        };
        let mut reasons: HashMap<&str, usize> = HashMap::new();
        let (mut v1, mut rts, mut replies, mut tweets) = (0, 0, 0, 0);
        for g in Generator::new(&c, opts).take(30_000) {
            match &g.truth {
                Truth::Malformed { reason } => {
                    check_malformed(&g.payload, reason);
                    *reasons.entry(reason).or_default() += 1;
                }
                t @ Truth::Tweet {
                    retweet_of,
                    reply_to,
                    ..
                } => {
                    assert!(g.payload.len() < 64 * 1024);
                    check_shape(&g.payload, t);
                    tweets += 1;
                    v1 += usize::from(g.payload.starts_with(b"{\"created_at\""));
                    rts += usize::from(retweet_of.is_some());
                    replies += usize::from(reply_to.is_some());
                }
            }
        }
        assert_eq!(
            reasons.len(),
            MALFORMED.len(),
            "every reject reason appears: {reasons:?}"
        );
        let v1 = v1 as f64 / tweets as f64;
        assert!((0.27..0.33).contains(&v1), "v1 share {v1}");
        assert!(
            rts > 1000 && replies > 1000,
            "{rts} retweets, {replies} replies"
        );
    }

    #[test]
    fn night_is_quiet_and_weekends_lower() {
        let c = config();
        let opts = GenOptions {
            mean_tweets_per_hour: 400.0,
            bursts: Vec::new(),
            ..GenOptions::default()
        };
        let start = opts.start_ms;
        let g = Generator::new(&c, opts);
        let mut hours = [0usize; 24];
        let mut days = [0usize; 7];
        for item in g {
            if let Truth::Tweet {
                created_at_ms,
                retweet_of: None,
                reply_to: None,
                ..
            } = item.truth
            {
                if created_at_ms >= start + 7 * DAY_MS {
                    break;
                }
                let local = created_at_ms + WIB_OFFSET_MS;
                hours[(local.rem_euclid(DAY_MS) / HOUR_MS) as usize] += 1;
                days[((created_at_ms - start) / DAY_MS) as usize] += 1;
            }
        }
        let night = hours[0..5].iter().sum::<usize>() as f64 / 5.0;
        let day = hours[8..21].iter().sum::<usize>() as f64 / 13.0;
        assert!(night < 0.35 * day, "night {night}/h vs day {day}/h");
        assert!(hours[3] < hours[9] / 5, "{hours:?}");
        let weekday = days[0..5].iter().sum::<usize>() as f64 / 5.0;
        let weekend = days[5..7].iter().sum::<usize>() as f64 / 2.0;
        assert!(
            weekend < 0.95 * weekday,
            "weekend {weekend}/day vs weekday {weekday}/day"
        );
        let total: usize = days.iter().sum();
        let expected = 400.0 * 24.0 * 7.0;
        assert!(
            (total as f64 - expected).abs() < 0.05 * expected,
            "{total} original tweets in a week, expected {expected}"
        );
    }

    #[test]
    fn shares_are_realistic() {
        let c = config();
        let mut regions: HashMap<u16, usize> = HashMap::new();
        let mut topics: HashMap<String, usize> = HashMap::new();
        let mut langs: HashMap<&str, usize> = HashMap::new();
        let (mut orig, mut chatter, mut rts, mut tweets) = (0, 0, 0, 0);
        let opts = GenOptions {
            bursts: Vec::new(),
            ..GenOptions::default()
        };
        for g in Generator::new(&c, opts).take(100_000) {
            let Truth::Tweet {
                topics: tp,
                region_code,
                lang,
                retweet_of,
                reply_to,
                ..
            } = g.truth
            else {
                continue;
            };
            tweets += 1;
            if retweet_of.is_some() {
                rts += 1;
            }
            if retweet_of.is_some() || reply_to.is_some() {
                continue;
            }
            orig += 1;
            *regions.entry(region_code).or_default() += 1;
            *langs.entry(lang).or_default() += 1;
            chatter += usize::from(tp.is_empty());
            for t in tp {
                *topics.entry(t).or_default() += 1;
            }
        }
        let share = |n: usize| n as f64 / orig as f64;
        let smg = share(regions[&3374]);
        assert!((0.15..0.21).contains(&smg), "Kota Semarang {smg}");
        let unknown = share(regions[&0]);
        assert!((0.06..0.10).contains(&unknown), "unknown region {unknown}");
        let mut by_volume: Vec<(u16, usize)> = regions.into_iter().filter(|r| r.0 != 0).collect();
        by_volume.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        assert_eq!(by_volume[0].0, 3374);
        assert_eq!(by_volume[1].0, 3372);
        assert_eq!(by_volume.len(), c.regions.len());
        for t in &c.topics {
            assert!(
                topics.get(&t.id).copied().unwrap_or(0) > 0 || t.id == "drought",
                "topic {} never appears",
                t.id
            );
        }
        assert!(topics["road_damage"] > topics["fire"] * 4);
        assert!(
            topics["flood"] > topics["drought"] * 4,
            "January is the rainy season"
        );
        assert!(
            (0.08..0.12).contains(&share(chatter)),
            "chatter {}",
            share(chatter)
        );
        let id = share(langs["id"]);
        assert!((0.66..0.74).contains(&id), "id {id}");
        assert!(langs["jv"] > langs["mixed"] && langs["mixed"] > langs["en"]);
        let rt = rts as f64 / tweets as f64;
        assert!((0.07..0.13).contains(&rt), "retweet share {rt}");
    }

    #[test]
    fn agencies_answer_about_half_the_complaints_after_hours_not_seconds() {
        let c = config();
        let opts = GenOptions {
            malformed_ratio: 0.0,
            bursts: Vec::new(),
            mean_tweets_per_hour: 300.0,
            ..GenOptions::default()
        };
        let start = opts.start_ms;
        let mut g = Generator::new(&c, opts);
        let governor =
            g.t.governor
                .map(|i| g.t.agencies[i as usize].user.id.to_string());
        let mut complaints: HashMap<u64, i64> = HashMap::new();
        let mut answered: HashMap<u64, i64> = HashMap::new();
        let mut forwards = 0;
        while g.event_time_ms() < start + 20 * DAY_MS {
            let item = g.next().unwrap();
            if let Truth::Tweet {
                id,
                created_at_ms,
                topics,
                reply_to,
                retweet_of: None,
                official,
                author_id,
                ..
            } = item.truth
            {
                match reply_to {
                    None if !topics.is_empty() && created_at_ms < start + 10 * DAY_MS => {
                        complaints.insert(id, created_at_ms);
                    }
                    Some(to) => {
                        assert!(official);
                        if Some(&author_id) == governor.as_ref() {
                            forwards += 1;
                        } else if let Some(&t0) = complaints.get(&to) {
                            assert!(
                                answered.insert(to, created_at_ms - t0).is_none(),
                                "one agency reply per complaint"
                            );
                        }
                    }
                    None => {}
                }
            }
        }
        let share = answered.len() as f64 / complaints.len() as f64;
        assert!((0.42..0.52).contains(&share), "answered share {share}");
        assert!(forwards > 0);
        let mut lat: Vec<i64> = answered.values().copied().filter(|&l| l >= 0).collect();
        lat.sort_unstable();
        let median = lat[lat.len() / 2] as f64 / HOUR_MS as f64;
        assert!((1.5..6.0).contains(&median), "median latency {median} h");
        let late = lat.iter().filter(|&&l| l > 48 * HOUR_MS).count() as f64 / lat.len() as f64;
        assert!(
            (0.01..0.10).contains(&late),
            "share answered after 48 h: {late}"
        );
        assert!(lat[0] >= MINUTE_MS);
    }

    #[test]
    fn viral_cascades_happen() {
        let c = config();
        let mut per_tweet: HashMap<u64, usize> = HashMap::new();
        for g in Generator::new(&c, GenOptions::default()).take(200_000) {
            if let Truth::Tweet {
                retweet_of: Some(o),
                ..
            } = g.truth
            {
                *per_tweet.entry(o).or_default() += 1;
            }
        }
        let viral = per_tweet.values().filter(|&&n| n >= 50).count();
        assert!(viral >= 2, "{viral} viral tweets");
        assert!(per_tweet.values().filter(|&&n| n == 1).count() > viral * 10);
    }

    #[test]
    fn texts_fit_a_tweet_and_carry_the_campaign() {
        let c = config();
        let (mut tagged, mut mentioned, mut complaints, mut slang) = (0, 0, 0, 0);
        for g in Generator::new(
            &c,
            GenOptions {
                malformed_ratio: 0.0,
                ..GenOptions::default()
            },
        )
        .take(20_000)
        {
            let v: Value = serde_json::from_slice(&g.payload).unwrap();
            let text = v
                .pointer("/data/text")
                .or(v.pointer("/extended_tweet/full_text"))
                .or(v.pointer("/text"))
                .and_then(Value::as_str)
                .unwrap()
                .to_string();
            if g.truth.is_complaint() {
                assert!(text.chars().count() <= 280, "{text}");
                complaints += 1;
                tagged += usize::from(text.contains("#KemalaJateng"));
                mentioned += usize::from(text.contains('@'));
                slang += usize::from(text.split(' ').any(|w| {
                    matches!(
                        w,
                        "yg" | "gk" | "ga" | "udh" | "sdh" | "bgt" | "tlg" | "jln" | "blm"
                    )
                }));
            }
        }
        let share = |n: usize| n as f64 / complaints as f64;
        assert!(
            (0.4..0.6).contains(&share(tagged)),
            "#KemalaJateng {}",
            share(tagged)
        );
        assert!(share(mentioned) > 0.4, "mentions {}", share(mentioned));
        assert!(share(slang) > 0.1, "slang {}", share(slang));
    }

    #[test]
    fn odd_options_are_clamped_not_fatal() {
        let c = config();
        let opts = GenOptions {
            mean_tweets_per_hour: 0.0,
            retweet_ratio: f64::NAN,
            reply_ratio: 2.0,
            malformed_ratio: -1.0,
            v1_ratio: 1.0,
            bursts: vec![Burst {
                topic: "no_such_topic".into(),
                region_code: 9999,
                start_ms: 0,
                duration_ms: HOUR_MS,
                multiplier: 5.0,
            }],
            ..GenOptions::default()
        };
        let items = generate(&c, opts, 100);
        assert_eq!(items.len(), 100);
        assert!(items
            .iter()
            .all(|g| g.payload.starts_with(b"{\"created_at\"")));
    }

    /// Regression guard: the exact payloads and truths that tests and
    /// benches depend on, in both formats, with bursts, replies, forwards,
    /// retweets and malformed messages.
    #[test]
    fn payloads_are_byte_for_byte_pinned() {
        use sha2::{Digest, Sha256};
        let c = config();
        let start = GenOptions::default().start_ms;
        let cases = [
            (
                GenOptions::default(),
                20_000,
                "8e760a2f2f6129c1057756279e1f47883dbfdb10274b8e044c04d205ae11b3e1",
            ),
            (
                GenOptions {
                    seed: 7,
                    v1_ratio: 1.0,
                    reply_ratio: 1.0,
                    retweet_ratio: 0.3,
                    malformed_ratio: 0.02,
                    ..GenOptions::demo()
                },
                20_000,
                "5a54c6e022ed0a328513be40db718da7eddeb8381289dc837d876d8d096f3480",
            ),
            (
                GenOptions {
                    seed: 11,
                    v1_ratio: 0.0,
                    mean_tweets_per_hour: 20_000.0,
                    bursts: vec![Burst {
                        topic: "illegal_fees".into(),
                        region_code: 3329,
                        start_ms: start + HOUR_MS / 2,
                        duration_ms: HOUR_MS,
                        multiplier: 20.0,
                    }],
                    ..GenOptions::default()
                },
                20_000,
                "473122828e20b7ab9ecfe2e4f16ddb28662124e88c3799fc3e7cae4b7ed4ae4e",
            ),
        ];
        for (i, (opts, n, expected)) in cases.into_iter().enumerate() {
            let mut h = Sha256::new();
            for g in Generator::new(&c, opts).take(n) {
                h.update(&g.payload);
                h.update(format!("\n{:?}\n", g.truth).as_bytes());
            }
            assert_eq!(hex::encode(h.finalize()), expected, "case {i}");
        }
    }

    #[test]
    fn agencies_without_user_ids_get_a_stable_synthetic_one() {
        let c = config();
        let g = Generator::new(&c, GenOptions::default());
        for (a, info) in c.agencies.iter().zip(&g.t.agencies) {
            match a.user_ids.first() {
                Some(id) => assert_eq!(info.user.id.to_string(), *id),
                None => assert_eq!(info.user.id, synthetic_user_id(&a.id)),
            }
        }
        assert_eq!(synthetic_user_id("pln"), synthetic_user_id("pln"));
        assert!((9_000_000_000..10_000_000_000).contains(&synthetic_user_id("dinsos_jateng")));
    }
}
