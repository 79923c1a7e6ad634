//! Agency response times through the whole engine: exact quantiles on a
//! replay with known truth, bad records, overdue alerts, and open complaints
//! surviving `kill -9`.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::common::{
    counter, free_port, produce_all, start_broker, status, wait_for, write_config, Proc,
};
use crate::engine::InProc;

/// 2026-01-05T00:00:00Z
const T0: i64 = 1_767_571_200_000;
const PEMKOT_SMG: (&str, &str) = ("900000001", "PemkotSmg");
const BPBD: (&str, &str) = ("300000001", "bpbdjateng");
const GOVERNOR: (&str, &str) = ("166201489", "ganjarpranowo");
const DPU: (&str, &str) = ("0", "dpubinmarcipka");
const LAPORGUB: (&str, &str) = ("0", "LaporGub");

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A Twitter API v2 payload.
fn v2(
    id: u64,
    author: (&str, &str),
    created_ms: i64,
    text: &str,
    reply_to: Option<u64>,
    mentions: &[(&str, &str)],
) -> Vec<u8> {
    let mut data = json!({
        "id": id.to_string(),
        "text": text,
        "author_id": author.0,
        "created_at": rfc3339(created_ms),
        "conversation_id": reply_to.unwrap_or(id).to_string(),
        "lang": "in",
        "entities": {"mentions": mentions.iter().map(|(uid, u)| json!({"username": u, "id": uid})).collect::<Vec<_>>()},
    });
    if let Some(r) = reply_to {
        data["referenced_tweets"] = json!([{"type": "replied_to", "id": r.to_string()}]);
    }
    serde_json::to_vec(
        &json!({"data": data, "includes": {"users": [{"id": author.0, "username": author.1}]}}),
    )
    .unwrap()
}

fn complaint(id: u64, citizen: u64, created_ms: i64) -> Vec<u8> {
    let who = (citizen.to_string(), format!("warga{citizen}"));
    v2(
        id,
        (&who.0, &who.1),
        created_ms,
        "Jalan rusak parah di Kaligawe Semarang, banyak lubang, mohon segera diperbaiki #KemalaJateng",
        None,
        &[],
    )
}

fn nearest_rank(sorted: &[f64], q: f64) -> f64 {
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

fn agency<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("agency {id} missing"))
}

