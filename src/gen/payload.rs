//! The payload writers: a tweet, retweet or official reply as Twitter API
//! v2 and v1.1 JSON.

use super::*;

pub(super) fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        let esc: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&b[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

pub(super) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

pub(super) fn push_u64_str(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    push_u64(out, n);
    out.push(b'"');
}

pub(super) fn push_2(out: &mut Vec<u8>, n: u32) {
    out.push(b'0' + (n / 10 % 10) as u8);
    out.push(b'0' + (n % 10) as u8);
}

/// `2022-11-02T03:15:42.000Z`: v2 always reports whole seconds.
pub(super) fn push_v2_time(out: &mut Vec<u8>, ms: i64) {
    let secs = ms.div_euclid(SECOND_MS);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400) as u32;
    out.push(b'"');
    push_u64(out, y as u64);
    out.push(b'-');
    push_2(out, m);
    out.push(b'-');
    push_2(out, d);
    out.push(b'T');
    push_2(out, s / 3600);
    out.push(b':');
    push_2(out, s / 60 % 60);
    out.push(b':');
    push_2(out, s % 60);
    out.extend_from_slice(b".000Z\"");
}

pub(super) fn format_v2_time(ms: i64) -> String {
    let mut v = Vec::with_capacity(26);
    push_v2_time(&mut v, ms);
    String::from_utf8(v[1..v.len() - 1].to_vec()).expect("ASCII")
}

