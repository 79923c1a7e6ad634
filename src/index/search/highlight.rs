//! Highlighting: what a query matched, marked in a hit's text with `<b>`,
//! every form of the word included (`kebanjiran` for `banjir`, and fuzzy
//! matches within the distance the query allowed).

use std::collections::HashSet;

use crate::text::{analyzer, Token};

/// What a query matched, to mark in the hit's text.
#[derive(Clone, Debug, Default)]
pub struct Highlighter {
    /// Analysed terms (the `text` field).
    pub(super) terms: HashSet<String>,
    /// Lowercased surface forms (the `text_exact` field).
    pub(super) exact: HashSet<String>,
    /// Prefixes of surface forms.
    pub(super) prefixes: Vec<String>,
    /// (analysed term, its edit distance, surface form, its edit distance).
    pub(super) fuzzy: Vec<(String, u8, String, u8)>,
}

impl Highlighter {
    pub(super) fn is_empty(&self) -> bool {
        self.terms.is_empty()
            && self.exact.is_empty()
            && self.prefixes.is_empty()
            && self.fuzzy.is_empty()
    }

    pub(super) fn matches(&self, t: &Token) -> bool {
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
pub(super) fn within_distance(a: &str, b: &str, max: u8) -> bool {
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

pub(super) fn html_escape(s: &str) -> String {
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
