//! The labelled corpus and the model trained on it: the split is the one
//! the corpus README documents, and `kemala train` rebuilds the bundled
//! model from the repository, byte for byte.

use std::collections::BTreeSet;

use sha2::{Digest, Sha256};

use crate::common::{repo, Proc};

#[derive(serde::Deserialize)]
struct Record {
    id: String,
    src: String,
}

fn split(name: &str) -> Vec<Record> {
    let text = std::fs::read_to_string(repo().join("corpus").join(name)).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Where the documented rule puts a record, computed here independently.
fn documented_split(r: &Record) -> &'static str {
    let h = Sha256::digest(format!("kemala-corpus-v1:{}", r.id).as_bytes());
    let n = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) % 100;
    if r.src == "nusax_senti" && r.id.contains("/train.csv") {
        "train"
    } else if n < 22 {
        "test"
    } else if n < 34 {
        "dev"
    } else {
        "train"
    }
}

#[test]
fn every_record_is_in_the_split_its_id_puts_it_in() {
    let mut seen = BTreeSet::new();
    let mut sizes = Vec::new();
    for name in ["train", "dev", "test"] {
        let records = split(&format!("{name}.jsonl"));
        sizes.push(records.len());
        for r in &records {
            assert!(seen.insert(r.id.clone()), "{} is in two places", r.id);
            let want = documented_split(r);
            // Rows of NusaX's own valid split follow the hash; its train
            // rows are always trained on.
            if !(r.src == "nusax_senti" && name == "train" && want == "train") {
                assert_eq!(want, name, "{} is in {name}", r.id);
            }
        }
    }
    assert!(seen.len() >= 3000, "{} texts", seen.len());
    assert!(sizes[2] >= 600, "{} test texts", sizes[2]);
}

#[test]
fn kemala_train_rebuilds_the_bundled_model_from_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("model.kmodel");
    let mut p = Proc::spawn("train", &repo(), &["train", "--out", out.to_str().unwrap()]);
    let status = p
        .wait_timeout(std::time::Duration::from_secs(600))
        .expect("kemala train finishes");
    assert!(status.success(), "kemala train failed:\n{}", p.log_text());
    let built = std::fs::read(&out).unwrap();
    let bundled = std::fs::read(repo().join("assets/model/enrich.kmodel")).unwrap();
    assert!(
        built == bundled,
        "the bundled model is not what `kemala train` makes from the corpus; retrain it"
    );
}
