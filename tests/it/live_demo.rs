//! `kemala demo` as a newcomer sees it, with a short incident interval:
//! the history backfill, then the live feed, scraped every second by a real
//! Prometheus started with `scripts/dashboards.sh` (the one command the
//! README gives). An incident's alert fires and resolves in live mode, the
//! alert stream delivers both events, event time follows the wall clock,
//! every panel of every dashboard has data over the last 15 minutes (the
//! spikes-firing panels with a firing spike), and Ctrl-C stops the demo
//! within 10 s in the live phase.
//!
//! Needs `prometheus` (Debian's package; scripts/test.sh installs it).

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{
    assert_no_problems, free_port, get_json, http, repo, wait_for, wait_rising, Proc,
};
use crate::dashboards::{
    check_query, check_query_with_values, dashboards, messages_total, metric_sum, now, queries,
    search, str_of, Prometheus, QueryKind,
};

/// What a reader thread has seen so far, each with when it arrived.
#[derive(Clone)]
struct Seen<T>(Arc<Mutex<Vec<(Instant, T)>>>);

impl<T: Clone + Send + 'static> Seen<T> {
    fn new() -> Seen<T> {
        Seen(Arc::new(Mutex::new(Vec::new())))
    }

    fn push(&self, v: T) {
        self.0.lock().unwrap().push((Instant::now(), v));
    }

    fn find(&self, f: impl Fn(&T) -> bool) -> Option<(Instant, T)> {
        self.0.lock().unwrap().iter().find(|(_, v)| f(v)).cloned()
    }

    fn all(&self) -> Vec<T> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The demo's stdout, line by line.
fn follow_lines(out: impl Read + Send + 'static) -> Seen<String> {
    let seen = Seen::new();
    let s = seen.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            eprintln!("demo: {line}");
            s.push(line);
        }
    });
    seen
}

/// One Server-Sent Event: its type and its JSON data.
#[derive(Clone, Debug)]
struct Event {
    kind: String,
    data: Value,
}

/// The alert stream, event by event, for as long as the server keeps it open.
fn follow_events(url: String) -> Seen<Event> {
    let seen = Seen::new();
    let s = seen.clone();
    std::thread::spawn(move || {
        let Ok(r) = crate::common::stream(&url) else {
            return;
        };
        let (mut kind, mut data) = (String::new(), String::new());
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if let Some(k) = line.strip_prefix("event:") {
                kind = k.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                data.push_str(d.trim_start());
            } else if line.is_empty() {
                if !kind.is_empty() {
                    let v = serde_json::from_str(&data).unwrap_or(Value::Null);
                    s.push(Event {
                        kind: std::mem::take(&mut kind),
                        data: v,
                    });
                }
                data.clear();
            }
        }
    });
    seen
}

fn rfc3339_ms(v: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(str_of(v))
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
}

