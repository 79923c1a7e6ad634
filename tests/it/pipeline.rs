//! The pipeline through the real Kafka protocol, in-process: external
//! producers, bad input and dead letters, duplicates, and the search API.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::Duration;

use kemala::gen::Truth;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Headers, Message};
use rdkafka::ClientConfig;
use serde_json::Value;

use crate::common::{clean_generator, counter, http, produce_all, repo, run_ok, wait_for};
use crate::engine::InProc;

fn hit_by_id(e: &InProc, q: &str, id: &str) -> Value {
    let res = e.get(&format!("/api/search?q={q}&limit=100"));
    res["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("tweet {id} not found searching `{q}`: {res}"))
}

fn has_topic(hit: &Value, topic: &str) -> bool {
    hit["topics"].as_array().unwrap().iter().any(|t| t == topic)
}

#[test]
fn kcat_produces_the_samples_and_each_is_enriched() {
    let e = InProc::start(4, |_| {});
    let samples = repo().join("tests/data/samples");
    let files: Vec<_> = [
        "tweet-v2.json",
        "reply-v2.json",
        "tweet-v1.json",
        "retweet-v1.json",
    ]
    .iter()
    .map(|f| samples.join(f))
    .collect();
    // kcat, a separate process and a different Kafka client, produces one
    // message per file.
    run_ok(
        Command::new("kcat")
            .args(["-b", &e.bootstrap(), "-t", "tweets", "-P"])
            .args(&files),
        "kcat (scripts/test.sh installs it)",
    );
    e.wait_committed(4);

    let v2 = hit_by_id(&e, "jeglongan", "1587654321098765432");
    assert_eq!(v2["lang"], "id");
    assert!(has_topic(&v2, "road_damage"), "{v2}");
    assert_eq!(v2["region"]["code"], "3374");
    assert_eq!(v2["region"]["name"], "Kota Semarang");
    assert_eq!(v2["is_complaint"], true);
    assert!(
        v2["highlight"]
            .as_str()
            .unwrap()
            .contains("<b>jeglongan</b>"),
        "{v2}"
    );

    let v1 = hit_by_id(&e, "sayung", "1587655421098765433");
    assert_eq!(v1["lang"], "id");
    assert!(has_topic(&v1, "flood"), "{v1}");
    assert_eq!(v1["region"]["code"], "3321");
    assert_eq!(v1["is_complaint"], true);

    let rt = hit_by_id(&e, "sayung", "1587656621098765434");
    assert_eq!(
        rt["is_complaint"], false,
        "a retweet is not a new complaint"
    );
    assert_eq!(rt["region"]["code"], "3321");

    let reply = hit_by_id(&e, "penambalan", "1587690000000000001");
    assert_eq!(
        reply["is_complaint"], false,
        "an agency's reply is not a complaint"
    );
    assert_eq!(reply["lang"], "id");
}

/// The nine kinds of bad message, with the reason each must be filed under.
fn bad_messages() -> Vec<(&'static str, Vec<u8>)> {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let big = format!(
        r#"{{"data":{{"id":"9","text":"{}","created_at":"2026-01-05T08:00:00Z"}}}}"#,
        "banjir ".repeat(20_000)
    );
    vec![
        ("empty", Vec::new()),
        ("not_json", b"banjir di demak {".to_vec()),
        ("not_tweet", br#"{"event":"heartbeat","n":1}"#.to_vec()),
        (
            "missing_id",
            br#"{"data":{"text":"banjir","created_at":"2026-01-05T08:00:00Z"}}"#.to_vec(),
        ),
        (
            "missing_text",
            br#"{"data":{"id":"77","created_at":"2026-01-05T08:00:00Z"}}"#.to_vec(),
        ),
        (
            "bad_created_at",
            br#"{"data":{"id":"78","text":"banjir","created_at":"kemarin sore"}}"#.to_vec(),
        ),
        (
            "not_utf8",
            b"{\"data\":{\"id\":\"79\",\"text\":\"banjir \xff\xfe\"}}".to_vec(),
        ),
        ("oversized", big.into_bytes()),
        ("too_deep", deep.into_bytes()),
    ]
}

fn good(id: u64, text: &str) -> Vec<u8> {
    format!(r#"{{"data":{{"id":"{id}","text":"{text}","author_id":"5","created_at":"2026-01-05T08:00:0{}Z","lang":"in"}}}}"#, id % 10).into_bytes()
}

#[test]
fn every_bad_message_is_counted_dead_lettered_and_skipped() {
    // One partition, so the good messages sit behind the bad ones.
    let e = InProc::start(1, |_| {});
    let mut payloads = vec![good(1001, "banjir rob di sayung pagi ini")];
    for (_, p) in bad_messages() {
        payloads.push(p);
    }
    payloads.push(good(1002, "banjir lagi di kaligawe"));
    payloads.push(good(1001, "banjir rob di sayung pagi ini"));
    let n = produce_all(&e.bootstrap(), "tweets", payloads) as u64;
    e.wait_committed(n);

    let res = e.get("/api/search?q=banjir");
    let ids: BTreeSet<&str> = res["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        BTreeSet::from(["1001", "1002"]),
        "the good messages behind the bad ones are indexed, once"
    );

    let m = e.metrics();
    for (reason, _) in bad_messages() {
        assert_eq!(
            counter(
                &m,
                &format!("kemala_messages_rejected_total{{reason=\"{reason}\"}}")
            ),
            1.0,
            "reason {reason}"
        );
    }
    assert_eq!(
        counter(&m, "kemala_messages_total{result=\"rejected\"}"),
        9.0
    );
    assert_eq!(
        counter(&m, "kemala_messages_total{result=\"duplicate\"}"),
        1.0
    );
    assert_eq!(
        counter(&m, "kemala_messages_total{result=\"indexed\"}"),
        2.0
    );

    // Each is in the dead-letter topic with its reason and its payload.
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", e.bootstrap())
        .set("group.id", "dlq-reader")
        .set("auto.offset.reset", "earliest")
        .set("fetch.message.max.bytes", "4000000")
        .create()
        .unwrap();
    c.subscribe(&["tweets.dlq"]).unwrap();
    let mut letters: BTreeMap<String, (Vec<u8>, String)> = BTreeMap::new();
    wait_for("9 dead letters", Duration::from_secs(60), || {
        if let Some(Ok(m)) = c.poll(Duration::from_millis(200)) {
            let headers = m.headers().expect("dead letters carry headers");
            let get = |k: &str| {
                headers
                    .iter()
                    .find(|h| h.key == k)
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).to_string())
                    .unwrap_or_default()
            };
            letters.insert(
                get("kemala.reason"),
                (
                    m.payload().unwrap_or_default().to_vec(),
                    get("kemala.detail"),
                ),
            );
        }
        (letters.len() == 9).then_some(())
    });
    for (reason, payload) in bad_messages() {
        let (kept, detail) = &letters[reason];
        assert_eq!(
            kept, &payload,
            "the dead letter for {reason} keeps the original bytes"
        );
        assert!(
            !detail.is_empty(),
            "the dead letter for {reason} explains itself"
        );
    }
}

