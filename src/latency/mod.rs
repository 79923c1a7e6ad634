//! Agency response latency: which official reply answers which complaint, how
//! long it took, which complaints still wait, and who breaks the province's
//! 2×24-hour promise.
//!
//! The [`Tracker`] owns every open complaint within `latency.horizon`, the
//! official replies that arrived before their complaint, and the latency
//! histograms. It is a pure state machine: time is the event time of the
//! records and the watermark passed to [`Tracker::advance`], never the wall
//! clock; it does no I/O, no logging and no awaiting. Its output is a list of
//! [`LatencyEvent`]s that the pipeline turns into metrics and alerts, so a
//! replay of the same records with the same watermarks gives the same events,
//! the same figures and the same overdue-group ids.
//!
//! # Matching
//! A complaint (`Record::is_complaint`) is answered by the first reply from an
//! official account (`official_author`). A reply is matched to the complaint
//! it replies to (`reply_to`), or else to the complaint whose id is its
//! `conversation` (in Twitter v2 the conversation id is the root tweet's id),
//! so an agency answering inside the thread still counts. Latency runs from
//! the complaint's `created_at` to the reply's and is attributed to the agency
//! that answered (the responder); the agency the complaint was routed to (the
//! responsible one) is kept beside it, so both "who answered" and "who should
//! have" can be read.
//!
//! # Forwards
//! A reply from a governor account (`AgencyKind::Governor`) that mentions the
//! complaint's responsible agency is a forward. It is the complaint's first
//! official response, so it is reported (`Answered { forward: true }`) and
//! recorded in the governor's histogram, but the complaint stays open for the
//! responsible agency. The next reply from any non-governor official account
//! closes it (`Answered { forward: false }`, latency again from the
//! complaint): usually the responsible agency, but a channel such as LaporGub
//! or another agency that took the case also counts, because the citizen got
//! an answer, and the responder is recorded so misrouting stays visible.
//! Further governor replies to a forwarded complaint close nothing. A governor
//! reply that does not mention the responsible agency is an ordinary answer.
//!
//! # Out of order, duplicates and bad data
//! A reply whose complaint is unknown waits in a buffer bounded in count (the
//! oldest by event time is dropped, and counted as `pending_overflow` if it
//! was official) and in event time (after `horizon` an official one is
//! counted as `reply_to_unknown`; a citizen's reply to a tweet that never
//! turned out to be a complaint is no error and is dropped quietly). When the complaint arrives, its buffered replies are
//! applied in event-time order, exactly as if they had arrived after it. A
//! forward that arrives after the answer it preceded in event time is still
//! recorded as the first response. Otherwise, among official replies that
//! reach a known complaint out of event-time order, the first to arrive
//! answers it: a histogram cannot take a sample back. Replies from
//! non-official accounts to a complaint are counted (`self_reply` for the
//! complainant, else `reply_not_official`) whatever the arrival order.
//! A reply timestamped before its complaint is counted as
//! `reply_before_complaint` and changes nothing else. A complaint already past
//! the horizon when it arrives is counted as `late_complaint` and not tracked.
//! A complaint id seen twice is ignored while it is tracked (a redelivery
//! after the horizon is only counted as `late_complaint`); a reply id is
//! ignored while it waits and for the last 65,536 replies handled, so
//! redeliveries change no figure.
//!
//! # Targets and overdue groups
//! When the watermark passes `created_at + target` for an open complaint, it
//! is counted once as over target ([`LatencyEvent::OverTarget`]) for its
//! responsible agency. A complaint answered late before the watermark got
//! there is counted at its answer instead, so the counts do not depend on how
//! often `advance` is called. Like a Prometheus counter, over target is never
//! taken back, even if a reply written in time arrives after the watermark
//! passed the target (`within_target_ratio` then still counts it in time). The
//! open over-target complaints of one agency form one overdue group, one
//! alert: it fires with the first, is updated as it grows and shrinks, and
//! resolves when the last is answered or evicted. Its id hashes `("overdue",
//! agency id, created_at of the episode's first overdue complaint)`, using the
//! configured agency id string, so replays and restarts give the same id.
//! Events are coalesced per call: one update per agency per `observe` or
//! `advance`, plus the resolution of an episode that ended in it.
//!
//! # Memory
//! A tracked complaint costs one 40-byte hash-map entry plus one 16-byte entry
//! in the deadline heap and, while open, one in its agency's oldest-first
//! heap: about 120 bytes with hash-map and vector slack (measured by a test
//! with a million open complaints). Complaints, open or answered, are
//! forgotten `horizon` after their `created_at`; an open one is then counted
//! as evicted. Histograms are allocated per responder and per (responder,
//! topic) that actually answered, about 190 KB each (milliseconds, 3
//! significant figures, up to 30 days or the horizon).

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::mem::size_of;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::config::{AgencyDef, AgencyKind, LatencyConfig};
use crate::model::{stable_hash, AgencyId, Record, TopicId};

