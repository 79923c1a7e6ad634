//! Enrichment: language, topics, region, complaint and agency for one tweet.
//!
//! Everything here is a pure, synchronous function of one tweet and the
//! loaded configuration: no awaiting, no logging per tweet, no channels.
//! [`Enricher::build`] compiles the configuration into matchers once, at
//! start-up, so that a bad keyword fails there and the hot path only looks
//! things up. The analysed tokens are handed on to the index, so a tweet is
//! tokenised once.

pub mod eval;
pub mod geo;
pub mod lang;
pub mod learned;
pub mod region;
pub mod topic;
pub mod train;

use std::cell::RefCell;
use std::collections::HashMap;

use anyhow::Context;

use crate::config::{AgencyKind, Config, ModelSource};
use crate::model::{AgencyId, Enriched, Lang, RegionCode, TopicId, Tweet};
use crate::text::{analyzer, Analyzer, Token, TokenKind};
use lang::LanguageDetector;
use learned::{Addressee, Cues, LinearModel, Mode};
use region::RegionResolver;
use topic::{Lexicon, TopicClassifier};

/// The hashtag that addresses the province's complaint channel.
pub const COMPLAINT_HASHTAG: &str = "kemalajateng";

/// The model `kemala train` made from the corpus, bundled with the binary.
pub const BUNDLED_MODEL: &[u8] = include_bytes!("../../assets/model/enrich.kmodel");

/// Parts of handles that public institutions use (`pemkotsmg`,
/// `humasjateng`, `dinkeskotasmg`, `pdam_tirtamoedal`, `laporgub`): a
/// mention of one suggests the tweet is addressed to a public body, even
/// one the configuration does not list.
const PUBLIC_HANDLE_PREFIXES: &[&str] = &[
    "pemkot", "pemkab", "pemprov", "pemda", "pemdes", "humas", "dinas", "dinkes", "dinsos", "dkk",
    "dishub", "disdik", "disduk", "dukcapil", "polres", "polda", "polsek", "polri", "divhumas",
    "bpbd", "bnpb", "pdam", "dprd", "kemen", "bpjs", "satpol", "damkar", "kab", "kota", "prov",
];
const PUBLIC_HANDLE_PARTS: &[&str] = &[
    "lapor",
    "aduan",
    "pengaduan",
    "sapa",
    "humas",
    "pemkot",
    "pemkab",
    "pemprov",
    "dukcapil",
    "pdam",
    "pln",
    "kai121",
    "commuterline",
    "krl",
    "bpjs",
    "dinkes",
    "dishub",
    "polres",
    "polda",
    "_go_id",
    "goid",
    "kominfo",
    "ombudsman",
    "kemensos",
    "kemnaker",
];

/// Parts of handles that complaint channels use.
const CHANNEL_HANDLE_PARTS: &[&str] = &["lapor", "aduan", "pengaduan", "sapawarga", "keluhan"];

/// Whether a handle looks like a public body's.
pub fn looks_public(handle: &str) -> bool {
    let h = handle.to_ascii_lowercase();
    PUBLIC_HANDLE_PREFIXES.iter().any(|p| h.starts_with(p))
        || PUBLIC_HANDLE_PARTS.iter().any(|p| h.contains(p))
}

/// The model with its classes mapped onto the configured topics.
struct Learned {
    model: LinearModel,
    complaint: usize,
    /// Per model class: the configured topic it is, if any.
    topic_of_class: Vec<Option<TopicId>>,
    /// Configured topics the model has no class for: the lexicons decide them.
    lexicon_only: Vec<TopicId>,
}

