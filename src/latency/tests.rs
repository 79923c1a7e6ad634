//! The tracker's tests: matching cases, forwards, out-of-order and bad
//! data, overdue groups, quantiles against exact ones, memory and eviction.

use super::overdue::overdue_group_id;
use super::*;
use crate::model::RegionCode;
use DataErrorKind::*;
use Step::{Advance, See};

const SEC: i64 = 1000;
const MIN: i64 = 60 * SEC;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;
/// 2022-11-02T03:15:42Z, the sample complaint.
const T0: i64 = 1_667_358_942_000;
const GOV: AgencyId = AgencyId(0);
const PEMKOT: AgencyId = AgencyId(1);
const PLN: AgencyId = AgencyId(2);
const LAPORGUB: AgencyId = AgencyId(3);
const ROAD: TopicId = TopicId(4);
const POWER: TopicId = TopicId(5);

fn agency(id: &str, kind: AgencyKind) -> AgencyDef {
    AgencyDef {
        id: id.into(),
        name: id.into(),
        kind,
        handles: vec![],
        user_ids: vec![],
        topics: vec![],
        regions: vec![],
        on_call: vec![],
        webhook_url: None,
        webhook_secret_env: None,
    }
}

fn agencies() -> Vec<AgencyDef> {
    vec![
        agency("governor", AgencyKind::Governor),
        agency("pemkot_semarang", AgencyKind::Regional),
        agency("pln", AgencyKind::Utility),
        agency("laporgub", AgencyKind::Channel),
    ]
}

/// 48h target, 30-day horizon.
fn tracker() -> Tracker {
    Tracker::new(&LatencyConfig::default(), &agencies())
}

