//! Search tests over a small index: the query language, fuzzy fallback,
//! highlights, relevance paging and the errors that say what to fix.

use super::highlight::within_distance;
use super::*;
use crate::config::Config;
use crate::enrich::Enricher;
use crate::index::{CommitPayload, Writer};
use crate::model::Tweet;

fn index(texts: &[&str]) -> (tempfile::TempDir, IndexHandle) {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::embedded().unwrap();
    let handle = IndexHandle::open(dir.path(), &config).unwrap();
    let enricher = Enricher::build(&config).unwrap();
    let mut writer = Writer::new(&handle, 50).unwrap();
    let mut toks = Vec::new();
    for (i, text) in texts.iter().enumerate() {
        let e = enricher.enrich(Tweet::hourly(i as u64 + 1, text), &mut toks);
        writer.add(&e, &toks, false).unwrap();
    }
    writer.commit(&CommitPayload::default()).unwrap();
    (dir, handle)
}

fn ids(h: &IndexHandle, q: &str) -> Vec<u64> {
    let filters = Filters {
        q: q.into(),
        ..Filters::default()
    };
    let r = h.search(&filters, Sort::Time, 100, None).unwrap();
    let mut ids: Vec<u64> = r.hits.iter().map(|h| h.id).collect();
    ids.sort_unstable();
    ids
}

fn check(h: &IndexHandle, q: &str, expected: &[u64]) {
    assert_eq!(ids(h, q), expected, "query `{q}`");
}

fn error(h: &IndexHandle, q: &str) -> String {
    let filters = Filters {
        q: q.into(),
        ..Filters::default()
    };
    match h.search(&filters, Sort::Relevance, 10, None) {
        Err(SearchError::BadRequest(m)) => m,
        Err(e) => panic!("query `{q}`: internal error {e}"),
        Ok(r) => panic!("query `{q}` should be refused, got {} hits", r.total),
    }
}

const CORPUS: &[&str] = &[
    /* 1 */ "Rumah kami kebanjiran lagi di Sayung, Demak",
    /* 2 */ "Banjir rob setinggi lutut di Kaligawe",
    /* 3 */ "Jalan rusak parah di Brebes, banyak lubang",
    /* 4 */ "Rusak jalan menuju pasar, tolong diperbaiki",
    /* 5 */ "Banyune munggah neng omahku #BanjirDemak",
    /* 6 */ "Dalane bolong-bolong @PemkabDemak tulung",
    /* 7 */ "Pungli di Samsat Brebes, STNK dimintai uang pelicin",
    /* 8 */ "Matlam lagi sejak sore, #PLN kapan nyala",
    /* 9 */ "Keluhan warga soal sampah tidak diangkut",
];

