//! Indonesian-aware text analysis, shared by enrichment and the index.
//!
//! One analyzer turns a tweet into tokens: lowercased words with their
//! byte offsets, slang and abbreviations expanded to formal Indonesian
//! (IndoCollex plus the abbreviations complaint tweets use), Indonesian
//! affixes stripped by the Snowball stemmer except for protected words it
//! is known to mangle, and a few Javanese suffixes folded. Hashtags and
//! mentions become tokens of their own (`#kemalajateng`, `@pemkotsmg`), and
//! a camel-cased hashtag also yields its words (`#BanjirDemak`: banjir, demak).
//!
//! Topic matching and indexing use the same tokens, so a keyword that
//! classifies a tweet is also a term that finds it. The indexer receives the
//! tokens pre-computed from enrichment, so each tweet is analysed once.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use frostem::{Algorithm, Stemmer};

const SLANG_TSV: &str = include_str!("../assets/slang/indocollex-informal-formal.tsv");

/// Abbreviations from complaint tweets that IndoCollex lacks or maps
/// differently. They win over IndoCollex.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("yg", "yang"),
    ("gk", "tidak"),
    ("ga", "tidak"),
    ("gak", "tidak"),
    ("nggak", "tidak"),
    ("ngga", "tidak"),
    ("tdk", "tidak"),
    ("jln", "jalan"),
    ("jl", "jalan"),
    ("dgn", "dengan"),
    ("utk", "untuk"),
    ("sdh", "sudah"),
    ("udh", "sudah"),
    ("udah", "sudah"),
    ("blm", "belum"),
    ("krn", "karena"),
    ("bgt", "banget"),
    ("gmn", "gimana"),
    ("knp", "kenapa"),
    ("org", "orang"),
    ("msh", "masih"),
    ("tp", "tapi"),
    ("jg", "juga"),
    ("skrg", "sekarang"),
    ("kalo", "kalau"),
    ("klo", "kalau"),
    ("tlg", "tolong"),
    ("bjr", "banjir"),
    ("matlam", "mati lampu"),
    ("ektp", "ktp"),
    ("pdhl", "padahal"),
    ("sy", "saya"),
    ("dr", "dari"),
    ("sm", "sama"),
    ("lg", "lagi"),
    ("bs", "bisa"),
    ("dpt", "dapat"),
];

/// Words the Snowball Indonesian stemmer gets wrong on complaint text
/// (keluhan → luhan, sekolah → seko, penanganan → angan), place names that
/// look affixed, and words whose stem would merge two topics.
const PROTECTED: &[&str] = &[
    "keluhan",
    "sekolah",
    "penanganan",
    "pengaduan",
    "kecamatan",
    "kelurahan",
    "kabupaten",
    "pelayanan",
    "perumahan",
    "pemadaman",
    "kebakaran",
    "kekeringan",
    "kesehatan",
    "pendidikan",
    "perhubungan",
    "lapangan",
    "jalanan",
    "bantuan",
    "pangan",
    "kemarau",
    "pakai",
    "ungaran",
    "pekalongan",
    "batang",
    "karanganyar",
    "purbalingga",
    "kebumen",
    "kendal",
    "demak",
    "jepara",
    "rembang",
    "blora",
    "grobogan",
    "kudus",
    "pati",
    "salatiga",
    "semarang",
    "surakarta",
    "klaten",
    "sukoharjo",
    "wonogiri",
    "sragen",
    "boyolali",
    "magelang",
    "temanggung",
    "wonosobo",
    "purworejo",
    "banjarnegara",
    "banyumas",
    "cilacap",
    "brebes",
    "tegal",
    "pemalang",
    "kaligawe",
    "sayung",
    "lansia",
    "sampah",
    "lampu",
    "listrik",
    "angkutan",
    "minta",
    "makan",
    "kali",
    "pemkot",
    "pemkab",
    "ganjar",
    "ketinggian",
    "kerusakan",
];

