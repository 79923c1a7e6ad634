//! The payload writers: a tweet, retweet or official reply as Twitter API
//! v2 and v1.1 JSON, built from serde types in the field order Twitter
//! writes (serde keeps declaration order).
//!
//! Ids appear twice in v1.1, as a number and as a string (`id_str`), and as
//! strings only in v2; [`IdStr`] writes the string form. Coordinates are
//! written as Rust's `Display` writes a float ([`Coord`]: `-7`, not `-7.0`),
//! which is what tests and benches have pinned.

use std::borrow::Cow;

use serde::{Serialize, Serializer};

use super::dates::{v1_time, v2_time};
use super::*;

#[derive(Clone, Copy, PartialEq)]
pub(super) enum Geo {
    None,
    Point(f64, f64),
    Place(u16),
    PointAndPlace(f64, f64, u16),
}

/// An id as a JSON string of digits.
#[derive(Clone, Copy)]
struct IdStr(u64);

impl Serialize for IdStr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// An instant as a JSON string, as API v2 or v1.1 writes it.
#[derive(Clone, Copy)]
enum Time {
    V2(i64),
    V1(i64),
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Time::V2(ms) => s.collect_str(&v2_time(ms)),
            Time::V1(ms) => s.collect_str(&v1_time(ms)),
        }
    }
}

/// A longitude or latitude: whole degrees without a fraction (`110`), as
/// `Display` writes them; otherwise the shortest decimal that reads back
/// the same, which serde_json and `Display` agree on.
#[derive(Clone, Copy)]
pub(super) struct Coord(pub f64);

impl Serialize for Coord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.fract() == 0.0 && x.abs() < 1e15 {
            s.serialize_i64(x as i64)
        } else {
            s.serialize_f64(x)
        }
    }
}

/// `{}`.
#[derive(Serialize)]
struct Empty {}

#[derive(Serialize)]
struct Point {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [Coord; 2],
}

fn point(x: f64, y: f64) -> Point {
    Point {
        kind: "Point",
        coordinates: [Coord(x), Coord(y)],
    }
}

/// A region as an API v2 `includes.places` entry.
#[derive(Serialize)]
pub(super) struct V2Place {
    id: String,
    full_name: String,
    name: String,
    country: &'static str,
    country_code: &'static str,
    place_type: &'static str,
    geo: V2PlaceGeo,
}

#[derive(Serialize)]
struct V2PlaceGeo {
    #[serde(rename = "type")]
    kind: &'static str,
    bbox: [Coord; 4],
    properties: Empty,
}

/// A region as an API v1.1 `place`.
#[derive(Serialize)]
pub(super) struct V1Place {
    id: String,
    url: String,
    place_type: &'static str,
    name: String,
    full_name: String,
    country_code: &'static str,
    country: &'static str,
    bounding_box: BoundingBox,
    attributes: Empty,
}

#[derive(Serialize)]
struct BoundingBox {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: [[[Coord; 2]; 4]; 1],
}

/// A region's Twitter place in both formats: `name` and `full_name` as
/// Twitter shows them, a city or an admin area, with its bounding box
/// `[west, south, east, north]`.
pub(super) fn places(
    id: &str,
    name: &str,
    full_name: &str,
    city: bool,
    [w, s, e, n]: [f64; 4],
) -> (V1Place, V2Place) {
    let place_type = if city { "city" } else { "admin" };
    let v1 = V1Place {
        id: id.to_string(),
        url: format!("https://api.twitter.com/1.1/geo/id/{id}.json"),
        place_type,
        name: name.to_string(),
        full_name: full_name.to_string(),
        country_code: "ID",
        country: "Indonesia",
        bounding_box: BoundingBox {
            kind: "Polygon",
            coordinates: [[[w, s], [w, n], [e, n], [e, s]].map(|[x, y]| [Coord(x), Coord(y)])],
        },
        attributes: Empty {},
    };
    let v2 = V2Place {
        id: id.to_string(),
        full_name: full_name.to_string(),
        name: name.to_string(),
        country: "Indonesia",
        country_code: "ID",
        place_type,
        geo: V2PlaceGeo {
            kind: "Feature",
            bbox: [Coord(w), Coord(s), Coord(e), Coord(n)],
            properties: Empty {},
        },
    };
    (v1, v2)
}