fn ms(rfc3339: &str) -> i64 {
    let t = humantime::parse_rfc3339(rfc3339).expect("valid timestamp");
    t.duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

/// A road complaint routed to Kota Semarang, by citizen `1_000_000 + id`.
fn complaint(id: u64, at: i64) -> Record {
    Record {
        id,
        created_at_ms: at,
        author: 1_000_000 + id,
        topics: vec![ROAD],
        region: RegionCode(3374),
        is_complaint: true,
        agency: Some(PEMKOT),
        conversation: Some(id),
        ..Record::default()
    }
}

/// A reply by agency `by` to tweet `to`, in the conversation `to`.
fn reply(id: u64, at: i64, to: u64, by: AgencyId) -> Record {
    Record {
        id,
        created_at_ms: at,
        author: 9_000 + u64::from(by.0),
        official_author: Some(by),
        reply_to: Some(to),
        conversation: Some(to),
        ..Record::default()
    }
}

/// The governor replying to `to` and mentioning `agency`.
fn forward(id: u64, at: i64, to: u64, agency: AgencyId) -> Record {
    Record {
        mentioned_agencies: vec![agency],
        ..reply(id, at, to, GOV)
    }
}

fn citizen_reply(id: u64, at: i64, to: u64, author: u64) -> Record {
    Record {
        official_author: None,
        author,
        ..reply(id, at, to, GOV)
    }
}

fn answered(
    complaint_id: u64,
    responder: AgencyId,
    latency_ms: i64,
    forward: bool,
) -> LatencyEvent {
    LatencyEvent::Answered {
        complaint_id,
        responder,
        responsible: Some(PEMKOT),
        topic: Some(ROAD),
        latency_ms,
        forward,
    }
}

fn error(kind: DataErrorKind) -> LatencyEvent {
    LatencyEvent::DataError { kind }
}

fn over(complaint_id: u64) -> LatencyEvent {
    LatencyEvent::OverTarget {
        complaint_id,
        agency: PEMKOT,
    }
}

fn overdue(
    first_created_at_ms: i64,
    count: u64,
    oldest_created_at_ms: i64,
    resolved: bool,
) -> LatencyEvent {
    LatencyEvent::Overdue {
        group_id: overdue_group_id("pemkot_semarang", first_created_at_ms),
        agency: PEMKOT,
        count,
        oldest_created_at_ms,
        started_at_ms: first_created_at_ms + 2 * DAY,
        resolved,
    }
}

fn open(forwarded_at_ms: Option<i64>) -> Option<ComplaintStatus> {
    Some(ComplaintStatus {
        answered_at_ms: None,
        response_ms: None,
        responder: None,
        forwarded_at_ms,
    })
}

#[derive(Clone)]
enum Step {
    See(Record),
    Advance(i64),
}

fn run(t: &mut Tracker, steps: &[Step]) -> Vec<LatencyEvent> {
    let mut out = Vec::new();
    for step in steps {
        match step {
            See(r) => t.observe(r, &mut out),
            Advance(wm) => t.advance(*wm, &mut out),
        }
    }
    out
}

/// Runs `steps` on a fresh tracker and compares the events; returns the
/// tracker for further checks.
fn check(name: &str, steps: &[Step], expected: &[LatencyEvent]) -> Tracker {
    let mut t = tracker();
    let got = run(&mut t, steps);
    assert_eq!(got, expected, "case `{name}`");
    t
}

fn stats(t: &Tracker, agency: AgencyId, watermark_ms: i64) -> AgencyStats {
    t.agency_stats(watermark_ms)[usize::from(agency.0)].clone()
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs()
}

#[test]
fn sample_reply_is_answered_in_1h_46m_28s() {
    // ../shared/samples/tweet-v2.json and reply-v2.json.
    let (c, r) = (1_587_654_321_098_765_432, 1_587_690_000_000_000_001);
    let (asked, replied) = (
        ms("2022-11-02T03:15:42.000Z"),
        ms("2022-11-02T05:02:10.000Z"),
    );
    let latency = (3600 + 46 * 60 + 28) * SEC;
    let t = check(
        "sample",
        &[See(complaint(c, asked)), See(reply(r, replied, c, PEMKOT))],
        &[answered(c, PEMKOT, latency, false)],
    );
    let status = ComplaintStatus {
        answered_at_ms: Some(replied),
        response_ms: Some(latency),
        responder: Some(PEMKOT),
        forwarded_at_ms: None,
    };
    assert_eq!(t.status(c), Some(status));
    assert_eq!((t.answered_ids(), t.open_ids()), (vec![c], vec![]));
    let s = stats(&t, PEMKOT, replied);
    assert_eq!(
        (s.complaints, s.answered, s.open, s.responses, s.over_target),
        (1, 1, 0, 1, 0)
    );
    assert_eq!(
        (s.max, s.oldest_open_seconds, s.within_target_ratio),
        (Some(6388.0), None, Some(1.0))
    );
    for p in [s.p50, s.p90, s.p99] {
        assert!(close(p.unwrap(), 6388.0, 0.001), "{p:?}");
    }
    assert_eq!(
        t.agency_topic_quantiles(PEMKOT, ROAD).map(|q| q.3),
        Some(6388.0)
    );
    assert_eq!(t.agency_topic_quantiles(PEMKOT, POWER), None);
}

#[test]
fn matching_cases() {
    let c = 100;
    let in_thread = Record {
        reply_to: Some(555),
        ..reply(200, T0 + HOUR, c, PEMKOT)
    };
    let unrouted = Record {
        agency: None,
        topics: vec![],
        ..complaint(c, T0)
    };
    let retweet = Record {
        retweet_of: Some(c),
        ..reply(200, T0 + HOUR, c, PEMKOT)
    };
    let cases: Vec<(&str, Vec<Step>, Vec<LatencyEvent>)> = vec![
        (
            "an official reply in the thread matches by conversation",
            vec![See(complaint(c, T0)), See(in_thread)],
            vec![answered(c, PEMKOT, HOUR, false)],
        ),
        (
            "only the first official reply answers",
            vec![
                See(complaint(c, T0)),
                See(reply(200, T0 + HOUR, c, LAPORGUB)),
                See(reply(201, T0 + 2 * HOUR, c, PEMKOT)),
            ],
            vec![LatencyEvent::Answered {
                complaint_id: c,
                responder: LAPORGUB,
                responsible: Some(PEMKOT),
                topic: Some(ROAD),
                latency_ms: HOUR,
                forward: false,
            }],
        ),
        (
            "a reply that arrives before its complaint still matches",
            vec![See(reply(200, T0 + HOUR, c, PEMKOT)), See(complaint(c, T0))],
            vec![answered(c, PEMKOT, HOUR, false)],
        ),
        (
            "a reply timestamped before its complaint is a data error",
            vec![See(complaint(c, T0)), See(reply(200, T0 - MIN, c, PEMKOT))],
            vec![error(ReplyBeforeComplaint)],
        ),
        (
            "the same error when the reply arrived first",
            vec![See(reply(200, T0 - MIN, c, PEMKOT)), See(complaint(c, T0))],
            vec![error(ReplyBeforeComplaint)],
        ),
        (
            "a citizen's reply does not answer",
            vec![
                See(complaint(c, T0)),
                See(citizen_reply(200, T0 + MIN, c, 77)),
            ],
            vec![error(ReplyNotOfficial)],
        ),
        (
            "the complainant's own reply does not answer",
            vec![
                See(complaint(c, T0)),
                See(citizen_reply(200, T0 + MIN, c, 1_000_000 + c)),
            ],
            vec![error(SelfReply)],
        ),
        (
            "citizens' replies to unknown tweets are not counted",
            vec![
                See(citizen_reply(200, T0 + MIN, 999, 77)),
                Advance(T0 + 31 * DAY),
            ],
            vec![],
        ),
        (
            "a retweet is neither complaint nor reply",
            vec![See(complaint(c, T0)), See(retweet)],
            vec![],
        ),
        (
            "an unrouted complaint is answered but never over target",
            vec![
                See(unrouted),
                Advance(T0 + 3 * DAY),
                See(reply(200, T0 + 3 * DAY, c, LAPORGUB)),
            ],
            vec![LatencyEvent::Answered {
                complaint_id: c,
                responder: LAPORGUB,
                responsible: None,
                topic: None,
                latency_ms: 3 * DAY,
                forward: false,
            }],
        ),
        (
            "a governor reply without the agency's mention answers",
            vec![See(complaint(c, T0)), See(reply(200, T0 + MIN, c, GOV))],
            vec![answered(c, GOV, MIN, false)],
        ),
        (
            "a governor reply mentioning another agency answers",
            vec![See(complaint(c, T0)), See(forward(200, T0 + MIN, c, PLN))],
            vec![answered(c, GOV, MIN, false)],
        ),
        (
            "a complaint past the horizon on arrival is late",
            vec![Advance(T0 + 30 * DAY), See(complaint(c, T0))],
            vec![error(LateComplaint)],
        ),
    ];
    for (name, steps, expected) in cases {
        check(name, &steps, &expected);
    }
}

#[test]
fn reply_before_complaint_changes_no_figure() {
    let t = check(
        "reply before complaint",
        &[
            See(complaint(100, T0)),
            See(reply(200, T0 - SEC, 100, PEMKOT)),
        ],
        &[error(ReplyBeforeComplaint)],
    );
    assert_eq!(t.status(100), open(None));
    let s = stats(&t, PEMKOT, T0 + HOUR);
    assert_eq!(
        (s.answered, s.open, s.responses, s.p50, s.max),
        (0, 1, 0, None, None)
    );
    assert_eq!(s.oldest_open_seconds, Some(3600.0));
}

#[test]
fn replies_before_their_complaint_apply_in_event_time_order() {
    // The agency's answer and the governor's earlier forward both arrive
    // before the complaint, in reverse order.
    let mut t = check(
        "buffered",
        &[
            See(reply(202, T0 + 5 * HOUR, 100, PEMKOT)),
            See(forward(201, T0 + 10 * MIN, 100, PEMKOT)),
        ],
        &[],
    );
    assert_eq!(t.pending.len(), 2);
    assert_eq!(
        run(&mut t, &[See(complaint(100, T0))]),
        [
            answered(100, GOV, 10 * MIN, true),
            answered(100, PEMKOT, 5 * HOUR, false)
        ]
    );
    assert!(t.pending.is_empty() && t.pending_by_target.is_empty() && t.pending_by_time.is_empty());
}

#[test]
fn reply_to_unknown_is_counted_when_the_horizon_passes() {
    let mut t = check(
        "waiting",
        &[See(reply(200, T0, 999, PEMKOT)), Advance(T0 + 30 * DAY - 1)],
        &[],
    );
    assert_eq!(
        run(&mut t, &[Advance(T0 + 30 * DAY)]),
        [error(ReplyToUnknown)]
    );
    // A redelivery of the same reply is ignored; a later reply past the
    // horizon is counted at once.
    assert_eq!(run(&mut t, &[See(reply(200, T0, 999, PEMKOT))]), []);
    assert_eq!(
        run(&mut t, &[See(reply(201, T0, 999, PEMKOT))]),
        [error(ReplyToUnknown)]
    );
    assert!(t.pending.is_empty());
}

#[test]
fn pending_replies_are_bounded_and_the_oldest_goes_first() {
    let mut t = tracker().with_pending_capacity(2);
    let got = run(
        &mut t,
        &[
            See(reply(201, T0 + 2 * HOUR, 901, PEMKOT)),
            See(reply(202, T0 + HOUR, 902, PEMKOT)),
            See(reply(203, T0 + 3 * HOUR, 903, PEMKOT)),
            See(complaint(902, T0)),
            See(complaint(901, T0)),
        ],
    );
    assert_eq!(
        got,
        [
            error(PendingOverflow),
            answered(901, PEMKOT, 2 * HOUR, false)
        ]
    );
    assert_eq!(t.open_ids(), [902]);
}

#[test]
fn a_forward_keeps_the_complaint_open_for_the_agency() {
    let c = 100;
    let answer_to_forward = Record {
        reply_to: Some(201),
        ..reply(203, T0 + 5 * HOUR, c, PEMKOT)
    };
    let mut t = check(
        "forward",
        &[
            See(complaint(c, T0)),
            See(forward(201, T0 + 10 * MIN, c, PEMKOT)),
            See(reply(202, T0 + 20 * MIN, c, GOV)),
        ],
        &[answered(c, GOV, 10 * MIN, true)],
    );
    assert_eq!(t.status(c), open(Some(T0 + 10 * MIN)));
    assert_eq!(t.open_ids(), [c]);
    let s = stats(&t, PEMKOT, T0 + HOUR);
    assert_eq!((s.answered, s.open, s.within_target_ratio), (0, 1, None));
    assert_eq!(
        run(&mut t, &[See(answer_to_forward)]),
        [answered(c, PEMKOT, 5 * HOUR, false)]
    );
    assert_eq!(t.answered_ids(), [c]);
    assert_eq!(
        t.status(c),
        Some(ComplaintStatus {
            answered_at_ms: Some(T0 + 5 * HOUR),
            response_ms: Some(5 * HOUR),
            responder: Some(PEMKOT),
            forwarded_at_ms: Some(T0 + 10 * MIN),
        })
    );
    // The governor's figures are its first responses; the agency's its answers.
    let (gov, pemkot) = (
        stats(&t, GOV, T0 + 6 * HOUR),
        stats(&t, PEMKOT, T0 + 6 * HOUR),
    );
    assert_eq!(
        (gov.complaints, gov.responses, gov.max),
        (0, 1, Some(600.0))
    );
    assert_eq!(
        (pemkot.answered, pemkot.responses, pemkot.max),
        (1, 1, Some(18_000.0))
    );
    assert_eq!(pemkot.within_target_ratio, Some(1.0));

    let cases = [
        (
            "any other official closes a forwarded complaint",
            vec![
                See(complaint(c, T0)),
                See(forward(201, T0 + MIN, c, PEMKOT)),
                See(reply(202, T0 + HOUR, c, LAPORGUB)),
            ],
            vec![
                answered(c, GOV, MIN, true),
                LatencyEvent::Answered {
                    complaint_id: c,
                    responder: LAPORGUB,
                    responsible: Some(PEMKOT),
                    topic: Some(ROAD),
                    latency_ms: HOUR,
                    forward: false,
                },
            ],
        ),
        (
            "a forward arriving after the answer it preceded is still the first response",
            vec![
                See(complaint(c, T0)),
                See(reply(202, T0 + HOUR, c, PEMKOT)),
                See(forward(201, T0 + MIN, c, PEMKOT)),
            ],
            vec![
                answered(c, PEMKOT, HOUR, false),
                answered(c, GOV, MIN, true),
            ],
        ),
        (
            "a forward after the answer changes nothing",
            vec![
                See(complaint(c, T0)),
                See(reply(202, T0 + HOUR, c, PEMKOT)),
                See(forward(201, T0 + 2 * HOUR, c, PEMKOT)),
            ],
            vec![answered(c, PEMKOT, HOUR, false)],
        ),
        (
            "a forwarded complaint still goes overdue",
            vec![
                See(complaint(c, T0)),
                See(forward(201, T0 + MIN, c, PEMKOT)),
                Advance(T0 + 2 * DAY),
                See(reply(202, T0 + 3 * DAY, c, PEMKOT)),
            ],
            vec![
                answered(c, GOV, MIN, true),
                over(c),
                overdue(T0, 1, T0, false),
                answered(c, PEMKOT, 3 * DAY, false),
                overdue(T0, 0, T0, true),
            ],
        ),
    ];
    for (name, steps, expected) in cases {
        check(name, &steps, &expected);
    }
}

/// A bit of everything: forwards, answers, errors, overdue, eviction.
fn busy_day() -> Vec<Step> {
    vec![
        See(reply(300, T0 + 2 * HOUR, 103, PEMKOT)),
        See(complaint(101, T0)),
        See(complaint(102, T0 + MIN)),
        See(complaint(103, T0 + 2 * MIN)),
        See(complaint(104, T0 + 3 * MIN)),
        See(forward(301, T0 + 10 * MIN, 101, PEMKOT)),
        See(citizen_reply(302, T0 + 11 * MIN, 101, 1_000_101)),
        See(citizen_reply(303, T0 + 12 * MIN, 102, 42)),
        See(reply(304, T0 - HOUR, 102, PLN)),
        See(reply(305, T0 + 3 * HOUR, 101, PEMKOT)),
        See(reply(306, T0, 999, PLN)),
        Advance(T0 + 2 * DAY + 5 * MIN),
        See(reply(307, T0 + 2 * DAY + 6 * MIN, 102, LAPORGUB)),
        Advance(T0 + 31 * DAY),
    ]
}

#[test]
fn duplicates_are_ignored() {
    let steps = busy_day();
    let twice: Vec<Step> = steps
        .iter()
        .flat_map(|s| match s {
            See(_) => vec![s.clone(), s.clone()],
            Advance(_) => vec![s.clone()],
        })
        .collect();
    let (mut once_t, mut twice_t) = (tracker(), tracker());
    let once = run(&mut once_t, &steps);
    assert_eq!(run(&mut twice_t, &twice), once);
    for k in [
        SelfReply,
        ReplyNotOfficial,
        ReplyBeforeComplaint,
        ReplyToUnknown,
    ] {
        assert_eq!(once.iter().filter(|e| **e == error(k)).count(), 1, "{k:?}");
    }
    assert!(once.contains(&LatencyEvent::Evicted { count: 1 }));
    assert_eq!(once_t.agency_stats(T0), twice_t.agency_stats(T0));
    // Replayed again after the horizon, complaints are too old to track
    // again (counted as late, figures unchanged) and replies are remembered.
    let again = run(&mut once_t, &steps[..steps.len() - 1]);
    assert_eq!(again, vec![error(LateComplaint); 4]);
    assert_eq!(once_t.agency_stats(T0), twice_t.agency_stats(T0));
}

/// 100 complaints a minute apart pass their target in two steps and are
/// then answered one by one.
fn hundred_overdue() -> Vec<LatencyEvent> {
    let mut steps: Vec<Step> = (0..100)
        .map(|i| See(complaint(100 + i, T0 + i as i64 * MIN)))
        .collect();
    steps.push(Advance(T0 + 2 * DAY + 49 * MIN));
    steps.push(Advance(T0 + 2 * DAY + 200 * MIN));
    steps.extend((0..100).map(|i| {
        See(reply(
            1000 + i,
            T0 + 3 * DAY + i as i64 * MIN,
            100 + i,
            PEMKOT,
        ))
    }));
    let mut t = tracker();
    let events = run(&mut t, &steps);
    let s = stats(&t, PEMKOT, T0 + 4 * DAY);
    assert_eq!(
        (s.complaints, s.answered, s.open, s.over_target),
        (100, 100, 0, 100)
    );
    assert_eq!(s.within_target_ratio, Some(0.0));
    events
}

#[test]
fn overdue_complaints_form_one_group_per_agency() {
    let events = hundred_overdue();
    let groups: Vec<&LatencyEvent> = events
        .iter()
        .filter(|e| matches!(e, LatencyEvent::Overdue { .. }))
        .collect();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, LatencyEvent::OverTarget { .. }))
            .count(),
        100
    );
    // Fired with the first 50, grown to 100 in the next step, shrunk by
    // each answer, resolved by the last.
    assert_eq!(groups.len(), 2 + 99 + 1);
    assert_eq!(*groups[0], overdue(T0, 50, T0, false));
    assert_eq!(*groups[1], overdue(T0, 100, T0, false));
    assert_eq!(*groups[2], overdue(T0, 99, T0 + MIN, false));
    assert_eq!(*groups[100], overdue(T0, 1, T0 + 99 * MIN, false));
    assert_eq!(*groups[101], overdue(T0, 0, T0 + 99 * MIN, true));
    let ids: HashSet<u64> = groups
        .iter()
        .map(|e| match e {
            LatencyEvent::Overdue { group_id, .. } => *group_id,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(ids.len(), 1);
    // A replay gives the same events, so the same id.
    assert_eq!(hundred_overdue(), events);
}

#[test]
fn a_new_overdue_episode_gets_a_new_id() {
    let t = check(
        "two episodes",
        &[
            See(complaint(100, T0)),
            Advance(T0 + 2 * DAY),
            See(reply(200, T0 + 2 * DAY + HOUR, 100, PEMKOT)),
            See(complaint(101, T0 + 3 * DAY)),
            Advance(T0 + 5 * DAY),
            // Arrives late, already past its target: overdue at once.
            See(complaint(102, T0 + 2 * DAY + HOUR)),
        ],
        &[
            over(100),
            overdue(T0, 1, T0, false),
            answered(100, PEMKOT, 2 * DAY + HOUR, false),
            overdue(T0, 0, T0, true),
            over(101),
            overdue(T0 + 3 * DAY, 1, T0 + 3 * DAY, false),
            over(102),
            overdue(T0 + 3 * DAY, 2, T0 + 2 * DAY + HOUR, false),
        ],
    );
    assert_ne!(
        overdue_group_id("pemkot_semarang", T0),
        overdue_group_id("pemkot_semarang", T0 + 3 * DAY)
    );
    assert_eq!(stats(&t, PEMKOT, T0 + 5 * DAY).over_target, 3);
}

#[test]
fn a_late_answer_counts_over_target_however_often_advance_runs() {
    // The answer (50h) arrives before any watermark passed the target.
    check(
        "late answer",
        &[
            See(complaint(100, T0)),
            See(reply(200, T0 + 50 * HOUR, 100, PEMKOT)),
            Advance(T0 + 3 * DAY),
        ],
        &[answered(100, PEMKOT, 50 * HOUR, false), over(100)],
    );
}

#[test]
fn within_target_ratio_counts_decided_complaints() {
    let t = check(
        "ratio",
        &[
            See(complaint(1, T0)),
            See(complaint(2, T0)),
            See(complaint(3, T0)),
            See(complaint(4, T0 + MIN)),
            See(complaint(5, T0 + 2 * DAY)),
            See(reply(11, T0 + HOUR, 1, PEMKOT)),
            See(reply(12, T0 + 50 * HOUR, 2, PEMKOT)),
            Advance(T0 + 2 * DAY + HOUR),
        ],
        &[
            answered(1, PEMKOT, HOUR, false),
            answered(2, PEMKOT, 50 * HOUR, false),
            over(2),
            over(3),
            over(4),
            overdue(T0, 2, T0, false),
        ],
    );
    let s = stats(&t, PEMKOT, T0 + 2 * DAY + HOUR);
    // Answered in time: 1. Decided: 2 answered + 2 open past target; 5 is undecided.
    assert_eq!(s.within_target_ratio, Some(0.25));
    assert_eq!(
        (s.complaints, s.answered, s.open, s.over_target),
        (5, 2, 3, 3)
    );
    assert_eq!(
        s.oldest_open_seconds,
        Some((2 * DAY + HOUR) as f64 / 1000.0)
    );
}

#[test]
fn open_complaints_are_evicted_at_the_horizon() {
    let mut t = check(
        "eviction",
        &[
            See(complaint(100, T0)),
            See(complaint(101, T0 + HOUR)),
            See(reply(200, T0 + 2 * HOUR, 101, PEMKOT)),
        ],
        &[answered(101, PEMKOT, HOUR, false)],
    );
    assert_eq!(
        run(&mut t, &[Advance(T0 + 30 * DAY - 1)]),
        [over(100), overdue(T0, 1, T0, false)]
    );
    assert_eq!((t.open_ids(), t.answered_ids()), (vec![100], vec![101]));
    assert_eq!(
        run(&mut t, &[Advance(T0 + 30 * DAY)]),
        [overdue(T0, 0, T0, true), LatencyEvent::Evicted { count: 1 }]
    );
    assert_eq!((t.status(100), t.open_ids()), (None, vec![]));
    // The answered one is forgotten an hour later, without a count.
    assert_eq!(run(&mut t, &[Advance(T0 + 30 * DAY + HOUR)]), []);
    assert_eq!((t.status(101), t.answered_ids()), (None, vec![]));
    let s = stats(&t, PEMKOT, T0 + 31 * DAY);
    assert_eq!(
        (s.complaints, s.answered, s.open, s.evicted, s.over_target),
        (2, 1, 0, 1, 1)
    );
    assert_eq!(s.within_target_ratio, Some(0.5));
    // A reply to the evicted complaint waits, then counts as unknown.
    assert_eq!(
        run(&mut t, &[See(reply(201, T0 + 3 * HOUR, 100, PEMKOT))]),
        []
    );
    assert_eq!(
        run(&mut t, &[Advance(T0 + 30 * DAY + 3 * HOUR)]),
        [error(ReplyToUnknown)]
    );
}

/// splitmix64: a small deterministic generator for synthetic replays.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Nearest rank: the smallest value with at least `p` of the samples at or below it.
fn exact_quantile(sorted: &[i64], p: f64) -> f64 {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1] as f64 / 1000.0
}

