//! How well kemala understands real text: topics, complaints, regions and
//! languages on the test split of the hand-labelled corpus (`corpus/`),
//! which nothing was trained or tuned on, with the bundled model and
//! configuration; the lexicons alone beside it; and texts per second.
//!
//! `cargo bench --bench understanding [-- SPLIT]` (default `corpus/test.jsonl`).

use std::path::PathBuf;
use std::time::Instant;

use kemala::config::{Config, ModelSource};
use kemala::enrich::eval::{read_split, tweet};
use kemala::enrich::train::evaluate;
use kemala::enrich::Enricher;

fn main() {
    let split = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("corpus/test.jsonl"));
    let records = read_split(&split).expect("the corpus split");
    let config = Config::embedded().expect("bundled config");
    let enricher = Enricher::build(&config).expect("the bundled model");
    if let Some(m) = enricher.model() {
        println!("model: {}", m.provenance);
    }
    println!(
        "understanding benchmark: {} texts of {}",
        records.len(),
        split.display()
    );
    let report = evaluate(&enricher, &config, &records);
    println!("{report}");
    let flood = report.topics.get("flood").copied().unwrap_or_default();
    println!(
        "flood: precision {:.3}, recall {:.3}",
        flood.precision(),
        flood.recall()
    );

    let lexicons = Enricher::build(&Config {
        model: ModelSource::Off,
        ..config.clone()
    })
    .expect("lexicons");
    let lex = evaluate(&lexicons, &config, &records);
    let (m, k) = lex.macro_f1();
    println!(
        "the lexicons alone: macro-F1 {m:.3} over {k} topics, complaint precision {:.3}, recall {:.3}, recall on addressed {:.3}",
        lex.complaint.precision(),
        lex.complaint.recall(),
        lex.complaint_addressed.recall()
    );

    // Speed: enrichment alone, one thread, many passes over the split.
    let tweets: Vec<_> = records
        .iter()
        .enumerate()
        .map(|(i, r)| tweet(i, r))
        .collect();
    let mut toks = Vec::new();
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let mut n = 0usize;
        while started.elapsed().as_secs_f64() < 1.0 {
            for t in &tweets {
                std::hint::black_box(enricher.enrich(t.clone(), &mut toks));
                n += 1;
            }
        }
        runs.push(started.elapsed().as_secs_f64() * 1e6 / n as f64);
    }
    runs.sort_by(f64::total_cmp);
    println!(
        "speed: {:.1} µs per text (median of 5 runs, one thread), {:.0} texts/s",
        runs[2],
        1e6 / runs[2]
    );
}