/// Official replies that may wait for their complaint, by default.
pub const DEFAULT_PENDING_CAPACITY: usize = 100_000;
/// How many handled reply ids are remembered to ignore redeliveries.
const RECENT_REPLIES: usize = 1 << 16;
/// The histograms track latencies up to at least 30 days, in milliseconds.
const HISTOGRAM_MAX_MS: u64 = 30 * 24 * 3600 * 1000;
/// Agency and topic ids are indices into configuration lists, which never
/// reach this value, so it stands for "none" and keeps a slot small.
const NONE: u16 = u16::MAX;

// Flags of a `Slot`.
/// Answered for good: by a non-forward official reply.
const CLOSED: u8 = 1;
/// A governor forwarded it (its first response); it may still be open.
const FORWARDED: u8 = 2;
/// Counted as over target (once). Open and over target means overdue.
const OVER_TARGET: u8 = 4;
/// Its target deadline was handled; its heap entry is now the horizon.
const TARGET_DONE: u8 = 8;

/// What the tracker reports; the pipeline maps these to metrics and alerts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LatencyEvent {
    /// A complaint got an answer from `responder` (the agency that answered);
    /// `responsible` is by routing. A governor's forward is reported with
    /// `forward: true` as the first response, then the closing answer with
    /// `forward: false`; a complaint without a forward has one event.
    /// `latency_ms` always runs from the complaint's `created_at`.
    Answered {
        complaint_id: u64,
        responder: AgencyId,
        responsible: Option<AgencyId>,
        topic: Option<TopicId>,
        latency_ms: i64,
        forward: bool,
    },
    /// A complaint passed the target unanswered (once per complaint).
    OverTarget { complaint_id: u64, agency: AgencyId },
    /// The overdue group of an agency changed (fired, grew, shrank or
    /// resolved when count == 0). `count` is its open over-target complaints,
    /// `started_at_ms` the event time the first of them passed the target.
    Overdue {
        group_id: u64,
        agency: AgencyId,
        count: u64,
        oldest_created_at_ms: i64,
        started_at_ms: i64,
        resolved: bool,
    },
    /// A record that could not be used as it claims; see [`DataErrorKind`].
    DataError { kind: DataErrorKind },
    /// Open complaints forgotten because they passed the horizon unanswered.
    Evicted { count: u64 },
}

/// Why a record changed no latency figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataErrorKind {
    /// A reply timestamped before the complaint it answers.
    ReplyBeforeComplaint,
    /// An official reply whose complaint never arrived within the horizon.
    ReplyToUnknown,
    /// A reply to a complaint from an account that is not an agency's.
    ReplyNotOfficial,
    /// The complainant replying to their own complaint.
    SelfReply,
    /// A waiting official reply dropped because the buffer was full.
    PendingOverflow,
    /// A complaint that arrived when it was already past the horizon.
    LateComplaint,
}

impl DataErrorKind {
    pub const ALL: [DataErrorKind; 6] = [
        DataErrorKind::ReplyBeforeComplaint,
        DataErrorKind::ReplyToUnknown,
        DataErrorKind::ReplyNotOfficial,
        DataErrorKind::SelfReply,
        DataErrorKind::PendingOverflow,
        DataErrorKind::LateComplaint,
    ];

    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            DataErrorKind::ReplyBeforeComplaint => "reply_before_complaint",
            DataErrorKind::ReplyToUnknown => "reply_to_unknown",
            DataErrorKind::ReplyNotOfficial => "reply_not_official",
            DataErrorKind::SelfReply => "self_reply",
            DataErrorKind::PendingOverflow => "pending_overflow",
            DataErrorKind::LateComplaint => "late_complaint",
        }
    }
}

/// The figures of one agency, for `/api/agencies` and the `kemala_agency_*`
/// metrics.
///
/// Two views meet here. The counts (`complaints` to `over_target`, and
/// `within_target_ratio`) are about the complaints *routed* to the agency:
/// what it is responsible for, whoever answered. The response times
/// (`responses`, `p50` to `max`) are about the answers the agency *gave*,
/// including forwards by a governor, matching the
/// `kemala_agency_response_seconds{agency}` histogram fed from
/// [`LatencyEvent::Answered`].
#[derive(Clone, Debug, PartialEq)]
pub struct AgencyStats {
    pub agency: AgencyId,
    /// Complaints routed to it since start (or rebuild).
    pub complaints: u64,
    /// Of those, answered (closed); a forward alone does not count.
    pub answered: u64,
    /// Of those, open now (forwarded ones included).
    pub open: u64,
    /// Of those, forgotten unanswered at the horizon.
    pub evicted: u64,
    /// Age of its oldest open complaint at the given watermark.
    pub oldest_open_seconds: Option<f64>,
    /// Answers it gave (forwards included): the histogram's sample count.
    pub responses: u64,
    /// Response time quantiles of its answers, in seconds.
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
    /// `W / (A + O + E)` over complaints routed to it: `W` answered within
    /// target (latency of the closing answer ≤ target), `A` answered at all,
    /// `O` open and past target at the last `advance`, `E` evicted
    /// unanswered after passing target. Open complaints still inside their
    /// target are undecided and left out; `None` until something is decided.
    pub within_target_ratio: Option<f64>,
    /// Complaints routed to it that passed the target unanswered (a counter).
    pub over_target: u64,
}

