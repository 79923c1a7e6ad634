//! The Kafka consumer thread and the dead-letter producer.
//!
//! The consumer is a `BaseConsumer` polled on a thread of its own: it gathers
//! messages into bounded batches for the pipeline and blocks when the
//! pipeline is full, so backpressure reaches Kafka instead of memory. (A
//! `StreamConsumer` dropped with prefetched messages can hang forever, which
//! a plain polled consumer avoids.)
//!
//! Offsets: librdkafka's automatic offset store and commit are off. When
//! partitions are assigned, each is positioned at the offset stored in the
//! index's last commit, so a restart or rebalance resumes exactly where the
//! index stands, whatever Kafka's committed offsets say. Kafka's committed
//! offsets are written only after an index commit, from the offsets in that
//! commit, and so can lag the index but never lead it.
//!
//! Caught up: librdkafka reports the end of a partition (`PartitionEOF`)
//! when the consumer's position reaches the broker's high watermark. That
//! report arrives in order with the messages, so the set of caught-up
//! partitions travels with every batch ([`PartitionView`]): when the pipeline
//! sees a partition as caught up, it has already handled every message that
//! partition held. The event-time watermark is built on it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::{Header, Message, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::ClientContext;

use crate::config::KafkaConfig;
use crate::model::Offsets;
use crate::telemetry::Metrics;

/// One message, owned, as the pipeline sees it.
#[derive(Debug)]
pub struct RawMessage {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub payload: Option<Vec<u8>>,
}

/// What the consumer thread shares with the rest of the engine.
#[derive(Default)]
pub struct SourceState {
    /// Offsets in the index's last commit: where assignment positions.
    pub index_offsets: Mutex<Offsets>,
    /// Currently assigned partitions, per topic.
    pub assigned: Mutex<BTreeMap<String, Vec<i32>>>,
    /// Consumer lag per (topic, partition), as last measured.
    pub lag: Mutex<BTreeMap<(String, i32), i64>>,
    pub consuming: AtomicBool,
}

pub struct SourceContext {
    state: Arc<SourceState>,
}

impl ClientContext for SourceContext {
    /// The end of a partition comes through here too, as a "global error",
    /// besides being returned by `poll`: it is news, not an error.
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        if error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF) {
            return;
        }
        tracing::error!("librdkafka: {error}: {reason}");
    }
}

impl ConsumerContext for SourceContext {
    fn rebalance(
        &self,
        base: &BaseConsumer<Self>,
        err: RDKafkaRespErr,
        tpl: &mut TopicPartitionList,
    ) {
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let offsets = self
                    .state
                    .index_offsets
                    .lock()
                    .map(|o| o.clone())
                    .unwrap_or_default();
                let mut assigned: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                let elems: Vec<(String, i32)> = tpl
                    .elements()
                    .iter()
                    .map(|e| (e.topic().to_string(), e.partition()))
                    .collect();
                for (topic, partition) in elems {
                    if let Some(off) = offsets.get(&topic).and_then(|p| p.get(&partition)) {
                        let _ = tpl.set_partition_offset(&topic, partition, Offset::Offset(*off));
                    }
                    assigned.entry(topic).or_default().push(partition);
                }
                if let Err(e) = base.assign(tpl) {
                    tracing::error!("cannot assign partitions: {e}");
                }
                tracing::info!(?assigned, "partitions assigned");
                if let Ok(mut a) = self.state.assigned.lock() {
                    *a = assigned;
                }
            }
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS => {
                let _ = base.unassign();
                tracing::info!("partitions revoked");
                if let Ok(mut a) = self.state.assigned.lock() {
                    a.clear();
                }
            }
            other => tracing::error!("rebalance error: {other:?}"),
        }
    }
}

pub fn client_config(k: &KafkaConfig, bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    for (key, v) in &k.properties {
        c.set(key, v);
    }
    c
}

