//! The shared types that flow through the pipeline.
//!
//! A [`Tweet`] is what the source decoded from one Kafka message, whatever
//! the wire format (Twitter API v1.1 or v2). An [`Enriched`] tweet adds what
//! `enrich` concluded. Topics, regions and agencies are small integer ids
//! into the loaded configuration, so hot paths compare integers and metric
//! labels can only ever come from configured sets.
//!
//! The vocabulary that several stages share lives here too, at the bottom of
//! the import layers: Kafka [`Offsets`], the [`Reject`] reasons of the
//! decoder (also metric labels), and the [`Lang`] labels of enrichment (also
//! index terms and query values).

use std::collections::BTreeMap;

/// Next offset to read, per topic and partition: what an index commit
/// covers and what the source resumes from.
pub type Offsets = BTreeMap<String, BTreeMap<i32, i64>>;

/// How many of the latest gaps [`Lost`] keeps.
pub const MAX_GAPS: usize = 100;

/// Messages lost to broker retention: deleted before kemala read them. The
/// index commit carries this ledger, so the count survives restarts and a
/// gap detected but not yet committed is detected (and counted) again.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Lost {
    /// Messages lost per topic and partition, since the index began.
    pub totals: Offsets,
    /// The latest gaps, oldest first (at most [`MAX_GAPS`]).
    pub gaps: Vec<Gap>,
}

/// Offsets `from..to` (`to` excluded) of one partition, never read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Gap {
    pub topic: String,
    pub partition: i32,
    pub from: i64,
    pub to: i64,
    /// When kemala found it (wall clock, RFC 3339): operational, not event time.
    pub detected_at: String,
}

impl Gap {
    pub fn count(&self) -> i64 {
        self.to - self.from
    }
}

impl Lost {
    /// Adds a gap to the totals and the latest gaps.
    pub fn record(&mut self, gap: Gap) {
        *self
            .totals
            .entry(gap.topic.clone())
            .or_default()
            .entry(gap.partition)
            .or_default() += gap.count();
        self.gaps.push(gap);
        if self.gaps.len() > MAX_GAPS {
            self.gaps.remove(0);
        }
    }

    pub fn total(&self) -> i64 {
        self.totals.values().flat_map(|p| p.values()).sum()
    }
}

/// Why a message was not a tweet. Each is a label of
/// `kemala_messages_rejected_total{reason}` and a dead-letter header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reject {
    Empty,
    Oversized,
    NotUtf8,
    NotJson,
    TooDeep,
    NotTweet,
    MissingId,
    MissingText,
    BadCreatedAt,
}

impl Reject {
    pub const ALL: [Reject; 9] = [
        Reject::Empty,
        Reject::Oversized,
        Reject::NotUtf8,
        Reject::NotJson,
        Reject::TooDeep,
        Reject::NotTweet,
        Reject::MissingId,
        Reject::MissingText,
        Reject::BadCreatedAt,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reject::Empty => "empty",
            Reject::Oversized => "oversized",
            Reject::NotUtf8 => "not_utf8",
            Reject::NotJson => "not_json",
            Reject::TooDeep => "too_deep",
            Reject::NotTweet => "not_tweet",
            Reject::MissingId => "missing_id",
            Reject::MissingText => "missing_text",
            Reject::BadCreatedAt => "bad_created_at",
        }
    }
}

/// Language label attached to a tweet.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Indonesian (also the prior for text too short to judge).
    #[serde(alias = "in")]
    Id,
    /// Javanese, including Indonesian-Javanese code mixing with Javanese grammar.
    #[serde(alias = "jw")]
    Jv,
    /// English.
    En,
    /// Sundanese.
    Su,
    /// Malay (only with Malaysian-specific evidence).
    Ms,
    /// Anything else, e.g. text mostly in a non-Latin script.
    #[serde(alias = "und")]
    Other,
}

impl Lang {
    pub const ALL: [Lang; 6] = [
        Lang::Id,
        Lang::Jv,
        Lang::En,
        Lang::Su,
        Lang::Ms,
        Lang::Other,
    ];

    /// ISO 639-1 code, or `"und"` for [`Lang::Other`].
    pub fn code(self) -> &'static str {
        match self {
            Lang::Id => "id",
            Lang::Jv => "jv",
            Lang::En => "en",
            Lang::Su => "su",
            Lang::Ms => "ms",
            Lang::Other => "und",
        }
    }

    /// Parses a language code; accepts the legacy `"in"` for Indonesian and `"jw"` for
    /// Javanese because older Twitter/Google payloads still use them.
    pub fn from_code(s: &str) -> Option<Lang> {
        let s = s.trim();
        let is = |code: &str| s.eq_ignore_ascii_case(code);
        if is("id") || is("in") {
            Some(Lang::Id)
        } else if is("jv") || is("jw") {
            Some(Lang::Jv)
        } else if is("en") {
            Some(Lang::En)
        } else if is("su") {
            Some(Lang::Su)
        } else if is("ms") {
            Some(Lang::Ms)
        } else if is("und") || is("other") {
            Some(Lang::Other)
        } else {
            None
        }
    }
}

/// Where a message sits in Kafka.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Position {
    pub partition: i32,
    pub offset: i64,
}

/// Index of a topic in `topics.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicId(pub u16);