/// Where one tracked complaint stands, for search hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComplaintStatus {
    /// When it was answered for good; `None` while open (even if forwarded).
    pub answered_at_ms: Option<i64>,
    pub response_ms: Option<i64>,
    pub responder: Option<AgencyId>,
    /// When a governor forwarded it to the responsible agency, if so.
    pub forwarded_at_ms: Option<i64>,
}

/// The state of one tracked complaint: 32 bytes, 40 with its key.
#[derive(Clone, Copy, Debug)]
struct Slot {
    created_at_ms: i64,
    /// The low half of the author hash: enough to tell the complainant's own
    /// replies from other citizens'.
    author: u32,
    /// Milliseconds from `created_at_ms` to the closing answer (saturating at
    /// 49.7 days, which only a horizon longer than that can reach).
    answer_delta: u32,
    forward_delta: u32,
    responsible: u16,
    topic: u16,
    answered_by: u16,
    forwarded_by: u16,
    flags: u8,
}

impl Slot {
    fn is_open(&self) -> bool {
        self.flags & CLOSED == 0
    }
}

/// An official reply waiting for its complaint.
#[derive(Debug)]
struct PendingReply {
    created_at_ms: i64,
    /// The agency, or `NONE` for a citizen's reply (kept so that a reply
    /// from a non-official account is counted whatever the arrival order).
    official: u16,
    /// The low half of the author hash, to tell self-replies.
    author: u32,
    targets: [Option<u64>; 2],
    /// Only kept for governor replies, the only ones that can forward.
    mentions: Box<[AgencyId]>,
}

/// The parts of a reply that matching needs, live or from the buffer.
struct Reply<'a> {
    created_at_ms: i64,
    official: Option<usize>,
    author: u32,
    mentions: &'a [AgencyId],
}

/// A latency histogram with its exact maximum.
struct LatencyHistogram {
    hist: Histogram<u64>,
    max_ms: u64,
}

impl LatencyHistogram {
    fn new(high_ms: u64) -> LatencyHistogram {
        // Invariant: low = 1, high >= 2 and 3 significant figures are always
        // valid bounds, so this cannot fail.
        let hist =
            Histogram::new_with_bounds(1, high_ms.max(2), 3).expect("valid histogram bounds");
        LatencyHistogram { hist, max_ms: 0 }
    }

    fn record(&mut self, ms: u64) {
        self.hist.saturating_record(ms);
        self.max_ms = self.max_ms.max(ms);
    }

    /// p50, p90, p99 and max in seconds. hdrhistogram returns the highest
    /// value equivalent to the nearest-rank sample (within 0.1% at three
    /// significant figures); it is capped by the exact maximum.
    fn quantiles(&self) -> Option<(f64, f64, f64, f64)> {
        if self.hist.is_empty() {
            return None;
        }
        let q = |p: f64| self.hist.value_at_quantile(p).min(self.max_ms) as f64 / 1000.0;
        Some((q(0.5), q(0.9), q(0.99), self.max_ms as f64 / 1000.0))
    }

    fn bytes(&self) -> usize {
        size_of::<Self>() + self.hist.distinct_values() * size_of::<u64>()
    }
}

#[derive(Clone, Copy, Debug)]
struct Group {
    id: u64,
    started_at_ms: i64,
    first_created_at_ms: i64,
    peak: u64,
}

/// What consumers last heard about an agency's overdue group.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Emitted {
    id: u64,
    count: u64,
    oldest_created_at_ms: i64,
}

struct AgencyState {
    /// The configured id, hashed into stable group ids.
    key: String,
    governor: bool,
    complaints: u64,
    answered: u64,
    answered_within: u64,
    open: u64,
    evicted: u64,
    evicted_over_target: u64,
    over_target: u64,
    /// Open complaints routed here, oldest first. Answered ones are removed
    /// lazily, but never left on top, so the top is the oldest open one.
    open_heap: BinaryHeap<Reverse<(i64, u64)>>,
    /// Open complaints past target: the size of the overdue group.
    overdue: u64,
    group: Option<Group>,
    emitted: Option<Emitted>,
    touched: bool,
    /// Answers this agency gave.
    hist: Option<LatencyHistogram>,
}

/// A fast, deterministic hasher for tweet ids (the murmur3 finalizer).
#[derive(Clone, Copy, Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u16(&mut self, x: u16) {
        self.write_u64(u64::from(x));
    }
    fn write_u64(&mut self, x: u64) {
        let mut h = self.0.rotate_left(29) ^ x;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        self.0 = h ^ (h >> 33);
    }
}

type IdBuild = BuildHasherDefault<IdHasher>;

