//! Matching official replies to the complaints they answer.
//!
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

use super::*;

/// An official reply waiting for its complaint.
#[derive(Debug)]
pub(super) struct PendingReply {
    pub(super) created_at_ms: i64,
    /// The agency, or `NONE` for a citizen's reply (kept so that a reply
    /// from a non-official account is counted whatever the arrival order).
    pub(super) official: u16,
    /// The low half of the author hash, to tell self-replies.
    pub(super) author: u32,
    pub(super) targets: [Option<u64>; 2],
    /// Only kept for governor replies, the only ones that can forward.
    pub(super) mentions: Box<[AgencyId]>,
}

/// The parts of a reply that matching needs, live or from the buffer.
pub(super) struct Reply<'a> {
    pub(super) created_at_ms: i64,
    pub(super) official: Option<usize>,
    pub(super) author: u32,
    pub(super) mentions: &'a [AgencyId],
}

impl Tracker {
    pub(super) fn observe_reply(&mut self, r: &Record, out: &mut Vec<LatencyEvent>) {
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

    pub(super) fn apply_reply(
        &mut self,
        complaint_id: u64,
        reply: &Reply<'_>,
        out: &mut Vec<LatencyEvent>,
    ) {
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
    pub(super) fn answer(
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

    pub(super) fn record_latency(&mut self, responder: usize, topic: u16, latency_ms: i64) {
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

    pub(super) fn park(
        &mut self,
        r: &Record,
        official: Option<usize>,
        out: &mut Vec<LatencyEvent>,
    ) {
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

    pub(super) fn unpark(&mut self, id: u64) -> Option<PendingReply> {
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
    pub(super) fn remember(&mut self, id: u64) {
        if self.recent.insert(id) {
            self.recent_order.push_back(id);
            if self.recent_order.len() > RECENT_REPLIES {
                if let Some(old) = self.recent_order.pop_front() {
                    self.recent.remove(&old);
                }
            }
        }
    }
}
