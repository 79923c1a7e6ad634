//! Search over the index: the query language, filters, facets, highlights,
//! paging, histograms and streaming export.
//!
//! A request is a Lucene-like query string plus structured filters. The
//! string is parsed by tantivy's own grammar into an AST, and this module
//! turns the AST into queries itself, because kemala's fields want more
//! than tantivy's `QueryParser` gives:
//! - a bare word is analysed like the tweets (slang, stemming, Javanese
//!   folds) and matches `text`, with a bonus when the surface form itself is
//!   in `text_exact`: `kebanjiran` finds `banjir` and ranks `kebanjiran` first;
//! - a quoted phrase matches `text_exact`, the words as written (any case):
//!   `"jalan rusak"` does not match `jalan-jalan ... rusak`; `text:"..."`
//!   asks for the analysed phrase instead;
//! - `word~1` is fuzzy (Lucene's edit distance), `"a b"~2` a proximity
//!   phrase, `word*` a prefix of the surface form, `/regex/` a regular
//!   expression over surface forms;
//! - `topic:`, `region:`, `lang:`, `agency:` are checked against the
//!   configuration, so a typo is a 400 that lists the valid values rather
//!   than an empty result; `created_at:[2026-02-18 TO 2026-03-19]` is a
//!   range of days (both ends included).
//!
//! Filters become term and range queries ANDed with the parsed query, so
//! they never depend on how the query string was written. When the text
//! query finds nothing, it is retried once with every word fuzzy (the edit
//! distance grows with the word, as Elasticsearch's `AUTO`), so that a
//! misspelt `banjr` still finds `banjir`; [`SearchResult::fuzzy`] says so.
//!
//! No query string can cost more than a bounded amount of work or stack:
//! its length, parenthesis depth, number of clauses and of fuzzy terms are
//! capped before and after parsing, each with a 400 that says the limit.
//!
//! Time-sorted results page with a cursor holding the last tweet id (which
//! Twitter makes time-ordered), so pages stay stable while tweets arrive.
//! Relevance-sorted results page "search after" the last (score, id) in a
//! snapshot of the index taken at the first page (Elasticsearch's point in
//! time), so tweets that arrive, merges and retention never shift scores
//! under the cursor: no hit repeats and none is skipped.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashSet};
use std::ops::Bound;

use tantivy::collector::{Collector, Count, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, EnableScoring, ExistsQuery, FuzzyTermQuery,
    Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputBound, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{
    DateTime, DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TantivyDocument,
    Term, TERMINATED,
};

use super::IndexHandle;
use crate::text::{analyzer, exact_tokens, Token, TokenKind};

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

/// Fields a query string may name, with what they hold.
pub const QUERY_FIELDS: &[&str] = &[
    "text",
    "exact",
    "author",
    "lang",
    "topic",
    "region",
    "agency",
    "hashtag",
    "mention",
    "complaint",
    "created_at",
    "id",
];

/// The longest query string accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 2000;
/// The deepest nesting of parentheses accepted.
pub const MAX_NESTING: usize = 16;
/// The most words, phrases and field clauses in one query.
pub const MAX_CLAUSES: usize = 64;
/// The most fuzzy terms (`~`) in one query; each builds an automaton.
pub const MAX_FUZZY_TERMS: usize = 8;
/// Words longer than this are never fuzzy: their automata grow large, and
/// a long word is rarely misspelt into another long word.
const MAX_FUZZY_CHARS: usize = 30;
const DAY_MS: i64 = 86_400_000;

/// What a query matched, to mark in the hit's text.
#[derive(Clone, Debug, Default)]
pub struct Highlighter {
    /// Analysed terms (the `text` field).
    terms: HashSet<String>,
    /// Lowercased surface forms (the `text_exact` field).
    exact: HashSet<String>,
    /// Prefixes of surface forms.
    prefixes: Vec<String>,
    /// (analysed term, its edit distance, surface form, its edit distance).
    fuzzy: Vec<(String, u8, String, u8)>,
}

impl Highlighter {
    fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.exact.is_empty()
            && self.prefixes.is_empty()
            && self.fuzzy.is_empty()
    }

    fn matches(&self, t: &Token) -> bool {
        self.terms.contains(&t.term)
            || self.exact.contains(&t.raw)
            || self.prefixes.iter().any(|p| t.raw.starts_with(p.as_str()))
            || self.fuzzy.iter().any(|(term, dt, raw, dr)| {
                within_distance(&t.term, term, *dt) || within_distance(&t.raw, raw, *dr)
            })
    }

    /// `text`, HTML-escaped, with every matched word in `<b>`.
    pub fn html(&self, text: &str) -> String {
        if self.is_empty() {
            return html_escape(text);
        }
        let mut toks = Vec::new();
        analyzer().analyse(text, &mut toks);
        let mut ranges: Vec<(usize, usize)> = toks
            .iter()
            .filter(|t| self.matches(t))
            .map(|t| (t.from, t.to))
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (from, to) in ranges {
            match merged.last_mut() {
                Some(last) if from <= last.1 => last.1 = last.1.max(to),
                _ => merged.push((from, to)),
            }
        }
        let mut out = String::with_capacity(text.len() + merged.len() * 7);
        let mut at = 0;
        for (from, to) in merged {
            // Offsets come from the analyzer, on char boundaries of `text`.
            let (Some(before), Some(word)) = (text.get(at..from), text.get(from..to)) else {
                continue;
            };
            out.push_str(&html_escape(before));
            out.push_str("<b>");
            out.push_str(&html_escape(word));
            out.push_str("</b>");
            at = to;
        }
        out.push_str(&html_escape(text.get(at..).unwrap_or_default()));
        out
    }
}

/// Whether `a` and `b` are within `max` edits (insert, delete, substitute,
/// or swap two neighbours), as tantivy's fuzzy query counts them.
fn within_distance(a: &str, b: &str, max: u8) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let max = max as usize;
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    // Optimal string alignment distance, three rows.
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= max
}

/// The edit distance a fuzzy retry allows a word of `n` characters.
fn auto_distance(n: usize) -> u8 {
    match n {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    }
}

