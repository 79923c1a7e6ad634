//! Placing a tweet in one of the 35 regencies and cities, or `outside`
//! Central Java.
//!
//! The text says where the problem is; coordinates, the Twitter place and
//! the profile say where the author was. So a place named in the text
//! (full names, sub-districts, landmarks, aliases, and the gazetteer of
//! places elsewhere: `[[outside]]` in `regions.toml`) comes first; then
//! the coordinates, located on the regency boundaries ([`super::geo`]);
//! then the Twitter place (its name, then its bounding box); then the
//! official accounts the tweet mentions; and last the author's profile
//! location. A tweet in Jakarta that names Demak is about Demak, and one
//! from Semarang about a flood in Jakarta is `outside`.
//!
//! Names are matched on lowercased word sequences, longest first, so
//! "Kab. Semarang" beats "Semarang", "Batang Hari" (Jambi) beats "Batang",
//! and "Jl. Solo" (in Sleman) beats "Solo". Each name found votes for its
//! region (all places elsewhere vote for `outside`), longer names and
//! aliases weigh more, and on a tie the later name wins: Indonesian writes
//! the village before the kecamatan before the regency ("Banyumas,
//! Langkat", "Sukoharjo, Ngaglik").
//!
//! Ambiguity is settled in the data and here. A bare "Semarang" is listed
//! only for the city. Names that are also ordinary words ("batang" = stem,
//! "pati" = starch, "tegal" = field) are `context_aliases`: in text they
//! count when capitalised mid-sentence or after a word that announces a
//! place (kab, kota, kec, warga, wilayah…); after di/ke/dari only in a text
//! written all in lowercase, where capitals cannot tell. Short forms that
//! are also acronyms or counts ("Pbg" is the PBG permit, "Slo" PLN's SLO
//! certificate, "2 btg" two cigarettes) are `abbreviations`: they count only
//! after di/ke/dari/kab/…, never after a number. `not_names` are phrases
//! that hold a name but name no place ("Roh Kudus", "solo karir", "batang
//! pohon"): they are matched like names and place nothing. In a place's or
//! a profile's name every name counts, since it is a name.

use std::cell::RefCell;
use std::collections::HashMap;

use super::geo::{self, Boundaries};
use crate::config::{AgencyDef, AgencyKind, OutsideDef, RegionDef};
use crate::model::{RegionCode, Tweet};
use crate::text::{Analyzer, Token, TokenKind};

/// A Twitter place whose box is wider or taller than this (degrees) is a
/// province or a country: its centre says nothing.
const PLACE_BOX_MAX_DEG: f64 = 1.5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum NameKind {
    /// A phrase that holds a name but names no place.
    Not,
    /// Counts only after a place word (di, ke, kab…).
    Abbreviation,
    /// Needs capitalisation or a place word before it.
    Contextual,
    /// A landmark, village, market: weaker than a name.
    Place,
    /// A kecamatan: as strong as a name, but local (village and kecamatan
    /// names repeat across regencies).
    Subdistrict,
    Alias,
}

impl NameKind {
    /// What a match adds to its region's vote, beside its length.
    fn weight(self) -> u32 {
        match self {
            NameKind::Alias | NameKind::Subdistrict => 2,
            NameKind::Place => 1,
            _ => 0,
        }
    }
}

struct Name {
    words: Vec<String>,
    region: RegionCode,
    kind: NameKind,
}

/// How names are read: in running text, or in a field that is a name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reading {
    Text,
    Name,
}

/// Words that announce a place, so a name after them is one.
const PLACE_WORDS: &[&str] = &[
    "kab",
    "kabupaten",
    "kota",
    "kotamadya",
    "wilayah",
    "daerah",
    "warga",
    "kec",
    "kecamatan",
    "pemkab",
    "pemkot",
    "provinsi",
    "prov",
    "bupati",
    "walikota",
    "wali",
    "gubernur",
    "camat",
    "pemda",
    "polda",
    "polres",
    "polresta",
    "polsek",
    "dprd",
    "kominfo",
    "diskominfo",
];

/// Prepositions that usually, but not always, announce a place ("ke
/// tegal" is also "to the field").
const PREPOSITIONS: &[&str] = &["di", "ke", "dari", "neng", "nang", "ning", "ing", "menyang"];

