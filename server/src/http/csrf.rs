//! CSRF defence (SECURITY C1): a state-changing request must carry the console's own `Origin`.
//! Browsers always send it on cross-site and same-site POSTs and cannot forge it; scripts send it
//! explicitly. The data-plane verify endpoint is exempt: it is authenticated by its bearer token
//! and never by a cookie.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use crate::state::AppState;

/// `scheme://host[:port]` of a URL.
pub fn origin_of(url: &str) -> &str {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || req.uri().path() == "/api/v1/verify" {
        return next.run(req).await;
    }
    let expected = origin_of(&state.http.public_url);
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if origin == Some(expected) {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::FORBIDDEN,
        "csrf_rejected",
        "state-changing requests must come from the console's own origin (send the Origin header)",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::origin_of;

    #[test]
    fn origins() {
        assert_eq!(origin_of("https://a.example/x/y"), "https://a.example");
        assert_eq!(origin_of("http://localhost:3000"), "http://localhost:3000");
    }
}
