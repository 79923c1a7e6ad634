//! Enrichment: language, topics, region, complaint and agency for one tweet.
//!
//! Everything here is a pure, synchronous function of one tweet and the
//! loaded configuration: no awaiting, no logging per tweet, no channels.
//! [`Enricher::build`] compiles the configuration into matchers once, at
//! start-up, so that a bad keyword fails there and the hot path only looks
//! things up. The analysed tokens are handed on to the index, so a tweet is
//! tokenised once.

pub mod lang;
pub mod region;
pub mod topic;

use std::collections::HashMap;

use crate::config::{AgencyKind, Config};
use crate::model::{AgencyId, Enriched, Lang, RegionCode, TopicId, Tweet};
use crate::text::{analyzer, Analyzer, Token};
use lang::LanguageDetector;
use region::RegionResolver;
use topic::TopicClassifier;

/// The hashtag that addresses the province's complaint channel.
pub const COMPLAINT_HASHTAG: &str = "kemalajateng";

pub struct Enricher {
    analyzer: &'static Analyzer,
    lang: LanguageDetector,
    topics: TopicClassifier,
    regions: RegionResolver,
    official_ids: HashMap<String, AgencyId>,
    official_handles: HashMap<String, AgencyId>,
    /// Per topic: (agency, regions it covers (empty = all)) in preference order.
    topic_agencies: Vec<Vec<(AgencyId, Vec<u16>)>>,
    route_to_region: Vec<bool>,
    regional_agency: HashMap<u16, AgencyId>,
    channel_agency: Option<AgencyId>,
}

impl Enricher {
    pub fn build(config: &Config) -> Enricher {
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
        Enricher {
            analyzer,
            lang: LanguageDetector::new(),
            topics: TopicClassifier::build(&config.topics, analyzer),
            regions: RegionResolver::build(&config.regions, &config.agencies, analyzer),
            official_ids,
            official_handles,
            topic_agencies,
            route_to_region: config.topics.iter().map(|t| t.route_to_region).collect(),
            regional_agency,
            channel_agency,
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

    pub fn route(&self, topics: &[TopicId], region: RegionCode) -> Option<AgencyId> {
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

    /// Enriches one tweet; `tokens` is scratch space that ends up holding
    /// the analysed text.
    pub fn enrich(&self, tweet: Tweet, tokens: &mut Vec<Token>) -> Enriched {
        self.analyzer.analyse(&tweet.text, tokens);
        let lang = self.lang.detect(&tweet.text);
        let topics = self.topics.classify(tokens);
        let region = self.regions.resolve(&tweet, tokens, self.analyzer);
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
        let addressed = tweet
            .hashtags
            .iter()
            .any(|h| h.eq_ignore_ascii_case(COMPLAINT_HASHTAG))
            || !mentioned_agencies.is_empty();
        let is_complaint = official_author.is_none()
            && tweet.retweet_of.is_none()
            && (addressed || !topics.is_empty());
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
