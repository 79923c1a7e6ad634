//! The tables the generator builds once from the configuration: regions
//! with their names, places, Twitter places and weights; topics with their
//! templates, seasons and the agency that answers them per region; agencies
//! as accounts; and the pool of citizens.

use super::*;

pub(super) const NO_REGION: u16 = u16::MAX;

// ---- Building the tables --------------------------------------------------

/// Relative Twitter volume by region: population times Twitter use. Kota
/// Semarang gets about 18% of all tweets once the unknown share is set aside.
pub(super) fn region_weight(code: u16) -> f64 {
    match code {
        3374 => 21.0,
        3372 => 7.5,
        3319 => 5.0,
        3329 => 4.5,
        3301 => 4.3,
        3302 => 4.2,
        3321 => 4.0,
        3322 => 3.5,
        3315 | 3318 | 3320 | 3310 => 3.0,
        3311 => 2.8,
        3324 | 3328 => 2.6,
        3327 => 2.4,
        3305 | 3308 | 3313 => 2.2,
        3309 => 2.0,
        3326 => 1.9,
        3375 | 3376 => 1.8,
        3314 => 1.7,
        3373 | 3312 | 3303 => 1.6,
        3304 | 3306 | 3316 | 3325 => 1.4,
        3307 | 3323 => 1.3,
        3371 => 1.2,
        3317 => 1.1,
        _ => 1.5,
    }
}

/// Regions of the Banyumasan dialect.
pub(super) fn is_ngapak(code: u16) -> bool {
    matches!(
        code,
        3301 | 3302 | 3303 | 3304 | 3305 | 3327 | 3328 | 3329 | 3376
    )
}

pub(super) fn strip_at(h: &str) -> &str {
    h.trim().trim_start_matches('@')
}

pub(super) fn tag_word(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// Each configured topic's templates: each template serves one topic, the
/// first that names it.
pub(super) fn topic_texts(config: &Config) -> Vec<Option<&'static TopicText>> {
    let mut claimed: Vec<*const TopicText> = Vec::new();
    config
        .topics
        .iter()
        .map(|td| {
            let text = find_topic_text(&td.id, &td.name_en)
                .filter(|t| !claimed.contains(&std::ptr::from_ref(*t)));
            if let Some(t) = text {
                claimed.push(std::ptr::from_ref(t));
            }
            text
        })
        .collect()
}

pub(super) fn find_topic_text(id: &str, name_en: &str) -> Option<&'static TopicText> {
    let texts = &templates().topic;
    let has_alt = |t: &TopicText, w: &str| t.alt.iter().any(|a| a == w);
    let id = id.to_ascii_lowercase();
    if let Some(t) = texts.iter().find(|t| t.key == id || has_alt(t, &id)) {
        return Some(t);
    }
    let en = name_en.to_ascii_lowercase();
    texts
        .iter()
        .find(|t| {
            id.split('_')
                .any(|w| w.len() > 3 && (t.key.contains(w) || has_alt(t, w)))
        })
        .or_else(|| {
            texts.iter().find(|t| {
                en.split(|c: char| !c.is_ascii_alphanumeric())
                    .any(|w| w.len() > 3 && (t.key.split('_').any(|k| k == w) || has_alt(t, w)))
            })
        })
}

