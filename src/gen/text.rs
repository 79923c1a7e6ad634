//! Composing a tweet's text from the templates: place phrases, openings,
//! core sentences, requests, slang, mentions and hashtags; and finding the
//! entities (mentions, hashtags) in a text.

use super::*;

#[derive(Clone, Copy)]
pub(super) struct Compose {
    pub(super) region: u16,
    pub(super) topics: [u16; 2],
    pub(super) n_topics: u8,
    pub(super) lang: Lang,
    pub(super) mode: PlaceMode,
    pub(super) local_hour: u32,
}

pub(super) fn greeting(lang: Lang, hour: u32) -> &'static str {
    let slot = match hour {
        4..=9 => 0,
        10..=14 => 1,
        15..=17 => 2,
        _ => 3,
    };
    match lang {
        Lang::Jv => [
            "Sugeng enjing",
            "Sugeng siang",
            "Sugeng sonten",
            "Sugeng dalu",
        ][slot],
        Lang::En => [
            "Good morning",
            "Good afternoon",
            "Good afternoon",
            "Good evening",
        ][slot],
        _ => [
            "Selamat pagi",
            "Selamat siang",
            "Selamat sore",
            "Selamat malam",
        ][slot],
    }
}

/// Appends `tpl` with `key` replaced by `value`.
pub(super) fn push_template(out: &mut String, tpl: &str, key: &str, value: &str) {
    match tpl.find(key) {
        Some(i) => {
            out.push_str(&tpl[..i]);
            out.push_str(value);
            out.push_str(&tpl[i + key.len()..]);
        }
        None => out.push_str(tpl),
    }
}

pub(super) fn push_sentence(out: &mut String, s: &str, greet: &str) {
    if !out.is_empty() && !out.ends_with(' ') {
        out.push(' ');
    }
    push_template(out, s, "{greet}", greet);
}

impl Tables {
    /// The place phrase, with its preposition, for the tweet's text.
    pub(super) fn place_phrase(
        &self,
        rng: &mut SmallRng,
        c: &Compose,
        ngapak: bool,
        out: &mut String,
    ) {
        let textual = matches!(
            c.mode,
            PlaceMode::Name
                | PlaceMode::Subdistrict
                | PlaceMode::Landmark
                | PlaceMode::NameAndCoordinates
        );
        let jv = c.lang == Lang::Jv || (c.lang == Lang::Mixed && rng.random_bool(0.3));
        if !textual {
            let g = match c.lang {
                Lang::En => &templates().generic_loc_en,
                _ if jv => &templates().generic_loc_jv,
                _ => &templates().generic_loc_id,
            };
            out.push_str(one(rng, g));
            return;
        }
        let r = &self.regions[c.region as usize];
        let prep = match c.lang {
            Lang::En => one(rng, &templates().prep_en),
            _ if jv && ngapak => one(rng, &templates().prep_ngapak),
            _ if jv => one(rng, &templates().prep_jv),
            _ => one(rng, &templates().prep_id),
        };
        let mode = match c.mode {
            PlaceMode::Subdistrict if r.subdistricts.is_empty() => PlaceMode::Name,
            PlaceMode::Landmark if r.places.is_empty() => PlaceMode::Name,
            m => m,
        };
        match mode {
            PlaceMode::Subdistrict => {
                out.push_str(prep);
                out.push(' ');
                let s = pick(rng, &r.subdistricts).as_str();
                // Some are listed only as "Kec. X" (X is an ordinary word).
                let prefixed = s.starts_with("Kec. ") || s.starts_with("Kecamatan ");
                match rng.random_range(0..5) {
                    0 if c.lang != Lang::En && !prefixed => {
                        out.push_str("Kec. ");
                        out.push_str(s);
                    }
                    1 if c.lang != Lang::En && !prefixed => {
                        out.push_str("kecamatan ");
                        out.push_str(s);
                    }
                    2 => {
                        out.push_str(s);
                        out.push_str(", ");
                        out.push_str(&r.short);
                    }
                    _ => out.push_str(s),
                }
            }
            PlaceMode::Landmark => {
                out.push_str(prep);
                out.push(' ');
                out.push_str(pick(rng, &r.places).as_str());
                if rng.random_bool(0.35) {
                    out.push(' ');
                    out.push_str(&r.short);
                }
            }
            _ => {
                let u: f64 = rng.random();
                if u < 0.08 && !r.context_aliases.is_empty() && c.lang != Lang::En {
                    // An ambiguous name, placed by the preposition before it.
                    out.push_str(if jv { "nang " } else { "di " });
                    out.push_str(pick(rng, &r.context_aliases).as_str());
                } else if u < 0.55 && !r.short_is_context {
                    out.push_str(prep);
                    out.push(' ');
                    out.push_str(&r.short);
                } else {
                    out.push_str(prep);
                    out.push(' ');
                    out.push_str(pick(rng, &r.names).as_str());
                }
            }
        }
    }

