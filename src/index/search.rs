//! Search over the index: query parsing, filters, facets, highlights, paging.
//!
//! A request is a Lucene-like query string plus structured filters. Filters
//! become term and range queries ANDed with the parsed query, so they never
//! depend on how the query string was written. Time-sorted results page with
//! a cursor (the last tweet id, which Twitter makes time-ordered), so pages
//! stay stable while tweets arrive; relevance-sorted results page by offset.

use std::collections::BTreeMap;
use std::ops::Bound;

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{
    AllQuery, BooleanQuery, Occur, Query, QueryParser, QueryParserError, RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DateTime, DocAddress, DocId, Order, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
};

use super::IndexHandle;

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
}

/// Fields a query string may name, with what they hold.
pub const QUERY_FIELDS: &[&str] = &["text", "author", "lang", "topic", "agency"];

fn explain(e: QueryParserError) -> String {
    match e {
        QueryParserError::FieldDoesNotExist(f) => format!(
            "unknown field `{f}`; a query may name {} (use the `region`, `from` and `to` parameters for the rest)",
            QUERY_FIELDS.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        ),
        QueryParserError::SyntaxError(s) => {
            format!("the query has a syntax error ({s}); check that quotes and parentheses are balanced")
        }
        QueryParserError::FieldNotIndexed(f) => format!("field `{f}` cannot be searched"),
        other => format!("the query cannot be understood: {other}"),
    }
}

impl IndexHandle {
    fn parse(&self, q: &str) -> Result<Box<dyn Query>, SearchError> {
        let f = self.fields;
        if q.trim().is_empty() || q.trim() == "*" {
            return Ok(Box::new(AllQuery));
        }
        let mut parser = QueryParser::for_index(&self.index, vec![f.text]);
        parser.set_conjunction_by_default();
        parser
            .parse_query(q)
            .map_err(|e| SearchError::BadRequest(explain(e)))
    }