/// Javanese forms folded onto their base (dalane → dalan), so that a
/// search for the base finds them. Javanese suffixes are too ambiguous with
/// Indonesian to strip by rule, so this is a list.
const JAVANESE_FOLDS: &[(&str, &str)] = &[
    ("dalane", "dalan"),
    ("dalanan", "dalan"),
    ("banyune", "banyu"),
    ("omahe", "omah"),
    ("omahku", "omah"),
    ("lampune", "lampu"),
    ("kaline", "kali"),
    ("uwuhe", "uwuh"),
    ("sampahe", "sampah"),
    ("listrike", "listrik"),
    ("sekolahe", "sekolah"),
    ("jeglongane", "jeglongan"),
    ("sawahe", "sawah"),
    ("wargane", "warga"),
    ("dalanne", "dalan"),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Word,
    Hashtag,
    Mention,
}

/// One analysed token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The lowercased surface form (a hashtag keeps its `#`).
    pub raw: String,
    /// The indexed term: slang expanded, stemmed, folded.
    pub term: String,
    pub kind: TokenKind,
    /// Byte offsets into the original text.
    pub from: usize,
    pub to: usize,
    /// Consecutive tokens have consecutive positions; a slang expansion
    /// into two words takes two.
    pub position: usize,
    /// Whether the surface form started with an uppercase letter.
    pub capitalised: bool,
    /// Whether it starts the text or a sentence, where capitals say nothing.
    pub sentence_start: bool,
}

pub struct Analyzer {
    slang: HashMap<String, Vec<String>>,
    protected: HashSet<&'static str>,
    folds: HashMap<&'static str, &'static str>,
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    // Stemming is the costliest step and tweet vocabulary is Zipfian, so a
    // per-thread cache saves most of it. Bounded: cleared when full.
    static STEM_CACHE: RefCell<HashMap<String, String>> = RefCell::new(HashMap::new());
}
const STEM_CACHE_MAX: usize = 200_000;

/// The shared analyzer, built once.
pub fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(Analyzer::new)
}

impl Analyzer {
    pub fn new() -> Analyzer {
        let mut slang: HashMap<String, Vec<String>> = HashMap::new();
        for line in SLANG_TSV.lines().skip(1) {
            let Some((informal, formal)) = line.split_once('\t') else {
                continue;
            };
            let informal = informal.trim().to_lowercase();
            let formal: Vec<String> = formal.split_whitespace().map(str::to_lowercase).collect();
            // Pure unit expansions (100mb → 100 mb) add nothing for search.
            if informal.is_empty()
                || formal.is_empty()
                || informal.chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                continue;
            }
            slang.insert(informal, formal);
        }
        for (k, v) in ABBREVIATIONS {
            slang.insert(
                k.to_string(),
                v.split_whitespace().map(String::from).collect(),
            );
        }
        Analyzer {
            slang,
            protected: PROTECTED.iter().copied().collect(),
            folds: JAVANESE_FOLDS.iter().copied().collect(),
            stemmer: Stemmer::new(Algorithm::Indonesian),
        }
    }

    /// The term for one lowercased word: folded, protected or stemmed.
    pub fn term(&self, word: &str) -> String {
        if let Some(base) = self.folds.get(word) {
            return (*base).to_string();
        }
        if self.protected.contains(word)
            || word.len() <= 4
            || word.bytes().any(|b| b.is_ascii_digit())
        {
            return word.to_string();
        }
        STEM_CACHE.with(|c| {
            let mut c = c.borrow_mut();
            if let Some(s) = c.get(word) {
                return s.clone();
            }
            let stem = self.stemmer.stem(word).into_owned();
            if c.len() >= STEM_CACHE_MAX {
                c.clear();
            }
            c.insert(word.to_string(), stem.clone());
            stem
        })
    }

    /// Analyses `text` into `out` (cleared first).
    pub fn analyse(&self, text: &str, out: &mut Vec<Token>) {
        out.clear();
        let mut position = 0;
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut sentence_start = true;
        while i < bytes.len() {
            let c = text[i..].chars().next().unwrap_or(' ');
            if matches!(c, '.' | '!' | '?' | '\n') {
                sentence_start = true;
            }
            // Skip URLs whole: their pieces are noise.
            if (c == 'h' || c == 'H')
                && (text[i..].starts_with("http://") || text[i..].starts_with("https://"))
            {
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                continue;
            }
            let prefix = match c {
                '#' => Some(TokenKind::Hashtag),
                '@' => Some(TokenKind::Mention),
                _ => None,
            };
            let start = if prefix.is_some() { i + 1 } else { i };
            let mut end = start;
            for ch in text[start..].chars() {
                if ch.is_alphanumeric() || (prefix.is_some() && ch == '_') {
                    end += ch.len_utf8();
                } else {
                    break;
                }
            }
            if end == start {
                i += c.len_utf8().max(1);
                continue;
            }
            let surface = &text[start..end];
            let lower = surface.to_lowercase();
            let capitalised = surface.chars().next().is_some_and(char::is_uppercase);
            let at_start = std::mem::replace(&mut sentence_start, false);
            match prefix {
                Some(kind) => {
                    let sigil = if kind == TokenKind::Hashtag { '#' } else { '@' };
                    let raw = format!("{sigil}{lower}");
                    out.push(Token {
                        raw: raw.clone(),
                        term: raw,
                        kind,
                        from: i,
                        to: end,
                        position,
                        capitalised,
                        sentence_start: at_start,
                    });
                    position += 1;
                    if kind == TokenKind::Hashtag {
                        // #BanjirDemak also says banjir and demak.
                        for (from, to) in camel_parts(surface) {
                            let w = surface[from..to].to_lowercase();
                            self.push_word(
                                &w,
                                (start + from, start + to),
                                (false, false),
                                &mut position,
                                out,
                            );
                        }
                    }
                }
                None => self.push_word(
                    &lower,
                    (start, end),
                    (capitalised, at_start),
                    &mut position,
                    out,
                ),
            }
            i = end;
        }
    }

    fn push_word(
        &self,
        lower: &str,
        (from, to): (usize, usize),
        (capitalised, sentence_start): (bool, bool),
        position: &mut usize,
        out: &mut Vec<Token>,
    ) {
        match self.slang.get(lower) {
            Some(expansion) => {
                for w in expansion {
                    out.push(Token {
                        raw: lower.to_string(),
                        term: self.term(w),
                        kind: TokenKind::Word,
                        from,
                        to,
                        position: *position,
                        capitalised,
                        sentence_start,
                    });
                    *position += 1;
                }
            }
            None => {
                out.push(Token {
                    raw: lower.to_string(),
                    term: self.term(lower),
                    kind: TokenKind::Word,
                    from,
                    to,
                    position: *position,
                    capitalised,
                    sentence_start,
                });
                *position += 1;
            }
        }
    }

    /// The terms of a short text (a keyword or a phrase from config).
    pub fn terms(&self, text: &str) -> Vec<String> {
        let mut toks = Vec::new();
        self.analyse(text, &mut toks);
        toks.into_iter()
            .filter(|t| t.kind == TokenKind::Word)
            .map(|t| t.term)
            .collect()
    }
}