pub struct RegionResolver {
    /// Names keyed by their first word, longest first.
    names: HashMap<String, Vec<Name>>,
    /// Lowercased handles: a region's, its regional agencies', and those of
    /// governments and services elsewhere (`outside`).
    handles: HashMap<String, RegionCode>,
    /// Configured region codes: a polygon of a region the configuration
    /// lacks places nothing.
    configured: Vec<RegionCode>,
    geo: &'static Boundaries,
}

struct Vote {
    region: RegionCode,
    weight: u32,
    last: usize,
    /// Named by a name of the whole region, not only by local names.
    regional: bool,
}

/// What names in some text say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Named {
    region: RegionCode,
    /// By a name of the whole region (not only kecamatan and landmarks).
    regional: bool,
}

/// Scratch reused per tweet: the word tokens of a token list (index, and
/// whether part of a hashtag), and the votes.
struct Scratch {
    words: Vec<(usize, bool)>,
    votes: Vec<Vote>,
}

thread_local! {
    // Analysed place or profile names.
    static TOKENS: RefCell<Vec<Token>> = const { RefCell::new(Vec::new()) };
    static SCRATCH: RefCell<Scratch> = const {
        RefCell::new(Scratch {
            words: Vec::new(),
            votes: Vec::new(),
        })
    };
}