// ---- API v2 -----------------------------------------------------------------

#[derive(Serialize)]
struct V2Envelope<'a, D> {
    data: D,
    includes: V2Includes<'a>,
    matching_rules: [Rule; 1],
}

#[derive(Serialize)]
struct Rule {
    id: &'static str,
    tag: &'static str,
}

const RULE: Rule = Rule {
    id: RULE_ID,
    tag: "kemala",
};

#[derive(Serialize)]
struct Referenced {
    #[serde(rename = "type")]
    kind: &'static str,
    id: IdStr,
}

/// What every v2 `data` object starts with.
#[derive(Serialize)]
struct V2Head<'a> {
    id: IdStr,
    text: &'a str,
    author_id: IdStr,
    created_at: Time,
    conversation_id: IdStr,
}

/// A citizen's tweet or retweet.
#[derive(Serialize)]
struct V2Tweet<'a> {
    #[serde(flatten)]
    head: V2Head<'a>,
    lang: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    referenced_tweets: Option<[Referenced; 1]>,
    #[serde(flatten)]
    tail: V2Tail<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    geo: Option<V2Geo<'a>>,
}

/// An official reply.
#[derive(Serialize)]
struct V2Reply<'a> {
    #[serde(flatten)]
    head: V2Head<'a>,
    in_reply_to_user_id: IdStr,
    referenced_tweets: [Referenced; 1],
    lang: &'static str,
    #[serde(flatten)]
    tail: V2Tail<'a>,
}

/// The edit history (the tweet itself: never edited) and the entities.
#[derive(Serialize)]
struct V2Tail<'a> {
    edit_history_tweet_ids: [IdStr; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    entities: Option<V2Entities<'a>>,
}

#[derive(Serialize)]
struct V2Entities<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    mentions: Vec<V2Mention<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hashtags: Vec<V2Hashtag<'a>>,
}

#[derive(Serialize)]
struct V2Mention<'a> {
    start: usize,
    end: usize,
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<IdStr>,
}

#[derive(Serialize)]
struct V2Hashtag<'a> {
    start: usize,
    end: usize,
    tag: &'a str,
}

#[derive(Serialize)]
struct V2Geo<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    place_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    coordinates: Option<Point>,
}

#[derive(Serialize)]
struct V2Includes<'a> {
    users: Vec<V2User<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    places: Option<[&'a V2Place; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tweets: Option<[V2Included<'a>; 1]>,
}

#[derive(Serialize)]
struct V2User<'a> {
    id: IdStr,
    name: &'a str,
    username: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(skip_serializing_if = "is_false")]
    verified: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

/// The retweeted tweet, in `includes.tweets`.
#[derive(Serialize)]
struct V2Included<'a> {
    id: IdStr,
    text: &'a str,
    author_id: IdStr,
    created_at: Time,
    lang: &'a str,
}

fn v2_user(a: &Author, verified: bool) -> V2User<'_> {
    V2User {
        id: IdStr(a.id),
        name: &a.name,
        username: &a.username,
        location: (!a.location.is_empty()).then_some(a.location.as_str()),
        verified,
    }
}

// ---- API v1.1 ---------------------------------------------------------------

const SOURCE: &str =
    "<a href=\"http://twitter.com/download/android\" rel=\"nofollow\">Twitter for Android</a>";

#[derive(Serialize)]
struct V1Status<'a> {
    created_at: Time,
    id: u64,
    id_str: IdStr,
    text: Cow<'a, str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_text_range: Option<[usize; 2]>,
    source: &'static str,
    truncated: bool,
    in_reply_to_status_id: Option<u64>,
    in_reply_to_status_id_str: Option<IdStr>,
    in_reply_to_user_id: Option<u64>,
    in_reply_to_user_id_str: Option<IdStr>,
    in_reply_to_screen_name: Option<&'a str>,
    user: V1User<'a>,
    geo: Option<Point>,
    coordinates: Option<Point>,
    place: Option<&'a V1Place>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retweeted_status: Option<Box<V1Status<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    extended_tweet: Option<V1Extended<'a>>,
    is_quote_status: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    retweet_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    favorite_count: Option<u32>,
    entities: V1Entities<'a>,
    favorited: bool,
    retweeted: bool,
    filter_level: &'static str,
    lang: &'a str,
    timestamp_ms: IdStr,
}

