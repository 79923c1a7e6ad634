//! Indonesian-aware text analysis, shared by enrichment and the index.
//!
//! One analyzer turns a tweet into tokens: lowercased words with their
//! byte offsets, slang and abbreviations expanded to formal Indonesian
//! (IndoCollex plus the abbreviations complaint tweets use), Indonesian
//! affixes stripped by the Snowball stemmer except for protected words it
//! is known to mangle, and Javanese suffixes folded onto known bases
//! (`dalane`, `banyune`, `toyanipun`). Hashtags and mentions become tokens
//! of their own (`#kemalajateng`, `@pemkotsmg`), and a hashtag also yields
//! its words (`#BanjirDemak`: banjir, demak; `#Banjir`: banjir), so a plain
//! word finds the tweets that only tag it.
//!
//! The Snowball stemmer (Tala's algorithm) has no root dictionary, so it
//! strips letters that belong to the root: `terima` becomes `ima`,
//! `menunggu` becomes `unggu` while `ditunggu` becomes `tunggu`. Two small
//! tables fix what matters for complaints: [`STEM_OVERRIDES`] maps a whole
//! word to its root (Elasticsearch's `stemmer_override`), and
//! [`STEM_REPAIRS`] maps a known wrong stem back to its root, which repairs
//! every inflection that lands there (`menunggunya`, `nunggu`, `menunggu`).
//!
//! Topic matching and indexing use the same tokens, so a keyword that
//! classifies a tweet is also a term that finds it. The indexer receives the
//! tokens pre-computed from enrichment, so each tweet is analysed once. The
//! index also keeps each token's lowercased surface form ([`exact_tokens`]),
//! so that a quoted phrase can match exactly what was written.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::cell::RefCell;
use std::sync::OnceLock;

use frostem::{Algorithm, Stemmer};

const SLANG_TSV: &str = include_str!("../assets/slang/indocollex-informal-formal.tsv");

/// Indonesian word frequencies (the 50,000 commonest words of the
/// OpenSubtitles 2018 corpus), the vocabulary that tells a real word from a
/// stretched, vowel-dropped or glued one.
const VOCAB_TXT: &str = include_str!("../assets/vocab/id-opensubtitles-50k.txt");

/// Complaint words the subtitle vocabulary lacks or ranks too low to
/// split hashtags and restore vowels with, as (word, count).
const EXTRA_VOCAB: &[(&str, u32)] = &[
    ("drainase", 2_000),
    ("got", 2_000),
    ("rob", 2_000),
    ("pungli", 2_000),
    ("bansos", 2_000),
    ("jateng", 2_000),
    ("pemkot", 2_000),
    ("pemkab", 2_000),
    ("pemprov", 2_000),
    ("longsor", 2_000),
    ("macet", 2_000),
    ("sampah", 6_000),
    ("genangan", 2_000),
    ("tergenang", 2_000),
    ("selokan", 2_000),
    ("trotoar", 2_000),
    ("aspal", 2_000),
    ("pdam", 2_000),
    ("pln", 2_000),
    ("warga", 6_000),
    ("kemalajateng", 2_000),
];

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
    ("bnjr", "banjir"),
    ("bnyk", "banyak"),
    ("krg", "kurang"),
    ("sklh", "sekolah"),
    ("dah", "sudah"),
    ("tolongin", "tolong"),
    // IndoCollex reads these as kakak and sampai; in complaints they are
    // the family card (Kartu Keluarga) and junior high school.
    ("kk", "kk"),
    ("smp", "smp"),
    ("sma", "sma"),
];

/// Acronyms and names that look like vowel-dropped words but are not
/// (`thr` is not `there`, `smkn` is not `semakin`, `psis` is not `posisi`).
const ACRONYMS: &[&str] = &[
    "thr", "umr", "umk", "ump", "asn", "pns", "pppk", "krl", "lrt", "mrt", "brt", "bst", "pks",
    "ppn", "pph", "pbb", "shm", "shgb", "ajb", "imb", "pbg", "slf", "smkn", "sman", "smpn", "sdn",
    "mts", "upt", "uptd", "ikn", "pcr", "gbk", "bbm", "spbu", "nik", "kis", "kip", "pkh", "blt",
    "bpnt", "dtks", "rtlh", "bpjs", "bpn", "ptsl", "pemda", "pemdes", "psis", "dprd", "dpr", "kpk",
    "bnpb", "bpbd", "pmi", "phk", "ojk", "pdip", "psi", "tkp", "ktp", "stnk", "bpkb", "sim",
    "skck", "rsud", "rsup", "igd", "icu", "dbd", "tbc", "pju", "lpju", "apbd", "apbn", "bumn",
    "bumd", "tni", "polri", "satpol", "damkar", "kades", "perdes", "jkn",
];

