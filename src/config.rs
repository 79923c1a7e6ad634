//! Configuration: inert serde structs for `kemala.toml` and its data files.
//!
//! Everything here is plain data that rejects typos (`deny_unknown_fields`)
//! and carries units in its values (`commit_interval = "2s"`). Turning this
//! data into working matchers happens in `enrich::Enricher::build`, so that a
//! bad keyword fails at start-up, never on the hot path. Errors always name
//! the file, the key and the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use crate::model::RegionCode;

/// The bundled configuration, used by `kemala demo` and as the default data files.
pub const EMBEDDED_KEMALA: &str = include_str!("../config/kemala.toml");
pub const EMBEDDED_REGIONS: &str = include_str!("../config/regions.toml");
pub const EMBEDDED_TOPICS: &str = include_str!("../config/topics.toml");
pub const EMBEDDED_AGENCIES: &str = include_str!("../config/agencies.toml");

/// A configuration error that says where and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{file}`: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("in `{file}`: {message}")]
    Parse { file: String, message: String },
    #[error("in `{file}`, key `{key}`: {reason}")]
    Invalid {
        file: String,
        key: String,
        reason: String,
    },
}

fn invalid(file: &str, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        file: file.to_string(),
        key: key.into(),
        reason: reason.into(),
    }
}

/// A duration written with units, such as `"5s"`, `"48h"` or `"30days"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s)
            .map(HumanDuration)
            .map_err(|e| {
                serde::de::Error::custom(format!(
                    "`{s}` is not a duration with units ({e}); write e.g. \"5s\", \"10m\" or \"48h\""
                ))
            })
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_duration(self.0))
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// Comma-separated bootstrap servers; empty means the embedded broker.
    pub brokers: String,
    pub topics: Vec<String>,
    pub group_id: String,
    pub dead_letter_topic: String,
    /// Messages larger than this are dead-lettered as `oversized`.
    pub max_message_bytes: usize,
    /// Partitions per topic created on the embedded broker. The embedded
    /// broker keeps only 5 MiB per partition, so more partitions hold more.
    pub embedded_partitions: i32,
    /// Most messages handed to the pipeline in one batch.
    pub batch_max_messages: usize,
    /// What to do when messages a partition still owed kemala are gone from
    /// the broker (deleted by retention before they were read).
    pub offset_reset: OffsetReset,
    /// librdkafka properties passed through to the consumer and producers.
    pub properties: BTreeMap<String, String>,
}

/// The policy for messages lost to broker retention. Either way they are
/// counted (`kemala_messages_lost_total`), logged and shown in `/api/status`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OffsetReset {
    /// Count the lost messages and continue at the oldest message the
    /// broker still holds.
    #[default]
    Earliest,
    /// Count them, index nothing past the gap and stay not ready until an
    /// operator decides (restart with `earliest` to accept the loss).
    Fail,
}

/// librdkafka consumer properties that kemala sets itself: passing them
/// through would break the offset invariants.
const RESERVED_PROPERTIES: [(&str, &str); 5] = [
    (
        "auto.offset.reset",
        "set `kafka.offset_reset` (earliest or fail) instead",
    ),
    (
        "enable.auto.commit",
        "kemala commits offsets only after the index holds them",
    ),
    (
        "enable.auto.offset.store",
        "kemala stores offsets only after the index holds them",
    ),
    (
        "enable.partition.eof",
        "kemala needs end-of-partition reports for event time",
    ),
    ("group.id", "set `kafka.group_id` instead"),
];

