//! API security through a real socket: named tokens read from files, the
//! readers' route group behind `http.read_access = "token"`, the `ack`
//! role, `acked_by` as the token's name, audit lines, and secrets that
//! never show in answers or logs.

use std::path::Path;
use std::time::Duration;

use kemala::config::{TokenDef, TokenRole};

use crate::common::{free_port, http, start_broker, status, wait_for, write_config, Proc};
use crate::engine::InProc;

const READ_SECRET: &str = "Qm7-baca-analis-2f9d1c";
const ACK_SECRET: &str = "Zx4-ack-bpbd-8e21b07a";

/// Writes the two secrets into files and returns `[http]` keys naming them.
fn token_config(dir: &Path) -> String {
    let read = dir.join("analysts.token");
    let ack = dir.join("bpbd.token");
    std::fs::write(&read, format!("{READ_SECRET}\n")).unwrap();
    std::fs::write(&ack, ACK_SECRET).unwrap();
    format!(
        "read_access = \"token\"\n\n[http.tokens]\nanalysts = {{ file = {:?}, role = \"read\" }}\nbpbd_oncall = {{ file = {:?}, role = \"ack\" }}\n",
        read.display().to_string(),
        ack.display().to_string()
    )
}

/// The status code of a request with an optional `Authorization` value.
fn code(method: &str, url: &str, auth: Option<String>) -> u16 {
    let c = http();
    let mut r = match method {
        "POST" => c.post(url),
        _ => c.get(url),
    };
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    r.send().unwrap().status().as_u16()
}

fn bearer(secret: &str) -> Option<String> {
    Some(format!("Bearer {secret}"))
}

#[test]
fn named_tokens_guard_the_readers_and_acknowledgements_and_are_audited() {
    let dir = tempfile::tempdir().unwrap();
    let (_broker, bootstrap) = start_broker(dir.path(), 1);
    let port = free_port();
    let cfg = write_config(dir.path(), &bootstrap, port, &token_config(dir.path()));

    // check-config names the tokens and their roles, never a secret.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kemala"))
        .args(["check-config", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("analysts (Read)") && text.contains("bpbd_oncall (Ack)"),
        "{text}"
    );
    assert!(
        !text.contains(READ_SECRET) && !text.contains(ACK_SECRET),
        "{text}"
    );

    let mut e = Proc::spawn(
        "engine",
        dir.path(),
        &["run", "--config", cfg.to_str().unwrap()],
    );
    wait_for("the engine to answer", Duration::from_secs(60), || {
        status(port)
    });
    let url = |p: &str| format!("http://127.0.0.1:{port}{p}");
    let basic = {
        use base64::Engine as _;
        let b = base64::engine::general_purpose::STANDARD.encode(format!("siapa:{READ_SECRET}"));
        Some(format!("Basic {b}"))
    };
    for p in [
        "/",
        "/api/search?q=banjir",
        "/api/search/export?q=banjir&format=csv",
        "/api/histogram",
        "/api/meta",
        "/api/alerts",
        "/api/agencies",
    ] {
        assert_eq!(code("GET", &url(p), None), 401, "{p}");
        assert_eq!(
            code("GET", &url(p), bearer("bukan-token-0123456789")),
            403,
            "{p}"
        );
        // A prefix of a real secret is not that secret.
        assert_eq!(code("GET", &url(p), bearer(&READ_SECRET[..12])), 403, "{p}");
        assert_eq!(code("GET", &url(p), bearer(READ_SECRET)), 200, "{p}");
        assert_eq!(
            code("GET", &url(p), bearer(ACK_SECRET)),
            200,
            "{p}: ack may read"
        );
        assert_eq!(code("GET", &url(p), basic.clone()), 200, "{p}: Basic");
    }
    for p in ["/healthz", "/readyz", "/metrics", "/api/status"] {
        assert!(
            [200, 503].contains(&code("GET", &url(p), None)),
            "{p} stays open"
        );
    }
    let ack = url("/api/alerts/no-such-alert/ack");
    assert_eq!(code("POST", &ack, None), 401);
    assert_eq!(
        code("POST", &ack, bearer(READ_SECRET)),
        403,
        "a reader may not ack"
    );
    assert_eq!(code("POST", &ack, bearer(ACK_SECRET)), 404);

    // One audit line per attempt, naming the token, never its secret.
    let log = wait_for("the audit lines", Duration::from_secs(10), || {
        let log = e.log_text();
        (log.matches("kemala::audit").count() >= 3).then_some(log)
    });
    let audit: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("kemala::audit"))
        .collect();
    assert_eq!(audit.len(), 3, "{audit:#?}");
    assert!(audit[1].contains("analysts"), "{}", audit[1]);
    assert!(
        audit[2].contains("bpbd_oncall") && audit[2].contains("no-such-alert"),
        "{}",
        audit[2]
    );
    for secret in [READ_SECRET, ACK_SECRET] {
        assert!(!log.contains(&secret[..8]), "a secret in the log:\n{log}");
    }
    e.signal(libc::SIGTERM);
    assert!(e
        .wait_timeout(Duration::from_secs(20))
        .is_some_and(|s| s.success()));
}

#[test]
fn an_acknowledgement_records_the_token_name_and_nothing_of_its_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bpbd.token");
    std::fs::write(&file, ACK_SECRET).unwrap();
    let e = InProc::start(1, |c| {
        c.engine.http.tokens.insert(
            "bpbd_oncall".into(),
            TokenDef {
                env: None,
                file: Some(file.clone()),
                role: TokenRole::Ack,
            },
        );
    });
    let mut a = crate::faults::alert("banjir-demak");
    a.summary = "banjir di Demak".into();
    e.shared().alerts.apply(a);
    let r = http()
        .post(e.url("/api/alerts/banjir-demak/ack"))
        .header("authorization", format!("Bearer {ACK_SECRET}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: serde_json::Value = r.json().unwrap();
    assert_eq!(body["acked_by"], "bpbd_oncall");
    let list = e.get("/api/alerts?state=all").to_string();
    assert!(list.contains("\"acked_by\":\"bpbd_oncall\""), "{list}");
    for k in 4..ACK_SECRET.len() {
        assert!(
            !list.contains(&ACK_SECRET[..k]),
            "a part of the secret: {list}"
        );
    }
}
