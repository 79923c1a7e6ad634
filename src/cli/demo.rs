//! `kemala demo`: an embedded broker, the engine on embedded defaults, and
//! generated traffic in two phases, until Ctrl-C.
//!
//! 1. **History.** Event time from `--history` ago up to the wall clock,
//!    fed as fast as the engine takes it, with a progress bar on stderr. It
//!    covers the spike detector's 24-hour warm-up, a day or more of
//!    baseline for every hour, and complaints old enough to pass the 48-hour
//!    answer target. The embedded broker keeps only 5 MiB per partition, so
//!    the feed never runs far ahead of the engine.
//! 2. **Live.** The same generator goes on, each message sent when the wall
//!    clock reaches its `created_at`: event time *is* the wall clock, and
//!    the history's last tweet meets the live feed's first. The rate
//!    follows the day in WIB around `--rate`. Every `--incident-every` an
//!    incident begins: a fixed number of complainants a minute about one
//!    topic in one region, for a few minutes, answered by the agency on
//!    call. The demo prints a line when one begins and when its alert fires
//!    or resolves.
//!
//! The detector runs on the event time it is given, so incidents that
//! last minutes of wall time would stay firing for about 45 minutes under
//! the default `[detect]` settings (a 15-minute window, then 30 quiet
//! minutes). The demo therefore judges spikes on a 3-minute window and
//! resolves them after 2 quiet minutes: two configuration keys, printed at
//! start, and no code path of the detector's own (see the README).
//!
//! Nothing here blocks Ctrl-C for long: every wait is sliced and checks the
//! stop flag.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

use super::{bind, producer, DemoArgs, Shutdown};
use crate::alert::{AlertKind, AlertState, StoredAlert};
use crate::app::Engine;
use crate::config::{Config, HumanDuration};
use crate::gen::{daily_rhythm, GenOptions, Generator, Incident, Incidents};
use crate::source::broker::EmbeddedBroker;

/// The window the demo judges spikes on, and how long one must stay quiet
/// before it resolves (the defaults are 15 and 30 minutes).
const DEMO_WINDOW: Duration = Duration::from_secs(3 * 60);
const DEMO_RESOLVE_AFTER: Duration = Duration::from_secs(2 * 60);
/// Complainants of one incident, spread over its duration: enough to pass
/// `detect.min_count` (5) within its first minutes even when the enricher
/// misplaces some of them.
const INCIDENT_TWEETS: f64 = 30.0;
/// The longest incident, and how long after the live start the first begins.
const INCIDENT_MAX: Duration = Duration::from_secs(90);
const FIRST_INCIDENT_AFTER: Duration = Duration::from_secs(30);
/// How far the history may run ahead of what the engine has processed: a
/// few seconds of the engine's recent pace, so that the backlog stays short
/// (and no lag alert fires) however slow or busy the machine, and never more
/// than the embedded broker holds.
const AHEAD_FOR: Duration = Duration::from_secs(3);
const MIN_AHEAD: u64 = 1_000;
const MAX_AHEAD: u64 = 20_000;
/// The longest wait for the engine to take the last of the history.
const CATCH_UP_MAX: Duration = Duration::from_secs(120);
/// The longest single sleep, so that Ctrl-C is seen promptly.
const SLICE: Duration = Duration::from_millis(100);