#[test]
fn quantiles_and_histograms_match_the_generated_truth_exactly() {
    const N: u64 = 50_000;
    let mut rng = SmallRng::seed_from_u64(2024);
    let mut msgs = Vec::new();
    // Truth: latencies in seconds per responding agency (ms precision).
    let mut truth: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let responders = [
        ("pemkot_semarang", PEMKOT_SMG),
        ("bpbd_jateng", BPBD),
        ("dpu_binamarga_jateng", DPU),
        ("laporgub", LAPORGUB),
    ];
    let (mut non_official, mut self_replies) = (0u64, 0u64);
    for i in 0..N {
        let id = 1_000_000_000_000 + i * 10;
        let citizen = 10_000 + i % 5_000;
        let created = T0 + i as i64 * 10_000;
        msgs.push(complaint(id, citizen, created));
        // Log-uniform latency from 2 minutes to 10 days, with milliseconds.
        let latency_ms =
            (120_000f64 * (7200f64).powf(rng.random::<f64>())) as i64 + rng.random_range(1..1000);
        let kind = rng.random_range(0..100);
        match kind {
            0..=69 => {
                let (name, acct) = responders[rng.random_range(0..responders.len())];
                msgs.push(v2(
                    id + 1,
                    acct,
                    created + latency_ms,
                    "Terima kasih, laporan diteruskan ke petugas.",
                    Some(id),
                    &[],
                ));
                truth
                    .entry(name)
                    .or_default()
                    .push(latency_ms as f64 / 1000.0);
            }
            70..=79 => {
                // The governor forwards to the city, which answers later.
                let forward_ms = latency_ms / 3 + 1;
                msgs.push(v2(
                    id + 2,
                    GOVERNOR,
                    created + forward_ms,
                    "@PemkotSmg mohon ditindaklanjuti",
                    Some(id),
                    &[PEMKOT_SMG],
                ));
                msgs.push(v2(
                    id + 3,
                    PEMKOT_SMG,
                    created + latency_ms,
                    "Sudah kami tangani, terima kasih.",
                    Some(id),
                    &[],
                ));
                truth
                    .entry("governor")
                    .or_default()
                    .push(forward_ms as f64 / 1000.0);
                truth
                    .entry("pemkot_semarang")
                    .or_default()
                    .push(latency_ms as f64 / 1000.0);
            }
            80..=84 => {
                msgs.push(v2(
                    id + 4,
                    ("777", "tetangga"),
                    created + latency_ms,
                    "sama di sini juga rusak",
                    Some(id),
                    &[],
                ));
                non_official += 1;
            }
            85..=89 => {
                let who = (citizen.to_string(), format!("warga{citizen}"));
                msgs.push(v2(
                    id + 5,
                    (&who.0, &who.1),
                    created + latency_ms,
                    "masih belum diperbaiki",
                    Some(id),
                    &[],
                ));
                self_replies += 1;
            }
            _ => {}
        }
    }
    // Out of order: replies may reach the engine before their complaints.
    msgs.shuffle(&mut rng);
    let e = InProc::start(32, |_| {});
    let n = produce_all(&e.bootstrap(), "tweets", msgs) as u64;
    e.wait_committed(n);

    let agencies = e.get("/api/agencies");
    for (name, lat) in &truth {
        let mut sorted = lat.clone();
        sorted.sort_by(f64::total_cmp);
        let a = agency(&agencies, name);
        assert_eq!(
            a["responses"].as_u64().unwrap() as usize,
            sorted.len(),
            "{name}: responses; all: {agencies}"
        );
        for (q, key) in [(0.5, "p50"), (0.9, "p90"), (0.99, "p99")] {
            let want = nearest_rank(&sorted, q);
            let got = a["response_seconds"][key].as_f64().unwrap();
            assert!(
                (got - want).abs() <= want * 0.01,
                "{name} {key}: got {got}, exact {want}"
            );
        }
    }
    let pemkot = agency(&agencies, "pemkot_semarang");
    assert_eq!(
        pemkot["complaints"].as_u64(),
        Some(N),
        "every complaint is routed to the city"
    );

    // The Prometheus histogram counts match exactly, bucket by bucket.
    let metrics = e.metrics();
    for (name, lat) in &truth {
        for le in kemala::telemetry::RESPONSE_BUCKETS {
            let want = lat.iter().filter(|s| **s <= le).count() as f64;
            let series = format!("kemala_agency_response_seconds_bucket{{agency=\"{name}\",topic=\"road_damage\",le=\"{le}\"}}");
            assert_eq!(counter(&metrics, &series), want, "{series}");
        }
        let count = format!(
            "kemala_agency_response_seconds_count{{agency=\"{name}\",topic=\"road_damage\"}}"
        );
        assert_eq!(counter(&metrics, &count), lat.len() as f64, "{count}");
    }
    assert_eq!(
        counter(
            &metrics,
            "kemala_latency_data_errors_total{kind=\"reply_not_official\"}"
        ),
        non_official as f64
    );
    assert_eq!(
        counter(
            &metrics,
            "kemala_latency_data_errors_total{kind=\"self_reply\"}"
        ),
        self_replies as f64
    );
}

