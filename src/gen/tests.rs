//! The generator's tests: determinism, shapes of both payload formats,
//! realistic shares and rhythms, bursts, and the pinned payloads.

use super::dates::DEFAULT_START_MS;
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
    assert_eq!(
        dates::v1_time(chrono_ms + 3_723_456).to_string(),
        "Mon Jan 05 01:02:03 +0000 2026"
    );
    assert_eq!(
        dates::format_v2_time(chrono_ms + 3_723_456),
        "2026-01-05T01:02:03.000Z"
    );
    // Months in WIB: 1 January 2026 00:00 WIB is 31 December 2025 17:00 UTC.
    let (month, from, until) = dates::wib_month(chrono_ms);
    assert_eq!(month, 0);
    assert_eq!(from, chrono_ms - 4 * DAY_MS - WIB_OFFSET_MS);
    assert_eq!(until, from + 31 * DAY_MS);
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
                    assert!(d.get("text").is_none() && d.get("id").or(d.get("id_str")).is_some());
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
    for (t, text) in c.topics.iter().zip(super::tables::topic_texts(&c)) {
        let n = topics.get(&t.id).copied().unwrap_or(0);
        match text {
            Some(_) => assert!(n > 0 || t.id == "drought", "topic {} never appears", t.id),
            None => assert_eq!(n, 0, "topic {} has no templates but appears", t.id),
        }
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
            "ff7e088c1ffcb040e22d87ff1c0ad0c7e44b2ba86153730cb56ea08b0135d238",
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
            "e99542b5b63f1b6a1b56b14402fb12dcb2eb79fbffd09a4a20aa17bf1fe58766",
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
            "80463a4cf0f6664c7efc6f6a5fbb7693af1e25a44e96994916f9ec1e0c1eab19",
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

#[test]
fn every_core_template_names_its_place_once() {
    let t = templates();
    assert_eq!(t.topic.len(), 17);
    let cores = t
        .topic
        .iter()
        .flat_map(|x| [&x.id, &x.jv, &x.ngapak, &x.en]);
    for s in cores.flatten() {
        assert_eq!(s.matches("{loc}").count(), 1, "`{s}`");
    }
    for f in &t.forward {
        assert!(f.text.contains("@{agency}"), "`{}`", f.text);
    }
}

fn busy(seed: u64) -> GenOptions {
    GenOptions {
        seed,
        mean_tweets_per_hour: 4000.0,
        ..GenOptions::default()
    }
}

/// A feed of ordinary traffic that, from `at` on, also carries incidents
/// every 5 minutes, each 2 min 30 s long at 12 complainants a minute; and
/// what it gave before.
fn live_feed_after(seed: u64, at: i64) -> (Generator, Vec<Generated>) {
    let mut g = Generator::new(&config(), busy(seed));
    let mut before = Vec::new();
    while g.event_time_ms() < at {
        before.extend(g.next());
    }
    g.schedule_incidents(Incidents {
        first_ms: at + 30 * SECOND_MS,
        every_ms: 5 * MINUTE_MS,
        duration_ms: 150 * SECOND_MS,
        per_minute: 12.0,
    });
    (g, before)
}

fn live_feed(seed: u64, at: i64) -> Generator {
    live_feed_after(seed, at).0
}

#[test]
fn incidents_come_on_schedule_in_rotation_and_are_answered_within_minutes() {
    let start = GenOptions::default().start_ms;
    let at = start + 26 * HOUR_MS + 17 * MINUTE_MS;
    let mut g = live_feed(5, at);
    let schedule: Vec<Incident> = (0..12).map(|k| g.incident(k).unwrap()).collect();
    assert_eq!(schedule[0].start_ms, at + 30 * SECOND_MS);
    assert_eq!(schedule[0].end_ms, at + 180 * SECOND_MS);
    assert_eq!(
        (schedule[0].topic.as_str(), schedule[0].region_code),
        ("flood", 3321)
    );
    assert_eq!(
        (schedule[1].topic.as_str(), schedule[1].region_code),
        ("illegal_fees", 3329)
    );
    let kinds = templates().incident.len() as u64;
    assert_eq!(
        g.incident(kinds).unwrap().topic,
        "flood",
        "the rotation repeats"
    );
    let until = schedule[11].end_ms;
    let mut per_incident = vec![0usize; schedule.len()];
    let mut incident_tweets: HashMap<u64, i64> = HashMap::new();
    let mut answers = Vec::new();
    while g.event_time_ms() < until {
        let Some(Generated {
            truth:
                Truth::Tweet {
                    id,
                    created_at_ms,
                    topics,
                    region_code,
                    in_burst,
                    reply_to,
                    official,
                    ..
                },
            ..
        }) = g.next()
        else {
            continue;
        };
        if in_burst {
            let k = schedule
                .iter()
                .position(|i| (i.start_ms - SECOND_MS..i.end_ms).contains(&created_at_ms))
                .unwrap_or_else(|| {
                    panic!("an incident tweet at {created_at_ms} outside every incident")
                });
            assert_eq!(topics, [schedule[k].topic.clone()]);
            assert_eq!(region_code, schedule[k].region_code);
            per_incident[k] += 1;
            incident_tweets.insert(id, created_at_ms);
        }
        if let (Some(to), true) = (reply_to, official) {
            if let Some(t0) = incident_tweets.get(&to) {
                answers.push(created_at_ms - t0);
            }
        }
    }
    // The answers to the last incidents come later.
    while g.event_time_ms() < until + 2 * HOUR_MS {
        if let Some(Generated {
            truth:
                Truth::Tweet {
                    created_at_ms,
                    reply_to: Some(to),
                    official: true,
                    ..
                },
            ..
        }) = g.next()
        {
            if let Some(t0) = incident_tweets.get(&to) {
                answers.push(created_at_ms - t0);
            }
        }
    }
    // 12 a minute for 2.5 minutes: 30 expected each.
    for (k, n) in per_incident.iter().enumerate() {
        assert!((12..=55).contains(n), "incident {k}: {n} tweets");
    }
    assert!(
        answers.len() * 3 > incident_tweets.len(),
        "about half are answered"
    );
    answers.sort_unstable();
    let median = answers[answers.len() / 2];
    assert!(
        (5 * MINUTE_MS..30 * MINUTE_MS).contains(&median),
        "median answer after {median} ms"
    );
    assert!(answers.iter().all(|&a| a <= 2 * HOUR_MS + SECOND_MS));
}

#[test]
fn the_same_schedule_gives_the_same_bytes_and_without_one_nothing_changes() {
    let start = GenOptions::default().start_ms;
    let at = start + 3 * HOUR_MS;
    let take = |mut g: Generator| -> Vec<Generated> { (&mut g).take(20_000).collect() };
    assert!(take(live_feed(9, at)) == take(live_feed(9, at)));
    // Before the schedule is set, the output is the plain generator's; with
    // it, incident tweets appear.
    let (mut g, before) = live_feed_after(9, at);
    let plain = generate(&config(), busy(9), before.len() + 20_000);
    assert!(before[..] == plain[..before.len()]);
    let incident = |x: &Generated| matches!(x.truth, Truth::Tweet { in_burst: true, .. });
    assert!(!plain.iter().any(incident));
    assert!((&mut g).take(20_000).any(|x| incident(&x)));
}

#[test]
fn a_message_rate_becomes_tweets_per_hour() {
    let per_second = 2.0;
    let base = GenOptions {
        bursts: Vec::new(),
        ..GenOptions::default()
    };
    let opts = GenOptions {
        mean_tweets_per_hour: per_second * 3600.0 / base.messages_per_original(),
        ..base
    };
    let start = opts.start_ms;
    let mut g = Generator::new(&config(), opts);
    let mut n = 0u64;
    // A whole week, so the daily and weekly rhythms average out; the first
    // day (reactions still building up) is left out.
    while g.event_time_ms() < start + 8 * DAY_MS {
        g.next();
        if g.event_time_ms() >= start + DAY_MS {
            n += 1;
        }
    }
    let rate = n as f64 / (7.0 * 86_400.0);
    assert!(
        (rate / per_second - 1.0).abs() < 0.05,
        "{rate:.3} messages/s for {per_second}"
    );
}
