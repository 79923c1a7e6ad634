//! The analysts' search, through the HTTP API of an in-process engine fed
//! over the Kafka protocol: relevance on a labelled query set, the query
//! language's errors, a fuzzer on the query endpoint, cursor paging while
//! tweets arrive, streaming export, histograms and retention.
//!
//! The labelled set is `tests/data/search-queries.jsonl` over the tweets of
//! `tests/data/search-corpus.jsonl` (hand-written, with known ids), mixed
//! into generated traffic (`kemala::gen`, seed 42) that acts as distractors.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use kemala::gen::GenOptions;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::common::{clean_generator, hit_ids, http, produce_all, repo, wait_for};
use crate::engine::InProc;

/// One hand-written tweet of the labelled corpus.
#[derive(Deserialize, Clone)]
pub struct CorpusTweet {
    pub key: String,
    pub id: String,
    pub created_at: String,
    pub author: String,
    pub author_id: String,
    pub text: String,
    pub reply_to: Option<String>,
}

#[derive(Deserialize)]
struct LabelledQuery {
    q: String,
    params: String,
    expect: Vec<String>,
    #[serde(rename = "not")]
    must_not: Vec<String>,
    why: String,
}

pub fn corpus() -> Vec<CorpusTweet> {
    std::fs::read_to_string(repo().join("tests/data/search-corpus.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The words of `text` that start with `sigil`, as Twitter's entities list them.
fn entities(text: &str, sigil: char) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == sigil))
        .filter_map(|w| w.strip_prefix(sigil))
        .filter(|w| !w.is_empty())
        .map(String::from)
        .collect()
}

/// A Twitter API v2 filtered-stream message for `t`.
pub fn v2_payload(t: &CorpusTweet) -> Vec<u8> {
    let created = t.created_at.replace('Z', ".000Z");
    let mut data = json!({
        "id": t.id,
        "text": t.text,
        "author_id": t.author_id,
        "created_at": created,
        "conversation_id": t.reply_to.clone().unwrap_or_else(|| t.id.clone()),
        "entities": {
            "hashtags": entities(&t.text, '#').into_iter().map(|tag| json!({"tag": tag})).collect::<Vec<_>>(),
            "mentions": entities(&t.text, '@').into_iter().map(|u| json!({"username": u})).collect::<Vec<_>>(),
        },
    });
    if let Some(r) = &t.reply_to {
        data["referenced_tweets"] = json!([{"type": "replied_to", "id": r}]);
    }
    serde_json::to_vec(&json!({
        "data": data,
        "includes": {"users": [{"id": t.author_id, "username": t.author, "name": t.author}]},
    }))
    .unwrap()
}

/// Generated tweets (seed 42, no malformed ones) and their ids.
pub fn generated(n: usize) -> (Vec<Vec<u8>>, BTreeSet<u64>) {
    crate::common::generated(n, GenOptions::default().seed)
}

