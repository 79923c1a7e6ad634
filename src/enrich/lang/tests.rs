//! The language detector's tests: labelled examples per language, code
//! mixing, Malay evidence, short and non-Latin texts.

use super::*;

const SU: usize = 3;

/// The last 100 rows of each file: never trained or tuned on.
fn held_out() -> [Vec<String>; K] {
    std::array::from_fn(|c| csv_texts(CORPUS[c]).split_off(TRAIN_ROWS))
}

#[test]
fn held_out_accuracy_meets_targets() {
    let detector = LanguageDetector::new();
    let mut accuracy = [0f64; K];
    for (c, texts) in held_out().iter().enumerate() {
        assert_eq!(texts.len(), 100, "held-out split must be 100 rows");
        let hits = texts
            .iter()
            .filter(|t| detector.detect(t) == CLASSES[c])
            .count();
        accuracy[c] = hits as f64 / texts.len() as f64;
    }
    let (fast, fallback) = detector.stats();
    eprintln!(
        "held-out accuracy id {:.2} jv {:.2} en {:.2} su {:.2}; fast path {fast}, lingua {fallback}",
        accuracy[ID], accuracy[JV], accuracy[EN], accuracy[SU]
    );
    assert!(accuracy[ID] >= 0.95, "indonesian accuracy {}", accuracy[ID]);
    assert!(accuracy[EN] >= 0.98, "english accuracy {}", accuracy[EN]);
    assert!(accuracy[JV] >= 0.85, "javanese accuracy {}", accuracy[JV]);
}