/// Tracks complaints and official replies in event time; see the module doc.
pub struct Tracker {
    target_ms: i64,
    horizon_ms: i64,
    histogram_max_ms: u64,
    watermark_ms: i64,
    agencies: Vec<AgencyState>,
    complaints: HashMap<u64, Slot, IdBuild>,
    /// One entry per tracked complaint: `(deadline, id)`, the target deadline
    /// until it is handled, then the horizon.
    deadlines: BinaryHeap<Reverse<(i64, u64)>>,
    /// Per (responder, topic).
    topic_hists: HashMap<(u16, u16), LatencyHistogram, IdBuild>,
    pending: HashMap<u64, PendingReply, IdBuild>,
    pending_by_target: HashMap<u64, Vec<u64>, IdBuild>,
    pending_by_time: BTreeSet<(i64, u64)>,
    pending_capacity: usize,
    recent: HashSet<u64, IdBuild>,
    recent_order: VecDeque<u64>,
    touched: Vec<usize>,
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// The stable id of an overdue episode.
fn overdue_group_id(agency_key: &str, first_created_at_ms: i64) -> u64 {
    let mut bytes = Vec::with_capacity(agency_key.len() + 17);
    bytes.extend_from_slice(b"overdue\0");
    bytes.extend_from_slice(agency_key.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(&first_created_at_ms.to_be_bytes());
    stable_hash(&bytes)
}

/// Bytes of a hash table with room for `capacity` entries: hashbrown keeps
/// 7/8 of its buckets usable and one control byte per bucket.
fn table_bytes(capacity: usize, entry: usize) -> usize {
    let buckets = match capacity {
        0 => 0,
        1..8 => capacity + 1,
        _ => capacity / 7 * 8,
    };
    buckets * (entry + 1)
}

fn map_bytes<K, V, S>(m: &HashMap<K, V, S>) -> usize {
    table_bytes(m.capacity(), size_of::<(K, V)>())
}

fn some_id(x: u16) -> Option<u16> {
    (x != NONE).then_some(x)
}

impl Tracker {
    pub fn new(config: &LatencyConfig, agencies: &[AgencyDef]) -> Tracker {
        let target_ms = duration_ms(config.target.0);
        // A horizon shorter than the target would forget complaints before
        // they could be late; it is stretched to the target.
        let horizon_ms = duration_ms(config.horizon.0).max(target_ms);
        Tracker {
            target_ms,
            horizon_ms,
            histogram_max_ms: (horizon_ms as u64).max(HISTOGRAM_MAX_MS),
            watermark_ms: i64::MIN,
            agencies: agencies
                .iter()
                .map(|a| AgencyState {
                    key: a.id.clone(),
                    governor: a.kind == AgencyKind::Governor,
                    complaints: 0,
                    answered: 0,
                    answered_within: 0,
                    open: 0,
                    evicted: 0,
                    evicted_over_target: 0,
                    over_target: 0,
                    open_heap: BinaryHeap::new(),
                    overdue: 0,
                    group: None,
                    emitted: None,
                    touched: false,
                    hist: None,
                })
                .collect(),
            complaints: HashMap::default(),
            deadlines: BinaryHeap::new(),
            topic_hists: HashMap::default(),
            pending: HashMap::default(),
            pending_by_target: HashMap::default(),
            pending_by_time: BTreeSet::new(),
            pending_capacity: DEFAULT_PENDING_CAPACITY,
            recent: HashSet::default(),
            recent_order: VecDeque::new(),
            touched: Vec::new(),
        }
    }

    /// Sets how many official replies may wait for their complaint.
    pub fn with_pending_capacity(mut self, capacity: usize) -> Tracker {
        self.pending_capacity = capacity;
        self
    }

    /// The highest watermark passed to [`Tracker::advance`].
    pub fn watermark_ms(&self) -> i64 {
        self.watermark_ms
    }

    /// Feeds one record (in any order); retweets and unrelated tweets are
    /// ignored.
    pub fn observe(&mut self, r: &Record, out: &mut Vec<LatencyEvent>) {
        if r.retweet_of.is_some() {
            return;
        }
        if r.is_complaint {
            if self.complaints.contains_key(&r.id) {
                return;
            }
            if r.created_at_ms.saturating_add(self.horizon_ms) <= self.watermark_ms {
                out.push(LatencyEvent::DataError {
                    kind: DataErrorKind::LateComplaint,
                });
                return;
            }
            self.add_complaint(r, out);
        }
        let is_reply =
            r.reply_to.is_some_and(|t| t != r.id) || r.conversation.is_some_and(|c| c != r.id);
        if is_reply && !self.recent.contains(&r.id) && !self.pending.contains_key(&r.id) {
            self.observe_reply(r, out);
        }
        self.flush_overdue(out);
    }

    /// Moves event time to `watermark_ms` (it never goes back): complaints
    /// passing their target are counted, and complaints and waiting replies
    /// passing the horizon are forgotten and counted.
    pub fn advance(&mut self, watermark_ms: i64, out: &mut Vec<LatencyEvent>) {
        self.watermark_ms = self.watermark_ms.max(watermark_ms);
        let mut evicted = 0;
        while let Some(&Reverse((deadline, id))) = self.deadlines.peek() {
            if deadline > self.watermark_ms {
                break;
            }
            self.deadlines.pop();
            let Some(slot) = self.complaints.get(&id).copied() else {
                debug_assert!(false, "every deadline belongs to a tracked complaint");
                continue;
            };
            if slot.flags & TARGET_DONE == 0 {
                self.pass_target(id, out);
                // Pushed even when already due, so that evictions interleave
                // with other deadlines in event-time order.
                let horizon = slot.created_at_ms.saturating_add(self.horizon_ms);
                self.deadlines.push(Reverse((horizon, id)));
                continue;
            }
            self.complaints.remove(&id);
            if slot.is_open() {
                evicted += 1;
                if let Some(a) = some_id(slot.responsible) {
                    let a = usize::from(a);
                    let st = &mut self.agencies[a];
                    st.open -= 1;
                    st.evicted += 1;
                    if slot.flags & OVER_TARGET != 0 {
                        st.evicted_over_target += 1;
                    }
                    self.clean_open_heap(a);
                    if slot.flags & OVER_TARGET != 0 {
                        self.leave_group(a, out);
                    }
                }
            }
        }
        while let Some(&(created_at_ms, id)) = self.pending_by_time.first() {
            if created_at_ms.saturating_add(self.horizon_ms) > self.watermark_ms {
                break;
            }
            let official = self.unpark(id).is_some_and(|p| p.official != NONE);
            self.remember(id);
            // A citizen's reply to a tweet that is not a complaint is no error.
            if official {
                out.push(LatencyEvent::DataError {
                    kind: DataErrorKind::ReplyToUnknown,
                });
            }
        }
        if evicted > 0 {
            out.push(LatencyEvent::Evicted { count: evicted });
        }
        self.flush_overdue(out);
        self.shrink();
    }

    /// One entry per configured agency, in configuration order.
    pub fn agency_stats(&self, watermark_ms: i64) -> Vec<AgencyStats> {
        self.agencies
            .iter()
            .enumerate()
            .map(|(i, st)| {
                let q = st.hist.as_ref().and_then(LatencyHistogram::quantiles);
                let decided = st.answered + st.overdue + st.evicted_over_target;
                AgencyStats {
                    agency: AgencyId(i as u16),
                    complaints: st.complaints,
                    answered: st.answered,
                    open: st.open,
                    evicted: st.evicted,
                    oldest_open_seconds: self
                        .oldest_open(i)
                        .map(|created| watermark_ms.saturating_sub(created).max(0) as f64 / 1000.0),
                    responses: st.hist.as_ref().map_or(0, |h| h.hist.len()),
                    p50: q.map(|q| q.0),
                    p90: q.map(|q| q.1),
                    p99: q.map(|q| q.2),
                    max: q.map(|q| q.3),
                    within_target_ratio: (decided > 0)
                        .then(|| st.answered_within as f64 / decided as f64),
                    over_target: st.over_target,
                }
            })
            .collect()
    }

    /// p50, p90, p99 and max (seconds) of the answers `agency` gave to
    /// complaints whose first topic is `topic`.
    pub fn agency_topic_quantiles(
        &self,
        agency: AgencyId,
        topic: TopicId,
    ) -> Option<(f64, f64, f64, f64)> {
        self.topic_hists
            .get(&(agency.0, topic.0))
            .and_then(LatencyHistogram::quantiles)
    }

    /// The status of a complaint tracked now (within the horizon).
    pub fn status(&self, complaint_id: u64) -> Option<ComplaintStatus> {
        let s = self.complaints.get(&complaint_id)?;
        let closed = !s.is_open();
        let forwarded = s.flags & FORWARDED != 0;
        Some(ComplaintStatus {
            answered_at_ms: closed.then(|| s.created_at_ms + i64::from(s.answer_delta)),
            response_ms: closed.then_some(i64::from(s.answer_delta)),
            responder: closed.then_some(AgencyId(s.answered_by)),
            forwarded_at_ms: forwarded.then(|| s.created_at_ms + i64::from(s.forward_delta)),
        })
    }

    /// Ids of the answered complaints tracked now, ascending.
    pub fn answered_ids(&self) -> Vec<u64> {
        self.ids_where(|s| !s.is_open())
    }

    /// Ids of the open complaints tracked now (forwarded ones included), ascending.
    pub fn open_ids(&self) -> Vec<u64> {
        self.ids_where(Slot::is_open)
    }

    /// An estimate of the heap memory held, from the capacities of its
    /// collections.
    pub fn approx_bytes(&self) -> usize {
        let heap_entry = size_of::<Reverse<(i64, u64)>>();
        let agencies: usize = self
            .agencies
            .iter()
            .map(|a| {
                size_of::<AgencyState>()
                    + a.key.capacity()
                    + a.open_heap.capacity() * heap_entry
                    + a.hist.as_ref().map_or(0, LatencyHistogram::bytes)
            })
            .sum();
        let topic_hists: usize = self.topic_hists.values().map(LatencyHistogram::bytes).sum();
        let pending: usize = self.pending.values().map(|p| p.mentions.len() * size_of::<AgencyId>()).sum::<usize>()
            + self.pending_by_target.values().map(|v| v.capacity() * size_of::<u64>()).sum::<usize>()
            // A B-tree node holds up to 11 entries plus links; count about
            // two thirds full.
            + self.pending_by_time.len() * (size_of::<(i64, u64)>() * 3 / 2 + 8);
        size_of::<Tracker>()
            + agencies
            + map_bytes(&self.complaints)
            + self.deadlines.capacity() * heap_entry
            + map_bytes(&self.topic_hists)
            + topic_hists
            + map_bytes(&self.pending)
            + map_bytes(&self.pending_by_target)
            + pending
            + table_bytes(self.recent.capacity(), size_of::<u64>())
            + self.recent_order.capacity() * size_of::<u64>()
            + self.touched.capacity() * size_of::<usize>()
    }

    fn ids_where(&self, keep: impl Fn(&Slot) -> bool) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .complaints
            .iter()
            .filter(|(_, s)| keep(s))
            .map(|(id, _)| *id)
            .collect();
        ids.sort_unstable();
        ids
    }

    /// A configured agency's index; ids outside the configuration are
    /// treated as absent.
    fn agency_index(&self, id: Option<AgencyId>) -> Option<usize> {
        let i = usize::from(id?.0);
        (i < self.agencies.len()).then_some(i)
    }

    fn add_complaint(&mut self, r: &Record, out: &mut Vec<LatencyEvent>) {
        let responsible = self.agency_index(r.agency);
        let topic = r.topics.first().map_or(NONE, |t| t.0);
        self.complaints.insert(
            r.id,
            Slot {
                created_at_ms: r.created_at_ms,
                author: r.author as u32,
                answer_delta: 0,
                forward_delta: 0,
                responsible: responsible.map_or(NONE, |a| a as u16),
                topic,
                answered_by: NONE,
                forwarded_by: NONE,
                flags: 0,
            },
        );
        if let Some(a) = responsible {
            let st = &mut self.agencies[a];
            st.complaints += 1;
            st.open += 1;
            st.open_heap.push(Reverse((r.created_at_ms, r.id)));
        }
        // Replies that arrived first are applied as if they came after it.
        if let Some(ids) = self.pending_by_target.remove(&r.id) {
            let mut replies: Vec<(u64, PendingReply)> = ids
                .into_iter()
                .filter_map(|id| self.unpark(id).map(|p| (id, p)))
                .collect();
            replies.sort_by_key(|(id, p)| (p.created_at_ms, *id));
            for (id, p) in replies {
                self.remember(id);
                let reply = Reply {
                    created_at_ms: p.created_at_ms,
                    official: (p.official != NONE).then_some(usize::from(p.official)),
                    author: p.author,
                    mentions: &p.mentions,
                };
                self.apply_reply(r.id, &reply, out);
            }
        }
        let slot = self.complaints[&r.id];
        let target_deadline = r.created_at_ms.saturating_add(self.target_ms);
        if slot.is_open() && responsible.is_some() && target_deadline > self.watermark_ms {
            self.deadlines.push(Reverse((target_deadline, r.id)));
        } else {
            // Already past its target (a late arrival), or nothing to watch.
            self.pass_target(r.id, out);
            let horizon = r.created_at_ms.saturating_add(self.horizon_ms);
            self.deadlines.push(Reverse((horizon, r.id)));
        }
    }

    fn observe_reply(&mut self, r: &Record, out: &mut Vec<LatencyEvent>) {
        let official = self.agency_index(r.official_author);
        let known = |t: &u64| *t != r.id && self.complaints.contains_key(t);
        let target = r.reply_to.filter(known).or(r.conversation.filter(known));
        match (target, official) {
            (Some(complaint_id), _) => {
                self.remember(r.id);
                let reply = Reply {
                    created_at_ms: r.created_at_ms,
                    official,
                    author: r.author as u32,
                    mentions: &r.mentioned_agencies,
                };
                self.apply_reply(complaint_id, &reply, out);
            }
            // A reply whose complaint has not arrived (yet): official or
            // not, it waits in the bounded buffer.
            (None, official) => self.park(r, official, out),
        }
    }

    fn apply_reply(&mut self, complaint_id: u64, reply: &Reply<'_>, out: &mut Vec<LatencyEvent>) {
        let Some(slot) = self.complaints.get(&complaint_id).copied() else {
            return;
        };
        if reply.created_at_ms < slot.created_at_ms {
            out.push(LatencyEvent::DataError {
                kind: DataErrorKind::ReplyBeforeComplaint,
            });
            return;
        }
        let Some(responder) = reply.official else {
            let kind = if reply.author == slot.author {
                DataErrorKind::SelfReply
            } else {
                DataErrorKind::ReplyNotOfficial
            };
            out.push(LatencyEvent::DataError { kind });
            return;
        };
        let latency_ms = reply.created_at_ms - slot.created_at_ms;
        let governor = self.agencies[responder].governor;
        let forward = governor
            && slot.flags & FORWARDED == 0
            && slot.responsible != NONE
            && usize::from(slot.responsible) != responder
            && reply.mentions.iter().any(|m| m.0 == slot.responsible);
        if !slot.is_open() {
            // A forward that arrives after the answer it preceded is still
            // the first response; anything else after the answer changes nothing.
            if forward && latency_ms < i64::from(slot.answer_delta) {
                self.answer(complaint_id, slot, responder, latency_ms, true, out);
            }
            return;
        }
        if !forward && governor && slot.flags & FORWARDED != 0 {
            return;
        }
        self.answer(complaint_id, slot, responder, latency_ms, forward, out);
    }

    /// Records a forward or the closing answer of an open complaint.
    fn answer(
        &mut self,
        complaint_id: u64,
        slot: Slot,
        responder: usize,
        latency_ms: i64,
        forward: bool,
        out: &mut Vec<LatencyEvent>,
    ) {
        let delta = u32::try_from(latency_ms).unwrap_or(u32::MAX);
        let late = latency_ms > self.target_ms;
        let mut flags = slot.flags;
        if let Some(s) = self.complaints.get_mut(&complaint_id) {
            if forward {
                s.flags |= FORWARDED;
                s.forward_delta = delta;
                s.forwarded_by = responder as u16;
            } else {
                s.flags |= CLOSED;
                s.answer_delta = delta;
                s.answered_by = responder as u16;
                if late {
                    s.flags |= OVER_TARGET;
                }
            }
            flags = s.flags;
        }
        self.record_latency(responder, slot.topic, latency_ms);
        out.push(LatencyEvent::Answered {
            complaint_id,
            responder: AgencyId(responder as u16),
            responsible: some_id(slot.responsible).map(AgencyId),
            topic: some_id(slot.topic).map(TopicId),
            latency_ms,
            forward,
        });
        let Some(a) = some_id(slot.responsible).map(usize::from) else {
            return;
        };
        if forward {
            return;
        }
        let st = &mut self.agencies[a];
        st.answered += 1;
        st.open -= 1;
        if !late {
            st.answered_within += 1;
        }
        if slot.flags & OVER_TARGET == 0 && flags & OVER_TARGET != 0 {
            // Answered late before the watermark reached its target.
            st.over_target += 1;
            out.push(LatencyEvent::OverTarget {
                complaint_id,
                agency: AgencyId(a as u16),
            });
        }
        self.clean_open_heap(a);
        if slot.flags & OVER_TARGET != 0 {
            self.leave_group(a, out);
        }
    }

    fn record_latency(&mut self, responder: usize, topic: u16, latency_ms: i64) {
        let ms = latency_ms.max(0) as u64;
        let high = self.histogram_max_ms;
        let st = &mut self.agencies[responder];
        st.hist
            .get_or_insert_with(|| LatencyHistogram::new(high))
            .record(ms);
        if topic != NONE {
            self.topic_hists
                .entry((responder as u16, topic))
                .or_insert_with(|| LatencyHistogram::new(high))
                .record(ms);
        }
    }

    /// Handles a complaint's target deadline: an open routed complaint is
    /// counted over target and joins its agency's overdue group.
    fn pass_target(&mut self, complaint_id: u64, out: &mut Vec<LatencyEvent>) {
        let Some(s) = self.complaints.get_mut(&complaint_id) else {
            return;
        };
        s.flags |= TARGET_DONE;
        if !s.is_open() || s.flags & OVER_TARGET != 0 || s.responsible == NONE {
            return;
        }
        s.flags |= OVER_TARGET;
        let (a, created_at_ms) = (usize::from(s.responsible), s.created_at_ms);
        let target_ms = self.target_ms;
        let st = &mut self.agencies[a];
        st.over_target += 1;
        st.overdue += 1;
        let group = st.group.get_or_insert_with(|| Group {
            id: overdue_group_id(&st.key, created_at_ms),
            started_at_ms: created_at_ms.saturating_add(target_ms),
            first_created_at_ms: created_at_ms,
            peak: 0,
        });
        group.peak = group.peak.max(st.overdue);
        self.touch(a);
        out.push(LatencyEvent::OverTarget {
            complaint_id,
            agency: AgencyId(a as u16),
        });
    }

    /// An overdue complaint was answered or evicted.
    fn leave_group(&mut self, a: usize, out: &mut Vec<LatencyEvent>) {
        self.touch(a);
        let st = &mut self.agencies[a];
        st.overdue -= 1;
        if st.overdue > 0 {
            return;
        }
        let Some(group) = st.group.take() else {
            debug_assert!(false, "an overdue complaint always has a group");
            return;
        };
        let agency = AgencyId(a as u16);
        let resolved = |oldest_created_at_ms| LatencyEvent::Overdue {
            group_id: group.id,
            agency,
            count: 0,
            oldest_created_at_ms,
            started_at_ms: group.started_at_ms,
            resolved: true,
        };
        match st.emitted.take() {
            Some(e) => {
                debug_assert_eq!(e.id, group.id, "only the current group is ever emitted");
                out.push(resolved(e.oldest_created_at_ms));
            }
            None => {
                // It fired and resolved within one call: report both.
                out.push(LatencyEvent::Overdue {
                    group_id: group.id,
                    agency,
                    count: group.peak,
                    oldest_created_at_ms: group.first_created_at_ms,
                    started_at_ms: group.started_at_ms,
                    resolved: false,
                });
                out.push(resolved(group.first_created_at_ms));
            }
        }
    }

    fn touch(&mut self, a: usize) {
        if !self.agencies[a].touched {
            self.agencies[a].touched = true;
            self.touched.push(a);
        }
    }

    /// Emits one update per agency whose overdue group changed in this call.
    fn flush_overdue(&mut self, out: &mut Vec<LatencyEvent>) {
        for a in std::mem::take(&mut self.touched) {
            self.agencies[a].touched = false;
            let Some(group) = self.agencies[a].group else {
                continue;
            };
            // The overdue complaints are the oldest open ones (those whose
            // target the watermark passed), so the oldest open is overdue.
            let oldest_created_at_ms = self.oldest_open(a).unwrap_or(group.first_created_at_ms);
            let st = &mut self.agencies[a];
            let now = Emitted {
                id: group.id,
                count: st.overdue,
                oldest_created_at_ms,
            };
            if st.emitted != Some(now) {
                st.emitted = Some(now);
                out.push(LatencyEvent::Overdue {
                    group_id: group.id,
                    agency: AgencyId(a as u16),
                    count: now.count,
                    oldest_created_at_ms,
                    started_at_ms: group.started_at_ms,
                    resolved: false,
                });
            }
        }
    }

    fn oldest_open(&self, a: usize) -> Option<i64> {
        let live = |id: &u64| self.complaints.get(id).is_some_and(Slot::is_open);
        let heap = &self.agencies[a].open_heap;
        match heap.peek() {
            Some(Reverse((created, id))) if live(id) => Some(*created),
            None => None,
            // Not reached: the top is cleaned after every change.
            Some(_) => heap
                .iter()
                .filter(|Reverse((_, id))| live(id))
                .map(|Reverse((c, _))| *c)
                .min(),
        }
    }

    /// Drops answered and evicted complaints from the top of an agency's
    /// oldest-first heap, and compacts it when they pile up below.
    fn clean_open_heap(&mut self, a: usize) {
        let complaints = &self.complaints;
        let live = |id: &u64| complaints.get(id).is_some_and(Slot::is_open);
        let st = &mut self.agencies[a];
        while let Some(Reverse((_, id))) = st.open_heap.peek() {
            if live(id) {
                break;
            }
            st.open_heap.pop();
        }
        if st.open_heap.len() as u64 > 2 * st.open + 64 {
            st.open_heap.retain(|Reverse((_, id))| live(id));
        }
    }

    fn park(&mut self, r: &Record, official: Option<usize>, out: &mut Vec<LatencyEvent>) {
        if r.created_at_ms.saturating_add(self.horizon_ms) <= self.watermark_ms {
            self.remember(r.id);
            if official.is_some() {
                out.push(LatencyEvent::DataError {
                    kind: DataErrorKind::ReplyToUnknown,
                });
            }
            return;
        }
        let reply_to = r.reply_to.filter(|t| *t != r.id);
        let conversation = r
            .conversation
            .filter(|c| *c != r.id && Some(*c) != reply_to);
        let targets = [reply_to, conversation];
        for t in targets.into_iter().flatten() {
            self.pending_by_target.entry(t).or_default().push(r.id);
        }
        self.pending_by_time.insert((r.created_at_ms, r.id));
        let mentions = if official.is_some_and(|o| self.agencies[o].governor) {
            r.mentioned_agencies.clone().into_boxed_slice()
        } else {
            Box::default()
        };
        self.pending.insert(
            r.id,
            PendingReply {
                created_at_ms: r.created_at_ms,
                official: official.map_or(NONE, |o| o as u16),
                author: r.author as u32,
                targets,
                mentions,
            },
        );
        if self.pending.len() > self.pending_capacity {
            if let Some(&(_, oldest)) = self.pending_by_time.first() {
                let official = self.unpark(oldest).is_some_and(|p| p.official != NONE);
                self.remember(oldest);
                if official {
                    out.push(LatencyEvent::DataError {
                        kind: DataErrorKind::PendingOverflow,
                    });
                }
            }
        }
    }

    fn unpark(&mut self, id: u64) -> Option<PendingReply> {
        let p = self.pending.remove(&id)?;
        self.pending_by_time.remove(&(p.created_at_ms, id));
        for t in p.targets.into_iter().flatten() {
            if let Some(ids) = self.pending_by_target.get_mut(&t) {
                ids.retain(|x| *x != id);
                if ids.is_empty() {
                    self.pending_by_target.remove(&t);
                }
            }
        }
        Some(p)
    }

    /// Remembers a handled reply id, so a redelivery is ignored.
    fn remember(&mut self, id: u64) {
        if self.recent.insert(id) {
            self.recent_order.push_back(id);
            if self.recent_order.len() > RECENT_REPLIES {
                if let Some(old) = self.recent_order.pop_front() {
                    self.recent.remove(&old);
                }
            }
        }
    }

    /// Gives memory back after a burst (a flood day, a backfill) has passed.
    fn shrink(&mut self) {
        let n = self.complaints.len();
        if self.complaints.capacity() > 4 * n + 1024 {
            self.complaints.shrink_to(2 * n);
        }
        let n = self.deadlines.len();
        if self.deadlines.capacity() > 4 * n + 1024 {
            self.deadlines.shrink_to(2 * n);
        }
        for st in &mut self.agencies {
            let n = st.open_heap.len();
            if st.open_heap.capacity() > 4 * n + 1024 {
                st.open_heap.shrink_to(2 * n);
            }
        }
    }
}

#[cfg(test)]
mod tests {
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
        assert!(
            t.pending.is_empty() && t.pending_by_target.is_empty() && t.pending_by_time.is_empty()
        );
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
}
