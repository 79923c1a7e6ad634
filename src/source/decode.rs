//! Decoding one Kafka message into a [`Tweet`], or a precise reason why not.
//!
//! Both Twitter API v2 (`{"data":…,"includes":…}`) and v1.1 status objects
//! are accepted, detected per message. The raw structs below have every field
//! optional so that one serde pass reads either format, and the checks after
//! it turn a missing or malformed field into a [`Reject`] reason that an
//! operator can act on. serde_json's recursion limit (128) turns deeply nested
//! input into an error rather than a stack overflow.

use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;

use crate::model::{Mention, Place, Reject, Tweet};

/// A rejection with a human explanation for the dead-letter topic.
#[derive(Clone, Debug, PartialEq)]
pub struct Rejection {
    pub reason: Reject,
    pub detail: String,
}

fn reject(reason: Reject, detail: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        detail: detail.into(),
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Str(String),
    Num(u64),
}

impl IdValue {
    fn parse(&self) -> Option<u64> {
        match self {
            IdValue::Str(s) => s.trim().parse().ok(),
            IdValue::Num(n) => Some(*n),
        }
    }
}

// ---- Twitter API v2 ------------------------------------------------------

#[derive(Deserialize)]
struct V2Envelope {
    data: Option<V2Tweet>,
    #[serde(default)]
    includes: V2Includes,
}

#[derive(Deserialize, Default)]
struct V2Includes {
    #[serde(default)]
    users: Vec<V2User>,
    #[serde(default)]
    places: Vec<V2Place>,
}

#[derive(Deserialize)]
struct V2User {
    id: Option<String>,
    username: Option<String>,
    location: Option<String>,
}

#[derive(Deserialize)]
struct V2Place {
    id: Option<String>,
    full_name: Option<String>,
    geo: Option<V2PlaceGeo>,
}

#[derive(Deserialize)]
struct V2PlaceGeo {
    bbox: Option<Vec<f64>>,
}

#[derive(Deserialize)]
struct V2Tweet {
    id: Option<IdValue>,
    text: Option<String>,
    note_tweet: Option<V2NoteTweet>,
    author_id: Option<String>,
    created_at: Option<String>,
    conversation_id: Option<IdValue>,
    in_reply_to_user_id: Option<String>,
    #[serde(default)]
    referenced_tweets: Vec<V2Ref>,
    lang: Option<String>,
    entities: Option<V2Entities>,
    geo: Option<V2Geo>,
}

#[derive(Deserialize)]
struct V2NoteTweet {
    text: Option<String>,
}

#[derive(Deserialize)]
struct V2Ref {
    #[serde(rename = "type")]
    kind: Option<String>,
    id: Option<IdValue>,
}

#[derive(Deserialize)]
struct V2Entities {
    #[serde(default)]
    mentions: Vec<V2Mention>,
    #[serde(default)]
    hashtags: Vec<V2Hashtag>,
}

#[derive(Deserialize)]
struct V2Mention {
    username: Option<String>,
    id: Option<String>,
}

#[derive(Deserialize)]
struct V2Hashtag {
    tag: Option<String>,
}

#[derive(Deserialize)]
struct V2Geo {
    place_id: Option<String>,
    coordinates: Option<Point>,
}

#[derive(Deserialize)]
struct Point {
    coordinates: Option<Vec<f64>>,
}

// ---- Twitter API v1.1 ----------------------------------------------------

