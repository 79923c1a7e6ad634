//! What enrichment concludes about real phrasings: the examples of text
//! that nobody on this project wrote, each with what a person would say.

use super::*;
use crate::config::Config;
use crate::model::{Mention, Tweet};

fn enricher() -> &'static Enricher {
    static E: std::sync::OnceLock<Enricher> = std::sync::OnceLock::new();
    E.get_or_init(|| Enricher::build(&Config::embedded().unwrap()).unwrap())
}

fn tweet(text: &str) -> Tweet {
    let words = |sigil: char| -> Vec<String> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == sigil))
            .filter_map(|w| w.strip_prefix(sigil))
            .filter(|w| !w.is_empty())
            .map(String::from)
            .collect()
    };
    Tweet {
        id: 1,
        text: text.to_string(),
        created_at_ms: 1_767_600_000_000,
        author_id: "42".into(),
        author_username: "warga".into(),
        mentions: words('@')
            .into_iter()
            .map(|username| Mention { username, id: None })
            .collect(),
        hashtags: words('#'),
        ..Tweet::default()
    }
}

/// What is wrong with enrichment's reading of `text`, if anything: a
/// missing topic (all of `topics` must be there), a wrong one (none of
/// `not`), or the complaint decision, when given.
fn wrong(text: &str, topics: &[&str], not: &[&str], complaint: Option<bool>) -> Option<String> {
    let e = enricher();
    let mut toks = Vec::new();
    let out = e.enrich(tweet(text), &mut toks);
    let got: Vec<&str> = out
        .topics
        .iter()
        .map(|t| e.topic_ids[t.0 as usize].as_str())
        .collect();
    let missing: Vec<&&str> = topics.iter().filter(|t| !got.contains(t)).collect();
    let extra: Vec<&&str> = not.iter().filter(|t| got.contains(t)).collect();
    let complaint_wrong = complaint.is_some_and(|c| c != out.is_complaint);
    (!missing.is_empty() || !extra.is_empty() || complaint_wrong).then(|| {
        format!(
            "{text:?}: topics {got:?} (missing {missing:?}, wrong {extra:?}), complaint {}",
            out.is_complaint
        )
    })
}

/// A text, the topics it must get, the topics it must not get, and the
/// complaint decision when it matters.
type Case<'a> = (&'a str, &'a [&'a str], &'a [&'a str], Option<bool>);

