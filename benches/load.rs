//! Load while ingesting: search, alerts and an export against an engine
//! whose ingestion runs flat out, each figure beside the same figure on the
//! same engine, in the same process, without that load.
//!
//! 1. An index of `PRELOAD` generated tweets is written directly (not
//!    through Kafka), so that the export has a million rows to stream.
//! 2. The engine starts on it, on the embedded broker, and 200 SSE
//!    subscribers connect to `/api/alerts/stream`; one of them never reads.
//! 3. Idle, for a minute: no ingestion; 20 search clients (each one query,
//!    then a second of thought, as an analyst at a keyboard) and an alert
//!    every 200 ms.
//! 4. Ingest alone: `N` tweets produced at full speed, nobody reading.
//! 5. Ingest with readers: `N` more tweets, with the 20 search clients, the
//!    alerts to the 200 subscribers, and one export of every row (CSV).
//!
//! It prints search p50 and p99 and alert-to-SSE p99 (from the alert
//! entering the store to a subscriber reading it), with their ratio to the
//! idle figures; the ingest rate with readers against the rate without; and
//! the process's peak RSS (engine and clients together).
//!
//! `cargo bench --bench load [-- PRELOAD N]` (defaults: 1000000 and 200000).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kemala::alert::{AlertKind, AlertState, AlertStore, StoredAlert};
use kemala::app::Engine;
use kemala::config::Config;
use kemala::enrich::Enricher;
use kemala::gen::{GenOptions, Generator};
use kemala::index::{CommitPayload, IndexHandle, Writer};
use kemala::source::broker::EmbeddedBroker;
use kemala::source::decode::decode;
use prometheus::core::Collector;
use rdkafka::producer::{BaseRecord, Producer};

const SEARCH_CLIENTS: usize = 20;
const THINK: Duration = Duration::from_secs(1);
const SUBSCRIBERS: usize = 200;
const ALERT_EVERY: Duration = Duration::from_millis(200);
const IDLE_FOR: Duration = Duration::from_secs(60);
const QUERIES: [&str; 8] = [
    "q=banjir",
    "q=jalan+rusak",
    "q=sampah&limit=50",
    "q=listrik+padam&sort=relevance",
    "q=air&topic=water",
    "topic=flood&complaint=true",
    "q=macet&region=3374",
    "q=pdam+mati",
];

fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    v[rank - 1]
}

/// A `/proc/self/status` field in MiB.
fn proc_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A spike alert with a fresh id.
fn alert(id: String) -> StoredAlert {
    StoredAlert {
        id,
        kind: AlertKind::Spike,
        topic: Some("flood".into()),
        region: 3374,
        state: AlertState::Firing,
        severity: "warning".into(),
        started_at_ms: 1_767_571_200_000,
        detected_at_ms: 1_767_571_200_000,
        resolved_at_ms: None,
        observed: 40.0,
        expected: 4.0,
        window_seconds: 900,
        score: 6.0,
        rank: None,
        agencies: vec!["bpbd_jateng".into()],
        sample_tweet_ids: (0..10).collect(),
        top_terms: vec!["banjir".into(), "semarang".into()],
        regions: Vec::new(),
        parent: None,
        summary: "banjir di Semarang".into(),
        acked_by: None,
        acked_at: None,
    }
}

/// Alerts sent (id → when) and received by the subscribers (delays, s).
#[derive(Default)]
struct AlertLog {
    sent: Mutex<HashMap<String, Instant>>,
    delays: Mutex<Vec<f64>>,
}

/// One SSE subscriber; a silent one connects and never reads.
fn subscribe(port: u16, log: Arc<AlertLog>, silent: bool) -> Option<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /api/alerts/stream HTTP/1.1\r\nHost: bench\r\n\r\n")
        .unwrap();
    if silent {
        return Some(s);
    }
    std::thread::spawn(move || {
        let mut r = BufReader::new(s);
        let mut line = String::new();
        while r.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(id) = line.trim_end().strip_prefix("id:") {
                let at = Instant::now();
                let sent = log.sent.lock().unwrap().get(id.trim()).copied();
                if let Some(t) = sent {
                    log.delays
                        .lock()
                        .unwrap()
                        .push(at.duration_since(t).as_secs_f64());
                }
            }
            line.clear();
        }
    });
    None
}

/// Sends an alert every [`ALERT_EVERY`] until `stop`.
fn alerts_until(store: Arc<AlertStore>, log: Arc<AlertLog>, prefix: &str, stop: Arc<AtomicBool>) {
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let id = format!("{prefix}-{i}");
        log.sent.lock().unwrap().insert(id.clone(), Instant::now());
        store.apply(alert(id));
        i += 1;
        std::thread::sleep(ALERT_EVERY);
    }
}

/// The readers of one phase: an analyst's searches and the alert feed.
struct Readers {
    stop: Arc<AtomicBool>,
    alerts: std::thread::JoinHandle<()>,
    searching: std::thread::JoinHandle<Vec<f64>>,
}

