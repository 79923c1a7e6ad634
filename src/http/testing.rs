//! A small engine state for the handler tests: the bundled configuration, a
//! tempdir index of a few tweets fed to the trackers, one firing alert, and
//! the router over them, called in-process without a socket.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use tower::ServiceExt;

use crate::alert::{AlertKind, AlertState, AlertStore, StoredAlert};
use crate::config::{ApiToken, Config, TokenRole};
use crate::enrich::Enricher;
use crate::index::{CommitPayload, IndexHandle, Writer};
use crate::model::Tweet;
use crate::source::kafka::SourceState;
use crate::state::{Health, Progress, Shared};
use crate::telemetry::Metrics;
use crate::track::Trackers;

/// 2026-01-05 00:00 UTC; tweet `n` is created `n` hours later
/// ([`Tweet::hourly`]).
pub const T0: i64 = 1_767_571_200_000;

/// The test configuration's `ack` token, named `bpbd-oncall`.
pub const TOKEN: &str = "rahasia-uji-bpbd-0123";
/// Its `read` token, named `analysts`.
pub const READ_TOKEN: &str = "rahasia-uji-baca-4567";

/// The id of the firing alert.
pub const ALERT_ID: &str = "spike-demak-flood";

/// Tweets 1 to 6, one an hour.
pub const TWEETS: &[&str] = &[
    "Banjir lagi di Sayung, Demak, air masuk rumah @BPBDJateng",
    "Rumah kami kebanjiran di Kaligawe, Semarang",
    "Jalan rusak parah di Brebes, banyak lubang",
    "Pungli di Samsat Brebes, STNK dimintai uang, tolong @LaporGub",
    "Selamat pagi warga Semarang, cuaca cerah",
    "Sampah numpuk di pasar Kudus, baunya menyengat",
];

pub struct TestApp {
    pub state: Arc<Shared>,
    router: Router,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub fn new() -> TestApp {
        TestApp::with_config(|_| {})
    }

    /// The test state, on the bundled configuration changed by `tweak`.
    pub fn with_config(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::embedded().unwrap();
        config.engine.index.data_dir = dir.path().join("index");
        // The lexicons alone: these tests are about HTTP, and their tweets'
        // topics and complaints should not move when the model is retrained.
        config.model = crate::config::ModelSource::Off;
        tweak(&mut config);
        let api_tokens = vec![
            ApiToken {
                name: "bpbd-oncall".into(),
                role: TokenRole::Ack,
                secret: TOKEN.into(),
            },
            ApiToken {
                name: "analysts".into(),
                role: TokenRole::Read,
                secret: READ_TOKEN.into(),
            },
        ];
        let config = Arc::new(config);
        let index = IndexHandle::open(&config.engine.index.data_dir, &config).unwrap();
        let enricher = Arc::new(Enricher::build(&config).unwrap());
        let metrics = Arc::new(Metrics::new());
        let alerts =
            Arc::new(AlertStore::open(&dir.path().join("alerts"), HashSet::new(), false).unwrap());
        let trackers = Arc::new(Trackers::new(
            config.clone(),
            enricher.clone(),
            alerts.clone(),
            metrics.clone(),
        ));
        let mut writer = Writer::new(&index, 50).unwrap();
        let (mut tokens, mut records) = (Vec::new(), Vec::new());
        for (i, text) in TWEETS.iter().enumerate() {
            let id = i as u64 + 1;
            let e = enricher.enrich(Tweet::hourly(id, text), &mut tokens);
            let record = e.record();
            trackers.observe(&record, i64::MIN);
            writer.add(&e, &tokens, false).unwrap();
            records.push(record);
        }
        writer.commit(&CommitPayload::default()).unwrap();
        trackers.feed(&records, T0 + 7 * 3_600_000);
        alerts.apply(StoredAlert {
            id: ALERT_ID.into(),
            kind: AlertKind::Spike,
            topic: Some("flood".into()),
            region: 3321,
            state: AlertState::Firing,
            severity: "critical".into(),
            started_at_ms: T0 + 3_600_000,
            detected_at_ms: T0 + 3_900_000,
            resolved_at_ms: None,
            observed: 42.0,
            expected: 3.5,
            window_seconds: 900,
            score: 12.0,
            rank: Some(0.95),
            agencies: vec!["bpbd_jateng".into()],
            sample_tweet_ids: vec![1],
            top_terms: vec!["banjir".into()],
            regions: Vec::new(),
            parent: None,
            summary: "banjir di Kab. Demak".into(),
            acked_by: None,
            acked_at: None,
        });
        let region_names: HashMap<u16, String> = config
            .regions
            .iter()
            .filter_map(|r| Some((r.code.parse().ok()?, r.name.clone())))
            .collect();
        let state = Arc::new(Shared {
            config,
            index,
            metrics,
            source: Arc::new(SourceState::default()),
            progress: Arc::new(Progress::default()),
            bootstrap: "127.0.0.1:9092".into(),
            embedded_broker: true,
            ready: AtomicBool::new(true),
            alerts,
            trackers,
            region_names,
            health: Arc::new(Health::default()),
            tokens: api_tokens,
        });
        TestApp {
            router: super::router(state.clone()),
            state,
            _dir: dir,
        }
    }

    /// Status, headers and body of one request.
    pub async fn send(&self, request: Request<Body>) -> (StatusCode, HeaderMap, String) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let bytes = axum::body::to_bytes(body, 16 << 20).await.unwrap();
        (
            parts.status,
            parts.headers,
            String::from_utf8(bytes.to_vec()).unwrap(),
        )
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, HeaderMap, String) {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// Status and JSON body of a GET.
    pub async fn json(&self, uri: &str) -> (StatusCode, serde_json::Value) {
        let (status, _, body) = self.get(uri).await;
        let value = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("`{uri}` answered no JSON ({e}): {body}"));
        (status, value)
    }
}

/// The message of a 400: it must say what to fix.
pub fn error_message(body: &serde_json::Value) -> &str {
    body["error"].as_str().unwrap_or_default()
}

impl TestApp {
    /// The JSON body of a GET that must answer 200.
    pub async fn ok_json(&self, uri: &str) -> serde_json::Value {
        let (status, body) = self.json(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        body
    }

    /// The body of a GET that must answer 200 with this content type.
    pub async fn ok_text(&self, uri: &str, content_type: &str) -> String {
        let (status, headers, body) = self.get(uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        let got = headers["content-type"].to_str().unwrap();
        assert!(got.starts_with(content_type), "{uri}: {got}");
        body
    }

    /// Each `(query, says)`: `path?query` is a 400 whose message says `says`.
    pub async fn assert_bad_requests(&self, path: &str, cases: &[(&str, &str)]) {
        for (q, says) in cases {
            let (status, body) = self.json(&format!("{path}?{q}")).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{q}");
            assert!(error_message(&body).contains(says), "{q}: {body}");
        }
    }
}