pub fn consumer(
    k: &KafkaConfig,
    bootstrap: &str,
    state: Arc<SourceState>,
) -> anyhow::Result<BaseConsumer<SourceContext>> {
    let mut c = client_config(k, bootstrap);
    c.set("group.id", &k.group_id)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "true")
        .set("session.timeout.ms", "10000")
        .set("fetch.wait.max.ms", "20")
        .set("queued.max.messages.kbytes", "32768")
        .set(
            "message.max.bytes",
            (k.max_message_bytes.max(1_000_000) * 2).to_string(),
        )
        .set(
            "fetch.message.max.bytes",
            (k.max_message_bytes.max(1_048_576) * 2).to_string(),
        );
    for (key, v) in &k.properties {
        c.set(key, v);
    }
    let consumer: BaseConsumer<SourceContext> = c
        .create_with_context(SourceContext { state })
        .context("cannot create the Kafka consumer")?;
    let topics: Vec<&str> = k.topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .context("cannot subscribe to the input topics")?;
    Ok(consumer)
}

fn to_tpl(offsets: &Offsets) -> TopicPartitionList {
    let mut tpl = TopicPartitionList::new();
    for (topic, parts) in offsets {
        for (p, off) in parts {
            let _ = tpl.add_partition_offset(topic, *p, Offset::Offset(*off));
        }
    }
    tpl
}

/// The consumer's partitions as of the last message in a batch: which are
/// assigned, and which of those have no message left on the broker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PartitionView {
    pub assigned: BTreeMap<String, Vec<i32>>,
    /// Assigned partitions whose every message up to the broker's high
    /// watermark has been delivered (librdkafka's end-of-partition report,
    /// with no message since).
    pub caught_up: BTreeSet<(String, i32)>,
}

impl PartitionView {
    pub fn is_caught_up(&self, topic: &str, partition: i32) -> bool {
        self.caught_up.contains(&(topic.to_string(), partition))
    }
}

/// What flows from the consumer thread to the pipeline; each carries the
/// partitions' state as of its last message.
pub enum Input {
    Batch(Vec<RawMessage>, PartitionView),
    /// Nothing arrived for a while (or a partition was caught up): a chance
    /// to commit and to move event time.
    Idle(PartitionView),
}

