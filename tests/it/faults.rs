//! Faults that real deployments meet, each with exact counts at the end:
//! messages lost to broker retention, a broker that freezes or refuses
//! connections for a minute, a full disk under the index, a damaged index
//! at start-up, and HTTP clients that are slow, silent or never read.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{ClientConfig, ClientContext, Message};
use serde_json::Value;

use crate::common::{
    clean_generator, counter, exported_ids, free_port, get_json, group_offsets, http, status,
    wait_for, write_config, Proc,
};
use crate::engine::InProc;

/// `n` generated tweets from `seed`, each with its id.
fn tweets(n: usize, seed: u64) -> Vec<(u64, Vec<u8>)> {
    clean_generator(|o| o.seed = seed)
        .take(n)
        .map(|g| match g.truth {
            kemala::gen::Truth::Tweet { id, .. } => (id, g.payload),
            kemala::gen::Truth::Malformed { .. } => unreachable!("malformed_ratio is 0"),
        })
        .collect()
}

/// Records where each produced message landed.
struct Landed(Mutex<Vec<(usize, i32, i64)>>);

impl ClientContext for Landed {}

impl ProducerContext for Landed {
    type DeliveryOpaque = usize;
    fn delivery(&self, result: &DeliveryResult<'_>, i: usize) {
        match result {
            Ok(m) => self.0.lock().unwrap().push((i, m.partition(), m.offset())),
            Err((e, _)) => eprintln!("message {i} was not delivered: {e}"),
        }
    }
}

