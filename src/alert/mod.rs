//! The alert store, and delivery to the agencies on call.
//!
//! The pipeline thread hands every alert change to [`AlertStore::apply`]: a
//! short, lock-protected update that never waits on a receiver. Each change
//! that someone must hear about becomes a [`Notification`] with a stable
//! delivery id (alert id, state and target), appended to an on-disk outbox
//! before anything is sent. The dispatcher task delivers the outbox with
//! retries and backoff, and records each delivery it completes, so a slow or
//! dead receiver never blocks ingestion and a restart resends exactly what
//! was not delivered. Because alerts are rebuilt on start by replaying the
//! index through the detector, the same changes recur with the same delivery
//! ids, and the record of completed deliveries keeps them from going out twice.

pub mod deliver;
pub mod wire;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::model::stable_hash;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Firing,
    Resolved,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// More complaints than normal for a topic and region.
    Spike,
    /// Complaints of one agency past the response target.
    Overdue,
}

/// An alert as the store keeps and serves it. Times are event time (ms).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    pub id: String,
    pub kind: AlertKind,
    pub topic: Option<String>,
    /// BPS code; 0 is the whole province (`jateng`).
    pub region: u16,
    pub state: AlertState,
    pub severity: String,
    pub started_at_ms: i64,
    pub detected_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
    pub observed: f64,
    pub expected: f64,
    pub window_seconds: u64,
    pub score: f64,
    pub agencies: Vec<String>,
    pub sample_tweet_ids: Vec<u64>,
    pub top_terms: Vec<String>,
    /// For a province-wide incident: the regions elevated with it.
    pub regions: Vec<u16>,
    /// A regional alert that belongs to a province-wide incident.
    pub parent: Option<String>,
    pub summary: String,
    #[serde(default)]
    pub acked_by: Option<String>,
    #[serde(default)]
    pub acked_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Target {
    Webhook { agency: String },
    Alertmanager,
}

impl Target {
    pub fn label(&self) -> &'static str {
        match self {
            Target::Webhook { .. } => "webhook",
            Target::Alertmanager => "alertmanager",
        }
    }
}

/// One message to one receiver about one alert change.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Notification {
    pub delivery_id: String,
    /// `fired`, `updated` or `resolved`.
    pub event: String,
    pub target: Target,
    pub alert: StoredAlert,
}

/// What changed when an alert was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Fired,
    Updated,
    Resolved,
    Unchanged,
}

struct Inner {
    alerts: HashMap<String, StoredAlert>,
    /// Ids in arrival order, to bound how many resolved alerts are kept.
    order: VecDeque<String>,
    outbox: VecDeque<Notification>,
    queued: HashSet<String>,
    done: HashSet<String>,
    acks: HashMap<String, (String, String)>,
    outbox_file: File,
    done_file: File,
    acks_file: File,
}

pub struct AlertStore {
    inner: Mutex<Inner>,
    events_tx: tokio::sync::broadcast::Sender<StoredAlert>,
    pub wake: tokio::sync::Notify,
    /// Agencies with a webhook, by id.
    webhook_agencies: HashSet<String>,
    alertmanager: bool,
    dir: PathBuf,
}

/// How many alerts the store keeps (firing ones are never dropped).
const MAX_ALERTS: usize = 10_000;

fn append(file: &mut File, line: &impl Serialize) {
    // A failed append loses durability of one record, not the alert itself;
    // it is logged and the in-memory state stays right.
    match serde_json::to_string(line) {
        Ok(mut s) => {
            s.push('\n');
            if let Err(e) = file.write_all(s.as_bytes()).and_then(|_| file.sync_data()) {
                tracing::error!("cannot persist alert state: {e}");
            }
        }
        Err(e) => tracing::error!("cannot serialise alert state: {e}"),
    }
}

