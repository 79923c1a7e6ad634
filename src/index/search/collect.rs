//! Collectors: the best hits of a page after its cursor (top-k on a heap
//! per segment), facet counts by topic and region from the fast fields, and
//! counts per time bucket for the histogram.
//!
//! A request over the whole index takes its facets from a per-segment
//! cache: segments never change but for deletes, so a segment is counted
//! once per deletion state. The cache belongs to the index handle.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::Mutex;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::index::SegmentId;
use tantivy::{DateTime, DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use super::paging::After;
use super::{Facets, Filters, SearchError, Sort};
use crate::index::IndexHandle;

/// More than any index holds segments at once.
const MAX_CACHED_SEGMENTS: usize = 4096;

/// Facet counts of every live tweet, per segment: (segment, deleted docs) →
/// (live docs, their facets).
#[derive(Default)]
pub struct FacetCache(Mutex<HashMap<(SegmentId, u32), (u64, Facets)>>);

impl FacetCache {
    /// The number of live tweets and their facets.
    pub(super) fn all(&self, searcher: &tantivy::Searcher) -> tantivy::Result<(u64, Facets)> {
        let mut total = 0;
        let mut per_segment = Vec::new();
        for (ord, seg) in searcher.segment_readers().iter().enumerate() {
            let key = (seg.segment_id(), seg.num_deleted_docs());
            let cached = self
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&key)
                .cloned();
            let (n, facets) = match cached {
                Some(v) => v,
                None => {
                    let mut c = FacetCollector.for_segment(ord as u32, seg)?;
                    let alive = seg.alive_bitset();
                    let mut n = 0;
                    for doc in 0..seg.max_doc() {
                        if alive.is_none_or(|a| a.is_alive(doc)) {
                            c.collect(doc, 0.0);
                            n += 1;
                        }
                    }
                    let v = (n, c.harvest());
                    let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
                    if cache.len() >= MAX_CACHED_SEGMENTS {
                        cache.clear();
                    }
                    cache.insert(key, v.clone());
                    v
                }
            };
            total += n;
            per_segment.push(facets);
        }
        Ok((total, FacetCollector.merge_fruits(per_segment)?))
    }
}

/// One candidate hit of a page.
#[derive(Clone, Copy, Debug)]
pub struct PageEntry {
    pub score: Score,
    pub id: u64,
    pub addr: DocAddress,
}

impl PageEntry {
    /// The page order as a key: greater comes first.
    pub(super) fn key(&self, sort: Sort) -> (u32, u64) {
        match sort {
            Sort::Time => (0, self.id),
            // Order-preserving bits of a non-negative f32.
            Sort::Relevance => (self.score.max(0.0).to_bits(), self.id),
        }
    }
}

/// The best `limit` hits after the cursor, in one pass with the count and
/// the facets.
pub(super) struct PageCollector {
    pub(super) sort: Sort,
    pub(super) limit: usize,
    pub(super) after: After,
}

pub(super) struct PageSegment {
    ord: SegmentOrdinal,
    ids: Column<u64>,
    sort: Sort,
    limit: usize,
    after: After,
    /// The worst of the best `limit` at the top: (page key, doc).
    heap: BinaryHeap<Reverse<((u32, u64), DocId)>>,
}

impl Collector for PageCollector {
    type Fruit = Vec<PageEntry>;
    type Child = PageSegment;