/// Byte ranges of the words in a camel-cased hashtag, only when it has
/// more than one part (`BanjirDemak`), so `#banjir` is not split at all.
fn camel_parts(tag: &str) -> Vec<(usize, usize)> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut prev_lower = false;
    for (i, c) in tag.char_indices() {
        if c.is_uppercase() && prev_lower {
            parts.push((start, i));
            start = i;
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if parts.is_empty() {
        return parts;
    }
    parts.push((start, tag.len()));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_terms: &[&str]) {
        let mut toks = Vec::new();
        analyzer().analyse(text, &mut toks);
        let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(terms, expected_terms, "analysing {text:?}");
    }

    #[test]
    fn affixes_slang_and_tags() {
        check("Kebanjiran lagi!", &["banjir", "lagi"]);
        check(
            "keluhan sekolah penanganan",
            &["keluhan", "sekolah", "penanganan"],
        );
        check(
            "jln rusak gk diperbaiki",
            &["jalan", "rusak", "tidak", "baik"],
        );
        check(
            "#BanjirDemak @PemkotSmg",
            &["#banjirdemak", "banjir", "demak", "@pemkotsmg"],
        );
        check(
            "dalane bolong https://t.co/xyz banyune",
            &["dalan", "bolong", "banyu"],
        );
        check("tergenang", &["genang"]);
    }

    #[test]
    fn offsets_point_into_the_text() {
        let text = "Jalan Kaligawe rusak, #KemalaJateng";
        let mut toks = Vec::new();
        analyzer().analyse(text, &mut toks);
        assert_eq!(&text[toks[1].from..toks[1].to], "Kaligawe");
        assert!(toks[1].capitalised);
        assert_eq!(&text[toks[3].from..toks[3].to], "#KemalaJateng");
    }
}