/// An engine holding 4,000 generated tweets and the labelled corpus.
pub fn corpus_engine() -> (InProc, Vec<CorpusTweet>) {
    let e = InProc::start(2, |_| {});
    let corpus = corpus();
    let (mut payloads, _) = generated(4000);
    payloads.extend(corpus.iter().map(v2_payload));
    let n = produce_all(&e.bootstrap(), "tweets", payloads) as u64;
    e.wait_committed(n);
    (e, corpus)
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Recall@10 on the labelled set: for each query, the share of its expected
/// tweets (at most ten) among the first ten hits by relevance; a query with
/// a tweet it must not return in its first ten scores zero.
#[test]
fn relevance_recall_at_10_on_the_labelled_query_set() {
    let (e, corpus) = corpus_engine();
    let id_of: HashMap<&str, &str> = corpus
        .iter()
        .map(|t| (t.key.as_str(), t.id.as_str()))
        .collect();
    let key_of: HashMap<&str, &str> = corpus
        .iter()
        .map(|t| (t.id.as_str(), t.key.as_str()))
        .collect();
    let queries: Vec<LabelledQuery> =
        std::fs::read_to_string(repo().join("tests/data/search-queries.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
    assert!(
        queries.len() >= 40,
        "the labelled set has {} queries",
        queries.len()
    );
    let mut sum = 0.0;
    let mut misses = Vec::new();
    println!(
        "{:<6} {:>5}  {:<62} {:<28} top 10 (labelled keys; · = other)",
        "recall", "total", "query", "params"
    );
    for lq in &queries {
        let sort = if lq.params.contains("sort=") {
            ""
        } else {
            "&sort=relevance"
        };
        let path = format!(
            "/api/search?q={}&limit=10{sort}&{}",
            encode(&lq.q),
            lq.params
        );
        let res = e.get(&path);
        let top = hit_ids(&res);
        let expect: Vec<&str> = lq.expect.iter().map(|k| id_of[k.as_str()]).collect();
        let found = expect
            .iter()
            .filter(|id| top.iter().any(|t| t == *id))
            .count();
        let wanted = expect.len().min(10);
        let unwanted: Vec<&String> = lq
            .must_not
            .iter()
            .filter(|k| top.iter().any(|t| t == id_of[k.as_str()]))
            .collect();
        let recall = if unwanted.is_empty() {
            found as f64 / wanted as f64
        } else {
            0.0
        };
        sum += recall;
        let shown: Vec<&str> = top
            .iter()
            .map(|id| key_of.get(id.as_str()).copied().unwrap_or("·"))
            .collect();
        println!(
            "{recall:<6.2} {:>5}  {:<62} {:<28} {}",
            res["total"],
            lq.q,
            lq.params,
            shown.join(" ")
        );
        if recall < 1.0 {
            misses.push(format!(
                "`{}` [{}] ({}): expected {:?}, unwanted {:?}, got {:?}",
                lq.q, lq.params, lq.why, lq.expect, unwanted, shown
            ));
        }
    }
    let overall = sum / queries.len() as f64;
    println!(
        "recall@10 over {} labelled queries: {overall:.3} ({} below 1)",
        queries.len(),
        misses.len()
    );
    for m in &misses {
        println!("miss: {m}");
    }
    assert!(
        overall >= 0.9,
        "recall@10 {overall:.3} is below 0.9; misses:\n{}",
        misses.join("\n")
    );
}

fn status_and_json(e: &InProc, path_and_query: &str) -> (u16, Value, Option<String>) {
    let r = http().get(e.url(path_and_query)).send().unwrap();
    let status = r.status().as_u16();
    let fuzzy = r
        .headers()
        .get("x-kemala-fuzzy")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    let body = r.text().unwrap();
    let v = serde_json::from_str(&body)
        .unwrap_or_else(|_| panic!("{path_and_query}: answer {status} is not JSON: {body:.300}"));
    (status, v, fuzzy)
}

#[test]
fn bad_requests_get_400_with_a_message_that_says_what_to_fix() {
    let (e, _) = corpus_engine();
    for (query, expect) in [
        ("q=%22banjir%20demak", "unbalanced quotes"),
        ("q=(banjir%20OR%20rob", "unbalanced parentheses"),
        ("q=kota:semarang", "unknown field `kota`"),
        ("q=topic:floods", "unknown topic `floods`"),
        ("q=region:atlantis", "unknown region `atlantis`"),
        ("q=created_at:kemarin", "`kemarin` is not a date"),
        ("q=banjir~3", "`~1` or `~2`"),
        ("q=banjir%20AND", "syntax error"),
        ("from=yesterday", "`from`"),
        (
            "from=2026-02-01&to=2026-01-01",
            "`from` must be before `to`",
        ),
        ("limit=100000", "`limit`"),
        ("limit=0", "`limit`"),
        ("sort=random", "`sort`"),
        ("cursor=t:abc", "`cursor`"),
        ("sort=relevance&cursor=t:123", "`cursor`"),
        ("status=closed", "`status`"),
        ("bogus=1", "bogus"),
    ] {
        let (status, v, _) = status_and_json(&e, &format!("/api/search?{query}"));
        assert_eq!(status, 400, "{query}: {v}");
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.contains(expect),
            "{query}: `{msg}` should mention `{expect}`"
        );
    }
    for (path, expect) in [
        ("/api/histogram?interval=fortnightly", "`interval`"),
        ("/api/histogram?interval=1s", "at least 1m"),
        ("/api/histogram?q=%22open", "unbalanced quotes"),
        ("/api/search/export?format=xlsx", "`format`"),
        ("/api/search/export?q=lang:xx", "unknown language `xx`"),
    ] {
        let (status, v, _) = status_and_json(&e, path);
        assert_eq!(status, 400, "{path}: {v}");
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.contains(expect),
            "{path}: `{msg}` should mention `{expect}`"
        );
    }
    // A misspelling is not an error: it falls back to fuzzy, and says so.
    let (status, v, fuzzy) = status_and_json(&e, "/api/search?q=kemirne%20banjr");
    assert_eq!(status, 200);
    assert_eq!(fuzzy.as_deref(), Some("true"), "{v}");
    assert!(v["total"].as_u64().unwrap() >= 3, "{v}");
    let (_, v, fuzzy) = status_and_json(&e, "/api/search?q=kemiren");
    assert_eq!(fuzzy, None, "{v}");
}

/// Query strings an analyst, a careless script or an attacker might send.
fn fuzz_inputs(rng: &mut SmallRng, n: usize) -> Vec<String> {
    const PIECES: &[&str] = &[
        "banjir",
        "rob",
        "jalan",
        "rusak",
        "kebanjiran",
        "dalane",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        "\"",
        "'",
        ":",
        "~",
        "~1",
        "~2",
        "~9",
        "~",
        "*",
        "?",
        "^",
        "^2",
        "^-1",
        "^1e99",
        "[",
        "]",
        "{",
        "}",
        " TO ",
        "-",
        "+",
        "!",
        "\\",
        "/",
        "/.*/",
        "topic:",
        "region:",
        "lang:",
        "created_at:",
        "id:",
        "text:",
        "exact:",
        "hashtag:",
        "mention:",
        "author:",
        "agency:",
        "complaint:",
        "nosuch:",
        ">",
        ">=",
        "<",
        "<=",
        "IN [",
        "#",
        "@",
        "&&",
        "||",
        "flood",
        "brebes",
        "kota-semarang",
        "3374",
        "2026-01-01",
        "2026-13-45",
        "*",
        " ",
        " ",
        " ",
        "\t",
        "\n",
        "\u{0}",
        "🙏",
        "😭",
        "ǅ",
        "\u{200b}",
        "\u{202e}",
        "ä",
        "İ",
        "ß",
        "日本",
        "مرحبا",
        "\u{fffd}",
        "%",
        "&",
        "=",
        "+",
        ";",
        "#BanjirDemak",
        "@PemkotSmg",
        "\"jalan rusak\"",
        "e-ktp",
        "jl.",
        "100rb",
        "18446744073709551616",
        "-0",
        "NaN",
    ];
    let valid = [
        "banjir demak",
        "\"jalan rusak\" -rob",
        "(pungli OR calo) AND samsat",
        "topic:flood region:kab-demak",
        "created_at:[2026-01-01 TO 2026-02-01] banjir",
        "banjr~1 #KemalaJateng",
        "kebanj* @pemkotsmg",
    ];
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let kind = rng.random_range(0..10);
        let s: String = match kind {
            // Grammar pieces in random order.
            0..=3 => (0..rng.random_range(1..12))
                .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                .collect::<Vec<_>>()
                .join(if rng.random_bool(0.5) { " " } else { "" }),
            // Random code points, controls and surrogates' neighbours included.
            4 | 5 => (0..rng.random_range(0..40))
                .map(|_| {
                    let c = match rng.random_range(0..4) {
                        0 => rng.random_range(0..0x80),
                        1 => rng.random_range(0x80..0x800),
                        2 => rng.random_range(0x800..0xD800),
                        _ => rng.random_range(0xE000..0x11_0000),
                    };
                    char::from_u32(c).unwrap_or('?')
                })
                .collect(),
            // Mutations of valid queries: insert, delete, replace.
            6..=8 => {
                let mut chars: Vec<char> =
                    valid[rng.random_range(0..valid.len())].chars().collect();
                for _ in 0..rng.random_range(1..6) {
                    let at = rng.random_range(0..=chars.len());
                    let pieces: Vec<char> = "\"()[]{}:~*^-+!\\/ ".chars().collect();
                    let piece = pieces[rng.random_range(0..pieces.len())];
                    match rng.random_range(0..3) {
                        0 => chars.insert(at, piece),
                        1 if at < chars.len() => {
                            chars.remove(at);
                        }
                        _ if at < chars.len() => chars[at] = piece,
                        _ => chars.push(piece),
                    }
                }
                chars.into_iter().collect()
            }
            // Deep nesting and long repetitions.
            _ => {
                let depth = rng.random_range(1..300);
                match rng.random_range(0..4) {
                    0 => format!("{}banjir{}", "(".repeat(depth), ")".repeat(depth)),
                    1 => "\"".repeat(depth),
                    2 => "banjir~1 ".repeat(depth),
                    _ => format!("{}banjir", "-".repeat(depth)),
                }
            }
        };
        out.push(s);
    }
    out
}