impl RegionResolver {
    pub fn build(
        regions: &[RegionDef],
        outside: &[OutsideDef],
        agencies: &[AgencyDef],
        analyzer: &Analyzer,
    ) -> RegionResolver {
        let mut names: HashMap<String, Vec<Name>> = HashMap::new();
        let mut handles = HashMap::new();
        let mut add = |text: &str, region: RegionCode, kind: NameKind| {
            let mut toks = Vec::new();
            analyzer.analyse(text, &mut toks);
            let words: Vec<String> = words(&toks).map(|(i, _)| toks[i].raw.clone()).collect();
            if let Some(first) = words.first() {
                names.entry(first.clone()).or_default().push(Name {
                    words,
                    region,
                    kind,
                });
            }
        };
        struct Lists<'a> {
            region: RegionCode,
            official: Option<&'a str>,
            aliases: &'a [String],
            subdistricts: &'a [String],
            places: &'a [String],
            context_aliases: &'a [String],
            abbreviations: &'a [String],
            not_names: &'a [String],
            handles: &'a [String],
        }
        let lists = regions
            .iter()
            .map(|r| Lists {
                region: RegionCode(r.code.parse().unwrap_or(0)),
                official: Some(&r.name),
                aliases: &r.aliases,
                subdistricts: &r.subdistricts,
                places: &r.places,
                context_aliases: &r.context_aliases,
                abbreviations: &r.abbreviations,
                not_names: &r.not_names,
                handles: &r.handles,
            })
            .chain(outside.iter().map(|o| Lists {
                region: RegionCode::OUTSIDE,
                // An entry's name labels it; its aliases are what is matched.
                official: None,
                aliases: &o.aliases,
                subdistricts: &[],
                places: &o.places,
                context_aliases: &o.context_aliases,
                abbreviations: &o.abbreviations,
                not_names: &o.not_names,
                handles: &o.handles,
            }));
        for l in lists {
            let code = l.region;
            for a in l
                .official
                .into_iter()
                .chain(l.aliases.iter().map(String::as_str))
            {
                add(a, code, NameKind::Alias);
            }
            for a in l.subdistricts {
                add(a, code, NameKind::Subdistrict);
            }
            for a in l.places {
                add(a, code, NameKind::Place);
            }
            for a in l.context_aliases {
                add(a, code, NameKind::Contextual);
            }
            for a in l.abbreviations {
                add(a, code, NameKind::Abbreviation);
            }
            for a in l.not_names {
                add(a, RegionCode::UNKNOWN, NameKind::Not);
            }
            for h in l.handles {
                handles.insert(h.to_lowercase(), code);
            }
        }
        for a in agencies {
            if a.kind == AgencyKind::Regional && a.regions.len() == 1 {
                if let Ok(code) = a.regions[0].parse() {
                    for h in &a.handles {
                        handles.insert(h.to_lowercase(), RegionCode(code));
                    }
                }
            }
        }
        // Longest names first, so the first match at a position is the
        // best; of equal ones, a phrase that names nothing first.
        for list in names.values_mut() {
            list.sort_by(|a, b| b.words.len().cmp(&a.words.len()).then(a.kind.cmp(&b.kind)));
        }
        RegionResolver {
            names,
            handles,
            configured: regions
                .iter()
                .filter_map(|r| r.code.parse().ok())
                .map(RegionCode)
                .collect(),
            geo: geo::boundaries(),
        }
    }

    /// The region of a point: a configured regency, `outside`, or unknown.
    pub fn locate_point(&self, lon: f64, lat: f64) -> RegionCode {
        let r = self.geo.locate(lon, lat);
        if r.in_jateng() && !self.configured.contains(&r) {
            return RegionCode::UNKNOWN;
        }
        r
    }

    /// The region a Twitter place names, or its bounding box holds.
    fn place(&self, place: &crate::model::Place, analyzer: &Analyzer) -> Option<RegionCode> {
        let named = TOKENS
            .with(|t| {
                let toks = &mut *t.borrow_mut();
                analyzer.analyse(&place.full_name, toks);
                self.named_in(toks, Reading::Name)
            })
            .map(|n| n.region);
        let Some([w, s, e, n]) = place.bbox else {
            return named;
        };
        if !([w, s, e, n].iter().all(|v| v.is_finite()) && w <= e && s <= n) {
            return named;
        }
        let small = e - w <= PLACE_BOX_MAX_DEG && n - s <= PLACE_BOX_MAX_DEG;
        let boxed = if small {
            Some(self.locate_point((w + e) / 2.0, (s + n) / 2.0)).filter(|r| r.is_known())
        } else {
            // A province or a country: outside only if it misses Central Java.
            let [jw, js, je, jn] = self.geo.jateng_bbox();
            (e < jw || w > je || n < js || s > jn).then_some(RegionCode::OUTSIDE)
        };
        match (named, boxed) {
            // The box settles which side of the provincial border a name
            // shared with a place elsewhere is on; the name settles an
            // enclave (a city's box is mostly its regency).
            (Some(n), Some(b)) if n.in_jateng() != b.in_jateng() => Some(b),
            (Some(n), _) => Some(n),
            (None, b) => b,
        }
    }

    /// The best region named in analysed tokens, if any.
    fn named_in(&self, tokens: &[Token], reading: Reading) -> Option<Named> {
        SCRATCH.with(|s| {
            let Scratch { words, votes } = &mut *s.borrow_mut();
            words.clear();
            words.extend(self::words(tokens));
            votes.clear();
            // In a text without capitals, capitals cannot tell a name.
            let cased = tokens.iter().any(|t| t.capitalised);
            let mut i = 0;
            while i < words.len() {
                let (wi, in_hashtag) = words[i];
                let w = &tokens[wi];
                let Some(cands) = self.names.get(w.raw.as_str()) else {
                    i += 1;
                    continue;
                };
                let prev = i.checked_sub(1).map(|j| tokens[words[j].0].raw.as_str());
                let after_number = prev.is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
                let after_place_word = prev.is_some_and(|p| PLACE_WORDS.contains(&p));
                let after_preposition = prev.is_some_and(|p| PREPOSITIONS.contains(&p));
                // The longest name here that counts; a phrase that names
                // nothing ends the search.
                let found = cands
                    .iter()
                    .filter(|name| {
                        let n = name.words.len();
                        i + n <= words.len()
                            && words[i..i + n]
                                .iter()
                                .zip(&name.words)
                                .all(|(&(t, _), w)| tokens[t].raw == *w)
                    })
                    .find(|name| match (name.kind, reading) {
                        (NameKind::Not, _) | (_, Reading::Name) => true,
                        (NameKind::Contextual, Reading::Text) => {
                            !after_number
                                && ((w.capitalised && !w.sentence_start)
                                    || in_hashtag
                                    || after_place_word
                                    || (!cased && after_preposition))
                        }
                        (NameKind::Abbreviation, Reading::Text) => {
                            !after_number && (after_place_word || after_preposition)
                        }
                        _ => true,
                    });
                let Some(name) = found else {
                    i += 1;
                    continue;
                };
                let n = name.words.len();
                if name.kind == NameKind::Not {
                    i += n;
                    continue;
                }
                let weight = 2 * n as u32 + name.kind.weight();
                let regional = !matches!(name.kind, NameKind::Place | NameKind::Subdistrict);
                match votes.iter_mut().find(|v| v.region == name.region) {
                    Some(v) => {
                        v.weight += weight;
                        v.last = i;
                        v.regional |= regional;
                    }
                    None => votes.push(Vote {
                        region: name.region,
                        weight,
                        last: i,
                        regional,
                    }),
                }
                i += n;
            }
            votes
                .iter()
                .max_by_key(|v| (v.weight, v.last))
                .map(|v| Named {
                    region: v.region,
                    regional: v.regional,
                })
        })
    }

    /// The region of an account: a configured handle, or one made of a
    /// public prefix and a one-word name (`PemkotBandung` is outside,
    /// `pemkabdemak` Demak).
    fn handle(&self, username: &str) -> Option<RegionCode> {
        let h = username.to_lowercase();
        if let Some(r) = self.handles.get(&h) {
            return Some(*r);
        }
        let one_word = |w: &str| {
            self.names
                .get(w)?
                .iter()
                .find_map(|n| (n.words.len() == 1 && n.kind != NameKind::Not).then_some(n.region))
        };
        let parts: Vec<&str> = h
            .split(|c: char| c == '_' || c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .collect();
        let public_part = parts.iter().any(|p| HANDLE_PREFIXES.contains(p));
        parts.iter().find_map(|&p| {
            let rest = strip_affixes(p);
            (rest != p || public_part).then(|| one_word(rest)).flatten()
        })
    }

    /// The region of a tweet. `to_jateng`: it is addressed to a Central Java
    /// authority (#KemalaJateng, a configured account), so a profile
    /// elsewhere (a migrant writing home) does not make it `outside`.
    pub fn resolve(
        &self,
        tweet: &Tweet,
        tokens: &[Token],
        analyzer: &Analyzer,
        to_jateng: bool,
    ) -> RegionCode {
        let named = self.named_in(tokens, Reading::Text);
        // Where the author was: the coordinates, else the Twitter place.
        let device = || {
            tweet
                .coordinates
                .map(|(lon, lat)| self.locate_point(lon, lat))
                .filter(|r| r.is_known())
                .or_else(|| tweet.place.as_ref().and_then(|p| self.place(p, analyzer)))
        };
        match named {
            // Only a kecamatan or landmark names another regency than the
            // one the author was in: such names repeat across regencies
            // (Sukorejo, Manyaran, Jatibarang are kelurahan of Semarang
            // too), so the author's regency wins.
            Some(n) if n.region.in_jateng() && !n.regional => {
                return match device() {
                    Some(d) if d.in_jateng() => d,
                    _ => n.region,
                }
            }
            Some(n) => return n.region,
            None => {}
        }
        if let Some(r) = device() {
            return r;
        }
        if let Some(r) = tweet.mentions.iter().find_map(|m| self.handle(&m.username)) {
            return r;
        }
        if let Some(loc) = &tweet.author_location {
            let named = TOKENS.with(|t| {
                let toks = &mut *t.borrow_mut();
                analyzer.analyse(loc, toks);
                self.named_in(toks, Reading::Name)
            });
            if let Some(n) = named.filter(|n| n.region.in_jateng() || !to_jateng) {
                return n.region;
            }
        }
        RegionCode::UNKNOWN
    }
}