#[test]
fn search_api_filters_facets_pages_and_explains_bad_queries() {
    let e = InProc::start(4, |_| {});
    let items: Vec<_> = clean_generator(|_| {}).take(3000).collect();
    let ids: BTreeSet<String> = items
        .iter()
        .filter_map(|g| match &g.truth {
            Truth::Tweet { id, .. } => Some(id.to_string()),
            _ => None,
        })
        .collect();
    let n = produce_all(
        &e.bootstrap(),
        "tweets",
        items.into_iter().map(|g| g.payload),
    ) as u64;
    e.wait_committed(n);

    let all = e.get("/api/search?limit=1");
    assert_eq!(all["total"].as_u64().unwrap() as usize, ids.len());
    // Facet counts equal the totals of the filtered searches.
    let regions = all["facets"]["region"].as_object().unwrap().clone();
    assert_eq!(
        regions.values().map(|v| v.as_u64().unwrap()).sum::<u64>(),
        all["total"].as_u64().unwrap()
    );
    for (code, count) in regions.iter().take(5) {
        let r = e.get(&format!("/api/search?region={code}&limit=1"));
        assert_eq!(&r["total"], count, "region {code}");
    }
    let topics = all["facets"]["topic"].as_object().unwrap().clone();
    assert!(
        topics.len() >= 10,
        "generated traffic spans the topics: {topics:?}"
    );
    for (t, count) in &topics {
        let r = e.get(&format!("/api/search?topic={t}&limit=1"));
        assert_eq!(&r["total"], count, "topic {t}");
    }

    // Cursor paging visits every tweet once, newest first.
    let mut seen = BTreeSet::new();
    let mut cursor = String::new();
    let mut last_id = u64::MAX;
    loop {
        let page = e.get(&format!("/api/search?limit=500&cursor={cursor}"));
        for h in page["hits"].as_array().unwrap() {
            let id: u64 = h["id"].as_str().unwrap().parse().unwrap();
            assert!(id < last_id, "pages are ordered newest first");
            last_id = id;
            assert!(seen.insert(id.to_string()), "a tweet appears on two pages");
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, ids);

    // The export streams the same set, and parses back.
    let body = e.get_text("/api/search/export?format=ndjson");
    let exported: BTreeSet<String> = body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(exported, ids);

    // Bad requests get 400 and a message that says what to fix.
    for (query, expect) in [
        ("q=%22banjir", "quotes"),
        ("q=nosuchfield:banjir", "unknown field `nosuchfield`"),
        ("from=yesterday", "`from`"),
        ("limit=100000", "`limit`"),
        ("topic=floods", "unknown topic `floods`"),
        ("region=atlantis", "unknown region `atlantis`"),
        ("sort=random", "`sort`"),
        ("bogus=1", "bogus"),
    ] {
        let r = http()
            .get(e.url(&format!("/api/search?{query}")))
            .send()
            .unwrap();
        assert_eq!(r.status().as_u16(), 400, "{query}");
        let msg = r.json::<Value>().unwrap()["error"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            msg.contains(expect),
            "{query}: `{msg}` should mention `{expect}`"
        );
    }
    let h = e.get("/api/histogram?interval=1h");
    assert_eq!(h["total"].as_u64().unwrap() as usize, ids.len());
    let mut e = e;
    e.stop();
}