/// Runs the consumer loop until `stop` is set. Commits the offsets that
/// arrive on `committed_rx` (each an index commit's offsets).
pub fn run_consumer(
    consumer: BaseConsumer<SourceContext>,
    state: Arc<SourceState>,
    batch_max: usize,
    batch_tx: SyncSender<Input>,
    committed_rx: Receiver<Offsets>,
    stop: Arc<AtomicBool>,
) {
    let mut batch: Vec<RawMessage> = Vec::with_capacity(batch_max);
    let mut last_sent = Instant::now();
    let mut view = PartitionView::default();
    // The next offset of each partition, as delivered to the pipeline.
    let mut next_offsets: BTreeMap<(String, i32), i64> = BTreeMap::new();
    let mut view_changed = false;
    state.consuming.store(true, Ordering::Relaxed);
    let commit = |offsets: Offsets, mode: CommitMode| {
        if offsets.is_empty() {
            return;
        }
        // A commit during a rebalance can be rejected: the index holds the
        // truth and the next commit repeats it, so this only logs.
        if let Err(e) = consumer.commit(&to_tpl(&offsets), mode) {
            tracing::warn!(
                "kafka offset commit failed (will be retried with the next commit): {e}"
            );
        }
    };
    'outer: while !stop.load(Ordering::Relaxed) {
        while let Ok(offsets) = committed_rx.try_recv() {
            commit(offsets, CommitMode::Async);
        }
        let timeout = if batch.is_empty() {
            Duration::from_millis(50)
        } else {
            Duration::ZERO
        };
        let polled = consumer.poll(timeout);
        // A rebalance runs inside poll: take the assignment it left.
        if let Ok(a) = state.assigned.lock() {
            if *a != view.assigned {
                view.assigned = a.clone();
                view.caught_up
                    .retain(|(t, p)| view.assigned.get(t).is_some_and(|ps| ps.contains(p)));
                view_changed = true;
            }
        }
        match polled {
            Some(Ok(m)) => {
                let key = (m.topic().to_string(), m.partition());
                if view.caught_up.remove(&key) {
                    view_changed = true;
                }
                next_offsets.insert(key, m.offset() + 1);
                batch.push(RawMessage {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                    payload: m.payload().map(<[u8]>::to_vec),
                });
                if batch.len() < batch_max {
                    continue;
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                view_changed |= mark_caught_up(&consumer, &mut view, &next_offsets, p);
            }
            Some(Err(e)) => tracing::warn!("kafka consumer error: {e}"),
            None => {}
        }
        let mut input = if batch.is_empty() {
            if last_sent.elapsed() < Duration::from_millis(200) && !view_changed {
                None
            } else {
                Some(Input::Idle(view.clone()))
            }
        } else {
            Some(Input::Batch(
                std::mem::replace(&mut batch, Vec::with_capacity(batch_max)),
                view.clone(),
            ))
        };
        // Block while the pipeline is full, but keep serving the consumer
        // (commits, rebalances) and watch for stop.
        while let Some(i) = input.take() {
            match batch_tx.try_send(i) {
                Ok(()) => {
                    last_sent = Instant::now();
                    view_changed = false;
                }
                Err(TrySendError::Full(i)) => {
                    if matches!(i, Input::Idle(_)) {
                        break;
                    }
                    if stop.load(Ordering::Relaxed) {
                        break 'outer;
                    }
                    while let Ok(offsets) = committed_rx.try_recv() {
                        commit(offsets, CommitMode::Async);
                    }
                    std::thread::sleep(Duration::from_millis(2));
                    input = Some(i);
                }
                Err(TrySendError::Disconnected(_)) => break 'outer,
            }
        }
    }
    // Let the pipeline drain and make its final commit, then store those
    // offsets synchronously.
    drop(batch_tx);
    let mut last = None;
    while let Ok(offsets) = committed_rx.recv_timeout(Duration::from_secs(8)) {
        last = Some(offsets);
    }
    if let Some(offsets) = last {
        commit(offsets, CommitMode::Sync);
    }
    state.consuming.store(false, Ordering::Relaxed);
    consumer.unsubscribe();
}

/// Records librdkafka's end-of-partition report for partition `p`; true when
/// the view changed. The report names only the partition number: with one
/// assigned topic of that number it is that topic's; with several (rare: many
/// input topics), each is checked against the broker's high watermark.
fn mark_caught_up<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    view: &mut PartitionView,
    next_offsets: &BTreeMap<(String, i32), i64>,
    p: i32,
) -> bool {
    let topics: Vec<String> = view
        .assigned
        .iter()
        .filter(|(_, ps)| ps.contains(&p))
        .map(|(t, _)| t.clone())
        .collect();
    let mut changed = false;
    for t in &topics {
        let at_end = topics.len() == 1
            || consumer
                .fetch_watermarks(t, p, Duration::from_secs(1))
                .is_ok_and(|(low, high)| {
                    next_offsets
                        .get(&(t.clone(), p))
                        .map_or(low >= high, |next| *next >= high)
                });
        if at_end {
            changed |= view.caught_up.insert((t.clone(), p));
        }
    }
    changed
}

/// Measures consumer lag every few seconds on a client of its own, so a slow
/// broker answer never stalls the consumer thread. Runs until `stop`.
pub fn run_lag_monitor(
    k: &KafkaConfig,
    bootstrap: &str,
    state: Arc<SourceState>,
    metrics: Arc<Metrics>,
    stop: Arc<AtomicBool>,
) {
    let client: BaseConsumer = match client_config(k, bootstrap).create() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot create the lag monitor's client, lag will not be measured: {e}");
            return;
        }
    };
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if last.elapsed() >= Duration::from_secs(5) {
            last = Instant::now();
            measure_lag(&client, &state, &metrics);
        }
    }
}

