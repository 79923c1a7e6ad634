//! The search page in real headless Chromium, driven over the W3C WebDriver
//! protocol (chromedriver, spoken to with `reqwest`): an analyst types a
//! query, filters by region, pages on, opens the export, misspells a word
//! and mistypes a quote, and what the page shows is checked against the API.
//!
//! A second session watches the page live: a spike fires and resolves, and
//! new tweets arrive, and the page shows each without a reload.
//!
//! Needs Debian's `chromium` and `chromium-driver` (scripts/test.sh installs
//! them); nothing is downloaded. Screenshots are kept in `tests/artifacts/`.

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{free_port, hit_ids, http, produce_all, repo, wait_for};
use crate::search::corpus_engine;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key WebDriver names an element reference by.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";
const ENTER: &str = "\u{E007}";

/// chromedriver on a free port of 127.0.0.1, and one browser session.
struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .args([format!("--port={port}"), "--allowed-ips=127.0.0.1".into()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {CHROMEDRIVER} (apt install chromium-driver): {e}")
            });
        let base = format!("http://127.0.0.1:{port}");
        wait_for("chromedriver to be ready", Duration::from_secs(20), || {
            let r = http().get(format!("{base}/status")).send().ok()?;
            let v: Value = r.json().ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        });
        let profile = tempfile::tempdir().unwrap();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,1800", "--lang=id-ID",
                    format!("--user-data-dir={}", profile.path().display()),
                ],
            },
        }}});
        let mut b = Browser {
            driver,
            base,
            session: String::new(),
            _profile: profile,
        };
        let v = b.call("POST", "/session", caps);
        b.session = v["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {v}"))
            .to_string();
        b
    }

    /// One WebDriver command; its `value`.
    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let req = match method {
            "GET" => http().get(&url),
            "DELETE" => http().delete(&url),
            _ => http().post(&url).json(&body),
        };
        let r = req
            .send()
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status();
        let v: Value = r.json().unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {v}");
        v["value"].clone()
    }

    fn goto(&self, url: &str) {
        self.call("POST", "/url", json!({ "url": url }));
    }

    fn find(&self, css: &str) -> String {
        let v = self.call(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v[ELEMENT].as_str().unwrap().to_string()
    }

    fn click(&self, css: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/click"), json!({}));
    }

    fn clear_and_type(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.call("POST", &format!("/element/{id}/clear"), json!({}));
        self.call(
            "POST",
            &format!("/element/{id}/value"),
            json!({ "text": text }),
        );
    }

    fn js(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    /// What the page shows, once it shows the results for `search` (the
    /// page's URL query) and is no longer loading.
    fn settled(&self, what: &str, search: impl Fn(&str) -> bool) -> Value {
        wait_for(what, Duration::from_secs(30), || {
            let v = self.js(PAGE_STATE);
            (v["state"] != "loading" && v["state"] != Value::Null && search(v["search"].as_str()?))
                .then_some(v)
        })
    }

    fn screenshot(&self, name: &str) {
        let b64 = self.call("GET", "/screenshot", Value::Null);
        let png = base64_decode(b64.as_str().unwrap());
        assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
        let dir = repo().join("tests/artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http()
                .delete(format!("{}/session/{}", self.base, self.session))
                .send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Everything the checks read off the page, in one round trip.
const PAGE_STATE: &str = r##"
const q = (s) => [...document.querySelectorAll(s)];
const facets = (id) => Object.fromEntries(q(`#${id} .facet`).map(f => [f.dataset.value, Number(f.dataset.count)]));
return {
  state: document.body.dataset.state || null,
  search: location.search,
  total: document.getElementById("count").dataset.total ?? null,
  count_text: document.getElementById("count").textContent,
  ids: q(".hit").map(h => h.dataset.id),
  highlighted: q(".hit .text b").map(b => b.textContent),
  regions: q(".hit .region").map(r => r.dataset.code),
  topic_facets: facets("facet-topic"),
  region_facets: facets("facet-region"),
  page: document.getElementById("page").textContent,
  next_disabled: document.getElementById("next").disabled,
  export_csv: document.getElementById("export-csv")?.href ?? null,
  fuzzy_notice: document.getElementById("fuzzy-notice")?.textContent ?? null,
  error: document.querySelector(".error")?.textContent ?? null,
  region_options: q("#region option").length,
  chart_total: document.getElementById("chart-caption")?.dataset.total ?? null,
};
"##;

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= val(*c) << (18 - 6 * i);
        }
        out.push((n >> 16) as u8);
        if chunk.len() > 2 {
            out.push((n >> 8) as u8);
        }
        if chunk.len() > 3 {
            out.push(n as u8);
        }
    }
    out
}

/// The page shows the API's answer: its total and its hits, in order.
fn assert_shows(page: &Value, api: &Value) {
    assert_eq!(page["total"], api["total"].to_string(), "{page}");
    assert_eq!(strings(&page["ids"]), hit_ids(api));
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn an_analyst_searches_filters_pages_and_exports_in_chromium() {
    let (e, _) = corpus_engine();
    let b = Browser::start();
    b.goto(&e.url("/"));
    let first = b.settled("the page to load", |_| true);
    assert!(first["region_options"].as_u64().unwrap() >= 36, "{first}");
    let all = e.get("/api/search?limit=20");
    assert_eq!(first["total"], all["total"].to_string(), "{first}");

    // Type a query and press Enter.
    b.clear_and_type("#q", &format!("banjir{ENTER}"));
    let page = b.settled("results for banjir", |s| s == "?q=banjir");
    let api = e.get("/api/search?q=banjir&limit=20");
    assert_eq!(page["total"], api["total"].to_string(), "{page}");
    assert!(page["count_text"]
        .as_str()
        .unwrap()
        .ends_with("twit ditemukan"));
    assert_eq!(strings(&page["ids"]), hit_ids(&api));
    assert!(
        strings(&page["highlighted"])
            .iter()
            .any(|w| w.to_lowercase().contains("banjir")),
        "matches are highlighted: {page}"
    );
    assert_eq!(
        page["topic_facets"].as_object().unwrap().len().min(12),
        api["facets"]["topic"].as_object().unwrap().len().min(12)
    );
    for (topic, n) in page["topic_facets"].as_object().unwrap() {
        assert_eq!(&api["facets"]["topic"][topic], n, "topic facet {topic}");
    }

    // Filter by region: pick Kabupaten Demak in the select.
    b.click("#region option[value='3321']");
    let page = b.settled("results in Demak", |s| s.contains("region=3321"));
    let api = e.get("/api/search?q=banjir&region=3321&limit=20");
    assert_shows(&page, &api);
    assert!(
        strings(&page["regions"]).iter().all(|r| r == "3321"),
        "{page}"
    );
    assert_eq!(
        page["region_facets"],
        json!({"3321": api["total"]}),
        "{page}"
    );
    assert_eq!(
        page["chart_total"],
        api["total"].to_string(),
        "the chart counts the same tweets"
    );
    assert_eq!(page["page"], "Halaman 1");
    assert_eq!(
        page["next_disabled"], false,
        "Demak has more than a page of floods: {page}"
    );

    // Page on.
    b.click("#next");
    let page2 = b.settled("the second page", |s| s.contains("cursor="));
    let api2 = e.get(&format!(
        "/api/search?q=banjir&region=3321&limit=20&cursor={}",
        api["next_cursor"].as_str().unwrap()
    ));
    assert_eq!(page2["page"], "Halaman 2");
    assert_eq!(strings(&page2["ids"]), hit_ids(&api2));
    let seen: BTreeSet<String> = strings(&page["ids"]).into_iter().collect();
    assert!(
        strings(&page2["ids"]).iter().all(|id| !seen.contains(id)),
        "no tweet on both pages"
    );
    b.screenshot("search-page.png");

    // The export link streams every match of the filtered search.
    let href = page2["export_csv"].as_str().unwrap().to_string();
    assert!(
        href.contains("region=3321") && !href.contains("cursor"),
        "{href}"
    );
    let csv = http().get(&href).send().unwrap().text().unwrap();
    let exported: BTreeSet<&str> = csv
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .filter(|id| id.bytes().all(|b| b.is_ascii_digit()) && !id.is_empty())
        .collect();
    assert_eq!(
        exported.len().to_string(),
        api["total"].to_string(),
        "one CSV row per match"
    );
    for id in strings(&page["ids"]).iter().chain(&strings(&page2["ids"])) {
        assert!(exported.contains(id.as_str()), "{id} is exported");
    }

    // A misspelling: the page says the spelling was loosened.
    b.click("#reset");
    b.settled("the filters to clear", |s| !s.contains("region"));
    b.clear_and_type("#q", &format!("kemirne banjr{ENTER}"));
    let page = b.settled("fuzzy results", |s| s.contains("kemirne"));
    assert!(
        page["fuzzy_notice"]
            .as_str()
            .is_some_and(|n| n.contains("ejaan mirip")),
        "{page}"
    );
    let api = e.get("/api/search?q=kemirne%20banjr&limit=20");
    assert_shows(&page, &api);
    assert!(
        strings(&page["highlighted"]).iter().any(|w| w == "Kemiren"),
        "the loosened word is highlighted as written: {page}"
    );

    // A broken query: the page shows the API's explanation.
    b.clear_and_type("#q", &format!("\"banjir demak{ENTER}"));
    let page = b.settled("the error", |s| s.contains("%22banjir"));
    assert_eq!(page["state"], "error");
    let error = page["error"].as_str().unwrap();
    assert!(error.contains("Tanda kutip"), "said in Indonesian: {page}");
    assert!(
        error.contains("unbalanced quotes"),
        "with the API's words: {page}"
    );
    assert_eq!(page["fuzzy_notice"], Value::Null, "no stale notice: {page}");
    assert_eq!(
        page["export_csv"],
        Value::Null,
        "no stale export link: {page}"
    );
    assert_eq!(page["topic_facets"], json!({}), "no stale facets: {page}");
    b.screenshot("search-page-error.png");
}

/// The live parts of the page, in one round trip: the spikes list and the
/// newest results.
const LIVE_STATE: &str = r##"
const q = (s) => [...document.querySelectorAll(s)];
return {
  marker: window.kemalaMarker ?? null,
  status: document.getElementById("alerts-status").textContent,
  firing: document.getElementById("alerts").dataset.firing ?? null,
  alerts: q(".alert-item").map(a => ({ id: a.dataset.id, state: a.dataset.state, href: a.querySelector("a").getAttribute("href"), text: a.textContent })),
  ids: q(".hit").map(h => h.dataset.id),
  fresh: q(".hit.new").map(h => h.dataset.id),
  auto: document.getElementById("auto").checked,
};
"##;

/// A spike alert as the detector's would be stored, for the page to show.
fn spike(state: kemala::alert::AlertState, started_at_ms: i64) -> kemala::alert::StoredAlert {
    use kemala::alert::{AlertKind, AlertState, StoredAlert};
    let resolved = state == AlertState::Resolved;
    StoredAlert {
        id: "0123456789abcdef".into(),
        kind: AlertKind::Spike,
        topic: Some("flood".into()),
        region: 3321,
        state,
        severity: "critical".into(),
        started_at_ms,
        detected_at_ms: started_at_ms + 180_000,
        resolved_at_ms: resolved.then_some(started_at_ms + 600_000),
        observed: 23.0,
        expected: 0.4,
        window_seconds: 180,
        score: 14.2,
        rank: None,
        agencies: vec!["bpbd_jateng".into()],
        sample_tweet_ids: Vec::new(),
        top_terms: Vec::new(),
        regions: Vec::new(),
        parent: None,
        summary: "Banjir di Kabupaten Demak".into(),
        acked_by: None,
        acked_at: None,
    }
}

#[test]
fn a_live_spike_and_new_tweets_appear_without_a_reload_in_chromium() {
    use kemala::alert::AlertState;
    let (e, _) = corpus_engine();
    let committed = e
        .shared()
        .progress
        .committed
        .load(std::sync::atomic::Ordering::Relaxed);
    let b = Browser::start();
    b.goto(&e.url("/?auto=1"));
    b.settled("the page to load", |s| s == "?auto=1");
    let live = |what: &str, f: &dyn Fn(&Value) -> bool| {
        wait_for(what, Duration::from_secs(30), || {
            let v = b.js(LIVE_STATE);
            f(&v).then_some(v)
        })
    };
    let v = live("the alert stream to connect and nothing to fire", &|v| {
        v["status"] == "langsung" && v["firing"] == "0"
    });
    assert_eq!(v["auto"], true, "auto-refresh is on from the URL: {v}");
    // Anything reloading the page would lose this.
    b.js("window.kemalaMarker = 42; return null;");

    // A spike fires in the engine: it shows up, with a link to its search.
    let started = chrono::Utc::now().timestamp_millis() / 60_000 * 60_000 - 600_000;
    let store = e.shared().alerts.clone();
    store.apply(spike(AlertState::Firing, started));
    let v = live("the spike to appear", &|v| v["firing"] == "1");
    assert_eq!(v["marker"], 42, "without a reload: {v}");
    let alert = &v["alerts"][0];
    assert_eq!(alert["id"], "0123456789abcdef");
    assert_eq!(alert["state"], "firing");
    let href = alert["href"].as_str().unwrap().to_string();
    let from = kemala::timestamp::rfc3339(started);
    assert_eq!(
        href,
        format!(
            "/?topic=flood&region=3321&from={}",
            from.replace(':', "%3A")
        ),
        "{v}"
    );
    assert!(
        alert["text"].as_str().unwrap().contains("23 pelapor"),
        "{v}"
    );
    b.screenshot("search-page-live-alert.png");

    // New tweets arrive: the newest-first results refresh by themselves and
    // mark them.
    let opts = kemala::gen::GenOptions {
        seed: 77,
        start_ms: chrono::Utc::now().timestamp_millis() - 60_000,
        mean_tweets_per_hour: 36_000.0,
        malformed_ratio: 0.0,
        bursts: Vec::new(),
        ..kemala::gen::GenOptions::default()
    };
    let config = kemala::config::Config::embedded().unwrap();
    let payloads: Vec<Vec<u8>> = kemala::gen::Generator::new(&config, opts)
        .take(10)
        .map(|g| g.payload)
        .collect();
    let n = produce_all(&e.bootstrap(), "tweets", payloads) as u64;
    e.wait_committed(committed + n);
    let newest = e.get("/api/search?limit=20");
    let v = live("the new tweets to show", &|v| {
        v["ids"].as_array().map(|a| a.len()) == Some(20) && v["ids"] == json!(hit_ids(&newest))
    });
    assert_eq!(v["marker"], 42, "without a reload: {v}");
    assert!(
        !v["fresh"].as_array().unwrap().is_empty(),
        "new tweets are marked: {v}"
    );

    // The spike resolves: struck through, still without a reload.
    store.apply(spike(AlertState::Resolved, started));
    let v = live("the spike to resolve", &|v| {
        v["alerts"][0]["state"] == "resolved" && v["firing"] == "0"
    });
    assert_eq!(v["marker"], 42, "{v}");

    // Its link opens the spike's search: flood in Demak since its onset.
    b.click(".alert-item a");
    let page = b.settled("the spike's search", |s| s.contains("topic=flood"));
    let api = e.get(&format!(
        "/api/search?topic=flood&region=3321&from={}&limit=20",
        from.replace(':', "%3A")
    ));
    assert_shows(&page, &api);
    assert!(
        page["count_text"].as_str().unwrap().contains("sejak"),
        "the page says the search starts at the onset: {page}"
    );
}
