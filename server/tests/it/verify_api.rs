//! The verify endpoint's contract: bad input gets clear 4xx errors in the documented shape, the
//! token is never read from a URL, garbage is rejected without storage, bursts get 429.

use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Options, TestApp};

async fn post_raw(
    app: &TestApp,
    path: &str,
    auth: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let mut r = app.http.post(format!("{}{path}", app.base)).body(body.to_owned());
    if let Some(a) = auth {
        r = r.header("authorization", a);
    }
    if let Some(ct) = content_type {
        r = r.header("content-type", ct);
    }
    let resp = r.send().await.unwrap_or_else(|e| panic!("{e}"));
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

fn assert_error_shape(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["error"]["request_id"].as_str().is_some_and(|r| r.starts_with("req_")), "{body}");
}

both_backends! {
    async fn verify_rejects_bad_input_with_clear_4xx(app: TestApp) {
        let ok_auth = Some("Bearer lk_staging_x");
        // No Authorization header.
        let (s, b) = post_raw(&app, "/api/v1/verify", None, Some("application/json"), r#"{"environment":"staging"}"#).await;
        assert_eq!(s, 401);
        assert_error_shape(&b, "unauthenticated");
        // Not JSON, wrong content type, wrong fields, bad environment slug.
        for (ct, body) in [
            (Some("application/json"), "{not json"),
            (None, r#"{"environment":"staging"}"#),
            (Some("application/json"), r#"{"env":"staging"}"#),
            (Some("application/json"), r#"{"environment":42}"#),
            (Some("application/json"), r#"{"environment":"Prod Uction"}"#),
            (Some("application/json"), "[]"),
        ] {
            let (s, b) = post_raw(&app, "/api/v1/verify", ok_auth, ct, body).await;
            assert_eq!(s, 422, "{body} → {b}");
            assert_error_shape(&b, "validation_failed");
        }
        // Too large.
        let big = format!(r#"{{"environment":"{}"}}"#, "a".repeat(10_000));
        let (s, b) = post_raw(&app, "/api/v1/verify", ok_auth, Some("application/json"), &big).await;
        assert_eq!(s, 413);
        assert_error_shape(&b, "validation_failed");
        // GET on the mutation is 405 in the same shape; unknown API paths are 404.
        let r = app.http.get(format!("{}/api/v1/verify", app.base)).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 405);
        assert_error_shape(&r.json().await.unwrap_or(Value::Null), "method_not_allowed");
        let r = app.http.get(format!("{}/api/v1/nothing-here", app.base)).send().await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 404);
        assert_error_shape(&r.json().await.unwrap_or(Value::Null), "not_found");
    }
}

both_backends! {
    /// A token in the URL is refused before it is read (and so never logged or checked).
    async fn s6_verify_refuses_tokens_in_the_url(app: TestApp) {
        let a = app.create_application("url-leak").await;
        let issued = app.issue(&a, "staging").await;
        let r = app
            .http
            .post(format!("{}/api/v1/verify?key={}", app.base, issued.secret.expose()))
            .bearer_auth(issued.secret.expose())
            .json(&json!({ "environment": "staging" }))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.status().as_u16(), 422);
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_error_shape(&body, "validation_failed");
        assert!(!body.to_string().contains(issued.secret.expose()));
    }
}

both_backends! {
    /// Corrupting any one character is caught by the checksum before storage: with the database
    /// gone entirely, corrupted tokens still get the normal invalid answer (no query was needed).
    async fn k5_checksum_rejects_before_any_lookup(app: TestApp) {
        let a = app.create_application("checksum").await;
        let issued = app.issue(&a, "staging").await;
        let token = issued.secret.expose().to_owned();
        app.services.db.close().await;
        for i in [3, 11, 20, token.len() - 7, token.len() - 1] {
            let mut b = token.clone().into_bytes();
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            let corrupted = String::from_utf8(b).unwrap_or_default();
            let (status, body) = app.verify(&corrupted, "staging").await;
            assert_eq!((status, body), (200, json!({"valid": false})), "position {i}");
        }
        let (status, _) = app.verify(&token, "staging").await;
        assert_eq!(status, 200, "verification is served from memory");
    }
}

/// Verify is rate-limited per client: a burst gets 429 in the error shape, never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn k9_verify_is_rate_limited() {
    let app =
        TestApp::spawn_sqlite_with(Options { verify_rate_per_second: 5, verify_burst: 5, ..Options::default() }).await;
    let a = app.create_application("bursty").await;
    let issued = app.issue(&a, "staging").await;
    let mut limited = 0;
    let mut ok = 0;
    for _ in 0..40 {
        let (status, body) = app.verify(issued.secret.expose(), "staging").await;
        match status {
            200 => ok += 1,
            429 => {
                limited += 1;
                assert_error_shape(&body, "rate_limited");
            }
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert!(ok >= 5, "the burst allowance was not honoured ({ok})");
    assert!(limited > 0, "no request was limited");
}

/// Every response carries a request id and the security headers, errors and pages included
/// (SECURITY C2; HSTS over https is checked on the served binary in `cli`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn c2_headers_and_request_id_on_every_response() {
    let app = TestApp::spawn(latchkey_core::storage::Backend::Sqlite).await;
    for (method, path) in [
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        ("GET", "/"),
        ("GET", "/no/such/page"),
        ("GET", "/credentials/cred_00000000000000000000"),
        ("GET", "/api/v1/verify"),
        ("POST", "/api/v1/verify"),
    ] {
        let r = app
            .http
            .request(method.parse().unwrap_or_default(), format!("{}{path}", app.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let h = r.headers();
        assert!(h.get("x-request-id").is_some_and(|v| v.to_str().unwrap_or("").starts_with("req_")), "{path}");
        assert_eq!(h.get("x-content-type-options").map(|v| v.to_str().unwrap_or("")), Some("nosniff"), "{path}");
        let csp = h.get("content-security-policy").map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("object-src 'none'")
                && csp.contains("base-uri 'none'"),
            "{path}: {csp}"
        );
        assert!(h.get("referrer-policy").is_some(), "{path}");
        // Pages can carry a secret shown once: nothing but static assets is cached.
        assert_eq!(h.get("cache-control").map(|v| v.to_str().unwrap_or("")), Some("no-store"), "{path}");
    }
    let page = app.http.get(format!("{}/no/such/page", app.base)).send().await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(page.status().as_u16(), 404);
    assert!(page.text().await.unwrap_or_default().contains("Page not found"));
}