/// Checks every case and fails listing all that are wrong.
fn check_all(cases: &[Case]) {
    let failures: Vec<String> = cases
        .iter()
        .filter_map(|(text, topics, not, complaint)| wrong(text, topics, not, *complaint))
        .collect();
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn flood_reports_without_the_word_or_with_it_mangled() {
    let flood: &[&str] = &["flood"];
    check_all(&[
        ("Banjirrrrrrr di kampung duri", flood, &[], None),
        ("#banjirkiriman masuk lagi", flood, &[], None),
        ("#drainaseburuk air setinggi betis", flood, &[], None),
        ("#lautpasang di pesisir utara", flood, &[], None),
        ("re martadinata sblm ancom msh trgenang", flood, &[], None),
        ("Ada yg sudah masuk ke dalam rumah", flood, &[], None),
        ("Masih semata kaki!", flood, &[], None),
        (
            "air makin tinggi di jembatan besi raya, motor mogok udah hampir tenggelam",
            flood,
            &[],
            None,
        ),
        (
            "Citra 1 blok c garasi sudah segini di luar hampir sampai lutut",
            flood,
            &[],
            None,
        ),
    ]);
}

#[test]
fn kinds_of_complaint_that_had_no_topic() {
    check_all(&[
        (
            "Kami keluarga miskin tapi tidak pernah dapat PKH maupun BPNT, yang mampu malah dapat",
            &["social_aid"],
            &[],
            None,
        ),
        (
            "BLT dana desa belum cair padahal sudah terdaftar di DTKS",
            &["social_aid"],
            &[],
            None,
        ),
        (
            "KIS PBI saya dinonaktifkan tanpa pemberitahuan, bansos juga tidak dapat",
            &["social_aid"],
            &[],
            None,
        ),
        (
            "Gaji bulan ini belum dibayar, THR juga tidak ada, upah di bawah UMK",
            &["labour"],
            &[],
            None,
        ),
        (
            "@LaporGub sudah 3 bulan di PHK sepihak tanpa pesangon, mohon Disnaker turun tangan",
            &["labour"],
            &[],
            Some(true),
        ),
        (
            "Pengajuan bedah rumah RTLH kami sudah 2 tahun tidak ada kabar",
            &["housing"],
            &[],
            None,
        ),
        (
            "Developer perumahan subsidi belum serah terima fasum, jalan perumahan rusak",
            &["housing"],
            &[],
            None,
        ),
        (
            "Sertifikat tanah PTSL kami belum jadi padahal sudah bayar ke panitia",
            &["land_permits"],
            &[],
            None,
        ),
        (
            "Bangunan tanpa izin (IMB/PBG) berdiri di atas saluran, kok dibiarkan",
            &["land_permits"],
            &[],
            None,
        ),
        (
            "Petugas bagian informasi rumah sakit judes sekali, ditanya malah dibentak",
            &["public_service"],
            &[],
            None,
        ),
        (
            "@PemkotSmg pelayanan di kelurahan lambat sekali, petugasnya tidak ada di tempat dari pagi",
            &["public_service"],
            &[],
            Some(true),
        ),
    ]);
}

#[test]
fn figurative_uses_are_not_topics() {
    check_all(&[
        (
            "otakku macet kalau disuruh ngitung",
            &[],
            &["traffic"],
            None,
        ),
        (
            "dia langsung kebakaran jenggot waktu ditanya",
            &[],
            &["fire"],
            None,
        ),
        ("kerja keras demi sesuap nasi", &[], &["illegal_fees"], None),
    ]);
}

#[test]
fn hopes_thanks_and_status_updates_keep_their_topic_but_are_not_complaints() {
    check_all(&[
        (
            "semoga tidak banjir lagi tahun ini",
            &["flood"],
            &[],
            Some(false),
        ),
        (
            "terima kasih pak, jalannya sudah diperbaiki",
            &["road_damage"],
            &[],
            Some(false),
        ),
        (
            "alhamdulillah sudah mulai surut",
            &["flood"],
            &[],
            Some(false),
        ),
    ]);
}

#[test]
fn a_complaint_outside_is_still_a_complaint_but_routed_to_no_agency() {
    let config = Config::embedded().unwrap();
    let e = enricher();
    let mut toks = Vec::new();
    let agency = |a: Option<AgencyId>| a.map(|a| config.agencies[a.0 as usize].id.as_str());
    let inside = e.enrich(
        tweet("Banjir di Demak sudah sepinggang, tolong evakuasi warga #KemalaJateng"),
        &mut toks,
    );
    assert_eq!(inside.region, RegionCode(3321));
    assert!(inside.is_complaint);
    assert!(agency(inside.agency).is_some());
    let outside = e.enrich(
        tweet("Banjir di Jakarta Utara sudah sepinggang, tolong evakuasi warga #KemalaJateng"),
        &mut toks,
    );
    assert_eq!(outside.region, RegionCode::OUTSIDE);
    assert!(
        outside.is_complaint,
        "still a complaint, and searchable as one"
    );
    assert_eq!(agency(outside.agency), None);
    assert_eq!(outside.topics, inside.topics);
    assert_eq!(e.route(&inside.topics, RegionCode::OUTSIDE), None);
    // Unknown stays unknown, and goes to the province's channel.
    let unknown = e.enrich(
        tweet("Banjir sudah sepinggang, tolong evakuasi warga #KemalaJateng"),
        &mut toks,
    );
    assert_eq!(unknown.region, RegionCode::UNKNOWN);
    assert!(agency(unknown.agency).is_some());
}

/// Regression: a v2 payload without hashtag entities still says
/// #KemalaJateng in its text, and the tweet is addressed all the same.
#[test]
fn the_complaint_hashtag_counts_in_the_text_without_entities() {
    let e = enricher();
    let mut toks = Vec::new();
    let text = "Jalan rusak parah di Kaligawe Semarang, banyak lubang, mohon segera diperbaiki #KemalaJateng";
    let mut t = tweet(text);
    t.hashtags.clear();
    let out = e.enrich(t, &mut toks);
    assert!(out.is_complaint, "{text}");
    assert!(out.agency.is_some(), "{text}");
    let mut t = tweet("hujan deras di Semarang #KemalaJatengKeren");
    t.hashtags.clear();
    assert!(!carries_complaint_hashtag(&t));
}
