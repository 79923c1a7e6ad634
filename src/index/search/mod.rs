//! Search over the index: a query string and structured filters in, a page
//! of hits with highlights, facets and the cursor to the next page out; and
//! histograms and streaming export over the same matches.
//!
//! The parts, each in its own module:
//! - [`query`]: the query language, its builder and its limits;
//! - [`highlight`]: marking what matched in a hit's text;
//! - [`collect`]: top-k pages, facets and histogram counts;
//! - [`paging`]: cursors, and the index snapshots relevance pages read;
//! - [`export`]: every match, in constant memory.
//!
//! When the text query finds nothing, it is retried once with every word
//! the index does not know made fuzzy (the edit distance grows with the
//! word, as Elasticsearch's `AUTO`), so that a misspelt `banjr` still finds
//! `banjir`; [`SearchResult::fuzzy`] says so.

mod collect;
mod export;
mod highlight;
mod paging;
mod query;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use tantivy::collector::Count;
use tantivy::query::Query;
use tantivy::schema::Value;
use tantivy::TantivyDocument;

use crate::index::{HeldSearcher, IndexHandle};
use collect::{FacetCollector, PageCollector};
use paging::After;
use query::matches_any;

pub use collect::{FacetCache, HistogramCollector, PageEntry, MAX_BUCKETS};
pub use highlight::Highlighter;
pub use paging::Snapshots;
pub use query::{MAX_CLAUSES, MAX_FUZZY_TERMS, MAX_NESTING, MAX_QUERY_BYTES, QUERY_FIELDS};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(e: tantivy::TantivyError) -> Self {
        SearchError::Internal(e.into())
    }
}

fn bad(msg: impl Into<String>) -> SearchError {
    SearchError::BadRequest(msg.into())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Time,
    Relevance,
}

/// Structured filters, already validated by the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    pub q: String,
    pub topic: Option<String>,
    pub region: Option<u16>,
    pub lang: Option<String>,
    pub agency: Option<String>,
    pub complaint: Option<bool>,
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// Restrict to these ids (used by the `status` filter).
    pub ids: Option<Vec<u64>>,
}

#[derive(Clone, Debug)]
pub struct Hit {
    pub id: u64,
    pub created_at_ms: i64,
    pub author: String,
    pub text: String,
    pub highlight: String,
    pub lang: String,
    pub topics: Vec<String>,
    pub region: u16,
    pub agency: Option<String>,
    pub is_complaint: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Facets {
    pub topic: BTreeMap<String, u64>,
    pub region: BTreeMap<u16, u64>,
}

#[derive(Clone, Debug)]
pub struct SearchResult {
    pub total: u64,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    pub next_cursor: Option<String>,
    /// The query found nothing as written, and these are the results of its
    /// fuzzy retry (every word within a small edit distance).
    pub fuzzy: bool,
}

/// A query and its filters, resolved against one searcher.
pub struct Resolved {
    pub query: Box<dyn Query>,
    pub highlighter: Highlighter,
    pub fuzzy: bool,
}

impl IndexHandle {
    /// The query for `filters` against `searcher`: as written, or its fuzzy
    /// retry when the query as written matches nothing.
    pub fn resolve(
        &self,
        searcher: &tantivy::Searcher,
        filters: &Filters,
    ) -> Result<Resolved, SearchError> {
        let exact = self.parse_text(&filters.q, None)?;
        let query = self.with_filters(exact.query, filters);
        if exact.num_plain_words == 0 || matches_any(searcher, &*query)? {
            return Ok(Resolved {
                query,
                highlighter: exact.highlighter,
                fuzzy: false,
            });
        }
        let loose = self.parse_text(&filters.q, Some(searcher))?;
        let loose_query = self.with_filters(loose.query, filters);
        if matches_any(searcher, &*loose_query)? {
            return Ok(Resolved {
                query: loose_query,
                highlighter: loose.highlighter,
                fuzzy: true,
            });
        }
        Ok(Resolved {
            query,
            highlighter: exact.highlighter,
            fuzzy: false,
        })
    }

    /// The query for `filters`: the parsed text query ANDed with every filter.
    pub fn build_query(&self, filters: &Filters) -> Result<Box<dyn Query>, SearchError> {
        Ok(self.resolve(&self.held_searcher(), filters)?.query)
    }

    pub fn search(
        &self,
        filters: &Filters,
        sort: Sort,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<SearchResult, SearchError> {
        let after = After::parse(cursor, sort)?;
        // A relevance-sorted page reads the snapshot its first page read, so
        // scores, and so the order, cannot shift under the cursor. A
        // snapshot that expired is replaced by the current index: the pages
        // go on, only no longer exactly.
        let pinned = match after {
            After::Relevance { snapshot, .. } => self.snapshots.get(snapshot),
            _ => None,
        };
        let searcher = HeldSearcher::new(pinned.clone().unwrap_or_else(|| self.reader.searcher()));
        let resolved = self.resolve(&searcher, filters)?;
        let page = PageCollector {
            sort,
            limit: limit + 1,
            after,
        };
        let unfiltered = filters.q.trim().is_empty()
            && filters.topic.is_none()
            && filters.region.is_none()
            && filters.lang.is_none()
            && filters.agency.is_none()
            && filters.complaint.is_none()
            && filters.from_ms.is_none()
            && filters.to_ms.is_none()
            && filters.ids.is_none();
        let (total, facets, top) = if unfiltered {
            // The page's first view counts the whole index: from per-segment
            // facets computed once per segment, not once per request.
            let (total, facets) = self.facet_cache.all(&searcher)?;
            let top = match sort {
                Sort::Time => self.newest(&searcher, &page)?,
                Sort::Relevance => searcher.search(&*resolved.query, &page)?,
            };
            (total as usize, facets, top)
        } else {
            searcher.search(&*resolved.query, &(Count, FacetCollector, page))?
        };
        let more = top.len() > limit;
        let mut next_cursor = None;
        if more {
            if let Some(last) = top.get(limit - 1) {
                next_cursor = Some(paging::next_cursor(
                    self,
                    sort,
                    after,
                    pinned.is_some(),
                    &searcher,
                    last,
                ));
            }
        }
        let mut hits = Vec::with_capacity(limit);
        for entry in top.into_iter().take(limit) {
            let doc: TantivyDocument = searcher.doc(entry.addr)?;
            let mut hit = self.hit_from_doc(&doc);
            hit.highlight = resolved.highlighter.html(&hit.text);
            hits.push(hit);
        }
        Ok(SearchResult {
            total: total as u64,
            hits,
            facets,
            next_cursor,
            fuzzy: resolved.fuzzy,
        })
    }
}

impl IndexHandle {
    /// A hit from a stored document (without highlight).
    pub fn hit_from_doc(&self, d: &TantivyDocument) -> Hit {
        let f = self.fields;
        let text = |field| {
            d.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string()
        };
        Hit {
            id: d.get_first(f.id).and_then(|v| v.as_u64()).unwrap_or(0),
            created_at_ms: d
                .get_first(f.created_at)
                .and_then(|v| v.as_datetime())
                .map_or(0, |d| d.into_timestamp_millis()),
            author: text(f.author),
            text: text(f.body),
            highlight: String::new(),
            lang: text(f.lang),
            topics: d
                .get_all(f.topic)
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            region: d.get_first(f.region).and_then(|v| v.as_u64()).unwrap_or(0) as u16,
            agency: d
                .get_first(f.agency)
                .and_then(|v| v.as_str())
                .map(String::from),
            is_complaint: d
                .get_first(f.is_complaint)
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }
    }
}