#[test]
fn live_demo_fires_and_resolves_incidents_that_every_panel_shows() {
    let t0 = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let index = dir.path().join("index");
    // 49 h of history at one message a second (about 180,000 messages), then
    // the live feed with an incident every minute.
    let args = ["--history", "49h", "--rate", "1", "--incident-every", "1m"];
    let mut demo = Proc::demo(dir.path(), port, &index, &args);
    let lines = follow_lines(demo.child.stdout.take().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    wait_for("the demo to serve", Duration::from_secs(120), || {
        messages_total(port).map(|_| ())
    });

    // Prometheus through the one command, scraping every second.
    let prom_port = free_port();
    let prom_log = dir.path().join("dashboards.sh.log");
    let child = Command::new("bash")
        .arg(repo().join("scripts/dashboards.sh"))
        .env("KEMALA_ADDR", format!("127.0.0.1:{port}"))
        .env("PROMETHEUS_PORT", prom_port.to_string())
        .env("SCRAPE_INTERVAL", "1s")
        .env("PROMETHEUS_DATA", dir.path().join("prometheus"))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path().join("dashboards.sh.out")).unwrap())
        .stderr(std::fs::File::create(&prom_log).unwrap())
        .spawn()
        .expect("bash runs scripts/dashboards.sh");
    let prom = Prometheus::ready(child, prom_port, prom_log);
    let printed = std::fs::read_to_string(dir.path().join("dashboards.sh.out")).unwrap();
    assert!(
        printed.contains(&format!("http://127.0.0.1:{prom_port}/"))
            && printed.contains("config/grafana/provisioning"),
        "scripts/dashboards.sh prints Prometheus' URL and the Grafana provisioning:\n{printed}"
    );
    let run_start = now();
    let events = follow_events(format!("{base}/api/alerts/stream"));

    // History first, then live. A busy machine backfills slowly; only a
    // backfill that stops moving fails here.
    let (live_at, _) = wait_rising(
        "the history backfill to reach the wall clock",
        Duration::from_secs(90),
        Duration::from_secs(1800),
        || {
            lines
                .find(|l| l.starts_with("kemala demo: live:"))
                .ok_or_else(|| messages_total(port).unwrap_or(0.0))
        },
    );
    let live_ms = chrono::Utc::now().timestamp_millis();
    eprintln!("live after {:?}", live_at - t0);

    // In live mode event time follows the live tweets: once the engine has
    // moved its watermark past the last of the history (which waits for the
    // lag monitor to see every partition caught up, so a busy machine may
    // take a while), it stays within seconds of the newest tweet indexed. It
    // does not follow the wall clock between tweets: event time comes from
    // the data, and at night (WIB) the live feed is a tweet every few
    // seconds, not a few a second.
    let watermark = || get_json(&format!("{base}/api/status")).map(|s| rfc3339_ms(&s["watermark"]));
    wait_for(
        "the watermark to pass the start of the live feed",
        Duration::from_secs(120),
        || watermark().filter(|&w| w >= live_ms),
    );
    // The newest tweet that search shows, read before the watermark: the
    // watermark moves when a batch is processed, before the commit that
    // makes the batch searchable, so it is never far behind.
    let newest = || {
        get_json(&format!("{base}/api/search?sort=time&limit=5")).and_then(|r| {
            r["hits"]
                .as_array()?
                .iter()
                .map(|h| rfc3339_ms(&h["created_at"]))
                .max()
        })
    };
    let mut behind = Vec::new();
    let mut searches = 0;
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if let Some(n) = newest() {
            if let Some(w) = watermark() {
                behind.push(n - w);
            }
        }
        search(port, searches);
        searches += 1;
        std::thread::sleep(Duration::from_millis(500));
    }
    let worst = behind.iter().copied().max().unwrap_or(i64::MAX);
    assert!(
        !behind.is_empty() && worst < 15_000,
        "in live mode event time stays up to {worst} ms behind the newest tweet indexed: {behind:?}"
    );

    // An incident begins, its alert fires, on stdout and on the stream, and
    // resolves. The incident's own region's alert: the province-wide series
    // of its topic also carries the background traffic, which by day can
    // keep it above its baseline until the next incident of that topic.
    let (fired_at, fired_line) = wait_for(
        "an incident's alert to fire",
        Duration::from_secs(480),
        || {
            lines.find(|l| {
                l.contains("alert fired:") && l.contains("after incident") && l.contains("&region=")
            })
        },
    );
    let url = fired_line.rsplit(' ').next().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{base}/?topic=")) && url.contains("&from="),
        "the alert line ends with the search page's URL: {fired_line}"
    );
    let topic = url
        .split("topic=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let region = url
        .split("region=")
        .nth(1)
        .map_or("jateng".to_string(), |r| {
            r.split('&').next().unwrap().to_string()
        });
    let incident_line = lines
        .find(|l| l.contains("incident 1 begins"))
        .expect("the incident was announced before its alert")
        .1;
    eprintln!("{incident_line}\n{fired_line}");
    let (_, firing) = wait_for(
        "the alert stream to carry the firing spike",
        Duration::from_secs(30),
        || {
            events.find(|e| {
                e.kind == "firing"
                    && e.data["kind"] == "spike"
                    && e.data["topic"] == topic.as_str()
                    && e.data["region"]["code"] == region.as_str()
                    && rfc3339_ms(&e.data["detected_at"]) >= live_ms
            })
        },
    );
    let id = firing.data["id"].as_str().unwrap().to_string();
    let (resolved_at, resolved) = wait_for(
        &format!("spike {id} to resolve on the alert stream"),
        Duration::from_secs(600),
        || {
            if searches % 4 == 0 {
                search(port, searches);
            }
            searches += 1;
            std::thread::sleep(Duration::from_millis(200));
            events.find(|e| e.kind == "resolved" && e.data["id"] == id.as_str())
        },
    );
    eprintln!(
        "spike {id} ({topic} in {region}) fired {:?} into live mode and resolved {:?} later (event time {} → {})",
        fired_at - live_at,
        resolved_at - fired_at,
        str_of(&resolved.data["detected_at"]),
        str_of(&resolved.data["resolved_at"]),
    );
    let api = get_json(&format!("{base}/api/alerts?state=resolved&kind=spike")).unwrap();
    assert!(
        api.as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str()),
        "/api/alerts lists the resolved spike"
    );
    let page = http().get(&url).send().unwrap();
    assert!(
        page.status().is_success(),
        "the alert's URL serves the page"
    );
    let hits = get_json(&format!(
        "{base}/api/search?topic={topic}{}&from={}",
        if region == "jateng" {
            String::new()
        } else {
            format!("&region={region}")
        },
        str_of(&firing.data["started_at"])
    ))
    .unwrap();
    assert!(
        hits["total"].as_u64().unwrap() >= 5,
        "the alert's search finds its complaints: {}",
        hits["total"]
    );

    // Prometheus has scraped the resolution, and the rules ran after that.
    let total = metric_sum(port, "kemala_alerts_total").unwrap_or(0.0);
    let served = metric_sum(port, "kemala_search_duration_seconds_count").unwrap_or(0.0);
    wait_for(
        "Prometheus to scrape the alerts and the searches",
        Duration::from_secs(60),
        || {
            let alerts = prom.value("sum(kemala_alerts_total)")?;
            let reqs = prom.value("sum(kemala_search_duration_seconds_count)")?;
            (alerts >= total && reqs >= served).then_some(())
        },
    );
    let scraped = now();
    wait_for(
        "the recording rules to run after the last scrape",
        Duration::from_secs(60),
        || {
            let recorded = prom.value("max(timestamp(kemala:complaints:rate1h))")?;
            (recorded > scraped).then_some(())
        },
    );

    // Every query of every dashboard over the last 15 minutes, All selected.
    let t = now();
    let range_s = 900;
    assert!(
        t - run_start < range_s as f64,
        "the run fits in the last 15 minutes"
    );
    let from = t - range_s as f64;
    let mut wrong = Vec::new();
    let mut metric_seen = HashMap::new();
    let mut values = BTreeMap::new();
    for (name, metric) in [
        ("topic", "kemala_complaints_total"),
        ("region", "kemala_complaints_total"),
        ("agency", "kemala_agency_open_complaints"),
    ] {
        let vs: Vec<String> = prom
            .label_values(name, metric)
            .unwrap_or_default()
            .into_iter()
            .take(2)
            .collect();
        values.insert(name.to_string(), format!("({})", vs.join("|")));
    }
    let mut checked = 0;
    let mut spike_panels = 0;
    for d in dashboards() {
        for q in queries(&d) {
            wrong.extend(check_query(&prom, &q, (t, from, range_s), &mut metric_seen));
            wrong.extend(check_query_with_values(&prom, &q, t, &values));
            checked += 1;
            // The spikes-firing panels show a firing spike, not only zeros.
            if q.place.contains("Spikes firing over time")
                && matches!(q.kind, QueryKind::Target { .. })
            {
                spike_panels += 1;
                let expr = q.expr.replace("$topic", ".*").replace("$region", ".*");
                let max = prom
                    .query_range(&expr, from, t)
                    .map(|s| {
                        s.iter()
                            .flat_map(|s| s.values.iter().copied())
                            .fold(0.0, f64::max)
                    })
                    .unwrap_or(0.0);
                if max < 1.0 {
                    wrong.push(format!(
                        "{}: no spike firing over the last 15 minutes",
                        q.place
                    ));
                }
            }
        }
    }
    eprintln!("evaluated {checked} dashboard queries over the last 15 minutes");
    assert_eq!(
        spike_panels, 2,
        "the overview and on-call spikes-firing panels"
    );

    // Ctrl-C in the live phase, between incidents or during one.
    demo.stop_cleanly(libc::SIGINT, Duration::from_secs(10));
    assert_no_problems("dashboard problem", &wrong, "");
    let kinds: Vec<String> = events.all().into_iter().map(|e| e.kind).collect();
    eprintln!(
        "{} events on the alert stream; the whole test took {:?}",
        kinds.len(),
        t0.elapsed()
    );
}