/// Produces `tweets` into `tweets`, at `rate` messages/s if given, and
/// returns `(partition, offset) → id` for every message the broker took.
fn produce(
    bootstrap: &str,
    tweets: &[(u64, Vec<u8>)],
    rate: Option<f64>,
) -> BTreeMap<(i32, i64), u64> {
    let p: ThreadedProducer<Landed> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        .set("sticky.partitioning.linger.ms", "0")
        .set("queue.buffering.max.messages", "200000")
        .create_with_context(Landed(Mutex::new(Vec::new())))
        .unwrap();
    let started = Instant::now();
    for (i, (_, payload)) in tweets.iter().enumerate() {
        if let Some(r) = rate {
            let due = Duration::from_secs_f64(i as f64 / r);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        let mut rec =
            BaseRecord::<(), [u8], usize>::with_opaque_to("tweets", i).payload(&payload[..]);
        // A full queue hands the record back: wait for room.
        while let Err((_, r)) = p.send(rec) {
            rec = r;
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    p.flush(Duration::from_secs(240)).unwrap();
    let landed = p.context().0.lock().unwrap().clone();
    assert_eq!(landed.len(), tweets.len(), "every message acknowledged");
    landed
        .into_iter()
        .map(|(i, part, off)| ((part, off), tweets[i].0))
        .collect()
}

fn metrics(port: u16) -> String {
    crate::common::metrics_text(port).unwrap_or_default()
}

/// Sum of `kemala_messages_lost_total` over its series.
fn lost_metric(port: u16) -> f64 {
    metrics(port)
        .lines()
        .filter(|l| l.starts_with("kemala_messages_lost_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The index's stored offsets of `tweets`, per partition.
fn index_offsets(st: &Value) -> BTreeMap<i32, i64> {
    st["kafka"]["index_offsets"]["tweets"]
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(p, v)| (p.parse().unwrap(), v.as_i64().unwrap()))
                .collect()
        })
        .unwrap_or_default()
}

/// Next offset per partition: what the broker holds after `produced`.
fn ends(produced: &BTreeMap<(i32, i64), u64>) -> BTreeMap<i32, i64> {
    let mut out = BTreeMap::new();
    for (p, o) in produced.keys() {
        let e = out.entry(*p).or_insert(0);
        *e = (*e).max(o + 1);
    }
    out
}

/// Waits until the index has consumed everything the broker holds.
fn wait_caught_up(port: u16, produced: &BTreeMap<(i32, i64), u64>, what: &str) {
    let want = ends(produced);
    wait_for(what, Duration::from_secs(180), || {
        (index_offsets(&status(port)?) == want).then_some(())
    });
}

/// The offsets the status lists as lost, per partition.
fn gap_offsets(st: &Value) -> BTreeSet<(i32, i64)> {
    let mut out = BTreeSet::new();
    for g in st["lost"]["gaps"].as_array().unwrap() {
        let p = g["partition"].as_i64().unwrap() as i32;
        for o in g["first_offset"].as_i64().unwrap()..=g["last_offset"].as_i64().unwrap() {
            out.insert((p, o));
        }
    }
    out
}

/// Every produced tweet is either in the index exactly once or in a gap the
/// status names, never both; the metric and the status count the gaps.
fn assert_exact(port: u16, produced: &BTreeMap<(i32, i64), u64>, when: &str) -> usize {
    let st = status(port).unwrap();
    let gaps = gap_offsets(&st);
    let lost: BTreeSet<u64> = produced
        .iter()
        .filter(|(at, _)| gaps.contains(at))
        .map(|(_, id)| *id)
        .collect();
    assert_eq!(
        lost.len(),
        gaps.len(),
        "{when}: every gap offset was produced"
    );
    let exported = exported_ids(port);
    let indexed: BTreeSet<u64> = exported.iter().copied().collect();
    assert_eq!(
        indexed.len(),
        exported.len(),
        "{when}: no tweet indexed twice"
    );
    assert!(
        indexed.is_disjoint(&lost),
        "{when}: a lost tweet is not indexed"
    );
    let all: BTreeSet<u64> = produced.values().copied().collect();
    let accounted: BTreeSet<u64> = indexed.union(&lost).copied().collect();
    assert_eq!(
        accounted, all,
        "{when}: every tweet indexed or counted lost"
    );
    assert_eq!(
        st["lost"]["total"].as_u64(),
        Some(lost.len() as u64),
        "{when}"
    );
    assert_eq!(lost_metric(port), lost.len() as f64, "{when}: the metric");
    lost.len()
}

fn run_engine(name: &str, dir: &Path, cfg: &Path, port: u16) -> Proc {
    let mut e = Proc::spawn(name, dir, &["run", "--config", cfg.to_str().unwrap()]);
    e.wait_alive(
        &format!("{name} to answer"),
        Duration::from_secs(60),
        || status(port),
    );
    e
}

fn stop_engine(mut e: Proc) {
    e.stop_cleanly(libc::SIGTERM, Duration::from_secs(20));
}

/// 16,000 tweets of ~900 bytes over two partitions: some 7 MiB each,
/// beyond the embedded broker's 5 MiB, so the oldest third of each chunk is
/// deleted before a paused consumer can read it.
const CHUNK: usize = 16_000;

#[test]
fn messages_lost_to_retention_are_counted_exactly_and_fail_stops_ingest() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (_broker, bootstrap) = crate::common::start_broker(dir.path(), 2);
    let port = free_port();
    let cfg = write_config(dir.path(), &bootstrap, port, "");
    let all = tweets(2_000 + 3 * CHUNK, 21);
    let mut produced = BTreeMap::new();

    // The consumer, paused (SIGSTOP) after its first 2,000 tweets, meets
    // out-of-range fetches when it resumes.
    let engine = run_engine("engine-a", dir.path(), &cfg, port);
    produced.extend(produce(&bootstrap, &all[..2_000], None));
    wait_caught_up(port, &produced, "the first 2,000 tweets");
    engine.signal(libc::SIGSTOP);
    produced.extend(produce(&bootstrap, &all[2_000..2_000 + CHUNK], None));
    engine.signal(libc::SIGCONT);
    wait_caught_up(port, &produced, "the paused consumer to resume");
    let lost_a = assert_exact(port, &produced, "after a paused consumer");
    assert!(lost_a > 1_000, "retention deleted messages ({lost_a})");
    assert!(
        engine
            .log_text()
            .contains("were deleted by the broker before kemala read them"),
        "one log line names the gap"
    );
    stop_engine(engine);

    // Stopped: on start, the stored offsets are below the log start.
    produced.extend(produce(
        &bootstrap,
        &all[2_000 + CHUNK..2_000 + 2 * CHUNK],
        None,
    ));
    let engine = run_engine("engine-b", dir.path(), &cfg, port);
    wait_caught_up(port, &produced, "the restarted engine");
    let lost_b = assert_exact(port, &produced, "after a restart past retention");
    assert!(lost_b > lost_a + 1_000, "{lost_b} > {lost_a}");
    let st = status(port).unwrap();
    let before = (
        index_offsets(&st),
        st["counts"]["index_documents"].as_u64().unwrap(),
    );
    stop_engine(engine);

    // With `fail`, the engine counts the gap, indexes nothing past it and
    // stays not ready; the index and Kafka's offsets stay where they were.
    produced.extend(produce(&bootstrap, &all[2_000 + 2 * CHUNK..], None));
    let text = std::fs::read_to_string(&cfg).unwrap();
    std::fs::write(
        &cfg,
        text.replacen("[kafka]\n", "[kafka]\noffset_reset = \"fail\"\n", 1),
    )
    .unwrap();
    let engine = run_engine("engine-c", dir.path(), &cfg, port);
    let st = wait_for("not ready on the gap", Duration::from_secs(60), || {
        let st = status(port)?;
        (st["problems"][0]["reason"] == "messages_lost").then_some(st)
    });
    let r = http()
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert!(r.text().unwrap().contains("messages_lost"));
    assert!(
        st["problems"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("offset_reset = \"earliest\""),
        "the status says how to go on: {st}"
    );
    let gaps_at_c = gap_offsets(&st);
    let gaps_c = gaps_at_c.len() - lost_b;
    assert!(gaps_c > 0);
    assert_eq!(lost_metric(port), (lost_b + gaps_c) as f64);
    assert_eq!(
        st["counts"]["index_documents"].as_u64(),
        Some(before.1),
        "nothing past the gap"
    );
    assert_eq!(index_offsets(&st), before.0, "the index offsets stay put");
    let m = metrics(port);
    assert_eq!(
        counter(&m, "kemala_not_ready{reason=\"messages_lost\"}"),
        1.0
    );
    stop_engine(engine);
    let (committed, _) = group_offsets(&bootstrap, "kemala", "tweets");
    let committed: BTreeMap<i32, i64> = (0..).zip(committed).collect();
    assert_eq!(committed, before.0, "Kafka's offsets do not pass the gap");

    // Back to `earliest`: the gap is counted once, and ingest goes on.
    std::fs::write(&cfg, &text).unwrap();
    let engine = run_engine("engine-d", dir.path(), &cfg, port);
    wait_caught_up(port, &produced, "ingest past the accepted gap");
    let lost_d = assert_exact(port, &produced, "after accepting the gap");
    // `fail` stopped at the first gap it met; the others (on other
    // partitions) are found now. The first is among them, counted once.
    assert!(lost_d >= lost_b + gaps_c, "{lost_d} < {lost_b} + {gaps_c}");
    assert!(
        gaps_at_c.is_subset(&gap_offsets(&status(port).unwrap())),
        "the gap `fail` stopped at is counted once ingest goes on"
    );
    eprintln!(
        "lost {lost_a}, then {}, then {} of {} tweets; {:?}",
        lost_b - lost_a,
        lost_d - lost_b,
        all.len(),
        started.elapsed()
    );
    drop(engine);
}

/// How the broker goes away.
#[derive(Clone, Copy, Debug)]
enum Outage {
    /// SIGSTOP: the process freezes, its connections stay open and silent.
    Frozen,
    /// SIGUSR1: the broker and its forwarder refuse connections.
    Refusing,
}

fn readyz(e: &InProc) -> (u16, String) {
    match http().get(e.url("/readyz")).send() {
        Ok(r) => (r.status().as_u16(), r.text().unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// A minute without the broker in the middle of an ingest: not ready within
/// 15 s and saying why, search answering throughout, then ingest resumes by
/// itself and every tweet is indexed exactly once.
fn broker_away_for_a_minute(outage: Outage) {
    // 80 s of traffic at 450 tweets/s: before, during and after the outage.
    const N: usize = 36_000;
    const RATE: f64 = 450.0;
    const OUTAGE: Duration = Duration::from_secs(60);
    let dir = tempfile::tempdir().unwrap();
    let listen = format!("127.0.0.1:{}", free_port());
    // 16 partitions hold what the producer buffers while the broker is away.
    let mut broker = Proc::spawn(
        "broker",
        dir.path(),
        &["broker", "--partitions", "16", "--listen", &listen],
    );
    let addr = broker.read_stdout_until(|l| l.starts_with("127.0.0.1:"));
    let e = InProc::start_on(None, &addr, |_| {});
    let all = tweets(N, 31);
    let ids: BTreeSet<u64> = all.iter().map(|(id, _)| *id).collect();
    let producer = {
        let addr = addr.clone();
        std::thread::spawn(move || produce(&addr, &all, Some(RATE)))
    };
    let docs = |e: &InProc| e.shared().index.num_docs();
    wait_for("ingest under way", Duration::from_secs(60), || {
        (docs(&e) >= 3_000).then_some(())
    });
    assert_eq!(readyz(&e).0, 200);

    let away = Instant::now();
    match outage {
        Outage::Frozen => broker.signal(libc::SIGSTOP),
        Outage::Refusing => {
            broker.signal(libc::SIGUSR1);
            wait_for(
                "the broker to refuse connections",
                Duration::from_secs(10),
                || TcpStream::connect(&addr).is_err().then_some(()),
            );
        }
    }
    let (_, text) = wait_for("not ready", Duration::from_secs(15), || {
        let r = readyz(&e);
        (r.0 == 503).then_some(r)
    });
    let noticed = away.elapsed();
    assert!(text.contains("kafka_unreachable"), "{text}");
    let st = status(e.port).unwrap();
    assert_eq!(st["ready"], false);
    assert_eq!(st["problems"][0]["reason"], "kafka_unreachable", "{st}");
    assert_eq!(
        counter(
            &e.metrics(),
            "kemala_not_ready{reason=\"kafka_unreachable\"}"
        ),
        1.0
    );
    // Search answers from the index all the while.
    let mut searches = 0;
    while away.elapsed() < OUTAGE {
        let asked = Instant::now();
        let r = get_json(&e.url("/api/search?q=banjir")).expect("search answers");
        assert!(r["total"].as_u64().unwrap() > 0);
        assert!(asked.elapsed() < Duration::from_secs(5), "search is slow");
        searches += 1;
        std::thread::sleep(Duration::from_secs(2).min(OUTAGE.saturating_sub(away.elapsed())));
    }
    match outage {
        Outage::Frozen => broker.signal(libc::SIGCONT),
        Outage::Refusing => broker.signal(libc::SIGUSR2),
    }
    let back = Instant::now();
    wait_for("ready again", Duration::from_secs(60), || {
        (readyz(&e).0 == 200).then_some(())
    });
    let ready_after = back.elapsed();
    let produced = producer.join().unwrap();
    assert!(
        produced.len() >= N,
        "every tweet acknowledged by the broker"
    );
    wait_for("every tweet indexed", Duration::from_secs(180), || {
        (docs(&e) >= N as u64).then_some(())
    });
    e.wait_committed(produced.len() as u64);
    let exported = exported_ids(e.port);
    assert_eq!(exported.len(), N, "each tweet indexed once");
    assert_eq!(exported.into_iter().collect::<BTreeSet<_>>(), ids);
    let m = e.metrics();
    assert_eq!(lost_metric(e.port), 0.0, "nothing lost");
    assert_eq!(
        counter(&m, "kemala_not_ready{reason=\"kafka_unreachable\"}"),
        0.0
    );
    eprintln!(
        "{outage:?}: not ready {noticed:?} after the broker went, {searches} searches answered meanwhile, ready {ready_after:?} after it came back"
    );
}

#[test]
fn a_frozen_broker_makes_kemala_not_ready_and_ingest_resumes_when_it_thaws() {
    broker_away_for_a_minute(Outage::Frozen);
}

#[test]
fn a_broker_refusing_connections_makes_kemala_not_ready_and_ingest_resumes() {
    broker_away_for_a_minute(Outage::Refusing);
}

/// A tmpfs mounted for one test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, mib: u64) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        crate::common::run_ok(
            std::process::Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "kemala-test"])
                .arg(dir),
            "cannot mount a tmpfs (the tests run as root)",
        );
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

#[test]
fn a_full_disk_holds_commits_back_and_ingest_recovers_when_space_returns() {
    const N: usize = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let mount = dir.path().join("disk");
    // 64 MiB, of which a filler leaves ~6 MiB: the index of 30,000 tweets
    // needs about 9.
    let tmpfs = Tmpfs::mount(&mount, 64);
    let filler = mount.join("filler");
    {
        let mut f = std::fs::File::create(&filler).unwrap();
        let mib = vec![0u8; 1 << 20];
        for _ in 0..58 {
            f.write_all(&mib).unwrap();
        }
        f.sync_all().unwrap();
    }
    let data_dir = mount.join("index");
    let e = InProc::start(8, |c| c.engine.index.data_dir = data_dir.clone());
    let all = tweets(N, 41);
    let ids: BTreeSet<u64> = all.iter().map(|(id, _)| *id).collect();
    produce(&e.bootstrap(), &all, None);

    let st = wait_for("an index write to fail", Duration::from_secs(120), || {
        let st = status(e.port)?;
        (st["problems"][0]["reason"] == "index_write_error").then_some(st)
    });
    let detail = st["problems"][0]["detail"].as_str().unwrap();
    // The error is tantivy's: the OS's `No space left on device` when a
    // commit failed, or only a dead worker thread when an add did. The
    // free space kemala adds says which.
    let free_kib: u64 = detail
        .split(" KiB free on the filesystem of ")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the detail names the free space: {detail}"));
    assert!(free_kib < 2048, "{free_kib} KiB free: {detail}");
    assert!(detail.contains(&data_dir.display().to_string()), "{detail}");
    assert_eq!(readyz(&e).0, 503);
    let errors = |e: &InProc| counter(&e.metrics(), "kemala_index_write_errors_total");
    assert!(errors(&e) >= 1.0);
    // Kafka's offsets never pass the index's, and the index holds exactly
    // what its offsets cover (every message is a distinct tweet).
    let (docs, offsets) = wait_for("a settled index", Duration::from_secs(30), || {
        let st = status(e.port)?;
        let offsets = index_offsets(&st);
        let docs = st["counts"]["index_documents"].as_i64()?;
        (docs == offsets.values().sum::<i64>()).then_some((docs, offsets))
    });
    assert!((docs as usize) < N, "the disk filled before the end");
    let (committed, _) = group_offsets(&e.bootstrap(), "kemala", "tweets");
    for (p, c) in committed.iter().enumerate() {
        let held = offsets.get(&(p as i32)).copied().unwrap_or(0);
        assert!(*c <= held, "partition {p}: Kafka has {c}, the index {held}");
    }
    // No crash loop: retries back off, and search keeps answering.
    let (e0, t0) = (errors(&e), Instant::now());
    std::thread::sleep(Duration::from_secs(8));
    let retries = errors(&e) - e0;
    assert!(
        retries <= 4.0,
        "{retries} failed writes in {:?}",
        t0.elapsed()
    );
    assert!(get_json(&e.url("/api/search?q=banjir")).is_some());

    std::fs::remove_file(&filler).unwrap();
    let freed = Instant::now();
    wait_for(
        "every tweet indexed after space returned",
        Duration::from_secs(120),
        || (e.shared().index.num_docs() >= N as u64).then_some(()),
    );
    wait_for("ready again", Duration::from_secs(30), || {
        (readyz(&e).0 == 200).then_some(())
    });
    let exported = exported_ids(e.port);
    assert_eq!(exported.len(), N, "no tweet doubled");
    assert_eq!(
        exported.into_iter().collect::<BTreeSet<_>>(),
        ids,
        "none lost"
    );
    let (committed, highs) = wait_for(
        "Kafka's offsets to catch up",
        Duration::from_secs(30),
        || {
            let st = status(e.port)?;
            let (committed, highs) = group_offsets(&e.bootstrap(), "kemala", "tweets");
            let held: Vec<i64> = (0..committed.len() as i32)
                .map(|p| index_offsets(&st).get(&p).copied().unwrap_or(0))
                .collect();
            (held == committed).then_some((committed, highs))
        },
    );
    assert_eq!(committed, highs);
    eprintln!(
        "full disk: {} failed writes, all {N} tweets {:?} after space returned",
        errors(&e),
        freed.elapsed()
    );

    // The index the full disk left behind opens whole.
    let bootstrap = e.bootstrap();
    let mut e = e;
    e.stop();
    let again = InProc::start_on(None, &bootstrap, |c| {
        c.engine.index.data_dir = data_dir.clone()
    });
    assert_eq!(again.shared().index.num_docs(), N as u64);
    drop(again);
    drop(e);
    drop(tmpfs);
}

#[test]
fn a_damaged_index_at_start_up_names_its_directory_and_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("index");
    let mut e = InProc::start(2, |c| c.engine.index.data_dir = data_dir.clone());
    produce(&e.bootstrap(), &tweets(500, 51), None);
    e.wait_committed(500);
    e.stop();
    let bootstrap = e.bootstrap();
    let start = || {
        let mut config = kemala::config::Config::embedded().unwrap();
        config.engine.index.data_dir = data_dir.clone();
        config.engine.kafka.brokers = bootstrap.clone();
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            match kemala::app::Engine::start(config, l).await {
                Ok(engine) => {
                    let _ = engine.stop().await;
                    String::new()
                }
                Err(e) => format!("{e:#}"),
            }
        })
    };
    let check = |what: &str, err: String| {
        assert!(
            err.contains(&data_dir.display().to_string()),
            "{what}: {err}"
        );
        assert!(err.contains("Move that directory aside"), "{what}: {err}");
    };
    // The largest segment file, cut in half.
    let victim = std::fs::read_dir(&data_dir)
        .unwrap()
        .map(|f| f.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x != "json" && x != "lock"))
        .max_by_key(|p| p.metadata().unwrap().len())
        .unwrap();
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    check("a truncated segment", start());
    std::fs::write(&victim, &bytes).unwrap();
    assert_eq!(start(), "", "whole again, it opens");
    // Unreadable metadata.
    std::fs::write(data_dir.join("meta.json"), b"{\"segments\": [").unwrap();
    check("unreadable meta.json", start());
}

