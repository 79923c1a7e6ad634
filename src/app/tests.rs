use super::*;

fn view(assigned: &[i32], caught_up: &[i32]) -> PartitionView {
    PartitionView {
        assigned: BTreeMap::from([("tweets".to_string(), assigned.to_vec())]),
        caught_up: caught_up
            .iter()
            .map(|p| ("tweets".to_string(), *p))
            .collect(),
    }
}

#[test]
fn event_time_follows_the_partitions_that_still_hold_messages() {
    let t0 = Instant::now();
    let mut c = PartitionClocks::default();
    // Nothing assigned yet: event time does not move, even with clocks
    // restored from a commit.
    c.saw("tweets", 0, 5_000);
    assert_eq!(c.watermark(t0), i64::MIN);
    // Partition 1 has not delivered: it holds event time back.
    c.update(view(&[0, 1], &[]), t0);
    assert_eq!(c.watermark(t0), i64::MIN);
    c.saw("tweets", 1, 3_000);
    assert_eq!(c.watermark(t0), 3_000);
    // Partition 1 is caught up, but only just: it still holds.
    c.update(view(&[0, 1], &[1]), t0);
    assert_eq!(c.watermark(t0 + Duration::from_millis(100)), 3_000);
    // After the grace it lets go; partition 0, with a backlog, never does.
    let later = t0 + CAUGHT_UP_GRACE + Duration::from_secs(3600);
    assert_eq!(c.watermark(later), 5_000);
    // Every partition caught up: the newest event time stands.
    c.saw("tweets", 1, 9_000);
    c.update(view(&[0, 1], &[0, 1]), later);
    assert_eq!(c.watermark(later + CAUGHT_UP_GRACE), 9_000);
    // A message ends a partition's caught-up state.
    c.update(view(&[0, 1], &[0]), later + CAUGHT_UP_GRACE);
    assert_eq!(c.watermark(later + 2 * CAUGHT_UP_GRACE), 9_000);
    c.saw("tweets", 0, 6_000);
    c.update(view(&[0, 1], &[1]), later + 2 * CAUGHT_UP_GRACE);
    assert_eq!(c.watermark(later + 4 * CAUGHT_UP_GRACE), 6_000);
}

#[test]
fn partition_clocks_survive_a_commit() {
    let mut c = PartitionClocks::default();
    c.saw("tweets", 3, 42);
    c.saw("other", 0, 7);
    let restored = PartitionClocks::restore(&c.snapshot());
    assert_eq!(restored.newest("tweets", 3), 42);
    assert_eq!(restored.newest("other", 0), 7);
    assert_eq!(restored.newest("tweets", 4), i64::MIN);
}