/// Rejects query strings that are too long, too deeply nested or
/// unbalanced, before the grammar (which recurses) sees them.
fn precheck(q: &str) -> Result<(), SearchError> {
    if q.len() > MAX_QUERY_BYTES {
        return Err(bad(format!(
            "the query is {} bytes long; shorten it to at most {MAX_QUERY_BYTES} (use the `topic`, `region`, `from` and `to` parameters for filters)",
            q.len()
        )));
    }
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut in_quotes = false;
    let mut escaped = false;
    for c in q.chars() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '"' => in_quotes = !in_quotes,
            '(' if !in_quotes => {
                depth += 1;
                max_depth = max_depth.max(depth);
            }
            ')' if !in_quotes => {
                if depth == 0 {
                    return Err(bad(
                        "unbalanced parentheses: the query closes a `)` it never opened; remove it or add the `(`",
                    ));
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    if in_quotes {
        return Err(bad(
            "unbalanced quotes: the query opens a `\"` it never closes; close the phrase or remove the quote",
        ));
    }
    if depth > 0 {
        return Err(bad(
            "unbalanced parentheses: the query opens a `(` it never closes; add the `)`",
        ));
    }
    if max_depth > MAX_NESTING {
        return Err(bad(format!(
            "the query nests parentheses {max_depth} deep; at most {MAX_NESTING} levels are allowed"
        )));
    }
    Ok(())
}

/// A parsed text query, with what to highlight.
struct Parsed {
    query: Box<dyn Query>,
    highlighter: Highlighter,
    /// Bare words that a fuzzy retry could loosen.
    num_plain_words: usize,
}

/// Turns the grammar's AST into queries over kemala's fields.
struct Builder<'a> {
    handle: &'a IndexHandle,
    /// Every bare word the index does not know made fuzzy: the retry when
    /// the query as written found nothing.
    auto_fuzzy: Option<&'a tantivy::Searcher>,
    highlighter: Highlighter,
    num_clauses: usize,
    num_fuzzy: usize,
    num_plain_words: usize,
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

fn filter_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

/// The ms of a `created_at` value: a day (`2026-01-31`, UTC midnight) or
/// an RFC 3339 time; and whether it was a whole day.
fn parse_instant(v: &str) -> Option<(i64, bool)> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return Some((t.timestamp_millis(), false));
    }
    let d = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok()?;
    Some((d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(), true))
}

fn date_term(field: Field, ms: i64) -> Term {
    Term::from_field_date(field, DateTime::from_timestamp_millis(ms))
}

