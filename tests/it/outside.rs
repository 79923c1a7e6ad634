//! Tweets about places outside Central Java: indexed and searchable as
//! `outside`, but a flood of them fires no Central Java alert, regional or
//! province-wide, while the same flood in a Central Java regency does.

use std::collections::BTreeSet;

use kemala::gen::{GenOptions, Generator, Truth};
use serde_json::{json, Value};

use crate::common::{counter, produce_all};
use crate::engine::InProc;

const HOUR_MS: i64 = 3_600_000;
/// Spike tweets' ids and authors start here, far from the generator's.
const SPIKE_ID: u64 = 990_000_000_000;
const SPIKE_TWEETS: u64 = 240;

/// Where a spike happens: areas named in the text, a Twitter place and a
/// point in it.
struct Area {
    names: [&'static str; 4],
    place: &'static str,
    bbox: [f64; 4],
    point: (f64, f64),
}

const JAKARTA: Area = Area {
    names: [
        "Cilincing, Jakarta Utara",
        "Kelapa Gading, Jakarta Utara",
        "Penjaringan, Jakarta Utara",
        "Muara Angke, Jakarta Utara",
    ],
    place: "Jakarta Utara, DKI Jakarta",
    bbox: [106.69, -6.18, 106.97, -6.08],
    point: (106.8945, -6.1322),
};

const DEMAK: Area = Area {
    names: [
        "Sayung, Demak",
        "Karangtengah, Demak",
        "Bonang, Demak",
        "Wedung, Demak",
    ],
    place: "Kabupaten Demak, Indonesia",
    bbox: [110.45, -7.1, 110.75, -6.75],
    point: (110.5093, -6.9286),
};

/// Two quiet days of generated traffic from the detector's warm-up on,
/// with no bursts of its own, as (payload, event time).
fn background(until_hours: i64) -> Vec<(Vec<u8>, i64)> {
    let config = kemala::config::Config::embedded().unwrap();
    let opts = GenOptions {
        malformed_ratio: 0.0,
        mean_tweets_per_hour: 1000.0,
        bursts: Vec::new(),
        ..GenOptions::default()
    };
    let end = opts.start_ms + until_hours * HOUR_MS;
    Generator::new(&config, opts)
        .map_while(|g| match g.truth {
            Truth::Tweet { created_at_ms, .. } if created_at_ms <= end => {
                Some(Some((g.payload, created_at_ms)))
            }
            Truth::Tweet { .. } => None,
            Truth::Malformed { .. } => Some(None),
        })
        .flatten()
        .collect()
}

/// A flood: `SPIKE_TWEETS` complaints by distinct residents over 40
/// minutes from `at_ms`, each naming the area; a third also carry the
/// Twitter place, a third coordinates in it.
fn flood(area: &Area, at_ms: i64) -> Vec<(Vec<u8>, i64)> {
    (0..SPIKE_TWEETS)
        .map(|i| {
            let id = SPIKE_ID + i;
            let created = at_ms + i as i64 * 10_000;
            let text = format!(
                "Banjir masuk rumah di {}, air sudah sepinggang, mohon bantuan evakuasi #KemalaJateng",
                area.names[i as usize % area.names.len()]
            );
            let mut data = json!({
                "id": id.to_string(),
                "text": text,
                "author_id": id.to_string(),
                "created_at": kemala::timestamp::rfc3339(created),
                "lang": "in",
                "entities": {"hashtags": [{"tag": "KemalaJateng"}]},
            });
            let mut includes = json!({"users": [{"id": id.to_string(), "username": format!("warga{i}")}]});
            match i % 3 {
                1 => {
                    data["geo"] = json!({"place_id": "p1"});
                    includes["places"] = json!([{
                        "id": "p1", "full_name": area.place,
                        "geo": {"type": "Feature", "bbox": area.bbox, "properties": {}},
                    }]);
                }
                2 => {
                    data["geo"] = json!({"coordinates": {"type": "Point", "coordinates": [area.point.0, area.point.1]}});
                }
                _ => {}
            }
            let payload = serde_json::to_vec(&json!({"data": data, "includes": includes})).unwrap();
            (payload, created)
        })
        .collect()
}

/// Runs the background with a flood in `area` at 26 h through an engine and
/// returns it once every decision up to the end of the feed is made.
fn run(area: &Area) -> InProc {
    let start = GenOptions::default().start_ms;
    let mut feed = background(28);
    feed.extend(flood(area, start + 26 * HOUR_MS));
    // In event-time order, as a live feed would be: a partition that had
    // moved past the flood's minutes would count it late.
    feed.sort_by_key(|(_, t)| *t);
    let end_ms = feed.iter().map(|(_, t)| *t).max().unwrap();
    let e = InProc::start(16, |_| {});
    let n = produce_all(&e.bootstrap(), "tweets", feed.into_iter().map(|(p, _)| p)) as u64;
    e.wait_settled(n, end_ms);
    e
}

fn flood_alerts(e: &InProc) -> Vec<Value> {
    e.get("/api/alerts?state=all")
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "spike" && a["topic"] == "flood")
        .cloned()
        .collect()
}

#[test]
fn a_flood_in_jakarta_fires_no_central_java_alert_and_the_same_in_demak_does() {
    // In Kab. Demak, the flood fires its regency's alert and the
    // province-wide one: it is big enough for both.
    let demak = run(&DEMAK);
    let fired = flood_alerts(&demak);
    let regions: BTreeSet<String> = fired
        .iter()
        .map(|a| a["region"]["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        regions.contains("3321") && regions.contains("jateng"),
        "the flood in Demak should fire Demak's alert and `jateng`: {fired:#?}"
    );
    drop(demak);

    // The same flood in Jakarta: no flood alert at all, not Demak's, not
    // any regency's, not the province-wide `jateng` one.
    let jakarta = run(&JAKARTA);
    let fired = flood_alerts(&jakarta);
    assert!(fired.is_empty(), "a flood outside fired: {fired:#?}");

    // Yet every tweet of it is indexed, searchable as `outside`, a flood
    // complaint routed to no agency.
    let hits = jakarta.get("/api/search?region=outside&topic=flood&complaint=true&limit=400");
    let ids: BTreeSet<u64> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().parse().unwrap())
        .collect();
    let spike: BTreeSet<u64> = (SPIKE_ID..SPIKE_ID + SPIKE_TWEETS).collect();
    assert!(
        spike.is_subset(&ids),
        "spike tweets missing from region=outside: {:?}",
        spike.difference(&ids).collect::<Vec<_>>()
    );
    for h in hits["hits"].as_array().unwrap() {
        assert_eq!(
            h["region"],
            json!({"code": "outside", "name": "Luar Jawa Tengah"})
        );
        assert!(h["agency"].is_null(), "{h}");
    }
    // The filter and the query syntax agree.
    let by_filter = jakarta.get("/api/search?region=outside&topic=flood&limit=1");
    let by_query = jakarta.get("/api/search?q=region:outside%20AND%20topic:flood&limit=1");
    assert_eq!(by_query["total"], by_filter["total"]);
    assert!(hits["facets"]["region"]["outside"].as_u64().unwrap() >= SPIKE_TWEETS);
    let meta = jakarta.get("/api/meta");
    assert!(meta["regions"]
        .as_array()
        .unwrap()
        .contains(&json!({"code": "outside", "name": "Luar Jawa Tengah", "slug": "outside"})));
    let m = jakarta.metrics();
    assert!(
        counter(
            &m,
            "kemala_complaints_total{region=\"outside\",topic=\"flood\"}"
        ) >= SPIKE_TWEETS as f64
    );
}
