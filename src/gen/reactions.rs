//! Reactions to original tweets, scheduled for their event time: retweets
//! (a few in viral cascades), official replies after a log-normal delay
//! that office hours stretch, and the governor's forwards; and writing each
//! one when its time comes.

use super::*;

pub(super) enum Reaction {
    Reply {
        orig: Arc<Original>,
        agency: u16,
        created_ms: Option<i64>,
    },
    Forward {
        orig: Arc<Original>,
        agency: u16,
    },
    Retweet {
        orig: Arc<Original>,
        by: u32,
    },
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ms, self.seq) == (other.at_ms, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed, so the max-heap pops the earliest.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.at_ms, other.seq).cmp(&(self.at_ms, self.seq))
    }
}

impl Generator {
    /// How many times a new original tweet will be retweeted.
    pub(super) fn retweet_count(&mut self, complaint: bool, in_burst: bool) -> usize {
        let e = self.rt_per_tweet;
        if e <= 0.0 {
            return 0;
        }
        let rng = &mut self.rng;
        // Viral cascades: mean 175 retweets each; complaints, and burst
        // complaints above all, are likelier to go viral.
        let boost = if in_burst {
            6.0
        } else if complaint {
            1.1
        } else {
            0.2
        };
        let p_viral = (VIRAL_SHARE * e / 175.0 * boost).min(1.0);
        if rng.random_bool(p_viral) {
            return rng.random_range(50..=300);
        }
        let p_some = ((1.0 - VIRAL_SHARE) * e / 2.0).min(1.0);
        if !rng.random_bool(p_some) {
            return 0;
        }
        let mut k = 1;
        while k < 40 && rng.random_bool(0.5) {
            k += 1;
        }
        k
    }

    pub(super) fn schedule_retweets(&mut self, orig: &Arc<Original>, n: usize) {
        let viral = n >= 50;
        for _ in 0..n {
            let delay = if viral {
                // Most within the hour, front-loaded.
                let mut d = -(1.0 - self.rng.random::<f64>()).ln() * 15.0 * MINUTE_MS as f64;
                if d > HOUR_MS as f64 {
                    d = self.rng.random::<f64>() * HOUR_MS as f64;
                }
                d as i64 + 5 * SECOND_MS
            } else {
                lognormal(&mut self.rng, 10.0 * MINUTE_MS as f64, 1.3).min(3.0 * DAY_MS as f64)
                    as i64
                    + 5 * SECOND_MS
            };
            let by = if orig.region != NO_REGION && self.rng.random_bool(0.25) {
                self.t.regions[orig.region as usize].info_account
            } else {
                pick_zipfish(&mut self.rng, N_AUTHORS.min(self.t.authors.len())) as u32
            };
            self.schedule(
                orig.at_ms + delay,
                Reaction::Retweet {
                    orig: orig.clone(),
                    by,
                },
            );
        }
    }

    /// Schedules the responsible agency's reply (and perhaps the governor's
    /// forward before it). An `urgent` complaint, one of an incident's, is
    /// answered by the agency on call within minutes, night or day.
    pub(super) fn schedule_replies(&mut self, orig: &Arc<Original>, urgent: bool) {
        let region_slot = if orig.region == NO_REGION {
            self.t.regions.len()
        } else {
            orig.region as usize
        };
        let Some(agency) = self.t.topics[orig.topics[0] as usize].agency[region_slot] else {
            return;
        };
        if self.rng.random_bool(SKEWED_REPLY_SHARE) {
            // An imported record whose reply claims to precede the complaint.
            let created = orig.at_ms
                - orig.at_ms.rem_euclid(SECOND_MS)
                - self.rng.random_range(5..600) * SECOND_MS;
            let at = orig.at_ms + self.rng.random_range(1..60) * SECOND_MS;
            self.schedule_reply(orig, agency, at, Some(created));
            return;
        }
        if urgent {
            let latency = lognormal(&mut self.rng, 12.0 * MINUTE_MS as f64, 0.6)
                .clamp(2.0 * MINUTE_MS as f64, 2.0 * HOUR_MS as f64)
                as i64;
            self.schedule_reply(orig, agency, orig.at_ms + latency, None);
            return;
        }
        let mut latency = lognormal(&mut self.rng, 2.2 * HOUR_MS as f64, 1.7)
            .clamp(2.0 * MINUTE_MS as f64, 12.0 * DAY_MS as f64) as i64;
        // Agencies mostly answer in office hours: a reply that would land at
        // night usually waits for the next morning, which lifts the median
        // from 2.2 h to about 3 h.
        let at = orig.at_ms + latency;
        let local = at + WIB_OFFSET_MS;
        let hour = local.rem_euclid(DAY_MS) / HOUR_MS;
        if !(6..22).contains(&hour) && self.rng.random_bool(0.75) {
            let day = local.div_euclid(DAY_MS) + i64::from(hour >= 22);
            let morning =
                day * DAY_MS + 6 * HOUR_MS + 30 * MINUTE_MS + self.rng.random_range(0..3 * HOUR_MS)
                    - WIB_OFFSET_MS;
            latency = morning - orig.at_ms;
        }
        if let Some(gov) = self.t.governor {
            if gov != agency && self.rng.random_bool(FORWARD_SHARE) {
                let mut fwd = lognormal(&mut self.rng, 40.0 * MINUTE_MS as f64, 1.0)
                    .max(MINUTE_MS as f64) as i64;
                if fwd >= latency {
                    fwd = latency / 2;
                }
                self.schedule(
                    orig.at_ms + fwd,
                    Reaction::Forward {
                        orig: orig.clone(),
                        agency,
                    },
                );
            }
        }
        self.schedule_reply(orig, agency, orig.at_ms + latency, None);
    }