impl Builder<'_> {
    fn count_clause(&mut self) -> Result<(), SearchError> {
        self.num_clauses += 1;
        if self.num_clauses > MAX_CLAUSES {
            return Err(bad(format!(
                "the query has more than {MAX_CLAUSES} words and clauses; split it, or use the filters"
            )));
        }
        Ok(())
    }

    /// The query for one AST node; `None` when it says nothing searchable
    /// (a word of punctuation only), so that it drops out of its clause.
    fn build(
        &mut self,
        ast: &UserInputAst,
        negated: bool,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        match ast {
            UserInputAst::Clause(clauses) => {
                let mut subs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (occur, sub) in clauses {
                    let occur = occur.unwrap_or(Occur::Must);
                    if let Some(q) = self.build(sub, negated ^ (occur == Occur::MustNot))? {
                        subs.push((occur, q));
                    }
                }
                if subs.is_empty() {
                    return Ok(None);
                }
                // `-rob` alone means everything but rob, as in Kibana.
                if subs.iter().all(|(o, _)| *o == Occur::MustNot) {
                    subs.push((Occur::Must, Box::new(AllQuery)));
                }
                if subs.len() == 1 && subs[0].0 != Occur::MustNot {
                    return Ok(subs.pop().map(|(_, q)| q));
                }
                Ok(Some(Box::new(BooleanQuery::new(subs))))
            }
            UserInputAst::Boost(sub, boost) => {
                let boost = boost.into_inner();
                if !(boost.is_finite() && (0.0..=1000.0).contains(&boost)) {
                    return Err(bad(format!(
                        "boost `^{boost}` is out of range; use a number from 0 to 1000"
                    )));
                }
                Ok(self
                    .build(sub, negated)?
                    .map(|q| Box::new(BoostQuery::new(q, boost as Score)) as Box<dyn Query>))
            }
            UserInputAst::Leaf(leaf) => {
                self.count_clause()?;
                self.leaf(leaf, negated)
            }
        }
    }

    fn leaf(
        &mut self,
        leaf: &UserInputLeaf,
        negated: bool,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        let f = self.handle.fields;
        match leaf {
            UserInputLeaf::All => Ok(Some(Box::new(AllQuery))),
            UserInputLeaf::Literal(lit) => {
                let field = lit.field_name.as_deref();
                let quoted = lit.delimiter != Delimiter::None;
                match field {
                    None if quoted => self.exact_phrase(&lit.phrase, lit.slop, lit.prefix, negated),
                    Some("exact") => self.exact_phrase(&lit.phrase, lit.slop, lit.prefix, negated),
                    None | Some("text") => {
                        self.text(&lit.phrase, quoted, lit.slop, lit.prefix, negated)
                    }
                    Some(name) => {
                        if lit.prefix || lit.slop > 0 {
                            return Err(bad(format!(
                                "`{name}:` takes a whole value; `*` and `~` work on words of the text only"
                            )));
                        }
                        self.field_value(name, &lit.phrase).map(Some)
                    }
                }
            }
            UserInputLeaf::Range {
                field,
                lower,
                upper,
            } => self.range(field.as_deref(), lower, upper).map(Some),
            UserInputLeaf::Set { field, elements } => {
                let Some(name) = field.as_deref() else {
                    return Err(bad(
                        "`IN [...]` needs a field, e.g. `topic: IN [flood landslide]`",
                    ));
                };
                let mut subs: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for e in elements {
                    self.count_clause()?;
                    subs.push((Occur::Should, self.field_value(name, e)?));
                }
                if subs.is_empty() {
                    return Ok(Some(Box::new(EmptyQuery)));
                }
                Ok(Some(Box::new(BooleanQuery::new(subs))))
            }
            UserInputLeaf::Exists { field } => match field.as_str() {
                "agency" | "topic" => Ok(Some(Box::new(ExistsQuery::new(field.clone(), false)))),
                "text" | "exact" | "author" | "lang" | "region" | "created_at" | "id"
                | "complaint" => Ok(Some(Box::new(AllQuery))),
                other => Err(self.unknown_field(other)),
            },
            UserInputLeaf::Regex { field, pattern } => {
                match field.as_deref() {
                    None | Some("text") | Some("exact") => {}
                    Some(other) => {
                        return Err(bad(format!(
                            "a regular expression searches the text only, not `{other}:`"
                        )))
                    }
                }
                if pattern.len() > 100 {
                    return Err(bad(
                        "the regular expression is longer than 100 characters; shorten it",
                    ));
                }
                let pattern = pattern.to_lowercase();
                let q = RegexQuery::from_pattern(&pattern, f.text_exact).map_err(|e| {
                    bad(format!(
                        "`/{pattern}/` is not a regular expression kemala can run: {e}"
                    ))
                })?;
                Ok(Some(Box::new(q)))
            }
        }
    }

    fn unknown_field(&self, name: &str) -> SearchError {
        bad(format!(
            "unknown field `{name}`; a query may name {} (the `region`, `from` and `to` parameters filter too)",
            QUERY_FIELDS
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// A quoted phrase: the surface forms as written, in order.
    fn exact_phrase(
        &mut self,
        phrase: &str,
        slop: u32,
        prefix: bool,
        negated: bool,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        let f = self.handle.fields;
        let mut toks = Vec::new();
        analyzer().analyse(phrase, &mut toks);
        let toks = exact_tokens(&toks);
        if !negated {
            self.highlighter
                .exact
                .extend(toks.iter().map(|t| t.raw.clone()));
        }
        let terms: Vec<(usize, Term)> = toks
            .iter()
            .map(|t| (t.position, Term::from_field_text(f.text_exact, &t.raw)))
            .collect();
        Ok(match terms.len() {
            0 => None,
            1 if prefix => Some(self.surface_prefix(&toks[0].raw, negated)?),
            1 => Some(term_query(terms[0].1.clone())),
            _ if prefix => Some(Box::new(PhrasePrefixQuery::new_with_offset(terms))),
            _ => Some(Box::new(PhraseQuery::new_with_offset_and_slop(
                terms,
                slop.min(100),
            ))),
        })
    }

    /// A wildcard over surface forms: `banj*`, `ban?ir`, `*jir`.
    fn surface_wildcard(
        &mut self,
        pattern: &str,
        negated: bool,
    ) -> Result<Box<dyn Query>, SearchError> {
        let pattern = pattern.to_lowercase();
        if let Some(prefix) = pattern.strip_suffix('*') {
            if !prefix.contains(['*', '?']) {
                return self.surface_prefix(prefix, negated);
            }
        }
        if pattern.chars().filter(|c| !matches!(c, '*' | '?')).count() < 2 {
            return Err(bad(format!(
                "`{pattern}` has too few letters for a wildcard; give at least two"
            )));
        }
        let regex: String = pattern
            .chars()
            .map(|c| match c {
                '*' => ".*".to_string(),
                '?' => ".".to_string(),
                c => regex_escape(&c.to_string()),
            })
            .collect();
        self.surface_regex(&regex, &pattern)
    }

    /// A regular expression over surface forms; `shown` is what the user wrote.
    fn surface_regex(&self, regex: &str, shown: &str) -> Result<Box<dyn Query>, SearchError> {
        let q = RegexQuery::from_pattern(regex, self.handle.fields.text_exact)
            .map_err(|e| bad(format!("`{shown}` cannot be searched: {e}")))?;
        Ok(Box::new(q))
    }

    /// A prefix of a surface form (`banj*`).
    fn surface_prefix(
        &mut self,
        prefix: &str,
        negated: bool,
    ) -> Result<Box<dyn Query>, SearchError> {
        let prefix = prefix.to_lowercase();
        if prefix.chars().count() < 2 {
            return Err(bad(format!(
                "`{prefix}*` is too short a prefix; give at least two letters"
            )));
        }
        if !negated {
            self.highlighter.prefixes.push(prefix.clone());
        }
        self.surface_regex(
            &format!("{}.*", regex_escape(&prefix)),
            &format!("{prefix}*"),
        )
    }

    /// Free text: analysed words, an analysed phrase (`text:"..."`), a
    /// fuzzy word (`banjr~1`) or a prefix (`banj*`).
    fn text(
        &mut self,
        phrase: &str,
        quoted: bool,
        slop: u32,
        prefix: bool,
        negated: bool,
    ) -> Result<Option<Box<dyn Query>>, SearchError> {
        let f = self.handle.fields;
        let mut slop = slop;
        let mut phrase = phrase;
        if !quoted {
            // The grammar keeps `*` and `~` in bare words: banj*, banjr~1.
            if let Some((word, n)) = phrase.rsplit_once('~') {
                if !word.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
                    // Lucene's `word~` means two edits.
                    slop = if n.is_empty() {
                        2
                    } else {
                        n.parse().unwrap_or(u32::MAX)
                    };
                    phrase = word;
                }
            }
            if prefix || phrase.contains(['*', '?']) {
                return self.surface_wildcard(phrase, negated).map(Some);
            }
        }
        let mut toks = Vec::new();
        analyzer().analyse(phrase, &mut toks);
        if toks.is_empty() {
            return Ok(None);
        }
        // A tag or a mention stands for itself (#BanjirDemak, not its words).
        if matches!(toks[0].kind, TokenKind::Hashtag | TokenKind::Mention) && !quoted {
            let (tag, tag_end) = (toks[0].term.clone(), toks[0].to);
            toks.retain(|t| t.kind == TokenKind::Word && t.from >= tag_end);
            let mut subs: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Must, term_query(Term::from_field_text(f.text, &tag)))];
            if !negated {
                self.highlighter.terms.insert(tag);
            }
            for t in &toks {
                subs.push((Occur::Must, self.word(t, 0, negated)?));
            }
            return Ok(Some(if subs.len() == 1 {
                subs.pop()
                    .map(|(_, q)| q)
                    .unwrap_or_else(|| Box::new(EmptyQuery))
            } else {
                Box::new(BooleanQuery::new(subs))
            }));
        }
        let fuzzy = if quoted { 0 } else { slop };
        if fuzzy > 2 {
            return Err(bad(format!(
                "`{phrase}~{fuzzy}` asks for {fuzzy} edits; fuzzy search allows `~1` or `~2`"
            )));
        }
        if toks.len() == 1 {
            return self.word(&toks[0], fuzzy as u8, negated).map(Some);
        }
        if fuzzy > 0 {
            // A word that analyses into several (e-ktp~1): each one fuzzy.
            let mut subs = Vec::with_capacity(toks.len());
            for t in &toks {
                subs.push((Occur::Must, self.word(t, fuzzy as u8, negated)?));
            }
            return Ok(Some(Box::new(BooleanQuery::new(subs))));
        }
        // Slang expansions (matlam: mati lampu), hyphenated words and
        // `text:"..."` are analysed phrases.
        if !negated {
            self.highlighter
                .terms
                .extend(toks.iter().map(|t| t.term.clone()));
        }
        if !quoted {
            self.num_plain_words += 1;
        }
        let first = toks[0].position;
        let terms: Vec<(usize, Term)> = toks
            .iter()
            .map(|t| (t.position - first, Term::from_field_text(f.text, &t.term)))
            .collect();
        if terms.iter().all(|(_, t)| *t == terms[0].1) && terms.len() > 1 && !quoted {
            return Ok(Some(term_query(terms[0].1.clone())));
        }
        Ok(Some(Box::new(PhraseQuery::new_with_offset_and_slop(
            terms,
            if quoted { slop.min(100) } else { 0 },
        ))))
    }

    /// One analysed word: its term in `text`, plus a bonus for its surface
    /// form in `text_exact`; or both fuzzy.
    fn word(&mut self, t: &Token, fuzzy: u8, negated: bool) -> Result<Box<dyn Query>, SearchError> {
        let f = self.handle.fields;
        let chars = t.raw.chars().count();
        let distance = match self.auto_fuzzy {
            _ if fuzzy > 0 => fuzzy,
            // Only the words the index has never seen are loosened: in
            // `banjr kemiren` the place stays exact.
            Some(searcher) if !known(searcher, f, t)? => auto_distance(chars),
            _ => 0,
        };
        if fuzzy == 0 {
            self.num_plain_words += 1;
        }
        if distance > 0 && chars <= MAX_FUZZY_CHARS {
            self.num_fuzzy += 1;
            if self.num_fuzzy > MAX_FUZZY_TERMS {
                return Err(bad(format!(
                    "the query has more than {MAX_FUZZY_TERMS} fuzzy words; make some of them exact"
                )));
            }
            // A stem is shorter than its word (kemirne: mirne), so it gets
            // the distance its own length allows: mirne~2 would find min.
            let term_distance = distance.min(auto_distance(t.term.chars().count()));
            if !negated {
                self.highlighter.fuzzy.push((
                    t.term.clone(),
                    term_distance,
                    t.raw.clone(),
                    distance,
                ));
            }
            let fuzzy = |field: Field, text: &str, distance: u8| -> Box<dyn Query> {
                let term = Term::from_field_text(field, text);
                if distance == 0 {
                    return term_query(term);
                }
                Box::new(FuzzyTermQuery::new(term, distance, true))
            };
            return Ok(Box::new(BooleanQuery::new(vec![
                (Occur::Should, fuzzy(f.text, &t.term, term_distance)),
                (Occur::Should, fuzzy(f.text_exact, &t.raw, distance)),
            ])));
        }
        if !negated {
            self.highlighter.terms.insert(t.term.clone());
            self.highlighter.exact.insert(t.raw.clone());
        }
        let analysed = term_query(Term::from_field_text(f.text, &t.term));
        if t.raw == t.term {
            return Ok(analysed);
        }
        Ok(Box::new(BooleanQuery::new(vec![
            (Occur::Must, analysed),
            (
                Occur::Should,
                term_query(Term::from_field_text(f.text_exact, &t.raw)),
            ),
        ])))
    }

    /// `name:value` for a structured field.
    fn field_value(&mut self, name: &str, value: &str) -> Result<Box<dyn Query>, SearchError> {
        let h = self.handle;
        let f = h.fields;
        let v = value.trim();
        match name {
            "author" | "user" => Ok(filter_query(Term::from_field_text(
                f.author,
                &v.trim_start_matches('@').to_lowercase(),
            ))),
            "lang" => match crate::enrich::lang::Lang::from_code(v) {
                Some(l) => Ok(filter_query(Term::from_field_text(f.lang, l.code()))),
                None => Err(bad(format!(
                    "unknown language `{v}` in `lang:`; use id, jv, en, su, ms or und"
                ))),
            },
            "topic" => {
                if h.topic_ids.iter().any(|t| t == v) {
                    Ok(filter_query(Term::from_field_text(f.topic, v)))
                } else {
                    Err(bad(format!(
                        "unknown topic `{v}` in `topic:`; topics are {}",
                        h.topic_ids.join(", ")
                    )))
                }
            }
            "agency" => {
                if h.agency_ids.iter().any(|a| a == v) {
                    Ok(filter_query(Term::from_field_text(f.agency, v)))
                } else {
                    Err(bad(format!(
                        "unknown agency `{v}` in `agency:`; see /api/agencies for the ids"
                    )))
                }
            }
            "region" => {
                let code = h.region_code(v)?;
                Ok(filter_query(Term::from_field_u64(
                    f.region,
                    u64::from(code),
                )))
            }
            "hashtag" | "tag" => {
                let tag = format!("#{}", v.trim_start_matches('#').to_lowercase());
                self.highlighter.terms.insert(tag.clone());
                Ok(term_query(Term::from_field_text(f.text, &tag)))
            }
            "mention" => {
                let m = format!("@{}", v.trim_start_matches('@').to_lowercase());
                self.highlighter.terms.insert(m.clone());
                Ok(term_query(Term::from_field_text(f.text, &m)))
            }
            "complaint" | "is_complaint" => match v {
                "true" | "yes" | "ya" => {
                    Ok(filter_query(Term::from_field_bool(f.is_complaint, true)))
                }
                "false" | "no" | "tidak" => {
                    Ok(filter_query(Term::from_field_bool(f.is_complaint, false)))
                }
                _ => Err(bad(format!(
                    "`complaint:{v}`: use `complaint:true` or `complaint:false`"
                ))),
            },
            "id" => match v.parse::<u64>() {
                Ok(id) => Ok(filter_query(Term::from_field_u64(f.id, id))),
                Err(_) => Err(bad(format!("`id:{v}` is not a tweet id; ids are numbers"))),
            },
            "created_at" | "date" => {
                let (ms, whole_day) = parse_instant(v).ok_or_else(|| bad_date(v))?;
                let hi = if whole_day { ms + DAY_MS } else { ms + 1000 };
                Ok(Box::new(RangeQuery::new(
                    Bound::Included(date_term(f.created_at, ms)),
                    Bound::Excluded(date_term(f.created_at, hi)),
                )))
            }
            other => Err(self.unknown_field(other)),
        }
    }

    fn range(
        &mut self,
        field: Option<&str>,
        lower: &UserInputBound,
        upper: &UserInputBound,
    ) -> Result<Box<dyn Query>, SearchError> {
        let f = self.handle.fields;
        match field {
            Some("created_at" | "date") => {
                let bound = |b: &UserInputBound, upper: bool| -> Result<Bound<Term>, SearchError> {
                    let (v, inclusive) = match b {
                        UserInputBound::Unbounded => return Ok(Bound::Unbounded),
                        UserInputBound::Inclusive(v) => (v, true),
                        UserInputBound::Exclusive(v) => (v, false),
                    };
                    if v == "*" {
                        return Ok(Bound::Unbounded);
                    }
                    let (ms, whole_day) = parse_instant(v).ok_or_else(|| bad_date(v))?;
                    // A day as an upper bound includes the whole day.
                    Ok(match (upper, inclusive, whole_day) {
                        (true, true, true) => Bound::Excluded(date_term(f.created_at, ms + DAY_MS)),
                        (false, false, true) => {
                            Bound::Included(date_term(f.created_at, ms + DAY_MS))
                        }
                        (_, true, _) => Bound::Included(date_term(f.created_at, ms)),
                        (_, false, _) => Bound::Excluded(date_term(f.created_at, ms)),
                    })
                };
                Ok(Box::new(RangeQuery::new(
                    bound(lower, false)?,
                    bound(upper, true)?,
                )))
            }
            Some("id") => {
                let bound = |b: &UserInputBound| -> Result<Bound<Term>, SearchError> {
                    let (v, inclusive) = match b {
                        UserInputBound::Unbounded => return Ok(Bound::Unbounded),
                        UserInputBound::Inclusive(v) => (v, true),
                        UserInputBound::Exclusive(v) => (v, false),
                    };
                    if v == "*" {
                        return Ok(Bound::Unbounded);
                    }
                    let id: u64 = v
                        .parse()
                        .map_err(|_| bad(format!("`{v}` is not a tweet id; ids are numbers")))?;
                    let t = Term::from_field_u64(f.id, id);
                    Ok(if inclusive {
                        Bound::Included(t)
                    } else {
                        Bound::Excluded(t)
                    })
                };
                Ok(Box::new(RangeQuery::new(bound(lower)?, bound(upper)?)))
            }
            Some(other) if QUERY_FIELDS.contains(&other) => Err(bad(format!(
                "`{other}:` has no ranges; ranges work on `created_at` and `id`, e.g. `created_at:[2026-02-18 TO 2026-03-19]`"
            ))),
            Some(other) => Err(self.unknown_field(other)),
            None => Err(bad(
                "a range needs a field: `created_at:[2026-02-18 TO 2026-03-19]` or `id:>123`",
            )),
        }
    }
}