/// Reads Server-Sent Events from a raw connection; records when each
/// `firing` alert id arrived.
fn sse_reader(port: u16, seen: Arc<Mutex<BTreeMap<String, Instant>>>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /api/alerts/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::spawn(move || {
        let mut r = std::io::BufReader::new(s);
        let mut line = String::new();
        let mut firing = false;
        while std::io::BufRead::read_line(&mut r, &mut line).unwrap_or(0) > 0 {
            let l = line.trim_end();
            if l == "event: firing" || l == "event:firing" {
                firing = true;
            } else if let Some(id) = l.strip_prefix("id:") {
                if firing {
                    seen.lock()
                        .unwrap()
                        .insert(id.trim().to_string(), Instant::now());
                }
                firing = false;
            }
            line.clear();
        }
    });
}

pub(crate) fn alert(id: &str) -> kemala::alert::StoredAlert {
    kemala::alert::StoredAlert {
        id: id.into(),
        kind: kemala::alert::AlertKind::Spike,
        topic: Some("flood".into()),
        region: 3321,
        state: kemala::alert::AlertState::Firing,
        severity: "warning".into(),
        started_at_ms: 1_767_571_200_000,
        detected_at_ms: 1_767_571_200_000,
        resolved_at_ms: None,
        observed: 10.0,
        expected: 1.0,
        window_seconds: 900,
        score: 5.0,
        rank: None,
        agencies: vec!["bpbd_jateng".into()],
        sample_tweet_ids: (0..50).collect(),
        top_terms: vec!["banjir".into()],
        regions: Vec::new(),
        parent: None,
        // Large events fill a silent client's socket quickly.
        summary: "banjir ".repeat(300),
        acked_by: None,
        acked_at: None,
    }
}