thread_local! {
    // Scratch for the model's features and scores, reused per tweet.
    static SCRATCH: RefCell<(Vec<u32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

pub struct Enricher {
    analyzer: &'static Analyzer,
    lang: LanguageDetector,
    topics: TopicClassifier,
    learned: Option<Learned>,
    topic_ids: Vec<String>,
    regions: RegionResolver,
    official_ids: HashMap<String, AgencyId>,
    official_handles: HashMap<String, AgencyId>,
    /// Per topic: (agency, regions it covers (empty = all)) in preference order.
    topic_agencies: Vec<Vec<(AgencyId, Vec<u16>)>>,
    route_to_region: Vec<bool>,
    regional_agency: HashMap<u16, AgencyId>,
    channel_agency: Option<AgencyId>,
    agency_kinds: Vec<AgencyKind>,
}

impl Enricher {
    /// Compiles the configuration and loads the model it names; fails on a
    /// model that cannot be read, saying which file and why.
    pub fn build(config: &Config) -> anyhow::Result<Enricher> {
        let model = match &config.model {
            ModelSource::Off => None,
            ModelSource::Bundled => {
                Some(LinearModel::read(BUNDLED_MODEL).context("the bundled enrichment model")?)
            }
            ModelSource::File(path) => {
                let f = std::fs::File::open(path).with_context(|| {
                    format!(
                        "cannot open the enrichment model `{}` ([data] model)",
                        path.display()
                    )
                })?;
                Some(
                    LinearModel::read(std::io::BufReader::new(f)).with_context(|| {
                        format!("the enrichment model `{}` ([data] model)", path.display())
                    })?,
                )
            }
        };
        Ok(Enricher::with_model(config, model))
    }

    /// An enricher with the given model, or the lexicons alone.
    pub fn with_model(config: &Config, model: Option<LinearModel>) -> Enricher {
        let analyzer = analyzer();
        let mut official_ids = HashMap::new();
        let mut official_handles = HashMap::new();
        let mut regional_agency = HashMap::new();
        let mut channel_agency = None;
        let agency_index: HashMap<&str, AgencyId> = config
            .agencies
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), AgencyId(i as u16)))
            .collect();
        for (i, a) in config.agencies.iter().enumerate() {
            let id = AgencyId(i as u16);
            for u in &a.user_ids {
                official_ids.insert(u.clone(), id);
            }
            for h in &a.handles {
                official_handles.insert(h.to_lowercase(), id);
            }
            if a.kind == AgencyKind::Regional && a.regions.len() == 1 {
                if let Ok(code) = a.regions[0].parse::<u16>() {
                    regional_agency.entry(code).or_insert(id);
                }
            }
            if a.kind == AgencyKind::Channel && channel_agency.is_none() {
                channel_agency = Some(id);
            }
        }
        let topic_agencies = config
            .topics
            .iter()
            .map(|t| {
                t.agencies
                    .iter()
                    .filter_map(|a| agency_index.get(a.as_str()).copied())
                    .map(|id| {
                        let regions = config.agencies[id.0 as usize]
                            .regions
                            .iter()
                            .filter_map(|r| r.parse().ok())
                            .collect();
                        (id, regions)
                    })
                    .collect()
            })
            .collect();
        let topic_ids: Vec<String> = config.topics.iter().map(|t| t.id.clone()).collect();
        let learned = model.and_then(|model| {
            let complaint = model.class_index(learned::COMPLAINT)?;
            let topic_of_class: Vec<Option<TopicId>> = model
                .classes
                .iter()
                .map(|c| {
                    topic_ids
                        .iter()
                        .position(|t| t == c)
                        .map(|i| TopicId(i as u16))
                })
                .collect();
            let lexicon_only = (0..topic_ids.len() as u16)
                .map(TopicId)
                .filter(|t| !topic_of_class.contains(&Some(*t)))
                .collect();
            Some(Learned {
                model,
                complaint,
                topic_of_class,
                lexicon_only,
            })
        });
        Enricher {
            analyzer,
            lang: LanguageDetector::new(),
            topics: TopicClassifier::build(&config.topics, analyzer),
            learned,
            topic_ids,
            regions: RegionResolver::build(
                &config.regions,
                &config.outside,
                &config.agencies,
                analyzer,
            ),
            official_ids,
            official_handles,
            topic_agencies,
            route_to_region: config.topics.iter().map(|t| t.route_to_region).collect(),
            regional_agency,
            channel_agency,
            agency_kinds: config.agencies.iter().map(|a| a.kind).collect(),
        }
    }

    pub fn language_detector(&self) -> &LanguageDetector {
        &self.lang
    }

    /// The agency behind an account, if it is an official one.
    pub fn official(&self, user_id: &str, username: &str) -> Option<AgencyId> {
        self.official_ids
            .get(user_id)
            .or_else(|| self.official_handles.get(&username.to_lowercase()))
            .copied()
    }

    /// The agency responsible for a complaint; none for one `outside`
    /// Central Java, which no Central Java agency answers for.
    pub fn route(&self, topics: &[TopicId], region: RegionCode) -> Option<AgencyId> {
        if region == RegionCode::OUTSIDE {
            return None;
        }
        if let Some(first) = topics.first() {
            let cands = &self.topic_agencies[first.0 as usize];
            // An agency that covers exactly this region wins.
            if let Some((id, _)) = cands.iter().find(|(_, rs)| rs.contains(&region.0)) {
                return Some(*id);
            }
            if self.route_to_region[first.0 as usize] {
                if let Some(id) = self.regional_agency.get(&region.0) {
                    return Some(*id);
                }
            }
            if let Some((id, _)) = cands.iter().find(|(_, rs)| rs.is_empty()) {
                return Some(*id);
            }
        }
        self.regional_agency
            .get(&region.0)
            .copied()
            .or(self.channel_agency)
    }

    /// The model this enricher decides with, if any.
    pub fn model(&self) -> Option<&LinearModel> {
        self.learned.as_ref().map(|l| &l.model)
    }

    /// The model's features for an analysed tweet, and whom it speaks to:
    /// what training and enrichment share.
    pub fn features(&self, tweet: &Tweet, tokens: &[Token], out: &mut Vec<u32>) -> Addressee {
        let lexicon = self.topics.lexicon(tokens);
        let addressed = self.addressed(tweet);
        self.features_with(tweet, tokens, &lexicon, addressed, out)
    }

    /// Whom a tweet speaks to: a complaint channel, another official or
    /// public account, or nobody in particular.
    fn addressee(&self, tweet: &Tweet, addressed: bool) -> Addressee {
        let channel = carries_complaint_hashtag(tweet)
            || tweet.mentions.iter().any(|m| {
                let h = m.username.to_lowercase();
                CHANNEL_HANDLE_PARTS.iter().any(|p| h.contains(p))
                    || self
                        .official_handles
                        .get(&h)
                        .is_some_and(|a| self.agency_kinds[a.0 as usize] == AgencyKind::Channel)
            });
        if channel {
            Addressee::Channel
        } else if addressed || tweet.mentions.iter().any(|m| looks_public(&m.username)) {
            Addressee::Authority
        } else {
            Addressee::Nobody
        }
    }

    /// Writes the features; returns whom the tweet speaks to.
    fn features_with(
        &self,
        tweet: &Tweet,
        tokens: &[Token],
        lexicon: &Lexicon,
        addressed: bool,
        out: &mut Vec<u32>,
    ) -> Addressee {
        let matched: Vec<&str> = lexicon
            .matched
            .iter()
            .map(|t| self.topic_ids[t.0 as usize].as_str())
            .collect();
        let to = self.addressee(tweet, addressed);
        let cues = Cues {
            addressed,
            channel: to == Addressee::Channel,
            public_account: to != Addressee::Nobody,
            starts_with_mention: tokens.first().is_some_and(|t| t.kind == TokenKind::Mention),
            mentions: tweet.mentions.len(),
            lexicon: &matched,
        };
        learned::features(tokens, &cues, self.analyzer, out);
        to
    }

    /// The topic ids the lexicons match in an analysed tweet.
    pub fn lexicon_topics(&self, tokens: &[Token]) -> Vec<&str> {
        self.topics
            .lexicon(tokens)
            .matched
            .iter()
            .map(|t| self.topic_ids[t.0 as usize].as_str())
            .collect()
    }

    /// Mentions a configured official account or carries #KemalaJateng.
    fn addressed(&self, tweet: &Tweet) -> bool {
        carries_complaint_hashtag(tweet)
            || tweet.mentions.iter().any(|m| {
                m.id.as_deref()
                    .is_some_and(|id| self.official_ids.contains_key(id))
                    || self
                        .official_handles
                        .contains_key(&m.username.to_lowercase())
            })
    }

    /// Topics and the complaint decision. With a model: the topics whose
    /// probability reaches their threshold, strongest first, with the
    /// operator's `force` entries added and `block` entries removed; a
    /// complaint when its probability reaches the bar for whom the tweet
    /// speaks to (see [`learned::ComplaintBars`]). Without one: the lexicon's
    /// topics, and a complaint when addressed or on a complaint topic.
    fn decide(&self, tweet: &Tweet, tokens: &[Token], addressed: bool) -> (Vec<TopicId>, bool) {
        let lexicon = self.topics.lexicon(tokens);
        let Some(l) = &self.learned else {
            let mut topics = lexicon.matched;
            for t in lexicon.forced {
                if !topics.contains(&t) {
                    topics.push(t);
                }
            }
            let complaint = addressed || !topics.is_empty();
            return (topics, complaint);
        };
        SCRATCH.with(|s| {
            let (features, probs) = &mut *s.borrow_mut();
            let to = self.features_with(tweet, tokens, &lexicon, addressed, features);
            l.model.predict(features, probs);
            let mut scored: Vec<(f32, TopicId)> = probs
                .iter()
                .zip(&l.model.thresholds)
                .zip(&l.model.modes)
                .zip(&l.topic_of_class)
                .filter_map(|(((p, thr), mode), t)| {
                    let t = (*t)?;
                    let by_model = p >= thr;
                    let by_lexicon = lexicon.matched.contains(&t);
                    let yes = match mode {
                        Mode::Model => by_model,
                        Mode::Lexicon => by_lexicon,
                        Mode::Union => by_model || by_lexicon,
                    };
                    // A lexicon match ranks as high as a sure model.
                    yes.then_some((if by_lexicon { p.max(1.0) } else { *p }, t))
                })
                .filter(|(_, t)| !lexicon.blocked.contains(t))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut topics: Vec<TopicId> = scored.into_iter().map(|(_, t)| t).collect();
            let lexicon_decides = lexicon
                .matched
                .iter()
                .filter(|t| l.lexicon_only.contains(t))
                .copied();
            for t in lexicon_decides.chain(lexicon.forced) {
                if !topics.contains(&t) {
                    topics.push(t);
                }
            }
            let complaint = probs[l.complaint] >= l.model.bars.bar(to, !topics.is_empty());
            (topics, complaint)
        })
    }

    /// Enriches one tweet; `tokens` is scratch space that ends up holding
    /// the analysed text.
    pub fn enrich(&self, tweet: Tweet, tokens: &mut Vec<Token>) -> Enriched {
        self.analyzer.analyse(&tweet.text, tokens);
        let lang = self.lang.detect(&tweet.text);
        let addressed = self.addressed(&tweet);
        let (topics, complaint) = self.decide(&tweet, tokens, addressed);
        let region = self
            .regions
            .resolve(&tweet, tokens, self.analyzer, addressed);
        let official_author = self.official(&tweet.author_id, &tweet.author_username);
        let mut mentioned_agencies: Vec<AgencyId> = tweet
            .mentions
            .iter()
            .filter_map(|m| {
                m.id.as_deref()
                    .and_then(|id| self.official_ids.get(id))
                    .or_else(|| self.official_handles.get(&m.username.to_lowercase()))
                    .copied()
            })
            .collect();
        mentioned_agencies.dedup();
        let is_complaint = official_author.is_none() && tweet.retweet_of.is_none() && complaint;
        let agency = if is_complaint {
            self.route(&topics, region)
        } else {
            None
        };
        Enriched {
            tweet,
            lang,
            topics,
            region,
            is_complaint,
            agency,
            official_author,
            mentioned_agencies,
        }
    }

    pub fn detect_language(&self, text: &str) -> Lang {
        self.lang.detect(text)
    }
}

/// Whether a tweet carries #KemalaJateng: in its hashtag entities, or in its
/// text when the payload listed none (some v2 payloads carry no entities).
fn carries_complaint_hashtag(tweet: &Tweet) -> bool {
    let tag = COMPLAINT_HASHTAG.as_bytes();
    tweet
        .hashtags
        .iter()
        .any(|h| h.eq_ignore_ascii_case(COMPLAINT_HASHTAG))
        || tweet.text.match_indices('#').any(|(i, _)| {
            let rest = &tweet.text.as_bytes()[i + 1..];
            rest.len() >= tag.len()
                && rest[..tag.len()].eq_ignore_ascii_case(tag)
                && rest
                    .get(tag.len())
                    .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
        })
}

#[cfg(test)]
mod tests;