#[test]
fn quantiles_of_a_50k_replay_match_exact_ones() {
    const N: u64 = 50_000;
    let mut rng = Rng(7);
    // (arrival key, record); latencies by (agency, topic).
    let mut feed: Vec<(i64, Record)> = Vec::new();
    let mut truth: HashMap<(AgencyId, TopicId), Vec<i64>> = HashMap::new();
    for i in 0..N {
        let created = T0 + (i as i64) * (60 * DAY / N as i64);
        let (agency, topic) = if i % 3 == 0 {
            (PLN, POWER)
        } else {
            (PEMKOT, ROAD)
        };
        // Log-normal around 3 hours, from 2 minutes to 10 days.
        let seconds = (10_800f64.ln() + 1.6 * rng.normal())
            .exp()
            .clamp(120.0, 864_000.0);
        let latency = (seconds * 1000.0).round() as i64;
        truth.entry((agency, topic)).or_default().push(latency);
        let c = Record {
            agency: Some(agency),
            topics: vec![topic],
            ..complaint(1_000_000 + i, created)
        };
        let r = reply(5_000_000 + i, created + latency, c.id, agency);
        let jitter = |rng: &mut Rng| (rng.next_u64() % (30 * MIN as u64)) as i64;
        feed.push((created + jitter(&mut rng), c));
        // One reply in ten arrives before its complaint.
        let arrival = if i % 10 == 0 {
            created - 1
        } else {
            created + latency + jitter(&mut rng)
        };
        feed.push((arrival, r));
    }
    feed.sort_by_key(|(arrival, r)| (*arrival, r.id));

    let mut t = tracker();
    let mut out = Vec::new();
    let (mut answered, mut errors, mut max_seen, mut max_pending) = (0, 0, i64::MIN, 0);
    for (n, (_, r)) in feed.iter().enumerate() {
        t.observe(r, &mut out);
        max_seen = max_seen.max(r.created_at_ms);
        max_pending = max_pending.max(t.pending.len());
        if n % 500 == 499 {
            t.advance(max_seen - HOUR, &mut out);
        }
        for e in out.drain(..) {
            match e {
                LatencyEvent::Answered { .. } => answered += 1,
                LatencyEvent::DataError { .. } => errors += 1,
                _ => {}
            }
        }
    }
    assert_eq!((answered, errors), (N, 0));
    assert!(max_pending > 0, "some replies waited for their complaint");

    let mut worst: f64 = 0.0;
    let mut compare = |name: &str, got: (f64, f64, f64, f64), sorted: &[i64]| {
        let want = [
            exact_quantile(sorted, 0.5),
            exact_quantile(sorted, 0.9),
            exact_quantile(sorted, 0.99),
            exact_quantile(sorted, 1.0),
        ];
        for (g, w) in [got.0, got.1, got.2, got.3].into_iter().zip(want) {
            worst = worst.max((g - w).abs() / w);
            assert!(close(g, w, 0.01), "{name}: {g} s vs exact {w} s");
        }
    };
    let stats = t.agency_stats(max_seen);
    for ((agency, topic), mut latencies) in truth {
        latencies.sort_unstable();
        let q = t
            .agency_topic_quantiles(agency, topic)
            .expect("answers recorded");
        compare(&format!("{agency:?}/{topic:?}"), q, &latencies);
        // One topic per agency here, so the agency's figures are the same.
        let s = &stats[usize::from(agency.0)];
        compare(
            &format!("{agency:?}"),
            (
                s.p50.unwrap(),
                s.p90.unwrap(),
                s.p99.unwrap(),
                s.max.unwrap(),
            ),
            &latencies,
        );
        assert_eq!(
            (s.answered, s.responses, s.open),
            (latencies.len() as u64, latencies.len() as u64, 0)
        );
    }
    eprintln!(
        "50k replay: worst relative quantile error {:.5}%",
        worst * 100.0
    );
}

