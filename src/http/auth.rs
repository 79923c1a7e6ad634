//! Named bearer tokens: who may read, and who may acknowledge alerts.
//!
//! Each token has a name and a role in the configuration; its secret comes
//! from the environment or a file and never from the config itself. A
//! presented token is compared with every configured one in constant time
//! (their SHA-256 digests, with `subtle`), so the time an answer takes says
//! nothing about how much of a secret matched. What an acknowledgement
//! records, and the audit log shows, is the token's name.
//!
//! Route groups: the readers' routes (the page, search, export, histogram,
//! alerts and their stream, agencies, meta) are open unless
//! `http.read_access = "token"`, when they need a token of either role;
//! acknowledging needs an `ack` token always. Health, readiness, metrics and
//! status carry no citizen's data and stay open for probes and Prometheus.
//!
//! A browser sends the token as the password of HTTP Basic authentication
//! (any user name): the search page then makes its own requests with it.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AppState;
use crate::config::{ApiToken, ReadAccess, TokenRole};

/// Why a request was refused.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Denied {
    /// No token: 401, with a challenge a browser answers by asking.
    Missing,
    /// Not a configured token: 403.
    Unknown,
    /// A token whose role does not allow this: 403.
    Role(String),
}

impl IntoResponse for Denied {
    fn into_response(self) -> Response {
        let (status, msg) = match self {
            Denied::Missing => (
                StatusCode::UNAUTHORIZED,
                "send `Authorization: Bearer <token>` with a token named in `[http.tokens]`"
                    .to_string(),
            ),
            Denied::Unknown => (
                StatusCode::FORBIDDEN,
                "that token is not one of `[http.tokens]`".to_string(),
            ),
            Denied::Role(name) => (
                StatusCode::FORBIDDEN,
                format!(
                    "token `{name}` may only read; acknowledging needs a token with role = \"ack\""
                ),
            ),
        };
        let mut r = (status, Json(serde_json::json!({ "error": msg }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            let h = r.headers_mut();
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kemala\""),
            );
            h.append(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"kemala\", charset=\"UTF-8\""),
            );
        }
        r
    }
}

/// The secret a request presents: a bearer token, or a Basic password.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        Some(rest.trim().to_string())
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        Some(text.split_once(':')?.1.to_string())
    } else {
        None
    }
}

/// The configured token whose secret is `secret`. Every token is compared,
/// each in constant time.
fn find<'a>(tokens: &'a [ApiToken], secret: &str) -> Option<&'a ApiToken> {
    let digest = Sha256::digest(secret.as_bytes());
    let mut found = None;
    for t in tokens {
        let same = Sha256::digest(t.secret.as_bytes()).ct_eq(&digest);
        if bool::from(same) {
            found = Some(t);
        }
    }
    found
}

/// The token a request carries, if it is configured and allows `role`.
pub(super) fn check<'a>(
    tokens: &'a [ApiToken],
    headers: &HeaderMap,
    role: TokenRole,
) -> Result<&'a ApiToken, Denied> {
    let secret = presented(headers).ok_or(Denied::Missing)?;
    let token = find(tokens, &secret).ok_or(Denied::Unknown)?;
    if token.role < role {
        return Err(Denied::Role(token.name.clone()));
    }
    Ok(token)
}