#[test]
fn bad_replies_are_counted_apart_and_change_no_figure() {
    let e = InProc::start(4, |c| {
        c.engine.latency.horizon = kemala::config::HumanDuration(Duration::from_secs(24 * 3600));
    });
    let good = vec![
        complaint(5000, 1, T0),
        v2(
            5001,
            PEMKOT_SMG,
            T0 + 3_600_000,
            "Siap, segera kami tangani",
            Some(5000),
            &[],
        ),
    ];
    let n1 = produce_all(&e.bootstrap(), "tweets", good) as u64;
    e.wait_committed(n1);
    let before = e.get("/api/agencies");
    let bad = vec![
        complaint(6000, 2, T0 + 7_200_000),
        // Older than the complaint it answers.
        v2(
            6001,
            PEMKOT_SMG,
            T0 + 3_000_000,
            "Sudah kami perbaiki",
            Some(6000),
            &[],
        ),
        // To a tweet nobody has seen.
        v2(
            6002,
            PEMKOT_SMG,
            T0 + 7_300_000,
            "Mohon kirim lokasinya",
            Some(424242),
            &[],
        ),
        // From a citizen, not an agency.
        v2(
            6003,
            ("888", "warga_lain"),
            T0 + 7_400_000,
            "rusak juga di sini",
            Some(6000),
            &[],
        ),
    ];
    let n2 = produce_all(&e.bootstrap(), "tweets", bad) as u64;
    e.wait_committed(n1 + n2);
    // Three days later: past the horizon (which is never shorter than the
    // 48-hour target), so the reply to the unknown tweet gives up.
    let later = vec![v2(
        6004,
        ("889", "warga_x"),
        T0 + 72 * 3_600_000,
        "selamat pagi semarang",
        None,
        &[],
    )];
    let n3 = produce_all(&e.bootstrap(), "tweets", later) as u64;
    e.wait_committed(n1 + n2 + n3);
    // Event time moves once every partition is past it, or has gone quiet.
    wait_for(
        "the reply to nowhere to give up",
        Duration::from_secs(60),
        || {
            (counter(
                &e.metrics(),
                "kemala_latency_data_errors_total{kind=\"reply_to_unknown\"}",
            ) == 1.0)
                .then_some(())
        },
    );
    let m = e.metrics();
    for kind in [
        "reply_before_complaint",
        "reply_to_unknown",
        "reply_not_official",
    ] {
        assert_eq!(
            counter(
                &m,
                &format!("kemala_latency_data_errors_total{{kind=\"{kind}\"}}")
            ),
            1.0,
            "{kind}"
        );
    }
    let after = e.get("/api/agencies");
    let (b, a) = (
        agency(&before, "pemkot_semarang"),
        agency(&after, "pemkot_semarang"),
    );
    assert_eq!(
        b["response_seconds"], a["response_seconds"],
        "no latency figure moved"
    );
    assert_eq!(b["responses"], a["responses"]);
    assert_eq!(
        b["response_seconds"]["p50"].as_f64().unwrap().round(),
        3600.0
    );
}

#[test]
fn an_overdue_morning_is_one_grouped_alert_that_resolves_when_answered() {
    let e = InProc::start(4, |_| {});
    let mut msgs: Vec<Vec<u8>> = (0..100)
        .map(|i| complaint(7000 + i * 10, 100 + i, T0 + i as i64 * 60_000))
        .collect();
    // A tweet 51 hours later moves event time past the 48-hour target of all 100.
    msgs.push(v2(
        9999,
        ("55", "warga55"),
        T0 + 51 * 3_600_000,
        "selamat pagi",
        None,
        &[],
    ));
    let n1 = produce_all(&e.bootstrap(), "tweets", msgs) as u64;
    e.wait_committed(n1);
    // Event time moves once every partition is past 51 h, or has gone quiet.
    let alerts = wait_for("the overdue alert", Duration::from_secs(60), || {
        let a = e.get("/api/alerts?kind=overdue");
        (!a.as_array()?.is_empty()).then_some(a)
    });
    let list = alerts.as_array().unwrap();
    assert_eq!(
        list.len(),
        1,
        "one grouped alert, not one per complaint: {alerts}"
    );
    let alert = &list[0];
    assert_eq!(alert["state"], "firing");
    assert_eq!(alert["agencies"], json!(["pemkot_semarang"]));
    assert_eq!(alert["observed"].as_f64(), Some(100.0));
    let id = alert["id"].as_str().unwrap().to_string();
    assert_eq!(
        counter(
            &e.metrics(),
            "kemala_agency_over_target_total{agency=\"pemkot_semarang\"}"
        ),
        100.0
    );

    let answers: Vec<Vec<u8>> = (0..100)
        .map(|i| {
            v2(
                7001 + i * 10,
                PEMKOT_SMG,
                T0 + 52 * 3_600_000 + i as i64,
                "Maaf terlambat, sudah ditangani",
                Some(7000 + i * 10),
                &[],
            )
        })
        .collect();
    let n2 = produce_all(&e.bootstrap(), "tweets", answers) as u64;
    e.wait_committed(n1 + n2);
    let alerts = wait_for(
        "the overdue alert to resolve",
        Duration::from_secs(60),
        || {
            let a = e.get("/api/alerts?kind=overdue");
            a.as_array()?
                .iter()
                .all(|x| x["state"] == "resolved")
                .then_some(a)
        },
    );
    let list = alerts.as_array().unwrap();
    assert_eq!(list.len(), 1, "{alerts}");
    assert_eq!(
        list[0]["id"].as_str(),
        Some(id.as_str()),
        "the same alert resolves"
    );
    assert_eq!(list[0]["state"], "resolved");
}

