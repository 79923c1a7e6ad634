//! Placing a tweet in one of the 35 regencies and cities.
//!
//! Evidence is taken in order of trust: the tweet's coordinates, its place
//! (name, then bounding box), names in the text (full names, sub-districts,
//! landmarks, aliases), the official accounts it mentions, and last the
//! author's profile location. Names are matched on lowercased token
//! sequences, longest first, so "Kab. Semarang" beats "Semarang".
//!
//! Ambiguity is settled in the data and here: a bare "Semarang" is listed
//! only for the city; words that are also ordinary words ("batang", "pati",
//! "tegal") are `context_aliases` and count only when capitalised or after
//! di/ke/dari/kab/kota. Coordinates are tested against each city's radius
//! before the nearest regency centroid, because Kab. Magelang surrounds
//! Kota Magelang and Kab. Semarang surrounds Salatiga.

use std::collections::HashMap;

use crate::config::{AgencyDef, AgencyKind, RegionDef, RegionKind};
use crate::model::{RegionCode, Tweet};
use crate::text::{Analyzer, Token, TokenKind};

/// Central Java's bounding box, with a margin: `[west, south, east, north]`.
const JATENG_BBOX: [f64; 4] = [108.4, -8.4, 111.9, -6.2];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum NameKind {
    /// Needs capitalisation or a place preposition before it.
    Contextual = 0,
    Place = 1,
    Alias = 2,
}

struct Name {
    words: Vec<String>,
    region: RegionCode,
    kind: NameKind,
}

struct Centroid {
    region: RegionCode,
    lat: f64,
    lon: f64,
    radius_km: f64,
    is_city: bool,
}

pub struct RegionResolver {
    /// Names keyed by their first word.
    names: HashMap<String, Vec<Name>>,
    handles: HashMap<String, RegionCode>,
    centroids: Vec<Centroid>,
}

const CONTEXT_WORDS: &[&str] = &[
    "di",
    "ke",
    "dari",
    "kab",
    "kabupaten",
    "kota",
    "wilayah",
    "daerah",
    "warga",
    "neng",
    "ing",
    "kec",
    "kecamatan",
];

