//! The console's static files (wasm bundle, JS glue, CSS, favicon), embedded at build time.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/site_assets.rs"));

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("ico") => "image/x-icon",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Whether the build embedded a hydration bundle.
pub fn has_bundle() -> bool {
    ASSETS.iter().any(|(p, ..)| p.ends_with(".wasm"))
}

pub fn find(path: &str) -> Option<&'static (&'static str, &'static [u8], &'static [u8], &'static str)> {
    ASSETS.iter().find(|(p, ..)| *p == path)
}

pub async fn serve(uri: Uri, headers: HeaderMap) -> Response {
    let Some((path, body, gz, etag)) = find(uri.path()) else {
        return super::error::ApiError::not_found().into_response();
    };
    if headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) == Some(*etag) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let accepts_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut resp = if accepts_gzip && !gz.is_empty() {
        let mut r = Response::new(Body::from(*gz));
        r.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        Response::new(Body::from(*body))
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(path)));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    // Revalidate every time: file names are stable, the ETag changes with the content.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    resp
}
