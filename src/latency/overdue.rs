//! Targets and overdue groups.
//!
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

use super::*;

#[derive(Clone, Copy, Debug)]
pub(super) struct Group {
    pub(super) id: u64,
    pub(super) started_at_ms: i64,
    pub(super) first_created_at_ms: i64,
    pub(super) peak: u64,
}

/// What consumers last heard about an agency's overdue group.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Emitted {
    pub(super) id: u64,
    pub(super) count: u64,
    pub(super) oldest_created_at_ms: i64,
}

/// The stable id of an overdue episode.
pub(super) fn overdue_group_id(agency_key: &str, first_created_at_ms: i64) -> u64 {
    let mut bytes = Vec::with_capacity(agency_key.len() + 17);
    bytes.extend_from_slice(b"overdue\0");
    bytes.extend_from_slice(agency_key.as_bytes());
    bytes.push(0);
    bytes.extend_from_slice(&first_created_at_ms.to_be_bytes());
    stable_hash(&bytes)
}

impl Tracker {
    /// Handles a complaint's target deadline: an open routed complaint is
    /// counted over target and joins its agency's overdue group.
    pub(super) fn pass_target(&mut self, complaint_id: u64, out: &mut Vec<LatencyEvent>) {
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
    pub(super) fn leave_group(&mut self, a: usize, out: &mut Vec<LatencyEvent>) {
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

    pub(super) fn touch(&mut self, a: usize) {
        if !self.agencies[a].touched {
            self.agencies[a].touched = true;
            self.touched.push(a);
        }
    }

    /// Emits one update per agency whose overdue group changed in this call.
    pub(super) fn flush_overdue(&mut self, out: &mut Vec<LatencyEvent>) {
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

    pub(super) fn oldest_open(&self, a: usize) -> Option<i64> {
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
    pub(super) fn clean_open_heap(&mut self, a: usize) {
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
}
