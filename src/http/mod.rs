//! The HTTP API: `fn router(state) -> Router`, its request and response
//! types, one [`ApiError`], and the search page.
//!
//! Handlers only read: the index reader, the metrics and the shared status.
//! Search runs on the blocking pool, since a tantivy query is CPU work.

mod page;

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::app::Shared;
use crate::index::search::{Filters, SearchError, SearchResult, Sort};
use crate::model::RegionCode;

type AppState = Arc<Shared>;

/// The one error type of every handler.
#[derive(Debug)]
pub enum ApiError {
    /// The client's mistake: 400 with a message that says what to fix.
    BadRequest(String),
    /// Ours: 500 with a generic body, logged once.
    Internal(anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::BadRequest(msg) => (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({ "error": msg })),
            )
                .into_response(),
            ApiError::Internal(e) => {
                tracing::error!("internal error: {e:#}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(serde_json::json!({ "error": "internal error" })),
                )
                    .into_response()
            }
        }
    }
}

impl From<SearchError> for ApiError {
    fn from(e: SearchError) -> Self {
        match e {
            SearchError::BadRequest(m) => ApiError::BadRequest(m),
            SearchError::Internal(e) => ApiError::Internal(e),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(page::index))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/status", get(status))
        .route("/api/search", get(search))
        .route("/api/search/export", get(export))
        .route("/api/histogram", get(histogram))
        .route("/api/meta", get(meta))
        .route("/api/agencies", get(agencies))
        .route("/api/alerts", get(alerts))
        .route("/api/alerts/stream", get(alerts_stream))
        .route("/api/alerts/{id}/ack", axum::routing::post(ack))
        .with_state(state)
}

async fn readyz(State(s): State<AppState>) -> Response {
    let ready = s.ready.load(Ordering::Relaxed) && s.source.consuming.load(Ordering::Relaxed);
    if ready {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready").into_response()
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    let wm = s.progress.watermark_ms.load(Ordering::Relaxed);
    if wm > 0 {
        s.metrics.watermark.set(wm as f64 / 1000.0);
        s.metrics
            .event_time_lag
            .set((Utc::now().timestamp_millis() - wm) as f64 / 1000.0);
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

#[derive(Serialize)]
struct StatusResponse {
    version: &'static str,
    kafka: KafkaStatus,
    watermark: Option<String>,
    counts: Counts,
    /// The spike detector's own counters.
    detector: Option<crate::detect::DetectorStats>,
}

#[derive(Serialize)]
struct KafkaStatus {
    bootstrap: String,
    embedded: bool,
    topics: Vec<String>,
    group_id: String,
    dead_letter_topic: String,
    assigned_partitions: BTreeMap<String, Vec<i32>>,
    lag: BTreeMap<String, i64>,
    /// The offsets stored in the index's last commit: where a restart resumes.
    index_offsets: crate::index::Offsets,
}

#[derive(Serialize)]
struct Counts {
    processed: u64,
    indexed: u64,
    duplicates: u64,
    rejected: u64,
    committed: u64,
    commits: u64,
    index_documents: u64,
}

async fn status(State(s): State<AppState>) -> Json<StatusResponse> {
    let p = &s.progress;
    let wm = p.watermark_ms.load(Ordering::Relaxed);
    let k = &s.config.engine.kafka;
    Json(StatusResponse {
        version: env!("CARGO_PKG_VERSION"),
        kafka: KafkaStatus {
            bootstrap: s.bootstrap.clone(),
            embedded: s.embedded_broker,
            topics: k.topics.clone(),
            group_id: k.group_id.clone(),
            dead_letter_topic: k.dead_letter_topic.clone(),
            assigned_partitions: s
                .source
                .assigned
                .lock()
                .map(|a| a.clone())
                .unwrap_or_default(),
            lag: s
                .source
                .lag
                .lock()
                .map(|l| {
                    l.iter()
                        .map(|((t, p), v)| (format!("{t}/{p}"), *v))
                        .collect()
                })
                .unwrap_or_default(),
            index_offsets: s
                .source
                .index_offsets
                .lock()
                .map(|o| o.clone())
                .unwrap_or_default(),
        },
        watermark: (wm > 0).then(|| rfc3339(wm)),
        detector: s.trackers.detector.lock().ok().map(|d| d.stats()),
        counts: Counts {
            processed: p.processed.load(Ordering::Relaxed),
            indexed: p.indexed.load(Ordering::Relaxed),
            duplicates: p.duplicates.load(Ordering::Relaxed),
            rejected: p.rejected.load(Ordering::Relaxed),
            committed: p.committed.load(Ordering::Relaxed),
            commits: p.commits.load(Ordering::Relaxed),
            index_documents: s.index.num_docs(),
        },
    })
}

pub fn rfc3339(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    topic: Option<String>,
    region: Option<String>,
    lang: Option<String>,
    agency: Option<String>,
    complaint: Option<bool>,
    /// `open` or `answered` (complaints only).
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    sort: Option<String>,
    limit: Option<usize>,
    cursor: Option<String>,
    /// `/api/search/export` only.
    format: Option<String>,
    /// `/api/histogram` only: `1m`, `1h`, `1d`, … or `auto`.
    interval: Option<String>,
}

fn parse_time(param: &str, v: &str) -> Result<i64, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp_millis())
            .unwrap_or(0));
    }
    Err(ApiError::BadRequest(format!(
        "`{param}` is `{v}`: write a date as 2026-01-31 or a time as 2026-01-31T08:00:00Z"
    )))
}