fn bad_date(v: &str) -> SearchError {
    bad(format!(
        "`{v}` is not a date; write 2026-01-31 or 2026-01-31T08:00:00Z"
    ))
}

fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        if "\\.+*?()|[]{}^$#&-~\"@<>".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether the index has `t`, analysed or as written.
fn known(searcher: &tantivy::Searcher, f: super::Fields, t: &Token) -> tantivy::Result<bool> {
    Ok(
        searcher.doc_freq(&Term::from_field_text(f.text, &t.term))? > 0
            || searcher.doc_freq(&Term::from_field_text(f.text_exact, &t.raw))? > 0,
    )
}

/// Whether any live document matches `query`: the first match per segment
/// settles it, so this is cheap whatever the query matches.
fn matches_any(searcher: &tantivy::Searcher, query: &dyn Query) -> tantivy::Result<bool> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    for seg in searcher.segment_readers() {
        let alive = seg.alive_bitset();
        let mut scorer = weight.scorer(seg, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|a| a.is_alive(doc)) {
                return Ok(true);
            }
            doc = scorer.advance();
        }
    }
    Ok(false)
}

/// A query and its filters, resolved against one searcher.
pub struct Resolved {
    pub query: Box<dyn Query>,
    pub highlighter: Highlighter,
    pub fuzzy: bool,
}

