//! Spike alerts end to end: the API, Server-Sent Events, signed webhooks that
//! are retried through failures and restarts, a real Alertmanager, replays
//! that reproduce, and quiet keys that never page anybody.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kemala::gen::{GenOptions, Generator, Truth};
use serde_json::Value;

use crate::common::{
    free_port, get_json, produce_all, start_broker, status, wait_for, write_config, Proc,
};
use crate::engine::InProc;

/// One request a sink received, and what it answered.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub status: u16,
}

/// An HTTP receiver on 127.0.0.1 that records every POST. It answers 500 to
/// the first `fail_first` attempts of each delivery id (or every attempt
/// while `failing` is set), then 200.
pub struct Sink {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub failing: Arc<std::sync::atomic::AtomicBool>,
    _rt: tokio::runtime::Runtime,
}

impl Sink {
    pub fn start(fail_first: usize) -> Sink {
        use axum::body::Bytes;
        use axum::http::{HeaderMap, StatusCode, Uri};
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (r, f) = (received.clone(), failing.clone());
        let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
            let (r, f) = (r.clone(), f.clone());
            async move {
                let headers: BTreeMap<String, String> = headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_string(),
                            v.to_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect();
                let mut list = r.lock().unwrap();
                let id = headers.get("x-kemala-delivery").cloned();
                let attempts = list
                    .iter()
                    .filter(|x| id.is_some() && x.headers.get("x-kemala-delivery") == id.as_ref())
                    .count();
                let fail = f.load(std::sync::atomic::Ordering::SeqCst)
                    || (id.is_some() && attempts < fail_first);
                let status = if fail { 500 } else { 200 };
                list.push(Received {
                    path: uri.path().to_string(),
                    headers,
                    body: body.to_vec(),
                    status,
                });
                StatusCode::from_u16(status).unwrap()
            }
        });
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Sink {
            port,
            received,
            failing,
            _rt: rt,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// The demo's feed: two days of background with a 12× flood in Kab. Demak
/// at 30 h and a 10× illegal-fees burst in Kab. Brebes at 32 h. Returns the
/// payloads and their event times.
pub fn spike_feed(until_hours: i64) -> Vec<(Vec<u8>, i64)> {
    let config = kemala::config::Config::embedded().unwrap();
    let opts = GenOptions {
        malformed_ratio: 0.0,
        ..GenOptions::demo()
    };
    let start = opts.start_ms;
    let mut out = Vec::new();
    for g in Generator::new(&config, opts) {
        let t = match g.truth {
            Truth::Tweet { created_at_ms, .. } => created_at_ms,
            Truth::Malformed { .. } => continue,
        };
        if t > start + until_hours * 3_600_000 {
            break;
        }
        out.push((g.payload, t));
    }
    out
}

fn spike_alerts(list: &Value) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "spike")
        .cloned()
        .collect()
}

fn demak_flood(list: &Value) -> Option<Value> {
    spike_alerts(list)
        .into_iter()
        .find(|a| a["topic"] == "flood" && a["region"]["code"] == "3321")
}

fn secret_var(name: &str) -> String {
    format!("KEMALA_TEST_SECRET_{name}_{}", std::process::id())
}

fn with_webhooks(c: &mut kemala::config::Config, sink: &Sink, secret: &str, var: &str) {
    // Set before the engine starts, once per variable name, in this process.
    std::env::set_var(var, secret);
    for a in &mut c.agencies {
        if a.id == "pemkab_demak" || a.id == "bpbd_jateng" {
            a.webhook_url = Some(sink.url(&format!("/hook/{}", a.id)));
            a.webhook_secret_env = Some(var.to_string());
        }
    }
}