impl RegionResolver {
    pub fn build(
        regions: &[RegionDef],
        agencies: &[AgencyDef],
        analyzer: &Analyzer,
    ) -> RegionResolver {
        let mut names: HashMap<String, Vec<Name>> = HashMap::new();
        let mut handles = HashMap::new();
        let mut centroids = Vec::new();
        let mut add = |text: &str, region: RegionCode, kind: NameKind| {
            let mut toks = Vec::new();
            analyzer.analyse(text, &mut toks);
            let words: Vec<String> = toks
                .into_iter()
                .filter(|t| t.kind == TokenKind::Word)
                .map(|t| t.raw)
                .collect();
            if let Some(first) = words.first() {
                names.entry(first.clone()).or_default().push(Name {
                    words,
                    region,
                    kind,
                });
            }
        };
        for r in regions {
            let code = RegionCode(r.code.parse().unwrap_or(0));
            add(&r.name, code, NameKind::Alias);
            for a in &r.aliases {
                add(a, code, NameKind::Alias);
            }
            for a in &r.subdistricts {
                add(a, code, NameKind::Alias);
            }
            for a in &r.places {
                add(a, code, NameKind::Place);
            }
            for a in &r.context_aliases {
                add(a, code, NameKind::Contextual);
            }
            for h in &r.handles {
                handles.insert(h.to_lowercase(), code);
            }
            centroids.push(Centroid {
                region: code,
                lat: r.lat,
                lon: r.lon,
                radius_km: r.radius_km,
                is_city: matches!(r.kind, RegionKind::Kota),
            });
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
        // Longest names first, so the first match at a position is the best.
        for list in names.values_mut() {
            list.sort_by(|a, b| b.words.len().cmp(&a.words.len()).then(b.kind.cmp(&a.kind)));
        }
        RegionResolver {
            names,
            handles,
            centroids,
        }
    }

    /// The region of a point, or unknown outside Central Java.
    pub fn locate_point(&self, lon: f64, lat: f64) -> RegionCode {
        let [w, s, e, n] = JATENG_BBOX;
        if !(w..=e).contains(&lon) || !(s..=n).contains(&lat) {
            return RegionCode::UNKNOWN;
        }
        // Cities are enclaves: test them first, by their radius.
        let city = self
            .centroids
            .iter()
            .filter(|c| c.is_city)
            .map(|c| (distance_km(lat, lon, c.lat, c.lon), c))
            .filter(|(d, c)| *d <= c.radius_km)
            .min_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((_, c)) = city {
            return c.region;
        }
        self.centroids
            .iter()
            .filter(|c| !c.is_city)
            .map(|c| {
                (
                    distance_km(lat, lon, c.lat, c.lon) / c.radius_km.max(1.0),
                    c,
                )
            })
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .filter(|(ratio, _)| *ratio <= 3.0)
            .map_or(RegionCode::UNKNOWN, |(_, c)| c.region)
    }

    /// The best region named in analysed text, if any.
    fn named_in(&self, tokens: &[Token]) -> Option<RegionCode> {
        let words: Vec<&Token> = tokens
            .iter()
            .filter(|t| t.kind == TokenKind::Word)
            .collect();
        // (region, weight, position of its last mention)
        let mut votes: Vec<(RegionCode, u32, usize)> = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let mut advanced = false;
            if let Some(cands) = self.names.get(words[i].raw.as_str()) {
                for name in cands {
                    let n = name.words.len();
                    if i + n > words.len()
                        || !words[i..i + n]
                            .iter()
                            .zip(&name.words)
                            .all(|(t, w)| t.raw == *w)
                    {
                        continue;
                    }
                    if name.kind == NameKind::Contextual {
                        let after_context =
                            i > 0 && CONTEXT_WORDS.contains(&words[i - 1].raw.as_str());
                        let proper_noun = words[i].capitalised && !words[i].sentence_start;
                        if !(proper_noun || after_context) {
                            continue;
                        }
                    }
                    // Longer names are more specific; aliases beat places.
                    let weight = 2 * n as u32 + name.kind as u32;
                    match votes.iter_mut().find(|(r, _, _)| *r == name.region) {
                        Some(v) => {
                            v.1 += weight;
                            v.2 = i;
                        }
                        None => votes.push((name.region, weight, i)),
                    }
                    i += n;
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                i += 1;
            }
        }
        // On a tie the later name wins: Indonesian writes the village before
        // the kecamatan before the regency ("Tlogomulyo Pedurungan").
        votes
            .into_iter()
            .max_by_key(|(_, w, last)| (*w, *last))
            .map(|(r, _, _)| r)
    }

    pub fn resolve(&self, tweet: &Tweet, tokens: &[Token], analyzer: &Analyzer) -> RegionCode {
        if let Some((lon, lat)) = tweet.coordinates {
            let r = self.locate_point(lon, lat);
            if r.is_known() {
                return r;
            }
        }
        if let Some(place) = &tweet.place {
            let mut toks = Vec::new();
            analyzer.analyse(&place.full_name, &mut toks);
            if let Some(r) = self.named_in(&toks) {
                return r;
            }
            if let Some([w, s, e, n]) = place.bbox {
                let r = self.locate_point((w + e) / 2.0, (s + n) / 2.0);
                if r.is_known() {
                    return r;
                }
            }
        }
        if let Some(r) = self.named_in(tokens) {
            return r;
        }
        for m in &tweet.mentions {
            if let Some(r) = self.handles.get(&m.username.to_lowercase()) {
                return *r;
            }
        }
        if let Some(loc) = &tweet.author_location {
            let mut toks = Vec::new();
            analyzer.analyse(loc, &mut toks);
            if let Some(r) = self.named_in(&toks) {
                return r;
            }
        }
        RegionCode::UNKNOWN
    }
}

fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    // Equirectangular is accurate to well under 1% at this scale.
    let x = (lon2 - lon1).to_radians() * ((lat1 + lat2) / 2.0).to_radians().cos();
    let y = (lat2 - lat1).to_radians();
    6371.0 * (x * x + y * y).sqrt()
}