#[test]
fn fuzzed_queries_get_200_or_400_with_json_and_the_server_stays_up() {
    let (e, _) = corpus_engine();
    let mut rng = SmallRng::seed_from_u64(20260105);
    let mut inputs = fuzz_inputs(&mut rng, 4000);
    // Huge inputs: far beyond the query limit (2,000 bytes), up to what a
    // URL can carry (an HTTP client will not send a URI of 64 KiB or more).
    for n in [3_000, 20_000] {
        inputs.push("banjir ".repeat(n / 7));
        inputs.push("(".repeat(n));
        inputs.push("\"".repeat(n));
        inputs.push("é".repeat(n / 2));
    }
    inputs.push("banjir".repeat(10_000));
    let client = http();
    let mut counts: BTreeMap<u16, usize> = BTreeMap::new();
    let mut slowest = (Duration::ZERO, String::new());
    let mut sent = 0;
    let mut check = |url: String, what: &str| {
        let started = Instant::now();
        let r = client.get(&url).send().unwrap_or_else(|err| {
            panic!(
                "the server did not answer {what:.200}: {}",
                err.without_url()
            )
        });
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        let took = started.elapsed();
        if took > slowest.0 {
            slowest = (took, what.chars().take(80).collect());
        }
        let v: Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{what:.200}: answer {status} is not JSON: {body:.200}"));
        match status {
            200 => assert!(v.get("total").is_some(), "{what:.200}: {v}"),
            400 => assert!(
                v["error"].as_str().is_some_and(|m| !m.is_empty()),
                "{what:.200}: {v}"
            ),
            other => panic!("{what:.200}: status {other}: {v}"),
        }
        *counts.entry(status).or_default() += 1;
        sent += 1;
    };
    for q in &inputs {
        let sort = if q.len().is_multiple_of(2) {
            "relevance"
        } else {
            "time"
        };
        check(
            e.url(&format!("/api/search?q={}&sort={sort}&limit=5", encode(q))),
            q,
        );
    }
    // Other parameters, and bytes that are not UTF-8.
    for q in inputs.iter().take(600) {
        for param in [
            "from", "to", "cursor", "region", "topic", "interval", "limit", "status",
        ] {
            let path = if param == "interval" {
                "/api/histogram"
            } else {
                "/api/search"
            };
            check(e.url(&format!("{path}?{param}={}", encode(q))), q);
        }
    }
    for raw in ["%FF%FE", "%C0%80", "banjir%00", "%E2%82", "%", "%%", "a%zz"] {
        check(e.url(&format!("/api/search?q={raw}")), raw);
    }
    // A few through the histogram and the export, which parse the same way.
    for q in inputs.iter().take(300) {
        check(
            e.url(&format!("/api/histogram?q={}&interval=1d", encode(q))),
            q,
        );
    }
    for q in inputs.iter().take(300) {
        let url = e.url(&format!("/api/search/export?q={}&format=ndjson", encode(q)));
        let r = client.get(&url).send().unwrap();
        let status = r.status().as_u16();
        let body = r.text().unwrap();
        match status {
            200 => assert!(
                body.lines()
                    .all(|l| serde_json::from_str::<Value>(l).is_ok()),
                "{q:.200}"
            ),
            400 => assert!(serde_json::from_str::<Value>(&body).is_ok(), "{q:.200}"),
            other => panic!("{q:.200}: export status {other}"),
        }
        sent += 1;
    }
    println!(
        "fuzzed the query API with {sent} requests ({} distinct query strings): {counts:?}; slowest {:?} for `{}`",
        inputs.len(),
        slowest.0,
        slowest.1
    );
    assert!(sent >= 5000);
    assert_eq!(
        client
            .get(e.url("/healthz"))
            .send()
            .unwrap()
            .text()
            .unwrap(),
        "ok"
    );
    assert!(e.get("/api/search?q=kemiren")["total"].as_u64().unwrap() >= 5);
}