    pub(super) fn compose(&self, rng: &mut SmallRng, out: &mut String, c: &Compose) {
        for attempt in 0..3 {
            out.clear();
            self.compose_once(rng, out, c, attempt);
            if out.chars().count() <= 280 {
                return;
            }
        }
        // Still too long: cut at a character boundary.
        if let Some((i, _)) = out.char_indices().nth(279) {
            out.truncate(i);
        }
    }

    pub(super) fn compose_once(
        &self,
        rng: &mut SmallRng,
        out: &mut String,
        c: &Compose,
        attempt: u32,
    ) {
        let ngapak =
            c.region != NO_REGION && self.regions[c.region as usize].ngapak && rng.random_bool(0.6);
        let complaint = c.n_topics > 0;
        let greet = greeting(c.lang, c.local_hour);
        let full = attempt == 0;
        // The mentions and hashtags, decided first so they may lead.
        let mut mentions: [&str; 3] = [""; 3];
        let mut nm = 0;
        let gov = self
            .governor
            .map(|g| self.agencies[g as usize].user.username.as_str());
        let topic0 = if complaint {
            Some(&self.topics[c.topics[0] as usize])
        } else {
            None
        };
        let located = c.region != NO_REGION;
        let p_gov = if complaint { 0.35 } else { 0.12 };
        if let Some(g) = gov {
            if rng.random_bool(p_gov) {
                mentions[nm] = g;
                nm += 1;
            }
        }
        if let Some(t) = topic0 {
            let slot = if located {
                c.region as usize
            } else {
                self.regions.len()
            };
            if let Some(a) = t.agency[slot] {
                let h = self.agencies[a as usize].user.username.as_str();
                if Some(a) != self.governor
                    && Some(a) != self.channel
                    && rng.random_bool(0.25)
                    && !mentions[..nm].contains(&h)
                {
                    mentions[nm] = h;
                    nm += 1;
                }
            }
            if located && rng.random_bool(0.2) {
                let hs = &self.regions[c.region as usize].handles;
                if !hs.is_empty() {
                    let h = pick(rng, hs).as_str();
                    if !mentions[..nm].contains(&h) {
                        mentions[nm] = h;
                        nm += 1;
                    }
                }
            }
            if nm < 3 && rng.random_bool(0.08) {
                if let Some(ch) = self.channel {
                    let h = self.agencies[ch as usize].user.username.as_str();
                    if !mentions[..nm].contains(&h) {
                        mentions[nm] = h;
                        nm += 1;
                    }
                }
            }
        }
        let lead = nm > 0 && rng.random_bool(0.4);
        if lead {
            for m in &mentions[..nm] {
                out.push('@');
                out.push_str(m);
                out.push(' ');
            }
        }
        let body_start = out.len();

        // Code-mixed tweets put the core in one language and the rest in
        // the other.
        let core_lang = match c.lang {
            Lang::Mixed if rng.random_bool(0.5) => Lang::Jv,
            Lang::Mixed => Lang::Id,
            l => l,
        };
        let rest_lang = match (c.lang, core_lang) {
            (Lang::Mixed, Lang::Jv) => Lang::Id,
            (Lang::Mixed, _) => Lang::Jv,
            (l, _) => l,
        };
        // Opening.
        let mut opened_with_comma = false;
        if full && rng.random_bool(if complaint { 0.35 } else { 0.1 }) {
            let open = match core_lang {
                Lang::Jv => one(rng, &templates().jv_open),
                Lang::En => one(rng, &templates().en_open),
                _ => one(rng, &templates().id_open),
            };
            push_sentence(out, open, greeting(core_lang, c.local_hour));
            opened_with_comma = open.ends_with(',');
        }
        // Core sentence(s).
        let mut loc = String::new();
        self.place_phrase(rng, c, ngapak, &mut loc);
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        let core_start = out.len();
        match topic0 {
            None => {
                let tpl = match core_lang {
                    Lang::Jv => one(rng, &templates().chatter_jv),
                    Lang::En => one(rng, &templates().chatter_en),
                    _ => one(rng, &templates().chatter_id),
                };
                push_template(out, tpl, "{loc}", &loc);
                if c.lang == Lang::Mixed {
                    let tail = if core_lang == Lang::Jv {
                        "Keren pokoknya."
                    } else {
                        one(rng, &templates().chatter_jv_tail)
                    };
                    push_sentence(out, tail, greet);
                }
            }
            Some(t) => {
                self.core(rng, out, t, core_lang, ngapak, &loc);
                if c.n_topics > 1 {
                    // A second topic, placeless.
                    let t2 = &self.topics[c.topics[1] as usize];
                    let mut generic = String::new();
                    let c2 = Compose {
                        mode: PlaceMode::Nothing,
                        lang: core_lang,
                        ..*c
                    };
                    self.place_phrase(rng, &c2, ngapak, &mut generic);
                    out.push(' ');
                    self.core(rng, out, t2, core_lang, ngapak, &generic);
                }
            }
        }
        if opened_with_comma {
            decapitalize_after_comma(out, body_start, core_start);
        }
        if complaint {
            let t = topic0.expect("complaint");
            // Extra detail.
            if full && rng.random_bool(0.35) {
                match (rest_lang, t.text) {
                    (Lang::Id, Some(tt)) => push_sentence(out, one(rng, &tt.extra), greet),
                    (Lang::Jv, _) => push_sentence(out, one(rng, &templates().jv_extra), greet),
                    _ => {}
                }
            }
            // Request and thanks; a code-mixed tweet always has its request
            // in the other language.
            if c.lang == Lang::Mixed || rng.random_bool(0.75) {
                let req = match rest_lang {
                    Lang::Id => one(rng, &templates().id_req),
                    Lang::Jv if ngapak => one(rng, &templates().ngapak_req),
                    Lang::Jv => one(rng, &templates().jv_req),
                    _ => one(rng, &templates().en_req),
                };
                push_sentence(out, req, greet);
            }
            if full && rng.random_bool(0.3) {
                let close = match rest_lang {
                    Lang::Id => one(rng, &templates().id_close),
                    Lang::Jv => one(rng, &templates().jv_close),
                    _ => one(rng, &templates().en_close),
                };
                push_sentence(out, close, greet);
            }
        }
        if rng.random_bool(0.15) {
            out.push(' ');
            out.push_str(one(rng, &templates().emoji));
        }
        // Spelling: slang, all lowercase.
        if matches!(c.lang, Lang::Id | Lang::Mixed) && rng.random_bool(0.45) {
            let body: String = out[body_start..].to_string();
            out.truncate(body_start);
            apply_slang(rng, &body, out);
        }
        if rng.random_bool(0.12) {
            let lower = out[body_start..].to_lowercase();
            out.truncate(body_start);
            out.push_str(&lower);
        }
        // Trailing mentions and hashtags.
        if !lead {
            for m in &mentions[..nm] {
                out.push_str(" @");
                out.push_str(m);
            }
        }
        if complaint {
            if rng.random_bool(0.5) {
                out.push_str(" #KemalaJateng");
            }
            let t = topic0.expect("complaint");
            if let Some(tt) = t.text {
                if full && rng.random_bool(0.15) {
                    out.push_str(" #");
                    out.push_str(one(rng, &tt.tags));
                }
                if let (Some(prefix), true) = (tt.region_tag.as_deref(), located) {
                    if full && rng.random_bool(0.15) && c.mode != PlaceMode::Nothing {
                        out.push_str(" #");
                        out.push_str(prefix);
                        out.push_str(&tag_word(&self.regions[c.region as usize].short));
                    }
                }
            }
            if full && rng.random_bool(0.03) {
                out.push_str(" #LaporGub");
            }
        } else if rng.random_bool(0.05) {
            out.push_str(" #KemalaJateng");
        }
        if full && located && c.mode != PlaceMode::Nothing && rng.random_bool(0.04) {
            out.push_str(" #");
            out.push_str(&tag_word(&self.regions[c.region as usize].short));
        }
    }