#[test]
fn a_million_unanswered_complaints_stay_small_and_are_evicted() {
    const N: i64 = 1_000_000;
    // One complaint every 2 s: 23 days, all inside the 30-day horizon.
    const EVERY: i64 = 2 * SEC;
    let mut t = tracker();
    let mut out = Vec::new();
    for i in 0..N {
        let c = Record {
            agency: Some(AgencyId((i % 4) as u16)),
            ..complaint(i as u64 + 1, T0 + i * EVERY)
        };
        t.observe(&c, &mut out);
        if i % 10_000 == 9_999 {
            t.advance(c.created_at_ms, &mut out);
            out.clear();
        }
    }
    let last = T0 + (N - 1) * EVERY;
    assert_eq!(t.open_ids().len() as i64, N);
    let per_complaint = t.approx_bytes() as f64 / N as f64;
    eprintln!(
        "1M open complaints: approx {} MB, {per_complaint:.1} bytes per complaint",
        t.approx_bytes() / 1_000_000
    );
    assert!(
        per_complaint <= 200.0,
        "{per_complaint} bytes per open complaint"
    );

    let peak = t.approx_bytes();
    // Walk the watermark past the horizon: exactly the complaints younger
    // than the horizon stay.
    let (mut wm, mut evicted) = (last, 0);
    while wm < last + 31 * DAY {
        wm += DAY / 2;
        t.advance(wm, &mut out);
        for e in out.drain(..) {
            if let LatencyEvent::Evicted { count } = e {
                evicted += count;
            }
        }
        let younger = (0..N).filter(|i| T0 + i * EVERY + 30 * DAY > wm).count();
        assert_eq!(t.complaints.len(), younger);
        assert_eq!(t.deadlines.len(), younger);
        assert!(t.approx_bytes() <= peak);
    }
    assert_eq!(evicted, N as u64);
    let all = t.agency_stats(wm);
    assert_eq!(all.iter().map(|s| s.evicted).sum::<u64>(), N as u64);
    assert_eq!(all.iter().map(|s| s.over_target).sum::<u64>(), N as u64);
    assert!(all
        .iter()
        .all(|s| s.open == 0 && s.within_target_ratio == Some(0.0)));
    assert!(
        t.approx_bytes() < 100_000,
        "memory is given back: {}",
        t.approx_bytes()
    );
}