impl Default for KafkaConfig {
    fn default() -> Self {
        KafkaConfig {
            brokers: String::new(),
            topics: vec!["tweets".into()],
            group_id: "kemala".into(),
            dead_letter_topic: "tweets.dlq".into(),
            max_message_bytes: 64 * 1024,
            embedded_partitions: 8,
            batch_max_messages: 2000,
            offset_reset: OffsetReset::Earliest,
            properties: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IndexConfig {
    /// Where the tantivy index lives. Relative paths are relative to the
    /// working directory.
    pub data_dir: PathBuf,
    /// Commit (and so make searchable and durable) at least this often.
    pub commit_interval: HumanDuration,
    /// Commit early once this many documents are pending.
    pub commit_max_docs: usize,
    /// Memory budget of the index writer, in MiB.
    pub writer_memory_mib: usize,
    /// Delete tweets older than this (event time); absent keeps everything.
    pub retention: Option<HumanDuration>,
}

impl Default for IndexConfig {
    fn default() -> Self {
        IndexConfig {
            data_dir: PathBuf::from("data/index"),
            commit_interval: HumanDuration(Duration::from_secs(2)),
            commit_max_docs: 100_000,
            writer_memory_mib: 128,
            retention: None,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Who may read: the search page, search, export, histogram, alerts
    /// and agencies. `open` (the default) or `token`.
    pub read_access: ReadAccess,
    /// Named API tokens: `name = { env = "VAR", role = "ack" }` or
    /// `name = { file = "/path", role = "read" }`. The secret itself never
    /// sits in this file; the name is what an acknowledgement records.
    pub tokens: BTreeMap<String, TokenDef>,
    /// Replaced by `tokens`; kept only to say so.
    api_tokens: Option<toml::Value>,
    /// The largest `limit` a search may ask for.
    pub max_limit: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            read_access: ReadAccess::Open,
            tokens: BTreeMap::new(),
            api_tokens: None,
            max_limit: 1000,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReadAccess {
    /// Anyone who reaches the port may read.
    #[default]
    Open,
    /// Reading needs a token of either role.
    Token,
}

/// What a token may do. `ack` may read too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenRole {
    Read,
    Ack,
}

/// Where a named token's secret comes from: an environment variable or a
/// file (relative paths are relative to the working directory).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenDef {
    pub env: Option<String>,
    pub file: Option<PathBuf>,
    pub role: TokenRole,
}

/// A token with its secret, resolved at start-up.
#[derive(Clone)]
pub struct ApiToken {
    pub name: String,
    pub role: TokenRole,
    pub secret: String,
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiToken({}, {:?})", self.name, self.role)
    }
}

/// Shorter secrets are rejected: a token must not be guessable.
pub const MIN_TOKEN_CHARS: usize = 16;

impl Config {
    /// Reads every named token's secret from its variable or file. An
    /// error names the token, where its secret should be, and the fix.
    pub fn resolve_tokens(&self) -> Result<Vec<ApiToken>, ConfigError> {
        let mut out = Vec::new();
        for (name, def) in &self.engine.http.tokens {
            let key = format!("http.tokens.{name}");
            let secret = match (&def.env, &def.file) {
                (Some(var), None) => std::env::var(var).map_err(|_| {
                    invalid(
                        &self.source,
                        &key,
                        format!("environment variable `{var}` is not set; export the token in it"),
                    )
                })?,
                (None, Some(path)) => std::fs::read_to_string(path).map_err(|e| {
                    invalid(
                        &self.source,
                        &key,
                        format!("cannot read the token file `{}`: {e}", path.display()),
                    )
                })?,
                _ => {
                    return Err(invalid(
                        &self.source,
                        &key,
                        "give exactly one of `env` (a variable) or `file` (a path) for the secret",
                    ))
                }
            };
            let secret = secret.trim().to_string();
            if secret.chars().count() < MIN_TOKEN_CHARS {
                return Err(invalid(
                    &self.source,
                    &key,
                    format!("the secret must have at least {MIN_TOKEN_CHARS} characters (e.g. `openssl rand -hex 24`)"),
                ));
            }
            out.push(ApiToken {
                name: name.clone(),
                role: def.role,
                secret,
            });
        }
        Ok(out)
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectConfig {
    /// Width of one counting bucket.
    pub bucket: HumanDuration,
    /// Window over which a spike is judged.
    pub window: HumanDuration,
    /// Minimum distinct authors in the window before anything can fire.
    pub min_count: u32,
    /// Tail probability below which a window is significant.
    pub p_value: f64,
    /// How long a firing spike must stay below its stay level (judged on
    /// `window`) before it resolves.
    pub resolve_after: HumanDuration,
    /// The most alerts a week one (topic, region) series should send: a
    /// series that is wilder than that needs a higher score to fire.
    /// Agencies may name their own number in `agencies.toml`.
    pub max_alerts_per_series_week: f64,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            bucket: HumanDuration(Duration::from_secs(60)),
            window: HumanDuration(Duration::from_secs(15 * 60)),
            min_count: 5,
            p_value: 1e-6,
            resolve_after: HumanDuration(Duration::from_secs(30 * 60)),
            max_alerts_per_series_week: 1.0,
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LatencyConfig {
    /// The response-time promise: 2×24 hours.
    pub target: HumanDuration,
    /// Open complaints older than this are evicted from memory (and counted).
    pub horizon: HumanDuration,
}

impl Default for LatencyConfig {
    fn default() -> Self {
        LatencyConfig {
            target: HumanDuration(Duration::from_secs(48 * 3600)),
            horizon: HumanDuration(Duration::from_secs(30 * 24 * 3600)),
        }
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AlertsConfig {
    pub alertmanager_url: Option<String>,
    pub resend_interval: HumanDuration,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            alertmanager_url: None,
            resend_interval: HumanDuration(Duration::from_secs(60)),
        }
    }
}

/// Paths of the data files, relative to the directory of `kemala.toml`.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataFiles {
    pub regions: PathBuf,
    pub topics: PathBuf,
    pub agencies: PathBuf,
    /// The enrichment model made by `kemala train`: empty for the bundled
    /// one, `none` for the lexicons alone, or a path.
    pub model: String,
}

impl Default for DataFiles {
    fn default() -> Self {
        DataFiles {
            regions: "regions.toml".into(),
            topics: "topics.toml".into(),
            agencies: "agencies.toml".into(),
            model: String::new(),
        }
    }
}

/// Where the enrichment model comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ModelSource {
    /// The model bundled with the binary.
    #[default]
    Bundled,
    /// A model file (an absolute path, or relative to the working directory).
    File(PathBuf),
    /// No model: the lexicons alone decide.
    Off,
}

impl ModelSource {
    /// The source `[data] model` names, relative to the config's directory.
    pub fn from_setting(setting: &str, dir: &Path) -> ModelSource {
        match setting.trim() {
            "" => ModelSource::Bundled,
            "none" => ModelSource::Off,
            path => ModelSource::File(dir.join(path)),
        }
    }
}

/// The contents of `kemala.toml`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    pub kafka: KafkaConfig,
    pub index: IndexConfig,
    pub http: HttpConfig,
    pub detect: DetectConfig,
    pub latency: LatencyConfig,
    pub alerts: AlertsConfig,
    pub data: DataFiles,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegionKind {
    Kabupaten,
    Kota,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionDef {
    pub code: String,
    pub kind: RegionKind,
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub context_aliases: Vec<String>,
    #[serde(default)]
    pub subdistricts: Vec<String>,
    /// Short forms that are also acronyms or counts ("Pbg" is the PBG
    /// building permit, "2 btg" two sticks): placed only after di/ke/dari/….
    #[serde(default)]
    pub abbreviations: Vec<String>,
    #[serde(default)]
    pub places: Vec<String>,
    /// Phrases that hold one of the names but name no place ("Roh Kudus",
    /// "solo karir", "batang pohon").
    #[serde(default)]
    pub not_names: Vec<String>,
    #[serde(default)]
    pub handles: Vec<String>,
    pub lat: f64,
    pub lon: f64,
    pub radius_km: f64,
}

/// A place outside Central Java that text, a Twitter place or a profile may
/// name (a province and its regencies and cities, or abroad): a tweet about
/// it is `outside`. The name lists mean what they mean for a region.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutsideDef {
    /// Labels the entry for people; only the lists are matched.
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub context_aliases: Vec<String>,
    #[serde(default)]
    pub abbreviations: Vec<String>,
    #[serde(default)]
    pub places: Vec<String>,
    #[serde(default)]
    pub not_names: Vec<String>,
    #[serde(default)]
    pub handles: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionsFile {
    pub region: Vec<RegionDef>,
    #[serde(default)]
    pub outside: Vec<OutsideDef>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicDef {
    pub id: String,
    pub name: String,
    pub name_en: String,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub phrases: Vec<String>,
    #[serde(default)]
    pub negative: Vec<String>,
    #[serde(default)]
    pub weak: Vec<String>,
    /// Words or phrases that always assign the topic, whatever the model says.
    #[serde(default)]
    pub force: Vec<String>,
    /// Words or phrases that never let the topic be assigned ("kebakaran
    /// jenggot" is not a fire).
    #[serde(default)]
    pub block: Vec<String>,
    #[serde(default)]
    pub agencies: Vec<String>,
    #[serde(default)]
    pub route_to_region: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TopicsFile {
    pub topic: Vec<TopicDef>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgencyKind {
    Governor,
    Channel,
    Provincial,
    Regional,
    Utility,
    Police,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OnCall {
    pub name: String,
    pub contact: String,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgencyDef {
    pub id: String,
    pub name: String,
    pub kind: AgencyKind,
    #[serde(default)]
    pub handles: Vec<String>,
    #[serde(default)]
    pub user_ids: Vec<String>,
    #[serde(default)]
    pub topics: Vec<String>,
    #[serde(default)]
    pub regions: Vec<String>,
    #[serde(default)]
    pub on_call: Vec<OnCall>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_secret_env: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgenciesFile {
    pub agency: Vec<AgencyDef>,
    /// Per agency id: the most spike alerts a week one series routed to it
    /// should send, where it wants another number than
    /// `detect.max_alerts_per_series_week`.
    #[serde(default)]
    pub max_alerts_per_series_week: BTreeMap<String, f64>,
}

/// A whole, validated configuration: the engine settings and the data files.
#[derive(Clone, Debug)]
pub struct Config {
    /// Where it came from, for messages (`<embedded>` for the bundled one).
    pub source: String,
    pub engine: EngineConfig,
    pub regions: Vec<RegionDef>,
    /// Places outside Central Java, for placing tweets `outside`.
    pub outside: Vec<OutsideDef>,
    pub topics: Vec<TopicDef>,
    pub agencies: Vec<AgencyDef>,
    /// Alert budgets asked for by agencies (agency id → alerts a week).
    pub agency_budgets: BTreeMap<String, f64>,
    pub model: ModelSource,
}

fn parse_toml<T: serde::de::DeserializeOwned>(file: &str, text: &str) -> Result<T, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::Parse {
        file: file.to_string(),
        // toml's message names the line, the key and the reason; fold it onto one line.
        message: e.to_string().trim().replace('\n', " ").replace("  ", " "),
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        file: path.display().to_string(),
        source,
    })
}

impl Config {
    /// The bundled configuration, with the environment's overrides applied.
    pub fn embedded() -> Result<Config, ConfigError> {
        let engine: EngineConfig = parse_toml("<embedded>/kemala.toml", EMBEDDED_KEMALA)?;
        Config::from_parts(
            "<embedded>".into(),
            engine,
            ("<embedded>/regions.toml", EMBEDDED_REGIONS),
            ("<embedded>/topics.toml", EMBEDDED_TOPICS),
            ("<embedded>/agencies.toml", EMBEDDED_AGENCIES),
        )
    }

    /// Loads `kemala.toml` and the data files it names, relative to its directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let engine: EngineConfig = parse_toml(&file, &read(path)?)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let regions = dir.join(&engine.data.regions);
        let topics = dir.join(&engine.data.topics);
        let agencies = dir.join(&engine.data.agencies);
        let (rt, tt, at) = (read(&regions)?, read(&topics)?, read(&agencies)?);
        let model = ModelSource::from_setting(&engine.data.model, dir);
        let mut config = Config::from_parts(
            file,
            engine,
            (&regions.display().to_string(), &rt),
            (&topics.display().to_string(), &tt),
            (&agencies.display().to_string(), &at),
        )?;
        config.model = model;
        Ok(config)
    }

    fn from_parts(
        source: String,
        mut engine: EngineConfig,
        regions: (&str, &str),
        topics: (&str, &str),
        agencies: (&str, &str),
    ) -> Result<Config, ConfigError> {
        if let Ok(brokers) = std::env::var("KEMALA_KAFKA_BROKERS") {
            engine.kafka.brokers = brokers;
        }
        let engine_model = engine.data.model.clone();
        let r: RegionsFile = parse_toml(regions.0, regions.1)?;
        let t: TopicsFile = parse_toml(topics.0, topics.1)?;
        let a: AgenciesFile = parse_toml(agencies.0, agencies.1)?;
        let config = Config {
            source,
            engine,
            regions: r.region,
            outside: r.outside,
            topics: t.topic,
            agencies: a.agency,
            agency_budgets: a.max_alerts_per_series_week,
            model: ModelSource::from_setting(&engine_model, Path::new(".")),
        };
        config.validate(regions.0, topics.0, agencies.0)?;
        Ok(config)
    }

    /// The region a user names: a BPS code, a slug or a name (any case),
    /// or `outside`. `None` for anything else, `unknown` and `jateng` too.
    pub fn find_region(&self, s: &str) -> Option<RegionCode> {
        let s = s.trim();
        if s.eq_ignore_ascii_case(RegionCode::OUTSIDE_SLUG)
            || s.eq_ignore_ascii_case(RegionCode::OUTSIDE_NAME)
        {
            return Some(RegionCode::OUTSIDE);
        }
        self.regions
            .iter()
            .find(|r| r.code == s || r.slug == s || r.name.eq_ignore_ascii_case(s))
            .and_then(|r| r.code.parse().ok())
            .map(RegionCode)
    }

    /// `(code, name, slug)` of every region a tweet can be placed in: the
    /// configured ones, then `outside`.
    pub fn region_labels(&self) -> impl Iterator<Item = (u16, &str, &str)> {
        self.regions
            .iter()
            .filter_map(|r| Some((r.code.parse().ok()?, r.name.as_str(), r.slug.as_str())))
            .chain(std::iter::once((
                RegionCode::OUTSIDE.0,
                RegionCode::OUTSIDE_NAME,
                RegionCode::OUTSIDE_SLUG,
            )))
    }

    /// Cross-checks that serde cannot: references, duplicates, ranges.
    fn validate(&self, rfile: &str, tfile: &str, afile: &str) -> Result<(), ConfigError> {
        let k = &self.engine.kafka;
        let src = self.source.as_str();
        if k.topics.is_empty() {
            return Err(invalid(src, "kafka.topics", "at least one topic is needed"));
        }
        if k.topics.contains(&k.dead_letter_topic) {
            return Err(invalid(
                src,
                "kafka.dead_letter_topic",
                "must differ from the input topics, or rejects would loop",
            ));
        }
        if k.max_message_bytes == 0 || k.batch_max_messages == 0 {
            return Err(invalid(src, "kafka", "sizes must be positive"));
        }
        if !(1..=1024).contains(&k.embedded_partitions) {
            return Err(invalid(
                src,
                "kafka.embedded_partitions",
                "must be 1 to 1024",
            ));
        }
        for (key, fix) in RESERVED_PROPERTIES {
            if k.properties.contains_key(key) {
                return Err(invalid(
                    src,
                    format!("kafka.properties.\"{key}\""),
                    format!("kemala sets this itself: {fix}"),
                ));
            }
        }
        let http = &self.engine.http;
        if http.api_tokens.is_some() {
            return Err(invalid(
                src,
                "http.api_tokens",
                "tokens are now named, with their secret outside the config: write `[http.tokens]` and `name = { env = \"VAR\", role = \"ack\" }` (or `file = \"/path\"`)",
            ));
        }
        for (name, def) in &http.tokens {
            let key = format!("http.tokens.{name}");
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(invalid(
                    src,
                    key,
                    "a token name is letters, digits, '_' and '-'",
                ));
            }
            if def.env.is_some() == def.file.is_some() {
                return Err(invalid(
                    src,
                    key,
                    "give exactly one of `env` (a variable) or `file` (a path) for the secret",
                ));
            }
        }
        if http.read_access == ReadAccess::Token && http.tokens.is_empty() {
            return Err(invalid(
                src,
                "http.read_access",
                "`token` needs at least one entry in `[http.tokens]`",
            ));
        }
        if self.engine.index.commit_interval.0.is_zero() {
            return Err(invalid(src, "index.commit_interval", "must be above zero"));
        }
        if self.engine.index.writer_memory_mib < 16 {
            return Err(invalid(
                src,
                "index.writer_memory_mib",
                "must be at least 16",
            ));
        }
        let budget = self.engine.detect.max_alerts_per_series_week;
        if !(budget.is_finite() && budget > 0.0) {
            return Err(invalid(
                src,
                "detect.max_alerts_per_series_week",
                "must be a number of alerts above zero, such as 1 or 0.5",
            ));
        }
        let mut codes = HashSet::new();
        let mut names: HashMap<String, String> = HashMap::new();
        for (i, r) in self.regions.iter().enumerate() {
            let key = |f: &str| format!("region[{i}].{f}");
            if r.code.len() != 4
                || r.code.parse::<u16>().is_err()
                || r.code == RegionCode::OUTSIDE.0.to_string()
            {
                return Err(invalid(
                    rfile,
                    key("code"),
                    format!("`{}` is not a 4-digit BPS code", r.code),
                ));
            }
            if [RegionCode::OUTSIDE_SLUG, "unknown", "jateng"].contains(&r.slug.as_str()) {
                return Err(invalid(
                    rfile,
                    key("slug"),
                    format!("`{}` is reserved", r.slug),
                ));
            }
            if !codes.insert(r.code.clone()) {
                return Err(invalid(
                    rfile,
                    key("code"),
                    format!("`{}` appears twice", r.code),
                ));
            }
            if r.slug.is_empty()
                || !r
                    .slug
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(invalid(
                    rfile,
                    key("slug"),
                    format!("`{}` must be lowercase letters, digits and '-'", r.slug),
                ));
            }
            for (field, list) in [
                ("aliases", &r.aliases),
                ("context_aliases", &r.context_aliases),
                ("abbreviations", &r.abbreviations),
                ("subdistricts", &r.subdistricts),
            ] {
                for name in list {
                    let folded = name.to_lowercase();
                    if let Some(other) = names.insert(folded, r.code.clone()) {
                        if other != r.code {
                            return Err(invalid(
                                rfile,
                                key(field),
                                format!("`{name}` also names region `{other}`; a name may place a tweet in one region only"),
                            ));
                        }
                    }
                }
            }
        }
        // A name of a place outside may not name a Central Java region too:
        // settle it in the data ("Kec. Sampang" for Cilacap, "Kab. Sampang"
        // for Madura).
        for (i, o) in self.outside.iter().enumerate() {
            for (field, list) in [
                ("aliases", &o.aliases),
                ("context_aliases", &o.context_aliases),
                ("abbreviations", &o.abbreviations),
            ] {
                for name in list {
                    if let Some(code) = names.get(&name.to_lowercase()) {
                        return Err(invalid(
                            rfile,
                            format!("outside[{i}].{field}"),
                            format!("`{name}` also names region `{code}`; a name may place a tweet in one region only"),
                        ));
                    }
                }
            }
        }
        let mut topic_ids = HashSet::new();
        for (i, t) in self.topics.iter().enumerate() {
            if t.id.is_empty() || !t.id.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                return Err(invalid(
                    tfile,
                    format!("topic[{i}].id"),
                    format!("`{}` must be snake_case", t.id),
                ));
            }
            if !topic_ids.insert(t.id.as_str()) {
                return Err(invalid(
                    tfile,
                    format!("topic[{i}].id"),
                    format!("`{}` appears twice", t.id),
                ));
            }
            if t.keywords.is_empty() && t.phrases.is_empty() {
                return Err(invalid(
                    tfile,
                    format!("topic[{i}].keywords"),
                    "a topic needs keywords or phrases",
                ));
            }
        }
        let agency_ids: HashSet<&str> = self.agencies.iter().map(|a| a.id.as_str()).collect();
        for (i, t) in self.topics.iter().enumerate() {
            for a in &t.agencies {
                if !agency_ids.contains(a.as_str()) {
                    return Err(invalid(
                        tfile,
                        format!("topic[{i}].agencies"),
                        format!("unknown agency `{a}`"),
                    ));
                }
            }
        }
        let mut seen_agencies = HashSet::new();
        let mut handles = HashSet::new();
        for (i, a) in self.agencies.iter().enumerate() {
            let key = |f: &str| format!("agency[{i}].{f}");
            if !seen_agencies.insert(a.id.as_str()) {
                return Err(invalid(
                    afile,
                    key("id"),
                    format!("`{}` appears twice", a.id),
                ));
            }
            for t in &a.topics {
                if !topic_ids.contains(t.as_str()) {
                    return Err(invalid(
                        afile,
                        key("topics"),
                        format!("unknown topic `{t}`"),
                    ));
                }
            }
            for r in &a.regions {
                if !codes.contains(r) {
                    return Err(invalid(
                        afile,
                        key("regions"),
                        format!("unknown region code `{r}`"),
                    ));
                }
            }
            for h in &a.handles {
                if h.starts_with('@') {
                    return Err(invalid(
                        afile,
                        key("handles"),
                        format!("write `{}` without the '@'", h),
                    ));
                }
                if !handles.insert(h.to_lowercase()) {
                    return Err(invalid(
                        afile,
                        key("handles"),
                        format!("handle `{h}` is used twice"),
                    ));
                }
            }
        }
        for (id, budget) in &self.agency_budgets {
            let key = format!("max_alerts_per_series_week.{id}");
            if !seen_agencies.contains(id.as_str()) {
                return Err(invalid(afile, key, format!("unknown agency `{id}`")));
            }
            if !(budget.is_finite() && *budget > 0.0) {
                return Err(invalid(
                    afile,
                    key,
                    "must be a number of alerts above zero, such as 1 or 0.5",
                ));
            }
        }
        Ok(())
    }

    /// The alert budget of a (topic, region) series routed to `agencies`:
    /// the strictest of what each asks for (`detect.max_alerts_per_series_week`
    /// unless it names its own), or that default when it routes nowhere.
    pub fn series_budget<'a>(&self, agencies: impl IntoIterator<Item = &'a str>) -> f64 {
        let default = self.engine.detect.max_alerts_per_series_week;
        agencies
            .into_iter()
            .map(|a| *self.agency_budgets.get(a).unwrap_or(&default))
            .reduce(f64::min)
            .unwrap_or(default)
    }
}

#[cfg(test)]
mod tests;
