//! Multi-label topic classification from keywords and phrases.
//!
//! Keywords and phrases from `topics.toml` go through the same analyzer as
//! tweets, so `kebanjiran` matches the keyword `banjir` and `jln rusak`
//! matches the phrase `jalan rusak`. A topic is assigned on one strong
//! keyword or one phrase. Weak words (`air`, `gelap`) only add to a topic
//! that already matched; a negative word (`semangat` in "api semangat")
//! cancels a topic held up by a single keyword. (Letting two different weak
//! words match on their own was tried: it lost more precision than it gained
//! recall on the dev set.)
//!
//! The lexicon's matches are also features of the learned model (see
//! [`super::learned`]), which decides in the end; `force` and `block`
//! phrases are the operator's word over both.

use rustc_hash::FxHashMap as HashMap;

use crate::config::TopicDef;
use crate::model::TopicId;
use crate::text::{Analyzer, Token, TokenKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Strength {
    Strong,
    Weak,
    Negative,
}

/// What the operator's `force` and `block` lists say of a tweet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    Force,
    Block,
}

pub struct TopicClassifier {
    words: HashMap<String, Vec<(TopicId, Strength)>>,
    /// Phrases keyed by their first term.
    phrases: HashMap<String, Vec<(TopicId, Vec<String>)>>,
    /// `force` and `block` entries, keyed by their first term.
    rules: HashMap<String, Vec<(TopicId, Rule, Vec<String>)>>,
    num_topics: usize,
}

/// What the lexicons found in a tweet.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lexicon {
    /// Topics matched by a strong keyword or a phrase (and not cancelled by
    /// a negative word), strongest first.
    pub matched: Vec<TopicId>,
    /// Topics a `force` entry assigns.
    pub forced: Vec<TopicId>,
    /// Topics a `block` entry rules out.
    pub blocked: Vec<TopicId>,
}

#[derive(Default, Clone, Copy)]
struct Score {
    strong: u16,
    phrase: u16,
    weak: u16,
    negative: u16,
}

impl TopicClassifier {
    pub fn build(topics: &[TopicDef], analyzer: &Analyzer) -> TopicClassifier {
        let mut words: HashMap<String, Vec<(TopicId, Strength)>> = HashMap::default();
        let mut phrases: HashMap<String, Vec<(TopicId, Vec<String>)>> = HashMap::default();
        for (i, t) in topics.iter().enumerate() {
            let id = TopicId(i as u16);
            for (list, strength) in [
                (&t.keywords, Strength::Strong),
                (&t.weak, Strength::Weak),
                (&t.negative, Strength::Negative),
            ] {
                for kw in list {
                    let terms = analyzer.terms(kw);
                    if terms.len() == 1 {
                        let e = words.entry(terms[0].clone()).or_default();
                        if !e.contains(&(id, strength)) {
                            e.push((id, strength));
                        }
                    } else if terms.len() > 1 && strength == Strength::Strong {
                        // A "keyword" that analyses into several words (a slang
                        // expansion) is a phrase.
                        phrases
                            .entry(terms[0].clone())
                            .or_default()
                            .push((id, terms));
                    }
                }
            }
            for p in &t.phrases {
                let terms = analyzer.terms(p);
                match terms.len() {
                    0 => {}
                    1 => words
                        .entry(terms[0].clone())
                        .or_default()
                        .push((id, Strength::Strong)),
                    _ => phrases
                        .entry(terms[0].clone())
                        .or_default()
                        .push((id, terms)),
                }
            }
        }
        let mut rules: HashMap<String, Vec<(TopicId, Rule, Vec<String>)>> = HashMap::default();
        for (i, t) in topics.iter().enumerate() {
            for (list, rule) in [(&t.force, Rule::Force), (&t.block, Rule::Block)] {
                for entry in list {
                    let terms = analyzer.terms(entry);
                    if let Some(first) = terms.first() {
                        rules.entry(first.clone()).or_default().push((
                            TopicId(i as u16),
                            rule,
                            terms,
                        ));
                    }
                }
            }
        }
        TopicClassifier {
            words,
            phrases,
            rules,
            num_topics: topics.len(),
        }
    }

    /// What the lexicons find in an analysed tweet.
    pub fn lexicon(&self, tokens: &[Token]) -> Lexicon {
        let mut out = Lexicon {
            matched: self.classify(tokens),
            ..Lexicon::default()
        };
        if self.rules.is_empty() {
            return out;
        }
        let words = words(tokens);
        for (i, w) in words.iter().enumerate() {
            for (id, rule, terms) in self.rules.get(*w).into_iter().flatten() {
                if phrase_at(&words, i, terms) {
                    let list = match rule {
                        Rule::Force => &mut out.forced,
                        Rule::Block => &mut out.blocked,
                    };
                    if !list.contains(id) {
                        list.push(*id);
                    }
                }
            }
        }
        let blocked = out.blocked.clone();
        out.matched.retain(|t| !blocked.contains(t));
        out.forced.retain(|t| !blocked.contains(t));
        out
    }

    /// The topics of an analysed tweet by keywords and phrases alone,
    /// strongest first.
    pub fn classify(&self, tokens: &[Token]) -> Vec<TopicId> {
        let mut scores = vec![Score::default(); self.num_topics];
        let words = words(tokens);
        for (i, w) in words.iter().enumerate() {
            if let Some(hits) = self.words.get(*w) {
                for (id, strength) in hits {
                    let s = &mut scores[id.0 as usize];
                    match strength {
                        Strength::Strong => s.strong += 1,
                        Strength::Weak => s.weak += 1,
                        Strength::Negative => s.negative += 1,
                    }
                }
            }
            if let Some(cands) = self.phrases.get(*w) {
                for (id, terms) in cands {
                    if phrase_at(&words, i, terms) {
                        scores[id.0 as usize].phrase += 1;
                    }
                }
            }
        }
        let mut out: Vec<(u32, TopicId)> = scores
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let matched = s.phrase > 0 || s.strong > 0;
                let cancelled = s.negative > 0 && s.phrase == 0 && s.strong <= 1;
                (matched && !cancelled).then(|| {
                    let score = 3 * s.phrase as u32 + 2 * s.strong as u32 + s.weak as u32;
                    (score, TopicId(i as u16))
                })
            })
            .collect();
        out.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        out.into_iter().map(|(_, id)| id).collect()
    }
}

/// Whether `words` holds the phrase `terms` from position `i` on.
fn phrase_at(words: &[&str], i: usize, terms: &[String]) -> bool {
    words.len() - i >= terms.len()
        && words[i..i + terms.len()]
            .iter()
            .zip(terms)
            .all(|(a, b)| *a == b)
}

/// The word tokens of an analysed tweet, in order.
fn words(tokens: &[Token]) -> Vec<&str> {
    tokens
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.term.as_str())
        .collect()
}
