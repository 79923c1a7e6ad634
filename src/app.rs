//! Wiring: builds every stage from the config, connects them with bounded
//! channels, runs them, and owns shutdown.
//!
//! ```text
//!  consumer thread ──batches──▶ pipeline thread ──▶ tantivy writer
//!        ▲                        │ decode, enrich, dedup, index,
//!        └──committed offsets─────┘ commit with offsets in the payload
//! ```
//! The one backward edge carries offsets that an index commit made durable;
//! only then are they stored in Kafka. HTTP only reads: the index reader,
//! the metrics and the shared status.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::alert::deliver::{Dispatcher, Webhook};
use crate::alert::AlertStore;
use crate::config::{Config, OffsetReset};
use crate::enrich::Enricher;
use crate::index::{CommitPayload, IndexHandle, Writer};
use crate::model::{Gap, Lost, Offsets, Record, Reject, Tweet};
use crate::sched;
use crate::source::broker::EmbeddedBroker;
use crate::source::decode::decode;
use crate::source::kafka::{
    self, DeadLetter, DeadLetterProducer, Input, PartitionView, RawMessage, SourceState,
};
use crate::state::{Fault, Health, Progress, Shared};
use crate::telemetry::Metrics;
use crate::timestamp::rfc3339;
use crate::track::Trackers;

/// How far ahead of the wall clock a tweet's `created_at` may be and still
/// move event time forward.
const MAX_FUTURE_MS: i64 = 3_600_000;

/// A partition that has stayed caught up (nothing left on the broker) this
/// long stops holding event time back. Input already in Kafka reaches the end
/// of a partition only once, after its last message, so this never decides
/// anything for a replay; it only spares tweets that a producer is still
/// writing, partition by partition, from a moment's skew between partitions.
const CAUGHT_UP_GRACE: Duration = Duration::from_secs(2);

/// The tweets added since the last commit are kept, to be added again if a
/// write fails; past this many bytes the pipeline commits early.
const MAX_RETAINED_BYTES: usize = 64 << 20;

/// After a failed index write, the next attempt waits this long, doubling
/// up to [`MAX_WRITE_RETRY`]: a full disk is retried, never spun on.
const FIRST_WRITE_RETRY: Duration = Duration::from_secs(1);
const MAX_WRITE_RETRY: Duration = Duration::from_secs(30);

/// Runs the engine until `shutdown` resolves, then stops cleanly: the source
/// stops, the pipeline drains, the index commits, the offsets are stored.
pub async fn run(
    config: Config,
    http: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let engine = Engine::start(config, http).await?;
    shutdown.await;
    engine.stop().await
}

/// A running engine.
pub struct Engine {
    pub shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    consumer_thread: std::thread::JoinHandle<()>,
    lag_thread: std::thread::JoinHandle<()>,
    pipeline_thread: std::thread::JoinHandle<anyhow::Result<()>>,
    http_task: tokio::task::JoinHandle<()>,
    http_stop: tokio::sync::oneshot::Sender<()>,
    dispatch_stop: tokio::sync::watch::Sender<bool>,
    dispatch_task: tokio::task::JoinHandle<()>,
    _broker: Option<EmbeddedBroker>,
    pub http_addr: std::net::SocketAddr,
}

impl Engine {
    pub async fn start(config: Config, http: tokio::net::TcpListener) -> anyhow::Result<Engine> {
        Engine::start_with_broker(config, http, None).await
    }