#[derive(Deserialize)]
struct V1Status {
    /// API v2: present (even as null) only in a v2 envelope.
    #[serde(default, deserialize_with = "present")]
    data: Option<Option<V2Tweet>>,
    #[serde(default)]
    includes: V2Includes,
    id: Option<IdValue>,
    id_str: Option<String>,
    text: Option<String>,
    full_text: Option<String>,
    extended_tweet: Option<V1Extended>,
    created_at: Option<String>,
    user: Option<V1User>,
    in_reply_to_status_id_str: Option<String>,
    in_reply_to_user_id_str: Option<String>,
    entities: Option<V1Entities>,
    coordinates: Option<Point>,
    place: Option<V1Place>,
    lang: Option<String>,
    retweeted_status: Option<Box<V1Status>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct V1Extended {
    full_text: Option<String>,
    entities: Option<V1Entities>,
}

#[derive(Deserialize)]
struct V1User {
    id_str: Option<String>,
    id: Option<IdValue>,
    screen_name: Option<String>,
    location: Option<String>,
}

#[derive(Deserialize)]
struct V1Entities {
    #[serde(default)]
    hashtags: Vec<V1Hashtag>,
    #[serde(default)]
    user_mentions: Vec<V1Mention>,
}

#[derive(Deserialize)]
struct V1Hashtag {
    text: Option<String>,
}

#[derive(Deserialize)]
struct V1Mention {
    screen_name: Option<String>,
    id_str: Option<String>,
}

#[derive(Deserialize)]
struct V1Place {
    full_name: Option<String>,
    bounding_box: Option<V1Bbox>,
}

#[derive(Deserialize)]
struct V1Bbox {
    coordinates: Option<Vec<Vec<Vec<f64>>>>,
}

/// Decodes one message payload. `max_bytes` bounds the payload size.
pub fn decode(payload: Option<&[u8]>, max_bytes: usize) -> Result<Tweet, Rejection> {
    let bytes = match payload {
        None => return Err(reject(Reject::Empty, "the message has no payload")),
        Some(b) if b.iter().all(u8::is_ascii_whitespace) => {
            return Err(reject(Reject::Empty, "the message is empty"))
        }
        Some(b) => b,
    };
    if bytes.len() > max_bytes {
        return Err(reject(
            Reject::Oversized,
            format!(
                "the message is {} bytes; the limit is {max_bytes}",
                bytes.len()
            ),
        ));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        reject(
            Reject::NotUtf8,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    // One pass reads either format: a v2 envelope has `data`, a v1.1
    // status has its fields at the top level.
    let mut raw: V1Status = serde_json::from_str(text).map_err(classify_json_error)?;
    match raw.data.take() {
        Some(None) => Err(reject(Reject::NotTweet, "`data` is null")),
        Some(Some(data)) => from_v2(V2Envelope {
            data: Some(data),
            includes: std::mem::take(&mut raw.includes),
        }),
        None if raw.id_str.is_some()
            || raw.id.is_some()
            || raw.text.is_some()
            || raw.full_text.is_some() =>
        {
            from_v1(raw)
        }
        None => Err(reject(
            Reject::NotTweet,
            "the JSON has neither `data` (API v2) nor `id_str`/`text` (API v1.1)",
        )),
    }
}

fn classify_json_error(e: serde_json::Error) -> Rejection {
    let msg = e.to_string();
    if msg.contains("recursion limit") {
        reject(Reject::TooDeep, "the JSON nests deeper than 128 levels")
    } else if e.is_data() {
        // Valid JSON of the wrong shape: an array, or a field of the wrong type.
        reject(Reject::NotTweet, format!("not a tweet: {msg}"))
    } else {
        reject(Reject::NotJson, format!("not JSON: {msg}"))
    }
}

fn parse_created_at(s: Option<&str>) -> Result<i64, Rejection> {
    let s = s.ok_or_else(|| reject(Reject::BadCreatedAt, "`created_at` is missing"))?;
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_millis());
    }
    // v1.1: "Wed Nov 02 03:20:05 +0000 2022"
    if let Ok(t) = DateTime::parse_from_str(s, "%a %b %d %H:%M:%S %z %Y") {
        return Ok(t.timestamp_millis());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(t.and_utc().timestamp_millis());
    }
    Err(reject(
        Reject::BadCreatedAt,
        format!(
            "`created_at` is `{}`: neither RFC 3339 nor the v1.1 format",
            truncate(s, 60)
        ),
    ))
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn normalise_lang(l: Option<String>) -> Option<String> {
    l.map(|l| if l == "in" { "id".to_string() } else { l })
}

fn bbox_from(v: Option<Vec<f64>>) -> Option<[f64; 4]> {
    match v.as_deref() {
        Some([w, s, e, n]) if w.is_finite() && s.is_finite() && e.is_finite() && n.is_finite() => {
            Some([*w, *s, *e, *n])
        }
        _ => None,
    }
}

fn point_from(p: Option<Point>) -> Option<(f64, f64)> {
    match p.and_then(|p| p.coordinates).as_deref() {
        Some([lon, lat]) if lon.is_finite() && lat.is_finite() => Some((*lon, *lat)),
        _ => None,
    }
}

fn from_v2(env: V2Envelope) -> Result<Tweet, Rejection> {
    let d = env
        .data
        .ok_or_else(|| reject(Reject::NotTweet, "`data` is null"))?;
    let id =
        d.id.as_ref()
            .ok_or_else(|| reject(Reject::MissingId, "`data.id` is missing"))?
            .parse()
            .ok_or_else(|| reject(Reject::MissingId, "`data.id` is not a numeric id"))?;
    let text = d
        .note_tweet
        .and_then(|n| n.text)
        .or(d.text)
        .ok_or_else(|| reject(Reject::MissingText, "`data.text` is missing"))?;
    let created_at_ms = parse_created_at(d.created_at.as_deref())?;
    let author_id = d.author_id.unwrap_or_default();
    let user = env
        .includes
        .users
        .into_iter()
        .find(|u| u.id.as_deref() == Some(author_id.as_str()));
    let (author_username, author_location) = match user {
        Some(u) => (u.username.unwrap_or_default(), u.location),
        None => (String::new(), None),
    };
    let mut in_reply_to_tweet = None;
    let mut retweet_of = None;
    for r in &d.referenced_tweets {
        match (r.kind.as_deref(), r.id.as_ref().and_then(IdValue::parse)) {
            (Some("replied_to"), Some(id)) => in_reply_to_tweet = Some(id),
            (Some("retweeted"), Some(id)) => retweet_of = Some(id),
            _ => {}
        }
    }
    let (mentions, hashtags) = match d.entities {
        Some(e) => (
            e.mentions
                .into_iter()
                .filter_map(|m| {
                    Some(Mention {
                        username: m.username?,
                        id: m.id,
                    })
                })
                .collect(),
            e.hashtags.into_iter().filter_map(|h| h.tag).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let (place, coordinates) = match d.geo {
        Some(g) => {
            let place = g.place_id.and_then(|pid| {
                env.includes
                    .places
                    .into_iter()
                    .find(|p| p.id.as_deref() == Some(pid.as_str()))
                    .map(|p| Place {
                        full_name: p.full_name.unwrap_or_default(),
                        bbox: bbox_from(p.geo.and_then(|g| g.bbox)),
                    })
            });
            (place, point_from(g.coordinates))
        }
        None => (None, None),
    };
    Ok(Tweet {
        id,
        text,
        created_at_ms,
        author_id,
        author_username,
        author_location,
        conversation_id: d.conversation_id.as_ref().and_then(IdValue::parse),
        in_reply_to_tweet,
        in_reply_to_user: d.in_reply_to_user_id,
        retweet_of,
        mentions,
        hashtags,
        place,
        coordinates,
        lang_hint: normalise_lang(d.lang),
    })
}

fn from_v1(st: V1Status) -> Result<Tweet, Rejection> {
    let id = match (&st.id_str, &st.id) {
        (Some(s), _) => s.trim().parse().ok(),
        (None, Some(v)) => v.parse(),
        (None, None) => return Err(reject(Reject::MissingId, "`id_str` and `id` are missing")),
    }
    .ok_or_else(|| reject(Reject::MissingId, "`id_str` is not a numeric id"))?;
    let created_at_ms = {
        let ext_text = st.extended_tweet.as_ref().and_then(|e| e.full_text.clone());
        if ext_text.is_none() && st.full_text.is_none() && st.text.is_none() {
            return Err(reject(Reject::MissingText, "`text` is missing"));
        }
        parse_created_at(st.created_at.as_deref())?
    };
    let retweet_of = st.retweeted_status.as_ref().and_then(|rt| {
        rt.id_str
            .as_ref()
            .and_then(|s| s.parse().ok())
            .or_else(|| rt.id.as_ref().and_then(IdValue::parse))
    });
    let (text, entities) = match st.extended_tweet {
        Some(ext) if ext.full_text.is_some() => (
            ext.full_text.unwrap_or_default(),
            ext.entities.or(st.entities),
        ),
        _ => (st.full_text.or(st.text).unwrap_or_default(), st.entities),
    };
    let (mentions, hashtags) = match entities {
        Some(e) => (
            e.user_mentions
                .into_iter()
                .filter_map(|m| {
                    Some(Mention {
                        username: m.screen_name?,
                        id: m.id_str,
                    })
                })
                .collect(),
            e.hashtags.into_iter().filter_map(|h| h.text).collect(),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let (author_id, author_username, author_location) = match st.user {
        Some(u) => (
            u.id_str
                .or_else(|| u.id.and_then(|v| v.parse()).map(|n| n.to_string()))
                .unwrap_or_default(),
            u.screen_name.unwrap_or_default(),
            u.location,
        ),
        None => (String::new(), String::new(), None),
    };
    let place = st.place.map(|p| Place {
        full_name: p.full_name.unwrap_or_default(),
        bbox: p
            .bounding_box
            .and_then(|b| b.coordinates)
            .and_then(|rings| {
                let ring = rings.into_iter().next()?;
                let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
                for pt in ring {
                    if let [lon, lat] = pt[..] {
                        w = w.min(lon);
                        e = e.max(lon);
                        s = s.min(lat);
                        n = n.max(lat);
                    }
                }
                (w <= e && s <= n).then_some([w, s, e, n])
            }),
    });
    let in_reply_to_tweet = st.in_reply_to_status_id_str.and_then(|s| s.parse().ok());
    Ok(Tweet {
        id,
        text,
        created_at_ms,
        author_id,
        author_username,
        author_location,
        // v1.1 has no conversation id; a reply's thread is its reply target.
        conversation_id: None,
        in_reply_to_tweet,
        in_reply_to_user: st.in_reply_to_user_id_str,
        retweet_of,
        mentions,
        hashtags,
        place,
        coordinates: point_from(st.coordinates),
        lang_hint: normalise_lang(st.lang),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    fn check_reject(payload: &[u8], expected: Reject) {
        let r = decode(Some(payload), MAX).expect_err("should be rejected");
        assert_eq!(
            r.reason,
            expected,
            "{:?}: {}",
            String::from_utf8_lossy(&payload[..payload.len().min(80)]),
            r.detail
        );
    }

    #[test]
    fn decodes_the_samples() {
        let v2 = decode(
            Some(include_bytes!("../../tests/data/samples/tweet-v2.json")),
            MAX,
        )
        .unwrap();
        assert_eq!(v2.id, 1587654321098765432);
        assert_eq!(v2.author_username, "warga_smg");
        assert_eq!(v2.lang_hint.as_deref(), Some("id"));
        assert_eq!(v2.hashtags, vec!["KemalaJateng"]);
        assert_eq!(v2.place.as_ref().unwrap().full_name, "Semarang, Indonesia");
        assert_eq!(v2.created_at_ms, 1667358942000);

        let reply = decode(
            Some(include_bytes!("../../tests/data/samples/reply-v2.json")),
            MAX,
        )
        .unwrap();
        assert_eq!(reply.in_reply_to_tweet, Some(1587654321098765432));
        assert_eq!(reply.conversation_id, Some(1587654321098765432));
        assert_eq!(
            reply.created_at_ms - v2.created_at_ms,
            (3600 + 46 * 60 + 28) * 1000
        );

        let v1 = decode(
            Some(include_bytes!("../../tests/data/samples/tweet-v1.json")),
            MAX,
        )
        .unwrap();
        assert_eq!(v1.id, 1587655421098765433);
        assert_eq!(v1.coordinates, Some((110.5093, -6.9286)));
        assert_eq!(v1.author_location.as_deref(), Some("Demak"));
        assert_eq!(v1.created_at_ms, 1667359205000);

        let rt = decode(
            Some(include_bytes!("../../tests/data/samples/retweet-v1.json")),
            MAX,
        )
        .unwrap();
        assert_eq!(rt.retweet_of, Some(1587655421098765433));
    }

    #[test]
    fn every_kind_of_bad_message_has_its_reason() {
        check_reject(b"", Reject::Empty);
        check_reject(b"  \n", Reject::Empty);
        check_reject(b"hello kafka", Reject::NotJson);
        check_reject(b"{\"truncated\": ", Reject::NotJson);
        check_reject(b"[1,2,3]", Reject::NotTweet);
        check_reject(b"{\"hello\": \"world\"}", Reject::NotTweet);
        check_reject(
            br#"{"data": {"text": "banjir", "created_at": "2022-11-02T03:15:42Z"}}"#,
            Reject::MissingId,
        );
        check_reject(
            br#"{"data": {"id": "12", "created_at": "2022-11-02T03:15:42Z"}}"#,
            Reject::MissingText,
        );
        check_reject(
            br#"{"data": {"id": "12", "text": "banjir", "created_at": "yesterday"}}"#,
            Reject::BadCreatedAt,
        );
        check_reject(
            br#"{"id_str": "12", "created_at": "Wed Nov 02 03:20:05 +0000 2022"}"#,
            Reject::MissingText,
        );
        check_reject(b"{\"text\": \"banjir \xff\xfe\"}", Reject::NotUtf8);
        let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
        check_reject(deep.as_bytes(), Reject::TooDeep);
        let big = format!(
            r#"{{"data": {{"id": "1", "text": "{}"}}}}"#,
            "a".repeat(MAX)
        );
        check_reject(big.as_bytes(), Reject::Oversized);
        assert_eq!(decode(None, MAX).unwrap_err().reason, Reject::Empty);
    }

    #[test]
    fn lang_in_means_indonesian_and_numeric_ids_are_read() {
        let t = decode(Some(br#"{"id": 42, "text": "x", "created_at": "Wed Nov 02 03:20:05 +0000 2022", "lang": "in"}"#), MAX).unwrap();
        assert_eq!(t.id, 42);
        assert_eq!(t.lang_hint.as_deref(), Some("id"));
    }
}
