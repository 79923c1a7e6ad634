//! `kemala train`: fits the enrichment model on the corpus's train and dev
//! splits. The test split is never read here.
//!
//! Thresholds are set on out-of-fold predictions: the train and dev texts
//! are cut into five folds (by a hash of their ids), a model is fitted on
//! four and scores the fifth, and each class's threshold is the one that
//! does best on those held-out scores. The shipped model is then fitted on
//! all of them. The figures printed are the out-of-fold ones, an honest
//! estimate for text the model has not seen.
//!
//! The same code extracts features for training and for enrichment
//! ([`Enricher::features`]), so the model sees at start-up exactly what it
//! was trained on. Training is single-threaded and visits examples in a
//! fixed order, so the same corpus and configuration give the same file.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::eval::{read_split, tweet, Record, Report};
use super::learned::{self, Addressee, ComplaintBars, Example, LinearModel, Mode, TrainParams};
use super::Enricher;
use crate::config::Config;
use crate::text::analyzer;

/// A trained model, and the out-of-fold figures of the same procedure.
pub struct Trained {
    pub model: LinearModel,
    pub held_out: Report,
    /// The lexicons alone on the same texts, for comparison.
    pub lexicons: Report,
}

const FOLDS: u64 = 5;

/// Candidate thresholds: 0.05, 0.10, … 0.95.
fn grid() -> impl Iterator<Item = f32> {
    (1..20).map(|i| i as f32 * 0.05)
}

/// Topics with fewer held-out positives than this keep the neutral
/// threshold: a few texts cannot set one.
const MIN_POSITIVES: usize = 5;

/// Complaint precision the thresholds must keep.
pub const COMPLAINT_PRECISION: f64 = 0.9;

struct Prepared {
    example: Example,
    /// Whom it speaks to, as enrichment sees it at run time.
    to: Addressee,
    /// Per class: whether the lexicons match it.
    lexicon: Vec<bool>,
    fold: u64,
}

fn prepare(e: &Enricher, records: &[Record], classes: &[String]) -> Vec<Prepared> {
    let mut toks = Vec::new();
    records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let t = tweet(i, r);
            analyzer().analyse(&t.text, &mut toks);
            let mut features = Vec::new();
            let to = e.features(&t, &toks, &mut features);
            let matched = e.lexicon_topics(&toks);
            let lexicon = classes
                .iter()
                .map(|c| matched.contains(&c.as_str()))
                .collect();
            let labels = classes
                .iter()
                .map(|c| {
                    if c == learned::COMPLAINT {
                        r.complaint
                    } else {
                        r.topics.contains(c)
                    }
                })
                .collect();
            let h = Sha256::digest(format!("kemala-fold:{}", r.id).as_bytes());
            Prepared {
                example: Example { features, labels },
                to,
                lexicon,
                fold: u64::from(h[0]) % FOLDS,
            }
        })
        .collect()
}

fn digest(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..8])
}

fn f1(tp: f64, fp: f64, fn_: f64) -> (f64, f64, f64) {
    let p = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
    let r = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 1.0 };
    let f = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    (f, p, r)
}

/// Trains on `<corpus>/train.jsonl` and `<corpus>/dev.jsonl`.
pub fn train(config: &Config, corpus: &Path, params: &TrainParams) -> anyhow::Result<Trained> {
    let (train_path, dev_path) = (corpus.join("train.jsonl"), corpus.join("dev.jsonl"));
    let mut records = read_split(&train_path)?;
    records.extend(read_split(&dev_path)?);
    let lexicons = Enricher::with_model(config, None);
    let mut classes = vec![learned::COMPLAINT.to_string()];
    for t in &config.topics {
        if records.iter().any(|r| r.topics.contains(&t.id)) {
            classes.push(t.id.clone());
        }
    }
    let prepared = prepare(&lexicons, &records, &classes);

    // Out-of-fold scores, from one model per fold (kept for the figures).
    let mut scores: Vec<Vec<f32>> = vec![Vec::new(); prepared.len()];
    let mut probs = Vec::new();
    let mut fold_models = Vec::new();
    for fold in 0..FOLDS {
        let fit: Vec<Example> = prepared
            .iter()
            .filter(|p| p.fold != fold)
            .map(|p| Example {
                features: p.example.features.clone(),
                labels: p.example.labels.clone(),
            })
            .collect();
        let m = learned::train(&classes, &fit, params);
        for (i, p) in prepared.iter().enumerate().filter(|(_, p)| p.fold == fold) {
            m.predict(&p.example.features, &mut probs);
            scores[i] = probs.clone();
        }
        fold_models.push(m);
    }

    let all: Vec<Example> = prepared
        .iter()
        .map(|p| Example {
            features: p.example.features.clone(),
            labels: p.example.labels.clone(),
        })
        .collect();
    let mut model = learned::train(&classes, &all, params);
    set_thresholds(&mut model, &prepared, &records, &scores);

    // The out-of-fold figures, with the thresholds just set.
    let topic_ids: Vec<String> = config.topics.iter().map(|t| t.id.clone()).collect();
    let mut held_out = Report::default();
    let mut toks = Vec::new();
    for (fold, mut m) in (0..FOLDS).zip(fold_models) {
        m.thresholds = model.thresholds.clone();
        m.bars = model.bars;
        m.modes = model.modes.clone();
        let e = Enricher::with_model(config, Some(m));
        for (i, r) in records.iter().enumerate() {
            if prepared[i].fold == fold {
                held_out.add(r, &e.enrich(tweet(i, r), &mut toks), &topic_ids);
            }
        }
    }
    let lexicon_report = evaluate(&lexicons, config, &records);
    model.provenance = format!(
        "kemala train: {} texts of {} (sha256 {}) and {} (sha256 {}); {} classes, {} weights; thresholds and figures out of {FOLDS} folds: macro-F1 {:.3}, complaint precision {:.3}, recall on addressed {:.3}",
        records.len(),
        train_path.display(),
        digest(&train_path),
        dev_path.display(),
        digest(&dev_path),
        classes.len(),
        model.num_weights(),
        held_out.macro_f1().0,
        held_out.complaint.precision(),
        held_out.complaint_addressed.recall(),
    );
    Ok(Trained {
        model,
        held_out,
        lexicons: lexicon_report,
    })
}