/// Whether the signature header is the HMAC-SHA256 of the body, computed
/// independently of kemala by the `hmac` module of Python's standard library.
fn valid_signature(r: &Received, secret: &str) -> bool {
    let sig = r
        .headers
        .get("x-kemala-signature")
        .cloned()
        .unwrap_or_default();
    let mut python = std::process::Command::new("python3")
        .args([
            "-c",
            "import hashlib, hmac, sys; key = sys.argv[1].encode(); \
             print('sha256=' + hmac.new(key, sys.stdin.buffer.read(), hashlib.sha256).hexdigest())",
            secret,
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 must be installed (scripts/test.sh installs it)");
    std::io::Write::write_all(&mut python.stdin.take().unwrap(), &r.body).unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(out.status.success(), "python3 hmac failed");
    sig == String::from_utf8(out.stdout).unwrap().trim()
}

/// Reads Server-Sent Events into a shared list, on a thread of its own.
fn subscribe(url: String) -> Arc<Mutex<Vec<(String, Value)>>> {
    let events: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let out = events.clone();
    std::thread::spawn(move || {
        let resp = crate::common::stream(&url).unwrap();
        let mut event = String::new();
        for line in BufReader::new(resp).lines() {
            let Ok(line) = line else { break };
            if let Some(e) = line.strip_prefix("event:") {
                event = e.trim().to_string();
            } else if let Some(d) = line.strip_prefix("data:") {
                if let Ok(v) = serde_json::from_str(d.trim()) {
                    out.lock().unwrap().push((event.clone(), v));
                }
            }
        }
    });
    events
}

#[test]
fn a_spike_reaches_the_api_the_stream_and_signed_webhooks_through_failures() {
    let sink = Sink::start(3);
    let secret = "s3cret-for-tests";
    let var = secret_var("A");
    // The whole feed is on the broker before the engine starts, as in a
    // replay: a partition that an engine sees empty and caught up lets event
    // time go, and if its first tweets then reached the broker seconds after
    // the others' (a busy machine), they would be late. The burst fires after
    // 30 of the feed's 36 hours, long after the stream has connected.
    let feed = spike_feed(36);
    let end_ms = feed.iter().map(|(_, t)| *t).max().unwrap();
    let b = crate::engine::broker(64);
    let bootstrap = b.bootstrap().to_string();
    let n = produce_all(&bootstrap, "tweets", feed.into_iter().map(|(p, _)| p)) as u64;
    let e = InProc::start_on(Some(b), &bootstrap, |c| {
        with_webhooks(c, &sink, secret, &var)
    });
    let events = subscribe(e.url("/api/alerts/stream"));
    wait_for("the stream to connect", Duration::from_secs(10), || {
        (e.shared().alerts.subscribers() > 0).then_some(())
    });
    // The burst's resolution is decided once event time passes its end plus
    // the resolve window; the feed runs hours beyond that.
    e.wait_settled(n, end_ms);

    let list = e.get("/api/alerts?state=all");
    let alert =
        demak_flood(&list).unwrap_or_else(|| panic!("the Demak flood was not detected: {list}"));
    let id = alert["id"].as_str().unwrap().to_string();
    assert_eq!(
        alert["state"], "resolved",
        "the burst ended hours before the feed did"
    );
    assert_eq!(
        alert["agencies"],
        serde_json::json!(["pemkab_demak", "bpbd_jateng"])
    );
    assert!(alert["sample_tweet_ids"].as_array().unwrap().len() >= 3);
    assert!(!alert["top_terms"].as_array().unwrap().is_empty());
    // Its rank among the series' own excursions: a share, and the flood
    // stands out in its series' two days.
    let rank = alert["rank"].as_f64().expect("a spike carries its rank");
    assert!((0.5..=1.0).contains(&rank), "rank {rank}");
    // Onset and detection in event time: the burst starts at 30 h (06:00 UTC on day two).
    let started = chrono::DateTime::parse_from_rfc3339(alert["started_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let detected = chrono::DateTime::parse_from_rfc3339(alert["detected_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let onset = GenOptions::demo().start_ms / 1000 + 30 * 3600;
    assert!(
        (started - onset).abs() <= 10 * 60,
        "onset {started} vs injected {onset}"
    );
    assert!(
        detected - onset <= 10 * 60,
        "detected {}s after the onset",
        detected - onset
    );
    // Only the injected bursts fire: no false alarm on two days of background.
    let fired: BTreeSet<(String, String)> = spike_alerts(&list)
        .iter()
        .filter(|a| a["parent"].is_null())
        .map(|a| {
            (
                a["topic"].as_str().unwrap().to_string(),
                a["region"]["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fired,
        BTreeSet::from([
            ("flood".to_string(), "3321".to_string()),
            ("illegal_fees".to_string(), "3329".to_string())
        ])
    );

    // The stream told of its firing and its resolution.
    wait_for(
        "firing and resolved on the stream",
        Duration::from_secs(30),
        || {
            let ev = events.lock().unwrap();
            let states: BTreeSet<&str> = ev
                .iter()
                .filter(|(_, a)| a["id"] == id.as_str())
                .map(|(e, _)| e.as_str())
                .collect();
            (states.contains("firing") && states.contains("resolved")).then_some(())
        },
    );

    // Each agency's webhook got "fired" and "resolved", each once per
    // delivery id after three failures, every attempt signed.
    let delivered = wait_for(
        "both webhooks to accept fired and resolved",
        Duration::from_secs(90),
        || {
            let all = sink.all();
            let ok: Vec<&Received> = all
                .iter()
                .filter(|r| {
                    r.status == 200
                        && serde_json::from_slice::<Value>(&r.body)
                            .ok()
                            .is_some_and(|b| b["id"] == id.as_str())
                })
                .collect();
            (ok.len() >= 4).then(|| all.clone())
        },
    );
    let mut per_target: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in delivered.iter().filter(|r| {
        serde_json::from_slice::<Value>(&r.body)
            .ok()
            .is_some_and(|b| b["id"] == id.as_str())
    }) {
        assert!(valid_signature(r, secret), "bad signature on {}", r.path);
        let d = r.headers["x-kemala-delivery"].clone();
        per_target
            .entry((r.path.clone(), r.headers["x-kemala-event"].clone()))
            .or_default()
            .insert(d);
    }
    let targets: BTreeSet<(String, String)> = per_target.keys().cloned().collect();
    let want: BTreeSet<(String, String)> = ["/hook/pemkab_demak", "/hook/bpbd_jateng"]
        .iter()
        .flat_map(|p| ["fired", "resolved"].map(|e| (p.to_string(), e.to_string())))
        .collect();
    assert_eq!(targets, want);
    for ((path, event), ids) in &per_target {
        assert_eq!(ids.len(), 1, "{path} {event}: one delivery id");
        let d = ids.iter().next().unwrap();
        let attempts: Vec<u16> = delivered
            .iter()
            .filter(|r| r.headers.get("x-kemala-delivery") == Some(d))
            .map(|r| r.status)
            .collect();
        assert_eq!(
            attempts,
            vec![500, 500, 500, 200],
            "{path} {event}: retried until accepted, then never again"
        );
    }
    let m = e.metrics();
    assert!(
        crate::common::counter(
            &m,
            "kemala_alert_delivery_retries_total{target=\"webhook\"}"
        ) >= 12.0
    );
    assert_eq!(
        crate::common::counter(
            &m,
            "kemala_alerts_total{region=\"kab-demak\",severity=\"critical\",topic=\"flood\"}"
        ) + crate::common::counter(
            &m,
            "kemala_alerts_total{region=\"kab-demak\",severity=\"warning\",topic=\"flood\"}"
        ),
        1.0
    );
}

#[test]
fn a_real_alertmanager_receives_the_spike_and_its_resolution() {
    let sink = Sink::start(0);
    let dir = tempfile::tempdir().unwrap();
    let am_port = free_port();
    let am_config = dir.path().join("alertmanager.yml");
    std::fs::write(
        &am_config,
        format!(
            "route:\n  receiver: sink\n  group_by: [alertname, topic, region]\n  group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: sink\n    webhook_configs:\n      - url: {}\n        send_resolved: true\n",
            sink.url("/am")
        ),
    )
    .unwrap();
    let mut am = std::process::Command::new("prometheus-alertmanager")
        .args([
            &format!("--config.file={}", am_config.display()),
            &format!("--storage.path={}", dir.path().join("am-data").display()),
            &format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("am.log")).unwrap())
        .spawn()
        .expect("prometheus-alertmanager must be installed (scripts/test.sh installs it)");
    wait_for("alertmanager to be ready", Duration::from_secs(30), || {
        reqwest::blocking::get(format!("http://127.0.0.1:{am_port}/-/ready"))
            .ok()
            .filter(|r| r.status().is_success())
    });
    let e = InProc::start(64, |c| {
        c.engine.alerts.alertmanager_url = Some(format!("http://127.0.0.1:{am_port}"));
        c.engine.alerts.resend_interval = kemala::config::HumanDuration(Duration::from_secs(2));
    });
    let feed = spike_feed(36);
    let burst_mid = GenOptions::demo().start_ms + 31 * 3_600_000;
    let (first, rest): (Vec<_>, Vec<_>) = feed.into_iter().partition(|(_, t)| *t < burst_mid);
    let n1 = produce_all(&e.bootstrap(), "tweets", first.into_iter().map(|(p, _)| p)) as u64;
    e.wait_committed(n1);
    let am_alerts = |status: &str| -> Vec<Value> {
        sink.all()
            .iter()
            .filter(|r| r.path == "/am")
            .filter_map(|r| serde_json::from_slice::<Value>(&r.body).ok())
            .flat_map(|b| b["alerts"].as_array().cloned().unwrap_or_default())
            .filter(|a| {
                a["status"] == status
                    && a["labels"]["topic"] == "flood"
                    && a["labels"]["region"] == "kab-demak"
            })
            .collect()
    };
    let firing = wait_for(
        "alertmanager to notify the firing spike",
        Duration::from_secs(60),
        || am_alerts("firing").into_iter().next(),
    );
    let labels = &firing["labels"];
    assert_eq!(labels["alertname"], "KemalaSpike");
    assert_eq!(labels["agency"], "pemkab_demak");
    assert!(
        labels["severity"] == "warning" || labels["severity"] == "critical",
        "{labels}"
    );
    let n2 = produce_all(&e.bootstrap(), "tweets", rest.into_iter().map(|(p, _)| p)) as u64;
    e.wait_committed(n1 + n2);
    wait_for(
        "alertmanager to notify the resolution",
        Duration::from_secs(60),
        || am_alerts("resolved").into_iter().next(),
    );
    let _ = am.kill();
    let _ = am.wait();
}

/// Whether `/api/status` shows `n` tweets indexed and committed event time
/// at `end_ms` or later: every decision up to the end of a feed is made.
pub fn settled(status: &Value, n: u64, end_ms: i64) -> Option<()> {
    let docs = status["counts"]["index_documents"].as_u64()?;
    let wm = chrono::DateTime::parse_from_rfc3339(status["watermark"].as_str()?).ok()?;
    (docs >= n && wm.timestamp_millis() >= end_ms).then_some(())
}

pub fn alert_times(list: &Value) -> BTreeSet<String> {
    spike_alerts(list)
        .iter()
        .map(|a| {
            format!(
                "{} {} {} {} {} {}",
                a["id"],
                a["topic"],
                a["region"]["code"],
                a["started_at"],
                a["detected_at"],
                a["resolved_at"]
            )
        })
        .collect()
}

#[test]
fn replay_with_a_kill_9_halfway_gives_the_same_alerts_and_webhooks_survive_it() {
    // The reference: the feed through an engine that never stops.
    let feed = spike_feed(36);
    let end_ms = feed.iter().map(|(_, t)| *t).max().unwrap();
    let reference = {
        let b = crate::engine::broker(64);
        let bootstrap = b.bootstrap().to_string();
        let n = produce_all(&bootstrap, "tweets", feed.iter().map(|(p, _)| p.clone())) as u64;
        let e = InProc::start_on(Some(b), &bootstrap, |_| {});
        e.wait_settled(n, end_ms);
        alert_times(&e.get("/api/alerts?state=all"))
    };
    assert!(reference.len() >= 2, "{reference:?}");

    // The same feed through the binary, killed with -9 in the middle of the
    // Demak burst while its webhook receiver is down, then restarted.
    let sink = Sink::start(0);
    sink.failing
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let (_broker, bootstrap) = start_broker(dir.path(), 64);
    let port = free_port();
    let config = write_config(dir.path(), &bootstrap, port, "");
    let agencies = dir.path().join("config/agencies.toml");
    let text = std::fs::read_to_string(&agencies).unwrap();
    let hooked = text.replacen(
        "id = \"pemkab_demak\"",
        &format!("id = \"pemkab_demak\"\nwebhook_url = \"{}\"\nwebhook_secret_env = \"KEMALA_TEST_HOOK_SECRET\"", sink.url("/hook/pemkab_demak")),
        1,
    );
    std::fs::write(&agencies, hooked).unwrap();
    let cfg = config.to_str().unwrap().to_string();
    let run = |name: &str| {
        let log = dir.path().join(format!("{name}.log"));
        let child = std::process::Command::new(crate::common::BIN)
            .args(["run", "--config", &cfg])
            .env("KEMALA_TEST_HOOK_SECRET", "hook-secret")
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Proc {
            child,
            name: name.into(),
            log,
        }
    };
    produce_all(&bootstrap, "tweets", feed.iter().map(|(p, _)| p.clone()));
    let first = run("engine-a");
    // Wait for the webhook to fail at least once: the alert fired and its
    // notification is in the outbox.
    wait_for("a failed webhook attempt", Duration::from_secs(300), || {
        sink.all().iter().any(|r| r.status == 500).then_some(())
    });
    first.signal(libc::SIGKILL);
    drop(first);
    sink.failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let _second = run("engine-b");
    let total = feed.len() as u64;
    wait_for(
        "the whole feed after the restart, and event time at its end",
        Duration::from_secs(300),
        || settled(&status(port)?, total, end_ms),
    );
    crate::common::wait_eq(
        "the alerts after the restart (id, topic, region, started, detected, resolved)",
        Duration::from_secs(60),
        || {
            get_json(&format!("http://127.0.0.1:{port}/api/alerts?state=all"))
                .map(|l| alert_times(&l))
        },
        &reference,
    );

    // The notification that failed before the kill was delivered after it,
    // with the same delivery id, and exactly one delivery id per event.
    let oks = wait_for(
        "fired and resolved accepted",
        Duration::from_secs(60),
        || {
            let ok: Vec<Received> = sink.all().into_iter().filter(|r| r.status == 200).collect();
            let events: BTreeSet<String> = ok
                .iter()
                .map(|r| r.headers["x-kemala-event"].clone())
                .collect();
            (events.contains("fired") && events.contains("resolved")).then_some(ok)
        },
    );
    let failed_ids: BTreeSet<String> = sink
        .all()
        .iter()
        .filter(|r| r.status == 500)
        .map(|r| r.headers["x-kemala-delivery"].clone())
        .collect();
    let ok_ids: Vec<String> = oks
        .iter()
        .map(|r| r.headers["x-kemala-delivery"].clone())
        .collect();
    for id in &failed_ids {
        assert_eq!(
            ok_ids.iter().filter(|x| *x == id).count(),
            1,
            "delivery {id} accepted exactly once after the restart"
        );
    }
    let mut per_event: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for r in &oks {
        let body: Value = serde_json::from_slice(&r.body).unwrap();
        assert!(valid_signature(r, "hook-secret"));
        per_event
            .entry((
                body["id"].as_str().unwrap().to_string(),
                r.headers["x-kemala-event"].clone(),
            ))
            .or_default()
            .insert(r.headers["x-kemala-delivery"].clone());
    }
    for (k, ids) in per_event {
        assert_eq!(
            ids.len(),
            1,
            "{k:?} went out under more than one delivery id: {ids:?}"
        );
    }
}

#[test]
fn quiet_keys_and_empty_windows_never_fire() {
    let e = InProc::start(4, |_| {});
    let t0 = GenOptions::default().start_ms;
    // A never-seen (topic, region) with a handful of complaints in minutes,
    // then hours of nothing (0 versus 0), then one more tweet to move time on.
    let mut msgs: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            serde_json::to_vec(&serde_json::json!({"data": {
                "id": (900_000 + i).to_string(), "author_id": (70_000 + i).to_string(),
                "text": "Kebakaran gudang di Blora, asap tebal, tolong damkar segera #KemalaJateng",
                "created_at": kemala::timestamp::rfc3339(t0 + i * 60_000)}}))
            .unwrap()
        })
        .collect();
    msgs.push(
        serde_json::to_vec(&serde_json::json!({"data": {"id": "900100", "author_id": "1", "text": "selamat pagi", "created_at": kemala::timestamp::rfc3339(t0 + 6 * 3_600_000)}}))
            .unwrap(),
    );
    let n = produce_all(&e.bootstrap(), "tweets", msgs) as u64;
    e.wait_committed(n);
    let hits = e.get("/api/search?topic=fire");
    assert_eq!(
        hits["total"], 6,
        "the complaints were indexed as fire: {hits}"
    );
    assert_eq!(
        e.get("/api/alerts?state=all"),
        serde_json::json!([]),
        "no page for a handful of tweets on a new key"
    );
    let m = e.metrics();
    assert_eq!(crate::common::counter(&m, "kemala_detect_late_total"), 0.0);
}
