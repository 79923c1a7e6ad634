//! The generator's hand-written texts, kept as data in
//! `assets/gen/templates.toml`: complaint templates per topic and language,
//! chatter, openings, requests, agency replies, slang and names.
//!
//! The file is compiled into the binary with `include_str!` and parsed once,
//! on first use. The generator draws from these lists by position, so their
//! order is part of its output (the tests pin it).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Deserialize;

use super::Lang;

/// The hand-written text of one complaint topic.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TopicText {
    /// The canonical id, and other ids or English-name words a configuration
    /// might use for the same topic.
    pub key: String,
    pub alt: Vec<String>,
    /// Relative share among complaints, before the season.
    pub weight: f64,
    /// Multiplier per month, January first.
    pub season: [f64; 12],
    pub id: Vec<String>,
    pub jv: Vec<String>,
    pub ngapak: Vec<String>,
    pub en: Vec<String>,
    /// Short Indonesian follow-up sentences.
    pub extra: Vec<String>,
    pub tags: Vec<String>,
    /// What the responsible agency answers, after "@user ".
    pub reply: Vec<String>,
    /// Hashtag prefix joined to the region's short name ("BanjirDemak").
    pub region_tag: Option<String>,
}

/// The governor forwarding a complaint; `{agency}` is the responsible handle.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Forward {
    pub text: String,
    pub lang: Lang,
}

/// Everything in `assets/gen/templates.toml`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Templates {
    pub chatter_id: Vec<String>,
    pub chatter_jv: Vec<String>,
    /// Javanese tails that make Indonesian chatter code-mixed.
    pub chatter_jv_tail: Vec<String>,
    pub chatter_en: Vec<String>,
    pub generic_loc_id: Vec<String>,
    pub generic_loc_jv: Vec<String>,
    pub generic_loc_en: Vec<String>,
    pub prep_id: Vec<String>,
    pub prep_jv: Vec<String>,
    pub prep_ngapak: Vec<String>,
    pub prep_en: Vec<String>,
    pub id_open: Vec<String>,
    pub id_req: Vec<String>,
    pub id_close: Vec<String>,
    pub jv_open: Vec<String>,
    pub jv_req: Vec<String>,
    pub jv_close: Vec<String>,
    pub jv_extra: Vec<String>,
    pub ngapak_req: Vec<String>,
    pub en_open: Vec<String>,
    pub en_req: Vec<String>,
    pub en_close: Vec<String>,
    pub emoji: Vec<String>,
    pub reply_generic: Vec<String>,
    pub sapa: Vec<String>,
    pub first_names: Vec<String>,
    pub last_names: Vec<String>,
    pub other_locations: Vec<String>,
    pub topic: Vec<TopicText>,
    pub forward: Vec<Forward>,
    /// Indonesian words and their Twitter spellings.
    pub slang: HashMap<String, Vec<String>>,
}

impl Templates {
    /// The Twitter spellings of an Indonesian word; empty for most words.
    pub fn slang(&self, word: &str) -> &[String] {
        self.slang.get(word).map_or(&[], Vec::as_slice)
    }
}

static TEMPLATES: LazyLock<Templates> = LazyLock::new(|| {
    // The file is part of the binary and a test parses it, so it is valid.
    toml::from_str(include_str!("../../assets/gen/templates.toml"))
        .expect("assets/gen/templates.toml is valid")
});

/// The templates, parsed on first use.
pub(super) fn templates() -> &'static Templates {
    &TEMPLATES
}