    /// One core complaint sentence of topic `t`.
    pub(super) fn core(
        &self,
        rng: &mut SmallRng,
        out: &mut String,
        t: &TopicInfo,
        lang: Lang,
        ngapak: bool,
        loc: &str,
    ) {
        let Some(tt) = t.text else {
            // A configured topic this generator has no templates for.
            let tpl = match lang {
                Lang::En => "There is a problem with {name} {loc}.",
                Lang::Jv => "Wonten masalah {name} {loc}.",
                _ => "Ada masalah {name} {loc}, sudah lama dibiarkan.",
            };
            let mut s = String::new();
            push_template(&mut s, tpl, "{name}", &t.name.to_lowercase());
            push_template(out, &s, "{loc}", loc);
            return;
        };
        let tpl = match lang {
            Lang::Jv if ngapak && !tt.ngapak.is_empty() => one(rng, &tt.ngapak),
            Lang::Jv => one(rng, &tt.jv),
            Lang::En => one(rng, &tt.en),
            Lang::Id | Lang::Mixed => one(rng, &tt.id),
        };
        push_template(out, tpl, "{loc}", loc);
    }

    pub(super) fn reply_text(
        &self,
        rng: &mut SmallRng,
        out: &mut String,
        to: &str,
        topic: u16,
        local_hour: u32,
    ) {
        out.push('@');
        out.push_str(to);
        out.push(' ');
        let sapa = pick(rng, &templates().sapa).as_str();
        let greet = greeting(Lang::Id, local_hour);
        let specific = self.topics[topic as usize]
            .text
            .filter(|_| rng.random_bool(0.55));
        match specific {
            Some(tt) => {
                if rng.random_bool(0.4) {
                    out.push_str("Terima kasih ");
                    out.push_str(sapa);
                    out.push_str(". ");
                }
                out.push_str(one(rng, &tt.reply));
            }
            None => {
                let mut s = String::new();
                push_template(&mut s, one(rng, &templates().reply_generic), "{sapa}", sapa);
                push_template(out, &s, "{greet}", greet);
            }
        }
        if rng.random_bool(0.3) {
            // The admin's initials.
            out.push_str(" ^");
            out.push(rng.random_range(b'A'..=b'Z') as char);
            out.push(rng.random_range(b'A'..=b'Z') as char);
        }
    }
}

