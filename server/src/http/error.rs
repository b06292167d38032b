//! The one place errors become HTTP: `{"error": {"code", "message", "request_id"}}`.
//! Server-side failures are logged here, once, with their detail; clients get only the code,
//! a generic message and the request id to quote.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_core::CoreError;
use serde_json::json;

use super::request_id::current_request_id;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Operator-facing detail, logged for 5xx, never sent.
    pub detail: Option<String>,
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), detail: None, retry_after_secs: None }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", message)
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "there is nothing at this address")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this method is not allowed here")
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down");
        e.retry_after_secs = Some(retry_after_secs.max(1));
        e
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CoreError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            CoreError::Unauthenticated(_) | CoreError::MfaRequired | CoreError::StepUpRequired => {
                StatusCode::UNAUTHORIZED
            }
            CoreError::NotFound(_) => StatusCode::NOT_FOUND,
            CoreError::Conflict { .. } => StatusCode::CONFLICT,
            CoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            CoreError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            CoreError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            CoreError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let detail = match &e {
            CoreError::Unavailable(d) | CoreError::Internal(d) => Some(d.clone()),
            _ => None,
        };
        Self { status, code: e.code(), message: e.public_message(), detail, retry_after_secs: None }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        if self.status.is_server_error() {
            tracing::error!(
                request_id = %request_id,
                code = self.code,
                detail = self.detail.as_deref().unwrap_or(""),
                "request failed"
            );
        }
        let body = json!({ "error": { "code": self.code, "message": self.message, "request_id": request_id } });
        let mut resp = (self.status, axum::Json(body)).into_response();
        if let Some(v) = self.retry_after_secs.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