#[test]
fn open_complaints_survive_kill_9_and_later_answers_close_them() {
    const N: u64 = 20_000;
    let dir = tempfile::tempdir().unwrap();
    let (_broker, bootstrap) = start_broker(dir.path(), 16);
    let complaints: Vec<Vec<u8>> = (0..N)
        .map(|i| complaint(2_000_000 + i * 10, 50_000 + i, T0 + i as i64 * 1_000))
        .collect();
    // Pemkot Semarang answering complaint `i`, `after_ms` after it.
    let answer = |i: u64, after_ms: i64, text: &str| {
        v2(
            2_000_001 + i * 10,
            PEMKOT_SMG,
            T0 + i as i64 * 1_000 + after_ms,
            text,
            Some(2_000_000 + i * 10),
            &[],
        )
    };
    // Half are answered in the first feed.
    let first_answers: Vec<Vec<u8>> = (0..N / 2)
        .map(|i| answer(i, 600_000, "Siap ditangani"))
        .collect();
    let mut feed = complaints;
    feed.extend(first_answers);
    produce_all(&bootstrap, "tweets", feed);
    let port = free_port();
    let config = write_config(dir.path(), &bootstrap, port, "");
    let cfg = config.to_str().unwrap();
    let mut engine = Proc::spawn("engine-a", dir.path(), &["run", "--config", cfg]);
    wait_for("part of the feed indexed", Duration::from_secs(120), || {
        (status(port)?["counts"]["index_documents"].as_u64()? >= 12_000).then_some(())
    });
    engine.signal(libc::SIGKILL);
    engine
        .wait_timeout(Duration::from_secs(10))
        .expect("killed");
    let _engine = Proc::spawn("engine-b", dir.path(), &["run", "--config", cfg]);
    let pemkot = |port| -> Option<Value> {
        let list = crate::common::get_json(&format!("http://127.0.0.1:{port}/api/agencies"))?;
        list.as_array()?
            .iter()
            .find(|a| a["id"] == "pemkot_semarang")
            .cloned()
    };
    let a = wait_for(
        "the whole first feed after the restart",
        Duration::from_secs(120),
        || {
            let a = pemkot(port)?;
            (a["complaints"].as_u64()? == N && a["answered"].as_u64()? == N / 2).then_some(a)
        },
    );
    assert_eq!(
        a["open"].as_u64(),
        Some(N / 2),
        "open complaints survived the crash"
    );
    // Answers arriving after the restart close the right complaints.
    let later: Vec<Vec<u8>> = (N / 2..N * 3 / 4)
        .map(|i| answer(i, 900_000, "Sudah diperbaiki"))
        .collect();
    produce_all(&bootstrap, "tweets", later);
    let a = wait_for("the later answers", Duration::from_secs(120), || {
        let a = pemkot(port)?;
        (a["answered"].as_u64()? == N * 3 / 4).then_some(a)
    });
    assert_eq!(a["open"].as_u64(), Some(N / 4));
    assert_eq!(a["complaints"].as_u64(), Some(N));
}
