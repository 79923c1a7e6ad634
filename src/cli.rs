//! The commands behind the CLI. Each is a plain function the binary calls,
//! so tests can drive the same code in-process.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

use crate::app::Engine;
use crate::config::Config;
use crate::gen::{GenOptions, Generator};
use crate::source::broker::EmbeddedBroker;

mod demo;

#[derive(Parser, Debug)]
#[command(name = "kemala", version, about = "Stream analytics and alerting for citizen complaints on social media.", long_about = None)]
pub struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The main job on embedded defaults: an in-process Kafka-protocol broker,
    /// generated complaint traffic (history, then a live feed with incidents
    /// every few minutes), and the engine with its HTTP API and search page.
    Demo(DemoArgs),
    /// Run the engine against the Kafka cluster the config names (embedded if none).
    Run {
        /// Path to kemala.toml; the data files are read from its directory.
        #[arg(long)]
        config: PathBuf,
        /// Override `http.listen`.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Produce archived tweets (NDJSON, one tweet a line, .gz accepted) into Kafka.
    Replay {
        /// NDJSON files; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(long)]
        brokers: String,
        #[arg(long, default_value = "tweets")]
        topic: String,
        /// Tweets per second; default as fast as possible.
        #[arg(long)]
        rate: Option<f64>,
    },
    /// A throwaway local Kafka-protocol broker in its own process (5 MiB per partition, nothing on disk).
    /// SIGUSR1 takes it down (it refuses connections), SIGUSR2 brings it back.
    Broker {
        /// Also accept bootstrap connections on this address (forwarded to the broker).
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[arg(long, default_value_t = 8)]
        partitions: i32,
        /// Topics to create.
        #[arg(long, value_delimiter = ',', default_value = "tweets,tweets.dlq")]
        topics: Vec<String>,
    },
    /// Validate a configuration and its data files, then print what would run.
    CheckConfig {
        #[arg(long)]
        config: PathBuf,
    },
    /// Train the enrichment model on the labelled corpus: fit on its train
    /// and dev splits, set thresholds out of five folds of them, write the
    /// model and print the held-out figures. The test split is never read.
    Train {
        /// The corpus directory, holding train.jsonl and dev.jsonl.
        #[arg(long, default_value = "corpus")]
        corpus: PathBuf,
        /// Where to write the model (what `[data] model` names; the bundled one
        /// is assets/model/enrich.kmodel).
        #[arg(long, default_value = "assets/model/enrich.kmodel")]
        out: PathBuf,
        /// The configuration whose topics and accounts to train for (default:
        /// the bundled one).
        #[arg(long)]
        config: Option<PathBuf>,
        /// Passes over the training texts.
        #[arg(long, default_value_t = 10)]
        epochs: usize,
        /// FTRL-Proximal's learning-rate scale (alpha).
        #[arg(long, default_value_t = 0.1)]
        learning_rate: f32,
        /// L1 penalty: how much evidence a feature needs to get any weight.
        #[arg(long, default_value_t = 2.0)]
        l1: f32,
        /// L2 penalty.
        #[arg(long, default_value_t = 1.0)]
        l2: f32,
    },
    /// Generate tweets as NDJSON on standard output (for replay and tests).
    Generate {
        #[arg(long, default_value_t = 10_000)]
        count: usize,
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Average tweets per hour of event time.
        #[arg(long, default_value_t = 2000.0)]
        per_hour: f64,
        /// Leave out malformed messages.
        #[arg(long)]
        valid_only: bool,
    },
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Address of the HTTP API, the search page and /metrics.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Keep the index here (default: a fresh temporary directory).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Seed of the generated traffic: the same seed and options give the
    /// same tweets (at the same times relative to the start).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Event time of history to backfill first, ending now. With 24h or
    /// more (the detector's warm-up) spikes can fire as soon as the feed is
    /// live; past 48h, unanswered complaints pass the answer target.
    #[arg(long, default_value = "50h", value_parser = humantime::parse_duration)]
    pub history: Duration,
    /// Messages per second of the live feed (and of the history), averaged
    /// over a day: it follows the day in WIB, from a tenth of that at night
    /// to 1.6 times in the evening.
    #[arg(long, default_value_t = 2.0)]
    pub rate: f64,
    /// Wall time between the starts of two incidents in the live feed.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub incident_every: Duration,
    /// Stop feeding after this many messages (default: feed until Ctrl-C).
    #[arg(long)]
    pub tweets: Option<u64>,
}