/// Words the Snowball Indonesian stemmer gets wrong on complaint text
/// (keluhan → luhan, sekolah → seko, penanganan → angan), place names that
/// look affixed, and words whose stem would merge two topics.
const PROTECTED: &[&str] = &[
    "sekolah",
    "kecamatan",
    "kelurahan",
    "kabupaten",
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
    // Roots that look affixed to the stemmer.
    "terima",
    "kemarin",
    "terminal",
    "jembatan",
    "perahu",
    "sungai",
    "pantai",
    "damai",
    "ramai",
    "sampai",
    "selesai",
    "mulai",
    "sendiri",
    "negeri",
    "seperti",
    "sekali",
    "kecewa",
    "disdukcapil",
    "dishub",
    "pertamina",
    "pemilu",
    "masalah",
    "sebelah",
    // ke-...-an over terang (light): a certificate, not street lighting.
    "keterangan",
];

/// Whole words and their roots, where the stemmer gets a complaint word
/// wrong (keluhan → luhan) or a protected word should still meet its
/// inflections (pelayanan, dilayani, melayani: layan).
pub const STEM_OVERRIDES: &[(&str, &str)] = &[
    ("keluhan", "keluh"),
    ("keluhannya", "keluh"),
    ("penanganan", "tangan"),
    ("penanganannya", "tangan"),
    ("pengaduan", "adu"),
    ("pengaduannya", "adu"),
    ("pelayanan", "layan"),
    ("pelayanannya", "layan"),
    ("kendaraan", "kendara"),
    ("kendaraannya", "kendara"),
];

/// Wrong stems the Snowball stemmer produces, and the root each should be.
/// A repair applies to every inflection that lands on the wrong stem.
pub const STEM_REPAIRS: &[(&str, &str)] = &[
    ("ima", "terima"),
    ("marin", "kemarin"),
    ("unggu", "tunggu"),
    ("umpang", "tumpang"),
    ("umpuk", "tumpuk"),
    ("emudi", "kemudi"),
    ("endara", "kendara"),
    ("ndara", "kendara"),
    ("erang", "terang"),
    ("ecek", "cek"),
    ("itahu", "tahu"),
    ("tinda", "tindak"),
    ("luhan", "keluh"),
    ("eluh", "keluh"),
    ("angan", "tangan"),
    ("seko", "sekolah"),
    ("minal", "terminal"),
    ("jembat", "jembatan"),
    ("sunga", "sungai"),
    ("panta", "pantai"),
    ("dama", "damai"),
    ("sampa", "sampai"),
    ("sendir", "sendiri"),
    ("neger", "negeri"),
    ("sepert", "seperti"),
    ("sekal", "sekali"),
    ("mula", "mulai"),
    ("elupas", "kelupas"),
    ("ahan", "tahan"),
    ("onton", "tonton"),
    ("ongkrong", "tongkrong"),
    ("etes", "tetes"),
    ("sala", "nyala"),
    ("ingkat", "tingkat"),
    ("ahu", "perahu"),
    ("sdukcapil", "disdukcapil"),
    ("ecewa", "kecewa"),
];

/// Javanese forms folded onto their base (dalane → dalan), so that a
/// search for the base finds them: the irregular ones. The regular ones
/// follow from [`JAVANESE_BASES`] and [`JAVANESE_SUFFIXES`].
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

/// Javanese suffixes: -e/-ne (the, its), -ku/-mu (my, your), and krama's
/// -ipun/-nipun. Javanese suffixes are too ambiguous with Indonesian to
/// strip by rule alone, so one is stripped only when what remains is in
/// [`JAVANESE_BASES`].
const JAVANESE_SUFFIXES: &[&str] = &["nipun", "ipun", "ne", "e", "ku", "mu"];