    /// Starts an engine on a runtime of its own, shaped like the command
    /// line's (two workers), with its HTTP API on a free port of 127.0.0.1:
    /// for benchmarks and tests that drive it from plain threads. The engine
    /// must be stopped (or dropped) before the runtime.
    pub fn start_local(config: Config) -> anyhow::Result<(tokio::runtime::Runtime, Engine)> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let engine = rt.block_on(async {
            let http = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .context("cannot bind a port on 127.0.0.1")?;
            Engine::start(config, http).await
        })?;
        Ok((rt, engine))
    }

    /// Starts the engine on a broker the caller started (the demo), which
    /// the engine then owns and stops last.
    pub async fn start_with_broker(
        config: Config,
        http: tokio::net::TcpListener,
        broker: Option<EmbeddedBroker>,
    ) -> anyhow::Result<Engine> {
        let mut config = config;
        if let Some(b) = &broker {
            config.engine.kafka.brokers = b.bootstrap().to_string();
        }
        let config = Arc::new(config);
        let k = &config.engine.kafka;
        let broker = if broker.is_some() {
            broker
        } else if k.brokers.trim().is_empty() {
            let mut topics = k.topics.clone();
            topics.push(k.dead_letter_topic.clone());
            let b = EmbeddedBroker::start(&topics, k.embedded_partitions)?;
            tracing::info!(
                bootstrap = b.bootstrap(),
                "embedded Kafka-protocol broker started"
            );
            eprintln!("kemala: embedded Kafka broker at {}", b.bootstrap());
            Some(b)
        } else {
            None
        };
        let bootstrap = broker
            .as_ref()
            .map_or_else(|| k.brokers.clone(), |b| b.bootstrap().to_string());
        let tokens = config.resolve_tokens()?;
        let metrics = Arc::new(Metrics::new());
        let index = IndexHandle::open(&config.engine.index.data_dir, &config)?;
        let committed = index.committed()?;
        metrics.index_documents.set(index.num_docs() as i64);
        // The ledger of lost messages lives in the index: the counter goes on
        // from what it holds. Every partition the index covers gets its
        // series at once, so a loss is an increase, never a new series.
        for (topic, parts) in &committed.offsets {
            for p in parts.keys() {
                metrics
                    .messages_lost
                    .with_label_values(&[topic, &p.to_string()]);
            }
        }
        for (topic, parts) in &committed.lost.totals {
            for (p, n) in parts {
                metrics
                    .messages_lost
                    .with_label_values(&[topic, &p.to_string()])
                    .inc_by(*n as u64);
            }
        }
        let health = Arc::new(Health::default());
        health.update(|h| h.lost = committed.lost.clone());
        let progress = Arc::new(Progress::default());
        progress
            .watermark_ms
            .store(committed.watermark_ms, Ordering::Relaxed);
        let source = Arc::new(SourceState::default());
        *source
            .index_offsets
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))? = committed.offsets.clone();

        let enricher = {
            let c = config.clone();
            Arc::new(
                tokio::task::spawn_blocking(move || Enricher::build(&c))
                    .await
                    .context("building the enricher")??,
            )
        };
        let writer = Writer::new(&index, config.engine.index.writer_memory_mib)?;
        // Moving messages is background work (see `sched`): the Kafka
        // clients' threads are started at background priority.
        let (dlq, consumer) = sched::in_background("kemala-kafka", || -> anyhow::Result<_> {
            Ok((
                DeadLetterProducer::new(k, &bootstrap)?,
                kafka::consumer(k, &bootstrap, source.clone())?,
            ))
        })?;

        let (batch_tx, batch_rx) = sync_channel::<Input>(4);
        let (committed_tx, committed_rx) = std::sync::mpsc::channel::<Offsets>();
        let stop = Arc::new(AtomicBool::new(false));

        let (alerts, dispatcher) = alerting(&config, &metrics)?;
        let trackers = Arc::new(Trackers::new(
            config.clone(),
            enricher.clone(),
            alerts.clone(),
            metrics.clone(),
        ));
        {
            // Rebuild the state machines from the index, in event time.
            let (t, idx, wm) = (trackers.clone(), index.clone(), committed.watermark_ms);
            tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
                let started = Instant::now();
                let records = idx.records_since(wm.saturating_sub(t.rebuild_horizon_ms()))?;
                t.rebuild(&records, wm);
                t.refresh_gauges(wm);
                tracing::info!(records = records.len(), elapsed = ?started.elapsed(), "state rebuilt from the index");
                Ok(())
            })
            .await
            .context("rebuilding state")??;
        }
        let shared = Arc::new(Shared {
            config: config.clone(),
            index: index.clone(),
            metrics: metrics.clone(),
            source: source.clone(),
            progress: progress.clone(),
            bootstrap: bootstrap.clone(),
            embedded_broker: broker.is_some(),
            ready: AtomicBool::new(false),
            alerts: alerts.clone(),
            trackers: trackers.clone(),
            region_names: config
                .region_labels()
                .map(|(code, name, _)| (code, name.to_string()))
                .collect(),
            health: health.clone(),
            tokens,
        });

        let pipeline = Pipeline {
            enricher,
            writer,
            dlq,
            metrics: metrics.clone(),
            progress: progress.clone(),
            source: source.clone(),
            committed_tx,
            max_bytes: k.max_message_bytes,
            next_offsets: committed.offsets.clone(),
            watermark_ms: committed.watermark_ms,
            pending_dlq: Vec::new(),
            dirty: false,
            last_commit: Instant::now(),
            commit_interval: config.engine.index.commit_interval.0,
            commit_max_docs: config.engine.index.commit_max_docs,
            retention_ms: config
                .engine
                .index
                .retention
                .map(|d| d.0.as_millis() as i64),
            uncommitted_messages: 0,
            trackers: trackers.clone(),
            partitions: PartitionClocks::restore(&committed.event_times),
            offset_reset: k.offset_reset,
            lost: committed.lost.clone(),
            health,
            halted: false,
            retained: Vec::new(),
            retained_bytes: 0,
            write_retry: None,
            // Started here, at normal priority, before the pipeline thread
            // lowers itself.
            foreground: sched::Foreground::start("kemala-track")?,
            stop: stop.clone(),
            data_dir: config.engine.index.data_dir.clone(),
        };
        let pipeline_thread = std::thread::Builder::new()
            .name("kemala-pipeline".into())
            .spawn(move || {
                sched::lower();
                pipeline.run(batch_rx)
            })?;
        let lag_thread = {
            let (k, bootstrap, source, metrics, stop) = (
                k.clone(),
                bootstrap.clone(),
                source.clone(),
                metrics.clone(),
                stop.clone(),
            );
            std::thread::Builder::new()
                .name("kemala-lag".into())
                .spawn(move || {
                    sched::lower();
                    kafka::run_lag_monitor(&k, &bootstrap, source, metrics, stop)
                })?
        };
        let consumer_thread = {
            let (source, stop) = (source.clone(), stop.clone());
            let batch_max = k.batch_max_messages;
            std::thread::Builder::new()
                .name("kemala-consumer".into())
                .spawn(move || {
                    sched::lower();
                    kafka::run_consumer(consumer, source, batch_max, batch_tx, committed_rx, stop)
                })?
        };

        let http_addr = http.local_addr()?;
        let (dispatch_stop, dispatch_stop_rx) = tokio::sync::watch::channel(false);
        let dispatcher = Dispatcher {
            base_url: format!("http://{http_addr}"),
            ..dispatcher
        };
        let dispatch_task = tokio::spawn(dispatcher.run(dispatch_stop_rx));
        let (http_stop, http_stop_rx) = tokio::sync::oneshot::channel::<()>();
        let router = crate::http::router(shared.clone());
        let http_task = tokio::spawn(crate::http::serve(http, router, async move {
            let _ = http_stop_rx.await;
        }));
        shared.ready.store(true, Ordering::Relaxed);
        tracing::info!(%http_addr, bootstrap = %bootstrap, "kemala is running");
        Ok(Engine {
            shared,
            stop,
            consumer_thread,
            lag_thread,
            pipeline_thread,
            http_task,
            http_stop,
            dispatch_stop,
            dispatch_task,
            _broker: broker,
            http_addr,
        })
    }

    /// Stops in order: source, pipeline (final commit), offsets, HTTP.
    pub async fn stop(self) -> anyhow::Result<()> {
        tracing::info!("shutting down");
        self.shared.ready.store(false, Ordering::Relaxed);
        self.stop.store(true, Ordering::Relaxed);
        let (consumer_thread, pipeline_thread, lag_thread) =
            (self.consumer_thread, self.pipeline_thread, self.lag_thread);
        let result = tokio::task::spawn_blocking(move || {
            let r = pipeline_thread
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("the pipeline thread panicked")));
            let _ = consumer_thread.join();
            let _ = lag_thread.join();
            r
        })
        .await
        .context("joining the pipeline")?;
        let _ = self.http_stop.send(());
        let _ = self.dispatch_stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(3), self.http_task).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), self.dispatch_task).await;
        tracing::info!(
            indexed = self.shared.progress.indexed.load(Ordering::Relaxed),
            "stopped"
        );
        result
    }
}

