//! Streaming export: every match of a search, segment by segment, in
//! constant memory, for `/api/search/export`.

use tantivy::query::EnableScoring;
use tantivy::{DocSet, TantivyDocument, TERMINATED};

use super::{Filters, Hit, SearchError};
use crate::index::IndexHandle;

impl IndexHandle {
    /// Calls `row` for every match, segment by segment, in constant memory.
    /// Stops early when `row` returns false (the client went away).
    pub fn for_each_match(
        &self,
        filters: &Filters,
        mut row: impl FnMut(Hit) -> bool,
    ) -> Result<u64, SearchError> {
        let searcher = self.reader.searcher();
        let q = self.resolve(&searcher, filters)?.query;
        let weight = q.weight(EnableScoring::disabled_from_searcher(&searcher))?;
        let mut n = 0;
        for seg in searcher.segment_readers() {
            let store = seg
                .get_store_reader(8)
                .map_err(|e| SearchError::Internal(e.into()))?;
            let alive = seg.alive_bitset();
            let mut scorer = weight.scorer(seg, 1.0)?;
            let mut doc = scorer.doc();
            while doc != TERMINATED {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    let d: TantivyDocument = store.get(doc)?;
                    let hit = self.hit_from_doc(&d);
                    n += 1;
                    if !row(hit) {
                        return Ok(n);
                    }
                }
                doc = scorer.advance();
            }
        }
        Ok(n)
    }
}