/// Per topic the decision mode and threshold with the best held-out F1; for
/// the complaint class one threshold for texts addressed to an authority
/// and one for the rest: the pair that keeps [`COMPLAINT_PRECISION`] with
/// the best recall, on addressed texts first.
fn set_thresholds(
    model: &mut LinearModel,
    prepared: &[Prepared],
    records: &[Record],
    scores: &[Vec<f32>],
) {
    for c in 1..model.classes.len() {
        let positives = prepared.iter().filter(|p| p.example.labels[c]).count();
        if positives < MIN_POSITIVES {
            // Too few texts to learn or to judge from: the lexicons decide.
            model.thresholds[c] = 0.5;
            model.modes[c] = Mode::Lexicon;
            continue;
        }
        let at = |mode: Mode, thr: f32| {
            let (mut tp, mut fp, mut fn_) = (0.0, 0.0, 0.0);
            for (p, s) in prepared.iter().zip(scores) {
                let yes = match mode {
                    Mode::Model => s[c] >= thr,
                    Mode::Lexicon => p.lexicon[c],
                    Mode::Union => s[c] >= thr || p.lexicon[c],
                };
                match (p.example.labels[c], yes) {
                    (true, true) => tp += 1.0,
                    (false, true) => fp += 1.0,
                    (true, false) => fn_ += 1.0,
                    _ => {}
                }
            }
            f1(tp, fp, fn_).0
        };
        let mut best = (at(Mode::Lexicon, 0.5), Mode::Lexicon, 0.5);
        for mode in [Mode::Model, Mode::Union] {
            for thr in grid() {
                let f = at(mode, thr);
                if f > best.0 {
                    best = (f, mode, thr);
                }
            }
        }
        model.modes[c] = best.1;
        model.thresholds[c] = best.2;
    }
    // Whether each text gets a topic, as enrichment will decide.
    let has_topic: Vec<bool> = prepared
        .iter()
        .zip(scores)
        .map(|(p, s)| {
            (1..model.classes.len()).any(|c| match model.modes[c] {
                Mode::Model => s[c] >= model.thresholds[c],
                Mode::Lexicon => p.lexicon[c],
                Mode::Union => s[c] >= model.thresholds[c] || p.lexicon[c],
            })
        })
        .collect();
    // The four bars, searched on a coarser grid (there are four of them).
    let coarse: Vec<f32> = (1..10).map(|i| i as f32 * 0.1).collect();
    let mut best = (f64::MIN, ComplaintBars::default());
    for &channel in &coarse {
        for &authority in &coarse {
            for &topic in &coarse {
                for &other in coarse.iter().filter(|o| **o >= topic) {
                    let bars = ComplaintBars {
                        channel,
                        authority,
                        topic,
                        other,
                    };
                    let (mut tp, mut fp, mut fn_, mut atp, mut afn) = (0.0, 0.0, 0.0, 0.0, 0.0);
                    for (((p, s), r), t) in prepared.iter().zip(scores).zip(records).zip(&has_topic)
                    {
                        let yes = s[0] >= bars.bar(p.to, *t);
                        match (p.example.labels[0], yes) {
                            (true, true) => tp += 1.0,
                            (false, true) => fp += 1.0,
                            (true, false) => fn_ += 1.0,
                            _ => {}
                        }
                        if r.addressed && r.complaint {
                            if yes {
                                atp += 1.0
                            } else {
                                afn += 1.0
                            }
                        }
                    }
                    let (_, precision, recall) = f1(tp, fp, fn_);
                    let addressed_recall = f1(atp, 0.0, afn).2;
                    // Keep precision; then miss as few complaints as
                    // possible, addressed ones first: an unrecognised
                    // complaint to an agency is a reply never matched and a
                    // figure never counted.
                    let meets = (precision >= COMPLAINT_PRECISION) as u8 as f64;
                    let key = meets * 10.0 + addressed_recall + 0.5 * recall;
                    if key > best.0 {
                        best = (key, bars);
                    }
                }
            }
        }
    }
    model.bars = best.1;
}

/// Enriches every record and scores it.
pub fn evaluate(enricher: &Enricher, config: &Config, records: &[Record]) -> Report {
    let topic_ids: Vec<String> = config.topics.iter().map(|t| t.id.clone()).collect();
    let mut report = Report::default();
    let mut toks = Vec::new();
    let started = std::time::Instant::now();
    for (i, r) in records.iter().enumerate() {
        let e = enricher.enrich(tweet(i, r), &mut toks);
        report.add(r, &e, &topic_ids);
    }
    report.seconds = started.elapsed().as_secs_f64();
    report
}