/// Parts of account names that say the rest is a place: `PemkotBandung`,
/// `dishub_kulonprogo`, `NTB_Prov`, `infomalang`, `txtdrbekasi`, and
/// local fan and news accounts.
const HANDLE_PREFIXES: &[&str] = &[
    "pemkot",
    "pemkab",
    "pemprov",
    "pemda",
    "pemdes",
    "humas",
    "info",
    "dishub",
    "dinkes",
    "dinsos",
    "dkk",
    "bpbd",
    "diskominfo",
    "kominfo",
    "dpupr",
    "dpu",
    "dlh",
    "satpolpp",
    "satpol",
    "polresta",
    "polres",
    "dprd",
    "kab",
    "kota",
    "prov",
    "txtdari",
    "txtdr",
    "txt",
    "base",
    "about",
    "sapa",
    "pdam",
    "rsud",
    "kabar",
    "seputar",
    "explore",
    "visit",
    "ilove",
];

/// The same at the end: `jeparakabgoid`, `undipmenfess`, `UGM_FESS`.
const HANDLE_SUFFIXES: &[&str] = &[
    "goid", "kab", "kota", "prov", "menfess", "fess", "mfs", "info", "update", "official",
];

/// A part of an account name without its public prefixes and suffixes.
fn strip_affixes(mut rest: &str) -> &str {
    loop {
        let shorter = HANDLE_PREFIXES
            .iter()
            .filter_map(|x| rest.strip_prefix(x))
            .chain(HANDLE_SUFFIXES.iter().filter_map(|x| rest.strip_suffix(x)))
            .filter(|r| !r.is_empty())
            .min_by_key(|r| r.len());
        match shorter {
            Some(r) => rest = r,
            None => return rest,
        }
    }
}

