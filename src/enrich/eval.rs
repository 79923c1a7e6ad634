//! Measuring enrichment against the hand-labelled corpus (`corpus/`): the
//! records, the tweet each stands for, and the figures the README reports
//! (per-topic precision and recall, complaint precision and recall on
//! addressed texts, region accuracy and its confusion with `outside`,
//! language accuracy).
//!
//! `kemala train` prints these on the dev split; `cargo bench --bench
//! understanding` prints them on the test split, which nothing is tuned on.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::model::{Enriched, Mention, Place, RegionCode, Tweet};

/// One labelled text of the corpus.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub src: String,
    pub text: String,
    /// What the source says the text is, and whom it was sent to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The account the text was sent to, when the source says so but the
    /// text itself lost the @handle (a mention dataset that stripped them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinates: Option<(f64, f64)>,
    pub lang: String,
    pub topics: Vec<String>,
    pub complaint: bool,
    pub addressed: bool,
    /// A BPS code, `outside` or `unknown`.
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Reads a JSON-lines split of the corpus.
pub fn read_split(path: &Path) -> anyhow::Result<Vec<Record>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the corpus split `{}`", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| {
                format!("`{}` line {}: not a corpus record", path.display(), i + 1)
            })
        })
        .collect()
}

/// The tweet a record stands for: its text, the @mentions and #hashtags
/// Twitter's entities would carry, and its location metadata.
pub fn tweet(i: usize, r: &Record) -> Tweet {
    let words = |sigil: char| -> Vec<String> {
        r.text
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == sigil))
            .filter_map(|w| w.strip_prefix(sigil))
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    };
    let mut mentions: Vec<Mention> = words('@')
        .into_iter()
        .map(|username| Mention { username, id: None })
        .collect();
    if let Some(to) = &r.to {
        if !mentions.iter().any(|m| m.username.eq_ignore_ascii_case(to)) {
            mentions.push(Mention {
                username: to.clone(),
                id: None,
            });
        }
    }
    Tweet {
        id: i as u64 + 1,
        text: r.text.clone(),
        created_at_ms: 1_767_600_000_000,
        author_id: format!("{}", 1_000_000 + i),
        author_username: format!("warga{i}"),
        author_location: r.user_location.clone(),
        conversation_id: None,
        in_reply_to_tweet: None,
        in_reply_to_user: None,
        retweet_of: None,
        mentions,
        hashtags: words('#'),
        place: r.place.as_ref().map(|p| Place {
            full_name: p.clone(),
            bbox: None,
        }),
        coordinates: r.coordinates,
        lang_hint: None,
    }
}

/// How a region code reads in the corpus.
pub fn region_label(code: RegionCode) -> String {
    if code == RegionCode::OUTSIDE {
        "outside".into()
    } else if code.is_known() {
        code.0.to_string()
    } else {
        "unknown".into()
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    pub tp: u32,
    pub fp: u32,
    pub fn_: u32,
}

impl Counts {
    fn add(&mut self, truth: bool, predicted: bool) {
        match (truth, predicted) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => {}
        }
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    pub fn support(&self) -> u32 {
        self.tp + self.fn_
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// Topics with fewer positives than this in a split are reported but left
/// out of the macro average, where one text would swing a whole topic.
pub const MACRO_MIN_SUPPORT: u32 = 5;

/// The figures for one split.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub n: usize,
    pub topics: BTreeMap<String, Counts>,
    pub complaint: Counts,
    /// Complaint decisions on texts that address an agency or official.
    pub complaint_addressed: Counts,
    /// Texts a person could place (a region or `outside`), and how many
    /// kemala placed the same.
    pub region_known: u32,
    pub region_right: u32,
    /// Placeable texts: inside labelled outside, outside labelled inside,
    /// and inside in the wrong regency.
    pub inside_as_outside: u32,
    pub outside_as_inside: u32,
    pub wrong_regency: u32,
    pub outside: Counts,
    pub lang_right: u32,
    pub seconds: f64,
}

impl Report {
    /// Scores one record against what enrichment concluded.
    pub fn add(&mut self, r: &Record, e: &Enriched, topic_ids: &[String]) {
        self.n += 1;
        let predicted: Vec<&str> = e
            .topics
            .iter()
            .map(|t| topic_ids[t.0 as usize].as_str())
            .collect();
        for t in topic_ids {
            self.topics.entry(t.clone()).or_default().add(
                r.topics.iter().any(|x| x == t),
                predicted.contains(&t.as_str()),
            );
        }
        self.complaint.add(r.complaint, e.is_complaint);
        if r.addressed {
            self.complaint_addressed.add(r.complaint, e.is_complaint);
        }
        let region = region_label(e.region);
        if r.region != "unknown" {
            self.region_known += 1;
            if region == r.region {
                self.region_right += 1;
            } else if r.region == "outside" && region != "unknown" {
                self.outside_as_inside += 1;
            } else if region == "outside" {
                self.inside_as_outside += 1;
            } else if region != "unknown" {
                self.wrong_regency += 1;
            }
        }
        self.outside.add(r.region == "outside", region == "outside");
        if e.lang.code() == r.lang
            || (r.lang == "other" && !matches!(e.lang.code(), "id" | "jv" | "en" | "su"))
        {
            self.lang_right += 1;
        }
    }

    /// The mean F1 over topics with at least [`MACRO_MIN_SUPPORT`] positives.
    pub fn macro_f1(&self) -> (f64, usize) {
        let f: Vec<f64> = self
            .topics
            .values()
            .filter(|c| c.support() >= MACRO_MIN_SUPPORT)
            .map(Counts::f1)
            .collect();
        let n = f.len();
        (
            if n == 0 {
                0.0
            } else {
                f.iter().sum::<f64>() / n as f64
            },
            n,
        )
    }

    pub fn region_accuracy(&self) -> f64 {
        ratio(self.region_right, self.region_known)
    }

    pub fn lang_accuracy(&self) -> f64 {
        ratio(self.lang_right, self.n as u32)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} texts", self.n)?;
        writeln!(
            f,
            "{:<20} {:>7} {:>9} {:>7} {:>6}",
            "topic", "support", "precision", "recall", "F1"
        )?;
        for (t, c) in &self.topics {
            writeln!(
                f,
                "{:<20} {:>7} {:>9.3} {:>7.3} {:>6.3}{}",
                t,
                c.support(),
                c.precision(),
                c.recall(),
                c.f1(),
                if c.support() < MACRO_MIN_SUPPORT {
                    "  (too few to average)"
                } else {
                    ""
                }
            )?;
        }
        let (macro_f1, k) = self.macro_f1();
        writeln!(
            f,
            "macro-F1 over the {k} topics with >= {MACRO_MIN_SUPPORT} texts: {macro_f1:.3}"
        )?;
        writeln!(
            f,
            "complaint: precision {:.3}, recall {:.3} (n = {}); on texts addressed to an agency or official: recall {:.3} (n = {})",
            self.complaint.precision(),
            self.complaint.recall(),
            self.complaint.support(),
            self.complaint_addressed.recall(),
            self.complaint_addressed.support()
        )?;
        writeln!(
            f,
            "region: accuracy {:.3} over {} placeable texts (wrong regency {}, inside read as outside {}, outside read as inside {}); outside: precision {:.3}, recall {:.3}",
            self.region_accuracy(),
            self.region_known,
            self.wrong_regency,
            self.inside_as_outside,
            self.outside_as_inside,
            self.outside.precision(),
            self.outside.recall()
        )?;
        write!(f, "language: accuracy {:.3}", self.lang_accuracy())
    }
}
