//! End-to-end throughput: tweets/s from produced into Kafka to indexed and
//! committed, on the embedded broker, plus the cost of each stage measured
//! alone on the same tweets so the total can be explained.
//!
//! `cargo bench --bench throughput [-- N RUNS]` (defaults: 200000 tweets, 3 runs).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kemala::app::Engine;
use kemala::config::{Config, HumanDuration};
use kemala::enrich::Enricher;
use kemala::gen::{GenOptions, Generator};
use kemala::source::broker::EmbeddedBroker;
use kemala::source::decode::decode;
use rdkafka::producer::{BaseRecord, Producer};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn per_tweet_us(n: usize, f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let runs: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(3);
    let config = Config::embedded().expect("bundled config");
    let opts = GenOptions {
        malformed_ratio: 0.001,
        ..GenOptions::default()
    };
    let payloads: Vec<Vec<u8>> = Generator::new(&config, opts)
        .take(n)
        .map(|g| g.payload)
        .collect();
    let bytes: usize = payloads.iter().map(Vec::len).sum();
    println!("kemala throughput benchmark: {n} generated tweets, {:.0} bytes each on average, {runs} runs", bytes as f64 / n as f64);

    // Where the time goes: each stage alone, one thread.
    let enricher = Enricher::build(&config).unwrap();
    let tweets: Vec<_> = payloads
        .iter()
        .filter_map(|p| decode(Some(p), 64 * 1024).ok())
        .collect();
    let decode_us = per_tweet_us(n, || {
        for p in &payloads {
            std::hint::black_box(decode(Some(p), 64 * 1024).ok());
        }
    });
    let analyzer = kemala::text::analyzer();
    let mut toks = Vec::new();
    let analyse_us = per_tweet_us(tweets.len(), || {
        for t in &tweets {
            analyzer.analyse(&t.text, &mut toks);
        }
    });
    let lang = enricher.language_detector();
    let lang_us = per_tweet_us(tweets.len(), || {
        for t in &tweets {
            std::hint::black_box(lang.detect(&t.text));
        }
    });
    let sample = tweets.len().min(30_000);
    let lingua_us = per_tweet_us(sample, || {
        for t in &tweets[..sample] {
            std::hint::black_box(lang.detect_lingua_only(&t.text));
        }
    });
    let enrich_us = per_tweet_us(tweets.len(), || {
        for t in &tweets {
            std::hint::black_box(enricher.enrich(t.clone(), &mut toks));
        }
    });
    // Indexing alone: the same writer the engine uses.
    let index_us = {
        let dir = tempfile::tempdir().unwrap();
        let handle = kemala::index::IndexHandle::open(dir.path(), &config).unwrap();
        let mut writer = kemala::index::Writer::new(&handle, 128).unwrap();
        let enriched: Vec<_> = tweets
            .iter()
            .map(|t| {
                let e = enricher.enrich(t.clone(), &mut toks);
                (e, toks.clone())
            })
            .collect();
        per_tweet_us(enriched.len(), || {
            for (e, t) in &enriched {
                writer.add(e, t, false).unwrap();
            }
            writer
                .commit(&kemala::index::CommitPayload::default())
                .unwrap();
        })
    };
    println!("stage costs, single thread, µs per tweet:");
    println!("  decode (JSON, v1.1/v2)         {decode_us:8.2}");
    println!("  analyse (tokens, slang, stem)  {analyse_us:8.2}");
    println!(
        "  language, hybrid detector      {lang_us:8.2}   ({:.0} tweets/s)",
        1e6 / lang_us
    );
    println!(
        "  language, lingua alone         {lingua_us:8.2}   ({:.0} tweets/s)",
        1e6 / lingua_us
    );
    println!("  enrich total (all of the above but decode) {enrich_us:8.2}");
    println!(
        "  index add + commit (tantivy, {} indexing threads, wall time) {index_us:8.2}",
        kemala::index::INDEXING_THREADS
    );

    let mut rates = Vec::new();
    for run in 0..runs {
        let dir = tempfile::tempdir().unwrap();
        let partitions = ((bytes / n * n) / (3 << 20) + 1).max(8) as i32;
        let broker =
            EmbeddedBroker::start(&["tweets".into(), "tweets.dlq".into()], partitions).unwrap();
        let producer = kemala::cli::producer(broker.bootstrap()).unwrap();
        let t = Instant::now();
        for p in &payloads {
            let mut rec: BaseRecord<'_, (), [u8]> = BaseRecord::to("tweets").payload(&p[..]);
            while let Err((_, r)) = producer.send(rec) {
                rec = r;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        producer.flush(Duration::from_secs(60)).unwrap();
        let produce_s = t.elapsed().as_secs_f64();
        let mut c = config.clone();
        c.engine.kafka.brokers = broker.bootstrap().to_string();
        c.engine.index.data_dir = dir.path().join("index");
        c.engine.index.commit_interval = HumanDuration(Duration::from_secs(2));
        let (rt, engine) = Engine::start_local(c).unwrap();
        let progress = engine.shared.progress.clone();
        // The clock starts at the first message handled, after the group join.
        while progress.processed.load(Ordering::Relaxed) == 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        let t = Instant::now();
        while progress.committed.load(Ordering::Relaxed) < n as u64 {
            std::thread::sleep(Duration::from_millis(2));
        }
        let secs = t.elapsed().as_secs_f64();
        let rate = n as f64 / secs;
        let m = &engine.shared.metrics;
        println!(
            "run {}: {n} tweets indexed and committed in {secs:.2} s = {rate:.0} tweets/s (produce alone: {:.0}/s; {} commits, mean commit {:.0} ms; {partitions} partitions)",
            run + 1,
            n as f64 / produce_s,
            m.index_commits.get(),
            m.commit_seconds.get_sample_sum() * 1000.0 / m.commit_seconds.get_sample_count().max(1) as f64,
        );
        rates.push(rate);
        rt.block_on(engine.stop()).unwrap();
    }
    println!(
        "end to end, median of {runs}: {:.0} tweets/s",
        median(rates)
    );
}