pub fn main(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Demo(args) => runtime()?.block_on(demo::demo(args)),
        Command::Run { config, listen } => {
            let mut c = Config::load(&config)?;
            if let Some(l) = listen {
                c.engine.http.listen = l;
            }
            runtime()?.block_on(run(c))
        }
        Command::Replay {
            files,
            brokers,
            topic,
            rate,
        } => replay(&files, &brokers, &topic, rate),
        Command::Broker {
            listen,
            partitions,
            topics,
        } => runtime()?.block_on(broker(listen, partitions, topics)),
        Command::CheckConfig { config } => check_config(&config),
        Command::Train {
            corpus,
            out,
            config,
            epochs,
            learning_rate,
            l1,
            l2,
        } => train(
            &corpus,
            &out,
            config.as_deref(),
            &crate::enrich::learned::TrainParams {
                epochs,
                learning_rate,
                l1,
                l2,
                ..Default::default()
            },
        ),
        Command::Generate {
            count,
            seed,
            per_hour,
            valid_only,
        } => generate(count, seed, per_hour, valid_only),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Resolves on Ctrl-C or SIGTERM.
/// Ctrl-C and SIGTERM, watched from the moment this is made: a signal that
/// arrives while the engine is still starting is kept, and the next
/// [`Shutdown::wait`] returns at once, instead of the default action killing
/// the process half-way through its start.
pub struct Shutdown {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Shutdown {
    /// Installs the handlers; call it first thing inside the runtime.
    pub fn watch() -> anyhow::Result<Shutdown> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                int: signal(SignalKind::interrupt()).context("cannot watch Ctrl-C (SIGINT)")?,
                term: signal(SignalKind::terminate()).context("cannot watch SIGTERM")?,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown {})
    }

    /// Until Ctrl-C or SIGTERM, including one that came before this call.
    pub async fn wait(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

async fn bind(addr: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("cannot listen on `{addr}` (is another kemala running? use --listen)")
    })
}

async fn run(config: Config) -> anyhow::Result<()> {
    let mut shutdown = Shutdown::watch()?;
    let listener = bind(config.engine.http.listen).await?;
    let engine = Engine::start(config, listener).await?;
    eprintln!("kemala: serving http://{}", engine.http_addr);
    shutdown.wait().await;
    engine.stop().await
}

pub fn producer(bootstrap: &str) -> anyhow::Result<ThreadedProducer<DefaultProducerContext>> {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("linger.ms", "5")
        // Spread keyless tweets evenly: sticky batches can overfill one
        // partition of the embedded broker, which keeps only 5 MiB each.
        .set("sticky.partitioning.linger.ms", "0")
        .set("queue.buffering.max.messages", "200000")
        .set("message.max.bytes", "2000000")
        .create()
        .context("cannot create a Kafka producer")
}

fn send(
    p: &ThreadedProducer<DefaultProducerContext>,
    topic: &str,
    payload: &[u8],
) -> anyhow::Result<()> {
    let mut record: BaseRecord<'_, (), [u8]> = BaseRecord::to(topic).payload(payload);
    loop {
        match p.send(record) {
            Ok(()) => return Ok(()),
            Err((e, r))
                if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
            {
                record = r;
                std::thread::sleep(Duration::from_millis(2));
            }
            Err((e, _)) => bail!("cannot produce to `{topic}`: {e}"),
        }
    }
}

fn replay(files: &[PathBuf], brokers: &str, topic: &str, rate: Option<f64>) -> anyhow::Result<()> {
    let producer = producer(brokers)?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} replayed {pos} tweets {per_sec} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let started = Instant::now();
    let mut n: u64 = 0;
    for f in files {
        let reader: Box<dyn Read> = if f.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            let file =
                std::fs::File::open(f).with_context(|| format!("cannot open `{}`", f.display()))?;
            if f.extension().is_some_and(|e| e == "gz") {
                Box::new(flate2::read::MultiGzDecoder::new(file))
            } else {
                Box::new(file)
            }
        };
        let mut lines = BufReader::new(reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            let read = lines
                .read_until(b'\n', &mut line)
                .with_context(|| format!("cannot read `{}`", f.display()))?;
            if read == 0 {
                break;
            }
            while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
                line.pop();
            }
            if line.is_empty() {
                continue;
            }
            if let Some(r) = rate {
                let due = Duration::from_secs_f64(n as f64 / r);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
            send(&producer, topic, &line)?;
            n += 1;
            bar.inc(1);
        }
    }
    producer
        .flush(Duration::from_secs(30))
        .context("not every tweet was acknowledged by the broker")?;
    bar.finish_with_message("done");
    eprintln!("kemala: replayed {n} tweets into `{topic}`");
    Ok(())
}

async fn broker(
    listen: Option<SocketAddr>,
    partitions: i32,
    topics: Vec<String>,
) -> anyhow::Result<()> {
    let mut shutdown = Shutdown::watch()?;
    let broker = EmbeddedBroker::start(&topics, partitions)?;
    let bootstrap = broker.bootstrap().to_string();
    // Up or down, for the outage signals below; the forwarder follows it.
    let (up_tx, up_rx) = tokio::sync::watch::channel(true);
    if let Some(addr) = listen {
        let target: SocketAddr = bootstrap
            .split(',')
            .next()
            .and_then(|s| s.parse().ok())
            .context("the embedded broker gave no usable address")?;
        let first = bind(addr).await?;
        tokio::spawn(forward(first, addr, target, up_rx));
        println!("{addr}");
    } else {
        println!("{bootstrap}");
    }
    eprintln!(
        "kemala: broker up ({} partitions per topic: {}); Ctrl-C stops it, SIGUSR1 takes it down, SIGUSR2 brings it back",
        partitions,
        topics.join(", ")
    );
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut down = signal(SignalKind::user_defined1()).context("cannot watch SIGUSR1")?;
        let mut up = signal(SignalKind::user_defined2()).context("cannot watch SIGUSR2")?;
        loop {
            let reachable = tokio::select! {
                _ = shutdown.wait() => break,
                _ = down.recv() => false,
                _ = up.recv() => true,
            };
            broker.set_reachable(reachable)?;
            let _ = up_tx.send(reachable);
            eprintln!(
                "kemala: broker {}",
                if reachable {
                    "up: accepting connections"
                } else {
                    "down: refusing connections"
                }
            );
        }
    }
    #[cfg(not(unix))]
    shutdown.wait().await;
    drop(up_tx);
    drop(broker);
    Ok(())
}