#[test]
fn words_are_analysed_and_phrases_are_exact() {
    let (_dir, h) = index(CORPUS);
    check(&h, "banjir", &[1, 2, 5]);
    check(&h, "kebanjiran", &[1, 2, 5]);
    check(&h, "banyu", &[5]);
    check(&h, "dalan", &[6]);
    check(&h, "#banjirdemak", &[5]);
    check(&h, "hashtag:BanjirDemak", &[5]);
    check(&h, "@pemkabdemak", &[6]);
    check(&h, "mati lampu", &[8]);
    check(&h, "\"mati lampu\"", &[]);
    check(&h, "\"matlam lagi\"", &[8]);
    check(&h, "\"jalan rusak\"", &[3]);
    check(&h, "jalan rusak", &[3, 4]);
    check(&h, "\"kebanjiran\"", &[1]);
    check(&h, "text:\"banjir lagi\"", &[1]);
    check(&h, "text:\"kebanjiran lagi\"", &[1]);
    check(&h, "mengeluh", &[9]);
    check(&h, "pungli AND samsat", &[7]);
    check(&h, "(pungli OR calo) samsat -stnk", &[]);
    check(&h, "banjir -rob", &[1, 5]);
    check(&h, "-banjir -rusak -jalan", &[6, 7, 8, 9]);
    check(&h, "banj*", &[2, 5]);
    check(&h, "kebanj*", &[1]);
    check(&h, "/keban.*/", &[1]);
    check(&h, "banjr~1", &[1, 2, 5]);
    check(&h, "region:brebes jalan", &[3]);
    check(&h, "topic:illegal_fees", &[7]);
    check(
        &h,
        "created_at:[2026-01-05 TO 2026-01-05]",
        &[1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    check(&h, "created_at:[* TO 2026-01-05T03:00:00Z}", &[1, 2]);
    check(&h, "id:[3 TO 4]", &[3, 4]);
    check(&h, "🙏 banjir", &[1, 2, 5]);
}

#[test]
fn a_misspelling_falls_back_to_fuzzy_and_says_so() {
    let (_dir, h) = index(CORPUS);
    let filters = Filters {
        q: "bnajir kaligawe".into(),
        ..Filters::default()
    };
    let r = h.search(&filters, Sort::Relevance, 10, None).unwrap();
    assert!(r.fuzzy);
    assert_eq!(r.hits.iter().map(|h| h.id).collect::<Vec<_>>(), [2]);
    assert!(
        r.hits[0].highlight.contains("<b>Banjir</b>"),
        "{:?}",
        r.hits[0]
    );
    let exact = Filters {
        q: "kaligawe".into(),
        ..Filters::default()
    };
    assert!(!h.search(&exact, Sort::Relevance, 10, None).unwrap().fuzzy);
}

#[test]
fn highlights_mark_every_form_of_the_word() {
    let (_dir, h) = index(CORPUS);
    let filters = Filters {
        q: "banjir".into(),
        ..Filters::default()
    };
    let r = h.search(&filters, Sort::Time, 10, None).unwrap();
    let by_id = |id| {
        r.hits
            .iter()
            .find(|h| h.id == id)
            .unwrap()
            .highlight
            .clone()
    };
    assert_eq!(
        by_id(1),
        "Rumah kami <b>kebanjiran</b> lagi di Sayung, Demak"
    );
    assert_eq!(by_id(5), "Banyune munggah neng omahku #<b>Banjir</b>Demak");
}

#[test]
fn relevance_pages_do_not_repeat_or_skip() {
    let texts: Vec<String> = (0..57)
        .map(|i| format!("banjir {} di kampung nomor {i}", "rob ".repeat(i % 5)))
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (_dir, h) = index(&refs);
    let filters = Filters {
        q: "banjir rob".into(),
        ..Filters::default()
    };
    let all = h.search(&filters, Sort::Relevance, 100, None).unwrap();
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let r = h
            .search(&filters, Sort::Relevance, 7, cursor.as_deref())
            .unwrap();
        paged.extend(r.hits.iter().map(|h| h.id));
        match r.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(paged, all.hits.iter().map(|h| h.id).collect::<Vec<_>>());
    assert_eq!(paged.len() as u64, all.total);
}

#[test]
fn bad_queries_say_what_to_fix() {
    let (_dir, h) = index(CORPUS);
    for (q, says) in [
        ("\"banjir demak", "unbalanced quotes"),
        ("(banjir OR rob", "unbalanced parentheses"),
        ("banjir)", "unbalanced parentheses"),
        ("kota:semarang", "unknown field `kota`"),
        ("topic:floods", "unknown topic `floods`"),
        ("region:atlantis", "unknown region `atlantis`"),
        ("region:semarang", "ambiguous"),
        ("lang:fr", "unknown language `fr`"),
        ("created_at:kemarin", "`kemarin` is not a date"),
        ("created_at:[2026-01-01 TO besok]", "`besok` is not a date"),
        ("banjir~3", "`~1` or `~2`"),
        ("b*", "too short a prefix"),
        ("[1 TO 5]", "a range needs a field"),
        ("topic:[a TO b]", "no ranges"),
        ("banjir^5000", "boost"),
        ("/ba[/", "not a regular expression"),
        ("banjir AND", "syntax error"),
    ] {
        let msg = error(&h, q);
        assert!(msg.contains(says), "`{q}`: `{msg}` should say `{says}`");
    }
    let deep = format!("{}banjir{}", "(".repeat(40), ")".repeat(40));
    assert!(error(&h, &deep).contains("nests parentheses 40 deep"));
    let long = "banjir ".repeat(400);
    assert!(error(&h, &long).contains("bytes long"));
    let many: String = (0..100).map(|i| format!("kata{i} ")).collect();
    assert!(error(&h, &many).contains("more than 64"));
    let fuzzy: String = (0..9).map(|i| format!("kata{i}~1 ")).collect();
    assert!(error(&h, &fuzzy).contains("fuzzy words"));
}

#[test]
fn edit_distance_counts_swaps_as_one() {
    assert!(within_distance("banjir", "banjr", 1));
    assert!(within_distance("banjir", "bnajir", 1));
    assert!(!within_distance("banjir", "bnajr", 1));
    assert!(within_distance("banjir", "bnajr", 2));
    assert!(!within_distance("rob", "banjir", 2));
}

#[test]
fn snapshots_belong_to_their_index_and_its_clones() {
    let (_a_dir, a) = index(CORPUS);
    let (_b_dir, b) = index(CORPUS);
    let searcher = a.reader.searcher();
    let key = a.snapshots.pin(&searcher);
    assert_eq!(
        a.snapshots.pin(&searcher),
        key,
        "one snapshot per generation"
    );
    assert!(a.clone().snapshots.get(key).is_some());
    assert!(b.snapshots.get(key).is_none());
}
