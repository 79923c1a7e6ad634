//! The dispatcher: delivers the outbox to webhooks and Alertmanager.
//!
//! Webhooks get a JSON POST of the alert, signed with
//! `X-Kemala-Signature: sha256=<HMAC-SHA256 of the body>` and carrying
//! `X-Kemala-Delivery` so receivers can deduplicate. Anything but a 2xx is
//! retried with exponential backoff (1 s doubling to 5 min) until it is
//! acknowledged. Alertmanager gets `POST /api/v2/alerts`, re-sent while an
//! alert fires and once more with `endsAt` when it resolves. Deliveries run
//! concurrently, so one dead receiver delays nobody else.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::wire::alert_json;
use super::{AlertKind, AlertState, AlertStore, Notification, StoredAlert, Target};
use crate::telemetry::Metrics;
use crate::timestamp::rfc3339;

pub struct Webhook {
    pub url: String,
    pub secret: Vec<u8>,
}

pub struct Dispatcher {
    pub store: Arc<AlertStore>,
    pub client: reqwest::Client,
    pub webhooks: HashMap<String, Webhook>,
    pub alertmanager_url: Option<String>,
    pub resend_interval: Duration,
    pub metrics: Arc<Metrics>,
    /// BPS code → slug, for Alertmanager labels.
    pub region_slugs: HashMap<u16, String>,
    pub region_names: HashMap<u16, String>,
    pub base_url: String,
}

const MAX_IN_FLIGHT: usize = 32;

pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("hmac takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Sends `request`; anything but a 2xx from `receiver` is an error.
async fn send(request: reqwest::RequestBuilder, receiver: &str) -> Result<(), String> {
    let r = request.send().await.map_err(|e| e.to_string())?;
    if r.status().is_success() {
        Ok(())
    } else {
        Err(format!("{receiver} answered {}", r.status()))
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_secs((1u64 << attempt.min(9)).min(300))
}

#[derive(Serialize)]
struct AmAlert {
    labels: HashMap<&'static str, String>,
    annotations: HashMap<&'static str, String>,
    #[serde(rename = "startsAt")]
    starts_at: String,
    #[serde(rename = "endsAt", skip_serializing_if = "Option::is_none")]
    ends_at: Option<String>,
    #[serde(rename = "generatorURL")]
    generator_url: String,
}

impl Dispatcher {
    fn am_alert(&self, a: &StoredAlert) -> AmAlert {
        let region = if a.region == 0 {
            "jateng".to_string()
        } else {
            self.region_slugs
                .get(&a.region)
                .cloned()
                .unwrap_or_else(|| "unknown".into())
        };
        let mut labels = HashMap::new();
        labels.insert(
            "alertname",
            match a.kind {
                AlertKind::Spike => "KemalaSpike".to_string(),
                AlertKind::Overdue => "KemalaOverdue".to_string(),
            },
        );
        labels.insert("topic", a.topic.clone().unwrap_or_else(|| "none".into()));
        labels.insert("region", region);
        labels.insert("severity", a.severity.clone());
        labels.insert(
            "agency",
            a.agencies.first().cloned().unwrap_or_else(|| "none".into()),
        );
        let mut annotations = HashMap::new();
        annotations.insert("summary", a.summary.clone());
        annotations.insert("kemala_id", a.id.clone());
        annotations.insert(
            "description",
            format!(
                "observed {:.0}, expected {:.1}, score {:.1}; agencies: {}",
                a.observed,
                a.expected,
                a.score,
                a.agencies.join(", ")
            ),
        );
        AmAlert {
            labels,
            annotations,
            starts_at: rfc3339(a.started_at_ms),
            ends_at: match a.state {
                AlertState::Resolved => Some(rfc3339(a.resolved_at_ms.unwrap_or(a.detected_at_ms))),
                AlertState::Firing => None,
            },
            generator_url: format!("{}/api/alerts?state=all", self.base_url),
        }
    }

    async fn post_alertmanager(&self, alerts: &[StoredAlert]) -> Result<(), String> {
        let Some(url) = &self.alertmanager_url else {
            return Ok(());
        };
        let body: Vec<AmAlert> = alerts.iter().map(|a| self.am_alert(a)).collect();
        let request = self
            .client
            .post(format!("{}/api/v2/alerts", url.trim_end_matches('/')))
            .json(&body);
        send(request, "alertmanager").await
    }

    async fn deliver(self: Arc<Self>, n: Notification) -> Result<(), String> {
        match &n.target {
            Target::Alertmanager => self.post_alertmanager(std::slice::from_ref(&n.alert)).await,
            Target::Webhook { agency } => {
                let Some(hook) = self.webhooks.get(agency) else {
                    // The agency lost its webhook in the config: nothing to do.
                    return Ok(());
                };
                let body = serde_json::to_vec(&alert_json(&n.alert, &self.region_names))
                    .map_err(|e| e.to_string())?;
                let request = self
                    .client
                    .post(&hook.url)
                    .header("content-type", "application/json")
                    .header("x-kemala-signature", sign(&hook.secret, &body))
                    .header("x-kemala-delivery", &n.delivery_id)
                    .header("x-kemala-event", &n.event)
                    .body(body);
                send(request, "webhook").await
            }
        }
    }

    /// One delivery attempt, bounded in time, with what to retry it with.
    async fn attempt(
        self: Arc<Self>,
        n: Notification,
        attempts: u32,
    ) -> (Notification, u32, Result<(), String>) {
        let r = tokio::time::timeout(Duration::from_secs(10), self.deliver(n.clone()))
            .await
            .unwrap_or(Err("timed out".into()));
        (n, attempts, r)
    }

    /// Runs until `stop` resolves.
    pub async fn run(self, mut stop: tokio::sync::watch::Receiver<bool>) {
        let me = Arc::new(self);
        let mut in_flight: JoinSet<(Notification, u32, Result<(), String>)> = JoinSet::new();
        // Notifications waiting for their retry time: (due, attempts, n).
        let mut waiting: Vec<(Instant, u32, Notification)> = Vec::new();
        let mut next_resend = Instant::now() + me.resend_interval;
        loop {
            let now = Instant::now();
            // Start what is due, within the concurrency bound.
            let mut i = 0;
            while i < waiting.len() && in_flight.len() < MAX_IN_FLIGHT {
                if waiting[i].0 <= now {
                    let (_, attempts, n) = waiting.swap_remove(i);
                    in_flight.spawn(me.clone().attempt(n, attempts));
                } else {
                    i += 1;
                }
            }
            for n in me
                .store
                .take_pending(MAX_IN_FLIGHT.saturating_sub(in_flight.len()))
            {
                in_flight.spawn(me.clone().attempt(n, 0));
            }
            me.metrics
                .alert_outbox
                .set((me.store.pending() + waiting.len() + in_flight.len()) as i64);
            if now >= next_resend {
                next_resend = now + me.resend_interval;
                let firing = me.store.firing();
                if !firing.is_empty() && me.alertmanager_url.is_some() {
                    if let Err(e) = me.post_alertmanager(&firing).await {
                        tracing::warn!("re-sending firing alerts to alertmanager failed: {e}");
                    }
                }
            }
            let next_due = waiting
                .iter()
                .map(|w| w.0)
                .min()
                .unwrap_or(next_resend)
                .min(next_resend);
            tokio::select! {
                _ = stop.changed() => break,
                _ = me.store.wake.notified() => {}
                _ = tokio::time::sleep_until(next_due) => {}
                Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                    if let Ok((n, attempts, result)) = done {
                        let target = n.target.label();
                        match result {
                            Ok(()) => {
                                me.store.delivered(&n.delivery_id);
                                me.metrics.alert_deliveries.with_label_values(&[target, "success"]).inc();
                            }
                            Err(e) => {
                                me.metrics.alert_deliveries.with_label_values(&[target, "failure"]).inc();
                                me.metrics.alert_retries.with_label_values(&[target]).inc();
                                tracing::warn!(delivery = %n.delivery_id, attempt = attempts + 1, "alert delivery failed, will retry: {e}");
                                waiting.push((Instant::now() + backoff(attempts), attempts + 1, n));
                            }
                        }
                    }
                }
            }
        }
        // Undelivered notifications stay in the outbox file for the next start.
        in_flight.abort_all();
        for (_, _, n) in waiting {
            me.store.requeue(n);
        }
    }
}
