//! The Grafana dashboards (`dashboards/*.json`) and the Prometheus set-up
//! (`config/prometheus/`), checked with the real tools:
//! - promtool accepts the scrape config and the rules, and the rules' own
//!   unit tests pass with their real `for:` durations;
//! - every dashboard is well formed: ids, layout, data sources, variables,
//!   units, rate windows, and only metrics kemala exports or records;
//! - every query of every panel returns data from a real Prometheus that
//!   scrapes `kemala demo`, the engine-health alerts stay quiet while tweets
//!   flow, and `KemalaIngestStopped` fires once the feed has stopped;
//! - `/metrics` keeps a bounded number of series whatever hashtags, places,
//!   handles and language codes the tweets carry.
//!
//! Needs `prometheus` and `promtool` on the PATH (Debian's `prometheus`
//! package, which scripts/test.sh installs). Prometheus runs as a child on
//! 127.0.0.1 with its data in a temporary directory.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::common::{
    assert_no_problems, free_port, http, produce_all, repo, wait_for, wait_rising, Proc,
};
use crate::engine::InProc;

/// The dashboards the product promises, by uid (and file name).
const UIDS: [&str; 4] = [
    "kemala-overview",
    "kemala-oncall",
    "kemala-agencies",
    "kemala-engine",
];
/// Template variables every dashboard has, besides `datasource`.
const FILTERS: [&str; 3] = ["topic", "region", "agency"];
const TIME_UNITS: [&str; 11] = [
    "s",
    "ms",
    "µs",
    "ns",
    "m",
    "h",
    "d",
    "dtdurations",
    "dtdurationms",
    "clocks",
    "clockms",
];
const RATIO_UNITS: [&str; 2] = ["percentunit", "percent"];
/// What `$__rate_interval` stands for when this test evaluates a query.
const RATE_INTERVAL: &str = "1m";

// ---- Dashboards as data ----------------------------------------------------

pub(crate) struct Dashboard {
    file: String,
    json: Value,
}

impl Dashboard {
    pub(crate) fn uid(&self) -> &str {
        self.json["uid"].as_str().unwrap_or("")
    }

    /// Every panel, including those inside rows.
    pub(crate) fn panels(&self) -> Vec<&Value> {
        let mut out = Vec::new();
        for p in self.json["panels"].as_array().into_iter().flatten() {
            out.push(p);
            out.extend(p["panels"].as_array().into_iter().flatten());
        }
        out
    }

    fn variables(&self) -> Vec<&Value> {
        self.json["templating"]["list"]
            .as_array()
            .into_iter()
            .flatten()
            .collect()
    }

    fn variable(&self, name: &str) -> Option<&Value> {
        self.variables().into_iter().find(|v| v["name"] == name)
    }
}

pub(crate) fn dashboards() -> Vec<Dashboard> {
    let dir = repo().join("dashboards");
    let mut out = Vec::new();
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let json = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{}: not valid JSON: {e}", path.display()));
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            out.push(Dashboard { file, json });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    assert!(!out.is_empty(), "no dashboard in {}", dir.display());
    out
}

/// A PromQL expression a dashboard sends, and where it comes from.
pub(crate) struct Query {
    /// E.g. "kemala-overview › panel 3 `Spikes firing now` › A", for messages.
    pub(crate) place: String,
    pub(crate) expr: String,
    pub(crate) kind: QueryKind,
}

#[derive(Clone, PartialEq)]
pub(crate) enum QueryKind {
    /// A panel target; `range` when Grafana runs it over the time range.
    Target {
        range: bool,
    },
    Annotation,
    /// `label_values(selector, label)`: `expr` is the selector.
    Variable {
        label: String,
    },
}

pub(crate) fn queries(d: &Dashboard) -> Vec<Query> {
    let mut out = Vec::new();
    for p in d.panels() {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push(Query {
                place: format!(
                    "{} › panel {} `{}` › {}",
                    d.uid(),
                    p["id"],
                    str_of(&p["title"]),
                    str_of(&t["refId"])
                ),
                expr: str_of(&t["expr"]).to_string(),
                kind: QueryKind::Target {
                    range: t["range"].as_bool().unwrap_or(true)
                        && !t["instant"].as_bool().unwrap_or(false),
                },
            });
        }
    }
    for a in d.json["annotations"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if let Some(expr) = a["expr"].as_str() {
            out.push(Query {
                place: format!("{} › annotation `{}`", d.uid(), str_of(&a["name"])),
                expr: expr.to_string(),
                kind: QueryKind::Annotation,
            });
        }
    }
    for v in d.variables() {
        if v["type"] == "query" {
            let place = format!("{} › variable `{}`", d.uid(), str_of(&v["name"]));
            match label_values(str_of(&v["definition"])) {
                Some((selector, label)) => out.push(Query {
                    place,
                    expr: selector,
                    kind: QueryKind::Variable { label },
                }),
                None => out.push(Query {
                    place,
                    expr: String::new(),
                    kind: QueryKind::Variable {
                        label: String::new(),
                    },
                }),
            }
        }
    }
    out
}

