//! Enrichment accuracy on hand-labelled tweets written apart from the keyword
//! lists (`tests/data/labelled-*.jsonl`). `dev` may guide tuning; `test` is
//! held out and only reported and guarded here.

use std::collections::BTreeSet;

use kemala::config::Config;
use kemala::enrich::Enricher;
use kemala::model::{Mention, Tweet};
use serde::Deserialize;

#[derive(Deserialize)]
struct Labelled {
    text: String,
    user_location: Option<String>,
    topics: Vec<String>,
    region: String,
    lang: String,
}

/// What Twitter's entities would say: the @mentions and #hashtags in the text.
fn tweet(i: usize, l: &Labelled) -> Tweet {
    let words = |sigil: char| -> Vec<String> {
        l.text
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == sigil))
            .filter_map(|w| w.strip_prefix(sigil))
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    };
    Tweet {
        id: i as u64 + 1,
        text: l.text.clone(),
        created_at_ms: 1_767_600_000_000,
        author_id: format!("{}", 10_000 + i),
        author_username: format!("warga{i}"),
        author_location: l.user_location.clone(),
        conversation_id: None,
        in_reply_to_tweet: None,
        in_reply_to_user: None,
        retweet_of: None,
        mentions: words('@')
            .into_iter()
            .map(|username| Mention { username, id: None })
            .collect(),
        hashtags: words('#'),
        place: None,
        coordinates: None,
        lang_hint: None,
    }
}

pub struct Scores {
    pub n: usize,
    pub topic_precision: f64,
    pub topic_recall: f64,
    pub topic_f1: f64,
    pub topic_exact: f64,
    pub region_accuracy: f64,
    pub lang_accuracy: f64,
    pub misses: Vec<String>,
}

pub fn score(file: &str) -> Scores {
    let config = Config::embedded().unwrap();
    let enricher = Enricher::build(&config).unwrap();
    let text =
        std::fs::read_to_string(crate::common::repo().join("tests/data").join(file)).unwrap();
    let (mut tp, mut fp, mut fn_, mut exact, mut region_ok, mut lang_ok, mut n) =
        (0, 0, 0, 0, 0, 0, 0);
    let mut misses = Vec::new();
    let mut toks = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l: Labelled = serde_json::from_str(line).unwrap();
        let e = enricher.enrich(tweet(i, &l), &mut toks);
        let got: BTreeSet<String> = e
            .topics
            .iter()
            .map(|t| config.topics[t.0 as usize].id.clone())
            .collect();
        let want: BTreeSet<String> = l.topics.iter().cloned().collect();
        tp += got.intersection(&want).count();
        fp += got.difference(&want).count();
        fn_ += want.difference(&got).count();
        exact += usize::from(got == want);
        let region = kemala::enrich::eval::region_label(e.region);
        region_ok += usize::from(region == l.region);
        let lang = e.lang.code();
        lang_ok += usize::from(match l.lang.as_str() {
            "mixed" => lang == "id" || lang == "jv",
            want => lang == want,
        });
        if got != want || region != l.region {
            misses.push(format!(
                "topics {got:?} want {want:?}; region {region} want {}: {}",
                l.region, l.text
            ));
        }
        n += 1;
    }
    let p = tp as f64 / (tp + fp).max(1) as f64;
    let r = tp as f64 / (tp + fn_).max(1) as f64;
    Scores {
        n,
        topic_precision: p,
        topic_recall: r,
        topic_f1: 2.0 * p * r / (p + r).max(f64::EPSILON),
        topic_exact: exact as f64 / n as f64,
        region_accuracy: region_ok as f64 / n as f64,
        lang_accuracy: lang_ok as f64 / n as f64,
        misses,
    }
}

#[test]
fn topic_region_and_language_accuracy_on_held_out_labelled_tweets() {
    for file in ["labelled-dev.jsonl", "labelled-test.jsonl"] {
        let s = score(file);
        eprintln!(
            "{file}: n={} topics P={:.3} R={:.3} F1={:.3} exact={:.3}; region accuracy={:.3}; language accuracy={:.3}",
            s.n, s.topic_precision, s.topic_recall, s.topic_f1, s.topic_exact, s.region_accuracy, s.lang_accuracy
        );
        if std::env::var("KEMALA_SHOW_MISSES").is_ok() {
            for m in &s.misses {
                eprintln!("  miss: {m}");
            }
        }
        if file == "labelled-test.jsonl" {
            assert!(s.n >= 300);
            assert!(
                s.topic_f1 >= 0.80,
                "topic F1 {:.3} on held-out tweets",
                s.topic_f1
            );
            assert!(
                s.region_accuracy >= 0.80,
                "region accuracy {:.3} on held-out tweets",
                s.region_accuracy
            );
            assert!(
                s.lang_accuracy >= 0.85,
                "language accuracy {:.3} on held-out tweets",
                s.lang_accuracy
            );
        }
    }
}
