//! Every request gets a fresh id: in the response header `x-request-id`, in every error body,
//! in the request's log line and in the audit events it causes. Incoming ids are not trusted.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;

pub const HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestId(pub Arc<str>);

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being handled, or `"-"` outside a request.
pub fn current_request_id() -> String {
    CURRENT.try_with(|id| id.0.to_string()).unwrap_or_else(|_| "-".to_owned())
}

fn generate() -> String {
    match latchkey_core::random::base62(20) {
        Ok(s) => format!("req_{s}"),
        Err(_) => "req_unavailable".to_owned(),
    }
}

pub async fn middleware(mut req: Request, next: Next) -> Response {
    let id = RequestId(Arc::from(generate()));
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        // Replace whatever the client sent: server functions read it from the request parts.
        req.headers_mut().insert(HEADER, v);
    }
    req.extensions_mut().insert(id.clone());
    let method = req.method().clone();
    // The path only: a query string could carry something secret by mistake.
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let mut resp = CURRENT.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id.0) {
        resp.headers_mut().insert(HEADER, v);
    }
    let status = resp.status().as_u16();
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let quiet = path == "/api/v1/verify" || path == "/healthz" || path == "/readyz" || path.starts_with("/pkg/");
    if status >= 500 {
        tracing::warn!(request_id = %id.0, %method, %path, status, ms, "request");
    } else if quiet {
        tracing::debug!(request_id = %id.0, %method, %path, status, ms, "request");
    } else {
        tracing::info!(request_id = %id.0, %method, %path, status, ms, "request");
    }
    resp
}