impl Readers {
    fn start(engine: &Engine, port: u16, log: &Arc<AlertLog>, phase: &'static str) -> Readers {
        let stop = Arc::new(AtomicBool::new(false));
        let (store, log, s) = (engine.shared.alerts.clone(), log.clone(), stop.clone());
        let alerts = std::thread::spawn(move || alerts_until(store, log, phase, s));
        let s = stop.clone();
        let searching = std::thread::spawn(move || searches_until(port, s));
        Readers {
            stop,
            alerts,
            searching,
        }
    }

    /// Stops them: the search times and the alert delays of the phase (s).
    fn stop(self, log: &AlertLog) -> (Vec<f64>, Vec<f64>) {
        self.stop.store(true, Ordering::Relaxed);
        let searches = self.searching.join().unwrap();
        self.alerts.join().unwrap();
        // The last alerts' deliveries.
        std::thread::sleep(Duration::from_millis(500));
        let delays = std::mem::take(&mut *log.delays.lock().unwrap());
        (searches, delays)
    }
}

/// 20 search clients until `stop`; returns their latencies (s).
fn searches_until(port: u16, stop: Arc<AtomicBool>) -> Vec<f64> {
    let clients: Vec<_> = (0..SEARCH_CLIENTS)
        .map(|c| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let http = reqwest::blocking::Client::new();
                let mut out = Vec::new();
                let mut i = c;
                // Spread the clients over the first second.
                std::thread::sleep(THINK * c as u32 / SEARCH_CLIENTS as u32);
                while !stop.load(Ordering::Relaxed) {
                    let url = format!(
                        "http://127.0.0.1:{port}/api/search?{}",
                        QUERIES[i % QUERIES.len()]
                    );
                    let t = Instant::now();
                    let r = http.get(&url).send().and_then(|r| r.error_for_status());
                    match r.and_then(|r| r.bytes()) {
                        Ok(_) => out.push(t.elapsed().as_secs_f64()),
                        Err(e) => panic!("search {url} failed: {e}"),
                    }
                    i += 1;
                    std::thread::sleep(THINK);
                }
                out
            })
        })
        .collect();
    clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect()
}