#[test]
fn silent_slow_and_oversized_http_clients_are_cut_off() {
    let e = InProc::start(1, |_| {});
    // Half-open: a request head that never ends.
    let mut half = TcpStream::connect(("127.0.0.1", e.port)).unwrap();
    half.write_all(b"GET /api/search?q=banjir HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let half_open = Instant::now();
    // Too large a head: refused. (hyper enforces the limit per read, so a
    // head a little over it may still pass; one twice as large cannot.)
    let mut big = TcpStream::connect(("127.0.0.1", e.port)).unwrap();
    let head = format!(
        "GET /api/search HTTP/1.1\r\nHost: x\r\nX-Filler: {}\r\n\r\n",
        "a".repeat(2 * kemala::http::MAX_HEAD_BYTES)
    );
    let _ = big.write_all(head.as_bytes());
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let _ = big.read_to_string(&mut answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 431"),
        "an oversized head is refused: {answer:.80}"
    );

    // A subscriber that never reads, and one that does.
    let mut silent = TcpStream::connect(("127.0.0.1", e.port)).unwrap();
    silent
        .write_all(b"GET /api/alerts/stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let seen: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
    sse_reader(e.port, seen.clone());
    std::thread::sleep(Duration::from_millis(500));
    let store = e.shared().alerts.clone();
    let mut sent = BTreeMap::new();
    // ~12 MB of events, far more than the silent client's socket holds.
    for i in 0..4_000 {
        let id = format!("flood-{i}");
        sent.insert(id.clone(), Instant::now());
        store.apply(alert(&id));
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let flooded = Instant::now();
    wait_for(
        "the reading subscriber to get the last alert",
        Duration::from_secs(10),
        || {
            seen.lock()
                .unwrap()
                .contains_key("flood-3999")
                .then_some(())
        },
    );
    let worst = seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(id, at)| Some(at.duration_since(*sent.get(id)?)))
        .max()
        .unwrap();
    assert!(
        worst < Duration::from_secs(2),
        "a silent subscriber slowed a reader: {worst:?}"
    );

    // The silent subscriber is disconnected once it has left writes pending
    // for the stall timeout; reading what it was sent ends in EOF.
    silent
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let deadline = flooded + kemala::http::WRITE_STALL_TIMEOUT + Duration::from_secs(15);
    std::thread::sleep(kemala::http::WRITE_STALL_TIMEOUT);
    let mut buf = vec![0u8; 1 << 16];
    let closed = loop {
        match silent.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) if Instant::now() > deadline => break false,
            Err(_) => {}
        }
    };
    assert!(closed, "the silent subscriber is still connected");

    // The half-open client was closed after the head timeout.
    half.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let n = half.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the half-open client got an answer or is still open");
    assert!(half_open.elapsed() >= kemala::http::HEADER_READ_TIMEOUT);
    drop(e);
}