pub(crate) fn str_of(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// `label_values(selector, label)` → (selector, label).
fn label_values(def: &str) -> Option<(String, String)> {
    let inner = def
        .trim()
        .strip_prefix("label_values(")?
        .strip_suffix(')')?;
    let (selector, label) = inner.rsplit_once(',')?;
    Some((selector.trim().to_string(), label.trim().to_string()))
}

// ---- PromQL text helpers (no parser: just enough to lint) -----------------

/// Grafana variable references: `$name`, `${name}`, `${name:format}`, `[[name]]`,
/// as (start, end, name).
fn var_refs(expr: &str) -> Vec<(usize, usize, String)> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && b.get(i + 1) == Some(&b'{') {
            if let Some(close) = expr[i + 2..].find('}') {
                let name = expr[i + 2..i + 2 + close].split(':').next().unwrap_or("");
                out.push((i, i + 3 + close, name.to_string()));
                i += 3 + close;
                continue;
            }
        } else if b[i] == b'$' {
            let len = expr[i + 1..]
                .bytes()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                .count();
            if len > 0 {
                out.push((i, i + 1 + len, expr[i + 1..i + 1 + len].to_string()));
                i += 1 + len;
                continue;
            }
        } else if expr[i..].starts_with("[[") {
            if let Some(close) = expr[i + 2..].find("]]") {
                let name = expr[i + 2..i + 2 + close].split(':').next().unwrap_or("");
                out.push((i, i + 4 + close, name.to_string()));
                i += 4 + close;
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Replaces every variable reference by `value(name)`; unknown names are errors.
fn substitute(expr: &str, value: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    let mut out = String::new();
    let mut last = 0;
    for (start, end, name) in var_refs(expr) {
        let v = value(&name).ok_or_else(|| format!("no value for `${name}`"))?;
        out.push_str(&expr[last..start]);
        out.push_str(&v);
        last = end;
    }
    out.push_str(&expr[last..]);
    Ok(out)
}

/// The values Grafana gives its built-in variables, as this test evaluates them.
pub(crate) fn builtin(name: &str) -> Option<String> {
    builtin_over(name, 3600)
}

/// The same, for a dashboard time range of the last `range_s` seconds.
pub(crate) fn builtin_over(name: &str, range_s: u64) -> Option<String> {
    let v = match name {
        "__rate_interval" => RATE_INTERVAL.to_string(),
        "__interval" => "15s".to_string(),
        "__interval_ms" => "15000".to_string(),
        "__range" => format!("{range_s}s"),
        "__range_s" => range_s.to_string(),
        "__range_ms" => (range_s * 1000).to_string(),
        "datasource" => "prometheus".to_string(),
        _ => return None,
    };
    Some(v)
}

/// `expr` with string literals blanked out, so that tokens and operators can be found.
fn code_only(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in expr.chars() {
        match quote {
            Some(q) => {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == q {
                    quote = None;
                    out.push(c);
                    continue;
                }
                out.push(' ');
            }
            None => {
                if c == '"' || c == '\'' || c == '`' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

/// Metric names a PromQL expression reads: `kemala_…` and recorded `kemala:…`.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let code = code_only(expr);
    code.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .filter(|t| t.starts_with("kemala_") || t.starts_with("kemala:"))
        .map(str::to_string)
        .collect()
}

/// The range windows of `rate(`, `irate(` and `increase(` calls, as (function, window).
fn rate_windows(expr: &str) -> Vec<(String, String)> {
    let code = code_only(expr);
    let b = code.as_bytes();
    let mut out = Vec::new();
    for f in ["rate(", "irate(", "increase("] {
        let mut from = 0;
        while let Some(pos) = code[from..].find(f) {
            let start = from + pos;
            from = start + f.len();
            if start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_') {
                continue; // `irate(` seen while looking for `rate(`
            }
            let mut depth = 1;
            let mut end = from;
            while end < b.len() && depth > 0 {
                match b[end] {
                    b'(' => depth += 1,
                    b')' => depth -= 1,
                    _ => {}
                }
                end += 1;
            }
            let args = &code[from..end.saturating_sub(1)];
            let window = args
                .rfind('[')
                .and_then(|open| {
                    args[open + 1..]
                        .find(']')
                        .map(|close| args[open + 1..open + 1 + close].to_string())
                })
                .unwrap_or_default();
            out.push((f.trim_end_matches('(').to_string(), window));
        }
    }
    out
}

/// Which kind of unit a target's values need.
#[derive(Debug, PartialEq)]
enum UnitNeed {
    /// Reads a `_seconds` metric (other than the `_count` of a histogram).
    Time,
    /// Divides: a ratio (or a mean time).
    TimeOrRatio,
    None,
}

fn unit_need(expr: &str) -> UnitNeed {
    let code = code_only(expr);
    if code.contains('/') {
        UnitNeed::TimeOrRatio
    } else if metric_names(expr)
        .iter()
        .any(|m| m.contains("_seconds") && !m.ends_with("_count"))
    {
        UnitNeed::Time
    } else {
        UnitNeed::None
    }
}

/// The unit Grafana shows a target's values in: a per-query override
/// (`byFrameRefID`, or `byName` "Value #X" after a merge), else the panel's.
fn unit_of(panel: &Value, ref_id: &str, num_targets: usize) -> String {
    let names = if num_targets == 1 {
        vec!["Value".to_string(), format!("Value #{ref_id}")]
    } else {
        vec![format!("Value #{ref_id}")]
    };
    for o in panel["fieldConfig"]["overrides"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let m = &o["matcher"];
        let matches = (m["id"] == "byFrameRefID" && m["options"] == ref_id)
            || (m["id"] == "byName" && names.iter().any(|n| m["options"] == n.as_str()));
        if matches {
            for p in o["properties"].as_array().into_iter().flatten() {
                if p["id"] == "unit" {
                    return str_of(&p["value"]).to_string();
                }
            }
        }
    }
    str_of(&panel["fieldConfig"]["defaults"]["unit"]).to_string()
}

/// Metric names `src/telemetry.rs` defines, with `_bucket`, `_sum` and
/// `_count` for its histograms.
fn exported_metrics() -> BTreeSet<String> {
    let src = std::fs::read_to_string(repo().join("src/telemetry.rs")).unwrap();
    let mut out = BTreeSet::new();
    let mut from = 0;
    while let Some(pos) = src[from..].find("\"kemala_") {
        let start = from + pos + 1;
        let end = start + src[start..].find('"').unwrap();
        let name = &src[start..end];
        out.insert(name.to_string());
        if src[..start - 1].trim_end().ends_with("HistogramOpts::new(") {
            for suffix in ["_bucket", "_sum", "_count"] {
                out.insert(format!("{name}{suffix}"));
            }
        }
        from = end;
    }
    assert!(out.len() > 10, "found only {out:?} in src/telemetry.rs");
    out
}

fn prometheus_dir() -> PathBuf {
    repo().join("config/prometheus")
}

/// `record:` names of the recording rules.
fn recorded_metrics() -> BTreeSet<String> {
    yaml_values(&prometheus_dir().join("rules/recording.yml"), "record")
}

/// `alert:` names of the alerting rules.
pub(crate) fn alert_names() -> BTreeSet<String> {
    yaml_values(&prometheus_dir().join("rules/alerts.yml"), "alert")
}

/// Values of `- key: value` / `key: value` lines (enough for the rule files).
fn yaml_values(path: &Path, key: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .filter_map(|l| {
            l.trim()
                .trim_start_matches("- ")
                .strip_prefix(&format!("{key}:"))
        })
        .map(|v| v.trim().trim_matches('"').to_string())
        .collect()
}

// ---- Structure -------------------------------------------------------------

fn ds_ok(v: &Value) -> bool {
    v["type"] == "prometheus" && v["uid"] == "${datasource}"
}

fn check_dashboard(d: &Dashboard, known: &BTreeSet<String>, problems: &mut Vec<String>) {
    let mut problem = |p: String| problems.push(format!("{}: {p}", d.file));
    let j = &d.json;
    if !UIDS.contains(&d.uid()) || d.file != format!("{}.json", d.uid()) {
        problem(format!(
            "uid `{}` is not one of {UIDS:?} or does not match the file name",
            d.uid()
        ));
    }
    if str_of(&j["title"]).trim().is_empty() {
        problem("no title".into());
    }
    if j["schemaVersion"].as_u64().unwrap_or(0) < 38 {
        problem(format!(
            "schemaVersion {} < 38 (Grafana 10)",
            j["schemaVersion"]
        ));
    }
    if !j["id"].is_null() {
        problem("`id` must be null so that provisioning assigns one".into());
    }

    // Template variables.
    let defined: BTreeSet<String> = d
        .variables()
        .iter()
        .map(|v| str_of(&v["name"]).to_string())
        .collect();
    match d.variable("datasource") {
        Some(v) if v["type"] == "datasource" && v["query"] == "prometheus" => {}
        _ => problem("no `datasource` variable of type datasource over prometheus".into()),
    }
    for name in FILTERS {
        let Some(v) = d.variable(name) else {
            problem(format!("no `{name}` variable"));
            continue;
        };
        let def = str_of(&v["definition"]);
        let ok = v["type"] == "query"
            && v["includeAll"] == true
            && v["multi"] == true
            && ds_ok(&v["datasource"])
            && label_values(def)
                .is_some_and(|(sel, label)| label == name && !metric_names(&sel).is_empty())
            && (v["query"]["query"].is_null() || v["query"]["query"] == def);
        if !ok {
            problem(format!(
                "variable `{name}` must be a multi-select query variable with All over label_values(kemala_…, {name}) on ${{datasource}}"
            ));
        }
    }

    // Panels: ids, layout, data sources, units.
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<(i64, i64, i64, i64, String)> = Vec::new();
    for p in d.panels() {
        let title = str_of(&p["title"]);
        let id = p["id"].as_i64();
        let here = format!("panel {} `{title}`", p["id"]);
        match id {
            Some(id) if ids.insert(id) => {}
            _ => problem(format!("{here}: missing or duplicate id")),
        }
        if title.trim().is_empty() {
            problem(format!("{here}: no title"));
        }
        let g = &p["gridPos"];
        let (x, y, w, h) = (
            g["x"].as_i64(),
            g["y"].as_i64(),
            g["w"].as_i64(),
            g["h"].as_i64(),
        );
        match (x, y, w, h) {
            (Some(x), Some(y), Some(w), Some(h))
                if x >= 0 && y >= 0 && w > 0 && h > 0 && x + w <= 24 =>
            {
                for (bx, by, bw, bh, other) in &boxes {
                    if x < bx + bw && *bx < x + w && y < by + bh && *by < y + h {
                        problem(format!("{here} overlaps {other}"));
                    }
                }
                boxes.push((x, y, w, h, here.clone()));
            }
            _ => problem(format!("{here}: bad gridPos {g}")),
        }
        let kind = str_of(&p["type"]);
        let targets = p["targets"].as_array().cloned().unwrap_or_default();
        if kind == "row" || kind == "text" {
            continue;
        }
        if targets.is_empty() {
            problem(format!("{here}: no query"));
        }
        if !ds_ok(&p["datasource"]) {
            problem(format!("{here}: panel data source is not ${{datasource}}"));
        }
        let mut refs = BTreeSet::new();
        for t in &targets {
            let r = str_of(&t["refId"]);
            if r.trim().is_empty() || !refs.insert(r.to_string()) {
                problem(format!("{here}: empty or duplicate refId `{r}`"));
            }
            if !ds_ok(&t["datasource"]) {
                problem(format!("{here} › {r}: target data source is not {{\"type\":\"prometheus\",\"uid\":\"${{datasource}}\"}}"));
            }
            let expr = str_of(&t["expr"]);
            if expr.trim().is_empty() {
                problem(format!("{here} › {r}: empty expression"));
            }
            let unit = unit_of(p, r, targets.len());
            let ok = match unit_need(expr) {
                UnitNeed::Time => TIME_UNITS.contains(&unit.as_str()),
                UnitNeed::TimeOrRatio => {
                    TIME_UNITS.contains(&unit.as_str()) || RATIO_UNITS.contains(&unit.as_str())
                }
                UnitNeed::None => true,
            };
            if !ok {
                problem(format!(
                    "{here} › {r}: `{expr}` is a {:?} panel but its unit is `{unit}`",
                    unit_need(expr)
                ));
            }
        }
    }
    for a in j["annotations"]["list"].as_array().into_iter().flatten() {
        if a["expr"].is_string() && !ds_ok(&a["datasource"]) {
            problem(format!(
                "annotation `{}`: data source is not ${{datasource}}",
                str_of(&a["name"])
            ));
        }
    }

    // Every expression: variables, regex matching, rate windows, metrics.
    for q in queries(d) {
        if q.expr.trim().is_empty() {
            problem(format!(
                "{}: no expression (or not label_values(selector, label))",
                q.place
            ));
            continue;
        }
        for (start, _, name) in var_refs(&q.expr) {
            if !defined.contains(&name) && !name.starts_with("__") {
                problem(format!(
                    "{}: `${name}` is not a variable of this dashboard",
                    q.place
                ));
            }
            if FILTERS.contains(&name.as_str()) && !q.expr[..start].ends_with("=~\"") {
                problem(format!("{}: `${name}` must be regex-matched (label=~\"${name}\") for multi-select and All", q.place));
            }
        }
        for (f, window) in rate_windows(&q.expr) {
            if window != "$__rate_interval" && window != "$__range" {
                problem(format!(
                    "{}: {f}(…[{window}]) should use [$__rate_interval] (or [$__range] for a whole-range figure); fixed windows belong in recording rules",
                    q.place
                ));
            }
        }
        let names = metric_names(&q.expr);
        if names.is_empty() {
            problem(format!("{}: reads no kemala metric: `{}`", q.place, q.expr));
        }
        for m in names {
            if !known.contains(&m) {
                problem(format!(
                    "{}: `{m}` is neither exported by src/telemetry.rs nor recorded in config/prometheus/rules/recording.yml",
                    q.place
                ));
            }
        }
    }
}

#[test]
fn dashboards_are_well_formed() {
    let mut known = exported_metrics();
    let recorded = recorded_metrics();
    known.extend(recorded.iter().cloned());
    let ds = dashboards();
    let mut problems = Vec::new();
    for uid in UIDS {
        if !ds.iter().any(|d| d.uid() == uid) {
            problems.push(format!("no dashboard with uid `{uid}` in dashboards/"));
        }
    }
    let mut num_panels = 0;
    for d in &ds {
        num_panels += d.panels().len();
        check_dashboard(d, &known, &mut problems);
    }
    for r in &recorded {
        if !r.starts_with("kemala:") {
            problems.push(format!("recording rule `{r}` is not named kemala:…"));
        }
    }

    // Provisioning: the data source the variables default to, and the file provider.
    let prov = repo().join("config/grafana/provisioning");
    let datasources = std::fs::read_to_string(prov.join("datasources/kemala.yaml")).unwrap();
    for needle in [
        "type: prometheus",
        "uid: prometheus",
        "url: http://127.0.0.1:9090",
    ] {
        if !datasources.contains(needle) {
            problems.push(format!(
                "provisioning/datasources/kemala.yaml lacks `{needle}`"
            ));
        }
    }
    let providers = std::fs::read_to_string(prov.join("dashboards/kemala.yaml")).unwrap();
    for needle in ["type: file", "path: ${KEMALA_DASHBOARDS}"] {
        if !providers.contains(needle) {
            problems.push(format!(
                "provisioning/dashboards/kemala.yaml lacks `{needle}`"
            ));
        }
    }
    for d in &ds {
        if d.variable("datasource")
            .is_some_and(|v| v["current"]["value"] != "prometheus")
        {
            problems.push(format!(
                "{}: the datasource variable does not default to the provisioned uid `prometheus`",
                d.file
            ));
        }
    }
    eprintln!("checked {} dashboards, {num_panels} panels", ds.len());
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn lint_helpers_find_what_they_should() {
    assert_eq!(
        var_refs(r#"rate(x{topic=~"$topic"}[$__rate_interval]) ${agency:regex} [[region]]"#)
            .into_iter()
            .map(|r| r.2)
            .collect::<Vec<_>>(),
        ["topic", "__rate_interval", "agency", "region"]
    );
    assert_eq!(
        rate_windows(
            "sum(irate(a[5m])) + increase(b{x=\"[1h]\"}[$__range]) / rate(c[$__rate_interval])"
        ),
        [
            ("rate".to_string(), "$__rate_interval".to_string()),
            ("irate".to_string(), "5m".to_string()),
            ("increase".to_string(), "$__range".to_string()),
        ]
    );
    assert_eq!(
        metric_names(r#"sum(kemala:complaints:rate1h{region="kemala_x"}) / kemala_messages_total"#),
        BTreeSet::from([
            "kemala:complaints:rate1h".to_string(),
            "kemala_messages_total".to_string()
        ])
    );
    assert_eq!(unit_need("histogram_quantile(0.5, sum by (le) (rate(kemala_search_duration_seconds_bucket[1m])))"), UnitNeed::Time);
    assert_eq!(
        unit_need("sum(rate(kemala_agency_response_seconds_count[1m]))"),
        UnitNeed::None
    );
    assert_eq!(unit_need("sum(a) / sum(b)"), UnitNeed::TimeOrRatio);
    assert_eq!(
        substitute("x{topic=~\"$topic\"}[$__range]", |n| (n == "topic")
            .then(|| ".*".to_string())
            .or_else(|| builtin(n))),
        Ok("x{topic=~\".*\"}[3600s]".to_string())
    );
}

// ---- promtool --------------------------------------------------------------

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn promtool(args: &[&Path], first: &[&str], cwd: &Path) -> String {
    let out = Command::new("promtool")
        .args(first)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect(
            "promtool must be installed (scripts/test.sh installs Debian's `prometheus` package)",
        );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool {} {args:?} failed:\n{text}",
        first.join(" ")
    );
    text
}

/// A copy of config/prometheus for a test run: scrape kemala at `port` and
/// evaluate rules every second, and every alert's `for:` shortened to 5 s.
/// The expressions stay the project's own.
pub(crate) fn test_prometheus_config(dir: &Path, port: u16) -> PathBuf {
    let root = dir.join("prometheus");
    copy_dir(&prometheus_dir(), &root);
    let config = root.join("prometheus.yml");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.contains("127.0.0.1:8080"),
        "prometheus.yml no longer scrapes 127.0.0.1:8080; update this test"
    );
    let mut intervals = 0;
    let rewritten: Vec<String> = text
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .lines()
        .map(|l| {
            match l
                .split_once("scrape_interval:")
                .or_else(|| l.split_once("evaluation_interval:"))
            {
                Some(_) if !l.trim_start().starts_with('#') => {
                    intervals += 1;
                    let key = l.split(':').next().unwrap();
                    format!("{key}: 1s")
                }
                _ => l.to_string(),
            }
        })
        .collect();
    assert!(
        intervals >= 2,
        "prometheus.yml sets no scrape or evaluation interval; update this test"
    );
    std::fs::write(&config, rewritten.join("\n") + "\n").unwrap();
    let alerts = root.join("rules/alerts.yml");
    let text = std::fs::read_to_string(&alerts).unwrap();
    let mut fors = 0;
    let rewritten: Vec<String> = text
        .lines()
        .map(|l| match l.trim_start().strip_prefix("for:") {
            Some(_) => {
                fors += 1;
                format!("{}for: 5s", &l[..l.len() - l.trim_start().len()])
            }
            None => l.to_string(),
        })
        .collect();
    assert_eq!(
        fors,
        alert_names().len(),
        "every alerting rule has a `for:`"
    );
    std::fs::write(alerts, rewritten.join("\n") + "\n").unwrap();
    config
}

#[test]
fn promtool_accepts_the_config_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy");
    copy_dir(&prometheus_dir(), &copy);
    let out = promtool(&[&copy.join("prometheus.yml")], &["check", "config"], &copy);
    assert!(
        out.contains("2 rule files found"),
        "prometheus.yml loads both rule files:\n{out}"
    );
    promtool(
        &[
            &copy.join("rules/recording.yml"),
            &copy.join("rules/alerts.yml"),
        ],
        &["check", "rules"],
        &copy,
    );
    // The alerting rules' unit tests, with the real `for:` durations.
    promtool(
        &[&copy.join("tests/alerts_test.yml")],
        &["test", "rules"],
        &copy,
    );
    // The variant the live test runs must be valid too.
    let live = test_prometheus_config(&dir.path().join("live"), 18080);
    promtool(&[&live], &["check", "config"], live.parent().unwrap());

    let rules = std::fs::read_to_string(prometheus_dir().join("rules/alerts.yml")).unwrap();
    let mut problems = Vec::new();
    for block in rules.split("- alert:").skip(1) {
        let name = block.lines().next().unwrap_or("").trim();
        for needle in ["expr:", "for:", "severity:", "summary:", "description:"] {
            if !block.contains(needle) {
                problems.push(format!("alert {name} has no `{needle}`"));
            }
        }
    }
    for r in recorded_metrics() {
        if !r.starts_with("kemala:") {
            problems.push(format!("recording rule {r} is not named kemala:…"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---- A real Prometheus -----------------------------------------------------

/// `prometheus` as a child process, killed when dropped.
pub(crate) struct Prometheus {
    child: Child,
    port: u16,
    log: PathBuf,
}

/// One series of a query result, with its values (one for an instant query).
pub(crate) struct Series {
    pub(crate) labels: Value,
    pub(crate) values: Vec<f64>,
}

impl Prometheus {
    pub(crate) fn start(config: &Path, dir: &Path) -> Prometheus {
        let port = free_port();
        let log = dir.join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("tsdb").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus must be installed (scripts/test.sh installs Debian's `prometheus` package)");
        Prometheus::ready(child, port, log)
    }

    /// A Prometheus started as `child` (directly or by a script that execs
    /// it) on `port`, with its output in `log`, once it is ready.
    pub(crate) fn ready(child: Child, port: u16, log: PathBuf) -> Prometheus {
        let mut p = Prometheus { child, port, log };
        let ready = p.url("/-/ready");
        wait_for("Prometheus to be ready", Duration::from_secs(60), || {
            if let Ok(Some(status)) = p.child.try_wait() {
                let log = std::fs::read_to_string(&p.log).unwrap_or_default();
                panic!("prometheus exited with {status}; log:\n{log}");
            }
            let r = http().get(&ready).send().ok()?;
            r.status().is_success().then_some(())
        });
        p
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// POSTs a form to the HTTP API; `Err` carries Prometheus' error message.
    fn api(&self, path: &str, form: &[(&str, String)]) -> Result<Value, String> {
        let r = http()
            .post(self.url(path))
            .form(form)
            .send()
            .map_err(|e| format!("request failed: {e}"))?;
        let body: Value = r.json().map_err(|e| format!("unreadable answer: {e}"))?;
        if body["status"] == "success" {
            Ok(body["data"].clone())
        } else {
            Err(format!(
                "{}: {}",
                str_of(&body["errorType"]),
                str_of(&body["error"])
            ))
        }
    }

    /// GET `/api/v1/label/{label}/values?match[]=selector`.
    pub(crate) fn label_values(&self, label: &str, selector: &str) -> Result<Vec<String>, String> {
        let url = self.url(&format!("/api/v1/label/{label}/values"));
        let r = http()
            .get(url)
            .query(&[("match[]", selector)])
            .send()
            .map_err(|e| format!("request failed: {e}"))?;
        let body: Value = r.json().map_err(|e| format!("unreadable answer: {e}"))?;
        if body["status"] != "success" {
            return Err(format!(
                "{}: {}",
                str_of(&body["errorType"]),
                str_of(&body["error"])
            ));
        }
        Ok(body["data"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| str_of(v).to_string())
            .collect())
    }

    pub(crate) fn query(&self, expr: &str, time: f64) -> Result<Vec<Series>, String> {
        let data = self.api(
            "/api/v1/query",
            &[("query", expr.to_string()), ("time", format!("{time:.3}"))],
        )?;
        Ok(series_of(&data))
    }

    pub(crate) fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<Series>, String> {
        let form = [
            ("query", expr.to_string()),
            ("start", format!("{start:.3}")),
            ("end", format!("{end:.3}")),
            ("step", "1".to_string()),
        ];
        Ok(series_of(&self.api("/api/v1/query_range", &form)?))
    }

    /// The first value of an instant query now, if any.
    pub(crate) fn value(&self, expr: &str) -> Option<f64> {
        let s = self.query(expr, now()).ok()?;
        s.first().and_then(|s| s.values.first().copied())
    }

    /// Active alerts of the given rules, as (name, state).
    pub(crate) fn alerts(&self, rules: &BTreeSet<String>) -> Vec<(String, String)> {
        let Ok(r) = http().get(self.url("/api/v1/alerts")).send() else {
            return Vec::new();
        };
        let body: Value = r.json().unwrap_or_default();
        body["data"]["alerts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| {
                (
                    str_of(&a["labels"]["alertname"]).to_string(),
                    str_of(&a["state"]).to_string(),
                )
            })
            .filter(|(name, _)| rules.contains(name))
            .collect()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn series_of(data: &Value) -> Vec<Series> {
    let num = |v: &Value| str_of(&v[1]).parse::<f64>().unwrap_or(f64::NAN);
    match str_of(&data["resultType"]) {
        "scalar" => vec![Series {
            labels: json!({}),
            values: vec![num(&data["result"])],
        }],
        _ => data["result"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| Series {
                labels: s["metric"].clone(),
                values: match s["values"].as_array() {
                    Some(vs) => vs.iter().map(num).collect(),
                    None => vec![num(&s["value"])],
                },
            })
            .collect(),
    }
}

pub(crate) fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// The sum of every series of `name` on kemala's /metrics.
pub(crate) fn metric_sum(port: u16, name: &str) -> Option<f64> {
    let text = crate::common::metrics_text(port)?;
    Some(
        text.lines()
            .filter(|l| {
                l.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(['{', ' ']))
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum(),
    )
}

pub(crate) fn messages_total(port: u16) -> Option<f64> {
    metric_sum(port, "kemala_messages_total")
}

/// An analyst's searches, so that the search-latency panels have data.
pub(crate) fn search(port: u16, i: usize) {
    let words = ["banjir", "jalan rusak", "pungli", "sampah", "listrik"];
    let q = words[i % words.len()];
    let _ = http()
        .get(format!("http://127.0.0.1:{port}/api/search?q={q}&limit=5"))
        .send();
    let _ = http()
        .get(format!(
            "http://127.0.0.1:{port}/api/histogram?q={q}&interval=1h"
        ))
        .send();
}

/// Checks one dashboard query against Prometheus at `t`; returns what is wrong.
/// Grafana's time range is `[run_start, t]`; `$__range` is `range_s`.
pub(crate) fn check_query(
    prom: &Prometheus,
    q: &Query,
    (t, run_start, range_s): (f64, f64, u64),
    metric_seen: &mut HashMap<String, bool>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    let all = |name: &str| {
        if FILTERS.contains(&name) {
            Some(".*".to_string())
        } else {
            builtin_over(name, range_s)
        }
    };
    let expr = match substitute(&q.expr, all) {
        Ok(e) => e,
        Err(e) => return vec![format!("{}: {e}", q.place)],
    };
    match &q.kind {
        QueryKind::Variable { label } => match prom.label_values(label, &expr) {
            Ok(v) if !v.is_empty() => {}
            Ok(_) => wrong.push(format!(
                "{}: label_values({expr}, {label}) is empty",
                q.place
            )),
            Err(e) => wrong.push(format!(
                "{}: label_values({expr}, {label}) failed: {e}",
                q.place
            )),
        },
        QueryKind::Annotation => match prom.query_range(&expr, run_start, t) {
            Ok(s) if !s.is_empty() => {}
            Ok(_) => wrong.push(format!(
                "{}: `{expr}` never had a series during the demo",
                q.place
            )),
            Err(e) => wrong.push(format!("{}: Prometheus rejects `{expr}`: {e}", q.place)),
        },
        QueryKind::Target { range } => {
            let finite = |s: &[Series]| s.iter().any(|s| s.values.iter().any(|v| v.is_finite()));
            match prom.query(&expr, t) {
                Err(e) => wrong.push(format!("{}: Prometheus rejects `{expr}`: {e}", q.place)),
                Ok(s) if finite(&s) => {}
                Ok(s) => {
                    // A time-series panel draws its whole range: data earlier in the run counts.
                    let over_run = if *range {
                        prom.query_range(&expr, run_start, t).ok()
                    } else {
                        None
                    };
                    if !over_run.is_some_and(|r| finite(&r)) {
                        let what = if s.is_empty() {
                            "no series"
                        } else {
                            "only NaN"
                        };
                        let labels: Vec<String> =
                            s.iter().take(3).map(|s| s.labels.to_string()).collect();
                        wrong.push(format!("{}: `{expr}` returns {what} {labels:?}", q.place));
                    }
                }
            }
        }
    }
    // Whatever `or vector(0)` hides: every metric read must have had data.
    for m in metric_names(&q.expr) {
        let seen = *metric_seen.entry(m.clone()).or_insert_with(|| {
            let probe = format!("count(last_over_time({{__name__=\"{m}\"}}[{range_s}s]))");
            prom.query(&probe, t).is_ok_and(|s| !s.is_empty())
        });
        if !seen {
            wrong.push(format!("{}: reads `{m}`, which kemala never exported (or no rule recorded) during the demo", q.place));
        }
    }
    wrong
}

/// Every template variable as a multi-select of real values, e.g. `(flood|fire)`:
/// every expression must still parse.
pub(crate) fn check_query_with_values(
    prom: &Prometheus,
    q: &Query,
    t: f64,
    values: &BTreeMap<String, String>,
) -> Option<String> {
    if matches!(q.kind, QueryKind::Variable { .. }) {
        return None;
    }
    let expr = substitute(&q.expr, |n| values.get(n).cloned().or_else(|| builtin(n))).ok()?;
    prom.query(&expr, t).err().map(|e| {
        format!(
            "{}: with {values:?} Prometheus rejects `{expr}`: {e}",
            q.place
        )
    })
}

#[test]
fn engine_alerts_stay_quiet_while_the_demo_feeds_and_ingest_stopped_fires_after() {
    // 100,000 messages of history (about a day of event time), fed as fast
    // as the engine takes them, then nothing: `--tweets` stops the feed
    // before the live phase. The history's volume follows the hour and the
    // weekday it ends at: 36 hours of it hold at least about 140,000
    // messages, whenever the test runs. (The live demo's panels and spikes
    // are checked in live_demo.rs.)
    const TWEETS: u64 = 100_000;
    let fewest = (0..7 * 24 * 4)
        .map(|quarter: i64| {
            let end_ms = quarter * 900_000;
            let hours: f64 = (0..36 * 60)
                .map(|m: i64| kemala::gen::daily_rhythm(end_ms - m * 60_000) / 60.0)
                .sum();
            hours * 1.5 * 3600.0
        })
        .fold(f64::INFINITY, f64::min);
    assert!(
        fewest > 1.3 * TWEETS as f64,
        "36 h of history can hold as few as {fewest:.0} messages: too close to {TWEETS}"
    );
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let index = dir.path().join("index");
    let tweets = TWEETS.to_string();
    let args = ["--history", "36h", "--rate", "1.5", "--tweets", &tweets];
    let mut demo = Proc::demo(dir.path(), port, &index, &args);
    demo.wait_alive(
        "the demo to process its first messages",
        Duration::from_secs(120),
        || messages_total(port).filter(|n| *n > 0.0).map(|_| ()),
    );
    let config = test_prometheus_config(dir.path(), port);
    let prom = Prometheus::start(&config, dir.path());
    wait_for(
        "Prometheus to scrape the demo",
        Duration::from_secs(60),
        || {
            prom.value("sum(kemala_messages_total)")
                .filter(|v| *v > 0.0)
        },
    );

    // While tweets flow, no engine-health rule fires (every `for:` is 5 s).
    // A busy machine feeds slowly; only a feed that stops rising fails here.
    let rules = alert_names();
    let mut polls = 0;
    wait_rising(
        &format!("the demo to feed {TWEETS} tweets"),
        Duration::from_secs(90),
        Duration::from_secs(1800),
        || {
            let total = messages_total(port).unwrap_or(0.0);
            if total >= TWEETS as f64 {
                return Ok(());
            }
            if let Ok(Some(s)) = demo.child.try_wait() {
                panic!(
                    "the demo exited ({s}) after {total} messages:\n{}",
                    demo.log_text()
                );
            }
            let firing: Vec<_> = prom
                .alerts(&rules)
                .into_iter()
                .filter(|(_, s)| s == "firing")
                .collect();
            assert!(
                firing.is_empty(),
                "alerts {firing:?} fired while tweets flowed ({total} of {TWEETS} processed)"
            );
            polls += 1;
            std::thread::sleep(Duration::from_millis(200));
            Err(total)
        },
    );
    eprintln!("feed done: {polls} polls of the alerts while tweets flowed");
    assert!(
        polls >= 10,
        "the feed finished before Prometheus could watch it flow ({polls} polls)"
    );

    // Once the feed has stopped (and nothing waits in Kafka), ingest-stopped
    // fires, alone. Its rule needs a minute without messages, then its
    // (shortened) `for:`.
    let mut wrong = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(300);
    let fired = wait_for(
        "KemalaIngestStopped to fire or its deadline",
        Duration::from_secs(330),
        || {
            let active = prom.alerts(&rules);
            let stopped = active
                .iter()
                .any(|(n, s)| n == "KemalaIngestStopped" && s == "firing");
            (stopped || Instant::now() > deadline).then_some((stopped, active))
        },
    );
    match fired {
        (false, active) => wrong.push(format!(
            "KemalaIngestStopped did not fire within 300 s of the feed's end; active: {active:?}"
        )),
        (true, active) => {
            let others: Vec<_> = active
                .iter()
                .filter(|(n, s)| n != "KemalaIngestStopped" && s == "firing")
                .collect();
            if !others.is_empty() {
                wrong.push(format!(
                    "after the feed, only KemalaIngestStopped should fire; also firing: {others:?}"
                ));
            }
        }
    }

    // Ctrl-C with the feed done and the engine idle.
    demo.stop_cleanly(libc::SIGINT, Duration::from_secs(10));
    let log = prom.log_text();
    let log: Vec<&str> = log.lines().rev().take(5).collect();
    assert_no_problems(
        "alert problem",
        &wrong,
        &format!("(Prometheus log: {})", log.join(" | ")),
    );
}

// ---- Label cardinality -----------------------------------------------------

/// A tweet full of free text that must never become a label: a random
/// hashtag, handle, place, profile location and language code, about a real
/// topic and (half the time) a real region. Every free-text token starts
/// with `zx9` so that it can be looked for in /metrics.
fn random_tweet(rng: &mut SmallRng, c: &kemala::config::Config, i: u64) -> Vec<u8> {
    if rng.random_bool(0.01) {
        let len = rng.random_range(1..64);
        return (0..len).map(|_| rng.random::<u8>()).collect();
    }
    let topic = &c.topics[rng.random_range(0..c.topics.len())];
    let keyword = topic
        .keywords
        .first()
        .cloned()
        .unwrap_or_else(|| topic.name.clone());
    let tag = format!("Zx9{}", rng.random::<u32>());
    let handle = format!("zx9_{}", rng.random::<u32>());
    let place = format!("Zx9 Kampung {}", rng.random::<u32>());
    let where_ = if rng.random_bool(0.5) {
        c.regions[rng.random_range(0..c.regions.len())].name.clone()
    } else {
        place.clone()
    };
    let text = format!("@{handle} {keyword} di {where_} parah, tolong #{tag} #KemalaJateng");
    let chars = |s: &str| s.chars().count();
    let tag_at = chars(&text[..text.find('#').unwrap()]);
    let id = 1_900_000_000_000_000_000 + i;
    let author = rng.random_range(1_000_000_000u64..9_000_000_000);
    let place_id = format!("zx9{:x}", rng.random::<u64>());
    let created = chrono::DateTime::from_timestamp(1_772_323_200 + 3 * i as i64, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let lang: String = match rng.random_range(0..4) {
        0 => "in".into(),
        1 => "jv".into(),
        _ => (0..rng.random_range(2..4))
            .map(|_| rng.random_range(b'a'..=b'z') as char)
            .collect(),
    };
    let (lon, lat) = (
        rng.random_range(95.0..141.0f64),
        rng.random_range(-11.0..6.0f64),
    );
    let mut data = json!({
        "id": id.to_string(),
        "text": text,
        "author_id": author.to_string(),
        "created_at": created,
        "conversation_id": id.to_string(),
        "lang": lang,
        "entities": {
            "mentions": [{"start": 0, "end": chars(&handle) + 1, "username": handle, "id": rng.random::<u32>().to_string()}],
            "hashtags": [{"start": tag_at, "end": tag_at + chars(&tag) + 1, "tag": tag}],
        },
        "geo": {"place_id": place_id},
    });
    if i > 0 && rng.random_bool(0.2) {
        let to = id - rng.random_range(1..=i.min(1000));
        data["referenced_tweets"] = json!([{"type": "replied_to", "id": to.to_string()}]);
        data["in_reply_to_user_id"] = json!(rng.random::<u32>().to_string());
    }
    let tweet = json!({
        "data": data,
        "includes": {
            "users": [{
                "id": author.to_string(),
                "name": format!("Zx9 Warga {}", rng.random::<u16>()),
                "username": format!("zx9u{}", rng.random::<u32>()),
                "location": format!("Zx9 Desa {}", rng.random::<u32>()),
            }],
            "places": [{
                "id": place_id,
                "full_name": format!("{place}, Zx9land"),
                "name": place,
                "country": "Zx9land",
                "country_code": "ZX",
                "place_type": "city",
                "geo": {"type": "Feature", "bbox": [lon, lat, lon + 0.1, lat + 0.1], "properties": {}},
            }],
        },
        "matching_rules": [{"id": "1", "tag": format!("zx9rule{}", rng.random::<u16>())}],
    });
    serde_json::to_vec(&tweet).unwrap()
}

/// One sample line of the text exposition format: name and labels.
fn parse_sample(line: &str) -> Option<(String, Vec<(String, String)>)> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut labels = Vec::new();
    if line[name_end..].starts_with('{') {
        let mut rest = &line[name_end + 1..];
        loop {
            rest = rest.trim_start_matches([',', ' ']);
            if rest.starts_with('}') {
                break;
            }
            let eq = rest.find("=\"")?;
            let key = rest[..eq].to_string();
            let mut value = String::new();
            let mut chars = rest[eq + 2..].char_indices();
            let mut end = None;
            while let Some((k, ch)) = chars.next() {
                match ch {
                    '\\' => value.push(chars.next()?.1),
                    '"' => {
                        end = Some(eq + 2 + k + 1);
                        break;
                    }
                    _ => value.push(ch),
                }
            }
            labels.push((key, value));
            rest = &rest[end?..];
        }
    }
    Some((name, labels))
}

/// The label values kemala may export, from the configuration and the code.
/// A label not listed here fails the test: add it with the set it is bounded by.
struct LabelSets {
    /// By label, or by "family/label" where a family narrows a label's set.
    exact: BTreeMap<String, BTreeSet<String>>,
    /// Labels whose values the code fixes (not the config): at most this many distinct values.
    capped: BTreeMap<&'static str, usize>,
}

impl LabelSets {
    fn new(c: &kemala::config::Config, partitions: i32) -> LabelSets {
        let words = |ws: &[&str]| {
            ws.iter()
                .map(|w| w.to_string())
                .collect::<BTreeSet<String>>()
        };
        let mut regions: BTreeSet<String> = c.regions.iter().map(|r| r.slug.clone()).collect();
        regions.extend(words(&["unknown", "jateng", "outside"]));
        let mut exact: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
        let topics: BTreeSet<String> = c.topics.iter().map(|t| t.id.clone()).collect();
        // Alerts about an agency's overdue complaints have no topic: the alert
        // metrics carry the fixed placeholder "overdue" (src/alert/mod.rs).
        let mut alert_topics = topics.clone();
        alert_topics.insert("overdue".to_string());
        exact.insert("topic", topics);
        exact.insert("kemala_alerts_firing/topic", alert_topics.clone());
        exact.insert("kemala_alerts_total/topic", alert_topics);
        exact.insert("region", regions);
        exact.insert("agency", c.agencies.iter().map(|a| a.id.clone()).collect());
        exact.insert(
            "lang",
            kemala::model::Lang::ALL
                .iter()
                .map(|l| l.code().to_string())
                .collect(),
        );
        exact.insert(
            "reason",
            kemala::model::Reject::ALL
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        );
        exact.insert(
            "kemala_not_ready/reason",
            kemala::telemetry::NotReady::ALL
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        );
        exact.insert(
            "kemala_messages_lost_total/topic",
            c.engine.kafka.topics.iter().cloned().collect(),
        );
        exact.insert(
            "partition",
            (0..partitions).map(|p| p.to_string()).collect(),
        );
        exact.insert("result", words(&["indexed", "duplicate", "rejected"]));
        exact.insert(
            "kemala_alert_deliveries_total/result",
            words(&["success", "failure"]),
        );
        exact.insert("target", words(&["webhook", "alertmanager"]));
        let exact = exact.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        let capped = BTreeMap::from([
            ("le", kemala::telemetry::RESPONSE_BUCKETS.len() + 1),
            ("severity", 4),
            ("endpoint", 8),
            ("route", 32),
            ("status", 8),
            ("kind", 10),
            ("component", 10),
        ]);
        LabelSets { exact, capped }
    }

    /// The values `label` may take on `family`, when they are enumerated.
    fn allowed(&self, family: &str, label: &str) -> Option<&BTreeSet<String>> {
        self.exact
            .get(&format!("{family}/{label}"))
            .or_else(|| self.exact.get(label))
    }

    fn size(&self, family: &str, label: &str) -> usize {
        self.allowed(family, label)
            .map(BTreeSet::len)
            .or_else(|| self.capped.get(label).copied())
            .unwrap_or(0)
    }
}

#[test]
fn metric_series_stay_bounded_under_random_hashtags_places_and_handles() {
    const N: u64 = 100_000;
    const CHUNK: u64 = 10_000;
    const PARTITIONS: i32 = 4;
    let config = kemala::config::Config::embedded().unwrap();
    let e = InProc::start(PARTITIONS, |_| {});
    let topic = config.engine.kafka.topics[0].clone();
    let mut rng = SmallRng::seed_from_u64(20_260_128);
    // In chunks: the embedded broker keeps only 5 MiB per partition.
    for chunk in 0..N / CHUNK {
        let payloads: Vec<Vec<u8>> = (chunk * CHUNK..(chunk + 1) * CHUNK)
            .map(|i| random_tweet(&mut rng, &config, i))
            .collect();
        produce_all(&e.bootstrap(), &topic, payloads);
        e.wait_committed((chunk + 1) * CHUNK);
    }
    for i in 0..20 {
        let _ = http()
            .get(e.url(&format!("/api/search?q=zx9{i}+banjir")))
            .send();
        let _ = http()
            .get(e.url(&format!("/api/histogram?q=zx9{i}&interval=1h")))
            .send();
    }
    let text = e.metrics();

    let sets = LabelSets::new(&config, PARTITIONS);
    let mut violations = BTreeSet::new();
    // (family, label) → values seen, for the labels capped rather than enumerated.
    let mut capped_seen: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    // Per family (histogram series grouped under their base name): series, and label names.
    let mut families: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    let histograms: BTreeSet<String> = text
        .lines()
        .filter_map(|l| {
            l.strip_prefix("# TYPE ")?
                .strip_suffix(" histogram")
                .map(str::to_string)
        })
        .collect();
    let mut total = 0;
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (name, labels) =
            parse_sample(line).unwrap_or_else(|| panic!("cannot parse /metrics line `{line}`"));
        total += 1;
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| histograms.contains(*b)))
            .unwrap_or(&name)
            .to_string();
        let entry = families.entry(family.clone()).or_default();
        entry.0 += 1;
        for (k, v) in labels {
            entry.1.insert(k.clone());
            if k == "le" && v != "+Inf" && v.parse::<f64>().is_err() {
                violations.insert(format!("{name}: le=\"{v}\" is not a bucket bound"));
            }
            if v.to_ascii_lowercase().contains("zx9") {
                violations.insert(format!(
                    "{name}: label {k}=\"{v}\" comes from the tweets' free text"
                ));
            }
            match (
                sets.allowed(&family, &k),
                sets.capped.contains_key(k.as_str()),
            ) {
                (Some(allowed), _) if !allowed.contains(&v) => {
                    violations.insert(format!(
                        "{name}: {k}=\"{v}\" is not in the configured set of {} values",
                        allowed.len()
                    ));
                }
                (Some(_), _) => {}
                (None, true) => {
                    capped_seen
                        .entry((family.clone(), k))
                        .or_default()
                        .insert(v);
                }
                (None, false) => {
                    violations.insert(format!(
                        "{name}: label `{k}` is not in the bounded-label table (LabelSets in tests/it/dashboards.rs)"
                    ));
                }
            }
        }
    }
    for ((family, label), seen) in &capped_seen {
        let cap = sets.size(family, label);
        if seen.len() > cap {
            violations.insert(format!(
                "{family}: label `{label}` has {} distinct values, more than its cap {cap}: {seen:?}",
                seen.len()
            ));
        }
    }
    // The bound: per family, the product of its labels' set sizes (for a
    // histogram, its `le` buckets plus _sum and _count).
    let mut bound = 0;
    let mut report = Vec::new();
    for (family, (n, labels)) in &families {
        let mut b: usize = labels
            .iter()
            .filter(|l| *l != "le")
            .map(|l| sets.size(family, l))
            .product();
        if histograms.contains(family) {
            b *= sets.size(family, "le") + 2;
        }
        bound += b;
        report.push(format!("{family}: {n} (≤ {b})"));
        if *n > b {
            violations.insert(format!("{family} has {n} series, more than its bound {b}"));
        }
    }
    eprintln!(
        "/metrics after {N} random tweets: {total} series, bound {bound}\n  {}",
        report.join("\n  ")
    );
    assert!(
        violations.is_empty(),
        "unbounded labels on /metrics:\n  {}",
        violations.into_iter().collect::<Vec<_>>().join("\n  ")
    );
    assert!(
        total <= bound,
        "{total} series on /metrics, more than the configured bound {bound}"
    );
}
