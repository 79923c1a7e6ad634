//! The alert lifecycle and province-wide incidents.
//!
//! # Lifecycle
//! *Idle → pending* (score past `pending_p_value`: learning freezes) *→
//! firing* (event [`AlertEvent::Fired`]) *→ resolved* once the last `window`
//! has held fewer than `max(stay_min_count, stay_ratio × expected)`
//! complainants for `resolve_after` (30 min) ([`AlertEvent::Resolved`]).
//! Firing on a plateau is one alert: it stays firing, and its peak figures
//! live in [`Detector::firing`]. [`AlertEvent::Updated`] is sent when the
//! severity rises, or its incident links change. `started_at_ms` is the
//! onset (the start of the excess: the change point that maximizes the
//! cumulative excess over the baseline), `detected_at_ms` the end of the
//! bucket whose evaluation fired, `resolved_at_ms` the end of the bucket that
//! resolved it; all are event times. The id hashes (topic, region, onset),
//! so a replay or a rebuild gives the same id.
//!
//! A key must have `warmup` (24 h) of history since its first complaint, and
//! the detector since its first bucket, before it may fire: the first tweets
//! of a never-seen (topic, region) never page anybody. New keys start from a
//! conservative prior (one complainant an hour, weight one hour) and borrow
//! their parent's rhythm.
//!
//! # Province-wide incidents
//! The `jateng` series of each topic is a series like any other and fires on
//! its own statistics. It is also the **incident**: while it fires, every
//! firing regional alert of the topic is linked to it by `parent` (its id),
//! and its `regions` lists every region that fired during it. When at least
//! `incident_min_regions` (3) regions of a topic fire at once and the
//! province-wide series has not fired by itself, it is fired as the incident
//! anyway. It stays firing while any child fires. An incident with that many
//! regions is critical. The alert store pages the incident once and shows
//! children as its regional detail, instead of N unrelated pages.

use super::*;

impl Detector {
    /// The onset: the bucket from which the cumulative excess over the
    /// baseline (less half the observed excess rate) is largest.
    pub(super) fn onset(&self, key: &Key, now: i64, eval: Eval) -> i64 {
        let w = self.p.windows[eval.window] as f64;
        let half_excess = 0.5 * ((eval.observed as f64 - eval.expected) / w).max(0.0);
        let span = (now - key.first).min(self.ring_len as i64 - 2).max(0);
        let (mut cum, mut best, mut arg) = (0.0, f64::NEG_INFINITY, now);
        for back in 0..=span {
            let j = now - back;
            let pos = (j & self.mask) as usize;
            cum += key.ring_c[pos] as f64 - (key.ring_mu[pos] as f64 + half_excess);
            if cum > best {
                best = cum;
                arg = j;
            }
        }
        arg.max(key.last_resolved + 1).max(key.first)
    }

    pub(super) fn fire(&mut self, k: usize, now: i64, eval: Eval, onset: Option<i64>) {
        let p = &self.p;
        let key = &self.keys[k];
        let onset = onset
            .unwrap_or_else(|| self.onset(key, now, eval))
            .max(key.last_resolved.saturating_add(1));
        let started = onset * p.bucket_ms;
        let mut alert = Alert {
            id: alert_id(key.topic, key.region, started),
            topic: key.topic,
            region: key.region,
            state: AlertState::Firing,
            severity: Severity::Warning,
            started_at_ms: started,
            detected_at_ms: (now + 1) * p.bucket_ms,
            resolved_at_ms: None,
            observed: eval.observed as f64,
            expected: round3(eval.expected),
            window_seconds: (p.windows[eval.window] as i64 * p.bucket_ms / 1000) as u64,
            score: round3(eval.score),
            sample_tweet_ids: key
                .samples
                .iter()
                .filter(|(b, _)| *b >= onset)
                .take(p.max_samples)
                .map(|(_, id)| *id)
                .collect(),
            regions: Vec::new(),
            parent: None,
        };
        alert.severity = severity(p, &alert);
        self.stats.alerts_fired += 1;
        self.keys[k].phase = Phase::Firing(Box::new(Firing {
            alert,
            onset,
            fired: now,
            quiet: 0,
            new: true,
            dirty: false,
        }));
        self.keys[k].blocked = now;
    }

    /// Links regional alerts to their topic's province-wide incident.
    pub(super) fn incidents(&mut self, now: i64) {
        let min_regions = self.p.incident_min_regions.max(1);
        for t in 0..self.num_topics {
            let Some(j) = self.jateng[t] else { continue };
            let children: Vec<usize> = self.regional[t]
                .iter()
                .copied()
                .filter(|&c| self.keys[c].is_firing())
                .collect();
            if !self.keys[j].is_firing()
                && children.len() >= min_regions
                && self.armed(&self.keys[j], now)
            {
                let onset = children
                    .iter()
                    .filter_map(|&c| match &self.keys[c].phase {
                        Phase::Firing(f) => Some(f.onset),
                        _ => None,
                    })
                    .min()
                    .unwrap_or(now);
                let key = &self.keys[j];
                let wi = self.main_window;
                let (s, m) = (key.sum_c[wi], key.sum_mu[wi].max(0.0));
                let eval = Eval {
                    window: wi,
                    observed: s,
                    expected: m,
                    score: stats::nb_upper_tail_score(s, m, key.base.nb_size(&self.learn)),
                };
                self.fire(j, now, eval, Some(onset));
            }
            let child_regions: Vec<u16> = children.iter().map(|&c| self.keys[c].region).collect();
            let Phase::Firing(parent) = &mut self.keys[j].phase else {
                continue;
            };
            if !children.is_empty() {
                parent.quiet = 0;
            }
            for region in child_regions {
                if let Err(at) = parent.alert.regions.binary_search(&region) {
                    parent.alert.regions.insert(at, region);
                    parent.dirty = true;
                }
            }
            let sev = severity(&self.p, &parent.alert);
            if sev > parent.alert.severity {
                parent.alert.severity = sev;
                parent.dirty = true;
            }
            let parent_id = parent.alert.id.clone();
            for &c in &children {
                if let Phase::Firing(child) = &mut self.keys[c].phase {
                    if child.alert.parent.as_deref() != Some(parent_id.as_str()) {
                        child.alert.parent = Some(parent_id.clone());
                        child.dirty = true;
                    }
                }
            }
        }
    }
}

pub(super) fn severity(p: &DetectorParams, a: &Alert) -> Severity {
    let strong =
        a.observed >= p.critical_ratio * a.expected && a.observed >= 3.0 * p.min_count as f64;
    let wide = a.region == JATENG && a.regions.len() >= p.incident_min_regions.max(1);
    if strong || wide {
        Severity::Critical
    } else {
        Severity::Warning
    }
}

pub(super) fn placeholder() -> Alert {
    Alert {
        id: String::new(),
        topic: 0,
        region: 0,
        state: AlertState::Resolved,
        severity: Severity::Warning,
        started_at_ms: 0,
        detected_at_ms: 0,
        resolved_at_ms: None,
        observed: 0.0,
        expected: 0.0,
        window_seconds: 0,
        score: 0.0,
        sample_tweet_ids: Vec::new(),
        regions: Vec::new(),
        parent: None,
    }
}
