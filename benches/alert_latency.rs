//! End-to-end alert latency: from a spike's messages produced into Kafka to
//! the alert on `/api/alerts/stream` and at a webhook receiver.
//!
//! The engine runs in-process on the embedded broker with its default commit
//! interval, a webhook receiver and an SSE client on 127.0.0.1. A producer
//! replays generated traffic in compressed event time at a steady rate:
//! 26 hours of background (the detector's warm-up), then many labelled
//! bursts in different (topic, region) series. An alert detected at event
//! time `D` can only fire once event time reaches `D + allowed_lateness`;
//! its latency is measured from the moment the producer sent the first
//! message at or past that time (a lower bound of the true trigger, so the
//! figure errs on the slow side) to the moment the stream and the webhook
//! received it.
//!
//! `cargo bench --bench alert_latency [-- RATE]` (default 10000 messages/s).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kemala::app::Engine;
use kemala::config::Config;
use kemala::gen::{Burst, GenOptions, Generator, Truth};
use kemala::source::broker::EmbeddedBroker;
use rdkafka::producer::{BaseRecord, Producer};

const HOUR: i64 = 3_600_000;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn main() {
    let rate: f64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000.0);
    let mut config = Config::embedded().expect("bundled config");
    let base = GenOptions::default();
    let keys: [(&str, u16); 10] = [
        ("flood", 3374),
        ("road_damage", 3374),
        ("garbage", 3372),
        ("electricity", 3374),
        ("water", 3372),
        ("flood", 3321),
        ("road_damage", 3329),
        ("civil_registration", 3374),
        ("electricity", 3301),
        ("traffic", 3374),
    ];
    let bursts: Vec<Burst> = (0..30)
        .map(|k| {
            let (topic, region) = keys[k % keys.len()];
            Burst {
                topic: topic.into(),
                region_code: region,
                start_ms: base.start_ms + 26 * HOUR + k as i64 * 2 * HOUR,
                duration_ms: HOUR,
                multiplier: 12.0,
            }
        })
        .collect();
    let end_ms = base.start_ms + 26 * HOUR + 62 * HOUR;
    let opts = GenOptions {
        malformed_ratio: 0.0,
        bursts,
        ..base
    };
    let mut feed: Vec<(Vec<u8>, i64)> = Vec::new();
    for g in Generator::new(&config, opts) {
        if let Truth::Tweet { created_at_ms, .. } = g.truth {
            if created_at_ms > end_ms {
                break;
            }
            feed.push((g.payload, created_at_ms));
        }
    }
    let partitions = 16;
    println!(
        "alert latency benchmark: {} messages over {} hours of event time, 30 injected bursts, produced at {rate:.0} messages/s into {partitions} partitions",
        feed.len(),
        (end_ms - base.start_ms) / HOUR
    );

    // The webhook receiver: when each alert's "fired" arrived.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let hooks: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let sink = {
        let hooks = hooks.clone();
        let app = axum::Router::new().fallback(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let hooks = hooks.clone();
                async move {
                    let at = Instant::now();
                    if headers.get("x-kemala-event").is_some_and(|e| e == "fired") {
                        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
                            if let Some(id) = v["id"].as_str() {
                                hooks.lock().unwrap().entry(id.to_string()).or_insert(at);
                            }
                        }
                    }
                    "ok"
                }
            },
        );
        let l = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = l.local_addr().unwrap().port();
        rt.spawn(async move { axum::serve(l, app).await.unwrap() });
        format!("http://127.0.0.1:{port}/hook")
    };
    std::env::set_var("KEMALA_BENCH_HOOK_SECRET", "bench");
    for a in &mut config.agencies {
        // Every regional government and provincial agency gets the hook.
        a.webhook_url = Some(sink.clone());
        a.webhook_secret_env = Some("KEMALA_BENCH_HOOK_SECRET".into());
    }
    let dir = tempfile::tempdir().unwrap();
    config.engine.index.data_dir = dir.path().join("index");
    let broker =
        EmbeddedBroker::start(&["tweets".into(), "tweets.dlq".into()], partitions).unwrap();
    config.engine.kafka.brokers = broker.bootstrap().to_string();
    let lateness_ms =
        kemala::detect::DetectorParams::from_config(&config.engine.detect).allowed_lateness_ms;
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let engine = rt.block_on(Engine::start(config, listener)).unwrap();

    // The stream client: when each alert's firing event arrived.
    let streamed: Arc<Mutex<HashMap<String, (Instant, i64)>>> = Arc::default();
    {
        let streamed = streamed.clone();
        let url = format!("http://{}/api/alerts/stream", engine.http_addr);
        std::thread::spawn(move || {
            use std::io::BufRead;
            let resp = reqwest::blocking::Client::builder()
                .timeout(None)
                .build()
                .unwrap()
                .get(url)
                .send()
                .unwrap();
            let mut event = String::new();
            for line in std::io::BufReader::new(resp).lines().map_while(Result::ok) {
                if let Some(e) = line.strip_prefix("event:") {
                    event = e.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    let at = Instant::now();
                    if event == "firing" {
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(d.trim()) {
                            let detected = chrono::DateTime::parse_from_rfc3339(
                                v["detected_at"].as_str().unwrap_or_default(),
                            )
                            .map(|t| t.timestamp_millis())
                            .unwrap_or(0);
                            if let Some(id) = v["id"].as_str() {
                                streamed
                                    .lock()
                                    .unwrap()
                                    .entry(id.to_string())
                                    .or_insert((at, detected));
                            }
                        }
                    }
                }
            }
        });
    }
    while engine.shared.alerts.subscribers() == 0 {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Wait for the consumer group before the clock matters.
    while !engine
        .shared
        .source
        .consuming
        .load(std::sync::atomic::Ordering::Relaxed)
        || engine.shared.source.assigned.lock().unwrap().is_empty()
    {
        std::thread::sleep(Duration::from_millis(10));
    }

    // Produce at a steady rate, remembering when each message went out.
    let producer = kemala::cli::producer(broker.bootstrap()).unwrap();
    let started = Instant::now();
    let mut sent: Vec<(i64, Instant)> = Vec::with_capacity(feed.len());
    for (i, (payload, t)) in feed.iter().enumerate() {
        let due = Duration::from_secs_f64(i as f64 / rate);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
        let mut rec: BaseRecord<'_, (), [u8]> = BaseRecord::to("tweets")
            .payload(&payload[..])
            .partition((i % partitions as usize) as i32);
        while let Err((_, r)) = producer.send(rec) {
            rec = r;
            std::thread::sleep(Duration::from_millis(1));
        }
        if i % 64 == 0 {
            producer.poll(Duration::ZERO);
        }
        sent.push((*t, Instant::now()));
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    let n = feed.len() as u64;
    while engine
        .shared
        .progress
        .processed
        .load(std::sync::atomic::Ordering::Relaxed)
        < n
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    // Give the last deliveries a moment to land (bounded).
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(3)
        && hooks.lock().unwrap().len() < streamed.lock().unwrap().len()
    {
        std::thread::sleep(Duration::from_millis(20));
    }

    // Event time only moves forward in the feed; the first message at or past
    // a time is found by binary search over the send log's event times.
    let mut max_so_far = i64::MIN;
    let running_max: Vec<i64> = sent
        .iter()
        .map(|(t, _)| {
            max_so_far = max_so_far.max(*t);
            max_so_far
        })
        .collect();
    let trigger = |detected_ms: i64| -> Option<Instant> {
        let i = running_max.partition_point(|m| *m < detected_ms + lateness_ms);
        sent.get(i).map(|(_, at)| *at)
    };
    let streamed = streamed.lock().unwrap().clone();
    let hooks = hooks.lock().unwrap().clone();
    let mut sse = Vec::new();
    let mut hook = Vec::new();
    for (id, (at, detected)) in &streamed {
        let Some(t0) = trigger(*detected) else {
            continue;
        };
        sse.push(at.saturating_duration_since(t0).as_secs_f64() * 1000.0);
        if let Some(h) = hooks.get(id) {
            hook.push(h.saturating_duration_since(t0).as_secs_f64() * 1000.0);
        }
    }
    sse.sort_by(f64::total_cmp);
    hook.sort_by(f64::total_cmp);
    let produce_secs = started.elapsed().as_secs_f64();
    println!(
        "alerts fired: {} (stream), {} (webhook); feed took {produce_secs:.1} s",
        sse.len(),
        hook.len()
    );
    for (name, v) in [("stream (SSE)", &sse), ("webhook", &hook)] {
        if v.is_empty() {
            println!("{name}: no alerts measured");
            continue;
        }
        println!(
            "{name}: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms over {} alerts",
            percentile(v, 0.5),
            percentile(v, 0.9),
            percentile(v, 0.99),
            v[v.len() - 1],
            v.len()
        );
    }
    rt.block_on(engine.stop()).unwrap();
}