pub(super) async fn demo(args: DemoArgs) -> anyhow::Result<()> {
    // First, so that a Ctrl-C while the broker and engine start is a clean
    // stop as soon as they are up.
    let mut shutdown = Shutdown::watch()?;
    if !(args.rate.is_finite() && args.rate > 0.0) {
        bail!(
            "`--rate` is {}: give messages per second, e.g. 2",
            args.rate
        );
    }
    if args.incident_every < Duration::from_secs(10) {
        bail!("`--incident-every` must be at least 10s");
    }
    let mut config = Config::embedded()?;
    config.engine.detect.window = HumanDuration(DEMO_WINDOW);
    config.engine.detect.resolve_after = HumanDuration(DEMO_RESOLVE_AFTER);
    let _tmp;
    config.engine.index.data_dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            _tmp = tempfile::tempdir().context("cannot create a temporary index directory")?;
            _tmp.path().join("index")
        }
    };
    let k = config.engine.kafka.clone();
    let mut topics = k.topics.clone();
    topics.push(k.dead_letter_topic.clone());
    let broker = EmbeddedBroker::start(&topics, k.embedded_partitions)?;
    let bootstrap = broker.bootstrap().to_string();
    println!("kemala demo: Kafka-protocol broker at {bootstrap}");
    println!(
        "kemala demo: produce your own with: kcat -b {bootstrap} -t {} -P",
        k.topics[0]
    );
    config.engine.http.listen = args.listen;
    let listener = bind(args.listen).await?;
    let names = Arc::new(Names::new(&config));
    let gen_config = config.clone();
    let engine = Engine::start_with_broker(config, listener, Some(broker)).await?;
    let base = format!("http://{}", engine.http_addr);
    println!("kemala demo: search page and API at {base}/");
    println!(
        "kemala demo: spikes are judged on a {} window and resolve after {} quiet (demo settings; the defaults are 15m and 30m)",
        HumanDuration(DEMO_WINDOW),
        HumanDuration(DEMO_RESOLVE_AFTER)
    );

    let live = Arc::new(Live::default());
    let watcher = tokio::spawn(watch_alerts(
        engine.shared.alerts.subscribe(),
        names.clone(),
        base,
        live.clone(),
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let feeder = {
        let feed = Feed {
            producer: producer(&bootstrap)?,
            topic: k.topics[0].clone(),
            processed: engine.shared.progress.clone(),
            stop: stop.clone(),
            live: live.clone(),
            names,
        };
        std::thread::spawn(move || feed.run(&gen_config, &args))
    };
    shutdown.wait().await;
    stop.store(true, Ordering::Relaxed);
    let fed = tokio::task::spawn_blocking(move || feeder.join()).await;
    if let Ok(Ok(Err(e))) = fed {
        tracing::warn!("the demo feeder stopped: {e:#}");
    }
    watcher.abort();
    engine.stop().await
}

/// What the feeder tells the alert watcher.
#[derive(Default)]
struct Live {
    /// When the live feed began (ms since epoch), 0 before.
    since_ms: AtomicI64,
    /// The incidents begun so far, newest last (a few).
    incidents: Mutex<VecDeque<Incident>>,
}

impl Live {
    fn since(&self) -> Option<i64> {
        Some(self.since_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }

    /// `[live +m:ss] ` for a wall time in the live feed.
    fn stamp(&self, now_ms: i64) -> String {
        let s = self.since().map_or(0, |t| (now_ms - t).max(0) / 1000);
        format!("[live +{}:{:02}] ", s / 60, s % 60)
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// `2m 30s` for a span in ms.
fn span(ms: i64) -> String {
    HumanDuration(Duration::from_secs((ms.max(0) / 1000) as u64)).to_string()
}

struct Feed {
    producer: ThreadedProducer<DefaultProducerContext>,
    topic: String,
    processed: Arc<crate::state::Progress>,
    stop: Arc<AtomicBool>,
    live: Arc<Live>,
    names: Arc<Names>,
}

/// The engine's recent pace (messages processed a second, measured over
/// about a second at a time), and from it how far the feed may run ahead.
#[derive(Default)]
struct Pace {
    last: Option<(Instant, u64)>,
    per_second: f64,
}

impl Pace {
    /// How many messages may be in flight, given `processed` so far.
    fn ahead(&mut self, processed: u64) -> u64 {
        let now = Instant::now();
        match self.last {
            None => self.last = Some((now, processed)),
            Some((t, n)) if now.duration_since(t) >= Duration::from_secs(1) => {
                let rate = processed.saturating_sub(n) as f64 / now.duration_since(t).as_secs_f64();
                self.per_second = if self.per_second == 0.0 {
                    rate
                } else {
                    0.5 * self.per_second + 0.5 * rate
                };
                self.last = Some((now, processed));
            }
            Some(_) => {}
        }
        ((self.per_second * AHEAD_FOR.as_secs_f64()) as u64).clamp(MIN_AHEAD, MAX_AHEAD)
    }
}

impl Feed {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn run(self, config: &Config, args: &DemoArgs) -> anyhow::Result<()> {
        let started = now_ms();
        let history_ms = args.history.as_millis() as i64;
        let base = GenOptions {
            seed: args.seed,
            start_ms: started - history_ms,
            bursts: Vec::new(),
            ..GenOptions::default()
        };
        let opts = GenOptions {
            mean_tweets_per_hour: args.rate * 3600.0 / base.messages_per_original(),
            ..base
        };
        let expected = args.rate * history_ms as f64 / 1000.0;
        println!(
            "kemala demo: backfilling {} of history (about {} messages), then a live feed of about {}/s with an incident every {}; Ctrl-C stops",
            HumanDuration(args.history),
            thousands(expected as u64),
            args.rate,
            HumanDuration(args.incident_every)
        );
        let mut gen = Generator::new(config, opts);
        let bar = indicatif::ProgressBar::new(history_ms.max(1) as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} history [{bar:30}] {percent:>3}% {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let backfill = Instant::now();
        let mut pace = Pace::default();
        let mut sent: u64 = 0;
        let mut next_incident = 0u64;
        let limit = args.tweets.unwrap_or(u64::MAX);
        while sent < limit && !self.stopped() {
            let Some(g) = gen.next() else { break };
            let at = gen.event_time_ms();
            if self.live.since().is_none() {
                if at > now_ms() {
                    self.go_live(&mut gen, &bar, sent, backfill, args);
                } else {
                    while sent.saturating_sub(self.processed.processed.load(Ordering::Relaxed))
                        > pace.ahead(self.processed.processed.load(Ordering::Relaxed))
                    {
                        if self.stopped() {
                            return Ok(());
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    if sent.is_multiple_of(1000) {
                        let now = now_ms();
                        bar.set_length((now - started + history_ms).max(1) as u64);
                        bar.set_position((at - started + history_ms).max(0) as u64);
                        let secs = backfill.elapsed().as_secs_f64().max(1e-3);
                        bar.set_message(format!(
                            "{} messages, {:.0}/s",
                            thousands(sent),
                            sent as f64 / secs
                        ));
                    }
                }
            }
            if self.live.since().is_some() {
                // Send each message when the wall clock reaches its time.
                loop {
                    let now = now_ms();
                    next_incident = self.announce(&gen, next_incident, now);
                    if at <= now || self.stopped() {
                        break;
                    }
                    let wait = Duration::from_millis((at - now) as u64);
                    std::thread::sleep(wait.min(SLICE));
                }
                if self.stopped() {
                    break;
                }
            }
            self.send(&g.payload)?;
            sent += 1;
        }
        if self.live.since().is_none() {
            bar.finish_and_clear();
        }
        let _ = self
            .producer
            .flush(Duration::from_secs(if self.stopped() { 1 } else { 10 }));
        if sent >= limit {
            println!(
                "kemala demo: fed {} messages (--tweets); the engine serves until Ctrl-C",
                thousands(sent)
            );
        }
        Ok(())
    }

    /// The history has reached the wall clock: from here on, messages go out
    /// in real time and incidents are scheduled.
    fn go_live(
        &self,
        gen: &mut Generator,
        bar: &indicatif::ProgressBar,
        sent: u64,
        backfill: Instant,
        args: &DemoArgs,
    ) {
        // The engine takes the last of the history first, so that "live"
        // means event time is the wall clock's.
        let catch_up = Instant::now();
        while self.processed.processed.load(Ordering::Relaxed) < sent
            && catch_up.elapsed() < CATCH_UP_MAX
            && !self.stopped()
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let now = now_ms();
        bar.finish_and_clear();
        println!(
            "kemala demo: history done: {} messages in {:.0} s",
            thousands(sent),
            backfill.elapsed().as_secs_f64()
        );
        let every = args.incident_every.as_millis() as i64;
        let duration = (every / 2).min(INCIDENT_MAX.as_millis() as i64);
        let first = now + (every / 2).min(FIRST_INCIDENT_AFTER.as_millis() as i64);
        gen.schedule_incidents(Incidents {
            first_ms: first,
            every_ms: every,
            duration_ms: duration,
            per_minute: INCIDENT_TWEETS * 60_000.0 / duration as f64,
        });
        self.live.since_ms.store(now, Ordering::Relaxed);
        println!(
            "kemala demo: live: tweets are created now, about {:.1}/s at this hour ({}/s over a whole day); the first incident begins in {}",
            args.rate * daily_rhythm(now),
            args.rate,
            span(first - now)
        );
    }

    /// Prints the incidents that have begun by `now`; the next to announce.
    fn announce(&self, gen: &Generator, mut next: u64, now: i64) -> u64 {
        while let Some(i) = gen.incident(next).filter(|i| i.start_ms <= now) {
            println!(
                "kemala demo: {}incident {} begins: {} in {} ({}), for {}",
                self.live.stamp(now),
                i.number + 1,
                i.what,
                self.names.region(i.region_code),
                i.topic,
                span(i.end_ms - i.start_ms)
            );
            if let Ok(mut list) = self.live.incidents.lock() {
                if list.len() >= 16 {
                    list.pop_front();
                }
                list.push_back(i);
            }
            next += 1;
        }
        next
    }

    fn send(&self, payload: &[u8]) -> anyhow::Result<()> {
        let mut record: BaseRecord<'_, (), [u8]> = BaseRecord::to(&self.topic).payload(payload);
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((e, r))
                    if e.rdkafka_error_code()
                        == Some(rdkafka::types::RDKafkaErrorCode::QueueFull) =>
                {
                    if self.stopped() {
                        return Ok(());
                    }
                    record = r;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err((e, _)) => bail!("cannot produce to `{}`: {e}", self.topic),
            }
        }
    }
}

/// 1,234,567.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Topic and region names, for the lines the demo prints.
struct Names {
    topics: Vec<(String, String)>,
    regions: Vec<(u16, String)>,
}

impl Names {
    fn new(c: &Config) -> Names {
        Names {
            topics: c
                .topics
                .iter()
                .map(|t| (t.id.clone(), t.name_en.clone()))
                .collect(),
            regions: c
                .regions
                .iter()
                .filter_map(|r| Some((r.code.parse().ok()?, r.name.clone())))
                .collect(),
        }
    }

    fn topic<'a>(&'a self, id: &'a str) -> &'a str {
        self.topics
            .iter()
            .find(|(t, _)| t == id)
            .map_or(id, |(_, n)| n.as_str())
    }

    fn region(&self, code: u16) -> &str {
        if code == 0 {
            return "Central Java (province-wide)";
        }
        self.regions
            .iter()
            .find(|(c, _)| *c == code)
            .map_or("an unknown region", |(_, n)| n.as_str())
    }
}

/// Prints a line when a spike alert fires or resolves during the live feed,
/// with the search page's URL for its complaints.
async fn watch_alerts(
    mut rx: tokio::sync::broadcast::Receiver<StoredAlert>,
    names: Arc<Names>,
    base: String,
    live: Arc<Live>,
) {
    let mut fired: HashSet<String> = HashSet::new();
    loop {
        let a = match rx.recv().await {
            Ok(a) => a,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        if a.kind != AlertKind::Spike || live.since().is_none() {
            continue;
        }
        let topic = a.topic.clone().unwrap_or_default();
        let now = now_ms();
        let what = format!("{} in {}", names.topic(&topic), names.region(a.region));
        match a.state {
            AlertState::Firing if fired.insert(a.id.clone()) => {
                let mut url = format!("{base}/?topic={topic}");
                if a.region != 0 {
                    url.push_str(&format!("&region={}", a.region));
                }
                url.push_str(&format!(
                    "&from={}",
                    crate::timestamp::rfc3339(a.started_at_ms)
                ));
                let after = live
                    .incidents
                    .lock()
                    .ok()
                    .and_then(|list| {
                        list.iter()
                            .rev()
                            .find(|i| {
                                i.topic == topic && (a.region == 0 || a.region == i.region_code)
                            })
                            .map(|i| {
                                format!(
                                    ", {} after incident {} began",
                                    span(now - i.start_ms),
                                    i.number + 1
                                )
                            })
                    })
                    .unwrap_or_default();
                println!(
                    "kemala demo: {}alert fired: {what}, {} complainants in {} ({:.1} expected), {}{after}: {url}",
                    live.stamp(now),
                    a.observed,
                    span(a.window_seconds as i64 * 1000),
                    a.expected,
                    a.severity,
                );
            }
            AlertState::Resolved if fired.remove(&a.id) => {
                println!(
                    "kemala demo: {}alert resolved: {what}, after firing {}",
                    live.stamp(now),
                    span(a.resolved_at_ms.unwrap_or(now) - a.detected_at_ms)
                );
            }
            _ => {}
        }
    }
}