/// Middleware of the readers' routes.
pub(super) async fn require_reader(
    State(s): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if s.config.engine.http.read_access == ReadAccess::Open {
        return next.run(req).await;
    }
    match check(&s.tokens, req.headers(), TokenRole::Read) {
        Ok(_) => next.run(req).await,
        Err(d) => d.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Vec<ApiToken> {
        vec![
            ApiToken {
                name: "analysts".into(),
                role: TokenRole::Read,
                secret: "baca-saja-0123456789".into(),
            },
            ApiToken {
                name: "bpbd-oncall".into(),
                role: TokenRole::Ack,
                secret: "boleh-ack-0123456789".into(),
            },
        ]
    }

    fn check_header(value: Option<&str>, role: TokenRole) -> Result<String, Denied> {
        let mut h = HeaderMap::new();
        if let Some(v) = value {
            h.insert(header::AUTHORIZATION, HeaderValue::from_str(v).unwrap());
        }
        let t = tokens();
        check(&t, &h, role).map(|t| t.name.clone())
    }

    #[test]
    fn tokens_are_found_by_secret_and_held_to_their_role() {
        use TokenRole::{Ack, Read};
        assert_eq!(check_header(None, Read), Err(Denied::Missing));
        assert_eq!(check_header(Some("Bearer"), Read), Err(Denied::Missing));
        assert_eq!(
            check_header(Some("Bearer baca-saja-012345678"), Read),
            Err(Denied::Unknown),
            "a prefix is not the token"
        );
        assert_eq!(
            check_header(Some("Bearer baca-saja-0123456789x"), Read),
            Err(Denied::Unknown)
        );
        assert_eq!(
            check_header(Some("Bearer baca-saja-0123456789"), Read),
            Ok("analysts".into())
        );
        assert_eq!(
            check_header(Some("Bearer baca-saja-0123456789"), Ack),
            Err(Denied::Role("analysts".into()))
        );
        assert_eq!(
            check_header(Some("bearer  boleh-ack-0123456789 "), Ack),
            Ok("bpbd-oncall".into())
        );
        assert_eq!(
            check_header(Some("Bearer boleh-ack-0123456789"), Read),
            Ok("bpbd-oncall".into()),
            "ack may read"
        );
        // A browser's Basic authentication: any user, the token as password.
        let basic = base64::engine::general_purpose::STANDARD.encode("siapa:baca-saja-0123456789");
        assert_eq!(
            check_header(Some(&format!("Basic {basic}")), Read),
            Ok("analysts".into())
        );
        assert_eq!(check_header(Some("Basic !!!"), Read), Err(Denied::Missing));
    }

    #[tokio::test]
    async fn readers_need_a_token_only_when_configured() {
        use crate::http::testing::{TestApp, READ_TOKEN};
        use axum::body::Body;
        let get = |uri: &str, token: Option<&str>| {
            let mut r = axum::http::Request::get(uri);
            if let Some(t) = token {
                r = r.header("authorization", format!("Bearer {t}"));
            }
            r.body(Body::empty()).unwrap()
        };
        let open = TestApp::new();
        assert_eq!(
            open.send(get("/api/search?q=banjir", None)).await.0,
            StatusCode::OK
        );
        let closed = TestApp::with_config(|c| c.engine.http.read_access = ReadAccess::Token);
        for uri in [
            "/",
            "/api/search?q=banjir",
            "/api/search/export?q=banjir",
            "/api/histogram",
            "/api/meta",
            "/api/agencies",
            "/api/alerts",
        ] {
            let (status, headers, _) = closed.send(get(uri, None)).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
            let challenges: Vec<_> = headers.get_all(header::WWW_AUTHENTICATE).iter().collect();
            assert_eq!(challenges.len(), 2, "{uri}: Bearer and Basic");
            assert_eq!(
                closed
                    .send(get(uri, Some("bukan-token-yang-benar")))
                    .await
                    .0,
                StatusCode::FORBIDDEN,
                "{uri}"
            );
            assert_eq!(
                closed.send(get(uri, Some(READ_TOKEN))).await.0,
                StatusCode::OK,
                "{uri}"
            );
        }
        for uri in ["/healthz", "/readyz", "/metrics", "/api/status"] {
            assert_ne!(
                closed.send(get(uri, None)).await.0,
                StatusCode::UNAUTHORIZED,
                "{uri} stays open for probes"
            );
        }
    }

    #[tokio::test]
    async fn large_bodies_are_refused() {
        use crate::http::testing::{TestApp, TOKEN};
        use axum::body::Body;
        let app = TestApp::new();
        let big = vec![b'x'; crate::http::MAX_BODY_BYTES as usize + 1];
        let r = axum::http::Request::post("/api/alerts/x/ack")
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-length", big.len())
            .body(Body::from(big))
            .unwrap();
        let (status, _, body) = app.send(r).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    }
}