/// Nouns that complaints in Javanese put suffixes on (dalane, banyune,
/// omahku, toyanipun, griyanipun, marginipun), ngoko and krama.
const JAVANESE_BASES: &[&str] = &[
    "dalan",
    "margi",
    "banyu",
    "toya",
    "omah",
    "griya",
    "lampu",
    "kali",
    "uwuh",
    "sampah",
    "listrik",
    "sekolah",
    "jeglongan",
    "sawah",
    "warga",
    "kreteg",
    "jembatan",
    "got",
    "selokan",
    "kampung",
    "desa",
    "pasar",
    "udan",
    "anak",
    "bocah",
    "mambu",
    "lemah",
    "tanah",
    "tembok",
    "payon",
    "gendheng",
    "sumur",
    "pipa",
    "kabel",
    "tiang",
    "aspal",
    "trotoar",
    "bis",
    "bus",
    "angkot",
    "motor",
    "mobil",
    "truk",
    "lurah",
    "camat",
    "bupati",
    "simbah",
    "mbah",
    "bapak",
    "ibu",
    "tangga",
    "wit",
    "kebon",
    "pekarangan",
    "kamar",
    "lawang",
    "jendela",
    "banjir",
    "rob",
    "geni",
    "kobong",
    "maling",
    "begal",
    "parkir",
    "macet",
    "halte",
    "terminal",
    "sepur",
    "puskesmas",
    "rumah",
    "jalan",
    "air",
    "ktp",
    "stnk",
    "sim",
    "pajak",
    "tagihan",
    "pdam",
    "pln",
    "token",
    "meteran",
    "pompa",
    "tanggul",
    "kalen",
    "sungai",
    "jurang",
    "tebing",
    "gunung",
    "tambak",
    "pelabuhan",
    "dermaga",
    "prau",
    "perahu",
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
    /// Word → corpus count, for telling real words from stretched,
    /// vowel-dropped or glued ones.
    vocab: HashMap<String, u32>,
    /// Consonant skeleton → the commonest vocabulary word with it, for
    /// restoring dropped vowels (`trgenang` → `tergenang`).
    skeletons: HashMap<String, String>,
    protected: HashSet<&'static str>,
    overrides: HashMap<&'static str, &'static str>,
    repairs: HashMap<&'static str, &'static str>,
    folds: HashMap<&'static str, &'static str>,
    javanese_bases: HashSet<&'static str>,
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
    static STEM_CACHE: RefCell<HashMap<String, String>> = RefCell::new(HashMap::default());
}
const STEM_CACHE_MAX: usize = 200_000;

/// The shared analyzer, built once.
pub fn analyzer() -> &'static Analyzer {
    static A: OnceLock<Analyzer> = OnceLock::new();
    A.get_or_init(Analyzer::new)
}

impl Analyzer {
    pub fn new() -> Analyzer {
        let mut slang: HashMap<String, Vec<String>> = HashMap::default();
        for line in SLANG_TSV.lines().skip(1) {
            let Some((informal, formal)) = line.split_once('\t') else {
                continue;
            };
            let informal = informal.trim().to_lowercase();
            // Reduplication is two words to the tokenizer (lampu-lampu).
            let formal: Vec<String> = formal
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_lowercase)
                .collect();
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
        let mut vocab: HashMap<String, u32> = HashMap::default();
        for line in VOCAB_TXT.lines() {
            if let Some((w, n)) = line.split_once(' ') {
                if w.chars().all(char::is_alphabetic) {
                    vocab.insert(w.to_lowercase(), n.trim().parse().unwrap_or(1));
                }
            }
        }
        for (w, n) in EXTRA_VOCAB {
            let e = vocab.entry(w.to_string()).or_default();
            *e = (*e).max(*n);
        }
        let skeletons = skeleton_index(&vocab);
        Analyzer {
            slang,
            vocab,
            skeletons,
            protected: PROTECTED.iter().copied().collect(),
            overrides: STEM_OVERRIDES.iter().copied().collect(),
            repairs: STEM_REPAIRS.iter().copied().collect(),
            folds: JAVANESE_FOLDS.iter().copied().collect(),
            javanese_bases: JAVANESE_BASES.iter().copied().collect(),
            stemmer: Stemmer::new(Algorithm::Indonesian),
        }
    }

