use super::*;

#[test]
fn embedded_config_is_valid() {
    let c = Config::embedded().expect("bundled config must load");
    assert_eq!(c.regions.len(), 35);
    assert_eq!(c.topics.len(), 23);
}

fn check_err(kemala_toml: &str, expected: &[&str]) {
    let engine: Result<EngineConfig, _> = parse_toml("kemala.toml", kemala_toml);
    let err = match engine {
        Err(e) => e.to_string(),
        Ok(engine) => Config::from_parts(
            "kemala.toml".into(),
            engine,
            ("regions.toml", EMBEDDED_REGIONS),
            ("topics.toml", EMBEDDED_TOPICS),
            ("agencies.toml", EMBEDDED_AGENCIES),
        )
        .expect_err("config should be rejected")
        .to_string(),
    };
    for part in expected {
        assert!(err.contains(part), "error `{err}` should mention `{part}`");
    }
}

fn check_regions_err(extra: &str, expected: &[&str]) {
    let regions = format!("{EMBEDDED_REGIONS}\n{extra}");
    let err = Config::from_parts(
        "kemala.toml".into(),
        EngineConfig::default(),
        ("regions.toml", &regions),
        ("topics.toml", EMBEDDED_TOPICS),
        ("agencies.toml", EMBEDDED_AGENCIES),
    )
    .expect_err("regions should be rejected")
    .to_string();
    for part in expected {
        assert!(err.contains(part), "error `{err}` should mention `{part}`");
    }
}

#[test]
fn a_place_outside_may_not_share_a_name_with_a_region() {
    check_regions_err(
        "[[outside]]\nname = \"Elsewhere\"\naliases = [\"Ungaran\"]\n",
        &["regions.toml", "outside[", "Ungaran", "3322"],
    );
    check_regions_err(
        "[[outside]]\nname = \"Elsewhere\"\nalias = [\"Atlantis\"]\n",
        &["regions.toml", "unknown field", "alias"],
    );
}

#[test]
fn regions_are_found_by_code_slug_name_and_outside() {
    let c = Config::embedded().unwrap();
    for (s, want) in [
        ("3374", Some(3374)),
        ("kota-semarang", Some(3374)),
        ("kota semarang", Some(3374)),
        ("outside", Some(9999)),
        ("Luar Jawa Tengah", Some(9999)),
        ("unknown", None),
        ("jateng", None),
        ("9999", None),
        ("atlantis", None),
    ] {
        assert_eq!(c.find_region(s).map(|r| r.0), want, "{s}");
    }
    let labels: Vec<(u16, &str, &str)> = c.region_labels().collect();
    assert_eq!(labels.len(), 36);
    assert_eq!(labels[35], (9999, "Luar Jawa Tengah", "outside"));
}

#[test]
fn typos_and_bad_values_are_explained() {
    check_err(
        "[index]\ncomit_interval = \"5s\"\n",
        &["kemala.toml", "comit_interval", "unknown field"],
    );
    check_err(
        "[index]\ncommit_interval = \"5\"\n",
        &["kemala.toml", "duration with units"],
    );
    check_err(
        "[kafka]\ndead_letter_topic = \"tweets\"\n",
        &["kafka.dead_letter_topic", "loop"],
    );
    check_err("[http]\nlisten = \"nowhere\"\n", &["kemala.toml", "listen"]);
    check_err(
        "[detect]\nmax_alerts_per_series_week = 0\n",
        &[
            "kemala.toml",
            "detect.max_alerts_per_series_week",
            "above zero",
        ],
    );
    check_err(
        "[kafka]\noffset_reset = \"latest\"\n",
        &["kemala.toml", "offset_reset", "earliest", "fail"],
    );
    check_err(
        "[kafka.properties]\n\"auto.offset.reset\" = \"latest\"\n",
        &[
            "kafka.properties.\"auto.offset.reset\"",
            "kafka.offset_reset",
        ],
    );
    check_err(
        "[http]\napi_tokens = [\"geheim\"]\n",
        &["http.api_tokens", "[http.tokens]"],
    );
    check_err(
        "[http.tokens]\nops = { env = \"A\", file = \"/b\", role = \"ack\" }\n",
        &["http.tokens.ops", "exactly one of `env`"],
    );
    check_err(
        "[http.tokens]\nops = { env = \"A\", role = \"admin\" }\n",
        &["kemala.toml", "admin", "read", "ack"],
    );
    check_err(
        "[http]\nread_access = \"token\"\n",
        &["http.read_access", "[http.tokens]"],
    );
}

#[test]
fn tokens_resolve_from_the_environment_or_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("analysts.token");
    std::fs::write(&file, "dari-berkas-0123456789\n").unwrap();
    let var = format!("KEMALA_TEST_TOKEN_{}", std::process::id());
    std::env::set_var(&var, "dari-variabel-0123456789");
    let text = format!(
        "[http.tokens]\nanalysts = {{ file = {:?}, role = \"read\" }}\nbpbd = {{ env = \"{var}\", role = \"ack\" }}\n",
        file.display().to_string()
    );
    let mut c = Config::embedded().unwrap();
    c.engine = parse_toml("kemala.toml", &text).unwrap();
    let tokens = c.resolve_tokens().unwrap();
    let got: Vec<(&str, TokenRole, &str)> = tokens
        .iter()
        .map(|t| (t.name.as_str(), t.role, t.secret.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("analysts", TokenRole::Read, "dari-berkas-0123456789"),
            ("bpbd", TokenRole::Ack, "dari-variabel-0123456789"),
        ]
    );
    assert!(
        !format!("{tokens:?}").contains("dari-"),
        "Debug hides secrets"
    );
    std::env::set_var(&var, "pendek");
    let err = c.resolve_tokens().unwrap_err().to_string();
    assert!(
        err.contains("http.tokens.bpbd") && err.contains("at least 16"),
        "{err}"
    );
    std::env::remove_var(&var);
    let err = c.resolve_tokens().unwrap_err().to_string();
    assert!(err.contains(&format!("`{var}` is not set")), "{err}");
}

fn with_agency_budgets(table: &str) -> Result<Config, ConfigError> {
    let agencies = format!("[max_alerts_per_series_week]\n{table}\n{EMBEDDED_AGENCIES}");
    Config::from_parts(
        "kemala.toml".into(),
        EngineConfig::default(),
        ("regions.toml", EMBEDDED_REGIONS),
        ("topics.toml", EMBEDDED_TOPICS),
        ("agencies.toml", &agencies),
    )
}

#[test]
fn a_series_takes_the_strictest_budget_of_its_agencies() {
    let c = with_agency_budgets("pln = 0.5\npemkot_semarang = 3").expect("valid");
    assert_eq!(c.series_budget(["pln", "governor"]), 0.5);
    assert_eq!(c.series_budget(["governor"]), 1.0);
    assert_eq!(c.series_budget(["pemkot_semarang"]), 3.0);
    assert_eq!(c.series_budget(["pemkot_semarang", "bpbd_jateng"]), 1.0);
    assert_eq!(c.series_budget([]), 1.0);
    for (table, needle) in [
        ("nobody = 1", "unknown agency `nobody`"),
        ("pln = -1", "above zero"),
    ] {
        let err = with_agency_budgets(table)
            .expect_err("rejected")
            .to_string();
        assert!(
            err.contains("agencies.toml")
                && err.contains("max_alerts_per_series_week")
                && err.contains(needle),
            "{err}"
        );
    }
}