/// Index of an agency in `agencies.toml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyId(pub u16);

/// A region's BPS code (3374 is Kota Semarang); 0 is `unknown`, the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(pub u16);

impl RegionCode {
    pub const UNKNOWN: RegionCode = RegionCode(0);
    /// Placed outside Central Java (by coordinates, place or text): indexed
    /// and searchable, but in no Central Java series and routed to no
    /// agency.
    pub const OUTSIDE: RegionCode = RegionCode(9999);
    /// How `outside` reads in slugs, metric labels, queries and the API.
    pub const OUTSIDE_SLUG: &'static str = "outside";
    pub const OUTSIDE_NAME: &'static str = "Luar Jawa Tengah";

    /// Placed somewhere: a Central Java region or `outside`.
    pub fn is_known(self) -> bool {
        self.0 != 0
    }

    /// One of Central Java's regions.
    pub fn in_jateng(self) -> bool {
        self.is_known() && self != RegionCode::OUTSIDE
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Mention {
    pub username: String,
    pub id: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    pub full_name: String,
    /// `[west, south, east, north]` in degrees.
    pub bbox: Option<[f64; 4]>,
}

/// One tweet, as decoded from either Twitter format. `Default` is for tests
/// and benches, which name only the fields they set.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tweet {
    pub id: u64,
    pub text: String,
    /// Event time, in milliseconds since the Unix epoch.
    pub created_at_ms: i64,
    pub author_id: String,
    pub author_username: String,
    pub author_location: Option<String>,
    pub conversation_id: Option<u64>,
    pub in_reply_to_tweet: Option<u64>,
    pub in_reply_to_user: Option<String>,
    /// Set when this is a retweet: the id of the original.
    pub retweet_of: Option<u64>,
    pub mentions: Vec<Mention>,
    pub hashtags: Vec<String>,
    pub place: Option<Place>,
    /// `(lon, lat)`.
    pub coordinates: Option<(f64, f64)>,
    /// The language the platform claimed, normalised (`in` becomes `id`).
    pub lang_hint: Option<String>,
}

#[cfg(test)]
impl Tweet {
    /// Tweet `id` with `text`, by `warga{id}`, `id` hours after Monday
    /// 2026-01-05 00:00 UTC: what unit tests index and search.
    pub fn hourly(id: u64, text: &str) -> Tweet {
        Tweet {
            id,
            text: text.into(),
            created_at_ms: 1_767_571_200_000 + id as i64 * 3_600_000,
            author_id: format!("{}", 100 + id),
            author_username: format!("warga{id}"),
            ..Tweet::default()
        }
    }
}

impl Tweet {
    pub fn url(&self) -> String {
        format!(
            "https://twitter.com/{}/status/{}",
            if self.author_username.is_empty() {
                "i"
            } else {
                &self.author_username
            },
            self.id
        )
    }
}

/// A tweet with everything enrichment concluded about it.
#[derive(Clone, Debug)]
pub struct Enriched {
    pub tweet: Tweet,
    pub lang: Lang,
    pub topics: Vec<TopicId>,
    pub region: RegionCode,
    /// Addressed to the government or about a complaint topic, and not
    /// itself from an official account, and not a retweet.
    pub is_complaint: bool,
    /// The responsible agency, routed by topic and region.
    pub agency: Option<AgencyId>,
    /// The author is an official account (an agency).
    pub official_author: Option<AgencyId>,
    /// Official accounts the tweet mentions.
    pub mentioned_agencies: Vec<AgencyId>,
}

impl Enriched {
    pub fn record(&self) -> Record {
        let t = &self.tweet;
        Record {
            id: t.id,
            created_at_ms: t.created_at_ms,
            author: stable_hash(t.author_id.as_bytes()),
            topics: self.topics.clone(),
            region: self.region,
            is_complaint: self.is_complaint,
            retweet_of: t.retweet_of,
            agency: self.agency,
            official_author: self.official_author,
            reply_to: t.in_reply_to_tweet,
            conversation: t.conversation_id,
            mentioned_agencies: self.mentioned_agencies.clone(),
        }
    }
}

/// The compact facts about one indexed tweet that the detector and the
/// latency tracker need. Built from an [`Enriched`] tweet on the live path,
/// and from the index's fast fields when state is rebuilt on start, so both
/// paths feed the same pure state machines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    pub id: u64,
    /// Event time (ms since the Unix epoch).
    pub created_at_ms: i64,
    /// A stable hash of the author's user id, to count distinct complainants.
    pub author: u64,
    pub topics: Vec<TopicId>,
    pub region: RegionCode,
    pub is_complaint: bool,
    /// Set for retweets: the original's id.
    pub retweet_of: Option<u64>,
    /// The responsible agency (routing), for complaints.
    pub agency: Option<AgencyId>,
    /// The agency whose official account wrote this tweet.
    pub official_author: Option<AgencyId>,
    /// The tweet this one replies to.
    pub reply_to: Option<u64>,
    pub conversation: Option<u64>,
    /// Official accounts mentioned in the text (a governor's forward names the agency).
    pub mentioned_agencies: Vec<AgencyId>,
}

/// A stable 64-bit hash (FNV-1a): the same input gives the same value in
/// every process and release, which std's `DefaultHasher` does not promise.
pub fn stable_hash(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}
