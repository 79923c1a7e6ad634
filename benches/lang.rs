//! Accuracy and single-thread throughput of the hybrid language detector against lingua
//! alone, on the NusaX rows embedded in the crate.
//!
//! Run with `cargo bench --bench lang`. Accuracy is measured on the held-out rows only
//! (the last 100 of each file, which the detector never trains or tunes on); throughput
//! cycles over all 500 rows per language, and over the same rows cut to tweet length
//! because lingua's cost grows with text length much faster than the fast path's.

use std::hint::black_box;
use std::time::{Duration, Instant};

use kemala::enrich::lang::{csv_texts, LanguageDetector};
use kemala::model::Lang;

/// Must match the split in `src/enrich/lang.rs`: rows after this one are held out.
const TRAIN_ROWS: usize = 400;
const RUNS: usize = 5;
const RUN_TIME: Duration = Duration::from_millis(2500);
/// Roughly the length of a complaint tweet once mentions and links are gone.
const TWEET_WORDS: usize = 14;

const CORPUS: [(Lang, &str); 4] = [
    (
        Lang::Id,
        include_str!("../assets/langid/nusax-train-indonesian.csv"),
    ),
    (
        Lang::Jv,
        include_str!("../assets/langid/nusax-train-javanese.csv"),
    ),
    (
        Lang::En,
        include_str!("../assets/langid/nusax-train-english.csv"),
    ),
    (
        Lang::Su,
        include_str!("../assets/langid/nusax-train-sundanese.csv"),
    ),
];

/// Texts per second of `detect` cycling over `texts`; the median of `RUNS` runs.
fn throughput(texts: &[String], detect: impl Fn(&str) -> Lang) -> f64 {
    let mut rates: Vec<f64> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let mut done = 0u64;
            while start.elapsed() < RUN_TIME {
                for text in texts {
                    black_box(detect(black_box(text)));
                }
                done += texts.len() as u64;
            }
            done as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    rates[RUNS / 2]
}

/// Resident memory in MiB where /proc is available; only for the start-up report.
fn rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let rss_before = rss_mib();
    let start = Instant::now();
    let detector = LanguageDetector::new();
    let elapsed = start.elapsed();
    match (rss_before, rss_mib()) {
        (Some(before), Some(after)) => println!(
            "start-up: {:.1} ms, resident memory +{:.1} MiB",
            elapsed.as_secs_f64() * 1e3,
            after - before
        ),
        _ => println!("start-up: {:.1} ms", elapsed.as_secs_f64() * 1e3),
    }

    let corpus: Vec<(Lang, Vec<String>)> = CORPUS
        .iter()
        .map(|&(lang, data)| (lang, csv_texts(data)))
        .collect();

    println!(
        "\nheld-out accuracy (last {} rows per language)",
        500 - TRAIN_ROWS
    );
    println!(
        "{:<6} {:>8} {:>12} {:>16}",
        "lang", "hybrid", "lingua-only", "lingua ms->id"
    );
    for (lang, texts) in &corpus {
        let held_out = &texts[TRAIN_ROWS..];
        let n = held_out.len() as f64;
        let hybrid = held_out
            .iter()
            .filter(|t| detector.detect(t) == *lang)
            .count();
        let lingua: Vec<Lang> = held_out
            .iter()
            .map(|t| detector.detect_lingua_only(t))
            .collect();
        let exact = lingua.iter().filter(|&&l| l == *lang).count();
        let folded = lingua
            .iter()
            .filter(|&&l| l == *lang || (*lang == Lang::Id && l == Lang::Ms))
            .count();
        println!(
            "{:<6} {:>8.3} {:>12.3} {:>16.3}",
            lang.code(),
            hybrid as f64 / n,
            exact as f64 / n,
            folded as f64 / n
        );
    }
    let (fast, fallback) = detector.stats();
    println!(
        "fast path decided {fast} of {} held-out texts ({:.1}%), lingua {fallback}",
        fast + fallback,
        100.0 * fast as f64 / (fast + fallback) as f64
    );

    let all: Vec<String> = corpus.iter().flat_map(|(_, t)| t.iter().cloned()).collect();
    let tweets: Vec<String> = all
        .iter()
        .map(|t| {
            t.split_whitespace()
                .take(TWEET_WORDS)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    for (name, texts) in [("full rows", &all), ("tweet-length", &tweets)] {
        let chars = texts.iter().map(|t| t.chars().count()).sum::<usize>() / texts.len();
        println!(
            "\nthroughput, one thread, {name} ({} texts, mean {chars} chars), median of {RUNS}",
            texts.len()
        );
        let (fast0, fallback0) = detector.stats();
        let hybrid = throughput(texts, |t| detector.detect(t));
        let (fast1, fallback1) = detector.stats();
        let lingua = throughput(texts, |t| detector.detect_lingua_only(t));
        let share = (fast1 - fast0) as f64 / ((fast1 - fast0) + (fallback1 - fallback0)) as f64;
        println!(
            "  hybrid      {hybrid:>10.0} texts/s (fast path {:.1}%)",
            share * 100.0
        );
        println!("  lingua-only {lingua:>10.0} texts/s");
        println!("  speed-up    {:>10.1}x", hybrid / lingua);
    }
}