/// `Wed Nov 02 03:20:05 +0000 2022`.
pub(super) fn push_v1_time(out: &mut Vec<u8>, ms: i64) {
    const DOW: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms.div_euclid(SECOND_MS);
    let days = secs.div_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let s = secs.rem_euclid(86_400) as u32;
    out.push(b'"');
    out.extend_from_slice(DOW[days.rem_euclid(7) as usize].as_bytes());
    out.push(b' ');
    out.extend_from_slice(MON[m as usize - 1].as_bytes());
    out.push(b' ');
    push_2(out, d);
    out.push(b' ');
    push_2(out, s / 3600);
    out.push(b':');
    push_2(out, s / 60 % 60);
    out.push(b':');
    push_2(out, s % 60);
    out.extend_from_slice(b" +0000 ");
    push_u64(out, y as u64);
    out.push(b'"');
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub(super) const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day count since 1970-01-01.
pub(super) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Keeps at most `max` chars of a text for a truncated display, cutting at
/// a space; returns the byte length kept.
pub(super) fn cut_at_chars(text: &str, max: usize) -> usize {
    let Some((end, _)) = text.char_indices().nth(max) else {
        return text.len();
    };
    match text[..end].rfind(' ') {
        Some(sp) if sp > end / 2 => sp,
        _ => end,
    }
}

impl Tables {
    pub(super) fn mention_of<'a>(
        &'a self,
        name: &str,
        extra: Option<(&str, u64, &'a str)>,
    ) -> Option<(u64, &'a str)> {
        if let Some((u, id, n)) = extra {
            if u == name {
                return Some((id, n));
            }
        }
        self.handle_ids.get(name).map(|(id, n)| (*id, n.as_str()))
    }

    pub(super) fn push_entities_v2(
        &self,
        out: &mut Vec<u8>,
        text: &str,
        ents: &[Ent],
        extra: Option<(&str, u64, &str)>,
    ) {
        out.extend_from_slice(b",\"entities\":{");
        let mut first_group = true;
        for mention in [true, false] {
            let mut any = false;
            for e in ents.iter().filter(|e| e.mention == mention) {
                if !any {
                    if !first_group {
                        out.push(b',');
                    }
                    out.extend_from_slice(if mention {
                        b"\"mentions\":["
                    } else {
                        b"\"hashtags\":["
                    });
                    any = true;
                    first_group = false;
                } else {
                    out.push(b',');
                }
                out.extend_from_slice(b"{\"start\":");
                push_u64(out, e.start as u64);
                out.extend_from_slice(b",\"end\":");
                push_u64(out, e.end as u64);
                let name = &text[e.bstart + 1..e.bend];
                if mention {
                    out.extend_from_slice(b",\"username\":");
                    push_json_str(out, name);
                    if let Some((id, _)) = self.mention_of(name, extra) {
                        out.extend_from_slice(b",\"id\":");
                        push_u64_str(out, id);
                    }
                } else {
                    out.extend_from_slice(b",\"tag\":");
                    push_json_str(out, name);
                }
                out.push(b'}');
            }
            if any {
                out.push(b']');
            }
        }
        out.push(b'}');
    }

    /// v1.1 `entities`, keeping those that end within `limit_chars`.
    pub(super) fn push_entities_v1(
        &self,
        out: &mut Vec<u8>,
        text: &str,
        ents: &[Ent],
        extra: Option<(&str, u64, &str)>,
        limit_chars: usize,
        url: Option<(usize, usize, &str, u64)>,
    ) {
        out.extend_from_slice(b"{\"hashtags\":[");
        let mut first = true;
        for e in ents.iter().filter(|e| !e.mention && e.end <= limit_chars) {
            if !first {
                out.push(b',');
            }
            first = false;
            out.extend_from_slice(b"{\"text\":");
            push_json_str(out, &text[e.bstart + 1..e.bend]);
            out.extend_from_slice(b",\"indices\":[");
            push_u64(out, e.start as u64);
            out.push(b',');
            push_u64(out, e.end as u64);
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"],\"user_mentions\":[");
        first = true;
        for e in ents.iter().filter(|e| e.mention && e.end <= limit_chars) {
            if !first {
                out.push(b',');
            }
            first = false;
            let name = &text[e.bstart + 1..e.bend];
            out.extend_from_slice(b"{\"screen_name\":");
            push_json_str(out, name);
            if let Some((id, n)) = self.mention_of(name, extra) {
                out.extend_from_slice(b",\"name\":");
                push_json_str(out, n);
                out.extend_from_slice(b",\"id\":");
                push_u64(out, id);
                out.extend_from_slice(b",\"id_str\":");
                push_u64_str(out, id);
            }
            out.extend_from_slice(b",\"indices\":[");
            push_u64(out, e.start as u64);
            out.push(b',');
            push_u64(out, e.end as u64);
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"],\"urls\":[");
        if let Some((s, e, tco, id)) = url {
            out.extend_from_slice(b"{\"url\":");
            push_json_str(out, tco);
            out.extend_from_slice(b",\"expanded_url\":\"https://twitter.com/i/web/status/");
            push_u64(out, id);
            out.extend_from_slice(
                b"\",\"display_url\":\"twitter.com/i/web/status/1\xe2\x80\xa6\",\"indices\":[",
            );
            push_u64(out, s as u64);
            out.push(b',');
            push_u64(out, e as u64);
            out.extend_from_slice(b"]}");
        }
        out.extend_from_slice(b"]}");
    }

    pub(super) fn push_user_v1(
        out: &mut Vec<u8>,
        id: u64,
        screen: &str,
        name: &str,
        location: &str,
        followers: u32,
        verified: bool,
    ) {
        out.extend_from_slice(b"{\"id\":");
        push_u64(out, id);
        out.extend_from_slice(b",\"id_str\":");
        push_u64_str(out, id);
        out.extend_from_slice(b",\"name\":");
        push_json_str(out, name);
        out.extend_from_slice(b",\"screen_name\":");
        push_json_str(out, screen);
        out.extend_from_slice(b",\"location\":");
        if location.is_empty() {
            out.extend_from_slice(b"null");
        } else {
            push_json_str(out, location);
        }
        out.extend_from_slice(b",\"verified\":");
        out.extend_from_slice(if verified { b"true" } else { b"false" });
        out.extend_from_slice(b",\"followers_count\":");
        push_u64(out, u64::from(followers));
        out.push(b'}');
    }

    pub(super) fn push_user_v2(
        out: &mut Vec<u8>,
        id: u64,
        username: &str,
        name: &str,
        location: &str,
        verified: bool,
    ) {
        out.extend_from_slice(b"{\"id\":");
        push_u64_str(out, id);
        out.extend_from_slice(b",\"name\":");
        push_json_str(out, name);
        out.extend_from_slice(b",\"username\":");
        push_json_str(out, username);
        if !location.is_empty() {
            out.extend_from_slice(b",\"location\":");
            push_json_str(out, location);
        }
        if verified {
            out.extend_from_slice(b",\"verified\":true");
        }
        out.push(b'}');
    }

    /// A citizen's tweet or retweet in either format.
    pub(super) fn write(&self, o: &Out<'_>, ents: &[Ent], v1: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(if v1 { 1400 } else { 900 } + o.text.len() * 2);
        if v1 {
            self.write_v1(&mut out, o, ents);
        } else {
            self.write_v2(&mut out, o, ents);
        }
        out
    }

    pub(super) fn write_v2(&self, out: &mut Vec<u8>, o: &Out<'_>, ents: &[Ent]) {
        let a = o.author;
        // Retweets shorten the "RT @user: ..." text as Twitter does.
        let (text, ents_cut) = match o.retweet {
            Some(_) if o.text.chars().count() > 140 => {
                let cut = cut_at_chars(o.text, 139);
                (format!("{}…", &o.text[..cut]), Some(cut))
            }
            _ => (String::new(), None),
        };
        let shown: &str = if ents_cut.is_some() { &text } else { o.text };
        out.extend_from_slice(b"{\"data\":{\"id\":");
        push_u64_str(out, o.id);
        out.extend_from_slice(b",\"text\":");
        push_json_str(out, shown);
        out.extend_from_slice(b",\"author_id\":");
        push_u64_str(out, a.id);
        out.extend_from_slice(b",\"created_at\":");
        push_v2_time(out, o.at_ms);
        out.extend_from_slice(b",\"conversation_id\":");
        push_u64_str(out, o.conversation_id);
        out.extend_from_slice(b",\"lang\":");
        push_json_str(out, o.lang_hint);
        if let Some((orig, _)) = o.retweet {
            out.extend_from_slice(b",\"referenced_tweets\":[{\"type\":\"retweeted\",\"id\":");
            push_u64_str(out, orig.id);
            out.extend_from_slice(b"}]");
        }
        out.extend_from_slice(b",\"edit_history_tweet_ids\":[");
        push_u64_str(out, o.id);
        out.push(b']');
        let extra = o
            .retweet
            .map(|(_, oa)| (oa.username.as_str(), oa.id, oa.name.as_str()));
        let kept: Vec<Ent>;
        let ents: &[Ent] = match ents_cut {
            Some(cut) => {
                kept = ents.iter().copied().filter(|e| e.bend <= cut).collect();
                &kept
            }
            None => ents,
        };
        if !ents.is_empty() {
            self.push_entities_v2(out, shown, ents, extra);
        }
        match o.geo {
            Geo::None => {}
            Geo::Point(lon, lat) => {
                let _ = write!(out, ",\"geo\":{{\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}");
            }
            Geo::Place(r) => {
                out.extend_from_slice(b",\"geo\":{\"place_id\":");
                push_json_str(out, &self.regions[r as usize].place_id);
                out.push(b'}');
            }
            Geo::PointAndPlace(lon, lat, r) => {
                out.extend_from_slice(b",\"geo\":{\"place_id\":");
                push_json_str(out, &self.regions[r as usize].place_id);
                let _ = write!(
                    out,
                    ",\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}}}"
                );
            }
        }
        out.extend_from_slice(b"},\"includes\":{\"users\":[");
        Self::push_user_v2(out, a.id, &a.username, &a.name, &a.location, a.verified);
        if let Some((_, oa)) = o.retweet {
            out.push(b',');
            Self::push_user_v2(
                out,
                oa.id,
                &oa.username,
                &oa.name,
                &oa.location,
                oa.verified,
            );
        }
        out.push(b']');
        if let Geo::Place(r) | Geo::PointAndPlace(_, _, r) = o.geo {
            out.extend_from_slice(b",\"places\":[");
            out.extend_from_slice(self.regions[r as usize].v2_place.as_bytes());
            out.push(b']');
        }
        if let Some((orig, oa)) = o.retweet {
            out.extend_from_slice(b",\"tweets\":[{\"id\":");
            push_u64_str(out, orig.id);
            out.extend_from_slice(b",\"text\":");
            push_json_str(out, &orig.text);
            out.extend_from_slice(b",\"author_id\":");
            push_u64_str(out, oa.id);
            out.extend_from_slice(b",\"created_at\":");
            push_v2_time(out, orig.at_ms);
            out.extend_from_slice(b",\"lang\":");
            push_json_str(out, orig.lang_hint);
            out.extend_from_slice(b"}]");
        }
        out.extend_from_slice(b"},\"matching_rules\":[{\"id\":\"");
        out.extend_from_slice(RULE_ID.as_bytes());
        out.extend_from_slice(b"\",\"tag\":\"kemala\"}]}");
    }

    pub(super) fn write_v1(&self, out: &mut Vec<u8>, o: &Out<'_>, ents: &[Ent]) {
        let a = o.author;
        let extra = o
            .retweet
            .map(|(_, oa)| (oa.username.as_str(), oa.id, oa.name.as_str()));
        let n_chars = o.text.chars().count();
        out.extend_from_slice(b"{\"created_at\":");
        push_v1_time(out, o.at_ms);
        out.extend_from_slice(b",\"id\":");
        push_u64(out, o.id);
        out.extend_from_slice(b",\"id_str\":");
        push_u64_str(out, o.id);
        if let Some((orig, oa)) = o.retweet {
            // Classic retweets: the outer text is cut to 140 chars, the
            // whole original rides in `retweeted_status`.
            let (shown, limit) = if n_chars > 140 {
                let cut = cut_at_chars(o.text, 139);
                (
                    format!("{}…", &o.text[..cut]),
                    o.text[..cut].chars().count(),
                )
            } else {
                (o.text.to_string(), n_chars)
            };
            out.extend_from_slice(b",\"text\":");
            push_json_str(out, &shown);
            out.extend_from_slice(b",\"source\":\"<a href=\\\"http://twitter.com/download/android\\\" rel=\\\"nofollow\\\">Twitter for Android</a>\",\"truncated\":false,\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,\"in_reply_to_screen_name\":null,\"user\":");
            Self::push_user_v1(
                out,
                a.id,
                &a.username,
                &a.name,
                &a.location,
                a.followers,
                a.verified,
            );
            out.extend_from_slice(
                b",\"geo\":null,\"coordinates\":null,\"place\":null,\"retweeted_status\":",
            );
            let mut inner_ents = Vec::new();
            scan_entities(&orig.text, &mut inner_ents);
            let inner = Out {
                id: orig.id,
                at_ms: orig.at_ms,
                text: &orig.text,
                author: oa,
                lang_hint: orig.lang_hint,
                conversation_id: orig.id,
                reply: None,
                geo: Geo::None,
                retweet: None,
            };
            self.write_v1(out, &inner, &inner_ents);
            out.extend_from_slice(b",\"is_quote_status\":false,\"retweet_count\":0,\"favorite_count\":0,\"entities\":");
            self.push_entities_v1(out, o.text, ents, extra, limit, None);
        } else {
            let truncated = n_chars > 140;
            if truncated {
                let cut = cut_at_chars(o.text, 113);
                let kept = o.text[..cut].chars().count();
                let tco = format!("https://t.co/{}", short_code(o.id));
                let shown = format!("{}… {}", &o.text[..cut], tco);
                let url_start = kept + 2;
                let url_end = url_start + tco.len();
                out.extend_from_slice(b",\"text\":");
                push_json_str(out, &shown);
                out.extend_from_slice(b",\"display_text_range\":[0,");
                push_u64(out, (kept + 1) as u64);
                out.push(b']');
                self.push_v1_middle(out, o, true);
                out.extend_from_slice(b",\"extended_tweet\":{\"full_text\":");
                push_json_str(out, o.text);
                out.extend_from_slice(b",\"display_text_range\":[0,");
                push_u64(out, n_chars as u64);
                out.extend_from_slice(b"],\"entities\":");
                self.push_entities_v1(out, o.text, ents, extra, usize::MAX, None);
                out.extend_from_slice(b"},\"is_quote_status\":false,\"entities\":");
                self.push_entities_v1(
                    out,
                    o.text,
                    ents,
                    extra,
                    kept,
                    Some((url_start, url_end, &tco, o.id)),
                );
            } else {
                out.extend_from_slice(b",\"text\":");
                push_json_str(out, o.text);
                self.push_v1_middle(out, o, false);
                out.extend_from_slice(b",\"is_quote_status\":false,\"entities\":");
                self.push_entities_v1(out, o.text, ents, extra, usize::MAX, None);
            }
        }
        out.extend_from_slice(
            b",\"favorited\":false,\"retweeted\":false,\"filter_level\":\"low\",\"lang\":",
        );
        push_json_str(out, o.lang_hint);
        out.extend_from_slice(b",\"timestamp_ms\":");
        out.push(b'"');
        push_u64(out, o.at_ms.max(0) as u64);
        out.extend_from_slice(b"\"}");
    }

    /// The v1.1 fields between `text` and `entities` of a non-retweet.
    pub(super) fn push_v1_middle(&self, out: &mut Vec<u8>, o: &Out<'_>, truncated: bool) {
        let a = o.author;
        out.extend_from_slice(b",\"source\":\"<a href=\\\"http://twitter.com/download/android\\\" rel=\\\"nofollow\\\">Twitter for Android</a>\",\"truncated\":");
        out.extend_from_slice(if truncated { b"true" } else { b"false" });
        match o.reply {
            Some((tid, uid, screen)) => {
                out.extend_from_slice(b",\"in_reply_to_status_id\":");
                push_u64(out, tid);
                out.extend_from_slice(b",\"in_reply_to_status_id_str\":");
                push_u64_str(out, tid);
                out.extend_from_slice(b",\"in_reply_to_user_id\":");
                push_u64(out, uid);
                out.extend_from_slice(b",\"in_reply_to_user_id_str\":");
                push_u64_str(out, uid);
                out.extend_from_slice(b",\"in_reply_to_screen_name\":");
                push_json_str(out, screen);
            }
            None => out.extend_from_slice(b",\"in_reply_to_status_id\":null,\"in_reply_to_status_id_str\":null,\"in_reply_to_user_id\":null,\"in_reply_to_user_id_str\":null,\"in_reply_to_screen_name\":null"),
        }
        out.extend_from_slice(b",\"user\":");
        Self::push_user_v1(
            out,
            a.id,
            &a.username,
            &a.name,
            &a.location,
            a.followers,
            a.verified,
        );
        match o.geo {
            Geo::Point(lon, lat) | Geo::PointAndPlace(lon, lat, _) => {
                let _ = write!(
                    out,
                    ",\"geo\":{{\"type\":\"Point\",\"coordinates\":[{lat},{lon}]}},\"coordinates\":{{\"type\":\"Point\",\"coordinates\":[{lon},{lat}]}}"
                );
            }
            _ => out.extend_from_slice(b",\"geo\":null,\"coordinates\":null"),
        }
        out.extend_from_slice(b",\"place\":");
        match o.geo {
            Geo::Place(r) | Geo::PointAndPlace(_, _, r) => {
                out.extend_from_slice(self.regions[r as usize].v1_place.as_bytes());
            }
            _ => out.extend_from_slice(b"null"),
        }
    }

    /// An official reply (agency or governor) to a citizen's tweet.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn write_reply(
        &self,
        ents: &mut Vec<Ent>,
        id: u64,
        at_ms: i64,
        text: &str,
        ag: &AgencyInfo,
        orig: &Original,
        oa: &Author,
        v1: bool,
    ) -> Vec<u8> {
        scan_entities(text, ents);
        let author = &ag.user;
        let o = Out {
            id,
            at_ms,
            text,
            author,
            lang_hint: "in",
            conversation_id: orig.id,
            reply: Some((orig.id, oa.id, &oa.username)),
            geo: Geo::None,
            retweet: None,
        };
        let extra = Some((oa.username.as_str(), oa.id, oa.name.as_str()));
        let mut out = Vec::with_capacity(1200);
        if v1 {
            out.extend_from_slice(b"{\"created_at\":");
            push_v1_time(&mut out, at_ms);
            out.extend_from_slice(b",\"id\":");
            push_u64(&mut out, id);
            out.extend_from_slice(b",\"id_str\":");
            push_u64_str(&mut out, id);
            out.extend_from_slice(b",\"text\":");
            push_json_str(&mut out, text);
            self.push_v1_middle(&mut out, &o, false);
            out.extend_from_slice(b",\"is_quote_status\":false,\"entities\":");
            self.push_entities_v1(&mut out, text, ents, extra, usize::MAX, None);
            out.extend_from_slice(b",\"favorited\":false,\"retweeted\":false,\"filter_level\":\"low\",\"lang\":\"in\",\"timestamp_ms\":\"");
            push_u64(&mut out, at_ms.max(0) as u64);
            out.extend_from_slice(b"\"}");
        } else {
            out.extend_from_slice(b"{\"data\":{\"id\":");
            push_u64_str(&mut out, id);
            out.extend_from_slice(b",\"text\":");
            push_json_str(&mut out, text);
            out.extend_from_slice(b",\"author_id\":");
            push_u64_str(&mut out, author.id);
            out.extend_from_slice(b",\"created_at\":");
            push_v2_time(&mut out, at_ms);
            out.extend_from_slice(b",\"conversation_id\":");
            push_u64_str(&mut out, orig.id);
            out.extend_from_slice(b",\"in_reply_to_user_id\":");
            push_u64_str(&mut out, oa.id);
            out.extend_from_slice(b",\"referenced_tweets\":[{\"type\":\"replied_to\",\"id\":");
            push_u64_str(&mut out, orig.id);
            out.extend_from_slice(b"}],\"lang\":\"in\",\"edit_history_tweet_ids\":[");
            push_u64_str(&mut out, id);
            out.push(b']');
            if !ents.is_empty() {
                self.push_entities_v2(&mut out, text, ents, extra);
            }
            out.extend_from_slice(b"},\"includes\":{\"users\":[");
            Self::push_user_v2(
                &mut out,
                author.id,
                &author.username,
                &author.name,
                &author.location,
                true,
            );
            out.extend_from_slice(b"]},\"matching_rules\":[{\"id\":\"");
            out.extend_from_slice(RULE_ID.as_bytes());
            out.extend_from_slice(b"\",\"tag\":\"kemala\"}]}");
        }
        out
    }
}

/// A t.co-like code derived from a tweet id.
pub(super) fn short_code(id: u64) -> String {
    const ALPHA: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut h = fnv1a(&id.to_le_bytes());
    (0..10)
        .map(|_| {
            let c = ALPHA[(h % 62) as usize] as char;
            h /= 62;
            c
        })
        .collect()
}
