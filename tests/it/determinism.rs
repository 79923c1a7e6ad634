//! The same input gives the same alerts, however it is delivered: event time
//! is a function of the data and of what the broker still holds, never of
//! when batches happen to arrive or how loaded the machine is.
//!
//! One feed (two days of traffic with the demo's flood and illegal-fees
//! bursts), already in Kafka, goes through the engine three ways:
//! - in one go;
//! - in batches of one message, from a two-broker cluster where one broker
//!   answers every request 300 ms late, so half of the partitions trail the
//!   other half;
//! - through the binary, killed with -9 halfway and restarted.
//!
//! Each way must give the same alert list: ids, onsets, detection and
//! resolution times.

use std::collections::BTreeSet;
use std::time::Duration;

use rdkafka::mocking::MockCluster;

use crate::alerts::{alert_times, settled, spike_feed};
use crate::common::{free_port, get_json, produce_all, start_broker, status, wait_for, Proc};
use crate::engine::{broker, InProc};

/// Enough partitions to hold the feed within the embedded broker's 5 MiB each.
const PARTITIONS: i32 = 64;

/// The alert list of an in-process engine on `bootstrap`, once every message
/// is committed and event time has reached the end of the feed.
fn alerts_in_process(
    bootstrap: &str,
    n: u64,
    end_ms: i64,
    tweak: impl FnOnce(&mut kemala::config::Config),
) -> (BTreeSet<String>, f64) {
    let e = InProc::start_on(None, bootstrap, tweak);
    e.wait_settled(n, end_ms);
    let late = crate::common::counter(&e.metrics(), "kemala_detect_late_total");
    (alert_times(&e.get("/api/alerts?state=all")), late)
}

#[test]
fn the_same_feed_gives_the_same_alerts_in_one_go_one_by_one_from_a_slow_broker_and_across_a_kill_9()
{
    let feed = spike_feed(36);
    let n = feed.len() as u64;
    let end_ms = feed.iter().map(|(_, t)| *t).max().unwrap();

    // In one go.
    let (reference, late) = {
        let b = broker(PARTITIONS);
        produce_all(b.bootstrap(), "tweets", feed.iter().map(|(p, _)| p.clone()));
        alerts_in_process(b.bootstrap(), n, end_ms, |_| {})
    };
    assert!(reference.len() >= 2, "{reference:?}");
    assert_eq!(late, 0.0, "nothing in a time-ordered feed is late");

    // One message at a time, with half of the partitions behind a broker
    // that answers 300 ms late.
    let slow = {
        let cluster = MockCluster::new(2).unwrap();
        for topic in ["tweets", "tweets.dlq"] {
            cluster.create_topic(topic, PARTITIONS, 1).unwrap();
        }
        for p in 0..PARTITIONS {
            cluster
                .partition_leader("tweets", p, Some(1 + p % 2))
                .unwrap();
        }
        let bootstrap = cluster.bootstrap_servers();
        produce_all(&bootstrap, "tweets", feed.iter().map(|(p, _)| p.clone()));
        cluster
            .broker_round_trip_time(2, Duration::from_millis(300))
            .unwrap();
        alerts_in_process(&bootstrap, n, end_ms, |c| {
            c.engine.kafka.batch_max_messages = 1;
        })
    };
    assert_eq!(
        slow,
        (reference.clone(), 0.0),
        "one by one, from a slow broker"
    );

    // The binary, killed with -9 halfway through the feed, then restarted.
    let dir = tempfile::tempdir().unwrap();
    let (_broker, bootstrap) = start_broker(dir.path(), PARTITIONS as u32);
    produce_all(&bootstrap, "tweets", feed.iter().map(|(p, _)| p.clone()));
    let port = free_port();
    let config = crate::common::write_config(dir.path(), &bootstrap, port, "");
    let cfg = config.to_str().unwrap().to_string();
    let run = |name: &str| Proc::spawn(name, dir.path(), &["run", "--config", &cfg]);
    let first = run("engine-a");
    wait_for("half of the feed indexed", Duration::from_secs(300), || {
        (status(port)?["counts"]["index_documents"].as_u64()? >= n / 2).then_some(())
    });
    first.signal(libc::SIGKILL);
    drop(first);
    let _second = run("engine-b");
    wait_for(
        "the whole feed after the restart, and event time at its end",
        Duration::from_secs(300),
        || settled(&status(port)?, n, end_ms),
    );
    let restarted =
        alert_times(&get_json(&format!("http://127.0.0.1:{port}/api/alerts?state=all")).unwrap());
    assert_eq!(restarted, reference, "across a kill -9");
}