/// After an opening such as "Pak," the core sentence goes on in lower case
/// ("Pak, mati lampu lagi"), and a core that opens politely itself drops the
/// opening ("Nyuwun sewu pak, ...").
pub(super) fn decapitalize_after_comma(out: &mut String, body_start: usize, core_start: usize) {
    let core = &out[core_start..];
    let first_word = core.split([' ', ',']).next().unwrap_or("");
    if matches!(
        first_word,
        "Nyuwun" | "Ngapunten" | "Permisi" | "Mohon" | "Hello" | "Lapor"
    ) {
        out.replace_range(body_start..core_start, "");
        return;
    }
    let mut chars = first_word.chars();
    if let (Some(c0), Some(c1)) = (chars.next(), chars.next()) {
        if c0.is_ascii_uppercase()
            && c1.is_ascii_lowercase()
            && !matches!(
                first_word,
                "PPDB" | "PDAM" | "PLN" | "BPJS" | "TPS" | "PJU" | "BLT" | "BRT" | "KK" | "KTP"
            )
        {
            let lower = c0.to_ascii_lowercase();
            out.replace_range(core_start..core_start + 1, lower.encode_utf8(&mut [0; 4]));
        }
    }
}

/// Rewrites Indonesian words the way they are typed on Twitter.
pub(super) fn apply_slang(rng: &mut SmallRng, body: &str, out: &mut String) {
    for (i, word) in body.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core_end = word.trim_end_matches([',', '.', '!', '?']).len();
        let (core, tail) = word.split_at(core_end);
        let subs = templates().slang(core);
        if !subs.is_empty() && rng.random_bool(0.7) {
            out.push_str(one(rng, subs));
        } else {
            out.push_str(core);
        }
        out.push_str(tail);
    }
}

// ---- Entities -------------------------------------------------------------

pub(super) fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds @mentions and #hashtags, with offsets in chars (as Twitter counts
/// them) and in bytes.
pub(super) fn scan_entities(text: &str, out: &mut Vec<Ent>) {
    out.clear();
    let b = text.as_bytes();
    let mut chars = 0;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if (c == b'@' || c == b'#') && (i == 0 || !is_word_byte(b[i - 1])) {
            let mut j = i + 1;
            while j < b.len() && is_word_byte(b[j]) {
                j += 1;
            }
            let len = j - i - 1;
            if len > 0 && (c == b'#' || len <= 15) {
                out.push(Ent {
                    mention: c == b'@',
                    start: chars,
                    end: chars + len + 1,
                    bstart: i,
                    bend: j,
                });
                chars += len + 1;
                i = j;
                continue;
            }
        }
        if c & 0xC0 != 0x80 {
            chars += 1;
        }
        i += 1;
    }
}
