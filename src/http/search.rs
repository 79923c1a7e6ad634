//! `/api/search`, `/api/histogram` and `/api/search/export`: the request
//! parameters and their checks, shared by the three, and the response
//! types of each.

use std::collections::BTreeMap;
use std::time::Instant;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{parse_query, time_param, ApiError, AppState};
use crate::index::search::{Filters, SearchResult, Sort, MAX_BUCKETS};
use crate::model::RegionCode;
use crate::state::Shared;
use crate::timestamp::rfc3339;

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
            Some(l) if !l.is_empty() => match crate::model::Lang::from_code(l) {
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
        let from_ms = time_param("from", self.from.as_deref())?;
        let to_ms = time_param("to", self.to.as_deref())?;
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
pub(super) struct SearchResponse {
    total: u64,
    hits: Vec<HitResponse>,
    facets: FacetsResponse,
    next_cursor: Option<String>,
}

#[derive(Serialize)]
pub(super) struct RegionRef {
    code: String,
    name: String,
}

#[derive(Serialize)]
pub(super) struct HitResponse {
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
pub(super) struct FacetsResponse {
    topic: BTreeMap<String, u64>,
    region: BTreeMap<String, u64>,
}

fn region_ref(s: &Shared, code: u16) -> RegionRef {
    let (code, name) = match code {
        0 => ("unknown".to_string(), "unknown".to_string()),
        c if c == RegionCode::OUTSIDE.0 => (
            RegionCode::OUTSIDE_SLUG.to_string(),
            RegionCode::OUTSIDE_NAME.to_string(),
        ),
        c => (c.to_string(), s.index.region_name(c)),
    };
    RegionRef { code, name }
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

pub(super) async fn search(
    State(s): State<AppState>,
    params: Result<Query<SearchParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let params = parse_query(params)?;
    let started = Instant::now();
    let (filters, sort, limit) = params.filters(&s)?;
    let cursor = params.cursor.clone().filter(|c| !c.is_empty());
    let s2 = s.clone();
    // The response is built on the blocking pool too: it reads the latency
    // state, whose lock ingestion takes, and an async worker must never wait
    // on a lock (every request queued behind it would wait too).
    let (fuzzy, response) = timed_blocking(&s, "search", started, move || {
        let result = s2.index.search(&filters, sort, limit, cursor.as_deref())?;
        // The query found nothing as written; these are its fuzzy retry's hits.
        Ok((result.fuzzy, to_response(&s2, result)))
    })
    .await?;
    let body = Json(response);
    Ok(if fuzzy {
        ([("x-kemala-fuzzy", "true")], body).into_response()
    } else {
        body.into_response()
    })
}

/// Runs `f` on the blocking pool (a tantivy query is CPU work) and records
/// the time since `started` as a `kind` search.
async fn timed_blocking<T: Send + 'static>(
    s: &AppState,
    kind: &str,
    started: Instant,
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let result = tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.into()))??;
    s.metrics
        .search_seconds
        .with_label_values(&[kind])
        .observe(started.elapsed().as_secs_f64());
    Ok(result)
}

#[derive(Serialize)]
pub(super) struct HistogramResponse {
    interval: String,
    total: u64,
    buckets: Vec<Bucket>,
}