#[derive(Serialize)]
struct V1Extended<'a> {
    full_text: &'a str,
    display_text_range: [usize; 2],
    entities: V1Entities<'a>,
}

#[derive(Serialize)]
struct V1User<'a> {
    id: u64,
    id_str: IdStr,
    name: &'a str,
    screen_name: &'a str,
    location: Option<&'a str>,
    verified: bool,
    followers_count: u32,
}

fn v1_user(a: &Author) -> V1User<'_> {
    V1User {
        id: a.id,
        id_str: IdStr(a.id),
        name: &a.name,
        screen_name: &a.username,
        location: (!a.location.is_empty()).then_some(a.location.as_str()),
        verified: a.verified,
        followers_count: a.followers,
    }
}

#[derive(Serialize)]
struct V1Entities<'a> {
    hashtags: Vec<V1Hashtag<'a>>,
    user_mentions: Vec<V1Mention<'a>>,
    urls: Vec<V1Url>,
}

#[derive(Serialize)]
struct V1Hashtag<'a> {
    text: &'a str,
    indices: [usize; 2],
}

#[derive(Serialize)]
struct V1Mention<'a> {
    screen_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_str: Option<IdStr>,
    indices: [usize; 2],
}

#[derive(Serialize)]
struct V1Url {
    url: String,
    expanded_url: String,
    display_url: &'static str,
    indices: [usize; 2],
}

/// A shortened link to the whole tweet: (start, end) in chars, the t.co
/// address, and the tweet id it expands to.
type Link = (usize, usize, String, u64);

/// Who an entity names, beyond the tables: the author of the tweet a
/// retweet or reply is about (username, id, display name).
type Extra<'a> = Option<(&'a str, u64, &'a str)>;

/// Keeps at most `max` chars of a text for a truncated display, cutting at
/// a space; returns the byte length kept.
pub(super) fn cut_at_chars(text: &str, max: usize) -> usize {
    let Some((end, _)) = text.char_indices().nth(max) else {
        return text.len();
    };
    match text[..end].rfind(' ') {
        Some(sp) if sp > end / 2 => sp,
        _ => end,
    }
}

fn serialize(out: &mut Vec<u8>, value: &impl Serialize) {
    // Writing these types into memory cannot fail: every map key is a string.
    serde_json::to_writer(out, value).expect("payload types serialize");
}