fn read_lines<T: for<'de> Deserialize<'de>>(path: &Path) -> Vec<T> {
    let Ok(f) = File::open(path) else {
        return Vec::new();
    };
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        // A torn last line (killed mid-write) is skipped.
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

#[derive(Serialize, Deserialize)]
struct AckRecord {
    id: String,
    by: String,
    at: String,
}

impl AlertStore {
    /// Opens the store's files in `dir` and loads what was not yet delivered.
    pub fn open(
        dir: &Path,
        webhook_agencies: HashSet<String>,
        alertmanager: bool,
    ) -> anyhow::Result<AlertStore> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
        let outbox_path = dir.join("outbox.jsonl");
        let done_path = dir.join("delivered.jsonl");
        let done: HashSet<String> = read_lines::<String>(&done_path).into_iter().collect();
        let pending: Vec<Notification> = read_lines::<Notification>(&outbox_path)
            .into_iter()
            .filter(|n| !done.contains(&n.delivery_id))
            .collect();
        // Compact the outbox to what is still pending.
        let tmp = dir.join("outbox.jsonl.tmp");
        {
            let mut f =
                File::create(&tmp).with_context(|| format!("cannot write `{}`", tmp.display()))?;
            for n in &pending {
                append(&mut f, n);
            }
        }
        std::fs::rename(&tmp, &outbox_path).context("cannot replace the outbox")?;
        let open = |p: &Path| {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open `{}`", p.display()))
        };
        let acks: HashMap<String, (String, String)> =
            read_lines::<AckRecord>(&dir.join("acks.jsonl"))
                .into_iter()
                .map(|a| (a.id, (a.by, a.at)))
                .collect();
        let queued = pending.iter().map(|n| n.delivery_id.clone()).collect();
        let (events_tx, _) = tokio::sync::broadcast::channel(1024);
        Ok(AlertStore {
            inner: Mutex::new(Inner {
                alerts: HashMap::new(),
                order: VecDeque::new(),
                outbox: pending.into(),
                queued,
                done,
                acks,
                outbox_file: open(&outbox_path)?,
                done_file: open(&done_path)?,
                acks_file: open(&dir.join("acks.jsonl"))?,
            }),
            events_tx,
            wake: tokio::sync::Notify::new(),
            webhook_agencies,
            alertmanager,
            dir: dir.to_path_buf(),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records an alert's new state; queues notifications for what changed.
    pub fn apply(&self, mut alert: StoredAlert) -> Change {
        let Ok(mut inner) = self.inner.lock() else {
            return Change::Unchanged;
        };
        if let Some((by, at)) = inner.acks.get(&alert.id) {
            alert.acked_by = Some(by.clone());
            alert.acked_at = Some(at.clone());
        }
        // A rebuilt alert has no top terms (they come from recent tweets'
        // text, which a rebuild does not read): keep the ones it had.
        if let Some(old) = inner.alerts.get(&alert.id) {
            if alert.top_terms.is_empty() {
                alert.top_terms = old.top_terms.clone();
            }
        }
        let change = match inner.alerts.get(&alert.id) {
            None if alert.state == AlertState::Resolved => Change::Resolved,
            None => Change::Fired,
            Some(old) if old == &alert => Change::Unchanged,
            Some(old) if old.state == AlertState::Firing && alert.state == AlertState::Resolved => {
                Change::Resolved
            }
            Some(_) => Change::Updated,
        };
        if change == Change::Unchanged {
            return change;
        }
        if !inner.alerts.contains_key(&alert.id) {
            inner.order.push_back(alert.id.clone());
        }
        inner.alerts.insert(alert.id.clone(), alert.clone());
        // Bound memory: drop the oldest resolved alerts.
        while inner.alerts.len() > MAX_ALERTS {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if inner
                .alerts
                .get(&old)
                .is_some_and(|a| a.state == AlertState::Firing)
            {
                inner.order.push_back(old);
                break;
            }
            inner.alerts.remove(&old);
        }
        // Fired and resolved go to every receiver; an update only to
        // Alertmanager, which is re-sent while firing anyway.
        let event = match change {
            Change::Fired => "fired",
            Change::Resolved => "resolved",
            _ => "updated",
        };
        let mut targets = Vec::new();
        if change != Change::Updated {
            for a in &alert.agencies {
                if self.webhook_agencies.contains(a) {
                    targets.push(Target::Webhook { agency: a.clone() });
                }
            }
        }
        if self.alertmanager {
            targets.push(Target::Alertmanager);
        }
        let mut queued_any = false;
        for target in targets {
            let key = format!(
                "{}|{}|{}",
                alert.id,
                event,
                serde_json::to_string(&target).unwrap_or_default()
            );
            let delivery_id = format!("{:016x}", stable_hash(key.as_bytes()));
            // Updates carry changing figures; only their latest matters.
            let delivery_id = if change == Change::Updated {
                format!("{delivery_id}-{}", alert.detected_at_ms)
            } else {
                delivery_id
            };
            if inner.done.contains(&delivery_id) || inner.queued.contains(&delivery_id) {
                continue;
            }
            let n = Notification {
                delivery_id: delivery_id.clone(),
                event: event.into(),
                target,
                alert: alert.clone(),
            };
            append(&mut inner.outbox_file, &n);
            inner.queued.insert(delivery_id);
            inner.outbox.push_back(n);
            queued_any = true;
        }
        drop(inner);
        let _ = self.events_tx.send(alert);
        if queued_any {
            self.wake.notify_one();
        }
        change
    }

    /// Takes up to `n` notifications to deliver.
    pub fn take_pending(&self, n: usize) -> Vec<Notification> {
        let Ok(mut inner) = self.inner.lock() else {
            return Vec::new();
        };
        let k = n.min(inner.outbox.len());
        inner.outbox.drain(..k).collect()
    }

    /// Puts back a notification that could not be delivered yet.
    pub fn requeue(&self, n: Notification) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.outbox.push_back(n);
        }
    }

    /// Records a completed delivery, durably.
    pub fn delivered(&self, delivery_id: &str) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.queued.remove(delivery_id);
            inner.done.insert(delivery_id.to_string());
            append(&mut inner.done_file, &delivery_id);
        }
    }

    pub fn pending(&self) -> usize {
        self.inner.lock().map_or(0, |i| i.outbox.len())
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<StoredAlert> {
        self.events_tx.subscribe()
    }

    /// How many streams listen now.
    pub fn subscribers(&self) -> usize {
        self.events_tx.receiver_count()
    }

    /// Alerts newest first (by detection time).
    pub fn list(&self, filter: impl Fn(&StoredAlert) -> bool) -> Vec<StoredAlert> {
        let Ok(inner) = self.inner.lock() else {
            return Vec::new();
        };
        let mut v: Vec<StoredAlert> = inner
            .alerts
            .values()
            .filter(|a| filter(a))
            .cloned()
            .collect();
        v.sort_by(|a, b| {
            b.detected_at_ms
                .cmp(&a.detected_at_ms)
                .then(b.id.cmp(&a.id))
        });
        v
    }

    pub fn firing(&self) -> Vec<StoredAlert> {
        self.list(|a| a.state == AlertState::Firing)
    }

    /// Acknowledges an alert; `None` if there is no such alert.
    pub fn ack(&self, id: &str, by: &str, at: &str) -> Option<StoredAlert> {
        let mut inner = self.inner.lock().ok()?;
        let alert = inner.alerts.get_mut(id)?;
        alert.acked_by = Some(by.to_string());
        alert.acked_at = Some(at.to_string());
        let alert = alert.clone();
        inner
            .acks
            .insert(id.to_string(), (by.to_string(), at.to_string()));
        let rec = AckRecord {
            id: id.to_string(),
            by: by.to_string(),
            at: at.to_string(),
        };
        append(&mut inner.acks_file, &rec);
        drop(inner);
        let _ = self.events_tx.send(alert.clone());
        Some(alert)
    }

    /// Counts of firing spike alerts per (topic, region), for the gauge.
    pub fn firing_counts(&self) -> BTreeMap<(String, u16), u64> {
        let mut m = BTreeMap::new();
        for a in self.firing() {
            if let (AlertKind::Spike, Some(topic)) = (a.kind, a.topic.clone()) {
                *m.entry((topic, a.region)).or_default() += 1;
            }
        }
        m
    }

    /// Agencies with a firing overdue alert.
    pub fn overdue_agencies(&self) -> Vec<String> {
        self.firing()
            .into_iter()
            .filter(|a| a.kind == AlertKind::Overdue)
            .flat_map(|a| a.agencies)
            .collect()
    }
}