/// The pipeline thread's state: it alone owns the index writer.
struct Pipeline {
    enricher: Arc<Enricher>,
    writer: Writer,
    dlq: DeadLetterProducer,
    metrics: Arc<Metrics>,
    progress: Arc<Progress>,
    source: Arc<SourceState>,
    committed_tx: Sender<Offsets>,
    max_bytes: usize,
    /// Next offset to process per partition (ahead of the last commit).
    next_offsets: Offsets,
    watermark_ms: i64,
    pending_dlq: Vec<DeadLetter>,
    dirty: bool,
    last_commit: Instant,
    commit_interval: Duration,
    commit_max_docs: usize,
    retention_ms: Option<i64>,
    uncommitted_messages: u64,
    trackers: Arc<Trackers>,
    /// Where the trackers are fed (see `Pipeline::feed`).
    foreground: sched::Foreground,
    /// Per partition: its newest event time, and whether it is caught up.
    partitions: PartitionClocks,
    offset_reset: OffsetReset,
    /// The accepted gaps, as the next commit records them.
    lost: Lost,
    health: Arc<Health>,
    /// Ingest stopped at a gap (`kafka.offset_reset = "fail"`): input is
    /// dropped and nothing past the gap is indexed or committed.
    halted: bool,
    /// The tweets added since the last commit, with their late flags: what
    /// the index gets again after a failed write is rolled back. Only the
    /// index sees them twice; the detector and the metrics saw them once.
    retained: Vec<(Tweet, bool)>,
    retained_bytes: usize,
    /// After a failed write: attempts so far, and when the next one is due.
    write_retry: Option<(u32, Instant)>,
    stop: Arc<AtomicBool>,
    /// The index directory, whose free space a failed write reports.
    data_dir: std::path::PathBuf,
}