/// Tweets in the style of the stream, written for this test (none from NusaX); with
/// cross-validation they guided the lexicons, the cue bonus and the Indonesian prior.
#[test]
fn realistic_tweets() {
    let detector = LanguageDetector::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut check = |text: &str, expected: Lang| {
        checked += 1;
        let got = detector.detect(text);
        if got != expected {
            failures.push(format!("{text:?}: expected {expected:?}, got {got:?}"));
        }
    };
    // Indonesian, including slang, English loanwords and text that is all noise.
    for text in [
        "Banjir rob lagi di Sayung, air sudah sedengkul, tolong @bpbdjateng #KemalaJateng",
        "@ganjarpranowo Jalan Kaligawe rusak parah, banyak jeglongan, mohon segera diperbaiki pak #KemalaJateng",
        "Mohon maaf pak, lampu jalan di depan rumah saya mati sudah seminggu",
        "udh 3 hari sampah gak diangkut, bau bgt sampe ke dalam rumah @DLHSemarang",
        "Min, kenapa air PDAM di Tembalang mati terus ya? Udah dari kemarin gak ngalir",
        "Lampu merah di perempatan Bangkong mati, macet parah nih",
        "tolong dong jalan di Ungaran berlubang, bahaya bgt buat pengendara motor apalagi kalau hujan",
        "Pelayanan di puskesmas lambat sekali, antri dari jam 7 pagi belum dipanggil",
        "Listrik padam lagi di Kudus, sudah tiga kali minggu ini. PLN tolong diperhatikan",
        "Ada pohon tumbang di Jl. Pahlawan, menutup separuh jalan, mohon segera ditangani",
        "Parkir liar di depan Pasar Johar bikin macet, petugas kemana?",
        "Kok bisa sih drainase di Genuk mampet terus, tiap hujan pasti banjir",
        "Pak Gubernur, tolong perhatikan jalan provinsi Purwodadi-Semarang, rusaknya parah",
        "Sinyal internet di desa kami susah banget, anak-anak susah sekolah online",
        "Terima kasih pak, jalannya sudah diperbaiki dengan cepat",
        "Bus Trans Semarang koridor 2 telat terus, nunggu hampir sejam",
        "Sampah menumpuk di sungai Banjir Kanal Barat, airnya jadi hitam dan bau",
        "Kenapa pengurusan KTP di Disdukcapil lama banget, udah sebulan belum jadi",
        "Ada kebocoran pipa air di Jalan Majapahit, airnya muncrat ke jalan",
        "tolong ditindak, truk overload lewat jalan kampung tiap malam, jalan jadi rusak",
        "Rob makin tinggi di Tambak Lorok, warga butuh bantuan",
        "jalan licin banget habis hujan, hati-hati ya gaes",
        "Mohon info, apakah jalur Semarang-Solo via tol sudah bisa dilewati?",
        "Pompa air di Kali Semarang kapan diperbaiki? Warga sudah capek kebanjiran",
        "Sudah lapor ke kelurahan tapi tidak ada tindak lanjut sama sekali",
        "saya mau komplain soal tagihan listrik yang naik drastis bulan ini",
        "Aplikasi online untuk lapor pengaduan error terus, sudah di-update tapi tetap force close",
        "Website pemkot down lagi, gimana mau daftar online",
        "Sorry min, mau tanya, layanan call center 112 aktif 24 jam kan?",
        "RT @infosemarang: Jembatan di Mijen ambruk, warga diminta cari jalan lain https://t.co/xyz",
        "macet parah",
        "banjir lagi",
        "mati lampu",
        "tolong pak",
        "jalan rusak",
        "OTW Simpang Lima, jalan ditutup",
        "siap pak",
        "wkwkwk",
        "update dong min",
        "stay safe semua",
        "hotline nya gak bisa dihubungi",
        "kapan diperbaiki?",
        "Jalannnn rusaaak parahhh, tolonggg",
        "#banjir",
        "",
        "@bpbdjateng #KemalaJateng",
        "😡😡😡 https://t.co/abc123 12345",
    ] {
        check(text, Lang::Id);
    }
    // Javanese (ngoko, krama, Banyumasan), and Indonesian content words with Javanese grammar.
    for text in [
        "dalane rusak parah pak, wis pirang-pirang sasi ora didandani",
        "banyu ora mili wis telung dina, piye iki PDAM",
        "Pak, lampu dalan ing ngarep omahku mati wis seminggu, nyuwun tulung didandani",
        "sampahe numpuk ra diangkut-angkut, mambu tenan",
        "kok banjir meneh to, saben udan mesti kebanjiran",
        "inyong wis lapor ping telu tapi ora ana sing nanggapi",
        "Kepriwe kiye dalan nang Purwokerto rusak kabeh, rika ora isin apa?",
        "Matur nuwun pak, dalane sampun dipun dandosi",
        "Nyuwun sewu, menapa PDAM saged dipun tindak lanjuti? Toyanipun mboten mili",
        "listrik mati meneh, kapan iki arep urip",
        "macet tenan neng Kaligawe, ra obah babar pisan",
        "wis jam sepuluh bis e durung teko",
        "Ngapunten pak, dalan teng Boyolali kathah ingkang bolong",
        "lha piye jal, got mampet kabeh, banyune mlebu omah",
        "aku wis antri suwe banget neng puskesmas ning durung dipanggil",
        "kuwi lho pak, wit tumbang nutupi dalan",
        "ojo mung janji tok pak, buktikan",
        "jalane rusak parah, ora tau didandani",
        "jalan di depan SD rusak parah, wis dilaporke ping bola bali ora digubris",
        "pak tolong lampu jalan mati, wis seminggu ora urip",
        "air PDAM ora mili, piye iki pak",
        "sampah numpuk di pinggir jalan, ora ana sing ngangkut",
        "piye iki",
        "ora mili",
        "matur nuwun",
        "suwun pak",
    ] {
        check(text, Lang::Jv);
    }
    // English, including Indonesian place names.
    for text in [
        "The road near Simpang Lima is flooded again, please help",
        "Power outage in Banyumanik since this morning, any update @pln_123?",
        "Huge pothole on Jalan Pemuda, almost fell off my motorbike",
        "Why is the water supply in Tembalang still off? It's been three days",
        "Traffic jam at Kaligawe is terrible, the road is still under water",
        "Garbage has not been collected in our street for a week",
        "Thank you for fixing the streetlight so quickly!",
        "Is the toll road from Semarang to Solo open today?",
        "Flood again in Genuk, the drainage is clogged",
        "Please repair the bridge in Demak before someone gets hurt",
        "Kota Lama is beautiful but the parking is a mess",
        "the bus was late again",
        "no water",
        "help please",
        "please fix it",
        "when will it be fixed?",
        "flood in Demak",
        "thanks pak",
    ] {
        check(text, Lang::En);
    }
    // Sundanese.
    for text in [
        "Jalan di Brebes ruksak pisan, teu acan dibenerkeun",
        "Cai PDAM teu ngocor tos tilu dinten",
        "Punten pa, lampu jalan di payuneun bumi abdi pareum",
        "hatur nuhun pa, jalanna tos dibenerkeun",
        "kumaha ieu teh, banjir deui wae",
        "sampah numpuk teu diangkut, bau pisan",
    ] {
        check(text, Lang::Su);
    }
    // Malay needs Malaysian-only vocabulary on top of lingua's verdict.
    for text in [
        "Kenapa jalan ni rosak teruk sangat, kerajaan tak nak baiki ke?",
        "Saya nak tanya, bila bas akan sampai? Dah sejam tunggu kat sini",
        "Terima kasih kerana membantu, awak memang terbaik",
    ] {
        check(text, Lang::Ms);
    }
    // Other scripts.
    for text in ["道路被淹了，请帮忙", "الطريق مغلق بسبب الفيضان"] {
        check(text, Lang::Other);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let (fast, fallback) = detector.stats();
    assert_eq!(fast + fallback, checked);
}

#[test]
fn codes_round_trip() {
    for lang in Lang::ALL {
        assert_eq!(Lang::from_code(lang.code()), Some(lang));
    }
    assert_eq!(Lang::from_code("in"), Some(Lang::Id));
    assert_eq!(Lang::from_code(" ID "), Some(Lang::Id));
    assert_eq!(Lang::from_code("jw"), Some(Lang::Jv));
    assert_eq!(Lang::from_code("xx"), None);
    assert_eq!(Lang::from_code(""), None);
}

#[test]
fn serde_uses_lowercase_names() {
    assert_eq!(
        serde_json::to_string(&Lang::Jv).expect("serialize"),
        "\"jv\""
    );
    assert_eq!(
        serde_json::to_string(&Lang::Other).expect("serialize"),
        "\"other\""
    );
    let parsed: Vec<Lang> =
        serde_json::from_str(r#"["id","in","en","und","ms"]"#).expect("deserialize");
    assert_eq!(
        parsed,
        [Lang::Id, Lang::Id, Lang::En, Lang::Other, Lang::Ms]
    );
}

#[test]
fn csv_reader_handles_quoting() {
    let data =
        "id,text,label\r\n1,plain,neutral\r\n2,\"a, \"\"quoted\"\"\nline\",positive\n3,,negative";
    assert_eq!(csv_texts(data), ["plain", "a, \"quoted\"\nline", ""]);
    for data in CORPUS {
        let texts = csv_texts(data);
        assert_eq!(texts.len(), 500);
        assert!(texts.iter().all(|t| !t.is_empty()));
    }
}

#[test]
fn cleaning_keeps_only_language() {
    let cleaned = clean(
        "RT @bpbd: Jalannnn RUSAK!!! 😡 cek https://t.co/x www.x.id pic.twitter.com/a #KemalaJateng don't 12km",
    );
    assert_eq!(cleaned.text, "jalan rusak cek don't km");
    assert_eq!(clean("#BanjirSemarang @bpbd").text, "banjirsemarang");
    assert_eq!(clean("sampéyan").text, "sampeyan");
    assert_eq!(clean(&"a".repeat(500)).text, "a");
    assert_eq!(clean(&"ab".repeat(100)).text, "");
}

#[test]
fn odd_input_never_panics() {
    let detector = LanguageDetector::new();
    let long_word = "x".repeat(10_000);
    let long_text = "jalan rusak ".repeat(2_000);
    for text in [
        "",
        "   ",
        "😡😡😡",
        "12345 67890",
        "@a @b #c",
        "' ' ' -- ''",
        "\u{0}\u{7}\t\r\n",
        long_word.as_str(),
        long_text.as_str(),
        "ẞ ǅ ﬀ İ",
        "道路 jalan",
    ] {
        let _ = detector.detect(text);
        let _ = detector.detect_lingua_only(text);
    }
    assert_eq!(detector.detect(""), Lang::Id);
    assert_eq!(detector.detect("😡 12345"), Lang::Id);
    assert_eq!(detector.detect(&long_text), Lang::Id);
}

#[test]
fn malay_needs_malaysian_vocabulary() {
    let detector = LanguageDetector::new();
    // lingua calls much Indonesian "Malay"; without Malaysian words it stays Id.
    assert_eq!(
        detector.detect("Pemerintah harus segera memperbaiki jalan ini"),
        Lang::Id
    );
    assert_eq!(
        detector.detect("Saya nak tanya, bila bas akan sampai? Dah sejam tunggu kat sini"),
        Lang::Ms
    );
}

/// Re-derives `PARAMS`: 5-fold cross-validation over the training rows only, on full
/// sentences and on 2/4/6-word prefixes because tweets are short. The objective
/// weights classes by a guessed Central Java stream mix (id 70%, jv 20%, en 7%,
/// su 3%), which is what justifies the Indonesian prior. Also prints, for close
/// Indonesian/English calls, how often naive Bayes and lingua are right, which sets
/// the fallback margin. Run with
/// `cargo test --release -- --nocapture cross_validation_on_training_rows`, and
/// `SWEEP="ww=1;ww=3,pid=1"` to compare variants.
#[test]
fn cross_validation_on_training_rows() {
    let texts: [Vec<String>; K] = std::array::from_fn(|c| {
        let mut t = csv_texts(CORPUS[c]);
        t.truncate(TRAIN_ROWS);
        t
    });
    let mut variants = vec![("current".to_string(), PARAMS)];
    if let Ok(spec) = std::env::var("SWEEP") {
        variants = spec
            .split(';')
            .map(|item| (item.to_string(), variant(item)))
            .collect();
    }
    for (name, params) in variants {
        let objective = cross_validate(&name, params, &texts);
        if name == "current" {
            assert!(
                objective >= 0.9,
                "cross-validated accuracy {objective:.4} fell below 0.9"
            );
        }
    }
}

fn variant(spec: &str) -> Params {
    let mut p = PARAMS;
    for kv in spec.split(',') {
        let (k, v) = kv.split_once('=').expect("sweep item is key=value");
        let f: f64 = v.parse().expect("sweep value is a number");
        match k {
            "nmin" => p.ngram_min = f as usize,
            "nmax" => p.ngram_max = f as usize,
            "aw" => p.alpha_word = f,
            "ac" => p.alpha_char = f,
            "ww" => p.weight_word = f as f32,
            "wc" => p.weight_char = f as f32,
            "lex" => p.lexicon_repeats = f as u32,
            "cue" => p.cue_bonus = f as f32,
            "pid" => p.prior[ID] = f as f32,
            "psu" => p.prior[SU] = f as f32,
            "fb" => p.fallback_margin = f as f32,
            _ => panic!("unknown sweep key {k}"),
        }
    }
    p
}

fn cross_validate(name: &str, params: Params, texts: &[Vec<String>; K]) -> f64 {
    const FOLDS: usize = 5;
    const STREAM_MIX: [f64; K] = [0.70, 0.20, 0.07, 0.03];
    // Words kept from each sentence; 0 keeps all of it.
    const PREFIXES: [usize; 4] = [0, 2, 4, 6];
    // [prefix][class] -> (hybrid hits, total)
    let mut hits = [[(0u32, 0u32); K]; PREFIXES.len()];
    let mut fallbacks = [0u64; PREFIXES.len()];
    // Close Indonesian/English calls by whole-nat margin: (count, nb right, lingua right).
    let mut close = [(0u32, 0u32, 0u32); 8];
    for fold in 0..FOLDS {
        let docs: [Vec<&str>; K] = std::array::from_fn(|c| {
            texts[c]
                .iter()
                .enumerate()
                .filter(|(i, _)| i % FOLDS != fold)
                .map(|(_, t)| t.as_str())
                .collect()
        });
        let detector = LanguageDetector::from_docs(params, &docs);
        for (c, class_texts) in texts.iter().enumerate() {
            for text in class_texts.iter().skip(fold).step_by(FOLDS) {
                for (p, &n) in PREFIXES.iter().enumerate() {
                    let sample = match n {
                        0 => text.clone(),
                        _ => text
                            .split_whitespace()
                            .take(n)
                            .collect::<Vec<_>>()
                            .join(" "),
                    };
                    let cleaned = clean(&sample);
                    let (best, second, margin) = top_two(&detector.model.score(&cleaned).scores);
                    if matches!((best, second), (ID, EN) | (EN, ID)) && margin < 8.0 {
                        let lingua = detector.lingua.detect_language_of(cleaned.text.as_str());
                        let lingua = if lingua == Some(Language::English) {
                            EN
                        } else {
                            ID
                        };
                        let bin = &mut close[margin as usize];
                        bin.0 += 1;
                        bin.1 += u32::from(best == c);
                        bin.2 += u32::from(lingua == c);
                    }
                    let before = detector.stats().1;
                    let hit = detector.detect(&sample) == CLASSES[c];
                    fallbacks[p] += detector.stats().1 - before;
                    hits[p][c].0 += u32::from(hit);
                    hits[p][c].1 += 1;
                }
            }
        }
    }
    let accuracy = |p: usize, c: usize| f64::from(hits[p][c].0) / f64::from(hits[p][c].1);
    let objective: f64 = (0..PREFIXES.len())
        .map(|p| (0..K).map(|c| STREAM_MIX[c] * accuracy(p, c)).sum::<f64>())
        .sum::<f64>()
        / PREFIXES.len() as f64;
    eprintln!("== {name}: stream-weighted accuracy {objective:.4}");
    for (p, n) in PREFIXES.iter().enumerate() {
        let per_class: Vec<String> = (0..K)
            .map(|c| format!("{} {:.3}", CLASSES[c].code(), accuracy(p, c)))
            .collect();
        let total: u32 = hits[p].iter().map(|h| h.1).sum();
        eprintln!(
            "  {n} words: {} | lingua fallback {:.2}%",
            per_class.join(" "),
            100.0 * fallbacks[p] as f64 / f64::from(total)
        );
    }
    for (m, (n, nb, lingua)) in close.iter().enumerate() {
        eprintln!(
            "  id/en margin {m}..{}: {n} calls, nb right {nb}, lingua right {lingua}",
            m + 1
        );
    }
    objective
}