    fn for_segment(
        &self,
        ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<PageSegment> {
        Ok(PageSegment {
            ord,
            ids: segment.fast_fields().u64("id")?,
            sort: self.sort,
            limit: self.limit,
            after: self.after,
            heap: BinaryHeap::with_capacity(self.limit + 1),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.sort == Sort::Relevance
    }

    fn merge_fruits(&self, fruits: Vec<Vec<PageEntry>>) -> tantivy::Result<Vec<PageEntry>> {
        let mut all: Vec<PageEntry> = fruits.into_iter().flatten().collect();
        all.sort_by_key(|e| Reverse(e.key(self.sort)));
        all.truncate(self.limit);
        Ok(all)
    }
}

impl SegmentCollector for PageSegment {
    type Fruit = Vec<PageEntry>;

    fn collect(&mut self, doc: DocId, score: Score) {
        let id = self.ids.first(doc).unwrap_or(0);
        let passes = match self.after {
            After::Start => true,
            After::Time { before_id } => id < before_id,
            After::Relevance {
                snapshot: _,
                score: s,
                id: last,
            } => score < s || (score == s && id < last),
        };
        if !passes {
            return;
        }
        let key = match self.sort {
            Sort::Time => (0, id),
            Sort::Relevance => (score.max(0.0).to_bits(), id),
        };
        if self.heap.len() == self.limit {
            match self.heap.peek() {
                Some(Reverse((worst, _))) if key <= *worst => return,
                _ => {}
            }
        }
        self.heap.push(Reverse((key, doc)));
        if self.heap.len() > self.limit {
            self.heap.pop();
        }
    }

    fn harvest(self) -> Vec<PageEntry> {
        let ord = self.ord;
        self.heap
            .into_iter()
            .map(|Reverse((key, doc))| PageEntry {
                score: if self.sort == Sort::Relevance {
                    f32::from_bits(key.0)
                } else {
                    0.0
                },
                id: key.1,
                addr: DocAddress::new(ord, doc),
            })
            .collect()
    }
}

/// Counts matches by topic and region from the fast fields.
pub struct FacetCollector;

pub struct FacetSegmentCollector {
    topic: Option<StrColumn>,
    topic_counts: Vec<u64>,
    region: Column<u64>,
    /// Indexed by region code: codes are small (u16), and a vector is much
    /// cheaper per document than a map.
    region_counts: Vec<u64>,
}

impl Collector for FacetCollector {
    type Fruit = Facets;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        let topic = segment.fast_fields().str("topic")?;
        let num_terms = topic.as_ref().map_or(0, |c| c.num_terms());
        let region = segment.fast_fields().u64("region")?;
        let num_regions = (region.max_value().min(u64::from(u16::MAX)) + 1) as usize;
        Ok(FacetSegmentCollector {
            topic,
            topic_counts: vec![0; num_terms],
            region,
            region_counts: vec![0; num_regions],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Facets>) -> tantivy::Result<Facets> {
        let mut out = Facets::default();
        for fr in fruits {
            for (k, v) in fr.topic {
                *out.topic.entry(k).or_default() += v;
            }
            for (k, v) in fr.region {
                *out.region.entry(k).or_default() += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = Facets;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(col) = &self.topic {
            for ord in col.term_ords(doc) {
                if let Some(c) = self.topic_counts.get_mut(ord as usize) {
                    *c += 1;
                }
            }
        }
        if let Some(r) = self.region.first(doc) {
            if let Some(c) = self.region_counts.get_mut(r as usize) {
                *c += 1;
            }
        }
    }

    fn harvest(self) -> Facets {
        let mut topic = BTreeMap::new();
        if let Some(col) = &self.topic {
            let mut s = String::new();
            for (ord, n) in self.topic_counts.iter().enumerate() {
                if *n > 0 && col.ord_to_str(ord as u64, &mut s).unwrap_or(false) {
                    topic.insert(s.clone(), *n);
                }
            }
        }
        let region = self
            .region_counts
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(code, n)| (code as u16, *n))
            .collect();
        Facets { topic, region }
    }
}

/// Counts of matches per time bucket.
pub struct HistogramCollector {
    pub from_ms: i64,
    pub interval_ms: i64,
    pub num_buckets: usize,
}

pub struct HistogramSegmentCollector {
    column: Column<DateTime>,
    from_ms: i64,
    interval_ms: i64,
    counts: Vec<u64>,
}

impl Collector for HistogramCollector {
    type Fruit = Vec<u64>;
    type Child = HistogramSegmentCollector;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<HistogramSegmentCollector> {
        Ok(HistogramSegmentCollector {
            column: segment.fast_fields().date("created_at")?,
            from_ms: self.from_ms,
            interval_ms: self.interval_ms,
            counts: vec![0; self.num_buckets],
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<u64>>) -> tantivy::Result<Vec<u64>> {
        let mut out = vec![0; self.num_buckets];
        for f in fruits {
            for (o, v) in out.iter_mut().zip(f) {
                *o += v;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for HistogramSegmentCollector {
    type Fruit = Vec<u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(t) = self.column.first(doc) {
            let ms = t.into_timestamp_millis();
            if ms >= self.from_ms {
                let i = ((ms - self.from_ms) / self.interval_ms) as usize;
                if let Some(c) = self.counts.get_mut(i) {
                    *c += 1;
                }
            }
        }
    }

    fn harvest(self) -> Vec<u64> {
        self.counts
    }
}

/// The most buckets a histogram may have.
pub const MAX_BUCKETS: i64 = 5000;

impl IndexHandle {
    /// The event-time range of the whole index, in ms, if it has documents.
    pub fn time_range(&self) -> Option<(i64, i64)> {
        let searcher = self.held_searcher();
        let mut range: Option<(i64, i64)> = None;
        for seg in searcher.segment_readers() {
            let Ok(col) = seg.fast_fields().date("created_at") else {
                continue;
            };
            if seg.num_docs() == 0 {
                continue;
            }
            let (lo, hi) = (
                col.min_value().into_timestamp_millis(),
                col.max_value().into_timestamp_millis(),
            );
            range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        range
    }

    /// Counts per bucket of `interval_ms` from `from_ms` to `to_ms`.
    pub fn histogram(
        &self,
        filters: &Filters,
        from_ms: i64,
        to_ms: i64,
        interval_ms: i64,
    ) -> Result<Vec<u64>, SearchError> {
        let num = ((to_ms - from_ms) / interval_ms + 1).clamp(1, MAX_BUCKETS) as usize;
        let searcher = self.held_searcher();
        let q = self.resolve(&searcher, filters)?.query;
        Ok(searcher.search(
            &*q,
            &HistogramCollector {
                from_ms,
                interval_ms,
                num_buckets: num,
            },
        )?)
    }
}
