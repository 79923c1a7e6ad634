//! Paging: where a page starts, as a cursor the client sends back, and the
//! index snapshots that relevance-sorted pages read.
//!
//! Time-sorted results page with a cursor holding the last tweet id (which
//! Twitter makes time-ordered), so pages stay stable while tweets arrive.
//! Relevance-sorted results page "search after" the last (score, id) in a
//! snapshot of the index taken at the first page (Elasticsearch's point in
//! time), so tweets that arrive, merges and retention never shift scores
//! under the cursor: no hit repeats and none is skipped. The snapshots
//! belong to the index handle (its clones share them), not to the process.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tantivy::query::{AllQuery, RangeQuery};
use tantivy::{Score, Term};

use super::collect::{PageCollector, PageEntry};
use super::{bad, SearchError, Sort};
use crate::index::IndexHandle;

/// How long a snapshot outlives its last page.
const KEEP_ALIVE: Duration = Duration::from_secs(600);
/// The most snapshots one index holds at once.
const MAX_SNAPSHOTS: usize = 16;

struct Snapshot {
    key: u64,
    generation: u64,
    last_used: Instant,
    /// Let go of in the background when the snapshot expires.
    searcher: crate::index::HeldSearcher,
}

/// Index snapshots that relevance-sorted cursors page through: a few, each
/// kept for a while after its last use. A snapshot is a tantivy `Searcher`,
/// which pins its segments.
#[derive(Default)]
pub struct Snapshots {
    list: Mutex<Vec<Snapshot>>,
    last_key: AtomicU64,
}

impl Snapshots {
    fn locked(&self) -> MutexGuard<'_, Vec<Snapshot>> {
        // The list is valid whatever a panicking holder left half-done.
        let mut list = self.list.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|s| s.last_used.elapsed() < KEEP_ALIVE);
        list
    }

    /// The snapshot `key`, if it is still kept.
    pub(super) fn get(&self, key: u64) -> Option<tantivy::Searcher> {
        let mut list = self.locked();
        let s = list.iter_mut().find(|s| s.key == key)?;
        s.last_used = Instant::now();
        Some(s.searcher.clone())
    }

    /// Keeps `searcher` as a snapshot (or finds it kept); its key.
    pub(super) fn pin(&self, searcher: &tantivy::Searcher) -> u64 {
        let generation = searcher.generation().generation_id();
        let mut list = self.locked();
        if let Some(s) = list.iter_mut().find(|s| s.generation == generation) {
            s.last_used = Instant::now();
            return s.key;
        }
        if list.len() >= MAX_SNAPSHOTS {
            if let Some(oldest) = list
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i)
            {
                list.swap_remove(oldest);
            }
        }
        let key = self.last_key.fetch_add(1, Ordering::Relaxed) + 1;
        list.push(Snapshot {
            key,
            generation,
            last_used: Instant::now(),
            searcher: crate::index::HeldSearcher::new(searcher.clone()),
        });
        key
    }
}

/// Where a page starts: after the last hit of the previous one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum After {
    Start,
    /// Time order: tweets with a smaller id.
    Time {
        before_id: u64,
    },
    /// Relevance order: below (score, id), in the index as `snapshot` saw it.
    Relevance {
        snapshot: u64,
        score: Score,
        id: u64,
    },
}

impl After {
    pub(super) fn parse(cursor: Option<&str>, sort: Sort) -> Result<After, SearchError> {
        let Some(c) = cursor.filter(|c| !c.is_empty()) else {
            return Ok(After::Start);
        };
        let parsed = match sort {
            Sort::Time => c
                .strip_prefix("t:")
                .and_then(|s| s.parse().ok())
                .map(|before_id| After::Time { before_id }),
            Sort::Relevance => c.strip_prefix("r:").and_then(|s| {
                let mut parts = s.split(':');
                let snapshot = parts.next()?.parse().ok()?;
                let score = Score::from_bits(u32::from_str_radix(parts.next()?, 16).ok()?);
                let id = parts.next()?.parse().ok()?;
                (parts.next().is_none() && score.is_finite()).then_some(After::Relevance {
                    snapshot,
                    score,
                    id,
                })
            }),
        };
        parsed.ok_or_else(|| {
            bad(format!(
                "`cursor` `{}` is not one this server gave out for a {}-sorted search; start again without `cursor`",
                c.chars().take(80).collect::<String>(),
                if sort == Sort::Time { "time" } else { "relevance" }
            ))
        })
    }
}

/// The cursor of the page after one that ended with `last`: a tweet id in
/// time order; in relevance order the snapshot the page read (pinned now
/// if it was the first page) and the last (score, id).
pub(super) fn next_cursor(
    h: &IndexHandle,
    sort: Sort,
    after: After,
    pinned: bool,
    searcher: &tantivy::Searcher,
    last: &PageEntry,
) -> String {
    match (sort, after) {
        (Sort::Time, _) => format!("t:{}", last.id),
        (Sort::Relevance, After::Relevance { snapshot, .. }) if pinned => {
            format!("r:{snapshot}:{:08x}:{}", last.score.to_bits(), last.id)
        }
        (Sort::Relevance, _) => format!(
            "r:{}:{:08x}:{}",
            h.snapshots.pin(searcher),
            last.score.to_bits(),
            last.id
        ),
    }
}

impl IndexHandle {
    /// The newest page of the whole index without reading every id: it
    /// looks in a window of the newest ids first and widens it sixteenfold
    /// until the page is full. Ids grow with time, so the window is a time
    /// window, and a page of the newest tweets reads only the newest ones.
    pub(super) fn newest(
        &self,
        searcher: &tantivy::Searcher,
        page: &PageCollector,
    ) -> Result<Vec<PageEntry>, SearchError> {
        let f = self.fields;
        let mut range: Option<(u64, u64)> = None;
        for seg in searcher.segment_readers() {
            if seg.num_docs() == 0 {
                continue;
            }
            let ids = seg.fast_fields().u64("id")?;
            let (lo, hi) = (ids.min_value(), ids.max_value());
            range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        let Some((lowest, highest)) = range else {
            return Ok(Vec::new());
        };
        let upper = match page.after {
            After::Time { before_id } => before_id.min(highest.saturating_add(1)),
            _ => highest.saturating_add(1),
        };
        let mut width = (upper.saturating_sub(lowest) / 4096).max(1);
        loop {
            let lower = upper.saturating_sub(width);
            if lower <= lowest {
                return Ok(searcher.search(&AllQuery, page)?);
            }
            let window = RangeQuery::new(
                Bound::Included(Term::from_field_u64(f.id, lower)),
                Bound::Excluded(Term::from_field_u64(f.id, upper)),
            );
            let top = searcher.search(&window, page)?;
            if top.len() >= page.limit {
                return Ok(top);
            }
            width = width.saturating_mul(16);
        }
    }
}