    /// The query for `filters`: the parsed text query ANDed with every filter.
    pub fn build_query(&self, filters: &Filters) -> Result<Box<dyn Query>, SearchError> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, self.parse(&filters.q)?)];
        let term =
            |t: Term| -> Box<dyn Query> { Box::new(TermQuery::new(t, IndexRecordOption::Basic)) };
        if let Some(t) = &filters.topic {
            clauses.push((Occur::Must, term(Term::from_field_text(f.topic, t))));
        }
        if let Some(r) = filters.region {
            clauses.push((Occur::Must, term(Term::from_field_u64(f.region, r as u64))));
        }
        if let Some(l) = &filters.lang {
            clauses.push((Occur::Must, term(Term::from_field_text(f.lang, l))));
        }
        if let Some(a) = &filters.agency {
            clauses.push((Occur::Must, term(Term::from_field_text(f.agency, a))));
        }
        if let Some(c) = filters.complaint {
            clauses.push((Occur::Must, term(Term::from_field_bool(f.is_complaint, c))));
        }
        if filters.from_ms.is_some() || filters.to_ms.is_some() {
            let date =
                |ms: i64| Term::from_field_date(f.created_at, DateTime::from_timestamp_millis(ms));
            let lo = filters
                .from_ms
                .map_or(Bound::Unbounded, |ms| Bound::Included(date(ms)));
            let hi = filters
                .to_ms
                .map_or(Bound::Unbounded, |ms| Bound::Excluded(date(ms)));
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        if let Some(ids) = &filters.ids {
            let terms: Vec<Term> = ids
                .iter()
                .map(|id| Term::from_field_u64(f.id, *id))
                .collect();
            clauses.push((
                Occur::Must,
                Box::new(tantivy::query::TermSetQuery::new(terms)),
            ));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    pub fn search(
        &self,
        filters: &Filters,
        sort: Sort,
        limit: usize,
        cursor: Option<&str>,
    ) -> Result<SearchResult, SearchError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let base = self.build_query(filters)?;
        let (total, facets) = searcher.search(&*base, &(Count, FacetCollector))?;
        let mut next_cursor = None;
        let addresses: Vec<DocAddress> = match sort {
            Sort::Time => {
                let query: Box<dyn Query> = match cursor {
                    None => base.box_clone(),
                    Some(c) => {
                        let before: u64 = c
                            .strip_prefix("t:")
                            .and_then(|s| s.parse().ok())
                            .ok_or_else(|| SearchError::BadRequest(format!("`cursor` `{c}` is not one this server gave out for a time-sorted search")))?;
                        let range = RangeQuery::new(
                            Bound::Unbounded,
                            Bound::Excluded(Term::from_field_u64(f.id, before)),
                        );
                        Box::new(BooleanQuery::new(vec![
                            (Occur::Must, base.box_clone()),
                            (Occur::Must, Box::new(range)),
                        ]))
                    }
                };
                let top = searcher.search(
                    &*query,
                    &TopDocs::with_limit(limit + 1).order_by_fast_field::<u64>("id", Order::Desc),
                )?;
                let more = top.len() > limit;
                let page: Vec<(Option<u64>, DocAddress)> = top.into_iter().take(limit).collect();
                if more {
                    if let Some((Some(last), _)) = page.last() {
                        next_cursor = Some(format!("t:{last}"));
                    }
                }
                page.into_iter().map(|(_, a)| a).collect()
            }
            Sort::Relevance => {
                let offset: usize = match cursor {
                    None => 0,
                    Some(c) => c
                        .strip_prefix("o:")
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| SearchError::BadRequest(format!("`cursor` `{c}` is not one this server gave out for a relevance-sorted search")))?,
                };
                let top = searcher.search(
                    &*base,
                    &TopDocs::with_limit(limit + 1)
                        .and_offset(offset)
                        .order_by_score(),
                )?;
                if top.len() > limit {
                    next_cursor = Some(format!("o:{}", offset + limit));
                }
                top.into_iter().take(limit).map(|(_, a)| a).collect()
            }
        };
        let snippets = if filters.q.trim().is_empty() {
            None
        } else {
            SnippetGenerator::create(&searcher, &*base, f.text)
                .ok()
                .map(|mut g| {
                    g.set_max_num_chars(280);
                    g
                })
        };
        let mut hits = Vec::with_capacity(addresses.len());
        for addr in addresses {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text = doc
                .get_first(f.body)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let highlight = match &snippets {
                Some(g) => {
                    let s = g.snippet(text);
                    if s.highlighted().is_empty() {
                        html_escape(text)
                    } else {
                        s.to_html()
                    }
                }
                None => html_escape(text),
            };
            let mut hit = self.hit_from_doc(&doc);
            hit.highlight = highlight;
            hits.push(hit);
        }
        Ok(SearchResult {
            total: total as u64,
            hits,
            facets,
            next_cursor,
        })
    }
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Counts matches by topic and region from the fast fields.
pub struct FacetCollector;

pub struct FacetSegmentCollector {
    topic: Option<StrColumn>,
    topic_counts: Vec<u64>,
    region: Column<u64>,
    region_counts: BTreeMap<u16, u64>,
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
        Ok(FacetSegmentCollector {
            topic,
            topic_counts: vec![0; num_terms],
            region: segment.fast_fields().u64("region")?,
            region_counts: BTreeMap::new(),
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
                self.topic_counts[ord as usize] += 1;
            }
        }
        if let Some(r) = self.region.first(doc) {
            *self.region_counts.entry(r as u16).or_default() += 1;
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
        Facets {
            topic,
            region: self.region_counts,
        }
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
        let searcher = self.reader.searcher();
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
        let q = self.build_query(filters)?;
        Ok(self.reader.searcher().search(
            &*q,
            &HistogramCollector {
                from_ms,
                interval_ms,
                num_buckets: num,
            },
        )?)
    }

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

    /// Calls `row` for every match, segment by segment, in constant memory.
    /// Stops early when `row` returns false (the client went away).
    pub fn for_each_match(
        &self,
        filters: &Filters,
        mut row: impl FnMut(Hit) -> bool,
    ) -> Result<u64, SearchError> {
        use tantivy::query::EnableScoring;
        use tantivy::{DocSet, TERMINATED};
        let searcher = self.reader.searcher();
        let q = self.build_query(filters)?;
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