    /// Schedules `agency`'s reply to `orig` at `at_ms`, with `created_ms` as
    /// its timestamp where that is not its arrival.
    fn schedule_reply(
        &mut self,
        orig: &Arc<Original>,
        agency: u16,
        at_ms: i64,
        created_ms: Option<i64>,
    ) {
        self.schedule(
            at_ms,
            Reaction::Reply {
                orig: orig.clone(),
                agency,
                created_ms,
            },
        );
    }

    pub(super) fn reaction(&mut self, p: Pending) -> Generated {
        let at_ms = p.at_ms;
        self.last_event_ms = at_ms;
        let id = self.next_id(at_ms);
        let v1 = self.rng.random_bool(self.opts.v1_ratio);
        let mut text = std::mem::take(&mut self.text);
        text.clear();
        let (orig, official, lang, reply_to, retweet_of, created_ms, author, payload);
        match p.what {
            Reaction::Retweet { orig: o, by } => {
                let oa = &self.t.authors[o.author as usize];
                text.push_str("RT @");
                text.push_str(&oa.username);
                text.push_str(": ");
                text.push_str(&o.text);
                scan_entities(&text, &mut self.ents);
                let out = Out {
                    id,
                    at_ms,
                    text: &text,
                    author: &self.t.authors[by as usize],
                    lang_hint: o.lang_hint,
                    conversation_id: id,
                    reply: None,
                    geo: Geo::None,
                    retweet: Some((o.as_ref(), oa)),
                };
                payload = self.t.write(&out, &self.ents, v1);
                author = self.t.authors[by as usize].id;
                official = false;
                lang = o.lang;
                reply_to = None;
                retweet_of = Some(o.id);
                created_ms = at_ms;
                orig = o;
            }
            Reaction::Reply {
                orig: o,
                agency,
                created_ms: c,
            } => {
                let oa = &self.t.authors[o.author as usize];
                let local_hour = ((at_ms + WIB_OFFSET_MS).rem_euclid(DAY_MS) / HOUR_MS) as u32;
                self.t.reply_text(
                    &mut self.rng,
                    &mut text,
                    &oa.username,
                    o.topics[0],
                    local_hour,
                );
                let ag = &self.t.agencies[agency as usize];
                let created = c.unwrap_or(at_ms);
                payload = self
                    .t
                    .write_reply(&mut self.ents, id, created, &text, ag, &o, oa, v1);
                author = ag.user.id;
                official = true;
                lang = Lang::Id;
                reply_to = Some(o.id);
                retweet_of = None;
                created_ms = created;
                orig = o;
            }
            Reaction::Forward { orig: o, agency } => {
                let oa = &self.t.authors[o.author as usize];
                let gov = self.t.governor.expect("forwards need a governor");
                let ag = &self.t.agencies[agency as usize];
                let forwards = &templates().forward;
                let f = &forwards[self.rng.random_range(0..forwards.len())];
                let (tpl, l) = (f.text.as_str(), f.lang);
                text.push('@');
                text.push_str(&oa.username);
                text.push(' ');
                push_template(&mut text, tpl, "{agency}", &ag.user.username);
                let g = &self.t.agencies[gov as usize];
                payload = self
                    .t
                    .write_reply(&mut self.ents, id, at_ms, &text, g, &o, oa, v1);
                author = g.user.id;
                official = true;
                lang = l;
                reply_to = Some(o.id);
                retweet_of = None;
                created_ms = at_ms;
                orig = o;
            }
        }
        self.text = text;
        let topics = orig.topics[..orig.n_topics as usize]
            .iter()
            .map(|&k| self.t.topics[k as usize].id.clone())
            .collect();
        Generated {
            payload,
            truth: Truth::Tweet {
                id,
                created_at_ms: created_ms - created_ms.rem_euclid(SECOND_MS),
                author_id: author.to_string(),
                topics,
                region_code: self.t.region_code(orig.region),
                lang: lang.as_str(),
                retweet_of,
                reply_to,
                official,
                in_burst: false,
            },
        }
    }
}
