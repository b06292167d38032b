//! Security headers on every response, error pages included (SECURITY C2). HTML pages set their
//! own nonce-based CSP; everything else gets the strictest one.

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

const STRICT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'; form-action 'none'";

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Only static assets may be cached: pages can carry a secret shown once, API answers data.
    let path = req.uri().path();
    let is_asset = path.starts_with("/pkg/") || path == "/favicon.ico";
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: HeaderName, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, header::CONTENT_SECURITY_POLICY, STRICT_CSP);
    }
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    // same-origin: plain form posts (JavaScript off) need the Referer to return to their page.
    set(h, header::REFERRER_POLICY, "same-origin");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(h, HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(h, HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()");
    if !is_asset && !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    if state.http.https() {
        set(h, header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    resp
}