/// The word tokens, once per surface word (slang that expands one word
/// into two gives two tokens of the same word), each with whether it is
/// part of a hashtag (`#BanjirDemak` is `banjir`, `demak`).
fn words(tokens: &[Token]) -> impl Iterator<Item = (usize, bool)> + '_ {
    let mut hashtag_end = 0;
    tokens.iter().enumerate().filter_map(move |(i, t)| {
        if t.kind == TokenKind::Hashtag {
            hashtag_end = t.to;
        }
        (t.kind == TokenKind::Word && !(i > 0 && tokens[i - 1].from == t.from))
            .then_some((i, t.from < hashtag_end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::model::{Mention, Place};
    use crate::text::analyzer;

    fn resolver() -> &'static RegionResolver {
        static R: std::sync::OnceLock<RegionResolver> = std::sync::OnceLock::new();
        R.get_or_init(|| {
            let c = Config::embedded().expect("bundled config");
            RegionResolver::build(&c.regions, &c.outside, &c.agencies, analyzer())
        })
    }

    fn tweet(text: &str) -> Tweet {
        Tweet {
            id: 1,
            text: text.into(),
            author_id: "1".into(),
            author_username: "warga".into(),
            ..Tweet::default()
        }
    }

    fn label(code: RegionCode) -> String {
        match code {
            RegionCode::OUTSIDE => "outside".into(),
            RegionCode::UNKNOWN => "unknown".into(),
            c => c.0.to_string(),
        }
    }

    fn resolve(t: &Tweet) -> String {
        let mut toks = Vec::new();
        analyzer().analyse(&t.text, &mut toks);
        let to_jateng = t.hashtags.iter().any(|h| h == "KemalaJateng");
        label(resolver().resolve(t, &toks, analyzer(), to_jateng))
    }

    /// The region of a text alone.
    fn check(text: &str, expected: &str) {
        assert_eq!(resolve(&tweet(text)), expected, "{text}");
    }

    #[test]
    fn words_that_are_also_places_name_none_when_they_mean_something_else() {
        // The examples: each gets what a person would say.
        for (text, expected) in [
            ("Banjir di Kudus sudah sepinggang", "3319"),
            ("Semoga Roh Kudus menyertai kita semua", "unknown"),
            ("Gereja di Kudus merayakan turunnya Roh Kudus", "3319"),
            ("Dia memilih solo karir setelah bandnya bubar", "unknown"),
            ("Macet parah di Solo pagi ini", "3372"),
            (
                "Urus SLO listrik di PLN lama banget, sudah sebulan",
                "unknown",
            ),
            ("Pengajuan PBG rumah saya belum selesai juga", "unknown"),
            ("Beli rokok 2 btg aja dimarahin", "unknown"),
            ("Kucingnya nyangkut di batang pohon depan rumah", "unknown"),
            ("Bapak lagi ke tegal nandur jagung", "unknown"),
            ("Tepung pati singkong sekarang mahal", "unknown"),
            ("Resep puding pakai pati garut", "unknown"),
            // The same names as places.
            ("Jalan rusak di Batang makin parah", "3325"),
            ("Kirim barang ke Tegal lewat pos", "3376"),
            ("Banjir di Pati belum surut", "3318"),
            ("banjir di btg belum surut", "3325"),
            ("macet di pbg dari pagi", "3303"),
            ("otw slo, di slo macet", "3372"),
            ("warga batang protes jalan rusak", "3325"),
            // Without capitals anywhere, a preposition is enough.
            ("banjir di pati parah", "3318"),
            ("air sampai ke tegal alun alun", "3376"),
            // Hashtags name places.
            ("Air masuk rumah #BanjirDemak", "3321"),
            ("Jalan berlubang lagi #Batang", "3325"),
        ] {
            check(text, expected);
        }
    }

    #[test]
    fn places_elsewhere_are_outside_and_shared_names_settle() {
        for (text, expected) in [
            ("Banjir di Jakarta Utara sudah sepinggang", "outside"),
            ("Jaksel banjir lagi, Kemang lumpuh", "outside"),
            ("Macet total di Cikarang arah Bekasi", "outside"),
            ("Lampu jalan mati di Sleman, tolong", "outside"),
            ("Banjir rob di Surabaya utara", "outside"),
            ("Jalan rusak di Kota Malang", "outside"),
            (
                "Desa Banyumas, Kec. Stabat, Kab. Langkat kebanjiran",
                "outside",
            ),
            ("Sukoharjo, Ngaglik, Sleman: sampah menumpuk", "outside"),
            ("Kec. Karanganyar, Kab. Ngawi banjir", "outside"),
            ("Karanganyar banjir bandang", "3313"),
            ("Banjir di Batang Hari, Jambi", "outside"),
            ("Macet di Jl. Solo depan Ambarrukmo", "outside"),
            ("Lampu jalan mati di Jalan Solo, Maguwoharjo", "outside"),
            ("sepanjang jalan solo rusak semua", "3372"),
            ("Candi Prambanan ramai sekali", "outside"),
            ("Sampah menumpuk di pasar Prambanan", "unknown"),
            ("Sampah menumpuk di Kec. Sampang, Cilacap", "3301"),
            ("Banjir di Kab. Sampang, Madura", "outside"),
            // A route or a comparison: the later name, Central Java on a tie.
            ("Kereta dari Jakarta ke Semarang telat", "3374"),
            ("Ungaran banjir", "3322"),
            ("Semarang banjir", "3374"),
            // The idiom for all of Indonesia names nowhere.
            ("Dari Sabang sampai Merauke jalan rusak semua", "unknown"),
            ("Penegakan hukum DIY alias do it yourself", "unknown"),
            ("Banjir di DIY meluas", "outside"),
        ] {
            check(text, expected);
        }
    }

    fn with(text: &str, f: impl FnOnce(&mut Tweet)) -> String {
        let mut t = tweet(text);
        f(&mut t);
        resolve(&t)
    }

    fn place(name: &str, bbox: Option<[f64; 4]>) -> Option<Place> {
        Some(Place {
            full_name: name.into(),
            bbox,
        })
    }

    #[test]
    fn coordinates_places_accounts_and_profiles() {
        let jakarta = (106.8272, -6.1754);
        let semarang = (110.4229, -6.9903);
        let cases: Vec<(&str, String, &str)> = vec![
            // Coordinates, when the text names nothing.
            (
                "banjir",
                with("banjir", |t| t.coordinates = Some(jakarta)),
                "outside",
            ),
            (
                "banjir",
                with("banjir", |t| t.coordinates = Some(semarang)),
                "3374",
            ),
            // The text says where the problem is; the device where the author was.
            (
                "from Semarang about Jakarta",
                with("Banjir Jakarta parah", |t| t.coordinates = Some(semarang)),
                "outside",
            ),
            (
                "from Jakarta about Demak",
                with("Banjir di Demak, keluarga saya ngungsi", |t| {
                    t.coordinates = Some(jakarta)
                }),
                "3321",
            ),
            // A kelurahan named like a kecamatan elsewhere: the author's regency.
            (
                "Manyaran, Semarang",
                with("Manyaran naik drastis", |t| {
                    t.place = place("Kota Semarang, Jawa Tengah", None)
                }),
                "3374",
            ),
            (
                "Manyaran alone",
                with("Manyaran naik drastis", |_| {}),
                "3312",
            ),
            // Twitter places: the name and the box.
            (
                "Jakarta Selatan",
                with("macet", |t| {
                    t.place = place(
                        "Jakarta Selatan, DKI Jakarta",
                        Some([106.75, -6.37, 106.88, -6.2]),
                    )
                }),
                "outside",
            ),
            (
                "Semarang, Indonesia",
                with("macet", |t| t.place = place("Semarang, Indonesia", None)),
                "3374",
            ),
            (
                "a country",
                with("macet", |t| {
                    t.place = place("Indonesia", Some([95.0, -11.0, 141.0, 6.0]))
                }),
                "unknown",
            ),
            (
                "an unnamed box in Demak",
                with("macet", |t| {
                    t.place = place("Desa Entah", Some([110.55, -6.93, 110.65, -6.87]))
                }),
                "3321",
            ),
            (
                "Sukoharjo in Lampung",
                with("macet", |t| {
                    t.place = place("Sukoharjo, Indonesia", Some([104.9, -5.4, 105.1, -5.2]))
                }),
                "outside",
            ),
            // Accounts: configured, and made of a public prefix and a name.
            (
                "@PemkotBandung",
                with("lampu jalan mati", |t| {
                    t.mentions = vec![Mention {
                        username: "PemkotBandung".into(),
                        id: None,
                    }]
                }),
                "outside",
            ),
            (
                "@pemkabdemak",
                with("lampu jalan mati", |t| {
                    t.mentions = vec![Mention {
                        username: "pemkabdemak".into(),
                        id: None,
                    }]
                }),
                "3321",
            ),
            (
                "@warga_smg is a person",
                with("lampu jalan mati", |t| {
                    t.mentions = vec![Mention {
                        username: "warga_smg".into(),
                        id: None,
                    }]
                }),
                "unknown",
            ),
            // Profiles, last.
            (
                "Kota Malang, Jawa Timur",
                with("lampu jalan mati", |t| {
                    t.author_location = Some("Kota Malang, Jawa Timur".into())
                }),
                "outside",
            ),
            (
                "Tegal",
                with("lampu jalan mati", |t| {
                    t.author_location = Some("Tegal".into())
                }),
                "3376",
            ),
            // Addressed to Central Java, a profile elsewhere is someone
            // writing home: not outside.
            (
                "Jakarta profile to #KemalaJateng",
                with("lampu jalan mati #KemalaJateng", |t| {
                    t.author_location = Some("Jakarta".into());
                    t.hashtags = vec!["KemalaJateng".into()];
                }),
                "unknown",
            ),
        ];
        for (what, got, expected) in cases {
            assert_eq!(got, expected, "{what}");
        }
    }

    #[test]
    fn resolving_is_fast() {
        // Not an assertion: a figure for the enrichment budget (15 µs a tweet).
        let texts = [
            "Banjir rob lagi di Sayung, air sudah sedengkul, tolong @bpbdjateng #KemalaJateng",
            "Jalan Kaligawe rusak parah, banyak jeglongan, mohon segera diperbaiki pak",
            "Lampu jalan mati di Jl. Solo depan Ambarrukmo, tolong @pemkabsleman",
            "min tolong dong ini daerah jalan bratanggede mati lampu sudah 30 menit",
        ];
        let tweets: Vec<(Tweet, Vec<Token>)> = texts
            .iter()
            .map(|text| {
                let mut t = tweet(text);
                t.author_location = Some("Semarang, Jawa Tengah".into());
                t.place = place("Semarang, Indonesia", Some([110.27, -7.1, 110.5, -6.9]));
                let mut toks = Vec::new();
                analyzer().analyse(text, &mut toks);
                (t, toks)
            })
            .collect();
        let r = resolver();
        let n = 20_000;
        let started = std::time::Instant::now();
        for i in 0..n {
            let (t, toks) = &tweets[i % tweets.len()];
            std::hint::black_box(r.resolve(t, toks, analyzer(), false));
        }
        let per = started.elapsed().as_secs_f64() * 1e6 / n as f64;
        eprintln!("region: {per:.2} µs per tweet (text, place and profile; analysed text given)");
    }
}
