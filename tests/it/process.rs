//! The built binary, as a user runs it: the demo, crash safety under
//! `kill -9`, clean shutdown on SIGINT and SIGTERM, and a real broker.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{
    exported_ids, free_port, generated, get_json, group_offsets, metrics_text, produce_all, run_ok,
    start_broker, status, wait_for, write_config, Proc,
};

fn index_offsets_flat(st: &Value) -> Vec<i64> {
    let parts = st["kafka"]["index_offsets"]["tweets"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let mut v: Vec<(i32, i64)> = parts
        .iter()
        .map(|(p, o)| (p.parse().unwrap(), o.as_i64().unwrap()))
        .collect();
    v.sort();
    v.into_iter().map(|(_, o)| o).collect()
}

/// `kemala demo` with its defaults, serving on a free port of 127.0.0.1.
fn demo_on_a_free_port(dir: &std::path::Path) -> (Proc, u16) {
    let port = free_port();
    let demo = Proc::spawn(
        "demo",
        dir,
        &["demo", "--listen", &format!("127.0.0.1:{port}")],
    );
    (demo, port)
}

#[test]
fn demo_serves_search_and_metrics_then_stops_on_ctrl_c() {
    let dir = tempfile::tempdir().unwrap();
    let (mut demo, port) = demo_on_a_free_port(dir.path());
    let started = Instant::now();
    let res = wait_for(
        "the demo to answer `banjir`",
        Duration::from_secs(60),
        || {
            let r = get_json(&format!("http://127.0.0.1:{port}/api/search?q=banjir"))?;
            (r["total"].as_u64()? > 0).then_some(r)
        },
    );
    eprintln!("demo answered `banjir` {:?} after start", started.elapsed());
    let hits = res["hits"].as_array().unwrap();
    assert!(
        hits.iter()
            .any(|h| h["highlight"].as_str().unwrap().contains("<b>")),
        "highlights mark the match"
    );
    assert!(!res["facets"]["topic"].as_object().unwrap().is_empty());
    assert!(!res["facets"]["region"].as_object().unwrap().is_empty());
    background_threads_run_below_the_request_threads(demo.child.id());

    let metrics = metrics_text(port).expect("the demo serves /metrics");
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool must be installed (scripts/test.sh installs it)");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(metrics.contains("kemala_messages_rejected_total{reason=\"not_json\"}"));

    // Ctrl-C in the middle of the history backfill (50 h of it by default,
    // a minute or more of feeding).
    let processed: f64 = metrics
        .lines()
        .filter(|l| l.starts_with("kemala_messages_total{"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(
        processed < 300_000.0,
        "the backfill is still under way ({processed} messages)"
    );
    demo.stop_cleanly(libc::SIGINT, Duration::from_secs(10));
    let mut printed = String::new();
    demo.child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    assert!(
        printed.contains("backfilling") && !printed.contains("history done"),
        "Ctrl-C came during the backfill:\n{printed}"
    );
}

/// Each thread's name, nice value and scheduling policy, from `/proc`.
fn threads(pid: u32) -> Vec<(String, i32, u32)> {
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let dir = task.unwrap().path();
        let (Ok(comm), Ok(stat)) = (
            std::fs::read_to_string(dir.join("comm")),
            std::fs::read_to_string(dir.join("stat")),
        ) else {
            continue; // the thread ended meanwhile
        };
        let (nice, policy) = nice_and_policy(&stat);
        out.push((comm.trim().to_string(), nice, policy));
    }
    out
}

/// The nice value (the 19th field) and the scheduling policy (the 41st) of
/// a `/proc/.../stat` line (proc(5)). The fields after the name in
/// parentheses start at the third one (the state).
fn nice_and_policy(stat: &str) -> (i32, u32) {
    let after: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    (
        after[19 - 3].parse().unwrap(),
        after[41 - 3].parse().unwrap(),
    )
}

/// `SCHED_IDLE`, as numbered in the Linux ABI (`include/uapi/linux/sched.h`).
const SCHED_IDLE: u32 = 5;

/// While the demo ingests, its pipeline, its index-writer threads (named by
/// tantivy) and its embedded broker run under `SCHED_IDLE` at nice 10, and
/// the threads that serve requests and feed the trackers (whose state
/// searches read) under the process's own policy and nice value (normally
/// `SCHED_OTHER` at 0).
fn background_threads_run_below_the_request_threads(pid: u32) {
    let threads = threads(pid);
    let (base, base_policy) =
        nice_and_policy(&std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap());
    let lowered = (base.max(10), SCHED_IDLE);
    let named = |prefix: &str| -> Vec<(i32, u32)> {
        threads
            .iter()
            .filter(|(n, ..)| n.starts_with(prefix))
            .map(|&(_, nice, policy)| (nice, policy))
            .collect()
    };
    for prefix in [
        "thrd-tantivy-in",
        "merge_thread_",
        "kemala-broker",
        "kemala-pipeline",
    ] {
        let found = named(prefix);
        assert!(!found.is_empty(), "no `{prefix}` thread in {threads:?}");
        assert!(
            found.iter().all(|&t| t == lowered),
            "`{prefix}` threads must run under SCHED_IDLE at nice {}: {threads:?}",
            lowered.0
        );
    }
    for prefix in ["tokio-rt-worker", "kemala-track"] {
        let found = named(prefix);
        assert!(!found.is_empty(), "no `{prefix}` thread in {threads:?}");
        assert!(
            found.iter().all(|&t| t == (base, base_policy)),
            "`{prefix}` threads must run as the process does, at nice {base}: {threads:?}"
        );
    }
}

#[test]
fn ctrl_c_while_the_demo_is_still_starting_is_a_clean_stop() {
    // The first line comes once the broker is up and before the engine has
    // opened its index, joined the group or bound its port: the moment when,
    // without a handler installed yet, Ctrl-C would kill the process outright.
    let dir = tempfile::tempdir().unwrap();
    let (mut demo, _port) = demo_on_a_free_port(dir.path());
    let first = demo.read_stdout_until(|_| true);
    assert!(
        first.contains("Kafka-protocol broker at"),
        "the first line names the broker: {first}"
    );
    // Exit 0, not death by the signal.
    demo.stop_cleanly(libc::SIGINT, Duration::from_secs(10));
}

#[test]
fn kill_9_at_three_moments_loses_and_doubles_nothing() {
    const N: usize = 200_000;
    let dir = tempfile::tempdir().unwrap();
    // 64 partitions: the embedded broker keeps 5 MiB each.
    let (_broker, bootstrap) = start_broker(dir.path(), 64);
    let (payloads, ids) = generated(N, 7);
    produce_all(&bootstrap, "tweets", payloads);
    let port = free_port();
    let config = write_config(dir.path(), &bootstrap, port, "");
    let cfg = config.to_str().unwrap();
    let docs = |port| status(port).and_then(|s| s["counts"]["index_documents"].as_u64());
    for (round, kill_at) in [30_000u64, 95_000, 160_000].into_iter().enumerate() {
        let mut engine = Proc::spawn(
            &format!("engine-{round}"),
            dir.path(),
            &["run", "--config", cfg],
        );
        engine.wait_alive(
            &format!("{kill_at} documents before kill {round}"),
            Duration::from_secs(240),
            || (docs(port)? >= kill_at).then_some(()),
        );
        engine.signal(libc::SIGKILL);
        engine
            .wait_timeout(Duration::from_secs(10))
            .expect("kill -9 ends the process");
    }
    let engine = Proc::spawn("engine-final", dir.path(), &["run", "--config", cfg]);
    wait_for(
        "every tweet indexed after the last restart",
        Duration::from_secs(300),
        || (docs(port)? >= N as u64).then_some(()),
    );
    let exported = exported_ids(port);
    assert_eq!(exported.len(), N, "each tweet is in the index exactly once");
    let unique: BTreeSet<u64> = exported.iter().copied().collect();
    assert_eq!(unique, ids, "the index holds exactly the produced ids");

    // Kafka's committed offsets catch up with the index's stored offsets.
    let (committed, highs) = wait_for(
        "committed offsets to match the index",
        Duration::from_secs(60),
        || {
            let st = status(port)?;
            let stored = index_offsets_flat(&st);
            let (committed, highs) = group_offsets(&bootstrap, "kemala", "tweets");
            (stored == committed).then_some((committed, highs))
        },
    );
    assert_eq!(committed, highs, "everything produced was consumed");
    drop(engine);
}

#[test]
fn sigterm_mid_ingest_and_sigint_when_idle_exit_0_with_everything_committed() {
    let dir = tempfile::tempdir().unwrap();
    let (_broker, bootstrap) = start_broker(dir.path(), 16);
    let (payloads, _) = generated(60_000, 11);
    produce_all(&bootstrap, "tweets", payloads);
    let port = free_port();
    let config = write_config(dir.path(), &bootstrap, port, "");
    let cfg = config.to_str().unwrap();

    for (round, sig) in [libc::SIGTERM, libc::SIGINT].into_iter().enumerate() {
        let mut engine = Proc::spawn(
            &format!("engine-{round}"),
            dir.path(),
            &["run", "--config", cfg],
        );
        if round == 0 {
            // Stop in the middle of ingesting, with prefetched messages unread.
            wait_for("ingest under way", Duration::from_secs(120), || {
                (status(port)?["counts"]["processed"].as_u64()? > 5_000).then_some(())
            });
        } else {
            wait_for("everything consumed", Duration::from_secs(120), || {
                let st = status(port)?;
                (st["counts"]["index_documents"].as_u64()? >= 60_000).then_some(())
            });
        }
        let before = status(port).unwrap();
        let processed = before["counts"]["processed"].as_u64().unwrap();
        let stopped_at = Instant::now();
        engine.signal(sig);
        let st = engine
            .wait_timeout(Duration::from_secs(10))
            .unwrap_or_else(|| {
                panic!(
                    "no exit within 10 s of signal {sig}; log:\n{}",
                    engine.log_text()
                )
            });
        assert!(
            st.success(),
            "exit status {st:?} after signal {sig}; log:\n{}",
            engine.log_text()
        );
        eprintln!("signal {sig}: exited in {:?}", stopped_at.elapsed());
        // What was consumed is committed, in the index and in Kafka alike.
        let (committed, highs) = group_offsets(&bootstrap, "kemala", "tweets");
        let consumed: i64 = committed.iter().sum();
        assert!(
            consumed as u64 >= processed,
            "committed {consumed} < processed {processed} before the signal"
        );
        if round == 1 {
            assert_eq!(committed, highs, "idle stop: every offset committed");
        }
    }
    // A restart finds the index and Kafka in agreement.
    let _engine = Proc::spawn("engine-check", dir.path(), &["run", "--config", cfg]);
    let st = wait_for("status after restart", Duration::from_secs(60), || {
        status(port)
    });
    let (committed, _) = group_offsets(&bootstrap, "kemala", "tweets");
    assert_eq!(index_offsets_flat(&st), committed);
    assert_eq!(st["counts"]["index_documents"].as_u64(), Some(60_000));
}

/// Tansu, an Apache-Kafka-compatible broker of its own (not librdkafka's
/// mock), run as a separate process.
#[test]
fn a_real_kafka_compatible_broker_works_end_to_end() {
    let tansu = std::env::var("KEMALA_TANSU_BIN")
        .expect("KEMALA_TANSU_BIN names the Tansu broker binary (scripts/test.sh sets it)");
    let dir = tempfile::tempdir().unwrap();
    let kport = free_port();
    let url = format!("tcp://127.0.0.1:{kport}");
    let mut broker = Command::new(&tansu)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
            "--storage-engine",
            "memory://tansu/",
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("tansu.log")).unwrap())
        .spawn()
        .expect("cannot start tansu");
    let bootstrap = format!("127.0.0.1:{kport}");
    wait_for("tansu to listen", Duration::from_secs(30), || {
        std::net::TcpStream::connect(&bootstrap).ok()
    });
    for topic in ["tweets", "tweets.dlq"] {
        let broker = format!("tcp://127.0.0.1:{kport}");
        run_ok(
            Command::new(&tansu)
                .args(["topic", "create", topic, "--broker", &broker])
                .args(["--partitions", "3"]),
            "tansu topic create",
        );
    }
    let (payloads, ids) = generated(3_000, 5);
    let mut with_bad = payloads;
    with_bad.push(b"not json at all".to_vec());
    produce_all(&bootstrap, "tweets", with_bad);
    let port = free_port();
    let config = write_config(dir.path(), &bootstrap, port, "");
    let engine = Proc::spawn(
        "engine",
        dir.path(),
        &["run", "--config", config.to_str().unwrap()],
    );
    wait_for(
        "every tweet from tansu indexed",
        Duration::from_secs(120),
        || (status(port)?["counts"]["index_documents"].as_u64()? >= ids.len() as u64).then_some(()),
    );
    let exported: BTreeSet<u64> = exported_ids(port).into_iter().collect();
    assert_eq!(exported, ids);
    wait_for("the bad message counted", Duration::from_secs(30), || {
        let m = metrics_text(port)?;
        (crate::common::counter(&m, "kemala_messages_rejected_total{reason=\"not_json\"}") == 1.0)
            .then_some(())
    });
    drop(engine);
    let _ = broker.kill();
    let _ = broker.wait();
}
