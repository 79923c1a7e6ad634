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
//! The parts: [`matching`] of replies to complaints (forwards, out of order,
//! duplicates), [`overdue`] targets and groups, and the response-time
//! [`histogram`]s.
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

use crate::config::{AgencyDef, AgencyKind, LatencyConfig};
use crate::model::{stable_hash, AgencyId, Record, TopicId};

mod histogram;
mod matching;
mod overdue;
#[cfg(test)]
mod tests;

use histogram::LatencyHistogram;
use matching::{PendingReply, Reply};
use overdue::{Emitted, Group};

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