/// One partition's clock.
#[derive(Clone, Copy, Debug)]
struct PartitionClock {
    /// The newest event time among its tweets (`i64::MIN` before the first).
    newest_ms: i64,
    /// Since when the consumer has reported it caught up, if it is.
    caught_up_since: Option<Instant>,
}

/// The partitions' clocks, from which event time is derived. Event time
/// depends on the data and on the broker's state (what is left to read), not
/// on when batches happen to arrive, so the same input gives the same alerts
/// however it is batched and however loaded the machine is.
#[derive(Default)]
struct PartitionClocks {
    clocks: BTreeMap<(String, i32), PartitionClock>,
    view: PartitionView,
}

impl PartitionClocks {
    /// Clocks as an index commit left them, so a restart judges lateness
    /// exactly as the run before it did.
    fn restore(event_times: &Offsets) -> PartitionClocks {
        let mut c = PartitionClocks::default();
        for (topic, parts) in event_times {
            for (p, ms) in parts {
                c.clocks.insert(
                    (topic.clone(), *p),
                    PartitionClock {
                        newest_ms: *ms,
                        caught_up_since: None,
                    },
                );
            }
        }
        c
    }

    fn snapshot(&self) -> Offsets {
        let mut out = Offsets::new();
        for ((topic, p), c) in &self.clocks {
            if c.newest_ms > i64::MIN {
                out.entry(topic.clone())
                    .or_default()
                    .insert(*p, c.newest_ms);
            }
        }
        out
    }

    /// Takes the consumer's view that came with an input.
    fn update(&mut self, view: PartitionView, now: Instant) {
        for (topic, parts) in &view.assigned {
            for p in parts {
                let c = self
                    .clocks
                    .entry((topic.clone(), *p))
                    .or_insert(PartitionClock {
                        newest_ms: i64::MIN,
                        caught_up_since: None,
                    });
                if !view.is_caught_up(topic, *p) {
                    c.caught_up_since = None;
                } else if c.caught_up_since.is_none() {
                    c.caught_up_since = Some(now);
                }
            }
        }
        self.view = view;
    }

    fn newest(&self, topic: &str, partition: i32) -> i64 {
        self.clocks
            .get(&(topic.to_string(), partition))
            .map_or(i64::MIN, |c| c.newest_ms)
    }

    fn saw(&mut self, topic: &str, partition: i32, created_at_ms: i64) {
        let key = (topic.to_string(), partition);
        match self.clocks.get_mut(&key) {
            Some(c) => c.newest_ms = c.newest_ms.max(created_at_ms),
            None => {
                self.clocks.insert(
                    key,
                    PartitionClock {
                        newest_ms: created_at_ms,
                        caught_up_since: None,
                    },
                );
            }
        }
    }