/// Forwards connections on `addr` to the broker, and stops listening (so
/// that connections are refused) while the broker is down.
async fn forward(
    mut listener: tokio::net::TcpListener,
    addr: SocketAddr,
    target: SocketAddr,
    mut up_rx: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((mut inbound, _)) = accepted else { continue };
                tokio::spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
            changed = up_rx.changed() => {
                if changed.is_err() {
                    return;
                }
                if !*up_rx.borrow_and_update() {
                    drop(listener);
                    while !*up_rx.borrow_and_update() {
                        if up_rx.changed().await.is_err() {
                            return;
                        }
                    }
                    listener = match bind(addr).await {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("cannot listen on `{addr}` again: {e:#}");
                            return;
                        }
                    };
                }
            }
        }
    }
}

fn train(
    corpus: &std::path::Path,
    out: &std::path::Path,
    config: Option<&std::path::Path>,
    params: &crate::enrich::learned::TrainParams,
) -> anyhow::Result<()> {
    let c = match config {
        Some(p) => Config::load(p)?,
        None => Config::embedded()?,
    };
    let started = std::time::Instant::now();
    let trained = crate::enrich::train::train(&c, corpus, params)?;
    let mut file = Vec::new();
    trained.model.write(&mut file)?;
    std::fs::write(out, &file)
        .with_context(|| format!("cannot write the model to `{}`", out.display()))?;
    println!(
        "model written to `{}` ({} bytes, {} classes, {} weights) in {:.1}s",
        out.display(),
        file.len(),
        trained.model.classes.len(),
        trained.model.num_weights(),
        started.elapsed().as_secs_f64()
    );
    println!("{}", trained.model.provenance);
    println!(
        "held out (each text scored by a model fitted without it):\n{}",
        trained.held_out
    );
    println!(
        "the lexicons alone, on the same texts:\n{}",
        trained.lexicons
    );
    Ok(())
}

fn check_config(path: &std::path::Path) -> anyhow::Result<()> {
    let c = Config::load(path)?;
    // Building the enricher compiles every matcher and reads the model, so
    // it checks those too.
    crate::enrich::Enricher::build(&c)?;
    let e = &c.engine;
    println!("config `{}` is valid", path.display());
    println!(
        "kafka: {} topics={:?} group={} dead-letter={}",
        if e.kafka.brokers.is_empty() {
            "embedded broker".to_string()
        } else {
            format!("brokers={}", e.kafka.brokers)
        },
        e.kafka.topics,
        e.kafka.group_id,
        e.kafka.dead_letter_topic
    );
    println!(
        "index: {} (commit every {})",
        e.index.data_dir.display(),
        e.index.commit_interval
    );
    let tokens = c.resolve_tokens()?;
    println!(
        "http: {} (reading: {:?}; tokens: {})",
        e.http.listen,
        e.http.read_access,
        tokens
            .iter()
            .map(|t| format!("{} ({:?})", t.name, t.role))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let d = &e.detect;
    println!(
        "detect: {} buckets, {} window, min_count {}, p_value {:e}, at most about {} alert(s) per series-week{}",
        d.bucket,
        d.window,
        d.min_count,
        d.p_value,
        d.max_alerts_per_series_week,
        if c.agency_budgets.is_empty() {
            String::new()
        } else {
            let own: Vec<String> = c
                .agency_budgets
                .iter()
                .map(|(id, n)| format!("{id} {n}"))
                .collect();
            format!(" ({})", own.join(", "))
        }
    );
    println!(
        "data: {} regions ({} gazetteer entries outside), {} topics, {} agencies",
        c.regions.len(),
        c.outside.len(),
        c.topics.len(),
        c.agencies.len()
    );
    Ok(())
}

fn generate(count: usize, seed: u64, per_hour: f64, valid_only: bool) -> anyhow::Result<()> {
    use std::io::Write;
    let config = Config::embedded()?;
    let opts = GenOptions {
        seed,
        mean_tweets_per_hour: per_hour,
        malformed_ratio: if valid_only {
            0.0
        } else {
            GenOptions::default().malformed_ratio
        },
        ..GenOptions::default()
    };
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    for g in Generator::new(&config, opts).take(count) {
        // NDJSON: a malformed payload with a newline would split in two lines.
        if g.payload.contains(&b'\n') {
            continue;
        }
        out.write_all(&g.payload)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}