    /// The base of a Javanese-suffixed word (dalane → dalan, toyanipun →
    /// toya), if it is one.
    pub fn javanese_base<'a>(&self, word: &'a str) -> Option<&'a str> {
        if let Some(base) = self.folds.get(word) {
            return Some(base);
        }
        JAVANESE_SUFFIXES.iter().find_map(|suffix| {
            let base = word.strip_suffix(suffix)?;
            self.javanese_bases.contains(base).then_some(base)
        })
    }

    /// The term for one lowercased word: folded, overridden, protected, or
    /// stemmed and repaired.
    pub fn term(&self, word: &str) -> String {
        let word = self.javanese_base(word).unwrap_or(word);
        if let Some(root) = self.overrides.get(word) {
            return (*root).to_string();
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
            let stem = self.stemmer.stem(word);
            let stem = match self.repairs.get(stem.as_ref()) {
                Some(root) => (*root).to_string(),
                None => stem.into_owned(),
            };
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
                        // #BanjirDemak also says banjir and demak; #Banjir says
                        // banjir; #banjirkiriman says banjir and kiriman.
                        let mut parts = camel_parts(surface);
                        // Segmenting reads the lowercased tag, whose byte
                        // offsets are the surface's only when lowercasing
                        // kept every length (`İ` grows a byte).
                        if parts.is_empty() {
                            parts = if lower.len() == surface.len() {
                                self.segment(&lower)
                            } else {
                                vec![(0, surface.len())]
                            };
                        }
                        for (from, to) in parts {
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
        // Reduplication written with a 2 (jalan2, diangkut2) is the word.
        let word = match lower.strip_suffix('2') {
            Some(w) if w.len() >= 3 && w.chars().all(char::is_alphabetic) => w,
            _ => lower,
        };
        // Banjirrrrr is banjir, and trgenang is tergenang.
        let normal = self.normalise(word);
        let word = normal.as_deref().unwrap_or(word);
        // dalane is dalan, and omahku is omah, which slang reads as rumah.
        let word = self.javanese_base(word).unwrap_or(word);
        let mut push = |term: String| {
            out.push(Token {
                raw: lower.to_string(),
                term,
                kind: TokenKind::Word,
                from,
                to,
                position: *position,
                capitalised,
                sentence_start,
            });
            *position += 1;
        };
        match self.slang.get(word) {
            Some(expansion) => {
                for w in expansion {
                    push(self.term(w));
                }
            }
            None => push(self.term(word)),
        }
    }

    /// Whether `word` is a word kemala knows: in the vocabulary, the slang
    /// table or its own word lists.
    pub fn is_known(&self, word: &str) -> bool {
        self.vocab.contains_key(word)
            || ACRONYMS.contains(&word)
            || self.slang.contains_key(word)
            || self.protected.contains(word)
            || self.javanese_base(word).is_some()
    }

    /// The real word behind a stretched (`banjirrrr`, `parahhh`) or
    /// vowel-dropped (`trgenang`, `sblm`) one; `None` when the word is fine
    /// as it is or nothing better is known.
    pub fn normalise(&self, word: &str) -> Option<String> {
        if let Some(short) = unstretch(word, |w| self.is_known(w)) {
            return Some(short);
        }
        if word.len() < 3 || !word.bytes().all(|c| c.is_ascii_lowercase()) || self.is_known(word) {
            return None;
        }
        // A short word of consonants alone is an acronym as often as a
        // vowel-dropped word (thr, asn, tkt): leave it.
        let skeleton = skeleton(word);
        if skeleton.len() < 3 || (skeleton.len() == word.len() && word.len() <= 4) {
            return None;
        }
        let candidate = self.skeletons.get(&skeleton)?;
        (candidate.len() > word.len() && is_subsequence(word, candidate)).then(|| candidate.clone())
    }

    /// Byte ranges of the known words a lowercase hashtag is glued from
    /// (`banjirkiriman`: banjir, kiriman), or the whole tag when it is a
    /// word itself or cannot be split into known words of 3 letters or more.
    fn segment(&self, tag: &str) -> Vec<(usize, usize)> {
        let whole = vec![(0, tag.len())];
        if tag.len() < 6 || tag.len() > 40 || !tag.is_ascii() || self.is_known(tag) {
            return whole;
        }
        // Viterbi over split points: the cost of a piece is its surprisal
        // in the vocabulary, so few common words beat many rare ones.
        let n = tag.len();
        let mut best: Vec<Option<(f64, usize)>> = vec![None; n + 1];
        best[0] = Some((0.0, 0));
        for end in 3..=n {
            for start in 0..=end.saturating_sub(3) {
                let Some((cost, _)) = best[start] else {
                    continue;
                };
                let piece = &tag[start..end];
                let count = match self.vocab.get(piece) {
                    Some(c) if *c >= 20 => *c,
                    _ if self.slang.contains_key(piece) => 20,
                    _ => continue,
                };
                let c = cost + (1e8 / count as f64).ln();
                if best[end].is_none_or(|(b, _)| c < b) {
                    best[end] = Some((c, start));
                }
            }
        }
        if best[n].is_none() {
            return whole;
        }
        let mut parts = Vec::new();
        let mut end = n;
        while end > 0 {
            let Some((_, start)) = best[end] else {
                return whole;
            };
            parts.push((start, end));
            end = start;
        }
        parts.reverse();
        parts
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

/// The tokens for exact matching: each span of the text once (a slang
/// expansion into two words is one surface word), with its lowercased
/// surface form as the term and consecutive positions. Indexing and query
/// parsing both use it, so a quoted phrase matches what was written.
pub fn exact_tokens(tokens: &[Token]) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    for t in tokens {
        if out.last().is_some_and(|l| l.from == t.from && l.to == t.to) {
            continue;
        }
        out.push(Token {
            term: t.raw.clone(),
            position: out.len(),
            ..t.clone()
        });
    }
    out
}

/// A word with its stretched letters shrunk (`banjirrrr` → `banjir`,
/// `maaaaf` → `maaf`): runs of three or more of one letter become one
/// letter, or two when only that makes a known word. `None` when nothing is
/// stretched.
fn unstretch(word: &str, known: impl Fn(&str) -> bool) -> Option<String> {
    // For ASCII, three of a byte in a row is the cheap test.
    if word.is_ascii()
        && !word
            .as_bytes()
            .windows(3)
            .any(|w| w[0] == w[1] && w[1] == w[2])
    {
        return None;
    }
    let chars: Vec<char> = word.chars().collect();
    if !chars.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]) {
        return None;
    }
    let shrink = |keep: usize| -> String {
        let mut out = String::with_capacity(word.len());
        let mut i = 0;
        while i < chars.len() {
            let mut j = i;
            while j < chars.len() && chars[j] == chars[i] {
                j += 1;
            }
            let run = j - i;
            let n = if run >= 3 { keep } else { run };
            out.extend(std::iter::repeat_n(chars[i], n));
            i = j;
        }
        out
    };
    let one = shrink(1);
    if known(&one) {
        return Some(one);
    }
    let two = shrink(2);
    Some(if known(&two) { two } else { one })
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// A word without its vowels, but for a leading one (`tergenang` →
/// `trgnng`, `aman` → `amn`).
fn skeleton(word: &str) -> String {
    word.char_indices()
        .filter(|(i, c)| *i == 0 || !is_vowel(*c))
        .map(|(_, c)| c)
        .collect()
}

fn is_subsequence(short: &str, long: &str) -> bool {
    let mut it = long.chars();
    short.chars().all(|c| it.any(|l| l == c))
}

/// Skeleton → the vocabulary word that writers most likely mean by it: the
/// commonest word with that skeleton, kept only when it is common (seen 100
/// times or more) and at least three times as common as the next, so an
/// ambiguous skeleton restores nothing.
fn skeleton_index(vocab: &HashMap<String, u32>) -> HashMap<String, String> {
    let mut best: HashMap<String, [(u32, &str); 2]> = HashMap::default();
    for (w, n) in vocab {
        if w.len() < 4 || !w.chars().all(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let e = best.entry(skeleton(w)).or_insert([(0, ""), (0, "")]);
        if *n > e[0].0 || (*n == e[0].0 && w.as_str() < e[0].1) {
            e[1] = e[0];
            e[0] = (*n, w);
        } else if *n > e[1].0 {
            e[1] = (*n, w);
        }
    }
    best.into_iter()
        .filter(|(k, [(n1, _), (n2, _)])| k.len() >= 3 && *n1 >= 100 && *n1 >= 3 * *n2)
        .map(|(k, [(_, w), _])| (k, w.to_string()))
        .collect()
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
mod tests;