impl SearchParams {
    fn filters(&self, s: &Shared) -> Result<(Filters, Sort, usize), ApiError> {
        let cfg = &s.config;
        let topic = match &self.topic {
            Some(t) if !t.is_empty() => {
                if !cfg.topics.iter().any(|x| &x.id == t) {
                    return Err(ApiError::BadRequest(format!(
                        "unknown topic `{t}`; topics are {}",
                        cfg.topics
                            .iter()
                            .map(|t| t.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                Some(t.clone())
            }
            _ => None,
        };
        let region = match &self.region {
            Some(r) if !r.is_empty() => {
                if r == "unknown" {
                    Some(0)
                } else {
                    match cfg.find_region(r) {
                        Some(code) => Some(code.0),
                        None => {
                            return Err(ApiError::BadRequest(format!(
                                "unknown region `{r}`; give a BPS code (3374), a slug (kota-semarang), `outside` or `unknown`"
                            )))
                        }
                    }
                }
            }
            _ => None,
        };
        let lang = match &self.lang {
            Some(l) if !l.is_empty() => match crate::enrich::lang::Lang::from_code(l) {
                Some(lang) => Some(lang.code().to_string()),
                None => {
                    return Err(ApiError::BadRequest(format!(
                        "unknown language `{l}`; use id, jv, en, su, ms or und"
                    )))
                }
            },
            _ => None,
        };
        let agency = match &self.agency {
            Some(a) if !a.is_empty() => {
                if !cfg.agencies.iter().any(|x| &x.id == a) {
                    return Err(ApiError::BadRequest(format!(
                        "unknown agency `{a}`; see /api/agencies for the ids"
                    )));
                }
                Some(a.clone())
            }
            _ => None,
        };
        let from_ms = self
            .from
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| parse_time("from", v))
            .transpose()?;
        let to_ms = self
            .to
            .as_deref()
            .filter(|v| !v.is_empty())
            .map(|v| parse_time("to", v))
            .transpose()?;
        if let (Some(f), Some(t)) = (from_ms, to_ms) {
            if f >= t {
                return Err(ApiError::BadRequest("`from` must be before `to`".into()));
            }
        }
        let (complaint, ids) = match self.status.as_deref() {
            None | Some("") => (self.complaint, None),
            Some(st @ ("open" | "answered")) => {
                let t =
                    s.trackers.latency.lock().map_err(|_| {
                        ApiError::Internal(anyhow::anyhow!("latency state poisoned"))
                    })?;
                let ids = if st == "open" {
                    t.open_ids()
                } else {
                    t.answered_ids()
                };
                (Some(true), Some(ids))
            }
            Some(o) => {
                return Err(ApiError::BadRequest(format!(
                    "`status` is `{o}`: use open or answered"
                )))
            }
        };
        let sort = match self.sort.as_deref() {
            None | Some("") | Some("time") => Sort::Time,
            Some("relevance") => Sort::Relevance,
            Some(o) => {
                return Err(ApiError::BadRequest(format!(
                    "`sort` is `{o}`: use `time` or `relevance`"
                )))
            }
        };
        let max = cfg.engine.http.max_limit;
        let limit = self.limit.unwrap_or(20);
        if limit == 0 || limit > max {
            return Err(ApiError::BadRequest(format!(
                "`limit` is {limit}: it must be between 1 and {max}"
            )));
        }
        Ok((
            Filters {
                q: self.q.clone(),
                topic,
                region,
                lang,
                agency,
                complaint,
                from_ms,
                to_ms,
                ids,
            },
            sort,
            limit,
        ))
    }
}

#[derive(Serialize)]
struct SearchResponse {
    total: u64,
    hits: Vec<HitResponse>,
    facets: FacetsResponse,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
struct RegionRef {
    code: String,
    name: String,
}

#[derive(Serialize)]
struct HitResponse {
    id: String,
    created_at: String,
    author: String,
    text: String,
    highlight: String,
    lang: String,
    topics: Vec<String>,
    region: RegionRef,
    agency: Option<String>,
    is_complaint: bool,
    answered_at: Option<String>,
    response_seconds: Option<f64>,
    url: String,
}

#[derive(Serialize)]
struct FacetsResponse {
    topic: BTreeMap<String, u64>,
    region: BTreeMap<String, u64>,
}

fn region_ref(s: &Shared, code: u16) -> RegionRef {
    if code == 0 {
        RegionRef {
            code: "unknown".into(),
            name: "unknown".into(),
        }
    } else if code == RegionCode::OUTSIDE.0 {
        RegionRef {
            code: RegionCode::OUTSIDE_SLUG.into(),
            name: RegionCode::OUTSIDE_NAME.into(),
        }
    } else {
        RegionRef {
            code: code.to_string(),
            name: s.index.region_name(code),
        }
    }
}

fn to_response(s: &Shared, r: SearchResult) -> SearchResponse {
    let statuses: Vec<Option<crate::latency::ComplaintStatus>> = match s.trackers.latency.lock() {
        Ok(t) => r.hits.iter().map(|h| t.status(h.id)).collect(),
        Err(_) => vec![None; r.hits.len()],
    };
    let mut statuses = statuses.into_iter();
    SearchResponse {
        total: r.total,
        hits: r
            .hits
            .into_iter()
            .map(|h| {
                let st = statuses.next().flatten();
                HitResponse {
                    id: h.id.to_string(),
                    created_at: rfc3339(h.created_at_ms),
                    url: format!(
                        "https://twitter.com/{}/status/{}",
                        if h.author.is_empty() { "i" } else { &h.author },
                        h.id
                    ),
                    author: h.author,
                    text: h.text,
                    highlight: h.highlight,
                    lang: h.lang,
                    topics: h.topics,
                    region: region_ref(s, h.region),
                    agency: h.agency,
                    is_complaint: h.is_complaint,
                    answered_at: st.and_then(|st| st.answered_at_ms).map(rfc3339),
                    response_seconds: st
                        .and_then(|st| st.response_ms)
                        .map(|ms| ms as f64 / 1000.0),
                }
            })
            .collect(),
        facets: FacetsResponse {
            topic: r.facets.topic,
            region: r
                .facets
                .region
                .into_iter()
                .map(|(k, v)| {
                    (
                        if k == 0 {
                            "unknown".to_string()
                        } else if k == RegionCode::OUTSIDE.0 {
                            RegionCode::OUTSIDE_SLUG.to_string()
                        } else {
                            k.to_string()
                        },
                        v,
                    )
                })
                .collect(),
        },
        next_cursor: r.next_cursor,
    }
}

async fn search(
    State(s): State<AppState>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let params = parse_query(params)?;
    let started = Instant::now();
    let (filters, sort, limit) = params.filters(&s)?;
    let cursor = params.cursor.clone().filter(|c| !c.is_empty());
    let s2 = s.clone();
    let result = tokio::task::spawn_blocking(move || {
        s2.index.search(&filters, sort, limit, cursor.as_deref())
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))??;
    s.metrics
        .search_seconds
        .with_label_values(&["search"])
        .observe(started.elapsed().as_secs_f64());
    // The query found nothing as written; these are its fuzzy retry's hits.
    let fuzzy = result.fuzzy;
    let body = Json(to_response(&s, result));
    Ok(if fuzzy {
        ([("x-kemala-fuzzy", "true")], body).into_response()
    } else {
        body.into_response()
    })
}

fn parse_query<T>(
    q: Result<Query<T>, axum::extract::rejection::QueryRejection>,
) -> Result<T, ApiError> {
    q.map(|Query(p)| p)
        .map_err(|e| ApiError::BadRequest(e.body_text()))
}

#[derive(Serialize)]
struct MetaResponse {
    topics: Vec<MetaTopic>,
    regions: Vec<MetaRegion>,
    agencies: Vec<MetaAgency>,
}

#[derive(Serialize)]
struct MetaTopic {
    id: String,
    name: String,
    name_en: String,
}

#[derive(Serialize)]
struct MetaRegion {
    code: String,
    name: String,
    slug: String,
}

#[derive(Serialize)]
struct MetaAgency {
    id: String,
    name: String,
}

/// The configured vocabularies, for the search page's filters.
async fn meta(State(s): State<AppState>) -> Json<MetaResponse> {
    let c = &s.config;
    Json(MetaResponse {
        topics: c
            .topics
            .iter()
            .map(|t| MetaTopic {
                id: t.id.clone(),
                name: t.name.clone(),
                name_en: t.name_en.clone(),
            })
            .collect(),
        regions: c
            .region_labels()
            .map(|(code, name, slug)| MetaRegion {
                code: if code == RegionCode::OUTSIDE.0 {
                    slug.to_string()
                } else {
                    code.to_string()
                },
                name: name.to_string(),
                slug: slug.to_string(),
            })
            .collect(),
        agencies: c
            .agencies
            .iter()
            .map(|a| MetaAgency {
                id: a.id.clone(),
                name: a.name.clone(),
            })
            .collect(),
    })
}

#[derive(Serialize)]
struct HistogramResponse {
    interval: String,
    total: u64,
    buckets: Vec<Bucket>,
}

#[derive(Serialize)]
struct Bucket {
    start: String,
    count: u64,
}

const AUTO_INTERVALS: &[(&str, i64)] = &[
    ("1m", 60_000),
    ("5m", 300_000),
    ("15m", 900_000),
    ("1h", 3_600_000),
    ("3h", 10_800_000),
    ("6h", 21_600_000),
    ("1d", 86_400_000),
    ("7d", 604_800_000),
    ("30d", 2_592_000_000),
];

async fn histogram(
    State(s): State<AppState>,
    q: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<HistogramResponse>, ApiError> {
    let params = parse_query(q)?;
    let started = Instant::now();
    let (filters, _, _) = SearchParams {
        limit: None,
        ..params.clone()
    }
    .filters(&s)?;
    let s2 = s.clone();
    let resp = tokio::task::spawn_blocking(move || -> Result<HistogramResponse, ApiError> {
        let (lo, hi) = match (filters.from_ms, filters.to_ms) {
            (Some(f), Some(t)) => (f, t),
            (f, t) => match s2.index.time_range() {
                Some((a, b)) => (f.unwrap_or(a), t.unwrap_or(b + 1)),
                None => {
                    return Ok(HistogramResponse {
                        interval: params.interval.clone().unwrap_or_else(|| "1h".into()),
                        total: 0,
                        buckets: Vec::new(),
                    })
                }
            },
        };
        let (name, interval_ms) = match params.interval.as_deref() {
            None | Some("") | Some("auto") => {
                let span = (hi - lo).max(1);
                AUTO_INTERVALS
                    .iter()
                    .find(|(_, ms)| span / ms <= 200)
                    .map(|(n, ms)| (n.to_string(), *ms))
                    .unwrap_or(("30d".into(), 2_592_000_000))
            }
            Some(i) => {
                let d = humantime::parse_duration(i).map_err(|_| ApiError::BadRequest(format!("`interval` is `{i}`: write e.g. 1m, 1h, 1d or auto")))?;
                let ms = d.as_millis() as i64;
                if ms < 60_000 {
                    return Err(ApiError::BadRequest("`interval` must be at least 1m".into()));
                }
                if (hi - lo) / ms > crate::index::search::MAX_BUCKETS {
                    return Err(ApiError::BadRequest(format!(
                        "`interval` {i} gives more than {} buckets for this time range; widen it or narrow `from`/`to`",
                        crate::index::search::MAX_BUCKETS
                    )));
                }
                (i.to_string(), ms)
            }
        };
        // Align buckets to whole intervals (UTC).
        let start = lo.div_euclid(interval_ms) * interval_ms;
        let counts = s2.index.histogram(&filters, start, hi, interval_ms)?;
        Ok(HistogramResponse {
            interval: name,
            total: counts.iter().sum(),
            buckets: counts
                .into_iter()
                .enumerate()
                .map(|(i, count)| Bucket {
                    start: rfc3339(start + i as i64 * interval_ms),
                    count,
                })
                .collect(),
        })
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))??;
    s.metrics
        .search_seconds
        .with_label_values(&["histogram"])
        .observe(started.elapsed().as_secs_f64());
    Ok(Json(resp))
}

fn csv_field(out: &mut String, v: &str) {
    if v.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&v.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(v);
    }
}

#[derive(Serialize)]
struct ExportRow<'a> {
    id: String,
    created_at: String,
    author: &'a str,
    text: &'a str,
    lang: &'a str,
    topics: &'a [String],
    region: RegionRef,
    agency: Option<&'a str>,
    is_complaint: bool,
    url: String,
}

/// Streams every match as CSV or NDJSON. Rows are produced on a blocking
/// thread into a small bounded channel, so memory stays constant however
/// many rows match, and a client that goes away stops the scan.
async fn export(
    State(s): State<AppState>,
    q: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let params = parse_query(q)?;
    let csv = match params.format.as_deref() {
        None | Some("") | Some("csv") => true,
        Some("ndjson") => false,
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "`format` is `{o}`: use `csv` or `ndjson`"
            )))
        }
    };
    let (filters, _, _) = SearchParams {
        limit: None,
        ..params
    }
    .filters(&s)?;
    // Validate the query before the 200 goes out.
    s.index.build_query(&filters)?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<String, std::io::Error>>(16);
    let s2 = s.clone();
    tokio::task::spawn_blocking(move || {
        let mut buf = String::with_capacity(64 * 1024);
        if csv {
            buf.push_str("id,created_at,author,region_code,region,lang,topics,agency,is_complaint,url,text\n");
        }
        let result = s2.index.for_each_match(&filters, |h| {
            let region = region_ref(&s2, h.region);
            let url = format!(
                "https://twitter.com/{}/status/{}",
                if h.author.is_empty() { "i" } else { &h.author },
                h.id
            );
            if csv {
                let topics = h.topics.join("|");
                for (i, v) in [
                    h.id.to_string().as_str(),
                    &rfc3339(h.created_at_ms),
                    &h.author,
                    &region.code,
                    &region.name,
                    &h.lang,
                    &topics,
                    h.agency.as_deref().unwrap_or(""),
                    if h.is_complaint { "true" } else { "false" },
                    &url,
                    &h.text,
                ]
                .iter()
                .enumerate()
                {
                    if i > 0 {
                        buf.push(',');
                    }
                    csv_field(&mut buf, v);
                }
                buf.push('\n');
            } else {
                let row = ExportRow {
                    id: h.id.to_string(),
                    created_at: rfc3339(h.created_at_ms),
                    author: &h.author,
                    text: &h.text,
                    lang: &h.lang,
                    topics: &h.topics,
                    region,
                    agency: h.agency.as_deref(),
                    is_complaint: h.is_complaint,
                    url,
                };
                if let Ok(line) = serde_json::to_string(&row) {
                    buf.push_str(&line);
                    buf.push('\n');
                }
            }
            if buf.len() >= 60 * 1024 {
                let chunk = std::mem::replace(&mut buf, String::with_capacity(64 * 1024));
                return tx.blocking_send(Ok(chunk)).is_ok();
            }
            true
        });
        match result {
            Ok(_) if !buf.is_empty() => {
                let _ = tx.blocking_send(Ok(buf));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!("export failed midway: {e}");
                let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let (ctype, ext) = if csv {
        ("text/csv; charset=utf-8", "csv")
    } else {
        ("application/x-ndjson", "ndjson")
    };
    Ok((
        [
            (header::CONTENT_TYPE, ctype.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"kemala-export.{ext}\""),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// The alert object of the API (and of webhooks).
#[derive(Serialize)]
pub struct AlertJson {
    id: String,
    kind: crate::alert::AlertKind,
    topic: Option<String>,
    region: RegionRef,
    state: crate::alert::AlertState,
    severity: String,
    started_at: String,
    detected_at: String,
    resolved_at: Option<String>,
    observed: f64,
    expected: f64,
    window_seconds: u64,
    score: f64,
    agencies: Vec<String>,
    sample_tweet_ids: Vec<String>,
    top_terms: Vec<String>,
    regions: Vec<RegionRef>,
    parent: Option<String>,
    summary: String,
    acked_by: Option<String>,
    acked_at: Option<String>,
}

fn region_ref_named(names: &std::collections::HashMap<u16, String>, code: u16) -> RegionRef {
    if code == 0 {
        RegionRef {
            code: "jateng".into(),
            name: "Provinsi Jawa Tengah".into(),
        }
    } else {
        RegionRef {
            code: code.to_string(),
            name: names
                .get(&code)
                .cloned()
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

pub fn alert_json(
    a: &crate::alert::StoredAlert,
    names: &std::collections::HashMap<u16, String>,
) -> AlertJson {
    AlertJson {
        id: a.id.clone(),
        kind: a.kind,
        topic: a.topic.clone(),
        region: region_ref_named(names, a.region),
        state: a.state,
        severity: a.severity.clone(),
        started_at: rfc3339(a.started_at_ms),
        detected_at: rfc3339(a.detected_at_ms),
        resolved_at: a.resolved_at_ms.map(rfc3339),
        observed: a.observed,
        expected: a.expected,
        window_seconds: a.window_seconds,
        score: a.score,
        agencies: a.agencies.clone(),
        sample_tweet_ids: a.sample_tweet_ids.iter().map(u64::to_string).collect(),
        top_terms: a.top_terms.clone(),
        regions: a
            .regions
            .iter()
            .map(|r| region_ref_named(names, *r))
            .collect(),
        parent: a.parent.clone(),
        summary: a.summary.clone(),
        acked_by: a.acked_by.clone(),
        acked_at: a.acked_at.clone(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AlertParams {
    state: Option<String>,
    topic: Option<String>,
    region: Option<String>,
    since: Option<String>,
    kind: Option<String>,
    limit: Option<usize>,
}

async fn alerts(
    State(s): State<AppState>,
    q: Result<Query<AlertParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<AlertJson>>, ApiError> {
    let p = parse_query(q)?;
    let state = match p.state.as_deref() {
        None | Some("") | Some("all") => None,
        Some("firing") => Some(crate::alert::AlertState::Firing),
        Some("resolved") => Some(crate::alert::AlertState::Resolved),
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "`state` is `{o}`: use firing, resolved or all"
            )))
        }
    };
    let kind = match p.kind.as_deref() {
        None | Some("") => None,
        Some("spike") => Some(crate::alert::AlertKind::Spike),
        Some("overdue") => Some(crate::alert::AlertKind::Overdue),
        Some(o) => {
            return Err(ApiError::BadRequest(format!(
                "`kind` is `{o}`: use spike or overdue"
            )))
        }
    };
    let region: Option<u16> = match p.region.as_deref() {
        None | Some("") => None,
        Some("jateng") => Some(0),
        Some(r) => Some(s.config.find_region(r).map(|code| code.0).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "unknown region `{r}`; give a BPS code, a slug or `jateng`"
            ))
        })?),
    };
    let since = p
        .since
        .as_deref()
        .filter(|v| !v.is_empty())
        .map(|v| parse_time("since", v))
        .transpose()?;
    let limit = p.limit.unwrap_or(100).min(s.config.engine.http.max_limit);
    let list = s.alerts.list(|a| {
        state.is_none_or(|st| a.state == st)
            && kind.is_none_or(|k| a.kind == k)
            && p.topic
                .as_deref()
                .is_none_or(|t| t.is_empty() || a.topic.as_deref() == Some(t))
            && region.is_none_or(|r| a.region == r)
            && since.is_none_or(|ms| {
                a.detected_at_ms >= ms || a.resolved_at_ms.is_some_and(|r| r >= ms)
            })
    });
    Ok(Json(
        list.iter()
            .take(limit)
            .map(|a| alert_json(a, &s.region_names))
            .collect(),
    ))
}

async fn alerts_stream(
    State(s): State<AppState>,
) -> axum::response::sse::Sse<
    impl futures::Stream<Item = Result<axum::response::sse::Event, std::convert::Infallible>>,
> {
    use axum::response::sse::{Event, KeepAlive, Sse};
    let rx = s.alerts.subscribe();
    let names = s.region_names.clone();
    let stream = futures::stream::unfold((rx, names), |(mut rx, names)| async move {
        loop {
            match rx.recv().await {
                Ok(a) => {
                    let event = match a.state {
                        crate::alert::AlertState::Firing => "firing",
                        crate::alert::AlertState::Resolved => "resolved",
                    };
                    let data = serde_json::to_string(&alert_json(&a, &names)).unwrap_or_default();
                    return Some((
                        Ok(Event::default().event(event).id(a.id.clone()).data(data)),
                        (rx, names),
                    ));
                }
                // A slow reader misses some changes; the list endpoint has them all.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn ack(
    State(s): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: axum::http::HeaderMap,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let tokens = &s.config.engine.http.api_tokens;
    let Some(token) = token else {
        return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "send `Authorization: Bearer <token>`; tokens are set in http.api_tokens or KEMALA_API_TOKENS"}))).into_response();
    };
    if !tokens.iter().any(|t| t == token) {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "that token is not one of http.api_tokens"})),
        )
            .into_response();
    }
    // Name the acknowledger by a prefix of its token, never the whole secret.
    let who = format!("token:{}", token.chars().take(4).collect::<String>());
    match s.alerts.ack(
        &id,
        &who,
        &Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ) {
        Some(a) => Json(alert_json(&a, &s.region_names)).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": format!("no alert `{id}`")})),
        )
            .into_response(),
    }
}

#[derive(Serialize)]
struct Quantiles {
    p50: Option<f64>,
    p90: Option<f64>,
    p99: Option<f64>,
    max: Option<f64>,
}

#[derive(Serialize)]
struct AgencyResponse {
    id: String,
    name: String,
    complaints: u64,
    answered: u64,
    open: u64,
    evicted: u64,
    over_target: u64,
    oldest_open_seconds: Option<f64>,
    /// Answers this agency gave (forwards included), and their times.
    responses: u64,
    response_seconds: Quantiles,
    within_target_ratio: Option<f64>,
}

/// Per agency: complaints routed to it, answered, open, and how fast it answers.
async fn agencies(State(s): State<AppState>) -> Result<Json<Vec<AgencyResponse>>, ApiError> {
    let wm = s.progress.watermark_ms.load(Ordering::Relaxed);
    let stats = s
        .trackers
        .latency
        .lock()
        .map_err(|_| ApiError::Internal(anyhow::anyhow!("latency state poisoned")))?
        .agency_stats(wm);
    Ok(Json(
        stats
            .into_iter()
            .map(|st| {
                let a = &s.config.agencies[st.agency.0 as usize];
                AgencyResponse {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    complaints: st.complaints,
                    answered: st.answered,
                    open: st.open,
                    evicted: st.evicted,
                    over_target: st.over_target,
                    oldest_open_seconds: st.oldest_open_seconds,
                    responses: st.responses,
                    response_seconds: Quantiles {
                        p50: st.p50,
                        p90: st.p90,
                        p99: st.p99,
                        max: st.max,
                    },
                    within_target_ratio: st.within_target_ratio,
                }
            })
            .collect(),
    ))
}
