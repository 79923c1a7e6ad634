use super::*;

fn check(text: &str, expected_terms: &[&str]) {
    let mut toks = Vec::new();
    analyzer().analyse(text, &mut toks);
    let terms: Vec<&str> = toks.iter().map(|t| t.term.as_str()).collect();
    assert_eq!(terms, expected_terms, "analysing {text:?}");
}

/// The term one word gets alone.
fn term(word: &str) -> String {
    analyzer().terms(word).join(" ")
}

#[test]
fn affixes_slang_and_tags() {
    check("Kebanjiran lagi!", &["banjir", "lagi"]);
    check(
        "keluhan sekolah penanganan",
        &["keluh", "sekolah", "tangan"],
    );
    check(
        "jln rusak gk diperbaiki",
        &["jalan", "rusak", "tidak", "baik"],
    );
    check(
        "#BanjirDemak @PemkotSmg",
        &["#banjirdemak", "banjir", "demak", "@pemkotsmg"],
    );
    check("#Banjir lagi", &["#banjir", "banjir", "lagi"]);
    check(
        "dalane bolong https://t.co/xyz banyune",
        &["dalan", "bolong", "banyu"],
    );
    check("tergenang", &["genang"]);
    check("lights", &["lampu", "lampu"]);
    check("sampah gk diangkut2", &["sampah", "tidak", "angkut"]);
}

/// Regression: inflections of one complaint word must meet at one term,
/// and roots must not lose letters (the stemmer alone fails each group).
#[test]
fn inflections_meet_their_root() {
    for group in [
        &["keluhan", "mengeluh", "dikeluhkan", "keluhannya"][..],
        &["penanganan", "ditangani", "tangani"],
        &["menunggu", "ditunggu", "nunggu", "tunggu"],
        &["pelayanan", "dilayani", "pelayanannya"],
        &["pengaduan", "aduan", "mengadu"],
        &["tindakan", "tindak"],
        &["sekolah", "sekolahnya", "sekolahe"],
        &["terima", "diterima"],
        &["menumpuk", "numpuk", "tumpuk"],
        &["kebanjiran", "banjir", "banjirnya", "dibanjiri"],
        &["tergenang", "genangan", "menggenang"],
        &["sungai", "sungainya"],
        &["kendaraan", "berkendara", "pengendara"],
    ] {
        let want = term(group[0]);
        for w in group {
            assert_eq!(term(w), want, "{w} should meet {}", group[0]);
        }
    }
    for root in [
        "terima", "kemarin", "sungai", "pantai", "jembatan", "terminal",
    ] {
        assert_eq!(term(root), root);
    }
    assert_ne!(
        term("kebakaran"),
        term("bakar"),
        "fire is not burning rubbish"
    );
}

/// Regression: a hashtag whose lowercase is longer than itself (`İ`
/// lowercases to two characters) is one word, not a slice out of bounds.
#[test]
fn hashtags_that_grow_when_lowercased_stay_whole() {
    let mut toks = Vec::new();
    for text in ["NOTe-ktp\u{202e}#İ", "#İstanbulbanjir"] {
        analyzer().analyse(text, &mut toks);
        let tag = text.rsplit('#').next().unwrap();
        assert!(
            toks.iter()
                .any(|t| t.kind == TokenKind::Word && t.raw == tag.to_lowercase()),
            "{text}: {toks:?}"
        );
    }
}

/// Regression: real tweets stretch words, drop vowels and glue words
/// into hashtags; each must still meet the word it means.
#[test]
fn stretched_vowel_dropped_and_glued_words_meet_their_word() {
    for (written, meant) in [
        ("Banjirrrrrrr", "banjir"),
        ("parahhhh", "parah"),
        ("maaaaaf", "maaf"),
        ("trgenang", "tergenang"),
        ("sblmnya", "sebelumnya"),
        ("jkrta", "jakarta"),
        ("bnjir", "banjir"),
    ] {
        assert_eq!(term(written), term(meant), "{written}");
    }
    // Acronyms and known words are left as they are.
    for word in ["thr", "smkn", "psis", "umk", "rob", "got", "banjir"] {
        assert_eq!(analyzer().normalise(word), None, "{word}");
    }
    check(
        "#banjirkiriman #drainaseburuk #lautpasang",
        &[
            "#banjirkiriman",
            "banjir",
            "kirim",
            "#drainaseburuk",
            "drainase",
            "buruk",
            "#lautpasang",
            "laut",
            "pasang",
        ],
    );
    // A tag that is a word, or cannot be split into known words, stays whole.
    let whole = term("kemalajateng");
    check("#kemalajateng", &["#kemalajateng", &whole]);
}

#[test]
fn javanese_suffixes_fold_onto_known_bases() {
    for (word, base) in [
        ("dalane", "dalan"),
        ("banyune", "banyu"),
        ("toyanipun", "toya"),
        ("marginipun", "margi"),
        ("omahipun", "rumah"),
        ("omahku", "rumah"),
        ("omah", "rumah"),
        ("kaline", "kali"),
        ("lampune", "lampu"),
        ("uwuhe", "uwuh"),
    ] {
        assert_eq!(term(word), term(base), "{word}");
    }
    // Only known bases: an Indonesian word ending in -e or -ku is left alone.
    assert_eq!(term("sate"), "sate");
    assert_eq!(term("buku"), "buku");
}

#[test]
fn exact_tokens_keep_the_surface_once_per_word() {
    let mut toks = Vec::new();
    analyzer().analyse("Matlam lagi di #BanjirDemak", &mut toks);
    let exact: Vec<(String, usize)> = exact_tokens(&toks)
        .into_iter()
        .map(|t| (t.term, t.position))
        .collect();
    let want = [
        ("matlam", 0),
        ("lagi", 1),
        ("di", 2),
        ("#banjirdemak", 3),
        ("banjir", 4),
        ("demak", 5),
    ];
    assert_eq!(
        exact,
        want.map(|(t, p)| (t.to_string(), p)).to_vec(),
        "{toks:?}"
    );
}

#[test]
fn offsets_point_into_the_text() {
    let text = "Jalan Kaligawe rusak, #KemalaJateng";
    let mut toks = Vec::new();
    analyzer().analyse(text, &mut toks);
    assert_eq!(&text[toks[1].from..toks[1].to], "Kaligawe");
    assert!(toks[1].capitalised);
    assert_eq!(&text[toks[3].from..toks[3].to], "#KemalaJateng");
}
