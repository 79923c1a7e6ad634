//! The query language: a Lucene-like string parsed by tantivy's grammar
//! into an AST, which [`Builder`] turns into queries over kemala's fields,
//! with the limits that bound what one query can cost.
//!
//! - A bare word is analysed like the tweets (slang, stemming, Javanese
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
//! they never depend on how the query string was written. No query string
//! can cost more than a bounded amount of work or stack: its length,
//! parenthesis depth, number of clauses and of fuzzy terms are capped
//! before and after parsing, each with a 400 that says the limit.

use std::ops::Bound;

use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, EnableScoring, ExistsQuery, FuzzyTermQuery,
    Occur, PhrasePrefixQuery, PhraseQuery, Query, RangeQuery, RegexQuery, TermQuery, TermSetQuery,
};
use tantivy::query_grammar::{Delimiter, UserInputAst, UserInputBound, UserInputLeaf};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DateTime, DocSet, Score, Term, TERMINATED};

use super::highlight::Highlighter;
use super::{bad, Filters, SearchError};
use crate::index::{Fields, IndexHandle};
use crate::text::{analyzer, exact_tokens, Token, TokenKind};
use crate::timestamp;

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

/// The edit distance a fuzzy retry allows a word of `n` characters.
pub(super) fn auto_distance(n: usize) -> u8 {
    match n {
        0..=3 => 0,
        4..=6 => 1,
        _ => 2,
    }
}

/// Rejects query strings that are too long, too deeply nested or
/// unbalanced, before the grammar (which recurses) sees them.
pub(super) fn precheck(q: &str) -> Result<(), SearchError> {
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
pub(super) struct Parsed {
    pub(super) query: Box<dyn Query>,
    pub(super) highlighter: Highlighter,
    /// Bare words that a fuzzy retry could loosen.
    pub(super) num_plain_words: usize,
}

/// Turns the grammar's AST into queries over kemala's fields.
pub(super) struct Builder<'a> {
    pub(super) handle: &'a IndexHandle,
    /// Every bare word the index does not know made fuzzy: the retry when
    /// the query as written found nothing.
    pub(super) auto_fuzzy: Option<&'a tantivy::Searcher>,
    pub(super) highlighter: Highlighter,
    pub(super) num_clauses: usize,
    pub(super) num_fuzzy: usize,
    pub(super) num_plain_words: usize,
}

pub(super) fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

pub(super) fn filter_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::Basic))
}

pub(super) fn date_term(field: Field, ms: i64) -> Term {
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
            "lang" => match crate::model::Lang::from_code(v) {
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
                let (ms, whole_day) = timestamp::parse(v).ok_or_else(|| bad_date(v))?;
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
                    let Some((v, inclusive)) = bound_value(b) else {
                        return Ok(Bound::Unbounded);
                    };
                    let (ms, whole_day) = timestamp::parse(v).ok_or_else(|| bad_date(v))?;
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
                    let Some((v, inclusive)) = bound_value(b) else {
                        return Ok(Bound::Unbounded);
                    };
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

/// A range bound's value and whether it is included; `None` when open
/// (`*`, or a `>` / `<` range's missing side).
fn bound_value(b: &UserInputBound) -> Option<(&str, bool)> {
    let (v, inclusive) = match b {
        UserInputBound::Unbounded => return None,
        UserInputBound::Inclusive(v) => (v, true),
        UserInputBound::Exclusive(v) => (v, false),
    };
    (v != "*").then_some((v.as_str(), inclusive))
}

pub(super) fn bad_date(v: &str) -> SearchError {
    bad(format!(
        "`{v}` is not a date; write 2026-01-31 or 2026-01-31T08:00:00Z"
    ))
}

pub(super) fn regex_escape(s: &str) -> String {
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
pub(super) fn known(searcher: &tantivy::Searcher, f: Fields, t: &Token) -> tantivy::Result<bool> {
    Ok(
        searcher.doc_freq(&Term::from_field_text(f.text, &t.term))? > 0
            || searcher.doc_freq(&Term::from_field_text(f.text_exact, &t.raw))? > 0,
    )
}

/// Whether any live document matches `query`: the first match per segment
/// settles it, so this is cheap whatever the query matches.
pub(super) fn matches_any(
    searcher: &tantivy::Searcher,
    query: &dyn Query,
) -> tantivy::Result<bool> {
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
    pub(super) fn parse_text<'a>(
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
    pub(super) fn with_filters(&self, text: Box<dyn Query>, filters: &Filters) -> Box<dyn Query> {
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
}