/// Pages through `q` by `sort`, tweets arriving between pages; returns the
/// ids seen, in order.
fn page_all(e: &InProc, q: &str, sort: &str, during: &mut impl FnMut(usize)) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for page in 0.. {
        let res = e.get(&format!(
            "/api/search?q={}&sort={sort}&limit=50&cursor={}",
            encode(q),
            encode(&cursor)
        ));
        seen.extend(hit_ids(&res));
        during(page);
        match res["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    seen
}

#[test]
fn cursor_paging_is_stable_while_tweets_arrive() {
    let e = InProc::start(2, |_| {});
    let mut generator = clean_generator(|_| {});
    let first: Vec<Vec<u8>> = generator.by_ref().take(3000).map(|g| g.payload).collect();
    let mut produced = produce_all(&e.bootstrap(), "tweets", first) as u64;
    e.wait_committed(produced);
    for (q, sort) in [
        ("banjir OR jalan OR sampah", "time"),
        ("banjir OR jalan OR sampah", "relevance"),
        ("", "time"),
    ] {
        let before = e.get(&format!("/api/search?q={}&limit=1", encode(q)))["total"]
            .as_u64()
            .unwrap();
        // Newer tweets, which match too, arrive and are committed between pages.
        let mut arrive = |page: usize| {
            if page.is_multiple_of(3) {
                let more: Vec<Vec<u8>> = generator.by_ref().take(200).map(|g| g.payload).collect();
                produced += produce_all(&e.bootstrap(), "tweets", more) as u64;
                e.wait_committed(produced);
            }
        };
        let seen = page_all(&e, q, sort, &mut arrive);
        let distinct: BTreeSet<&String> = seen.iter().collect();
        assert_eq!(
            distinct.len(),
            seen.len(),
            "`{q}` by {sort}: a tweet appeared on two pages"
        );
        assert_eq!(
            seen.len() as u64,
            before,
            "`{q}` by {sort}: paging saw every tweet that matched when it started, and no newer one"
        );
        let after = e.get(&format!("/api/search?q={}&limit=1", encode(q)))["total"]
            .as_u64()
            .unwrap();
        assert!(after > before, "tweets arrived while paging");
    }
}

/// Parses RFC 4180 CSV (quoted fields, doubled quotes, newlines in quotes).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "the CSV ends inside a quoted field");
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

#[test]
fn export_streams_csv_and_ndjson_that_parse_back_to_the_same_tweets() {
    let e = InProc::start(4, |_| {});
    let (payloads, ids) = generated(20_000);
    let n = produce_all(&e.bootstrap(), "tweets", payloads) as u64;
    e.wait_committed(n);
    let ids: BTreeSet<String> = ids.iter().map(u64::to_string).collect();
    assert_eq!(ids.len(), 20_000);

    let r = http()
        .get(e.url("/api/search/export?format=csv"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let rows = parse_csv(&r.text().unwrap());
    assert_eq!(
        rows[0],
        "id,created_at,author,region_code,region,lang,topics,agency,is_complaint,url,text"
            .split(',')
            .collect::<Vec<_>>()
    );
    assert!(
        rows[1..].iter().all(|r| r.len() == 11),
        "every row has 11 fields"
    );
    let csv_ids: Vec<&String> = rows[1..].iter().map(|r| &r[0]).collect();
    assert_eq!(csv_ids.len(), ids.len(), "one row per tweet");
    assert_eq!(csv_ids.into_iter().cloned().collect::<BTreeSet<_>>(), ids);

    // The same texts as the API has, byte for byte (commas, quotes, newlines).
    let page = e.get("/api/search?q=banjir&limit=50");
    let by_id: HashMap<&str, &Vec<String>> = rows[1..].iter().map(|r| (r[0].as_str(), r)).collect();
    for h in page["hits"].as_array().unwrap() {
        let row = by_id[h["id"].as_str().unwrap()];
        assert_eq!(row[10], h["text"].as_str().unwrap());
        assert_eq!(row[3], h["region"]["code"].as_str().unwrap());
    }

    // Filtered: the export holds exactly what search counts.
    let total = e.get("/api/search?q=banjir%20OR%20rob&region=3321&limit=1")["total"]
        .as_u64()
        .unwrap();
    let body = e.get_text("/api/search/export?q=banjir%20OR%20rob&region=3321&format=ndjson");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, total);
    assert!(total > 0);
    assert!(lines.iter().all(|l| l["region"]["code"] == "3321"));
}

#[test]
fn histogram_buckets_add_up_to_the_search_total() {
    let (e, _) = corpus_engine();
    for q in [
        "",
        "q=banjir",
        "q=banjir&region=3321",
        "q=pungli&from=2026-02-18&to=2026-03-20",
    ] {
        let total = e.get(&format!("/api/search?{q}&limit=1"))["total"]
            .as_u64()
            .unwrap();
        for interval in ["1h", "1d", "auto"] {
            let h = e.get(&format!("/api/histogram?{q}&interval={interval}"));
            let sum: u64 = h["buckets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["count"].as_u64().unwrap())
                .sum();
            assert_eq!(sum, total, "{q} by {interval}");
            assert_eq!(h["total"].as_u64().unwrap(), total, "{q} by {interval}");
        }
    }
    // Buckets start on whole days, one day apart, over the index's time
    // range, and count each tweet on its day.
    let h = e.get("/api/histogram?q=kemiren&interval=1d");
    let buckets: Vec<(&str, u64)> = h["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["start"].as_str().unwrap(), b["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(buckets[0].0, "2026-01-05T00:00:00Z");
    assert_eq!(buckets[1].0, "2026-01-06T00:00:00Z");
    let kemiren: Vec<&str> = buckets.iter().filter(|b| b.1 > 0).map(|b| b.0).collect();
    assert_eq!(
        kemiren,
        [
            "2026-01-12T00:00:00Z",
            "2026-01-13T00:00:00Z",
            "2026-01-14T00:00:00Z",
            "2026-01-15T00:00:00Z",
            "2026-01-16T00:00:00Z"
        ]
    );
    let ramadan = e.get("/api/histogram?q=pungli&from=2026-02-18&to=2026-03-20&interval=7d");
    assert_eq!(
        ramadan["buckets"][0]["start"], "2026-02-12T00:00:00Z",
        "weeks align to the epoch (a Thursday)"
    );
}

#[test]
fn retention_drops_tweets_older_than_the_window_as_newer_ones_arrive() {
    let e = InProc::start(1, |c| {
        c.engine.index.retention = Some(kemala::config::HumanDuration(Duration::from_secs(
            7 * 24 * 3600,
        )));
    });
    let tweet = |key: &str, n: u64, day: u32| CorpusTweet {
        key: key.into(),
        id: format!(
            "{}",
            2_000_000_000_000_000_000 + u64::from(day) * 1_000_000 + n
        ),
        created_at: format!("2026-01-{day:02}T08:00:00Z"),
        author: format!("warga{n}"),
        author_id: format!("{}", 800_000 + n),
        text: format!("Banjir lagi di Kemiren hari ke-{day}, tweet {n}"),
        reply_to: None,
    };
    let old: Vec<CorpusTweet> = (0..50).map(|n| tweet("old", n, 1)).collect();
    let n = produce_all(&e.bootstrap(), "tweets", old.iter().map(v2_payload)) as u64;
    e.wait_committed(n);
    let total = |q: &str| {
        e.get(&format!("/api/search?q={q}&limit=1"))["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        total("kemiren"),
        50,
        "the old tweets are searchable while they are the newest"
    );
    // A week and more later: the watermark moves, and the next commit deletes them.
    let new: Vec<CorpusTweet> = (50..60).map(|n| tweet("new", n, 20)).collect();
    let m = produce_all(&e.bootstrap(), "tweets", new.iter().map(v2_payload)) as u64;
    e.wait_committed(n + m);
    wait_for(
        "the old tweets to leave the index",
        Duration::from_secs(30),
        || (total("kemiren") == 10).then_some(()),
    );
    let ids: BTreeSet<String> = hit_ids(&e.get("/api/search?q=kemiren&limit=100"))
        .into_iter()
        .collect();
    assert_eq!(ids, new.iter().map(|t| t.id.clone()).collect());
    assert_eq!(total("created_at:[2026-01-01 TO 2026-01-02]"), 0);
    let status = e.get("/api/status");
    assert_eq!(status["counts"]["index_documents"], 10, "{status}");
}