#[derive(Serialize)]
pub(super) struct Bucket {
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

pub(super) async fn histogram(
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
    let resp = timed_blocking(&s, "histogram", started, move || {
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
                if (hi - lo) / ms > MAX_BUCKETS {
                    return Err(ApiError::BadRequest(format!(
                        "`interval` {i} gives more than {} buckets for this time range; widen it or narrow `from`/`to`",
                        MAX_BUCKETS
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
    .await?;
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
pub(super) struct ExportRow<'a> {
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
pub(super) async fn export(
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
    // A bulk read: its own thread, at background priority (see `sched`), so
    // that searches made meanwhile are served first.
    let export = move || {
        crate::sched::lower();
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
    };
    std::thread::Builder::new()
        .name("kemala-export".into())
        .spawn(export)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot start the export: {e}")))?;
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

#[cfg(test)]
mod tests {
    use axum::http::StatusCode;

    use crate::http::testing::{error_message, TestApp, TWEETS};

    #[tokio::test]
    async fn a_misspelt_query_is_retried_fuzzy_and_says_so() {
        let app = TestApp::new();
        let (status, headers, body) = app.get("/api/search?q=bnajir").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["x-kemala-fuzzy"], "true");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["total"], 2);
        let (_, headers, _) = app.get("/api/search?q=banjir").await;
        assert!(headers.get("x-kemala-fuzzy").is_none());
    }

    #[tokio::test]
    async fn search_answers_hits_facets_and_a_cursor() {
        let app = TestApp::new();
        let body = app.ok_json("/api/search?q=banjir").await;
        assert_eq!(body["total"], 2);
        let hits = body["hits"].as_array().unwrap();
        assert_eq!(hits[0]["id"], "2", "newest first");
        assert_eq!(hits[1]["id"], "1");
        assert_eq!(hits[1]["created_at"], "2026-01-05T01:00:00Z");
        assert_eq!(hits[1]["url"], "https://twitter.com/warga1/status/1");
        assert!(hits[1]["highlight"]
            .as_str()
            .unwrap()
            .contains("<b>Banjir</b>"));
        assert_eq!(hits[1]["region"]["code"], "3321");
        assert_eq!(body["facets"]["topic"]["flood"], 2);
        assert!(body["next_cursor"].is_null());
        let (_, page) = app.json("/api/search?limit=4").await;
        assert_eq!(page["total"], TWEETS.len());
        assert_eq!(page["hits"].as_array().unwrap().len(), 4);
        let cursor = page["next_cursor"].as_str().unwrap();
        let (_, rest) = app
            .json(&format!("/api/search?limit=4&cursor={cursor}"))
            .await;
        assert_eq!(rest["hits"].as_array().unwrap().len(), TWEETS.len() - 4);
    }

    #[tokio::test]
    async fn bad_parameters_are_400s_that_say_what_to_fix() {
        let app = TestApp::new();
        app.assert_bad_requests(
            "/api/search",
            &[
                ("q=%22banjir", "unbalanced quotes"),
                ("topic=floods", "unknown topic `floods`"),
                ("region=atlantis", "unknown region `atlantis`"),
                ("lang=fr", "unknown language `fr`"),
                ("agency=nobody", "unknown agency `nobody`"),
                ("from=kemarin", "`from` is `kemarin`"),
                (
                    "from=2026-01-06&to=2026-01-05",
                    "`from` must be before `to`",
                ),
                ("status=lost", "`status` is `lost`"),
                ("sort=random", "`sort` is `random`"),
                ("limit=0", "`limit` is 0"),
                ("page=2", "page"),
            ],
        )
        .await;
    }

    #[tokio::test]
    async fn filters_narrow_the_hits() {
        let app = TestApp::new();
        let ids = |body: &serde_json::Value| -> Vec<String> {
            let mut v: Vec<String> = body["hits"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["id"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        let (_, body) = app.json("/api/search?region=kab-brebes").await;
        assert_eq!(ids(&body), ["3", "4"]);
        let (_, body) = app.json("/api/search?topic=illegal_fees").await;
        assert_eq!(ids(&body), ["4"]);
        let (_, body) = app
            .json("/api/search?from=2026-01-05T03:00:00Z&to=2026-01-05T05:00:00Z")
            .await;
        assert_eq!(ids(&body), ["3", "4"]);
        let (_, body) = app.json("/api/search?complaint=false").await;
        assert!(ids(&body).contains(&"5".to_string()));
    }

    #[tokio::test]
    async fn the_histogram_counts_the_same_matches() {
        let app = TestApp::new();
        let body = app.ok_json("/api/histogram?interval=1h").await;
        assert_eq!(body["interval"], "1h");
        assert_eq!(body["total"], TWEETS.len());
        let buckets = body["buckets"].as_array().unwrap();
        assert_eq!(buckets[0]["start"], "2026-01-05T01:00:00Z");
        assert!(buckets.iter().all(|b| b["count"] == 1));
        let (_, body) = app.json("/api/histogram?q=banjir").await;
        assert_eq!(body["total"], 2);
        let (status, body) = app.json("/api/histogram?interval=10s").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(error_message(&body).contains("at least 1m"));
    }

    #[tokio::test]
    async fn export_streams_every_match_as_csv_or_ndjson() {
        let app = TestApp::new();
        let (status, headers, body) = app.get("/api/search/export?q=brebes").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "text/csv; charset=utf-8");
        let lines: Vec<&str> = body.lines().collect();
        assert!(lines[0].starts_with("id,created_at,author,region_code"));
        assert_eq!(lines.len(), 3);
        assert!(body.contains("\"Jalan rusak parah di Brebes, banyak lubang\""));
        let (status, headers, body) = app.get("/api/search/export?q=brebes&format=ndjson").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers["content-type"], "application/x-ndjson");
        let rows: Vec<serde_json::Value> = body
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r["region"]["code"] == "3329"));
        let (status, _) = app.json("/api/search/export?format=xml").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
}