    /// Event time that every assigned partition has reached: the smallest
    /// newest event time over the partitions that still hold messages (or
    /// have not said yet whether they do). A partition with a backlog holds
    /// event time back however long it takes to deliver, so its tweets are
    /// never late because another partition ran ahead. A partition that has
    /// stayed caught up for [`CAUGHT_UP_GRACE`] lets go; when every one has,
    /// the newest event time seen stands. With no partition assigned (before
    /// the first assignment, during a rebalance) nothing is known, and event
    /// time does not move.
    fn watermark(&self, now: Instant) -> i64 {
        if self.view.assigned.values().all(Vec::is_empty) {
            return i64::MIN;
        }
        let holding = self
            .view
            .assigned
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t, *p)))
            .filter_map(|(t, p)| {
                let c = self.clocks.get(&(t.clone(), p))?;
                let released = c
                    .caught_up_since
                    .is_some_and(|since| now.duration_since(since) >= CAUGHT_UP_GRACE);
                (!released).then_some(c.newest_ms)
            })
            .min();
        holding.unwrap_or_else(|| {
            self.clocks
                .values()
                .map(|c| c.newest_ms)
                .max()
                .unwrap_or(i64::MIN)
        })
    }
}

impl Pipeline {
    fn run(mut self, rx: Receiver<Input>) -> anyhow::Result<()> {
        loop {
            // After a failed write, take no input until the retry: the
            // consumer waits (backpressure) and Kafka keeps the messages.
            if let Some((_, due)) = self.write_retry {
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
                let now = Instant::now();
                if now < due {
                    std::thread::sleep((due - now).min(Duration::from_millis(100)));
                } else {
                    self.recover();
                }
                continue;
            }
            let wait = self
                .commit_interval
                .saturating_sub(self.last_commit.elapsed())
                .max(Duration::from_millis(10));
            match rx.recv_timeout(wait) {
                Ok(Input::Batch(b, view)) if !self.halted => self.handle_batch(b, view),
                Ok(Input::Idle(view)) if !self.halted => {
                    self.partitions.update(view, Instant::now());
                    self.tick();
                }
                Ok(_) => {}
                Err(RecvTimeoutError::Timeout) => {
                    if !self.halted {
                        self.tick();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let due = self.last_commit.elapsed() >= self.commit_interval
                || self.writer.num_pending >= self.commit_max_docs
                || self.retained_bytes >= MAX_RETAINED_BYTES;
            if self.dirty && due && self.write_retry.is_none() {
                self.commit();
            }
        }
        // Final commit: retry dead letters (and a failed write) a few times
        // before giving up, so a rejected message is never skipped without
        // its letter. What is not committed is read again at the next start.
        for attempt in 0..3 {
            let done = if self.write_retry.is_some() {
                self.recover()
            } else {
                !self.dirty || self.commit()
            };
            if done {
                break;
            }
            tracing::warn!(attempt, "final commit failed; trying again");
            std::thread::sleep(Duration::from_millis(500));
        }
        Ok(())
    }

    /// Counts messages `from..to` of a partition as lost: deleted by the
    /// broker before they were read. With `kafka.offset_reset = "fail"`,
    /// ingest stops here; returns whether it goes on.
    fn lost_messages(&mut self, topic: &str, partition: i32, from: i64, to: i64) -> bool {
        let count = to - from;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let gap = Gap {
            topic: topic.to_string(),
            partition,
            from,
            to,
            detected_at: rfc3339(now_ms),
        };
        self.metrics
            .messages_lost
            .with_label_values(&[topic, &partition.to_string()])
            .inc_by(count as u64);
        tracing::error!(
            topic,
            partition,
            from,
            to = to - 1,
            count,
            "lost {count} messages of `{topic}` partition {partition}: offsets {from} to {} were deleted by the broker before kemala read them",
            to - 1
        );
        self.health.update(|h| h.lost.record(gap.clone()));
        match self.offset_reset {
            OffsetReset::Earliest => {
                self.lost.record(gap);
                self.dirty = true;
                true
            }
            OffsetReset::Fail => {
                self.halted = true;
                let detail = format!(
                    "lost {count} messages of `{topic}` partition {partition} (offsets {from} to {}) and \
                     kafka.offset_reset is \"fail\": nothing past the gap is indexed. Replay the lost \
                     tweets from their archive if there is one, then set kafka.offset_reset = \"earliest\" \
                     and restart to count the gap and go on",
                    to - 1
                );
                tracing::error!("ingest stopped: {detail}");
                self.health.update(|h| {
                    h.halted = Some(Fault {
                        since_ms: now_ms,
                        detail,
                        attempts: 0,
                    })
                });
                false
            }
        }
    }

    /// A write to the index failed: everything since the last commit is
    /// gone from the writer. Count it, say it, and schedule a retry.
    fn write_failed(&mut self, e: anyhow::Error) {
        let attempts = self.write_retry.map_or(0, |(a, _)| a) + 1;
        let wait = FIRST_WRITE_RETRY
            .saturating_mul(1 << (attempts - 1).min(5))
            .min(MAX_WRITE_RETRY);
        self.write_retry = Some((attempts, Instant::now() + wait));
        self.metrics.index_write_errors.inc();
        let space = match crate::index::free_bytes(&self.data_dir) {
            Some(free) => format!(
                "; {} KiB free on the filesystem of `{}`",
                free / 1024,
                self.data_dir.display()
            ),
            None => String::new(),
        };
        let detail = format!(
            "{e:#}{space}; the index stays at its last commit and kemala retries in {}s (attempt {attempts})",
            wait.as_secs()
        );
        if attempts == 1 {
            tracing::error!("index write failed: {detail}");
        } else {
            tracing::warn!("index write failed again: {detail}");
        }
        let now_ms = chrono::Utc::now().timestamp_millis();
        self.health.update(|h| {
            let since_ms = h.index_write.as_ref().map_or(now_ms, |f| f.since_ms);
            h.index_write = Some(Fault {
                since_ms,
                detail,
                attempts,
            });
        });
    }

    /// Rolls the writer back to the last commit, adds the retained tweets
    /// again and commits; true when that commit succeeded.
    fn recover(&mut self) -> bool {
        let readded = self.writer.rollback().and_then(|()| {
            let mut tokens = Vec::new();
            let searcher = self.writer.searcher();
            for (tweet, late) in &self.retained {
                if !self.writer.contains(&searcher, tweet.id) {
                    let e = self.enricher.enrich(tweet.clone(), &mut tokens);
                    self.writer.add(&e, &tokens, *late)?;
                }
            }
            Ok(())
        });
        match readded {
            Err(e) => {
                self.write_failed(e);
                false
            }
            Ok(()) => {
                self.dirty = true;
                let committed = self.commit();
                if !self.writer.is_broken() {
                    // The writer works again; a dead-letter failure, if that
                    // was what held the commit, is retried on the usual path.
                    self.write_retry = None;
                }
                committed
            }
        }
    }

    /// Between batches: partitions that caught up stop holding event time
    /// back, and the state machines see the time move on.
    fn tick(&mut self) {
        let wm = self
            .watermark_ms
            .max(self.partitions.watermark(Instant::now()));
        if wm > self.watermark_ms {
            self.watermark_ms = wm;
            self.feed(Vec::new());
            // Persist the new watermark with the next commit.
            self.dirty = true;
        }
    }

    /// Feeds a batch's records to the trackers and moves them to the
    /// watermark. This thread runs at background priority, and searches take
    /// the latency state's lock too: so the trackers are fed on the
    /// foreground thread, at normal priority, while this one waits (see
    /// `sched`).
    fn feed(&self, records: Vec<Record>) {
        self.on_trackers(move |t, wm| t.feed(&records, wm));
    }

    /// Runs `f` on the trackers, with the watermark, on the foreground
    /// thread (see `Pipeline::feed`).
    fn on_trackers(&self, f: impl FnOnce(&Trackers, i64) + Send + 'static) {
        let (trackers, wm) = (self.trackers.clone(), self.watermark_ms);
        self.foreground.run(move || f(&trackers, wm));
    }

    fn handle_batch(&mut self, batch: Vec<RawMessage>, view: PartitionView) {
        let started = Instant::now();
        let searcher = self.writer.searcher();
        let mut tokens = Vec::new();
        let (mut indexed, mut duplicates, mut redelivered) = (0u64, 0u64, 0u64);
        let mut rejects: BTreeMap<Reject, u64> = BTreeMap::new();
        let mut complaints: BTreeMap<(u16, u16), u64> = BTreeMap::new();
        let mut langs: BTreeMap<&'static str, u64> = BTreeMap::new();
        let mut records = Vec::new();
        let mut future = 0u64;
        let now_ms = chrono::Utc::now().timestamp_millis();
        let n = batch.len() as u64;
        for m in batch {
            // A partition's offsets follow on from the last one seen (or the
            // index's stored offset); a jump forward means the broker deleted
            // messages kemala never read. A partition seen for the first
            // time owes nothing.
            let next = self
                .next_offsets
                .get(&m.topic)
                .and_then(|p| p.get(&m.partition))
                .copied();
            match next {
                Some(next) if m.offset < next => {
                    redelivered += 1;
                    continue;
                }
                Some(next)
                    if m.offset > next
                        && !self.lost_messages(&m.topic, m.partition, next, m.offset) =>
                {
                    break;
                }
                // First sight of a partition: its loss counter starts at
                // zero, so that a later loss is an increase Prometheus sees.
                None => {
                    self.metrics
                        .messages_lost
                        .with_label_values(&[&m.topic, &m.partition.to_string()]);
                }
                _ => {}
            }
            self.next_offsets
                .entry(m.topic.clone())
                .or_default()
                .insert(m.partition, m.offset + 1);
            self.dirty = true;
            self.uncommitted_messages += 1;
            match decode(m.payload.as_deref(), self.max_bytes) {
                Err(r) => {
                    *rejects.entry(r.reason).or_default() += 1;
                    self.pending_dlq.push(DeadLetter {
                        source_topic: m.topic,
                        partition: m.partition,
                        offset: m.offset,
                        reason: r.reason.as_str(),
                        detail: r.detail,
                        payload: m.payload.unwrap_or_default(),
                    });
                }
                Ok(tweet) => {
                    // Lateness is judged against the tweet's own partition, so
                    // it depends on that partition's data alone.
                    let newest = self.partitions.newest(&m.topic, m.partition);
                    // A timestamp far in the future is a broken clock, not event
                    // time: it would skip the detector's buckets ahead.
                    let created = tweet.created_at_ms;
                    if created <= now_ms + MAX_FUTURE_MS {
                        self.partitions.saw(&m.topic, m.partition, created);
                    } else {
                        future += 1;
                    }
                    if self.writer.contains(&searcher, tweet.id) {
                        duplicates += 1;
                        continue;
                    }
                    let e = self.enricher.enrich(tweet, &mut tokens);
                    let record = e.record();
                    let late = self.trackers.observe(&record, newest);
                    if let Err(err) = self.writer.add(&e, &tokens, late) {
                        self.write_failed(err);
                    }
                    if e.is_complaint && !e.topics.is_empty() {
                        self.trackers
                            .remember_terms(e.tweet.id, crate::track::content_terms(&tokens));
                    }
                    records.push(record);
                    indexed += 1;
                    *langs.entry(e.lang.code()).or_default() += 1;
                    if e.is_complaint {
                        for t in &e.topics {
                            *complaints.entry((t.0, e.region.0)).or_default() += 1;
                        }
                    }
                    self.retained_bytes += e.tweet.text.len() + 512;
                    self.retained.push((e.tweet, late));
                }
            }
        }
        self.partitions.update(view, Instant::now());
        self.watermark_ms = self
            .watermark_ms
            .max(self.partitions.watermark(Instant::now()));
        self.feed(records);
        let m = &self.metrics;
        m.future_timestamps.inc_by(future);
        m.messages.with_label_values(&["indexed"]).inc_by(indexed);
        m.messages
            .with_label_values(&["duplicate"])
            .inc_by(duplicates);
        m.redelivered.inc_by(redelivered);
        let mut num_rejected = 0;
        for (reason, k) in rejects {
            m.record_rejects(reason, k);
            num_rejected += k;
        }
        let h = self.writer.handle();
        for ((topic, region), k) in complaints {
            m.complaints
                .with_label_values(&[
                    &h.topic_ids[topic as usize],
                    &region_slug(&h.regions, region),
                ])
                .inc_by(k);
        }
        for (lang, k) in langs {
            m.by_language.with_label_values(&[lang]).inc_by(k);
        }
        let p = &self.progress;
        p.processed.fetch_add(n, Ordering::Relaxed);
        p.indexed.fetch_add(indexed, Ordering::Relaxed);
        p.duplicates.fetch_add(duplicates, Ordering::Relaxed);
        p.rejected.fetch_add(num_rejected, Ordering::Relaxed);
        m.batch_seconds.observe(started.elapsed().as_secs_f64());
    }

    /// Commits the index with the offsets it covers; returns false when the
    /// dead letters could not be delivered or the index write failed
    /// (nothing was committed).
    fn commit(&mut self) -> bool {
        let started = Instant::now();
        if !self.pending_dlq.is_empty() {
            match self.dlq.deliver(&self.pending_dlq) {
                Ok(true) => self.pending_dlq.clear(),
                Ok(false) | Err(_) => {
                    self.metrics.dead_letter_failures.inc();
                    tracing::error!(
                        pending = self.pending_dlq.len(),
                        "dead letters not delivered; holding the commit back"
                    );
                    self.last_commit = Instant::now();
                    return false;
                }
            }
        }
        if let Some(r) = self.retention_ms {
            self.writer.delete_before(self.watermark_ms - r);
        }
        let payload = CommitPayload {
            version: 1,
            offsets: self.next_offsets.clone(),
            watermark_ms: self.watermark_ms,
            event_times: self.partitions.snapshot(),
            lost: self.lost.clone(),
        };
        if let Err(e) = self.writer.commit(&payload) {
            self.write_failed(e);
            self.last_commit = Instant::now();
            return false;
        }
        if let Some((attempts, _)) = self.write_retry.take() {
            tracing::info!("index writes work again, after {attempts} failed attempts");
        }
        self.health.update(|h| h.index_write = None);
        self.retained.clear();
        self.retained_bytes = 0;
        if let Ok(mut o) = self.source.index_offsets.lock() {
            *o = payload.offsets.clone();
        }
        let _ = self.committed_tx.send(payload.offsets);
        self.dirty = false;
        self.last_commit = Instant::now();
        let p = &self.progress;
        p.committed
            .fetch_add(self.uncommitted_messages, Ordering::Relaxed);
        self.uncommitted_messages = 0;
        p.watermark_ms.store(self.watermark_ms, Ordering::Relaxed);
        p.commits.fetch_add(1, Ordering::Relaxed);
        let m = &self.metrics;
        m.index_commits.inc();
        self.on_trackers(|t, wm| t.refresh_gauges(wm));
        m.commit_seconds.observe(started.elapsed().as_secs_f64());
        m.index_documents
            .set(self.writer.searcher().num_docs() as i64);
        true
    }
}

pub fn region_slug(regions: &BTreeMap<u16, (String, String)>, code: u16) -> String {
    regions
        .get(&code)
        .map_or_else(|| "unknown".to_string(), |(_, slug)| slug.clone())
}

/// The alert store and its dispatcher, from the config. A webhook whose
/// secret is missing from the environment is a start-up error.
fn alerting(
    config: &Config,
    metrics: &Arc<Metrics>,
) -> anyhow::Result<(Arc<AlertStore>, Dispatcher)> {
    let mut webhooks = std::collections::HashMap::new();
    for a in &config.agencies {
        if let Some(url) = &a.webhook_url {
            let secret = match &a.webhook_secret_env {
                Some(var) => std::env::var(var).map_err(|_| {
                    anyhow::anyhow!(
                        "agency `{}`: environment variable `{var}` (webhook_secret_env) is not set",
                        a.id
                    )
                })?,
                None => anyhow::bail!(
                    "agency `{}` has a webhook_url but no webhook_secret_env to sign with",
                    a.id
                ),
            };
            webhooks.insert(
                a.id.clone(),
                Webhook {
                    url: url.clone(),
                    secret: secret.into_bytes(),
                },
            );
        }
    }
    let am = config
        .engine
        .alerts
        .alertmanager_url
        .clone()
        .filter(|u| !u.trim().is_empty());
    let dir = alert_dir(&config.engine.index.data_dir);
    let store = Arc::new(AlertStore::open(
        &dir,
        webhooks.keys().cloned().collect(),
        am.is_some(),
    )?);
    let dispatcher = Dispatcher {
        store: store.clone(),
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .context("cannot build the HTTP client")?,
        webhooks,
        alertmanager_url: am,
        resend_interval: config.engine.alerts.resend_interval.0,
        metrics: metrics.clone(),
        region_slugs: config
            .region_labels()
            .map(|(code, _, slug)| (code, slug.to_string()))
            .collect(),
        region_names: config
            .region_labels()
            .map(|(code, name, _)| (code, name.to_string()))
            .collect(),
        base_url: String::new(),
    };
    Ok((store, dispatcher))
}

/// Alert state lives beside the index: `data/index` → `data/index-alerts`.
pub fn alert_dir(index_dir: &std::path::Path) -> std::path::PathBuf {
    let name = index_dir
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "index".into());
    index_dir.with_file_name(format!("{name}-alerts"))
}

#[cfg(test)]
mod tests;