impl IndexHandle {
    /// The BPS code a query's `region:` names: a code, a slug, a name, the
    /// name without its kind (`brebes`), `outside` or `unknown`.
    pub fn region_code(&self, v: &str) -> Result<u16, SearchError> {
        let v = v.trim();
        if v.eq_ignore_ascii_case("unknown") {
            return Ok(0);
        }
        if let Ok(code) = v.parse::<u16>() {
            if self.regions.contains_key(&code) {
                return Ok(code);
            }
        }
        let norm = |s: &str| {
            s.to_lowercase()
                .replace(['.', '_'], " ")
                .split(|c: char| c == '-' || c.is_whitespace())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let want = norm(v);
        let exact: Vec<u16> = self
            .regions
            .iter()
            .filter(|(_, (name, slug))| norm(name) == want || norm(slug) == want)
            .map(|(c, _)| *c)
            .collect();
        if let [code] = exact[..] {
            return Ok(code);
        }
        let bare = |slug: &str| -> String {
            let s = norm(slug);
            s.strip_prefix("kab ")
                .or_else(|| s.strip_prefix("kota "))
                .unwrap_or(&s)
                .to_string()
        };
        let loose: Vec<(u16, &str)> = self
            .regions
            .iter()
            .filter(|(_, (_, slug))| bare(slug) == want)
            .map(|(c, (_, slug))| (*c, slug.as_str()))
            .collect();
        match loose[..] {
            [(code, _)] => Ok(code),
            [] => Err(bad(format!(
                "unknown region `{v}` in `region:`; give a BPS code (3374), a slug (kota-semarang), `outside` or `unknown`"
            ))),
            _ => Err(bad(format!(
                "`region:{v}` is ambiguous; use {}",
                loose
                    .iter()
                    .map(|(c, s)| format!("`{s}` ({c})"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    /// Parses the query string alone.
    fn parse_text<'a>(
        &'a self,
        q: &str,
        auto_fuzzy: Option<&'a tantivy::Searcher>,
    ) -> Result<Parsed, SearchError> {
        let q = q.trim();
        if q.is_empty() || q == "*" {
            return Ok(Parsed {
                query: Box::new(AllQuery),
                highlighter: Highlighter::default(),
                num_plain_words: 0,
            });
        }
        precheck(q)?;
        let ast = tantivy::query_grammar::parse_query(q).map_err(|_| {
            let (_, errors) = tantivy::query_grammar::parse_query_lenient(q);
            match errors.first() {
                Some(e) => bad(format!(
                    "the query has a syntax error at character {}: {}; check that quotes and parentheses are balanced and that AND, OR and NOT join two terms",
                    q[..e.pos.min(q.len())].chars().count() + 1,
                    e.message
                )),
                None => bad(
                    "the query has a syntax error; check that quotes and parentheses are balanced and that AND, OR and NOT join two terms",
                ),
            }
        })?;
        let mut b = Builder {
            handle: self,
            auto_fuzzy,
            highlighter: Highlighter::default(),
            num_clauses: 0,
            num_fuzzy: 0,
            num_plain_words: 0,
        };
        let query = b
            .build(&ast, false)?
            .unwrap_or_else(|| Box::new(EmptyQuery));
        Ok(Parsed {
            query,
            highlighter: b.highlighter,
            num_plain_words: b.num_plain_words,
        })
    }

    /// `text` ANDed with every filter.
    fn with_filters(&self, text: Box<dyn Query>, filters: &Filters) -> Box<dyn Query> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
        if let Some(t) = &filters.topic {
            clauses.push((Occur::Must, filter_query(Term::from_field_text(f.topic, t))));
        }
        if let Some(r) = filters.region {
            clauses.push((
                Occur::Must,
                filter_query(Term::from_field_u64(f.region, u64::from(r))),
            ));
        }
        if let Some(l) = &filters.lang {
            clauses.push((Occur::Must, filter_query(Term::from_field_text(f.lang, l))));
        }
        if let Some(a) = &filters.agency {
            clauses.push((
                Occur::Must,
                filter_query(Term::from_field_text(f.agency, a)),
            ));
        }
        if let Some(c) = filters.complaint {
            clauses.push((
                Occur::Must,
                filter_query(Term::from_field_bool(f.is_complaint, c)),
            ));
        }
        if filters.from_ms.is_some() || filters.to_ms.is_some() {
            let lo = filters.from_ms.map_or(Bound::Unbounded, |ms| {
                Bound::Included(date_term(f.created_at, ms))
            });
            let hi = filters.to_ms.map_or(Bound::Unbounded, |ms| {
                Bound::Excluded(date_term(f.created_at, ms))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        if let Some(ids) = &filters.ids {
            let terms: Vec<Term> = ids
                .iter()
                .map(|id| Term::from_field_u64(f.id, *id))
                .collect();
            clauses.push((Occur::Must, Box::new(TermSetQuery::new(terms))));
        }
        if clauses.len() == 1 {
            return clauses.remove(0).1;
        }
        Box::new(BooleanQuery::new(clauses))
    }

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
        Ok(self.resolve(&self.reader.searcher(), filters)?.query)
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
            After::Relevance { snapshot, .. } => snapshots::get(self, snapshot),
            _ => None,
        };
        let searcher = pinned.clone().unwrap_or_else(|| self.reader.searcher());
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
            let (total, facets) = segment_facets::all(&searcher)?;
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
                next_cursor = Some(match (sort, after) {
                    (Sort::Time, _) => format!("t:{}", last.id),
                    (Sort::Relevance, After::Relevance { snapshot, .. }) if pinned.is_some() => {
                        format!("r:{snapshot}:{:08x}:{}", last.score.to_bits(), last.id)
                    }
                    (Sort::Relevance, _) => format!(
                        "r:{}:{:08x}:{}",
                        snapshots::pin(self, &searcher),
                        last.score.to_bits(),
                        last.id
                    ),
                });
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

/// Index snapshots that relevance-sorted cursors page through, as
/// Elasticsearch's point-in-time: a few, each kept for a while after its
/// last use. A snapshot is a tantivy `Searcher`, which pins its segments.
mod snapshots {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use super::IndexHandle;

    /// How long a snapshot outlives its last page.
    const KEEP_ALIVE: Duration = Duration::from_secs(600);
    /// The most snapshots held at once, over every index of the process.
    const MAX: usize = 16;

    struct Snapshot {
        key: u64,
        /// The index it belongs to (a pointer that lives as long as it).
        owner: usize,
        generation: u64,
        last_used: Instant,
        searcher: tantivy::Searcher,
    }

    static SNAPSHOTS: Mutex<Vec<Snapshot>> = Mutex::new(Vec::new());
    static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

    fn owner(h: &IndexHandle) -> usize {
        Arc::as_ptr(&h.topic_ids) as usize
    }

    fn locked() -> std::sync::MutexGuard<'static, Vec<Snapshot>> {
        // The list is valid whatever a panicking holder left half-done.
        let mut list = SNAPSHOTS.lock().unwrap_or_else(|e| e.into_inner());
        list.retain(|s| s.last_used.elapsed() < KEEP_ALIVE);
        list
    }

    /// The snapshot `key` of `h`, if it is still kept.
    pub fn get(h: &IndexHandle, key: u64) -> Option<tantivy::Searcher> {
        let mut list = locked();
        let s = list
            .iter_mut()
            .find(|s| s.key == key && s.owner == owner(h))?;
        s.last_used = Instant::now();
        Some(s.searcher.clone())
    }

    /// Keeps `searcher` of `h` as a snapshot (or finds it kept); its key.
    pub fn pin(h: &IndexHandle, searcher: &tantivy::Searcher) -> u64 {
        let generation = searcher.generation().generation_id();
        let mut list = locked();
        if let Some(s) = list
            .iter_mut()
            .find(|s| s.owner == owner(h) && s.generation == generation)
        {
            s.last_used = Instant::now();
            return s.key;
        }
        if list.len() >= MAX {
            if let Some(oldest) = list
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(i, _)| i)
            {
                list.swap_remove(oldest);
            }
        }
        let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
        list.push(Snapshot {
            key,
            owner: owner(h),
            generation,
            last_used: Instant::now(),
            searcher: searcher.clone(),
        });
        key
    }
}

impl IndexHandle {
    /// The newest page of the whole index without reading every id: it
    /// looks in a window of the newest ids first and widens it sixteenfold
    /// until the page is full. Ids grow with time, so the window is a time
    /// window, and a page of the newest tweets reads only the newest ones.
    fn newest(
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

/// Facet counts of every live tweet, per segment, cached: segments never
/// change but for deletes, so a segment is counted once per deletion state
/// and a request over the whole index only adds up a few maps.
mod segment_facets {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use tantivy::collector::{Collector, SegmentCollector};
    use tantivy::index::SegmentId;

    use super::{FacetCollector, Facets};

    /// More than any index holds segments at once.
    const MAX: usize = 4096;

    /// (segment, deleted docs) → (live docs, their facets).
    type Cache = HashMap<(SegmentId, u32), (u64, Facets)>;

    static CACHE: Mutex<Option<Cache>> = Mutex::new(None);

    /// The number of live tweets and their facets.
    pub fn all(searcher: &tantivy::Searcher) -> tantivy::Result<(u64, Facets)> {
        let mut total = 0;
        let mut per_segment = Vec::new();
        for (ord, seg) in searcher.segment_readers().iter().enumerate() {
            let key = (seg.segment_id(), seg.num_deleted_docs());
            let cached = CACHE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .and_then(|c| c.get(&key).cloned());
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
                    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
                    let cache = cache.get_or_insert_with(HashMap::new);
                    if cache.len() >= MAX {
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

/// Where a page starts: after the last hit of the previous one.
#[derive(Clone, Copy, Debug, PartialEq)]
enum After {
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
    fn parse(cursor: Option<&str>, sort: Sort) -> Result<After, SearchError> {
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

/// One candidate hit of a page.
#[derive(Clone, Copy, Debug)]
pub struct PageEntry {
    pub score: Score,
    pub id: u64,
    pub addr: DocAddress,
}

impl PageEntry {
    /// The page order as a key: greater comes first.
    fn key(&self, sort: Sort) -> (u32, u64) {
        match sort {
            Sort::Time => (0, self.id),
            // Order-preserving bits of a non-negative f32.
            Sort::Relevance => (self.score.max(0.0).to_bits(), self.id),
        }
    }
}

/// The best `limit` hits after the cursor, in one pass with the count and
/// the facets.
struct PageCollector {
    sort: Sort,
    limit: usize,
    after: After,
}

struct PageSegment {
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
        let searcher = self.reader.searcher();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::enrich::Enricher;
    use crate::index::{CommitPayload, Writer};
    use crate::model::Tweet;

    /// 2026-01-05 00:00 UTC; tweet `n` is created `n` hours later.
    const T0: i64 = 1_767_571_200_000;

    fn tweet(id: u64, text: &str) -> Tweet {
        Tweet {
            id,
            text: text.into(),
            created_at_ms: T0 + id as i64 * 3_600_000,
            author_id: format!("{}", 100 + id),
            author_username: format!("warga{id}"),
            author_location: None,
            conversation_id: None,
            in_reply_to_tweet: None,
            in_reply_to_user: None,
            retweet_of: None,
            mentions: Vec::new(),
            hashtags: Vec::new(),
            place: None,
            coordinates: None,
            lang_hint: None,
        }
    }

    fn index(texts: &[&str]) -> (tempfile::TempDir, IndexHandle) {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::embedded().unwrap();
        let handle = IndexHandle::open(dir.path(), &config).unwrap();
        let enricher = Enricher::build(&config).unwrap();
        let mut writer = Writer::new(&handle, 50).unwrap();
        let mut toks = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            let e = enricher.enrich(tweet(i as u64 + 1, text), &mut toks);
            writer.add(&e, &toks, false).unwrap();
        }
        writer.commit(&CommitPayload::default()).unwrap();
        (dir, handle)
    }

    fn ids(h: &IndexHandle, q: &str) -> Vec<u64> {
        let filters = Filters {
            q: q.into(),
            ..Filters::default()
        };
        let r = h.search(&filters, Sort::Time, 100, None).unwrap();
        let mut ids: Vec<u64> = r.hits.iter().map(|h| h.id).collect();
        ids.sort_unstable();
        ids
    }

    fn check(h: &IndexHandle, q: &str, expected: &[u64]) {
        assert_eq!(ids(h, q), expected, "query `{q}`");
    }

    fn error(h: &IndexHandle, q: &str) -> String {
        let filters = Filters {
            q: q.into(),
            ..Filters::default()
        };
        match h.search(&filters, Sort::Relevance, 10, None) {
            Err(SearchError::BadRequest(m)) => m,
            Err(e) => panic!("query `{q}`: internal error {e}"),
            Ok(r) => panic!("query `{q}` should be refused, got {} hits", r.total),
        }
    }

    const CORPUS: &[&str] = &[
        /* 1 */ "Rumah kami kebanjiran lagi di Sayung, Demak",
        /* 2 */ "Banjir rob setinggi lutut di Kaligawe",
        /* 3 */ "Jalan rusak parah di Brebes, banyak lubang",
        /* 4 */ "Rusak jalan menuju pasar, tolong diperbaiki",
        /* 5 */ "Banyune munggah neng omahku #BanjirDemak",
        /* 6 */ "Dalane bolong-bolong @PemkabDemak tulung",
        /* 7 */ "Pungli di Samsat Brebes, STNK dimintai uang pelicin",
        /* 8 */ "Matlam lagi sejak sore, #PLN kapan nyala",
        /* 9 */ "Keluhan warga soal sampah tidak diangkut",
    ];

    #[test]
    fn words_are_analysed_and_phrases_are_exact() {
        let (_dir, h) = index(CORPUS);
        check(&h, "banjir", &[1, 2, 5]);
        check(&h, "kebanjiran", &[1, 2, 5]);
        check(&h, "banyu", &[5]);
        check(&h, "dalan", &[6]);
        check(&h, "#banjirdemak", &[5]);
        check(&h, "hashtag:BanjirDemak", &[5]);
        check(&h, "@pemkabdemak", &[6]);
        check(&h, "mati lampu", &[8]);
        check(&h, "\"mati lampu\"", &[]);
        check(&h, "\"matlam lagi\"", &[8]);
        check(&h, "\"jalan rusak\"", &[3]);
        check(&h, "jalan rusak", &[3, 4]);
        check(&h, "\"kebanjiran\"", &[1]);
        check(&h, "text:\"banjir lagi\"", &[1]);
        check(&h, "text:\"kebanjiran lagi\"", &[1]);
        check(&h, "mengeluh", &[9]);
        check(&h, "pungli AND samsat", &[7]);
        check(&h, "(pungli OR calo) samsat -stnk", &[]);
        check(&h, "banjir -rob", &[1, 5]);
        check(&h, "-banjir -rusak -jalan", &[6, 7, 8, 9]);
        check(&h, "banj*", &[2, 5]);
        check(&h, "kebanj*", &[1]);
        check(&h, "/keban.*/", &[1]);
        check(&h, "banjr~1", &[1, 2, 5]);
        check(&h, "region:brebes jalan", &[3]);
        check(&h, "topic:illegal_fees", &[7]);
        check(
            &h,
            "created_at:[2026-01-05 TO 2026-01-05]",
            &[1, 2, 3, 4, 5, 6, 7, 8, 9],
        );
        check(&h, "created_at:[* TO 2026-01-05T03:00:00Z}", &[1, 2]);
        check(&h, "id:[3 TO 4]", &[3, 4]);
        check(&h, "🙏 banjir", &[1, 2, 5]);
    }

    #[test]
    fn a_misspelling_falls_back_to_fuzzy_and_says_so() {
        let (_dir, h) = index(CORPUS);
        let filters = Filters {
            q: "bnajir kaligawe".into(),
            ..Filters::default()
        };
        let r = h.search(&filters, Sort::Relevance, 10, None).unwrap();
        assert!(r.fuzzy);
        assert_eq!(r.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [2]);
        assert!(
            r.hits[0].highlight.contains("<b>Banjir</b>"),
            "{:?}",
            r.hits[0]
        );
        let exact = Filters {
            q: "kaligawe".into(),
            ..Filters::default()
        };
        assert!(!h.search(&exact, Sort::Relevance, 10, None).unwrap().fuzzy);
    }

    #[test]
    fn highlights_mark_every_form_of_the_word() {
        let (_dir, h) = index(CORPUS);
        let filters = Filters {
            q: "banjir".into(),
            ..Filters::default()
        };
        let r = h.search(&filters, Sort::Time, 10, None).unwrap();
        let by_id = |id| {
            r.hits
                .iter()
                .find(|h| h.id == id)
                .unwrap()
                .highlight
                .clone()
        };
        assert_eq!(
            by_id(1),
            "Rumah kami <b>kebanjiran</b> lagi di Sayung, Demak"
        );
        assert_eq!(by_id(5), "Banyune munggah neng omahku #<b>Banjir</b>Demak");
    }

    #[test]
    fn relevance_pages_do_not_repeat_or_skip() {
        let texts: Vec<String> = (0..57)
            .map(|i| format!("banjir {} di kampung nomor {i}", "rob ".repeat(i % 5)))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let (_dir, h) = index(&refs);
        let filters = Filters {
            q: "banjir rob".into(),
            ..Filters::default()
        };
        let all = h.search(&filters, Sort::Relevance, 100, None).unwrap();
        let mut paged = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let r = h
                .search(&filters, Sort::Relevance, 7, cursor.as_deref())
                .unwrap();
            paged.extend(r.hits.iter().map(|h| h.id));
            match r.next_cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(paged, all.hits.iter().map(|h| h.id).collect::<Vec<_>>());
        assert_eq!(paged.len() as u64, all.total);
    }

    #[test]
    fn bad_queries_say_what_to_fix() {
        let (_dir, h) = index(CORPUS);
        for (q, says) in [
            ("\"banjir demak", "unbalanced quotes"),
            ("(banjir OR rob", "unbalanced parentheses"),
            ("banjir)", "unbalanced parentheses"),
            ("kota:semarang", "unknown field `kota`"),
            ("topic:floods", "unknown topic `floods`"),
            ("region:atlantis", "unknown region `atlantis`"),
            ("region:semarang", "ambiguous"),
            ("lang:fr", "unknown language `fr`"),
            ("created_at:kemarin", "`kemarin` is not a date"),
            ("created_at:[2026-01-01 TO besok]", "`besok` is not a date"),
            ("banjir~3", "`~1` or `~2`"),
            ("b*", "too short a prefix"),
            ("[1 TO 5]", "a range needs a field"),
            ("topic:[a TO b]", "no ranges"),
            ("banjir^5000", "boost"),
            ("/ba[/", "not a regular expression"),
            ("banjir AND", "syntax error"),
        ] {
            let msg = error(&h, q);
            assert!(msg.contains(says), "`{q}`: `{msg}` should say `{says}`");
        }
        let deep = format!("{}banjir{}", "(".repeat(40), ")".repeat(40));
        assert!(error(&h, &deep).contains("nests parentheses 40 deep"));
        let long = "banjir ".repeat(400);
        assert!(error(&h, &long).contains("bytes long"));
        let many: String = (0..100).map(|i| format!("kata{i} ")).collect();
        assert!(error(&h, &many).contains("more than 64"));
        let fuzzy: String = (0..9).map(|i| format!("kata{i}~1 ")).collect();
        assert!(error(&h, &fuzzy).contains("fuzzy words"));
    }

    #[test]
    fn edit_distance_counts_swaps_as_one() {
        assert!(within_distance("banjir", "banjr", 1));
        assert!(within_distance("banjir", "bnajir", 1));
        assert!(!within_distance("banjir", "bnajr", 1));
        assert!(within_distance("banjir", "bnajr", 2));
        assert!(!within_distance("rob", "banjir", 2));
    }
}