impl Tables {
    pub(super) fn build(config: &Config, rng: &mut SmallRng) -> Tables {
        // Agencies.
        let mut agencies = Vec::with_capacity(config.agencies.len());
        let mut handle_ids: HashMap<String, (u64, String)> = HashMap::new();
        for a in &config.agencies {
            let handle = a
                .handles
                .first()
                .map(|h| strip_at(h).to_string())
                .unwrap_or_else(|| tag_word(&a.id.replace('-', "_")));
            let user_id = a
                .user_ids
                .first()
                .and_then(|s| s.trim().parse().ok())
                .unwrap_or_else(|| synthetic_user_id(&a.id));
            for h in &a.handles {
                handle_ids
                    .entry(strip_at(h).to_string())
                    .or_insert((user_id, a.name.clone()));
            }
            agencies.push(AgencyInfo {
                user: Author {
                    id: user_id,
                    username: handle,
                    name: a.name.clone(),
                    location: "Jawa Tengah".to_string(),
                    region: NO_REGION,
                    locatable: false,
                    followers: 150_000,
                    verified: true,
                },
            });
        }
        let governor = config
            .agencies
            .iter()
            .position(|a| a.kind == AgencyKind::Governor)
            .map(|i| i as u16);
        let channel = config
            .agencies
            .iter()
            .position(|a| a.kind == AgencyKind::Channel)
            .map(|i| i as u16);

        // Regions.
        let total_w: f64 = config
            .regions
            .iter()
            .map(|r| region_weight(r.code.parse().unwrap_or(0)))
            .sum();
        let mut regions = Vec::with_capacity(config.regions.len());
        for r in &config.regions {
            let code: u16 = r.code.parse().unwrap_or(0);
            let bare = r
                .name
                .strip_prefix("Kabupaten ")
                .or_else(|| r.name.strip_prefix("Kota "))
                .unwrap_or(&r.name);
            // Names of the government ("Pemkab Demak") are not places.
            let institutional = |a: &&String| a.starts_with("Pemkab ") || a.starts_with("Pemkot ");
            let one_word = |a: &&String| a.len() >= 4 && !a.contains('.') && !a.contains(' ');
            // The everyday name: a one-word alias, else a capitalised context
            // alias ("Pati", "Tegal"), else the official name.
            let (short, short_is_context) = match r
                .aliases
                .iter()
                .filter(|a| !institutional(a))
                .find(one_word)
            {
                Some(a) => (a.clone(), false),
                None => match r.context_aliases.iter().find(one_word) {
                    Some(a) => (a.clone(), true),
                    None => (r.name.clone(), false),
                },
            };
            let mut names = vec![r.name.clone()];
            names.extend(r.aliases.iter().filter(|a| !institutional(a)).cloned());
            let mut handles: Vec<String> =
                r.handles.iter().map(|h| strip_at(h).to_string()).collect();
            // Citizens mention the region's general accounts, not the
            // accounts of one of its offices.
            for a in &config.agencies {
                if a.regions.len() == 1 && a.regions[0] == r.code && a.topics.is_empty() {
                    for h in &a.handles {
                        let h = strip_at(h).to_string();
                        if !handles.contains(&h) {
                            handles.push(h);
                        }
                    }
                }
            }
            for h in &handles {
                handle_ids
                    .entry(h.clone())
                    .or_insert_with(|| (synthetic_user_id(h), format!("Pemerintah {}", r.name)));
            }
            // A Twitter place: the city, or the regency by its full name.
            let (pname, full) = match r.kind {
                RegionKind::Kota => (bare.to_string(), format!("{bare}, Indonesia")),
                RegionKind::Kabupaten => (r.name.clone(), format!("{}, Indonesia", r.name)),
            };
            let place_id = format!("{:016x}", fnv1a(r.code.as_bytes()) ^ 0x5a5a_0000_0000_0000);
            let half = (r.radius_km * 0.5).max(1.0);
            let dlat = half / 111.32;
            let dlon = half / (111.32 * r.lat.to_radians().cos());
            let (w, s, e, n) = (
                round5(r.lon - dlon),
                round5(r.lat - dlat),
                round5(r.lon + dlon),
                round5(r.lat + dlat),
            );
            let (v1_place, v2_place) = places(
                &place_id,
                &pname,
                &full,
                matches!(r.kind, RegionKind::Kota),
                [w, s, e, n],
            );
            regions.push(RegionInfo {
                code,
                share: region_weight(code) / total_w * (1.0 - UNKNOWN_REGION_SHARE),
                names,
                short,
                short_is_context,
                context_aliases: r
                    .context_aliases
                    .iter()
                    .filter(|a| a.chars().next().is_some_and(char::is_uppercase) && a.len() >= 4)
                    .cloned()
                    .collect(),
                subdistricts: r.subdistricts.clone(),
                places: r.places.clone(),
                handles,
                lat: r.lat,
                lon: r.lon,
                radius_km: r.radius_km.max(0.5),
                ngapak: is_ngapak(code),
                v1_place,
                v2_place,
                place_id,
                authors: Vec::new(),
                info_account: 0,
            });
        }
        let mut region_cdf = Vec::with_capacity(regions.len());
        let mut acc = 0.0;
        for r in &regions {
            acc += r.share;
            region_cdf.push(acc);
        }

        // Topics and who answers them. A topic without templates is never
        // drawn, so adding topics to the configuration leaves the traffic
        // as it was.
        let mut topics = Vec::with_capacity(config.topics.len());
        let texts = topic_texts(config);
        for (k, td) in config.topics.iter().enumerate() {
            let text = texts[k];
            let mut agency = Vec::with_capacity(regions.len() + 1);
            for r in config
                .regions
                .iter()
                .map(|r| Some(r.code.as_str()))
                .chain([None])
            {
                agency.push(route(config, k, r));
            }
            topics.push(TopicInfo {
                id: td.id.clone(),
                text,
                name: td.name.clone(),
                weight: text.map_or(0.0, |t| t.weight),
                season: text.map_or([1.0; 12], |t| t.season),
                agency,
            });
        }

        // Citizens.
        let mut authors = Vec::with_capacity(N_AUTHORS + regions.len());
        let mut unknown_authors = Vec::new();
        let mut taken: HashSet<String> = HashSet::new();
        for i in 0..N_AUTHORS {
            let u: f64 = rng.random::<f64>();
            // Slightly more profile-less accounts than unknown-region tweets.
            let region = if u < UNKNOWN_REGION_SHARE * 1.25 {
                NO_REGION
            } else {
                let v = rng.random::<f64>() * acc;
                region_cdf
                    .iter()
                    .position(|&c| v < c)
                    .unwrap_or(regions.len().saturating_sub(1)) as u16
            };
            let region = if regions.is_empty() {
                NO_REGION
            } else {
                region
            };
            let first = pick(rng, &templates().first_names).as_str();
            let last = pick(rng, &templates().last_names).as_str();
            let short = if region == NO_REGION {
                ""
            } else {
                regions[region as usize].short.as_str()
            };
            let base = match rng.random_range(0..8) {
                0 => format!("{}{}{}", first, last, rng.random_range(10..100)),
                1 if !short.is_empty() => format!("{}_{}", first, tag_word(short)),
                2 => format!("mas{}", first),
                3 => format!("mbak_{}", first),
                4 => format!("{}_{}", first, last),
                5 if !short.is_empty() => {
                    format!("warga{}{}", tag_word(short), rng.random_range(1..1000))
                }
                6 => format!("{}{}", first.to_lowercase(), rng.random_range(80..100)),
                _ => format!("{}{}", first, &last[..3.min(last.len())]),
            };
            let mut base: String = base.chars().take(15).collect();
            if rng.random_bool(0.7) {
                base = base.to_lowercase();
            }
            let mut username = base.clone();
            let mut n = 2;
            while !taken.insert(username.to_lowercase()) {
                let suffix = n.to_string();
                let keep = 15 - suffix.len();
                username = format!("{}{}", base.chars().take(keep).collect::<String>(), suffix);
                n += 1;
            }
            let name = match rng.random_range(0..6) {
                0 if !short.is_empty() => format!("Warga {short}"),
                1 => first.to_string(),
                2 if !short.is_empty() => format!("{first} | {short}"),
                _ => format!("{first} {last}"),
            };
            let (location, locatable) = if region == NO_REGION {
                if rng.random_bool(0.5) {
                    (String::new(), false)
                } else {
                    (one(rng, &templates().other_locations).to_string(), false)
                }
            } else {
                let r = &regions[region as usize];
                let u: f64 = rng.random();
                if u < 0.35 {
                    (r.short.clone(), true)
                } else if u < 0.50 {
                    (format!("{}, Jawa Tengah", r.short), true)
                } else if u < 0.60 {
                    (format!("{}, Indonesia", r.short), true)
                } else if u < 0.70 && !r.subdistricts.is_empty() {
                    (format!("{}, {}", pick(rng, &r.subdistricts), r.short), true)
                } else if u < 0.80 {
                    (pick(rng, &r.names).clone(), true)
                } else if u < 0.92 {
                    (String::new(), false)
                } else {
                    (one(rng, &templates().other_locations).to_string(), false)
                }
            };
            let id = if rng.random_bool(0.6) {
                100_000_000 + i as u64 * 1000 + rng.random_range(0..1000)
            } else {
                1_100_000_000_000_000_000 + i as u64 * 1_000_000 + rng.random_range(0..1_000_000)
            };
            let followers = (10.0 * (1.0 / (1.0 - rng.random::<f64>() * 0.999)).powf(1.2)) as u32;
            let idx = authors.len() as u32;
            if region == NO_REGION || !locatable {
                unknown_authors.push(idx);
            }
            if region != NO_REGION {
                regions[region as usize].authors.push(idx);
            }
            authors.push(Author {
                id,
                username,
                name,
                location,
                region,
                locatable,
                followers,
                verified: false,
            });
        }
        // One local news account per region.
        for (ri, r) in regions.iter_mut().enumerate() {
            let base: String = format!("info{}", tag_word(&r.short).to_lowercase())
                .chars()
                .take(13)
                .collect();
            let mut username = base.clone();
            let mut n = 2;
            while !taken.insert(username.to_lowercase()) {
                username = format!("{base}{n}");
                n += 1;
            }
            let idx = authors.len() as u32;
            r.info_account = idx;
            authors.push(Author {
                id: 1_300_000_000_000_000_000 + ri as u64 * 7_919,
                username,
                name: format!("Info {}", r.short),
                location: format!("{}, Jawa Tengah", r.short),
                region: ri as u16,
                locatable: true,
                followers: 20_000 + rng.random_range(0..200_000),
                verified: false,
            });
        }
        if unknown_authors.is_empty() {
            unknown_authors.push(0);
        }
        Tables {
            regions,
            region_cdf,
            topics,
            agencies,
            governor,
            channel,
            authors,
            unknown_authors,
            handle_ids,
            max_message_bytes: config.engine.kafka.max_message_bytes,
        }
    }

