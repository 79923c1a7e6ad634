//! Search latency at scale, while tweets keep arriving; index size per
//! million tweets; and the peak memory of a one-million-row export.
//!
//! 1. Builds an index of generated tweets (5 million by default) with the
//!    library itself: generate, decode, enrich on two threads, index.
//! 2. For a fixed time, one analyst thread runs a mix of queries back to
//!    back (terms, a phrase, booleans, filters with a time range, facets over
//!    a month of a region, a histogram, fuzzy, the page's landing view)
//!    while a writer thread adds 1,000 tweets/s and commits every second.
//!    Prints p50 and p99 per kind and overall.
//! 3. Exports 100,000 and then 1,000,000 rows as CSV in a child process and
//!    prints each child's peak RSS, so the two can be compared: constant
//!    memory means the same peak for ten times the rows.
//!
//! `cargo bench --bench search` (5 M tweets; building takes minutes), or
//! `cargo bench --bench search -- --quick` (300,000 tweets, 20 s of queries).
//! Environment: `KEMALA_BENCH_TWEETS` (index size), `KEMALA_BENCH_SECONDS`
//! (query phase), `KEMALA_BENCH_INDEX` (a directory that keeps the built
//! index between runs; it is rebuilt when it holds a different number of
//! tweets, and each run queries and ingests into a fresh copy of it, so
//! runs are alike).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kemala::config::Config;
use kemala::enrich::Enricher;
use kemala::gen::{GenOptions, Generator};
use kemala::index::search::{Filters, Sort};
use kemala::index::{CommitPayload, IndexHandle, Writer};
use kemala::model::{Enriched, Tweet};
use kemala::source::decode::decode;
use kemala::text::Token;

const MAX_BYTES: usize = 64 * 1024;
const DAY_MS: i64 = 86_400_000;

fn env_num(name: &str) -> Option<u64> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
}

fn gen_options() -> GenOptions {
    GenOptions {
        malformed_ratio: 0.0,
        ..GenOptions::default()
    }
}

/// Valid tweets from `generator`, decoded.
fn tweets(generator: &mut Generator, n: usize) -> Vec<Tweet> {
    generator
        .by_ref()
        .filter_map(|g| decode(Some(&g.payload), MAX_BYTES).ok())
        .take(n)
        .collect()
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// Indexes `n` generated tweets into `handle`: one thread generates and
/// decodes, two enrich, this one indexes. Returns the writer and the
/// generator, positioned after the last tweet indexed.
fn build(handle: &IndexHandle, config: &Config, n: usize) -> (Writer, Generator) {
    let started = Instant::now();
    let (tweets_tx, tweets_rx) = sync_channel::<Vec<Tweet>>(8);
    let tweets_rx = Arc::new(std::sync::Mutex::new(tweets_rx));
    let (docs_tx, docs_rx) = sync_channel::<Vec<(Enriched, Vec<Token>)>>(8);
    let generator_thread = {
        let config = config.clone();
        std::thread::spawn(move || {
            let mut g = Generator::new(&config, gen_options());
            let mut left = n;
            while left > 0 {
                let batch = tweets(&mut g, left.min(2000));
                left -= batch.len();
                if tweets_tx.send(batch).is_err() {
                    break;
                }
            }
            g
        })
    };
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let (rx, tx, config) = (tweets_rx.clone(), docs_tx.clone(), config.clone());
            std::thread::spawn(move || {
                let enricher = Enricher::build(&config).unwrap();
                loop {
                    let batch = match rx.lock().map(|r| r.recv()) {
                        Ok(Ok(b)) => b,
                        _ => break,
                    };
                    let docs = batch
                        .into_iter()
                        .map(|t| {
                            let mut toks = Vec::new();
                            let e = enricher.enrich(t, &mut toks);
                            (e, toks)
                        })
                        .collect();
                    if tx.send(docs).is_err() {
                        break;
                    }
                }
            })
        })
        .collect();
    drop(docs_tx);
    let mut writer = Writer::new(handle, 512).expect("index writer");
    let mut done = 0usize;
    let mut next_report = 500_000;
    for docs in docs_rx {
        for (e, toks) in &docs {
            writer.add(e, toks, false).expect("add");
        }
        done += docs.len();
        if done >= next_report {
            writer.commit(&CommitPayload::default()).expect("commit");
            let secs = started.elapsed().as_secs_f64();
            eprintln!(
                "  indexed {done} tweets in {secs:.0} s ({:.0}/s)",
                done as f64 / secs
            );
            next_report += 500_000;
        }
    }
    for w in workers {
        w.join().expect("enrich worker");
    }
    let g = generator_thread.join().expect("generator");
    writer.commit(&CommitPayload::default()).expect("commit");
    println!(
        "built the index: {done} tweets in {:.0} s ({:.0} tweets/s on 2 cores)",
        started.elapsed().as_secs_f64(),
        done as f64 / started.elapsed().as_secs_f64()
    );
    (writer, g)
}