/// Produces `n` generated tweets at full speed on a thread of its own.
fn produce(bootstrap: String, mut gen: Generator, n: usize) -> std::thread::JoinHandle<Generator> {
    std::thread::spawn(move || {
        let producer = kemala::cli::producer(&bootstrap).unwrap();
        for g in gen.by_ref().take(n) {
            let mut rec: BaseRecord<'_, (), [u8]> = BaseRecord::to("tweets").payload(&g.payload);
            while let Err((_, r)) = producer.send(rec) {
                rec = r;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        producer.flush(Duration::from_secs(120)).unwrap();
        gen
    })
}

/// Ingests `n` more tweets; returns tweets/s from the first one handled to
/// the last one committed.
fn ingest(engine: &Engine, bootstrap: &str, gen: Generator, n: usize) -> (f64, Generator) {
    let p = &engine.shared.progress;
    let (processed0, committed0) = (
        p.processed.load(Ordering::Relaxed),
        p.committed.load(Ordering::Relaxed),
    );
    let producer = produce(bootstrap.to_string(), gen, n);
    while p.processed.load(Ordering::Relaxed) == processed0 {
        std::thread::sleep(Duration::from_millis(1));
    }
    let t = Instant::now();
    while p.committed.load(Ordering::Relaxed) < committed0 + n as u64 {
        std::thread::sleep(Duration::from_millis(2));
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    (rate, producer.join().unwrap())
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let preload = args.first().copied().unwrap_or(1_000_000);
    let n = args.get(1).copied().unwrap_or(200_000);
    let config = Config::embedded().expect("bundled config");
    let mut gen = Generator::new(
        &config,
        GenOptions {
            malformed_ratio: 0.0,
            ..GenOptions::default()
        },
    );
    println!("kemala load benchmark: {preload} tweets preloaded, {n} ingested per phase");

    // 1. The preloaded index, written directly.
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("index");
    let t = Instant::now();
    {
        let handle = IndexHandle::open(&data_dir, &config).unwrap();
        let mut writer = Writer::new(&handle, 256).unwrap();
        let enricher = Enricher::build(&config).expect("the bundled model");
        let mut tokens = Vec::new();
        for (i, g) in gen.by_ref().take(preload).enumerate() {
            if let Ok(tweet) = decode(Some(&g.payload), 64 * 1024) {
                let e = enricher.enrich(tweet, &mut tokens);
                writer.add(&e, &tokens, false).unwrap();
            }
            if i % 250_000 == 249_999 {
                writer.commit(&CommitPayload::default()).unwrap();
            }
        }
        writer.commit(&CommitPayload::default()).unwrap();
        println!(
            "preloaded {} tweets in {:.0} s",
            handle.num_docs(),
            t.elapsed().as_secs_f64()
        );
    }

    // 2. The engine, and 200 subscribers.
    let partitions = (2 * n * 1000 / (3 << 20) + 8) as i32;
    let broker =
        EmbeddedBroker::start(&["tweets".into(), "tweets.dlq".into()], partitions).unwrap();
    let bootstrap = broker.bootstrap().to_string();
    let mut c = config.clone();
    c.engine.kafka.brokers = bootstrap.clone();
    c.engine.index.data_dir = data_dir.clone();
    let (rt, engine) = Engine::start_local(c).unwrap();
    let port = engine.http_addr.port();
    while !engine.shared.source.consuming.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = Arc::new(AlertLog::default());
    let silent = subscribe(port, log.clone(), true);
    for _ in 1..SUBSCRIBERS {
        subscribe(port, log.clone(), false);
    }
    while engine.shared.alerts.subscribers() < SUBSCRIBERS {
        std::thread::sleep(Duration::from_millis(20));
    }
    let rss_start = proc_mib("VmRSS:");

    // 3. Idle.
    let readers = Readers::start(&engine, port, &log, "idle");
    std::thread::sleep(IDLE_FOR);
    let (mut idle_search, mut idle_alert) = readers.stop(&log);

    // 4. Ingest alone.
    let (rate_alone, gen) = ingest(&engine, &bootstrap, gen, n);

    // 5. Ingest with readers.
    let readers = Readers::start(&engine, port, &log, "busy");
    let export = std::thread::spawn(move || {
        let t = Instant::now();
        let mut r = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(3600))
            .build()
            .unwrap()
            .get(format!(
                "http://127.0.0.1:{port}/api/search/export?format=csv"
            ))
            .send()
            .unwrap();
        let mut buf = vec![0u8; 1 << 16];
        let (mut bytes, mut lines) = (0u64, 0u64);
        loop {
            let k = r.read(&mut buf).unwrap();
            if k == 0 {
                break;
            }
            bytes += k as u64;
            lines += buf[..k].iter().filter(|b| **b == b'\n').count() as u64;
        }
        (lines, bytes, t.elapsed().as_secs_f64())
    });
    let (rate_busy, _gen) = ingest(&engine, &bootstrap, gen, n);
    let (mut busy_search, mut busy_alert) = readers.stop(&log);
    let rss_busy = proc_mib("VmRSS:");
    let (export_lines, export_bytes, export_s) = export.join().unwrap();

    let ms = |v: f64| v * 1000.0;
    let (s50_idle, s99_idle) = (
        percentile(&mut idle_search, 0.5),
        percentile(&mut idle_search, 0.99),
    );
    let (s50, s99) = (
        percentile(&mut busy_search, 0.5),
        percentile(&mut busy_search, 0.99),
    );
    let (a99_idle, a99) = (
        percentile(&mut idle_alert, 0.99),
        percentile(&mut busy_alert, 0.99),
    );
    let lost = engine.shared.metrics.messages_lost.collect();
    let lost: f64 = lost
        .iter()
        .flat_map(|f| f.get_metric())
        .map(|m| m.get_counter().get_value())
        .sum();
    println!(
        "search, {SEARCH_CLIENTS} clients (a query, then {} s of thought):",
        THINK.as_secs()
    );
    println!(
        "  idle:      p50 {:7.1} ms  p99 {:7.1} ms  ({} searches)",
        ms(s50_idle),
        ms(s99_idle),
        idle_search.len()
    );
    println!(
        "  ingesting: p50 {:7.1} ms  p99 {:7.1} ms  ({} searches)  = {:.2}x and {:.2}x idle",
        ms(s50),
        ms(s99),
        busy_search.len(),
        s50 / s50_idle,
        s99 / s99_idle
    );
    println!(
        "alert to SSE, {} subscribers ({} reading, 1 never reading), an alert every {} ms:",
        SUBSCRIBERS,
        SUBSCRIBERS - 1,
        ALERT_EVERY.as_millis()
    );
    println!(
        "  idle:      p99 {:7.1} ms  ({} deliveries)",
        ms(a99_idle),
        idle_alert.len()
    );
    println!(
        "  ingesting: p99 {:7.1} ms  ({} deliveries)  = {:.2}x idle",
        ms(a99),
        busy_alert.len(),
        a99 / a99_idle
    );
    println!(
        "ingest: alone {rate_alone:.0} tweets/s, with readers {rate_busy:.0} tweets/s = {:.0}% ({} messages lost)",
        100.0 * rate_busy / rate_alone,
        lost
    );
    println!(
        "export while ingesting: {} rows, {:.0} MiB in {:.1} s",
        export_lines.saturating_sub(1),
        export_bytes as f64 / (1 << 20) as f64,
        export_s
    );
    println!(
        "memory: RSS {:.0} MiB with the subscribers connected, {:.0} MiB after the busy phase, peak {:.0} MiB (engine and clients, one process)",
        rss_start,
        rss_busy,
        proc_mib("VmHWM:")
    );
    drop(silent);
    rt.block_on(engine.stop()).unwrap();
    drop(broker);
}