    pub(super) fn region_code(&self, region: u16) -> u16 {
        if region == NO_REGION {
            0
        } else {
            self.regions[region as usize].code
        }
    }

    /// Each topic's share of original tweets in a month (0 = January).
    pub(super) fn topic_share_in_month(&self, month: usize) -> Vec<f64> {
        let w: Vec<f64> = self
            .topics
            .iter()
            .map(|t| t.weight * t.season[month % 12])
            .collect();
        let total: f64 = w.iter().sum();
        if total <= 0.0 {
            return w;
        }
        w.iter()
            .map(|x| x / total * (1.0 - OFF_TOPIC_SHARE))
            .collect()
    }
}

/// The agency responsible for topic `k` in a region (None: unknown region),
/// chosen the way the engine routes: an agency of the topic covering exactly
/// this region, else the region's own government if the topic goes to
/// regions, else a province-wide agency of the topic, else the region's
/// government or the complaint channel. Agencies the engine could not
/// recognise as official (no handle and no user id) are passed over.
pub(super) fn route(config: &Config, k: usize, region: Option<&str>) -> Option<u16> {
    let topic = &config.topics[k];
    let usable = |i: &usize| {
        let a = &config.agencies[*i];
        !a.handles.is_empty() || !a.user_ids.is_empty()
    };
    let candidates: Vec<usize> = topic
        .agencies
        .iter()
        .filter_map(|id| config.agencies.iter().position(|a| &a.id == id))
        .filter(usable)
        .collect();
    let regional = region.and_then(|code| {
        config
            .agencies
            .iter()
            .position(|a| {
                a.kind == AgencyKind::Regional && a.regions.len() == 1 && a.regions[0] == code
            })
            .filter(usable)
    });
    if let Some(code) = region {
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| config.agencies[i].regions.iter().any(|r| r == code))
        {
            return Some(i as u16);
        }
        if topic.route_to_region {
            if let Some(i) = regional {
                return Some(i as u16);
            }
        }
    }
    if let Some(&i) = candidates
        .iter()
        .find(|&&i| config.agencies[i].regions.is_empty())
    {
        return Some(i as u16);
    }
    regional
        .or_else(|| {
            config
                .agencies
                .iter()
                .position(|a| a.kind == AgencyKind::Channel)
                .filter(usable)
        })
        .map(|i| i as u16)
}