/// One kind of analyst query.
struct Kind {
    name: &'static str,
    what: &'static str,
    run: Box<dyn Fn(&IndexHandle) -> u64 + Send + Sync>,
}

fn search(filters: Filters, sort: Sort) -> Box<dyn Fn(&IndexHandle) -> u64 + Send + Sync> {
    Box::new(move |h| h.search(&filters, sort, 20, None).expect("search").total)
}

fn kinds(from_ms: i64, to_ms: i64) -> Vec<Kind> {
    let q = |s: &str| Filters {
        q: s.into(),
        ..Filters::default()
    };
    let mid = from_ms + (to_ms - from_ms) / 2;
    vec![
        Kind {
            name: "term",
            what: "banjir, by relevance",
            run: search(q("banjir"), Sort::Relevance),
        },
        Kind {
            name: "terms",
            what: "jalan rusak lubang, newest first",
            run: search(q("jalan rusak lubang"), Sort::Time),
        },
        Kind {
            name: "phrase",
            what: "\"air pdam\" mati",
            run: search(q("\"air pdam\" mati"), Sort::Relevance),
        },
        Kind {
            name: "boolean",
            what: "(pungli OR calo) AND (samsat OR stnk) -sekolah",
            run: search(
                q("(pungli OR calo) AND (samsat OR stnk) -sekolah"),
                Sort::Time,
            ),
        },
        Kind {
            name: "filters+time",
            what: "banjir, Kab. Demak, topic flood, 14 days",
            run: search(
                Filters {
                    q: "banjir".into(),
                    region: Some(3321),
                    topic: Some("flood".into()),
                    from_ms: Some(mid),
                    to_ms: Some(mid + 14 * DAY_MS),
                    ..Filters::default()
                },
                Sort::Time,
            ),
        },
        Kind {
            name: "facets",
            what: "every tweet of Kota Semarang in 30 days, counted by topic and region",
            run: search(
                Filters {
                    region: Some(3374),
                    from_ms: Some(mid),
                    to_ms: Some(mid + 30 * DAY_MS),
                    ..Filters::default()
                },
                Sort::Time,
            ),
        },
        Kind {
            name: "histogram",
            what: "banjir per day over the whole index",
            run: Box::new(|h: &IndexHandle| {
                let f = Filters {
                    q: "banjir".into(),
                    ..Filters::default()
                };
                let (lo, hi) = h.time_range().unwrap_or((0, DAY_MS));
                let start = lo.div_euclid(DAY_MS) * DAY_MS;
                h.histogram(&f, start, hi + 1, DAY_MS)
                    .expect("histogram")
                    .iter()
                    .sum()
            }),
        },
        Kind {
            name: "fuzzy",
            what: "banjr~1 demak",
            run: search(q("banjr~1 demak"), Sort::Relevance),
        },
        Kind {
            name: "landing",
            what: "the page's first view: every tweet, newest first, with facets",
            run: search(Filters::default(), Sort::Time),
        },
    ]
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Peak resident memory of this process, and the largest anonymous
/// (heap) resident memory a sampler saw, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// The export child: streams `rows` matches as CSV into a sink, as the HTTP
/// export does, and prints its memory.
fn export_child(dir: &str, rows: u64) {
    let config = Config::embedded().expect("bundled config");
    let handle = IndexHandle::open(Path::new(dir), &config).expect("open index");
    let peak_anon = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak_anon, stop) = (peak_anon.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak_anon.fetch_max(status_kib("RssAnon:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let mut sink = std::io::sink();
    let mut buf = String::with_capacity(64 * 1024);
    let mut n = 0u64;
    let mut bytes = 0u64;
    handle
        .for_each_match(&Filters::default(), |h| {
            use std::fmt::Write as _;
            let _ = write!(
                buf,
                "{},{},{},{},{},{},{},{},",
                h.id,
                h.created_at_ms,
                h.author,
                h.region,
                h.lang,
                h.topics.join("|"),
                h.agency.as_deref().unwrap_or(""),
                h.is_complaint
            );
            if h.text.contains([',', '"', '\n']) {
                buf.push('"');
                buf.push_str(&h.text.replace('"', "\"\""));
                buf.push('"');
            } else {
                buf.push_str(&h.text);
            }
            buf.push('\n');
            if buf.len() >= 60 * 1024 {
                bytes += buf.len() as u64;
                let _ = sink.write_all(buf.as_bytes());
                buf.clear();
            }
            n += 1;
            n < rows
        })
        .expect("export");
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.join();
    println!(
        "rows={n} bytes={} secs={:.2} vmhwm_kib={} peak_rss_anon_kib={}",
        bytes + buf.len() as u64,
        started.elapsed().as_secs_f64(),
        status_kib("VmHWM:"),
        peak_anon
            .load(Ordering::Relaxed)
            .max(status_kib("RssAnon:"))
    );
}

fn export_rss(dir: &Path, rows: u64) -> BTreeMap<String, String> {
    let out = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .env("KEMALA_BENCH_EXPORT_CHILD", dir)
        .env("KEMALA_BENCH_EXPORT_ROWS", rows.to_string())
        .output()
        .expect("export child");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn main() {
    if let Ok(dir) = std::env::var("KEMALA_BENCH_EXPORT_CHILD") {
        let rows = env_num("KEMALA_BENCH_EXPORT_ROWS").unwrap_or(1_000_000);
        export_child(&dir, rows);
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let n =
        env_num("KEMALA_BENCH_TWEETS").unwrap_or(if quick { 300_000 } else { 5_000_000 }) as usize;
    let seconds = env_num("KEMALA_BENCH_SECONDS").unwrap_or(if quick { 20 } else { 60 });
    let config = Config::embedded().expect("bundled config");
    let _tmp;
    let dir: PathBuf = match std::env::var("KEMALA_BENCH_INDEX") {
        Ok(d) => PathBuf::from(d),
        Err(_) => {
            _tmp = tempfile::tempdir().expect("temp dir");
            _tmp.path().join("index")
        }
    };
    println!(
        "kemala search benchmark: {n} generated tweets in {}, {seconds} s of queries with ingestion at 1,000 tweets/s",
        dir.display()
    );
    let mut handle = IndexHandle::open(&dir, &config).expect("open index");
    if handle.num_docs() != n as u64 {
        if handle.num_docs() > 0 {
            println!(
                "  {} holds {} tweets; rebuilding",
                dir.display(),
                handle.num_docs()
            );
            drop(handle);
            std::fs::remove_dir_all(&dir).expect("remove old index");
            handle = IndexHandle::open(&dir, &config).expect("open index");
        }
        let (writer, _) = build(&handle, &config, n);
        drop(writer);
    } else {
        println!("  reusing the index in {}", dir.display());
    }
    let docs = handle.num_docs();
    let bytes = dir_bytes(&dir);
    // Query and ingest into a copy of a kept index, so that it stays as built.
    let _work;
    let dir = if std::env::var("KEMALA_BENCH_INDEX").is_ok() {
        _work = tempfile::tempdir().expect("temp dir");
        let copy = _work.path().join("index");
        std::fs::create_dir_all(&copy).expect("copy dir");
        for entry in std::fs::read_dir(&dir)
            .expect("index dir")
            .filter_map(Result::ok)
        {
            if entry.file_name() != ".tantivy-writer.lock" && entry.path().is_file() {
                std::fs::copy(entry.path(), copy.join(entry.file_name())).expect("copy index");
            }
        }
        drop(handle);
        handle = IndexHandle::open(&copy, &config).expect("open the copy");
        copy
    } else {
        dir
    };
    println!(
        "index size: {:.2} GiB for {docs} tweets = {:.0} MiB per million tweets",
        bytes as f64 / (1u64 << 30) as f64,
        bytes as f64 / (1u64 << 20) as f64 / (docs as f64 / 1e6)
    );

    // The query phase, with a writer adding 1,000 tweets/s and committing
    // every second. The generator continues after the indexed tweets.
    let (from_ms, to_ms) = handle.time_range().expect("a non-empty index");
    let stop = Arc::new(AtomicBool::new(false));
    let ingest = {
        let (handle, config, stop) = (handle.clone(), config.clone(), stop.clone());
        std::thread::spawn(move || {
            let enricher = Enricher::build(&config).unwrap();
            let mut writer = Writer::new(&handle, 128).expect("index writer");
            let mut g = Generator::new(
                &config,
                GenOptions {
                    seed: 7,
                    start_ms: to_ms,
                    ..gen_options()
                },
            );
            let mut added = 0u64;
            let mut commit_ms = Vec::new();
            let started = Instant::now();
            let mut toks = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let second = Instant::now();
                for t in tweets(&mut g, 1000) {
                    let e = enricher.enrich(t, &mut toks);
                    writer.add(&e, &toks, false).expect("add");
                    added += 1;
                }
                let c = Instant::now();
                writer.commit(&CommitPayload::default()).expect("commit");
                commit_ms.push(c.elapsed().as_secs_f64() * 1000.0);
                if let Some(rest) = Duration::from_secs(1).checked_sub(second.elapsed()) {
                    std::thread::sleep(rest);
                }
            }
            commit_ms.sort_by(f64::total_cmp);
            (
                added as f64 / started.elapsed().as_secs_f64(),
                quantile(&commit_ms, 0.5),
                quantile(&commit_ms, 0.99),
            )
        })
    };
    let kinds = kinds(from_ms, to_ms);
    let mut lat: Vec<Vec<f64>> = vec![Vec::new(); kinds.len()];
    let mut totals = vec![0u64; kinds.len()];
    // Warm the caches once, as a running server would be.
    for k in &kinds {
        (k.run)(&handle);
    }
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        let k = i % kinds.len();
        let t = Instant::now();
        totals[k] = (kinds[k].run)(&handle);
        lat[k].push(t.elapsed().as_secs_f64() * 1000.0);
        i += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let (rate, commit_p50, commit_p99) = ingest.join().expect("ingest thread");
    println!(
        "queries while ingesting {rate:.0} tweets/s (commit every second: p50 {commit_p50:.0} ms, p99 {commit_p99:.0} ms):"
    );
    println!(
        "  {:<13} {:>6} {:>9} {:>9} {:>9}  query",
        "kind", "runs", "p50 ms", "p99 ms", "matches"
    );
    let mut all = Vec::new();
    for (k, l) in kinds.iter().zip(&mut lat) {
        l.sort_by(f64::total_cmp);
        println!(
            "  {:<13} {:>6} {:>9.1} {:>9.1} {:>9}  {}",
            k.name,
            l.len(),
            quantile(l, 0.5),
            quantile(l, 0.99),
            totals[kinds.iter().position(|x| x.name == k.name).unwrap_or(0)],
            k.what
        );
        all.extend_from_slice(l);
    }
    all.sort_by(f64::total_cmp);
    println!(
        "  {:<13} {:>6} {:>9.1} {:>9.1}",
        "all",
        all.len(),
        quantile(&all, 0.5),
        quantile(&all, 0.99)
    );

    // Export memory: the same peak for ten times the rows is constant memory.
    let docs = handle.num_docs();
    for rows in [100_000, 1_000_000.min(docs)] {
        let m = export_rss(&dir, rows);
        println!(
            "export of {} rows as CSV ({:.0} MiB) in {} s: peak RSS {:.1} MiB (anonymous, i.e. heap and stacks: {:.1} MiB; the rest is the index's files, mapped)",
            m.get("rows").map_or("?", String::as_str),
            m.get("bytes").and_then(|b| b.parse::<f64>().ok()).unwrap_or(0.0) / (1u64 << 20) as f64,
            m.get("secs").map_or("?", String::as_str),
            m.get("vmhwm_kib").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0,
            m.get("peak_rss_anon_kib").and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0,
        );
    }
}