impl Tables {
    fn mention_of<'a>(&'a self, name: &str, extra: Extra<'a>) -> Option<(u64, &'a str)> {
        if let Some((u, id, n)) = extra {
            if u == name {
                return Some((id, n));
            }
        }
        self.handle_ids.get(name).map(|(id, n)| (*id, n.as_str()))
    }

    fn entities_v2<'a>(
        &'a self,
        text: &'a str,
        ents: &[Ent],
        extra: Extra<'a>,
    ) -> Option<V2Entities<'a>> {
        if ents.is_empty() {
            return None;
        }
        let name = |e: &Ent| &text[e.bstart + 1..e.bend];
        Some(V2Entities {
            mentions: ents
                .iter()
                .filter(|e| e.mention)
                .map(|e| V2Mention {
                    start: e.start,
                    end: e.end,
                    username: name(e),
                    id: self.mention_of(name(e), extra).map(|(id, _)| IdStr(id)),
                })
                .collect(),
            hashtags: ents
                .iter()
                .filter(|e| !e.mention)
                .map(|e| V2Hashtag {
                    start: e.start,
                    end: e.end,
                    tag: name(e),
                })
                .collect(),
        })
    }

    /// v1.1 `entities`, keeping those that end within `limit_chars`.
    fn entities_v1<'a>(
        &'a self,
        text: &'a str,
        ents: &[Ent],
        extra: Extra<'a>,
        limit_chars: usize,
        url: Option<Link>,
    ) -> V1Entities<'a> {
        let name = |e: &Ent| &text[e.bstart + 1..e.bend];
        let kept = |mention: bool| {
            ents.iter()
                .filter(move |e| e.mention == mention && e.end <= limit_chars)
        };
        V1Entities {
            hashtags: kept(false)
                .map(|e| V1Hashtag {
                    text: name(e),
                    indices: [e.start, e.end],
                })
                .collect(),
            user_mentions: kept(true)
                .map(|e| {
                    let who = self.mention_of(name(e), extra);
                    V1Mention {
                        screen_name: name(e),
                        name: who.map(|(_, n)| n),
                        id: who.map(|(id, _)| id),
                        id_str: who.map(|(id, _)| IdStr(id)),
                        indices: [e.start, e.end],
                    }
                })
                .collect(),
            urls: url
                .map(|(s, e, tco, id)| V1Url {
                    url: tco,
                    expanded_url: format!("https://twitter.com/i/web/status/{id}"),
                    display_url: "twitter.com/i/web/status/1\u{2026}",
                    indices: [s, e],
                })
                .into_iter()
                .collect(),
        }
    }

    /// A citizen's tweet or retweet in either format.
    pub(super) fn write(&self, o: &Out<'_>, ents: &[Ent], v1: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(if v1 { 1400 } else { 900 } + o.text.len() * 2);
        if v1 {
            serialize(&mut out, &self.status_v1(o, ents));
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
        let region = |r: u16| &self.regions[r as usize];
        let geo = match o.geo {
            Geo::None => None,
            Geo::Point(lon, lat) => Some(V2Geo {
                place_id: None,
                coordinates: Some(point(lon, lat)),
            }),
            Geo::Place(r) => Some(V2Geo {
                place_id: Some(&region(r).place_id),
                coordinates: None,
            }),
            Geo::PointAndPlace(lon, lat, r) => Some(V2Geo {
                place_id: Some(&region(r).place_id),
                coordinates: Some(point(lon, lat)),
            }),
        };
        let mut users = vec![v2_user(a, a.verified)];
        users.extend(o.retweet.map(|(_, oa)| v2_user(oa, oa.verified)));
        let envelope = V2Envelope {
            data: V2Tweet {
                head: V2Head {
                    id: IdStr(o.id),
                    text: shown,
                    author_id: IdStr(a.id),
                    created_at: Time::V2(o.at_ms),
                    conversation_id: IdStr(o.conversation_id),
                },
                lang: o.lang_hint,
                referenced_tweets: o.retweet.map(|(orig, _)| {
                    [Referenced {
                        kind: "retweeted",
                        id: IdStr(orig.id),
                    }]
                }),
                tail: V2Tail {
                    edit_history_tweet_ids: [IdStr(o.id)],
                    entities: self.entities_v2(shown, ents, extra),
                },
                geo,
            },
            includes: V2Includes {
                users,
                places: match o.geo {
                    Geo::Place(r) | Geo::PointAndPlace(_, _, r) => Some([&region(r).v2_place]),
                    _ => None,
                },
                tweets: o.retweet.map(|(orig, oa)| {
                    [V2Included {
                        id: IdStr(orig.id),
                        text: &orig.text,
                        author_id: IdStr(oa.id),
                        created_at: Time::V2(orig.at_ms),
                        lang: orig.lang_hint,
                    }]
                }),
            },
            matching_rules: [RULE],
        };
        serialize(out, &envelope);
    }

    /// A v1.1 status; a retweet carries the whole original in
    /// `retweeted_status`, a long tweet is cut to 140 chars with a link and
    /// carries its whole text in `extended_tweet`.
    fn status_v1<'a>(&'a self, o: &Out<'a>, ents: &[Ent]) -> V1Status<'a> {
        let extra = o
            .retweet
            .map(|(_, oa)| (oa.username.as_str(), oa.id, oa.name.as_str()));
        let n_chars = o.text.chars().count();
        if let Some((orig, oa)) = o.retweet {
            // Classic retweets: the outer text is cut to 140 chars, the
            // whole original rides in `retweeted_status`.
            let (text, limit) = if n_chars > 140 {
                let cut = cut_at_chars(o.text, 139);
                (
                    Cow::Owned(format!("{}…", &o.text[..cut])),
                    o.text[..cut].chars().count(),
                )
            } else {
                (Cow::Borrowed(o.text), n_chars)
            };
            let entities = self.entities_v1(o.text, ents, extra, limit, None);
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
            return V1Status {
                retweeted_status: Some(Box::new(self.status_v1(&inner, &inner_ents))),
                retweet_count: Some(0),
                favorite_count: Some(0),
                ..self.status_v1_base(o, text, entities)
            };
        }
        if n_chars > 140 {
            let cut = cut_at_chars(o.text, 113);
            let kept = o.text[..cut].chars().count();
            let tco = format!("https://t.co/{}", short_code(o.id));
            let shown = format!("{}… {}", &o.text[..cut], tco);
            let url_start = kept + 2;
            let url_end = url_start + tco.len();
            let link = (url_start, url_end, tco, o.id);
            return V1Status {
                display_text_range: Some([0, kept + 1]),
                truncated: true,
                extended_tweet: Some(V1Extended {
                    full_text: o.text,
                    display_text_range: [0, n_chars],
                    entities: self.entities_v1(o.text, ents, extra, usize::MAX, None),
                }),
                ..self.status_v1_base(
                    o,
                    Cow::Owned(shown),
                    self.entities_v1(o.text, ents, extra, kept, Some(link)),
                )
            };
        }
        let entities = self.entities_v1(o.text, ents, extra, usize::MAX, None);
        self.status_v1_base(o, Cow::Borrowed(o.text), entities)
    }

    /// A v1.1 status showing `text`, with whom it replies to, its author,
    /// its coordinates and place.
    fn status_v1_base<'a>(
        &'a self,
        o: &Out<'a>,
        text: Cow<'a, str>,
        entities: V1Entities<'a>,
    ) -> V1Status<'a> {
        let (geo, coordinates) = match o.geo {
            Geo::Point(lon, lat) | Geo::PointAndPlace(lon, lat, _) => {
                (Some(point(lat, lon)), Some(point(lon, lat)))
            }
            _ => (None, None),
        };
        let place = match o.geo {
            Geo::Place(r) | Geo::PointAndPlace(_, _, r) => Some(&self.regions[r as usize].v1_place),
            _ => None,
        };
        V1Status {
            created_at: Time::V1(o.at_ms),
            id: o.id,
            id_str: IdStr(o.id),
            text,
            display_text_range: None,
            source: SOURCE,
            truncated: false,
            in_reply_to_status_id: o.reply.map(|r| r.0),
            in_reply_to_status_id_str: o.reply.map(|r| IdStr(r.0)),
            in_reply_to_user_id: o.reply.map(|r| r.1),
            in_reply_to_user_id_str: o.reply.map(|r| IdStr(r.1)),
            in_reply_to_screen_name: o.reply.map(|r| r.2),
            user: v1_user(o.author),
            geo,
            coordinates,
            place,
            retweeted_status: None,
            extended_tweet: None,
            is_quote_status: false,
            retweet_count: None,
            favorite_count: None,
            entities,
            favorited: false,
            retweeted: false,
            filter_level: "low",
            lang: o.lang_hint,
            timestamp_ms: IdStr(o.at_ms.max(0) as u64),
        }
    }

    /// An official reply (agency or governor) to a citizen's tweet.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_reply(
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
        let extra = Some((oa.username.as_str(), oa.id, oa.name.as_str()));
        let mut out = Vec::with_capacity(1200);
        if v1 {
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
            let entities = self.entities_v1(text, ents, extra, usize::MAX, None);
            serialize(
                &mut out,
                &self.status_v1_base(&o, Cow::Borrowed(text), entities),
            );
        } else {
            let envelope = V2Envelope {
                data: V2Reply {
                    head: V2Head {
                        id: IdStr(id),
                        text,
                        author_id: IdStr(author.id),
                        created_at: Time::V2(at_ms),
                        conversation_id: IdStr(orig.id),
                    },
                    in_reply_to_user_id: IdStr(oa.id),
                    referenced_tweets: [Referenced {
                        kind: "replied_to",
                        id: IdStr(orig.id),
                    }],
                    lang: "in",
                    tail: V2Tail {
                        edit_history_tweet_ids: [IdStr(id)],
                        entities: self.entities_v2(text, ents, extra),
                    },
                },
                includes: V2Includes {
                    users: vec![v2_user(author, true)],
                    places: None,
                    tweets: None,
                },
                matching_rules: [RULE],
            };
            serialize(&mut out, &envelope);
        }
        out
    }
}

/// A t.co-like code derived from a tweet id.
pub(super) fn short_code(id: u64) -> String {
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