fn measure_lag(consumer: &BaseConsumer, state: &SourceState, metrics: &Metrics) {
    let assigned = state.assigned.lock().map(|a| a.clone()).unwrap_or_default();
    let offsets = state
        .index_offsets
        .lock()
        .map(|o| o.clone())
        .unwrap_or_default();
    let mut lags = BTreeMap::new();
    for (topic, parts) in assigned {
        for p in parts {
            if let Ok((low, high)) =
                consumer.fetch_watermarks(&topic, p, Duration::from_millis(500))
            {
                let at = offsets
                    .get(&topic)
                    .and_then(|m| m.get(&p))
                    .copied()
                    .unwrap_or(low);
                let lag = (high - at).max(0);
                metrics
                    .consumer_lag
                    .with_label_values(&[&p.to_string()])
                    .set(lag);
                lags.insert((topic.clone(), p), lag);
            }
        }
    }
    if let Ok(mut l) = state.lag.lock() {
        *l = lags;
    }
}

/// Counts failed dead-letter deliveries, so a commit can wait for them.
pub struct DeadLetterContext {
    pub failures: AtomicU64,
}

impl ClientContext for DeadLetterContext {}

impl ProducerContext for DeadLetterContext {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            tracing::error!("dead-letter delivery failed: {e}");
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A rejected message on its way to the dead-letter topic.
pub struct DeadLetter {
    pub source_topic: String,
    pub partition: i32,
    pub offset: i64,
    pub reason: &'static str,
    pub detail: String,
    pub payload: Vec<u8>,
}

pub struct DeadLetterProducer {
    producer: ThreadedProducer<DeadLetterContext>,
    topic: String,
}

impl DeadLetterProducer {
    pub fn new(k: &KafkaConfig, bootstrap: &str) -> anyhow::Result<DeadLetterProducer> {
        let mut c = client_config(k, bootstrap);
        c.set("acks", "all").set("linger.ms", "5").set(
            "message.max.bytes",
            (k.max_message_bytes * 4 + 1_000_000).to_string(),
        );
        let producer = c
            .create_with_context(DeadLetterContext {
                failures: AtomicU64::new(0),
            })
            .context("cannot create the dead-letter producer")?;
        Ok(DeadLetterProducer {
            producer,
            topic: k.dead_letter_topic.clone(),
        })
    }

    /// Sends every letter and waits until all are acknowledged. On failure
    /// nothing may be committed past them; the caller retries.
    pub fn deliver(&self, letters: &[DeadLetter]) -> KafkaResult<bool> {
        let before = self.producer.context().failures.load(Ordering::Relaxed);
        for l in letters {
            let offset = l.offset.to_string();
            let partition = l.partition.to_string();
            let headers = OwnedHeaders::new()
                .insert(Header {
                    key: "kemala.reason",
                    value: Some(l.reason),
                })
                .insert(Header {
                    key: "kemala.detail",
                    value: Some(l.detail.as_str()),
                })
                .insert(Header {
                    key: "kemala.source.topic",
                    value: Some(l.source_topic.as_str()),
                })
                .insert(Header {
                    key: "kemala.source.partition",
                    value: Some(partition.as_str()),
                })
                .insert(Header {
                    key: "kemala.source.offset",
                    value: Some(offset.as_str()),
                });
            let key = format!("{}:{}:{}", l.source_topic, l.partition, l.offset);
            let mut record = BaseRecord::to(&self.topic)
                .key(&key)
                .payload(&l.payload[..])
                .headers(headers);
            loop {
                match self.producer.send(record) {
                    Ok(()) => break,
                    Err((e, r))
                        if e.rdkafka_error_code()
                            == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                    {
                        record = r;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err((e, _)) => return Err(e),
                }
            }
        }
        self.producer.flush(Duration::from_secs(10))?;
        Ok(self.producer.context().failures.load(Ordering::Relaxed) == before)
    }
}
